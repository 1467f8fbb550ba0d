//! GitLab (gitlab.com or self-managed) through REST v4: projects addressed by their full path
//! (`group/sub/project`), issues by `iid`, state `opened`/`closed` (GitLab has no close reason: a
//! closed issue counts as closed as completed), paging by `Link`, `RateLimit-*` headers, and the
//! exact reopen instant from the issue's resource state events. Webhooks ("Issue Hook") carry the
//! secret in `X-Gitlab-Token`, compared in constant time.

use std::sync::Arc;

use peerex_engine::exchange::types::CloseReason;
use peerex_engine::Timestamp;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::clock::Clock;
use crate::error::{TrackerError, WebhookError};
use crate::github::{header, keep_fresh};
use crate::health::TrackerHealth;
use crate::observation::{validate_repo, Observation, SyncResult};
use crate::rest::{adapter_headers, encode_path, fetch_all, fetch_one, Dialect, RawIssue, ReopenSource, RestCore};
use crate::{BoxFuture, Tracker};

const DIALECT: Dialect =
    Dialect { closed_without_reason: CloseReason::Completed, reopens: ReopenSource::GitLabStateEvents };

#[derive(Clone, Debug)]
pub struct GitLabConfig {
    /// The instance, e.g. `https://gitlab.com` (the API lives under `/api/v4`).
    pub base_url: String,
    /// A personal, project or OAuth token with `read_api`.
    pub token: Option<String>,
    /// The webhook's secret token.
    pub webhook_secret: Option<String>,
    pub tracker_name: String,
    /// Issues per page (GitLab allows up to 100).
    pub per_page: u32,
}

impl Default for GitLabConfig {
    fn default() -> Self {
        GitLabConfig {
            base_url: "https://gitlab.com".to_owned(),
            token: None,
            webhook_secret: None,
            tracker_name: "gitlab".to_owned(),
            per_page: 100,
        }
    }
}

pub struct GitLab {
    core: RestCore,
    name: String,
    secret: Vec<u8>,
    per_page: u32,
}

impl GitLab {
    pub fn new(config: GitLabConfig, clock: Arc<dyn Clock>) -> Result<GitLab, TrackerError> {
        let headers =
            adapter_headers("application/json", &[], "Bearer", config.token.as_deref(), &config.tracker_name)?;
        let base = format!("{}/api/v4", config.base_url.trim_end_matches('/'));
        Ok(GitLab {
            core: RestCore::new(&base, headers, clock)?,
            name: config.tracker_name,
            secret: config.webhook_secret.unwrap_or_default().into_bytes(),
            per_page: config.per_page.clamp(1, 100),
        })
    }
}

impl Tracker for GitLab {
    fn name(&self) -> &str {
        &self.name
    }

    fn fetch_repo<'a>(&'a self, repo: &'a str) -> BoxFuture<'a, Result<SyncResult, TrackerError>> {
        Box::pin(async move {
            validate_repo(repo)?;
            // Without `state`, GitLab lists open and closed issues.
            let url = self.core.url(&format!("/projects/{}/issues?per_page={}", encode_path(repo), self.per_page));
            fetch_all(&self.core, DIALECT, repo, &self.name, url).await
        })
    }

    fn fetch_issue<'a>(&'a self, repo: &'a str, number: u64) -> BoxFuture<'a, Result<SyncResult, TrackerError>> {
        Box::pin(async move {
            validate_repo(repo)?;
            let url = self.core.url(&format!("/projects/{}/issues/{number}", encode_path(repo)));
            fetch_one(&self.core, DIALECT, repo, number, &self.name, url).await
        })
    }

    fn webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: Timestamp,
    ) -> Result<Vec<Observation>, WebhookError> {
        if self.secret.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        let token = header(headers, "x-gitlab-token").ok_or(WebhookError::MissingSignature)?;
        if !constant_time_eq(token.as_bytes(), &self.secret) {
            return Err(WebhookError::BadSignature);
        }
        let event = header(headers, "x-gitlab-event").unwrap_or_default();
        if !matches!(event, "Issue Hook" | "Confidential Issue Hook") {
            return Ok(Vec::new());
        }
        let p: IssueHook = serde_json::from_slice(body).map_err(|e| WebhookError::BadPayload(e.to_string()))?;
        let repo = p.project.path_with_namespace;
        validate_repo(&repo).map_err(|e| WebhookError::BadPayload(e.to_string()))?;
        let o = p
            .object_attributes
            .observe(DIALECT, &repo, &self.name, received_at)
            .map_err(|e| WebhookError::BadPayload(e.to_string()))?;
        Ok(keep_fresh(&self.core, o.into_iter().collect()))
    }

    fn health(&self) -> TrackerHealth {
        self.core.health()
    }
}

#[derive(Deserialize)]
struct IssueHook {
    project: Project,
    object_attributes: RawIssue,
}

#[derive(Deserialize)]
struct Project {
    path_with_namespace: String,
}

/// Equality whose time depends only on the lengths, not on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
