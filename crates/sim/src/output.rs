//! Writes a run's outputs into the output directory: `days.csv`, `summary.json`, `summary.md`
//! and each plot as SVG and PNG.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::plot;
use crate::runner::Outcome;
use crate::scenario::Scenario;

/// The files written.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub csv: PathBuf,
    pub summary_json: PathBuf,
    pub summary_md: PathBuf,
    pub plots: Vec<PathBuf>,
}

pub fn write_all(dir: &Path, scenario: &dyn Scenario, outcome: &Outcome) -> anyhow::Result<Written> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let csv = dir.join("days.csv");
    fs::write(&csv, outcome.csv()).with_context(|| format!("writing {}", csv.display()))?;
    let summary_json = dir.join("summary.json");
    fs::write(&summary_json, outcome.summary.to_json()?)
        .with_context(|| format!("writing {}", summary_json.display()))?;
    let summary_md = dir.join("summary.md");
    fs::write(&summary_md, outcome.summary.to_markdown())
        .with_context(|| format!("writing {}", summary_md.display()))?;
    let mut plots = Vec::new();
    for spec in scenario.plots() {
        let lines = plot::lines(&spec, &outcome.columns, &outcome.outputs)?;
        plots.extend(plot::draw(dir, &spec, &lines)?);
    }
    Ok(Written { csv, summary_json, summary_md, plots })
}
