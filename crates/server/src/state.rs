//! What request handlers share: the committed state the writer publishes (`crate::shared`:
//! the readers' engine, accounts, the clock, metrics, the live event stream), the settings and
//! rate limits, and the queue to the single writer.
//!
//! Domain layer: it knows the writer and the store, never HTTP. [`AppState::submit`] answers
//! the writer's typed [`WriteResult`].

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::accounts::AccountChange;
use crate::limiter::Limiter;
use crate::settings::Settings;
use crate::shared::Shared;
use crate::store::Store;
use crate::writer::{Action, Idempotency, Request, WriteError, WriteResult};

/// The queue to this process's writer: replaced when the process becomes the writer (a
/// failover) and closed when it stops being it or shuts down.
#[derive(Clone, Debug)]
pub struct Queue(Arc<RwLock<mpsc::Sender<Request>>>);

impl Queue {
    pub fn new(tx: mpsc::Sender<Request>) -> Queue {
        Queue(Arc::new(RwLock::new(tx)))
    }

    /// A queue nobody reads (a replica's, or after shutdown): sending fails at once.
    pub fn closed() -> Queue {
        Queue::new(mpsc::channel(1).0)
    }

    pub fn sender(&self) -> mpsc::Sender<Request> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, tx: mpsc::Sender<Request>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = tx;
    }

    /// Drops this handle's sender: once the callers' clones are gone the writer drains and stops.
    pub fn close(&self) {
        self.replace(mpsc::channel(1).0);
    }
}

/// How long a user's read waits for the readers' engine to have that user's own writes
/// (answered while a snapshot held them back from it: `crate::snapshot_task`).
pub const OWN_WRITES_WAIT: Duration = Duration::from_secs(30);

/// A read that waited [`OWN_WRITES_WAIT`] for its user's own writes in vain: this process had
/// applied the log up to `applied`, the writes are at `wanted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagging {
    pub applied: i64,
    pub wanted: i64,
}

#[derive(Clone)]
pub struct AppState {
    pub shared: Arc<Shared>,
    pub store: Store,
    pub writer: Queue,
    pub settings: Arc<Settings>,
    pub limiter: Arc<Limiter>,
    /// The configured trackers' adapters (sync jobs and webhooks).
    pub trackers: crate::trackers::adapters::Trackers,
}

impl AppState {
    /// Queues an action for the writer and waits for its durable outcome.
    /// On a replica the action goes to the writer process (`forward::forward`).
    pub async fn submit(&self, action: Action, idempotency: Option<Idempotency>) -> WriteResult {
        let cluster = &self.shared.cluster;
        if cluster.enabled && !cluster.is_writer() {
            // An account change the writer committed holds here at once (a client logs in
            // through this process and goes on with its token); the tail reloads the rest.
            let change = match &action {
                Action::CreateAccount { row } => Some(AccountChange::User(row.clone())),
                Action::CreateSession { token_hash, user } => {
                    Some(AccountChange::Session { token_hash: token_hash.clone(), user: user.clone() })
                }
                Action::RevokeSession { token_hash } => Some(AccountChange::Revoke { token_hash: token_hash.clone() }),
                _ => None,
            };
            let result = crate::forward::forward(cluster, &self.store, action, idempotency).await;
            if let (Ok(o), Some(change)) = (&result, change) {
                if !o.replayed {
                    self.shared.accounts_mut().apply(change);
                }
            }
            return result;
        }
        self.submit_here(action, idempotency).await
    }

    /// Queues an action for this process's own writer (a forwarded write arriving at the writer).
    pub async fn submit_here(&self, action: Action, idempotency: Option<Idempotency>) -> WriteResult {
        // In a cluster a closed queue means this process just stopped being the writer.
        let gone = if self.shared.cluster.enabled { WriteError::NoWriter } else { WriteError::Unavailable };
        let (tx, rx) = oneshot::channel();
        let req = Request { action, idempotency, reply: tx, enqueued: Instant::now() };
        match self.writer.sender().try_send(req) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Err(WriteError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(gone),
        }
        rx.await.unwrap_or(Err(gone))
    }

    /// The (name, admin) of the account behind a bearer token. A replica that does not know the
    /// token yet (made on another process an instant ago: its tail reloads sessions a moment
    /// later) looks it up in the database once, and keeps it.
    pub async fn authenticate(&self, token: &str) -> Option<(String, bool)> {
        if let Some(a) = self.shared.accounts().authenticate(token) {
            return Some((a.name.clone(), a.admin));
        }
        let cluster = &self.shared.cluster;
        if !cluster.enabled || cluster.is_writer() {
            return None;
        }
        let hash = crate::accounts::token_hash(token);
        let (account, created_at) = self.store.session_account(&hash).await.ok()??;
        let mut accounts = self.shared.accounts_mut();
        accounts.learn_session(hash, account, created_at, self.shared.clock.offset_ms());
        accounts.authenticate(token).map(|a| (a.name.clone(), a.admin))
    }

    /// Returns once the readers' engine has `user`'s own writes: at once, unless the writer
    /// answered some while a snapshot held them back from it; then at most
    /// [`OWN_WRITES_WAIT`].
    pub async fn own_writes(&self, user: &str) -> Result<(), Lagging> {
        let Some(wanted) = self.shared.unread_write(user) else {
            return Ok(());
        };
        if self.shared.cluster.wait_applied(wanted, OWN_WRITES_WAIT).await {
            return Ok(());
        }
        Err(Lagging { applied: self.shared.cluster.applied(), wanted })
    }

    pub fn queue_depth(&self) -> usize {
        let tx = self.writer.sender();
        tx.max_capacity().saturating_sub(tx.capacity())
    }
}
