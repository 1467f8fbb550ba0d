//! The arbiters grid of docs/prediction.md: the `arbiters` scenario over b x stake x fee x m, one
//! markdown row per cell (mean gain of truthful over manipulating reporting for the staked
//! arbiter, and the budget counters).
//!
//! `cargo run --release -p peerex-sim --example arbiters_grid -- [days] [runs] [seed]`
//! (defaults 10 days, 3 runs, seed 1; fee mode and other options from `--opt`-style `key=value`
//! arguments after those, e.g. `fee_mode=share`).

use std::collections::BTreeMap;

use peerex_sim::progress::Progress;
use peerex_sim::runner::{self, Config};
use peerex_sim::scenarios::arbiters::Arbiters;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (nums, extra): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| !a.contains('='));
    let num = |i: usize, d: u64| nums.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (days, runs, seed) = (num(0, 10) as u32, num(1, 3) as u32, num(2, 1));
    let mut fixed = BTreeMap::new();
    for kv in extra {
        let (k, v) = kv.split_once('=').ok_or_else(|| anyhow::anyhow!("bad option {kv}"))?;
        fixed.insert(k.to_owned(), v.to_owned());
    }
    println!("| b | stake | fee | m | deviations | gain (truthful - manipulating) | worst run | k | shortfalls | excluded | void | ambiguous |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut cells, mut bad) = (0, 0);
    for b in ["5", "20", "100"] {
        for stake in ["0", "10", "30", "100"] {
            for fee in ["0", "0.01", "0.05"] {
                for m in ["3", "5", "11"] {
                    let mut options = fixed.clone();
                    for (k, v) in
                        [("b", b), ("stake", stake), ("fee", fee), ("arbiters_per_market", m), ("arbiters", "12")]
                    {
                        options.insert(k.to_owned(), v.to_owned());
                    }
                    let cfg = Config { days: Some(days), runs: Some(runs), seed, threads: None, options };
                    let out = runner::run(&Arbiters, &cfg, &Progress::hidden())?;
                    let metric = |name: &str| -> Vec<f64> {
                        out.outputs.iter().map(|o| o.metrics.get(name).copied().unwrap_or(f64::NAN)).collect()
                    };
                    let sum = |name: &str| metric(name).iter().sum::<f64>();
                    let devs = metric("deviations");
                    let gains = metric("mean_gain_truthful_computed");
                    // Mean over all deviations of all runs (runs weighted by their deviations).
                    let total: f64 = devs.iter().sum();
                    let gain = if total > 0.0 {
                        devs.iter().zip(&gains).map(|(d, g)| d * g).sum::<f64>() / total
                    } else {
                        0.0
                    };
                    let worst = gains.iter().copied().fold(f64::INFINITY, f64::min);
                    let k = metric("mean_k").iter().sum::<f64>() / f64::from(runs);
                    cells += 1;
                    if gain < 0.0 || sum("shortfall_markets") > 0.0 {
                        bad += 1;
                    }
                    println!(
                        "| {b} | {stake} | {fee} | {m} | {total} | {gain:+.3} | {worst:+.3} | {k:.2} | {} | {} | {} | {} |",
                        sum("shortfall_markets"),
                        sum("excluded_reports"),
                        sum("void_markets"),
                        sum("ambiguous_markets")
                    );
                }
            }
        }
    }
    println!(
        "\n{cells} cells, {bad} with a negative mean gain or a shortfall ({days} days x {runs} runs, seed {seed})."
    );
    Ok(())
}
