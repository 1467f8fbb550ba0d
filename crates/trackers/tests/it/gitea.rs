//! The Gitea/Forgejo adapter: `/api/v1` paths, `token` auth, `limit` paging, no close reason,
//! hex signatures in `X-Gitea-Signature` / `X-Forgejo-Signature`.

use std::sync::Arc;

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_trackers::gitea::GiteaConfig;
use peerex_trackers::signature::sign;
use peerex_trackers::{Gitea, HeaderMap, ManualClock, Tracker, WebhookError};
use serde_json::{json, Value};

use crate::fake::{ts, Fake};

/// A Gitea issue object (abridged to the fields Gitea always sends).
fn gitea_issue(number: u64, state: &str, closed_at: Option<&str>, updated_at: &str, pr: bool) -> Value {
    json!({
        "id": 5000 + number,
        "url": format!("https://codeberg.org/api/v1/repos/demo/app/issues/{number}"),
        "html_url": format!("https://codeberg.org/demo/app/issues/{number}"),
        "number": number,
        "user": {"id": 1, "login": "alice", "full_name": "", "email": "alice@noreply.codeberg.org"},
        "original_author": "",
        "original_author_id": 0,
        "title": format!("issue {number}"),
        "body": "",
        "ref": "",
        "labels": [],
        "milestone": null,
        "assignee": null,
        "assignees": null,
        "state": state,
        "is_locked": false,
        "comments": 0,
        "created_at": "2026-11-01T08:00:00Z",
        "updated_at": updated_at,
        "closed_at": closed_at,
        "due_date": null,
        "pull_request": if pr { json!({"merged": false, "merged_at": null}) } else { Value::Null },
        "repository": {"id": 1, "name": "app", "owner": "demo", "full_name": "demo/app"}
    })
}

fn gitea(base: &str, clock: &ManualClock) -> Gitea {
    let config = GiteaConfig {
        base_url: base.to_owned(),
        token: Some("gt0k".into()),
        webhook_secret: Some("hook".into()),
        per_page: 2,
        ..GiteaConfig::default()
    };
    Gitea::new(config, Arc::new(clock.clone())).unwrap()
}

#[tokio::test]
async fn syncs_a_gitea_repository_across_pages() {
    let fake = Fake::start(true).await;
    fake.set_issues(vec![
        gitea_issue(3, "closed", Some("2026-12-03T00:00:00Z"), "2026-12-03T00:00:00Z", false),
        gitea_issue(2, "open", None, "2026-12-02T00:00:00Z", true),
        gitea_issue(1, "open", None, "2026-12-05T00:00:00Z", false),
    ]);
    // #1 was closed and reopened on the 4th; a comment on the 5th moved `updated_at`.
    fake.add_timeline(1, "close", "2026-12-02T00:00:00Z");
    fake.add_timeline(1, "reopen", "2026-12-04T00:00:00Z");
    fake.add_timeline(1, "comment", "2026-12-05T00:00:00Z");
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let g = gitea(&fake.base(), &clock);
    let r = g.fetch_repo("demo/app").await.unwrap();
    assert_eq!(r.pages, 2);
    let got: Vec<_> = r.observations.iter().map(|o| (o.issue.as_str(), o.state, o.reason, o.changed_at)).collect();
    assert_eq!(
        got,
        [
            ("demo/app#3", SyncedState::Closed, Some(CloseReason::Completed), Some(ts("2026-12-03T00:00:00Z"))),
            ("demo/app#1", SyncedState::Open, None, Some(ts("2026-12-04T00:00:00Z"))),
        ]
    );
    assert!(r.observations.iter().all(|o| o.tracker == "gitea"));
    let seen = fake.requests();
    assert_eq!(seen[0].path, "/repos/demo/app/issues?limit=2&state=all&type=issues");
    assert_eq!(seen[0].authorization.as_deref(), Some("token gt0k"));
    let paths: Vec<_> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/repos/demo/app/issues?limit=2&state=all&type=issues",
            "/repos/demo/app/issues?limit=2&page=2&state=all",
            "/repos/demo/app/issues/1/timeline",
        ]
    );
}

#[tokio::test]
async fn verifies_gitea_and_forgejo_signatures() {
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let g = gitea("http://127.0.0.1:9", &clock);
    let body = json!({
        "action": "closed",
        "number": 3,
        "issue": gitea_issue(3, "closed", Some("2026-12-05T00:00:00Z"), "2026-12-05T00:00:00Z", false),
        "repository": {"id": 1, "name": "app", "full_name": "demo/app"},
        "sender": {"id": 1, "login": "alice"}
    })
    .to_string()
    .into_bytes();
    let at = ts("2026-12-06T00:00:00Z");
    let mut h = HeaderMap::new();
    h.insert("x-gitea-event", "issues".parse().unwrap());
    h.insert("x-gitea-signature", sign(b"hook", &body).parse().unwrap());
    let obs = g.webhook(&h, &body, at).unwrap();
    assert_eq!(obs[0].issue, "demo/app#3");
    assert_eq!(obs[0].reason, Some(CloseReason::Completed));

    let mut f = HeaderMap::new();
    f.insert("x-forgejo-event", "issues".parse().unwrap());
    f.insert("x-forgejo-signature", sign(b"hook", &body).parse().unwrap());
    assert_eq!(g.webhook(&f, &body, at).unwrap().len(), 1);

    h.insert("x-gitea-signature", sign(b"nope", &body).parse().unwrap());
    assert_eq!(g.webhook(&h, &body, at), Err(WebhookError::BadSignature));
    h.remove("x-gitea-signature");
    assert_eq!(g.webhook(&h, &body, at), Err(WebhookError::MissingSignature));
}
