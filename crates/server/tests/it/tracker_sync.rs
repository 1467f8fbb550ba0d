//! Tracker syncs through the server: a poll that finds nothing new adds no command rows (only
//! changed observations are submitted, together); GitLab and Gitea/Forgejo are wired like
//! GitHub (periodic sync and token/signature-checked webhooks), against local fakes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use peerex_server::settings::{Settings, TrackerSettings};
use peerex_trackers::signature::sign;
use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both;
use crate::support::{enc, fresh_database, Backend, Client, Server};

/// A fake tracker serving one list of issues at GitHub's, Gitea's and GitLab's list paths, and
/// counting the list requests.
#[derive(Clone, Default)]
struct Fake {
    issues: Arc<Mutex<Vec<Value>>>,
    polls: Arc<Mutex<usize>>,
}

impl Fake {
    async fn start(issues: Vec<Value>) -> (Fake, String) {
        let fake = Fake { issues: Arc::new(Mutex::new(issues)), polls: Arc::default() };
        let app = Router::new()
            .route("/repos/{owner}/{repo}/issues", get(list))
            .route("/api/v1/repos/{owner}/{repo}/issues", get(list))
            .route("/api/v4/projects/{project}/issues", get(list))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, base)
    }

    fn polls(&self) -> usize {
        *self.polls.lock().unwrap()
    }

    fn set(&self, issues: Vec<Value>) {
        *self.issues.lock().unwrap() = issues;
    }

    /// Waits until `n` more list requests were answered.
    async fn wait_polls(&self, n: usize) {
        let target = self.polls() + n;
        for _ in 0..200 {
            if self.polls() >= target {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not poll {n} more times");
    }
}

async fn list(State(fake): State<Fake>) -> axum::Json<Value> {
    *fake.polls.lock().unwrap() += 1;
    axum::Json(Value::Array(fake.issues.lock().unwrap().clone()))
}

/// A GitHub/Gitea issue (`number`), or a GitLab one (`iid`, `opened`) when `gitlab`.
fn issue(gitlab: bool, number: u64, closed_at: Option<&str>) -> Value {
    let t0 = "2020-01-01T00:00:00Z";
    let state = match (closed_at, gitlab) {
        (Some(_), _) => "closed",
        (None, true) => "opened",
        (None, false) => "open",
    };
    let updated = closed_at.unwrap_or(t0);
    let reason = closed_at.map(|_| "completed");
    let mut v = json!({"title": "Crash", "state": state, "state_reason": reason, "created_at": t0,
                       "updated_at": updated, "closed_at": closed_at, "labels": []});
    v[if gitlab { "iid" } else { "number" }] = json!(number);
    v["id"] = json!(1_000 + number);
    v
}

fn tracker(base: &str, repos: &[&str], secret: &str) -> Option<TrackerSettings> {
    Some(TrackerSettings {
        repos: repos.iter().map(|r| (*r).to_owned()).collect(),
        token: None,
        webhook_secret: Some(secret.to_owned()),
        base_url: Some(base.to_owned()),
        interval_secs: 1,
    })
}

async fn server_now(c: &Client) -> String {
    let (_, clock) = c.call(Method::GET, "/clock", None, None).await;
    clock["now"].as_str().unwrap().to_owned()
}

async fn commands(s: &Server) -> usize {
    s.running.as_ref().unwrap().state.store.load_log().await.unwrap().len()
}

async fn issue_state(c: &Client, key: &str) -> Option<String> {
    let (_, issues) = c.call(Method::GET, "/issues", None, None).await;
    issues.as_array()?.iter().find(|i| i["issue"] == key).map(|i| i["state"].as_str().unwrap_or("").to_owned())
}

async fn wait_state(c: &Client, key: &str, state: &str) {
    for _ in 0..200 {
        if issue_state(c, key).await.as_deref() == Some(state) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{key} never became {state}: {:?}", issue_state(c, key).await);
}

/// Polls that see nothing new leave the command log as it was; a change adds exactly its rows.
async fn an_unchanged_poll_adds_no_command_rows(backend: Backend) {
    let issues = vec![issue(false, 1, None), issue(false, 2, None), issue(false, 3, None)];
    let (fake, base) = Fake::start(issues.clone()).await;
    let mut settings = Settings::for_tests(fresh_database(backend).await);
    settings.github = tracker(&base, &["demo/app"], "s3cret");
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    for n in 1..=3 {
        wait_state(&c, &format!("demo/app#{n}"), "open").await;
    }
    let batches = |s: &Server| {
        s.running.as_ref().unwrap().state.shared.metrics.batches.load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = commands(&s).await;
    assert_eq!(before, 3, "the first poll records each issue once");
    fake.wait_polls(3).await;
    assert_eq!(commands(&s).await, before, "unchanged polls add no command rows");

    // Two issues close: one poll, two rows, one group commit.
    let closed = Some("2021-01-01T00:00:00Z");
    let batches_before = batches(&s);
    fake.set(vec![issue(false, 1, closed), issue(false, 2, closed), issue(false, 3, None)]);
    wait_state(&c, "demo/app#2", "closed").await;
    wait_state(&c, "demo/app#1", "closed").await;
    assert_eq!(commands(&s).await, before + 2);
    assert_eq!(batches(&s) - batches_before, 1, "the poll's changes share one commit");
    fake.wait_polls(2).await;
    assert_eq!(commands(&s).await, before + 2);
}
on_both!(an_unchanged_poll_adds_no_command_rows);

/// A series on a synced issue still settles although the issue never changes again: the first
/// poll after the maturation is submitted (it lets the engine decide).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_after_the_maturation_is_submitted_even_if_nothing_changed() {
    let (fake, base) = Fake::start(vec![issue(false, 7, Some("2021-01-01T00:00:00Z"))]).await;
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.github = tracker(&base, &["demo/app"], "s3cret");
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    wait_state(&c, "demo/app#7", "closed").await;
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    let mat = s.days_from_now(1).await;
    let o = |kind: &str, price: &str| json!({"kind": kind, "issue": "demo/app#7", "maturation": mat, "price": price, "volume": 10});
    assert_eq!(c.post("/offers", &adam, o("buy_unfixed", "0.5")).await.0, 201);
    let (st, body) = c.post("/offers", &beth, o("buy_fixed", "0.5")).await;
    assert_eq!((st, body["status"].as_str()), (201, Some("filled")), "{body}");
    fake.wait_polls(2).await;
    let rows = commands(&s).await;
    fake.wait_polls(2).await;
    assert_eq!(commands(&s).await, rows, "nothing to decide yet: nothing submitted");
    let admin = s.admin().await;
    c.post("/admin/clock", &admin, json!({"advance_seconds": 2 * 86_400})).await;
    for _ in 0..200 {
        let (_, series) = c.call(Method::GET, &format!("/series?issue={}", enc("demo/app#7")), None, None).await;
        if series[0]["status"] == "settled" {
            assert_eq!(series[0]["winner"], "fixed");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the series never settled");
}

/// GitLab: projects polled on the schedule; `X-Gitlab-Token` webhooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_is_synced_and_its_webhooks_checked() {
    let (fake, base) = Fake::start(vec![issue(true, 5, None)]).await;
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.gitlab = tracker(&base, &["group/app"], "hooktoken");
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    wait_state(&c, "group/app#5", "open").await;
    let rows = commands(&s).await;
    fake.wait_polls(2).await;
    assert_eq!(commands(&s).await, rows, "unchanged polls add nothing");

    let now = server_now(&c).await;
    let body = json!({"object_kind": "issue", "event_type": "issue",
        "project": {"path_with_namespace": "group/app"},
        "object_attributes": {"iid": 6, "title": "Hook", "state": "closed", "created_at": "2020-01-01T00:00:00Z",
                              "updated_at": now, "closed_at": now}})
    .to_string();
    let hook = |token: Option<&'static str>| {
        let mut req = c
            .http
            .post(format!("{}/api/v1/webhooks/gitlab", c.base))
            .header("x-gitlab-event", "Issue Hook")
            .body(body.clone());
        if let Some(t) = token {
            req = req.header("x-gitlab-token", t);
        }
        req.send()
    };
    let r = hook(Some("wrong")).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = hook(None).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(issue_state(&c, "group/app#6").await, None, "refused deliveries change nothing");
    let r = hook(Some("hooktoken")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["applied"], 1, "{answer}");
    assert_eq!(issue_state(&c, "group/app#6").await.as_deref(), Some("closed"));
    let (_, issues) = c.call(Method::GET, "/issues", None, None).await;
    assert!(issues.as_array().unwrap().iter().all(|i| i["tracker"] == "gitlab"), "{issues}");
}

/// Gitea/Forgejo: repositories polled on the schedule; `X-Gitea-Signature` webhooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitea_is_synced_and_its_webhooks_checked() {
    let (fake, base) = Fake::start(vec![issue(false, 3, None)]).await;
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.gitea = tracker(&base, &["owner/app"], "giteasecret");
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    wait_state(&c, "owner/app#3", "open").await;
    let rows = commands(&s).await;
    fake.wait_polls(2).await;
    assert_eq!(commands(&s).await, rows, "unchanged polls add nothing");

    let now = server_now(&c).await;
    let mut closed = issue(false, 3, Some(&now));
    closed["updated_at"] = json!(now);
    let body = json!({"action": "closed", "issue": closed, "repository": {"full_name": "owner/app"}}).to_string();
    // The tracker itself shows the issue closed from now on (later polls agree with the hook).
    fake.set(vec![closed.clone()]);
    let hook = |secret: &str, header: &str| {
        c.http
            .post(format!("{}/api/v1/webhooks/gitea", c.base))
            .header("x-gitea-event", "issues")
            .header(header, sign(secret.as_bytes(), body.as_bytes()))
            .body(body.clone())
            .send()
    };
    let r = hook("wrong", "x-gitea-signature").await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(issue_state(&c, "owner/app#3").await.as_deref(), Some("open"));
    let r = hook("giteasecret", "x-gitea-signature").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["applied"], 1, "{answer}");
    assert_eq!(issue_state(&c, "owner/app#3").await.as_deref(), Some("closed"));
    // The same delivery again (Forgejo's header) changes nothing and logs nothing.
    let rows = commands(&s).await;
    let r = hook("giteasecret", "x-forgejo-signature").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(commands(&s).await, rows);
}

/// Without a configured tracker its webhook is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_of_unconfigured_trackers_are_404() {
    let s = Server::start(Backend::Sqlite).await;
    for path in ["gitlab", "gitea"] {
        let (st, body) = s.client.call(Method::POST, &format!("/webhooks/{path}"), None, Some(json!({}))).await;
        assert_eq!((st, body["code"].as_str()), (404, Some("not_found")), "{path}: {body}");
    }
}
