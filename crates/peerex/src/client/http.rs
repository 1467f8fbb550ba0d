//! The API client: JSON over HTTP with the bearer token, and the server's `{code, message}` errors
//! turned into one readable line.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

pub struct Api {
    base: Url,
    token: Option<String>,
    client: Client,
}

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.message, self.code, self.status.as_u16())
    }
}

impl std::error::Error for ApiError {}

impl Api {
    pub fn new(server: &str, token: Option<String>) -> Result<Api> {
        let base = Url::parse(server).map_err(|e| anyhow!("--server {server:?} is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("--server {server:?} is not an http(s) URL");
        }
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("peerex-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Api { base, token, client })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `/api/v1` + the given path segments (each percent-encoded, so ids cannot change the path).
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Url> {
        let mut url = self.base.clone();
        url.set_query(None);
        {
            let mut path = url.path_segments_mut().map_err(|_| anyhow!("{} cannot hold a path", self.base))?;
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    pub fn get(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Value> {
        let url = self.url(segments, query)?;
        self.send(self.client.request(Method::GET, url))
    }

    /// POSTs with an `Idempotency-Key`, so the retries of `send` cannot act twice.
    pub fn post(&self, segments: &[&str], body: &Value) -> Result<Value> {
        let url = self.url(segments, &[])?;
        let req = self.client.request(Method::POST, url).header("idempotency-key", idempotency_key()).json(body);
        self.send(req)
    }

    pub fn delete(&self, segments: &[&str]) -> Result<Value> {
        let url = self.url(segments, &[])?;
        self.send(self.client.request(Method::DELETE, url))
    }

    /// Sends, retrying a request that never reached the server or met a gateway error (502, 503,
    /// 504) up to `ATTEMPTS` times; every other answer is final.
    fn send(&self, mut req: RequestBuilder) -> Result<Value> {
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let mut attempt = 1;
        let resp = loop {
            let retry = req.try_clone();
            let result = req.send();
            let transient = match &result {
                Ok(r) => matches!(r.status().as_u16(), 502..=504),
                Err(e) => e.is_connect() || e.is_timeout(),
            };
            match retry {
                Some(again) if transient && attempt < ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(250 * attempt));
                    attempt += 1;
                    req = again;
                }
                _ => {
                    break result
                        .map_err(|e| anyhow!("cannot reach the server at {}: {}", self.base, root_cause(&e)))?
                }
            }
        };
        let status = resp.status();
        let text = resp.text().map_err(|e| anyhow!("reading the answer of {}: {}", self.base, root_cause(&e)))?;
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| anyhow!("the server answered {status} with non-JSON: {e}"));
        }
        Err(api_error(status, &text).into())
    }
}

const ATTEMPTS: u64 = 3;

/// A key unique to this request: process id, wall-clock nanoseconds and a counter.
fn idempotency_key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("cli-{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The `{code, message}` body of an error, or a description of whatever came instead.
fn api_error(status: StatusCode, text: &str) -> ApiError {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    // Accept both {"code","message"} and {"error":{"code","message"}}.
    let obj = parsed.as_ref().map(|v| v.get("error").filter(|e| e.is_object()).unwrap_or(v));
    let field = |k: &str| obj.and_then(|o| o.get(k)).and_then(Value::as_str).map(str::to_owned);
    let code =
        field("code").unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase().replace(' ', "_"));
    let message = field("message").unwrap_or_else(|| {
        let t: String = text.trim().chars().take(200).collect();
        if t.is_empty() {
            format!("the server answered {status}")
        } else {
            t.replace('\n', " ")
        }
    });
    ApiError { status, code, message }
}

fn root_cause(e: &reqwest::Error) -> String {
    let mut last = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_encoded_urls_under_api_v1() {
        let api = Api::new("http://127.0.0.1:8080", None).unwrap();
        let u = api.url(&["offers", "a/b#c"], &[]).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/api/v1/offers/a%2Fb%23c");
        let u = api.url(&["series"], &[("issue", "demo/app#1".into())]).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/api/v1/series?issue=demo%2Fapp%231");
        let prefixed = Api::new("https://x.example/peerex/", None).unwrap();
        assert_eq!(prefixed.url(&["me"], &[]).unwrap().as_str(), "https://x.example/peerex/api/v1/me");
        assert!(Api::new("ftp://x", None).is_err());
        assert!(Api::new("not a url", None).is_err());
    }

    #[test]
    fn reads_error_bodies() {
        let e = api_error(StatusCode::CONFLICT, r#"{"code":"name_taken","message":"the name adam is taken"}"#);
        assert_eq!(e.to_string(), "the name adam is taken (name_taken, HTTP 409)");
        let e = api_error(StatusCode::BAD_GATEWAY, "<html>\nbad gateway</html>");
        assert_eq!(e.to_string(), "<html> bad gateway</html> (bad_gateway, HTTP 502)");
        let e = api_error(StatusCode::UNAUTHORIZED, "");
        assert_eq!(e.to_string(), "the server answered 401 Unauthorized (unauthorized, HTTP 401)");
        let nested =
            api_error(StatusCode::UNPROCESSABLE_ENTITY, r#"{"error":{"code":"insufficient_funds","message":"m"}}"#);
        assert_eq!(nested.code, "insufficient_funds");
    }
}
