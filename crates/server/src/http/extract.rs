//! Request extractors whose every failure is a JSON [`ApiError`]: bodies, query strings, the
//! authenticated user (with the per-user rate limit), and the Idempotency-Key.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::writer::Idempotency;

/// Longest accepted Idempotency-Key.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

/// A JSON body (any content type is read as JSON; the size limit is the router's).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status().as_u16(), "invalid_body", e.body_text()))?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("invalid_body", "a JSON body is required"));
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|e| body_error(format!("invalid JSON body: {e}")))
    }
}

/// A body that does not deserialize: `invalid_time` when a time is at fault (not RFC 3339, or
/// outside the range the log can replay), `invalid_body` otherwise.
pub fn body_error(message: String) -> ApiError {
    let code = if message.contains("RFC 3339") { "invalid_time" } else { "invalid_body" };
    ApiError::bad_request(code, message)
}

/// Query-string parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded_like(q).map(Query)
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{q}").parse().map_err(|_| bad_query("bad query string"))?)
        .map(|axum::extract::Query(t)| t)
        .map_err(|e| bad_query(&e.body_text()))
}

fn bad_query(m: &str) -> ApiError {
    ApiError::bad_request("invalid_query", m.to_owned())
}

/// The authenticated user. Extracted in a read (GET, HEAD), it waits until the readers' engine
/// has the user's own writes ([`AppState::own_writes`]).
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub admin: bool,
    pub token_hash: String,
}

impl User {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("only an admin may do this"))
        }
    }
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim);
        let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 256) else {
            return Err(ApiError::unauthorized());
        };
        let (name, admin) = state.authenticate(token).await.ok_or_else(ApiError::unauthorized)?;
        let user = User { name, admin, token_hash: crate::accounts::token_hash(token) };
        if let Err(wait) = state.limiter.check(&format!("user:{}", user.name)) {
            state.shared.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(ApiError::too_many(wait));
        }
        // A user reads its own writes (writes need not wait: the writer has them all; the
        // few that check the readers' engine first wait themselves).
        if parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD {
            state.own_writes(&user.name).await?;
        }
        Ok(user)
    }
}

/// An optional login: no `Authorization` header is `None`; a bad one is still refused.
impl axum::extract::OptionalFromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        if parts.headers.get("authorization").is_none() {
            return Ok(None);
        }
        <User as FromRequestParts<AppState>>::from_request_parts(parts, state).await.map(Some)
    }
}

/// A hash of the request (method, path and query, body) that the `fingerprint` middleware puts
/// in the request's extensions when it carries an `Idempotency-Key`.
#[derive(Clone, Debug)]
pub struct RequestHash(pub String);

impl RequestHash {
    pub fn of(method: &str, path_and_query: &str, body: &[u8]) -> RequestHash {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update(b"\n");
        h.update(path_and_query.as_bytes());
        h.update(b"\n");
        h.update(body);
        RequestHash(hex::encode(h.finalize()))
    }
}

/// The optional `Idempotency-Key` header, with the hash of its request.
pub struct IdempotencyKey(pub Option<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => {
                let key = v.to_str().map_err(|_| ApiError::bad_request("invalid_idempotency_key", "not ASCII"))?;
                if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
                    return Err(ApiError::bad_request(
                        "invalid_idempotency_key",
                        format!("an Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} characters"),
                    ));
                }
                let hash = parts.extensions.get::<RequestHash>().map(|h| h.0.clone()).unwrap_or_default();
                Ok(IdempotencyKey(Some((key.to_owned(), hash))))
            }
        }
    }
}

impl IdempotencyKey {
    /// The key scoped to its caller, so two users' keys never collide.
    pub fn scoped(self, scope: &str) -> Option<Idempotency> {
        self.0.map(|(key, request_hash)| Idempotency { scope: scope.to_owned(), key, request_hash })
    }
}

/// The `{id}` path segment (1 to 200 characters).
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(id) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
        if id.is_empty() || id.len() > 200 {
            return Err(ApiError::bad_request("invalid_path", "an id has 1 to 200 characters"));
        }
        Ok(PathId(id))
    }
}
