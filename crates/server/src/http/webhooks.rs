//! Tracker webhooks: the signature (or GitLab's token) is checked over the raw body, then the
//! delivery's observations go through the writer (`trackers::apply`: only those that change
//! something, together).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use peerex_trackers::WebhookError;

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::trackers::Kind;
use crate::views::{ErrorView, WebhookView};

/// Verifies a delivery and applies its observations. 401 for a missing or wrong signature/token
/// (or no configured secret), 400 for a payload that is not an issues event the tracker would
/// send, 404 when the tracker is not configured.
async fn webhook(state: AppState, kind: Kind, headers: HeaderMap, body: Bytes) -> ApiResult<Json<WebhookView>> {
    let Some(tracker) = state.trackers.get(kind).cloned() else {
        return Err(ApiError::not_found(format!("no {} tracker is configured", kind.label())));
    };
    let observations = tracker.webhook(&headers, &body, state.shared.clock.now()).map_err(|e| {
        let status = match e {
            WebhookError::BadPayload(_) => 400,
            _ => 401,
        };
        ApiError::new(status, e.code(), e.to_string())
    })?;
    let applied = crate::trackers::apply(&state, &observations).await?;
    Ok(Json(WebhookView { observations: observations.len(), submitted: applied.submitted, applied: applied.accepted }))
}

/// `POST /api/v1/webhooks/github`: `X-Hub-Signature-256` (HMAC-SHA256 of the body).
#[utoipa::path(post, path = "/webhooks/github", tag = "feeds", request_body(content = Object, description = "a GitHub `issues` delivery; `X-Hub-Signature-256` over the raw body"),
    responses((status = 200, description = "observations applied (only those that change something are submitted)", body = WebhookView), (status = 400, description = "not an issues event", body = ErrorView), (status = 401, description = "missing or wrong signature or token", body = ErrorView), (status = 404, description = "the tracker is not configured", body = ErrorView)))]
pub async fn github_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookView>> {
    webhook(state, Kind::GitHub, headers, body).await
}

/// `POST /api/v1/webhooks/gitlab`: the secret token in `X-Gitlab-Token`.
#[utoipa::path(post, path = "/webhooks/gitlab", tag = "feeds", request_body(content = Object, description = "a GitLab Issue Hook delivery; the secret token in `X-Gitlab-Token`"),
    responses((status = 200, description = "observations applied (only those that change something are submitted)", body = WebhookView), (status = 400, description = "not an issues event", body = ErrorView), (status = 401, description = "missing or wrong signature or token", body = ErrorView), (status = 404, description = "the tracker is not configured", body = ErrorView)))]
pub async fn gitlab_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookView>> {
    webhook(state, Kind::GitLab, headers, body).await
}

/// `POST /api/v1/webhooks/gitea`: `X-Gitea-Signature` or `X-Forgejo-Signature` (hex HMAC-SHA256).
#[utoipa::path(post, path = "/webhooks/gitea", tag = "feeds", request_body(content = Object, description = "a Gitea/Forgejo `issues` delivery; `X-Gitea-Signature` or `X-Forgejo-Signature` over the raw body"),
    responses((status = 200, description = "observations applied (only those that change something are submitted)", body = WebhookView), (status = 400, description = "not an issues event", body = ErrorView), (status = 401, description = "missing or wrong signature or token", body = ErrorView), (status = 404, description = "the tracker is not configured", body = ErrorView)))]
pub async fn gitea_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookView>> {
    webhook(state, Kind::Gitea, headers, body).await
}
