//! Views of the prediction markets (spec/prediction.md): a market, all markets, a trade's
//! answer, and a cost quote.

use std::collections::BTreeMap;

use peerex_engine::{Amount, Engine, Timed, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Credits, TimeText};

/// A prediction market's summary (the `markets` object of the replay output, spec/commands.md).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MarketView {
    /// The market's id (absent in the map of `GET /markets`, whose keys are the ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `open`, `reporting`, `resolved` or `void`.
    pub status: String,
    /// Net shares outstanding.
    #[schema(value_type = Credits)]
    pub q: Amount,
    /// The YES price (the implied probability of outcome 1), 4 decimals.
    #[schema(example = "0.5000")]
    pub price: String,
    /// The resolution: the YES payout per share of a binary market, or each outcome's payout
    /// (null until resolved).
    #[schema(value_type = Value)]
    pub outcome: serde_json::Value,
    pub statement: String,
    /// Number of outcomes.
    pub outcomes: usize,
    /// Shares outstanding of each outcome.
    #[schema(value_type = Vec<Credits>)]
    pub shares: Vec<Amount>,
    /// Each outcome's price (probability) in credits.
    #[schema(value_type = Vec<Credits>)]
    pub prices: Vec<Amount>,
    #[schema(value_type = TimeText)]
    pub deadline: Timestamp,
    /// Arbiters' reports received.
    pub reports: usize,
    /// Trades made.
    pub trades: usize,
    /// How the market is set up (null in the replay output's summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<MarketSetupView>,
}

/// A market's parameters as created (spec/prediction.md, docs/prediction.md).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MarketSetupView {
    /// LMSR liquidity parameter b.
    #[schema(value_type = Credits)]
    pub b: Amount,
    /// Trading fee rate.
    #[schema(value_type = Credits)]
    pub fee: Amount,
    /// `transaction` or `share` (the per-share, price-bounding fee).
    pub fee_mode: String,
    /// The creator's arbitration bond.
    #[schema(value_type = Credits)]
    pub bond: Amount,
    /// Largest position an arbiter may hold and still report (null: no cap).
    #[schema(value_type = Option<Credits>)]
    pub position_cap: Option<Amount>,
    /// Priors evaluated at both the closing price and 1/2.
    pub robust_prior: bool,
    /// Reports needed to resolve.
    pub min_reports: u32,
    /// `void` or `extend` when the window closes with too few reports.
    pub too_few: String,
    #[schema(value_type = TimeText)]
    pub report_deadline: Timestamp,
    /// The issue whose tracker decides the market, if any.
    pub issue: Option<String>,
}

/// Every market (with its id), in id order.
pub type MarketsView = Vec<MarketView>;

/// One holding of prediction-market shares.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ShareView {
    pub market: String,
    pub statement: String,
    pub status: String,
    pub outcome: usize,
    #[schema(value_type = Credits)]
    pub shares: Amount,
    /// The outcome's price now (its value per share until resolution).
    #[schema(value_type = Credits)]
    pub price: Amount,
    /// Shares x price, credits.
    #[schema(value_type = Credits)]
    pub value: Amount,
}

/// The answer to a market trade: the market after it and the trade's events.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MarketTradeView {
    pub market: MarketView,
    /// The events the trade emitted (public event JSON).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

/// What a trade would cost now.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct QuoteView {
    pub market: String,
    /// Shares to buy (negative: sell).
    #[schema(value_type = Credits)]
    pub shares: Amount,
    pub outcome: usize,
    /// Paid to the market maker (negative: received).
    #[schema(value_type = Credits)]
    pub cost: Amount,
    /// Fee into the arbitration pool.
    #[schema(value_type = Credits)]
    pub fee: Amount,
    /// Cost plus fee.
    #[schema(value_type = Credits)]
    pub total: Amount,
    /// Each outcome's price (probability) right after the trade.
    #[schema(value_type = Vec<Credits>)]
    pub prices_after: Vec<Amount>,
}

/// Every market, optionally only those in `status`, paged by `offset` and `limit`.
pub fn markets(engine: &Engine, status: Option<&str>, offset: usize, limit: usize) -> MarketsView {
    let all: BTreeMap<String, MarketView> = serde_json::from_value(engine.markets().summary()).unwrap_or_default();
    all.into_iter()
        .map(|(id, mut m)| {
            m.id = Some(id);
            m
        })
        .filter(|m| status.is_none_or(|s| m.status == s))
        .skip(offset)
        .take(limit)
        .collect()
}

/// The prediction-market shares `user` holds (one row per market and outcome held).
pub fn shares(engine: &Engine, user: &str) -> Vec<ShareView> {
    let Some(uid) = engine.user_id(user) else { return Vec::new() };
    let markets = engine.markets();
    let mut out = Vec::new();
    for (id, m) in markets.all() {
        let Some(h) = m.holding(uid) else { continue };
        let name = markets.name(id).to_owned();
        let v = market(engine, &name);
        for (outcome, micro) in h.shares.iter().enumerate() {
            if *micro == 0 {
                continue;
            }
            let price = v.prices.get(outcome).copied().unwrap_or_default();
            let value = Amount((i128::from(*micro) * i128::from(price.0) / 1_000_000) as i64);
            out.push(ShareView {
                market: name.clone(),
                statement: v.statement.clone(),
                status: v.status.clone(),
                outcome,
                shares: Amount(*micro),
                price,
                value,
            });
        }
    }
    out
}

/// The market `id` (an empty view if there is none).
pub fn market(engine: &Engine, id: &str) -> MarketView {
    let summary = engine.markets().summary();
    let mut v: MarketView = summary.get(id).and_then(|m| serde_json::from_value(m.clone()).ok()).unwrap_or_default();
    v.id = Some(id.to_owned());
    let markets = engine.markets();
    v.setup = markets.market_id(id).and_then(|mid| markets.market(mid)).map(|m| {
        let word = |x: serde_json::Value| x.as_str().unwrap_or_default().to_owned();
        MarketSetupView {
            b: Amount(m.lmsr.b),
            fee: Amount(m.fee),
            fee_mode: word(serde_json::to_value(m.fee_mode).unwrap_or_default()),
            bond: Amount(m.bond),
            position_cap: m.position_cap.map(Amount),
            robust_prior: m.robust_prior,
            min_reports: m.min_reports,
            too_few: word(serde_json::to_value(m.too_few).unwrap_or_default()),
            report_deadline: m.report_deadline,
            issue: m.issue.map(|i| engine.exchange().issue_name(i).to_owned()),
        }
    });
    v
}

/// The market `id` after a trade, and the trade's events.
pub fn market_trade(engine: &Engine, id: &str, events: &[Timed]) -> MarketTradeView {
    MarketTradeView { market: market(engine, id), events: events.iter().map(|t| engine.render_event(t)).collect() }
}

/// What `shares` of `outcome` would cost `user` now in the market `id`.
pub fn quote(
    engine: &Engine,
    id: &str,
    user: Option<&str>,
    outcome: usize,
    shares: Amount,
) -> Result<QuoteView, peerex_engine::EngineError> {
    let markets = engine.markets();
    let mid =
        markets.market_id(id).ok_or_else(|| peerex_engine::EngineError::UnknownMarket(format!("no market {id:?}")))?;
    let q = markets.quote(mid, user.and_then(|u| engine.user_id(u)), outcome, shares)?;
    Ok(QuoteView {
        market: id.to_owned(),
        shares,
        outcome,
        cost: Amount(q.cost),
        fee: Amount(q.fee),
        total: Amount(q.cost.saturating_add(q.fee)),
        prices_after: q.prices_after.iter().map(|p| Amount(peerex_engine::prediction::lmsr::prob_micros(*p))).collect(),
    })
}
