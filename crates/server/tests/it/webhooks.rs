//! GitHub webhooks end to end: signed `issues` deliveries become `sync_issue` commands; a series
//! on a synced issue waits past its maturation for an observation newer than it, then settles.

use peerex_server::settings::Settings;
use peerex_server::trackers::GitHubSettings;
use peerex_trackers::signature::sign;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{enc, fresh_database, Backend, Client, Server};

const SECRET: &str = "s3cret";
const KEY: &str = "demo/app#7";

fn issue(state: &str, reason: Option<&str>, closed_at: Option<&str>, updated_at: &str) -> Value {
    json!({"id": 1_000_007, "number": 7, "title": "Crash", "state": state, "state_reason": reason,
           "created_at": "2020-01-01T00:00:00Z", "updated_at": updated_at, "closed_at": closed_at,
           "labels": [], "user": {"login": "octocat", "id": 1}})
}

async fn deliver(c: &Client, action: &str, issue: Value, secret: &str) -> (u16, Value) {
    let body = json!({"action": action, "issue": issue,
                      "repository": {"id": 1, "name": "app", "full_name": "demo/app", "private": false},
                      "sender": {"login": "octocat", "id": 1}})
    .to_string();
    let resp = c
        .http
        .post(format!("{}/api/v1/webhooks/github", c.base))
        .header("x-github-event", "issues")
        .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        .header("x-hub-signature-256", format!("sha256={}", sign(secret.as_bytes(), body.as_bytes())))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let st = resp.status().as_u16();
    (st, resp.json().await.unwrap_or(Value::Null))
}

async fn now(c: &Client) -> peerex_engine::Timestamp {
    let (_, clock) = c.call(Method::GET, "/clock", None, None).await;
    peerex_engine::Timestamp::parse(clock["now"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_webhooks_settle_a_synced_series() {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.github = Some(GitHubSettings {
        webhook_secret: Some(SECRET.into()),
        base_url: Some("http://127.0.0.1:9".into()),
        interval_secs: 300,
        ..Default::default()
    });
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    let t0 = now(&c).await;

    // Refused: a wrong signature.
    let (st, body) = deliver(&c, "opened", issue("open", None, None, &t0.to_rfc3339()), "wrong").await;
    assert_eq!((st, body["code"].as_str()), (401, Some("bad_signature")), "{body}");
    let (_, issues) = c.call(Method::GET, "/issues", None, None).await;
    assert_eq!(issues, json!([]), "a refused delivery changes nothing");

    let (st, body) = deliver(&c, "opened", issue("open", None, None, &t0.to_rfc3339()), SECRET).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["applied"], 1);

    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    let mat = s.days_from_now(2).await;
    let o =
        |kind: &str, price: &str| json!({"kind": kind, "issue": KEY, "maturation": mat, "price": price, "volume": 100});
    let (st, body) = c.post("/offers", &adam, o("buy_unfixed", "0.7")).await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = c.post("/offers", &beth, o("buy_fixed", "0.3")).await;
    assert_eq!((st, body["status"].as_str()), (201, Some("filled")), "{body}");

    // Closed as completed a day before the maturation (as GitHub reports it).
    let admin = s.admin().await;
    c.post("/admin/clock", &admin, json!({"advance_seconds": 86_400})).await;
    let closed = now(&c).await.to_rfc3339();
    let (st, body) = deliver(&c, "closed", issue("closed", Some("completed"), Some(&closed), &closed), SECRET).await;
    assert_eq!((st, body["applied"].as_i64()), (200, Some(1)), "{body}");

    // Past the maturation with no newer observation: the series waits.
    c.post("/admin/clock", &admin, json!({"advance_seconds": 2 * 86_400})).await;
    let series =
        |c: Client| async move { c.call(Method::GET, &format!("/series?issue={}", enc(KEY)), None, None).await.1 };
    let waiting = series(c.clone()).await;
    assert_eq!(waiting[0]["status"], "matured");
    assert_eq!(waiting[0]["waiting_for_sync"], true, "shown as waiting for a tracker sync: {waiting}");
    let (_, issues) = c.call(Method::GET, "/issues", None, None).await;
    assert_eq!(issues[0]["series"][0]["waiting_for_sync"], true, "{issues}");
    assert_eq!(issues[0]["series"][0]["fixed_price"], "0.3", "the implied probability of a fix: {issues}");
    assert_eq!(c.me(&beth).await["available"], "970");

    // A delivery received after the maturation (a comment moved updated_at) settles it.
    let later = now(&c).await.to_rfc3339();
    let (st, body) = deliver(&c, "edited", issue("closed", Some("completed"), Some(&closed), &later), SECRET).await;
    assert_eq!(st, 200, "{body}");
    let settled = series(c.clone()).await;
    assert_eq!(settled[0]["status"], "settled", "{settled}");
    assert_eq!(settled[0]["waiting_for_sync"], false);
    assert_eq!(settled[0]["winner"], "fixed");
    assert_eq!(c.me(&beth).await["available"], "1070");
    assert_eq!(c.me(&adam).await["available"], "930");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_without_github_are_404() {
    let s = Server::start(Backend::Sqlite).await;
    let (st, body) = deliver(&s.client, "opened", issue("open", None, None, "2026-01-01T00:00:00Z"), SECRET).await;
    assert_eq!((st, body["code"].as_str()), (404, Some("not_found")), "{body}");
}
