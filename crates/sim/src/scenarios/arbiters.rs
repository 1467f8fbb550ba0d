//! Scenario `arbiters` (spec/simulation.md, seed 004): does truthful reporting pay more than
//! manipulation for an arbiter with a stake, with k as the mechanism computes it?
//!
//! Every market runs through the real engine: a binary market with an LMSR maker, traders with
//! noisy private signals trade before the deadline, `arbiters_per_market` arbiters (drawn from a
//! pool) buy positions and then report. One of them, the *deviator*, holds a position of `stake`
//! shares in a random direction. At the deadline the engine is cloned and the market is resolved
//! twice, with the deviator reporting its signal (truthful) and reporting in the direction of its
//! position (manipulating), everything else equal. The difference of the deviator's earnings
//! (position payoff + reward) between the two branches is the gain from truth-telling; the
//! simulation continues with the branch the deviator's drawn strategy picks (it manipulates with
//! probability `lying_share`), so reliabilities evolve from a realistic history.
//!
//! k rules: `computed` is the engine's k = max(floor, max_i 2|n_i|/(m delta)); `fixed_1` (k = 1
//! credit) and `half` (k/2) are counterfactuals from the same run: rewards are linear in k given
//! the reports, so an arbiter's earnings under another k are earnings - reward + reward x k'/k
//! (ignoring the budget: the market's bond is sized for the computed k only).
//!
//! Per-day CSV: entities `truthful` and `manipulating` (the deviator's two branches), with the
//! mean earnings per deviation under each k rule, their running sums, and the day's market
//! statistics (outcome accuracy, mean k, ambiguous and shortfall markets). Summary metrics:
//! `mean_earnings_{truthful,manipulating}_{rule}`, `mean_gain_truthful_{rule}`, `outcome_accuracy`,
//! `mean_k`, `ambiguous_markets`, `shortfall_markets` (always 0 since rewards are admitted only
//! when the budget covers them), `excluded_reports`, `void_markets`; whether fees pay the
//! arbiters: `fees_per_market`, `arbitration_paid_per_market` (rewards + bond shares),
//! `fees_cover_share` (markets whose fees covered that) and `house_cost_per_market` (the
//! creator's subsidy and bond net of what came back).
//!
//! Options (`--opt key=value`): markets_per_day (8), arbiters (10), arbiters_per_market (5),
//! traders (6), stake (10), b (100), fee (0.05), arbiter_accuracy (0.85), trader_accuracy (0.7),
//! lying_share (0.2).

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::{anyhow, Context};
use peerex_engine::{Amount, Command, Engine, Timed, Timestamp};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use crate::scenario::{PlotSpec, Row, RunCtx, RunOutput, Scenario};

pub struct Arbiters;

/// One line for listings (for the framework's `Scenario::description`, once that lands).
pub const DESCRIPTION: &str =
    "seed 004: staked arbiters, truthful vs manipulating, earnings by k rule and outcome accuracy";

/// The options and what they mean (for the framework's `Scenario::options_doc`, once that lands).
pub const OPTIONS: [(&str, &str); 14] = [
    ("markets_per_day", "markets created and resolved per day, 1-12 (default 8)"),
    ("arbiters", "size of the arbiter pool (default 10)"),
    ("arbiters_per_market", "arbiters reporting on each market, at least 3 (default 5)"),
    ("traders", "traders per market (default 6)"),
    ("stake", "the deviator's position in shares (default 10)"),
    ("b", "LMSR liquidity b (default 100)"),
    ("fee", "trading fee rate (default 0.05)"),
    ("arbiter_accuracy", "Pr[an arbiter's signal is right] (default 0.85)"),
    ("trader_accuracy", "Pr[a trader's signal is right] (default 0.7)"),
    ("lying_share", "probability that the deviator manipulates in the simulated history (default 0.2)"),
    ("bond", "the creator's arbitration bond in credits, or auto: k_floor x m + 2 x stake / 0.01, the worst case (default auto)"),
    ("position_cap", "arbiters' position cap in shares, or none (default: stake)"),
    ("fee_mode", "transaction or share (default transaction)"),
    ("robust_prior", "true: eq. 7 also at the prior 1/2, not only the closing price (default true)"),
];

/// The k rules compared.
pub const K_RULES: [&str; 3] = ["computed", "fixed_1", "half"];
/// The per-day CSV's entities: the deviator's earnings when truthful and when manipulating.
pub const STRATEGIES: [&str; 2] = ["truthful", "manipulating"];

#[derive(Clone, Debug)]
struct Params {
    markets_per_day: u32,
    arbiters: usize,
    per_market: usize,
    traders: usize,
    stake: i64,
    b: String,
    fee: String,
    arbiter_accuracy: f64,
    trader_accuracy: f64,
    lying_share: f64,
    /// None: no bond.
    bond: String,
    position_cap: Option<String>,
    fee_mode: String,
    robust_prior: bool,
}

fn opt<T: FromStr>(o: &BTreeMap<String, String>, key: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match o.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e| anyhow!("option {key}={v:?}: {e}")),
    }
}

impl Params {
    fn from(o: &BTreeMap<String, String>) -> anyhow::Result<Params> {
        let p = Params {
            markets_per_day: opt(o, "markets_per_day", 8)?,
            arbiters: opt(o, "arbiters", 10)?,
            per_market: opt(o, "arbiters_per_market", 5)?,
            traders: opt(o, "traders", 6)?,
            stake: opt(o, "stake", 10)?,
            b: opt(o, "b", "100".to_owned())?,
            fee: opt(o, "fee", "0.05".to_owned())?,
            arbiter_accuracy: opt(o, "arbiter_accuracy", 0.85)?,
            trader_accuracy: opt(o, "trader_accuracy", 0.7)?,
            lying_share: opt(o, "lying_share", 0.2)?,
            bond: opt(o, "bond", "auto".to_owned())?,
            position_cap: None,
            fee_mode: opt(o, "fee_mode", "transaction".to_owned())?,
            robust_prior: opt(o, "robust_prior", true)?,
        };
        let mut p = p;
        p.position_cap = match o.get("position_cap").map(|s| s.trim()) {
            None => Some(p.stake.to_string()),
            Some("none") => None,
            Some(v) => Some(v.to_owned()),
        };
        if p.bond == "auto" {
            // The worst case of eq. 1 with k = max(k_floor, 2 |n| / (m delta)) and delta > 0.01:
            // m arbiters each owed at most k <= max(k_floor, 2 x cap / (m x 0.01)).
            let cap: i64 = p.position_cap.as_deref().map_or(Ok(p.stake), str::parse).unwrap_or(p.stake);
            p.bond = (p.per_market as i64 + 200 * cap.max(p.stake)).to_string();
        }
        if p.per_market < 3 || p.per_market > p.arbiters {
            return Err(anyhow!("arbiters_per_market must lie in 3..=arbiters"));
        }
        if !(1..=12).contains(&p.markets_per_day) {
            return Err(anyhow!("markets_per_day must lie in 1..=12 (each market takes two hours)"));
        }
        Ok(p)
    }
}

/// What one resolution branch gave the deviator.
#[derive(Clone, Copy, Debug, Default)]
struct Branch {
    /// Balance change over the market's life (position + payout + reward).
    earnings: f64,
    reward: f64,
    k: f64,
    outcome: f64,
    shortfall: bool,
    rewarded: bool,
    /// Reports that did not count (budget or ambiguity), and whether the market was void.
    excluded: u32,
    voided: bool,
    /// Every arbiter's reward paid in this market, and the bond shares of an ambiguous one.
    rewards_paid: f64,
    bond_shared: f64,
}

impl Branch {
    /// Earnings under a k rule (counterfactual for the rules other than `computed`).
    fn under(&self, rule: &str) -> f64 {
        let base = self.earnings - self.reward;
        if self.k <= 0.0 {
            return self.earnings;
        }
        match rule {
            "fixed_1" => base + self.reward / self.k,
            "half" => base + self.reward / 2.0,
            _ => self.earnings,
        }
    }
}

struct Sim {
    engine: Engine,
    events: Vec<Timed>,
}

impl Sim {
    fn run(&mut self, at: Timestamp, cmd: Value) -> anyhow::Result<bool> {
        let mut full = cmd;
        full["at"] = json!(at);
        let c = Command::from_json(&full.to_string()).map_err(|e| anyhow!("bad command {full}: {e}"))?;
        let ok = self.engine.apply(c, &mut self.events).is_ok();
        if cfg!(debug_assertions) {
            self.engine.check_invariants().map_err(|e| anyhow!("invariant broken after {full}: {e}"))?;
        }
        Ok(ok)
    }

    fn available(&self, user: &str) -> f64 {
        self.engine.user_id(user).map_or(0.0, |u| self.engine.balance(u).0.micros() as f64 / 1e6)
    }

    fn price(&self, market: &str) -> f64 {
        let m = self.engine.markets();
        m.market_id(market).and_then(|id| m.price(id, 1).ok()).unwrap_or(0.5)
    }

    /// Market events of `market` emitted since `from`, rendered.
    fn market_events(&self, from: usize, market: &str) -> Vec<Value> {
        self.events
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .map(|e| self.engine.render_event(e))
            .filter(|e| e["type"] == "market" && e["market"] == market)
            .collect()
    }
}

fn credits(v: &Value) -> f64 {
    v.as_str().and_then(|s| Amount::parse(s).ok()).map_or(0.0, |a| a.micros() as f64 / 1e6)
}

/// A binary signal with Pr[1 | X=1] = acc, Pr[1 | X=0] = 1 - acc.
fn signal(rng: &mut impl Rng, truth: bool, acc: f64) -> bool {
    if rng.gen_bool(acc) {
        truth
    } else {
        !truth
    }
}

impl Scenario for Arbiters {
    fn description(&self) -> &'static str {
        DESCRIPTION
    }
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        OPTIONS.to_vec()
    }
    fn name(&self) -> &'static str {
        "arbiters"
    }
    fn default_days(&self) -> u32 {
        30
    }
    fn default_runs(&self) -> u32 {
        5
    }
    fn columns(&self) -> Vec<String> {
        let mut c = vec!["markets".to_owned(), "accuracy".to_owned(), "deviations".to_owned()];
        for rule in K_RULES {
            c.push(format!("earnings_{rule}"));
            c.push(format!("cum_earnings_{rule}"));
        }
        c.push("k".to_owned());
        c.push("ambiguous".to_owned());
        c.push("shortfalls".to_owned());
        c
    }

    fn run(&self, mut ctx: RunCtx) -> anyhow::Result<RunOutput> {
        let p = Params::from(&ctx.options)?;
        let rng = &mut ctx.rng;
        let mut sim = Sim { engine: Engine::new(), events: Vec::new() };
        let start = Timestamp::parse("2027-01-01T00:00:00Z").context("start time")?;
        let arbiters: Vec<String> = (0..p.arbiters).map(|i| format!("arbiter{i}")).collect();
        let traders: Vec<String> = (0..p.traders).map(|i| format!("trader{i}")).collect();
        sim.run(start, json!({"op":"deposit","user":"house","amount":"1000000000"}))?;
        for u in arbiters.iter().chain(&traders) {
            sim.run(start, json!({"op":"deposit","user":u,"amount":"100000"}))?;
        }

        let mut out = RunOutput::default();
        // [strategy: truthful, manipulating][k rule]
        let mut cum = [[0.0f64; 3]; 2];
        let (mut all_markets, mut all_correct, mut all_dev) = (0u32, 0.0f64, 0u32);
        let (mut truthful_sum, mut lying_sum, mut truthful_n, mut lying_n) = ([0.0f64; 3], [0.0f64; 3], 0u32, 0u32);
        let (mut ambiguous, mut shortfalls, mut k_sum, mut k_n) = (0u32, 0u32, 0.0f64, 0u32);
        let (mut excluded, mut voided) = (0u32, 0u32);
        // Does the fee pool pay the arbiters? Per market: fees, rewards + bond shares, and what
        // the creator ("house") put in net (subsidy and bond minus what came back).
        let (mut fees_sum, mut rewards_sum, mut covered, mut house_sum) = (0.0f64, 0.0f64, 0u32, 0.0f64);

        for day in 0..ctx.days {
            let mut day_earn = [[0.0f64; 3]; 2];
            let (mut day_correct, mut day_dev, mut day_k, mut day_amb, mut day_short) = (0.0f64, 0u32, 0.0, 0u32, 0u32);
            for slot in 0..p.markets_per_day {
                let t0 = start.plus_days(i64::from(day)).plus_millis(i64::from(slot) * 2 * 3_600_000 + 60_000);
                let at = |min: i64| t0.plus_millis(min * 60_000);
                let name = format!("d{day}m{slot}");
                let truth = rng.gen_bool(0.5);
                let house_before = sim.available("house");
                sim.run(
                    at(0),
                    json!({"op":"create_market","id":name,"user":"house","statement":"simulated event",
                        "deadline":at(60),"report_deadline":at(100),"b":p.b,"fee":p.fee,"initial_shares":"0",
                        "seed":u64::from(day) * 100 + u64::from(slot),"bond":p.bond,"fee_mode":p.fee_mode,
                        "position_cap":p.position_cap,"robust_prior":p.robust_prior}),
                )?;
                // Traders: belief from a private signal (prior 1/2), trade 10 shares toward it.
                for (i, tr) in traders.iter().enumerate() {
                    let s = signal(rng, truth, p.trader_accuracy);
                    let belief = if s { p.trader_accuracy } else { 1.0 - p.trader_accuracy };
                    let shares = if belief > sim.price(&name) { "10" } else { "-10" };
                    sim.run(
                        at(1 + i as i64),
                        json!({"op":"trade","id":format!("{name}-{tr}"),"user":tr,"market":name,"shares":shares}),
                    )?;
                }
                // Arbiters of this market; the first is the deviator with the full stake.
                let mut chosen: Vec<&String> = arbiters.iter().collect();
                chosen.shuffle(rng);
                chosen.truncate(p.per_market);
                let mut before = BTreeMap::new();
                let mut long = Vec::new();
                for (i, a) in chosen.iter().enumerate() {
                    before.insert(a.as_str(), sim.available(a));
                    let size = if i == 0 { p.stake } else { rng.gen_range(0..=p.stake) };
                    let is_long = rng.gen_bool(0.5);
                    long.push(is_long);
                    if size > 0 {
                        let shares = if is_long { size } else { -size };
                        sim.run(
                            at(30 + i as i64),
                            json!({"op":"trade","id":format!("{name}-{a}"),"user":a,"market":name,
                                   "shares":shares.to_string()}),
                        )?;
                    }
                }
                let signals: Vec<bool> = chosen.iter().map(|_| signal(rng, truth, p.arbiter_accuracy)).collect();
                let fees: f64 = sim
                    .market_events(0, &name)
                    .iter()
                    .filter(|e| e["what"] == "traded")
                    .map(|e| credits(&e["fee"]))
                    .sum();
                let lies = rng.gen_bool(p.lying_share);
                // Resolve twice from the same state: deviator truthful, deviator manipulating.
                let mut branches = Vec::new();
                for manipulate in [false, true] {
                    let mut b = Sim { engine: sim.engine.clone(), events: Vec::new() };
                    for (i, a) in chosen.iter().enumerate() {
                        let mut report = signals.get(i).copied().unwrap_or(false);
                        if i == 0 && manipulate {
                            report = long.first().copied().unwrap_or(true);
                        }
                        b.run(
                            at(61 + i as i64),
                            json!({"op":"report","user":a,"market":name,"value":u8::from(report)}),
                        )?;
                    }
                    b.run(at(110), json!({"op":"tick"}))?;
                    let evs = b.market_events(0, &name);
                    let dev = chosen.first().map(|s| s.as_str()).unwrap_or("");
                    let mut br = Branch {
                        earnings: b.available(dev) - before.get(dev).copied().unwrap_or(0.0),
                        ..Branch::default()
                    };
                    for e in &evs {
                        match e["what"].as_str() {
                            Some("reward") => {
                                br.rewards_paid += credits(&e["paid"]);
                                if e["user"] == dev {
                                    br.reward = credits(&e["paid"]);
                                }
                            }
                            Some("bond_shared") => br.bond_shared += credits(&e["amount"]),
                            Some("arbitration") => {
                                br.k = credits(&e["k"]);
                                br.rewarded = e["rewarded"] == true;
                            }
                            Some("resolved") => br.outcome = e["outcome"].get(1).map_or(0.0, credits),
                            Some("shortfall") => br.shortfall = true,
                            Some("excluded") => br.excluded += 1,
                            Some("voided") => {
                                br.voided = true;
                                br.outcome = 0.5;
                            }
                            _ => {}
                        }
                    }
                    branches.push((b, br));
                }
                let (truthful, lying) = match (branches.first(), branches.get(1)) {
                    (Some(t), Some(l)) => (t.1, l.1),
                    _ => return Err(anyhow!("missing branch")),
                };
                // The deviation only matters when the signal disagrees with the position.
                let differs = signals.first() != long.first();
                for (r, rule) in K_RULES.iter().enumerate() {
                    if differs {
                        for (strategy, branch) in [truthful, lying].iter().enumerate() {
                            let e = branch.under(rule);
                            day_earn[strategy][r] += e;
                            cum[strategy][r] += e;
                        }
                        truthful_sum[r] += truthful.under(rule);
                        lying_sum[r] += lying.under(rule);
                    }
                }
                if differs {
                    day_dev += 1;
                    truthful_n += 1;
                    lying_n += 1;
                }
                let chosen_branch = branches.into_iter().nth(usize::from(lies)).ok_or_else(|| anyhow!("branch"))?;
                let outcome = chosen_branch.1.outcome;
                let correct = if (outcome - 0.5).abs() < 1e-9 {
                    0.5
                } else if (outcome > 0.5) == truth {
                    1.0
                } else {
                    0.0
                };
                day_correct += correct;
                if chosen_branch.1.rewarded {
                    day_k += chosen_branch.1.k;
                    k_sum += chosen_branch.1.k;
                    k_n += 1;
                } else {
                    day_amb += 1;
                }
                day_short += u32::from(chosen_branch.1.shortfall);
                excluded += chosen_branch.1.excluded;
                voided += u32::from(chosen_branch.1.voided);
                let paid = chosen_branch.1.rewards_paid + chosen_branch.1.bond_shared;
                fees_sum += fees;
                rewards_sum += paid;
                covered += u32::from(paid <= fees + 1e-9);
                house_sum += house_before - chosen_branch.0.available("house");
                sim.engine = chosen_branch.0.engine;
                sim.events.clear();
            }
            let n = f64::from(p.markets_per_day);
            all_markets += p.markets_per_day;
            all_correct += day_correct;
            all_dev += day_dev;
            ambiguous += day_amb;
            shortfalls += day_short;
            let rewarded = p.markets_per_day - day_amb;
            for (strategy, entity) in STRATEGIES.iter().enumerate() {
                let mut values = vec![n, day_correct / n, f64::from(day_dev)];
                for r in 0..K_RULES.len() {
                    let e = day_earn.get(strategy).map_or(0.0, |x| x[r]);
                    values.push(if day_dev > 0 { e / f64::from(day_dev) } else { 0.0 });
                    values.push(cum.get(strategy).map_or(0.0, |x| x[r]));
                }
                values.push(if rewarded > 0 { day_k / f64::from(rewarded) } else { 0.0 });
                values.push(f64::from(day_amb));
                values.push(f64::from(day_short));
                out.rows.push(Row { day, entity: (*entity).to_owned(), values });
            }
        }
        let m = &mut out.metrics;
        m.insert("markets".into(), f64::from(all_markets));
        m.insert("outcome_accuracy".into(), all_correct / f64::from(all_markets.max(1)));
        m.insert("deviations".into(), f64::from(all_dev));
        m.insert("ambiguous_markets".into(), f64::from(ambiguous));
        m.insert("shortfall_markets".into(), f64::from(shortfalls));
        m.insert("excluded_reports".into(), f64::from(excluded));
        m.insert("void_markets".into(), f64::from(voided));
        m.insert("mean_k".into(), if k_n > 0 { k_sum / f64::from(k_n) } else { 0.0 });
        let markets = f64::from(all_markets.max(1));
        m.insert("fees_per_market".into(), fees_sum / markets);
        m.insert("arbitration_paid_per_market".into(), rewards_sum / markets);
        m.insert("fees_cover_share".into(), f64::from(covered) / markets);
        m.insert("house_cost_per_market".into(), house_sum / markets);
        for (r, rule) in K_RULES.iter().enumerate() {
            let t = if truthful_n > 0 { truthful_sum[r] / f64::from(truthful_n) } else { 0.0 };
            let l = if lying_n > 0 { lying_sum[r] / f64::from(lying_n) } else { 0.0 };
            m.insert(format!("mean_earnings_truthful_{rule}"), t);
            m.insert(format!("mean_earnings_manipulating_{rule}"), l);
            m.insert(format!("mean_gain_truthful_{rule}"), t - l);
        }
        Ok(out)
    }

    fn plots(&self) -> Vec<PlotSpec> {
        let plot = |rule: &str| PlotSpec {
            stem: format!("arbiters-earnings-{rule}"),
            title: format!("Staked arbiter's cumulative earnings by strategy (k rule: {rule})"),
            column: format!("cum_earnings_{rule}"),
            y_label: "credits".to_owned(),
            entities: Vec::new(),
            log_y: false,
        };
        let mut v: Vec<PlotSpec> = K_RULES.iter().map(|r| plot(r)).collect();
        v.push(PlotSpec {
            stem: "arbiters-accuracy".to_owned(),
            title: "Share of markets whose outcome matched the truth".to_owned(),
            column: "accuracy".to_owned(),
            y_label: "share".to_owned(),
            entities: vec!["truthful".to_owned()],
            log_y: false,
        });
        v
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;

    fn run(seed: u64, days: u32, opts: &[(&str, &str)]) -> RunOutput {
        let ctx = RunCtx {
            run: 0,
            days,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            options: opts.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        Arbiters.run(ctx).unwrap()
    }

    #[test]
    fn truthful_out_earns_manipulation_with_k_as_computed() {
        // Rewards are noisy (a peer's report); 30 days give about 120 deviations.
        let out = run(7, 30, &[]);
        let m = &out.metrics;
        assert!(m["deviations"] >= 10.0, "{m:?}");
        let t = m["mean_earnings_truthful_computed"];
        let l = m["mean_earnings_manipulating_computed"];
        assert!(t > l, "truthful {t} vs manipulating {l}: {m:?}");
        // With k fixed at 1 credit the stake dominates: manipulation pays.
        assert!(m["mean_gain_truthful_fixed_1"] < 0.0, "{m:?}");
        assert!(m["outcome_accuracy"] > 0.8, "{m:?}");
        assert_eq!(out.rows.len(), 60);
        assert_eq!(m["shortfall_markets"], 0.0);
        // The last day's cumulative earnings agree with the means.
        let last = |entity: &str| out.rows.iter().rev().find(|r| r.entity == entity).unwrap().values[4];
        assert!(last("truthful") > last("manipulating"));
        assert_eq!(out.rows[0].values.len(), Arbiters.columns().len());
    }

    #[test]
    fn runs_are_reproducible() {
        let a = run(3, 2, &[("markets_per_day", "3")]);
        let b = run(3, 2, &[("markets_per_day", "3")]);
        assert_eq!(a, b);
    }

    #[test]
    fn bad_options_are_refused() {
        let ctx = RunCtx {
            run: 0,
            days: 1,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(1),
            options: [("arbiters_per_market".to_owned(), "2".to_owned())].into_iter().collect(),
        };
        assert!(Arbiters.run(ctx).is_err());
    }
}
