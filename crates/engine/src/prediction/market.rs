//! One prediction market's state: parameters, the market maker's quantities, traders' holdings,
//! reports, and price history. Money is never stored here: it lives in the ledger accounts
//! `MarketMaker(id)` and `ArbitrationPool(id)`; the fields `collected` and `fees` say what those
//! accounts must hold while the market is live (checked by `Markets::check`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ids::{IssueId, UserId};
use crate::prediction::lmsr::Lmsr;
use crate::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Trading until the deadline.
    Open,
    /// After the deadline: collecting reports (or waiting for the linked issue's tracker).
    Reporting,
    /// Outcome set, holders paid, arbiters rewarded.
    Resolved,
    /// Resolved N/A: everyone got back what they paid.
    Void,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Reporting => "reporting",
            Status::Resolved => "resolved",
            Status::Void => "void",
        }
    }
}

/// What happens when the reporting window closes with fewer than `min_reports` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TooFewPolicy {
    /// Resolve N/A: refund what everyone paid.
    #[default]
    Void,
    /// Stay in reporting; resolve as soon as the minimum is reached.
    Extend,
}

/// How the trading fee is charged (see `trading.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeMode {
    /// f p' (buy) or f (1 - p') (sale) once per risk-increasing transaction.
    #[default]
    Transaction,
    /// f x the cost of the risk-increasing shares: bounds the price away from 0 and 1.
    Share,
}

/// A trader's stake in one market.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holding {
    /// Micro-shares per outcome (all >= 0).
    pub shares: Vec<i64>,
    /// Net micro-credits paid to the market maker (negative when they received more).
    pub paid: i64,
    /// Fees paid into the arbitration pool.
    pub fees: i64,
}

impl Holding {
    pub fn new(n: usize) -> Holding {
        Holding { shares: vec![0; n], paid: 0, fees: 0 }
    }
    /// The size of the bet, |n_i| of eq. 3 in micro-shares: |YES - NO| for a binary market;
    /// for a categorical one the largest minus the smallest holding (what one report can move).
    pub fn stake(&self) -> i64 {
        let max = self.shares.iter().copied().max().unwrap_or(0);
        let min = self.shares.iter().copied().min().unwrap_or(0);
        max.saturating_sub(min)
    }
}

/// How a resolved market got its outcome.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolution {
    /// Weight of each outcome (report counts, or 0/1 from the tracker) and their total.
    pub weights: Vec<u64>,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Market {
    pub name: String,
    pub statement: String,
    pub creator: UserId,
    pub deadline: Timestamp,
    pub report_deadline: Timestamp,
    pub lmsr: Lmsr,
    /// Fee rate in micro-units (0.05 = 50_000).
    pub fee: i64,
    pub issue: Option<IssueId>,
    pub min_reports: u32,
    pub too_few: TooFewPolicy,
    /// Lower bound of the reward scale k, in micro-credits.
    pub k_floor: i64,
    /// Client-given seed mixed into the peer draw.
    pub seed: u64,
    /// The creator's arbitration bond (micro-credits), held in the arbitration pool with the fees.
    pub bond: i64,
    /// Largest |position| (micro-shares) with which an arbiter may report.
    pub position_cap: Option<i64>,
    pub fee_mode: FeeMode,
    /// Evaluate eq. 7 at the closing price and at 1/2 (robust to a price moved by stakes).
    pub robust_prior: bool,
    pub status: Status,
    /// Micro-shares outstanding per outcome.
    pub q: Vec<i64>,
    /// The subsidy moved in at creation (= cost_up(0)).
    pub subsidy: i64,
    /// Sum of all traders' `paid`.
    pub collected: i64,
    /// Sum of all traders' `fees`.
    pub fees: i64,
    pub holdings: BTreeMap<UserId, Holding>,
    /// Reports in arrival order: (arbiter, reported outcome index).
    pub reports: Vec<(UserId, u32)>,
    /// (time, micro-price of each outcome) after creation and after every trade.
    pub history: Vec<(Timestamp, Vec<i64>)>,
    pub resolution: Option<Resolution>,
    /// The reporting window closed with too few reports under the `extend` policy.
    pub window_closed: bool,
}

impl Market {
    pub fn outcomes(&self) -> usize {
        self.q.len()
    }
    pub fn is_binary(&self) -> bool {
        self.q.len() == 2
    }
    /// Binary q = q_yes - q_no (outcome 1 is YES, outcome 0 is NO); for categorical markets the
    /// same difference of outcomes 1 and 0.
    pub fn net_q(&self) -> i64 {
        let yes = self.q.get(1).copied().unwrap_or(0);
        let no = self.q.first().copied().unwrap_or(0);
        yes.saturating_sub(no)
    }
    pub fn holding(&self, user: UserId) -> Option<&Holding> {
        self.holdings.get(&user)
    }
    pub fn has_reported(&self, user: UserId) -> bool {
        self.reports.iter().any(|(u, _)| *u == user)
    }
}
