//! What the writer publishes and every reader shares: the engine as of the last commit (the
//! readers' engine), the accounts, the clock, metrics, the live stream of public events, the
//! process's health, and its role in a cluster.
//!
//! Below the writer (which applies each committed batch here) and above the stores of each
//! part; it knows no HTTP and no writer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use peerex_engine::Engine;
use tokio::sync::broadcast;

use crate::accounts::Accounts;
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::metrics::Metrics;

/// A committed public event: (cursor, JSON).
pub type PublicEvent = Arc<(i64, String)>;

pub struct Shared {
    /// The engine as of the last commit. The writer applies each committed batch to it.
    pub engine: RwLock<Engine>,
    pub accounts: RwLock<Accounts>,
    pub clock: Clock,
    pub metrics: Metrics,
    pub public_events: broadcast::Sender<PublicEvent>,
    /// False once a commit failed: the writer stopped and the process must restart.
    pub healthy: AtomicBool,
    /// Becomes true when the server shuts down (ends the live streams, which would otherwise
    /// keep a graceful shutdown waiting forever).
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Writer or replica, and how far the readers' engine has applied the log.
    pub cluster: Cluster,
    /// Users whose writes were answered before the readers' engine had them (a snapshot was
    /// reading it: `crate::snapshot_task`), with the seq to wait for: their own reads wait
    /// for it ([`Shared::unread_write`]), everyone else's go on. Emptied when the held
    /// batches are applied, so it names only users who wrote during one encode.
    pub unread: Mutex<HashMap<String, i64>>,
    /// Taken (shared) by a snapshot's encode before it reads the readers' engine. Nothing
    /// else takes it, except a test that holds it to keep an encode open.
    #[doc(hidden)]
    pub snapshot_gate: RwLock<()>,
}

impl Shared {
    pub fn engine(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn engine_mut(&self) -> RwLockWriteGuard<'_, Engine> {
        self.engine.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn accounts(&self) -> RwLockReadGuard<'_, Accounts> {
        self.accounts.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn accounts_mut(&self) -> RwLockWriteGuard<'_, Accounts> {
        self.accounts.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    /// The seq `user`'s own last write is at, if the readers' engine does not have it yet.
    pub fn unread_write(&self, user: &str) -> Option<i64> {
        // Nothing committed is held back (the common case): no lock.
        if self.cluster.written() <= self.cluster.applied() {
            return None;
        }
        let seq = *self.unread.lock().unwrap_or_else(|e| e.into_inner()).get(user)?;
        (seq > self.cluster.applied()).then_some(seq)
    }

    /// The writer answered writes of `users` up to `seq` before the readers' engine has them.
    pub fn writes_unread<'a>(&self, users: impl IntoIterator<Item = &'a str>, seq: i64) {
        let mut unread = self.unread.lock().unwrap_or_else(|e| e.into_inner());
        for u in users {
            unread.insert(u.to_owned(), seq);
        }
    }

    /// The readers' engine has every committed write.
    pub fn writes_read(&self) {
        let mut unread = self.unread.lock().unwrap_or_else(|e| e.into_inner());
        if !unread.is_empty() {
            unread.clear();
        }
    }
}
