//! Server settings. Precedence (spec/service.md): command-line flags, then `PEEREX_*`
//! environment variables, then an optional TOML file, then defaults. Every layer is a
//! [`SettingsLayer`] of optional values; [`Settings::resolve`] merges them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the data lives: an embedded SQLite database in a directory, or PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    Sqlite { data_dir: PathBuf },
    Postgres { url: String },
}

impl Database {
    /// Picks the backend from the optional `--database` URL and the data directory.
    pub fn choose(database: Option<&str>, data_dir: Option<&Path>) -> anyhow::Result<Database> {
        match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Database::Postgres { url: url.to_owned() })
            }
            Some(url) if url.starts_with("sqlite:") => {
                let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                Ok(Database::Sqlite { data_dir: PathBuf::from(path) })
            }
            Some(other) => anyhow::bail!("unsupported database URL {other:?}: use postgres://... or sqlite:DIR"),
            None => Ok(Database::Sqlite {
                data_dir: data_dir.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("./peerex-data")),
            }),
        }
    }
}

/// One layer of optional settings (flags, environment, file).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub addr: Option<SocketAddr>,
    /// Allows admins to move the clock forward (POST /api/v1/admin/clock).
    pub sandbox: Option<bool>,
    /// Period of the background tick (expiries, maturations, settlements), in milliseconds.
    pub tick_ms: Option<u64>,
    /// Most commands committed in one transaction.
    pub batch_max: Option<usize>,
    /// Requests waiting for the writer before the API answers 429.
    pub queue: Option<usize>,
    /// Sustained requests per second allowed per user and per address.
    pub rate_per_sec: Option<u32>,
    /// Burst of requests allowed above the sustained rate.
    pub rate_burst: Option<u32>,
    /// Largest accepted request body, in bytes.
    pub body_limit: Option<usize>,
    /// Most open (or suspended) offers per user.
    pub max_open_offers: Option<u32>,
    /// Argon2id memory cost in KiB (the default follows OWASP's 19 MiB).
    pub argon2_kib: Option<u32>,
    /// Milliseconds a connection may take to send a request's headers (also the idle
    /// keep-alive limit) before it is closed.
    pub header_timeout_ms: Option<u64>,
    /// Milliseconds before a request whose answer has not started gets 408.
    pub request_timeout_ms: Option<u64>,
    /// Most open connections from one IP address; more are closed on accept.
    pub max_conns_per_ip: Option<usize>,
    /// Seconds an Idempotency-Key's first answer is kept (default 24 hours).
    pub idempotency_ttl_secs: Option<u64>,
    /// GitHub repositories to sync (`owner/name`, comma-separated in the environment).
    pub github_repos: Option<Vec<String>>,
    pub github_token: Option<String>,
    pub github_webhook_secret: Option<String>,
    /// API base URL (GitHub Enterprise or a test server).
    pub github_url: Option<String>,
    /// Seconds between regular syncs of a repository.
    pub github_sync_secs: Option<u64>,
}

impl SettingsLayer {
    /// Reads `PEEREX_*` variables (and `DATABASE_URL`) through `get`, so tests can inject them.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<SettingsLayer> {
        fn parse<T: std::str::FromStr>(get: &dyn Fn(&str) -> Option<String>, key: &str) -> anyhow::Result<Option<T>>
        where
            T::Err: std::fmt::Display,
        {
            match get(key) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => v.parse::<T>().map(Some).map_err(|e| anyhow::anyhow!("{key}={v:?}: {e}")),
            }
        }
        Ok(SettingsLayer {
            data_dir: parse(get, "PEEREX_DATA_DIR")?,
            database: parse::<String>(get, "PEEREX_DATABASE")?.or(parse(get, "DATABASE_URL")?),
            addr: parse(get, "PEEREX_ADDR")?,
            sandbox: parse(get, "PEEREX_SANDBOX")?,
            tick_ms: parse(get, "PEEREX_TICK_MS")?,
            batch_max: parse(get, "PEEREX_BATCH_MAX")?,
            queue: parse(get, "PEEREX_QUEUE")?,
            rate_per_sec: parse(get, "PEEREX_RATE_PER_SEC")?,
            rate_burst: parse(get, "PEEREX_RATE_BURST")?,
            body_limit: parse(get, "PEEREX_BODY_LIMIT")?,
            max_open_offers: parse(get, "PEEREX_MAX_OPEN_OFFERS")?,
            argon2_kib: parse(get, "PEEREX_ARGON2_KIB")?,
            header_timeout_ms: parse(get, "PEEREX_HEADER_TIMEOUT_MS")?,
            request_timeout_ms: parse(get, "PEEREX_REQUEST_TIMEOUT_MS")?,
            max_conns_per_ip: parse(get, "PEEREX_MAX_CONNS_PER_IP")?,
            idempotency_ttl_secs: parse(get, "PEEREX_IDEMPOTENCY_TTL_SECS")?,
            github_repos: parse::<String>(get, "PEEREX_GITHUB_REPOS")?
                .map(|r| r.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()),
            github_token: parse(get, "PEEREX_GITHUB_TOKEN")?,
            github_webhook_secret: parse(get, "PEEREX_GITHUB_WEBHOOK_SECRET")?,
            github_url: parse(get, "PEEREX_GITHUB_URL")?,
            github_sync_secs: parse(get, "PEEREX_GITHUB_SYNC_SECS")?,
        })
    }

    pub fn from_toml_file(path: &Path) -> anyhow::Result<SettingsLayer> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Values of `self`, falling back to `lower` where `self` has none.
    pub fn over(self, lower: SettingsLayer) -> SettingsLayer {
        SettingsLayer {
            data_dir: self.data_dir.or(lower.data_dir),
            database: self.database.or(lower.database),
            addr: self.addr.or(lower.addr),
            sandbox: self.sandbox.or(lower.sandbox),
            tick_ms: self.tick_ms.or(lower.tick_ms),
            batch_max: self.batch_max.or(lower.batch_max),
            queue: self.queue.or(lower.queue),
            rate_per_sec: self.rate_per_sec.or(lower.rate_per_sec),
            rate_burst: self.rate_burst.or(lower.rate_burst),
            body_limit: self.body_limit.or(lower.body_limit),
            max_open_offers: self.max_open_offers.or(lower.max_open_offers),
            argon2_kib: self.argon2_kib.or(lower.argon2_kib),
            header_timeout_ms: self.header_timeout_ms.or(lower.header_timeout_ms),
            request_timeout_ms: self.request_timeout_ms.or(lower.request_timeout_ms),
            max_conns_per_ip: self.max_conns_per_ip.or(lower.max_conns_per_ip),
            idempotency_ttl_secs: self.idempotency_ttl_secs.or(lower.idempotency_ttl_secs),
            github_repos: self.github_repos.or(lower.github_repos),
            github_token: self.github_token.or(lower.github_token),
            github_webhook_secret: self.github_webhook_secret.or(lower.github_webhook_secret),
            github_url: self.github_url.or(lower.github_url),
            github_sync_secs: self.github_sync_secs.or(lower.github_sync_secs),
        }
    }
}

/// Resolved settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub database: Database,
    pub addr: SocketAddr,
    pub sandbox: bool,
    pub tick_ms: u64,
    pub batch_max: usize,
    pub queue: usize,
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    pub body_limit: usize,
    pub max_open_offers: u32,
    pub argon2_kib: u32,
    /// Header-read and request timeouts, per-address connection cap.
    pub conn: crate::conn::ConnLimits,
    /// Seconds an Idempotency-Key's first answer is kept, in memory and in the database.
    pub idempotency_ttl_secs: u64,
    /// GitHub sync and webhooks, when repositories or a webhook secret are configured.
    pub github: Option<crate::trackers::GitHubSettings>,
}

impl Settings {
    /// Merges flags over environment over the TOML file (`config`, if any) over defaults.
    pub fn resolve(flags: SettingsLayer, env: SettingsLayer, config: Option<&Path>) -> anyhow::Result<Settings> {
        let file = match config {
            Some(p) => SettingsLayer::from_toml_file(p)?,
            None => SettingsLayer::default(),
        };
        Settings::from_layer(flags.over(env).over(file))
    }

    pub fn from_layer(l: SettingsLayer) -> anyhow::Result<Settings> {
        let database = Database::choose(l.database.as_deref(), l.data_dir.as_deref())?;
        let github = (l.github_repos.as_ref().is_some_and(|r| !r.is_empty()) || l.github_webhook_secret.is_some())
            .then(|| crate::trackers::GitHubSettings {
                repos: l.github_repos.clone().unwrap_or_default(),
                token: l.github_token.clone(),
                webhook_secret: l.github_webhook_secret.clone(),
                base_url: l.github_url.clone(),
                interval_secs: l.github_sync_secs.unwrap_or(300),
            });
        let s = Settings {
            database,
            addr: l.addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            sandbox: l.sandbox.unwrap_or(false),
            tick_ms: l.tick_ms.unwrap_or(1_000).max(10),
            batch_max: l.batch_max.unwrap_or(1_024).max(1),
            queue: l.queue.unwrap_or(16_384).max(1),
            rate_per_sec: l.rate_per_sec.unwrap_or(50).max(1),
            rate_burst: l.rate_burst.unwrap_or(200).max(1),
            body_limit: l.body_limit.unwrap_or(64 * 1024).max(1024),
            max_open_offers: l.max_open_offers.unwrap_or(1_000).max(1),
            argon2_kib: l.argon2_kib.unwrap_or(19 * 1024).max(8),
            conn: {
                let d = crate::conn::ConnLimits::default();
                let ms = |v: Option<u64>, default: std::time::Duration| {
                    v.map_or(default, |ms| std::time::Duration::from_millis(ms.max(100)))
                };
                crate::conn::ConnLimits {
                    header_timeout: ms(l.header_timeout_ms, d.header_timeout),
                    request_timeout: ms(l.request_timeout_ms, d.request_timeout),
                    max_per_address: l.max_conns_per_ip.unwrap_or(d.max_per_address).max(1),
                }
            },
            idempotency_ttl_secs: l.idempotency_ttl_secs.unwrap_or(86_400).max(1),
            github,
        };
        Ok(s)
    }

    /// Settings for tests and benchmarks: SQLite in `data_dir`, any free port, sandbox on,
    /// generous rate limits and a cheap password hash.
    pub fn for_tests(database: Database) -> Settings {
        Settings {
            database,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            sandbox: true,
            tick_ms: 200,
            batch_max: 1_024,
            queue: 16_384,
            rate_per_sec: 100_000,
            rate_burst: 100_000,
            body_limit: 64 * 1024,
            max_open_offers: 10_000,
            argon2_kib: 64,
            // Test clients open many parallel connections from 127.0.0.1.
            conn: crate::conn::ConnLimits { max_per_address: 4_096, ..crate::conn::ConnLimits::default() },
            idempotency_ttl_secs: 86_400,
            github: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let flags = SettingsLayer { addr: Some("127.0.0.1:9000".parse().unwrap()), ..Default::default() };
        let env = SettingsLayer::from_env(&|k| match k {
            "PEEREX_ADDR" => Some("127.0.0.1:9001".into()),
            "PEEREX_TICK_MS" => Some("250".into()),
            _ => None,
        })
        .unwrap();
        let file: SettingsLayer = toml::from_str("tick_ms = 500\nsandbox = true\nrate_per_sec = 7").unwrap();
        let s = Settings::from_layer(flags.over(env).over(file)).unwrap();
        assert_eq!(s.addr.port(), 9000);
        assert_eq!(s.tick_ms, 250);
        assert!(s.sandbox);
        assert_eq!(s.rate_per_sec, 7);
        assert_eq!(s.batch_max, 1_024);
        assert_eq!(s.database, Database::Sqlite { data_dir: PathBuf::from("./peerex-data") });
    }

    #[test]
    fn database_url_selects_postgres() {
        let env = SettingsLayer::from_env(&|k| (k == "DATABASE_URL").then(|| "postgres://u@h/db".to_owned())).unwrap();
        let s = Settings::from_layer(env).unwrap();
        assert_eq!(s.database, Database::Postgres { url: "postgres://u@h/db".into() });
        assert!(Database::choose(Some("mysql://x"), None).is_err());
        assert!(SettingsLayer::from_env(&|k| (k == "PEEREX_TICK_MS").then(|| "soon".to_owned())).is_err());
    }
}
