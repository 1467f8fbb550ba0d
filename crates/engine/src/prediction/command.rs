//! Prediction-market commands (spec/commands.md, "Prediction-market commands").
//! Shares, liquidity `b` and fee rates are fixed-point decimals with 6 decimals (the same text
//! form as money), never floats.

use serde::{Deserialize, Serialize};

use crate::money::Amount;
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateMarket {
    pub id: String,
    pub user: String,
    pub statement: String,
    pub deadline: Timestamp,
    /// LMSR liquidity parameter b.
    pub b: Amount,
    /// Trading fee rate f (e.g. "0.05").
    #[serde(default)]
    pub fee: Amount,
    /// Shares of outcome 0 (YES) the creator buys at creation.
    #[serde(default)]
    pub initial_shares: Amount,
    /// Number of outcomes; 2 (binary) by default.
    #[serde(default)]
    pub outcomes: Option<u32>,
    /// Optional link to an issue, so that its tracker decides the market.
    #[serde(default)]
    pub issue: Option<String>,
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
    /// For categorical markets: which outcome the shares are of (0 = YES for binary).
    #[serde(default)]
    pub outcome: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub user: String,
    pub market: String,
    pub value: u8,
}
