//! Durable storage: the command log, events, accounts, sessions and idempotency records, in
//! SQLite (WAL, synchronous=FULL) or PostgreSQL. Both run the same embedded migrations and the
//! same SQL (`$n` parameters work in both); `on_pool!` expands each query once per backend.
//!
//! Exactly one process writes: [`WriterLock`] is an exclusive `flock` on `peerex.lock` in the
//! SQLite data directory, or a session-level PostgreSQL advisory lock held on a dedicated
//! connection for the life of the process. Taking the lock also increments the writer epoch
//! (table `writer_epoch`), and a batch carrying its writer's epoch as [`BatchWrite::fence`]
//! commits only while that epoch is current: a writer that lost its lock can never commit again.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row};
use tokio_stream::StreamExt;

use crate::settings::Database;

/// The advisory-lock key of the one writer ("peerex" in ASCII).
const PG_WRITER_LOCK: i64 = 0x7065_6572_6578;

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool (a `&SqlitePool` or a `&PgPool`).
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            Store::Sqlite($p) => $body,
            Store::Postgres($p) => $body,
        }
    };
}

/// Held for as long as this process may write.
#[derive(Debug)]
pub struct WriterLock {
    _file: Option<std::fs::File>,
    _pg: Option<PgConnection>,
    epoch: i64,
}

impl WriterLock {
    /// The writer epoch this lock holder took (the fence of its batches).
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// Releases the lock now. Dropping it also releases it, but on PostgreSQL only once the
    /// server has noticed the closed session, so a process that opens the database right after
    /// (`admin create-user`, then `serve`) could still find it held.
    pub async fn release(mut self) {
        if let Some(mut conn) = self._pg.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_WRITER_LOCK).execute(&mut conn).await;
            let _ = conn.close().await;
        }
    }
}

/// The meta key of the state version ([`Store::state_version`]).
pub const STATE_VERSION_KEY: &str = "state_version";
/// The PostgreSQL channel a commit notifies replicas on.
pub const LOG_CHANNEL: &str = "peerex_log";

/// The writer as it advertised itself in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leader {
    pub epoch: i64,
    /// The base URL it takes forwarded writes on.
    pub address: String,
    /// What a forwarded write must carry (known only to processes that read this database).
    pub secret: String,
}

/// A command read by a replica's tail, and whether it ends its batch.
#[derive(Clone, Debug)]
pub struct Tailed {
    pub cmd: LoggedCommand,
    pub batch_end: bool,
}

/// One logged command.
#[derive(Clone, Debug)]
pub struct LoggedCommand {
    pub seq: i64,
    pub body: String,
    pub error: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AccountRow {
    pub name: String,
    pub password_hash: String,
    pub admin: bool,
}

#[derive(Clone, Debug)]
pub struct EventRow {
    pub seq: i64,
    pub command_seq: i64,
    pub at: i64,
    pub kind: String,
    pub public: bool,
    pub issue: Option<String>,
    pub maturation: Option<i64>,
    pub body: String,
    pub users: Vec<String>,
}

/// The first answer to a request with an Idempotency-Key (the writer's record, as JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRow {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    /// Wall-clock milliseconds.
    pub created_at: i64,
    pub answer: String,
}

/// Everything one batch writes, committed in one transaction.
#[derive(Clone, Debug, Default)]
pub struct BatchWrite {
    /// (seq, at, body, error code)
    pub commands: Vec<(i64, i64, String, Option<String>)>,
    pub events: Vec<EventRow>,
    pub accounts: Vec<(AccountRow, i64)>,
    /// (token hash, user, created at)
    pub sessions: Vec<(String, String, i64)>,
    /// (token hash, revoked at)
    pub revoked: Vec<(String, i64)>,
    pub idempotency: Vec<IdempotencyRow>,
    /// Deletes idempotency records made before this time (wall-clock ms): they expired.
    pub prune_idempotency_before: Option<i64>,
    pub issue_openers: Vec<(String, String)>,
    pub meta: Vec<(String, i64)>,
    /// The writer epoch this batch belongs to: the commit is refused (nothing written) if
    /// another process has taken the writer lock since. `None` writes unfenced (tests, tools).
    pub fence: Option<i64>,
}

impl BatchWrite {
    /// Whether the batch changes state outside the command log that replicas mirror.
    pub fn changes_state(&self) -> bool {
        !(self.accounts.is_empty()
            && self.sessions.is_empty()
            && self.revoked.is_empty()
            && self.issue_openers.is_empty()
            && self.meta.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
            && self.events.is_empty()
            && self.accounts.is_empty()
            && self.sessions.is_empty()
            && self.revoked.is_empty()
            && self.idempotency.is_empty()
            && self.prune_idempotency_before.is_none()
            && self.issue_openers.is_empty()
            && self.meta.is_empty()
    }
}

/// Largest part of a snapshot's body in one row (both backends refuse values over 1 GB).
pub const SNAPSHOT_PART: usize = 64 << 20;

/// A stored snapshot's row (snapshot.rs): its seq, format version, checksum (hex) and
/// when it was written (wall-clock ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotRow {
    pub seq: i64,
    pub version: i32,
    pub checksum: String,
    pub created_at: i64,
}

/// What the server loads on start besides the command log.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub accounts: Vec<AccountRow>,
    /// (token hash, user, created at) of sessions not revoked.
    pub sessions: Vec<(String, String, i64)>,
    pub idempotency: Vec<IdempotencyRow>,
    pub issue_openers: Vec<(String, String)>,
    pub meta: Vec<(String, i64)>,
    pub last_event_seq: i64,
}

/// Rows in one multi-row INSERT of a batch: at 8 columns (events) 32,000 parameters, under
/// SQLite's limit of 32,766 and PostgreSQL's of 65,535.
const ROWS_PER_INSERT: usize = 4_000;

impl Store {
    /// Opens the database. A writer creates it (and the data directory) if needed, runs the
    /// embedded migrations and takes the writer lock; a reader (`peerex check`) needs an
    /// existing database and never writes.
    pub async fn open(db: &Database, writer: bool) -> anyhow::Result<(Store, Option<WriterLock>)> {
        match db {
            Database::Sqlite { data_dir } => open_sqlite(data_dir, writer).await,
            Database::Postgres { url } => open_postgres(url, writer).await,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    /// The whole command log in order.
    pub async fn load_log(&self) -> anyhow::Result<Vec<LoggedCommand>> {
        on_pool!(self, p => {
            let mut rows = sqlx::query("SELECT seq, body, error FROM commands ORDER BY seq").fetch(p);
            let mut out = Vec::new();
            while let Some(row) = rows.next().await {
                let row = row?;
                out.push(LoggedCommand { seq: row.try_get("seq")?, body: row.try_get("body")?, error: row.try_get("error")? });
            }
            Ok(out)
        })
    }

    /// The commands after `seq`, in order (the tail replayed after a snapshot).
    pub async fn load_log_after(&self, seq: i64) -> anyhow::Result<Vec<LoggedCommand>> {
        on_pool!(self, p => {
            let mut rows = sqlx::query("SELECT seq, body, error FROM commands WHERE seq > $1 ORDER BY seq").bind(seq).fetch(p);
            let mut out = Vec::new();
            while let Some(row) = rows.next().await {
                let row = row?;
                out.push(LoggedCommand { seq: row.try_get("seq")?, body: row.try_get("body")?, error: row.try_get("error")? });
            }
            Ok(out)
        })
    }

    /// The seq of the last logged command (0 for an empty log).
    pub async fn last_seq(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => {
            let max: Option<i64> = sqlx::query("SELECT MAX(seq) FROM commands").fetch_one(p).await?.try_get(0)?;
            Ok(max.unwrap_or(0))
        })
    }

    /// Starts storing a snapshot part by part (the snapshot task's way: the body is stored as
    /// it is encoded, never whole in memory): removes any snapshot at `seq` (a start that skipped
    /// a damaged one writes a good one, maybe at the same seq) and any parts left by one never
    /// finished. Each [`Store::snapshot_parts`] is then its own short transaction, so the
    /// writer's commits go on between them; the parts are invisible until
    /// [`Store::finish_snapshot`] adds the row.
    pub async fn begin_snapshot(&self, seq: i64) -> anyhow::Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM snapshots WHERE seq = $1").bind(seq).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM snapshot_parts WHERE seq NOT IN (SELECT seq FROM snapshots)").execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stores parts `first`, `first + 1`, ... (from 1; part 0 is the header, stored last) of the
    /// snapshot at `seq`, in one transaction.
    pub async fn snapshot_parts(&self, seq: i64, first: i32, bodies: &[Vec<u8>]) -> anyhow::Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for (i, body) in bodies.iter().enumerate() {
                sqlx::query("INSERT INTO snapshot_parts (seq, part, body) VALUES ($1, $2, $3)")
                    .bind(seq).bind(first + i as i32).bind(&body[..]).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Ends a snapshot begun with [`Store::begin_snapshot`]: its header as part 0 and its row
    /// in one transaction (from then on a start can use it), and all but the newest `keep`
    /// deleted.
    pub async fn finish_snapshot(
        &self,
        row: &SnapshotRow,
        header: &[u8],
        parts: i32,
        keep: usize,
    ) -> anyhow::Result<()> {
        let keep = keep.max(1) as i64;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO snapshot_parts (seq, part, body) VALUES ($1, 0, $2)")
                .bind(row.seq).bind(header).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO snapshots (seq, version, checksum, parts, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(row.seq).bind(row.version).bind(&row.checksum).bind(parts + 1).bind(row.created_at).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT $1)")
                .bind(keep).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM snapshot_parts WHERE seq NOT IN (SELECT seq FROM snapshots)").execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The stored snapshots, newest first (without their bodies).
    pub async fn snapshots(&self) -> anyhow::Result<Vec<SnapshotRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT seq, version, checksum, created_at FROM snapshots ORDER BY seq DESC").fetch_all(p).await?;
            rows.iter().map(|r| Ok(SnapshotRow { seq: r.try_get(0)?, version: r.try_get(1)?, checksum: r.try_get(2)?, created_at: r.try_get(3)? })).collect()
        })
    }

    /// The body of the snapshot at `seq` (its parts joined), if it is still stored.
    pub async fn snapshot_body(&self, seq: i64) -> anyhow::Result<Option<Vec<u8>>> {
        on_pool!(self, p => {
            if sqlx::query("SELECT seq FROM snapshots WHERE seq = $1").bind(seq).fetch_optional(p).await?.is_none() {
                return Ok(None);
            }
            // A missing part leaves a body shorter than its header says: the decoder refuses it.
            // Reserved once (a 10 M-command log's body is 500 MB; growing it copied it again).
            let len: Option<i64> = sqlx::query("SELECT SUM(LENGTH(body)) FROM snapshot_parts WHERE seq = $1")
                .bind(seq).fetch_one(p).await?.try_get(0)?;
            let mut body = Vec::with_capacity(usize::try_from(len.unwrap_or(0)).unwrap_or(0));
            let mut rows = sqlx::query("SELECT body FROM snapshot_parts WHERE seq = $1 ORDER BY part").bind(seq).fetch(p);
            while let Some(r) = rows.next().await {
                let part: Vec<u8> = r?.try_get(0)?;
                body.extend_from_slice(&part);
            }
            Ok(Some(body))
        })
    }

    /// Replaces a stored snapshot's body (tests: corruption must be detected).
    pub async fn overwrite_snapshot_body(&self, seq: i64, body: &[u8]) -> anyhow::Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM snapshot_parts WHERE seq = $1").bind(seq).execute(&mut *tx).await?;
            for (i, part) in body.chunks(SNAPSHOT_PART).enumerate() {
                sqlx::query("INSERT INTO snapshot_parts (seq, part, body) VALUES ($1, $2, $3)")
                    .bind(seq).bind(i as i32).bind(part).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes every snapshot (the next start replays the whole log; benchmarks).
    pub async fn delete_snapshots(&self) -> anyhow::Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM snapshot_parts").execute(p).await?;
            sqlx::query("DELETE FROM snapshots").execute(p).await?;
            Ok(())
        })
    }

    pub async fn load_rest(&self) -> anyhow::Result<Loaded> {
        on_pool!(self, p => {
            let mut l = Loaded::default();
            for r in sqlx::query("SELECT name, password_hash, admin FROM accounts").fetch_all(p).await? {
                l.accounts.push(AccountRow { name: r.try_get(0)?, password_hash: r.try_get(1)?, admin: r.try_get(2)? });
            }
            for r in sqlx::query("SELECT token_hash, user_name, created_at FROM sessions WHERE revoked_at IS NULL").fetch_all(p).await? {
                l.sessions.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
            }
            for r in sqlx::query("SELECT scope, key, request_hash, created_at, answer FROM idempotency_records").fetch_all(p).await? {
                l.idempotency.push(IdempotencyRow {
                    scope: r.try_get(0)?,
                    key: r.try_get(1)?,
                    request_hash: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    answer: r.try_get(4)?,
                });
            }
            for r in sqlx::query("SELECT issue, user_name FROM issue_openers").fetch_all(p).await? {
                l.issue_openers.push((r.try_get(0)?, r.try_get(1)?));
            }
            for r in sqlx::query("SELECT key, value FROM meta").fetch_all(p).await? {
                l.meta.push((r.try_get(0)?, r.try_get(1)?));
            }
            let max: Option<i64> = sqlx::query("SELECT MAX(seq) FROM events").fetch_one(p).await?.try_get(0)?;
            l.last_event_seq = max.unwrap_or(0);
            Ok(l)
        })
    }

    /// Commits one batch in one transaction (one fsync on SQLite with synchronous=FULL).
    pub async fn write_batch(&self, b: &BatchWrite) -> anyhow::Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if let Some(epoch) = b.fence {
                // First, so that on PostgreSQL the row lock orders this commit against a new
                // writer's increment.
                let n = sqlx::query("UPDATE writer_epoch SET epoch = epoch WHERE id = 1 AND epoch = $1")
                    .bind(epoch).execute(&mut *tx).await?.rows_affected();
                if n != 1 {
                    tx.rollback().await?;
                    anyhow::bail!("fenced: another process took the writer lock after epoch {epoch}; this one may not commit");
                }
            }
            // Multi-row INSERTs (ROWS_PER_INSERT rows a statement): one statement per table
            // and chunk instead of one per row. Each statement is a round trip to the database
            // (on SQLite, to sqlx's worker thread and back), and under load those round trips,
            // not the fsync, were most of a commit's time. Same rows, same transaction.
            let last = b.commands.len().saturating_sub(1);
            for (n, chunk) in b.commands.chunks(ROWS_PER_INSERT).enumerate() {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO commands (seq, at, body, error, batch_end) ");
                q.push_values(chunk.iter().enumerate(), |mut row, (i, (seq, at, body, error))| {
                    // Replicas apply whole batches only: they stop at the last command of one.
                    let batch_end = n * ROWS_PER_INSERT + i == last;
                    row.push_bind(seq).push_bind(at).push_bind(body).push_bind(error).push_bind(batch_end);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in b.events.chunks(ROWS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO events (seq, command_seq, at, kind, public, issue, maturation, body) ");
                q.push_values(chunk, |mut row, e| {
                    row.push_bind(e.seq).push_bind(e.command_seq).push_bind(e.at).push_bind(&e.kind)
                        .push_bind(e.public).push_bind(&e.issue).push_bind(e.maturation).push_bind(&e.body);
                });
                q.build().execute(&mut *tx).await?;
            }
            let users: Vec<(&String, i64)> = b.events.iter().flat_map(|e| e.users.iter().map(move |u| (u, e.seq))).collect();
            for chunk in users.chunks(ROWS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("INSERT INTO event_users (user_name, event_seq) ");
                q.push_values(chunk, |mut row, (u, seq)| {
                    row.push_bind(*u).push_bind(*seq);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            for (a, at) in &b.accounts {
                sqlx::query("INSERT INTO accounts (name, password_hash, admin, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&a.name).bind(&a.password_hash).bind(a.admin).bind(at).execute(&mut *tx).await?;
            }
            for (hash, user, at) in &b.sessions {
                sqlx::query("INSERT INTO sessions (token_hash, user_name, created_at) VALUES ($1, $2, $3)")
                    .bind(hash).bind(user).bind(at).execute(&mut *tx).await?;
            }
            for (hash, at) in &b.revoked {
                sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1")
                    .bind(hash).bind(at).execute(&mut *tx).await?;
            }
            if let Some(before) = b.prune_idempotency_before {
                sqlx::query("DELETE FROM idempotency_records WHERE created_at < $1")
                    .bind(before).execute(&mut *tx).await?;
            }
            for r in &b.idempotency {
                sqlx::query("INSERT INTO idempotency_records (scope, key, request_hash, created_at, answer) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&r.scope).bind(&r.key).bind(&r.request_hash).bind(r.created_at).bind(&r.answer).execute(&mut *tx).await?;
            }
            for (issue, user) in &b.issue_openers {
                sqlx::query("INSERT INTO issue_openers (issue, user_name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(issue).bind(user).execute(&mut *tx).await?;
            }
            for (key, value) in &b.meta {
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(key).bind(value).execute(&mut *tx).await?;
            }
            if b.changes_state() {
                // Replicas reload accounts, sessions, openers and the clock offset when this moves.
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET value = meta.value + 1")
                    .bind(STATE_VERSION_KEY).execute(&mut *tx).await?;
            }
            if self.backend() == "postgres" && (!b.commands.is_empty() || b.changes_state()) {
                // Wakes the replicas' tails (delivered at commit; a poll covers a lost one).
                sqlx::query("SELECT pg_notify($1, '')").bind(LOG_CHANNEL).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Commands after `after` in log order, at most `limit` (a replica's tail).
    pub async fn log_after(&self, after: i64, limit: i64) -> anyhow::Result<Vec<Tailed>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT seq, body, error, batch_end FROM commands WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(Tailed {
                cmd: LoggedCommand { seq: r.try_get(0)?, body: r.try_get(1)?, error: r.try_get(2)? },
                batch_end: r.try_get(3)?,
            })).collect()
        })
    }

    /// Public events after the cursor `after` that commands up to `upto` emitted, in order.
    pub async fn public_events_upto(&self, after: i64, upto: i64) -> anyhow::Result<Vec<(i64, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT seq, body FROM events WHERE public = $1 AND seq > $2 AND command_seq <= $3 ORDER BY seq")
                .bind(true).bind(after).bind(upto).fetch_all(p).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    /// The last committed command's seq (0 when the log is empty).
    pub async fn head_seq(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => {
            let max: Option<i64> = sqlx::query("SELECT MAX(seq) FROM commands").fetch_one(p).await?.try_get(0)?;
            Ok(max.unwrap_or(0))
        })
    }

    /// The last event's seq that a command up to `upto` emitted (0 when there is none).
    pub async fn last_event_seq_upto(&self, upto: i64) -> anyhow::Result<i64> {
        on_pool!(self, p => {
            let max: Option<i64> = sqlx::query("SELECT MAX(seq) FROM events WHERE command_seq <= $1").bind(upto).fetch_one(p).await?.try_get(0)?;
            Ok(max.unwrap_or(0))
        })
    }

    /// The version of the state outside the command log (accounts, sessions, openers, the
    /// clock offset): it moves with every batch that changes any of it.
    pub async fn state_version(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(STATE_VERSION_KEY).fetch_optional(p).await?;
            Ok(match row { Some(r) => r.try_get(0)?, None => 0 })
        })
    }

    /// The account behind a live (not revoked) session, and when the session was made (on the
    /// server's clock): a replica's look-up of a token its tail has not loaded yet.
    pub async fn session_account(&self, token_hash: &str) -> anyhow::Result<Option<(AccountRow, i64)>> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT a.name, a.password_hash, a.admin, s.created_at FROM sessions s JOIN accounts a ON a.name = s.user_name WHERE s.token_hash = $1 AND s.revoked_at IS NULL")
                .bind(token_hash).fetch_optional(p).await?;
            Ok(match row {
                Some(r) => Some((AccountRow { name: r.try_get(0)?, password_hash: r.try_get(1)?, admin: r.try_get(2)? }, r.try_get(3)?)),
                None => None,
            })
        })
    }

    /// The current writer as it advertised itself: (epoch, address, secret).
    pub async fn leader(&self) -> anyhow::Result<Option<Leader>> {
        on_pool!(self, p => {
            let r = sqlx::query("SELECT epoch, address, secret FROM writer_epoch WHERE id = 1").fetch_one(p).await?;
            let (epoch, address, secret): (i64, Option<String>, Option<String>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            Ok(address.zip(secret).map(|(address, secret)| Leader { epoch, address, secret }))
        })
    }

    /// Records where the writer of `epoch` takes forwarded writes (only while it is current).
    pub async fn advertise(&self, epoch: i64, address: &str, secret: &str) -> anyhow::Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE writer_epoch SET address = $2, secret = $3 WHERE id = 1 AND epoch = $1")
                .bind(epoch).bind(address).bind(secret).execute(p).await?;
            Ok(())
        })
    }

    /// Tries to take the writer lock of a PostgreSQL database without waiting (a replica's
    /// bid to become the writer): on success, runs the migrations and takes the next epoch.
    pub async fn try_writer_lock(&self, url: &str) -> anyhow::Result<Option<WriterLock>> {
        let conn = PgConnection::connect(url).await?;
        match self.try_writer_lock_on(conn).await? {
            Ok(lock) => Ok(Some(lock)),
            Err(conn) => {
                let _ = conn.close().await;
                Ok(None)
            }
        }
    }

    /// [`Store::try_writer_lock`] on a connection the caller keeps between bids (a replica
    /// bids every 200 ms: one connection, not one per bid). Gives the connection back when the
    /// lock is held by another process.
    pub async fn try_writer_lock_on(&self, mut conn: PgConnection) -> anyhow::Result<Result<WriterLock, PgConnection>> {
        let Store::Postgres(pool) = self else { anyhow::bail!("several processes need PostgreSQL") };
        let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(PG_WRITER_LOCK)
            .fetch_one(&mut conn)
            .await?
            .try_get(0)?;
        if !got {
            return Ok(Err(conn));
        }
        let lock = WriterLock { _file: None, _pg: Some(conn), epoch: 0 };
        let migrated = sqlx::migrate!("./migrations").run(pool).await.context("running migrations");
        let epoch = match migrated {
            Ok(()) => self.next_epoch().await,
            Err(e) => Err(e),
        };
        match epoch {
            Ok(epoch) => Ok(Ok(WriterLock { epoch, ..lock })),
            Err(e) => {
                // Released now, not when the server notices the dropped connection.
                lock.release().await;
                Err(e)
            }
        }
    }

    /// How many idempotency records are stored (expired ones are pruned by the writer).
    pub async fn idempotency_count(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) FROM idempotency_records").fetch_one(p).await?.try_get(0)?))
    }

    /// Inserts an account outside the server (`peerex admin create-user`; needs the writer lock).
    pub async fn insert_account(&self, a: &AccountRow, at: i64) -> anyhow::Result<bool> {
        on_pool!(self, p => {
            let done = sqlx::query("INSERT INTO accounts (name, password_hash, admin, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
                .bind(&a.name).bind(&a.password_hash).bind(a.admin).bind(at).execute(p).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Replaces an account's password hash (a rehash at log-in; accounts are not part of the
    /// command log, so this needs no engine command).
    pub async fn set_password_hash(&self, name: &str, password_hash: &str) -> anyhow::Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE accounts SET password_hash = $2 WHERE name = $1")
                .bind(name).bind(password_hash).execute(p).await?;
            Ok(())
        })
    }

    /// Events concerning `user` after the cursor `after`: (cursor, JSON body).
    pub async fn feed(&self, user: &str, after: i64, limit: i64) -> anyhow::Result<Vec<(i64, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT e.seq, e.body FROM event_users u JOIN events e ON e.seq = u.event_seq WHERE u.user_name = $1 AND u.event_seq > $2 ORDER BY u.event_seq LIMIT $3")
                .bind(user).bind(after).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    /// The latest `limit` events concerning `user`, newest first (the web UI's "my events").
    pub async fn feed_latest(&self, user: &str, limit: i64) -> anyhow::Result<Vec<(i64, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT e.seq, e.body FROM event_users u JOIN events e ON e.seq = u.event_seq WHERE u.user_name = $1 ORDER BY u.event_seq DESC LIMIT $2")
                .bind(user).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    /// Trades of one series after a cursor: (cursor, JSON body).
    pub async fn trades(
        &self,
        issue: &str,
        maturation: i64,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<(i64, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT seq, body FROM events WHERE issue = $1 AND maturation = $2 AND kind = 'traded' AND seq > $3 ORDER BY seq LIMIT $4")
                .bind(issue).bind(maturation).bind(after).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    /// Public events after a cursor (catch-up for the live stream).
    pub async fn public_events(&self, after: i64, limit: i64) -> anyhow::Result<Vec<(i64, String)>> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT seq, body FROM events WHERE public = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                .bind(true).bind(after).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    /// The cursor of the last committed public event (0 when there is none): where a live
    /// stream that gave no cursor starts.
    pub async fn last_public_event(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => {
            // Walks the primary key backwards to the newest public event (no scan).
            let row = sqlx::query("SELECT seq FROM events WHERE public = $1 ORDER BY seq DESC LIMIT 1")
                .bind(true).fetch_optional(p).await?;
            Ok(match row { Some(r) => r.try_get(0)?, None => 0 })
        })
    }

    /// Number of stored events that commands up to `upto` emitted (checked against a replay by
    /// `peerex check`; bounded by the log it read, so a writer committing meanwhile is no mismatch).
    pub async fn event_count_upto(&self, upto: i64) -> anyhow::Result<i64> {
        on_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) FROM events WHERE command_seq <= $1").bind(upto).fetch_one(p).await?.try_get(0)?))
    }

    /// Number of stored events of commands after `upto`.
    pub async fn event_count_after(&self, upto: i64) -> anyhow::Result<i64> {
        on_pool!(self, p => Ok(sqlx::query("SELECT COUNT(*) FROM events WHERE command_seq > $1").bind(upto).fetch_one(p).await?.try_get(0)?))
    }

    /// Increments the writer epoch (on taking the writer lock) and returns the new one.
    async fn next_epoch(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => Ok(sqlx::query("UPDATE writer_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
            .fetch_one(p).await.context("taking the writer epoch")?.try_get(0)?))
    }

    /// The current writer epoch.
    pub async fn epoch(&self) -> anyhow::Result<i64> {
        on_pool!(self, p => Ok(sqlx::query("SELECT epoch FROM writer_epoch WHERE id = 1").fetch_one(p).await?.try_get(0)?))
    }

    /// Whether the database answers (health check).
    pub async fn ping(&self) -> bool {
        on_pool!(self, p => sqlx::query("SELECT 1").fetch_one(p).await.is_ok())
    }
}

async fn open_sqlite(dir: &Path, writer: bool) -> anyhow::Result<(Store, Option<WriterLock>)> {
    let db_path = dir.join("peerex.db");
    let lock = if writer {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        Some(WriterLock { _file: Some(lock_file(&dir.join("peerex.lock"))?), _pg: None, epoch: 0 })
    } else {
        if !db_path.exists() {
            anyhow::bail!("no peerex database in {}", dir.display());
        }
        None
    };
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", db_path.display()))?
        .create_if_missing(writer)
        .read_only(!writer)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk (WAL fsynced) before it returns; acknowledged means durable.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
    let store = Store::Sqlite(pool.clone());
    let mut lock = lock;
    if let Some(l) = lock.as_mut() {
        sqlx::migrate!("./migrations").run(&pool).await.context("running migrations")?;
        l.epoch = store.next_epoch().await?;
    }
    Ok((store, lock))
}

/// Deletes the SQLite database in `dir` (the demo's, made anew at each start), under the writer
/// lock: refused while another process serves it.
pub fn reset_sqlite(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let _lock = lock_file(&dir.join("peerex.lock"))?;
    for file in ["peerex.db", "peerex.db-wal", "peerex.db-shm"] {
        match std::fs::remove_file(dir.join(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                anyhow::bail!("removing {}: {e}", dir.join(file).display())
            }
            _ => {}
        }
    }
    Ok(())
}

/// An exclusive, non-blocking `flock` that the kernel releases when the process dies.
fn lock_file(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        anyhow::bail!("another peerex process is writing to {} (lock {} is held)", path.display(), path.display());
    }
    Ok(file)
}

async fn open_postgres(url: &str, writer: bool) -> anyhow::Result<(Store, Option<WriterLock>)> {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .context("connecting to PostgreSQL")?;
    let store = Store::Postgres(pool);
    let lock = if writer {
        // Taking the next epoch waits for a commit of the previous writer still in flight (it
        // holds the epoch row), so the log loaded after this includes it; later ones are fenced.
        match store.try_writer_lock(url).await? {
            Some(lock) => Some(lock),
            None => anyhow::bail!(
                "another peerex process is the writer of this PostgreSQL database (advisory lock held); \
                 run several with --cluster"
            ),
        }
    } else {
        None
    };
    Ok((store, lock))
}
