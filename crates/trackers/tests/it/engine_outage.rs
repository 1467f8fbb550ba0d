//! End to end with the engine: a tracker outage spanning a maturation delays settlement, and the
//! first successful sync newer than the maturation settles each series from the issue's state
//! *at the maturation*, never from a state seen before or after.

use peerex_engine::exchange::types::{Outcome, SeriesStatus};
use peerex_engine::{Amount, Command, Engine, Op, Timestamp};
use peerex_trackers::{ManualClock, SyncResult, Tracker, TrackerError};
use serde_json::json;

use crate::fake::{gh_issue, ts, Fake, Mode};
use crate::github_sync::github;

struct World {
    engine: Engine,
    events: Vec<peerex_engine::Timed>,
}

impl World {
    fn run(&mut self, json: serde_json::Value) {
        let cmd = Command::from_json(&json.to_string()).unwrap();
        self.engine.apply(cmd, &mut self.events).unwrap();
        self.engine.check_invariants().unwrap();
    }
    /// What a server does with a sync: apply every observation at its instant.
    fn apply(&mut self, sync: &SyncResult) {
        for cmd in sync.commands() {
            self.engine.apply(cmd, &mut self.events).unwrap();
            self.engine.check_invariants().unwrap();
        }
    }
    fn tick(&mut self, at: Timestamp) {
        self.engine.apply(Command::new(at, Op::Tick {}), &mut self.events).unwrap();
        self.engine.check_invariants().unwrap();
    }
    fn series(&self, issue: &str) -> (SeriesStatus, Option<Outcome>) {
        let ex = self.engine.exchange();
        let id = ex.series_id(ex.issue_id(issue).unwrap(), ts(MATURATION)).unwrap();
        let s = ex.series(id).unwrap();
        (s.status, s.outcome)
    }
    fn available(&self, user: &str) -> Amount {
        self.engine.balance(self.engine.user_id(user).unwrap()).0
    }
}

const MATURATION: &str = "2026-12-15T00:00:00Z";

/// adam buys 10 fixed at 0.60 and eve 10 unfixed at 0.40 on `issue`: 10 units, escrow 10 credits.
fn trade_on(w: &mut World, at: &str, issue: &str, tag: &str) {
    for (user, kind, price) in [("adam", "buy_fixed", "0.60"), ("eve", "buy_unfixed", "0.40")] {
        w.run(json!({"at": at, "op": "offer", "id": format!("{tag}-{user}"), "user": user, "kind": kind,
            "issue": issue, "maturation": MATURATION, "price": price, "volume": 10}));
    }
}

#[tokio::test]
async fn an_outage_across_the_maturation_delays_and_never_misdecides_settlement() {
    let fake = Fake::start(false).await;
    let open = |n| gh_issue("demo/app", n, &format!("issue {n}"), "open", None, None, "2026-12-01T00:00:00Z");
    fake.set_issues(vec![open(3), open(2), open(1)]);
    let clock = ManualClock::new(ts("2026-12-01T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 2);
    let mut w = World { engine: Engine::new(), events: Vec::new() };
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "adam", "amount": "100"}));
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "eve", "amount": "100"}));

    // The first sync creates the issues in the engine; then the series trade.
    let first = gh.fetch_repo("demo/app").await.unwrap();
    w.apply(&first);
    for n in 1..=3 {
        trade_on(&mut w, "2026-12-01T01:00:00Z", &format!("demo/app#{n}"), &format!("i{n}"));
    }
    assert_eq!(w.available("adam"), Amount::credits(100 - 18));

    // #1 is closed as completed before the maturation, and a sync sees it.
    fake.update(gh_issue(
        "demo/app",
        1,
        "issue 1",
        "closed",
        Some("completed"),
        Some("2026-12-10T00:00:00Z"),
        "2026-12-10T00:00:00Z",
    ));
    clock.set(ts("2026-12-10T06:00:00Z"));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());

    // The tracker goes down before the maturation and stays down across it.
    fake.set_mode(Mode::Down(502));
    clock.set(ts("2026-12-14T00:00:00Z"));
    assert!(matches!(gh.fetch_repo("demo/app").await, Err(TrackerError::Unavailable(_))));
    // While it is down: #1 is reopened and #2 closed as completed, both after the maturation.
    fake.update(gh_issue("demo/app", 1, "issue 1", "open", Some("reopened"), None, "2026-12-15T10:00:00Z"));
    fake.add_event(1, "closed", "2026-12-10T00:00:00Z");
    fake.add_event(1, "reopened", "2026-12-15T10:00:00Z");
    fake.update(gh_issue(
        "demo/app",
        2,
        "issue 2",
        "closed",
        Some("completed"),
        Some("2026-12-15T11:00:00Z"),
        "2026-12-15T11:00:00Z",
    ));
    w.tick(ts("2026-12-15T12:00:00Z"));
    clock.set(ts("2026-12-15T12:00:00Z"));
    assert!(matches!(gh.fetch_repo("demo/app").await, Err(TrackerError::Unavailable(_))));
    for n in 1..=3 {
        assert_eq!(w.series(&format!("demo/app#{n}")), (SeriesStatus::Matured, None), "#{n} must wait");
    }

    // Then it rate-limits us: still waiting, nothing decided.
    let reset = ts("2026-12-16T00:00:00Z");
    fake.set_mode(Mode::RateLimited { reset: reset.millis() / 1000 });
    clock.set(ts("2026-12-15T18:00:00Z"));
    assert_eq!(gh.fetch_repo("demo/app").await.unwrap_err(), TrackerError::RateLimited { until: reset });
    w.tick(ts("2026-12-15T18:00:00Z"));
    for n in 1..=3 {
        assert_eq!(w.series(&format!("demo/app#{n}")).0, SeriesStatus::Matured);
    }
    assert_eq!(w.available("adam"), Amount::credits(100 - 18));

    // The first successful sync after the maturation decides from the state AT the maturation:
    // #1 was closed as completed then (fixed wins although it is open now), #2 was still open
    // (unfixed wins although it is closed as completed now), #3 stayed open.
    fake.set_mode(Mode::Normal);
    clock.set(ts("2026-12-16T00:00:01Z"));
    let after = gh.fetch_repo("demo/app").await.unwrap();
    assert!(after.observed_at > ts(MATURATION));
    w.apply(&after);
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Settled, Some(Outcome::Fixed)));
    assert_eq!(w.series("demo/app#2"), (SeriesStatus::Settled, Some(Outcome::Unfixed)));
    assert_eq!(w.series("demo/app#3"), (SeriesStatus::Settled, Some(Outcome::Unfixed)));
    // adam: paid 18 for 30 fixed units, wins 10 on #1. eve: paid 12, wins 10 on #2 and #3.
    assert_eq!(w.available("adam"), Amount::credits(100 - 18 + 10));
    assert_eq!(w.available("eve"), Amount::credits(100 - 12 + 20));

    // Later syncs change nothing: settlement ran once.
    let n = w.events.len();
    clock.set(ts("2026-12-17T00:00:00Z"));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());
    assert!(w.events[n..].iter().all(|t| !matches!(t.event, peerex_engine::Event::SeriesSettled { .. })));
}

#[tokio::test]
async fn an_unchanged_repository_answered_304_after_the_maturation_settles() {
    let fake = Fake::start(false).await;
    fake.set_issues(vec![gh_issue(
        "demo/app",
        1,
        "issue 1",
        "closed",
        Some("not_planned"),
        Some("2026-12-02T00:00:00Z"),
        "2026-12-02T00:00:00Z",
    )]);
    let clock = ManualClock::new(ts("2026-12-01T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    let mut w = World { engine: Engine::new(), events: Vec::new() };
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "adam", "amount": "100"}));
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "eve", "amount": "100"}));
    clock.set(ts("2026-12-03T00:00:00Z"));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());
    trade_on(&mut w, "2026-12-03T00:00:00Z", "demo/app#1", "a");

    // A sync exactly at the maturation is not newer than it: still waiting.
    w.tick(ts(MATURATION));
    clock.set(ts(MATURATION));
    let at_maturation = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(at_maturation.not_modified, 1);
    w.apply(&at_maturation);
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Matured, None));

    clock.set(ts("2026-12-15T00:05:00Z"));
    let later = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(later.not_modified, 1, "nothing changed on the tracker");
    w.apply(&later);
    // Closed as not planned is not "fixed": unfixed wins.
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Settled, Some(Outcome::Unfixed)));
    assert_eq!(w.available("eve"), Amount::credits(100 - 4 + 10));
}

#[tokio::test]
async fn a_reopen_before_the_maturation_counts_even_if_the_issue_was_edited_after_it() {
    let fake = Fake::start(false).await;
    let clock = ManualClock::new(ts("2026-12-01T00:00:00Z"));
    fake.set_issues(vec![gh_issue("demo/app", 1, "issue 1", "open", None, None, "2026-12-01T00:00:00Z")]);
    let gh = github(&fake.base(), &clock, 100);
    let mut w = World { engine: Engine::new(), events: Vec::new() };
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "adam", "amount": "100"}));
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "eve", "amount": "100"}));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());
    trade_on(&mut w, "2026-12-01T00:00:00Z", "demo/app#1", "a");

    // Closed as completed on the 10th, and a sync sees it.
    fake.update(gh_issue(
        "demo/app",
        1,
        "issue 1",
        "closed",
        Some("completed"),
        Some("2026-12-10T00:00:00Z"),
        "2026-12-10T00:00:00Z",
    ));
    fake.add_event(1, "closed", "2026-12-10T00:00:00Z");
    clock.set(ts("2026-12-11T00:00:00Z"));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());

    // Reopened on the 14th (before the maturation), commented on the 16th (after it); the
    // tracker is down in between, so no sync saw the reopen.
    fake.update(gh_issue("demo/app", 1, "issue 1", "open", Some("reopened"), None, "2026-12-16T00:00:00Z"));
    fake.add_event(1, "reopened", "2026-12-14T00:00:00Z");
    fake.add_event(1, "commented", "2026-12-16T00:00:00Z");
    w.tick(ts("2026-12-16T06:00:00Z"));
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Matured, None));

    // While the events cannot be read, the sync fails rather than guess from `updated_at`.
    fake.set_mode(Mode::Secondary { retry_after: 60 });
    clock.set(ts("2026-12-16T06:00:00Z"));
    assert!(matches!(gh.fetch_repo("demo/app").await, Err(TrackerError::RateLimited { .. })));
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Matured, None));

    fake.set_mode(Mode::Normal);
    clock.set(ts("2026-12-16T07:00:00Z"));
    let sync = gh.fetch_repo("demo/app").await.unwrap();
    assert_eq!(sync.observations[0].changed_at, Some(ts("2026-12-14T00:00:00Z")));
    w.apply(&sync);
    // Open at the maturation: unfixed wins (updated_at alone would have said "closed" then).
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Settled, Some(Outcome::Unfixed)));
    assert_eq!(w.available("eve"), Amount::credits(100 - 4 + 10));
}

#[tokio::test]
async fn a_sync_applied_after_the_engine_clock_moved_on_still_counts_from_its_request() {
    let fake = Fake::start(false).await;
    fake.set_issues(vec![gh_issue("demo/app", 1, "issue 1", "open", None, None, "2026-12-01T00:00:00Z")]);
    let clock = ManualClock::new(ts("2026-12-01T00:00:00Z"));
    let gh = github(&fake.base(), &clock, 100);
    let mut w = World { engine: Engine::new(), events: Vec::new() };
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "adam", "amount": "100"}));
    w.run(json!({"at": "2026-12-01T00:00:00Z", "op": "deposit", "user": "eve", "amount": "100"}));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());
    trade_on(&mut w, "2026-12-01T00:00:00Z", "demo/app#1", "a");

    // The request leaves one second before the maturation; the engine has passed it when the
    // answer is applied. The answer says nothing about the maturation instant: still waiting.
    clock.set(ts("2026-12-14T23:59:59Z"));
    let sync = gh.fetch_repo("demo/app").await.unwrap();
    w.tick(ts("2026-12-15T00:00:03Z"));
    for o in &sync.observations {
        w.engine.apply(o.to_command_at(ts("2026-12-15T00:00:03Z")), &mut w.events).unwrap();
    }
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Matured, None));
    clock.set(ts("2026-12-15T00:01:00Z"));
    w.apply(&gh.fetch_repo("demo/app").await.unwrap());
    assert_eq!(w.series("demo/app#1"), (SeriesStatus::Settled, Some(Outcome::Unfixed)));
}
