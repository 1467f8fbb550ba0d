//! The resource market through the engine's command language: placement, settlement through
//! the ledger, freeze and hysteresis, allocation by balance, the price update, views.

use peerex_engine::ledger::Account;
use peerex_engine::resources::bank::Standing;
use peerex_engine::Amount;
use serde_json::{json, Value};

use crate::support::{cr, H};

fn at(day: i64) -> String {
    at_h(day, 0)
}
fn at_h(day: i64, hour: i64) -> String {
    let base = peerex_engine::Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
    base.plus_days(day).plus_millis(hour * 3_600_000).to_rfc3339()
}

/// `peers` registered, online at 0.8 for 14 days (out of the test period), sliders set.
fn network(peers: &[&str], space: &str) -> H {
    let mut h = H::new();
    for p in peers {
        h.run(json!({"at": at(0), "op": "register_peer", "peer": p}));
        h.run(json!({"at": at(0), "op": "set_sliders", "peer": p, "space_gb": space, "upload_gb": "50", "download_gb": "50"}));
    }
    for d in 0..14 {
        for p in peers {
            h.run(json!({"at": at(d), "op": "report_online", "peer": p, "fraction": "0.8"}));
        }
    }
    h
}

fn peer_balance(h: &H, name: &str) -> Amount {
    let id = h.engine.resources().peer_id(name).unwrap();
    h.engine.ledger().balance(Account::PeerBalance(id))
}

fn last_of(h: &H, what: &str) -> Value {
    h.events.iter().rev().map(|e| h.engine.render_event(e)).find(|v| v["what"] == what).unwrap()
}

#[test]
fn placement_goes_to_lowest_balance_then_lowest_id() {
    let mut h = network(&["o", "a", "b", "c", "d", "e", "f"], "100");
    h.run(json!({"at": at(14), "op": "backup_file", "file": "f1", "owner": "o", "k": 2, "n": 4, "fragment_bytes": 1_000_000_000u64}));
    let placed = last_of(&h, "file_placed");
    assert_eq!(placed["holders"], json!(["a", "b", "c", "d"]), "all at zero: by peer id");
    assert_eq!(placed["peer"], "o");
    h.run(json!({"at": at(14), "op": "settle_day"}));
    // The holders earned, so the next file goes first to e and f (balance 0), then to a.
    h.run(json!({"at": at(15), "op": "backup_file", "file": "f2", "owner": "o", "k": 1, "n": 3, "fragment_bytes": 1_000_000u64}));
    assert_eq!(last_of(&h, "file_placed")["holders"], json!(["e", "f", "a"]));
}

#[test]
fn daily_settlement_moves_exact_credits_through_the_ledger() {
    let mut h = network(&["o", "a", "b", "c", "d"], "100");
    h.run(json!({"at": at(14), "op": "backup_file", "file": "f1", "owner": "o", "k": 2, "n": 4, "fragment_bytes": 1_000_000_000u64}));
    h.run(json!({"at": at(14), "op": "settle_day"}));
    // Each holder: downloaded 1 GB at p_D = 1, plus effective space 1 GB x 0.8 / (3 x 0.8) = 1/3
    // GB-day at p_S = 1: 1.333333333... credits, paid 1.333333 with the rest carried.
    for p in ["a", "b", "c", "d"] {
        assert_eq!(peer_balance(&h, p), cr("1.333333"), "{p}");
    }
    // The owner: backup 2 GB x q_B (3 x p_D = 3) + storage 2 GB-days x q_S (1 + 0.021 + 0.007).
    assert_eq!(peer_balance(&h, "o"), cr("-8.056"));
    // Bank = minus the sum of peers; the imbalance is what the bank kept.
    let bank = h.engine.ledger().balance(Account::ResourceBank);
    assert_eq!(bank, cr("2.722668"));
    let op = h.engine.resources().operator_view(h.engine.ledger());
    assert_eq!(op.bank_balance, bank);
    assert_eq!(op.days_settled, 1);
    // Two more days of storage only. Effective space is 333,333,333 bytes (rounded down once),
    // worth 0.333333333 credits a day: over the three days 1.999999999 credits, of which
    // 1.999999 are paid and the last 0.000000999 (999e9 atto-credits) is carried, not lost.
    h.run(json!({"at": at(15), "op": "settle_day"}));
    h.run(json!({"at": at(16), "op": "settle_day"}));
    assert_eq!(peer_balance(&h, "a"), cr("1.999999"));
    let a = h.engine.resources().peer(h.engine.resources().peer_id("a").unwrap()).unwrap();
    assert_eq!(a.carry_atto, 999_000_000_000);
    let summary = h.engine.summary();
    assert_eq!(summary["resources"]["days_settled"], 3);
    assert_eq!(summary["resources"]["peers"]["a"]["balance"], "1.999999");
}

#[test]
fn deficit_freezes_new_backups_and_hysteresis_unfreezes() {
    let mut h = network(&["o", "a", "b", "c"], "1000");
    // The owner stores 40 GB of user data and supplies nothing while offline.
    h.run(json!({"at": at(14), "op": "backup_file", "file": "big", "owner": "o", "k": 2, "n": 3, "fragment_bytes": 20_000_000_000u64}));
    h.run(json!({"at": at(14), "op": "report_online", "peer": "o", "fraction": "0", "online": false}));
    let mut standings = vec![];
    let mut day = 14;
    while h.engine.resources().peer(h.engine.resources().peer_id("o").unwrap()).unwrap().standing != Standing::Frozen {
        h.run(json!({"at": at_h(day, 1), "op": "settle_day"}));
        let s = h.engine.resources().peer(h.engine.resources().peer_id("o").unwrap()).unwrap().standing;
        if standings.last() != Some(&s) {
            standings.push(s);
        }
        day += 1;
        assert!(day < 40, "never froze");
    }
    assert_eq!(standings, vec![Standing::Normal, Standing::Alert, Standing::Frozen]);
    let view = h.engine.resources().peer_view(h.engine.ledger(), "o", true).unwrap();
    let debug = view.debug.unwrap();
    assert!(debug.balance.0 <= -debug.max_deficit.0);
    // Frozen: no new backups, but retrieval is always allowed.
    h.refuse(
        json!({"at": at(day), "op": "backup_file", "file": "more", "owner": "o", "k": 1, "n": 1, "fragment_bytes": 1000}),
        "invalid_state",
    );
    h.run(json!({"at": at(day), "op": "retrieve_file", "file": "big"}));
    assert_eq!(last_of(&h, "file_retrieved")["sources"].as_array().unwrap().len(), 2);
    // Back online with space: the lowest balance gets the work first, and earns its way out.
    h.run(json!({"at": at(day), "op": "report_online", "peer": "o", "fraction": "0.8"}));
    let mut n = 0;
    loop {
        let peer = h.engine.resources().peer(h.engine.resources().peer_id("o").unwrap()).unwrap();
        let (s, b_max) = (peer.standing, peer.max_deficit());
        let bal = peer_balance(&h, "o");
        if s != Standing::Frozen {
            // Unfrozen only above -0.9 B_max.
            assert!(10 * bal.0 > -9 * b_max.0, "unfroze at {bal} with B_max {b_max}");
            break;
        }
        // Frozen and below -0.9 B_max.
        assert!(10 * bal.0 <= -9 * b_max.0 || bal.0 <= -b_max.0);
        let file = format!("in{n}");
        h.run(json!({"at": at(day), "op": "backup_file", "file": file, "owner": "a", "k": 1, "n": 1, "fragment_bytes": 200_000_000_000u64}));
        assert_eq!(last_of(&h, "file_placed")["holders"], json!(["o"]), "the most negative balance gets the work");
        h.run(json!({"at": at(day), "op": "delete_file", "file": file}));
        h.run(json!({"at": at(day), "op": "settle_day"}));
        n += 1;
        day += 1;
        assert!(n < 20);
    }
    assert!(h.events.iter().any(|e| h.engine.render_event(e)["to"] == "alert"));
}

#[test]
fn repair_moves_a_fragment_and_meters_both_sides() {
    let mut h = network(&["o", "a", "b", "c", "d"], "100");
    h.run(json!({"at": at(14), "op": "backup_file", "file": "f", "owner": "o", "k": 2, "n": 3, "fragment_bytes": 1_000_000u64}));
    h.run(json!({"at": at(14), "op": "repair_file", "file": "f", "lost": "b"}));
    let rep = last_of(&h, "file_repaired");
    assert_eq!(rep["replacement"], "d");
    assert_eq!(rep["sources"], json!(["a", "c"]));
    let f = h.engine.resources().fragments().file("f").unwrap();
    let names: Vec<&str> = f.holders.iter().map(|p| h.engine.resources().peer_name(*p)).collect();
    assert_eq!(names, vec!["a", "d", "c"]);
    let id = |n: &str| h.engine.resources().peer_id(n).unwrap();
    assert_eq!(h.engine.resources().fragments().held_bytes(id("b")), 0);
    assert_eq!(h.engine.resources().fragments().meter(id("a")).uploaded, 1_000_000);
    assert_eq!(h.engine.resources().fragments().meter(id("d")).downloaded, 1_000_000);
    h.refuse(json!({"at": at(14), "op": "repair_file", "file": "f", "lost": "b"}), "invalid_argument");
}

#[test]
fn capacity_and_pie_chart_for_the_seed_example() {
    let mut h = H::new();
    h.run(json!({"at": at(0), "op": "register_peer", "peer": "p"}));
    h.run(json!({"at": at(0), "op": "report_online", "peer": "p", "fraction": "0.5"}));
    h.run(json!({"at": at(0), "op": "set_sliders", "peer": "p", "space_gb": "30", "upload_gb": "10", "download_gb": "10"}));
    let v = h.engine.resources().peer_view(h.engine.ledger(), "p", false).unwrap();
    // Effective space 30 x 0.5 / (3 x 0.5) = 10 GB; income 10 + 10 + 10 at p = 1; Q = q_S = 1.028.
    assert!((v.pie.capacity_gb - 30.0 / 1.028).abs() < 1e-9, "{}", v.pie.capacity_gb);
    assert_eq!(v.pie.used_gb, 0.0);
    assert_eq!(v.sliders.thick_end, [None, None, None], "no demand yet: no ratio constraint");
    assert!(v.test_target && v.debug.is_none(), "prices and balance hidden");
    let json = serde_json::to_value(&v).unwrap();
    assert!(json.get("debug").is_none() && json.get("prices").is_none());
    assert_eq!(h.engine.summary()["resources"]["peers"]["p"]["availability_ppm"], 500_000);
}

#[test]
fn thick_lines_follow_system_demand() {
    let mut h = network(&["o", "a", "b", "c"], "100");
    h.run(json!({"at": at(14), "op": "backup_file", "file": "f", "owner": "o", "k": 1, "n": 3, "fragment_bytes": 1_000_000_000u64}));
    h.run(json!({"at": at(14), "op": "settle_day"}));
    // Demand of the day: B 1 GB, S 1 GB-day, R 0 -> d = (1, 0.021, 3.007): upload is the
    // scarce one, so a low upload slider caps the space slider. The constraint compares
    // effective space (a / (R x mean a) = 0.8 / 2.4 = 1/3 of raw) with upload, so in raw GB
    // the space slider stops mattering at 3 x r_SU x 0.01.
    h.run(json!({"at": at(14), "op": "set_sliders", "peer": "a", "space_gb": "100", "upload_gb": "0.01", "download_gb": "50"}));
    let v = h.engine.resources().peer_view(h.engine.ledger(), "a", false).unwrap();
    let r_su = 4.0 * 1.0 / 0.021;
    let end = v.sliders.thick_end[0].unwrap();
    assert!((end - 3.0 * r_su * 0.01).abs() < 1e-9, "space counts up to 3 x r_SU x 0.01 GB raw, not {end}");
    assert!((v.sliders.counted[0] - end).abs() < 1e-9);
    assert_eq!(v.sliders.caps[0], 100.0);
    // Moving the space slider beyond the end changes nothing on the pie chart.
    let cap = v.pie.capacity_gb;
    h.run(json!({"at": at(14), "op": "set_sliders", "peer": "a", "space_gb": "60", "upload_gb": "0.01", "download_gb": "50"}));
    let v2 = h.engine.resources().peer_view(h.engine.ledger(), "a", false).unwrap();
    assert!((v2.pie.capacity_gb - cap).abs() < 1e-9);
    // The page previews slider positions without setting them: the same numbers.
    let preview = h.engine.resources().peer_preview(h.engine.ledger(), "a", [cr("100"), cr("0.01"), cr("50")]).unwrap();
    assert!((preview.pie.capacity_gb - cap).abs() < 1e-9);
    assert_eq!(h.engine.resources().peer(h.engine.resources().peer_id("a").unwrap()).unwrap().caps[0], 60_000_000_000);
    assert!(h.engine.resources().peer_preview(h.engine.ledger(), "a", [cr("-1"), cr("1"), cr("1")]).is_err());
    // Below it, it does.
    h.run(json!({"at": at(14), "op": "set_sliders", "peer": "a", "space_gb": "5", "upload_gb": "0.01", "download_gb": "50"}));
    let v3 = h.engine.resources().peer_view(h.engine.ledger(), "a", false).unwrap();
    assert!(v3.pie.capacity_gb < cap - 0.2, "{} vs {cap}", v3.pie.capacity_gb);
}

#[test]
fn price_update_runs_at_epoch_ends_and_posts_q() {
    let mut h = network(&["o", "a", "b", "c"], "100");
    h.run(json!({"at": at(14), "op": "backup_file", "file": "f", "owner": "o", "k": 1, "n": 3, "fragment_bytes": 1_000_000_000u64}));
    h.run(json!({"at": at(14), "op": "settle_day"}));
    for i in 0..6 {
        h.run(json!({"at": at(14), "op": "update_prices"}));
        assert_eq!(last_of(&h, "prices_held")["day_in_epoch"], i + 1);
    }
    h.run(json!({"at": at(14), "op": "update_prices"}));
    let up = last_of(&h, "prices_updated");
    assert_eq!(up["rules"], json!(["no_previous", "no_previous"]));
    let p = h.engine.resources().prices_nano();
    // Upload is oversupplied relative to its demand (e_U > 0): p_U falls by the full clamp
    // 1/1.25. Download is undersupplied (each stored GB needed 3 GB of download): p_D x 1.25.
    assert_eq!(p, [1_000_000_000, 800_000_000, 1_250_000_000]);
    // q = A^T p: q_B = 3 p_D, q_S = 1 + 0.021 p_U + 0.007 p_D, q_R = p_U.
    assert_eq!(h.engine.resources().service_prices_nano(), [3_750_000_000, 1_025_550_000, 800_000_000]);
    let op = h.engine.resources().operator_view(h.engine.ledger());
    let e = op.imbalance_e.unwrap();
    assert!(e[0] > 0.0 && e[1] < 0.0, "{e:?}");
    // Operator tools.
    h.run(json!({"at": at(15), "op": "configure_resources", "epoch_days": 1}));
    h.run(json!({"at": at(15), "op": "set_resource_prices", "p_u": "2.5", "p_d": "0.5"}));
    assert_eq!(h.engine.resources().prices_nano(), [1_000_000_000, 2_500_000_000, 500_000_000]);
    h.run(json!({"at": at(15), "op": "update_prices"}));
    assert!(last_of(&h, "prices_updated").get("rules").is_some());
}

#[test]
fn bad_resource_commands_are_refused_and_change_nothing() {
    let mut h = network(&["o", "a"], "100");
    let t = at(14);
    h.refuse(json!({"at": t, "op": "register_peer", "peer": "a"}), "duplicate_id");
    h.refuse(json!({"at": t, "op": "register_peer", "peer": ""}), "invalid_argument");
    h.refuse(json!({"at": t, "op": "register_peer", "peer": "p".repeat(201)}), "invalid_argument");
    h.refuse(json!({"at": t, "op": "report_online", "peer": "zed", "fraction": "0.5"}), "unknown_user");
    h.refuse(json!({"at": t, "op": "report_online", "peer": "a", "fraction": "1.5"}), "invalid_argument");
    h.refuse(
        json!({"at": t, "op": "set_sliders", "peer": "a", "space_gb": "-1", "upload_gb": "1", "download_gb": "1"}),
        "invalid_argument",
    );
    h.refuse(
        json!({"at": t, "op": "backup_file", "file": "f", "owner": "o", "k": 3, "n": 2, "fragment_bytes": 10}),
        "invalid_argument",
    );
    h.refuse(
        json!({"at": t, "op": "backup_file", "file": "f", "owner": "o", "k": 1, "n": 1, "fragment_bytes": 0}),
        "invalid_argument",
    );
    h.refuse(
        json!({"at": t, "op": "backup_file", "file": "f", "owner": "o", "k": 1, "n": 2, "fragment_bytes": 10}),
        "invalid_state",
    );
    h.run(json!({"at": t, "op": "backup_file", "file": "f", "owner": "o", "k": 1, "n": 1, "fragment_bytes": 10}));
    h.refuse(
        json!({"at": t, "op": "backup_file", "file": "f", "owner": "o", "k": 1, "n": 1, "fragment_bytes": 10}),
        "duplicate_id",
    );
    h.run(json!({"at": t, "op": "report_online", "peer": "a", "fraction": "0", "online": false}));
    h.refuse(json!({"at": t, "op": "retrieve_file", "file": "f"}), "invalid_state");
    h.refuse(json!({"at": t, "op": "retrieve_file", "file": "nope"}), "invalid_argument");
    h.refuse(json!({"at": t, "op": "delete_file", "file": "nope"}), "invalid_argument");
    h.refuse(json!({"at": t, "op": "set_resource_prices", "p_u": "0", "p_d": "1"}), "invalid_price");
    h.refuse(json!({"at": t, "op": "set_resource_prices", "p_u": "abc", "p_d": "1"}), "invalid_price");
    h.refuse(json!({"at": t, "op": "set_resource_prices", "p_u": "1001", "p_d": "1"}), "invalid_price");
    h.refuse(json!({"at": t, "op": "configure_resources", "epoch_days": 0}), "invalid_argument");
    // The longest name allowed (200 bytes) registers.
    h.run(json!({"at": t, "op": "register_peer", "peer": "q".repeat(200)}));
}

/// One random resource-market command.
#[derive(Clone, Debug)]
enum RG {
    Online { peer: usize, pct: u8 },
    Sliders { peer: usize, space: u16, up: u16, down: u16 },
    Backup { owner: usize, k: u32, extra: u32, mb: u32 },
    Retrieve { file: usize },
    Repair { file: usize, lost: usize },
    Delete { file: usize },
    Settle,
    Update,
    Prices { pu: u32, pd: u32 },
}

const PEERS: [&str; 6] = ["p0", "p1", "p2", "p3", "p4", "p5"];

fn rg() -> impl proptest::strategy::Strategy<Value = RG> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0..6usize, 0..=100u8).prop_map(|(peer, pct)| RG::Online { peer, pct }),
        1 => (0..6usize, 0..500u16, 0..50u16, 0..50u16).prop_map(|(peer, space, up, down)| RG::Sliders { peer, space, up, down }),
        3 => (0..6usize, 1..4u32, 0..3u32, 1..50_000u32).prop_map(|(owner, k, extra, mb)| RG::Backup { owner, k, extra, mb }),
        1 => (0..8usize).prop_map(|file| RG::Retrieve { file }),
        1 => (0..8usize, 0..6usize).prop_map(|(file, lost)| RG::Repair { file, lost }),
        1 => (0..8usize).prop_map(|file| RG::Delete { file }),
        3 => Just(RG::Settle),
        2 => Just(RG::Update),
        1 => (1..5_000_000u32, 1..5_000_000u32).prop_map(|(pu, pd)| RG::Prices { pu, pd }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Random streams of resource commands keep every invariant after every command (checked by
    /// the harness): bank + peer balances = 0, sub-micro carries, standings, q = A^T p,
    /// fragment bookkeeping; refused commands change nothing.
    #[test]
    fn random_resource_streams_keep_every_invariant(cmds in proptest::collection::vec(rg(), 1..80)) {
        let mut h = network(&PEERS, "200");
        h.run(json!({"at": at(14), "op": "configure_resources", "epoch_days": 2}));
        let mut files = 0usize;
        for (i, c) in cmds.into_iter().enumerate() {
            let t = at_h(14 + (i as i64) / 10, (i as i64) % 10);
            let cmd = match c {
                RG::Online { peer, pct } => json!({"at": t, "op": "report_online", "peer": PEERS[peer], "fraction": format!("{}", f64::from(pct) / 100.0)}),
                RG::Sliders { peer, space, up, down } => json!({"at": t, "op": "set_sliders", "peer": PEERS[peer], "space_gb": space.to_string(), "upload_gb": up.to_string(), "download_gb": down.to_string()}),
                RG::Backup { owner, k, extra, mb } => {
                    files += 1;
                    json!({"at": t, "op": "backup_file", "file": format!("f{}", files % 8), "owner": PEERS[owner], "k": k, "n": k + extra, "fragment_bytes": u64::from(mb) * 1_000_000})
                }
                RG::Retrieve { file } => json!({"at": t, "op": "retrieve_file", "file": format!("f{file}")}),
                RG::Repair { file, lost } => json!({"at": t, "op": "repair_file", "file": format!("f{file}"), "lost": PEERS[lost]}),
                RG::Delete { file } => json!({"at": t, "op": "delete_file", "file": format!("f{file}")}),
                RG::Settle => json!({"at": t, "op": "settle_day"}),
                RG::Update => json!({"at": t, "op": "update_prices"}),
                RG::Prices { pu, pd } => json!({"at": t, "op": "set_resource_prices", "p_u": format!("{:.6}", f64::from(pu) / 1e4), "p_d": format!("{:.6}", f64::from(pd) / 1e4)}),
            };
            // Accepted or refused, the invariants hold (the harness checks after every command);
            // a refused one changes nothing once the clock has moved.
            let ts = peerex_engine::Timestamp::parse(&t).unwrap();
            h.engine.advance_to(ts, &mut h.events).unwrap();
            let before = h.engine.clone();
            let n = h.events.len();
            if h.try_run(cmd).is_err() {
                proptest::prop_assert!(h.engine == before);
                proptest::prop_assert_eq!(h.events.len(), n);
            }
        }
        let op = h.engine.resources().operator_view(h.engine.ledger());
        let total: i64 = op.balances.iter().map(|b| b.1 .0).sum();
        proptest::prop_assert_eq!(total + op.bank_balance.0, 0);
    }
}

#[test]
fn the_replay_example_runs_clean() {
    let text = include_str!("../../../../examples/resources/backup-and-settle.jsonl");
    let mut h = H::new();
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        h.run(serde_json::from_str(line).unwrap());
    }
    let op = h.engine.resources().operator_view(h.engine.ledger());
    assert_eq!((op.days_settled, op.files, op.epoch_days), (2, 1, 1));
    assert!(op.frozen.is_empty());
    assert_eq!(h.count("resource"), h.events.len(), "only resource events in this file");
    assert_eq!(last_of(&h, "file_repaired")["replacement"], "eve");
}

#[test]
fn resource_events_stay_small() {
    // The exchange's hot path copies events; the boxed resource detail must not grow them.
    // (The largest resource op, backup_file, carries two strings and 16 bytes: smaller than
    // the exchange's own largest variants.)
    assert!(std::mem::size_of::<peerex_engine::Event>() <= 48, "{}", std::mem::size_of::<peerex_engine::Event>());
}

/// `backup` picks (k, n) from the erasure-coding maths for the eligible peers and a target,
/// and places the fragments by the allocation rule; refusals change nothing.
#[test]
fn backup_picks_k_and_n_for_the_target_and_refusals_are_inert() {
    let mut h = network(&["o", "a", "b", "c", "d", "e", "f", "g", "x"], "100");
    // Six holders at a = 0.8: (k, n) storing the fewest bytes for 99.9%.
    h.run(
        json!({"at": at(14), "op": "backup", "file": "f1", "owner": "o", "bytes": 3_000_000_000u64, "target": "0.999"}),
    );
    let placed = last_of(&h, "file_placed");
    let k = placed["k"].as_u64().unwrap() as u32;
    let holders = placed["holders"].as_array().unwrap().len() as u32;
    let fb = placed["fragment_bytes"].as_u64().unwrap();
    assert_eq!(fb, 3_000_000_000u64.div_ceil(u64::from(k)));
    let avail = vec![0.8; holders as usize];
    assert!(1.0 - peerex_engine::resources::erasure::unavailability(&avail, k) >= 0.999 - 1e-12);
    // n is minimal for that k, and no other k stores fewer bytes.
    assert!(1.0 - peerex_engine::resources::erasure::unavailability(&avail[1..], k) < 0.999);
    for k2 in 1..=8u32 {
        if let Some(n2) = peerex_engine::resources::erasure::min_n(0.8, k2, 0.999) {
            if n2 <= 8 {
                assert!(
                    u64::from(n2) * 3_000_000_000u64.div_ceil(u64::from(k2)) >= u64::from(holders) * fb,
                    "k = {k2}"
                );
            }
        }
    }
    // Refusals: unknown owner, duplicate file, bad target, too big, a target no placement reaches.
    let before = h.engine.clone();
    h.refuse(
        json!({"at": at(14), "op": "backup", "file": "f2", "owner": "nobody", "bytes": 1, "target": "0.9"}),
        "unknown_user",
    );
    h.refuse(
        json!({"at": at(14), "op": "backup", "file": "f1", "owner": "o", "bytes": 1, "target": "0.9"}),
        "duplicate_id",
    );
    h.refuse(
        json!({"at": at(14), "op": "backup", "file": "f2", "owner": "o", "bytes": 1, "target": "1"}),
        "invalid_argument",
    );
    h.refuse(
        json!({"at": at(14), "op": "backup", "file": "f2", "owner": "o", "bytes": 0, "target": "0.9"}),
        "invalid_argument",
    );
    h.refuse(
        json!({"at": at(14), "op": "backup", "file": "f2", "owner": "o", "bytes": 1, "target": "0.999999"}),
        "invalid_state",
    );
    assert_eq!(h.engine, before);
}

/// A peer that reports a fragment missing, or a whole day offline, triggers repair onto
/// another peer (metered: k sources upload, the new holder downloads).
#[test]
fn lost_fragments_and_offline_peers_are_repaired() {
    let mut h = network(&["o", "a", "b", "c", "d", "e", "f"], "100");
    h.run(json!({"at": at(14), "op": "backup_file", "file": "f1", "owner": "o", "k": 2, "n": 3, "fragment_bytes": 1_000_000u64}));
    assert_eq!(last_of(&h, "file_placed")["holders"], json!(["a", "b", "c"]));
    // a reports nothing held: its fragment moves to d (lowest balance, lowest id among the others).
    h.run(json!({"at": at(14), "op": "report_fragments", "peer": "a", "files": []}));
    assert_eq!(last_of(&h, "file_repaired")["replacement"], "d");
    assert_eq!(last_of(&h, "fragment_lost")["repaired"], true);
    // A report naming a fragment the peer does not hold is refused and changes nothing.
    let before = h.engine.clone();
    h.refuse(json!({"at": at(14), "op": "report_fragments", "peer": "a", "files": ["f1"]}), "invalid_argument");
    assert_eq!(h.engine, before);
    h.run(json!({"at": at(14), "op": "report_fragments", "peer": "b", "files": ["f1"]}));
    // b goes offline for a whole day: its fragment is rebuilt elsewhere.
    h.run(json!({"at": at(15), "op": "report_online", "peer": "b", "fraction": "0"}));
    let repaired = last_of(&h, "file_repaired");
    assert_eq!(repaired["lost"], "b");
    let f = h.engine.resources().fragments().file("f1").unwrap().clone();
    let b = h.engine.resources().peer_id("b").unwrap();
    assert!(!f.holders.contains(&b));
    assert_eq!(f.holders.len(), 3);
    let sources = repaired["sources"].as_array().unwrap().len() as i64;
    assert_eq!(sources, 2, "k sources upload");
    h.engine.check_invariants().unwrap();
}

/// `create_user` (what signing up does): a user with 0 credits who may act at once.
#[test]
fn create_user_makes_a_user_with_zero_credits() {
    let mut h = H::new();
    h.run(json!({"at": at(0), "op": "create_user", "user": "eve"}));
    assert_eq!(h.available("eve"), cr("0"));
    h.refuse(json!({"at": at(0), "op": "create_user", "user": "eve"}), "duplicate_id");
    h.refuse(json!({"at": at(0), "op": "create_user", "user": ""}), "invalid_argument");
    // Known to the exchange: an offer is refused for funds, not for an unknown user.
    h.run(json!({"at": at(0), "op": "open_issue", "issue": "d/a#1", "title": "t"}));
    h.refuse(
        json!({"at": at(0), "op": "offer", "id": "o1", "user": "eve", "kind": "buy_fixed", "issue": "d/a#1",
               "maturation": at(10), "price": "0.5", "volume": 1}),
        "insufficient_funds",
    );
}
