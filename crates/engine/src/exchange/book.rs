//! One order book per series, every offer seen as an order on the *fixed* price: bids (BF at p,
//! SU at 1 - p) and asks (SF at p, BU at 1 - p). Levels are keyed by basis points; within a
//! level, arrival order (time priority). The book stores only ids; offers live in the exchange.

use std::collections::{BTreeMap, VecDeque};
use std::ops::ControlFlow;

use crate::ids::OfferId;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Book {
    /// Best bid = highest key.
    pub(crate) bids: BTreeMap<u16, VecDeque<OfferId>>,
    /// Best ask = lowest key.
    pub(crate) asks: BTreeMap<u16, VecDeque<OfferId>>,
}

impl Book {
    pub fn side(&self, bid: bool) -> &BTreeMap<u16, VecDeque<OfferId>> {
        if bid {
            &self.bids
        } else {
            &self.asks
        }
    }

    fn side_mut(&mut self, bid: bool) -> &mut BTreeMap<u16, VecDeque<OfferId>> {
        if bid {
            &mut self.bids
        } else {
            &mut self.asks
        }
    }

    /// Appends an offer at the back of its level (latest time priority).
    pub fn insert(&mut self, bid: bool, price_bp: u16, offer: OfferId) {
        self.side_mut(bid).entry(price_bp).or_default().push_back(offer);
    }

    /// Removes an offer from its level; returns whether it was there.
    pub fn remove(&mut self, bid: bool, price_bp: u16, offer: OfferId) -> bool {
        let side = self.side_mut(bid);
        let Some(level) = side.get_mut(&price_bp) else { return false };
        let Some(pos) = level.iter().position(|o| *o == offer) else { return false };
        level.remove(pos);
        if level.is_empty() {
            side.remove(&price_bp);
        }
        true
    }

    /// Visits the levels of one side that cross `limit_bp`, best first, until `visit` breaks:
    /// for resting bids (an ask arrives) those >= limit; for resting asks (a bid arrives) those
    /// <= limit.
    pub fn visit_crossing<B>(
        &self,
        resting_bids: bool,
        limit_bp: u16,
        mut visit: impl FnMut(u16, &VecDeque<OfferId>) -> ControlFlow<B>,
    ) -> Option<B> {
        if resting_bids {
            for (p, l) in self.bids.range(limit_bp..).rev() {
                if let ControlFlow::Break(b) = visit(*p, l) {
                    return Some(b);
                }
            }
        } else {
            for (p, l) in self.asks.range(..=limit_bp) {
                if let ControlFlow::Break(b) = visit(*p, l) {
                    return Some(b);
                }
            }
        }
        None
    }

    pub fn best_bid(&self) -> Option<u16> {
        self.bids.keys().next_back().copied()
    }
    pub fn best_ask(&self) -> Option<u16> {
        self.asks.keys().next().copied()
    }
    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }
    /// Every offer on the book.
    pub fn all(&self) -> impl Iterator<Item = OfferId> + '_ {
        self.bids.values().chain(self.asks.values()).flat_map(|l| l.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_levels_come_best_first() {
        let mut b = Book::default();
        b.insert(true, 4000, OfferId(1));
        b.insert(true, 6000, OfferId(2));
        b.insert(true, 5000, OfferId(3));
        b.insert(false, 7000, OfferId(4));
        b.insert(false, 6500, OfferId(5));
        let mut bids = vec![];
        b.visit_crossing::<()>(true, 4500, |p, _| {
            bids.push(p);
            ControlFlow::Continue(())
        });
        assert_eq!(bids, vec![6000, 5000]);
        let mut asks = vec![];
        b.visit_crossing::<()>(false, 6800, |p, _| {
            asks.push(p);
            ControlFlow::Continue(())
        });
        assert_eq!(asks, vec![6500]);
        assert!(b.remove(true, 6000, OfferId(2)));
        assert!(!b.remove(true, 6000, OfferId(2)));
        assert_eq!(b.best_bid(), Some(5000));
        assert_eq!(b.best_ask(), Some(6500));
    }
}
