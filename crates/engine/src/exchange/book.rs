//! One order book per series, every offer seen as an order on the *fixed* price: bids (BF at p,
//! SU at 1 - p) and asks (SF at p, BU at 1 - p). Within a level, arrival order (time priority).
//! The book stores only the ends of each level; offers live in the exchange, and each open
//! offer links to its neighbours on its level (`Link`), so a level is a list through the
//! offers: appending, removing and walking touch no other memory.
//!
//! Levels sit in a flat array over the 10,001 basis-point prices, cut into chunks of 64 prices
//! made on first use (a book that uses a few prices stays small). A bit per price says which
//! levels have offers, and a bit per chunk which chunks do, so finding a level is an index and
//! the best price or the next level is a couple of bit scans: no tree on the hot path.

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

/// 64 consecutive prices: which have offers, and the first and last offer of each.
#[derive(Clone, Debug)]
struct Chunk {
    occupied: u64,
    ends: [Ends; CHUNK],
}

/// The first and the last offer of a level (time priority runs from `head` to `tail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ends {
    head: OfferId,
    tail: OfferId,
}

const NO_ENDS: Ends = Ends { head: OfferId(NONE), tail: OfferId(NONE) };

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
    /// The ends of the level at `price`, if that level has offers.
    fn get(&self, price: u16) -> Option<Ends> {
        let (c, bit) = (price as usize / CHUNK, price as usize % CHUNK);
        let at = *self.dir.get(c)?;
        let chunk = self.chunks.get(at.checked_sub(1)? as usize)?;
        (chunk.occupied >> bit & 1 == 1).then_some(chunk.ends[bit])
    }

    /// Asks for the cache lines the level at `price` is kept in (`crate::hint`).
    // A hint has no effect a test can see (only time): its mutants would all be missed.
    #[mutants::skip]
    fn prefetch(&self, price: u16) {
        let (c, bit) = (price as usize / CHUNK, price as usize % CHUNK);
        let Some(at) = self.dir.get(c).and_then(|at| at.checked_sub(1)) else { return };
        if let Some(chunk) = self.chunks.get(at as usize) {
            crate::hint::prefetch(&chunk.occupied);
            crate::hint::prefetch(&chunk.ends[bit]);
        }
    }

    /// Sets the ends of the level at `price` and marks it as having offers.
    fn set(&mut self, price: u16, ends: Ends) {
        let (c, bit) = (price as usize / CHUNK, price as usize % CHUNK);
        if self.dir.is_empty() {
            self.dir = vec![0; CHUNKS];
        }
        if self.dir[c] == 0 {
            self.chunks.push(Chunk { occupied: 0, ends: [NO_ENDS; CHUNK] });
            self.dir[c] = self.chunks.len() as u16;
        }
        let chunk = &mut self.chunks[self.dir[c] as usize - 1];
        chunk.occupied |= 1 << bit;
        chunk.ends[bit] = ends;
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

/// An offer's neighbours on its level, in time priority: the one before it and the one after
/// it (`NONE` at the ends). An offer that is not on a book has both `NONE` (`Link::OFF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub prev: OfferId,
    pub next: OfferId,
}

/// No offer: the end of a level.
pub const NONE: u32 = u32::MAX;

impl Link {
    pub const OFF: Link = Link { prev: OfferId(NONE), next: OfferId(NONE) };
}

/// Where the offers' links live: the exchange's offers (each `Offer` holds its own, next to
/// what the matcher reads anyway), or a plain list in tests.
pub trait Links {
    fn link(&self, id: OfferId) -> Link;
    fn link_mut(&mut self, id: OfferId) -> &mut Link;
}

/// The links of the book's own tests, in a plain list.
#[cfg(test)]
impl Links for Vec<Link> {
    fn link(&self, id: OfferId) -> Link {
        self.get(id.index()).copied().unwrap_or(Link::OFF)
    }
    fn link_mut(&mut self, id: OfferId) -> &mut Link {
        if self.len() <= id.index() {
            self.resize(id.index() + 1, Link::OFF);
        }
        &mut self[id.index()]
    }
}

/// One order book: the levels of both sides. Each level is an intrusive list through the
/// offers' `Link`s, so appending, removing from anywhere and walking a level touch only the
/// offers concerned and the level's two ends: no buffer per level, no search.
#[derive(Clone, Debug, Default)]
pub struct Book {
    /// Best bid = highest price.
    bids: Levels,
    /// Best ask = lowest price.
    asks: Levels,
}

/// Two books are equal when they have the same levels with the same ends (the offers in
/// between are the links', compared with the offers), whichever chunks hold them.
impl PartialEq for Book {
    fn eq(&self, other: &Book) -> bool {
        fn ends(side: &Levels) -> impl Iterator<Item = (u16, Option<Ends>)> + '_ {
            side.prices().map(move |p| (p, side.get(p)))
        }
        [true, false].into_iter().all(|bid| ends(self.side(bid)).eq(ends(other.side(bid))))
    }
}
impl Eq for Book {}

/// How a book is stored: its levels, each a price and its offers in time priority.
#[derive(serde::Deserialize)]
pub(crate) struct BookRow {
    pub(crate) bids: Vec<(u16, Vec<OfferId>)>,
    pub(crate) asks: Vec<(u16, Vec<OfferId>)>,
}

impl BookRow {
    /// Every offer the stored book names.
    pub(crate) fn offers(&self) -> impl Iterator<Item = OfferId> + '_ {
        self.bids.iter().chain(&self.asks).flat_map(|(_, l)| l.iter().copied())
    }
}

/// A book written as a `BookRow` (the same bytes), walking its levels through `links`.
pub(crate) struct BookRef<'a, L> {
    book: &'a Book,
    links: &'a L,
}

impl<L: Links> serde::Serialize for BookRef<'_, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut row = s.serialize_struct("BookRow", 2)?;
        row.serialize_field("bids", &SideRef { book: self.book, links: self.links, bid: true })?;
        row.serialize_field("asks", &SideRef { book: self.book, links: self.links, bid: false })?;
        row.end()
    }
}

struct SideRef<'a, L> {
    book: &'a Book,
    links: &'a L,
    bid: bool,
}

impl<L: Links> serde::Serialize for SideRef<'_, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let side = self.book.side(self.bid);
        let mut seq = s.serialize_seq(Some(side.prices().count()))?;
        for (price, level) in self.book.levels(self.links, self.bid) {
            seq.serialize_element(&(price, LevelRef(level)))?;
        }
        seq.end()
    }
}

struct LevelRef<'a, L>(Level<'a, L>);

impl<L: Links> serde::Serialize for LevelRef<'_, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.clone().count()))?;
        for id in self.0.clone() {
            seq.serialize_element(&id)?;
        }
        seq.end()
    }
}

/// The offers of one level in time priority, walked through their links.
pub struct Level<'a, L> {
    links: &'a L,
    at: OfferId,
}

impl<L> Clone for Level<'_, L> {
    fn clone(&self) -> Self {
        Level { links: self.links, at: self.at }
    }
}

impl<L: Links> Iterator for Level<'_, L> {
    type Item = OfferId;
    fn next(&mut self) -> Option<OfferId> {
        let id = self.at;
        if id.0 == NONE {
            return None;
        }
        self.at = self.links.link(id).next;
        Some(id)
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

    /// This book to store: the same bytes as a `BookRow`.
    pub(crate) fn row<'a, L: Links>(&'a self, links: &'a L) -> BookRef<'a, L> {
        BookRef { book: self, links }
    }

    /// A stored book back, linking its offers in `links` (each offer's link must be
    /// `Link::OFF`: an offer sits on one book once).
    pub(crate) fn from_row(row: BookRow, links: &mut impl Links) -> Book {
        let mut b = Book::default();
        for (bid, levels) in [(true, row.bids), (false, row.asks)] {
            for (price, offers) in levels {
                for o in offers {
                    b.insert(links, bid, price, o);
                }
            }
        }
        b
    }

    /// The levels of one side, in ascending price order, as (price, offers in time priority).
    pub fn levels<'a, L: Links>(
        &'a self,
        links: &'a L,
        bid: bool,
    ) -> impl DoubleEndedIterator<Item = (u16, Level<'a, L>)> + 'a {
        let side = self.side(bid);
        side.prices().filter_map(move |p| Some((p, Level { links, at: side.get(p)?.head })))
    }

    /// Appends an offer at the back of its level (latest time priority). The offer must not be
    /// on a book (its link is `Link::OFF`).
    pub fn insert(&mut self, links: &mut impl Links, bid: bool, price_bp: u16, offer: OfferId) {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        match side.get(price_bp) {
            Some(Ends { head, tail }) => {
                links.link_mut(tail).next = offer;
                *links.link_mut(offer) = Link { prev: tail, next: OfferId(NONE) };
                side.set(price_bp, Ends { head, tail: offer });
            }
            None => {
                *links.link_mut(offer) = Link::OFF;
                side.set(price_bp, Ends { head: offer, tail: offer });
            }
        }
    }

    /// Asks for the cache lines of the level at `price_bp` (`crate::hint`).
    #[mutants::skip]
    pub(crate) fn prefetch(&self, bid: bool, price_bp: u16) {
        self.side(bid).prefetch(price_bp);
    }

    /// The last offer of the level at `price_bp`, if it has offers.
    pub(crate) fn tail(&self, bid: bool, price_bp: u16) -> Option<OfferId> {
        self.side(bid).get(price_bp).map(|e| e.tail)
    }

    /// Removes an offer from its level at `price_bp` (its own price on this side of this book:
    /// the callers take both from the offer); returns whether it was on a level there.
    pub fn remove(&mut self, links: &mut impl Links, bid: bool, price_bp: u16, offer: OfferId) -> bool {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        let Some(Ends { head, tail }) = side.get(price_bp) else { return false };
        let Link { prev, next } = links.link(offer);
        // On a level: the offer before it points to it, or it is this level's head; and the
        // same for the one after it.
        let linked_before = if prev.0 == NONE { head == offer } else { links.link(prev).next == offer };
        let linked_after = if next.0 == NONE { tail == offer } else { links.link(next).prev == offer };
        if !(linked_before && linked_after) {
            return false;
        }
        if prev.0 != NONE {
            links.link_mut(prev).next = next;
        }
        if next.0 != NONE {
            links.link_mut(next).prev = prev;
        }
        *links.link_mut(offer) = Link::OFF;
        let head = if prev.0 == NONE { next } else { head };
        let tail = if next.0 == NONE { prev } else { tail };
        if head.0 == NONE {
            side.clear(price_bp);
        } else {
            side.set(price_bp, Ends { head, tail });
        }
        true
    }

    /// Visits the levels of one side that cross `limit_bp`, best first, until `visit` breaks:
    /// for resting bids (an ask arrives) those >= limit; for resting asks (a bid arrives) those
    /// <= limit.
    pub fn visit_crossing<'a, B, L: Links>(
        &'a self,
        links: &'a L,
        resting_bids: bool,
        limit_bp: u16,
        mut visit: impl FnMut(u16, Level<'a, L>) -> ControlFlow<B>,
    ) -> Option<B> {
        let side = self.side(resting_bids);
        let mut next = if resting_bids { side.next_down(TOP) } else { side.next_up(0) };
        // At most one visit a price.
        for _ in 0..=TOP {
            let Some(p) = next else { break };
            let crosses = if resting_bids { p >= limit_bp } else { p <= limit_bp };
            let Some(ends) = side.get(p).filter(|_| crosses) else { break };
            if let ControlFlow::Break(b) = visit(p, Level { links, at: ends.head }) {
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
    pub fn all<'a, L: Links>(&'a self, links: &'a L) -> impl Iterator<Item = OfferId> + 'a {
        self.levels(links, true).chain(self.levels(links, false)).flat_map(|(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(l: Level<'_, Vec<Link>>) -> Vec<OfferId> {
        l.collect()
    }

    /// What a driver's hints read ahead (`super::super::ahead`): a level's last offer.
    #[test]
    fn a_levels_last_offer_is_read_ahead() {
        let (mut b, mut k) = (Book::default(), Vec::new());
        assert_eq!(b.tail(true, 4000), None);
        b.insert(&mut k, true, 4000, OfferId(1));
        b.insert(&mut k, true, 4000, OfferId(2));
        b.insert(&mut k, false, 6000, OfferId(4));
        assert_eq!((b.tail(true, 4000), b.tail(false, 6000)), (Some(OfferId(2)), Some(OfferId(4))));
        assert_eq!((b.tail(false, 4000), b.tail(true, 4001), b.tail(true, 6000)), (None, None, None));
        assert!(b.remove(&mut k, true, 4000, OfferId(2)));
        assert_eq!(b.tail(true, 4000), Some(OfferId(1)));
        // A hint for a level that is empty, or in a chunk never made, reads nothing.
        b.prefetch(true, 9000);
        b.prefetch(false, 10_000);
        Book::default().prefetch(true, 4000);
    }

    #[test]
    fn crossing_levels_come_best_first() {
        let (mut b, mut k) = (Book::default(), Vec::new());
        assert!(b.is_empty());
        b.insert(&mut k, true, 4000, OfferId(1));
        assert!(!b.is_empty());
        b.insert(&mut k, true, 6000, OfferId(2));
        b.insert(&mut k, true, 5000, OfferId(3));
        b.insert(&mut k, false, 7000, OfferId(4));
        b.insert(&mut k, false, 6500, OfferId(5));
        let mut bids = vec![];
        b.visit_crossing::<(), _>(&k, true, 4500, |p, _| {
            bids.push(p);
            ControlFlow::Continue(())
        });
        assert_eq!(bids, vec![6000, 5000]);
        let mut asks = vec![];
        b.visit_crossing::<(), _>(&k, false, 6800, |p, _| {
            asks.push(p);
            ControlFlow::Continue(())
        });
        assert_eq!(asks, vec![6500]);
        assert!(b.remove(&mut k, true, 6000, OfferId(2)));
        assert!(!b.remove(&mut k, true, 6000, OfferId(2)));
        assert_eq!(k.link(OfferId(2)), Link::OFF, "a removed offer keeps no links");
        assert_eq!(b.best_bid(), Some(5000));
        assert_eq!(b.best_ask(), Some(6500));
    }

    #[test]
    fn a_level_keeps_time_priority_through_removals_anywhere() {
        let (mut b, mut k) = (Book::default(), Vec::new());
        for id in 1..=5 {
            b.insert(&mut k, false, 5000, OfferId(id));
        }
        let level = |b: &Book, k: &Vec<Link>| b.levels(k, false).map(|(_, l)| ids(l)).collect::<Vec<_>>();
        assert!(b.remove(&mut k, false, 5000, OfferId(3)), "from the middle");
        assert!(b.remove(&mut k, false, 5000, OfferId(1)), "the head");
        assert!(b.remove(&mut k, false, 5000, OfferId(5)), "the tail");
        assert_eq!(level(&b, &k), [vec![OfferId(2), OfferId(4)]]);
        assert!(!b.remove(&mut k, false, 5001, OfferId(2)), "no level at that price");
        // Offer 4 is the tail of its level, with offer 2 before it; asked at another level, its
        // link back holds but its place at that level's end does not: refused, nothing moves.
        b.insert(&mut k, false, 6000, OfferId(7));
        b.insert(&mut k, false, 6000, OfferId(8));
        assert!(!b.remove(&mut k, false, 6000, OfferId(4)), "on another level");
        assert_eq!(level(&b, &k), [vec![OfferId(2), OfferId(4)], vec![OfferId(7), OfferId(8)]]);
        assert!(b.remove(&mut k, false, 6000, OfferId(7)) && b.remove(&mut k, false, 6000, OfferId(8)));
        assert!(!b.remove(&mut k, false, 5000, OfferId(9)), "never on the book");
        b.insert(&mut k, false, 5000, OfferId(3));
        assert_eq!(level(&b, &k), [vec![OfferId(2), OfferId(4), OfferId(3)]], "back in at the end");
        for id in [4, 2, 3] {
            assert!(b.remove(&mut k, false, 5000, OfferId(id)));
        }
        assert!(b.is_empty());
        assert!(k.iter().all(|l| *l == Link::OFF));
    }

    /// The book against a model of the same levels in a `BTreeMap`: every insert and removal,
    /// then the levels, the best prices, and the crossing levels from every limit. An offer
    /// sits on the book at most once (the exchange's rule), and a removal names the offer's
    /// own price and side or an offer not on the book; the others are skipped.
    fn check_against_model(ops: &[(bool, bool, u16, u32)]) {
        use std::collections::BTreeMap;
        let (mut b, mut k) = (Book::default(), Vec::new());
        let mut model: [BTreeMap<u16, Vec<OfferId>>; 2] = Default::default();
        let mut at: BTreeMap<u32, (bool, u16)> = BTreeMap::new();
        for &(insert, bid, price, id) in ops {
            if insert {
                if at.contains_key(&id) {
                    continue;
                }
                b.insert(&mut k, bid, price, OfferId(id));
                model[bid as usize].entry(price).or_default().push(OfferId(id));
                at.insert(id, (bid, price));
            } else {
                let (bid, price) = at.get(&id).copied().unwrap_or((bid, price));
                let m = &mut model[bid as usize];
                let there = m.get(&price).is_some_and(|l| l.contains(&OfferId(id)));
                assert_eq!(b.remove(&mut k, bid, price, OfferId(id)), there);
                if let Some(l) = m.get_mut(&price) {
                    l.retain(|o| *o != OfferId(id));
                    if l.is_empty() {
                        m.remove(&price);
                    }
                }
                at.remove(&id);
            }
        }
        for bid in [true, false] {
            let m = &model[bid as usize];
            let levels: Vec<(u16, Vec<OfferId>)> = b.levels(&k, bid).map(|(p, l)| (p, ids(l))).collect();
            assert_eq!(levels, m.iter().map(|(p, l)| (*p, l.clone())).collect::<Vec<_>>());
            let back: Vec<u16> = b.levels(&k, bid).rev().map(|(p, _)| p).collect();
            assert_eq!(back, m.keys().rev().copied().collect::<Vec<_>>());
            for limit in (0..=10_000u16).step_by(97).chain([0, 63, 64, 10_000]) {
                let mut seen = vec![];
                b.visit_crossing::<(), _>(&k, bid, limit, |p, l| {
                    seen.push((p, ids(l)));
                    ControlFlow::Continue(())
                });
                let want: Vec<(u16, Vec<OfferId>)> = if bid {
                    m.range(limit..).rev().map(|(p, l)| (*p, l.clone())).collect()
                } else {
                    m.range(..=limit).map(|(p, l)| (*p, l.clone())).collect()
                };
                assert_eq!(seen, want, "bid {bid} limit {limit}");
            }
        }
        assert_eq!(b.best_bid(), model[1].keys().next_back().copied());
        assert_eq!(b.best_ask(), model[0].keys().next().copied());
        assert_eq!(b.is_empty(), model.iter().all(|m| m.is_empty()));
        for id in 0..k.len() as u32 {
            if !at.contains_key(&id) {
                assert_eq!(k.link(OfferId(id)), Link::OFF, "offer {id} is off the book");
            }
        }
        // Stored and read back: the same levels, the same links.
        let bytes = rmp_serde::to_vec(&b.row(&k)).unwrap();
        let mut k2 = Vec::new();
        let back = Book::from_row(rmp_serde::from_slice(&bytes).unwrap(), &mut k2);
        assert_eq!(back, b);
        k2.resize(k.len(), Link::OFF);
        assert_eq!(k2[..], k[..k2.len()]);
        // The same bytes as the levels written out plainly (what a snapshot always held).
        let plain = |bid| b.levels(&k, bid).map(|(p, l)| (p, ids(l))).collect::<Vec<_>>();
        #[derive(serde::Serialize)]
        struct Plain {
            bids: Vec<(u16, Vec<OfferId>)>,
            asks: Vec<(u16, Vec<OfferId>)>,
        }
        assert_eq!(bytes, rmp_serde::to_vec(&Plain { bids: plain(true), asks: plain(false) }).unwrap());
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
    fn books_are_equal_by_their_levels_not_their_chunks() {
        let (mut a, mut ka) = (Book::default(), Vec::new());
        a.insert(&mut ka, true, 10, OfferId(1));
        a.remove(&mut ka, true, 10, OfferId(1));
        a.insert(&mut ka, true, 2000, OfferId(2));
        let (mut b, mut kb) = (Book::default(), Vec::new());
        b.insert(&mut kb, true, 2000, OfferId(2));
        assert_eq!(a, b, "an emptied chunk does not make a book differ");
        b.insert(&mut kb, true, 2000, OfferId(3));
        assert_ne!(a, b);
        a.insert(&mut ka, false, 2000, OfferId(3));
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
