//! Properties over random parameters: whatever the population, rule set and seed, a run keeps
//! every engine invariant each day (checked inside the run in test builds) and all credits stay
//! with the participants or in escrow; the summary statistics are consistent.

use std::collections::BTreeMap;

use peerex_engine::ledger::Account;
use peerex_sim::rng::run_rng;
use peerex_sim::scenario::RunCtx;
use peerex_sim::scenarios::{random_traders, worker_funder};
use peerex_sim::summary::Stat;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn worker_funder_conserves_money_for_any_parameters(
        seed in any::<u64>(),
        workers in 1u32..6,
        issues_per_day in 1u32..6,
        extra in 0.0f64..=1.0,
        worker_credits in 5i64..200,
        contract_days in 1u32..5,
        rule in prop::sample::select(vec![
            "reward", "random", "risk-averse", "health", "noprice", "study-risk-averse", "study-health",
        ]),
        days in 1u32..12,
        market in prop::sample::select(vec!["futures", "bounty", "resale"]),
        experts in 0.0f64..=1.0,
    ) {
        let options: BTreeMap<String, String> = [
            ("workers", workers.to_string()),
            ("issues_per_day", issues_per_day.to_string()),
            ("extra_day_prob", extra.to_string()),
            ("worker_credits", worker_credits.to_string()),
            ("contract_days", contract_days.to_string()),
            ("rule", rule.to_string()),
            ("market", if market == "bounty" { "bounty" } else { "futures" }.to_owned()),
            ("resale", (market == "resale").to_string()),
            ("experts", experts.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let ctx = RunCtx { run: 0, days, rng: run_rng(seed, 0), options };
        let (w, out) = worker_funder::simulate(ctx).unwrap();
        w.engine.check_invariants().unwrap();
        // Every credit minted is with a user (available or held) or in an escrow.
        let mut total = 0i64;
        for (user, _) in w.engine.users() {
            let (a, h) = w.engine.balance(user);
            prop_assert!(!a.is_negative() && !h.is_negative());
            total += a.micros() + h.micros();
        }
        for (s, _) in w.engine.exchange().all_series() {
            total += w.engine.ledger().balance(Account::Escrow(s)).micros();
        }
        let deposits = (2 * 1_000_000_000 + i64::from(workers) * worker_credits) * 1_000_000;
        prop_assert_eq!(total, deposits);
        prop_assert_eq!(out.rows.len(), days as usize * (2 + workers as usize));
        for s in &w.stats {
            prop_assert!(s.fixed <= s.settled && s.settled <= s.contracts);
            prop_assert!(s.closed + s.open == s.opened);
        }
    }

    #[test]
    fn random_traders_keep_credits_with_the_agents(seed in any::<u64>(), agents in 1u32..6, steps in 1u32..15) {
        let options: BTreeMap<String, String> = [
            ("agents".to_owned(), agents.to_string()),
            ("steps_per_day".to_owned(), steps.to_string()),
            ("credits".to_owned(), "60".to_owned()),
        ]
        .into_iter()
        .collect();
        let out = random_traders::simulate(RunCtx { run: 0, days: 6, rng: run_rng(seed, 0), options }).unwrap();
        prop_assert_eq!(out.metrics["agent_credits_conserved"], 1.0);
        prop_assert!(out.metrics["open_contracts_final"] <= 5.0);
    }

    #[test]
    fn stats_are_ordered(values in prop::collection::vec(-1e6f64..1e6, 1..20)) {
        let s = Stat::of(&values);
        let (min, mean, max, std) = (s.min.unwrap(), s.mean.unwrap(), s.max.unwrap(), s.std.unwrap());
        prop_assert!(min <= mean + 1e-6 && mean <= max + 1e-6);
        prop_assert!(std >= 0.0);
        prop_assert_eq!(s.n, values.len());
    }
}
