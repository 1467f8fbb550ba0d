//! The small vocabulary of the exchange: sides, offer kinds, trade kinds, statuses.

use serde::{Deserialize, Serialize};

/// The two sides of a contract unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Fixed,
    Unfixed,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Fixed => Side::Unfixed,
            Side::Unfixed => Side::Fixed,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Fixed => "fixed",
            Side::Unfixed => "unfixed",
        }
    }
}

/// The four offer kinds of spec/exchange.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    BuyFixed,
    BuyUnfixed,
    SellFixed,
    SellUnfixed,
}

impl OfferKind {
    pub fn side(self) -> Side {
        match self {
            OfferKind::BuyFixed | OfferKind::SellFixed => Side::Fixed,
            OfferKind::BuyUnfixed | OfferKind::SellUnfixed => Side::Unfixed,
        }
    }
    pub fn is_buy(self) -> bool {
        matches!(self, OfferKind::BuyFixed | OfferKind::BuyUnfixed)
    }
    /// On the one book per series, every offer is an order on the fixed price: BF and SU are
    /// bids, SF and BU are asks.
    pub fn is_bid(self) -> bool {
        matches!(self, OfferKind::BuyFixed | OfferKind::SellUnfixed)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OfferKind::BuyFixed => "buy_fixed",
            OfferKind::BuyUnfixed => "buy_unfixed",
            OfferKind::SellFixed => "sell_fixed",
            OfferKind::SellUnfixed => "sell_unfixed",
        }
    }
}

/// What a crossing of a bid and an ask does to the series (spec/exchange.md's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeKind {
    /// BF x BU: new units are created; escrow grows by 1 credit per unit.
    Expand,
    /// BF x SF or SU x BU: existing units change hands.
    Transfer,
    /// SU x SF: units are destroyed; escrow pays both sellers.
    Reduce,
}

impl TradeKind {
    pub fn of(bid: OfferKind, ask: OfferKind) -> TradeKind {
        match (bid, ask) {
            (OfferKind::BuyFixed, OfferKind::BuyUnfixed) => TradeKind::Expand,
            (OfferKind::SellUnfixed, OfferKind::SellFixed) => TradeKind::Reduce,
            _ => TradeKind::Transfer,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Open,
    Filled,
    Cancelled,
    Expired,
    Suspended,
}

impl OfferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Open => "open",
            OfferStatus::Filled => "filled",
            OfferStatus::Cancelled => "cancelled",
            OfferStatus::Expired => "expired",
            OfferStatus::Suspended => "suspended",
        }
    }
}

/// Why an offer was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Its owner asked.
    User,
    /// A newer offer of the same user crossed it (self-trade prevention).
    SelfTrade,
    /// Its series matured.
    Maturation,
    /// A market maker replaced its quotes.
    Requote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    #[default]
    Completed,
    NotPlanned,
    Duplicate,
    Unknown,
}

/// An issue's state at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum IssueState {
    Open,
    Closed(CloseReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesStatus {
    /// Trading.
    Open,
    /// Past maturation, waiting for a decision (a sync newer than the maturation, or an admin).
    Matured,
    /// Paid out; escrow is zero.
    Settled,
}

impl SeriesStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesStatus::Open => "open",
            SeriesStatus::Matured => "matured",
            SeriesStatus::Settled => "settled",
        }
    }
}

/// How a series was decided: one side wins every unit, or (arbitration) fixed units pay X and
/// unfixed units 1 - X, with X in micro-credits per unit (0..=1,000,000) so payouts are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Fixed,
    Unfixed,
    Split { fixed_pays_micros: u32 },
}

impl Outcome {
    /// Micro-credits paid per fixed unit; the unfixed unit gets the rest of the credit.
    pub fn fixed_pays_micros(self) -> i64 {
        match self {
            Outcome::Fixed => crate::money::MICROS_PER_CREDIT,
            Outcome::Unfixed => 0,
            Outcome::Split { fixed_pays_micros } => fixed_pays_micros as i64,
        }
    }
    pub fn winner(self) -> Option<Side> {
        match self {
            Outcome::Fixed => Some(Side::Fixed),
            Outcome::Unfixed => Some(Side::Unfixed),
            Outcome::Split { .. } => None,
        }
    }
}
