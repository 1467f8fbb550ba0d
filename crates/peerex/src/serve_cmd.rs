//! `peerex serve`, `peerex check` and `peerex admin create-user` (crates/server does the work).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use peerex_server::settings::{Database, Settings, SettingsLayer};

/// Where the data is: `--data-dir` (SQLite) or `--database postgres://...`.
#[derive(Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// SQLite data directory (default ./peerex-data/) [env: PEEREX_DATA_DIR]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://...) [env: PEEREX_DATABASE, DATABASE_URL]
    #[arg(long)]
    pub database: Option<String>,
}

impl DbArgs {
    fn layer(&self) -> SettingsLayer {
        SettingsLayer { data_dir: self.data_dir.clone(), database: self.database.clone(), ..Default::default() }
    }
    /// Flags, then environment, then the optional TOML file.
    fn database(&self, config: Option<&std::path::Path>) -> anyhow::Result<Database> {
        Ok(resolve(self.layer(), config)?.database)
    }
}

fn resolve(flags: SettingsLayer, config: Option<&std::path::Path>) -> anyhow::Result<Settings> {
    let env = SettingsLayer::from_env(&|k| std::env::var(k).ok())?;
    let config = config.map(PathBuf::from).or_else(|| std::env::var("PEEREX_CONFIG").ok().map(PathBuf::from));
    Settings::resolve(flags, env, config.as_deref())
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on (default 127.0.0.1:8080) [env: PEEREX_ADDR]
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Sandbox: admins may move the clock forward [env: PEEREX_SANDBOX]
    #[arg(long)]
    pub sandbox: bool,
    /// TOML settings file (lowest precedence) [env: PEEREX_CONFIG]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Join a cluster on one PostgreSQL database: this process is the writer or a replica that
    /// forwards writes and takes over when the writer dies (docs/deploy.md) [env: PEEREX_CLUSTER]
    #[arg(long)]
    pub cluster: bool,
    /// The URL the cluster's other processes reach this one at (default: http://ADDR) [env: PEEREX_ADVERTISE]
    #[arg(long, value_name = "URL")]
    pub advertise: Option<String>,
    /// Background tick period in ms [env: PEEREX_TICK_MS]
    #[arg(long)]
    pub tick_ms: Option<u64>,
    /// Requests per second allowed per user and per address [env: PEEREX_RATE_PER_SEC]
    #[arg(long)]
    pub rate_per_sec: Option<u32>,
    /// Burst above the rate [env: PEEREX_RATE_BURST]
    #[arg(long)]
    pub rate_burst: Option<u32>,
    /// Most commands per group commit [env: PEEREX_BATCH_MAX]
    #[arg(long)]
    pub batch_max: Option<usize>,
    /// Argon2id memory cost in KiB [env: PEEREX_ARGON2_KIB]
    #[arg(long)]
    pub argon2_kib: Option<u32>,
    /// See it work: a new demo exchange in DATA_DIR/demo/ (deleted and made again at each
    /// start) where agents fund, work, trade, arbitrate and back up on a fast sandbox clock
    #[arg(long)]
    pub demo: bool,
    /// Demo: simulated days per real minute
    #[arg(long, default_value_t = 1.0, requires = "demo")]
    pub demo_speed: f64,
    /// Demo: the agents' random seed (the same seed gives the same demo, until you act in it)
    #[arg(long, default_value_t = 1, requires = "demo")]
    pub seed: u64,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// TOML settings file (lowest precedence) [env: PEEREX_CONFIG]
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum AdminCommand {
    /// Create an account (the first admin comes from here)
    CreateUser {
        /// The user name.
        name: String,
        /// Make the account an admin
        #[arg(long)]
        admin: bool,
        /// The password, at least 8 characters (read from stdin when absent)
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        db: DbArgs,
        /// TOML settings file (lowest precedence) [env: PEEREX_CONFIG]
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let flags = SettingsLayer {
        addr: a.addr,
        sandbox: a.sandbox.then_some(true),
        cluster: a.cluster.then_some(true),
        advertise: a.advertise,
        tick_ms: a.tick_ms,
        rate_per_sec: a.rate_per_sec,
        rate_burst: a.rate_burst,
        batch_max: a.batch_max,
        argon2_kib: a.argon2_kib,
        ..a.db.layer()
    };
    let mut settings = resolve(flags, a.config.as_deref())?;
    if a.demo {
        settings = demo_settings(settings, a.seed, a.demo_speed)?;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .try_init();
    runtime()?.block_on(peerex_server::serve_with(settings, peerex_web::router))
}

/// The demo's settings: its own SQLite database in `DATA_DIR/demo/`, made anew (a demo always
/// starts from nothing), the sandbox on, and the agents.
fn demo_settings(mut settings: Settings, seed: u64, speed: f64) -> anyhow::Result<Settings> {
    let Database::Sqlite { data_dir } = &settings.database else {
        anyhow::bail!("--demo runs on its own embedded SQLite database: drop --database");
    };
    let demo = peerex_server::demo::DemoSettings::new(seed, speed)?;
    let dir = data_dir.join("demo");
    peerex_server::store::reset_sqlite(&dir)?;
    settings.database = Database::Sqlite { data_dir: dir };
    settings.sandbox = true;
    settings.demo = Some(demo);
    Ok(settings)
}

/// Exit status 0 when the ledger of the database is consistent, 1 otherwise.
pub fn check(a: CheckArgs) -> anyhow::Result<std::process::ExitCode> {
    let db = a.db.database(a.config.as_deref())?;
    let report = runtime()?.block_on(peerex_server::check(&db))?;
    println!(
        "{} commands, {} users, {} minted, {} events stored ({} replayed)",
        report.commands, report.users, report.minted, report.events_stored, report.events_replayed
    );
    if report.problems.is_empty() {
        println!("ok: the ledger balances, holds and escrows match, the log replays as recorded");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        for p in &report.problems {
            eprintln!("violation: {p}");
        }
        Ok(std::process::ExitCode::FAILURE)
    }
}

pub fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::CreateUser { name, admin, password, db, config } => {
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\n', '\r']).to_owned()
                }
            };
            let settings = resolve(db.layer(), config.as_deref())?;
            runtime()?.block_on(peerex_server::create_user(
                &settings.database,
                &name,
                &password,
                admin,
                settings.argon2_kib,
            ))?;
            println!("created {}{name}", if admin { "admin " } else { "user " });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_its_own_sqlite_directory_and_a_bounded_speed() {
        let dir = tempfile::tempdir().unwrap();
        let base = Settings::for_tests(Database::Sqlite { data_dir: dir.path().to_owned() });
        std::fs::create_dir_all(dir.path().join("demo")).unwrap();
        std::fs::write(dir.path().join("demo").join("peerex.db"), b"an old demo").unwrap();
        std::fs::write(dir.path().join("keep.txt"), b"mine").unwrap();
        let s = demo_settings(base.clone(), 3, 2.0).unwrap();
        assert_eq!(s.database, Database::Sqlite { data_dir: dir.path().join("demo") });
        assert!(s.sandbox);
        assert_eq!(s.demo.as_ref().map(|d| (d.seed, d.days_per_minute)), Some((3, 2.0)));
        assert!(!dir.path().join("demo").join("peerex.db").exists(), "a demo starts anew");
        assert!(dir.path().join("keep.txt").exists(), "nothing else is touched");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
            assert!(demo_settings(base.clone(), 1, bad).is_err(), "{bad}");
        }
        let pg = Settings::for_tests(Database::Postgres { url: "postgres://u@h/db".into() });
        assert!(demo_settings(pg, 1, 1.0).unwrap_err().to_string().contains("SQLite"));
    }
}
