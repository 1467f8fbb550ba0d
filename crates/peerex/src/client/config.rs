//! Where the CLI keeps its sessions: `config.json` in `$PEEREX_CONFIG_DIR`, or the platform's
//! config directory (`$XDG_CONFIG_HOME/peerex`, `~/.config/peerex`, `%APPDATA%\peerex`,
//! `~/Library/Application Support/peerex`). One token per server URL, so a sandbox and a real
//! server can be used side by side.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};

const FILE: &str = "config.json";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    pub token: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Server URL -> the session logged in there (the one used by default).
    #[serde(default)]
    pub sessions: BTreeMap<String, Session>,
    /// Server URL -> user name -> token: every session logged in there, for `--as NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<String, BTreeMap<String, String>>,
}

impl Config {
    /// The token to use on `server`: the session of `as_user` if given, else the current one.
    pub fn token_for(&self, server: &str, as_user: Option<&str>) -> Option<String> {
        match as_user {
            Some(name) => self
                .accounts
                .get(server)
                .and_then(|a| a.get(name))
                .cloned()
                .or_else(|| self.sessions.get(server).filter(|s| s.name == name).map(|s| s.token.clone())),
            None => self.sessions.get(server).map(|s| s.token.clone()),
        }
    }

    /// Stores a new session on `server` and makes it the current one.
    pub fn log_in(&mut self, server: &str, name: &str, token: String) {
        self.accounts.entry(server.to_owned()).or_default().insert(name.to_owned(), token.clone());
        self.sessions.insert(server.to_owned(), Session { name: name.to_owned(), token });
    }
}

/// The directory holding the config file.
pub fn config_dir() -> Result<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = env("PEEREX_CONFIG_DIR") {
        return Ok(dir);
    }
    let platform = if cfg!(windows) {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")))
    };
    platform.map(|d| d.join("peerex")).ok_or_else(|| anyhow!("cannot find a config directory: set PEEREX_CONFIG_DIR"))
}

impl Config {
    pub fn path() -> Result<PathBuf> {
        Ok(config_dir()?.join(FILE))
    }

    /// Reads the config; a missing file is an empty config.
    pub fn load() -> Result<Config> {
        Config::load_from(&Config::path()?)
    }

    pub fn load_from(path: &Path) -> Result<Config> {
        match fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).with_context(|| format!("{} is not a peerex config", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the config atomically (temp file + rename), readable only by its owner: it holds tokens.
    pub fn save(&self) -> Result<PathBuf> {
        let path = Config::path()?;
        self.save_to(&path)?;
        Ok(path)
    }

    pub fn save_to(&self, path: &Path) -> Result<()> {
        let dir = path.parent().ok_or_else(|| anyhow!("{} has no directory", path.display()))?;
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = dir.join(format!(".{FILE}.tmp"));
        let text = serde_json::to_string_pretty(self)?;
        {
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE);
        assert_eq!(Config::load_from(&path).unwrap(), Config::default());
        let mut c = Config::default();
        c.sessions.insert("http://x".into(), Session { name: "adam".into(), token: "t".into() });
        c.save_to(&path).unwrap();
        assert_eq!(Config::load_from(&path).unwrap(), c);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        fs::write(&path, "not json").unwrap();
        assert!(Config::load_from(&path).is_err());
    }
}
