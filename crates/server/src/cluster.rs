//! Several `peerex serve --cluster` processes on one PostgreSQL database (docs/deploy.md): what
//! each process knows about its role, how far it has applied the log, and how a replica forwards
//! a write to the writer.
//!
//! Exactly one process is the writer (it holds the advisory lock and the current writer epoch);
//! the others are replicas that tail the command log (`crate::replica`) and serve every read from
//! their own engine. A replica forwards each write, as the domain [`Action`] it is, to the writer
//! the database advertises (`writer_epoch.address`), proving with the writer's secret (stored in
//! the same row) that it reads this database. The writer's answer comes back with the log seq it
//! had applied, and the replica answers only once its own engine has applied that far, so a
//! client reads its own write on the process it wrote through.
//!
//! Adapter layer: it speaks HTTP as a client of another peerex process (never as a server; the
//! writer's endpoint is in `http/internal.rs`), and the domain types of `writer` on the wire.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::store::{Leader, Store};
use crate::views::View;
use crate::writer::{Action, Idempotency, Outcome, WriteError, WriteResult};

/// The header a forwarded write carries the writer's secret in.
pub const SECRET_HEADER: &str = "peerex-cluster-secret";
/// Where the writer takes forwarded writes.
pub const FORWARD_PATH: &str = "/internal/v1/submit";
/// How long a forwarded write may take (the writer's queue plus one commit).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a replica waits to have applied the writer's answer before answering anyway.
const CATCH_UP: Duration = Duration::from_secs(2);

/// A write a replica forwards to the writer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forwarded {
    pub action: Action,
    pub idempotency: Option<Idempotency>,
}

/// The writer's answer to a forwarded write: the outcome (its view as JSON) or the refusal.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardedAnswer {
    pub result: Result<ForwardedOutcome, WriteError>,
    /// The last log seq the writer had applied when it answered.
    pub applied: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardedOutcome {
    pub seq: Option<i64>,
    pub view: Option<Value>,
    pub replayed: bool,
}

impl ForwardedAnswer {
    pub fn of(result: WriteResult, applied: i64) -> ForwardedAnswer {
        let result = result.map(|o| ForwardedOutcome {
            seq: o.seq,
            view: o.view.as_ref().and_then(|v| serde_json::to_value(v).ok()),
            replayed: o.replayed,
        });
        ForwardedAnswer { result, applied }
    }
}

/// This process's place in the cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Whether several processes may share the database (`--cluster`). Without it the process
    /// is always the writer.
    pub enabled: bool,
    writer: AtomicBool,
    /// The last log seq applied to the readers' engine.
    applied: watch::Sender<i64>,
    /// The last log seq seen committed in the database (replicas; the writer's is `applied`).
    head: AtomicI64,
    /// How many times this process became the writer after starting as a replica.
    pub failovers: AtomicU64,
    /// The writer this replica forwards to, as last read from the database.
    leader: RwLock<Option<Leader>>,
    /// The secret this process advertised while it is the writer.
    secret: RwLock<Option<String>>,
    http: reqwest::Client,
}

impl Cluster {
    /// A process that is the writer from the start; `enabled` when it runs with `--cluster`.
    pub fn new(enabled: bool, writer: bool, applied: i64) -> Cluster {
        Cluster {
            enabled,
            writer: AtomicBool::new(writer),
            applied: watch::channel(applied).0,
            head: AtomicI64::new(applied),
            failovers: AtomicU64::new(0),
            leader: RwLock::new(None),
            secret: RwLock::new(None),
            http: reqwest::Client::builder().timeout(FORWARD_TIMEOUT).build().unwrap_or_default(),
        }
    }

    pub fn is_writer(&self) -> bool {
        self.writer.load(Ordering::SeqCst)
    }

    /// "writer" or "replica".
    pub fn role(&self) -> &'static str {
        if self.is_writer() {
            "writer"
        } else {
            "replica"
        }
    }

    /// Becomes the writer with `secret` (after taking the lock and catching up), or a replica.
    pub fn set_writer(&self, secret: Option<String>) {
        let writer = secret.is_some();
        *self.secret.write().unwrap_or_else(|e| e.into_inner()) = secret;
        self.writer.store(writer, Ordering::SeqCst);
    }

    /// Whether `given` is the secret this process advertised as the writer (constant time).
    pub fn accepts(&self, given: &str) -> bool {
        let secret = self.secret.read().unwrap_or_else(|e| e.into_inner());
        secret.as_deref().is_some_and(|s| {
            s.len() == given.len() && s.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }

    pub fn applied(&self) -> i64 {
        *self.applied.borrow()
    }

    pub fn set_applied(&self, seq: i64) {
        self.applied.send_if_modified(|a| {
            let moved = seq > *a;
            *a = (*a).max(seq);
            moved
        });
        self.head.fetch_max(seq, Ordering::SeqCst);
    }

    /// The log's last committed seq, as a replica last saw it.
    pub fn set_head(&self, seq: i64) {
        self.head.fetch_max(seq, Ordering::SeqCst);
    }

    /// Commands committed in the database that this process has not applied yet.
    pub fn lag(&self) -> i64 {
        (self.head.load(Ordering::SeqCst) - self.applied()).max(0)
    }

    /// Waits until this process has applied the log up to `seq`, at most `timeout`; whether it has.
    pub async fn wait_applied(&self, seq: i64, timeout: Duration) -> bool {
        let mut rx = self.applied.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|a| *a >= seq)).await.is_ok_and(|r| r.is_ok())
    }

    fn leader(&self) -> Option<Leader> {
        self.leader.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_leader(&self, l: Option<Leader>) {
        *self.leader.write().unwrap_or_else(|e| e.into_inner()) = l;
    }

    /// Forwards a write to the writer and waits for its answer (then for this process to have
    /// applied it). A writer that cannot be reached, or is no longer the writer, answers
    /// [`WriteError::NoWriter`]: retryable, and safe to retry with an Idempotency-Key.
    pub async fn forward(&self, store: &Store, action: Action, idempotency: Option<Idempotency>) -> WriteResult {
        let leader = match self.leader() {
            Some(l) => l,
            None => match store.leader().await {
                Ok(Some(l)) => {
                    self.set_leader(Some(l.clone()));
                    l
                }
                _ => return Err(WriteError::NoWriter),
            },
        };
        let body = Forwarded { action, idempotency };
        let sent = self
            .http
            .post(format!("{}{FORWARD_PATH}", leader.address.trim_end_matches('/')))
            .header(SECRET_HEADER, &leader.secret)
            .json(&body)
            .send()
            .await;
        let answer = match sent {
            Ok(r) if r.status().is_success() => r.json::<ForwardedAnswer>().await.ok(),
            Ok(r) => {
                tracing::debug!("the writer at {} answered {}", leader.address, r.status());
                None
            }
            Err(e) => {
                tracing::debug!("the writer at {} is unreachable: {e}", leader.address);
                None
            }
        };
        let Some(answer) = answer else {
            // Read the writer again next time: it may have changed.
            self.set_leader(None);
            return Err(WriteError::NoWriter);
        };
        self.set_head(answer.applied);
        self.wait_applied(answer.applied, CATCH_UP).await;
        answer.result.map(|o| Outcome {
            seq: o.seq,
            view: o.view.map(View::Recorded),
            events: Vec::new(),
            replayed: o.replayed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_accepted_only_while_the_writer() {
        let c = Cluster::new(true, false, 0);
        assert!(!c.accepts(""), "a replica has no secret");
        c.set_writer(Some("s3cret".into()));
        assert!(c.is_writer());
        assert!(c.accepts("s3cret"));
        assert!(!c.accepts("s3cres") && !c.accepts("s3cret!") && !c.accepts(""));
        c.set_writer(None);
        assert!(!c.is_writer() && !c.accepts("s3cret"));
    }

    #[tokio::test]
    async fn applied_only_moves_forward_and_wakes_waiters() {
        let c = std::sync::Arc::new(Cluster::new(true, false, 5));
        assert!(c.wait_applied(5, Duration::from_millis(1)).await);
        assert!(!c.wait_applied(6, Duration::from_millis(10)).await);
        let c2 = c.clone();
        let waiter = tokio::spawn(async move { c2.wait_applied(9, Duration::from_secs(5)).await });
        c.set_applied(9);
        assert!(waiter.await.unwrap());
        c.set_applied(3);
        assert_eq!(c.applied(), 9, "applied never goes back");
        c.set_head(12);
        assert_eq!(c.lag(), 3);
    }
}
