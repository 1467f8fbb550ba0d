//! Prediction-market commands (spec/commands.md, "Prediction-market commands").
//! Shares, liquidity `b` and fee rates are fixed-point decimals with 6 decimals (the same text
//! form as money), never floats.

use serde::{Deserialize, Serialize};

use crate::money::Amount;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateMarket {
    /// The market's id; empty or absent: the engine picks the first free `m1`, `m2`, ...
    #[serde(default)]
    pub id: String,
    pub user: String,
    pub statement: String,
    pub deadline: Timestamp,
    /// LMSR liquidity parameter b.
    pub b: Amount,
    /// Trading fee rate f (e.g. "0.05").
    #[serde(default)]
    pub fee: Amount,
    /// Shares the creator buys at creation (of `initial_outcome`, YES by default).
    #[serde(default)]
    pub initial_shares: Amount,
    /// Number of outcomes; 2 (binary) by default.
    #[serde(default)]
    pub outcomes: Option<u32>,
    /// Optional link to an issue (binary markets only), so that its tracker decides the market:
    /// YES iff the issue is closed as completed at the deadline.
    #[serde(default)]
    pub issue: Option<String>,
    /// Outcome of the initial shares; 1 (YES) by default.
    #[serde(default)]
    pub initial_outcome: Option<u32>,
    /// Reports needed to resolve (default 3, at least 2).
    #[serde(default)]
    pub min_reports: Option<u32>,
    /// End of the reporting window (default: deadline + 7 days).
    #[serde(default)]
    pub report_deadline: Option<Timestamp>,
    /// What happens when the window closes with too few reports: `void` (default, N/A refund)
    /// or `extend` (stay in reporting until the minimum is reached).
    #[serde(default)]
    pub too_few: Option<crate::prediction::market::TooFewPolicy>,
    /// Lower bound of the arbiters' reward scale k (default 1 credit).
    #[serde(default)]
    pub k_floor: Option<Amount>,
    /// Mixed into the seed of the arbiters' peer draw (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Arbitration bond the creator moves into the arbitration pool at creation (default 0): it
    /// funds the arbiters' rewards beyond the fees, returns to the creator after a clear
    /// resolution, and goes to the arbiters when the market turns out ambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bond: Option<Amount>,
    /// Largest position (|YES - NO| shares) an arbiter may hold and still report (default: no
    /// cap). Positions are frozen after the deadline, so a capped arbiter stays capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_cap: Option<Amount>,
    /// `transaction` (default: f p' once per risk-increasing trade, the dissertation's code) or
    /// `share` (f times the cost of the risk-increasing shares, the dissertation's
    /// price-bounding rule: a share at 0.99 costs 0.99 x 1.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_mode: Option<crate::prediction::market::FeeMode>,
    /// Evaluate eq. 7's mu1 and mu0 at both the closing price and 1/2 (default false: the
    /// closing price only, the dissertation's rule). Protects staked arbiters' incentive when
    /// the closing price is not everyone's prior (e.g. moved by arbiters' own stakes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robust_prior: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub id: String,
    pub user: String,
    pub market: String,
    /// Signed: positive buys YES, negative sells YES (buys NO).
    pub shares: Amount,
    /// Upper bound on what the trader pays; for a sale, a negative value is a minimum of proceeds.
    #[serde(default)]
    pub max_cost: Option<Amount>,
    /// Which outcome the shares are of: 1 (YES) by default; for binary markets 1 = YES and
    /// 0 = NO, the same numbering as report values.
    #[serde(default)]
    pub outcome: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub user: String,
    pub market: String,
    /// The outcome the arbiter observed: 1 (YES) or 0 (NO) for binary markets, the outcome's
    /// index for categorical ones. Reporting is opting in as an arbiter.
    pub value: u8,
}

/// Close reporting early: the market's creator may resolve once `min_reports` reports are in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolveMarket {
    pub user: String,
    pub market: String,
}
