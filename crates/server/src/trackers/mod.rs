//! Tracker wiring (crate `peerex-trackers`): GitHub, GitLab and Gitea/Forgejo, each with a
//! periodic sync of its configured repositories, and [`apply`] for their webhook endpoints
//! (`POST /api/v1/webhooks/{github,gitlab,gitea}`, in `http::webhooks`). Both only report
//! observations; the engine decides series. Domain layer: no HTTP here.
//!
//! A poll reports every issue of a repository each time; only the observations that change
//! something the engine keeps ([`changes_engine`]: a new issue, a new title or state, or a series
//! or linked market that the observation lets the engine decide) are submitted, so a quiet
//! repository adds nothing to the command log. They are queued to the single writer together
//! (all before waiting for any), so one group commit carries them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::{CloseReason, IssueState, SeriesStatus};
use peerex_engine::prediction::market::Status as MarketStatus;
use peerex_engine::{Engine, Op};
use peerex_trackers::{Observation, Schedule, SchedulePolicy, Tracker};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::settings::{Settings, TrackerSettings};
use crate::state::AppState;
use crate::views::After;
use crate::writer::{Action, Request, WriteError};

pub mod adapters;

pub use adapters::{gitea, github, gitlab, GitHubSettings, Kind, ServerClock, Trackers};

/// Starts one sync loop per tracker with repositories to poll.
pub fn start_sync(state: &AppState, settings: &Settings) -> Vec<JoinHandle<()>> {
    Kind::ALL
        .into_iter()
        .filter_map(|kind| {
            let tracker = state.trackers.get(kind)?.clone();
            let s = kind.settings(settings)?.clone();
            (!s.repos.is_empty()).then(|| tokio::spawn(sync_loop(state.clone(), kind, tracker, s)))
        })
        .collect()
}

/// Whether applying `o` would change what the engine keeps about the issue, or let it decide
/// something: the issue is new (or another tracker's: the engine then refuses it), its title or
/// state changed, or a series or linked market waiting for a sync newer than its maturation (or
/// deadline) gets one. An observation older than the last recorded one changes nothing.
pub fn changes_engine(engine: &Engine, o: &Observation) -> bool {
    let x = engine.exchange();
    let Some((iid, issue)) = x.issue_id(&o.issue).and_then(|i| Some((i, x.issue(i)?))) else { return true };
    if issue.tracker != o.tracker {
        return true;
    }
    if issue.last_synced.is_some_and(|last| o.observed_at < last) {
        return false;
    }
    if !o.title.is_empty() && o.title != issue.title {
        return true;
    }
    let observed = match o.state {
        SyncedState::Open => IssueState::Open,
        SyncedState::Closed => IssueState::Closed(o.reason.unwrap_or(CloseReason::Unknown)),
    };
    if issue.history.is_empty() || issue.current() != observed {
        return true;
    }
    // An instant the engine waits to see passed by a sync: this one passes it, the last did not.
    let decides = |t: peerex_engine::Timestamp| t < o.observed_at && !issue.decidable_at(t);
    let series = x.series_of_issue(iid).into_iter().filter_map(|s| x.series(s));
    let series_wait = series.filter(|s| s.status != SeriesStatus::Settled).any(|s| decides(s.maturation));
    let markets_wait = engine
        .markets()
        .all()
        .filter(|(_, m)| m.issue == Some(iid) && matches!(m.status, MarketStatus::Open | MarketStatus::Reporting))
        .any(|(_, m)| decides(m.deadline));
    series_wait || markets_wait
}

/// What applying a list of observations did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Observations that changed something and were submitted.
    pub submitted: usize,
    /// Of those, how many the engine accepted.
    pub accepted: usize,
}

/// Submits the observations that change something, all queued to the writer before waiting for
/// any answer (one group commit), and waits for their answers.
pub async fn apply(state: &AppState, observations: &[Observation]) -> Result<Applied, WriteError> {
    let ops: Vec<(String, Op)> = {
        let engine = state.shared.engine();
        observations.iter().filter(|o| changes_engine(&engine, o)).map(|o| (o.issue.clone(), o.to_op())).collect()
    };
    if ops.is_empty() {
        return Ok(Applied::default());
    }
    if !state.shared.cluster.is_writer() {
        // A replica (a webhook it received): each observation goes to the writer.
        let mut applied = Applied { submitted: ops.len(), accepted: 0 };
        for (issue, op) in ops {
            match state.submit(Action::engine(op, None, After::Sync), None).await {
                Ok(_) => applied.accepted += 1,
                Err(e) => tracing::warn!("sync of {issue} refused: {e} ({})", e.code()),
            }
        }
        return Ok(applied);
    }
    let queue = state.writer.sender();
    let permits = queue.reserve_many(ops.len()).await.map_err(|_| WriteError::Unavailable)?;
    let mut answers = Vec::with_capacity(ops.len());
    for (permit, (issue, op)) in permits.zip(ops) {
        let (tx, rx) = oneshot::channel();
        let action = Action::engine(op, None, After::Sync);
        permit.send(Request { action, idempotency: None, reply: tx, enqueued: Instant::now() });
        answers.push((issue, rx));
    }
    let mut applied = Applied { submitted: answers.len(), accepted: 0 };
    for (issue, rx) in answers {
        match rx.await.unwrap_or(Err(WriteError::Unavailable)) {
            Ok(_) => applied.accepted += 1,
            Err(e) => tracing::warn!("sync of {issue} refused: {e} ({})", e.code()),
        }
    }
    Ok(applied)
}

/// Polls every configured repository of one tracker on the trackers' schedule (regular interval;
/// retries with backoff after an outage; exactly at the end of a rate limit).
pub async fn sync_loop(state: AppState, kind: Kind, tracker: Arc<dyn Tracker>, settings: TrackerSettings) {
    let policy = SchedulePolicy { interval_ms: settings.interval_secs.max(1) as i64 * 1000, ..Default::default() };
    let mut schedule: Schedule<String> = Schedule::new(policy);
    for repo in &settings.repos {
        schedule.add(repo.clone(), state.shared.clock.now());
    }
    loop {
        let now = state.shared.clock.now();
        // In a cluster only the writer polls the trackers.
        let due = if state.shared.cluster.is_writer() { schedule.due(now) } else { Vec::new() };
        for repo in due {
            let started = state.shared.clock.now();
            let result = tracker.fetch_repo(&repo).await;
            schedule.record(&repo, started, &result);
            match result {
                Ok(sync) => {
                    if let Err(e) = apply(&state, &sync.observations).await {
                        tracing::warn!("{} sync of {repo}: {e}", kind.label());
                    }
                }
                Err(e) => tracing::warn!("{} sync of {repo} failed: {e}", kind.label()),
            }
        }
        if !state.shared.is_healthy() || *state.shared.shutdown.borrow() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
