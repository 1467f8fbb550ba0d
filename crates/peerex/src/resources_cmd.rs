//! `peerex resources ...`: resource-market tools that need no server.
//! `peerex resources min-n --availability A --k K --target T [--json]` prints the smallest
//! number n of erasure-coded fragments (any k of n rebuild the file) whose file availability
//! reaches the target when every holder is online with probability A (seed 003, section 2.2).

use std::process::ExitCode;

use anyhow::{bail, Context};
use peerex_engine::resources::erasure::{min_n_report, MAX_FRAGMENTS};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ResourcesCommand,
}

#[derive(clap::Subcommand)]
pub enum ResourcesCommand {
    /// Minimal n for k-of-n erasure coding (k = 1 is plain replication).
    MinN(MinNArgs),
}

#[derive(clap::Args)]
pub struct MinNArgs {
    /// Each holder's availability (probability of being online), in (0, 1].
    #[arg(long)]
    pub availability: f64,
    /// Fragments needed to rebuild the file.
    #[arg(long)]
    pub k: u32,
    /// Target file availability, e.g. 0.99999.
    #[arg(long)]
    pub target: f64,
    /// Print the details as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ResourcesCommand::MinN(a) => {
            let out = min_n(&a)?;
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The text `min-n` prints.
pub fn min_n(a: &MinNArgs) -> anyhow::Result<String> {
    if !(a.availability > 0.0 && a.availability <= 1.0) {
        bail!("--availability must lie in (0, 1], not {}", a.availability);
    }
    if !(a.target > 0.0 && a.target < 1.0) {
        bail!("--target must lie in (0, 1), not {}", a.target);
    }
    if a.k == 0 || a.k > MAX_FRAGMENTS {
        bail!("--k must lie in [1, {MAX_FRAGMENTS}], not {}", a.k);
    }
    let report = min_n_report(a.availability, a.k, a.target)
        .with_context(|| format!("no n <= {MAX_FRAGMENTS} reaches the target"))?;
    if a.json {
        Ok(serde_json::to_string_pretty(&report)?)
    } else {
        Ok(report.n.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(availability: f64, k: u32, target: f64, json: bool) -> MinNArgs {
        MinNArgs { availability, k, target, json }
    }

    #[test]
    fn prints_the_seed_numbers() {
        assert_eq!(min_n(&args(0.5, 1, 0.99999, false)).unwrap(), "17");
        assert_eq!(min_n(&args(0.5, 50, 0.99999, false)).unwrap(), "151");
        let v: serde_json::Value = serde_json::from_str(&min_n(&args(0.5, 50, 0.99999, true)).unwrap()).unwrap();
        assert_eq!(v["n"], 151);
        assert_eq!(v["plain_replicas"], 17);
        assert!((v["replication_factor"].as_f64().unwrap() - 3.02).abs() < 1e-9);
        assert!(v["unavailability"].as_f64().unwrap() <= 1e-5);
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(min_n(&args(0.0, 1, 0.9, false)).unwrap_err().to_string().contains("--availability"));
        assert!(min_n(&args(0.5, 0, 0.9, false)).unwrap_err().to_string().contains("--k"));
        assert!(min_n(&args(0.5, 1, 1.0, false)).unwrap_err().to_string().contains("--target"));
        assert!(min_n(&args(0.001, 4000, 0.99999, false)).unwrap_err().to_string().contains("no n"));
    }
}
