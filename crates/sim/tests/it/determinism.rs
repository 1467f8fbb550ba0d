use std::collections::BTreeMap;

use peerex_sim::output::write_all;
use peerex_sim::progress::Progress;
use peerex_sim::registry;
use peerex_sim::runner::{self, Config};

fn config(threads: usize, seed: u64) -> Config {
    Config { days: Some(30), runs: Some(4), seed, threads: Some(threads), options: BTreeMap::new() }
}

#[test]
fn the_same_seed_gives_byte_identical_csv_and_json_with_one_and_two_threads() {
    // Every registered scenario (arbiters at a smaller size: it is the slowest per day).
    for name in registry::names() {
        let sc = registry::find(name).unwrap();
        let config = |threads: usize, seed: u64| {
            let mut c = config(threads, seed);
            if name == "arbiters" {
                (c.days, c.runs) = (Some(3), Some(3));
            }
            c
        };
        let one = runner::run(sc.as_ref(), &config(1, 7), &Progress::hidden()).unwrap();
        let two = runner::run(sc.as_ref(), &config(2, 7), &Progress::hidden()).unwrap();
        let three = runner::run(sc.as_ref(), &config(3, 7), &Progress::hidden()).unwrap();
        assert_eq!(one.csv(), two.csv(), "{name}: CSV differs between 1 and 2 threads");
        assert_eq!(one.csv(), three.csv(), "{name}: CSV differs between 1 and 3 threads");
        assert_eq!(one.summary.to_json().unwrap(), two.summary.to_json().unwrap(), "{name}: JSON differs");
        // And the files written are the same bytes.
        let base = std::env::temp_dir().join(format!("peerex-det-{}-{name}", std::process::id()));
        let w1 = write_all(&base.join("t1"), sc.as_ref(), &one).unwrap();
        let w2 = write_all(&base.join("t2"), sc.as_ref(), &two).unwrap();
        assert_eq!(std::fs::read(&w1.csv).unwrap(), std::fs::read(&w2.csv).unwrap());
        assert_eq!(std::fs::read(&w1.summary_json).unwrap(), std::fs::read(&w2.summary_json).unwrap());
        std::fs::remove_dir_all(&base).unwrap();
        // A different seed gives a different experiment.
        let other = runner::run(sc.as_ref(), &config(2, 8), &Progress::hidden()).unwrap();
        assert_ne!(one.csv(), other.csv(), "{name}: seed ignored");
    }
}

#[test]
fn a_run_does_not_depend_on_how_many_runs_there_are() {
    let sc = registry::find("worker-funder").unwrap();
    let mut small = config(2, 11);
    small.runs = Some(2);
    let a = runner::run(sc.as_ref(), &small, &Progress::hidden()).unwrap();
    let b = runner::run(sc.as_ref(), &config(2, 11), &Progress::hidden()).unwrap();
    // Compared as CSV text: the rows hold NaN (undefined values), and NaN != NaN.
    let run1 = |o: &runner::Outcome| peerex_sim::csv::render(&o.columns, &o.outputs[1..2]);
    assert_eq!(run1(&a), run1(&b));
    assert_eq!(a.outputs[1].metrics.len(), b.outputs[1].metrics.len());
}

#[test]
fn csv_has_one_row_per_day_run_and_entity() {
    let sc = registry::find("worker-funder").unwrap();
    let mut cfg = config(2, 3);
    cfg.days = Some(5);
    cfg.runs = Some(3);
    let o = runner::run(sc.as_ref(), &cfg, &Progress::hidden()).unwrap();
    let csv = o.csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "day,run,entity,opened,closed,closed_total,open,contracts,settled,fixed_won,fix_rate,open_age,\
         time_to_close,funder_spent,balance,earnings,jobs_done,jobs_failed"
    );
    // 2 projects + 10 workers, x 5 days x 3 runs.
    assert_eq!(lines.clone().count(), 12 * 5 * 3);
    let first = lines.next().unwrap();
    assert!(first.starts_with("0,0,correlatedPay,10,"), "{first}");
    let worker_row = csv.lines().find(|l| l.starts_with("0,0,worker01,")).unwrap();
    assert!(worker_row.starts_with("0,0,worker01,,,,,,,,,,,,"), "{worker_row}");
    // Every row has the header's number of fields.
    assert!(csv.lines().all(|l| l.split(',').count() == 18));
}

#[test]
fn unknown_options_and_zero_days_are_refused() {
    let sc = registry::find("random-traders").unwrap();
    let mut cfg = config(1, 1);
    cfg.options.insert("agnets".into(), "3".into());
    let err = runner::run(sc.as_ref(), &cfg, &Progress::hidden()).unwrap_err().to_string();
    assert!(err.contains("no option \"agnets\""), "{err}");
    let mut cfg = config(1, 1);
    cfg.days = Some(0);
    assert!(runner::run(sc.as_ref(), &cfg, &Progress::hidden()).is_err());
    let mut cfg = config(1, 1);
    cfg.options.insert("close_prob".into(), "2".into());
    let err = runner::run(sc.as_ref(), &cfg, &Progress::hidden()).unwrap_err();
    assert!(format!("{err:#}").contains("close_prob"), "{err:#}");
}

#[test]
fn sweeps_are_byte_identical_with_one_and_two_threads() {
    use peerex_sim::sweep::{self, Axis};
    // Every registered scenario that has options, swept over two values of one of them (the
    // first option with two valid values named here), plus a two-key grid of worker-funder.
    let grids: Vec<(&str, Vec<Axis>, u32)> = vec![
        ("worker-funder", vec![axis("workers", &["3", "10"]), axis("rule", &["reward", "risk-averse"])], 20),
        ("random-traders", vec![axis("agents", &["5", "10"])], 10),
        ("arbiters", vec![axis("b", &["50", "100"])], 2),
        ("liquidity", vec![axis("b", &["30", "100"]), axis("traders", &["5", "10"])], 5),
        ("resource-market", vec![axis("start_u", &["0.5", "2"])], 20),
    ];
    for (name, axes, days) in grids {
        let sc = registry::find(name).unwrap();
        let cfg = |threads: usize| Config {
            days: Some(days),
            runs: Some(3),
            seed: 5,
            threads: Some(threads),
            options: BTreeMap::new(),
        };
        let one = sweep::run(sc.as_ref(), &cfg(1), &axes, &Progress::hidden()).unwrap();
        let two = sweep::run(sc.as_ref(), &cfg(2), &axes, &Progress::hidden()).unwrap();
        assert_eq!(one.csv(), two.csv(), "{name}: sweep CSV differs between 1 and 2 threads");
        assert_eq!(one.to_json().unwrap(), two.to_json().unwrap(), "{name}: sweep JSON differs");
        let cells: usize = axes.iter().map(|a| a.values.len()).product();
        assert_eq!(one.cells.len(), cells);
        // Every cell's run r is the single run r with the cell's options (common random numbers).
        let mut opts = BTreeMap::new();
        for (a, v) in axes.iter().zip(&one.cells[1].values) {
            opts.insert(a.key.clone(), v.clone());
        }
        let single = runner::run(sc.as_ref(), &Config { options: opts, ..cfg(2) }, &Progress::hidden()).unwrap();
        assert_eq!(
            serde_json::to_value(&single.summary.metrics).unwrap(),
            serde_json::to_value(
                one.cells[1].metrics.iter().map(|(k, v)| (k.clone(), v.stat.clone())).collect::<BTreeMap<_, _>>()
            )
            .unwrap(),
            "{name}: a sweep cell differs from the same single experiment"
        );
        if name == "worker-funder" {
            let base = std::env::temp_dir().join(format!("peerex-sweep-det-{}", std::process::id()));
            let w1 = sweep::write(&base.join("t1"), &one).unwrap();
            let w2 = sweep::write(&base.join("t2"), &two).unwrap();
            assert_eq!(w1.plots.len(), w2.plots.len());
            for (a, b) in w1.plots.iter().zip(&w2.plots).filter(|(a, _)| a.extension().is_some_and(|e| e == "svg")) {
                assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "{}", a.display());
            }
            assert_eq!(std::fs::read(&w1.csv).unwrap(), std::fs::read(&w2.csv).unwrap());
            std::fs::remove_dir_all(&base).unwrap();
        }
    }
}

fn axis(key: &str, values: &[&str]) -> peerex_sim::sweep::Axis {
    peerex_sim::sweep::Axis { key: key.to_owned(), values: values.iter().map(|v| (*v).to_owned()).collect() }
}
