//! Browser sessions, separate from API tokens, and CSRF protection.
//!
//! * Every visitor gets a random session id in an HttpOnly, SameSite=Lax cookie (Secure, with the
//!   `__Host-` prefix, when the UI is served over TLS). The id is never an API token: a stolen
//!   cookie cannot be replayed against `/api/v1`, and an API token is never accepted by the UI.
//! * Logging in checks the password through the server's own log-in (same rules, same Argon2id,
//!   same timing), keeps the API session it creates on the server side, keyed by the hash of a
//!   fresh session id (rotated at log-in against fixation), and revokes it at log-out.
//! * The CSRF token of a session is HMAC-SHA256(process key, session id): nothing to store for
//!   anonymous visitors. Every state-changing form carries it; [`Posted`] compares it in
//!   constant time and checks the Origin (or Referer) before a handler sees the form, so a form
//!   without a valid token changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Web;

pub const COOKIE: &str = "peerex_session";
pub const SECURE_COOKIE: &str = "__Host-peerex_session";
/// Most logged-in browser sessions kept at once (the oldest goes first beyond it).
pub const MAX_SESSIONS: usize = 100_000;
/// Longest form body the UI reads.
pub const MAX_FORM: usize = 16 * 1024;

/// A logged-in browser.
#[derive(Clone, Debug)]
pub struct Login {
    pub name: String,
    pub admin: bool,
    /// The API session behind this browser session (never sent to the browser).
    pub token: String,
}

impl Login {
    /// The server's notion of the authenticated user, for calling its handlers.
    pub fn user(&self) -> peerex_server::http::extract::User {
        peerex_server::http::extract::User {
            name: self.name.clone(),
            admin: self.admin,
            token_hash: peerex_server::accounts::token_hash(&self.token),
        }
    }
}

struct Entry {
    token: String,
    seq: u64,
}

/// Browser session id (hash) -> the API token it holds.
pub struct Sessions {
    key: [u8; 32],
    map: RwLock<(HashMap<String, Entry>, u64)>,
}

impl Default for Sessions {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Sessions { key, map: RwLock::new((HashMap::new(), 0)) }
    }
}

fn id_hash(sid: &str) -> String {
    hex::encode(Sha256::digest(sid.as_bytes()))
}

/// A fresh session id (256 random bits, hex).
pub fn new_sid() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

fn valid_sid(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Sessions {
    pub fn csrf(&self, sid: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else { return String::new() };
        mac.update(b"csrf:");
        mac.update(sid.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `given` is the CSRF token of `sid` (constant time).
    pub fn csrf_ok(&self, sid: &str, given: &str) -> bool {
        let want = self.csrf(sid);
        !want.is_empty() && want.len() == given.len() && bool::from(want.as_bytes().ct_eq(given.as_bytes()))
    }

    pub fn token(&self, sid: &str) -> Option<String> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.0.get(&id_hash(sid)).map(|e| e.token.clone())
    }

    pub fn insert(&self, sid: &str, token: String) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.0.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.0.iter().min_by_key(|(_, e)| e.seq).map(|(k, _)| k.clone()) {
                map.0.remove(&oldest);
            }
        }
        map.1 += 1;
        let seq = map.1;
        map.0.insert(id_hash(sid), Entry { token, seq });
    }

    pub fn remove(&self, sid: &str) -> Option<String> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.0.remove(&id_hash(sid)).map(|e| e.token)
    }
}

/// The session id of this request, set by [`crate::security::headers`] (a new one when the
/// browser sent none; the response then sets the cookie).
#[derive(Clone, Debug)]
pub struct Sid(pub String);

/// Reads the session id from the Cookie header.
pub fn sid_from(headers: &HeaderMap) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(';') {
            let part = part.trim();
            let val = part.strip_prefix(SECURE_COOKIE).or_else(|| part.strip_prefix(COOKIE));
            if let Some(val) = val.and_then(|v| v.strip_prefix('=')) {
                if valid_sid(val) {
                    return Some(val.to_owned());
                }
            }
        }
    }
    None
}

/// The Set-Cookie value for `sid`.
pub fn cookie(sid: &str, secure: bool) -> HeaderValue {
    let v = if secure {
        format!("{SECURE_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax; Secure")
    } else {
        format!("{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax")
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Who is looking at the page.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub sid: String,
    pub csrf: String,
    pub login: Option<Login>,
    /// The server runs the demo (`peerex serve --demo`): every page says so.
    pub demo: bool,
}

impl Viewer {
    pub fn name(&self) -> Option<&str> {
        self.login.as_ref().map(|l| l.name.as_str())
    }
    pub fn is_admin(&self) -> bool {
        self.login.as_ref().is_some_and(|l| l.admin)
    }
}

impl FromRequestParts<Web> for Viewer {
    type Rejection = Response;

    /// A logged-in viewer's page (or form) waits until the readers' engine has that user's own
    /// writes (`AppState::own_writes`): what a person just did shows on the next page.
    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let sid = parts.extensions.get::<Sid>().map(|s| s.0.clone()).unwrap_or_else(new_sid);
        let v = viewer(web, sid);
        if let Some(login) = &v.login {
            if web.app.own_writes(&login.name).await.is_err() {
                let message = "The server is still saving a moment ago's changes. Reload the page in a few seconds.";
                return Err(crate::layout::error_page(&v, 503, "lagging", message));
            }
        }
        Ok(v)
    }
}

pub fn viewer(web: &Web, sid: String) -> Viewer {
    let csrf = web.sessions.csrf(&sid);
    let login = web.sessions.token(&sid).and_then(|token| {
        let accounts = web.app.shared.accounts();
        let account = accounts.authenticate(&token)?;
        Some(Login { name: account.name.clone(), admin: account.admin, token: token.clone() })
    });
    Viewer { sid, csrf, login, demo: web.app.settings.demo.is_some() }
}

/// Form fields, in order (repeated names allowed).
#[derive(Clone, Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    pub fn str(&self, k: &str) -> String {
        self.get(k).unwrap_or("").trim().to_owned()
    }
    pub fn checked(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
    }
    /// The query string of these fields minus `csrf` (to re-display a form after an error).
    pub fn without_secrets(&self) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| k != "csrf" && k != "password").cloned().collect()
    }
}

/// A state-changing form that passed the Origin and CSRF checks.
pub struct Posted {
    pub viewer: Viewer,
    pub fields: Fields,
}

/// Why a post was refused before it could change anything (a 403 page: `layout`).
pub struct Refused(pub &'static str, pub &'static str);

/// Same-origin check: the Origin header (or, without it, the Referer) must name this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let matches = |url: &str| {
        let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        rest.is_some_and(|r| {
            let authority = r.split('/').next().unwrap_or("");
            authority.eq_ignore_ascii_case(host)
        })
    };
    if let Some(o) = headers.get(header::ORIGIN) {
        return o.to_str().is_ok_and(matches);
    }
    if let Some(r) = headers.get(header::REFERER) {
        return r.to_str().is_ok_and(matches);
    }
    // Neither header (old clients, privacy tools): the CSRF token alone decides.
    true
}

impl FromRequest<Web> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, web: &Web) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, web).await?;
        if !same_origin(&parts.headers) {
            return Err(Refused("cross_origin", "This form was sent from another site, so nothing was changed.")
                .into_response());
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
            Refused("form_too_large", "The form is larger than the server accepts; nothing was changed.")
                .into_response()
        })?;
        let fields: Vec<(String, String)> = serde_urlencoded_pairs(&bytes);
        let fields = Fields(fields);
        if !web.sessions.csrf_ok(&viewer.sid, fields.get("csrf").unwrap_or("")) {
            return Err(Refused(
                "csrf_invalid",
                "The form's security token is missing or stale, so nothing was changed. Reload the page and try again.",
            )
            .into_response());
        }
        Ok(Posted { viewer, fields })
    }
}

fn serde_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let q = String::from_utf8_lossy(bytes);
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{q}").parse().unwrap_or_else(|_| axum::http::Uri::from_static("/")),
    )
    .map(|axum::extract::Query(v)| v)
    .unwrap_or_default()
    .into_iter()
    .take(64)
    .collect()
}

pub type SharedSessions = Arc<Sessions>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let s = Sessions::default();
        let a = new_sid();
        let b = new_sid();
        let t = s.csrf(&a);
        assert!(s.csrf_ok(&a, &t));
        assert!(!s.csrf_ok(&b, &t));
        assert!(!s.csrf_ok(&a, ""));
        assert!(!s.csrf_ok(&a, &t[..10]));
        // Another process key gives other tokens.
        assert!(!Sessions::default().csrf_ok(&a, &t));
    }

    #[test]
    fn cookies_are_parsed_strictly() {
        let sid = new_sid();
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(&format!("a=b; {COOKIE}={sid}")).unwrap());
        assert_eq!(sid_from(&h), Some(sid));
        h.insert(header::COOKIE, HeaderValue::from_static("peerex_session=not-hex"));
        assert_eq!(sid_from(&h), None);
        let c = cookie("ab", true);
        assert!(c.to_str().unwrap().contains("HttpOnly; SameSite=Lax; Secure"));
    }

    #[test]
    fn origin_must_match_the_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }
}
