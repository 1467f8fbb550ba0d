//! JSON errors `{"code", "message"}` with the right status, for every failure the API returns,
//! and the mapping of the writer's typed outcomes to status codes and bodies.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use peerex_engine::EngineError;

use crate::views::{ErrorView, View};
use crate::writer::{WriteError, WriteResult};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_owned(), message: message.into(), retry_after: None }
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "unauthorized", "log in first: send Authorization: Bearer <token>")
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, "not_found", message)
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "internal", message)
    }
    pub fn too_many(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(429, "rate_limited", "too many requests; slow down")
        }
    }
}

/// 503 `lagging`: this process has not applied the log as far as the request needs; retry.
impl From<crate::state::Lagging> for ApiError {
    fn from(l: crate::state::Lagging) -> ApiError {
        let message = format!("this process has applied the log up to {}, not yet {}; retry", l.applied, l.wanted);
        ApiError { retry_after: Some(1), ..ApiError::new(503, "lagging", message) }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        ApiError::new(e.status(), e.code(), e.message())
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        let status = match &e {
            WriteError::Engine { class, .. } => *class,
            WriteError::NameTaken(_) => 409,
            WriteError::IdempotencyKeyReused => 422,
            WriteError::Busy | WriteError::AtomicPaused(_) => 429,
            WriteError::Unavailable | WriteError::Storage | WriteError::NoWriter => 503,
        };
        let mut err = ApiError::new(status, e.code(), e.to_string());
        match e {
            WriteError::Busy | WriteError::NoWriter => err.retry_after = Some(1),
            WriteError::AtomicPaused(secs) => err.retry_after = Some(secs),
            _ => {}
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(ErrorView { code: self.code, message: self.message })).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The answer to a write: its status and the view of the state right after it (`null` when
/// there is none).
#[derive(Debug)]
pub struct Written(pub StatusCode, pub Option<View>);

impl IntoResponse for Written {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

/// Answers an applied action with `status` and its view, a refusal with its error.
pub fn written(status: StatusCode, r: WriteResult) -> ApiResult<Written> {
    let outcome = r?;
    Ok(Written(status, outcome.view))
}

/// The answers of an engine command the engine refused: any of its classes
/// ([`EngineError::status`]). Listed in the OpenAPI document of every operation that submits one.
#[derive(utoipa::IntoResponses)]
pub enum Refused {
    /// Bad input (an invalid amount, price, volume or time...).
    #[response(status = 400)]
    BadInput(ErrorView),
    /// Not the caller's, or for admins only.
    #[response(status = 403)]
    Forbidden(ErrorView),
    /// An unknown user, issue, series, offer or market.
    #[response(status = 404)]
    Unknown(ErrorView),
    /// A conflict: a duplicate id, already reported or resolved, time going backwards.
    #[response(status = 409)]
    Conflict(ErrorView),
    /// A rule refused it: insufficient funds or units, a closed series or market, a limit.
    #[response(status = 422)]
    Rule(ErrorView),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paused atomic batches answer 429 `busy` with the wait the writer computed; a full queue
    /// waits a second.
    #[test]
    fn a_pause_answers_busy_with_its_wait() {
        let e = ApiError::from(WriteError::AtomicPaused(7));
        assert_eq!((e.status, e.code.as_str(), e.retry_after), (429, "busy", Some(7)));
        assert!(e.message.contains("7 s") && e.message.contains("atomic"), "{}", e.message);
        let e = ApiError::from(WriteError::Busy);
        assert_eq!((e.status, e.retry_after), (429, Some(1)));
    }
}
