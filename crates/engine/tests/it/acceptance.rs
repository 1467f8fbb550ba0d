//! spec/exchange.md, "What must be shown": the worked examples and every rule, with exact values.

use peerex_engine::exchange::types::Side;
use serde_json::json;

use crate::support::{cr, H};

const MAT: &str = "2026-12-15T00:00:00Z";
const ISSUE: &str = "demo/app#1337";

/// Adam and Beth of seed 001: the contract forms with 200 in escrow.
fn adam_beth() -> H {
    let mut h = H::new();
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"1000"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"beth","amount":"1000"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":ISSUE,"title":"Crash on start"}));
    h.run(json!({"at":"2026-12-01T09:01:00Z","op":"offer","id":"a1","user":"adam","kind":"buy_unfixed","issue":ISSUE,"maturation":MAT,"price":"0.80","volume":200}));
    assert_eq!(h.held("adam"), cr("160"));
    h.run(json!({"at":"2026-12-01T09:02:00Z","op":"offer","id":"b1","user":"beth","kind":"buy_fixed","issue":ISSUE,"maturation":MAT,"price":"0.20","volume":200}));
    assert_eq!(h.offer_status("a1"), "filled");
    assert_eq!(h.offer_status("b1"), "filled");
    assert_eq!(h.available("adam"), cr("840"));
    assert_eq!(h.available("beth"), cr("960"));
    assert_eq!(h.held("adam"), cr("0"));
    let series = &h.engine.summary()["series"][0];
    assert_eq!(series["escrow"], "200");
    assert_eq!(series["units"], 200);
    h
}

#[test]
fn adam_beth_fixed_by_maturation() {
    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":ISSUE,"reason":"completed"}));
    h.run(json!({"at":"2026-12-15T00:00:00Z","op":"tick"}));
    // Beth gets 200 (net +160); Adam gets 0 (net -160, he got his fix).
    assert_eq!(h.available("beth"), cr("1160"));
    assert_eq!(h.available("adam"), cr("840"));
    let s = &h.engine.summary()["series"][0];
    assert_eq!(s["status"], "settled");
    assert_eq!(s["winner"], "fixed");
    assert_eq!(s["escrow"], "0");
}

#[test]
fn adam_beth_not_fixed() {
    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-16T00:00:00Z","op":"tick"}));
    // Adam gets 200 (net +40); Beth loses 40.
    assert_eq!(h.available("adam"), cr("1040"));
    assert_eq!(h.available("beth"), cr("960"));
    assert_eq!(h.engine.summary()["series"][0]["winner"], "unfixed");
}

#[test]
fn beth_resells_to_charles() {
    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-08T09:00:00Z","op":"deposit","user":"charles","amount":"1000"}));
    h.run(json!({"at":"2026-12-08T09:01:00Z","op":"offer","id":"b2","user":"beth","kind":"sell_fixed","issue":ISSUE,"maturation":MAT,"price":"0.40","volume":200}));
    h.run(json!({"at":"2026-12-08T09:02:00Z","op":"offer","id":"c1","user":"charles","kind":"buy_fixed","issue":ISSUE,"maturation":MAT,"price":"0.40","volume":200}));
    // Beth receives 80: net +40 for her partial work.
    assert_eq!(h.available("beth"), cr("1040"));
    assert_eq!(h.available("charles"), cr("920"));
    assert_eq!(h.units("charles", ISSUE, MAT, Side::Fixed), 200);
    assert_eq!(h.units("beth", ISSUE, MAT, Side::Fixed), 0);
    h.run(json!({"at":"2026-12-12T00:00:00Z","op":"close_issue","issue":ISSUE}));
    h.run(json!({"at":"2026-12-15T00:00:00Z","op":"tick"}));
    // Charles gets 200 if fixed: net +120.
    assert_eq!(h.available("charles"), cr("1120"));
    assert_eq!(h.available("beth"), cr("1040"));
    assert_eq!(h.available("adam"), cr("840"));
    let beth = h.engine.exchange().positions_of(h.engine.user_id("beth").unwrap());
    assert_eq!(beth[0].realized_pnl, cr("40"));
}
