//! Test harness: a fresh database (SQLite directory or PostgreSQL database), an admin account,
//! the server started on port 0, and a small JSON client.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use peerex_server::settings::{Database, Settings};
use peerex_server::Running;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;

pub const ADMIN: &str = "root";
pub const PASSWORD: &str = "password-1";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend from an async fn taking a [`Backend`].
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::support::service_or_skip(
                    concat!(module_path!(), "::postgres"),
                    "PEEREX_TEST_POSTGRES_URL",
                    "PostgreSQL (see .ci/postgres.sh)",
                ) {
                    return;
                }
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    };
}

/// Whether the service a test needs is configured (`var` is set). If not: under `CI=true` the
/// test fails (a CI run must not count a skipped half as passed); locally it prints a SKIPPED
/// line straight to the terminal (past the test harness's output capture) and returns false.
pub fn service_or_skip(test: &str, var: &str, what: &str) -> bool {
    if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{test}: CI=true but {var} is not set; {what} must be available in CI"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {what} is not configured (set {var})");
    false
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst), nanos)
}

/// A fresh, empty database of the backend.
pub async fn fresh_database(backend: Backend) -> Database {
    match backend {
        Backend::Sqlite => {
            let dir: PathBuf = std::env::temp_dir().join(unique("peerex_it"));
            Database::Sqlite { data_dir: dir }
        }
        Backend::Postgres => {
            let url = std::env::var("PEEREX_TEST_POSTGRES_URL").unwrap();
            let name = unique("peerex_it");
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let base = url.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
            Database::Postgres { url: format!("{base}/{name}") }
        }
    }
}

pub struct Server {
    pub running: Option<Running>,
    pub db: Database,
    pub client: Client,
    pub settings: Settings,
}

impl Server {
    /// A fresh database with the admin account, and a running server.
    pub async fn start(backend: Backend) -> Server {
        let db = fresh_database(backend).await;
        Server::start_with(Settings::for_tests(db)).await
    }

    pub async fn start_with(settings: Settings) -> Server {
        let db = settings.database.clone();
        // Ignore "taken": restarts reuse the database.
        let _ = peerex_server::create_user(&db, ADMIN, PASSWORD, true, 64).await;
        let running = peerex_server::start(settings.clone()).await.unwrap();
        let client = Client::new(running.addr);
        Server { running: Some(running), db, client, settings }
    }

    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }

    /// Stops and starts again on the same database (state is rebuilt from the log).
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = peerex_server::start(self.settings.clone()).await.unwrap();
        self.client = Client::new(running.addr);
        self.running = Some(running);
    }

    /// Logs the admin in.
    pub async fn admin(&self) -> String {
        self.client.login(ADMIN, PASSWORD).await
    }

    /// Signs a user up and logs them in.
    pub async fn user(&self, name: &str) -> String {
        let (st, body) =
            self.client.call(Method::POST, "/users", None, Some(json!({"name": name, "password": PASSWORD}))).await;
        assert_eq!(st, 201, "{body}");
        self.client.login(name, PASSWORD).await
    }

    /// Signs up `name`, deposits `amount` (as admin) and returns their token.
    pub async fn funded(&self, name: &str, amount: &str) -> String {
        let token = self.user(name).await;
        let admin = self.admin().await;
        let (st, body) = self.client.post("/admin/deposits", &admin, json!({"user": name, "amount": amount})).await;
        assert_eq!(st, 200, "{body}");
        token
    }

    /// The server's clock plus `days`, as RFC 3339.
    pub async fn days_from_now(&self, days: i64) -> String {
        let (_, clock) = self.client.call(Method::GET, "/clock", None, None).await;
        let now = peerex_engine::Timestamp::parse(clock["now"].as_str().unwrap()).unwrap();
        // Whole seconds keep the text form stable.
        let t = peerex_engine::Timestamp::from_millis(now.millis() / 1000 * 1000).plus_days(days);
        t.to_rfc3339()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Database::Sqlite { data_dir } = &self.db {
            if self.running.is_none() {
                let _ = std::fs::remove_dir_all(data_dir);
            }
        }
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(addr: std::net::SocketAddr) -> Client {
        Client { base: format!("http://{addr}"), http: reqwest::Client::new() }
    }

    /// Any call under /api/v1: (status, JSON body or Null).
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        self.call_with(method, path, token, body, None).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/api/v1{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn raw(&self, method: Method, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/api/v1{path}", self.base)).body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn login(&self, name: &str, password: &str) -> String {
        let (st, body) =
            self.call(Method::POST, "/sessions", None, Some(json!({"name": name, "password": password}))).await;
        assert_eq!(st, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn me(&self, token: &str) -> Value {
        let (st, body) = self.get("/me", token).await;
        assert_eq!(st, 200, "{body}");
        body
    }
}

/// URL-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub const ISSUE: &str = "demo/app#1337";

/// Offer body.
pub fn offer(kind: &str, maturation: &str, price: &str, volume: u64) -> Value {
    json!({"kind": kind, "issue": ISSUE, "maturation": maturation, "price": price, "volume": volume})
}
