//! The simulator without the rest of the `peerex` binary (no server, no database drivers), for
//! quick experiments while developing: `cargo run --release -p peerex-sim --example sim_lite --
//! SCENARIO [runs] [days] [key=value | key=v1,v2,... (swept when it has a comma)]...`. Writes
//! the same files as `peerex sim` into sim-out/<scenario>[-sweep]/ and prints the summary.

use std::path::PathBuf;
use std::time::Instant;

use peerex_sim::progress::Progress;
use peerex_sim::runner::{self, Config};
use peerex_sim::sweep;
use peerex_sim::{output, registry};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("worker-funder");
    let scenario = registry::find(name).ok_or_else(|| anyhow::anyhow!("no scenario {name}"))?;
    let mut cfg = Config { seed: 1, ..Config::default() };
    let mut axes = Vec::new();
    let mut numbers = Vec::new();
    for a in args.iter().skip(1) {
        match a.split_once('=') {
            Some((_, v)) if v.contains(',') => axes.push(sweep::parse_axis(a).map_err(anyhow::Error::msg)?),
            Some((k, v)) => {
                cfg.options.insert(k.to_owned(), v.to_owned());
            }
            None => numbers.push(a.parse::<u32>()?),
        }
    }
    cfg.runs = numbers.first().copied();
    cfg.days = numbers.get(1).copied();
    let started = Instant::now();
    if axes.is_empty() {
        let o = runner::run(scenario.as_ref(), &cfg, &Progress::hidden())?;
        let t = started.elapsed().as_secs_f64();
        output::write_all(&PathBuf::from("sim-out").join(name), scenario.as_ref(), &o)?;
        println!("{}\nsimulated in {t:.2} s", o.summary.to_markdown());
    } else {
        let o = sweep::run(scenario.as_ref(), &cfg, &axes, &Progress::hidden())?;
        let t = started.elapsed().as_secs_f64();
        sweep::write(&PathBuf::from("sim-out").join(format!("{name}-sweep")), &o)?;
        println!("{}\nsimulated in {t:.2} s", o.to_markdown(&[]));
    }
    Ok(())
}
