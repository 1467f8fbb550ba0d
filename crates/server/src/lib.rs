//! peerex-server: `peerex serve` (durable storage, the HTTP API with accounts, background
//! jobs), `peerex check` and `peerex admin create-user`. See docs/server.md.
//!
//! * `store`: SQLite/PostgreSQL, migrations, the writer lock;
//! * `rebuild`: state from the command log;
//! * `writer`: the single writer with group commit;
//! * `http`: the API; `accounts`, `limiter`: security; `jobs`: the clock tick.

pub mod accounts;
pub mod clock;
pub mod cluster;
pub mod conn;
pub mod demo;
pub mod forward;
pub mod http;
pub mod jobs;
pub mod limiter;
pub mod metrics;
pub mod rebuild;
pub mod replica;
pub mod settings;
pub mod shared;
pub mod snapshot;
pub mod snapshot_task;
pub mod state;
pub mod store;
pub mod trackers;
pub mod views;
pub mod writer;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::accounts::Accounts;
use crate::clock::{Clock, OFFSET_KEY};
use crate::cluster::Cluster;
use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::settings::{Database, Settings};
use crate::shared::Shared;
use crate::state::{AppState, Queue};
use crate::store::{AccountRow, Store, WriterLock};
use crate::writer::{IdempotencyRecords, Writer};

pub use settings::SettingsLayer;

/// A running server (tests start several; `peerex serve` runs one until Ctrl-C).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    http: JoinHandle<std::io::Result<()>>,
    writer: JoinHandle<()>,
    ticker: JoinHandle<()>,
    syncers: Vec<JoinHandle<()>>,
    /// The demo's agents (`peerex serve --demo`).
    demo: Option<JoinHandle<()>>,
    lock: Option<WriterLock>,
    /// In a cluster: tells the process's node (`replica::Node`, which then owns the writer and
    /// the lock) to stop, once the HTTP server has.
    node: Option<oneshot::Sender<()>>,
}

impl Running {
    /// Stops accepting requests, lets the writer finish its queue, and releases the lock.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.state.shared.shutdown.send_replace(true);
        self.ticker.abort();
        for s in &self.syncers {
            s.abort();
        }
        if let Some(d) = self.demo.take() {
            // It stops at the shutdown signal, between two steps.
            let _ = d.await;
        }
        let http = self.http.await;
        // Closing the queue lets the writer drain what is in it and stop (in a cluster the node
        // does it, then releases the lock).
        match self.node.take() {
            Some(node) => {
                let _ = node.send(());
            }
            None => self.state.writer.close(),
        }
        let store = self.state.store.clone();
        drop(self.state);
        let _ = self.writer.await;
        store.close().await;
        // Explicitly: a dropped PostgreSQL connection keeps the advisory lock until the server
        // notices, so a process started right after (a restart) could find it still held.
        if let Some(lock) = self.lock.take() {
            lock.release().await;
        }
        http.context("http task")?.context("http server")?;
        Ok(())
    }

    /// Waits until the demo's agents stop (after `stop_after_days`); at once without a demo.
    pub async fn demo_finished(&mut self) {
        if let Some(d) = self.demo.take() {
            let _ = d.await;
        }
    }

    /// Whether the writer is still able to commit.
    pub fn healthy(&self) -> bool {
        self.state.shared.is_healthy()
    }
}

/// Opens the database, rebuilds state from the command log, and starts the writer, the tick
/// job and the HTTP server.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    start_with(settings, |_| axum::Router::new()).await
}

/// [`start`], with `extra` routes (the web UI, which lives in its own crate) merged into the
/// API's router. `extra` gets the state the API handlers share.
pub async fn start_with(settings: Settings, extra: impl FnOnce(AppState) -> axum::Router) -> anyhow::Result<Running> {
    // In a cluster the process is the writer if it gets the lock, else a replica.
    let cluster_url = match (&settings.database, settings.cluster) {
        (Database::Postgres { url }, true) => Some(url.clone()),
        _ => None,
    };
    let (store, lock) = match &cluster_url {
        None => Store::open(&settings.database, true).await?,
        Some(url) => {
            let (store, _) = Store::open(&settings.database, false).await?;
            let lock = store.try_writer_lock(url).await?;
            (store, lock)
        }
    };
    // From the newest valid snapshot (snapshot.rs) and the log after it. A replica may start
    // before any writer has created the database: it waits for it.
    if cluster_url.is_some() && lock.is_none() {
        replica::wait_for_database(&store).await?;
    }
    let rebuilt = rebuild::load(&store).await.context("rebuilding state from the command log")?;
    if settings.demo.is_some() && rebuilt.commands > 0 {
        anyhow::bail!("the demo starts from an empty database, and this one has {} commands", rebuilt.commands);
    }
    if !rebuilt.mismatches.is_empty() {
        // The engine no longer does what it did when the log was written: serving would build
        // on a state nobody acknowledged. Stop; `peerex check` lists the same differences.
        anyhow::bail!(
            "the command log does not replay as recorded ({} differences; first: {}); run `peerex check`",
            rebuilt.mismatches.len(),
            rebuilt.mismatches[0]
        );
    }
    let applied = rebuilt.next_seq - 1;
    let is_writer = lock.is_some();
    let logged_limit = rebuilt.engine.exchange().limits().max_open_offers_per_user;
    let loaded = store.load_rest().await?;
    let offset = loaded.meta.iter().find(|(k, _)| k == OFFSET_KEY).map_or(0, |(_, v)| *v);
    let (events_tx, _) = broadcast::channel(settings.stream_buffer.max(1));
    let shared = Arc::new(Shared {
        engine: RwLock::new(rebuilt.engine.clone()),
        accounts: RwLock::new(Accounts::from_loaded(&loaded, settings.session_ttl)),
        clock: if settings.demo.is_some() { Clock::stepped(demo::start()) } else { Clock::with_offset(offset) },
        metrics: Metrics::default(),
        public_events: events_tx,
        healthy: AtomicBool::new(true),
        shutdown: tokio::sync::watch::channel(false).0,
        cluster: Cluster::new(cluster_url.is_some(), is_writer, applied),
        unread: Default::default(),
        snapshot_gate: Default::default(),
    });
    let listener =
        tokio::net::TcpListener::bind(settings.addr).await.with_context(|| format!("binding {}", settings.addr))?;
    let addr = listener.local_addr()?;
    let (queue, writer) = if is_writer {
        let idempotency =
            IdempotencyRecords::new(Duration::from_secs(settings.idempotency_ttl_secs), &loaded.idempotency);
        let writer = Writer {
            engine: rebuilt.engine,
            shared: shared.clone(),
            store: store.clone(),
            next_seq: rebuilt.next_seq,
            next_event_seq: loaded.last_event_seq + 1,
            last_at: rebuilt.last_at,
            idempotency,
            batch_max: settings.batch_max,
            fence: lock.as_ref().map(|l| l.epoch()),
            snapshots: snapshot_task::Snapshots::new(settings.snapshot_every, rebuilt.snapshot.unwrap_or(0)),
            held: Default::default(),
            undo: crate::writer::UndoBudget::new(std::time::Instant::now(), settings.atomic_undo),
        };
        let (tx, rx) = mpsc::channel(settings.queue);
        // In a cluster the node watches the writer (a stop makes it a replica); alone, a panic
        // makes the process unhealthy.
        let task = match cluster_url {
            Some(_) => tokio::spawn(writer.run(rx)),
            None => tokio::spawn(supervise(writer.shared.clone(), writer.run(rx))),
        };
        (Queue::new(tx), Some(task))
    } else {
        drop(rebuilt.engine);
        (Queue::closed(), None)
    };
    // The decoy an unknown name is verified against, made now so that the first such log-in
    // costs no more than any other.
    let kib = settings.argon2_kib;
    tokio::task::spawn_blocking(move || accounts::decoy_hash(kib)).await.context("hashing the log-in decoy")?;
    let trackers = trackers::Trackers::from_settings(&settings, &shared)?;
    let state = AppState {
        shared,
        store,
        writer: queue,
        limiter: Arc::new(Limiter::new(
            settings.rate_per_sec,
            settings.rate_burst,
            settings.login_attempts,
            settings.login_lockout,
        )),
        settings: Arc::new(settings.clone()),
        trackers,
    };
    let (writer, lock, node) = match cluster_url {
        None => (writer.context("a process alone is the writer")?, lock, None),
        Some(url) => {
            let advertise = settings.advertise.clone().unwrap_or_else(|| replica::default_advertise(addr));
            let writer = match (writer, lock) {
                (Some(task), Some(lock)) => {
                    let (secret, _) = accounts::new_token();
                    state.store.advertise(lock.epoch(), &advertise, &secret).await?;
                    state.shared.cluster.set_writer(Some(secret));
                    Some((task, lock))
                }
                _ => None,
            };
            let node = replica::Node::new(&state, url, advertise, writer, rebuilt.last_at, applied).await?;
            let (finish, on_finish) = oneshot::channel();
            (tokio::spawn(node.run(on_finish)), None, Some(finish))
        }
    };
    if is_writer && logged_limit != settings.max_open_offers {
        set_limits(&state, settings.max_open_offers).await?;
    }
    let ticker = tokio::spawn(jobs::tick_loop(state.clone(), Duration::from_millis(settings.tick_ms)));
    let syncers = trackers::start_sync(&state, &settings);
    let demo = match settings.demo {
        Some(_) => Some(tokio::spawn(demo::run(state.clone(), demo::setup(&state).await?))),
        None => None,
    };
    let app = http::router_with(state.clone(), extra(state.clone()));
    let (shutdown, on_shutdown) = oneshot::channel::<()>();
    let http = tokio::spawn(conn::serve(listener, app, settings.conn, async move {
        let _ = on_shutdown.await;
    }));
    tracing::info!(
        "peerex serving on http://{addr} ({} commands replayed, {} backend{})",
        rebuilt.commands,
        state.store.backend(),
        if state.shared.cluster.enabled {
            format!(", {} of a cluster", state.shared.cluster.role())
        } else {
            String::new()
        }
    );
    Ok(Running { addr, state, shutdown: Some(shutdown), http, writer, ticker, syncers, demo, lock, node })
}

/// Runs the writer; if it panics, marks the server unhealthy (so `/healthz` answers 503 and
/// [`serve`] exits with an error for a supervisor to restart it) instead of leaving a process
/// that answers every write with 503 forever.
async fn supervise(shared: Arc<Shared>, writer: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Err(e) = tokio::spawn(writer).await {
        tracing::error!("the writer stopped: {e}; the process must restart");
        shared.healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Logs `set_limits` so the engine enforces the configured open-offer limit, in order, live and
/// in every replay.
async fn set_limits(state: &AppState, max: u32) -> anyhow::Result<()> {
    let op = peerex_engine::Op::SetLimits { max_open_offers_per_user: max };
    state
        .submit(writer::Action::engine(op, None, views::After::Nothing), None)
        .await
        .map_err(|e| anyhow::anyhow!("setting the open-offer limit to {max}: {e}"))?;
    Ok(())
}

/// `peerex serve`: runs until Ctrl-C / SIGTERM, or fails when the writer stops.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    serve_with(settings, |_| axum::Router::new()).await
}

/// [`serve`] with `extra` routes (see [`start_with`]).
pub async fn serve_with(settings: Settings, extra: impl FnOnce(AppState) -> axum::Router) -> anyhow::Result<()> {
    let running = start_with(settings, extra).await?;
    match &running.state.settings.demo {
        Some(d) => println!("{}", demo::banner(running.addr, d)),
        None => println!("peerex serving on http://{}", running.addr),
    }
    let shared = running.state.shared.clone();
    let failed = async move {
        while shared.is_healthy() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate() => {}
        _ = failed => {
            running.stop().await?;
            anyhow::bail!("the writer stopped (a failed commit or a panic, logged above); restart to rebuild from the database");
        }
    }
    running.stop().await
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

/// What `peerex check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub commands: usize,
    pub events_replayed: u64,
    pub events_stored: i64,
    pub users: usize,
    pub minted: String,
    pub problems: Vec<String>,
}

/// `peerex check`: rebuilds from the database (read only) and verifies the ledger (conservation,
/// holds, escrows), that each command's replayed outcome matches the log, and the event count.
pub async fn check(db: &Database) -> anyhow::Result<CheckReport> {
    let (store, _) = Store::open(db, false).await?;
    let log = store.load_log().await?;
    let upto = log.last().map_or(0, |c| c.seq);
    let events_stored = store.event_count_upto(upto).await?;
    // Events of later commands are a writer's commits since the log was read, unless no such
    // command exists: then they are events no command explains.
    let unexplained = match store.event_count_after(upto).await? {
        0 => 0,
        n if store.head_seq().await? <= upto => n,
        _ => 0,
    };
    store.close().await;
    let rebuilt = rebuild::replay(&log)?;
    let mut problems = rebuilt.mismatches.clone();
    if let Err(e) = rebuilt.engine.check_invariants() {
        problems.push(format!("ledger invariant violated: {e}"));
    }
    if unexplained > 0 {
        problems.push(format!("{unexplained} events stored for commands that are not in the log"));
    }
    if rebuilt.events as i64 != events_stored {
        problems.push(format!("{} events stored but the replay emits {}", events_stored, rebuilt.events));
    }
    Ok(CheckReport {
        commands: rebuilt.commands,
        events_replayed: rebuilt.events,
        events_stored,
        users: rebuilt.engine.user_count(),
        minted: rebuilt.engine.ledger().minted().to_string(),
        problems,
    })
}

/// `peerex admin create-user`: adds an account directly to the database. Takes the writer lock,
/// so it refuses to run while a server writes (use POST /api/v1/admin/users then).
pub async fn create_user(
    db: &Database,
    name: &str,
    password: &str,
    admin: bool,
    argon2_kib: u32,
) -> anyhow::Result<()> {
    accounts::check_user_name(name).map_err(|m| anyhow::anyhow!(m))?;
    accounts::check_password(password).map_err(|m| anyhow::anyhow!(m))?;
    let (store, lock) = Store::open(db, true).await?;
    let password_hash = accounts::hash_password(password, argon2_kib).map_err(|m| anyhow::anyhow!(m))?;
    let row = AccountRow { name: name.to_owned(), password_hash, admin };
    let created = store.insert_account(&row, Clock::wall_ms()).await?;
    store.close().await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    if !created {
        anyhow::bail!("the name {name:?} is taken");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside the writer marks the server unhealthy: `/healthz` answers 503 and
    /// [`serve`] exits with an error, for a supervisor to restart the process (before, the
    /// server stayed "healthy" and answered every write with 503 forever).
    #[tokio::test]
    async fn a_writer_panic_makes_the_server_unhealthy() {
        let shared = Arc::new(Shared {
            engine: RwLock::new(peerex_engine::Engine::new()),
            accounts: RwLock::new(Accounts::default()),
            clock: Clock::with_offset(0),
            metrics: Metrics::default(),
            public_events: broadcast::channel(1).0,
            healthy: AtomicBool::new(true),
            shutdown: tokio::sync::watch::channel(false).0,
            cluster: Cluster::new(false, true, 0),
            unread: Default::default(),
            snapshot_gate: Default::default(),
        });
        supervise(shared.clone(), async {}).await;
        assert!(shared.is_healthy(), "a writer that ends normally (shutdown) is not a failure");
        supervise(shared.clone(), async { panic!("a bug inside the writer") }).await;
        assert!(!shared.is_healthy());
    }
}
