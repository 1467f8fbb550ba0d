//! The writer's end of forwarded writes (`crate::cluster`): `POST /internal/v1/submit`, for the
//! other processes of a cluster only. Not part of the public API (not in the OpenAPI document):
//! a request must carry the secret the writer advertised in the database, so only a process
//! that reads that database can send one. A process that is not the writer (any more) answers
//! 503 `writer_unavailable`, and the replica reads the database again for the new writer.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::forward::{Forwarded, ForwardedAnswer, SECRET_HEADER};
use crate::http::error::ApiError;
use crate::http::extract::Body;
use crate::state::AppState;
use crate::writer::WriteError;

/// The largest forwarded write: a batch of 1,000 commands, with room for its JSON wrapping.
pub const FORWARD_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Whether a request carries this writer's secret.
pub fn authorised(state: &AppState, headers: &HeaderMap) -> bool {
    headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|s| state.shared.cluster.accepts(s))
}

pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Body<Forwarded>) -> Response {
    if !state.shared.cluster.enabled || !state.shared.cluster.is_writer() {
        return ApiError::from(WriteError::NoWriter).into_response();
    }
    if !authorised(&state, &headers) {
        return ApiError::forbidden("not a process of this cluster").into_response();
    }
    let Body(Forwarded { action, idempotency }) = body;
    let result = state.submit_here(action, idempotency).await;
    Json(ForwardedAnswer::of(result, state.shared.cluster.written())).into_response()
}
