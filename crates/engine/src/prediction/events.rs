//! Prediction-market event details (inside `Event::MarketEvent`, rendered through serde with
//! `"type": "market"` and `"what": <variant>`). Probabilities and prices are printed as 6-decimal
//! strings (micro-units, the money form); shares likewise.

use serde::{Serialize, Serializer};

use crate::ids::UserId;
use crate::money::Amount;
use crate::time::Timestamp;

/// A u64 printed as a string (JSON numbers above 2^53 lose digits in many readers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed(pub u64);

impl Serialize for Seed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum MarketDetail {
    /// The creator moved the subsidy (b ln n, rounded up) into the market maker's account.
    Created {
        statement: String,
        outcomes: usize,
        b: Amount,
        fee: Amount,
        deadline: Timestamp,
        report_deadline: Timestamp,
        subsidy: Amount,
        issue: Option<String>,
        min_reports: u32,
        bond: Amount,
        #[serde(skip_serializing_if = "Option::is_none")]
        position_cap: Option<Amount>,
        fee_mode: crate::prediction::market::FeeMode,
    },
    /// A trade with the market maker. `cost` > 0: the trader paid it; < 0: the trader received
    /// it. `liquidated` shares closed an existing position (free), `increased` added risk (the
    /// fee applies once per transaction at the post-trade price).
    Traded {
        trade: String,
        outcome: u32,
        shares: Amount,
        cost: Amount,
        fee: Amount,
        liquidated: Amount,
        increased: Amount,
        /// Shares outstanding per outcome after the trade.
        q: Vec<Amount>,
        /// Prices per outcome after the trade.
        prices: Vec<Amount>,
    },
    /// The deadline passed: trading stopped, reporting (or the tracker's decision) begins.
    ReportingOpened {
        closing_prices: Vec<Amount>,
    },
    Reported {
        value: u32,
    },
    /// The reporting window closed with too few reports and the market stays in reporting.
    ReportingExtended {
        reports: usize,
        needed: u32,
    },
    /// The outcome: each share of outcome k pays `outcome[k]`.
    Resolved {
        method: &'static str,
        outcome: Vec<Amount>,
        reports: usize,
    },
    /// The reward computation of a binary market resolved by reports (recorded so anyone can
    /// check it: the peer draw's seed, eq. 7's quantities and k).
    Arbitration {
        seed: Seed,
        mu: Amount,
        mu1: Amount,
        mu0: Amount,
        delta: Amount,
        midpoint: Amount,
        k: Amount,
        /// False when delta <= epsilon: the market resolved without rewards.
        rewarded: bool,
        /// Arbiters whose reports counted.
        admitted: usize,
        /// G: fee pool + bond + what the market maker keeps in the worst case for holders,
        /// known before any report is read.
        budget: Amount,
        /// W: the most the admitted arbiters can be owed (all agree with their peers); W <= G.
        worst_case: Amount,
    },
    /// A report that did not count: the arbiter's stake could not be paid for from the budget,
    /// or the market is ambiguous and the arbiter holds a position.
    Excluded {
        report: u32,
        reason: String,
    },
    /// An ambiguous market's arbiter receives a share of the creator's bond.
    BondShared {
        amount: Amount,
    },
    /// A holder's payout at resolution.
    Payout {
        shares: Vec<Amount>,
        amount: Amount,
    },
    /// An arbiter's reward (`owed` by the rule and `paid`: always equal, since admission
    /// guarantees the budget).
    Reward {
        peer: UserId,
        report: u32,
        a: Amount,
        c: Amount,
        owed: Amount,
        paid: Amount,
    },
    /// Refunds of a void market exceeded the market maker's cash (never observed: it holds at
    /// least every net payment); everyone was paid pro rata and `missing` stays unpaid. Nothing
    /// is minted. Arbiters' rewards never fall short (admission).
    Shortfall {
        owed: Amount,
        paid: Amount,
        missing: Amount,
    },
    /// An arbitrated series: a statement's series opened with its sponsor's bond, or a
    /// tracker series disputed with the disputer's bond.
    CaseOpened {
        kind: crate::command::CaseKind,
        bond: Amount,
    },
    /// An arbitrated series takes reports until `report_deadline`.
    CaseReporting {
        report_deadline: Timestamp,
    },
    /// Resolved N/A.
    Voided {
        reason: String,
    },
    /// What a holder got back when the market was voided (net payments and fees).
    Refund {
        amount: Amount,
        fees: Amount,
    },
    /// What was left in the market's accounts, returned to the creator who funded the subsidy.
    Remainder {
        amount: Amount,
    },
}
