//! One order book per series, every offer seen as an order on the *fixed* price: bids (BF at p,
//! SU at 1 - p) and asks (SF at p, BU at 1 - p). Levels are keyed by basis points; within a
//! level, arrival order (time priority). The book stores only ids; offers live in the exchange.

use std::collections::{BTreeMap, VecDeque};
use std::ops::ControlFlow;

use crate::ids::OfferId;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Book {
    /// Price (basis points) -> level slot. Best bid = highest key.
    bids: BTreeMap<u16, u32>,
    /// Best ask = lowest key.
    asks: BTreeMap<u16, u32>,
    /// Level buffers, reused: a price level that empties returns its buffer (with its
    /// capacity) to `free`, so levels coming and going do not allocate.
    slots: Vec<VecDeque<OfferId>>,
    free: Vec<u32>,
}

impl Book {
    fn side_map(&self, bid: bool) -> &BTreeMap<u16, u32> {
        if bid {
            &self.bids
        } else {
            &self.asks
        }
    }

    /// The levels of one side, in ascending price order, as (price, offers in time priority).
    pub fn levels(&self, bid: bool) -> impl DoubleEndedIterator<Item = (u16, &VecDeque<OfferId>)> + '_ {
        self.side_map(bid).iter().map(|(p, slot)| (*p, &self.slots[*slot as usize]))
    }

    /// Appends an offer at the back of its level (latest time priority).
    pub fn insert(&mut self, bid: bool, price_bp: u16, offer: OfferId) {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        let slot = match side.get(&price_bp) {
            Some(slot) => *slot,
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.slots.push(VecDeque::new());
                        (self.slots.len() - 1) as u32
                    }
                };
                side.insert(price_bp, slot);
                slot
            }
        };
        self.slots[slot as usize].push_back(offer);
    }

    /// Removes an offer from its level; returns whether it was there.
    pub fn remove(&mut self, bid: bool, price_bp: u16, offer: OfferId) -> bool {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        let Some(&slot) = side.get(&price_bp) else { return false };
        let level = &mut self.slots[slot as usize];
        let Some(pos) = level.iter().position(|o| *o == offer) else { return false };
        level.remove(pos);
        if level.is_empty() {
            side.remove(&price_bp);
            self.free.push(slot);
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
            for (p, slot) in self.bids.range(limit_bp..).rev() {
                if let ControlFlow::Break(b) = visit(*p, &self.slots[*slot as usize]) {
                    return Some(b);
                }
            }
        } else {
            for (p, slot) in self.asks.range(..=limit_bp) {
                if let ControlFlow::Break(b) = visit(*p, &self.slots[*slot as usize]) {
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
        self.levels(true).chain(self.levels(false)).flat_map(|(_, l)| l.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_levels_come_best_first() {
        let mut b = Book::default();
        assert!(b.is_empty());
        b.insert(true, 4000, OfferId(1));
        assert!(!b.is_empty());
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
