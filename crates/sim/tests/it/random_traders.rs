use std::collections::BTreeMap;

use peerex_sim::rng::run_rng;
use peerex_sim::scenario::RunCtx;
use peerex_sim::scenarios::random_traders::simulate;

fn market_column(out: &peerex_sim::scenario::RunOutput, col: usize) -> Vec<f64> {
    out.rows.iter().filter(|r| r.entity == "market").map(|r| r.values[col]).collect()
}

#[test]
fn open_contracts_converge_to_five_while_volume_per_contract_grows() {
    let ctx = RunCtx { run: 0, days: 30, rng: run_rng(1, 0), options: BTreeMap::new() };
    let out = simulate(ctx).unwrap();
    let contracts = market_column(&out, 0);
    let per_contract = market_column(&out, 1);
    assert_eq!(contracts.len(), 30);
    assert!(contracts.iter().all(|&c| c <= 5.0));
    assert_eq!(contracts[29], 5.0);
    assert!(contracts.windows(2).all(|w| w[1] >= w[0]), "{contracts:?}");
    // Volume per contract at the end is several times the first day's.
    assert!(per_contract[29] > 3.0 * per_contract[0], "{per_contract:?}");
    assert_eq!(out.metrics["series_settled"], 5.0);
    assert_eq!(out.metrics["agent_credits_conserved"], 1.0);
}
