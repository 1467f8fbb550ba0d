//! What the writer publishes and every reader shares: the engine as of the last commit (the
//! readers' engine), the accounts, the clock, metrics, the live stream of public events, the
//! process's health, and its role in a cluster.
//!
//! Below the writer (which applies each committed batch here) and above the stores of each
//! part; it knows no HTTP and no writer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
}
