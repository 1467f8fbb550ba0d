//! What request handlers share: the committed engine (readers), accounts, the clock, metrics,
//! the live event stream, and the queue to the single writer.
//!
//! Domain layer: it knows the writer and the store, never HTTP. [`AppState::submit`] answers
//! the writer's typed [`WriteResult`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use peerex_engine::Engine;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::accounts::Accounts;
use crate::clock::Clock;
use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::Store;
use crate::writer::{Action, Idempotency, Request, WriteError, WriteResult};

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

#[derive(Clone)]
pub struct AppState {
    pub shared: Arc<Shared>,
    pub store: Store,
    pub writer: mpsc::Sender<Request>,
    pub settings: Arc<Settings>,
    pub limiter: Arc<Limiter>,
    /// The configured trackers' adapters (sync jobs and webhooks).
    pub trackers: crate::trackers::Trackers,
}

impl AppState {
    /// Queues an action for the writer and waits for its durable outcome.
    pub async fn submit(&self, action: Action, idempotency: Option<Idempotency>) -> WriteResult {
        let (tx, rx) = oneshot::channel();
        let req = Request { action, idempotency, reply: tx, enqueued: Instant::now() };
        match self.writer.try_send(req) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Err(WriteError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(WriteError::Unavailable),
        }
        rx.await.unwrap_or(Err(WriteError::Unavailable))
    }

    pub fn queue_depth(&self) -> usize {
        self.writer.max_capacity().saturating_sub(self.writer.capacity())
    }
}
