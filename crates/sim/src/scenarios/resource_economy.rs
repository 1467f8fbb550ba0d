//! Scenario `resource-economy` (spec/simulation.md, seed 003 section 5.2): 100 agents with CES
//! utility over the resources they keep and the backup capacity they buy; the server's price
//! update (crates/engine/src/resources/price_update.rs, the very code the engine runs) moves
//! (p_U, p_D) toward the buffer equilibrium. Reports max |e_X| per day.
//!
//! The agent model (design, where the seed is silent):
//! * endowment omega = (space, upload, download) per day; current usage u (GB stored) with a
//!   service profile theta_B, theta_R, so the service demand is d_i = u (theta_B, 1, theta_R)
//!   and the resource demand A d_i (fixed: what users already store does not move with prices);
//! * the agent chooses what it keeps K (0 <= K <= omega) and its backup capacity c (c >= u:
//!   seed eq. (3), it can always afford what it stores) to maximise the CES utility
//!   (sum_j w_j x_j^rho)^(1/rho) over x = (K_S, K_U, K_D, c) subject to
//!   p.K + Q_i c = p.omega, where Q_i is its capacity price (spec/resources.md);
//! * the solution is exact: x_j = clip((w_j / (lambda pi_j))^sigma, lo_j, hi_j) with the one
//!   multiplier lambda found by bisection (the spending is monotone in lambda);
//! * supply S_i = omega - K; the ratio constraints are not applied here (they bind per peer,
//!   not on the aggregate the update sees).
//!
//! Trajectory labels are `<update>/<start>` (plus `daily/` or `epochE/` in the slow experiment)
//! with starts named without dots (the summary splits metric names at the first dot): `up20`
//! = p* x 1.2, `down20` = p* x 0.8, `up20_down20` = (p*_U x 1.2, p*_D x 0.8), `x10`, `div10`
//! = p* x 0.1, `x100`, `x10_div10`.
//!
//! Options: `experiment=near|far|slow|noise` (default near), `update=raw|safeguarded|broyden|all`
//! (default all), `deadband=`, `noise_threshold=` (safeguard tunables; default 1e-9 so that the
//! curves show the convergence order instead of stopping at the engine's 1e-3 deadband),
//! `react=` (share of agents re-solving each day; slow default 0.2), `noise=` (relative
//! measurement noise; noise default 0.005), `epoch=` (days; slow default 7, noise default 1),
//! `average=true` (safeguarded update on the mean of each epoch's observations).

// Small fixed-size vectors and matrices read best with index loops.
#![allow(clippy::needless_range_loop)]

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use peerex_engine::resources::matrix::Technology;
use peerex_engine::resources::price_update::{extended_e, imbalance, Imbalance};
use peerex_engine::resources::price_update::{BroydenUpdater, EpochUpdater, RawUpdater, Safeguards};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::{PlotSpec, Row, RunCtx, RunOutput, Scenario};

pub const AGENTS: usize = 100;
/// A day counts as converged at or below this max |e|.
pub const CONVERGED: f64 = 1e-3;

pub struct ResourceEconomy;

/// One agent's fixed characteristics.
#[derive(Clone, Debug)]
pub struct Agent {
    pub endowment: [f64; 3],
    pub usage: f64,
    pub theta_b: f64,
    pub theta_r: f64,
    pub sigma: f64,
    /// Weights of (K_S, K_U, K_D, c).
    pub weights: [f64; 4],
}

impl Agent {
    pub fn draw(rng: &mut ChaCha8Rng) -> Agent {
        let endowment = [rng.gen_range(50.0..500.0), rng.gen_range(2.0..40.0), rng.gen_range(5.0..80.0)];
        let mut weights = [0.0; 4];
        for w in &mut weights {
            *w = rng.gen_range(0.5..1.5);
        }
        let total: f64 = weights.iter().sum();
        for w in &mut weights {
            *w /= total;
        }
        Agent {
            endowment,
            usage: rng.gen_range(5.0..50.0),
            theta_b: rng.gen_range(0.01..0.1),
            theta_r: rng.gen_range(0.0..0.05),
            sigma: rng.gen_range(1.2..3.0),
            weights,
        }
    }

    /// Service demand (B, S, R) per day.
    pub fn services(&self) -> [f64; 3] {
        [self.theta_b * self.usage, self.usage, self.theta_r * self.usage]
    }

    /// The utility-maximising supply at prices p (exact, bisection on the multiplier).
    pub fn supply(&self, tech: &Technology, p: [f64; 3]) -> [f64; 3] {
        let q = tech.service_prices(p);
        let q_cap = q[1] + self.theta_b * q[0] + self.theta_r * q[2];
        let prices = [p[0], p[1], p[2], q_cap];
        let lo = [0.0, 0.0, 0.0, self.usage];
        let hi = [self.endowment[0], self.endowment[1], self.endowment[2], f64::INFINITY];
        let wealth: f64 = (0..3).map(|j| p[j] * self.endowment[j]).sum();
        if q_cap * self.usage >= wealth {
            // Cannot even afford current usage: supply everything (keeps nothing).
            return self.endowment;
        }
        let x_at = |lambda: f64| -> [f64; 4] {
            let mut x = [0.0; 4];
            for j in 0..4 {
                let v = libm::pow(self.weights[j] / (lambda * prices[j]), self.sigma);
                x[j] = v.clamp(lo[j], hi[j]);
            }
            x
        };
        let spend = |x: &[f64; 4]| (0..4).map(|j| prices[j] * x[j]).sum::<f64>();
        // Bisection on log lambda: spending falls as lambda rises.
        let (mut a, mut b) = (-60.0f64, 60.0f64);
        for _ in 0..200 {
            let mid = 0.5 * (a + b);
            if spend(&x_at(libm::exp(mid))) > wealth {
                a = mid;
            } else {
                b = mid;
            }
            if b - a < 1e-13 {
                break;
            }
        }
        let x = x_at(libm::exp(0.5 * (a + b)));
        [self.endowment[0] - x[0], self.endowment[1] - x[1], self.endowment[2] - x[2]]
    }
}

/// The economy: agents and technology.
pub struct Economy {
    pub agents: Vec<Agent>,
    pub tech: Technology,
}

impl Economy {
    pub fn draw(rng: &mut ChaCha8Rng, n: usize) -> Economy {
        Economy { agents: (0..n).map(|_| Agent::draw(rng)).collect(), tech: Technology::default() }
    }

    pub fn demand(&self) -> [f64; 3] {
        let mut d = [0.0; 3];
        for a in &self.agents {
            let r = self.tech.resource_demand(a.services());
            for x in 0..3 {
                d[x] += r[x];
            }
        }
        d
    }

    pub fn supplies(&self, p: [f64; 3]) -> Vec<[f64; 3]> {
        self.agents.iter().map(|a| a.supply(&self.tech, p)).collect()
    }

    pub fn g(&self, p: [f64; 3]) -> Option<Imbalance> {
        imbalance(sum(&self.supplies(p)), self.demand())
    }

    /// The buffer equilibrium p* (p_S = 1), by damped Newton in log prices with a
    /// finite-difference Jacobian: the reference the experiments start around.
    pub fn equilibrium(&self) -> Option<[f64; 3]> {
        let mut x = [0.0f64, 0.0]; // log p_U, log p_D
        let p_of = |x: [f64; 2]| [1.0, libm::exp(x[0]), libm::exp(x[1])];
        for _ in 0..200 {
            let m0 = self.g(p_of(x))?;
            if m0.max_abs_e() < 1e-12 {
                return Some(p_of(x));
            }
            let h = 1e-6;
            let mut jac = [[0.0; 2]; 2];
            for c in 0..2 {
                let mut xh = x;
                xh[c] += h;
                let mh = self.g(p_of(xh))?;
                for r in 0..2 {
                    jac[r][c] = (mh.e[r] - m0.e[r]) / h;
                }
            }
            let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
            if det.abs() < 1e-300 {
                return None;
            }
            let step =
                [(jac[1][1] * m0.e[0] - jac[0][1] * m0.e[1]) / det, (-jac[1][0] * m0.e[0] + jac[0][0] * m0.e[1]) / det];
            // Backtrack until max |e| falls.
            let mut t = 1.0;
            loop {
                let xn = [x[0] - t * step[0].clamp(-2.0, 2.0), x[1] - t * step[1].clamp(-2.0, 2.0)];
                if let Some(mn) = self.g(p_of(xn)) {
                    if mn.max_abs_e() < m0.max_abs_e() || t < 1e-6 {
                        x = xn;
                        break;
                    }
                }
                t *= 0.5;
                if t < 1e-9 {
                    return None;
                }
            }
        }
        let p = p_of(x);
        (self.g(p)?.max_abs_e() < 1e-9).then_some(p)
    }
}

fn sum(v: &[[f64; 3]]) -> [f64; 3] {
    let mut s = [0.0; 3];
    for x in v {
        for i in 0..3 {
            s[i] += x[i];
        }
    }
    s
}

/// Which update rule drives a trajectory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateKind {
    Raw,
    Safeguarded,
    Broyden,
}

impl UpdateKind {
    pub fn name(self) -> &'static str {
        match self {
            UpdateKind::Raw => "raw",
            UpdateKind::Safeguarded => "safeguarded",
            UpdateKind::Broyden => "broyden",
        }
    }
}

/// One trajectory's settings.
#[derive(Clone, Debug)]
pub struct Trajectory {
    pub label: String,
    pub start_factor: [f64; 2],
    pub update: UpdateKind,
    /// Share of agents that re-solve each day (1 = all).
    pub react: f64,
    /// Days prices are held (1 = daily updates).
    pub epoch: u32,
    /// Relative measurement noise (standard deviation).
    pub noise: f64,
    /// Average each epoch's observations (instead of the epoch-end day).
    pub average: bool,
}

/// A day of a trajectory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Day {
    pub max_abs_e: f64,
    pub e: [f64; 2],
    pub p_rel: [f64; 2],
}

enum Driver {
    Raw(RawUpdater),
    Safe(EpochUpdater),
    Broyden(BroydenUpdater, u32, u32),
}

/// Simulates one trajectory; stops early (returning the days so far) if the raw update
/// produces a price that is not positive and finite (the economy has no answer for it).
pub fn simulate(
    economy: &Economy,
    p_star: [f64; 3],
    t: &Trajectory,
    days: u32,
    sg: Safeguards,
    rng: &mut ChaCha8Rng,
) -> (Vec<Day>, Option<u32>) {
    let mut p = [1.0, p_star[1] * t.start_factor[0], p_star[2] * t.start_factor[1]];
    let demand = economy.demand();
    let mut supplies = economy.supplies(p);
    let mut driver = match t.update {
        UpdateKind::Raw => Driver::Raw(RawUpdater::default()),
        UpdateKind::Safeguarded if t.average => Driver::Safe(EpochUpdater::averaging(t.epoch, sg)),
        UpdateKind::Safeguarded => Driver::Safe(EpochUpdater::new(t.epoch, sg)),
        UpdateKind::Broyden => Driver::Broyden(BroydenUpdater::new(sg), t.epoch.max(1), 0),
    };
    let mut out = Vec::with_capacity(days as usize);
    for day in 0..days {
        // Agents react to the prices in force (all on day 0; then a share per day).
        if day > 0 {
            for (i, a) in economy.agents.iter().enumerate() {
                if t.react >= 1.0 || rng.gen::<f64>() < t.react {
                    supplies[i] = a.supply(&economy.tech, p);
                }
            }
        }
        let true_s = sum(&supplies);
        // With zero supply of a resource e is infinite; the curve records it as 1e6 (off the chart).
        let e = extended_e(true_s, demand).unwrap_or([f64::NAN; 2]).map(|v| if v.is_finite() { v } else { 1e6 });
        out.push(Day { max_abs_e: e[0].abs().max(e[1].abs()), e, p_rel: [p[1] / p_star[1], p[2] / p_star[2]] });
        // The server measures with noise.
        let mut s = true_s;
        let mut d = demand;
        if t.noise > 0.0 {
            for v in s.iter_mut().chain(d.iter_mut()) {
                *v *= 1.0 + t.noise * gaussian(rng);
            }
        }
        let next = match &mut driver {
            Driver::Raw(u) => u.update(p, s, d),
            Driver::Safe(u) => Some(u.end_of_day(p, s, d).map_or(p, |r| r.prices)),
            Driver::Broyden(u, epoch, k) => {
                *k += 1;
                if *k >= *epoch {
                    *k = 0;
                    Some(u.update(p, s, d).prices)
                } else {
                    Some(p)
                }
            }
        };
        match next {
            Some(n) if n.iter().all(|v| v.is_finite() && *v > 0.0) => p = n,
            _ => return (out, Some(day + 1)),
        }
        if let Driver::Safe(_) | Driver::Broyden(..) = driver {
            debug_assert!(p.iter().all(|v| v.is_finite() && *v > 0.0));
        }
    }
    (out, None)
}

/// Standard normal by Box-Muller with the pure-Rust libm (identical on every machine).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.gen();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Linear-rate and order estimates from a convergence curve: the median of
/// eps(t+1)/eps(t) and of log(eps(t+1)/eps(t)) / log(eps(t)/eps(t-1)) over the days where
/// 1e-10 < eps < 0.05 (the asymptotic phase, above float noise).
pub fn convergence_stats(curve: &[f64]) -> (Option<f64>, Option<f64>) {
    let mut ratios = Vec::new();
    let mut orders = Vec::new();
    for w in curve.windows(3) {
        let (a, b, c) = (w[0], w[1], w[2]);
        let inside = |x: f64| x > 1e-10 && x < 0.05;
        if inside(a) && inside(b) && inside(c) && b < a {
            ratios.push(c / b);
            let den = libm::log(b / a);
            if den < 0.0 {
                orders.push(libm::log(c / b) / den);
            }
        }
    }
    (median(&mut ratios), median(&mut orders))
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

fn opt<T: std::str::FromStr>(o: &BTreeMap<String, String>, key: &str, default: T) -> anyhow::Result<T> {
    match o.get(key) {
        None => Ok(default),
        Some(v) => v.parse().ok().with_context(|| format!("option {key}={v} is not valid")),
    }
}

/// The trajectories of an experiment.
pub fn trajectories(options: &BTreeMap<String, String>) -> anyhow::Result<Vec<Trajectory>> {
    let experiment = options.get("experiment").map_or("near", String::as_str);
    let updates = match options.get("update").map_or("all", String::as_str) {
        "raw" => vec![UpdateKind::Raw],
        "safeguarded" => vec![UpdateKind::Safeguarded],
        "broyden" => vec![UpdateKind::Broyden],
        "all" => vec![UpdateKind::Raw, UpdateKind::Safeguarded, UpdateKind::Broyden],
        other => bail!("update={other}: use raw, safeguarded, broyden or all"),
    };
    let mut out = Vec::new();
    let average = opt(options, "average", false)?;
    let mut add = |label: &str, f: [f64; 2], react: f64, epoch: u32, noise: f64| {
        for &u in &updates {
            out.push(Trajectory {
                label: format!("{}/{label}", u.name()),
                start_factor: f,
                update: u,
                react,
                epoch,
                noise,
                average,
            });
        }
    };
    match experiment {
        "near" => {
            for (l, f) in
                [("up20", [1.2, 1.2]), ("down20", [0.8, 0.8]), ("up20_down20", [1.2, 0.8]), ("down20_up20", [0.8, 1.2])]
            {
                add(l, f, 1.0, 1, 0.0);
            }
        }
        "far" => {
            for (l, f) in
                [("x10", [10.0, 10.0]), ("div10", [0.1, 0.1]), ("x100", [100.0, 100.0]), ("x10_div10", [10.0, 0.1])]
            {
                add(l, f, 1.0, 1, 0.0);
            }
        }
        "slow" => {
            let react = opt(options, "react", 0.2)?;
            let epoch = opt(options, "epoch", 7u32)?;
            for (l, f) in [("up20_down20", [1.2, 0.8]), ("x10", [10.0, 10.0])] {
                add(&format!("daily/{l}"), f, react, 1, 0.0);
                add(&format!("epoch{epoch}/{l}"), f, react, epoch, 0.0);
            }
        }
        "noise" => {
            let noise = opt(options, "noise", 0.005)?;
            let epoch = opt(options, "epoch", 1u32)?;
            for (l, f) in [("up20_down20", [1.2, 0.8]), ("x10", [10.0, 10.0])] {
                add(l, f, 1.0, epoch, noise);
            }
        }
        other => bail!("experiment={other}: use near, far, slow or noise"),
    }
    Ok(out)
}

impl Scenario for ResourceEconomy {
    fn name(&self) -> &'static str {
        "resource-economy"
    }
    fn default_days(&self) -> u32 {
        60
    }
    fn description(&self) -> &'static str {
        "seed 003: 100 CES agents, the price update toward the buffer equilibrium (max |e_X| per day)"
    }
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "experiment",
                "near (p* x 1.2 / 0.8, default), far (x10, x0.1, x100), slow (20% react per day), noise (0.5%)",
            ),
            ("update", "raw (Definition 4), safeguarded, broyden, or all (default)"),
            ("deadband", "rule 1 deadband on |e| (default 1e-9, engine 1e-3)"),
            ("noise_threshold", "rule 6 threshold on |de| (default 1e-9; 5e-4 in the noise experiment)"),
            ("react", "share of agents re-solving each day in the slow experiment (default 0.2)"),
            ("noise", "relative measurement noise in the noise experiment (default 0.005)"),
            ("epoch", "days prices are held (slow: 7 beside daily; noise: default 1)"),
            ("average", "true: update on the mean of each epoch's observations (default false)"),
        ]
    }
    fn default_runs(&self) -> u32 {
        5
    }
    fn columns(&self) -> Vec<String> {
        ["max_abs_e", "e_u", "e_d", "p_u_rel", "p_d_rel"].iter().map(|s| s.to_string()).collect()
    }
    fn plots(&self) -> Vec<PlotSpec> {
        vec![
            PlotSpec {
                stem: "convergence".into(),
                title: "Price update: max |e_X| per day".into(),
                column: "max_abs_e".into(),
                y_label: "max |e_X|".into(),
                entities: vec![],
                log_y: true,
            },
            PlotSpec {
                stem: "price_u".into(),
                title: "p_U / p*_U".into(),
                column: "p_u_rel".into(),
                y_label: "p_U / p*_U".into(),
                entities: vec![],
                log_y: true,
            },
        ]
    }

    fn run(&self, mut ctx: RunCtx) -> anyhow::Result<RunOutput> {
        let trajs = trajectories(&ctx.options)?;
        let noise_default = if ctx.options.get("experiment").is_some_and(|e| e == "noise") { 5e-4 } else { 1e-9 };
        let sg = Safeguards {
            deadband: opt(&ctx.options, "deadband", 1e-9)?,
            noise: opt(&ctx.options, "noise_threshold", noise_default)?,
            ..Safeguards::default()
        };
        let economy = Economy::draw(&mut ctx.rng, AGENTS);
        let p_star = economy.equilibrium().context("no buffer equilibrium found for this economy")?;
        let mut out = RunOutput::default();
        out.metrics.insert("p_star_u".into(), p_star[1]);
        out.metrics.insert("p_star_d".into(), p_star[2]);
        let mut rows: Vec<Row> = Vec::new();
        for t in &trajs {
            // One RNG per trajectory, seeded from the run's stream in a fixed order.
            let mut rng = ChaCha8Rng::seed_from_u64(ctx.rng.gen());
            let (days, diverged) = simulate(&economy, p_star, t, ctx.days, sg, &mut rng);
            let curve: Vec<f64> = days.iter().map(|d| d.max_abs_e).collect();
            for (i, d) in days.iter().enumerate() {
                rows.push(Row {
                    day: i as u32,
                    entity: t.label.clone(),
                    values: vec![d.max_abs_e, d.e[0], d.e[1], d.p_rel[0], d.p_rel[1]],
                });
            }
            let first = curve.iter().position(|e| *e <= CONVERGED);
            let last = curve.last().copied().unwrap_or(f64::NAN);
            let m = &mut out.metrics;
            // A breakdown is the raw update producing a price that is not positive and finite
            // (or an observation it cannot use); after convergence it is the 0/0 of Definition 4
            // once g stops changing.
            m.insert(format!("{}.breakdown", t.label), f64::from(u8::from(diverged.is_some())));
            m.insert(format!("{}.converged", t.label), f64::from(u8::from(last <= CONVERGED)));
            m.insert(format!("{}.days_to_1e-3", t.label), first.map_or(f64::from(ctx.days), |d| d as f64));
            m.insert(format!("{}.final_max_abs_e", t.label), curve.last().copied().unwrap_or(f64::NAN));
            let (rate, order) = convergence_stats(&curve);
            if let Some(r) = rate {
                m.insert(format!("{}.rate", t.label), r);
            }
            if let Some(o) = order {
                m.insert(format!("{}.order", t.label), o);
            }
        }
        rows.sort_by(|a, b| a.day.cmp(&b.day).then_with(|| a.entity.cmp(&b.entity)));
        out.rows = rows;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn economy() -> Economy {
        Economy::draw(&mut ChaCha8Rng::seed_from_u64(7), AGENTS)
    }

    #[test]
    fn agents_solve_their_problem_exactly() {
        let e = economy();
        let p = [1.0, 1.7, 2.3];
        let q = e.tech.service_prices(p);
        for a in &e.agents {
            let s = a.supply(&e.tech, p);
            let k: Vec<f64> = (0..3).map(|j| a.endowment[j] - s[j]).collect();
            for j in 0..3 {
                assert!(k[j] >= -1e-9 && k[j] <= a.endowment[j] + 1e-9, "box bounds");
            }
            // Budget: what is kept plus the capacity bought exhausts the endowment's value.
            let q_cap = q[1] + a.theta_b * q[0] + a.theta_r * q[2];
            let wealth: f64 = (0..3).map(|j| p[j] * a.endowment[j]).sum();
            let kept: f64 = (0..3).map(|j| p[j] * k[j]).sum();
            let c = (wealth - kept) / q_cap;
            assert!(c >= a.usage - 1e-6, "capacity covers current usage");
            // No small budget-preserving trade between two goods improves the utility.
            let rho = 1.0 - 1.0 / a.sigma;
            let u = |x: &[f64; 4]| (0..4).map(|j| a.weights[j] * x[j].max(0.0).powf(rho)).sum::<f64>();
            let x = [k[0], k[1], k[2], c];
            let prices = [p[0], p[1], p[2], q_cap];
            let hi = [a.endowment[0], a.endowment[1], a.endowment[2], f64::INFINITY];
            let lo = [0.0, 0.0, 0.0, a.usage];
            for i in 0..4 {
                for j in 0..4 {
                    let mut y = x;
                    let h = 1e-4;
                    y[i] += h / prices[i];
                    y[j] -= h / prices[j];
                    if i != j && y[i] <= hi[i] && y[j] >= lo[j] {
                        assert!(u(&y) <= u(&x) + 1e-9, "moving spend from good {j} to {i} helps");
                    }
                }
            }
        }
    }

    #[test]
    fn equilibrium_is_a_root_and_safeguards_converge_where_raw_breaks() {
        let e = economy();
        let p_star = e.equilibrium().unwrap();
        assert!(e.g(p_star).unwrap().max_abs_e() < 1e-9);
        let sg = Safeguards { deadband: 1e-9, noise: 1e-9, ..Safeguards::default() };
        let near = Trajectory {
            label: "near".into(),
            start_factor: [1.2, 0.8],
            update: UpdateKind::Safeguarded,
            react: 1.0,
            epoch: 1,
            noise: 0.0,
            average: false,
        };
        let (days, broke) = simulate(&e, p_star, &near, 15, sg, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(broke.is_none());
        assert!(days.last().unwrap().max_abs_e < 1e-6, "{:?}", days.last());
        let far = Trajectory { start_factor: [10.0, 10.0], ..near.clone() };
        let (days, broke) = simulate(&e, p_star, &far, 40, sg, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(broke.is_none() && days.last().unwrap().max_abs_e < 1e-6);
        let raw_far = Trajectory { update: UpdateKind::Raw, ..far };
        let (_, broke) = simulate(&e, p_star, &raw_far, 40, sg, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(broke.is_some(), "the raw update has no answer when nobody supplies space");
    }

    #[test]
    fn runs_are_deterministic() {
        let mut options = BTreeMap::new();
        options.insert("experiment".to_string(), "noise".to_string());
        options.insert("update".to_string(), "safeguarded".to_string());
        let ctx = || RunCtx { run: 0, days: 10, rng: ChaCha8Rng::seed_from_u64(3), options: options.clone() };
        let a = ResourceEconomy.run(ctx()).unwrap();
        let b = ResourceEconomy.run(ctx()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.rows.len(), 2 * 10);
    }

    #[test]
    fn convergence_stats_tell_linear_from_superlinear() {
        let linear: Vec<f64> = (0..12).map(|i| 0.04 * 0.5f64.powi(i)).collect();
        let (rate, order) = convergence_stats(&linear);
        assert!((rate.unwrap() - 0.5).abs() < 1e-9 && (order.unwrap() - 1.0).abs() < 1e-9);
        let quadratic = [1e-2, 1e-4, 1e-8];
        let (_, order) = convergence_stats(&quadratic);
        assert!((order.unwrap() - 2.0).abs() < 1e-9);
    }
}
