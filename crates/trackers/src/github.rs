//! GitHub (and GitHub Enterprise) through the REST API: issue state, `state_reason`, `closed_at`;
//! bearer-token auth; conditional requests; rate-limit back-off; `issues` webhooks signed with
//! HMAC-SHA256 (`X-Hub-Signature-256`).

use std::sync::Arc;

use peerex_engine::exchange::types::CloseReason;
use peerex_engine::Timestamp;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::clock::Clock;
use crate::error::{TrackerError, WebhookError};
use crate::health::TrackerHealth;
use crate::observation::{validate_repo, Observation, SyncResult};
use crate::rest::{adapter_headers, fetch_all, fetch_one, Dialect, RawIssue, ReopenSource, RestCore};
use crate::{signature, BoxFuture, Tracker};

pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

/// GitHub closes issues "as completed" unless told otherwise since 2022; issues closed before
/// carry no reason, and we do not guess one for them.
const DIALECT: Dialect = Dialect { closed_without_reason: CloseReason::Unknown, reopens: ReopenSource::GitHubEvents };

#[derive(Clone, Debug)]
pub struct GitHubConfig {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise, or a test server.
    pub base_url: String,
    /// A token (classic or fine-grained) with read access to issues; None for public repositories.
    pub token: Option<String>,
    /// The webhook secret; without one every delivery is refused.
    pub webhook_secret: Option<String>,
    /// The tracker name recorded in the engine.
    pub tracker_name: String,
    /// Issues per page (GitHub allows up to 100).
    pub per_page: u32,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: None,
            webhook_secret: None,
            tracker_name: "github".to_owned(),
            per_page: 100,
        }
    }
}

pub struct GitHub {
    core: RestCore,
    name: String,
    secret: Vec<u8>,
    per_page: u32,
}

impl GitHub {
    pub fn new(config: GitHubConfig, clock: Arc<dyn Clock>) -> Result<GitHub, TrackerError> {
        let headers = adapter_headers(
            "application/vnd.github+json",
            &[("x-github-api-version", "2022-11-28")],
            "Bearer",
            config.token.as_deref(),
            &config.tracker_name,
        )?;
        Ok(GitHub {
            core: RestCore::new(&config.base_url, headers, clock)?,
            name: config.tracker_name,
            secret: config.webhook_secret.unwrap_or_default().into_bytes(),
            per_page: config.per_page.clamp(1, 100),
        })
    }
}

impl Tracker for GitHub {
    fn name(&self) -> &str {
        &self.name
    }

    fn fetch_repo<'a>(&'a self, repo: &'a str) -> BoxFuture<'a, Result<SyncResult, TrackerError>> {
        Box::pin(async move {
            validate_repo(repo)?;
            let url = self.core.url(&format!("/repos/{repo}/issues?state=all&per_page={}", self.per_page));
            fetch_all(&self.core, DIALECT, repo, &self.name, url).await
        })
    }

    fn fetch_issue<'a>(&'a self, repo: &'a str, number: u64) -> BoxFuture<'a, Result<SyncResult, TrackerError>> {
        Box::pin(async move {
            validate_repo(repo)?;
            let url = self.core.url(&format!("/repos/{repo}/issues/{number}"));
            fetch_one(&self.core, DIALECT, repo, number, &self.name, url).await
        })
    }

    fn webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: Timestamp,
    ) -> Result<Vec<Observation>, WebhookError> {
        let sig = header(headers, "x-hub-signature-256").ok_or(WebhookError::MissingSignature)?;
        let hex = sig.strip_prefix("sha256=").ok_or(WebhookError::BadSignature)?;
        signature::verify(&self.secret, body, hex)?;
        let event = header(headers, "x-github-event").unwrap_or_default();
        let observations = issue_event_with(event, body, &self.name, received_at, DIALECT)?;
        Ok(keep_fresh(&self.core, observations))
    }

    fn health(&self) -> TrackerHealth {
        self.core.health()
    }
}

pub(crate) fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[derive(Deserialize)]
struct IssuesPayload {
    action: String,
    issue: RawIssue,
    repository: Repository,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

/// An `issues` delivery (GitHub's and Gitea's share this shape) as observations. Other events
/// (`ping`, `push`, ...) and actions that do not describe the issue in this repository any
/// more (`deleted`, `transferred`) carry nothing.
pub(crate) fn issue_event_with(
    event: &str,
    body: &[u8],
    tracker: &str,
    received_at: Timestamp,
    dialect: Dialect,
) -> Result<Vec<Observation>, WebhookError> {
    if event != "issues" {
        return Ok(Vec::new());
    }
    let p: IssuesPayload = serde_json::from_slice(body).map_err(|e| WebhookError::BadPayload(e.to_string()))?;
    if matches!(p.action.as_str(), "deleted" | "transferred") {
        return Ok(Vec::new());
    }
    validate_repo(&p.repository.full_name).map_err(|e| WebhookError::BadPayload(e.to_string()))?;
    let o = p
        .issue
        .observe(dialect, &p.repository.full_name, tracker, received_at)
        .map_err(|e| WebhookError::BadPayload(e.to_string()))?;
    Ok(o.into_iter().collect())
}

/// Drops deliveries older than a state already seen (deliveries can arrive late and out of
/// order), and remembers the fresh ones.
pub(crate) fn keep_fresh(core: &RestCore, observations: Vec<Observation>) -> Vec<Observation> {
    let fresh: Vec<Observation> = observations.into_iter().filter(|o| !core.is_stale(o)).collect();
    core.note_updates(&fresh);
    fresh
}
