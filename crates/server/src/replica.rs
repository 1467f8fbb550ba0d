//! The life of one `peerex serve --cluster` process (docs/deploy.md): a replica tails the
//! command log into its engine and bids for the writer lock; the writer runs the single
//! [`Writer`] until it stops (its commit failed or was fenced, or it lost the database), and then
//! steps down to a replica.
//!
//! * **Tail.** Woken by LISTEN/NOTIFY on [`LOG_CHANNEL`] (every commit notifies), with a poll as
//!   the fallback, it reads the commands after the last applied seq and applies them to the
//!   readers' engine up to the last complete batch, under one write lock: a read sees a committed
//!   prefix of the log, never half a batch. Then it broadcasts the public events those commands
//!   stored (the live stream), and reloads accounts, sessions, openers and the sandbox clock when
//!   the state version moved.
//! * **Failover.** A replica tries the advisory lock every [`BID_EVERY`]. Taking it increments
//!   the writer epoch, which fences every later commit of the old writer; the new writer then
//!   reads the log to its end, loads the idempotency records (so a client's retry of a request
//!   the old writer answered gets that answer), advertises its address and a fresh secret, and
//!   starts its writer on a clone of the caught-up engine.
//!
//! Driver layer, beside `jobs`: it talks to the writer only through its queue and to the
//! database through `store`; never HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use peerex_engine::{Command, Timestamp};
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::accounts::{self, Accounts};
use crate::clock::OFFSET_KEY;
use crate::state::AppState;
use crate::store::{WriterLock, LOG_CHANNEL};
use crate::writer::{IdempotencyRecords, Writer};

/// How often a replica reads the log when no notification came.
const POLL: Duration = Duration::from_millis(250);
/// How often a replica tries to take the writer lock.
pub const BID_EVERY: Duration = Duration::from_millis(200);
/// How often the writer checks that it still holds the current epoch.
const CHECK_EPOCH_EVERY: Duration = Duration::from_secs(1);
/// Commands read per round of the tail.
const PAGE: i64 = 4_096;

/// One process of a cluster.
pub struct Node {
    pub state: AppState,
    /// The PostgreSQL URL (the lock lives on a connection of its own).
    pub url: String,
    /// The base URL other processes forward writes to.
    pub advertise: String,
    /// The writer's task and lock, while this process is the writer.
    pub writer: Option<(JoinHandle<()>, WriterLock)>,
    /// The time of the last applied command (the floor of the next one's time).
    pub last_at: Option<Timestamp>,
    /// The state version last loaded (accounts, sessions, openers, clock offset).
    pub state_version: i64,
    /// The cursor of the last public event broadcast.
    pub events_cursor: i64,
    /// The connection a replica bids for the lock on (kept between bids).
    bid_conn: Option<PgConnection>,
}

impl Node {
    /// The node of a process that has applied the log up to `applied`; `writer` when it holds
    /// the lock.
    pub async fn new(
        state: &AppState,
        url: String,
        advertise: String,
        writer: Option<(JoinHandle<()>, WriterLock)>,
        last_at: Option<Timestamp>,
        applied: i64,
    ) -> anyhow::Result<Node> {
        Ok(Node {
            state: state.clone(),
            url,
            advertise,
            writer,
            last_at,
            state_version: state.store.state_version().await?,
            events_cursor: state.store.last_event_seq_upto(applied).await?,
            bid_conn: None,
        })
    }

    /// Runs until `finish` fires (after the HTTP server stopped), then lets the writer drain its
    /// queue and releases the lock.
    pub async fn run(mut self, mut finish: oneshot::Receiver<()>) {
        let mut listener = match PgListener::connect(&self.url).await {
            Ok(mut l) => match l.listen(LOG_CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!("LISTEN {LOG_CHANNEL} failed ({e}); the replica polls only");
                    None
                }
            },
            Err(e) => {
                tracing::warn!("no notification connection ({e}); the replica polls only");
                None
            }
        };
        let mut last_bid = Instant::now() - BID_EVERY;
        let mut failing_since: Option<Instant> = None;
        loop {
            if let Some((handle, lock)) = self.writer.as_mut() {
                let epoch = lock.epoch();
                tokio::select! {
                    r = handle => {
                        if let Err(e) = r {
                            tracing::error!("the writer panicked: {e}");
                        }
                        self.step_down().await;
                    }
                    _ = &mut finish => break,
                    _ = tokio::time::sleep(CHECK_EPOCH_EVERY) => {
                        // An idle writer whose database session died (a PostgreSQL restart) may
                        // have been replaced without a commit to tell it so: its engine would
                        // go stale. It stops writing (the queue drains; commits are fenced).
                        match self.state.store.epoch().await {
                            Ok(current) if current != epoch => {
                                tracing::warn!("epoch {current} replaced this writer's {epoch}");
                                self.state.writer.close();
                            }
                            _ => {}
                        }
                    }
                }
                continue;
            }
            match self.tail().await {
                Ok(()) => failing_since = None,
                Err(e) => {
                    if failing_since.is_none() {
                        tracing::warn!("reading the command log failed: {e:#}");
                    }
                    failing_since.get_or_insert_with(Instant::now);
                }
            }
            if last_bid.elapsed() >= BID_EVERY {
                last_bid = Instant::now();
                if let Err(e) = self.bid().await {
                    tracing::debug!("bid for the writer lock failed: {e:#}");
                }
                if self.writer.is_some() {
                    continue;
                }
            }
            let wait = POLL.min(BID_EVERY);
            tokio::select! {
                _ = &mut finish => break,
                _ = wake(&mut listener, wait) => {}
            }
        }
        self.state.writer.close();
        if let Some((handle, lock)) = self.writer.take() {
            let _ = handle.await;
            lock.release().await;
        }
    }

    /// Applies the committed commands after the last applied one, whole batches only.
    async fn tail(&mut self) -> anyhow::Result<()> {
        let shared = self.state.shared.clone();
        let store = self.state.store.clone();
        loop {
            let applied = shared.cluster.applied();
            let mut rows = store.log_after(applied, PAGE).await?;
            let full = rows.len() as i64 == PAGE;
            let end = match rows.iter().rposition(|r| r.batch_end) {
                Some(end) => end,
                // One batch longer than a page: read it whole (a batch is bounded by the
                // writer's batch size times the batch endpoint's 1,000 commands).
                None if full => {
                    rows = store.log_after(applied, i64::MAX).await?;
                    match rows.iter().rposition(|r| r.batch_end) {
                        Some(end) => end,
                        None => break,
                    }
                }
                None => break,
            };
            rows.truncate(end + 1);
            let mut commands = Vec::with_capacity(rows.len());
            for r in &rows {
                let cmd = Command::from_json(&r.cmd.body)
                    .map_err(|e| anyhow::anyhow!("command {} in the log does not parse: {e}", r.cmd.seq))?;
                commands.push((r.cmd.seq, cmd, r.cmd.error.clone()));
            }
            let last = rows.last().map_or(applied, |r| r.cmd.seq);
            {
                let mut engine = shared.engine_mut();
                let mut scratch = Vec::new();
                for (seq, cmd, logged) in commands {
                    self.last_at = Some(cmd.at);
                    scratch.clear();
                    let got = engine.apply(cmd, &mut scratch).err().map(|e| e.code().to_owned());
                    if got != logged {
                        tracing::error!(
                            "command {seq}: logged outcome {logged:?}, replayed {got:?}; run `peerex check`"
                        );
                    }
                }
            }
            shared.cluster.set_applied(last);
            for e in store.public_events_upto(self.events_cursor, last).await? {
                self.events_cursor = e.0;
                let _ = shared.public_events.send(Arc::new(e));
            }
            if !full {
                break;
            }
        }
        shared.cluster.set_head(store.head_seq().await?);
        let version = store.state_version().await?;
        if version != self.state_version {
            let loaded = store.load_rest().await?;
            *shared.accounts_mut() = Accounts::from_loaded(&loaded, self.state.settings.session_ttl);
            if let Some((_, offset)) = loaded.meta.iter().find(|(k, _)| k == OFFSET_KEY) {
                shared.clock.advance_offset_to(*offset);
            }
            self.state_version = version;
        }
        Ok(())
    }

    /// Tries to take the writer lock; with it, catches up and starts the writer.
    async fn bid(&mut self) -> anyhow::Result<()> {
        let conn = match self.bid_conn.take() {
            Some(c) => c,
            None => PgConnection::connect(&self.url).await?,
        };
        // An error drops the connection (a new one next time: the database may have restarted).
        let lock = match self.state.store.try_writer_lock_on(conn).await? {
            Ok(lock) => lock,
            Err(conn) => {
                self.bid_conn = Some(conn);
                return Ok(());
            }
        };
        // From here on the old writer's commits are fenced: the log is final up to its end.
        match self.take_over(&lock).await {
            Ok(writer) => {
                let (tx, rx) = mpsc::channel(self.state.settings.queue);
                self.state.writer.replace(tx);
                let handle = tokio::spawn(writer.run(rx));
                self.writer = Some((handle, lock));
                self.state.shared.cluster.failovers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    "this process is now the writer (epoch {})",
                    self.writer.as_ref().map_or(0, |w| w.1.epoch())
                );
                Ok(())
            }
            Err(e) => {
                lock.release().await;
                Err(e)
            }
        }
    }

    async fn take_over(&mut self, lock: &WriterLock) -> anyhow::Result<Writer> {
        self.tail().await?;
        let store = &self.state.store;
        let shared = &self.state.shared;
        let loaded = store.load_rest().await?;
        *shared.accounts_mut() = Accounts::from_loaded(&loaded, self.state.settings.session_ttl);
        self.state_version = store.state_version().await?;
        let (secret, _) = accounts::new_token();
        store.advertise(lock.epoch(), &self.advertise, &secret).await?;
        let last_snapshot = store.snapshots().await?.first().map_or(0, |r| r.seq);
        let writer = Writer {
            engine: shared.engine().clone(),
            shared: shared.clone(),
            store: store.clone(),
            next_seq: shared.cluster.applied() + 1,
            next_event_seq: loaded.last_event_seq + 1,
            last_at: self.last_at,
            idempotency: IdempotencyRecords::new(
                Duration::from_secs(self.state.settings.idempotency_ttl_secs),
                &loaded.idempotency,
            ),
            batch_max: self.state.settings.batch_max,
            fence: Some(lock.epoch()),
            snapshots: crate::snapshot_task::Snapshots::new(self.state.settings.snapshot_every, last_snapshot),
            held: Default::default(),
            undo: crate::writer::UndoBudget::new(std::time::Instant::now(), self.state.settings.atomic_undo),
        };
        shared.cluster.set_writer(Some(secret));
        Ok(writer)
    }

    /// The writer stopped (a failed or fenced commit): back to a replica. What the failed batch
    /// did, if it committed after all, comes back through the tail.
    async fn step_down(&mut self) {
        self.state.shared.cluster.set_writer(None);
        self.state.writer.close();
        if let Some((_, lock)) = self.writer.take() {
            lock.release().await;
        }
        // The writer broadcast its own events: the tail goes on after them (or, if the database
        // does not answer yet, from the older cursor: a live stream client skips what it has).
        if let Ok(c) = self.state.store.last_event_seq_upto(self.state.shared.cluster.applied()).await {
            self.events_cursor = c;
        }
        self.state_version = -1;
        tracing::warn!("this process is a replica again");
    }
}

/// The URL other processes reach this one at by default: its bound address (the loopback one
/// when it listens on all interfaces).
pub fn default_advertise(addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// Waits until a writer has created the database (a replica may start first), at most a minute.
pub async fn wait_for_database(store: &crate::store::Store) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        // The newest table: once it answers, the migrations have run.
        match store.snapshots().await {
            Ok(_) => return Ok(()),
            Err(e) if started.elapsed() < Duration::from_secs(60) => {
                tracing::info!("waiting for the writer to create the database: {e:#}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Waits for a notification on the log channel, or `poll`, whichever comes first.
async fn wake(listener: &mut Option<PgListener>, poll: Duration) {
    match listener {
        Some(l) => {
            if let Ok(Err(_)) = tokio::time::timeout(poll, l.recv()).await {
                // The connection is down (it reconnects on the next call): do not spin.
                tokio::time::sleep(poll).await;
            }
        }
        None => tokio::time::sleep(poll).await,
    }
}
