//! The summary: each scalar metric of the runs as mean and spread over runs, as JSON, plus a
//! Markdown table that puts metrics named `<entity>.<metric>` side by side per entity (e.g. the
//! two funders of worker-funder).
//!
//! The spread is the *sample* standard deviation (n - 1 in the denominator; 0 for one run) with
//! min and max. Runs where a metric is undefined (NaN, e.g. a time to close when nothing closed)
//! are left out of that metric's statistics and counted in `n`'s shortfall.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scenario::RunOutput;

/// Mean and spread of one metric over runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stat {
    /// Runs where the metric was defined.
    pub n: usize,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Stat {
    /// Statistics of the defined (non-NaN) values.
    pub fn of(values: &[f64]) -> Stat {
        let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return Stat { n: 0, mean: None, std: None, min: None, max: None };
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = if v.len() > 1 { v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Stat { n: v.len(), mean: Some(mean), std: Some(var.sqrt()), min: Some(min), max: Some(max) }
    }
}

/// What the summary JSON holds. No wall-clock time and no thread count: the file must be
/// byte-identical for the same seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub days: u32,
    pub runs: u32,
    pub options: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, Stat>,
}

impl Summary {
    pub fn new(
        scenario: &str,
        seed: u64,
        days: u32,
        options: &BTreeMap<String, String>,
        outputs: &[RunOutput],
    ) -> Summary {
        let mut per_metric: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for o in outputs {
            for (k, v) in &o.metrics {
                per_metric.entry(k.clone()).or_default().push(*v);
            }
        }
        Summary {
            scenario: scenario.to_owned(),
            seed,
            days,
            runs: outputs.len() as u32,
            options: options.clone(),
            metrics: per_metric.into_iter().map(|(k, v)| (k, Stat::of(&v))).collect(),
        }
    }

    pub fn to_json(&self) -> anyhow::Result<String> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }

    /// A Markdown table: one row per metric name, one column per entity, for metrics named
    /// `<entity>.<metric>`; then the other metrics. Cells are `mean ± std`.
    pub fn to_markdown(&self) -> String {
        let mut entities: Vec<&str> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut plain: Vec<(&str, &Stat)> = Vec::new();
        for (k, st) in &self.metrics {
            match k.split_once('.') {
                Some((e, m)) => {
                    if !entities.contains(&e) {
                        entities.push(e);
                    }
                    if !names.contains(&m) {
                        names.push(m);
                    }
                }
                None => plain.push((k, st)),
            }
        }
        let mut out = format!(
            "# {}: {} runs x {} days, seed {}\n\nmean ± sample std over runs\n\n",
            self.scenario, self.runs, self.days, self.seed
        );
        if !entities.is_empty() {
            out.push_str(&format!("| metric | {} |\n", entities.join(" | ")));
            out.push_str(&format!("|---|{}\n", "---|".repeat(entities.len())));
            for m in &names {
                let cells: Vec<String> = entities
                    .iter()
                    .map(|e| self.metrics.get(&format!("{e}.{m}")).map_or(String::new(), cell))
                    .collect();
                out.push_str(&format!("| {m} | {} |\n", cells.join(" | ")));
            }
            out.push('\n');
        }
        if !plain.is_empty() {
            out.push_str("| metric | value |\n|---|---|\n");
            for (k, st) in plain {
                out.push_str(&format!("| {k} | {} |\n", cell(st)));
            }
        }
        out
    }
}

fn cell(st: &Stat) -> String {
    match (st.mean, st.std) {
        (Some(m), Some(s)) => format!("{} ± {}", round(m), round(s)),
        _ => "n/a".to_owned(),
    }
}

/// Four significant-ish decimals for the table (the JSON keeps full precision).
fn round(x: f64) -> String {
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
    fn mean_and_sample_std() {
        let s = Stat::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, Some(5.0));
        // Sample variance 32 / 7.
        assert!((s.std.unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (Some(2.0), Some(9.0)));
    }

    #[test]
    fn one_run_has_zero_spread_and_nan_runs_are_left_out() {
        assert_eq!(Stat::of(&[3.5]).std, Some(0.0));
        let s = Stat::of(&[1.0, f64::NAN, 3.0]);
        assert_eq!((s.n, s.mean), (2, Some(2.0)));
        let none = Stat::of(&[f64::NAN]);
        assert_eq!((none.n, none.mean, none.std), (0, None, None));
    }

    #[test]
    fn summary_collects_metrics_over_runs_and_pivots_entities() {
        let run = |a: f64, b: f64| RunOutput {
            rows: vec![],
            metrics: [("alpha.closed".to_owned(), a), ("beta.closed".to_owned(), b), ("total".to_owned(), a + b)]
                .into_iter()
                .collect(),
        };
        let s = Summary::new("demo", 7, 10, &BTreeMap::new(), &[run(1.0, 10.0), run(3.0, 20.0)]);
        assert_eq!(s.metrics["alpha.closed"].mean, Some(2.0));
        assert_eq!(s.metrics["total"].max, Some(23.0));
        let json = s.to_json().unwrap();
        assert!(json.contains("\"alpha.closed\": {\n      \"n\": 2,\n      \"mean\": 2.0,"), "{json}");
        let md = s.to_markdown();
        assert!(md.contains("| metric | alpha | beta |"), "{md}");
        assert!(md.contains("| closed | 2 ± 1.414 | 15 ± 7.071 |"), "{md}");
        assert!(md.contains("| total | 17 ± 8.485 |"), "{md}");
    }
}
