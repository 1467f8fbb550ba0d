use std::collections::BTreeMap;

use peerex_engine::exchange::types::Outcome;
use peerex_engine::Amount;
use peerex_sim::rng::run_rng;
use peerex_sim::scenario::RunCtx;
use peerex_sim::scenarios::worker_funder::rules::by_name;
use peerex_sim::scenarios::worker_funder::simulate;
use peerex_sim::scenarios::worker_funder::world::{Params, World};

const CORRELATED: usize = 0;
const INVERSE: usize = 1;

fn world(workers: u32) -> World {
    let params = Params { workers, ..Params::default() };
    World::new(params, by_name("reward").unwrap(), run_rng(1, 0)).unwrap()
}

fn credits(w: &World, name: &str) -> Amount {
    let u = w.engine.user_id(name).unwrap();
    let (a, h) = w.engine.balance(u);
    Amount(a.micros() + h.micros())
}

#[test]
fn a_worker_picks_the_highest_funder_price_through_the_engine() {
    let mut w = world(1);
    w.start_day();
    w.open_issue(0, CORRELATED, 1, 1).unwrap(); // 0.7
    w.open_issue(0, INVERSE, 2, 2).unwrap(); // 0.8
    let best = w.open_issue(0, INVERSE, 1, 1).unwrap(); // 0.9
    w.pick_jobs(0).unwrap();
    assert_eq!(w.issues[best].taken_by, Some(0));
    assert!(w.issues.iter().filter(|i| i.taken_by.is_some()).count() == 1);
    // The contract is real: 100 units in the series, the worker paid 10 into escrow.
    assert_eq!(credits(&w, "worker01"), Amount::credits(990));
    assert_eq!(w.stats[INVERSE].contracts, 1);
    w.engine.check_invariants().unwrap();
}

#[test]
fn ties_on_price_go_to_the_latest_maturation() {
    let mut w = world(1);
    w.start_day();
    let older = w.open_issue(0, CORRELATED, 3, 3).unwrap(); // 0.9, matures end of day 2
    w.end_of_day(0).unwrap();
    w.start_day();
    let newer = w.open_issue(1, CORRELATED, 3, 3).unwrap(); // 0.9, matures end of day 3
    w.pick_jobs(1).unwrap();
    assert_eq!(w.issues[newer].taken_by, Some(0));
    assert_eq!(w.issues[older].taken_by, None);
}

#[test]
fn finished_work_wins_the_contract_at_maturation() {
    let mut w = world(1);
    w.start_day();
    let i = w.open_issue(0, INVERSE, 1, 1).unwrap(); // funder 0.9, worker 0.1
    let funder_before = credits(&w, "inversePay");
    w.pick_jobs(0).unwrap();
    w.work(0).unwrap();
    assert_eq!(w.issues[i].closed_day, Some(0));
    for day in 0..3 {
        w.end_of_day(day).unwrap();
        w.start_day();
    }
    assert_eq!(w.issues[i].outcome, Some(Outcome::Fixed));
    // Worker: -10 stake, +100 payout. Funder: -90, nothing back.
    assert_eq!(credits(&w, "worker01"), Amount::credits(1090));
    assert_eq!(credits(&w, "inversePay"), Amount(funder_before.micros() - Amount::credits(90).micros()));
    assert_eq!((w.workers[0].done, w.workers[0].failed), (1, 0));
    assert_eq!((w.stats[INVERSE].settled, w.stats[INVERSE].fixed), (1, 1));
    w.engine.check_invariants().unwrap();
}

#[test]
fn unfinished_work_loses_the_contract_and_the_worker_drops_the_job() {
    let mut w = world(1);
    w.start_day();
    // Base 3 (funder pays 0.9) but really 4 days: cannot be done in the 3 days to maturation.
    let i = w.open_issue(0, CORRELATED, 3, 4).unwrap();
    let funder_before = credits(&w, "correlatedPay");
    for day in 0..3 {
        if day > 0 {
            w.start_day();
        }
        w.pick_jobs(day).unwrap();
        w.work(day).unwrap();
        w.end_of_day(day).unwrap();
    }
    assert_eq!(w.issues[i].closed_day, None);
    assert_eq!(w.issues[i].outcome, Some(Outcome::Unfixed));
    // Worker loses the 10 stake; the funder gets 100 back for its 90.
    assert_eq!(credits(&w, "worker01"), Amount::credits(990));
    assert_eq!(credits(&w, "correlatedPay"), Amount(funder_before.micros() + Amount::credits(10).micros()));
    assert!(w.workers[0].job.is_none());
    assert_eq!((w.workers[0].done, w.workers[0].failed), (0, 1));
    assert_eq!(w.stats[CORRELATED].failed_by_base, [0, 0, 1]);
    assert_eq!(w.stats[CORRELATED].fix_rate(), 0.0);
}

#[test]
fn a_worker_who_cannot_afford_the_fixed_side_stays_idle() {
    let params = Params { workers: 1, worker_credits: 5, ..Params::default() };
    let mut w = World::new(params, by_name("reward").unwrap(), run_rng(1, 0)).unwrap();
    w.start_day();
    let i = w.open_issue(0, INVERSE, 1, 1).unwrap(); // costs 10
    w.pick_jobs(0).unwrap();
    assert_eq!(w.issues[i].taken_by, None);
    assert!(w.workers[0].job.is_none());
}

#[test]
fn a_full_run_conserves_money_and_reports_both_funders() {
    let ctx = RunCtx { run: 0, days: 20, rng: run_rng(5, 0), options: BTreeMap::new() };
    let (w, out) = simulate(ctx).unwrap();
    w.engine.check_invariants().unwrap();
    assert_eq!(out.rows.len(), 20 * 12);
    assert_eq!(out.metrics["correlatedPay.issues_opened"], 200.0);
    assert_eq!(out.metrics["inversePay.issues_opened"], 200.0);
    // Reward-seeking workers take only the 0.9 offers while there are enough of them: hard
    // issues at correlatedPay, easy ones at inversePay.
    assert_eq!(out.metrics["correlatedPay.taken_d1"], 0.0);
    assert_eq!(out.metrics["inversePay.taken_d3"], 0.0);
    assert!(out.metrics["inversePay.fix_rate"] > out.metrics["correlatedPay.fix_rate"]);
    // Every worker's cash plus its stakes in open contracts stays with the workers + funders.
    let jobs = out.metrics["worker_jobs_done"] + out.metrics["worker_jobs_failed"];
    assert!(jobs > 0.0);
}

#[test]
fn every_rule_set_runs() {
    for rule in ["reward", "random", "risk-averse", "health"] {
        let options: BTreeMap<String, String> = [("rule".to_owned(), rule.to_owned())].into_iter().collect();
        let ctx = RunCtx { run: 0, days: 10, rng: run_rng(2, 0), options };
        let (w, out) = simulate(ctx).unwrap();
        w.engine.check_invariants().unwrap();
        assert!(out.metrics["worker_jobs_done"] > 0.0, "{rule}");
        if rule == "risk-averse" {
            // Never takes work that can fail: a base-3 issue may need 4 days but has only 3.
            assert_eq!(out.metrics["correlatedPay.taken_d3"] + out.metrics["inversePay.taken_d3"], 0.0);
        }
    }
    let options: BTreeMap<String, String> = [("rule".to_owned(), "greedy".to_owned())].into_iter().collect();
    let ctx = RunCtx { run: 0, days: 1, rng: run_rng(2, 0), options };
    assert!(simulate(ctx).is_err());
}

#[test]
fn a_worker_who_cannot_finish_sells_its_position_and_earns_credit_for_partial_work() {
    use peerex_sim::clock::at;
    use peerex_sim::scenarios::worker_funder::world::Params;
    // worker01 is an expert (2 days of work per day), worker02 is not.
    let params = Params { workers: 2, experts: 0.5, resale: true, ..Params::default() };
    let mut w = World::new(params, by_name("reward").unwrap(), run_rng(1, 0)).unwrap();
    w.start_day();
    // Labelled 3 days (funder pays 0.9), really 4: worker02 cannot finish in the 3 days.
    let i = w.open_issue(0, CORRELATED, 3, 4).unwrap();
    w.take(0, at(0, 12), 1, i).unwrap();
    w.work(0).unwrap();
    // After a day it knows 3 days are left for 2 days: it lists at 0.1 + 0.9 x 1/4 = 0.325.
    let sale = w.issues[i].sale.clone().expect("listed");
    assert_eq!((sale.seller, sale.price.bp()), (1, 3250));
    w.end_of_day(0).unwrap();
    w.start_day();
    w.pick_jobs(1).unwrap();
    // The idle expert bought it through the book (3 days of work left, 4 it can do).
    assert_eq!(w.issues[i].taken_by, Some(0));
    assert!(w.workers[1].job.is_none());
    assert_eq!((w.workers[1].sold, w.workers[0].bought), (1, 1));
    w.engine.check_invariants().unwrap();
    for day in 1..3 {
        w.work(day).unwrap();
        w.end_of_day(day).unwrap();
        w.start_day();
    }
    assert_eq!(w.issues[i].outcome, Some(Outcome::Fixed));
    // Seller: -10 stake +32.5 sale = +22.5 for a quarter of the work; buyer: -32.5 +100.
    assert_eq!(credits(&w, "worker02"), Amount(1_022_500_000));
    assert_eq!(credits(&w, "worker01"), Amount(1_067_500_000));
    assert_eq!(w.stats[CORRELATED].resold_fixed, 1);
    assert!((w.workers[1].resale_profit - 22.5).abs() < 1e-9);
    w.engine.check_invariants().unwrap();
}

#[test]
fn without_resale_the_same_worker_loses_its_stake() {
    use peerex_sim::clock::at;
    use peerex_sim::scenarios::worker_funder::world::Params;
    let params = Params { workers: 2, experts: 0.5, resale: false, ..Params::default() };
    let mut w = World::new(params, by_name("reward").unwrap(), run_rng(1, 0)).unwrap();
    w.start_day();
    let i = w.open_issue(0, CORRELATED, 3, 4).unwrap();
    w.take(0, at(0, 12), 1, i).unwrap();
    for day in 0..3 {
        w.work(day).unwrap();
        w.end_of_day(day).unwrap();
        w.start_day();
    }
    assert!(w.issues[i].sale.is_none());
    assert_eq!(w.issues[i].outcome, Some(Outcome::Unfixed));
    assert_eq!(credits(&w, "worker02"), Amount::credits(990));
}

#[test]
fn a_bounty_costs_the_worker_nothing_and_pays_the_funders_price_on_completion() {
    use peerex_sim::scenarios::worker_funder::world::{Market, Params};
    let params = Params { workers: 1, market: Market::Bounty, ..Params::default() };
    let mut w = World::new(params, by_name("reward").unwrap(), run_rng(1, 0)).unwrap();
    w.start_day();
    let i = w.open_issue(0, INVERSE, 1, 1).unwrap(); // a bounty of 0.9 x 100 = 90
    let funder_before = credits(&w, "inversePay");
    w.pick_jobs(0).unwrap();
    assert_eq!(w.issues[i].taken_by, Some(0));
    assert_eq!(credits(&w, "worker01"), Amount::credits(1000), "the worker stakes nothing");
    w.work(0).unwrap();
    for day in 0..3 {
        w.end_of_day(day).unwrap();
        w.start_day();
    }
    assert_eq!(w.issues[i].outcome, Some(Outcome::Fixed));
    assert_eq!(credits(&w, "worker01"), Amount::credits(1090));
    assert_eq!(credits(&w, "inversePay"), Amount(funder_before.micros() - Amount::credits(90).micros()));
    w.engine.check_invariants().unwrap();
}

#[test]
fn treatments_report_the_studys_metrics() {
    let opts = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    for o in [
        opts(&[]),
        opts(&[("market", "bounty")]),
        opts(&[("resale", "true"), ("experts", "0.3")]),
        opts(&[("rule", "noprice")]),
        opts(&[("rule", "study-risk-averse")]),
        opts(&[("rule", "study-health")]),
    ] {
        let (_, out) = simulate(RunCtx { run: 0, days: 30, rng: run_rng(2, 0), options: o.clone() }).unwrap();
        for m in ["resolution_efficiency", "difficult_close_rate", "workdays", "payouts_per_worker_month"] {
            let v = out.metrics[m];
            assert!(v.is_finite() && v >= 0.0, "{o:?}: {m} = {v}");
        }
        assert!(out.metrics["resolution_efficiency"] <= 1.0);
    }
    let bad = simulate(RunCtx { run: 0, days: 1, rng: run_rng(2, 0), options: opts(&[("market", "auction")]) });
    assert!(bad.is_err());
    let both = opts(&[("market", "bounty"), ("resale", "true")]);
    assert!(simulate(RunCtx { run: 0, days: 1, rng: run_rng(2, 0), options: both }).is_err());
}
