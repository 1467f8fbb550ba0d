//! Scenario `worker-funder` (seed 001, "Simulation"; spec/simulation.md): two funders pay for
//! their projects' issues through buy-unfixed offers with opposite price schedules, ten workers
//! pick issues by the price signal, and the engine settles every contract at maturation.

pub mod rules;
pub mod world;

use std::collections::BTreeMap;

use crate::options;
use crate::scenario::{PlotSpec, Row, RunCtx, RunOutput, Scenario};
use rules::RULE_NAMES;
use world::{Market, Params, World, FUNDERS};

pub struct WorkerFunder;

/// The CSV columns. Project rows fill the first group, worker rows the second; the other group
/// is empty.
const PROJECT_COLUMNS: [&str; 11] = [
    "opened",
    "closed",
    "closed_total",
    "open",
    "contracts",
    "settled",
    "fixed_won",
    "fix_rate",
    "open_age",
    "time_to_close",
    "funder_spent",
];
const WORKER_COLUMNS: [&str; 4] = ["balance", "earnings", "jobs_done", "jobs_failed"];

fn params(opts: &BTreeMap<String, String>) -> anyhow::Result<(Params, String)> {
    let d = Params::default();
    let p = Params {
        workers: options::get(opts, "workers", d.workers)?,
        worker_credits: options::get(opts, "worker_credits", d.worker_credits)?,
        funder_credits: options::get(opts, "funder_credits", d.funder_credits)?,
        issues_per_day: options::get(opts, "issues_per_day", d.issues_per_day)?,
        extra_day_prob: options::get(opts, "extra_day_prob", d.extra_day_prob)?,
        volume: options::get(opts, "volume", d.volume)?,
        contract_days: options::get(opts, "contract_days", d.contract_days)?,
        market: match options::get(opts, "market", "futures".to_owned())?.as_str() {
            "futures" => Market::Futures,
            "bounty" => Market::Bounty,
            other => anyhow::bail!("market must be futures or bounty, not {other:?}"),
        },
        resale: options::get(opts, "resale", d.resale)?,
        experts: options::get(opts, "experts", d.experts)?,
        expert_speed: options::get(opts, "expert_speed", d.expert_speed)?,
    };
    if !(0.0..=1.0).contains(&p.experts) || p.expert_speed == 0 || p.expert_speed > 10 {
        anyhow::bail!("experts must lie in [0, 1] and expert_speed in 1..=10");
    }
    if p.resale && p.market == Market::Bounty {
        anyhow::bail!("resale needs a position to sell: it applies to market=futures only");
    }
    if !(0.0..=1.0).contains(&p.extra_day_prob) {
        anyhow::bail!("extra_day_prob must lie in [0, 1], not {}", p.extra_day_prob);
    }
    if p.contract_days > 365 || p.volume > 1_000_000 {
        anyhow::bail!("contract_days at most 365 and volume at most 1000000");
    }
    if p.contract_days == 0 || p.volume == 0 || p.worker_credits <= 0 || p.funder_credits <= 0 {
        anyhow::bail!("contract_days, volume, worker_credits and funder_credits must be positive");
    }
    if p.workers > 10_000
        || p.issues_per_day > 10_000
        || p.worker_credits > 1_000_000_000
        || p.funder_credits > 1_000_000_000_000
    {
        anyhow::bail!(
            "workers and issues_per_day at most 10000, worker_credits at most 1e9, funder_credits at most 1e12"
        );
    }
    let rule: String = options::get(opts, "rule", "reward".to_owned())?;
    Ok((p, rule))
}

/// Simulates one run; also used by tests and the benchmark.
pub fn simulate(ctx: RunCtx) -> anyhow::Result<(World, RunOutput)> {
    let (p, rule_name) = params(&ctx.options)?;
    let rule = rules::by_name(&rule_name)
        .ok_or_else(|| anyhow::anyhow!("unknown rule {rule_name:?}; rules: {}", RULE_NAMES.join(", ")))?;
    let funder_credits = p.funder_credits as f64;
    let worker_credits = p.worker_credits as f64;
    let mut world = World::new(p, rule, ctx.rng)?;
    let mut rows = Vec::with_capacity(ctx.days as usize * (FUNDERS.len() + world.workers.len()));
    let nan_workers = [f64::NAN; WORKER_COLUMNS.len()];
    let nan_projects = [f64::NAN; PROJECT_COLUMNS.len()];
    for day in 0..ctx.days {
        world.step(day)?;
        for (p, f) in FUNDERS.iter().enumerate() {
            let s = &world.stats[p];
            let mut values = vec![
                f64::from(s.day_opened),
                f64::from(s.day_closed),
                f64::from(s.closed),
                f64::from(s.open),
                f64::from(s.day_contracts),
                f64::from(s.day_settled),
                f64::from(s.day_fixed),
                s.fix_rate(),
                s.open_age(day),
                s.time_to_close(),
                funder_credits - world.cash(world.funders[p]),
            ];
            values.extend(nan_workers);
            rows.push(Row { day, entity: f.name.to_owned(), values });
        }
        for w in &world.workers {
            let balance = world.cash(w.user);
            let mut values = nan_projects.to_vec();
            values.extend([balance, balance - worker_credits, f64::from(w.done), f64::from(w.failed)]);
            rows.push(Row { day, entity: w.name.clone(), values });
        }
    }
    let mut metrics = BTreeMap::new();
    let last = ctx.days.saturating_sub(1);
    for (p, f) in FUNDERS.iter().enumerate() {
        let s = &world.stats[p];
        let spent = funder_credits - world.cash(world.funders[p]);
        let mut put = |k: &str, v: f64| metrics.insert(format!("{}.{k}", f.name), v);
        put("issues_opened", f64::from(s.opened));
        put("issues_closed", f64::from(s.closed));
        put("issues_open_at_end", f64::from(s.open));
        put("open_age_at_end", s.open_age(last));
        put("time_to_close", s.time_to_close());
        put("contracts", f64::from(s.contracts));
        put("contracts_settled", f64::from(s.settled));
        put("fixed_won", f64::from(s.fixed));
        put("fix_rate", s.fix_rate());
        for d in 0..3 {
            put(&format!("taken_d{}", d + 1), f64::from(s.taken_by_base[d]));
            put(&format!("failed_d{}", d + 1), f64::from(s.failed_by_base[d]));
        }
        put("funder_spent", spent);
        put("resolution_efficiency", s.resolution_efficiency());
        put("difficult_close_rate", s.difficult_close_rate());
        put("workdays", f64::from(s.workdays));
        put("workdays_per_closed", if s.closed == 0 { f64::NAN } else { f64::from(s.workdays) / f64::from(s.closed) });
        put("positions_listed", f64::from(s.listed));
        put("positions_resold", f64::from(s.resold));
        put("resold_then_fixed", f64::from(s.resold_fixed));
        put("cost_per_closed_issue", if s.closed == 0 { f64::NAN } else { spent / f64::from(s.closed) });
    }
    let balances: Vec<f64> = world.workers.iter().map(|w| world.cash(w.user)).collect();
    let n = balances.len().max(1) as f64;
    metrics.insert("worker_mean_earnings".to_owned(), balances.iter().sum::<f64>() / n - worker_credits);
    metrics.insert("worker_min_balance".to_owned(), balances.iter().copied().fold(f64::INFINITY, f64::min));
    metrics.insert("worker_max_balance".to_owned(), balances.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    metrics.insert("worker_jobs_done".to_owned(), world.workers.iter().map(|w| f64::from(w.done)).sum());
    metrics.insert("worker_jobs_failed".to_owned(), world.workers.iter().map(|w| f64::from(w.failed)).sum());
    let payouts: f64 = world.workers.iter().map(|w| f64::from(w.payouts)).sum();
    // Payouts (contracts won, positions sold) per worker per 30 days, and the mean gap between a
    // worker's payouts.
    metrics.insert("payouts_per_worker_month".to_owned(), payouts / n * 30.0 / f64::from(ctx.days.max(1)));
    metrics.insert(
        "days_between_payouts".to_owned(),
        if payouts == 0.0 { f64::NAN } else { n * f64::from(ctx.days) / payouts },
    );
    metrics.insert("workdays".to_owned(), world.workers.iter().map(|w| f64::from(w.workdays)).sum());
    metrics.insert("resale_profit".to_owned(), world.workers.iter().map(|w| w.resale_profit).sum());
    let closed: u32 = world.stats.iter().map(|s| s.closed).sum();
    let opened: u32 = world.stats.iter().map(|s| s.opened).sum();
    metrics.insert("issues_closed".to_owned(), f64::from(closed));
    metrics
        .insert("close_share".to_owned(), if opened == 0 { f64::NAN } else { f64::from(closed) / f64::from(opened) });
    let hard_open: u32 = world.stats.iter().map(|s| s.opened_by_base[2]).sum();
    let hard_closed: u32 = world.stats.iter().map(|s| s.closed_by_base[2]).sum();
    metrics.insert(
        "difficult_close_rate".to_owned(),
        if hard_open == 0 { f64::NAN } else { f64::from(hard_closed) / f64::from(hard_open) },
    );
    let abandoned: u32 = world.stats.iter().map(|s| s.failed_by_base.iter().sum::<u32>()).sum();
    metrics.insert(
        "resolution_efficiency".to_owned(),
        if closed + abandoned == 0 { f64::NAN } else { f64::from(closed) / f64::from(closed + abandoned) },
    );
    let spent: f64 = (0..FUNDERS.len()).map(|p| funder_credits - world.cash(world.funders[p])).sum();
    metrics
        .insert("funders_spent_per_closed".to_owned(), if closed == 0 { f64::NAN } else { spent / f64::from(closed) });
    Ok((world, RunOutput { rows, metrics }))
}

impl Scenario for WorkerFunder {
    fn name(&self) -> &'static str {
        "worker-funder"
    }
    fn description(&self) -> &'static str {
        "seed 001: 2 funders (correlatedPay, inversePay), 10 workers choosing issues by price"
    }
    fn default_days(&self) -> u32 {
        180
    }
    fn default_runs(&self) -> u32 {
        5
    }
    fn columns(&self) -> Vec<String> {
        PROJECT_COLUMNS.iter().chain(WORKER_COLUMNS.iter()).map(|s| (*s).to_owned()).collect()
    }
    fn run(&self, ctx: RunCtx) -> anyhow::Result<RunOutput> {
        simulate(ctx).map(|(_, out)| out)
    }
    fn plots(&self) -> Vec<PlotSpec> {
        let projects: Vec<String> = FUNDERS.iter().map(|f| f.name.to_owned()).collect();
        let plot = |stem: &str, title: &str, column: &str, y_label: &str, entities: &[String]| PlotSpec {
            stem: stem.into(),
            title: title.into(),
            column: column.into(),
            y_label: y_label.into(),
            entities: entities.to_vec(),
            log_y: false,
        };
        vec![
            plot(
                "closed_issues",
                "Closed issues per project (cumulative, mean over runs)",
                "closed_total",
                "issues closed",
                &projects,
            ),
            plot(
                "fix_rate",
                "Contract fix rate per project (cumulative share won by fixed)",
                "fix_rate",
                "fix rate",
                &projects,
            ),
            plot("open_issues", "Open issues per project", "open", "open issues", &projects),
            plot("time_to_close", "Mean time to close (days, cumulative)", "time_to_close", "days", &projects),
            plot("worker_balances", "Worker balances (credits, mean over runs)", "balance", "credits", &[]),
        ]
    }
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "rule",
                "worker rule set: reward (default), random, risk-averse, health, noprice, study-risk-averse, study-health",
            ),
            ("market", "futures (default) or bounty (funder pays price x volume on completion, worker stakes nothing)"),
            ("resale", "true: a worker who finds it cannot finish in time sells its fixed position on the book (false)"),
            ("experts", "share of workers who are experts (0)"),
            ("expert_speed", "days of work an expert does per day (2)"),
            ("workers", "number of workers (10)"),
            ("worker_credits", "each worker's deposit (1000)"),
            ("funder_credits", "each funder's deposit (1000000000: effectively unlimited)"),
            ("issues_per_day", "issues each funder opens per day (10)"),
            ("extra_day_prob", "probability an issue needs one more day than its base difficulty (0.4)"),
            ("volume", "units per offer (100)"),
            ("contract_days", "days from opening to maturation (3: the end of the day after next)"),
        ]
    }
}
