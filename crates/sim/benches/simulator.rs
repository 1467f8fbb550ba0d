//! Simulator speed: simulated days per second of one worker-funder run, and the whole default
//! experiment (5 runs x 180 days, in parallel) as `peerex sim worker-funder` runs it, without
//! writing files. Numbers are recorded in docs/benchmarks.md ("Simulator").

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use peerex_sim::progress::Progress;
use peerex_sim::registry;
use peerex_sim::rng::run_rng;
use peerex_sim::runner::{self, Config};
use peerex_sim::scenario::RunCtx;
use peerex_sim::scenarios::worker_funder::simulate;
use peerex_sim::sweep::{self, Axis};

fn one_run(c: &mut Criterion) {
    let mut g = c.benchmark_group("worker_funder_one_run");
    g.measurement_time(Duration::from_secs(5));
    let days = 180u32;
    g.throughput(Throughput::Elements(u64::from(days)));
    g.bench_with_input(BenchmarkId::new("days", days), &days, |b, &days| {
        b.iter(|| {
            let ctx = RunCtx { run: 0, days, rng: run_rng(1, 0), options: BTreeMap::new() };
            simulate(ctx).map(|(_, out)| out.rows.len()).unwrap_or(0)
        })
    });
    g.finish();
}

fn whole_experiment(c: &mut Criterion) {
    let mut g = c.benchmark_group("worker_funder_5x180");
    g.measurement_time(Duration::from_secs(8));
    let Some(scenario) = registry::find("worker-funder") else { return };
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &threads| {
            let cfg =
                Config { days: Some(180), runs: Some(5), seed: 1, threads: Some(threads), options: BTreeMap::new() };
            b.iter(|| runner::run(scenario.as_ref(), &cfg, &Progress::hidden()).map(|o| o.outputs.len()).unwrap_or(0))
        });
    }
    g.finish();
}

/// The sweep the issue names: worker-funder, 5 values x 20 runs x 180 days (100 runs), as
/// `peerex sim worker-funder --runs 20 --sweep workers=6,8,10,12,14` runs it (without writing).
fn sweep_5x20(c: &mut Criterion) {
    let mut g = c.benchmark_group("worker_funder_sweep_5x20x180");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let Some(scenario) = registry::find("worker-funder") else { return };
    let axes = [Axis { key: "workers".into(), values: ["6", "8", "10", "12", "14"].map(String::from).to_vec() }];
    let cfg = Config { days: Some(180), runs: Some(20), seed: 1, threads: None, options: BTreeMap::new() };
    g.bench_function("threads/all", |b| {
        b.iter(|| sweep::run(scenario.as_ref(), &cfg, &axes, &Progress::hidden()).map(|o| o.cells.len()).unwrap_or(0))
    });
    g.finish();
}

fn random_traders(c: &mut Criterion) {
    let mut g = c.benchmark_group("random_traders_5x30");
    g.measurement_time(Duration::from_secs(5));
    let Some(scenario) = registry::find("random-traders") else { return };
    let cfg = Config { days: Some(30), runs: Some(5), seed: 1, threads: Some(2), options: BTreeMap::new() };
    g.bench_function("threads/2", |b| {
        b.iter(|| runner::run(scenario.as_ref(), &cfg, &Progress::hidden()).map(|o| o.outputs.len()).unwrap_or(0))
    });
    g.finish();
}

criterion_group!(benches, one_run, whole_experiment, sweep_5x20, random_traders);
criterion_main!(benches);
