//! Tracker webhooks: the signature is checked over the raw body, then the delivery's
//! observations go through the writer (`trackers::apply`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use peerex_trackers::{Tracker, WebhookError};

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::{ErrorView, WebhookView};

/// `POST /api/v1/webhooks/github`: verifies the signature over the raw body, then applies the
/// delivery's observations. 401 for a missing or wrong signature (or no configured secret),
/// 400 for a payload that is not an issues event GitHub would send, 404 without GitHub.
#[utoipa::path(post, path = "/webhooks/github", tag = "feeds", request_body(content = Object, description = "a GitHub `issues` delivery; `X-Hub-Signature-256` over the raw body"),
    responses((status = 200, description = "observations applied", body = WebhookView), (status = 401, description = "missing or wrong signature", body = ErrorView), (status = 404, description = "no GitHub tracker is configured", body = ErrorView)))]
pub async fn github_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookView>> {
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
    let applied = crate::trackers::apply(&state, &observations).await;
    Ok(Json(WebhookView { observations: observations.len(), applied }))
}
