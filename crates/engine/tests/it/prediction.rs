//! spec/prediction.md, "What must be shown": the reference values through the engine, the
//! arbitration paths, and every refusal with its code and "nothing changed".

use peerex_engine::prediction::arbitration;
use peerex_engine::{Amount, Command, Engine};
use serde_json::{json, Value};

use crate::support::{cr, H};

const T0: &str = "2026-12-01T09:00:00Z";
const T1: &str = "2026-12-01T10:00:00Z";
const DEADLINE: &str = "2026-12-10T00:00:00Z";
const AFTER: &str = "2026-12-11T00:00:00Z";
const WINDOW_END: &str = "2026-12-17T00:00:00Z";
const LATER: &str = "2026-12-18T00:00:00Z";

/// An amount's text rounded to 4 decimals (the papers' precision).
fn r4(v: &Value) -> String {
    let a = Amount::parse(v.as_str().unwrap()).unwrap();
    let bp = (a.micros() + 50 * a.micros().signum()) / 100;
    peerex_engine::money::format_fixed(bp, 4)
}

fn market_events(h: &H, what: &str) -> Vec<Value> {
    h.events.iter().map(|e| h.engine.render_event(e)).filter(|e| e["type"] == "market" && e["what"] == what).collect()
}

fn last(h: &H, what: &str) -> Value {
    market_events(h, what).pop().unwrap_or_else(|| panic!("no {what} event"))
}

fn users(h: &mut H, names: &[&str], amount: &str) {
    for u in names {
        h.run(json!({"at":T0,"op":"deposit","user":u,"amount":amount}));
    }
}

fn create(h: &mut H, id: &str, creator: &str, b: &str, initial: &str, extra: Value) {
    let mut cmd = json!({"at":T0,"op":"create_market","id":id,"user":creator,"statement":"Tavistock win",
        "deadline":DEADLINE,"b":b,"fee":"0.05","initial_shares":initial,"report_deadline":WINDOW_END});
    if let (Value::Object(c), Value::Object(e)) = (&mut cmd, extra) {
        c.extend(e);
    }
    h.run(cmd);
}

fn trade(h: &mut H, id: &str, user: &str, market: &str, shares: &str) {
    h.run(json!({"at":T1,"op":"trade","id":id,"user":user,"market":market,"shares":shares}));
}

fn report(h: &mut H, user: &str, market: &str, value: u8) {
    h.run(json!({"at":AFTER,"op":"report","user":user,"market":market,"value":value}));
}

fn summary(h: &H, market: &str) -> Value {
    h.engine.summary()["markets"][market].clone()
}

/// Sum of every user's available balance plus every market account: equals what was minted.
fn conserved(h: &H) {
    let users: i64 =
        h.engine.users().map(|(u, _)| h.engine.balance(u).0.micros() + h.engine.balance(u).1.micros()).sum();
    let markets: i64 = h
        .engine
        .ledger()
        .balances()
        .iter()
        .filter(|(a, _)| {
            matches!(
                a,
                peerex_engine::ledger::Account::MarketMaker(_) | peerex_engine::ledger::Account::ArbitrationPool(_)
            )
        })
        .map(|(_, b)| b.micros())
        .sum();
    assert_eq!(users + markets, h.engine.ledger().minted().micros(), "money not conserved");
}

#[test]
fn reference_prices_costs_and_fees() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol", "dave"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    assert_eq!(r4(&last(&h, "created")["subsidy"]), "6.9315");
    assert_eq!(summary(&h, "m1")["price"], "0.5");
    // Bob buys 10 from a budget of 100: C(10) - C(0) = 6.2011, fee f p' = 0.0366, 93.7623 left.
    trade(&mut h, "t1", "bob", "m1", "10");
    let t = last(&h, "traded");
    assert_eq!((r4(&t["cost"]), r4(&t["fee"])), ("6.2011".into(), "0.0366".into()));
    assert_eq!(r4(&json!(h.available("bob").to_string())), "93.7623");
    assert_eq!(summary(&h, "m1")["price"], "0.7311");
    assert_eq!(summary(&h, "m1")["q"], "10");
    trade(&mut h, "t2", "carol", "m1", "10");
    assert_eq!(summary(&h, "m1")["price"], "0.8808");
    // C(30) - C(20) = 9.2166.
    trade(&mut h, "t3", "dave", "m1", "10");
    assert_eq!(r4(&last(&h, "traded")["cost"]), "9.2166");
    assert_eq!(summary(&h, "m1")["q"], "30");
    conserved(&h);

    // Selling 5 of 10 held shares (q 10 -> 5) pays 3.3918 and no fee.
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "100");
    create(&mut h, "m2", "alice", "10", "0", json!({}));
    trade(&mut h, "t1", "bob", "m2", "10");
    let before = h.available("bob");
    trade(&mut h, "t2", "bob", "m2", "-5");
    let t = last(&h, "traded");
    assert_eq!((r4(&t["cost"]), t["fee"].clone()), ("-3.3918".into(), json!("0")));
    assert_eq!(t["liquidated"], "5");
    assert_eq!(r4(&json!((h.available("bob").checked_sub(before).unwrap()).to_string())), "3.3918");
}

#[test]
fn creator_funds_the_subsidy_and_buys_the_initial_position() {
    let mut h = H::new();
    users(&mut h, &["tom"], "100");
    create(&mut h, "m1", "tom", "10", "10", json!({}));
    // 100 - 6.2011 - 0.0366 = 93.7623 before the subsidy b ln 2 = 6.931472.
    let after_subsidy = h.available("tom").checked_add(cr("6.931472")).unwrap();
    assert_eq!(r4(&json!(after_subsidy.to_string())), "93.7623");
    assert_eq!(summary(&h, "m1")["price"], "0.7311");
    let mid = h.engine.markets().market_id("m1").unwrap();
    let ledger = h.engine.ledger();
    assert_eq!(ledger.balance(peerex_engine::ledger::Account::MarketMaker(mid)).micros(), 6_931_472 + 6_201_146);
    assert_eq!(ledger.balance(peerex_engine::ledger::Account::ArbitrationPool(mid)), cr("0.036553"));
}

#[test]
fn quotes_match_trades() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    let m = h.engine.markets();
    let id = m.market_id("m1").unwrap();
    let bob = h.engine.user_id("bob").unwrap();
    let q = m.quote(id, Some(bob), 1, cr("10")).unwrap();
    let budget = Amount(q.total().unwrap());
    let n = m.shares_for_budget(id, Some(bob), 1, budget).unwrap();
    assert!((cr("10").micros() - n.micros()).abs() <= 2, "{n}");
    assert!((m.price(id, 1).unwrap() - 0.5).abs() < 1e-15);
    trade(&mut h, "t1", "bob", "m1", "10");
    assert_eq!(h.available("bob"), cr("100").checked_sub(budget).unwrap());
    let hist = h.engine.markets().price_history(id);
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[1].1[1], 731_059);
}

#[test]
fn selling_beyond_a_position_buys_no_with_a_fee() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    trade(&mut h, "t1", "bob", "m1", "4");
    trade(&mut h, "t2", "bob", "m1", "-10");
    let t = last(&h, "traded");
    assert_eq!((t["liquidated"].clone(), t["increased"].clone()), (json!("4"), json!("6")));
    assert_ne!(t["fee"], "0");
    assert_eq!(summary(&h, "m1")["q"], "-6");
    let id = h.engine.markets().market_id("m1").unwrap();
    let holding = h.engine.markets().holding(id, h.engine.user_id("bob").unwrap()).unwrap();
    assert_eq!(holding.shares, vec![6_000_000, 0]);
    // Buying YES back first closes the NO position: free.
    trade(&mut h, "t3", "bob", "m1", "6");
    assert_eq!(last(&h, "traded")["fee"], "0");
}

/// Four traders, three arbiters with no history: honest reports of 1, resolution when the window
/// closes, payouts of X = 1 per YES share, rewards k (1 - mid), remainder to the creator.
#[test]
fn whole_market_life_with_three_arbiters() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol", "ann", "arb1", "arb2", "arb3"], "100");
    users(&mut h, &["alice"], "900");
    // b = 100: the subsidy left after the payouts covers the rewards.
    create(&mut h, "m1", "alice", "100", "5", json!({"fee":"0.2"}));
    trade(&mut h, "t1", "bob", "m1", "10");
    trade(&mut h, "t2", "carol", "m1", "-8");
    trade(&mut h, "t3", "arb1", "m1", "2");
    h.refuse(json!({"at":"2026-12-09T00:00:00Z","op":"report","user":"arb1","market":"m1","value":1}), "invalid_state");
    h.run(json!({"at":AFTER,"op":"tick"}));
    assert_eq!(summary(&h, "m1")["status"], "reporting");
    report(&mut h, "arb1", "m1", 1);
    report(&mut h, "arb2", "m1", 1);
    report(&mut h, "arb3", "m1", 1);
    h.refuse(json!({"at":AFTER,"op":"report","user":"arb3","market":"m1","value":0}), "already_reported");
    assert_eq!(summary(&h, "m1")["status"], "reporting");
    h.run(json!({"at":LATER,"op":"tick"}));
    let s = summary(&h, "m1");
    assert_eq!((s["status"].clone(), s["outcome"].clone()), (json!("resolved"), json!("1")));
    assert_eq!(last(&h, "resolved")["outcome"], json!(["0", "1"]));
    // Holders: YES shares pay 1, NO shares pay 0.
    let payouts = market_events(&h, "payout");
    let bob = payouts.iter().find(|p| p["user"] == "bob").unwrap();
    assert_eq!(bob["amount"], "10");
    let carol = payouts.iter().find(|p| p["user"] == "carol").unwrap();
    assert_eq!(carol["amount"], "0");
    // Rewards: all agree on 1, each gets k (1 - mid); no history -> prior a = 0.8, c = 0.2.
    let arb = last(&h, "arbitration");
    assert_eq!(arb["rewarded"], true);
    let k = Amount::parse(arb["k"].as_str().unwrap()).unwrap().micros() as f64 / 1e6;
    let mid = Amount::parse(arb["midpoint"].as_str().unwrap()).unwrap().micros() as f64 / 1e6;
    let rewards = market_events(&h, "reward");
    assert_eq!(rewards.len(), 3);
    for r in &rewards {
        assert_eq!((r["a"].clone(), r["c"].clone()), (json!("0.8"), json!("0.2")));
        assert_ne!(r["peer"], r["user"], "a peer is another arbiter");
        let paid = Amount::parse(r["paid"].as_str().unwrap()).unwrap().micros() as f64 / 1e6;
        assert!((paid - k * (1.0 - mid)).abs() < 1e-4, "{paid} vs {}", k * (1.0 - mid));
        assert_eq!(r["owed"], r["paid"]);
    }
    // k = max(floor 1, 2 |n|max / (m delta)); arb1 holds 2 shares.
    let delta = Amount::parse(arb["delta"].as_str().unwrap()).unwrap().micros() as f64 / 1e6;
    assert!((k - (2.0 * 2.0 / (3.0 * delta)).max(1.0)).abs() < 1e-3);
    // Market accounts are empty (checked by the invariants after every command) and money is conserved.
    conserved(&h);
    assert_eq!(market_events(&h, "remainder").len(), 1);
    // The arbiters' histories now count one market that was mostly 1.
    let a1 = h.engine.markets().reliability(h.engine.user_id("arb1").unwrap());
    assert_eq!((a1.mostly_one, a1.ones_when_one), (1, 1));
    // A second resolution attempt is refused and changes nothing.
    h.refuse(json!({"at":LATER,"op":"resolve_market","user":"alice","market":"m1"}), "already_resolved");
    h.refuse(json!({"at":LATER,"op":"report","user":"ann","market":"m1","value":1}), "market_closed");
}

#[test]
fn odd_and_even_numbers_of_arbiters_with_split_reports() {
    for m in [3usize, 4, 5, 7] {
        let mut h = H::new();
        let names: Vec<String> = (0..m).map(|i| format!("arb{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        users(&mut h, &["alice", "bob"], "100");
        users(&mut h, &refs, "10");
        users(&mut h, &["alice"], "1000");
        // A bond that covers the worst case (every arbiter agreeing with their peer).
        create(&mut h, "m1", "alice", "10", "0", json!({"seed": 42, "bond": "100"}));
        trade(&mut h, "t1", "bob", "m1", "10");
        for (i, n) in refs.iter().enumerate() {
            report(&mut h, n, "m1", u8::from(i % 3 != 0));
        }
        h.run(json!({"at":AFTER,"op":"resolve_market","user":"alice","market":"m1"}));
        let ones = (0..m).filter(|i| i % 3 != 0).count();
        let x = (ones as i64 * 1_000_000) / m as i64;
        assert_eq!(summary(&h, "m1")["outcome"], json!(Amount(x).to_string()));
        let rewards = market_events(&h, "reward");
        assert_eq!(rewards.len(), m);
        for r in &rewards {
            assert_ne!(r["peer"], r["user"]);
            // Agreement with the peer pays, disagreement does not.
            let me = refs.iter().position(|n| r["user"] == *n).unwrap();
            let peer = refs.iter().position(|n| r["peer"] == *n).unwrap();
            let agree = (me % 3 != 0) == (peer % 3 != 0);
            assert_eq!(r["paid"] != "0", agree, "{r}");
        }
        conserved(&h);
    }
}

#[test]
fn peers_are_recorded_and_reproducible() {
    let run = || {
        let mut h = H::new();
        users(&mut h, &["alice", "a", "b", "c", "d", "e"], "10");
        create(&mut h, "m1", "alice", "10", "0", json!({"seed": 7}));
        for u in ["a", "b", "c", "d", "e"] {
            report(&mut h, u, "m1", 1);
        }
        h.run(json!({"at":LATER,"op":"tick"}));
        let seed = last(&h, "arbitration")["seed"].clone();
        let peers: Vec<Value> = market_events(&h, "reward").iter().map(|r| r["peer"].clone()).collect();
        (seed, peers)
    };
    let (s1, p1) = run();
    assert_eq!((s1.clone(), p1.clone()), run());
    assert!(s1.is_string());
}

#[test]
fn extreme_price_is_ambiguous_no_rewards_and_nobody_charged() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x", "y", "z"], "100");
    // b = 1 and 20 shares: the closing price is 1 - 2e-9, so delta is about 0 <= epsilon.
    create(&mut h, "m1", "alice", "1", "0", json!({}));
    trade(&mut h, "t1", "bob", "m1", "20");
    let before: Vec<Amount> = ["x", "y", "z"].iter().map(|u| h.available(u)).collect();
    for u in ["x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    let arb = last(&h, "arbitration");
    assert_eq!(arb["rewarded"], false);
    assert!(Amount::parse(arb["delta"].as_str().unwrap()).unwrap() <= cr("0.01"));
    assert_eq!(arb["delta"], "0", "below half a micro-credit");
    assert!(market_events(&h, "reward").is_empty());
    assert!(market_events(&h, "bond_shared").is_empty(), "no bond, nothing shared");
    let after: Vec<Amount> = ["x", "y", "z"].iter().map(|u| h.available(u)).collect();
    assert_eq!(before, after, "arbiters neither paid nor charged");
    assert_eq!(summary(&h, "m1")["status"], "resolved");
    assert_eq!(market_events(&h, "payout")[0]["amount"], "20");
    conserved(&h);
}

#[test]
fn too_few_reports_void_refunds_everyone() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol", "x"], "100");
    create(&mut h, "m1", "alice", "10", "3", json!({}));
    trade(&mut h, "t1", "bob", "m1", "10");
    trade(&mut h, "t2", "carol", "m1", "-4");
    trade(&mut h, "t3", "bob", "m1", "-2");
    report(&mut h, "x", "m1", 1);
    h.run(json!({"at":LATER,"op":"tick"}));
    assert_eq!(summary(&h, "m1")["status"], "void");
    for u in ["alice", "bob", "carol", "x"] {
        assert_eq!(h.available(u), cr("100"), "{u} got back what they paid");
    }
    assert!(market_events(&h, "shortfall").is_empty());
    let remainder = last(&h, "remainder");
    assert_eq!(remainder["user"], "alice");
    // The subsidy, 10 ln 2, comes back as the remainder; her initial shares are refunded as any
    // holder's.
    assert_eq!(remainder["amount"], "6.931472");
    h.refuse(json!({"at":LATER,"op":"resolve_market","user":"alice","market":"m1"}), "already_resolved");
}

#[test]
fn too_few_reports_extend_waits_for_the_minimum() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x", "y", "z"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({"too_few":"extend"}));
    trade(&mut h, "t1", "bob", "m1", "10");
    report(&mut h, "x", "m1", 1);
    report(&mut h, "y", "m1", 0);
    h.refuse(json!({"at":AFTER,"op":"resolve_market","user":"alice","market":"m1"}), "invalid_state");
    h.run(json!({"at":LATER,"op":"tick"}));
    assert_eq!(summary(&h, "m1")["status"], "reporting");
    assert_eq!(market_events(&h, "reporting_extended").len(), 1);
    h.run(json!({"at":"2026-12-19T00:00:00Z","op":"tick"}));
    assert_eq!(market_events(&h, "reporting_extended").len(), 1, "extended once");
    h.run(json!({"at":"2026-12-20T00:00:00Z","op":"report","user":"z","market":"m1","value":1}));
    let s = summary(&h, "m1");
    assert_eq!((s["status"].clone(), s["outcome"].clone()), (json!("resolved"), json!("0.666666")));
    conserved(&h);
}

#[test]
fn issue_linked_market_is_decided_by_the_tracker() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol"], "100");
    h.run(json!({"at":T0,"op":"open_issue","issue":"demo/app#1","title":"Crash"}));
    create(&mut h, "m1", "alice", "10", "0", json!({"issue":"demo/app#1"}));
    trade(&mut h, "t1", "bob", "m1", "10");
    trade(&mut h, "t2", "carol", "m1", "-3");
    h.run(json!({"at":"2026-12-05T00:00:00Z","op":"close_issue","issue":"demo/app#1","reason":"completed"}));
    assert_eq!(summary(&h, "m1")["status"], "open");
    h.refuse(json!({"at":AFTER,"op":"report","user":"carol","market":"m1","value":0}), "invalid_state");
    let s = summary(&h, "m1");
    assert_eq!((s["status"].clone(), s["outcome"].clone()), (json!("resolved"), json!("1")));
    let payouts = market_events(&h, "payout");
    assert_eq!(payouts.iter().find(|p| p["user"] == "bob").unwrap()["amount"], "10");
    assert_eq!(payouts.iter().find(|p| p["user"] == "carol").unwrap()["amount"], "0");
    assert!(market_events(&h, "arbitration").is_empty());
    conserved(&h);
}

#[test]
fn categorical_market_uses_the_same_path() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol", "x", "y", "z"], "100");
    create(&mut h, "m1", "alice", "10", "2", json!({"outcomes":3,"initial_outcome":2}));
    assert_eq!(r4(&last(&h, "created")["subsidy"]), "10.9861"); // 10 ln 3
    h.run(json!({"at":T1,"op":"trade","id":"t1","user":"bob","market":"m1","shares":"5","outcome":0}));
    h.run(json!({"at":T1,"op":"trade","id":"t2","user":"carol","market":"m1","shares":"-3","outcome":0}));
    let prices = summary(&h, "m1")["prices"].clone();
    let total: i64 =
        prices.as_array().unwrap().iter().map(|p| Amount::parse(p.as_str().unwrap()).unwrap().micros()).sum();
    assert!((total - 1_000_000).abs() <= 2);
    h.refuse(
        json!({"at":T1,"op":"trade","id":"t3","user":"bob","market":"m1","shares":"1","outcome":3}),
        "invalid_argument",
    );
    report(&mut h, "x", "m1", 0);
    report(&mut h, "y", "m1", 0);
    report(&mut h, "z", "m1", 2);
    h.refuse(json!({"at":AFTER,"op":"report","user":"bob","market":"m1","value":3}), "invalid_argument");
    h.run(json!({"at":LATER,"op":"tick"}));
    let s = summary(&h, "m1");
    assert_eq!(s["outcome"], json!(["0.666666", "0", "0.333333"]));
    // Categorical reports build no reliability history (it is about binary markets).
    let x = h.engine.markets().reliability(h.engine.user_id("x").unwrap());
    assert_eq!((x.mostly_one, x.mostly_zero), (0, 0));
    // Bob's 5 shares of outcome 0 pay 2/3 each.
    let payouts = market_events(&h, "payout");
    assert_eq!(payouts.iter().find(|p| p["user"] == "bob").unwrap()["amount"], "3.333333");
    conserved(&h);
}

#[test]
fn refusals_change_nothing() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "100");
    users(&mut h, &["poor"], "1");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    let base = json!({"at":T1,"op":"trade","id":"tx","user":"bob","market":"m1","shares":"10"});
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    h.refuse(with("market", json!("nope")), "unknown_market");
    h.refuse(with("shares", json!("0")), "invalid_amount");
    h.refuse(with("max_cost", json!("6.2")), "slippage_exceeded");
    h.refuse(with("user", json!("poor")), "insufficient_funds");
    h.refuse(with("user", json!("nobody")), "unknown_user");
    // A max_cost of exactly the total (fee included) is enough.
    let m1 = h.engine.markets().market_id("m1").unwrap();
    let bob = h.engine.user_id("bob").unwrap();
    let total = h.engine.markets().quote(m1, Some(bob), 1, cr("10")).unwrap().total().unwrap();
    h.run(with("max_cost", json!(Amount(total).to_string())));
    h.refuse(base.clone(), "duplicate_id");
    // A sale with a minimum of proceeds (negative max_cost).
    let sale = json!({"at":T1,"op":"trade","id":"s1","user":"bob","market":"m1","shares":"-10","max_cost":"-6.3"});
    h.refuse(sale.clone(), "slippage_exceeded");
    let create_cmd = json!({"at":T1,"op":"create_market","id":"m2","user":"poor","statement":"s","deadline":DEADLINE,"b":"10","fee":"0.05","initial_shares":"0"});
    h.refuse(create_cmd.clone(), "insufficient_funds");
    let mut c = create_cmd.clone();
    c["user"] = json!("alice");
    c["id"] = json!("m1");
    h.refuse(c.clone(), "duplicate_id");
    c["id"] = json!("m2");
    c["deadline"] = json!(T0);
    h.refuse(c.clone(), "invalid_time");
    c["deadline"] = json!(DEADLINE);
    c["b"] = json!("0");
    h.refuse(c.clone(), "invalid_argument");
    c["b"] = json!("10");
    c["fee"] = json!("1");
    h.refuse(c.clone(), "invalid_argument");
    c["fee"] = json!("0.05");
    c["initial_shares"] = json!("-1");
    h.refuse(c.clone(), "invalid_amount");
    c["initial_shares"] = json!("0");
    c["min_reports"] = json!(1);
    h.refuse(c.clone(), "invalid_argument");
    c["min_reports"] = json!(3);
    c["issue"] = json!("no/such#1");
    h.refuse(c.clone(), "unknown_issue");
    // Before the deadline: no report, no early resolution.
    h.refuse(json!({"at":T1,"op":"report","user":"bob","market":"m1","value":1}), "invalid_state");
    h.refuse(json!({"at":T1,"op":"resolve_market","user":"alice","market":"m1"}), "invalid_state");
    // At the deadline itself trading has stopped.
    let mut at_deadline = with("at", json!(DEADLINE));
    at_deadline["id"] = json!("tz");
    h.refuse(at_deadline, "market_closed");
    // After the deadline: no trading; a report must be 0 or 1; only the creator closes early.
    let mut late = with("at", json!(AFTER));
    late["id"] = json!("ty");
    h.refuse(late, "market_closed");
    h.refuse(json!({"at":AFTER,"op":"report","user":"bob","market":"m1","value":2}), "invalid_argument");
    h.refuse(json!({"at":AFTER,"op":"resolve_market","user":"bob","market":"m1"}), "not_owner");
}

/// Every limit admits its bound and refuses one past it; blank statements and trade ids are
/// refused; a market's events carry its name.
#[test]
fn limits_admit_their_bounds() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "100");
    let long_id = "m".repeat(200);
    create(&mut h, &long_id, "alice", "10", "0", json!({"statement":"s".repeat(2_000)}));
    assert!(h
        .events
        .iter()
        .map(|e| h.engine.render_event(e))
        .filter(|e| e["type"] == "market")
        .all(|e| e["market"] == json!(long_id)));
    let c = json!({"at":T0,"op":"create_market","id":"m2","user":"alice","statement":"s","deadline":DEADLINE,
        "b":"10","fee":"0.05","initial_shares":"0"});
    let with = |k: &str, v: Value| {
        let mut c = c.clone();
        c[k] = v;
        c
    };
    h.refuse(with("id", json!("m".repeat(201))), "invalid_argument");
    h.refuse(with("statement", json!("s".repeat(2_001))), "invalid_argument");
    h.refuse(with("statement", json!("  ")), "invalid_argument");
    h.refuse(with("b", json!("1000000001")), "invalid_argument");
    // b at its bound passes the bound; its subsidy (b ln 2) is what alice lacks.
    h.refuse(with("b", json!("1000000000")), "insufficient_funds");
    h.refuse(with("bond", json!("-0.000001")), "invalid_amount");
    h.refuse(with("bond", json!("1000000001")), "invalid_amount");
    h.refuse(with("bond", json!("1000000000")), "insufficient_funds");
    for bad in ["-0.000001", "1000000001"] {
        h.refuse(with("position_cap", json!(bad)), "invalid_argument");
    }
    // At their bounds, k_floor and position_cap are accepted; without an id the engine names
    // the market m<n>, the first free one from the number of markets + 1.
    let mut at_bounds = with("k_floor", json!("1000000000"));
    at_bounds["position_cap"] = json!("1000000000");
    at_bounds["id"] = json!("m3");
    h.run(at_bounds);
    for _ in 0..2 {
        let mut unnamed = c.clone();
        unnamed.as_object_mut().unwrap().remove("id");
        h.run(unnamed);
    }
    let names: Vec<&str> = h.engine.markets().all().map(|(_, m)| m.name.as_str()).collect();
    assert_eq!(names, [long_id.as_str(), "m3", "m4", "m5"]);
    let t = json!({"at":T1,"op":"trade","id":"","user":"bob","market":long_id,"shares":"1"});
    h.refuse(t.clone(), "invalid_argument");
    let mut t = t;
    t["id"] = json!("t".repeat(200));
    h.run(t);
}

/// The per-trade fee of a sale beyond a position (buying NO) is f x (1 - p) at the price after
/// it; a budget too small for one micro-share buys none.
#[test]
fn a_sales_fee_uses_the_price_of_the_other_side() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    let m1 = h.engine.markets().market_id("m1").unwrap();
    let q = h.engine.markets().quote(m1, None, 1, cr("-10")).unwrap();
    // p(YES) after = 1 / (1 + e) = 0.268941; f (1 - p) = 0.05 x 0.731059 = 0.036553 (rounded up).
    assert_eq!(q.fee, 36_553);
    assert_eq!(h.engine.markets().shares_for_budget(m1, None, 1, Amount(1)).unwrap(), Amount::ZERO);
    assert_eq!(h.engine.markets().len(), 1);
    for bad in ["-0.000001", "1000000001"] {
        let c = json!({"at":T0,"op":"create_market","id":"m2","user":"alice","statement":"s","deadline":DEADLINE,
            "b":"10","fee":"0.05","initial_shares":"0","k_floor":bad});
        h.refuse(c, "invalid_argument");
    }
}

/// At an extreme price only arbiters without a stake are admitted; fewer of them than the
/// minimum void the market.
#[test]
fn too_few_arbiters_without_a_stake_void_an_ambiguous_market() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x", "y", "z"], "100");
    create(&mut h, "m1", "alice", "1", "0", json!({}));
    trade(&mut h, "t1", "bob", "m1", "20");
    trade(&mut h, "t2", "y", "m1", "0.1");
    trade(&mut h, "t3", "z", "m1", "0.1");
    for u in ["x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    assert_eq!(summary(&h, "m1")["status"], "void");
    conserved(&h);
}

/// A trader who sold everything back holds nothing at resolution and gets no payout line.
#[test]
fn a_trader_who_sold_out_gets_no_payout() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol", "x", "y", "z"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    trade(&mut h, "t1", "bob", "m1", "3");
    trade(&mut h, "t2", "bob", "m1", "-3");
    trade(&mut h, "t3", "carol", "m1", "2");
    for u in ["x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    let payouts = market_events(&h, "payout");
    assert_eq!(payouts.len(), 1, "{payouts:?}");
    assert_eq!((payouts[0]["user"].clone(), payouts[0]["amount"].clone()), (json!("carol"), json!("2")));
}

/// The replay example: its summary shows the reference values.
#[test]
fn replay_example_shows_the_reference_values() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/prediction.jsonl")).unwrap();
    let mut engine = Engine::new();
    let mut events = Vec::new();
    let mut rejected = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(e) = engine.apply(Command::from_json(line).unwrap(), &mut events) {
            rejected.push((i + 1, e.code()));
        }
        engine.check_invariants().unwrap();
    }
    let s = engine.summary();
    assert_eq!(s["markets"]["tavistock"]["q"], "10");
    assert_eq!(s["markets"]["tavistock"]["price"], "0.7311");
    assert_eq!(s["markets"]["tavistock"]["status"], "open");
    assert_eq!(r4(&s["users"]["bob"]["available"]), "93.7623");
    assert_eq!(s["markets"]["resolved"]["status"], "resolved");
    assert_eq!(s["markets"]["resolved"]["outcome"], "0.666666");
    assert_eq!(rejected, vec![(rejected[0].0, "market_closed")]);
}

/// The reference arbitration case through the public function (the engine derives (a, c) from
/// history; this case fixes them as seed 004 does).
#[test]
fn reference_arbitration_case() {
    let mu = 1.0 / (1.0 + (-1.0f64).exp()); // the closing price p_10(10)
    let arb = |report| {
        [
            arbitration::Arbiter { a: 0.9, c: 0.2, position: 10.0, report, peer: 1 },
            arbitration::Arbiter { a: 0.8, c: 0.1, position: 0.0, report, peer: 0 },
        ]
    };
    let r4 = |x: f64| format!("{x:.4}");
    let yes = arbitration::compute(mu, &arb(true), 1.0);
    assert_eq!((r4(yes.delta), r4(yes.midpoint), r4(yes.k)), ("0.2835".into(), "0.6054".into(), "35.2745".into()));
    assert_eq!((r4(yes.owed[0]), r4(yes.owed[1])), ("13.9210".into(), "13.9210".into()));
    let no = arbitration::compute(mu, &arb(false), 1.0);
    assert_eq!((r4(no.owed[0]), r4(no.owed[1])), ("21.3535".into(), "21.3535".into()));
}

/// The issue's finding: rewards owed beyond the money that exists used to be paid pro rata, and
/// then lying paid. Now a budget that cannot pay every arbiter in full admits fewer (the largest
/// stakes first) or voids the market; a bond sized to the worst case pays everyone in full.
#[test]
fn rewards_are_paid_in_full_or_the_arbiter_is_not_admitted() {
    // k_floor 1000: three arbiters could be owed about 3 x 1000 x max(mid, 1 - mid).
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x", "y", "z"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({"k_floor":"1000"}));
    trade(&mut h, "t1", "bob", "m1", "10");
    for u in ["x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    assert_eq!(summary(&h, "m1")["status"], "void", "no three arbiters can be paid in full");
    assert!(last(&h, "voided")["reason"].as_str().unwrap().contains("budget"));
    assert!(market_events(&h, "reward").is_empty() && market_events(&h, "shortfall").is_empty());
    for u in ["bob", "x", "y", "z"] {
        assert_eq!(h.available(u), cr("100"), "{u} refunded, nobody charged");
    }
    conserved(&h);

    // The same market with a bond of 3000: everyone is paid exactly what eq. 1 promises.
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x", "y", "z"], "100");
    users(&mut h, &["alice"], "3000");
    create(&mut h, "m1", "alice", "10", "0", json!({"k_floor":"1000","bond":"3000"}));
    trade(&mut h, "t1", "bob", "m1", "10");
    for u in ["x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    let arb = last(&h, "arbitration");
    assert_eq!(arb["admitted"], 3);
    assert!(
        Amount::parse(arb["worst_case"].as_str().unwrap()).unwrap()
            <= Amount::parse(arb["budget"].as_str().unwrap()).unwrap()
    );
    let mid = Amount::parse(arb["midpoint"].as_str().unwrap()).unwrap().micros() as f64 / 1e6;
    for r in market_events(&h, "reward") {
        let paid = Amount::parse(r["paid"].as_str().unwrap()).unwrap().micros() as f64 / 1e6;
        assert!((paid - 1000.0 * (1.0 - mid)).abs() < 1e-3, "{r}");
        assert_eq!(r["owed"], r["paid"]);
    }
    // Bob's 10 YES shares were paid in full before any reward; the rest of the bond returns.
    assert_eq!(market_events(&h, "payout")[0]["amount"], "10");
    assert_eq!(h.engine.ledger().minted(), cr("3500"), "nothing minted");
    conserved(&h);
}

/// With a budget for only some stakes, the arbiter with the largest position is left out (its
/// report does not count); the others are paid in full.
#[test]
fn the_largest_stake_is_excluded_first() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "w", "x", "y", "z"], "1000");
    // A bond of 5: enough for three unstaked arbiters, far too little for z's 60-share stake.
    create(&mut h, "m1", "alice", "10", "0", json!({"bond":"5"}));
    trade(&mut h, "t1", "bob", "m1", "5");
    trade(&mut h, "t2", "z", "m1", "-60");
    for u in ["w", "x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    let ex = market_events(&h, "excluded");
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0]["user"], "z");
    let arb = last(&h, "arbitration");
    assert_eq!(arb["admitted"], 3);
    assert_eq!(summary(&h, "m1")["reports"], 4);
    assert_eq!(last(&h, "resolved")["reports"], 3);
    assert!(market_events(&h, "reward").iter().all(|r| r["user"] != "z" && r["owed"] == r["paid"]));
    conserved(&h);
}

/// Arbiters may not report above the position cap, nor on their own market.
#[test]
fn position_cap_and_creator_are_not_eligible() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({"position_cap":"5"}));
    trade(&mut h, "t1", "bob", "m1", "6");
    trade(&mut h, "t2", "x", "m1", "-5");
    h.run(json!({"at":AFTER,"op":"tick"}));
    h.refuse(json!({"at":AFTER,"op":"report","user":"bob","market":"m1","value":1}), "not_eligible");
    h.refuse(json!({"at":AFTER,"op":"report","user":"alice","market":"m1","value":1}), "not_eligible");
    report(&mut h, "x", "m1", 0);
}

/// The dissertation's price-bounding fee (fee per share, its 0.99 x 1.05 example): buying 200
/// shares at once costs more than the 200 credits they can ever pay, so nobody pushes the price
/// to 1; the per-transaction fee charges 0.05 for the same trade.
#[test]
fn per_share_fee_bounds_the_price() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "carol"], "1000");
    create(&mut h, "m1", "alice", "10", "0", json!({"fee_mode":"share"}));
    create(&mut h, "m2", "alice", "10", "0", json!({}));
    trade(&mut h, "t1", "bob", "m1", "200");
    let t = last(&h, "traded");
    let cost = Amount::parse(t["cost"].as_str().unwrap()).unwrap();
    let fee = Amount::parse(t["fee"].as_str().unwrap()).unwrap();
    assert_eq!(fee.micros(), (cost.micros() * 5 + 99) / 100, "fee = 5% of the cost, rounded up");
    assert!(cost.checked_add(fee).unwrap() > cr("200"), "200 shares cost more than they can pay");
    trade(&mut h, "t2", "carol", "m2", "200");
    assert_eq!(last(&h, "traded")["fee"], "0.05");
    // At a marginal price of 0.99 one more share costs about 0.99 x 1.05 = 1.0395.
    let mut h = H::new();
    users(&mut h, &["alice", "bob"], "1000");
    create(&mut h, "m1", "alice", "10", "0", json!({"fee_mode":"share"}));
    trade(&mut h, "t1", "bob", "m1", "45.951199"); // p = 0.99
    trade(&mut h, "t2", "bob", "m1", "0.001");
    let t = last(&h, "traded");
    let per_share = (Amount::parse(t["cost"].as_str().unwrap()).unwrap().micros()
        + Amount::parse(t["fee"].as_str().unwrap()).unwrap().micros()) as f64
        / 1000.0;
    assert!((per_share - 1.0395).abs() < 0.002, "{per_share}");
}

/// The per-share fee rounds up only what is not whole: where 5% of the cost is an exact number
/// of micro-credits (a cost that is a multiple of 20 micro-credits), the fee is exactly that.
#[test]
fn per_share_fee_is_exact_when_it_can_be() {
    let mut exact = 0;
    for micros in 1_000_000..1_000_200 {
        let mut h = H::new();
        users(&mut h, &["alice", "bob"], "1000");
        create(&mut h, "m1", "alice", "10", "0", json!({"fee_mode":"share"}));
        trade(&mut h, "t1", "bob", "m1", &Amount(micros).to_string());
        let t = last(&h, "traded");
        let cost = Amount::parse(t["cost"].as_str().unwrap()).unwrap().micros();
        let fee = Amount::parse(t["fee"].as_str().unwrap()).unwrap().micros();
        assert_eq!(fee, (cost * 5 + 99) / 100, "{micros}: fee = 5% of {cost}, rounded up");
        if cost % 20 == 0 {
            assert_eq!(fee * 20, cost, "{micros}: nothing to round");
            exact += 1;
        }
    }
    assert!(exact > 0, "no trade had a cost that is a multiple of 20 micro-credits");
}

/// Seed 004's stretch goal: an ambiguous market (delta <= epsilon) sends the creator's bond to
/// its arbiters instead of back to the creator.
#[test]
fn ambiguous_market_bond_goes_to_the_arbiters() {
    let mut h = H::new();
    users(&mut h, &["alice", "bob", "x", "y", "z"], "100");
    // b = 1 and 20 shares: the closing price is about 1, delta about 0.
    create(&mut h, "m1", "alice", "1", "0", json!({"bond":"30"}));
    trade(&mut h, "t1", "bob", "m1", "20");
    for u in ["x", "y", "z"] {
        report(&mut h, u, "m1", 1);
    }
    h.run(json!({"at":LATER,"op":"tick"}));
    assert_eq!(last(&h, "arbitration")["rewarded"], false);
    assert_eq!(market_events(&h, "bond_shared").len(), 3);
    for u in ["x", "y", "z"] {
        assert_eq!(h.available(u), cr("110"), "{u} got a third of the bond");
    }
    conserved(&h);
}

/// An ambiguous market where too few arbiters have no stake is void: every trader gets back
/// what they paid and their fees, the bond is shared by everyone who reported (bob's stake
/// excluded him from the panel, not from the bond), and the creator gets the subsidy back with
/// what the shares leave of the bond (31 / 3 = 10.333333, so 0.000001). Without a bond, nothing
/// is shared.
#[test]
fn an_ambiguous_void_market_shares_its_bond_among_all_who_reported() {
    for (bond, share, remainder) in [("31", "10.333333", "0.693149"), ("0", "0", "0.693148")] {
        let mut h = H::new();
        users(&mut h, &["alice", "bob", "x", "y"], "100");
        create(&mut h, "m1", "alice", "1", "0", json!({"bond":bond}));
        trade(&mut h, "t1", "bob", "m1", "20");
        for u in ["x", "y", "bob"] {
            report(&mut h, u, "m1", 1);
        }
        h.run(json!({"at":LATER,"op":"tick"}));
        assert_eq!(summary(&h, "m1")["status"], "void", "bond {bond}");
        let shared: Vec<(Value, Value)> =
            market_events(&h, "bond_shared").iter().map(|e| (e["user"].clone(), e["amount"].clone())).collect();
        let share = Amount::parse(share).unwrap();
        if share.is_positive() {
            let s = json!(share.to_string());
            assert_eq!(shared, [(json!("x"), s.clone()), (json!("y"), s.clone()), (json!("bob"), s)]);
        } else {
            assert_eq!(shared, []);
        }
        for u in ["x", "y", "bob"] {
            assert_eq!(h.available(u), cr("100").checked_add(share).unwrap(), "{u}: back to 100, and a share");
        }
        // The subsidy b ln 2 = 0.693148 (rounded up) comes back as the remainder, with what is
        // left of the bond.
        assert_eq!(last(&h, "remainder")["amount"], remainder);
        let kept = Amount::parse(remainder).unwrap().checked_sub(cr("0.693148")).unwrap();
        let expected = cr("100").checked_sub(Amount::parse(bond).unwrap()).unwrap().checked_add(kept).unwrap();
        assert_eq!(h.available("alice"), expected);
        conserved(&h);
    }
}

/// The budget search doubles up to 2^59 micro-shares (about 5.8e11 shares) and no further, so
/// no quote it asks for overflows: the largest budget buys exactly that many.
#[test]
fn the_largest_budget_buys_2_pow_59_micro_shares() {
    let mut h = H::new();
    users(&mut h, &["alice"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    let m1 = h.engine.markets().market_id("m1").unwrap();
    assert_eq!(h.engine.markets().shares_for_budget(m1, None, 1, Amount(i64::MAX)).unwrap(), Amount(1 << 59));
}

#[test]
fn reliability_comes_from_history_with_the_prior() {
    let mut h = H::new();
    users(&mut h, &["alice", "x", "y", "z"], "100");
    create(&mut h, "m1", "alice", "10", "0", json!({}));
    // Second market: deadline after the first one's window, its own window later still.
    h.run(json!({"at":T0,"op":"create_market","id":"m2","user":"alice","statement":"s","deadline":LATER,
        "b":"10","fee":"0.05","initial_shares":"0","report_deadline":"2026-12-25T00:00:00Z"}));
    report(&mut h, "x", "m1", 1);
    report(&mut h, "y", "m1", 1);
    report(&mut h, "z", "m1", 0);
    h.run(json!({"at":LATER,"op":"tick"}));
    // m1 came out 2/3: mostly 1. x reported 1 there: a = (1 + 4)/(1 + 5); z reported 0: a = 4/6.
    for (u, v) in [("x", 1), ("y", 1), ("z", 0)] {
        h.run(json!({"at":"2026-12-19T00:00:00Z","op":"report","user":u,"market":"m2","value":v}));
    }
    h.run(json!({"at":"2026-12-26T00:00:00Z","op":"tick"}));
    let rewards = market_events(&h, "reward");
    let a_of = |u: &str| rewards.iter().rev().find(|r| r["user"] == u).unwrap()["a"].clone();
    assert_eq!(a_of("x"), "0.833333");
    assert_eq!(a_of("z"), "0.666667");
    // Nobody has seen a mostly-0 market yet: c stays at the prior.
    assert!(rewards.iter().all(|r| r["c"] == "0.2"));
    let z = h.engine.markets().reliability(h.engine.user_id("z").unwrap());
    assert_eq!((z.mostly_one, z.ones_when_one, z.mostly_zero), (2, 0, 0));
}

/// The engine names a market's deadline, then its report window's end, as the next instant
/// something is due (a driver ticks then; a command before it finds nothing to do).
#[test]
fn the_next_due_instant_is_the_markets_deadline_then_its_window() {
    let mut h = H::new();
    users(&mut h, &["ann"], "100");
    assert_eq!(h.engine.next_due(), None);
    create(&mut h, "m", "ann", "10", "0", json!({}));
    let at = |s| Some(peerex_engine::Timestamp::parse(s).unwrap());
    assert_eq!(h.engine.next_due(), at(DEADLINE));
    h.run(json!({"at":AFTER,"op":"tick"}));
    assert_eq!(h.engine.next_due(), at(WINDOW_END));
}
