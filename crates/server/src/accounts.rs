//! Accounts and sessions: Argon2id password hashes, random bearer tokens stored as SHA-256
//! hashes (a stolen database gives no usable token), name rules, and the in-memory view the
//! API authenticates against (loaded on start, changed by the writer after each commit).

use std::collections::HashMap;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{AccountRow, Loaded};

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 256;
pub const MAX_USER_NAME: usize = 64;

/// Committed accounts, live sessions and issue openers.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    pub users: HashMap<String, AccountRow>,
    /// token hash -> user name
    pub sessions: HashMap<String, String>,
    /// issue -> user who opened it on the local tracker
    pub issue_openers: HashMap<String, String>,
}

/// A change the writer applies to [`Accounts`] once its batch is committed.
#[derive(Clone, Debug)]
pub enum AccountChange {
    User(AccountRow),
    Session { token_hash: String, user: String },
    Revoke { token_hash: String },
    Opener { issue: String, user: String },
}

impl Accounts {
    pub fn from_loaded(l: &Loaded) -> Accounts {
        Accounts {
            users: l.accounts.iter().map(|a| (a.name.clone(), a.clone())).collect(),
            sessions: l.sessions.iter().cloned().collect(),
            issue_openers: l.issue_openers.iter().cloned().collect(),
        }
    }

    pub fn apply(&mut self, change: AccountChange) {
        match change {
            AccountChange::User(a) => {
                self.users.insert(a.name.clone(), a);
            }
            AccountChange::Session { token_hash, user } => {
                self.sessions.insert(token_hash, user);
            }
            AccountChange::Revoke { token_hash } => {
                self.sessions.remove(&token_hash);
            }
            AccountChange::Opener { issue, user } => {
                self.issue_openers.insert(issue, user);
            }
        }
    }

    /// The account behind a bearer token, if the session is live.
    pub fn authenticate(&self, token: &str) -> Option<&AccountRow> {
        let user = self.sessions.get(&token_hash(token))?;
        self.users.get(user)
    }
}

/// User names: 1 to 64 of ASCII letters, digits, `_`, `-`, `.`, starting with a letter or digit.
/// (Kept simple so names are safe in URLs, logs and the command log.)
pub fn check_user_name(name: &str) -> Result<(), String> {
    let ok_len = !name.is_empty() && name.len() <= MAX_USER_NAME;
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let ok_start = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok_len && ok_chars && ok_start {
        Ok(())
    } else {
        Err(format!(
            "a user name has 1 to {MAX_USER_NAME} characters: letters, digits, '_', '-', '.', starting with a letter or digit"
        ))
    }
}

pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(format!("a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"))
    }
}

fn argon2(memory_kib: u32) -> Result<Argon2<'static>, String> {
    let params = Params::new(memory_kib.max(8), 2, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An Argon2id PHC string (salted, parameters inside, so costs can change later).
pub fn hash_password(password: &str, memory_kib: u32) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(memory_kib)?.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string (its own parameters are used).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A fresh bearer token (256 random bits, hex) and the hash that is stored.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// A hash to verify against when the name is unknown, so that a failed login takes as long
/// whether or not the account exists (no user enumeration by timing).
pub fn decoy_hash(memory_kib: u32) -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password", memory_kib).unwrap_or_default()).clone()
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse", 64).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_only_hashes_are_kept() {
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_ne!(t1, t2);
        assert_eq!(t1.len(), 64);
        assert_eq!(token_hash(&t1), h1);
        let mut a = Accounts::default();
        a.apply(AccountChange::User(AccountRow { name: "adam".into(), password_hash: "x".into(), admin: false }));
        a.apply(AccountChange::Session { token_hash: h1.clone(), user: "adam".into() });
        assert_eq!(a.authenticate(&t1).map(|u| u.name.as_str()), Some("adam"));
        a.apply(AccountChange::Revoke { token_hash: h1 });
        assert!(a.authenticate(&t1).is_none());
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_user_name("adam").is_ok());
        assert!(check_user_name("a.b-c_9").is_ok());
        assert!(check_user_name("").is_err());
        assert!(check_user_name("-x").is_err());
        assert!(check_user_name("a b").is_err());
        assert!(check_user_name(&"a".repeat(65)).is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
