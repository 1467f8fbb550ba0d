//! The GitLab adapter against a small fake GitLab (`/api/v4`, projects by encoded full path,
//! `iid`, `opened`/`closed`, resource state events, `RateLimit-*`, `X-Gitlab-Token` webhooks).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_trackers::gitlab::GitLabConfig;
use peerex_trackers::{GitLab, ManualClock, Tracker, TrackerError, WebhookError};
use serde_json::{json, Value};

use crate::fake::ts;

#[derive(Default)]
struct Lab {
    issues: Vec<Value>,
    state_events: HashMap<u64, Vec<Value>>,
    seen: Vec<(String, Option<String>)>,
    limited_until: Option<i64>,
}

type Shared = Arc<Mutex<Lab>>;

async fn start() -> (Shared, String) {
    let lab: Shared = Arc::default();
    let app = Router::new()
        .route("/api/v4/projects/{project}/issues", get(list))
        .route("/api/v4/projects/{project}/issues/{iid}/resource_state_events", get(events))
        .with_state(lab.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (lab, base)
}

fn note(lab: &mut Lab, uri: &Uri, headers: &HeaderMap) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    lab.seen.push((uri.to_string(), auth));
}

async fn list(
    State(lab): State<Shared>,
    Path(project): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut lab = lab.lock().unwrap();
    note(&mut lab, &uri, &headers);
    assert_eq!(project, "group/sub/app", "the project travels as one encoded segment");
    if let Some(reset) = lab.limited_until {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "Retry later").into_response();
        let h = r.headers_mut();
        h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("ratelimit-reset", HeaderValue::from_str(&reset.to_string()).unwrap());
        return r;
    }
    let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(20);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let items: Vec<Value> = lab.issues.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    let mut r = axum::Json(Value::Array(items)).into_response();
    let h = r.headers_mut();
    h.insert("ratelimit-remaining", HeaderValue::from_static("1999"));
    h.insert("x-total", HeaderValue::from_str(&lab.issues.len().to_string()).unwrap());
    if page * per_page < lab.issues.len() {
        let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let next = format!(
            "<http://{host}/api/v4/projects/group%2Fsub%2Fapp/issues?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        );
        h.insert("link", HeaderValue::from_str(&next).unwrap());
        h.insert("x-next-page", HeaderValue::from_str(&(page + 1).to_string()).unwrap());
    }
    r
}

async fn events(
    State(lab): State<Shared>,
    Path((_, iid)): Path<(String, u64)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut lab = lab.lock().unwrap();
    note(&mut lab, &uri, &headers);
    axum::Json(Value::Array(lab.state_events.get(&iid).cloned().unwrap_or_default())).into_response()
}

fn gl_issue(iid: u64, state: &str, closed_at: Option<&str>, created: &str, updated: &str) -> Value {
    json!({
        "id": 9000 + iid, "iid": iid, "project_id": 3, "title": format!("issue {iid}"), "description": "",
        "state": state, "created_at": created, "updated_at": updated, "closed_at": closed_at,
        "closed_by": null, "labels": [], "milestone": null, "assignees": [], "author": {"id": 1, "username": "root"},
        "type": "ISSUE", "user_notes_count": 0, "upvotes": 0, "downvotes": 0, "due_date": null, "confidential": false,
        "web_url": format!("https://gitlab.example/group/sub/app/-/issues/{iid}"),
        "references": {"short": format!("#{iid}"), "relative": format!("#{iid}"), "full": format!("group/sub/app#{iid}")}
    })
}

fn state_event(id: u64, state: &str, at: &str) -> Value {
    json!({"id": id, "user": {"id": 1, "username": "root"}, "created_at": at, "resource_type": "Issue",
           "resource_id": 9001, "state": state})
}

fn gitlab(base: &str, clock: &ManualClock) -> GitLab {
    let config = GitLabConfig {
        base_url: base.to_owned(),
        token: Some("glpat-x".into()),
        webhook_secret: Some("hooktoken".into()),
        per_page: 2,
        ..GitLabConfig::default()
    };
    GitLab::new(config, Arc::new(clock.clone())).unwrap()
}

#[tokio::test]
async fn syncs_a_gitlab_project_with_exact_reopen_instants() {
    let (lab, base) = start().await;
    {
        let mut l = lab.lock().unwrap();
        l.issues = vec![
            // Reopened on the 4th, commented on the 5th.
            gl_issue(3, "opened", None, "2026-12-01T00:00:00.000Z", "2026-12-05T00:00:00.000Z"),
            gl_issue(
                2,
                "closed",
                Some("2026-12-03T00:00:00.000Z"),
                "2026-12-01T00:00:00.000Z",
                "2026-12-03T00:00:00.000Z",
            ),
            // Never touched since creation: no events asked.
            gl_issue(1, "opened", None, "2026-12-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"),
        ];
        l.state_events.insert(
            3,
            vec![
                state_event(1, "closed", "2026-12-02T00:00:00.000Z"),
                state_event(2, "reopened", "2026-12-04T00:00:00.000Z"),
            ],
        );
    }
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let g = gitlab(&base, &clock);
    let r = g.fetch_repo("group/sub/app").await.unwrap();
    let got: Vec<_> = r.observations.iter().map(|o| (o.issue.as_str(), o.state, o.reason, o.changed_at)).collect();
    assert_eq!(
        got,
        [
            ("group/sub/app#3", SyncedState::Open, None, Some(ts("2026-12-04T00:00:00Z"))),
            ("group/sub/app#2", SyncedState::Closed, Some(CloseReason::Completed), Some(ts("2026-12-03T00:00:00Z"))),
            ("group/sub/app#1", SyncedState::Open, None, Some(ts("2026-12-01T00:00:00Z"))),
        ]
    );
    let seen = lab.lock().unwrap().seen.clone();
    let paths: Vec<_> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/v4/projects/group%2Fsub%2Fapp/issues?per_page=2",
            "/api/v4/projects/group%2Fsub%2Fapp/issues/3/resource_state_events?per_page=100",
            "/api/v4/projects/group%2Fsub%2Fapp/issues?page=2&per_page=2",
        ]
    );
    assert!(seen.iter().all(|(_, auth)| auth.as_deref() == Some("Bearer glpat-x")));

    // GitLab's rate limit: 429 with RateLimit-Reset.
    lab.lock().unwrap().limited_until = Some(ts("2026-12-06T01:00:00Z").millis() / 1000);
    assert_eq!(
        g.fetch_repo("group/sub/app").await.unwrap_err(),
        TrackerError::RateLimited { until: ts("2026-12-06T01:00:00Z") }
    );
}

#[tokio::test]
async fn checks_the_gitlab_webhook_token() {
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let g = gitlab("http://127.0.0.1:9", &clock);
    let body = json!({
        "object_kind": "issue", "event_type": "issue",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": 3, "name": "app", "path_with_namespace": "group/sub/app", "web_url": "https://gitlab.example/group/sub/app"},
        "object_attributes": {"id": 9002, "iid": 2, "title": "issue 2", "state": "closed", "action": "close",
            "created_at": "2026-12-01 00:00:00 UTC", "updated_at": "2026-12-05 10:00:00 UTC", "closed_at": "2026-12-05 10:00:00 UTC"}
    })
    .to_string()
    .into_bytes();
    let at = ts("2026-12-05T10:00:02Z");
    let mut h = HeaderMap::new();
    h.insert("x-gitlab-event", HeaderValue::from_static("Issue Hook"));
    h.insert("x-gitlab-token", HeaderValue::from_static("hooktoken"));
    let obs = g.webhook(&h, &body, at).unwrap();
    assert_eq!(obs.len(), 1);
    assert_eq!((obs[0].issue.as_str(), obs[0].state), ("group/sub/app#2", SyncedState::Closed));
    assert_eq!(obs[0].changed_at, Some(ts("2026-12-05T10:00:00Z")));

    h.insert("x-gitlab-token", HeaderValue::from_static("hooktokeN"));
    assert_eq!(g.webhook(&h, &body, at), Err(WebhookError::BadSignature));
    h.remove("x-gitlab-token");
    assert_eq!(g.webhook(&h, &body, at), Err(WebhookError::MissingSignature));
    h.insert("x-gitlab-token", HeaderValue::from_static("hooktoken"));
    h.insert("x-gitlab-event", HeaderValue::from_static("Push Hook"));
    assert_eq!(g.webhook(&h, &body, at), Ok(vec![]));
}
