//! peerex-trackers: adapters that observe issues on external trackers (GitHub, GitLab, Gitea/Forgejo)
//! and turn what they see into the engine's `sync_issue` commands.
//!
//! An adapter never decides anything: it reports observations ("at instant T the tracker said
//! issue X is closed as completed, changed at C"). The engine settles a series on a synced issue
//! only after an observation newer than the series' maturation, so an outage or a rate limit only
//! delays settlement. See docs/trackers.md.

pub mod clock;
pub mod error;
pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod health;
pub mod observation;
mod rest;
pub mod schedule;
pub mod signature;

use std::future::Future;
use std::pin::Pin;

use peerex_engine::Timestamp;
pub use reqwest::header::HeaderMap;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{TrackerError, WebhookError};
pub use gitea::Gitea;
pub use github::GitHub;
pub use gitlab::GitLab;
pub use health::TrackerHealth;
pub use observation::{issue_key, parse_issue_key, Observation, SyncResult};
pub use schedule::{Schedule, SchedulePolicy};

/// A boxed future, so that `dyn Tracker` works (a server keeps several adapters in one list).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One external issue tracker. Every method is safe to call concurrently.
pub trait Tracker: Send + Sync {
    /// The tracker name recorded in the engine (`sync_issue`'s `tracker`), e.g. `"github"`.
    fn name(&self) -> &str;

    /// The current state of every issue (not pull request) of `repo` (`owner/name`), following
    /// the tracker's paging. Unchanged pages answered "not modified" still count as observed now.
    fn fetch_repo<'a>(&'a self, repo: &'a str) -> BoxFuture<'a, Result<SyncResult, TrackerError>>;

    /// The current state of one issue.
    fn fetch_issue<'a>(&'a self, repo: &'a str, number: u64) -> BoxFuture<'a, Result<SyncResult, TrackerError>>;

    /// Verifies and reads one webhook delivery. Deliveries that are valid but carry nothing to
    /// record (pings, other events, snapshots older than one already seen) give an empty list.
    fn webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: Timestamp,
    ) -> Result<Vec<Observation>, WebhookError>;

    /// How the last syncs went (for the UI: last success, last failure, rate limit).
    fn health(&self) -> TrackerHealth;
}
