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
    // Geometric mean over runs of max |e| at a few days (a run that broke down is left out
    // from that day on; the count says how many runs are still in).
    let days_shown: Vec<usize> =
        [0usize, 1, 2, 3, 5, 7, 10, 14, 20, 30, 45, 59, 89, 119].into_iter().filter(|d| *d < days as usize).collect();
    println!("\ngeometric mean over runs of max|e| at day {days_shown:?} (runs still in):");
    for (entity, c) in &curves {
        let pick: Vec<String> = days_shown
            .iter()
            .map(|&d| {
                let vals: Vec<f64> = c.iter().filter_map(|run| run.get(d).copied()).collect();
                if vals.is_empty() {
                    return "-".to_string();
                }
                let g = (vals.iter().map(|v| v.max(1e-300).ln()).sum::<f64>() / vals.len() as f64).exp();
                if vals.len() == c.len() {
                    format!("{g:.1e}")
                } else {
                    format!("{g:.1e}({})", vals.len())
                }
            })
            .collect();
        println!("{entity:32} {}", pick.join(" "));
    }
    // RE_DUMP=<substring>: the full daily curve of run 0 for matching entities.
    if let Ok(pat) = std::env::var("RE_DUMP") {
        for (entity, c) in curves.iter().filter(|(e, _)| e.contains(&pat)) {
            let v: Vec<String> = c[0].iter().map(|x| format!("{x:.2e}")).collect();
            println!("\nrun 0 {entity}: {}", v.join(" "));
        }
    }
    Ok(())
}
