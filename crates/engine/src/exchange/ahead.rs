//! The memory of commands ahead: while the writer applies one command of a batch, it can ask for
//! the cache lines the next ones will read (`Engine::prefetch`), in two steps, because some
//! addresses are only known from memory the first step brings in:
//! - [`Exchange::prefetch_far`], two commands ahead: the book level a new offer joins; the offer
//!   a cancel names.
//! - [`Exchange::prefetch_near`], one command ahead, reading what the far step asked for: the
//!   offer a new one will be linked behind; a cancelled offer's neighbours and level.
//!
//! Not asked for: the level a crossing offer trades with and its first offer (finding the best
//! price costs more than it saved, docs/benchmarks.md), nor the positions of a fill.
//!
//! Only hints (`crate::hint`): nothing is changed, and a command that turns out otherwise (a
//! level emptied in between, an id this engine never gave) costs a wasted load at most, never a
//! different result.

use crate::command::Terms;
use crate::hint::prefetch;
use crate::ids::{OfferId, SeriesId};

use super::book::{Book, NONE};
use super::{book_bp, Exchange};

/// A command ahead, as far as its memory goes.
pub(crate) enum Ahead<'a> {
    /// A new offer on a series the driver found, with these terms.
    Offer(SeriesId, &'a Terms),
    /// A cancel of an offer found by the driver.
    Cancel(OfferId),
}

// A hint has no effect a test can see (only time): its mutants would all be missed.
#[mutants::skip]
impl Exchange {
    /// The book, side and price a new offer on `series` with `terms` would rest at.
    fn resting_level(&self, series: SeriesId, terms: &Terms) -> Option<(&Book, bool, u16)> {
        let book = self.books.get(series.index())?;
        Some((book, terms.kind.is_bid(), book_bp(terms.kind, terms.price)))
    }

    /// The first step, two commands ahead (see the module).
    pub(crate) fn prefetch_far(&self, ahead: Ahead) {
        match ahead {
            Ahead::Offer(series, terms) => {
                if let Some((book, bid, bp)) = self.resting_level(series, terms) {
                    book.prefetch(bid, bp);
                }
            }
            Ahead::Cancel(id) => {
                if let Some(o) = self.offers.get(id.index()) {
                    prefetch(o);
                    prefetch(&o.link);
                }
            }
        }
    }

    /// The second step, one command ahead (see the module).
    pub(crate) fn prefetch_near(&self, ahead: Ahead) {
        match ahead {
            Ahead::Offer(series, terms) => {
                let Some((book, bid, bp)) = self.resting_level(series, terms) else { return };
                if let Some(o) = book.tail(bid, bp).and_then(|t| self.offers.get(t.index())) {
                    prefetch(&o.link);
                }
            }
            Ahead::Cancel(id) => {
                let Some(o) = self.offers.get(id.index()) else { return };
                for n in [o.link.prev, o.link.next] {
                    if let Some(n) = self.offers.get(n.index()).filter(|_| n.0 != NONE) {
                        prefetch(&n.link);
                    }
                }
                if let Some(book) = self.books.get(o.series.index()) {
                    book.prefetch(o.kind.is_bid(), o.book_bp());
                }
            }
        }
    }
}
