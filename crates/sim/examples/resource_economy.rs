//! Runs the `resource-economy` scenario directly (without the framework) and prints the
//! summary numbers for docs/resources.md: `cargo run -p peerex-sim --example resource_economy
//! -- <experiment> [runs] [days] [key=value ...]`.

use std::collections::BTreeMap;

use peerex_sim::scenario::{RunCtx, Scenario};
use peerex_sim::scenarios::resource_economy::ResourceEconomy;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let experiment = args.first().cloned().unwrap_or_else(|| "near".into());
    let runs: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let days: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut options = BTreeMap::new();
    options.insert("experiment".to_string(), experiment.clone());
    for kv in args.iter().skip(3) {
        if let Some((k, v)) = kv.split_once('=') {
            options.insert(k.to_string(), v.to_string());
        }
    }
    let mut all: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut curves: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for run in 0..runs {
        let ctx = RunCtx { run, days, rng: ChaCha8Rng::seed_from_u64(1000 + u64::from(run)), options: options.clone() };
        let out = ResourceEconomy.run(ctx)?;
        for (k, v) in out.metrics {
            all.entry(k).or_default().push(v);
        }
        for r in out.rows {
            let c = curves.entry(r.entity).or_default();
            if c.len() <= run as usize {
                c.resize(run as usize + 1, Vec::new());
            }
            c[run as usize].push(r.values[0]);
        }
    }
    println!("experiment={experiment} runs={runs} days={days} options={options:?}");
    for (k, v) in &all {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        println!("{k:45} mean {mean:10.4e} min {min:10.4e} max {max:10.4e} (n={})", v.len());
    }
    // Run 0's curve at a few days, per entity.
    println!("\nrun 0, max|e| at day 0 1 2 3 5 10 20 30 45 59:");
    for (entity, c) in &curves {
        let c0 = &c[0];
        let pick: Vec<String> = [0usize, 1, 2, 3, 5, 10, 20, 30, 45, 59]
            .iter()
            .map(|&d| c0.get(d).map_or("-".to_string(), |v| format!("{v:.1e}")))
            .collect();
        println!("{entity:32} {}", pick.join(" "));
    }
    Ok(())
}
