//! GitHub wiring (crate `peerex-trackers`): a periodic sync of the configured repositories and
//! the webhook endpoint `POST /api/v1/webhooks/github`. Both only report observations; each is
//! applied through the single writer as a `sync_issue` command, and the engine decides series.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use peerex_trackers::{GitHub, Observation, Schedule, SchedulePolicy, SystemClock, Tracker, WebhookError};
use serde_json::json;

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::writer::Reply;

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
            Ok(r) if r.status == 200 => applied += 1,
            Ok(r) => tracing::warn!("sync of {} refused: {}", o.issue, r.body),
            Err(e) => tracing::warn!("sync of {} failed: {}", o.issue, e.message),
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

/// `POST /api/v1/webhooks/github`: verifies the signature over the raw body, then applies the
/// delivery's observations. 401 for a missing or wrong signature (or no configured secret),
/// 400 for a payload that is not an issues event GitHub would send, 404 without GitHub.
pub async fn github_webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Reply> {
    let Some(github) = state.github.clone() else {
        return Err(ApiError::not_found("no GitHub tracker is configured"));
    };
    let observations = github.webhook(&headers, &body, state.shared.clock.now()).map_err(|e| {
        let status = match e {
            WebhookError::BadPayload(_) => 400,
            _ => 401,
        };
        ApiError::new(status, e.code(), e.to_string())
    })?;
    let applied = apply(&state, &observations).await;
    Ok(Reply::new(200, json!({"observations": observations.len(), "applied": applied})))
}
