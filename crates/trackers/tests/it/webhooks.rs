//! Webhook deliveries: signature checks (valid, invalid, missing), events that carry nothing,
//! and late deliveries older than a state already seen.

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_trackers::signature::sign;
use peerex_trackers::{HeaderMap, ManualClock, Tracker, WebhookError};
use serde_json::json;

use crate::fake::{gh_issue, gh_pull, ts, Fake};
use crate::github_sync::github;

fn delivery(event: &str, body: &[u8], secret: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-github-event", event.parse().unwrap());
    h.insert("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap());
    h.insert("x-hub-signature-256", format!("sha256={}", sign(secret, body)).parse().unwrap());
    h.insert("content-type", "application/json".parse().unwrap());
    h
}

fn issues_payload(action: &str, issue: serde_json::Value) -> Vec<u8> {
    json!({
        "action": action,
        "issue": issue,
        "repository": {"id": 1296269, "name": "app", "full_name": "demo/app", "private": false},
        "sender": {"login": "octocat", "id": 1}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_signed_issues_delivery_becomes_an_observation() {
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github("http://127.0.0.1:9", &clock, 100);
    let body = issues_payload(
        "closed",
        gh_issue(
            "demo/app",
            7,
            "Crash",
            "closed",
            Some("completed"),
            Some("2026-12-06T09:59:58Z"),
            "2026-12-06T09:59:58Z",
        ),
    );
    let received = ts("2026-12-06T10:00:00Z");
    let obs = gh.webhook(&delivery("issues", &body, b"s3cret"), &body, received).unwrap();
    assert_eq!(obs.len(), 1);
    let o = &obs[0];
    assert_eq!(o.issue, "demo/app#7");
    assert_eq!((o.state, o.reason), (SyncedState::Closed, Some(CloseReason::Completed)));
    assert_eq!(o.changed_at, Some(ts("2026-12-06T09:59:58Z")));
    assert_eq!(o.observed_at, received);
    // Uppercase hex is the same signature.
    let mut h = delivery("issues", &body, b"s3cret");
    h.insert("x-hub-signature-256", format!("sha256={}", sign(b"s3cret", &body).to_uppercase()).parse().unwrap());
    assert!(gh.webhook(&h, &body, received).is_ok());
}

#[tokio::test]
async fn bad_and_missing_signatures_are_refused() {
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github("http://127.0.0.1:9", &clock, 100);
    let body = issues_payload(
        "closed",
        gh_issue("demo/app", 7, "x", "closed", Some("completed"), Some("2026-12-06T00:00:00Z"), "2026-12-06T00:00:00Z"),
    );
    let at = ts("2026-12-06T10:00:00Z");

    let wrong_secret = delivery("issues", &body, b"guess");
    assert_eq!(gh.webhook(&wrong_secret, &body, at), Err(WebhookError::BadSignature));

    let mut tampered = body.clone();
    let pos = tampered.iter().position(|b| *b == b'7').unwrap();
    tampered[pos] = b'8';
    assert_eq!(gh.webhook(&delivery("issues", &body, b"s3cret"), &tampered, at), Err(WebhookError::BadSignature));

    let mut missing = delivery("issues", &body, b"s3cret");
    missing.remove("x-hub-signature-256");
    assert_eq!(gh.webhook(&missing, &body, at), Err(WebhookError::MissingSignature));

    let mut sha1_only = delivery("issues", &body, b"s3cret");
    sha1_only.remove("x-hub-signature-256");
    sha1_only.insert("x-hub-signature", "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6".parse().unwrap());
    assert_eq!(gh.webhook(&sha1_only, &body, at), Err(WebhookError::MissingSignature));

    let mut no_prefix = delivery("issues", &body, b"s3cret");
    no_prefix.insert("x-hub-signature-256", sign(b"s3cret", &body).parse().unwrap());
    assert_eq!(gh.webhook(&no_prefix, &body, at), Err(WebhookError::BadSignature));

    // Without a configured secret nothing is trusted.
    let open = peerex_trackers::GitHub::new(
        peerex_trackers::github::GitHubConfig { base_url: "http://127.0.0.1:9".into(), ..Default::default() },
        std::sync::Arc::new(clock.clone()),
    )
    .unwrap();
    assert_eq!(open.webhook(&delivery("issues", &body, b""), &body, at), Err(WebhookError::NoSecret));

    // A signed but malformed payload is a clear error, not a panic.
    let junk = b"{\"action\":\"closed\"}".to_vec();
    assert!(matches!(gh.webhook(&delivery("issues", &junk, b"s3cret"), &junk, at), Err(WebhookError::BadPayload(_))));
}

#[tokio::test]
async fn pings_other_events_pull_requests_and_deletions_carry_nothing() {
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github("http://127.0.0.1:9", &clock, 100);
    let at = ts("2026-12-06T10:00:00Z");
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_vec();
    assert_eq!(gh.webhook(&delivery("ping", &ping, b"s3cret"), &ping, at), Ok(vec![]));
    let pr = issues_payload("opened", gh_pull("demo/app", 3));
    assert_eq!(gh.webhook(&delivery("issues", &pr, b"s3cret"), &pr, at), Ok(vec![]));
    let deleted = issues_payload("deleted", gh_issue("demo/app", 7, "x", "open", None, None, "2026-12-06T00:00:00Z"));
    assert_eq!(gh.webhook(&delivery("issues", &deleted, b"s3cret"), &deleted, at), Ok(vec![]));
}

#[tokio::test]
async fn a_late_delivery_older_than_a_poll_is_dropped() {
    let fake = Fake::start(false).await;
    // The poll sees the issue reopened at 12:00.
    fake.set_issues(vec![gh_issue("demo/app", 7, "x", "open", Some("reopened"), None, "2026-12-06T12:00:00Z")]);
    let clock = ManualClock::new(ts("2026-12-06T12:05:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    gh.fetch_repo("demo/app").await.unwrap();
    // The "closed" delivery of 11:00 arrives only now: it must not flip the state back.
    let late = issues_payload(
        "closed",
        gh_issue("demo/app", 7, "x", "closed", Some("completed"), Some("2026-12-06T11:00:00Z"), "2026-12-06T11:00:00Z"),
    );
    assert_eq!(gh.webhook(&delivery("issues", &late, b"s3cret"), &late, ts("2026-12-06T12:06:00Z")), Ok(vec![]));
    // A newer one is taken.
    let newer = issues_payload(
        "closed",
        gh_issue(
            "demo/app",
            7,
            "x",
            "closed",
            Some("not_planned"),
            Some("2026-12-06T13:00:00Z"),
            "2026-12-06T13:00:00Z",
        ),
    );
    let obs = gh.webhook(&delivery("issues", &newer, b"s3cret"), &newer, ts("2026-12-06T13:00:01Z")).unwrap();
    assert_eq!(obs[0].reason, Some(CloseReason::NotPlanned));
}
