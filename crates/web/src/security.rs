//! Headers on every UI response: a strict Content-Security-Policy (no inline scripts or styles,
//! nothing from other origins), nosniff, no framing, a same-origin referrer, no caching of pages;
//! and the session cookie for browsers that have none yet.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::session::{cookie, new_sid, sid_from, Sid};
use crate::Web;

/// The policy of every page.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn headers(State(web): State<Web>, mut req: Request, next: Next) -> Response {
    let existing = sid_from(req.headers());
    let sid = existing.clone().unwrap_or_else(new_sid);
    req.extensions_mut().insert(Sid(sid.clone()));
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // same-origin: our own POSTs keep a real Origin header; other sites learn nothing.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // A handler that rotated the session (log in / out) already set its own cookie.
    if existing.is_none() && !is_static && !h.contains_key(header::SET_COOKIE) {
        h.append(header::SET_COOKIE, cookie(&sid, web.config.secure_cookies));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::CSP;

    #[test]
    fn the_policy_is_strict() {
        for d in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(CSP.contains(d), "{d}");
        }
        assert!(!CSP.contains("unsafe"));
    }
}
