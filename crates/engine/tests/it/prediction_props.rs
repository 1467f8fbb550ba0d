//! Properties of the prediction markets (proptest). The harness checks every engine invariant,
//! including each market's accounts against its state, after every command.

use peerex_engine::prediction::lmsr::Lmsr;
use peerex_engine::Amount;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{cr, H};

const M: i64 = 1_000_000;

fn amount(v: &Value) -> i64 {
    Amount::parse(v.as_str().unwrap()).unwrap().micros()
}

fn market_events(h: &H, what: &str) -> Vec<Value> {
    h.events.iter().map(|e| h.engine.render_event(e)).filter(|e| e["type"] == "market" && e["what"] == what).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Prices lie strictly inside (0, 1) and sum to 1 while |q|/b <= 30.
    #[test]
    fn prices_are_probabilities(b in 1i64..1_000 * M, q in prop::collection::vec(0i64..30 * M, 2..6)) {
        // q_k / b = x_k / M lies in [0, 30).
        let q: Vec<i64> = q.iter().map(|x| ((*x as i128 * b as i128) / M as i128) as i64).collect();
        let p = Lmsr::new(b).unwrap().prices(&q).unwrap();
        prop_assert!(p.iter().all(|x| *x > 0.0 && *x < 1.0), "{p:?}");
        prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    /// Far from the origin (|q|/b in the thousands) nothing overflows: costs stay exact integers
    /// at least max q, prices finite in [0, 1].
    #[test]
    fn no_overflow_in_the_thousands(b in 1_000i64..10 * M, ratio in 1_000i64..9_000, other in 0i64..100) {
        let q = vec![other * b / 100, ratio * b];
        let l = Lmsr::new(b).unwrap();
        let up = l.cost_up(&q).unwrap();
        prop_assert!(up >= ratio * b && up <= ratio * b + b);
        let p = l.prices(&q).unwrap();
        prop_assert!(p.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
        let back = l.trade_cost(&q, &[q[0], q[1] - b]).unwrap();
        prop_assert!(back < 0 && back >= -b - 1);
    }

    /// Buying shares and selling them straight back never makes money, whatever the state.
    #[test]
    fn round_trip_never_profits(
        b in 1i64..200, fee in 0i64..200_000, before in -50i64..50, shares in 1i64..80, outcomes in 2u32..5,
        outcome in 0u32..5, sell_first in any::<bool>(),
    ) {
        let outcome = outcome % outcomes;
        let shares = if sell_first { -shares } else { shares };
        let mut h = H::new();
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"alice","amount":"100000"}));
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"bob","amount":"100000"}));
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m","user":"alice","statement":"s",
            "deadline":"2026-12-10T00:00:00Z","b":b.to_string(),"fee":Amount(fee).to_string(),"initial_shares":"0",
            "outcomes":outcomes}));
        if before != 0 {
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"trade","id":"t0","user":"alice","market":"m","shares":before.to_string()}));
        }
        let start = h.available("bob");
        // The quote is exactly what the trade then costs.
        let id = h.engine.markets().market_id("m").unwrap();
        let quote = h.engine.markets().quote(id, h.engine.user_id("bob"), outcome as usize, Amount(shares * M)).unwrap();
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"trade","id":"t1","user":"bob","market":"m","shares":shares.to_string(),"outcome":outcome}));
        prop_assert_eq!(start.micros() - h.available("bob").micros(), quote.total().unwrap());
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"trade","id":"t2","user":"bob","market":"m","shares":(-shares).to_string(),"outcome":outcome}));
        prop_assert!(h.available("bob") <= start, "bob went from {} to {}", start, h.available("bob"));
    }

    /// Whole random market lives (create, trades, reports, resolution or N/A, rewards): every
    /// invariant after every command, the market maker never pays out more than subsidy +
    /// collected, both market accounts end empty, and money is conserved to the micro-credit.
    #[test]
    fn whole_market_lives_conserve_money(
        b in 1i64..100,
        fee in 0i64..300_000,
        initial in 0i64..20,
        outcomes in prop_oneof![Just(2u32), Just(2u32), 3u32..5],
        trades in prop::collection::vec((0usize..5, -40i64..40, 0u32..5, 1i64..1_000_000), 0..25),
        reports in prop::collection::vec((0usize..7, 0u8..5), 0..7),
        k_floor in 0i64..50,
        extend in any::<bool>(),
        bond in prop_oneof![Just(0i64), 0i64..5_000],
    ) {
        let mut h = H::new();
        let traders = ["t0", "t1", "t2", "t3", "t4"];
        let arbiters = ["a0", "a1", "a2", "t0", "t1", "a3", "a4"];
        for u in traders.iter().chain(&arbiters) {
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":u,"amount":"500"}));
        }
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"creator","amount":"100000"}));
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m","user":"creator","statement":"s",
            "deadline":"2026-12-10T00:00:00Z","b":b.to_string(),"fee":Amount(fee).to_string(),
            "initial_shares":initial.to_string(),"outcomes":outcomes,"k_floor":k_floor.to_string(),
            "too_few": if extend {"extend"} else {"void"}, "bond": bond.to_string()}));
        for (i, (who, shares, outcome, frac)) in trades.iter().enumerate() {
            if *shares == 0 {
                continue;
            }
            let shares = Amount(shares * M + (frac % M) * shares.signum());
            let _ = h.try_run(json!({"at":"2026-12-02T09:00:00Z","op":"trade","id":format!("x{i}"),"user":traders[*who],
                "market":"m","shares":shares.to_string(),"outcome":outcome % outcomes}));
        }
        for (who, value) in &reports {
            let _ = h.try_run(json!({"at":"2026-12-11T09:00:00Z","op":"report","user":arbiters[*who],"market":"m",
                "value":u32::from(*value) % outcomes}));
        }
        h.run(json!({"at":"2026-12-30T00:00:00Z","op":"tick"}));
        let status = h.engine.summary()["markets"]["m"]["status"].clone();
        let distinct: std::collections::BTreeSet<usize> = reports.iter().map(|(w, _)| *w).collect();
        if distinct.len() >= 3 && outcomes > 2 {
            prop_assert_eq!(&status, &json!("resolved"));
        } else if distinct.len() >= 3 {
            // Binary: resolved, or void when the budget pays no three arbiters in full.
            let voided = market_events(&h, "voided");
            prop_assert!(status == json!("resolved") || (status == json!("void") && voided.len() == 1), "{status}");
        } else if extend {
            prop_assert_eq!(&status, &json!("reporting"));
        } else {
            prop_assert_eq!(&status, &json!("void"));
        }
        let subsidy = amount(&market_events(&h, "created")[0]["subsidy"]);
        let collected: i64 = market_events(&h, "traded").iter().map(|t| amount(&t["cost"])).sum();
        let paid_out: i64 = market_events(&h, "payout").iter().map(|p| amount(&p["amount"])).sum();
        prop_assert!(paid_out <= subsidy + collected, "paid {paid_out} > subsidy {subsidy} + collected {collected}");
        // Arbitration never pays more than the pool (fees + bond) and what the market maker
        // keeps after paying holders; every reward is paid in full, never pro rata.
        let fees: i64 = market_events(&h, "traded").iter().map(|t| amount(&t["fee"])).sum();
        let rewards: i64 = market_events(&h, "reward").iter().map(|r| amount(&r["paid"])).sum();
        let shared: i64 = market_events(&h, "bond_shared").iter().map(|r| amount(&r["amount"])).sum();
        prop_assert!(rewards + shared <= fees + bond * M + subsidy + collected - paid_out);
        for r in market_events(&h, "reward") {
            prop_assert_eq!(&r["owed"], &r["paid"]);
        }
        // (A void market's refunds may still be pro rata: traders who sold at a profit keep it.)
        prop_assert!(status != json!("resolved") || market_events(&h, "shortfall").is_empty());
        if let Some(a) = market_events(&h, "arbitration").first() {
            prop_assert!(amount(&a["worst_case"]) <= amount(&a["budget"]));
            prop_assert!(rewards <= amount(&a["worst_case"]));
        }
        let users: i64 = h.engine.users().map(|(u, _)| h.engine.balance(u).0.micros()).sum();
        let id = h.engine.markets().market_id("m").unwrap();
        let mm = h.engine.ledger().balance(peerex_engine::ledger::Account::MarketMaker(id)).micros();
        let pool = h.engine.ledger().balance(peerex_engine::ledger::Account::ArbitrationPool(id)).micros();
        prop_assert_eq!(users + mm + pool, h.engine.ledger().minted().micros());
        prop_assert_eq!(h.engine.ledger().minted(), cr("106000"));
        if status == json!("resolved") && bond > 0 {
            prop_assert!(market_events(&h, "arbitration").first().is_none_or(|a| a["rewarded"] == true) || shared > 0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// N/A: when the window closes with too few reports, every trader who only bought gets back
    /// exactly what they paid (cost and fees), and the creator gets the subsidy back.
    #[test]
    fn void_refunds_exactly(
        b in 1i64..100, fee in 0i64..300_000, outcomes in 2u32..5,
        buys in prop::collection::vec((0usize..4, 1i64..30_000_000), 1..12),
    ) {
        let mut h = H::new();
        let traders = ["t0", "t1", "t2", "t3"];
        for u in traders.iter().chain(&["creator"]) {
            h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":u,"amount":"1000"}));
        }
        h.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m","user":"creator","statement":"s",
            "deadline":"2026-12-10T00:00:00Z","b":b.to_string(),"fee":Amount(fee).to_string(),"initial_shares":"0",
            "outcomes":outcomes}));
        for (i, (who, micro)) in buys.iter().enumerate() {
            // Each trader always buys the same outcome (its index), so it never liquidates.
            let outcome = *who as u32 % outcomes;
            let _ = h.try_run(json!({"at":"2026-12-02T09:00:00Z","op":"trade","id":format!("x{i}"),"user":traders[*who],
                "market":"m","shares":Amount(*micro).to_string(),"outcome":outcome}));
        }
        h.run(json!({"at":"2026-12-11T09:00:00Z","op":"report","user":"t0","market":"m","value":0}));
        h.run(json!({"at":"2026-12-30T00:00:00Z","op":"tick"}));
        prop_assert_eq!(h.engine.summary()["markets"]["m"]["status"].clone(), json!("void"));
        for u in traders.iter().chain(&["creator"]) {
            prop_assert_eq!(h.available(u), cr("1000"), "{} did not get back what they paid", u);
        }
    }
}

/// A trade with |q|/b = 5000 through the engine: accepted, finite, invariants hold.
#[test]
fn engine_trades_far_from_the_origin() {
    let mut h = H::new();
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"alice","amount":"1000"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m","user":"alice","statement":"s",
        "deadline":"2026-12-10T00:00:00Z","b":"0.01","fee":"0.05","initial_shares":"50"}));
    h.run(json!({"at":"2026-12-01T09:00:00Z","op":"trade","id":"t","user":"alice","market":"m","shares":"-100"}));
    let s = h.engine.summary()["markets"]["m"].clone();
    assert_eq!(s["q"], "-50");
    assert_eq!(s["price"], "0");
}
