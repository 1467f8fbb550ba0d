//! Server settings. Precedence (spec/service.md): command-line flags, then `PEEREX_*`
//! environment variables, then an optional TOML file, then defaults. Every layer is a
//! [`SettingsLayer`] of optional values; [`Settings::resolve`] merges them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Commands between two snapshots of the engine (0: never).
    pub snapshot_every: Option<u64>,
    /// Most writer time saved up for undoing refused all-or-nothing batches, in milliseconds
    /// (a tenth of the wall-clock time accrues, up to this; 0: all-or-nothing batches are
    /// turned away).
    pub atomic_undo_ms: Option<u64>,
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
    /// Seconds a session (bearer token) stays valid after log-in (default 30 days).
    pub session_ttl_secs: Option<u64>,
    /// Log-in attempts per account (any password, from any address) before it is throttled.
    pub login_attempts: Option<u32>,
    /// Seconds after which a throttled account gets one more log-in attempt.
    pub login_lockout_secs: Option<u64>,
    /// Milliseconds a connection may take to send a request's headers (also the idle
    /// keep-alive limit) before it is closed.
    pub header_timeout_ms: Option<u64>,
    /// Milliseconds before a request whose answer has not started gets 408.
    pub request_timeout_ms: Option<u64>,
    /// Most open connections from one IP address; more are closed on accept.
    pub max_conns_per_ip: Option<usize>,
    /// Seconds an Idempotency-Key's first answer is kept (default 24 hours).
    pub idempotency_ttl_secs: Option<u64>,
    /// Several processes on one PostgreSQL database: the writer and replicas (docs/deploy.md).
    pub cluster: Option<bool>,
    /// The base URL the other processes of a cluster forward writes to (default: the bound
    /// address, `http://127.0.0.1:PORT` when bound to all interfaces).
    pub advertise: Option<String>,
    /// GitHub repositories to sync (`owner/name`, comma-separated in the environment).
    pub github_repos: Option<Vec<String>>,
    pub github_token: Option<String>,
    pub github_webhook_secret: Option<String>,
    /// API base URL (GitHub Enterprise or a test server).
    pub github_url: Option<String>,
    /// Seconds between regular syncs of a repository.
    pub github_sync_secs: Option<u64>,
    /// GitLab projects to sync (`group/sub/project`, comma-separated in the environment).
    pub gitlab_repos: Option<Vec<String>>,
    pub gitlab_token: Option<String>,
    /// The webhook's secret token (GitLab sends it in `X-Gitlab-Token`).
    pub gitlab_webhook_secret: Option<String>,
    /// Instance URL (default <https://gitlab.com>; the API is under /api/v4).
    pub gitlab_url: Option<String>,
    pub gitlab_sync_secs: Option<u64>,
    /// Gitea/Forgejo repositories to sync (`owner/name`, comma-separated in the environment).
    pub gitea_repos: Option<Vec<String>>,
    pub gitea_token: Option<String>,
    pub gitea_webhook_secret: Option<String>,
    /// Instance URL (default <https://codeberg.org>; the API is under /api/v1).
    pub gitea_url: Option<String>,
    pub gitea_sync_secs: Option<u64>,
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
        fn list(get: &dyn Fn(&str) -> Option<String>, key: &str) -> anyhow::Result<Option<Vec<String>>> {
            Ok(parse::<String>(get, key)?
                .map(|r| r.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()))
        }
        Ok(SettingsLayer {
            data_dir: parse(get, "PEEREX_DATA_DIR")?,
            database: parse::<String>(get, "PEEREX_DATABASE")?.or(parse(get, "DATABASE_URL")?),
            addr: parse(get, "PEEREX_ADDR")?,
            sandbox: parse(get, "PEEREX_SANDBOX")?,
            tick_ms: parse(get, "PEEREX_TICK_MS")?,
            batch_max: parse(get, "PEEREX_BATCH_MAX")?,
            snapshot_every: parse(get, "PEEREX_SNAPSHOT_EVERY")?,
            atomic_undo_ms: parse(get, "PEEREX_ATOMIC_UNDO_MS")?,
            queue: parse(get, "PEEREX_QUEUE")?,
            rate_per_sec: parse(get, "PEEREX_RATE_PER_SEC")?,
            rate_burst: parse(get, "PEEREX_RATE_BURST")?,
            body_limit: parse(get, "PEEREX_BODY_LIMIT")?,
            max_open_offers: parse(get, "PEEREX_MAX_OPEN_OFFERS")?,
            argon2_kib: parse(get, "PEEREX_ARGON2_KIB")?,
            session_ttl_secs: parse(get, "PEEREX_SESSION_TTL_SECS")?,
            login_attempts: parse(get, "PEEREX_LOGIN_ATTEMPTS")?,
            login_lockout_secs: parse(get, "PEEREX_LOGIN_LOCKOUT_SECS")?,
            github_repos: list(get, "PEEREX_GITHUB_REPOS")?,
            header_timeout_ms: parse(get, "PEEREX_HEADER_TIMEOUT_MS")?,
            request_timeout_ms: parse(get, "PEEREX_REQUEST_TIMEOUT_MS")?,
            max_conns_per_ip: parse(get, "PEEREX_MAX_CONNS_PER_IP")?,
            idempotency_ttl_secs: parse(get, "PEEREX_IDEMPOTENCY_TTL_SECS")?,
            cluster: parse(get, "PEEREX_CLUSTER")?,
            advertise: parse(get, "PEEREX_ADVERTISE")?,
            github_token: parse(get, "PEEREX_GITHUB_TOKEN")?,
            github_webhook_secret: parse(get, "PEEREX_GITHUB_WEBHOOK_SECRET")?,
            github_url: parse(get, "PEEREX_GITHUB_URL")?,
            github_sync_secs: parse(get, "PEEREX_GITHUB_SYNC_SECS")?,
            gitlab_repos: list(get, "PEEREX_GITLAB_REPOS")?,
            gitlab_token: parse(get, "PEEREX_GITLAB_TOKEN")?,
            gitlab_webhook_secret: parse(get, "PEEREX_GITLAB_WEBHOOK_SECRET")?,
            gitlab_url: parse(get, "PEEREX_GITLAB_URL")?,
            gitlab_sync_secs: parse(get, "PEEREX_GITLAB_SYNC_SECS")?,
            gitea_repos: list(get, "PEEREX_GITEA_REPOS")?,
            gitea_token: parse(get, "PEEREX_GITEA_TOKEN")?,
            gitea_webhook_secret: parse(get, "PEEREX_GITEA_WEBHOOK_SECRET")?,
            gitea_url: parse(get, "PEEREX_GITEA_URL")?,
            gitea_sync_secs: parse(get, "PEEREX_GITEA_SYNC_SECS")?,
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
            snapshot_every: self.snapshot_every.or(lower.snapshot_every),
            atomic_undo_ms: self.atomic_undo_ms.or(lower.atomic_undo_ms),
            queue: self.queue.or(lower.queue),
            rate_per_sec: self.rate_per_sec.or(lower.rate_per_sec),
            rate_burst: self.rate_burst.or(lower.rate_burst),
            body_limit: self.body_limit.or(lower.body_limit),
            max_open_offers: self.max_open_offers.or(lower.max_open_offers),
            argon2_kib: self.argon2_kib.or(lower.argon2_kib),
            session_ttl_secs: self.session_ttl_secs.or(lower.session_ttl_secs),
            login_attempts: self.login_attempts.or(lower.login_attempts),
            login_lockout_secs: self.login_lockout_secs.or(lower.login_lockout_secs),
            header_timeout_ms: self.header_timeout_ms.or(lower.header_timeout_ms),
            request_timeout_ms: self.request_timeout_ms.or(lower.request_timeout_ms),
            max_conns_per_ip: self.max_conns_per_ip.or(lower.max_conns_per_ip),
            idempotency_ttl_secs: self.idempotency_ttl_secs.or(lower.idempotency_ttl_secs),
            cluster: self.cluster.or(lower.cluster),
            advertise: self.advertise.or(lower.advertise),
            github_repos: self.github_repos.or(lower.github_repos),
            github_token: self.github_token.or(lower.github_token),
            github_webhook_secret: self.github_webhook_secret.or(lower.github_webhook_secret),
            github_url: self.github_url.or(lower.github_url),
            github_sync_secs: self.github_sync_secs.or(lower.github_sync_secs),
            gitlab_repos: self.gitlab_repos.or(lower.gitlab_repos),
            gitlab_token: self.gitlab_token.or(lower.gitlab_token),
            gitlab_webhook_secret: self.gitlab_webhook_secret.or(lower.gitlab_webhook_secret),
            gitlab_url: self.gitlab_url.or(lower.gitlab_url),
            gitlab_sync_secs: self.gitlab_sync_secs.or(lower.gitlab_sync_secs),
            gitea_repos: self.gitea_repos.or(lower.gitea_repos),
            gitea_token: self.gitea_token.or(lower.gitea_token),
            gitea_webhook_secret: self.gitea_webhook_secret.or(lower.gitea_webhook_secret),
            gitea_url: self.gitea_url.or(lower.gitea_url),
            gitea_sync_secs: self.gitea_sync_secs.or(lower.gitea_sync_secs),
        }
    }
}

/// Commands between two snapshots unless configured.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 100_000;
/// The most undo time an operator may let accrue (a minute of the writer's time).
pub const MAX_ATOMIC_UNDO_MS: u64 = 60_000;

/// Resolved settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub database: Database,
    pub addr: SocketAddr,
    pub sandbox: bool,
    pub tick_ms: u64,
    pub batch_max: usize,
    /// Commands between two snapshots of the engine (0: never); see `snapshot.rs`.
    pub snapshot_every: u64,
    /// Most writer time saved up for undoing refused all-or-nothing batches (`UndoBudget`).
    pub atomic_undo: Duration,
    pub queue: usize,
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    pub body_limit: usize,
    pub max_open_offers: u32,
    pub argon2_kib: u32,
    /// How long a session stays valid after log-in.
    pub session_ttl: Duration,
    /// Log-in attempts per account before throttling, and the wait for each further one.
    pub login_attempts: u32,
    pub login_lockout: Duration,
    /// Public events the live stream buffers per subscriber before a slow one catches up from
    /// the database.
    pub stream_buffer: usize,
    /// Header-read and request timeouts, per-address connection cap.
    pub conn: crate::conn::ConnLimits,
    /// Seconds an Idempotency-Key's first answer is kept, in memory and in the database.
    pub idempotency_ttl_secs: u64,
    /// Several processes on one PostgreSQL database (`--cluster`).
    pub cluster: bool,
    /// The URL other processes forward writes to (see [`SettingsLayer::advertise`]).
    pub advertise: Option<String>,
    /// GitHub sync and webhooks, when repositories or a webhook secret are configured.
    pub github: Option<TrackerSettings>,
    /// GitLab sync and webhooks, likewise.
    pub gitlab: Option<TrackerSettings>,
    /// Gitea/Forgejo sync and webhooks, likewise.
    pub gitea: Option<TrackerSettings>,
    /// The demo (`peerex serve --demo`): agents trade on a stepped sandbox clock. Only ever set
    /// by that flag, never from the environment or a file.
    pub demo: Option<DemoSettings>,
}

/// One tracker's settings: repositories to poll, token, webhook secret, API URL, poll period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackerSettings {
    pub repos: Vec<String>,
    pub token: Option<String>,
    pub webhook_secret: Option<String>,
    pub base_url: Option<String>,
    pub interval_secs: u64,
}

impl TrackerSettings {
    /// Settings when repositories or a webhook secret are given, else none.
    fn from_parts(
        repos: Option<Vec<String>>,
        token: Option<String>,
        webhook_secret: Option<String>,
        base_url: Option<String>,
        interval_secs: Option<u64>,
    ) -> Option<TrackerSettings> {
        (repos.as_ref().is_some_and(|r| !r.is_empty()) || webhook_secret.is_some()).then(|| TrackerSettings {
            repos: repos.unwrap_or_default(),
            token,
            webhook_secret,
            base_url,
            interval_secs: interval_secs.unwrap_or(300).max(1),
        })
    }
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
        let github = TrackerSettings::from_parts(
            l.github_repos,
            l.github_token,
            l.github_webhook_secret,
            l.github_url,
            l.github_sync_secs,
        );
        let gitlab = TrackerSettings::from_parts(
            l.gitlab_repos,
            l.gitlab_token,
            l.gitlab_webhook_secret,
            l.gitlab_url,
            l.gitlab_sync_secs,
        );
        let gitea = TrackerSettings::from_parts(
            l.gitea_repos,
            l.gitea_token,
            l.gitea_webhook_secret,
            l.gitea_url,
            l.gitea_sync_secs,
        );
        let s = Settings {
            database,
            addr: l.addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            sandbox: l.sandbox.unwrap_or(false),
            tick_ms: l.tick_ms.unwrap_or(1_000).max(10),
            batch_max: l.batch_max.unwrap_or(1_024).max(1),
            snapshot_every: l.snapshot_every.unwrap_or(DEFAULT_SNAPSHOT_EVERY),
            atomic_undo: Duration::from_millis(l.atomic_undo_ms.unwrap_or(1_000).min(MAX_ATOMIC_UNDO_MS)),
            queue: l.queue.unwrap_or(16_384).max(1),
            rate_per_sec: l.rate_per_sec.unwrap_or(50).max(1),
            rate_burst: l.rate_burst.unwrap_or(200).max(1),
            body_limit: l.body_limit.unwrap_or(64 * 1024).max(1024),
            max_open_offers: l.max_open_offers.unwrap_or(1_000).max(1),
            argon2_kib: l.argon2_kib.unwrap_or(19 * 1024).max(8),
            session_ttl: Duration::from_secs(l.session_ttl_secs.unwrap_or(30 * 86_400).max(1)),
            login_attempts: l.login_attempts.unwrap_or(10).max(1),
            login_lockout: Duration::from_secs(l.login_lockout_secs.unwrap_or(60).max(1)),
            stream_buffer: 4_096,
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
            cluster: l.cluster.unwrap_or(false),
            advertise: l.advertise,
            github,
            gitlab,
            gitea,
            demo: None,
        };
        if s.cluster && !matches!(s.database, Database::Postgres { .. }) {
            anyhow::bail!(
                "--cluster needs PostgreSQL (--database postgres://...): SQLite has one process per database"
            );
        }
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
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            atomic_undo: Duration::from_secs(1),
            queue: 16_384,
            rate_per_sec: 100_000,
            rate_burst: 100_000,
            body_limit: 64 * 1024,
            max_open_offers: 10_000,
            argon2_kib: 64,
            session_ttl: Duration::from_secs(30 * 86_400),
            login_attempts: 100_000,
            login_lockout: Duration::from_secs(1),
            stream_buffer: 4_096,
            // Test clients open many parallel connections from 127.0.0.1.
            conn: crate::conn::ConnLimits { max_per_address: 4_096, ..crate::conn::ConnLimits::default() },
            idempotency_ttl_secs: 86_400,
            cluster: false,
            advertise: None,
            github: None,
            gitlab: None,
            gitea: None,
            demo: None,
        }
    }
}

/// The speed's bounds, in simulated days per real minute.
pub const SPEED_MIN: f64 = 0.01;
pub const SPEED_MAX: f64 = 10_000.0;

/// The demo's settings (`--seed`, `--demo-speed`; the demo itself is `crate::demo`).
#[derive(Clone, Debug, PartialEq)]
pub struct DemoSettings {
    pub seed: u64,
    /// Simulated days per real minute.
    pub days_per_minute: f64,
    /// Stop the agents after this many simulated days (tests); `None`: run until stopped.
    pub stop_after_days: Option<u64>,
}

impl Default for DemoSettings {
    fn default() -> Self {
        DemoSettings { seed: 1, days_per_minute: 1.0, stop_after_days: None }
    }
}

impl DemoSettings {
    /// Checks the speed (a finite number in [`SPEED_MIN`], [`SPEED_MAX`]).
    pub fn new(seed: u64, days_per_minute: f64) -> anyhow::Result<DemoSettings> {
        if !days_per_minute.is_finite() || !(SPEED_MIN..=SPEED_MAX).contains(&days_per_minute) {
            anyhow::bail!("--demo-speed is in simulated days per minute, from {SPEED_MIN} to {SPEED_MAX}");
        }
        Ok(DemoSettings { seed, days_per_minute, stop_after_days: None })
    }

    /// Real time per step (a simulated hour).
    pub fn step_wall(&self) -> Duration {
        Duration::from_secs_f64(60.0 / (24.0 * self.days_per_minute))
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
            "PEEREX_SNAPSHOT_EVERY" => Some("0".into()),
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
        assert_eq!(s.snapshot_every, 0, "0 (never) is kept, not raised to a minimum");
        assert_eq!(s.atomic_undo, Duration::from_secs(1));
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

    #[test]
    fn the_undo_budget_is_bounded_and_may_be_zero() {
        let undo = |v: &str| {
            let env = SettingsLayer::from_env(&|k| (k == "PEEREX_ATOMIC_UNDO_MS").then(|| v.to_owned())).unwrap();
            Settings::from_layer(env).unwrap().atomic_undo
        };
        assert_eq!(undo("0"), Duration::ZERO, "0 turns all-or-nothing batches away");
        assert_eq!(undo("250"), Duration::from_millis(250));
        assert_eq!(undo("999999999"), Duration::from_millis(MAX_ATOMIC_UNDO_MS));
        let file: SettingsLayer = toml::from_str("atomic_undo_ms = 40").unwrap();
        assert_eq!(Settings::from_layer(file).unwrap().atomic_undo, Duration::from_millis(40));
    }
}
