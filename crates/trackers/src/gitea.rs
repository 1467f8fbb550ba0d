//! Gitea and Forgejo (Codeberg, ...): a GitHub-like REST API under `/api/v1`, `token` auth,
//! paging by `Link`, and `issues` webhooks signed with hex HMAC-SHA256 in `X-Gitea-Signature`
//! (Forgejo also sends `X-Forgejo-Signature`). Gitea has no close reason: a closed issue counts
//! as closed as completed. The exact reopen instant comes from the issue's timeline.

use std::sync::Arc;

use peerex_engine::exchange::types::CloseReason;
use peerex_engine::Timestamp;
use reqwest::header::HeaderMap;

use crate::clock::Clock;
use crate::error::{TrackerError, WebhookError};
use crate::github::{header, keep_fresh};
use crate::health::TrackerHealth;
use crate::observation::{validate_repo, Observation, SyncResult};
use crate::rest::{adapter_headers, fetch_all, fetch_one, Dialect, ReopenSource, RestCore};
use crate::{signature, BoxFuture, Tracker};

const DIALECT: Dialect =
    Dialect { closed_without_reason: CloseReason::Completed, reopens: ReopenSource::GiteaTimeline };

#[derive(Clone, Debug)]
pub struct GiteaConfig {
    /// The instance, e.g. `https://codeberg.org` (the API lives under `/api/v1`).
    pub base_url: String,
    pub token: Option<String>,
    pub webhook_secret: Option<String>,
    pub tracker_name: String,
    /// Issues per page (Gitea's default maximum is 50).
    pub per_page: u32,
}

impl Default for GiteaConfig {
    fn default() -> Self {
        GiteaConfig {
            base_url: "https://codeberg.org".to_owned(),
            token: None,
            webhook_secret: None,
            tracker_name: "gitea".to_owned(),
            per_page: 50,
        }
    }
}

pub struct Gitea {
    core: RestCore,
    name: String,
    secret: Vec<u8>,
    per_page: u32,
}

impl Gitea {
    pub fn new(config: GiteaConfig, clock: Arc<dyn Clock>) -> Result<Gitea, TrackerError> {
        let headers = adapter_headers("application/json", &[], "token", config.token.as_deref(), &config.tracker_name)?;
        let base = format!("{}/api/v1", config.base_url.trim_end_matches('/'));
        Ok(Gitea {
            core: RestCore::new(&base, headers, clock)?,
            name: config.tracker_name,
            secret: config.webhook_secret.unwrap_or_default().into_bytes(),
            per_page: config.per_page.clamp(1, 50),
        })
    }
}

impl Tracker for Gitea {
    fn name(&self) -> &str {
        &self.name
    }

    fn fetch_repo<'a>(&'a self, repo: &'a str) -> BoxFuture<'a, Result<SyncResult, TrackerError>> {
        Box::pin(async move {
            validate_repo(repo)?;
            let url = self.core.url(&format!("/repos/{repo}/issues?state=all&type=issues&limit={}", self.per_page));
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
        let sig = header(headers, "x-gitea-signature")
            .or_else(|| header(headers, "x-forgejo-signature"))
            .ok_or(WebhookError::MissingSignature)?;
        signature::verify(&self.secret, body, sig)?;
        let event = header(headers, "x-gitea-event").or_else(|| header(headers, "x-forgejo-event")).unwrap_or_default();
        let observations = crate::github::issue_event_with(event, body, &self.name, received_at, DIALECT)?;
        Ok(keep_fresh(&self.core, observations))
    }

    fn health(&self) -> TrackerHealth {
        self.core.health()
    }
}
