//! Polling GitHub: states and reasons, paging, conditional requests, rate limits, outages.

use std::sync::Arc;

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_trackers::github::GitHubConfig;
use peerex_trackers::{GitHub, ManualClock, Tracker, TrackerError};

use crate::fake::{dead_base, gh_issue, gh_pull, ts, Fake, Mode};

pub fn github(base: &str, clock: &ManualClock, per_page: u32) -> GitHub {
    let config = GitHubConfig {
        base_url: base.to_owned(),
        token: Some("ghp_test".into()),
        webhook_secret: Some("s3cret".into()),
        per_page,
        ..GitHubConfig::default()
    };
    GitHub::new(config, Arc::new(clock.clone())).unwrap()
}

fn four_issues() -> Vec<serde_json::Value> {
    vec![
        gh_issue("demo/app", 4, "Reopened", "open", Some("reopened"), None, "2026-12-05T00:00:00Z"),
        gh_pull("demo/app", 3),
        gh_issue(
            "demo/app",
            2,
            "Won't do",
            "closed",
            Some("not_planned"),
            Some("2026-12-03T00:00:00Z"),
            "2026-12-03T00:00:01Z",
        ),
        gh_issue(
            "demo/app",
            1,
            "Crash",
            "closed",
            Some("completed"),
            Some("2026-12-02T00:00:00Z"),
            "2026-12-02T00:00:01Z",
        ),
    ]
}

#[tokio::test]
async fn maps_completed_not_planned_and_reopened_and_skips_pull_requests() {
    let fake = Fake::start(false).await;
    fake.set_issues(four_issues());
    // #4 was closed, then reopened at 12:00 on the 4th; a comment on the 5th bumped `updated_at`.
    fake.add_event(4, "closed", "2026-12-03T00:00:00Z");
    fake.add_event(4, "labeled", "2026-12-03T01:00:00Z");
    fake.add_event(4, "reopened", "2026-12-04T12:00:00Z");
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    let r = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(r.observed_at, ts("2026-12-06T00:00:00Z"));
    let by_key: Vec<_> = r.observations.iter().map(|o| (o.issue.as_str(), o.state, o.reason, o.changed_at)).collect();
    assert_eq!(
        by_key,
        vec![
            // The exact reopen instant from the events (across two pages), not `updated_at`.
            ("demo/app#4", SyncedState::Open, None, Some(ts("2026-12-04T12:00:00Z"))),
            ("demo/app#2", SyncedState::Closed, Some(CloseReason::NotPlanned), Some(ts("2026-12-03T00:00:00Z"))),
            ("demo/app#1", SyncedState::Closed, Some(CloseReason::Completed), Some(ts("2026-12-02T00:00:00Z"))),
        ]
    );
    assert!(r.observations.iter().all(|o| o.tracker == "github" && o.observed_at == r.observed_at));
    assert_eq!(r.observations[2].title, "Crash");
    let seen = fake.requests();
    let paths: Vec<_> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/repos/demo/app/issues?per_page=100&state=all",
            "/repos/demo/app/issues/4/events?page=1",
            "/repos/demo/app/issues/4/events?page=2",
        ]
    );
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer ghp_test"));
    assert_eq!(seen[0].if_none_match, None);
    // The commands are the engine's sync_issue at the observation instant.
    let cmd = r.commands()[2].to_json();
    let v: serde_json::Value = serde_json::from_str(&cmd).unwrap();
    assert_eq!(v["op"], "sync_issue");
    assert_eq!(v["at"], "2026-12-06T00:00:00Z");
    assert_eq!(v["issue"], "demo/app#1");
    assert_eq!(v["reason"], "completed");
    assert_eq!(v["changed_at"], "2026-12-02T00:00:00Z");
    assert_eq!(gh.health().last_success, Some(ts("2026-12-06T00:00:00Z")));
}

#[tokio::test]
async fn follows_link_paging_through_every_page() {
    let fake = Fake::start(false).await;
    let issues: Vec<_> = (1..=5)
        .rev()
        .map(|n| gh_issue("demo/app", n, &format!("issue {n}"), "open", None, None, "2026-12-01T00:00:00Z"))
        .collect();
    fake.set_issues(issues);
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 2);
    let r = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(r.pages, 3);
    let keys: Vec<_> = r.observations.iter().map(|o| o.issue.clone()).collect();
    assert_eq!(keys, ["demo/app#5", "demo/app#4", "demo/app#3", "demo/app#2", "demo/app#1"]);
    let paths: Vec<_> = fake.requests().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "/repos/demo/app/issues?per_page=2&state=all",
            "/repos/demo/app/issues?page=2&per_page=2&state=all",
            "/repos/demo/app/issues?page=3&per_page=2&state=all",
        ]
    );
    assert!(fake.requests().iter().all(|s| s.authorization.as_deref() == Some("Bearer ghp_test")));
}

#[tokio::test]
async fn not_modified_answers_count_as_a_sync_at_their_time() {
    let fake = Fake::start(false).await;
    fake.set_issues(four_issues());
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 2);
    let first = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!((first.pages, first.not_modified), (2, 0));

    clock.set(ts("2026-12-07T00:00:00Z"));
    let second = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!((second.pages, second.not_modified), (2, 2));
    assert_eq!(second.observed_at, ts("2026-12-07T00:00:00Z"));
    assert_eq!(second.observations.len(), 3);
    for (a, b) in first.observations.iter().zip(&second.observations) {
        assert_eq!((&a.issue, a.state, a.reason, a.changed_at), (&b.issue, b.state, b.reason, b.changed_at));
        assert_eq!(b.observed_at, ts("2026-12-07T00:00:00Z"));
    }
    // The second sync asks both pages conditionally, and the reopened #4's events are not asked
    // again while its `updated_at` is unchanged.
    let seen = fake.requests();
    let first_sync = 3; // page 1, #4's (empty) events, page 2
    assert_eq!(seen.len(), first_sync + 2);
    assert_eq!(seen[first_sync].if_none_match.as_deref(), Some("W/\"v2-p1-n2\""));
    assert_eq!(seen[first_sync + 1].if_none_match.as_deref(), Some("W/\"v2-p2-n2\""));
    assert_eq!(gh.health().last_success, Some(ts("2026-12-07T00:00:00Z")));

    // A change on the tracker: fresh pages again, with the new state.
    fake.update(gh_issue(
        "demo/app",
        4,
        "Reopened",
        "closed",
        Some("completed"),
        Some("2026-12-07T12:00:00Z"),
        "2026-12-07T12:00:00Z",
    ));
    clock.set(ts("2026-12-08T00:00:00Z"));
    let third = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(third.not_modified, 0);
    assert_eq!(third.observations[0].state, SyncedState::Closed);
    assert_eq!(third.observations[0].changed_at, Some(ts("2026-12-07T12:00:00Z")));
}

#[tokio::test]
async fn a_primary_rate_limit_backs_off_until_the_reset_without_sending() {
    let fake = Fake::start(false).await;
    fake.set_issues(four_issues());
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    let reset = ts("2026-12-06T00:30:00Z");
    fake.set_mode(Mode::RateLimited { reset: reset.millis() / 1000 });
    let err = gh.fetch_repo("demo/app").await.unwrap_err();
    assert_eq!(err, TrackerError::RateLimited { until: reset });
    assert_eq!(err.to_string(), "rate limited until 2026-12-06T00:30:00Z");
    assert_eq!(gh.health().rate_limited_until, Some(reset));
    assert_eq!(gh.health().last_failure, Some((ts("2026-12-06T00:00:00Z"), err.to_string())));
    assert_eq!(fake.requests().len(), 1);

    // Before the reset nothing goes out, even though the tracker would answer now.
    fake.set_mode(Mode::Normal);
    clock.set(ts("2026-12-06T00:10:00Z"));
    assert_eq!(gh.fetch_repo("demo/app").await.unwrap_err(), TrackerError::RateLimited { until: reset });
    assert_eq!(fake.requests().len(), 1);

    clock.set(ts("2026-12-06T00:30:01Z"));
    let r = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(r.observations.len(), 3);
    let h = gh.health();
    assert_eq!((h.rate_limited_until, h.last_failure), (None, None));
}

#[tokio::test]
async fn a_secondary_limit_waits_for_retry_after_and_an_exhausted_quota_gates_the_next_call() {
    let fake = Fake::start(false).await;
    // Without the reopened #4, whose events would need one more request.
    fake.set_issues(four_issues().into_iter().skip(1).collect());
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    fake.set_mode(Mode::Secondary { retry_after: 90 });
    assert_eq!(
        gh.fetch_repo("demo/app").await.unwrap_err(),
        TrackerError::RateLimited { until: ts("2026-12-06T00:01:30Z") }
    );
    fake.set_mode(Mode::Normal);
    clock.set(ts("2026-12-06T00:02:00Z"));
    // This answer succeeds but spends the last request of the hour.
    {
        let mut s = fake.state.lock().unwrap();
        s.remaining = 0;
        s.reset = ts("2026-12-06T01:00:00Z").millis() / 1000;
    }
    assert!(gh.fetch_repo("demo/app").await.is_ok());
    let n = fake.requests().len();
    assert_eq!(
        gh.fetch_issue("demo/app", 1).await.unwrap_err(),
        TrackerError::RateLimited { until: ts("2026-12-06T01:00:00Z") }
    );
    assert_eq!(fake.requests().len(), n, "no request may go out before the reset");
}

#[tokio::test]
async fn outages_are_reported_as_unavailable_and_change_nothing() {
    let fake = Fake::start(false).await;
    fake.set_issues(four_issues());
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    gh.fetch_repo("demo/app").await.unwrap();
    clock.set(ts("2026-12-07T00:00:00Z"));
    for code in [500, 502, 503] {
        fake.set_mode(Mode::Down(code));
        let err = gh.fetch_repo("demo/app").await.unwrap_err();
        assert!(matches!(err, TrackerError::Unavailable(ref m) if m.contains(&code.to_string())), "{err}");
        assert_eq!(err.code(), "tracker_unavailable");
    }
    let h = gh.health();
    assert_eq!(h.last_success, Some(ts("2026-12-06T00:00:00Z")), "a failure is no sync");
    assert!(h.last_failure.is_some());

    let refused = github(&dead_base().await, &clock, 100);
    let err = refused.fetch_repo("demo/app").await.unwrap_err();
    assert!(matches!(err, TrackerError::Unavailable(_)), "{err}");
    assert_eq!(refused.health().last_success, None);
}

#[tokio::test]
async fn fetches_single_issues_and_refuses_pull_requests_and_bad_names() {
    let fake = Fake::start(false).await;
    fake.set_issues(four_issues());
    let clock = ManualClock::new(ts("2026-12-06T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    let r = gh.fetch_issue("demo/app", 2).await.unwrap();
    assert_eq!(r.observations[0].reason, Some(CloseReason::NotPlanned));
    assert_eq!(fake.requests()[0].path, "/repos/demo/app/issues/2");
    assert!(matches!(gh.fetch_issue("demo/app", 3).await, Err(TrackerError::NotFound(_))));
    assert!(matches!(gh.fetch_issue("demo/app", 99).await, Err(TrackerError::NotFound(_))));
    for bad in ["demo", "../etc/passwd", "demo/app?x=1", ""] {
        assert!(matches!(gh.fetch_repo(bad).await, Err(TrackerError::InvalidArgument(_))), "{bad}");
    }
}
