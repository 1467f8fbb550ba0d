//! Arbitrated contracts (issue 12, item 3): a statement's series settled by arbiters at X, and
//! a tracker series disputed in its window, settled exactly once.

use peerex_engine::exchange::types::Side;
use peerex_engine::Amount;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{cr, H};

const T0: &str = "2026-12-01T09:00:00Z";
const MAT: &str = "2026-12-15T00:00:00Z";
const REPORT: &str = "2026-12-16T00:00:00Z";
const END: &str = "2026-12-20T00:00:00Z";

fn events(h: &H, what: &str) -> Vec<Value> {
    h.events
        .iter()
        .map(|e| h.engine.render_event(e))
        .filter(|e| e["type"] == "series_arbitration" && e["what"] == what)
        .collect()
}

fn count(h: &H, ty: &str) -> usize {
    h.events.iter().filter(|e| h.engine.render_event(e)["type"] == ty).count()
}

fn trade(h: &mut H, issue: &str) {
    // Adam funds the "no" side at 0.70, Beth takes "yes" at 0.30: 100 units, escrow 100.
    h.run(json!({"at":T0,"op":"offer","id":format!("{issue}-u"),"user":"adam","kind":"buy_unfixed","issue":issue,
        "maturation":MAT,"price":"0.70","volume":100}));
    h.run(json!({"at":T0,"op":"offer","id":format!("{issue}-f"),"user":"beth","kind":"buy_fixed","issue":issue,
        "maturation":MAT,"price":"0.30","volume":100}));
}

fn people(h: &mut H) {
    for u in ["adam", "beth", "sam", "x", "y", "z"] {
        h.run(json!({"at":T0,"op":"deposit","user":u,"amount":"1000"}));
    }
}

#[test]
fn statement_series_settles_at_the_arbiters_fraction() {
    let mut h = H::new();
    people(&mut h);
    h.run(json!({"at":T0,"op":"open_statement","user":"sam","issue":"stmt/parser-vuln",
        "statement":"A vulnerability in the parser is reported by 15 December","maturation":MAT,"bond":"50"}));
    assert_eq!(h.available("sam"), cr("950"));
    trade(&mut h, "stmt/parser-vuln");
    // One series per statement: another maturation is refused.
    h.refuse(
        json!({"at":T0,"op":"offer","id":"o9","user":"x","kind":"buy_fixed","issue":"stmt/parser-vuln",
        "maturation":"2026-12-30T00:00:00Z","price":"0.1","volume":1}),
        "invalid_argument",
    );
    // Before maturation no report; the sponsor may never report.
    h.refuse(
        json!({"at":T0,"op":"report_series","user":"x","issue":"stmt/parser-vuln","maturation":MAT,"value":1}),
        "invalid_state",
    );
    h.run(json!({"at":REPORT,"op":"tick"}));
    h.refuse(
        json!({"at":REPORT,"op":"report_series","user":"sam","issue":"stmt/parser-vuln","maturation":MAT,"value":1}),
        "not_eligible",
    );
    for (u, v) in [("x", 1), ("y", 1), ("z", 0)] {
        h.run(json!({"at":REPORT,"op":"report_series","user":u,"issue":"stmt/parser-vuln","maturation":MAT,"value":v}));
    }
    h.refuse(
        json!({"at":REPORT,"op":"report_series","user":"x","issue":"stmt/parser-vuln","maturation":MAT,"value":0}),
        "already_reported",
    );
    // The tracker never decides it (the local issue is open), nor does an admin.
    h.refuse(
        json!({"at":REPORT,"op":"decide","issue":"stmt/parser-vuln","maturation":MAT,"winner":"unfixed"}),
        "already_disputed",
    );
    h.run(json!({"at":END,"op":"tick"}));
    // X = 2/3: Beth's 100 fixed units pay 66.666600, Adam's unfixed 33.333400.
    assert_eq!(h.units("beth", "stmt/parser-vuln", MAT, Side::Fixed), 0);
    let s = &h.engine.summary()["series"][0];
    assert_eq!((s["status"].clone(), s["escrow"].clone()), (json!("settled"), json!("0")));
    assert_eq!(h.available("beth"), cr("1036.6666"));
    assert_eq!(h.available("adam"), cr("963.3334"));
    let arb = &events(&h, "arbitration")[0];
    assert_eq!(arb["rewarded"], true);
    let rewards: i64 =
        events(&h, "reward").iter().map(|r| Amount::parse(r["paid"].as_str().unwrap()).unwrap().micros()).sum();
    assert!(rewards > 0 && rewards <= cr("50").micros());
    assert_eq!(count(&h, "series_settled"), 1);
    assert_eq!(h.engine.ledger().minted(), cr("6000"));
}

#[test]
fn disputed_series_goes_to_arbitration_and_settles_once() {
    let mut h = H::new();
    people(&mut h);
    h.run(json!({"at":T0,"op":"configure_disputes","hours":48}));
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#9"}));
    trade(&mut h, "demo/app#9");
    // Closed "not planned" before maturation: the tracker says unfixed, after the window.
    h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":"demo/app#9","reason":"not_planned"}));
    h.refuse(json!({"at":"2026-12-11T00:00:00Z","op":"dispute","user":"beth","issue":"demo/app#9","maturation":MAT,"bond":"30"}), "invalid_state");
    h.run(json!({"at":REPORT,"op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["status"], "matured", "waiting out the dispute window");
    // What the views read: the window, its end for this series, and who decides it.
    let x = h.engine.exchange();
    assert_eq!(x.dispute_window_ms(), 48 * 3_600_000);
    let sid = x.series_id(x.issue_id("demo/app#9").unwrap(), peerex_engine::Timestamp::parse(MAT).unwrap()).unwrap();
    assert_eq!(x.dispute_until(sid), Some(peerex_engine::Timestamp::parse("2026-12-17T00:00:00Z").unwrap()));
    assert!(!x.is_arbitrated(sid), "the tracker decides until a dispute");
    // A bond above what beth has is refused; all of it is enough (she gets 10 back at once).
    h.run(json!({"at":REPORT,"op":"withdraw","user":"beth","amount":"940"}));
    h.refuse(
        json!({"at":REPORT,"op":"dispute","user":"beth","issue":"demo/app#9","maturation":MAT,"bond":"30.000001"}),
        "insufficient_funds",
    );
    h.run(json!({"at":REPORT,"op":"dispute","user":"beth","issue":"demo/app#9","maturation":MAT,"bond":"30"}));
    h.run(json!({"at":REPORT,"op":"deposit","user":"beth","amount":"940"}));
    assert!(h.engine.exchange().is_arbitrated(sid), "a dispute hands it to the arbiters");
    h.refuse(
        json!({"at":REPORT,"op":"dispute","user":"adam","issue":"demo/app#9","maturation":MAT,"bond":"30"}),
        "already_disputed",
    );
    for u in ["x", "y", "z"] {
        h.run(json!({"at":REPORT,"op":"report_series","user":u,"issue":"demo/app#9","maturation":MAT,"value":1}));
    }
    // The window's end passes: nothing from the tracker; the arbiters' window closes later.
    h.run(json!({"at":"2026-12-18T00:00:00Z","op":"tick"}));
    assert_eq!(count(&h, "series_settled"), 0);
    h.run(json!({"at":END,"op":"tick"}));
    assert_eq!(count(&h, "series_settled"), 1);
    // X = 1: Beth's fixed units pay 1 each; her bond paid the arbiters, the rest came back.
    let rem = events(&h, "remainder");
    let back = Amount::parse(rem[0]["amount"].as_str().unwrap()).unwrap();
    assert!(back < cr("30") && back.is_positive());
    assert_eq!(h.available("beth").micros(), cr("1040").micros() + back.micros());
    h.refuse(
        json!({"at":END,"op":"dispute","user":"adam","issue":"demo/app#9","maturation":MAT,"bond":"30"}),
        "invalid_state",
    );
    h.refuse(json!({"at":END,"op":"decide","issue":"demo/app#9","maturation":MAT,"winner":"unfixed"}), "invalid_state");
}

#[test]
fn undisputed_series_settles_by_its_tracker_after_the_window() {
    let mut h = H::new();
    people(&mut h);
    h.run(json!({"at":T0,"op":"configure_disputes","hours":24}));
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#9"}));
    trade(&mut h, "demo/app#9");
    h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":"demo/app#9"}));
    h.run(json!({"at":"2026-12-15T12:00:00Z","op":"tick"}));
    assert_eq!(count(&h, "series_settled"), 0);
    h.run(json!({"at":REPORT,"op":"tick"}));
    assert_eq!(count(&h, "series_settled"), 1);
    assert_eq!(h.available("beth"), cr("1070"));
    h.refuse(
        json!({"at":T0.replace("2026-12-01", "2026-12-17").as_str(),"op":"configure_disputes","hours":-1}),
        "invalid_argument",
    );
}

#[test]
fn a_dispute_without_enough_arbiters_falls_back_to_the_tracker() {
    let mut h = H::new();
    people(&mut h);
    h.run(json!({"at":T0,"op":"configure_disputes","hours":48}));
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#9"}));
    trade(&mut h, "demo/app#9");
    h.run(json!({"at":REPORT,"op":"dispute","user":"beth","issue":"demo/app#9","maturation":MAT,"bond":"30"}));
    h.run(json!({"at":REPORT,"op":"report_series","user":"x","issue":"demo/app#9","maturation":MAT,"value":1}));
    h.run(json!({"at":END,"op":"tick"}));
    assert_eq!(count(&h, "series_settled"), 1);
    // The issue stayed open: unfixed wins; Beth's bond came back.
    assert_eq!(h.available("beth"), cr("970"));
    assert_eq!(h.available("adam"), cr("1030"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A disputed series settles exactly once, whatever happens around it: the tracker, admin
    /// decisions, second disputes and reports at random times; the bond pays at most itself.
    #[test]
    fn a_disputed_series_settles_once(
        steps in prop::collection::vec((0u8..6, 0usize..4, 0u8..2, 0i64..200), 1..25),
        bond in 1i64..200,
    ) {
        let mut h = H::new();
        people(&mut h);
        h.run(json!({"at":T0,"op":"configure_disputes","hours":72}));
        h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#9"}));
        trade(&mut h, "demo/app#9");
        let start = peerex_engine::Timestamp::parse("2026-12-14T00:00:00Z").unwrap();
        let mut t = start;
        let users = ["x", "y", "z", "adam"];
        for (op, who, v, dt) in steps {
            t = t.plus_millis(dt * 3_600_000 / 10);
            let at = t.to_rfc3339();
            let cmd = match op {
                0 => json!({"at":at,"op":"dispute","user":users[who],"issue":"demo/app#9","maturation":MAT,"bond":bond.to_string()}),
                1 => json!({"at":at,"op":"report_series","user":users[who],"issue":"demo/app#9","maturation":MAT,"value":v}),
                2 => json!({"at":at,"op":"close_issue","issue":"demo/app#9"}),
                3 => json!({"at":at,"op":"decide","issue":"demo/app#9","maturation":MAT,"winner":"fixed"}),
                4 => json!({"at":at,"op":"reopen_issue","issue":"demo/app#9"}),
                _ => json!({"at":at,"op":"tick"}),
            };
            let _ = h.try_run(cmd);
        }
        h.run(json!({"at":"2027-02-01T00:00:00Z","op":"tick"}));
        prop_assert_eq!(count(&h, "series_settled"), 1);
        prop_assert_eq!(h.engine.ledger().minted(), cr("6000"));
        let paid: i64 = events(&h, "reward").iter().chain(events(&h, "bond_shared").iter())
            .map(|r| Amount::parse(r["paid"].as_str().or(r["amount"].as_str()).unwrap()).unwrap().micros()).sum();
        prop_assert!(paid <= bond * 1_000_000);
    }
}

/// Replays an example file like `peerex replay` does: the summary and the rejected codes.
fn replay(name: &str) -> (Value, Vec<&'static str>) {
    let path = format!("{}/../../examples/exchange/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut engine = peerex_engine::Engine::new();
    let (mut events, mut rejected) = (Vec::new(), Vec::new());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Err(e) = engine.apply(peerex_engine::Command::from_json(line).unwrap(), &mut events) {
            rejected.push(e.code());
        }
        engine.check_invariants().unwrap();
    }
    (engine.summary(), rejected)
}

#[test]
fn replay_examples_show_the_stated_balances() {
    let (s, rejected) = replay("arbitrated-statement.jsonl");
    assert_eq!(rejected, vec!["not_eligible"]);
    assert_eq!(
        (s["users"]["beth"]["available"].clone(), s["users"]["adam"]["available"].clone()),
        (json!("1036.6666"), json!("963.3334"))
    );
    assert_eq!((s["series"][0]["status"].clone(), s["series"][0]["escrow"].clone()), (json!("settled"), json!("0")));
    // The summary says how the series was decided.
    assert_eq!(s["series"][0]["arbitration"]["kind"], "statement");
    assert_eq!(s["series"][0]["arbitration"]["state"], "decided");
    let (s, rejected) = replay("dispute.jsonl");
    assert_eq!(s["series"][0]["arbitration"]["kind"], "dispute");
    assert_eq!(rejected, vec!["already_disputed"]);
    assert_eq!(s["users"]["adam"]["available"], "930");
    let beth = Amount::parse(s["users"]["beth"]["available"].as_str().unwrap()).unwrap();
    assert!(beth > cr("1040") && beth < cr("1070"), "{beth}");
    let (s, rejected) = replay("market-maker.jsonl");
    assert!(rejected.is_empty());
    assert!(Amount::parse(s["users"]["fiona"]["available"].as_str().unwrap()).unwrap() >= cr("993.068528"));
    assert_eq!(s["users"]["~maker/0"]["available"], "0");
    assert_eq!(s["series"][0]["maker"]["subsidy"], "6.931472", "{}", s["series"][0]);
    assert_eq!(s["series"][0]["maker"]["active"], false);
    assert_eq!((s["series"][0]["status"].clone(), s["series"][0]["escrow"].clone()), (json!("settled"), json!("0")));
}

/// Opens the statement `stmt/x` with a 50-credit bond and `params`, and trades 100 units at
/// `fixed_price`: Adam holds the unfixed side, Beth the fixed side.
fn statement_traded_at(h: &mut H, fixed_price: &str, params: Value) {
    people(h);
    let mut cmd = json!({"at":T0,"op":"open_statement","user":"sam","issue":"stmt/x","statement":"s",
        "maturation":MAT,"bond":"50"});
    if let (Value::Object(c), Value::Object(p)) = (&mut cmd, params) {
        c.extend(p);
    }
    h.run(cmd);
    let unfixed = format!("{:.4}", 1.0 - fixed_price.parse::<f64>().unwrap());
    h.run(json!({"at":T0,"op":"offer","id":"u","user":"adam","kind":"buy_unfixed","issue":"stmt/x",
        "maturation":MAT,"price":unfixed,"volume":100}));
    h.run(json!({"at":T0,"op":"offer","id":"f","user":"beth","kind":"buy_fixed","issue":"stmt/x",
        "maturation":MAT,"price":fixed_price,"volume":100}));
}

fn report_series(h: &mut H, user: &str, value: u8) -> Result<(), peerex_engine::EngineError> {
    h.try_run(json!({"at":REPORT,"op":"report_series","user":user,"issue":"stmt/x","maturation":MAT,"value":value}))
}

#[test]
fn arbiters_record_their_reports_against_the_outcome() {
    let mut h = H::new();
    statement_traded_at(&mut h, "0.30", json!({}));
    h.run(json!({"at":REPORT,"op":"tick"}));
    for (u, v) in [("x", 1), ("y", 1), ("z", 0)] {
        report_series(&mut h, u, v).unwrap();
    }
    // The window closes at the instant it ends (3 days after maturation).
    h.run(json!({"at":"2026-12-18T00:00:00Z","op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["status"], "settled");
    // X = 2/3 is mostly 1: x and y reported 1 there, z did not.
    let record = |u: &str| h.engine.markets().reliability(h.engine.user_id(u).unwrap());
    assert_eq!((record("x").mostly_one, record("x").ones_when_one), (1, 1));
    assert_eq!((record("z").mostly_one, record("z").ones_when_one), (1, 0));
    assert_eq!(record("z").mostly_zero, 0);
}

#[test]
fn an_arbiter_at_the_position_cap_reports_and_one_above_it_does_not() {
    let mut h = H::new();
    statement_traded_at(&mut h, "0.30", json!({"position_cap":"100"}));
    let mut offer = |id: &str, user: &str, kind: &str, volume: u64| {
        h.run(json!({"at":T0,"op":"offer","id":id,"user":user,"kind":kind,"issue":"stmt/x",
            "maturation":MAT,"price":"0.5","volume":volume}));
    };
    // x and y trade 101 units as well.
    offer("xf", "x", "buy_fixed", 101);
    offer("yu", "y", "buy_unfixed", 101);
    // z buys 150 fixed units from y and 100 unfixed units from x: its net stake is 50.
    offer("zf", "z", "buy_fixed", 150);
    offer("yu2", "y", "buy_unfixed", 150);
    offer("zu", "z", "buy_unfixed", 100);
    offer("xf2", "x", "buy_fixed", 100);
    assert_eq!((h.units("z", "stmt/x", MAT, Side::Fixed), h.units("z", "stmt/x", MAT, Side::Unfixed)), (150, 100));
    h.run(json!({"at":REPORT,"op":"tick"}));
    // Adam (100 unfixed) and Beth (100 fixed) are at the cap, z (net 50) below it; x and y are
    // over it.
    report_series(&mut h, "adam", 0).unwrap();
    report_series(&mut h, "beth", 1).unwrap();
    report_series(&mut h, "z", 1).unwrap();
    for u in ["x", "y"] {
        assert_eq!(report_series(&mut h, u, 1).unwrap_err().code(), "not_eligible", "{u}");
    }
}

#[test]
fn statement_bounds_are_inclusive() {
    let mut h = H::new();
    h.run(json!({"at":T0,"op":"deposit","user":"sam","amount":"50"}));
    let cmd = json!({"at":T0,"op":"open_statement","user":"sam","issue":"i".repeat(200),
        "statement":"s".repeat(2_000),"maturation":MAT,"bond":"50","k_floor":"50"});
    let with = |k: &str, v: Value| {
        let mut c = cmd.clone();
        c[k] = v;
        c
    };
    h.refuse(with("issue", json!("")), "invalid_argument");
    h.refuse(with("issue", json!("i".repeat(201))), "invalid_argument");
    h.refuse(with("statement", json!("s".repeat(2_001))), "invalid_argument");
    h.refuse(with("statement", json!(" ")), "invalid_argument");
    h.refuse(with("k_floor", json!("50.000001")), "invalid_argument");
    h.refuse(with("k_floor", json!("-0.000001")), "invalid_argument");
    h.refuse(with("bond", json!("50.000001")), "insufficient_funds");
    h.refuse(with("bond", json!("1000000001")), "invalid_amount");
    h.refuse(with("bond", json!("1000000000")), "insufficient_funds");
    // The whole balance as the bond, the longest key and statement.
    h.run(cmd);
    assert_eq!(h.available("sam"), Amount::ZERO);
    assert_eq!(h.engine.cases().all().map(|(_, c)| c.bond).collect::<Vec<_>>(), [cr("50").micros()]);
    // Only the statement's own issue is limited to one series: another issue takes offers at
    // two maturations.
    h.run(json!({"at":T0,"op":"deposit","user":"ann","amount":"10"}));
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#1"}));
    for (id, maturation) in [("o1", MAT), ("o2", END)] {
        h.run(json!({"at":T0,"op":"offer","id":id,"user":"ann","kind":"buy_fixed","issue":"demo/app#1",
            "maturation":maturation,"price":"0.1","volume":1}));
    }
    // The dispute window: at most 90 days.
    h.run(json!({"at":T0,"op":"configure_disputes","hours":2160}));
    h.refuse(json!({"at":T0,"op":"configure_disputes","hours":2161}), "invalid_argument");
}

#[test]
fn without_rewards_the_arbiters_without_a_stake_share_the_bond() {
    let mut h = H::new();
    statement_traded_at(&mut h, "0.9999", json!({}));
    h.run(json!({"at":REPORT,"op":"tick"}));
    for u in ["x", "y", "z"] {
        report_series(&mut h, u, 1).unwrap();
    }
    h.run(json!({"at":END,"op":"tick"}));
    assert_eq!(events(&h, "arbitration")[0]["rewarded"], false, "{:?}", events(&h, "arbitration"));
    // 50 / 3 = 16.666666 each; the 0.000002 left goes back to the sponsor.
    let shared: Vec<Value> = events(&h, "bond_shared").iter().map(|e| e["amount"].clone()).collect();
    assert_eq!(shared, [json!("16.666666"), json!("16.666666"), json!("16.666666")]);
    assert_eq!(events(&h, "remainder")[0]["amount"], "0.000002");
    assert_eq!(h.available("x"), cr("1016.666666"));
    assert_eq!(h.available("sam"), cr("950.000002"));
}

#[test]
fn reporting_opens_at_the_maturation_instant_itself() {
    let mut h = H::new();
    people(&mut h);
    h.run(json!({"at":T0,"op":"open_statement","user":"sam","issue":"stmt/exact",
        "statement":"Reporting opens exactly at the maturation","maturation":MAT,"bond":"50"}));
    h.run(json!({"at":"2026-12-14T23:59:59.999Z","op":"tick"}));
    assert!(events(&h, "case_reporting").is_empty(), "not a millisecond early");
    h.run(json!({"at":MAT,"op":"tick"}));
    assert_eq!(events(&h, "case_reporting").len(), 1, "the command at the maturation opens it");
    h.run(json!({"at":MAT,"op":"report_series","user":"x","issue":"stmt/exact","maturation":MAT,"value":1}));
}

/// A statement's maturation, then its case's report deadline, is the next instant something is
/// due in the engine.
#[test]
fn the_next_due_instant_is_the_statements_maturation_then_its_report_deadline() {
    let mut h = H::new();
    people(&mut h);
    h.run(json!({"at":T0,"op":"open_statement","user":"sam","issue":"stmt/due",
        "statement":"due","maturation":MAT,"bond":"50"}));
    let at = |s| peerex_engine::Timestamp::parse(s).unwrap();
    assert_eq!(h.engine.next_due(), Some(at(MAT)));
    h.run(json!({"at":REPORT,"op":"tick"}));
    // Matured: the exchange has nothing left; the case's report window ends later.
    let due = h.engine.next_due().expect("the case's report deadline");
    assert!(due > at(REPORT), "{due}");
    assert_eq!(h.engine.exchange().next_due(), None);
}
