//! `peerex sim <scenario>`: runs a simulation and writes its CSV, summary and plots.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::Args;
use peerex_sim::output::write_all;
use peerex_sim::progress::Progress;
use peerex_sim::{options, registry, runner, sweep};

#[derive(Args, Debug, Clone, PartialEq)]
#[command(after_help = "Scenario options (--opt key=value):\n".to_owned() + &options_help())]
pub struct SimArgs {
    /// The scenario to run.
    #[arg(value_parser = PossibleValuesParser::new(registry::names()))]
    pub scenario: String,
    /// Days to simulate (default: the scenario's).
    #[arg(long)]
    pub days: Option<u32>,
    /// Independent runs, averaged in the summary (default: the scenario's).
    #[arg(long)]
    pub runs: Option<u32>,
    /// Master seed: the same seed gives byte-identical outputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (default: ./sim-out/SCENARIO/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: one per core); results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// A scenario option, key=value (repeatable).
    #[arg(long = "opt", value_name = "KEY=VALUE", value_parser = options::parse_pair)]
    pub opts: Vec<(String, String)>,
    /// Sweep a scenario option over values, key=v1,v2,... (repeatable: the grid of all
    /// combinations). Writes sweep.csv, sweep.json, sweep.md and plots/ instead of the per-day
    /// outputs.
    #[arg(long = "sweep", value_name = "KEY=V1,V2,...", value_parser = sweep::parse_axis)]
    pub sweeps: Vec<sweep::Axis>,
}

fn options_help() -> String {
    let mut s = String::new();
    for sc in registry::all() {
        match sc.description() {
            "" => s.push_str(&format!("  {}\n", sc.name())),
            d => s.push_str(&format!("  {}: {d}\n", sc.name())),
        }
        for (k, what) in sc.options_doc() {
            s.push_str(&format!("      {k:<16} {what}\n"));
        }
    }
    s
}

/// The scenario and its configuration, with every option (and every cell of a sweep) checked
/// before anything runs.
fn prepare(args: &SimArgs) -> anyhow::Result<(Box<dyn peerex_sim::scenario::Scenario>, runner::Config)> {
    let scenario = registry::find(&args.scenario).ok_or_else(|| {
        anyhow::anyhow!("no scenario {:?}; scenarios: {}", args.scenario, registry::names().join(", "))
    })?;
    let options: BTreeMap<String, String> = args.opts.iter().cloned().collect();
    let cfg = runner::Config { days: args.days, runs: args.runs, seed: args.seed, threads: args.threads, options };
    runner::check_options(scenario.as_ref(), &cfg.options)?;
    if !args.sweeps.is_empty() {
        sweep::check(scenario.as_ref(), &cfg, &args.sweeps)?;
    }
    Ok((scenario, cfg))
}

pub fn run(args: SimArgs) -> anyhow::Result<()> {
    let (scenario, cfg) = prepare(&args)?;
    if !args.sweeps.is_empty() {
        let dir = args.out.unwrap_or_else(|| PathBuf::from("sim-out").join(format!("{}-sweep", scenario.name())));
        return run_sweep(scenario.as_ref(), &cfg, &args.sweeps, &dir);
    }
    let dir = args.out.unwrap_or_else(|| PathBuf::from("sim-out").join(scenario.name()));
    let runs = cfg.runs.unwrap_or_else(|| scenario.default_runs());
    let started = Instant::now();
    let progress = Progress::for_terminal(u64::from(runs), scenario.name());
    let outcome = runner::run(scenario.as_ref(), &cfg, &progress)?;
    let simulated = started.elapsed();
    let written = write_all(&dir, scenario.as_ref(), &outcome)?;
    let mut report = format!(
        "{}: {} runs x {} days, seed {} (simulated in {:.2} s, outputs written in {:.2} s)\n\n",
        scenario.name(),
        outcome.outputs.len(),
        outcome.days,
        cfg.seed,
        simulated.as_secs_f64(),
        (started.elapsed() - simulated).as_secs_f64()
    );
    report.push_str(&outcome.summary.to_markdown());
    report.push_str(&format!("\nper-day CSV:  {}\n", written.csv.display()));
    report.push_str(&format!(
        "summary:      {} (and {})\n",
        written.summary_json.display(),
        written.summary_md.display()
    ));
    for p in written.plots.iter().filter(|p| p.extension().is_some_and(|e| e == "png")) {
        report.push_str(&format!("plot:         {} (+ .svg)\n", p.display()));
    }
    // A closed pipe (`| head`) is not an error of the simulation.
    match std::io::stdout().lock().write_all(report.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(())
}

fn run_sweep(
    scenario: &dyn peerex_sim::scenario::Scenario,
    cfg: &runner::Config,
    axes: &[sweep::Axis],
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    sweep::check(scenario, cfg, axes)?;
    let runs = cfg.runs.unwrap_or_else(|| scenario.default_runs());
    let cells = sweep::grid(axes).len();
    let started = Instant::now();
    let progress = Progress::for_terminal(cells as u64 * u64::from(runs), &format!("{} sweep", scenario.name()));
    let outcome = sweep::run(scenario, cfg, axes, &progress)?;
    let simulated = started.elapsed();
    let written = sweep::write(dir, &outcome)?;
    let mut report = format!(
        "{} sweep: {} cells x {} runs x {} days, seed {} (simulated in {:.2} s, outputs written in {:.2} s)\n\n",
        scenario.name(),
        outcome.cells.len(),
        outcome.runs,
        outcome.days,
        cfg.seed,
        simulated.as_secs_f64(),
        (started.elapsed() - simulated).as_secs_f64()
    );
    report.push_str(&format!("sweep CSV:    {}\n", written.csv.display()));
    report.push_str(&format!("summary:      {} (and {})\n", written.md.display(), written.json.display()));
    report.push_str(&format!(
        "plots:        {} charts in {} (every metric against each swept key, 95% CI bars)\n",
        written.plots.len() / 2,
        dir.join("plots").display()
    ));
    match std::io::stdout().lock().write_all(report.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Root {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn parses_scenario_flags_and_repeated_options() {
        let r = Root::try_parse_from([
            "peerex",
            "worker-funder",
            "--days",
            "3",
            "--runs",
            "2",
            "--seed",
            "9",
            "--threads",
            "1",
            "--opt",
            "rule=random",
            "--opt",
            "workers=4",
        ])
        .unwrap();
        assert_eq!(r.sim.scenario, "worker-funder");
        assert_eq!((r.sim.days, r.sim.runs, r.sim.seed, r.sim.threads), (Some(3), Some(2), 9, Some(1)));
        assert_eq!(r.sim.opts, vec![("rule".into(), "random".into()), ("workers".into(), "4".into())]);
    }

    #[test]
    fn runs_a_small_sweep_into_a_directory() {
        let dir = std::env::temp_dir().join(format!("peerex-sim-sweep-{}", std::process::id()));
        let r = Root::try_parse_from([
            "peerex",
            "worker-funder",
            "--days",
            "3",
            "--runs",
            "2",
            "--sweep",
            "workers=2,4",
            "--sweep",
            "rule=reward,random",
            "--out",
            dir.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(r.sim.sweeps.len(), 2);
        run(r.sim).unwrap();
        let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
        assert!(csv.starts_with("workers,rule,metric,n,mean,std,ci95_low,ci95_high,min,max\n"), "{csv}");
        assert!(csv.contains("\n4,random,worker_jobs_done,2,"), "{csv}");
        for f in [
            "sweep.json",
            "sweep.md",
            "plots/worker_jobs_done__vs__workers.png",
            "plots/worker_jobs_done__vs__rule.svg",
        ] {
            assert!(dir.join(f).is_file(), "{f} missing");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let both =
            Root::try_parse_from(["peerex", "worker-funder", "--opt", "workers=3", "--sweep", "workers=1,2"]).unwrap();
        let err = run(both.sim).unwrap_err().to_string();
        assert!(err.contains("both swept and set"), "{err}");
        let typo = Root::try_parse_from(["peerex", "worker-funder", "--sweep", "wrokers=1,2"]).unwrap();
        assert!(run(typo.sim).unwrap_err().to_string().contains("no option \"wrokers\""));
    }

    #[test]
    fn refuses_unknown_scenarios_and_bad_options() {
        assert!(Root::try_parse_from(["peerex", "no-such-scenario"]).is_err());
        assert!(Root::try_parse_from(["peerex", "worker-funder", "--opt", "novalue"]).is_err());
    }

    #[test]
    fn runs_a_small_simulation_into_a_directory() {
        let dir = std::env::temp_dir().join(format!("peerex-sim-cmd-{}", std::process::id()));
        let r = Root::try_parse_from([
            "peerex",
            "worker-funder",
            "--days",
            "4",
            "--runs",
            "2",
            "--out",
            dir.to_str().unwrap(),
        ])
        .unwrap();
        run(r.sim).unwrap();
        for f in ["days.csv", "summary.json", "summary.md", "closed_issues.png", "worker_balances.svg"] {
            assert!(dir.join(f).is_file(), "{f} missing");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        let typo = Root::try_parse_from(["peerex", "worker-funder", "--opt", "wrokers=3"]).unwrap();
        let err = run(typo.sim).unwrap_err().to_string();
        assert!(err.contains("no option \"wrokers\""), "{err}");
    }

    /// Every `peerex sim ...` command written in README.md and docs/ (in backticks or on a
    /// code line, also as `cargo run --release -p peerex -- sim ...`).
    fn commands_in_docs() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![root.join("README.md")];
        for e in std::fs::read_dir(root.join("docs")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "md") {
                files.push(p);
            }
        }
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            // In backticks (a span may wrap onto the next line), or a code line.
            let mut found: Vec<String> = text
                .match_indices("`peerex sim ")
                .filter_map(|(i, m)| text[i + m.len()..].split('`').next().map(|c| c.replace('\n', " ")))
                .collect();
            for line in text.lines() {
                if let Some(i) = line.find("peerex -- sim ") {
                    let rest = &line[i + "peerex -- sim ".len()..];
                    found.push(rest[..rest.find(['`', '#']).unwrap_or(rest.len())].to_owned());
                }
            }
            for cmd in found {
                let cmd = cmd.trim();
                // Placeholders and elisions are not commands.
                if cmd.contains("...") || cmd.contains("SCENARIO") || cmd.contains('<') || cmd.is_empty() {
                    continue;
                }
                out.push((name.clone(), cmd.to_owned()));
            }
        }
        out
    }

    /// The docs' simulator commands parse and their scenarios, options and sweep cells are
    /// valid (running them all would take minutes in release).
    #[test]
    fn every_sim_command_in_the_docs_is_valid() {
        let cmds = commands_in_docs();
        assert!(cmds.len() >= 15, "found only {cmds:#?}");
        let mut bad = Vec::new();
        for (file, cmd) in &cmds {
            let argv = std::iter::once("sim").chain(cmd.split_whitespace());
            match Root::try_parse_from(argv) {
                Err(e) => bad.push(format!("{file}: peerex sim {cmd}: {e}")),
                Ok(w) => {
                    if let Err(e) = prepare(&w.sim) {
                        bad.push(format!("{file}: peerex sim {cmd}: {e:#}"));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn a_bad_option_is_refused_before_anything_runs() {
        let w = Root::try_parse_from(["sim", "liquidity", "--opt", "no_such_key=1"]).unwrap();
        assert!(prepare(&w.sim).is_err());
        let w = Root::try_parse_from(["sim", "worker-funder", "--sweep", "no_such_key=1,2"]).unwrap();
        assert!(prepare(&w.sim).is_err());
    }
}
