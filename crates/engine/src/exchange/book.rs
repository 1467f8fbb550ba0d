//! One order book per series, every offer seen as an order on the *fixed* price: bids (BF at p,
//! SU at 1 - p) and asks (SF at p, BU at 1 - p). Within a level, arrival order (time priority).
//! The book stores only ids; offers live in the exchange.
//!
//! Levels sit in a flat array over the 10,001 basis-point prices, cut into chunks of 64 prices
//! made on first use (a book that uses a few prices stays small). A bit per price says which
//! levels have offers, and a bit per chunk which chunks do, so finding a level is an index and
//! the best price or the next level is a couple of bit scans: no tree on the hot path.

use std::collections::VecDeque;
use std::ops::ControlFlow;

use crate::ids::OfferId;

/// The highest price (1 credit).
const TOP: u16 = 10_000;
/// Prices per chunk (the bits of a `u64`).
const CHUNK: usize = 64;
/// Chunks over the prices 0..=10,000 (`chunks_cover_every_price` checks the count).
const CHUNKS: usize = 157;
/// `u64` words of the summary bits, one bit per chunk.
const WORDS: usize = 3;

/// 64 consecutive prices: which have offers, and the level buffer of each.
#[derive(Clone, Debug)]
struct Chunk {
    occupied: u64,
    slot: [u32; CHUNK],
}

/// One side of a book.
#[derive(Clone, Debug, Default)]
struct Levels {
    /// Bit `c % 64` of word `c / 64`: chunk `c` has a level with offers.
    summary: [u64; WORDS],
    /// Chunk number -> its position in `chunks` + 1 (0: not made yet). Empty until first use.
    dir: Vec<u16>,
    chunks: Vec<Chunk>,
}

impl Levels {
    /// The level buffer at `price`, if that level has offers.
    fn get(&self, price: u16) -> Option<u32> {
        let (c, bit) = (price as usize / CHUNK, price as usize % CHUNK);
        let at = *self.dir.get(c)?;
        let chunk = self.chunks.get(at.checked_sub(1)? as usize)?;
        (chunk.occupied >> bit & 1 == 1).then_some(chunk.slot[bit])
    }

    /// Marks the level at `price` as having offers, in buffer `slot`.
    fn set(&mut self, price: u16, slot: u32) {
        let (c, bit) = (price as usize / CHUNK, price as usize % CHUNK);
        if self.dir.is_empty() {
            self.dir = vec![0; CHUNKS];
        }
        if self.dir[c] == 0 {
            self.chunks.push(Chunk { occupied: 0, slot: [0; CHUNK] });
            self.dir[c] = self.chunks.len() as u16;
        }
        let chunk = &mut self.chunks[self.dir[c] as usize - 1];
        chunk.occupied |= 1 << bit;
        chunk.slot[bit] = slot;
        self.summary[c / 64] |= 1 << (c % 64);
    }

    /// Marks the level at `price` as empty.
    fn clear(&mut self, price: u16) {
        let (c, bit) = (price as usize / CHUNK, price as usize % CHUNK);
        let Some(&at) = self.dir.get(c) else { return };
        let Some(chunk) = at.checked_sub(1).and_then(|i| self.chunks.get_mut(i as usize)) else { return };
        chunk.occupied &= !(1 << bit);
        if chunk.occupied == 0 {
            self.summary[c / 64] &= !(1 << (c % 64));
        }
    }

    fn occupied(&self, c: usize) -> u64 {
        self.chunks[self.dir[c] as usize - 1].occupied
    }

    /// The lowest price with offers at or above `from`.
    fn next_up(&self, from: u16) -> Option<u16> {
        let (c, bit) = (from as usize / CHUNK, from as usize % CHUNK);
        // Past the last chunk: no summary word, no price.
        if *self.summary.get(c / 64)? >> (c % 64) & 1 == 1 {
            let above = self.occupied(c) >> bit;
            if above != 0 {
                return Some(from + above.trailing_zeros() as u16);
            }
        }
        // The first chunk with offers after `c`.
        for w in c / 64..WORDS {
            let mut word = self.summary[w];
            if w == c / 64 {
                word &= (u64::MAX << (c % 64)) << 1;
            }
            if word != 0 {
                let c = w * 64 + word.trailing_zeros() as usize;
                return Some((c * CHUNK + self.occupied(c).trailing_zeros() as usize) as u16);
            }
        }
        None
    }

    /// The highest price with offers at or below `from`.
    fn next_down(&self, from: u16) -> Option<u16> {
        let from = from.min(TOP) as usize;
        let (c, bit) = (from / CHUNK, from % CHUNK);
        if self.summary[c / 64] >> (c % 64) & 1 == 1 {
            let below = self.occupied(c) << (CHUNK - 1 - bit);
            if below != 0 {
                return Some((from - below.leading_zeros() as usize) as u16);
            }
        }
        // The last chunk with offers before `c`.
        for w in (0..=c / 64).rev() {
            let mut word = self.summary[w];
            if w == c / 64 {
                word &= (1u64 << (c % 64)) - 1;
            }
            if word != 0 {
                let c = w * 64 + 63 - word.leading_zeros() as usize;
                return Some((c * CHUNK + 63 - self.occupied(c).leading_zeros() as usize) as u16);
            }
        }
        None
    }

    fn is_empty(&self) -> bool {
        self.summary.iter().all(|w| *w == 0)
    }

    /// Prices with offers, ascending.
    fn prices(&self) -> impl DoubleEndedIterator<Item = u16> + '_ {
        (0..CHUNKS).filter(|c| self.summary[c / 64] >> (c % 64) & 1 == 1).flat_map(move |c| {
            let occupied = self.occupied(c);
            (0..CHUNK).filter(move |b| occupied >> b & 1 == 1).map(move |b| (c * CHUNK + b) as u16)
        })
    }
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "BookRow", into = "BookRow")]
pub struct Book {
    /// Best bid = highest price.
    bids: Levels,
    /// Best ask = lowest price.
    asks: Levels,
    /// Level buffers, reused: a price level that empties returns its buffer (with its
    /// capacity) to `free`, so levels coming and going do not allocate.
    slots: Vec<VecDeque<OfferId>>,
    free: Vec<u32>,
}

/// Two books are equal when they have the same levels with the same offers in the same order
/// (whichever buffers hold them).
impl PartialEq for Book {
    fn eq(&self, other: &Book) -> bool {
        [true, false].into_iter().all(|bid| self.levels(bid).eq(other.levels(bid)))
    }
}
impl Eq for Book {}

/// How a book is stored: its levels, each a price and its offers in time priority.
#[derive(serde::Serialize, serde::Deserialize)]
struct BookRow {
    bids: Vec<(u16, Vec<OfferId>)>,
    asks: Vec<(u16, Vec<OfferId>)>,
}

impl From<Book> for BookRow {
    fn from(b: Book) -> BookRow {
        let side = |bid| b.levels(bid).map(|(p, l)| (p, l.iter().copied().collect())).collect();
        BookRow { bids: side(true), asks: side(false) }
    }
}

impl From<BookRow> for Book {
    fn from(r: BookRow) -> Book {
        let mut b = Book::default();
        for (bid, levels) in [(true, r.bids), (false, r.asks)] {
            for (price, offers) in levels {
                for o in offers {
                    b.insert(bid, price, o);
                }
            }
        }
        b
    }
}

impl Book {
    fn side(&self, bid: bool) -> &Levels {
        if bid {
            &self.bids
        } else {
            &self.asks
        }
    }

    /// The levels of one side, in ascending price order, as (price, offers in time priority).
    pub fn levels(&self, bid: bool) -> impl DoubleEndedIterator<Item = (u16, &VecDeque<OfferId>)> + '_ {
        let side = self.side(bid);
        side.prices().filter_map(move |p| Some((p, &self.slots[side.get(p)? as usize])))
    }

    /// Appends an offer at the back of its level (latest time priority).
    pub fn insert(&mut self, bid: bool, price_bp: u16, offer: OfferId) {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        let slot = match side.get(price_bp) {
            Some(slot) => slot,
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.slots.push(VecDeque::new());
                        (self.slots.len() - 1) as u32
                    }
                };
                side.set(price_bp, slot);
                slot
            }
        };
        self.slots[slot as usize].push_back(offer);
    }

    /// Removes an offer from its level; returns whether it was there.
    pub fn remove(&mut self, bid: bool, price_bp: u16, offer: OfferId) -> bool {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        let Some(slot) = side.get(price_bp) else { return false };
        let level = &mut self.slots[slot as usize];
        let Some(pos) = level.iter().position(|o| *o == offer) else { return false };
        level.remove(pos);
        if level.is_empty() {
            side.clear(price_bp);
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
        let side = self.side(resting_bids);
        let mut next = if resting_bids { side.next_down(TOP) } else { side.next_up(0) };
        // At most one visit a price.
        for _ in 0..=TOP {
            let Some(p) = next else { break };
            let crosses = if resting_bids { p >= limit_bp } else { p <= limit_bp };
            let Some(slot) = side.get(p).filter(|_| crosses) else { break };
            if let ControlFlow::Break(b) = visit(p, &self.slots[slot as usize]) {
                return Some(b);
            }
            next = if resting_bids { p.checked_sub(1).and_then(|q| side.next_down(q)) } else { side.next_up(p + 1) };
        }
        None
    }

    pub fn best_bid(&self) -> Option<u16> {
        self.bids.next_down(TOP)
    }
    pub fn best_ask(&self) -> Option<u16> {
        self.asks.next_up(0)
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
    /// The book against a model of the same levels in a `BTreeMap`: every insert and removal,
    /// then the levels, the best prices, and the crossing levels from every limit.
    fn check_against_model(ops: &[(bool, bool, u16, u32)]) {
        use std::collections::BTreeMap;
        let mut b = Book::default();
        let mut model: [BTreeMap<u16, Vec<OfferId>>; 2] = Default::default();
        for &(insert, bid, price, id) in ops {
            let m = &mut model[bid as usize];
            if insert {
                b.insert(bid, price, OfferId(id));
                m.entry(price).or_default().push(OfferId(id));
            } else {
                let there = m.get(&price).is_some_and(|l| l.contains(&OfferId(id)));
                assert_eq!(b.remove(bid, price, OfferId(id)), there);
                if let Some(l) = m.get_mut(&price) {
                    // The first of it (the book removes one at a time).
                    if let Some(i) = l.iter().position(|o| *o == OfferId(id)) {
                        l.remove(i);
                    }
                    if l.is_empty() {
                        m.remove(&price);
                    }
                }
            }
        }
        for bid in [true, false] {
            let m = &model[bid as usize];
            let levels: Vec<(u16, Vec<OfferId>)> =
                b.levels(bid).map(|(p, l)| (p, l.iter().copied().collect())).collect();
            assert_eq!(levels, m.iter().map(|(p, l)| (*p, l.clone())).collect::<Vec<_>>());
            let back: Vec<u16> = b.levels(bid).rev().map(|(p, _)| p).collect();
            assert_eq!(back, m.keys().rev().copied().collect::<Vec<_>>());
            for limit in (0..=10_000u16).step_by(97).chain([0, 63, 64, 10_000]) {
                let mut seen = vec![];
                b.visit_crossing::<()>(bid, limit, |p, _| {
                    seen.push(p);
                    ControlFlow::Continue(())
                });
                let want: Vec<u16> = if bid {
                    m.range(limit..).rev().map(|(p, _)| *p).collect()
                } else {
                    m.range(..=limit).map(|(p, _)| *p).collect()
                };
                assert_eq!(seen, want, "bid {bid} limit {limit}");
            }
        }
        assert_eq!(b.best_bid(), model[1].keys().next_back().copied());
        assert_eq!(b.best_ask(), model[0].keys().next().copied());
        assert_eq!(b.is_empty(), model.iter().all(|m| m.is_empty()));
        // Stored and read back: the same levels.
        let back: Book = rmp_serde::from_slice(&rmp_serde::to_vec(&b).unwrap()).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn chunks_cover_every_price() {
        let last = crate::money::PRICE_SCALE as usize;
        assert_eq!(TOP as usize, last);
        assert_eq!(last / CHUNK + 1, CHUNKS, "the last chunk holds the last price");
        assert_eq!(CHUNKS.div_ceil(64), WORDS, "a summary bit for every chunk");
    }

    #[test]
    fn levels_at_the_edges_of_chunks_and_prices() {
        // Prices at both ends, at chunk borders (63/64, 127/128) and in the last chunk.
        let prices = [0u16, 1, 63, 64, 127, 128, 4_999, 9_983, 9_984, 9_999, 10_000];
        let mut ops = vec![];
        for (i, p) in prices.iter().enumerate() {
            ops.push((true, i % 2 == 0, *p, i as u32));
            ops.push((true, i % 2 == 1, *p, 100 + i as u32));
        }
        check_against_model(&ops);
        // Emptied again from the middle out, a level at a time.
        for (i, p) in prices.iter().enumerate().skip(3) {
            ops.push((false, i % 2 == 0, *p, i as u32));
            check_against_model(&ops);
        }
    }

    #[test]
    fn books_are_equal_by_their_levels_not_their_buffers() {
        let mut a = Book::default();
        a.insert(true, 10, OfferId(1));
        a.remove(true, 10, OfferId(1));
        a.insert(true, 20, OfferId(2));
        let mut b = Book::default();
        b.insert(true, 20, OfferId(2));
        assert_eq!(a, b, "a reused buffer does not make a book differ");
        b.insert(true, 20, OfferId(3));
        assert_ne!(a, b);
        a.insert(false, 20, OfferId(3));
        assert_ne!(a, b, "the same offer on the other side");
    }

    proptest::proptest! {
        #[test]
        fn the_book_keeps_its_levels_like_a_sorted_map(
            ops in proptest::collection::vec((proptest::bool::weighted(0.7), proptest::bool::ANY, 0u16..=10_000, 0u32..40), 0..200),
            near in proptest::collection::vec((proptest::bool::weighted(0.6), proptest::bool::ANY, 4_990u16..=5_010, 0u32..20), 0..200),
        ) {
            check_against_model(&ops);
            check_against_model(&near);
        }
    }
}
