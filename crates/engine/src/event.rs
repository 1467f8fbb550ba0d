//! What the engine emits. Every successful command yields events; they are the audit trail and
//! the feed users read. Events carry dense ids (cheap to produce on the hot path);
//! [`crate::Engine::render_event`] turns one into its public JSON form with names.

use serde::Serialize;

use crate::exchange::types::{CancelReason, CloseReason, Outcome, Side, TradeKind};
use crate::ids::{IssueId, MarketId, OfferId, SeriesId, UserId};
use crate::money::{Amount, Price};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    UserCreated {
        user: UserId,
    },
    Deposited {
        user: UserId,
        amount: Amount,
    },
    Withdrew {
        user: UserId,
        amount: Amount,
    },

    IssueOpened {
        issue: IssueId,
    },
    IssueClosed {
        issue: IssueId,
        reason: CloseReason,
    },
    IssueReopened {
        issue: IssueId,
    },
    IssueSynced {
        issue: IssueId,
    },

    SeriesCreated {
        series: SeriesId,
    },
    OfferPlaced {
        offer: OfferId,
        user: UserId,
        series: SeriesId,
    },
    /// `price` is the fixed-side price the trade executed at (the resting offer's).
    Traded {
        series: SeriesId,
        kind: TradeKind,
        price: Price,
        volume: u64,
        bid: OfferId,
        bid_user: UserId,
        ask: OfferId,
        ask_user: UserId,
        /// The resting offer (whose price the trade took).
        maker: OfferId,
    },
    OfferFilled {
        offer: OfferId,
        user: UserId,
    },
    OfferCancelled {
        offer: OfferId,
        user: UserId,
        reason: CancelReason,
    },
    OfferExpired {
        offer: OfferId,
        user: UserId,
    },
    OfferSuspended {
        offer: OfferId,
        user: UserId,
    },
    OfferResumed {
        offer: OfferId,
        user: UserId,
    },

    SeriesMatured {
        series: SeriesId,
    },
    SeriesSettled {
        series: SeriesId,
        outcome: Outcome,
        manual: bool,
    },
    Payout {
        series: SeriesId,
        user: UserId,
        side: Side,
        units: u64,
        amount: Amount,
    },

    /// A funder subsidised an automated market maker on a series (`exchange/maker.rs`).
    MakerFunded {
        series: SeriesId,
        funder: UserId,
        maker: UserId,
        b: Amount,
        subsidy: Amount,
    },
    /// The maker's series settled: everything it held went back to its funder.
    MakerClosed {
        series: SeriesId,
        funder: UserId,
        returned: Amount,
    },
    /// Arbitration of a series (statement or dispute: `arbitrated.rs`); the detail uses the
    /// prediction markets' vocabulary (`reported`, `arbitration`, `reward`, ...).
    SeriesArbitration {
        series: SeriesId,
        user: Option<UserId>,
        detail: Box<crate::prediction::events::MarketDetail>,
    },
    /// A prediction-market event. The detail is boxed: market events are rare and their details
    /// large, and an unboxed detail would make every exchange event three times bigger.
    MarketEvent {
        market: MarketId,
        user: Option<UserId>,
        detail: Box<crate::prediction::events::MarketDetail>,
    },

    /// Resource market (hidden from the public stream): `peer` is the peer concerned, if any.
    /// Boxed like market events: rare next to exchange events, and larger.
    Resource {
        peer: Option<crate::ids::PeerId>,
        detail: Box<crate::resources::events::ResourceDetail>,
    },
}

impl Event {
    /// The users this event concerns (whose feeds it belongs to).
    pub fn users(&self) -> impl Iterator<Item = UserId> {
        let (a, b) = match self {
            Event::UserCreated { user }
            | Event::Deposited { user, .. }
            | Event::Withdrew { user, .. }
            | Event::OfferPlaced { user, .. }
            | Event::OfferFilled { user, .. }
            | Event::OfferCancelled { user, .. }
            | Event::OfferExpired { user, .. }
            | Event::OfferSuspended { user, .. }
            | Event::OfferResumed { user, .. }
            | Event::Payout { user, .. } => (Some(*user), None),
            Event::MakerFunded { funder, maker, .. } => (Some(*funder), Some(*maker)),
            Event::MakerClosed { funder, .. } => (Some(*funder), None),
            Event::Traded { bid_user, ask_user, .. } => (Some(*bid_user), Some(*ask_user)),
            Event::MarketEvent { user, .. } | Event::SeriesArbitration { user, .. } => (*user, None),
            _ => (None, None),
        };
        a.into_iter().chain(b)
    }

    /// Whether the event is public market data (for the live stream): trades, prices, settlements.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Event::Traded { .. }
                | Event::SeriesCreated { .. }
                | Event::SeriesMatured { .. }
                | Event::SeriesSettled { .. }
                | Event::IssueOpened { .. }
                | Event::IssueClosed { .. }
                | Event::IssueReopened { .. }
                | Event::IssueSynced { .. }
                | Event::MarketEvent { .. }
                | Event::MakerFunded { .. }
                | Event::SeriesArbitration { .. }
                | Event::MakerClosed { .. }
        )
    }
}

/// An event with the instant it happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timed {
    pub at: Timestamp,
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_belongs_to_the_feeds_of_the_users_it_concerns() {
        let (a, b) = (UserId(1), UserId(2));
        let funded = Event::MakerFunded { series: SeriesId(0), funder: a, maker: b, b: Amount(1), subsidy: Amount(1) };
        assert_eq!(funded.users().collect::<Vec<_>>(), [a, b]);
        let closed = Event::MakerClosed { series: SeriesId(0), funder: a, returned: Amount(1) };
        assert_eq!(closed.users().collect::<Vec<_>>(), [a]);
        assert_eq!(Event::SeriesCreated { series: SeriesId(0) }.users().count(), 0);
        let arbitration = |user| Event::SeriesArbitration {
            series: SeriesId(0),
            user,
            detail: Box::new(crate::prediction::events::MarketDetail::BondShared { amount: Amount(1) }),
        };
        assert_eq!(arbitration(Some(a)).users().collect::<Vec<_>>(), [a]);
        assert_eq!(arbitration(None).users().count(), 0);
    }

    #[test]
    fn only_market_data_is_public() {
        assert!(Event::SeriesCreated { series: SeriesId(0) }.is_public());
        assert!(!Event::Deposited { user: UserId(1), amount: Amount(1) }.is_public());
        assert!(!Event::UserCreated { user: UserId(1) }.is_public());
    }
}
