//! Several `peerex serve --cluster` processes on one PostgreSQL database (docs/deploy.md): what
//! each process knows about its role, how far it has applied the log, and where a replica
//! forwards its writes.
//!
//! Exactly one process is the writer (it holds the advisory lock and the current writer epoch);
//! the others are replicas that tail the command log (`crate::replica`) and serve every read from
//! their own engine. A replica forwards each write, as the domain `Action` it is, to the writer
//! the database advertises (`writer_epoch.address`), proving with the writer's secret (stored in
//! the same row) that it reads this database. The writer's answer comes back with the log seq it
//! had applied, and the replica answers only once its own engine has applied that far, so a
//! client reads its own write on the process it wrote through.
//!
//! This module is the role only (below the writer, which reports what it applied here); the
//! forwarding itself, which speaks HTTP as a client of the writer process and carries the
//! writer's domain types, is `crate::forward`, above the writer.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Leader;

/// How long a forwarded write may take (the writer's queue plus one commit).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// This process's place in the cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Whether several processes may share the database (`--cluster`). Without it the process
    /// is always the writer.
    pub enabled: bool,
    writer: AtomicBool,
    /// The last log seq applied to the readers' engine.
    applied: watch::Sender<i64>,
    /// The last log seq seen committed in the database: a replica's from its tail, the
    /// writer's its own commits (ahead of `applied` while a snapshot holds committed batches
    /// back from the readers' engine, `crate::snapshot_task`).
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

    /// The log's last committed seq, as a replica last saw it or the writer committed it.
    pub fn set_head(&self, seq: i64) {
        self.head.fetch_max(seq, Ordering::SeqCst);
    }

    /// The log position a write's answer names (`Peerex-Seq`, and a forwarded write's answer):
    /// what this process has committed or applied, whichever is further. A client that reads
    /// with it as its minimum (`Peerex-Min-Seq`) sees its write.
    pub fn written(&self) -> i64 {
        self.head.load(Ordering::SeqCst).max(self.applied())
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

    /// The writer this replica forwards to, as last read from the database.
    pub(crate) fn leader(&self) -> Option<Leader> {
        self.leader.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_leader(&self, l: Option<Leader>) {
        *self.leader.write().unwrap_or_else(|e| e.into_inner()) = l;
    }

    /// The client a replica forwards writes with (`crate::forward`).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
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
