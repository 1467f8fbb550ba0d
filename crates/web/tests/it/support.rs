//! The real server (SQLite in a temporary directory, sandbox clock) with the UI mounted, on
//! port 0, and an admin account.

use peerex_server::settings::{Database, Settings};
use peerex_server::Running;

pub const ADMIN: &str = "root";
pub const PASSWORD: &str = "password-1";

pub struct Server {
    pub rt: tokio::runtime::Runtime,
    pub running: Option<Running>,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(|_| {})
    }

    /// [`Server::start`] with the test settings changed by `tune`.
    pub fn start_with(tune: impl FnOnce(&mut Settings)) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let db = Database::Sqlite { data_dir: dir.path().join("data") };
        let mut settings = Settings::for_tests(db.clone());
        tune(&mut settings);
        let running = rt.block_on(async {
            peerex_server::create_user(&db, ADMIN, PASSWORD, true, 64).await.expect("admin");
            peerex_server::start_with(settings, peerex_web::router).await.expect("server")
        });
        let base = format!("http://{}", running.addr);
        Server { rt, running: Some(running), base, _dir: dir }
    }

    /// A demo server (`peerex serve --demo`) at `days_per_minute`.
    pub fn start_demo(days_per_minute: f64) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let mut settings = Settings::for_tests(Database::Sqlite { data_dir: dir.path().join("data") });
        settings.demo = Some(peerex_server::demo::DemoSettings::new(1, days_per_minute).expect("speed"));
        let running = rt.block_on(peerex_server::start_with(settings, peerex_web::router)).expect("server");
        let base = format!("http://{}", running.addr);
        Server { rt, running: Some(running), base, _dir: dir }
    }

    pub fn state(&self) -> &peerex_server::state::AppState {
        &self.running.as_ref().expect("running").state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A user's available credits, in micro-credits.
    pub fn available(&self, name: &str) -> i64 {
        let engine = self.state().shared.engine();
        engine.user_id(name).map(|u| engine.balance(u).0.micros()).unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = self.rt.block_on(r.stop());
        }
    }
}
