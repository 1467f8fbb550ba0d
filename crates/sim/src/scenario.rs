//! The contract between the simulation framework and a scenario. A scenario describes one
//! experiment; the framework runs it `runs` times in parallel (one seeded RNG per run), writes
//! the per-day CSV, the summary JSON (mean and spread of each metric over runs) and the plots.
//!
//! Determinism: a run may depend only on its [`RunCtx`] (never on thread scheduling, the clock
//! or hash-map iteration order).

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;

/// What a run gets.
pub struct RunCtx {
    /// 0-based run index.
    pub run: u32,
    /// Days to simulate.
    pub days: u32,
    /// The run's own random stream (derived from the master seed and the run index).
    pub rng: ChaCha8Rng,
    /// Scenario options as `key=value` pairs from the command line (`--opt key=value`).
    pub options: BTreeMap<String, String>,
}

/// One per-day CSV row: `day, run, entity, <value columns...>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub day: u32,
    pub entity: String,
    pub values: Vec<f64>,
}

/// What a run returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOutput {
    /// Per-day rows, in (day, entity) order.
    pub rows: Vec<Row>,
    /// Scalar results of the run; the summary reports their mean and spread over runs.
    pub metrics: BTreeMap<String, f64>,
}

/// A line chart the framework draws from the per-day rows, averaged over runs: one line per
/// entity (or per entity in `entities`, when given) of column `column` against the day.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSpec {
    /// File stem (`<stem>.svg` and `<stem>.png`).
    pub stem: String,
    pub title: String,
    pub column: String,
    pub y_label: String,
    /// Only these entities (all when empty).
    pub entities: Vec<String>,
    /// Logarithmic y axis.
    pub log_y: bool,
}

pub trait Scenario: Send + Sync {
    /// The command-line name (`peerex sim <name>`).
    fn name(&self) -> &'static str;
    /// Default number of days when `--days` is not given.
    fn default_days(&self) -> u32;
    /// Default number of runs when `--runs` is not given.
    fn default_runs(&self) -> u32;
    /// Names of the value columns of [`Row::values`].
    fn columns(&self) -> Vec<String>;
    /// Simulates one run.
    fn run(&self, ctx: RunCtx) -> anyhow::Result<RunOutput>;
    /// Charts to draw.
    fn plots(&self) -> Vec<PlotSpec>;
    /// One line describing the experiment (for listings and the summary).
    fn description(&self) -> &'static str {
        ""
    }
    /// The scenario's `--opt key=value` options with what each means. When the list is not
    /// empty the framework refuses any other key before running (a typo must not silently run
    /// the default experiment).
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}
