//! GitHub wiring (crate `peerex-trackers`): a periodic sync of the configured repositories, and
//! [`apply`] for the webhook endpoint `POST /api/v1/webhooks/github` (in `http::webhooks`). Both
//! only report observations; each is applied through the single writer as a `sync_issue`
//! command, and the engine decides series. Domain layer: no HTTP here.

use std::sync::Arc;
use std::time::Duration;

use peerex_trackers::{GitHub, Observation, Schedule, SchedulePolicy, SystemClock, Tracker};

use crate::state::AppState;

/// The GitHub settings: repositories to poll (`owner/name`), token, webhook secret, API URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitHubSettings {
    pub repos: Vec<String>,
    pub token: Option<String>,
    pub webhook_secret: Option<String>,
    pub base_url: Option<String>,
    pub interval_secs: u64,
}

pub fn github(s: &GitHubSettings) -> anyhow::Result<Arc<GitHub>> {
    let mut config = peerex_trackers::github::GitHubConfig {
        token: s.token.clone(),
        webhook_secret: s.webhook_secret.clone(),
        ..Default::default()
    };
    if let Some(url) = &s.base_url {
        config.base_url = url.clone();
    }
    Ok(Arc::new(GitHub::new(config, Arc::new(SystemClock)).map_err(|e| anyhow::anyhow!("GitHub tracker: {e}"))?))
}

/// Applies observations in order through the writer; returns how many the engine accepted.
pub async fn apply(state: &AppState, observations: &[Observation]) -> usize {
    let mut applied = 0;
    for o in observations {
        match crate::jobs::submit_sync(state, o.to_op()).await {
            Ok(_) => applied += 1,
            Err(e) => tracing::warn!("sync of {} refused: {} ({})", o.issue, e, e.code()),
        }
    }
    applied
}

/// Polls every configured repository on the trackers' schedule (regular interval; retries with
/// backoff after an outage; exactly at the end of a rate limit).
pub async fn sync_loop(state: AppState, github: Arc<GitHub>, settings: GitHubSettings) {
    let policy = SchedulePolicy { interval_ms: settings.interval_secs.max(1) as i64 * 1000, ..Default::default() };
    let mut schedule: Schedule<String> = Schedule::new(policy);
    for repo in &settings.repos {
        schedule.add(repo.clone(), state.shared.clock.now());
    }
    loop {
        let now = state.shared.clock.now();
        for repo in schedule.due(now) {
            let started = state.shared.clock.now();
            let result = github.fetch_repo(&repo).await;
            schedule.record(&repo, started, &result);
            match result {
                Ok(sync) => {
                    apply(&state, &sync.observations).await;
                }
                Err(e) => tracing::warn!("GitHub sync of {repo} failed: {e}"),
            }
        }
        if !state.shared.is_healthy() || *state.shared.shutdown.borrow() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
