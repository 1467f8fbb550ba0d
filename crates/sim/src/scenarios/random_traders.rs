//! Scenario `random-traders` (seed 000, section 2.2): agents with no knowledge trade on five
//! issues that share one maturation. Each step a random agent places a buy offer for a random
//! side of a random issue at a price drawn from 0.00-1.00 (whole cents) and a volume of 30-50.
//!
//! Only buy offers are placed, so every trade is an *expand* (BF x BU): new units join the one
//! series of their issue and maturation. The expected shape: the number of open contracts
//! (series with outstanding units) converges to five, while the volume per contract keeps
//! growing. On the last day each issue is closed with probability `close_prob` and the series
//! mature and settle at the end of it, through the engine's normal path.

use std::collections::BTreeMap;

use peerex_engine::event::Event;
use peerex_engine::exchange::types::{OfferKind, OfferStatus, Outcome, SeriesStatus};
use peerex_engine::{Amount, Command, Engine, OfferCommand, Op, Price, Timed};
use rand::Rng;

use crate::clock::{at, at_ms};
use crate::drive::apply;
use crate::options;
use crate::scenario::{PlotSpec, Row, RunCtx, RunOutput, Scenario};

pub struct RandomTraders;

#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub agents: u32,
    pub credits: i64,
    pub issues: u32,
    pub steps_per_day: u32,
    /// Days an unmatched offer rests before it expires (never past the maturation).
    pub offer_life_days: u32,
    pub close_prob: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { agents: 10, credits: 100_000, issues: 5, steps_per_day: 10, offer_life_days: 1, close_prob: 0.5 }
    }
}

const COLUMNS: [&str; 6] = ["open_contracts", "units_per_contract", "units", "trades", "open_offers", "refused"];
const MS_PER_DAY: i64 = 86_400_000;

fn params(opts: &BTreeMap<String, String>) -> anyhow::Result<Params> {
    let d = Params::default();
    let p = Params {
        agents: options::get(opts, "agents", d.agents)?,
        credits: options::get(opts, "credits", d.credits)?,
        issues: options::get(opts, "issues", d.issues)?,
        steps_per_day: options::get(opts, "steps_per_day", d.steps_per_day)?,
        offer_life_days: options::get(opts, "offer_life_days", d.offer_life_days)?,
        close_prob: options::get(opts, "close_prob", d.close_prob)?,
    };
    if p.agents == 0 || p.issues == 0 || p.steps_per_day == 0 || p.offer_life_days == 0 {
        anyhow::bail!("agents, issues, steps_per_day and offer_life_days must be at least 1");
    }
    if p.agents > 10_000 || p.issues > 10_000 || p.steps_per_day > 100_000 || p.offer_life_days > 365 {
        anyhow::bail!("at most 10000 agents and issues, 100000 steps per day and 365 offer_life_days");
    }
    if !(1..=1_000_000_000).contains(&p.credits) || !(0.0..=1.0).contains(&p.close_prob) {
        anyhow::bail!("credits must lie in 1..=1e9 and close_prob in [0, 1]");
    }
    Ok(p)
}

/// One run.
pub fn simulate(ctx: RunCtx) -> anyhow::Result<RunOutput> {
    let p = params(&ctx.options)?;
    let mut rng = ctx.rng;
    let mut engine = Engine::new();
    let mut out: Vec<Timed> = Vec::new();
    let maturation = at(ctx.days, 0);
    let agents: Vec<String> = (0..p.agents).map(|i| format!("agent{:02}", i + 1)).collect();
    let issues: Vec<String> = (0..p.issues).map(|i| format!("demo/app#{}", i + 1)).collect();
    for a in &agents {
        let op = Op::Deposit { user: a.clone(), amount: Amount::credits(p.credits) };
        apply(&mut engine, &mut out, at(0, 0), op)?;
    }
    for i in &issues {
        let op = Op::OpenIssue { issue: i.clone(), title: String::new(), labels: vec![] };
        apply(&mut engine, &mut out, at(0, 0), op)?;
    }
    out.clear();
    let step_ms = MS_PER_DAY / (i64::from(p.steps_per_day) + 1);
    let mut rows = Vec::new();
    let mut trades_total = 0u64;
    let mut refused_total = 0u64;
    let mut first_day_contracts = f64::NAN;
    for day in 0..ctx.days {
        let mut trades = vec![0u64; issues.len()];
        let mut refused = 0u64;
        for step in 0..p.steps_per_day {
            let now = at_ms(day, step_ms * (i64::from(step) + 1));
            let agent = rng.gen_range(0..agents.len());
            let issue = rng.gen_range(0..issues.len());
            let kind = if rng.gen_bool(0.5) { OfferKind::BuyFixed } else { OfferKind::BuyUnfixed };
            let price = Price::from_bp(rng.gen_range(0..=100u32) * 100).unwrap_or(Price::ZERO);
            let volume = rng.gen_range(30..=50u64);
            let expiration = at_ms(day + p.offer_life_days, step_ms * (i64::from(step) + 1)).min(maturation);
            let op = Op::Offer(OfferCommand {
                id: format!("d{day}s{step}"),
                user: agents[agent].clone(),
                kind,
                issue: issues[issue].clone(),
                maturation,
                price,
                volume,
                aon: false,
                poolable: false,
                expiration: Some(expiration),
            });
            match engine.apply(Command::new(now, op), &mut out) {
                Ok(()) => {}
                // An agent out of free funds just does not trade this step.
                Err(e) if e.code() == "insufficient_funds" => refused += 1,
                Err(e) => anyhow::bail!("the engine refused a random offer: {e}"),
            }
            for t in out.drain(..) {
                if matches!(t.event, Event::Traded { .. }) {
                    trades[issue] += 1;
                }
            }
        }
        // Book-keeping before the end of the day (on the last day: before settlement).
        let x = engine.exchange();
        let mut per_issue = Vec::with_capacity(issues.len());
        for name in &issues {
            let units = x
                .issue_id(name)
                .and_then(|i| x.series_id(i, maturation))
                .and_then(|s| x.series(s))
                .filter(|s| s.status == SeriesStatus::Open)
                .map_or(0, |s| s.units);
            per_issue.push(units);
        }
        let mut open_offers = vec![0u64; issues.len()];
        for (_, o) in x.all_offers() {
            if o.status == OfferStatus::Open {
                if let Some(s) = x.series(o.series) {
                    let idx = x.issue_name(s.issue).rsplit('#').next().and_then(|n| n.parse::<usize>().ok());
                    if let Some(c) = idx.and_then(|n| open_offers.get_mut(n.wrapping_sub(1))) {
                        *c += 1;
                    }
                }
            }
        }
        let open_contracts = per_issue.iter().filter(|&&u| u > 0).count();
        let units: u64 = per_issue.iter().sum();
        let per_contract = if open_contracts == 0 { f64::NAN } else { units as f64 / open_contracts as f64 };
        if day == 0 {
            first_day_contracts = open_contracts as f64;
        }
        rows.push(Row {
            day,
            entity: "market".into(),
            values: vec![
                open_contracts as f64,
                per_contract,
                units as f64,
                trades.iter().sum::<u64>() as f64,
                open_offers.iter().sum::<u64>() as f64,
                refused as f64,
            ],
        });
        for (i, name) in issues.iter().enumerate() {
            let u = per_issue[i];
            rows.push(Row {
                day,
                entity: name.clone(),
                values: vec![
                    f64::from(u8::from(u > 0)),
                    if u > 0 { u as f64 } else { f64::NAN },
                    u as f64,
                    trades[i] as f64,
                    open_offers[i] as f64,
                    f64::NAN,
                ],
            });
        }
        trades_total += trades.iter().sum::<u64>();
        refused_total += refused;
        if day + 1 == ctx.days {
            for name in &issues {
                if rng.gen_bool(p.close_prob) {
                    let op = Op::CloseIssue { issue: name.clone(), reason: Default::default() };
                    apply(&mut engine, &mut out, at(day, 23), op)?;
                }
            }
        }
        apply(&mut engine, &mut out, at(day + 1, 0), Op::Tick {})?;
        crate::conservation::check_day(&engine, day)?;
    }
    // Settlement happened at the last tick: count outcomes and check that every credit is back
    // with the agents (nothing stuck in escrow or holds).
    let mut fixed = 0u32;
    let mut settled = 0u32;
    for t in &out {
        if let Event::SeriesSettled { outcome, .. } = t.event {
            settled += 1;
            fixed += u32::from(outcome == Outcome::Fixed);
        }
    }
    let total: i64 = agents
        .iter()
        .filter_map(|a| engine.user_id(a))
        .map(|u| {
            let (a, h) = engine.balance(u);
            a.micros() + h.micros()
        })
        .sum();
    let last = rows.iter().rev().find(|r| r.entity == "market").map(|r| r.values.clone()).unwrap_or_default();
    let mut metrics = BTreeMap::new();
    metrics.insert("open_contracts_day0".to_owned(), first_day_contracts);
    metrics.insert("open_contracts_final".to_owned(), last.first().copied().unwrap_or(f64::NAN));
    metrics.insert("units_per_contract_final".to_owned(), last.get(1).copied().unwrap_or(f64::NAN));
    metrics.insert("trades".to_owned(), trades_total as f64);
    metrics.insert("refused_offers".to_owned(), refused_total as f64);
    metrics.insert("series_settled".to_owned(), f64::from(settled));
    metrics.insert("series_won_by_fixed".to_owned(), f64::from(fixed));
    let deposited = i64::from(p.agents) * p.credits * 1_000_000;
    metrics.insert("agent_credits_conserved".to_owned(), f64::from(u8::from(total == deposited)));
    Ok(RunOutput { rows, metrics })
}

impl Scenario for RandomTraders {
    fn name(&self) -> &'static str {
        "random-traders"
    }
    fn description(&self) -> &'static str {
        "seed 000 section 2.2: random buy offers on five issues with one maturation"
    }
    fn default_days(&self) -> u32 {
        30
    }
    fn default_runs(&self) -> u32 {
        5
    }
    fn columns(&self) -> Vec<String> {
        COLUMNS.iter().map(|s| (*s).to_owned()).collect()
    }
    fn run(&self, ctx: RunCtx) -> anyhow::Result<RunOutput> {
        simulate(ctx)
    }
    fn plots(&self) -> Vec<PlotSpec> {
        vec![
            PlotSpec {
                stem: "open_contracts".into(),
                title: "Open contracts (series with outstanding units)".into(),
                column: "open_contracts".into(),
                y_label: "contracts".into(),
                entities: vec!["market".into()],
                log_y: false,
            },
            PlotSpec {
                stem: "units_per_contract".into(),
                title: "Volume per open contract (units)".into(),
                column: "units_per_contract".into(),
                y_label: "units".into(),
                entities: vec![],
                log_y: false,
            },
        ]
    }
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("agents", "number of agents (10)"),
            ("credits", "each agent's deposit (100000)"),
            ("issues", "issues traded, all with one maturation (5)"),
            ("steps_per_day", "random offers per day (10)"),
            ("offer_life_days", "days an unmatched offer rests before expiring (1)"),
            ("close_prob", "probability each issue is closed by maturation (0.5)"),
        ]
    }
}
