//! Helpers of the tests that run the real `peerex serve` as child processes and kill them
//! (`crash.rs`, `bank.rs`): the database a test runs on, starting a server, JSON requests,
//! `peerex check`, and skipping visibly when a service is missing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_peerex");
pub const PASSWORD: &str = "password-1";

/// Whether the service a test needs is there (`ok`). If not: under `CI=true` the test fails;
/// locally it prints a SKIPPED line past the harness's output capture and returns false.
pub fn service_or_skip(test: &str, ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "{test}: CI=true but {what} is missing");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {what} is missing");
    false
}

/// Where a test's data lives: an SQLite directory or a PostgreSQL database.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Db {
    fn args(&self) -> Vec<String> {
        match self {
            Db::Sqlite(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Db::Postgres(url) => vec!["--database".into(), url.clone()],
        }
    }
}

/// `peerex ARGS` on `db`, with cheap password hashing and no rate limits.
pub fn peerex(args: &[&str], db: &Db) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .args(db.args())
        .env_remove("PEEREX_DATABASE")
        .env_remove("DATABASE_URL")
        .env("PEEREX_ARGON2_KIB", "64")
        .env("PEEREX_RATE_PER_SEC", "100000")
        .env("PEEREX_RATE_BURST", "100000")
        .env("RUST_LOG", "warn");
    c
}

/// Spawns `peerex serve --sandbox EXTRA` on a free port; it prints its address on the first
/// line of its stdout (piped) once it serves.
pub fn spawn_serve(db: &Db, extra: &[&str]) -> Child {
    peerex(&["serve", "--addr", "127.0.0.1:0", "--sandbox"], db)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts `peerex serve --sandbox EXTRA` on a free port; returns the child and its API's base
/// URL, or `None` (the child reaped) when it exits before printing its address.
pub fn try_serve(db: &Db, extra: &[&str]) -> Option<(Child, String)> {
    let mut child = spawn_serve(db, extra);
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let addr = line.trim().rsplit("http://").next().unwrap_or_default().to_owned();
    if !addr.starts_with("127.0.0.1:") {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    Some((child, format!("http://{addr}/api/v1")))
}

/// Starts `peerex serve --sandbox` on a free port; returns the child and its base URL.
pub fn serve(db: &Db) -> (Child, String) {
    try_serve(db, &[]).expect("the server did not start")
}

pub async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> reqwest::Result<(u16, Value)> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await?;
    let st = resp.status().as_u16();
    Ok((st, resp.json().await.unwrap_or(Value::Null)))
}

pub async fn login(http: &reqwest::Client, base: &str, name: &str) -> String {
    let (st, body) =
        post(http, &format!("{base}/sessions"), None, json!({"name": name, "password": PASSWORD})).await.unwrap();
    assert_eq!(st, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// `peerex check` passes on `db`.
pub fn check_clean(db: &Db, context: &str) {
    let out = peerex(&["check"], db).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{context}: check failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok:"), "{stdout}");
}

/// The PostgreSQL tests of this binary share one cluster, and one of them restarts it: that one
/// holds [`postgres_alone`] for its run, the others [`postgres_shared`].
static POSTGRES: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

pub async fn postgres_shared() -> tokio::sync::RwLockReadGuard<'static, ()> {
    POSTGRES.read().await
}

pub async fn postgres_alone() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    POSTGRES.write().await
}

/// A fresh PostgreSQL database `name` on the test cluster (`PEEREX_TEST_POSTGRES_URL`), or
/// `None` after a visible skip when no cluster is configured. Drop it with [`drop_database`].
pub async fn fresh_postgres(test: &str, name: &str) -> Option<Db> {
    let url = std::env::var("PEEREX_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    if !service_or_skip(test, url.is_some(), "PostgreSQL (set PEEREX_TEST_POSTGRES_URL, see .ci/postgres.sh)") {
        return None;
    }
    use sqlx::Connection;
    let url = url.unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
    Some(Db::Postgres(format!("{base}/{name}")))
}

/// Drops a database made by [`fresh_postgres`] (best effort).
pub async fn drop_database(name: &str) {
    use sqlx::Connection;
    let Ok(url) = std::env::var("PEEREX_TEST_POSTGRES_URL") else { return };
    if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
    }
}
