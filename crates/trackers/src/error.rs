//! What can go wrong talking to a tracker, and with a webhook delivery. Each error has a stable
//! code for logs and the API.

use peerex_engine::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// The tracker asked us to wait (rate limit or secondary limit); no request is sent before
    /// `until`. Not a failure of the tracker: settlement simply waits.
    #[error("rate limited until {until}")]
    RateLimited { until: Timestamp },
    /// Connection refused, timeout, 5xx: the tracker is down for now.
    #[error("tracker unavailable: {0}")]
    Unavailable(String),
    /// 401/403 without rate-limit headers: the token is wrong or lacks access.
    #[error("not authorized: {0}")]
    Unauthorized(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// An answer we cannot read (not the JSON shape we expect, bad paging link, ...).
    #[error("unexpected answer: {0}")]
    BadResponse(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl TrackerError {
    pub fn code(&self) -> &'static str {
        match self {
            TrackerError::RateLimited { .. } => "rate_limited",
            TrackerError::Unavailable(_) => "tracker_unavailable",
            TrackerError::Unauthorized(_) => "tracker_unauthorized",
            TrackerError::NotFound(_) => "tracker_not_found",
            TrackerError::BadResponse(_) => "tracker_bad_response",
            TrackerError::InvalidArgument(_) => "invalid_argument",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the delivery has no signature header")]
    MissingSignature,
    #[error("the delivery's signature does not match the secret")]
    BadSignature,
    #[error("no webhook secret is configured, so no delivery can be trusted")]
    NoSecret,
    #[error("the delivery's payload cannot be read: {0}")]
    BadPayload(String),
}

impl WebhookError {
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingSignature => "missing_signature",
            WebhookError::BadSignature => "bad_signature",
            WebhookError::NoSecret => "no_webhook_secret",
            WebhookError::BadPayload(_) => "bad_payload",
        }
    }
}
