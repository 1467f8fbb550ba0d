//! A fake GitHub (and Gitea) REST server on 127.0.0.1, port 0, serving the trackers' real JSON
//! shapes, with switches for paging, ETags, rate limits and outages. Every request is recorded.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use peerex_engine::Timestamp;
use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Normal,
    /// Every request answers this 5xx status.
    Down(u16),
    /// Primary rate limit exhausted: 403 with `x-ratelimit-remaining: 0` and this reset (epoch s).
    RateLimited {
        reset: i64,
    },
    /// Secondary limit: 429 with `retry-after` seconds.
    Secondary {
        retry_after: i64,
    },
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
}

pub struct FakeState {
    pub issues: Vec<Value>,
    pub mode: Mode,
    /// Bumped on every change of `issues`; part of each page's ETag.
    pub version: u64,
    /// Sent as `x-ratelimit-remaining` on successful answers.
    pub remaining: i64,
    pub reset: i64,
    pub requests: Vec<Seen>,
    /// Gitea flavour: `limit` instead of `per_page`, no ETag.
    pub gitea: bool,
    /// Issue number -> its events (GitHub's issue events list), oldest first.
    pub events: std::collections::HashMap<u64, Vec<Value>>,
}

#[derive(Clone)]
pub struct Fake {
    pub state: Arc<Mutex<FakeState>>,
    pub addr: SocketAddr,
}

impl Fake {
    pub async fn start(gitea: bool) -> Fake {
        let state = Arc::new(Mutex::new(FakeState {
            issues: Vec::new(),
            mode: Mode::Normal,
            version: 1,
            remaining: 4999,
            reset: 1_900_000_000,
            requests: Vec::new(),
            gitea,
            events: Default::default(),
        }));
        let prefix = if gitea { "/api/v1" } else { "" };
        let app = Router::new()
            .route(&format!("{prefix}/repos/{{owner}}/{{repo}}/issues"), get(list))
            .route(&format!("{prefix}/repos/{{owner}}/{{repo}}/issues/{{number}}"), get(one))
            .route(&format!("{prefix}/repos/{{owner}}/{{repo}}/issues/{{number}}/events"), get(events))
            .route(&format!("{prefix}/repos/{{owner}}/{{repo}}/issues/{{number}}/timeline"), get(timeline))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake { state, addr }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_issues(&self, issues: Vec<Value>) {
        let mut s = self.state.lock().unwrap();
        s.issues = issues;
        s.version += 1;
    }

    /// Replaces the issue with the same number.
    pub fn update(&self, issue: Value) {
        let mut s = self.state.lock().unwrap();
        let n = issue["number"].clone();
        match s.issues.iter_mut().find(|i| i["number"] == n) {
            Some(slot) => *slot = issue,
            None => s.issues.push(issue),
        }
        s.version += 1;
    }

    /// Adds an issue event (`closed`, `reopened`, `labeled`, ...) at `at`.
    pub fn add_event(&self, number: u64, event: &str, at: &str) {
        let mut s = self.state.lock().unwrap();
        let list = s.events.entry(number).or_default();
        let id = 9_000_000 + list.len() as u64;
        list.push(json!({
            "id": id,
            "node_id": format!("REE_{id}"),
            "url": format!("https://api.github.com/repos/demo/app/issues/events/{id}"),
            "actor": {"login": "octocat", "id": 1},
            "event": event,
            "commit_id": null,
            "commit_url": null,
            "created_at": at,
            "performed_via_github_app": null
        }));
        s.version += 1;
    }

    /// Adds a Gitea timeline entry (`close`, `reopen`, `comment`, ...) at `at`.
    pub fn add_timeline(&self, number: u64, kind: &str, at: &str) {
        let mut s = self.state.lock().unwrap();
        let list = s.events.entry(number).or_default();
        let id = 7_000 + list.len() as u64;
        list.push(json!({
            "id": id, "type": kind, "html_url": "", "pull_request_url": "", "issue_url": "",
            "user": {"id": 1, "login": "alice"}, "body": "", "created_at": at, "updated_at": at
        }));
        s.version += 1;
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().requests.clone()
    }
}

/// An address on which nothing listens (connection refused).
pub async fn dead_base() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn record(s: &mut FakeState, path: String, headers: &HeaderMap) {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    s.requests.push(Seen { path, if_none_match: h("if-none-match"), authorization: h("authorization") });
}

/// Answers for the modes that refuse; None when normal.
fn refusal(s: &FakeState) -> Option<Response> {
    match s.mode {
        Mode::Normal => None,
        Mode::Down(code) => {
            Some((StatusCode::from_u16(code).unwrap(), axum::Json(json!({"message": "Server Error"}))).into_response())
        }
        Mode::RateLimited { reset } => {
            let mut r = (
                StatusCode::FORBIDDEN,
                axum::Json(json!({
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                })),
            )
                .into_response();
            let h = r.headers_mut();
            h.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
            h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
            h.insert("x-ratelimit-reset", HeaderValue::from_str(&reset.to_string()).unwrap());
            Some(r)
        }
        Mode::Secondary { retry_after } => {
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"message": "You have exceeded a secondary rate limit."})),
            )
                .into_response();
            r.headers_mut().insert("retry-after", HeaderValue::from_str(&retry_after.to_string()).unwrap());
            Some(r)
        }
    }
}

fn rate_headers(s: &FakeState, h: &mut axum::http::HeaderMap) {
    if !s.gitea {
        h.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_str(&s.remaining.to_string()).unwrap());
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&s.reset.to_string()).unwrap());
    }
}

async fn list(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap();
    let query: Vec<String> = {
        let mut v: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        v.sort();
        v
    };
    record(&mut s, format!("/repos/{owner}/{repo}/issues?{}", query.join("&")), &headers);
    if let Some(r) = refusal(&s) {
        return r;
    }
    assert_eq!(q.get("state").map(String::as_str), Some("all"), "the adapter must ask for closed issues too");
    let size_key = if s.gitea { "limit" } else { "per_page" };
    let per_page: usize = q.get(size_key).and_then(|v| v.parse().ok()).unwrap_or(30);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let etag = format!("W/\"v{}-p{page}-n{per_page}\"", s.version);
    let mut extra = axum::http::HeaderMap::new();
    rate_headers(&s, &mut extra);
    if !s.gitea && headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        // GitHub: a 304 carries the ETag and the rate-limit headers, and no body.
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().extend(extra);
        r.headers_mut().insert("etag", HeaderValue::from_str(&etag).unwrap());
        return r;
    }
    let total = s.issues.len();
    let pages = total.div_ceil(per_page).max(1);
    let items: Vec<Value> = s.issues.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    let prefix = if s.gitea { "/api/v1" } else { "" };
    let link_to = |p: usize| {
        format!(
            "<http://{}{prefix}/repos/{owner}/{repo}/issues?state=all&{size_key}={per_page}&page={p}>",
            host(&headers)
        )
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    let mut r = axum::Json(Value::Array(items)).into_response();
    r.headers_mut().extend(extra);
    if !s.gitea {
        r.headers_mut().insert("etag", HeaderValue::from_str(&etag).unwrap());
    }
    if !links.is_empty() {
        r.headers_mut().insert("link", HeaderValue::from_str(&links.join(", ")).unwrap());
    }
    r
}

fn host(headers: &HeaderMap) -> String {
    headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_owned()
}

async fn one(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap();
    record(&mut s, format!("/repos/{owner}/{repo}/issues/{number}"), &headers);
    if let Some(r) = refusal(&s) {
        return r;
    }
    match s.issues.iter().find(|i| i["number"] == number) {
        Some(i) => {
            let mut r = axum::Json(i.clone()).into_response();
            rate_headers(&s, r.headers_mut());
            r
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})),
        )
            .into_response(),
    }
}

/// GitHub's issue events list, paged 2 per page when `per_page` asks for it (to test paging).
async fn events(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap();
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    record(&mut s, format!("/repos/{owner}/{repo}/issues/{number}/events?page={page}"), &headers);
    if let Some(r) = refusal(&s) {
        return r;
    }
    let all = s.events.get(&number).cloned().unwrap_or_default();
    let per_page = 2;
    let items: Vec<Value> = all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    let etag = format!("\"e{}-{number}-{page}\"", s.version);
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert("etag", HeaderValue::from_str(&etag).unwrap());
        return r;
    }
    let mut r = axum::Json(Value::Array(items)).into_response();
    r.headers_mut().insert("etag", HeaderValue::from_str(&etag).unwrap());
    if page * per_page < all.len() {
        let next = format!(
            "<http://{}/repos/{owner}/{repo}/issues/{number}/events?per_page=100&page={}>; rel=\"next\"",
            host(&headers),
            page + 1
        );
        r.headers_mut().insert("link", HeaderValue::from_str(&next).unwrap());
    }
    rate_headers(&s, r.headers_mut());
    r
}

/// Gitea's issue timeline (one page): entries stored by `add_timeline`.
async fn timeline(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap();
    record(&mut s, format!("/repos/{owner}/{repo}/issues/{number}/timeline"), &headers);
    axum::Json(Value::Array(s.events.get(&number).cloned().unwrap_or_default())).into_response()
}

/// RFC 3339 of a timestamp, as GitHub writes it (`2026-12-10T00:00:00Z`).
pub fn ts(t: &str) -> Timestamp {
    Timestamp::parse(t).unwrap()
}

/// A GitHub issue object with the fields GitHub really sends (abridged `user`).
pub fn gh_issue(
    repo: &str,
    number: u64,
    title: &str,
    state: &str,
    state_reason: Option<&str>,
    closed_at: Option<&str>,
    updated_at: &str,
) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/{repo}/issues/{number}"),
        "repository_url": format!("https://api.github.com/repos/{repo}"),
        "labels_url": format!("https://api.github.com/repos/{repo}/issues/{number}/labels{{/name}}"),
        "comments_url": format!("https://api.github.com/repos/{repo}/issues/{number}/comments"),
        "events_url": format!("https://api.github.com/repos/{repo}/issues/{number}/events"),
        "html_url": format!("https://github.com/{repo}/issues/{number}"),
        "id": 1_000_000 + number,
        "node_id": format!("I_kwDOAAAB{number}"),
        "number": number,
        "title": title,
        "user": {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false},
        "labels": [{"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "name": "bug", "color": "f29513", "default": true, "description": "Something isn't working"}],
        "state": state,
        "locked": false,
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "comments": 3,
        "created_at": "2026-11-01T08:00:00Z",
        "updated_at": updated_at,
        "closed_at": closed_at,
        "author_association": "OWNER",
        "active_lock_reason": null,
        "body": "It crashes.",
        "closed_by": null,
        "reactions": {"url": "", "total_count": 0, "+1": 0, "-1": 0},
        "timeline_url": format!("https://api.github.com/repos/{repo}/issues/{number}/timeline"),
        "performed_via_github_app": null,
        "state_reason": state_reason
    })
}

/// A pull request as it appears in GitHub's issues list.
pub fn gh_pull(repo: &str, number: u64) -> Value {
    let mut v = gh_issue(repo, number, "Fix the crash", "open", None, None, "2026-11-02T00:00:00Z");
    v["pull_request"] = json!({
        "url": format!("https://api.github.com/repos/{repo}/pulls/{number}"),
        "html_url": format!("https://github.com/{repo}/pull/{number}"),
        "diff_url": format!("https://github.com/{repo}/pull/{number}.diff"),
        "patch_url": format!("https://github.com/{repo}/pull/{number}.patch"),
        "merged_at": null
    });
    v
}
