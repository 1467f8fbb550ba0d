//! The single writer. Requests arrive over a bounded queue; the writer drains whatever is
//! waiting (up to `batch_max`), stamps each command with `max(clock, last time)`, applies them in
//! order to its own engine, writes the whole batch in ONE transaction (group commit: one fsync
//! for the batch), and only then applies the same commands to the readers' engine and answers.
//! The engine is deterministic, so the second application gives the same state.
//!
//! If a commit fails, the writer's engine is ahead of the database: it stops, marks the server
//! unhealthy and the process exits, so a restart rebuilds from what is durable.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use peerex_engine::{Command, Engine, EngineResult, Op, Timed, Timestamp};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::accounts::AccountChange;
use crate::clock::OFFSET_KEY;
use crate::state::Shared;
use crate::store::{AccountRow, BatchWrite, EventRow, Store};

/// An answer to a request: HTTP status and JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// Whether an Idempotency-Key may replay it (false for answers carrying secrets).
    pub cacheable: bool,
}

impl Reply {
    pub fn new(status: u16, body: Value) -> Reply {
        Reply { status, body, cacheable: true }
    }
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        Reply::new(status, json!({"code": code, "message": message.into()}))
    }
}

/// Builds the answer to an engine command from the state right after it (and its events).
pub type Render = Box<dyn FnOnce(&Engine, &EngineResult<()>, &[Timed]) -> Reply + Send>;

pub enum Action {
    /// An engine operation. `actor` is the authenticated user (recorded as issue opener).
    /// An `offer` (or market `trade`) with an empty id gets the id `o<seq>` (`t<seq>`).
    Engine {
        op: Op,
        actor: Option<String>,
        render: Render,
    },
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
    /// Sandbox: move the clock forward to `to` and apply what is due.
    SetClock {
        to: Timestamp,
        render: Render,
    },
}

pub struct Request {
    pub action: Action,
    /// (scope, key): a retry with the same key gets the first answer.
    pub idempotency: Option<(String, String)>,
    pub reply: oneshot::Sender<Reply>,
    pub enqueued: Instant,
}

pub struct Writer {
    pub engine: Engine,
    pub shared: Arc<Shared>,
    pub store: Store,
    pub next_seq: i64,
    pub next_event_seq: i64,
    pub last_at: Option<Timestamp>,
    pub idempotency: HashMap<(String, String), Reply>,
    pub batch_max: usize,
}

/// What one batch produced, applied to shared state after its commit.
#[derive(Default)]
struct Pending {
    write: BatchWrite,
    commands: Vec<Command>,
    accounts: Vec<AccountChange>,
    names: HashSet<String>,
    public: Vec<(i64, String)>,
    replies: Vec<(oneshot::Sender<Reply>, Reply, Instant)>,
    applied: u64,
    refused: u64,
}

impl Writer {
    pub async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.batch_max);
        loop {
            if rx.recv_many(&mut batch, self.batch_max).await == 0 {
                break;
            }
            if !self.process(&mut batch).await {
                break;
            }
        }
        tracing::info!("writer stopped");
    }

    /// Handles one batch; false when the writer must stop.
    async fn process(&mut self, batch: &mut Vec<Request>) -> bool {
        let mut p = Pending::default();
        for req in batch.drain(..) {
            if let Some(key) = &req.idempotency {
                if let Some(first) = self.idempotency.get(key) {
                    p.replies.push((req.reply, first.clone(), req.enqueued));
                    continue;
                }
            }
            let reply = self.handle(req.action, &mut p);
            if let Some(key) = req.idempotency {
                if reply.cacheable {
                    p.write.idempotency.push((
                        key.0.clone(),
                        key.1.clone(),
                        i64::from(reply.status),
                        reply.body.to_string(),
                    ));
                    self.idempotency.insert(key, reply.clone());
                }
            }
            p.replies.push((req.reply, reply, req.enqueued));
        }

        let started = Instant::now();
        if let Err(e) = self.store.write_batch(&p.write).await {
            tracing::error!("commit failed, stopping the writer: {e:#}");
            self.shared.healthy.store(false, Ordering::SeqCst);
            for (tx, _, _) in p.replies {
                let _ = tx.send(Reply::error(503, "storage_failure", "the database refused the commit"));
            }
            return false;
        }
        let m = &self.shared.metrics;
        if !p.write.is_empty() {
            m.commit_latency.observe(started.elapsed());
            m.batches.fetch_add(1, Ordering::Relaxed);
        }
        self.publish(p);
        true
    }

    /// After the commit: readers' engine, accounts, live stream, metrics, answers.
    fn publish(&self, p: Pending) {
        if !p.commands.is_empty() {
            let mut engine = self.shared.engine_mut();
            let mut scratch = Vec::new();
            for cmd in p.commands {
                scratch.clear();
                let _ = engine.apply(cmd, &mut scratch);
            }
        }
        if !p.accounts.is_empty() {
            let mut accounts = self.shared.accounts_mut();
            for c in p.accounts {
                accounts.apply(c);
            }
        }
        for e in p.public {
            let _ = self.shared.public_events.send(Arc::new(e));
        }
        let m = &self.shared.metrics;
        m.commands_applied.fetch_add(p.applied, Ordering::Relaxed);
        m.commands_refused.fetch_add(p.refused, Ordering::Relaxed);
        for (tx, reply, enqueued) in p.replies {
            m.command_latency.observe(enqueued.elapsed());
            let _ = tx.send(reply);
        }
    }

    fn handle(&mut self, action: Action, p: &mut Pending) -> Reply {
        match action {
            Action::Engine { op, actor, render } => self.apply_op(op, actor, render, p),
            Action::CreateAccount { row } => {
                let taken = p.names.contains(&row.name) || self.shared.accounts().users.contains_key(&row.name);
                if taken {
                    return Reply::error(409, "name_taken", format!("the name {:?} is taken", row.name));
                }
                p.names.insert(row.name.clone());
                p.write.accounts.push((row.clone(), self.shared.clock.now().millis()));
                let body = json!({"name": row.name, "admin": row.admin});
                p.accounts.push(AccountChange::User(row));
                Reply::new(201, body)
            }
            Action::CreateSession { token_hash, user } => {
                p.write.sessions.push((token_hash.clone(), user.clone(), self.shared.clock.now().millis()));
                p.accounts.push(AccountChange::Session { token_hash, user });
                Reply { status: 200, body: json!({}), cacheable: false }
            }
            Action::RevokeSession { token_hash } => {
                p.write.revoked.push((token_hash.clone(), self.shared.clock.now().millis()));
                p.accounts.push(AccountChange::Revoke { token_hash });
                Reply::new(200, json!({"revoked": true}))
            }
            Action::SetClock { to, render } => {
                let offset = self.shared.clock.advance_to(to);
                p.write.meta.push((OFFSET_KEY.to_owned(), offset));
                self.apply_op(Op::Tick {}, None, render, p)
            }
        }
    }

    fn apply_op(&mut self, mut op: Op, actor: Option<String>, render: Render, p: &mut Pending) -> Reply {
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
        render(&self.engine, &result, &out)
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
