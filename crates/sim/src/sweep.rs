//! Parameter sweeps: `peerex sim SCENARIO --sweep key=v1,v2,... [--sweep key2=...]` runs every
//! cell of the grid (the cartesian product of the swept values, first key slowest) with its
//! runs, and summarises each metric per cell with a 95% confidence interval of the mean.
//!
//! Determinism: every (cell, run) pair is one job of one parallel pass; run `r` of every cell
//! uses the same random stream `run_rng(seed, r)` (common random numbers: cells differ only by
//! their parameters, which sharpens comparisons between them), and results are collected by
//! (cell, run) index. So the CSV and the plots are byte-identical whatever the thread count.

use anyhow::Context as _;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::fs;
use std::path::{Path, PathBuf};

use crate::csv::{field, number};
use crate::plot::{self, SweepChart, SweepLine};
use crate::progress::Progress;
use crate::rng::run_rng;
use crate::runner::{check_options, Config};
use crate::scenario::{RunCtx, Scenario};
use crate::summary::Stat;

/// The most cells a grid may have, and the most values one key may take.
pub const MAX_CELLS: usize = 1_000;
pub const MAX_VALUES: usize = 100;

/// One swept key and its values, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// Parses `key=v1,v2,...` (for the command line's `--sweep`).
pub fn parse_axis(s: &str) -> Result<Axis, String> {
    let (key, values) = s.split_once('=').ok_or_else(|| format!("expected key=v1,v2,..., got {s:?}"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("expected key=v1,v2,..., got {s:?}"));
    }
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().any(String::is_empty) {
        return Err(format!("--sweep {key}: empty value in {s:?}"));
    }
    if values.len() > MAX_VALUES {
        return Err(format!("--sweep {key}: at most {MAX_VALUES} values"));
    }
    let mut seen = values.clone();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != values.len() {
        return Err(format!("--sweep {key}: a value is repeated in {s:?}"));
    }
    Ok(Axis { key: key.to_owned(), values })
}

/// A metric's statistics in one cell, with the 95% confidence interval of its mean
/// (Student's t with n - 1 degrees of freedom; empty for fewer than two defined runs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellStat {
    #[serde(flatten)]
    pub stat: Stat,
    pub ci95: Option<(f64, f64)>,
}

impl CellStat {
    pub fn of(values: &[f64]) -> CellStat {
        let stat = Stat::of(values);
        let ci95 = match (stat.mean, stat.std) {
            (Some(m), Some(s)) if stat.n >= 2 => {
                let h = t975(stat.n - 1) * s / (stat.n as f64).sqrt();
                Some((m - h, m + h))
            }
            _ => None,
        };
        CellStat { stat, ci95 }
    }
}

/// The 0.975 quantile of Student's t distribution with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=40 => 2.021,
        41..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// One cell of the grid: its swept values (in axis order) and its metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub values: Vec<String>,
    pub metrics: BTreeMap<String, CellStat>,
}

/// The results of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepOutcome {
    pub scenario: String,
    pub seed: u64,
    pub days: u32,
    pub runs: u32,
    /// The options every cell shares (the swept keys excluded).
    pub options: BTreeMap<String, String>,
    pub keys: Vec<String>,
    pub cells: Vec<Cell>,
}

/// The grid's cells in order (first axis slowest): each a list of value indices.
pub fn grid(axes: &[Axis]) -> Vec<Vec<usize>> {
    let mut cells: Vec<Vec<usize>> = vec![Vec::new()];
    for a in axes {
        cells =
            cells.into_iter().flat_map(|c| (0..a.values.len()).map(move |i| [c.clone(), vec![i]].concat())).collect();
    }
    cells
}

/// Checks a sweep before running anything: keys are declared options, not repeated and not
/// also given with `--opt`; the grid is bounded.
pub fn check(scenario: &dyn Scenario, cfg: &Config, axes: &[Axis]) -> anyhow::Result<()> {
    if axes.is_empty() {
        anyhow::bail!("a sweep needs at least one --sweep key=v1,v2,...");
    }
    check_options(scenario, &cfg.options)?;
    let swept: BTreeMap<String, String> = axes.iter().map(|a| (a.key.clone(), String::new())).collect();
    if swept.len() != axes.len() {
        anyhow::bail!("a key is swept twice");
    }
    if scenario.options_doc().is_empty() {
        anyhow::bail!("{} has no options to sweep", scenario.name());
    }
    check_options(scenario, &swept)?;
    if let Some(k) = axes.iter().find(|a| cfg.options.contains_key(&a.key)) {
        anyhow::bail!("{} is both swept and set with --opt", k.key);
    }
    let cells = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    if cells.is_none_or(|n| n > MAX_CELLS) {
        anyhow::bail!("the grid has more than {MAX_CELLS} cells");
    }
    Ok(())
}

/// Runs every cell of the grid with its runs (one parallel pass over all cell x run pairs; one
/// progress step per run).
pub fn run(scenario: &dyn Scenario, cfg: &Config, axes: &[Axis], progress: &Progress) -> anyhow::Result<SweepOutcome> {
    check(scenario, cfg, axes)?;
    let days = cfg.days.unwrap_or_else(|| scenario.default_days());
    let runs = cfg.runs.unwrap_or_else(|| scenario.default_runs());
    if days == 0 || runs == 0 {
        anyhow::bail!("--days and --runs must be at least 1");
    }
    let cells = grid(axes);
    let cell_options: Vec<BTreeMap<String, String>> = cells
        .iter()
        .map(|c| {
            let mut o = cfg.options.clone();
            for (a, &i) in axes.iter().zip(c) {
                o.insert(a.key.clone(), a.values[i].clone());
            }
            o
        })
        .collect();
    let jobs: Vec<(usize, u32)> = (0..cells.len()).flat_map(|c| (0..runs).map(move |r| (c, r))).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .context("starting the simulation threads")?;
    let results: Vec<anyhow::Result<BTreeMap<String, f64>>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(c, run)| {
                let ctx = RunCtx { run, days, rng: run_rng(cfg.seed, run), options: cell_options[c].clone() };
                let out = scenario
                    .run(ctx)
                    .map(|o| o.metrics)
                    .with_context(|| format!("{} sweep cell {} run {run}", scenario.name(), label(axes, &cells[c])));
                progress.step();
                out
            })
            .collect()
    });
    progress.finish();
    let mut per_cell: Vec<BTreeMap<String, Vec<f64>>> = vec![BTreeMap::new(); cells.len()];
    for (&(c, _), r) in jobs.iter().zip(results) {
        for (k, v) in r? {
            per_cell[c].entry(k).or_default().push(v);
        }
    }
    let out_cells = cells
        .iter()
        .zip(per_cell)
        .map(|(c, m)| Cell {
            values: axes.iter().zip(c).map(|(a, &i)| a.values[i].clone()).collect(),
            metrics: m.into_iter().map(|(k, v)| (k, CellStat::of(&v))).collect(),
        })
        .collect();
    Ok(SweepOutcome {
        scenario: scenario.name().to_owned(),
        seed: cfg.seed,
        days,
        runs,
        options: cfg.options.clone(),
        keys: axes.iter().map(|a| a.key.clone()).collect(),
        cells: out_cells,
    })
}

fn label(axes: &[Axis], cell: &[usize]) -> String {
    axes.iter().zip(cell).map(|(a, &i)| format!("{}={}", a.key, a.values[i])).collect::<Vec<_>>().join(" ")
}

impl SweepOutcome {
    /// Every metric name, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.cells.iter().flat_map(|c| c.metrics.keys().cloned()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The CSV: one row per cell x metric: `<keys>,metric,n,mean,std,ci95_low,ci95_high,min,max`.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        for k in &self.keys {
            out.push_str(&field(k));
            out.push(',');
        }
        out.push_str("metric,n,mean,std,ci95_low,ci95_high,min,max\n");
        let num = |v: Option<f64>| v.map_or(String::new(), number);
        for c in &self.cells {
            for (m, s) in &c.metrics {
                for v in &c.values {
                    out.push_str(&field(v));
                    out.push(',');
                }
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    field(m),
                    s.stat.n,
                    num(s.stat.mean),
                    num(s.stat.std),
                    num(s.ci95.map(|c| c.0)),
                    num(s.ci95.map(|c| c.1)),
                    num(s.stat.min),
                    num(s.stat.max)
                );
            }
        }
        out
    }

    /// A Markdown table of the chosen metrics (all when `metrics` is empty): one row per cell,
    /// cells `mean ± half-width of the 95% CI`.
    pub fn to_markdown(&self, metrics: &[String]) -> String {
        let names: Vec<String> = if metrics.is_empty() { self.metric_names() } else { metrics.to_vec() };
        let mut out = format!(
            "# {} sweep: {} cells x {} runs x {} days, seed {}\n\nmean ± half-width of the 95% CI over runs\n\n",
            self.scenario,
            self.cells.len(),
            self.runs,
            self.days,
            self.seed
        );
        let _ = writeln!(out, "| {} | {} |", self.keys.join(" | "), names.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.keys.len() + names.len()));
        for c in &self.cells {
            let cells: Vec<String> = names
                .iter()
                .map(|m| match c.metrics.get(m) {
                    Some(CellStat { stat: Stat { mean: Some(mean), .. }, ci95 }) => match ci95 {
                        Some((lo, hi)) => format!("{} ± {}", short(*mean), short((hi - lo) / 2.0)),
                        None => short(*mean),
                    },
                    _ => "n/a".to_owned(),
                })
                .collect();
            let _ = writeln!(out, "| {} | {} |", c.values.join(" | "), cells.join(" | "));
        }
        out
    }

    pub fn to_json(&self) -> anyhow::Result<String> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

impl SweepOutcome {
    /// The charts: every metric against every swept key; one line per combination of the
    /// other keys' values.
    pub fn charts(&self) -> Vec<SweepChart> {
        let mut charts = Vec::new();
        for (ki, key) in self.keys.iter().enumerate() {
            // The key's values in grid order (first appearance).
            let mut values: Vec<&str> = Vec::new();
            for c in &self.cells {
                if !values.contains(&c.values[ki].as_str()) {
                    values.push(&c.values[ki]);
                }
            }
            let numeric: Option<Vec<f64>> =
                values.iter().map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite())).collect();
            let x_of = |v: &str| -> f64 {
                let i = values.iter().position(|x| *x == v).unwrap_or(0);
                numeric.as_ref().map_or(i as f64, |n| n[i])
            };
            for metric in self.metric_names() {
                let mut lines: Vec<SweepLine> = Vec::new();
                for c in &self.cells {
                    let others: Vec<String> = self
                        .keys
                        .iter()
                        .zip(&c.values)
                        .enumerate()
                        .filter(|(j, _)| *j != ki)
                        .map(|(_, (k, v))| format!("{k}={v}"))
                        .collect();
                    let label = if others.is_empty() { metric.clone() } else { others.join(" ") };
                    let (mean, lo, hi) = match c.metrics.get(&metric) {
                        Some(s) => (
                            s.stat.mean.unwrap_or(f64::NAN),
                            s.ci95.map_or(f64::NAN, |c| c.0),
                            s.ci95.map_or(f64::NAN, |c| c.1),
                        ),
                        None => (f64::NAN, f64::NAN, f64::NAN),
                    };
                    let point = (x_of(&c.values[ki]), mean, lo, hi);
                    match lines.iter_mut().find(|l| l.label == label) {
                        Some(l) => l.points.push(point),
                        None => lines.push(SweepLine { label, points: vec![point] }),
                    }
                }
                charts.push(SweepChart {
                    stem: format!("{}__vs__{key}", file_stem(&metric)),
                    title: format!("{metric} vs {key} ({} runs per point)", self.runs),
                    x_label: key.clone(),
                    y_label: metric.clone(),
                    x_labels: if numeric.is_some() {
                        None
                    } else {
                        Some(values.iter().map(|v| (*v).to_owned()).collect())
                    },
                    lines,
                });
            }
        }
        charts
    }
}

/// A metric name as a file name (letters, digits, `.`, `-` and `_` kept).
fn file_stem(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

/// The files a sweep wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepWritten {
    pub csv: PathBuf,
    pub json: PathBuf,
    pub md: PathBuf,
    pub plots: Vec<PathBuf>,
}

/// Writes `sweep.csv`, `sweep.json`, `sweep.md` and the charts (under `plots/`) into `dir`.
pub fn write(dir: &Path, outcome: &SweepOutcome) -> anyhow::Result<SweepWritten> {
    let plots_dir = dir.join("plots");
    fs::create_dir_all(&plots_dir).with_context(|| format!("creating {}", plots_dir.display()))?;
    let csv = dir.join("sweep.csv");
    fs::write(&csv, outcome.csv()).with_context(|| format!("writing {}", csv.display()))?;
    let json = dir.join("sweep.json");
    fs::write(&json, outcome.to_json()?).with_context(|| format!("writing {}", json.display()))?;
    let md = dir.join("sweep.md");
    fs::write(&md, outcome.to_markdown(&[])).with_context(|| format!("writing {}", md.display()))?;
    // Each chart is its own pair of files: draw them in parallel (same bytes either way).
    let drawn: Vec<anyhow::Result<Vec<PathBuf>>> =
        outcome.charts().par_iter().map(|chart| plot::draw_sweep(&plots_dir, chart)).collect();
    let mut plots = Vec::new();
    for d in drawn {
        plots.extend(d?);
    }
    Ok(SweepWritten { csv, json, md, plots })
}

fn short(x: f64) -> String {
    let r = format!("{x:.3}");
    let r = r.trim_end_matches('0').trim_end_matches('.');
    if r == "-0" {
        "0".to_owned()
    } else {
        r.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_axes_and_refuses_bad_ones() {
        let a = parse_axis("workers = 5, 10,20").unwrap();
        assert_eq!(a, Axis { key: "workers".into(), values: vec!["5".into(), "10".into(), "20".into()] });
        assert!(parse_axis("workers").is_err());
        assert!(parse_axis("=1,2").is_err());
        assert!(parse_axis("workers=1,,2").is_err());
        assert!(parse_axis("workers=1,1").is_err());
        let many = format!("k={}", (0..=MAX_VALUES).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        assert!(parse_axis(&many).is_err());
    }

    #[test]
    fn grid_is_the_cartesian_product_first_axis_slowest() {
        let a = Axis { key: "a".into(), values: vec!["1".into(), "2".into()] };
        let b = Axis { key: "b".into(), values: vec!["x".into(), "y".into(), "z".into()] };
        let g = grid(&[a, b]);
        assert_eq!(g, vec![vec![0, 0], vec![0, 1], vec![0, 2], vec![1, 0], vec![1, 1], vec![1, 2]]);
        assert_eq!(grid(&[]), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn confidence_interval_uses_student_t() {
        let s = CellStat::of(&[1.0, 2.0, 3.0, 4.0]);
        let (lo, hi) = s.ci95.unwrap();
        // mean 2.5, sample std 1.29099, t(3) = 3.182: half-width 2.054.
        assert!((hi - lo - 2.0 * 3.182 * 1.290_994_448_735_805_6 / 2.0).abs() < 1e-9, "{lo} {hi}");
        assert!(CellStat::of(&[5.0]).ci95.is_none());
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(1000), 1.96);
    }
}
