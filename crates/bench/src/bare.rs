//! A bare book: the speed-of-light reference for the engine bench. Price-time priority limit
//! orders on the fixed price, one book per series, with nothing else: no users, no money, no
//! events, no names (orders are the stream's dense ids). Each side of a book is a flat array of
//! the 10,001 basis-point prices, each price a FIFO queue threaded through the orders (head and
//! tail indexes, a `next` index in each order); a cancel only marks its order dead and the
//! matcher skips it. What the engine does beyond this is what its accounting costs.

use crate::Step;

const PRICES: usize = 10_001;
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Order {
    remaining: u64,
    next: u32,
    bp: u16,
    bid: bool,
    live: bool,
}

#[derive(Clone, Copy)]
struct Level {
    head: u32,
    tail: u32,
}

const EMPTY: Level = Level { head: NONE, tail: NONE };

struct Side {
    levels: Vec<Level>,
    /// Highest bid or lowest ask with a queue (live or not yet swept), if any.
    best: Option<u16>,
}

impl Side {
    fn new() -> Side {
        Side { levels: vec![EMPTY; PRICES], best: None }
    }
}

struct Book {
    bids: Side,
    asks: Side,
}

/// Books of every series, and every order the stream placed.
pub struct BareBooks {
    books: Vec<Book>,
    orders: Vec<Order>,
    series_of: Vec<u32>,
    /// Units traded so far.
    pub traded: u64,
    /// Fills (one resting order against one arriving) so far.
    pub fills: u64,
}

impl BareBooks {
    pub fn new(series: usize, orders: usize) -> BareBooks {
        BareBooks {
            books: (0..series).map(|_| Book { bids: Side::new(), asks: Side::new() }).collect(),
            orders: Vec::with_capacity(orders),
            series_of: Vec::with_capacity(orders),
            traded: 0,
            fills: 0,
        }
    }

    /// Applies one step of the stream. Orders must be placed in the order of their ids.
    pub fn apply(&mut self, step: &Step) {
        match *step {
            Step::Place { id, series, bid, bp, volume, .. } => {
                debug_assert_eq!(id as usize, self.orders.len());
                self.series_of.push(series as u32);
                self.place(series, bid, bp, volume)
            }
            Step::Cancel { id, .. } => self.cancel(id as usize),
        }
    }

    fn place(&mut self, series: usize, bid: bool, bp: u16, volume: u64) {
        let id = self.orders.len() as u32;
        let book = &mut self.books[series];
        let (own, other) = if bid { (&mut book.bids, &mut book.asks) } else { (&mut book.asks, &mut book.bids) };
        let mut left = volume;
        // Cross the other side while its best price is at or better than ours.
        while left > 0 {
            let Some(p) = other.best else { break };
            if (bid && p > bp) || (!bid && p < bp) {
                break;
            }
            let level = &mut other.levels[p as usize];
            while left > 0 && level.head != NONE {
                let o = &mut self.orders[level.head as usize];
                if o.live {
                    let n = left.min(o.remaining);
                    o.remaining -= n;
                    left -= n;
                    self.traded += n;
                    self.fills += 1;
                    if o.remaining > 0 {
                        break;
                    }
                    o.live = false;
                }
                level.head = o.next;
            }
            if level.head == NONE {
                level.tail = NONE;
                other.best = next_best(&other.levels, p, !bid);
            }
        }
        let live = left > 0;
        self.orders.push(Order { remaining: left, next: NONE, bp, bid, live });
        if live {
            let level = &mut own.levels[bp as usize];
            if level.tail == NONE {
                level.head = id;
            } else {
                self.orders[level.tail as usize].next = id;
            }
            level.tail = id;
            let better = match own.best {
                None => true,
                Some(b) => (bid && bp > b) || (!bid && bp < b),
            };
            if better {
                own.best = Some(bp);
            }
        }
    }

    /// Marks the order dead (if it still rests); the matcher unlinks it when it gets there.
    /// An emptied best level is swept at once so that `best` stays on a live order.
    fn cancel(&mut self, id: usize) {
        let Some(o) = self.orders.get_mut(id) else { return };
        if !o.live {
            return;
        }
        o.live = false;
        let (bp, bid) = (o.bp, o.bid);
        let book = &mut self.books[self.series_of[id] as usize];
        let side = if bid { &mut book.bids } else { &mut book.asks };
        if side.best != Some(bp) {
            return;
        }
        let level = &mut side.levels[bp as usize];
        while level.head != NONE && !self.orders[level.head as usize].live {
            level.head = self.orders[level.head as usize].next;
        }
        if level.head == NONE {
            level.tail = NONE;
            side.best = next_best(&side.levels, bp, bid);
        }
    }

    /// Units still resting on the book, live orders only.
    pub fn resting(&self) -> u64 {
        self.orders.iter().filter(|o| o.live).map(|o| o.remaining).sum()
    }
}

/// The next price with a queue past `from` on a side (downwards for bids, upwards for asks).
fn next_best(levels: &[Level], from: u16, bid: bool) -> Option<u16> {
    if bid {
        (0..from).rev().find(|&p| levels[p as usize].head != NONE)
    } else {
        (from + 1..PRICES as u16).find(|&p| levels[p as usize].head != NONE)
    }
}

#[cfg(test)]
mod tests {
    use super::BareBooks;
    use crate::Step;

    fn place(id: u64, bid: bool, bp: u16, volume: u64) -> Step {
        Step::Place { id, user: 0, series: 0, bid, bp, volume, crossing: false }
    }

    #[test]
    fn crosses_at_the_best_price_first_then_in_time_order_and_rests_the_rest() {
        let mut b = BareBooks::new(1, 8);
        for s in [place(0, false, 5_200, 3), place(1, false, 5_100, 2), place(2, false, 5_100, 4)] {
            b.apply(&s);
        }
        // A bid of 7 at 0.52 takes 2 + 4 at 0.51 (time order), then 1 of the 3 at 0.52.
        b.apply(&place(3, true, 5_200, 7));
        assert_eq!((b.traded, b.fills, b.resting()), (7, 3, 2));
        // A bid at 0.50 does not reach the ask left at 0.52: it rests.
        b.apply(&place(4, true, 5_000, 5));
        assert_eq!((b.traded, b.resting()), (7, 7));
        // A large ask takes the bid at 0.50 and rests its remainder.
        b.apply(&place(5, false, 4_900, 9));
        assert_eq!((b.traded, b.fills, b.resting()), (12, 4, 2 + 4));
    }

    #[test]
    fn cancelled_orders_are_skipped_and_cancels_of_filled_ones_change_nothing() {
        let mut b = BareBooks::new(2, 8);
        for s in [place(0, true, 4_000, 5), place(1, true, 4_000, 5), place(2, true, 3_900, 5)] {
            b.apply(&s);
        }
        b.apply(&Step::Cancel { id: 0, user: 0 });
        b.apply(&Step::Cancel { id: 1, user: 0 });
        assert_eq!(b.resting(), 5);
        // The best bid is now 0.39: an ask at 0.40 does not cross; one at 0.39 fills it.
        b.apply(&Step::Place { id: 3, user: 0, series: 0, bid: false, bp: 4_000, volume: 1, crossing: false });
        assert_eq!(b.traded, 0);
        b.apply(&Step::Place { id: 4, user: 0, series: 0, bid: false, bp: 3_900, volume: 5, crossing: true });
        assert_eq!((b.traded, b.resting()), (5, 1));
        b.apply(&Step::Cancel { id: 2, user: 0 });
        b.apply(&Step::Cancel { id: 99, user: 0 });
        assert_eq!((b.traded, b.resting()), (5, 1));
        // Another series' book is apart.
        b.apply(&Step::Place { id: 5, user: 0, series: 1, bid: true, bp: 9_000, volume: 1, crossing: true });
        assert_eq!((b.traded, b.resting()), (5, 2));
    }
}
