//! Scenario `liquidity` (spec/simulation.md; seed 002: "How can we increase liquidity in this
//! market?"): the same population of traders with private beliefs about issue outcomes trades
//! through (a) the order book alone (`book`), (b) an LMSR prediction market (`lmsr`) and (c) the
//! order book with the engine's market maker (`maker`: `fund_maker` on every series, an LMSR-priced
//! ladder of ordinary offers re-quoted after every fill), each in its own engine, with the same
//! truths, beliefs and arrival order.
//!
//! The model (design, where the spec is silent):
//! * `issues` binary events (will issue i be closed by the end of day `days`?), each with a true
//!   probability pi_i ~ U(0.1, 0.9); at the end each issue is closed with probability pi_i and
//!   both the series and the linked LMSR market settle through the engine's normal paths;
//! * `traders` traders with 1,000 credits; trader t's belief about issue i is pi_i plus
//!   N(0, `noise`) noise, clipped to [0.02, 0.98];
//! * each day every (trader, issue) pair is active with probability `activity`, in a random
//!   order; an active trader with belief q:
//!   - book: buys fixed at the best ask if it is below q - `half_spread`, buys unfixed at the
//!     best bid if it is above q + `half_spread`, otherwise posts (at random) a bid for fixed at
//!     q - `half_spread` or an ask (buy unfixed) at q + `half_spread`, `volume` units, expiring
//!     at the end of the day (`take=belief`: a taker's limit is q -/+ `half_spread` instead of the
//!     best price, so it walks the book, the maker's ladder included, up to its belief; the rest
//!     rests on the book like any offer);
//!   - lmsr: when the market price p differs from q by more than 0.01, buys YES (or NO) shares
//!     toward q: b (logit q - logit p), at most `volume` shares;
//!   - maker: exactly the book rule; the book now also holds the maker's quotes (`levels` units
//!     per side, subsidy b ln 2 per series from the user `maker`);
//! * the price of an issue is the book's mid when two-sided, else its last trade, else 0.5 (no
//!   information); the LMSR's price is its marginal price. The spread is best ask - best bid
//!   (1 when the book is not two-sided); the LMSR's is the difference between the average prices
//!   of buying and selling `volume` shares.
//!
//! Per-day CSV: one row per setting. Summary metrics `<setting>.<metric>`: traded_share (traders
//! with at least one trade), time_to_first_trade (days from the start, over those who traded),
//! price_error_final and price_error_mean (|price - pi| over issues, at the end / mean over
//! days), spread_mean, trades, maker_loss and subsidy (LMSR: the market creator's loss against
//! b ln 2 per market; maker: the funder's loss after the maker returned what it held at
//! settlement, against the same b ln 2 per series).

use std::collections::BTreeMap;

use anyhow::Context as _;
use peerex_engine::event::Event;
use peerex_engine::exchange::types::{CloseReason, OfferKind};
use peerex_engine::{Amount, Engine, OfferCommand, Op, Price, Timed};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::clock::{at, at_ms};
use crate::drive::apply;
use crate::options;
use crate::scenario::{PlotSpec, Row, RunCtx, RunOutput, Scenario};

pub struct Liquidity;

/// The settings compared, in CSV order.
pub const SETTINGS: [&str; 3] = ["book", "lmsr", "maker"];

const COLUMNS: [&str; 5] = ["traded_share", "price_error", "spread", "trades", "maker_loss"];

#[derive(Clone, Debug)]
pub struct Params {
    pub traders: u32,
    pub issues: u32,
    pub b: f64,
    pub noise: f64,
    pub activity: f64,
    pub half_spread: f64,
    /// Takers walk the book up to their belief (`take=belief`) instead of taking the best price.
    pub take_to_belief: bool,
    pub volume: u64,
    /// Units the maker quotes per side (setting `maker`).
    pub levels: u32,
}

fn params(o: &BTreeMap<String, String>) -> anyhow::Result<Params> {
    let p = Params {
        traders: options::get(o, "traders", 20)?,
        issues: options::get(o, "issues", 5)?,
        b: options::get(o, "b", 100.0)?,
        noise: options::get(o, "noise", 0.15)?,
        activity: options::get(o, "activity", 0.3)?,
        half_spread: options::get(o, "half_spread", 0.05)?,
        take_to_belief: match options::get(o, "take", "best".to_owned())?.as_str() {
            "best" => false,
            "belief" => true,
            other => anyhow::bail!("take={other}: use best or belief"),
        },
        volume: options::get(o, "volume", 10)?,
        levels: options::get(o, "levels", 10)?,
    };
    if !(1..=peerex_engine::exchange::maker::MAX_LEVELS).contains(&p.levels) {
        anyhow::bail!("levels must lie in 1..={}", peerex_engine::exchange::maker::MAX_LEVELS);
    }
    if p.traders == 0 || p.traders > 2_000 || p.issues == 0 || p.issues > 100 {
        anyhow::bail!("traders must lie in 1..=2000 and issues in 1..=100");
    }
    if !(1.0..=100_000.0).contains(&p.b) {
        anyhow::bail!("b must lie in [1, 100000]");
    }
    if !(0.0..=1.0).contains(&p.noise) || !(0.0..=1.0).contains(&p.activity) || !(0.0..0.5).contains(&p.half_spread) {
        anyhow::bail!("noise and activity must lie in [0, 1], half_spread in [0, 0.5)");
    }
    if p.volume == 0 || p.volume > 1_000 {
        anyhow::bail!("volume must lie in 1..=1000");
    }
    Ok(p)
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)
}

fn logit(p: f64) -> f64 {
    libm::log(p / (1.0 - p))
}

fn trader(t: u32) -> String {
    format!("trader{t:04}")
}

fn issue(i: u32) -> String {
    format!("event#{i}")
}

/// One setting's engine and what it has seen.
struct Market {
    setting: usize,
    engine: Engine,
    out: Vec<Timed>,
    /// First trade of each trader (fractional day), by trader index.
    first_trade: Vec<Option<f64>>,
    last_price: Vec<Option<f64>>,
    trades_today: u32,
    trades: u32,
    maker_start: i64,
}

impl Market {
    fn new(setting: usize, p: &Params, days: u32) -> anyhow::Result<Market> {
        let mut m = Market {
            setting,
            engine: Engine::new(),
            out: Vec::new(),
            first_trade: vec![None; p.traders as usize],
            last_price: vec![None; p.issues as usize],
            trades_today: 0,
            trades: 0,
            maker_start: 0,
        };
        let t0 = at(0, 0);
        apply(&mut m.engine, &mut m.out, t0, Op::Deposit { user: "maker".into(), amount: Amount::credits(1_000_000) })?;
        for t in 0..p.traders {
            apply(&mut m.engine, &mut m.out, t0, Op::Deposit { user: trader(t), amount: Amount::credits(1_000) })?;
        }
        for i in 0..p.issues {
            apply(
                &mut m.engine,
                &mut m.out,
                t0,
                Op::OpenIssue { issue: issue(i), title: String::new(), labels: vec![] },
            )?;
        }
        m.maker_start = m.cash("maker");
        if SETTINGS[setting] == "lmsr" {
            for i in 0..p.issues {
                let op: Op = serde_json::from_value(json!({
                    "op": "create_market", "id": format!("m{i}"), "user": "maker", "statement": "closed by the end",
                    "deadline": at(days, 0), "b": format!("{:.6}", p.b), "fee": "0", "issue": issue(i),
                }))
                .context("building create_market")?;
                apply(&mut m.engine, &mut m.out, t0, op)?;
            }
        }
        if SETTINGS[setting] == "maker" {
            for i in 0..p.issues {
                let op = Op::FundMaker {
                    user: "maker".into(),
                    issue: issue(i),
                    maturation: at(days, 0),
                    b: Amount((p.b * 1e6).round() as i64),
                    levels: Some(p.levels),
                };
                apply(&mut m.engine, &mut m.out, t0, op)?;
            }
        }
        m.out.clear();
        Ok(m)
    }

    fn cash(&self, user: &str) -> i64 {
        self.engine.user_id(user).map_or(0, |u| {
            let (a, h) = self.engine.balance(u);
            a.micros() + h.micros()
        })
    }

    fn series(&self, i: u32, days: u32) -> Option<peerex_engine::ids::SeriesId> {
        let x = self.engine.exchange();
        x.issue_id(&issue(i)).and_then(|id| x.series_id(id, at(days, 0)))
    }

    /// (best bid, best ask) on the fixed price.
    fn quotes(&self, i: u32, days: u32) -> (Option<f64>, Option<f64>) {
        let Some(s) = self.series(i, days) else { return (None, None) };
        let d = self.engine.exchange().depth(s, 1);
        let f = |l: Option<&peerex_engine::exchange::views::Level>| l.map(|l| f64::from(l.price.bp()) / 1e4);
        (f(d.bids.first()), f(d.asks.first()))
    }

    fn lmsr_price(&self, i: u32) -> f64 {
        let m = self.engine.markets();
        m.market_id(&format!("m{i}")).and_then(|id| m.price(id, 1).ok()).unwrap_or(0.5)
    }

    /// The issue's price as the market shows it.
    fn price(&self, i: u32, days: u32) -> f64 {
        if SETTINGS[self.setting] == "lmsr" {
            return self.lmsr_price(i);
        }
        match self.quotes(i, days) {
            (Some(b), Some(a)) => (a + b) / 2.0,
            _ => self.last_price[i as usize].unwrap_or(0.5),
        }
    }

    fn spread(&self, i: u32, days: u32, p: &Params) -> f64 {
        if SETTINGS[self.setting] == "lmsr" {
            let (x, v, b) = (self.lmsr_price(i), p.volume as f64, p.b);
            let ask = b * libm::log(1.0 - x + x * libm::exp(v / b)) / v;
            let bid = -b * libm::log(1.0 - x + x * libm::exp(-v / b)) / v;
            return ask - bid;
        }
        match self.quotes(i, days) {
            (Some(b), Some(a)) => a - b,
            _ => 1.0,
        }
    }

    /// Records the trades among `out` (who traded first when, the last price).
    fn record(&mut self, i: u32, when: f64) {
        let out = std::mem::take(&mut self.out);
        for e in &out {
            match &e.event {
                Event::Traded { price, bid_user, ask_user, .. } => {
                    self.trades_today += 1;
                    self.trades += 1;
                    self.last_price[i as usize] = Some(f64::from(price.bp()) / 1e4);
                    for u in [bid_user, ask_user] {
                        self.mark(self.engine.user_name(*u).to_owned(), when);
                    }
                }
                Event::MarketEvent { user: Some(user), detail, .. }
                    if matches!(**detail, peerex_engine::prediction::events::MarketDetail::Traded { .. }) =>
                {
                    self.trades_today += 1;
                    self.trades += 1;
                    self.mark(self.engine.user_name(*user).to_owned(), when);
                }
                _ => {}
            }
        }
        self.out = out;
        self.out.clear();
    }

    fn mark(&mut self, name: String, when: f64) {
        if let Some(t) = name.strip_prefix("trader").and_then(|n| n.parse::<usize>().ok()) {
            if let Some(slot) = self.first_trade.get_mut(t) {
                slot.get_or_insert(when);
            }
        }
    }

    /// Trader `t` with belief `q` acts on issue `i` at step `k` of `day`.
    #[allow(clippy::too_many_arguments)]
    fn act(
        &mut self,
        p: &Params,
        days: u32,
        day: u32,
        k: u64,
        t: u32,
        i: u32,
        q: f64,
        coin: bool,
    ) -> anyhow::Result<()> {
        let now = at_ms(day, 1_000 + k as i64);
        let when = f64::from(day) + k as f64 / 1e6;
        if SETTINGS[self.setting] == "lmsr" {
            let price = self.lmsr_price(i);
            if (price - q).abs() <= 0.01 {
                return Ok(());
            }
            let shares = (p.b * (logit(q) - logit(price))).clamp(-(p.volume as f64), p.volume as f64);
            let shares = (shares * 100.0).round() / 100.0;
            if shares == 0.0 {
                return Ok(());
            }
            let op: Op = serde_json::from_value(json!({
                "op": "trade", "id": format!("t{t}-{day}-{k}"), "user": trader(t), "market": format!("m{i}"),
                "shares": format!("{shares:.2}"),
            }))
            .context("building trade")?;
            // A trader who cannot afford the trade just does not trade.
            if self.engine.apply(peerex_engine::Command::new(now, op), &mut self.out).is_ok() {
                self.record(i, when);
            }
            self.out.clear();
            return Ok(());
        }
        let h = p.half_spread;
        let (bid, ask) = self.quotes(i, days);
        let cents = |x: f64| Price::from_bp(((x.clamp(0.01, 0.99) * 100.0).round() as u32) * 100);
        let (kind, fixed_price) = match (ask, bid) {
            (Some(a), _) if a < q - h => (OfferKind::BuyFixed, Some(a)),
            (_, Some(b)) if b > q + h => (OfferKind::BuyUnfixed, Some(b)),
            _ if coin => (OfferKind::BuyFixed, None),
            _ => (OfferKind::BuyUnfixed, None),
        };
        let fixed = match (kind, fixed_price) {
            // To the basis point, so the limit never falls short of the price it saw.
            (OfferKind::BuyFixed, Some(_)) if p.take_to_belief => Price::from_bp(((q - h) * 1e4).floor() as u32),
            (_, Some(_)) if p.take_to_belief => Price::from_bp(((q + h) * 1e4).ceil().min(9_999.0) as u32),
            (_, Some(x)) => Price::from_bp((x * 1e4).round() as u32),
            (OfferKind::BuyFixed, None) => cents(q - h),
            _ => cents(q + h),
        };
        let Some(fixed) = fixed else { return Ok(()) };
        let price = if kind == OfferKind::BuyFixed { fixed } else { fixed.complement() };
        let cmd = OfferCommand {
            id: format!("o{t}-{day}-{k}"),
            user: trader(t),
            kind,
            issue: issue(i),
            maturation: at(days, 0),
            price,
            volume: p.volume,
            aon: false,
            poolable: false,
            expiration: Some(at(day + 1, 0).min(at(days, 0))),
        };
        if self.engine.apply(peerex_engine::Command::new(now, Op::Offer(cmd)), &mut self.out).is_ok() {
            self.record(i, when);
        }
        self.out.clear();
        Ok(())
    }
}

/// Simulates one run of both settings.
pub fn simulate(mut ctx: RunCtx) -> anyhow::Result<RunOutput> {
    let p = params(&ctx.options)?;
    let days = ctx.days;
    let rng = &mut ctx.rng;
    let truth: Vec<f64> = (0..p.issues).map(|_| rng.gen_range(0.1..0.9)).collect();
    let beliefs: Vec<Vec<f64>> = (0..p.traders)
        .map(|_| truth.iter().map(|&pi| (pi + p.noise * gaussian(rng)).clamp(0.02, 0.98)).collect())
        .collect();
    let mut markets: Vec<Market> = (0..SETTINGS.len()).map(|s| Market::new(s, &p, days)).collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); SETTINGS.len()];
    let mut spreads: Vec<Vec<f64>> = vec![Vec::new(); SETTINGS.len()];
    for day in 0..days {
        // Who acts today, in which order, and which side a poster takes: drawn once, shared.
        let mut active: Vec<(u32, u32, bool)> = Vec::new();
        for t in 0..p.traders {
            for i in 0..p.issues {
                if rng.gen_bool(p.activity) {
                    active.push((t, i, rng.gen_bool(0.5)));
                }
            }
        }
        active.shuffle(rng);
        for m in &mut markets {
            m.trades_today = 0;
            for (k, &(t, i, coin)) in active.iter().enumerate() {
                m.act(&p, days, day, k as u64, t, i, beliefs[t as usize][i as usize], coin)?;
            }
        }
        for (s, m) in markets.iter_mut().enumerate() {
            crate::conservation::check_day(&m.engine, day)?;
            let err =
                (0..p.issues).map(|i| (m.price(i, days) - truth[i as usize]).abs()).sum::<f64>() / f64::from(p.issues);
            let spread = (0..p.issues).map(|i| m.spread(i, days, &p)).sum::<f64>() / f64::from(p.issues);
            errors[s].push(err);
            spreads[s].push(spread);
            let traded = m.first_trade.iter().filter(|f| f.is_some()).count() as f64 / f64::from(p.traders);
            let loss = if day + 1 == days { f64::NAN } else { (m.maker_start - m.cash("maker")) as f64 / 1e6 };
            rows.push(Row {
                day,
                entity: SETTINGS[s].to_owned(),
                values: vec![traded, err, spread, f64::from(m.trades_today), loss],
            });
        }
    }
    // The end: each issue closed with its true probability; everything settles.
    let closes: Vec<bool> = truth.iter().map(|&pi| rng.gen_bool(pi)).collect();
    let mut metrics = BTreeMap::new();
    for (s, m) in markets.iter_mut().enumerate() {
        for (i, &c) in closes.iter().enumerate() {
            if c {
                let op = Op::CloseIssue { issue: issue(i as u32), reason: CloseReason::Completed };
                apply(&mut m.engine, &mut m.out, at(days - 1, 23), op)?;
            }
        }
        apply(&mut m.engine, &mut m.out, at(days, 1), Op::Tick {})?;
        m.out.clear();
        crate::conservation::check_day(&m.engine, days)?;
        let loss = (m.maker_start - m.cash("maker")) as f64 / 1e6;
        if let Some(last) = rows.iter_mut().rev().find(|r| r.entity == SETTINGS[s]) {
            last.values[4] = loss;
        }
        let name = SETTINGS[s];
        let mut put = |k: &str, v: f64| metrics.insert(format!("{name}.{k}"), v);
        let firsts: Vec<f64> = m.first_trade.iter().flatten().copied().collect();
        put("traded_share", firsts.len() as f64 / f64::from(p.traders));
        put(
            "time_to_first_trade",
            if firsts.is_empty() { f64::NAN } else { firsts.iter().sum::<f64>() / firsts.len() as f64 },
        );
        put("price_error_final", errors[s].last().copied().unwrap_or(f64::NAN));
        put("price_error_mean", errors[s].iter().sum::<f64>() / errors[s].len().max(1) as f64);
        put("spread_mean", spreads[s].iter().sum::<f64>() / spreads[s].len().max(1) as f64);
        put("trades", f64::from(m.trades));
        let subsidy = if name == "book" { 0.0 } else { f64::from(p.issues) * p.b * std::f64::consts::LN_2 };
        put("maker_loss", loss);
        put("subsidy", subsidy);
        put("maker_loss_over_subsidy", if subsidy > 0.0 { loss / subsidy } else { f64::NAN });
    }
    Ok(RunOutput { rows, metrics })
}

impl Scenario for Liquidity {
    fn name(&self) -> &'static str {
        "liquidity"
    }
    fn description(&self) -> &'static str {
        "seed 002: the same traders with private beliefs on the order book, an LMSR market, and the book with the market maker"
    }
    fn default_days(&self) -> u32 {
        10
    }
    fn default_runs(&self) -> u32 {
        20
    }
    fn columns(&self) -> Vec<String> {
        COLUMNS.iter().map(|s| (*s).to_owned()).collect()
    }
    fn run(&self, ctx: RunCtx) -> anyhow::Result<RunOutput> {
        simulate(ctx)
    }
    fn plots(&self) -> Vec<PlotSpec> {
        let plot = |stem: &str, title: &str, column: &str, y: &str| PlotSpec {
            stem: stem.into(),
            title: title.into(),
            column: column.into(),
            y_label: y.into(),
            entities: vec![],
            log_y: false,
        };
        vec![
            plot(
                "price_error",
                "Price error |price - true probability| (mean over issues and runs)",
                "price_error",
                "error",
            ),
            plot("traded_share", "Share of traders who have traded", "traded_share", "share"),
            plot("spread", "Spread (book: best ask - best bid, 1 if one-sided)", "spread", "spread"),
        ]
    }
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("traders", "number of traders (20)"),
            ("issues", "number of binary events traded (5)"),
            ("b", "LMSR liquidity b per market and per maker (100); the subsidy is b ln 2"),
            ("noise", "std of a trader's belief around the true probability (0.15)"),
            ("activity", "probability a trader acts on an issue on a day (0.3)"),
            ("half_spread", "book traders quote their belief -/+ this (0.05)"),
            ("take", "best (default): a taker takes the best price only; belief: it walks the book up to its belief -/+ half_spread"),
            ("volume", "units per book offer and most shares per LMSR trade (10)"),
            ("levels", "units the market maker quotes per side, 1..=50 (10)"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::run_rng;

    #[test]
    fn every_setting_trades_and_no_maker_loses_more_than_its_subsidy() {
        let ctx = RunCtx { run: 0, days: 5, rng: run_rng(3, 0), options: BTreeMap::new() };
        let out = simulate(ctx).unwrap();
        assert_eq!(out.rows.len(), 5 * SETTINGS.len());
        assert!(out.metrics["book.trades"] > 0.0);
        assert!(out.metrics["lmsr.traded_share"] >= out.metrics["book.traded_share"]);
        assert!(out.metrics["lmsr.spread_mean"] < out.metrics["book.spread_mean"]);
        let (loss, subsidy) = (out.metrics["lmsr.maker_loss"], out.metrics["lmsr.subsidy"]);
        assert!(loss <= subsidy + 1e-6, "loss {loss} > subsidy {subsidy}");
        assert_eq!(out.metrics["book.maker_loss"], 0.0);
        // The market maker quotes both sides of every book from the start: everyone who acts
        // can trade, at a spread far below the bare book's.
        assert!(out.metrics["maker.traded_share"] >= out.metrics["book.traded_share"]);
        assert!(out.metrics["maker.spread_mean"] < out.metrics["book.spread_mean"] / 2.0);
        assert!(out.metrics["maker.trades"] > out.metrics["book.trades"]);
        let (loss, subsidy) = (out.metrics["maker.maker_loss"], out.metrics["maker.subsidy"]);
        // The engine rounds b ln 2 up to the micro-credit per series.
        assert!(loss <= subsidy + 1e-5, "maker loss {loss} > subsidy {subsidy}");
        assert!(loss != 0.0, "the maker traded, so it won or lost something");
    }

    #[test]
    fn takers_who_walk_the_ladder_trade_more_units_with_the_maker() {
        let run = |take: &str| {
            let options = [("take".to_owned(), take.to_owned())].into_iter().collect();
            simulate(RunCtx { run: 0, days: 5, rng: run_rng(3, 0), options }).unwrap()
        };
        let (best, belief) = (run("best"), run("belief"));
        // Walking the ladder moves the maker's price further per visit: it ends closer to the
        // traders' beliefs than when each taker takes one level.
        assert!(belief.metrics["maker.price_error_mean"] < best.metrics["maker.price_error_mean"]);
        let options = [("take".to_owned(), "all".to_owned())].into_iter().collect();
        assert!(simulate(RunCtx { run: 0, days: 1, rng: run_rng(3, 0), options }).is_err());
    }
}
