//! Property: whatever the tracker does and whenever it is down, a series on a synced issue
//! settles exactly once, at the first successful sync newer than its maturation, with the
//! outcome of the issue's true state at the maturation — as long as at most one close/reopen
//! happens between two successful syncs (the documented limit of polling; webhooks lift it).

use peerex_engine::exchange::types::{Outcome, SeriesStatus};
use peerex_engine::{Command, Engine, Op, Timestamp};
use peerex_trackers::{ManualClock, Tracker};
use proptest::prelude::*;
use serde_json::json;

use crate::fake::{gh_issue, Fake, Mode};
use crate::github_sync::github;

const HOUR: i64 = 3_600_000;
/// Day 0, midnight.
const T0: i64 = 1_796_083_200_000; // 2026-12-01T00:00:00Z
/// The maturation: hour 200 (day 8, 08:00).
const MATURATION_H: i64 = 200;
const END_H: i64 = 400;

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Open,
    Completed,
    NotPlanned,
}

#[derive(Clone, Debug)]
enum Step {
    /// The issue changes state (always to a different one).
    Change(State),
    /// Someone comments: only `updated_at` moves.
    Comment,
    /// A sync attempt; `false` = the tracker is down.
    Sync(bool),
}

fn at(h: i64) -> Timestamp {
    Timestamp(T0 + h * HOUR)
}

fn rfc(h: i64) -> String {
    at(h).to_rfc3339()
}

/// Steps at increasing hours in 1..END_H. After each change a successful sync follows before the
/// next change (failed syncs and comments anywhere).
fn scenario() -> impl Strategy<Value = Vec<(i64, Step)>> {
    let segment = (
        prop_oneof![Just(State::Open), Just(State::Completed), Just(State::NotPlanned)],
        prop::collection::vec((0i64..3, any::<bool>()), 0..4),
        1i64..60,
    );
    prop::collection::vec(segment, 0..6).prop_map(|segments| {
        let mut steps = Vec::new();
        let mut h = 1;
        let mut state = State::Open;
        for (next, noise, gap) in segments {
            h += gap;
            if next != state {
                steps.push((h, Step::Change(next)));
                state = next;
            }
            for (kind, ok) in noise {
                h += 1 + gap / 3;
                steps.push((h, if kind == 0 { Step::Comment } else { Step::Sync(ok) }));
            }
            h += 1 + gap / 2;
            steps.push((h, Step::Sync(true)));
        }
        steps.into_iter().filter(|(h, _)| *h < END_H).collect()
    })
}

fn issue_json(state: State, closed_at: Option<i64>, updated: i64) -> serde_json::Value {
    let (s, reason) = match state {
        State::Open => ("open", closed_at.map(|_| "reopened")),
        State::Completed => ("closed", Some("completed")),
        State::NotPlanned => ("closed", Some("not_planned")),
    };
    let closed = if state == State::Open { None } else { closed_at.map(rfc) };
    gh_issue("demo/app", 1, "issue", s, reason, closed.as_deref(), &rfc(updated))
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn settles_once_from_the_true_state_at_the_maturation(steps in scenario()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(check(steps));
    }
}

async fn check(steps: Vec<(i64, Step)>) {
    let fake = Fake::start(false).await;
    let clock = ManualClock::new(at(0));
    let gh = github(&fake.base(), &clock, 100);
    let mut engine = Engine::new();
    let mut events = Vec::new();
    let mut apply = |engine: &mut Engine, cmd: Command| {
        engine.apply(cmd, &mut events).unwrap();
        engine.check_invariants().unwrap();
    };
    for user in ["adam", "eve"] {
        let c = json!({"at": rfc(0), "op": "deposit", "user": user, "amount": "100"});
        apply(&mut engine, Command::from_json(&c.to_string()).unwrap());
    }
    fake.set_issues(vec![issue_json(State::Open, None, 0)]);
    for cmd in gh.fetch_repo("demo/app").await.unwrap().commands() {
        apply(&mut engine, cmd);
    }
    for (user, kind, price) in [("adam", "buy_fixed", "0.5"), ("eve", "buy_unfixed", "0.5")] {
        let c = json!({"at": rfc(0), "op": "offer", "id": user, "user": user, "kind": kind, "issue": "demo/app#1",
                       "maturation": rfc(MATURATION_H), "price": price, "volume": 10});
        apply(&mut engine, Command::from_json(&c.to_string()).unwrap());
    }

    let mut truth = State::Open;
    let mut truth_at_maturation = None;
    let mut closed_at = None;
    let mut first_good_sync_after = None;
    let all = steps.into_iter().chain(std::iter::once((END_H, Step::Sync(true))));
    for (h, step) in all {
        if h >= MATURATION_H && truth_at_maturation.is_none() && !matches!(step, Step::Change(_)) {
            truth_at_maturation = Some(truth);
        }
        if h > MATURATION_H && truth_at_maturation.is_none() {
            truth_at_maturation = Some(truth);
        }
        match step {
            Step::Change(next) => {
                if next == State::Open {
                    fake.add_event(1, "reopened", &rfc(h));
                } else {
                    closed_at = Some(h);
                    fake.add_event(1, "closed", &rfc(h));
                }
                truth = next;
                fake.update(issue_json(truth, closed_at, h));
                if h == MATURATION_H {
                    // A change exactly at the maturation counts.
                    truth_at_maturation = Some(truth);
                }
            }
            Step::Comment => fake.update(issue_json(truth, closed_at, h)),
            Step::Sync(ok) => {
                fake.set_mode(if ok { Mode::Normal } else { Mode::Down(503) });
                clock.set(at(h));
                match gh.fetch_repo("demo/app").await {
                    Ok(sync) => {
                        assert!(ok);
                        for cmd in sync.commands() {
                            apply(&mut engine, cmd);
                        }
                        if h > MATURATION_H && first_good_sync_after.is_none() {
                            first_good_sync_after = Some(h);
                        }
                    }
                    Err(_) => {
                        assert!(!ok);
                        apply(&mut engine, Command::new(at(h), Op::Tick {}));
                    }
                }
            }
        }
        let ex = engine.exchange();
        let s = ex.series(ex.series_id(ex.issue_id("demo/app#1").unwrap(), at(MATURATION_H)).unwrap()).unwrap();
        match first_good_sync_after {
            None => assert_ne!(
                s.status,
                SeriesStatus::Settled,
                "settled at hour {h} before a sync newer than the maturation"
            ),
            Some(g) => assert_eq!(s.settled_at, Some(at(g)), "settles at the first good sync after the maturation"),
        }
    }
    let ex = engine.exchange();
    let s = ex.series(ex.series_id(ex.issue_id("demo/app#1").unwrap(), at(MATURATION_H)).unwrap()).unwrap();
    let want = if truth_at_maturation == Some(State::Completed) { Outcome::Fixed } else { Outcome::Unfixed };
    assert_eq!(s.status, SeriesStatus::Settled);
    assert_eq!(s.outcome, Some(want), "truth at the maturation: {truth_at_maturation:?}");
}
