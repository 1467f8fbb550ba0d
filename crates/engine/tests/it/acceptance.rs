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

/// A fresh market: users with 1000 credits each, issue open, clock at day 1.
fn market(users: &[&str]) -> H {
    let mut h = H::new();
    for u in users {
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":u,"amount":"1000"}));
    }
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":ISSUE}));
    h
}

fn offer(h: &mut H, at: &str, id: &str, user: &str, kind: &str, price: &str, volume: u64) {
    h.run(json!({"at":at,"op":"offer","id":id,"user":user,"kind":kind,"issue":ISSUE,"maturation":MAT,"price":price,"volume":volume}));
}

/// An offer command with extra fields (aon, poolable, expiration).
fn offer_json(
    at: &str,
    id: &str,
    user: &str,
    kind: &str,
    price: &str,
    volume: u64,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut cmd = json!({"at":at,"op":"offer","id":id,"user":user,"kind":kind,"issue":ISSUE,"maturation":MAT,"price":price,"volume":volume});
    if let (Some(c), Some(e)) = (cmd.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    cmd
}

const T1: &str = "2026-12-01T10:00:00Z";
const T2: &str = "2026-12-01T11:00:00Z";
const T3: &str = "2026-12-01T12:00:00Z";
const T4: &str = "2026-12-01T13:00:00Z";

fn last_trade(h: &H) -> serde_json::Value {
    let e = h.events.iter().rev().find(|e| matches!(e.event, peerex_engine::Event::Traded { .. })).unwrap();
    h.engine.render_event(e)
}

#[test]
fn expand_creates_units_backed_by_escrow() {
    let mut h = market(&["f", "w"]);
    offer(&mut h, T1, "bu", "f", "buy_unfixed", "0.7", 10);
    offer(&mut h, T2, "bf", "w", "buy_fixed", "0.3", 10);
    let t = last_trade(&h);
    assert_eq!(
        (t["kind"].as_str(), t["price"].as_str(), t["volume"].as_u64()),
        (Some("expand"), Some("0.3"), Some(10))
    );
    assert_eq!(h.engine.summary()["series"][0]["escrow"], "10");
    assert_eq!(h.available("f"), cr("993"));
    assert_eq!(h.available("w"), cr("997"));
}

#[test]
fn transfer_of_fixed_units_pays_the_seller() {
    let mut h = market(&["f", "w", "x"]);
    offer(&mut h, T1, "bu", "f", "buy_unfixed", "0.7", 10);
    offer(&mut h, T1, "bf", "w", "buy_fixed", "0.3", 10);
    offer(&mut h, T2, "sf", "w", "sell_fixed", "0.6", 10);
    offer(&mut h, T3, "bf2", "x", "buy_fixed", "0.6", 10);
    assert_eq!(last_trade(&h)["kind"], "transfer");
    assert_eq!(h.available("w"), cr("1003"));
    assert_eq!(h.available("x"), cr("994"));
    assert_eq!(h.units("x", ISSUE, MAT, Side::Fixed), 10);
    assert_eq!(h.engine.summary()["series"][0]["escrow"], "10", "a transfer leaves the escrow alone");
}

#[test]
fn transfer_of_unfixed_units_pays_the_seller() {
    let mut h = market(&["f", "w", "g"]);
    offer(&mut h, T1, "bu", "f", "buy_unfixed", "0.7", 10);
    offer(&mut h, T1, "bf", "w", "buy_fixed", "0.3", 10);
    offer(&mut h, T2, "su", "f", "sell_unfixed", "0.75", 10);
    offer(&mut h, T3, "bu2", "g", "buy_unfixed", "0.75", 10);
    let t = last_trade(&h);
    assert_eq!(t["kind"], "transfer");
    assert_eq!(t["price"], "0.25", "fixed-side price of an unfixed trade at 0.75");
    assert_eq!(h.available("f"), cr("1000.5"));
    assert_eq!(h.available("g"), cr("992.5"));
    assert_eq!(h.units("g", ISSUE, MAT, Side::Unfixed), 10);
}

#[test]
fn reduce_destroys_units_and_pays_both_sellers_from_escrow() {
    let mut h = market(&["f", "w"]);
    offer(&mut h, T1, "bu", "f", "buy_unfixed", "0.7", 10);
    offer(&mut h, T1, "bf", "w", "buy_fixed", "0.3", 10);
    offer(&mut h, T2, "sf", "w", "sell_fixed", "0.4", 4);
    offer(&mut h, T3, "su", "f", "sell_unfixed", "0.6", 4);
    assert_eq!(last_trade(&h)["kind"], "reduce");
    let s = &h.engine.summary()["series"][0];
    assert_eq!((s["units"].as_u64(), s["escrow"].as_str()), (Some(6), Some("6")));
    assert_eq!(h.available("w"), cr("998.6"));
    assert_eq!(h.available("f"), cr("995.4"));
}

#[test]
fn partial_fills_keep_priority_and_rest() {
    let mut h = market(&["a", "b", "c", "d"]);
    offer(&mut h, T1, "a1", "a", "buy_fixed", "0.4", 100);
    offer(&mut h, T2, "b1", "b", "buy_fixed", "0.4", 100);
    offer(&mut h, T3, "c1", "c", "buy_unfixed", "0.6", 30);
    assert_eq!(h.remaining("a1"), 70, "the earlier offer at the same price fills first");
    assert_eq!(h.remaining("b1"), 100);
    offer(&mut h, T4, "d1", "d", "buy_unfixed", "0.6", 80);
    assert_eq!(h.offer_status("a1"), "filled");
    assert_eq!(h.remaining("b1"), 90, "a partially filled offer kept its place ahead of b1");
    assert_eq!(h.offer_status("d1"), "filled");
}

#[test]
fn best_price_first_and_improvement_goes_to_the_arriving_offer() {
    let mut h = market(&["a", "b", "c"]);
    offer(&mut h, T1, "a1", "a", "buy_fixed", "0.30", 10);
    offer(&mut h, T2, "b1", "b", "buy_fixed", "0.35", 10);
    // c is willing to pay 0.80 for unfixed (ask at fixed 0.20); trades at the resting 0.35 first.
    offer(&mut h, T3, "c1", "c", "buy_unfixed", "0.80", 15);
    assert_eq!(h.offer_status("b1"), "filled");
    assert_eq!(h.remaining("a1"), 5);
    // c pays 0.65 x 10 + 0.70 x 5 = 10 and holds nothing more: improvement released.
    assert_eq!(h.available("c"), cr("990"));
    assert_eq!(h.held("c"), cr("0"));
}

#[test]
fn aon_as_maker_is_skipped_until_it_can_fill_whole() {
    let mut h = market(&["a", "b", "c", "d"]);
    h.run(offer_json(T1, "a1", "a", "buy_fixed", "0.5", 50, json!({"aon":true})));
    offer(&mut h, T2, "b1", "b", "buy_fixed", "0.4", 20);
    offer(&mut h, T3, "c1", "c", "buy_unfixed", "0.6", 20);
    assert_eq!(h.remaining("a1"), 50, "AON maker not partially filled");
    assert_eq!(h.offer_status("b1"), "filled", "the arriving offer went on to the next");
    offer(&mut h, T4, "d1", "d", "buy_unfixed", "0.5", 50);
    assert_eq!(h.offer_status("a1"), "filled");
    assert_eq!(h.offer_status("d1"), "filled");
}

#[test]
fn aon_as_taker_fills_whole_or_rests() {
    let mut h = market(&["a", "b", "c"]);
    offer(&mut h, T1, "a1", "a", "buy_fixed", "0.5", 30);
    h.run(offer_json(T2, "c1", "c", "buy_unfixed", "0.5", 50, json!({"aon":true})));
    assert_eq!(h.remaining("a1"), 30, "an AON taker that cannot fill whole trades nothing");
    assert_eq!(h.offer_status("c1"), "open");
    assert_eq!(h.held("c"), cr("25"));
    h.run(offer_json(T3, "c2", "c", "buy_unfixed", "0.5", 30, json!({"aon":true})));
    assert_eq!(h.offer_status("c2"), "filled");
    assert_eq!(h.offer_status("a1"), "filled");
}

#[test]
fn poolable_offers_share_one_hold_and_suspend_when_funds_run_short() {
    let mut h = H::new();
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"dev","amount":"100"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"fun","amount":"10000"}));
    for i in 1..=3 {
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":format!("p#{i}")}));
    }
    // Three poolable bids of 80 credits each: one hold of 80, not 240.
    for i in 1..=3 {
        h.run(
            json!({"at":T1,"op":"offer","id":format!("d{i}"),"user":"dev","kind":"buy_fixed","issue":format!("p#{i}"),
            "maturation":MAT,"price":"0.4","volume":200,"poolable":true}),
        );
    }
    assert_eq!(h.held("dev"), cr("80"));
    assert_eq!(h.available("dev"), cr("20"));
    // One fills: 80 paid; 20 left cannot back another 80: the others are suspended.
    h.run(json!({"at":T2,"op":"offer","id":"f1","user":"fun","kind":"buy_unfixed","issue":"p#1","maturation":MAT,"price":"0.6","volume":200}));
    assert_eq!(h.offer_status("d1"), "filled");
    assert_eq!(h.offer_status("d2"), "suspended");
    assert_eq!(h.offer_status("d3"), "suspended");
    assert_eq!(h.held("dev"), cr("0"));
    assert_eq!(h.available("dev"), cr("20"));
    assert_eq!(h.count("offer_suspended"), 2);
    // A suspended offer is off the book: a crossing offer does not trade with it.
    h.run(json!({"at":T3,"op":"offer","id":"f2","user":"fun","kind":"buy_unfixed","issue":"p#2","maturation":MAT,"price":"0.6","volume":200}));
    assert_eq!(h.offer_status("f2"), "open");
    // Resume needs funds.
    h.refuse(json!({"at":T3,"op":"resume","user":"dev","offer":"d2"}), "insufficient_funds");
    h.run(json!({"at":T3,"op":"deposit","user":"dev","amount":"60"}));
    h.run(json!({"at":T4,"op":"resume","user":"dev","offer":"d2"}));
    assert_eq!(h.offer_status("d2"), "filled", "resumed offer matches like a new arrival");
    assert_eq!(h.available("dev"), cr("0"));
}

#[test]
fn self_trade_prevention_cancels_the_resting_offer() {
    let mut h = market(&["a", "b"]);
    offer(&mut h, T1, "a1", "a", "buy_fixed", "0.5", 10);
    offer(&mut h, T2, "a2", "a", "buy_unfixed", "0.6", 10);
    assert_eq!(h.offer_status("a1"), "cancelled");
    assert_eq!(h.offer_status("a2"), "open");
    assert_eq!(h.count("traded"), 0);
    let e = h.events.iter().rev().find(|e| h.engine.render_event(e)["type"] == "offer_cancelled").unwrap();
    assert_eq!(h.engine.render_event(e)["reason"], "self_trade");
    assert_eq!(h.held("a"), cr("6"));
}

#[test]
fn expired_offers_release_their_hold_and_never_trade() {
    let mut h = market(&["a", "b"]);
    h.run(offer_json(T1, "a1", "a", "buy_fixed", "0.5", 10, json!({"expiration":"2026-12-02T00:00:00Z"})));
    assert_eq!(h.held("a"), cr("5"));
    h.run(json!({"at":"2026-12-02T00:00:00Z","op":"tick"}));
    assert_eq!(h.offer_status("a1"), "expired");
    assert_eq!(h.held("a"), cr("0"));
    offer(&mut h, "2026-12-02T01:00:00Z", "b1", "b", "buy_unfixed", "0.5", 10);
    assert_eq!(h.offer_status("b1"), "open", "nothing left to trade with");
}

#[test]
fn cancellation_releases_holds_of_buys_and_units_of_sells() {
    let mut h = market(&["f", "w"]);
    offer(&mut h, T1, "bu", "f", "buy_unfixed", "0.7", 10);
    offer(&mut h, T1, "bf", "w", "buy_fixed", "0.3", 10);
    offer(&mut h, T2, "sf", "w", "sell_fixed", "0.9", 10);
    offer(&mut h, T2, "bu2", "f", "buy_unfixed", "0.2", 10);
    h.run(json!({"at":T3,"op":"cancel","user":"w","offer":"sf"}));
    h.run(json!({"at":T3,"op":"cancel","user":"f","offer":"bu2"}));
    assert_eq!(h.offer_status("sf"), "cancelled");
    assert_eq!(h.held("f"), cr("0"));
    // w can offer the units again, which shows their hold was released.
    offer(&mut h, T4, "sf2", "w", "sell_fixed", "0.9", 10);
    h.refuse(json!({"at":T4,"op":"cancel","user":"w","offer":"sf"}), "invalid_state");
}

#[test]
fn maturation_cancels_open_offers_then_settles() {
    let mut h = market(&["f", "w", "x"]);
    offer(&mut h, T1, "bu", "f", "buy_unfixed", "0.7", 10);
    offer(&mut h, T1, "bf", "w", "buy_fixed", "0.3", 10);
    offer(&mut h, T2, "open1", "x", "buy_fixed", "0.1", 50);
    offer(&mut h, T2, "open2", "w", "sell_fixed", "0.9", 5);
    h.run(json!({"at":MAT,"op":"tick"}));
    assert_eq!(h.offer_status("open1"), "cancelled");
    assert_eq!(h.offer_status("open2"), "cancelled");
    assert_eq!(h.available("x"), cr("1000"));
    assert_eq!(h.available("f"), cr("1003"), "unfixed wins: 10 units pay 10");
    let s = &h.engine.summary()["series"][0];
    assert_eq!((s["status"].as_str(), s["escrow"].as_str()), (Some("settled"), Some("0")));
    // Trading on a matured series is refused.
    h.refuse(
        json!({"at":"2026-12-15T01:00:00Z","op":"offer","id":"late","user":"x","kind":"buy_fixed","issue":ISSUE,"maturation":MAT,"price":"0.5","volume":1}),
        "series_closed",
    );
}

#[test]
fn reopened_before_maturation_counts_as_not_fixed_and_closing_at_the_instant_counts() {
    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-05T00:00:00Z","op":"close_issue","issue":ISSUE}));
    h.run(json!({"at":"2026-12-06T00:00:00Z","op":"reopen_issue","issue":ISSUE}));
    h.run(json!({"at":MAT,"op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["winner"], "unfixed");

    let mut h = adam_beth();
    h.run(json!({"at":MAT,"op":"close_issue","issue":ISSUE}));
    assert_eq!(
        h.engine.summary()["series"][0]["winner"],
        "unfixed",
        "maturation applied before the command at the same instant"
    );

    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-14T23:59:59Z","op":"close_issue","issue":ISSUE,"reason":"not_planned"}));
    h.run(json!({"at":MAT,"op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["winner"], "unfixed", "closed as not planned is not fixed");
}

#[test]
fn settlement_runs_exactly_once() {
    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":ISSUE}));
    h.run(json!({"at":MAT,"op":"tick"}));
    h.run(json!({"at":"2026-12-16T00:00:00Z","op":"tick"}));
    h.run(json!({"at":"2026-12-17T00:00:00Z","op":"tick"}));
    assert_eq!(h.count("series_settled"), 1);
    assert_eq!(h.count("payout"), 2);
    assert_eq!(h.available("beth"), cr("1160"));
    h.refuse(json!({"at":"2026-12-17T00:00:00Z","op":"decide","issue":ISSUE,"maturation":MAT,"winner":"unfixed","actor":"root"}), "invalid_state");
}

#[test]
fn several_series_on_one_issue_settle_by_their_own_instants() {
    let mut h = market(&["f", "w"]);
    let early = "2026-12-05T00:00:00Z";
    let late = "2026-12-20T00:00:00Z";
    for (m, tag) in [(early, "e"), (late, "l")] {
        h.run(json!({"at":T1,"op":"offer","id":format!("bu{tag}"),"user":"f","kind":"buy_unfixed","issue":ISSUE,"maturation":m,"price":"0.5","volume":10}));
        h.run(json!({"at":T1,"op":"offer","id":format!("bf{tag}"),"user":"w","kind":"buy_fixed","issue":ISSUE,"maturation":m,"price":"0.5","volume":10}));
    }
    h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":ISSUE}));
    h.run(json!({"at":"2026-12-21T00:00:00Z","op":"tick"}));
    let series = h.engine.summary()["series"].clone();
    assert_eq!(series.as_array().unwrap().len(), 2);
    assert_eq!(series[0]["winner"], "unfixed", "the early series matured before the fix");
    assert_eq!(series[1]["winner"], "fixed");
    assert_eq!(h.available("f"), cr("1000"));
    assert_eq!(h.available("w"), cr("1000"));
}

/// A 10-unit contract at 0.5 on an issue of a synced (GitHub) tracker, between f and w.
fn synced_contract() -> H {
    let mut h = H::new();
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"f","amount":"100"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"w","amount":"100"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"sync_issue","issue":"gh/x#1","tracker":"github","state":"open"}));
    h.run(json!({"at":T1,"op":"offer","id":"bu","user":"f","kind":"buy_unfixed","issue":"gh/x#1","maturation":MAT,"price":"0.5","volume":10}));
    h.run(json!({"at":T1,"op":"offer","id":"bf","user":"w","kind":"buy_fixed","issue":"gh/x#1","maturation":MAT,"price":"0.5","volume":10}));
    h
}

#[test]
fn an_admin_decides_a_synced_series_that_cannot_be_decided() {
    let mut h = synced_contract();
    h.refuse(json!({"at":T2,"op":"decide","issue":"gh/x#1","maturation":MAT,"winner":"fixed"}), "invalid_state");
    h.run(json!({"at":"2026-12-16T00:00:00Z","op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["status"], "matured", "no sync after maturation: it waits");
    h.run(json!({"at":"2026-12-16T00:00:00Z","op":"decide","issue":"gh/x#1","maturation":MAT,"fixed_pays":"0.25","actor":"root","reason":"arbitrated"}));
    let s = &h.engine.summary()["series"][0];
    assert_eq!((s["status"].as_str(), s["decided_by"].as_str()), (Some("settled"), Some("root")));
    assert_eq!(h.available("w"), cr("97.5"));
    assert_eq!(h.available("f"), cr("102.5"));
}

#[test]
fn a_synced_series_settles_only_after_a_sync_newer_than_its_maturation() {
    let mut h = synced_contract();
    // The tracker is down around the maturation; then a sync reports it closed at 12-14.
    h.run(json!({"at":"2026-12-15T06:00:00Z","op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["status"], "matured");
    h.run(json!({"at":"2026-12-15T07:00:00Z","op":"sync_issue","issue":"gh/x#1","tracker":"github","state":"closed",
        "reason":"completed","changed_at":"2026-12-14T12:00:00Z"}));
    assert_eq!(h.engine.summary()["series"][0]["winner"], "fixed");
    assert_eq!(h.available("w"), cr("105"));
}

#[test]
fn the_event_feed_reads_after_a_cursor() {
    let h = adam_beth();
    let mut log = peerex_engine::feed::EventLog::default();
    log.extend(h.events.iter().cloned());
    assert_eq!((log.len(), log.is_empty()), (h.events.len(), false));
    assert!(peerex_engine::feed::EventLog::default().is_empty());
    let beth = h.engine.user_id("beth").unwrap();
    let first = log.feed(beth, 0, 3);
    assert_eq!(first.len(), 3);
    let rest = log.feed(beth, first[2].0, 100);
    let types: Vec<String> =
        rest.iter().map(|(_, e)| h.engine.render_event(e)["type"].as_str().unwrap().to_owned()).collect();
    assert!(types.contains(&"traded".to_owned()), "{types:?}");
    assert!(rest.iter().all(|(c, _)| *c > first[2].0));
    let all = log.feed(beth, 0, 1000);
    assert!(all.iter().all(|(_, e)| e.event.users().any(|u| u == beth)));
}

#[test]
fn positions_report_cost_basis_and_pnl() {
    let mut h = adam_beth();
    h.run(json!({"at":"2026-12-08T09:00:00Z","op":"deposit","user":"charles","amount":"1000"}));
    h.run(json!({"at":"2026-12-08T09:01:00Z","op":"offer","id":"b2","user":"beth","kind":"sell_fixed","issue":ISSUE,"maturation":MAT,"price":"0.40","volume":50}));
    h.run(json!({"at":"2026-12-08T09:02:00Z","op":"offer","id":"c1","user":"charles","kind":"buy_fixed","issue":ISSUE,"maturation":MAT,"price":"0.40","volume":50}));
    let beth = h.engine.exchange().positions_of(h.engine.user_id("beth").unwrap());
    assert_eq!(beth.len(), 1);
    assert_eq!(beth[0].units, 150);
    assert_eq!(beth[0].cost_basis, cr("30"));
    assert_eq!(beth[0].realized_pnl, cr("10"));
    assert_eq!(beth[0].unrealized_pnl, Some(cr("30")), "150 units marked at the last price 0.40 = 60, cost 30");
}

/// A `traded` event gives each side's price (a buyer of the unfixed side reads what they paid),
/// and `offer_placed` shows the placed volume, not what remained after the fills.
#[test]
fn traded_shows_both_side_prices_and_offer_placed_the_placed_volume() {
    let mut h = crate::support::H::new();
    let t = "2026-12-01T00:00:00Z";
    for u in ["adam", "beth"] {
        h.run(serde_json::json!({"at": t, "op": "deposit", "user": u, "amount": "1000"}));
    }
    h.run(serde_json::json!({"at": t, "op": "open_issue", "issue": "d/a#1", "title": "x"}));
    let offer = |id: &str, user: &str, kind: &str, price: &str| {
        serde_json::json!({"at": t, "op": "offer", "id": id, "user": user, "kind": kind, "issue": "d/a#1",
            "maturation": "2026-12-15T00:00:00Z", "price": price, "volume": 10})
    };
    h.run(offer("o1", "adam", "buy_unfixed", "0.30"));
    h.run(offer("o2", "beth", "buy_fixed", "0.70"));
    let rendered: Vec<serde_json::Value> = h.events.iter().map(|e| h.engine.render_event(e)).collect();
    let traded = rendered.iter().find(|v| v["type"] == "traded").unwrap();
    assert_eq!(traded["fixed_price"], "0.7");
    assert_eq!(traded["unfixed_price"], "0.3");
    let placed = rendered.iter().find(|v| v["type"] == "offer_placed" && v["offer"] == "o2").unwrap();
    assert_eq!((placed["volume"].as_u64(), placed["remaining"].as_u64()), (Some(10), Some(10)), "{placed}");
}
