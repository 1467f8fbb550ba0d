//! The automated market maker on an issue series (issue 12, item 4): quotes at LMSR prices,
//! re-quotes after fills, never loses more than its subsidy, withdraws at maturation.

use peerex_engine::exchange::types::Side;
use peerex_engine::Amount;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{cr, H};

const T0: &str = "2026-12-01T09:00:00Z";
const MAT: &str = "2026-12-15T00:00:00Z";
const AFTER: &str = "2026-12-16T00:00:00Z";
const KINDS: [&str; 4] = ["buy_fixed", "buy_unfixed", "sell_fixed", "sell_unfixed"];

fn setup(h: &mut H, b: &str) {
    for u in ["funder", "ann", "bob"] {
        h.run(json!({"at":T0,"op":"deposit","user":u,"amount":"1000"}));
    }
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#7","title":"thin book"}));
    h.run(json!({"at":T0,"op":"fund_maker","user":"funder","issue":"demo/app#7","maturation":MAT,"b":b}));
}

/// The series of the issue "demo/app#7" maturing at MAT.
fn series(h: &H) -> peerex_engine::ids::SeriesId {
    let x = h.engine.exchange();
    x.series_id(x.issue_id("demo/app#7").unwrap(), peerex_engine::Timestamp::parse(MAT).unwrap()).unwrap()
}

/// The kinds of the offers on one side of the series' book, best price first.
fn kinds_best_first(h: &H, bids: bool) -> Vec<&'static str> {
    let x = h.engine.exchange();
    let mut kinds: Vec<&str> =
        x.book_levels(series(h), bids).flat_map(|(_, q)| q.map(|o| x.offer(o).unwrap().kind.as_str())).collect();
    if bids {
        kinds.reverse(); // levels() walks from the lowest price up
    }
    kinds
}

/// (best bid, best ask) of the series' book as fixed prices in basis points.
fn quotes(h: &H) -> (Option<u16>, Option<u16>) {
    let x = h.engine.exchange();
    let book = x.book(series(h)).unwrap();
    (book.best_bid(), book.best_ask())
}

fn events(h: &H, ty: &str) -> Vec<Value> {
    h.events.iter().map(|e| h.engine.render_event(e)).filter(|e| e["type"] == ty).collect()
}

#[test]
fn maker_quotes_lmsr_prices_and_requotes_after_fills() {
    let mut h = H::new();
    setup(&mut h, "10");
    // b ln 2 = 6.931472 moved from the funder.
    assert_eq!(h.available("funder"), cr("993.068528"));
    let f = &events(&h, "maker_funded")[0];
    assert_eq!((f["subsidy"].clone(), f["maker"].clone()), (json!("6.931472"), json!("~maker/0")));
    // At q = 0: ask = C(1) - C(0) = 0.5125 (rounded up), bid = C(0) - C(-1) = 0.4875 (down).
    assert_eq!(quotes(&h), (Some(4875), Some(5125)));
    // Ann buys 3 fixed units at up to 0.60: she takes the maker's three best asks.
    h.run(json!({"at":T0,"op":"offer","id":"a1","user":"ann","kind":"buy_fixed","issue":"demo/app#7",
        "maturation":MAT,"price":"0.60","volume":3}));
    assert_eq!(h.offer_status("a1"), "filled");
    assert_eq!(h.units("ann", "demo/app#7", MAT, Side::Fixed), 3);
    // Re-quoted at q = 3: ask = C(4) - C(3) = 0.586600 rounded up to 0.5867, bid = C(3) - C(2) = 0.5621.
    let (bid, ask) = quotes(&h);
    assert_eq!((bid, ask), (Some(5621), Some(5867)));
    assert!(events(&h, "offer_cancelled").iter().any(|e| e["reason"] == "requote"));
    // Bob sells fixed exposure (buys unfixed) into the bid: the maker's position shrinks back.
    h.run(json!({"at":T0,"op":"offer","id":"b1","user":"bob","kind":"buy_unfixed","issue":"demo/app#7",
        "maturation":MAT,"price":"0.48","volume":2}));
    assert_eq!(h.offer_status("b1"), "filled");
    // Maturation cancels the maker's quotes; settlement returns what it holds to the funder.
    h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":"demo/app#7"}));
    h.run(json!({"at":AFTER,"op":"tick"}));
    let closed = &events(&h, "maker_closed")[0];
    let returned = Amount::parse(closed["returned"].as_str().unwrap()).unwrap();
    assert!(returned.is_positive() && returned <= cr("7.931472"), "{closed}");
    // The funder lost at most the subsidy.
    assert!(h.available("funder") >= cr("993.068528"));
    let maker = h.engine.user_id("~maker/0").unwrap();
    assert_eq!(h.engine.balance(maker), (Amount::ZERO, Amount::ZERO));
}

#[test]
fn maker_commands_are_checked_and_refusals_change_nothing() {
    let mut h = H::new();
    setup(&mut h, "10");
    let base = json!({"at":T0,"op":"fund_maker","user":"ann","issue":"demo/app#7","maturation":MAT,"b":"10"});
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    h.refuse(base.clone(), "duplicate_id");
    h.refuse(with("issue", json!("no/such#1")), "unknown_issue");
    h.refuse(with("maturation", json!("2026-11-01T00:00:00Z")), "maturation_in_past");
    h.refuse(with("b", json!("0")), "invalid_argument");
    h.refuse(with("b", json!("2000000")), "invalid_argument");
    let mut c = with("maturation", json!("2026-12-20T00:00:00Z"));
    c["levels"] = json!(0);
    h.refuse(c.clone(), "invalid_argument");
    c["levels"] = json!(5);
    c["b"] = json!("5000");
    h.refuse(c, "insufficient_funds");
    h.refuse(
        json!({"at":T0,"op":"fund_maker","user":"nobody","issue":"demo/app#7","maturation":MAT,"b":"10"}),
        "unknown_user",
    );
    // The maker's name and offer ids are reserved.
    h.refuse(json!({"at":T0,"op":"deposit","user":"~maker/0","amount":"5"}), "invalid_argument");
    h.refuse(
        json!({"at":T0,"op":"offer","id":"~maker/0/99","user":"ann","kind":"buy_fixed","issue":"demo/app#7",
        "maturation":MAT,"price":"0.1","volume":1}),
        "invalid_argument",
    );
    // Traders see ordinary offers: the maker's are in the book like anyone's.
    assert!(events(&h, "offer_placed").iter().any(|e| e["user"] == "~maker/0"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random traders against a maker: after every command every invariant holds (among them
    /// the maker's cash >= the LMSR bound b ln(1 + e^(-|q|/b)) >= 0 and one-sided holdings), and
    /// at the end the funder has lost at most the subsidy b ln 2, whatever the outcome.
    #[test]
    fn maker_never_loses_more_than_its_subsidy(
        b in prop_oneof![Just("1"), Just("5"), Just("20"), Just("100")],
        levels in 1u32..8,
        offers in prop::collection::vec((0usize..2, 0usize..4, 1u16..10_000, 1u64..40), 1..40),
        fixed_wins in any::<bool>(),
    ) {
        let mut h = H::new();
        for u in ["funder", "ann", "bob"] {
            h.run(json!({"at":T0,"op":"deposit","user":u,"amount":"5000"}));
        }
        h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#7"}));
        h.run(json!({"at":T0,"op":"fund_maker","user":"funder","issue":"demo/app#7","maturation":MAT,"b":b,"levels":levels}));
        let subsidy = Amount::parse(events(&h, "maker_funded")[0]["subsidy"].as_str().unwrap()).unwrap();
        for (i, (who, kind, bp, volume)) in offers.iter().enumerate() {
            let price = format!("{}.{:04}", bp / 10_000, bp % 10_000);
            let user = ["ann", "bob"][*who];
            let _ = h.try_run(json!({"at":T0,"op":"offer","id":format!("o{i}"),"user":user,
                "kind":KINDS[*kind],"issue":"demo/app#7","maturation":MAT,"price":price,"volume":volume}));
        }
        if fixed_wins {
            h.run(json!({"at":"2026-12-10T00:00:00Z","op":"close_issue","issue":"demo/app#7"}));
        }
        h.run(json!({"at":AFTER,"op":"tick"}));
        prop_assert_eq!(events(&h, "maker_closed").len(), 1);
        let funder = h.available("funder");
        prop_assert!(funder.micros() >= cr("5000").micros() - subsidy.micros(),
            "funder {} lost more than the subsidy {}", funder, subsidy);
        let maker = h.engine.user_id("~maker/0").unwrap();
        prop_assert_eq!(h.engine.balance(maker), (Amount::ZERO, Amount::ZERO));
    }
}

/// The ask side of the series' book: (price in basis points, units) per level, best first.
fn asks(h: &H) -> Vec<(u16, u64)> {
    let x = h.engine.exchange();
    x.book_levels(series(h), false).map(|(bp, q)| (bp, q.map(|o| x.offer(o).unwrap().remaining).sum())).collect()
}

#[test]
fn maker_quotes_one_unit_per_level_at_each_marginal_lmsr_price() {
    let mut h = H::new();
    setup(&mut h, "10");
    // Ask k (k = 0..4) is C(k+1) - C(k) with C(q) = 10 ln(e^(q/10) + 1), rounded up to a basis
    // point: 0.5124948, 0.5374221, 0.5621638, 0.5866001, 0.6106173.
    assert_eq!(asks(&h), [(5125, 1), (5375, 1), (5622, 1), (5867, 1), (6107, 1)]);
    // Placed in one round: nothing traded, so nothing was cancelled and placed again.
    assert_eq!((h.count("offer_placed"), h.count("offer_cancelled")), (10, 0));
}

#[test]
fn funding_a_maker_needs_exactly_its_subsidy() {
    let mut h = H::new();
    h.run(json!({"at":T0,"op":"deposit","user":"funder","amount":"6.931472"}));
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#7"}));
    let fund = json!({"at":T0,"op":"fund_maker","user":"funder","issue":"demo/app#7","maturation":MAT,"b":"10"});
    h.run(json!({"at":T0,"op":"withdraw","user":"funder","amount":"0.000001"}));
    h.refuse(fund.clone(), "insufficient_funds");
    h.run(json!({"at":T0,"op":"deposit","user":"funder","amount":"0.000001"}));
    h.run(fund);
    assert_eq!(h.available("funder"), Amount::ZERO);
}

/// At the largest b (1,000,000 credits) a unit moves the price by about 0.25 / b, far under a
/// basis point: the maker's levels share one price, and it places them as one offer.
#[test]
fn the_largest_b_is_allowed_and_equal_prices_make_one_offer() {
    let mut h = H::new();
    h.run(json!({"at":T0,"op":"deposit","user":"funder","amount":"700000"}));
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#7"}));
    h.run(json!({"at":T0,"op":"fund_maker","user":"funder","issue":"demo/app#7","maturation":MAT,"b":"1000000"}));
    assert_eq!(asks(&h), [(5001, 5)]);
    assert_eq!(h.count("offer_placed"), 2, "one ask and one bid, of 5 units each");
}

/// A maker funded into a resting bid: its first ask trades on arrival, and it quotes again once,
/// at the new position: 1 + 10 quotes, none cancelled (a fill inside a requote does not start
/// another).
#[test]
fn a_quote_that_trades_on_arrival_requotes_once() {
    let mut h = H::new();
    for u in ["funder", "ann"] {
        h.run(json!({"at":T0,"op":"deposit","user":u,"amount":"1000"}));
    }
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#7"}));
    h.run(json!({"at":T0,"op":"offer","id":"a1","user":"ann","kind":"buy_fixed","issue":"demo/app#7",
        "maturation":MAT,"price":"0.60","volume":1}));
    h.run(json!({"at":T0,"op":"fund_maker","user":"funder","issue":"demo/app#7","maturation":MAT,"b":"10"}));
    assert_eq!(h.offer_status("a1"), "filled");
    let by_maker = |ty: &str| events(&h, ty).iter().filter(|e| e["user"] == "~maker/0").count();
    assert_eq!((by_maker("offer_placed"), by_maker("offer_cancelled")), (11, 0));
    // Re-quoted at q = 1: the best ask is C(2) - C(1) = 0.5374221, rounded up.
    assert_eq!(quotes(&h).1, Some(5375));
}

/// A series that has matured takes no maker, even though the series exists.
#[test]
fn a_matured_series_takes_no_maker() {
    let mut h = H::new();
    setup(&mut h, "10");
    h.run(json!({"at":MAT,"op":"tick"}));
    h.refuse(
        json!({"at":MAT,"op":"fund_maker","user":"ann","issue":"demo/app#7","maturation":MAT,"b":"10"}),
        "series_closed",
    );
}

#[test]
fn resuming_into_the_makers_quotes_trades_and_requotes() {
    let mut h = H::new();
    for (u, amount) in [("funder", "1000"), ("ann", "3"), ("bob", "1000")] {
        h.run(json!({"at":T0,"op":"deposit","user":u,"amount":amount}));
    }
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#7"}));
    let offer = |id: &str, user: &str, kind: &str, price: &str, volume: u64, poolable: bool| {
        json!({"at":T0,"op":"offer","id":id,"user":user,"kind":kind,"issue":"demo/app#7","maturation":MAT,
            "price":price,"volume":volume,"poolable":poolable})
    };
    // Ann bids from one pool: 5 at 0.53 (needs 2.65) and 4 at 0.52 (2.08). Bob takes the first,
    // which leaves her 0.35: the second is suspended.
    h.run(offer("p1", "ann", "buy_fixed", "0.53", 5, true));
    h.run(offer("p2", "ann", "buy_fixed", "0.52", 4, true));
    h.run(offer("b1", "bob", "buy_unfixed", "0.55", 5, false));
    assert_eq!((h.offer_status("p1"), h.offer_status("p2")), ("filled", "suspended"));
    h.run(json!({"at":T0,"op":"fund_maker","user":"funder","issue":"demo/app#7","maturation":MAT,"b":"10"}));
    assert_eq!(quotes(&h), (Some(4875), Some(5125)));
    // Funded again, p2 resumes as a new arrival and buys the maker's one ask at 0.5125; the
    // maker, now short one unit, re-quotes its bid up to C(1) - C(0) = 0.5124948, rounded down.
    h.run(json!({"at":T0,"op":"deposit","user":"ann","amount":"2"}));
    let requotes = events(&h, "offer_cancelled").iter().filter(|e| e["reason"] == "requote").count();
    h.run(json!({"at":T0,"op":"resume","user":"ann","offer":"p2"}));
    assert_eq!((h.offer_status("p2"), h.remaining("p2")), ("open", 3));
    assert_eq!(quotes(&h), (Some(5200), Some(5375)), "ann's rest of 3 at 0.52 is now the best bid");
    let x = h.engine.exchange();
    let makers_bids: Vec<u16> = x.book_levels(series(&h), true).map(|(bp, _)| bp).filter(|bp| *bp != 5200).collect();
    assert_eq!(makers_bids.last(), Some(&5124), "the maker's best bid after the re-quote");
    assert!(events(&h, "offer_cancelled").iter().filter(|e| e["reason"] == "requote").count() > requotes);
}

#[test]
fn a_maker_holding_fixed_units_offers_them_first() {
    let mut h = H::new();
    setup(&mut h, "10");
    // Bob buys 2 unfixed units from the maker's bids: the maker now holds 2 fixed units.
    h.run(json!({"at":T0,"op":"offer","id":"b1","user":"bob","kind":"buy_unfixed","issue":"demo/app#7",
        "maturation":MAT,"price":"0.55","volume":2}));
    assert_eq!(h.offer_status("b1"), "filled");
    assert_eq!(h.units("~maker/0", "demo/app#7", MAT, Side::Fixed), 2);
    assert_eq!(h.engine.exchange().maker_q(series(&h)), -2, "the traders are net 2 unfixed units against the maker");
    // Its five asks: those 2 units for sale, then 3 offers to buy unfixed units (a sale of new
    // fixed exposure).
    assert_eq!(kinds_best_first(&h, false), ["sell_fixed", "sell_fixed", "buy_unfixed", "buy_unfixed", "buy_unfixed"]);
}

/// The mirror image: a maker holding unfixed units sells them before it buys new fixed exposure.
#[test]
fn a_maker_holding_unfixed_units_offers_them_first() {
    let mut h = H::new();
    setup(&mut h, "10");
    // Ann buys 2 fixed units from the maker's asks: the maker now holds 2 unfixed units.
    h.run(json!({"at":T0,"op":"offer","id":"a1","user":"ann","kind":"buy_fixed","issue":"demo/app#7",
        "maturation":MAT,"price":"0.55","volume":2}));
    assert_eq!(h.offer_status("a1"), "filled");
    assert_eq!(h.units("~maker/0", "demo/app#7", MAT, Side::Unfixed), 2);
    assert_eq!(h.engine.exchange().maker_q(series(&h)), 2, "the traders are net 2 fixed units against the maker");
    // Its five bids, best first: those 2 units for sale, then 3 offers to buy fixed units.
    assert_eq!(kinds_best_first(&h, true), ["sell_unfixed", "sell_unfixed", "buy_fixed", "buy_fixed", "buy_fixed"]);
}

#[test]
fn a_matured_maker_awaiting_settlement_keeps_its_cash() {
    let mut h = H::new();
    setup(&mut h, "10");
    h.run(json!({"at":T0,"op":"configure_disputes","hours":24}));
    // At maturation the quotes are cancelled (nothing held); the dispute window delays the
    // settlement, and the maker's cash still covers the LMSR bound (the invariants hold).
    h.run(json!({"at":MAT,"op":"tick"}));
    assert_eq!(h.engine.summary()["series"][0]["status"], "matured");
    assert_eq!((h.held("~maker/0"), h.available("~maker/0")), (Amount::ZERO, cr("6.931472")));
}
