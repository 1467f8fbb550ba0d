//! Property tests (proptest): random sequences of every exchange command keep every invariant
//! after every command, and a naive reference matcher (brute force over all resting offers)
//! agrees with the real book on random streams.
//!
//! Budget: `PROPTEST_CASES` (default below) sequences of up to `LEN` commands each; CI raises it.

use std::collections::BTreeMap;

use peerex_engine::{Event, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::H;

const USERS: [&str; 4] = ["ann", "bob", "cat", "dan"];
/// The users plus two that only ever receive (refused) huge deposits.
const ANYONE: [&str; 6] = ["ann", "bob", "cat", "dan", "eve", "fay"];
const ISSUES: [&str; 2] = ["p#1", "p#2"];
const KINDS: [&str; 4] = ["buy_fixed", "buy_unfixed", "sell_fixed", "sell_unfixed"];
const START: i64 = 1_796_000_000_000; // 2026-11-30

fn ts(ms: i64) -> String {
    Timestamp(ms).to_rfc3339()
}

#[derive(Clone, Debug)]
enum G {
    Deposit {
        user: usize,
        cents: u32,
    },
    /// A deposit so large that the mint or the user's balance overflows after a few: refused,
    /// sometimes to a user who does not exist yet.
    HugeDeposit {
        user: usize,
    },
    /// A limit on open offers per user (1 to 6), so offers also meet `limit_exceeded`.
    Limit {
        max: u32,
    },
    Withdraw {
        user: usize,
        cents: u32,
    },
    Close {
        issue: usize,
        reason: usize,
    },
    Reopen {
        issue: usize,
    },
    Sync {
        open: bool,
        completed: bool,
    },
    Offer {
        user: usize,
        kind: usize,
        issue: usize,
        mat: usize,
        price: u16,
        volume: u64,
        aon: bool,
        poolable: bool,
        exp: Option<u8>,
    },
    Cancel {
        user: usize,
        pick: usize,
    },
    Resume {
        user: usize,
        pick: usize,
    },
    Decide {
        issue: usize,
        mat: usize,
        winner: bool,
    },
}

fn price() -> impl Strategy<Value = u16> {
    // Mostly a coarse grid so offers cross often, sometimes any basis point.
    prop_oneof![4 => (0u16..=20).prop_map(|k| k * 500), 1 => 0u16..=10_000]
}

fn g() -> impl Strategy<Value = G> {
    prop_oneof![
        1 => (0..4usize, 1..200_000u32).prop_map(|(user, cents)| G::Deposit { user, cents }),
        1 => (0..4usize, 1..50_000u32).prop_map(|(user, cents)| G::Withdraw { user, cents }),
        1 => (0..6usize).prop_map(|user| G::HugeDeposit { user }),
        1 => (1..7u32).prop_map(|max| G::Limit { max }),
        1 => (0..2usize, 0..3usize).prop_map(|(issue, reason)| G::Close { issue, reason }),
        1 => (0..2usize).prop_map(|issue| G::Reopen { issue }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(open, completed)| G::Sync { open, completed }),
        12 => (0..4usize, 0..4usize, 0..3usize, 0..3usize, price(), 1..60u64, prop::bool::weighted(0.15), prop::bool::weighted(0.2), prop::option::weighted(0.2, 0..48u8))
            .prop_map(|(user, kind, issue, mat, price, volume, aon, poolable, exp)| G::Offer { user, kind, issue, mat, price, volume, aon, poolable, exp }),
        3 => (0..4usize, any::<usize>()).prop_map(|(user, pick)| G::Cancel { user, pick }),
        1 => (0..4usize, any::<usize>()).prop_map(|(user, pick)| G::Resume { user, pick }),
        1 => (0..3usize, 0..3usize, any::<bool>()).prop_map(|(issue, mat, winner)| G::Decide { issue, mat, winner }),
    ]
}

/// Turns generated steps into commands with times moving forward by 0-180 minutes each.
fn commands(steps: &[(G, u16)]) -> Vec<Value> {
    let maturities = [START + 86_400_000, START + 2 * 86_400_000, START + 4 * 86_400_000];
    let issue_name = |i: usize| if i < 2 { ISSUES[i].to_owned() } else { "gh#3".to_owned() };
    let mut out = vec![];
    let mut t = START;
    for u in USERS {
        out.push(json!({"at":ts(t),"op":"deposit","user":u,"amount":"500"}));
    }
    for i in ISSUES {
        out.push(json!({"at":ts(t),"op":"open_issue","issue":i}));
    }
    out.push(json!({"at":ts(t),"op":"sync_issue","issue":"gh#3","tracker":"github","state":"open"}));
    let mut offers = 0usize;
    for (step, minutes) in steps {
        t += *minutes as i64 * 60_000;
        let at = ts(t);
        let reasons = ["completed", "not_planned", "duplicate"];
        out.push(match step {
            G::Deposit { user, cents } => json!({"at":at,"op":"deposit","user":USERS[*user],"amount":format!("{}.{:02}", cents / 100, cents % 100)}),
            G::HugeDeposit { user } => json!({"at":at,"op":"deposit","user":ANYONE[*user],"amount":"4000000000000"}),
            G::Limit { max } => json!({"at":at,"op":"set_limits","max_open_offers_per_user":max}),
            G::Withdraw { user, cents } => json!({"at":at,"op":"withdraw","user":USERS[*user],"amount":format!("{}.{:02}", cents / 100, cents % 100)}),
            G::Close { issue, reason } => json!({"at":at,"op":"close_issue","issue":ISSUES[*issue],"reason":reasons[*reason]}),
            G::Reopen { issue } => json!({"at":at,"op":"reopen_issue","issue":ISSUES[*issue]}),
            G::Sync { open, completed } => {
                let mut c = json!({"at":at,"op":"sync_issue","issue":"gh#3","tracker":"github","state":if *open {"open"} else {"closed"}});
                if !open {
                    c["reason"] = json!(if *completed { "completed" } else { "not_planned" });
                }
                c
            }
            G::Offer { user, kind, issue, mat, price, volume, aon, poolable, exp } => {
                offers += 1;
                let mut c = json!({"at":at,"op":"offer","id":format!("o{offers}"),"user":USERS[*user],"kind":KINDS[*kind],
                    "issue":issue_name(*issue),"maturation":ts(maturities[*mat]),"price":format!("{}", *price as f64 / 10_000.0),
                    "volume":volume,"aon":aon,"poolable":*poolable && *kind < 2});
                if let Some(h) = exp {
                    c["expiration"] = json!(ts(t + (*h as i64 + 1) * 3_600_000));
                }
                c
            }
            G::Cancel { user, pick } => json!({"at":at,"op":"cancel","user":USERS[*user],"offer":format!("o{}", 1 + pick % offers.max(1))}),
            G::Resume { user, pick } => json!({"at":at,"op":"resume","user":USERS[*user],"offer":format!("o{}", 1 + pick % offers.max(1))}),
            G::Decide { issue, mat, winner } => json!({"at":at,"op":"decide","issue":issue_name(*issue),"maturation":ts(maturities[*mat]),
                "winner":if *winner {"fixed"} else {"unfixed"},"actor":"prop"}),
        });
    }
    out.push(json!({"at":ts(t + 5 * 86_400_000),"op":"tick"}));
    out
}

fn steps(len: usize) -> impl Strategy<Value = Vec<(G, u16)>> {
    prop::collection::vec((g(), prop_oneof![3 => Just(0u16), 2 => 1..180u16]), 1..len)
}

const LEN: usize = 300;

/// Sequences per property: `PROPTEST_CASES` or 200 (CI runs thousands in a release build).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    /// Ledger sum constant (zero over all accounts), no negative balance, escrow = outstanding
    /// units, fixed units = unfixed units per series, holds = what open offers need, books
    /// consistent: all checked by `check_invariants` after every command (in `H::try_run`).
    #[test]
    fn random_command_streams_keep_every_invariant(steps in steps(LEN)) {
        let mut h = H::new();
        for c in commands(&steps) {
            // Accepted or refused, the invariants hold (the harness checks after every command);
            // a refused one changes nothing at all once the clock has moved: the whole engine is
            // compared, not only balances.
            let at = Timestamp::parse(c["at"].as_str().unwrap()).unwrap();
            h.engine.advance_to(at, &mut h.events).unwrap();
            let before = h.engine.clone();
            let n = h.events.len();
            if let Err(e) = h.try_run(c.clone()) {
                prop_assert!(h.engine == before, "refused {} ({}) changed the engine", c, e.code());
                prop_assert_eq!(h.events.len(), n, "refused {} emitted events", c);
            }
        }
        // After the final tick every series has matured; local ones are settled with zero escrow.
        for (_, s) in h.engine.exchange().all_series() {
            prop_assert!(s.status != peerex_engine::exchange::types::SeriesStatus::Open);
        }
        let minted = h.engine.ledger().minted();
        let users: i64 = h.engine.users().map(|(u, _)| { let (a, b) = h.engine.balance(u); a.0 + b.0 }).sum();
        let escrow: i64 = h.engine.exchange().all_series().map(|(id, _)| h.engine.ledger().balance(peerex_engine::ledger::Account::Escrow(id)).0).sum();
        prop_assert_eq!(minted.0, users + escrow, "every minted credit is in a user's or an escrow account");
    }

    /// The real book and a brute-force reference agree on every fill (maker, price, volume)
    /// and every self-trade cancellation.
    #[test]
    fn the_book_agrees_with_a_brute_force_reference(steps in prop::collection::vec(
        (0..4usize, 0..4usize, price(), 1..40u64, prop::bool::weighted(0.2), prop::option::weighted(0.15, any::<usize>())), 1..400)) {
        let mut h = H::new();
        let mat = ts(START + 30 * 86_400_000);
        for u in USERS {
            h.run(json!({"at":ts(START),"op":"deposit","user":u,"amount":"1000000"}));
        }
        h.run(json!({"at":ts(START),"op":"open_issue","issue":"r#1"}));
        let mut reference = Reference::default();
        let mut n = 0;
        for (user, kind, price, volume, aon, cancel) in steps {
            let at = ts(START + 1000);
            let before = h.events.len();
            let (cmd, placed) = match cancel {
                Some(pick) if n > 0 => {
                    let id = format!("o{}", 1 + pick % n);
                    (json!({"at":at,"op":"cancel","user":USERS[user],"offer":id}), None)
                }
                _ => {
                    n += 1;
                    let id = format!("o{n}");
                    (json!({"at":at,"op":"offer","id":id,"user":USERS[user],"kind":KINDS[kind],"issue":"r#1","maturation":mat,
                        "price":format!("{}", price as f64 / 10_000.0),"volume":volume,"aon":aon}), Some(id))
                }
            };
            if h.try_run(cmd.clone()).is_err() {
                continue;
            }
            let real = observed(&h, before);
            let expected = match placed {
                Some(id) => {
                    let bid = kind == 0 || kind == 3;
                    let bp = if kind == 0 || kind == 2 { price } else { 10_000 - price };
                    reference.arrive(ROffer { id, user, bid, bp, remaining: volume, aon, seq: 0 })
                }
                None => {
                    reference.remove(cmd["offer"].as_str().unwrap_or(""));
                    vec![]
                }
            };
            prop_assert_eq!(real, expected, "after {}", cmd);
        }
    }
}

/// What the engine did for one command: fills as (maker, fixed price bp, volume), and
/// self-trade cancellations as ("cancel", offer).
fn observed(h: &H, from: usize) -> Vec<(String, u32, u64)> {
    let x = h.engine.exchange();
    h.events[from..]
        .iter()
        .filter_map(|e| match &e.event {
            Event::Traded { maker, price, volume, .. } => Some((x.offer_name(*maker).to_owned(), price.bp(), *volume)),
            Event::OfferCancelled {
                offer, reason: peerex_engine::exchange::types::CancelReason::SelfTrade, ..
            } => Some((format!("cancel {}", x.offer_name(*offer)), 0, 0)),
            _ => None,
        })
        .collect()
}

#[derive(Clone, Debug)]
struct ROffer {
    id: String,
    user: usize,
    bid: bool,
    bp: u16,
    remaining: u64,
    aon: bool,
    seq: u64,
}

/// The reference: a flat list of resting offers; every arrival sorts all of them afresh.
#[derive(Default)]
struct Reference {
    resting: Vec<ROffer>,
    seq: u64,
}

impl Reference {
    fn remove(&mut self, id: &str) {
        self.resting.retain(|o| o.id != id);
    }

    fn arrive(&mut self, mut t: ROffer) -> Vec<(String, u32, u64)> {
        let crosses = |o: &ROffer| o.bid != t.bid && if t.bid { o.bp <= t.bp } else { o.bp >= t.bp };
        let mut candidates: Vec<ROffer> = self.resting.iter().filter(|o| crosses(o)).cloned().collect();
        // Best price first (lowest ask for a bid, highest bid for an ask), then earliest.
        candidates.sort_by_key(|o| (if t.bid { o.bp as i32 } else { -(o.bp as i32) }, o.seq));
        let mut need = t.remaining;
        let mut fills: BTreeMap<String, u64> = BTreeMap::new();
        let mut log = vec![];
        let mut cancels = vec![];
        for o in &candidates {
            if need == 0 {
                break;
            }
            if o.user == t.user {
                cancels.push(o.id.clone());
                continue;
            }
            let v = if o.aon {
                if o.remaining > need {
                    continue;
                }
                o.remaining
            } else {
                o.remaining.min(need)
            };
            fills.insert(o.id.clone(), v);
            log.push((o.id.clone(), o.bp as u32, v));
            need -= v;
        }
        let mut out: Vec<(String, u32, u64)> = cancels.iter().map(|c| (format!("cancel {c}"), 0, 0)).collect();
        for c in &cancels {
            self.remove(c);
        }
        if !(t.aon && need > 0) {
            for o in &mut self.resting {
                if let Some(v) = fills.get(&o.id) {
                    o.remaining -= v;
                }
            }
            self.resting.retain(|o| o.remaining > 0);
            t.remaining = need;
            out.extend(log);
        }
        if t.remaining > 0 {
            self.seq += 1;
            t.seq = self.seq;
            self.resting.push(t);
        }
        out
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    /// A driver may look a command's names up ahead of the writer (`Engine::resolve`) against
    /// any earlier state of the engine and apply it later (`Engine::apply_resolved`): every
    /// command gets the same result and events as `Engine::apply` gives it, and the engines end
    /// equal. The driver resolves `lag` commands at a time against the engine as it stood
    /// before them, so names created meanwhile (a first deposit, an offer placed just before its
    /// cancel) are found when applied instead; before each command the writer asks for the
    /// memory of the next two (`Engine::prefetch`), which changes nothing.
    #[test]
    fn names_resolved_ahead_apply_as_the_names_do(steps in steps(LEN), lag in 1..12usize) {
        let mut direct = H::new();
        let mut ahead = peerex_engine::Engine::new();
        let mut events = Vec::new();
        let cmds = commands(&steps);
        for batch in cmds.chunks(lag) {
            let behind = ahead.clone();
            let resolved: Vec<_> = batch
                .iter()
                .map(|c| behind.resolve(peerex_engine::Command::from_json(&c.to_string()).unwrap()))
                .collect();
            let ok = |k: usize| resolved.get(k).and_then(|r| r.as_ref().ok());
            for (j, c) in batch.iter().enumerate() {
                let n = direct.events.len();
                let want = direct.try_run(c.clone()).map_err(|e| e.code().to_owned());
                ahead.prefetch(ok(j + 1), ok(j + 2));
                let m = events.len();
                let got = match resolved[j].clone() {
                    Ok(r) => ahead.apply_resolved(r, &mut events),
                    Err(e) => Err(e),
                }
                .map_err(|e| e.code().to_owned());
                prop_assert_eq!(&got, &want, "{}", c);
                prop_assert_eq!(&events[m..], &direct.events[n..], "{}", c);
            }
        }
        prop_assert!(ahead == direct.engine);
    }
}
