//! Runs a scenario `runs` times in parallel and merges the results in run order.
//!
//! Each run gets its own RNG stream (see [`crate::rng`]) and shares nothing with the others, and
//! the results are collected by run index, so the outputs are byte-identical whatever the thread
//! count or scheduling.

use std::collections::BTreeMap;

use anyhow::Context as _;
use rayon::prelude::*;

use crate::progress::Progress;
use crate::rng::run_rng;
use crate::scenario::{RunCtx, RunOutput, Scenario};
use crate::summary::Summary;

/// What to run. `None` takes the scenario's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub days: Option<u32>,
    pub runs: Option<u32>,
    pub seed: u64,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    pub options: BTreeMap<String, String>,
}

/// The results of all runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub scenario: String,
    pub days: u32,
    pub columns: Vec<String>,
    /// `outputs[i]` is run `i`.
    pub outputs: Vec<RunOutput>,
    pub summary: Summary,
}

impl Outcome {
    /// The per-day CSV text.
    pub fn csv(&self) -> String {
        crate::csv::render(&self.columns, &self.outputs)
    }
}

/// Refuses option keys the scenario does not declare (when it declares any).
pub fn check_options(scenario: &dyn Scenario, options: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let doc = scenario.options_doc();
    if doc.is_empty() {
        return Ok(());
    }
    for key in options.keys() {
        if !doc.iter().any(|(k, _)| k == key) {
            let known: Vec<&str> = doc.iter().map(|(k, _)| *k).collect();
            anyhow::bail!("{} has no option {key:?}; its options are: {}", scenario.name(), known.join(", "));
        }
    }
    Ok(())
}

/// Runs every run of `scenario` and summarises them.
pub fn run(scenario: &dyn Scenario, cfg: &Config, progress: &Progress) -> anyhow::Result<Outcome> {
    check_options(scenario, &cfg.options)?;
    let days = cfg.days.unwrap_or_else(|| scenario.default_days());
    let runs = cfg.runs.unwrap_or_else(|| scenario.default_runs());
    if days == 0 || runs == 0 {
        anyhow::bail!("--days and --runs must be at least 1");
    }
    let columns = scenario.columns();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .context("starting the simulation threads")?;
    let results: Vec<anyhow::Result<RunOutput>> = pool.install(|| {
        (0..runs)
            .into_par_iter()
            .map(|run| {
                let ctx = RunCtx { run, days, rng: run_rng(cfg.seed, run), options: cfg.options.clone() };
                let out = scenario.run(ctx).with_context(|| format!("{} run {run}", scenario.name()));
                progress.step();
                out
            })
            .collect()
    });
    progress.finish();
    let mut outputs = Vec::with_capacity(results.len());
    for (run, r) in results.into_iter().enumerate() {
        let out = r?;
        if let Some(bad) = out.rows.iter().find(|row| row.values.len() != columns.len()) {
            anyhow::bail!(
                "{} run {run}: a row of day {} for {:?} has {} values for {} columns",
                scenario.name(),
                bad.day,
                bad.entity,
                bad.values.len(),
                columns.len()
            );
        }
        outputs.push(out);
    }
    let summary = Summary::new(scenario.name(), cfg.seed, days, &cfg.options, &outputs);
    Ok(Outcome { scenario: scenario.name().to_owned(), days, columns, outputs, summary })
}
