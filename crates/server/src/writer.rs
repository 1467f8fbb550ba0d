//! The single writer. Requests arrive over a bounded queue; the writer drains whatever is
//! waiting (up to `batch_max`), stamps each command with `max(clock, last time)`, applies them in
//! order to its own engine, writes the whole batch in ONE transaction (group commit: one fsync
//! for the batch), and only then applies the same commands to the readers' engine and answers.
//! The engine is deterministic, so the second application gives the same state. While a
//! snapshot is encoded from the readers' engine (snapshot_task.rs), committed batches are
//! answered at once but wait for that engine, and are applied in order when it is done; the
//! users who wrote them read through [`Shared::unread_write`], so each still reads its own
//! writes.
//!
//! The writer speaks the domain: it takes an [`Action`] and answers an [`Outcome`] (the command's
//! place in the log, the view of the state right after it, built by [`crate::views`], and its
//! events) or a typed [`WriteError`]. It knows no status codes and no JSON bodies: those are
//! made in `http/` (and in the web UI) from the outcome.
//!
//! If a commit fails, the writer's engine is ahead of the database: it stops, marks the server
//! unhealthy and the process exits, so a restart rebuilds from what is durable.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use peerex_engine::{Command, Engine, EngineError, Op, Timed, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::accounts::AccountChange;
use crate::clock::{Clock, OFFSET_KEY};
use crate::shared::Shared;
use crate::snapshot_task::{self, Snapshots};
use crate::store::{AccountRow, BatchWrite, EventRow, IdempotencyRow, Store};
use crate::views::{self, After, BatchItemView, BatchView, View};

/// What a caller asks the writer to do (a replica forwards it as JSON: `crate::forward`).
#[derive(Debug, Serialize, Deserialize)]
pub enum Action {
    /// An engine operation. `actor` is the authenticated user (recorded as issue opener).
    /// An `offer` (or market `trade`) with an empty id gets the id `o<seq>` (`t<seq>`).
    /// `view` names the view of the state right after the command to answer with.
    Engine {
        op: Op,
        actor: Option<String>,
        view: After,
    },
    /// Engine operations of one user (`actor`), applied in order in the same commit, each with
    /// its own result ([`View::Batch`]). `atomic`: the first refusal undoes the operations
    /// before it and refuses the whole batch (its error names the command), nothing logged;
    /// refused with [`WriteError::AtomicPaused`] while refused atomic batches have used their
    /// share of the writer ([`UndoBudget`]).
    Batch {
        items: Vec<(Op, After)>,
        actor: String,
        atomic: bool,
    },
    /// A new account (answers [`View::Account`]); refused with [`WriteError::NameTaken`].
    CreateAccount {
        row: AccountRow,
    },
    CreateSession {
        token_hash: String,
        user: String,
    },
    RevokeSession {
        token_hash: String,
    },
    /// Sandbox: move the clock forward to `to` and apply what is due (answers
    /// [`View::ClockMoved`]).
    SetClock {
        to: Timestamp,
    },
}

impl Action {
    /// An engine operation answered with `view`.
    pub fn engine(op: Op, actor: Option<&str>, view: After) -> Action {
        Action::Engine { op, actor: actor.map(str::to_owned), view }
    }

    /// The user who asks (and will read what it wrote), if any.
    pub fn actor(&self) -> Option<&str> {
        match self {
            Action::Engine { actor, .. } => actor.as_deref(),
            Action::Batch { actor, .. } => Some(actor),
            Action::CreateAccount { row } => Some(&row.name),
            Action::CreateSession { user, .. } => Some(user),
            Action::RevokeSession { .. } | Action::SetClock { .. } => None,
        }
    }
}

/// What an applied action produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The command's place in the log; `None` when nothing was logged (account actions, a tick
    /// that found nothing due, an idempotent retry).
    pub seq: Option<i64>,
    /// The view of the state right after the action, if the caller asked for one.
    pub view: Option<View>,
    /// The events the command emitted (empty for a retry).
    pub events: Vec<Timed>,
    /// An Idempotency-Key retry answered with the first outcome's recorded view.
    pub replayed: bool,
}

/// Why an action was refused or not carried out. Refusals change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum WriteError {
    /// The engine refused the command: its stable code, message and class (an HTTP-style
    /// number from [`EngineError::status`]: 400 bad input, 404 unknown, 409 conflict, 422 rule).
    #[error("{message}")]
    Engine { code: String, message: String, class: u16 },
    #[error("the name {0:?} is taken")]
    NameTaken(String),
    /// The same Idempotency-Key came with a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// The queue to the writer is full.
    #[error("the server is busy; retry shortly")]
    Busy,
    /// The writer has stopped (after a failed commit); the server must restart.
    #[error("the writer stopped; the server must restart")]
    Unavailable,
    /// The database refused the commit; the writer stops.
    #[error("the database refused the commit")]
    Storage,
    /// In a cluster: no process is the writer right now (it died, lost its lock, or is being
    /// replaced), or it could not be reached. Retry shortly, with the same Idempotency-Key.
    #[error(
        "no writer is reachable right now (a failover may be under way); retry shortly with the same Idempotency-Key"
    )]
    NoWriter,
    /// All-or-nothing batches are paused for this many seconds: undoing refused ones used the
    /// writer's share for them ([`UndoBudget`]). Not recorded under an Idempotency-Key.
    #[error("all-or-nothing batches are paused for {0} s (refused ones used their share of the writer); retry then, or send the batch without `atomic`")]
    AtomicPaused(u64),
}

impl From<&EngineError> for WriteError {
    fn from(e: &EngineError) -> WriteError {
        WriteError::Engine { code: e.code().to_owned(), message: e.message(), class: e.status() }
    }
}

impl WriteError {
    /// The stable machine code.
    pub fn code(&self) -> &str {
        match self {
            WriteError::Engine { code, .. } => code,
            WriteError::NameTaken(_) => "name_taken",
            WriteError::IdempotencyKeyReused => "idempotency_key_reused",
            WriteError::Busy | WriteError::AtomicPaused(_) => "busy",
            WriteError::Unavailable => "unavailable",
            WriteError::Storage => "storage_failure",
            WriteError::NoWriter => "writer_unavailable",
        }
    }
}

pub type WriteResult = Result<Outcome, WriteError>;

/// An Idempotency-Key, scoped to its caller, with a hash of the request it came with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idempotency {
    pub scope: String,
    pub key: String,
    /// A hash of the request (method, path, body): a retry must send the same request.
    pub request_hash: String,
}

pub struct Request {
    pub action: Action,
    pub idempotency: Option<Idempotency>,
    pub reply: oneshot::Sender<WriteResult>,
    pub enqueued: Instant,
}

/// The first answer to a request that carried an Idempotency-Key, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub request_hash: String,
    /// Wall-clock milliseconds when it was recorded (records expire).
    pub created_at: i64,
    /// The view answered (its JSON), or the refusal.
    pub answer: Result<Option<Value>, WriteError>,
}

impl Recorded {
    fn replay(&self) -> WriteResult {
        match &self.answer {
            Ok(view) => {
                Ok(Outcome { seq: None, view: view.clone().map(View::Recorded), events: Vec::new(), replayed: true })
            }
            Err(e) => Err(e.clone()),
        }
    }

    /// The stored form (one row of the `idempotency_records` table).
    pub fn to_row(&self, scope: &str, key: &str) -> IdempotencyRow {
        IdempotencyRow {
            scope: scope.to_owned(),
            key: key.to_owned(),
            request_hash: self.request_hash.clone(),
            created_at: self.created_at,
            answer: serde_json::to_string(&self.answer).unwrap_or_else(|_| "null".into()),
        }
    }

    /// A stored row back (`None` if it does not parse: the record is then dropped).
    pub fn from_row(row: &IdempotencyRow) -> Option<Recorded> {
        let answer = serde_json::from_str(&row.answer).ok()?;
        Some(Recorded { request_hash: row.request_hash.clone(), created_at: row.created_at, answer })
    }
}

/// Idempotency records in memory, oldest first for expiry.
#[derive(Debug, Default)]
pub struct IdempotencyRecords {
    map: HashMap<(String, String), Recorded>,
    order: VecDeque<(i64, (String, String))>,
    /// Records older than this are dropped.
    ttl: Duration,
    /// Whether the database has been pruned since the start.
    pruned_once: bool,
}

impl IdempotencyRecords {
    pub fn new(ttl: Duration, rows: &[IdempotencyRow]) -> IdempotencyRecords {
        let mut r = IdempotencyRecords { ttl, ..Default::default() };
        let mut rows: Vec<&IdempotencyRow> = rows.iter().collect();
        rows.sort_by_key(|x| x.created_at);
        for row in rows {
            if let Some(rec) = Recorded::from_row(row) {
                r.insert((row.scope.clone(), row.key.clone()), rec);
            }
        }
        r
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn insert(&mut self, key: (String, String), rec: Recorded) {
        self.order.push_back((rec.created_at, key.clone()));
        self.map.insert(key, rec);
    }

    /// Drops records older than the TTL; returns the cutoff when the database should be pruned
    /// too (something expired, or the first batch since the start).
    fn expire(&mut self, now_ms: i64) -> Option<i64> {
        let cutoff = now_ms.saturating_sub(i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX));
        let mut expired = false;
        while let Some((at, _)) = self.order.front() {
            if *at >= cutoff {
                break;
            }
            if let Some((at, key)) = self.order.pop_front() {
                if self.map.get(&key).is_some_and(|r| r.created_at == at) {
                    self.map.remove(&key);
                    expired = true;
                }
            }
        }
        if expired || !self.pruned_once {
            self.pruned_once = true;
            Some(cutoff)
        } else {
            None
        }
    }
}

pub struct Writer {
    pub engine: Engine,
    pub shared: Arc<Shared>,
    pub store: Store,
    pub next_seq: i64,
    pub next_event_seq: i64,
    pub last_at: Option<Timestamp>,
    pub idempotency: IdempotencyRecords,
    pub batch_max: usize,
    /// The writer epoch of this process's lock: every batch commits fenced by it.
    pub fence: Option<i64>,
    /// When to write the next snapshot of the engine (snapshot_task.rs).
    pub snapshots: Snapshots,
    /// Committed batches not yet applied to the readers' engine (already answered): a
    /// snapshot is reading it.
    pub held: Held,
    /// How much time undoing refused all-or-nothing batches may take.
    pub undo: UndoBudget,
}

/// The writer's time for undoing refused all-or-nothing batches. Undoing one rebuilds the
/// writer's engine from the readers' (a copy of the whole engine: seconds at 10 M offers,
/// docs/benchmarks.md) while every other request waits, so a user sending atomic batches
/// that fail on purpose could otherwise occupy the writer. The budget refills at a tenth of
/// the wall-clock time, up to `atomic_undo_ms` (one second by default); while it is spent (below zero after an undo),
/// atomic batches are refused before they start ([`WriteError::AtomicPaused`]). So refused
/// atomic batches take about a tenth of the writer's time at most, whoever sends them; the
/// batches that apply cost nothing extra, and plain batches are never paused.
#[derive(Debug)]
pub struct UndoBudget {
    /// Microseconds left (negative: owed).
    left: i64,
    /// The most that accrues (`Settings::atomic_undo`).
    cap: i64,
    at: Instant,
}

impl UndoBudget {
    /// One tenth of the time.
    const SHARE: i64 = 10;

    /// A full budget of `cap` (0: no undo time, so every all-or-nothing batch waits).
    pub fn new(now: Instant, cap: Duration) -> UndoBudget {
        let cap = i64::try_from(cap.as_micros()).unwrap_or(i64::MAX);
        UndoBudget { left: cap, cap, at: now }
    }

    /// Ok while some budget is left; Err(whole seconds until there is).
    pub fn check(&mut self, now: Instant) -> Result<(), u64> {
        let earned =
            i64::try_from(now.saturating_duration_since(self.at).as_micros()).unwrap_or(i64::MAX) / Self::SHARE;
        self.left = self.left.saturating_add(earned).min(self.cap);
        self.at = self.at.max(now);
        if self.left > 0 {
            return Ok(());
        }
        // Until the budget is above zero again.
        let wait_us = u64::try_from((1 - self.left).saturating_mul(Self::SHARE)).unwrap_or(u64::MAX);
        Err(wait_us.div_ceil(1_000_000).max(1))
    }

    /// An undo took `d`.
    pub fn spend(&mut self, d: Duration) {
        self.left = self.left.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    }
}

/// Committed batches waiting for the readers' engine, in commit order.
#[derive(Default)]
pub struct Held(Vec<Pending>);

/// What one batch produced, applied to shared state after its commit.
#[derive(Default)]
struct Pending {
    write: BatchWrite,
    commands: Vec<Command>,
    accounts: Vec<AccountChange>,
    names: HashSet<String>,
    /// Who asked for the batch's actions (whose reads wait for it while it is held).
    actors: Vec<String>,
    public: Vec<(i64, String)>,
    replies: Vec<(oneshot::Sender<WriteResult>, WriteResult, Instant)>,
    applied: u64,
    refused: u64,
}

impl Writer {
    pub async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.batch_max);
        loop {
            let received = tokio::select! {
                n = rx.recv_many(&mut batch, self.batch_max) => Some(n),
                () = self.snapshots.encoded() => None,
            };
            match received {
                Some(0) => break,
                Some(_) => {
                    if !self.process(&mut batch).await {
                        break;
                    }
                }
                None => {
                    self.release();
                    self.snapshot_if_due();
                }
            }
        }
        // What committed is applied and answered before the writer goes.
        if self.snapshots.encoding() {
            self.snapshots.encoded().await;
        }
        self.release();
        tracing::info!("writer stopped");
    }

    /// After a commit: account changes hold at once (a session made now works on the next
    /// request); the batch goes to the readers' engine and is answered now, or, while a
    /// snapshot is reading that engine, is answered now and goes to it after the snapshot. Its
    /// users' own reads wait for it meanwhile ([`Shared::unread_write`]); other reads go on.
    fn committed(&mut self, mut p: Pending) {
        if !p.accounts.is_empty() {
            let mut accounts = self.shared.accounts_mut();
            for c in p.accounts.drain(..) {
                accounts.apply(c);
            }
        }
        let last = p.write.commands.last().map(|c| c.0);
        if let Some(seq) = last {
            self.shared.cluster.set_head(seq);
        }
        if self.snapshots.encoding() {
            if let Some(seq) = last {
                // Before the answers: a read that follows one must find its seq.
                self.shared.writes_unread(p.actors.iter().map(String::as_str), seq);
            }
            self.answer(&mut p);
            self.held.0.push(p);
            return;
        }
        self.held.0.push(p);
        self.release();
        self.snapshot_if_due();
    }

    /// Applies the held batches to the readers' engine (answering those not answered yet), in
    /// commit order.
    fn release(&mut self) {
        for p in std::mem::take(&mut self.held.0) {
            self.publish(p);
        }
        self.shared.writes_read();
    }

    /// With every committed batch applied to the readers' engine: starts a snapshot of it if
    /// one is due.
    fn snapshot_if_due(&mut self) {
        let at = snapshot_task::At {
            seq: self.next_seq - 1,
            last_at: self.last_at,
            events: (self.next_event_seq - 1) as u64,
        };
        self.snapshots.committed(&self.store, &self.shared, at);
    }

    /// Handles one batch; false when the writer must stop.
    async fn process(&mut self, batch: &mut Vec<Request>) -> bool {
        let mut p = Pending::default();
        p.write.fence = self.fence;
        let now_ms = Clock::wall_ms();
        p.write.prune_idempotency_before = self.idempotency.expire(now_ms);
        for req in batch.drain(..) {
            let key = req.idempotency.map(|i| ((i.scope, i.key), i.request_hash));
            if let Some((k, hash)) = &key {
                if let Some(first) = self.idempotency.map.get(k) {
                    let answer = if first.request_hash == *hash {
                        first.replay()
                    } else {
                        Err(WriteError::IdempotencyKeyReused)
                    };
                    p.replies.push((req.reply, answer, req.enqueued));
                    continue;
                }
            }
            if let Some(actor) = req.action.actor() {
                p.actors.push(actor.to_owned());
            }
            let result = self.handle(req.action, &mut p);
            // A pause is not the request's answer: a retry with the same key may apply it.
            let key = key.filter(|_| !matches!(result, Err(WriteError::AtomicPaused(_))));
            if let Some((k, request_hash)) = key {
                let answer = match &result {
                    Ok(o) => Ok(o.view.as_ref().and_then(|v| serde_json::to_value(v).ok())),
                    Err(e) => Err(e.clone()),
                };
                let rec = Recorded { request_hash, created_at: now_ms, answer };
                p.write.idempotency.push(rec.to_row(&k.0, &k.1));
                self.idempotency.insert(k, rec);
            }
            p.replies.push((req.reply, result, req.enqueued));
        }

        let started = Instant::now();
        if let Err(e) = self.store.write_batch(&p.write).await {
            // In a cluster the process steps down to a replica (`crate::replica`): the readers'
            // engine holds only what committed, and the log tells whether this batch did. A
            // client retries with its Idempotency-Key, through any process.
            let clustered = self.shared.cluster.enabled;
            if clustered {
                tracing::warn!("commit failed, this process stops being the writer: {e:#}");
            } else {
                tracing::error!("commit failed, stopping the writer: {e:#}");
                self.shared.healthy.store(false, Ordering::SeqCst);
            }
            let error = if clustered { WriteError::NoWriter } else { WriteError::Storage };
            for (tx, _, _) in p.replies {
                let _ = tx.send(Err(error.clone()));
            }
            return false;
        }
        let m = &self.shared.metrics;
        if !p.write.is_empty() {
            m.commit_latency.observe(started.elapsed());
            m.batches.fetch_add(1, Ordering::Relaxed);
        }
        self.committed(p);
        true
    }

    /// After the commit: readers' engine, live stream, metrics, answers.
    fn publish(&self, mut p: Pending) {
        let last = p.write.commands.last().map(|c| c.0);
        if !p.commands.is_empty() {
            apply_logged(&mut self.shared.engine_mut(), std::mem::take(&mut p.commands));
        }
        if let Some(seq) = last {
            self.shared.cluster.set_applied(seq);
        }
        for e in std::mem::take(&mut p.public) {
            let _ = self.shared.public_events.send(Arc::new(e));
        }
        let m = &self.shared.metrics;
        m.commands_applied.fetch_add(p.applied, Ordering::Relaxed);
        m.commands_refused.fetch_add(p.refused, Ordering::Relaxed);
        self.answer(&mut p);
    }

    /// Sends the batch's answers (once).
    fn answer(&self, p: &mut Pending) {
        let m = &self.shared.metrics;
        for (tx, result, enqueued) in p.replies.drain(..) {
            m.command_latency.observe(enqueued.elapsed());
            let _ = tx.send(result);
        }
    }

    fn handle(&mut self, action: Action, p: &mut Pending) -> WriteResult {
        let done = |view: Option<View>| Ok(Outcome { seq: None, view, events: Vec::new(), replayed: false });
        match action {
            Action::Engine { op, actor, view } => self.apply_op(op, actor, &view, p),
            Action::Batch { items, actor, atomic } => self.apply_batch(items, &actor, atomic, p),
            Action::CreateAccount { row } => {
                // Names of this batch and of committed ones (accounts hold at commit).
                let taken = p.names.contains(&row.name) || self.shared.accounts().users.contains_key(&row.name);
                if taken {
                    return Err(WriteError::NameTaken(row.name));
                }
                p.names.insert(row.name.clone());
                p.write.accounts.push((row.clone(), self.shared.clock.now().millis()));
                let view = View::Account(views::AccountView { name: row.name.clone(), admin: row.admin });
                let name = row.name.clone();
                p.accounts.push(AccountChange::User(row));
                // The exchange knows the user at once, with 0 credits (a user created earlier
                // by a deposit is refused as a duplicate, which changes nothing).
                let known = self.engine.user_id(&name).is_some();
                if !known {
                    self.apply_op(Op::CreateUser { user: name }, None, &After::Nothing, p)?;
                }
                done(Some(view))
            }
            Action::CreateSession { token_hash, user } => {
                p.write.sessions.push((token_hash.clone(), user.clone(), self.shared.clock.now().millis()));
                p.accounts.push(AccountChange::Session { token_hash, user });
                done(None)
            }
            Action::RevokeSession { token_hash } => {
                p.write.revoked.push((token_hash.clone(), self.shared.clock.now().millis()));
                p.accounts.push(AccountChange::Revoke { token_hash });
                done(None)
            }
            Action::SetClock { to } => {
                let offset = self.shared.clock.advance_to(to);
                p.write.meta.push((OFFSET_KEY.to_owned(), offset));
                self.apply_op(Op::Tick {}, None, &After::ClockMoved, p)
            }
        }
    }

    fn apply_op(&mut self, mut op: Op, actor: Option<String>, view: &After, p: &mut Pending) -> WriteResult {
        let seq = self.next_seq;
        match &mut op {
            Op::Offer(o) if o.id.is_empty() => o.id = format!("o{seq}"),
            Op::Trade(t) if t.id.is_empty() => t.id = format!("t{seq}"),
            _ => {}
        }
        // Never behind the engine's clock, even if the wall clock stepped back or the last
        // command (a tick that found nothing due) was not logged.
        let now = self.shared.clock.now();
        let floor = self.engine.now().max(self.last_at);
        let at = floor.map_or(now, |last| last.max(now));
        let is_tick = matches!(op, Op::Tick {});
        let opened = match (&op, &actor) {
            (Op::OpenIssue { issue, .. }, Some(user)) => Some((issue.clone(), user.clone())),
            _ => None,
        };
        let cmd = Command::new(at, op);
        let mut out = Vec::new();
        let result = self.engine.apply(cmd.clone(), &mut out);
        // A refused command is logged only if moving the clock emitted events; a tick that
        // found nothing due changes nothing durable.
        let persist = (result.is_ok() && !is_tick) || !out.is_empty();
        if persist {
            self.next_seq += 1;
            self.last_at = Some(at);
            let error = result.as_ref().err().map(|e| e.code().to_owned());
            p.write.commands.push((seq, at.millis(), cmd.to_json(), error));
            for t in &out {
                let row = self.event_row(seq, t);
                if row.public {
                    p.public.push((row.seq, row.body.clone()));
                }
                p.write.events.push(row);
            }
            p.commands.push(cmd);
        }
        match &result {
            Ok(()) => p.applied += 1,
            Err(_) => p.refused += 1,
        }
        if let (Ok(()), Some((issue, user))) = (&result, opened) {
            p.write.issue_openers.push((issue.clone(), user.clone()));
            p.accounts.push(AccountChange::Opener { issue, user });
        }
        match result {
            Ok(()) => {
                let view = views::after(&self.engine, view, &out);
                Ok(Outcome { seq: persist.then_some(seq), view, events: out, replayed: false })
            }
            Err(e) => Err(WriteError::from(&e)),
        }
    }

    fn apply_batch(&mut self, items: Vec<(Op, After)>, actor: &str, atomic: bool, p: &mut Pending) -> WriteResult {
        // All-or-nothing: where the batch started in the pending commit. Nothing is copied
        // before; a refusal rebuilds the engine (`undo`), within the budget for that.
        let mark = if atomic {
            self.undo.check(Instant::now()).map_err(WriteError::AtomicPaused)?;
            Some(Mark::of(self, p))
        } else {
            None
        };
        let (mut results, mut events, mut last) = (Vec::with_capacity(items.len()), Vec::new(), None);
        let (mut applied, mut refused) = (0, 0);
        for (i, (op, after)) in items.into_iter().enumerate() {
            match self.apply_op(op, Some(actor.to_owned()), &after, p) {
                Ok(o) => {
                    applied += 1;
                    last = o.seq.or(last);
                    events.extend(o.events);
                    results.push(BatchItemView { ok: true, seq: o.seq, view: o.view, code: None, message: None });
                }
                Err(e) => {
                    if let Some(mark) = mark {
                        self.undo(mark, p);
                        return Err(match e {
                            WriteError::Engine { code, message, class } => WriteError::Engine {
                                code,
                                message: format!("command {i} of the batch: {message}"),
                                class,
                            },
                            other => other,
                        });
                    }
                    refused += 1;
                    let (code, message) = (e.code().to_owned(), e.to_string());
                    results.push(BatchItemView {
                        ok: false,
                        seq: None,
                        view: None,
                        code: Some(code),
                        message: Some(message),
                    });
                }
            }
        }
        let view = View::Batch(Box::new(BatchView { atomic, applied, refused, results }));
        Ok(Outcome { seq: last, view: Some(view), events, replayed: false })
    }

    /// Takes the writer back to `mark`: its engine is rebuilt as the readers will have it
    /// before this batch (their engine, then the commands of the committed batches held back
    /// for a snapshot and those of the pending commit before the mark, in log order; the
    /// engine is deterministic), and the pending commit loses what the batch added. The time
    /// it took is spent from the budget.
    fn undo(&mut self, mark: Mark, p: &mut Pending) {
        let started = Instant::now();
        let mut engine = self.shared.engine().clone();
        let held = self.held.0.iter().flat_map(|h| h.commands.iter());
        apply_logged(&mut engine, held.chain(p.commands.iter().take(mark.commands())).cloned());
        self.engine = engine;
        mark.restore(self, p);
        self.undo.spend(started.elapsed());
        self.shared.metrics.atomic_undone.fetch_add(1, Ordering::Relaxed);
    }

    fn event_row(&mut self, command_seq: i64, t: &Timed) -> EventRow {
        let seq = self.next_event_seq;
        self.next_event_seq += 1;
        let body = self.engine.render_event(t);
        let kind = body.get("type").and_then(Value::as_str).unwrap_or("event").to_owned();
        let issue = body.get("issue").and_then(Value::as_str).map(str::to_owned);
        let maturation = body
            .get("maturation")
            .and_then(Value::as_str)
            .and_then(|m| Timestamp::parse(m).ok())
            .map(Timestamp::millis);
        let mut users: Vec<String> = t.event.users().map(|u| self.engine.user_name(u).to_owned()).collect();
        users.dedup();
        let mut body = body;
        if let Value::Object(m) = &mut body {
            m.insert("cursor".into(), json!(seq));
        }
        EventRow {
            seq,
            command_seq,
            at: t.at.millis(),
            kind,
            public: t.event.is_public(),
            issue,
            maturation,
            body: body.to_string(),
            users,
        }
    }
}

/// Applies commands the writer applied and logged to another engine (the readers', or one
/// rebuilt by [`Writer::undo`]): the same commands give the same state, refusals included.
fn apply_logged(engine: &mut Engine, commands: impl IntoIterator<Item = Command>) {
    let mut scratch = Vec::new();
    for cmd in commands {
        scratch.clear();
        let _ = engine.apply(cmd, &mut scratch);
    }
}

/// Where an all-or-nothing batch started: the writer's counters and how much of the pending
/// commit was there before it (the engine is rebuilt: [`Writer::undo`]).
struct Mark {
    next_seq: i64,
    next_event_seq: i64,
    last_at: Option<Timestamp>,
    lens: [usize; 6],
    counts: (u64, u64),
}

impl Mark {
    fn of(w: &Writer, p: &Pending) -> Mark {
        Mark {
            next_seq: w.next_seq,
            next_event_seq: w.next_event_seq,
            last_at: w.last_at,
            lens: [
                p.write.commands.len(),
                p.write.events.len(),
                p.write.issue_openers.len(),
                p.commands.len(),
                p.accounts.len(),
                p.public.len(),
            ],
            counts: (p.applied, p.refused),
        }
    }

    /// Commands of the pending commit before the batch.
    fn commands(&self) -> usize {
        self.lens[3]
    }

    fn restore(self, w: &mut Writer, p: &mut Pending) {
        (w.next_seq, w.next_event_seq, w.last_at) = (self.next_seq, self.next_event_seq, self.last_at);
        let [commands, events, openers, cmds, accounts, public] = self.lens;
        p.write.commands.truncate(commands);
        p.write.events.truncate(events);
        p.write.issue_openers.truncate(openers);
        p.commands.truncate(cmds);
        p.accounts.truncate(accounts);
        p.public.truncate(public);
        (p.applied, p.refused) = self.counts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refused atomic batches get a tenth of the writer's time: an undo of 1.5 s (a copy of a
    /// 10 M-offer engine) pauses them until a tenth of the time since pays it back; the budget
    /// refills to one second at most; a clock that steps back earns nothing.
    #[test]
    fn undos_get_a_tenth_of_the_time_and_at_most_a_second_ahead() {
        let t0 = Instant::now();
        let secs = |s: u64| t0 + Duration::from_secs(s);
        let mut b = UndoBudget::new(t0, Duration::from_secs(1));
        assert_eq!(b.check(t0), Ok(()));
        b.spend(Duration::from_millis(1_500));
        // 0.5 s owed: 5 s (and 10 µs) to earn it back.
        assert_eq!(b.check(t0), Err(6));
        assert_eq!(b.check(secs(5)), Err(1), "at zero, nothing is left yet");
        assert_eq!(b.check(secs(5) + Duration::from_millis(1)), Ok(()));
        // An hour later the budget is one second, not 360.
        assert_eq!(b.check(secs(3_600)), Ok(()));
        b.spend(Duration::from_millis(600));
        assert_eq!(b.check(secs(3_600)), Ok(()));
        b.spend(Duration::from_millis(600));
        assert_eq!(b.check(secs(3_600)), Err(3), "0.2 s owed");
        assert_eq!(b.check(secs(10)), Err(3), "the clock went back: nothing earned");
        assert_eq!(b.check(secs(3_602) + Duration::from_millis(1)), Ok(()));
    }

    /// A budget of 0 (`atomic_undo_ms = 0`) turns every all-or-nothing batch away; a smaller
    /// budget refills only to its own size.
    #[test]
    fn a_budget_of_zero_pauses_every_atomic_batch() {
        let t0 = Instant::now();
        let mut none = UndoBudget::new(t0, Duration::ZERO);
        assert_eq!(none.check(t0), Err(1));
        assert_eq!(none.check(t0 + Duration::from_secs(3_600)), Err(1), "nothing ever accrues");
        let mut small = UndoBudget::new(t0, Duration::from_millis(100));
        small.spend(Duration::from_millis(150));
        assert_eq!(small.check(t0 + Duration::from_secs(3_600)), Ok(()));
        small.spend(Duration::from_millis(150));
        assert_eq!(small.check(t0 + Duration::from_secs(3_600)), Err(1), "refilled to 0.1 s, not more");
    }

    #[test]
    fn records_expire_oldest_first_and_ask_for_one_prune_at_start() {
        let rec = |at| Recorded { request_hash: "h".into(), created_at: at, answer: Ok(None) };
        let mut r = IdempotencyRecords::new(Duration::from_millis(100), &[]);
        r.insert(("u".into(), "a".into()), rec(1_000));
        r.insert(("u".into(), "b".into()), rec(1_050));
        assert_eq!(r.expire(1_090), Some(990), "the first batch prunes the database once");
        assert_eq!(r.len(), 2);
        assert_eq!(r.expire(1_095), None, "nothing expired, nothing to prune");
        assert_eq!(r.expire(1_120), Some(1_020));
        assert_eq!(r.len(), 1, "only the older record expired");
        assert_eq!(r.expire(2_000), Some(1_900));
        assert!(r.is_empty());
    }

    #[test]
    fn recorded_answers_round_trip_through_their_row() {
        let err = Recorded {
            request_hash: "h".into(),
            created_at: 7,
            answer: Err(WriteError::Engine { code: "insufficient_funds".into(), message: "m".into(), class: 422 }),
        };
        let ok = Recorded { request_hash: "h".into(), created_at: 8, answer: Ok(Some(json!({"id": "o1"}))) };
        for r in [err, ok] {
            assert_eq!(Recorded::from_row(&r.to_row("s", "k")), Some(r));
        }
    }
}
