//! Accounts and sessions: Argon2id password hashes, random bearer tokens stored as SHA-256
//! hashes (a stolen database gives no usable token), name rules, and the in-memory view the
//! API authenticates against (loaded on start, changed by the writer after each commit).
//!
//! Sessions expire a fixed time after log-in (`session_ttl`, by the wall clock: moving a sandbox
//! clock does not log anyone out); expired ones answer 401 and are pruned by the tick job.
//! Password hashes made with other Argon2 parameters than the configured ones are replaced at
//! the next successful log-in ([`needs_rehash`]), and an unknown name is verified against a
//! decoy hashed with the configured parameters ([`decoy_hash`]), so a log-in costs the same
//! whether or not the account exists and whenever it was created.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::clock::{Clock, OFFSET_KEY};
use crate::store::{AccountRow, Loaded};

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 256;
pub const MAX_USER_NAME: usize = 64;

/// Committed accounts, live sessions and issue openers.
#[derive(Clone, Debug)]
pub struct Accounts {
    pub users: HashMap<String, AccountRow>,
    /// token hash -> session
    pub sessions: HashMap<String, Session>,
    /// issue -> user who opened it on the local tracker
    pub issue_openers: HashMap<String, String>,
    /// How long a session is valid after its creation.
    pub session_ttl: Duration,
}

impl Default for Accounts {
    fn default() -> Accounts {
        Accounts {
            users: HashMap::new(),
            sessions: HashMap::new(),
            issue_openers: HashMap::new(),
            session_ttl: Duration::from_secs(30 * 86_400),
        }
    }
}

/// A live session: its user and when it was created (wall clock, milliseconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub created_ms: i64,
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
    /// The accounts as stored. A session's stored creation time is on the server's clock; the
    /// sandbox offset (which only grows) is taken off, so a session never lives longer than
    /// `session_ttl` of wall time.
    pub fn from_loaded(l: &Loaded, session_ttl: Duration) -> Accounts {
        let offset = l.meta.iter().find(|(k, _)| k == OFFSET_KEY).map_or(0, |(_, v)| *v).max(0);
        let mut a = Accounts {
            users: l.accounts.iter().map(|a| (a.name.clone(), a.clone())).collect(),
            sessions: l
                .sessions
                .iter()
                .map(|(hash, user, created)| {
                    (hash.clone(), Session { user: user.clone(), created_ms: created.saturating_sub(offset) })
                })
                .collect(),
            issue_openers: l.issue_openers.iter().cloned().collect(),
            session_ttl,
        };
        a.prune_sessions(Clock::wall_ms());
        a
    }

    fn live(&self, s: &Session, now_ms: i64) -> bool {
        let ttl = i64::try_from(self.session_ttl.as_millis()).unwrap_or(i64::MAX);
        now_ms < s.created_ms.saturating_add(ttl)
    }

    /// Forgets expired sessions (their tokens already answer 401); returns how many.
    pub fn prune_sessions(&mut self, now_ms: i64) -> usize {
        let before = self.sessions.len();
        let ttl = i64::try_from(self.session_ttl.as_millis()).unwrap_or(i64::MAX);
        self.sessions.retain(|_, s| now_ms < s.created_ms.saturating_add(ttl));
        before - self.sessions.len()
    }

    pub fn apply(&mut self, change: AccountChange) {
        match change {
            AccountChange::User(a) => {
                self.users.insert(a.name.clone(), a);
            }
            AccountChange::Session { token_hash, user } => {
                self.sessions.insert(token_hash, Session { user, created_ms: Clock::wall_ms() });
            }
            AccountChange::Revoke { token_hash } => {
                self.sessions.remove(&token_hash);
            }
            AccountChange::Opener { issue, user } => {
                self.issue_openers.insert(issue, user);
            }
        }
    }

    /// Adds a committed session read from the database (made at `created_at` on the server's
    /// clock, which runs `offset_ms` ahead of the wall clock) with its account.
    pub fn learn_session(&mut self, token_hash: String, account: AccountRow, created_at: i64, offset_ms: i64) {
        let created_ms = created_at.saturating_sub(offset_ms.max(0));
        self.sessions.insert(token_hash, Session { user: account.name.clone(), created_ms });
        self.users.insert(account.name.clone(), account);
    }

    /// The account behind a bearer token, if the session is live (not revoked, not expired).
    pub fn authenticate(&self, token: &str) -> Option<&AccountRow> {
        self.authenticate_at(token, Clock::wall_ms())
    }

    pub fn authenticate_at(&self, token: &str, now_ms: i64) -> Option<&AccountRow> {
        let session = self.sessions.get(&token_hash(token)).filter(|s| self.live(s, now_ms))?;
        self.users.get(&session.user)
    }

    /// Replaces a user's password hash (a rehash with the configured parameters).
    pub fn set_password_hash(&mut self, user: &str, phc: String) {
        if let Some(a) = self.users.get_mut(user) {
            a.password_hash = phc;
        }
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

/// Argon2id's time cost and parallelism (the memory cost is configured).
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn argon2(memory_kib: u32) -> Result<Argon2<'static>, String> {
    let params = Params::new(memory_kib.max(8), T_COST, P_COST, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Whether a stored hash was made with other parameters (algorithm, version, memory, time,
/// parallelism) than the configured ones, so it should be replaced at the next log-in.
pub fn needs_rehash(phc: &str, memory_kib: u32) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    let same_params = Params::try_from(&parsed)
        .is_ok_and(|p| p.m_cost() == memory_kib.max(8) && p.t_cost() == T_COST && p.p_cost() == P_COST);
    let same_algorithm = parsed.algorithm == Algorithm::Argon2id.ident();
    let same_version = parsed.version == Some(Version::V0x13 as u32);
    !(same_params && same_algorithm && same_version)
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

/// A hash to verify against when the name is unknown, made with the configured parameters, so
/// that a failed login takes as long whether or not the account exists (no user enumeration by
/// timing). One per memory cost (a process may run servers with different settings).
pub fn decoy_hash(memory_kib: u32) -> String {
    static DECOYS: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());
    let mut decoys = DECOYS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, h)) = decoys.iter().find(|(k, _)| *k == memory_kib) {
        return h.clone();
    }
    let h = hash_password("decoy password", memory_kib).unwrap_or_default();
    decoys.push((memory_kib, h.clone()));
    h
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
        assert!(!needs_rehash(&h, 64));
        assert!(needs_rehash(&h, 128), "another memory cost");
        assert!(needs_rehash("not a hash", 64));
    }

    #[test]
    fn the_decoy_uses_the_configured_parameters() {
        for kib in [64, 96] {
            let decoy = decoy_hash(kib);
            assert!(!needs_rehash(&decoy, kib), "decoy for {kib} KiB: {decoy}");
        }
    }

    #[test]
    fn sessions_expire() {
        let mut a = Accounts { session_ttl: Duration::from_secs(60), ..Accounts::default() };
        a.apply(AccountChange::User(AccountRow { name: "adam".into(), password_hash: "x".into(), admin: false }));
        let (t, h) = new_token();
        a.apply(AccountChange::Session { token_hash: h, user: "adam".into() });
        let now = Clock::wall_ms();
        assert!(a.authenticate_at(&t, now).is_some());
        assert!(a.authenticate_at(&t, now + 61_000).is_none(), "expired");
        assert_eq!(a.prune_sessions(now + 61_000), 1);
        assert!(a.sessions.is_empty());
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

    #[test]
    fn a_learnt_session_authenticates_and_expires_by_its_stored_time() {
        let mut a = Accounts { session_ttl: Duration::from_secs(60), ..Accounts::default() };
        let (token, hash) = new_token();
        let row = AccountRow { name: "ann".into(), password_hash: "h".into(), admin: false };
        let now = Clock::wall_ms();
        // Made 50 s ago by the wall clock, stored on a clock running 1 day ahead.
        a.learn_session(hash, row, now - 50_000 + 86_400_000, 86_400_000);
        assert_eq!(a.authenticate_at(&token, now).map(|u| u.name.as_str()), Some("ann"));
        assert!(a.users.contains_key("ann"));
        assert!(a.authenticate_at(&token, now + 11_000).is_none(), "expired 60 s after it was made");
    }
}
