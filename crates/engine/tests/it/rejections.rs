//! Every rejection of the engine issue: the stable error code, a message, and no change at all
//! (state compared with a clone taken before; no event emitted).

use peerex_engine::Command;
use serde_json::{json, Value};

use crate::support::H;

const MAT: &str = "2026-12-15T00:00:00Z";
const AT: &str = "2026-12-01T10:00:00Z";

fn setup() -> H {
    let mut h = H::new();
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"100"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"beth","amount":"100"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":"i#1"}));
    h.run(json!({"at":"2026-12-01T09:30:00Z","op":"offer","id":"a1","user":"adam","kind":"buy_fixed","issue":"i#1","maturation":MAT,"price":"0.5","volume":10}));
    h
}

fn offer(fields: Value) -> Value {
    let mut o = json!({"at":AT,"op":"offer","id":"new","user":"adam","kind":"buy_fixed","issue":"i#1","maturation":MAT,"price":"0.5","volume":1});
    if let (Some(m), Some(f)) = (o.as_object_mut(), fields.as_object()) {
        m.extend(f.clone());
    }
    o
}

#[test]
fn insufficient_funds() {
    setup().refuse(offer(json!({"volume": 1000})), "insufficient_funds");
    setup().refuse(json!({"at":AT,"op":"withdraw","user":"adam","amount":"96"}), "insufficient_funds");
}

#[test]
fn an_offer_needs_an_id_of_its_own() {
    setup().refuse(offer(json!({"id":""})), "invalid_argument");
    setup().refuse(offer(json!({"id":"~maker/1"})), "invalid_argument");
    setup().refuse(offer(json!({"id":"a1"})), "duplicate_id");
}

#[test]
fn unknown_issue_user_and_offer() {
    setup().refuse(offer(json!({"issue":"nope#9"})), "unknown_issue");
    setup().refuse(offer(json!({"user":"zed"})), "unknown_user");
    setup().refuse(json!({"at":AT,"op":"cancel","user":"adam","offer":"ghost"}), "unknown_offer");
    setup().refuse(json!({"at":AT,"op":"close_issue","issue":"nope#9"}), "unknown_issue");
}

#[test]
fn price_outside_the_unit_interval_or_too_precise() {
    for (p, _why) in [
        ("1.0001", "above 1"),
        ("-0.1", "negative"),
        ("0.12345", "5 decimals"),
        ("2", "above 1"),
        ("abc", "not a number"),
    ] {
        setup().refuse(offer(json!({"price": p})), "invalid_price");
    }
}

#[test]
fn volume_zero_or_too_large() {
    setup().refuse(offer(json!({"volume": 0})), "invalid_volume");
    setup().refuse(offer(json!({"volume": 1_000_000_001u64})), "invalid_volume");
    // The largest volume itself is allowed (1e9 units at 0.0001 hold 100,000 credits).
    let mut h = setup();
    h.run(json!({"at":AT,"op":"deposit","user":"adam","amount":"100000"}));
    h.run(offer(json!({"volume": 1_000_000_000u64, "price": "0.0001"})));
    assert_eq!((h.offer_status("new"), h.remaining("new")), ("open", 1_000_000_000));
}

#[test]
fn expiration_after_maturation_or_already_past() {
    setup().refuse(offer(json!({"expiration":"2026-12-16T00:00:00Z"})), "invalid_expiration");
    setup().refuse(offer(json!({"expiration":"2026-12-01T09:59:00Z"})), "invalid_expiration");
}

#[test]
fn maturation_in_the_past() {
    setup().refuse(offer(json!({"maturation":"2026-11-30T00:00:00Z"})), "maturation_in_past");
    setup().refuse(offer(json!({"maturation":AT})), "maturation_in_past");
}

#[test]
fn cancelling_another_users_offer() {
    setup().refuse(json!({"at":AT,"op":"cancel","user":"beth","offer":"a1"}), "not_owner");
}

#[test]
fn selling_units_you_do_not_own() {
    setup().refuse(offer(json!({"kind":"sell_fixed"})), "insufficient_units");
    setup().refuse(offer(json!({"kind":"sell_unfixed","user":"beth"})), "insufficient_units");
}

#[test]
fn time_going_backwards() {
    setup().refuse(json!({"at":"2026-12-01T08:00:00Z","op":"tick"}), "time_went_backwards");
}

#[test]
fn duplicate_ids_and_bad_amounts() {
    setup().refuse(offer(json!({"id":"a1"})), "duplicate_id");
    setup().refuse(json!({"at":AT,"op":"open_issue","issue":"i#1"}), "duplicate_id");
    setup().refuse(json!({"at":AT,"op":"deposit","user":"adam","amount":"0"}), "invalid_amount");
    setup().refuse(json!({"at":AT,"op":"deposit","user":"adam","amount":"-5"}), "invalid_amount");
    setup().refuse(json!({"at":AT,"op":"deposit","user":"adam","amount":"0.0000001"}), "invalid_amount");
    setup().refuse(offer(json!({"kind":"sell_fixed","poolable":true})), "invalid_argument");
}

#[test]
fn malformed_json_is_refused_before_the_engine() {
    for text in ["{", "[]", "{\"at\":\"2026-12-01T10:00:00Z\"}", "{\"at\":\"2026-12-01T10:00:00Z\",\"op\":\"launch\"}",
                 "{\"at\":\"2026-12-01T10:00:00Z\",\"op\":\"offer\",\"id\":\"x\"}", "{\"at\":\"2026-12-01T10:00:00Z\",\"op\":\"offer\",\"id\":\"x\",\"user\":\"a\",\"kind\":\"buy_fixed\",\"issue\":\"i\",\"maturation\":\"2026-12-15T00:00:00Z\",\"price\":\"0.5\",\"volume\":-1}"] {
        let err = Command::from_json(text).unwrap_err();
        assert_eq!(err.code(), "malformed_command", "{text}");
        assert!(!err.message().is_empty());
    }
    assert_eq!(Command::from_json("{\"at\":\"tomorrow\",\"op\":\"tick\"}").unwrap_err().code(), "invalid_time");
}

#[test]
fn local_tracker_rules() {
    setup().refuse(json!({"at":AT,"op":"reopen_issue","issue":"i#1"}), "invalid_state");
    let mut h = setup();
    h.run(json!({"at":AT,"op":"close_issue","issue":"i#1"}));
    h.refuse(json!({"at":AT,"op":"close_issue","issue":"i#1"}), "invalid_state");
    h.run(json!({"at":AT,"op":"sync_issue","issue":"gh#2","tracker":"github","state":"open"}));
    h.refuse(json!({"at":AT,"op":"close_issue","issue":"gh#2"}), "invalid_state");
    h.refuse(json!({"at":AT,"op":"sync_issue","issue":"gh#2","tracker":"github","state":"closed","changed_at":"2026-12-02T00:00:00Z"}), "invalid_time");
}

/// Times the log could not store and replay are refused, whatever field carries them.
#[test]
fn times_outside_the_replayable_range() {
    // A deadline or maturation far outside: refused when parsed.
    for bad in ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59"] {
        setup().refuse(offer(json!({"maturation": bad})), "invalid_time");
        setup().refuse(offer(json!({"expiration": bad})), "invalid_time");
        setup().refuse(
            json!({"at":AT,"op":"sync_issue","issue":"gh#1","tracker":"github","state":"open","observed_at":bad}),
            "invalid_time",
        );
        setup().refuse(
            json!({"at":AT,"op":"create_market","id":"m","user":"adam","statement":"s","deadline":bad,"b":"10"}),
            "invalid_time",
        );
    }
    // A command built in code (as the server's writer does) with a time past the range.
    let mut h = setup();
    let before = h.engine.clone();
    let late = peerex_engine::Timestamp::MAX.plus_millis(1);
    let err = h.engine.apply(Command::new(late, peerex_engine::Op::Tick {}), &mut h.events).unwrap_err();
    assert_eq!(err.code(), "invalid_time");
    assert!(h.engine == before);
    // The last instant of the range is fine, and its command text replays.
    let edge = Command::new(peerex_engine::Timestamp::MAX, peerex_engine::Op::Tick {});
    assert_eq!(Command::from_json(&edge.to_json()).unwrap(), edge);
    h.engine.apply(edge, &mut h.events).unwrap();
}

/// Control characters (NUL first: PostgreSQL cannot store it) and over-long strings are refused
/// by the engine, so every driver and both databases treat them alike.
#[test]
fn control_characters_and_long_strings() {
    let long = "x".repeat(201);
    for issue in ["a\u{0}b", "a\nb", "tab\there", long.as_str()] {
        setup().refuse(json!({"at":AT,"op":"open_issue","issue":issue}), "invalid_argument");
        setup().refuse(json!({"at":AT,"op":"deposit","user":issue,"amount":"1"}), "invalid_argument");
        setup().refuse(offer(json!({"id": issue})), "invalid_argument");
    }
    setup().refuse(json!({"at":AT,"op":"open_issue","issue":"ok#1","title":"nul\u{0}"}), "invalid_argument");
    setup().refuse(json!({"at":AT,"op":"open_issue","issue":"ok#1","labels":["bell\u{7}"]}), "invalid_argument");
    setup().refuse(
        json!({"at":AT,"op":"create_market","id":"m\u{0}","user":"adam","statement":"s","deadline":MAT,"b":"10"}),
        "invalid_argument",
    );
    setup().refuse(json!({"at":AT,"op":"register_peer","peer":"p\u{1b}[31m"}), "invalid_argument");
    // A title may have several lines.
    setup().run(json!({"at":AT,"op":"open_issue","issue":"ok#1","title":"two\nlines"}));
}

/// A refused deposit (the mint would overflow) does not create its user.
#[test]
fn a_refused_deposit_creates_no_user() {
    let mut h = setup();
    h.run(json!({"at":AT,"op":"deposit","user":"adam","amount":"9000000000000"}));
    h.refuse(json!({"at":AT,"op":"deposit","user":"newcomer","amount":"9000000000000"}), "overflow");
    assert!(h.engine.user_id("newcomer").is_none());
}

/// `set_limits` is a logged command: the limit holds in replay as it held live.
#[test]
fn the_open_offer_limit_is_engine_state() {
    let mut h = setup();
    h.run(json!({"at":AT,"op":"set_limits","max_open_offers_per_user":2}));
    h.run(offer(json!({"id":"a2"})));
    h.refuse(offer(json!({"id":"a3"})), "limit_exceeded");
    h.refuse(json!({"at":AT,"op":"set_limits","max_open_offers_per_user":0}), "invalid_argument");
    h.run(json!({"at":AT,"op":"cancel","user":"adam","offer":"a1"}));
    h.run(offer(json!({"id":"a3"})));
}

/// A command resolved by one engine and applied to another (a driver's mistake) whose ids that
/// engine has never given is refused, changing nothing, rather than read out of bounds.
#[test]
fn ids_from_another_engine_are_refused() {
    let big = setup();
    let mut small = H::new();
    small.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"zoe","amount":"100"}));
    // The clock moves to the command's time whatever it does; nothing else changes.
    let at = peerex_engine::Timestamp::parse(AT).unwrap();
    small.engine.advance_to(at, &mut small.events).unwrap();
    let before = small.engine.clone();
    let cmd = |v: Value| Command::from_json(&v.to_string()).unwrap();
    let by_beth = big.engine.resolve(cmd(offer(json!({"user":"beth"})))).unwrap();
    let err = small.engine.apply_resolved(by_beth, &mut small.events).unwrap_err();
    assert_eq!(err.code(), "unknown_user", "{err}");
    let on_i1 = big.engine.resolve(cmd(offer(json!({"user":"adam"})))).unwrap();
    let mut zoes = before.clone();
    // `adam` is user 0 of `big` and `zoe` user 0 of `small`: the user is found, the issue not.
    let err = zoes.apply_resolved(on_i1.clone(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "unknown_issue", "{err}");
    // `a1` is offer 0 of `big`; `small` has no offers.
    let cancel = big.engine.resolve(cmd(json!({"at":AT,"op":"cancel","user":"zoe","offer":"a1"}))).unwrap();
    // Asking for their memory ahead (`Engine::prefetch`) finds nothing there, and changes nothing.
    zoes.prefetch(Some(&cancel), Some(&cancel));
    small.engine.prefetch(Some(&on_i1), Some(&cancel));
    let err = zoes.apply_resolved(cancel, &mut Vec::new()).unwrap_err();
    assert_eq!((err.code(), err.message().as_str()), ("unknown_offer", "no offer #0"), "{err}");
    assert!(zoes == before && small.engine == before);
}

/// The series a driver found for a new offer is used only if it has the offer's issue and
/// maturation: applied to an engine whose series 0 is another (an issue's other maturation, or
/// another issue at the same one), a command resolved by another engine places its offer
/// exactly as the command by name does there.
#[test]
fn a_series_found_by_another_engine_is_checked_before_it_is_used() {
    let cmd = |v: Value| Command::from_json(&v.to_string()).unwrap();
    let new = offer(json!({"id":"n1","user":"beth"}));
    // Resolved by an engine whose series 0 is i#1 maturing MAT, the offer's own.
    let ahead = setup().engine.resolve(cmd(new.clone())).unwrap();
    for (issue, maturation) in [("i#1", "2026-12-20T00:00:00Z"), ("i#2", MAT)] {
        let other = || {
            let mut h = H::new();
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"100"}));
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"beth","amount":"100"}));
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":"i#1"}));
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":"i#2"}));
            h.run(offer(json!({"at":"2026-12-01T09:30:00Z","id":"a1","issue":issue,"maturation":maturation})));
            h
        };
        let (mut by_name, mut resolved) = (other(), other());
        let (n, m) = (by_name.events.len(), resolved.events.len());
        by_name.run(new.clone());
        resolved.engine.apply_resolved(ahead.clone(), &mut resolved.events).unwrap();
        assert_eq!(&resolved.events[m..], &by_name.events[n..], "series 0 is {issue} at {maturation}");
        assert!(resolved.engine == by_name.engine);
        assert_eq!(resolved.engine.exchange().all_series().count(), 2, "a new series for MAT on i#1");
    }
}

/// A cancel resolved ahead names its offer by id; refusals read as they do by name.
#[test]
fn a_cancel_found_ahead_is_refused_as_by_name() {
    let mut h = setup();
    let cmd = |v: Value| Command::from_json(&v.to_string()).unwrap();
    let by_beth = json!({"at":AT,"op":"cancel","user":"beth","offer":"a1"});
    let ahead = h.engine.resolve(cmd(by_beth.clone())).unwrap();
    let err = h.engine.clone().apply_resolved(ahead, &mut Vec::new()).unwrap_err();
    assert_eq!((err.code(), err.message().as_str()), ("not_owner", "offer \"a1\" belongs to another user"));
    h.refuse(by_beth, "not_owner");
    let by_adam = json!({"at":AT,"op":"cancel","user":"adam","offer":"a1"});
    let ahead = h.engine.resolve(cmd(by_adam.clone())).unwrap();
    h.run(by_adam.clone());
    let err = h.engine.clone().apply_resolved(ahead, &mut Vec::new()).unwrap_err();
    assert_eq!((err.code(), err.message().as_str()), ("invalid_state", "offer \"a1\" is cancelled"));
    h.refuse(by_adam, "invalid_state");
}
