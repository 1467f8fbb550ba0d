//! The issue-futures exchange (spec/exchange.md): issues of trackers, series, one book per
//! series, four offer kinds, matching, holds, positions, maturation and settlement.
//!
//! All money moves through the engine's [`Ledger`]; this module keeps the non-money state and
//! the rules. Submodules each own one job:
//! * `issues`: tracker issues and their state as of any instant;
//! * `book`: price-time ordered levels;
//! * `matching`: planning and executing fills for an arriving offer;
//! * `holds`: reserving, releasing and pooling what open offers need;
//! * `lifecycle`: placing, cancelling, resuming, expiring, maturing, settling;
//! * `positions`: holdings with cost basis;
//! * `views`: read-only projections for drivers.

mod ahead;
pub mod book;
pub mod holds;
pub mod issues;
pub mod lifecycle;
pub mod maker;
pub mod matching;
pub mod positions;
pub mod types;
pub mod views;

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::event::{Event, Timed};
use crate::ids::{IssueId, Names, OfferId, SeriesId, UserId};
use crate::ledger::Ledger;
use crate::money::{Amount, Price};
use crate::rows::Rows;
use crate::time::{earliest, Agenda, Timestamp};
pub(crate) use ahead::Ahead;
use book::{Book, BookRow, Link, Links};
use issues::Issue;
pub(crate) use lifecycle::Placing;
use positions::Position;
use types::{OfferKind, OfferStatus, Outcome, SeriesStatus};

/// Largest volume of one offer (keeps every `price x volume` far inside i64).
pub const MAX_VOLUME: u64 = 1_000_000_000;

/// Configurable limits (defaults suit a public sandbox; the simulator raises them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub max_open_offers_per_user: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_open_offers_per_user: 10_000 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "OfferRow", into = "OfferRow")]
pub struct Offer {
    pub user: UserId,
    pub series: SeriesId,
    pub kind: OfferKind,
    /// The price of the offer's own side.
    pub price: Price,
    pub volume: u64,
    pub remaining: u64,
    pub aon: bool,
    /// Only buy offers pool.
    pub poolable: bool,
    pub expiration: Timestamp,
    pub status: OfferStatus,
    pub placed_at: Timestamp,
    /// Its neighbours on its book's level while it is open (`book`), `Link::OFF` otherwise.
    /// Not stored: rebuilt from the books when a snapshot is read.
    pub(crate) link: Link,
}

/// How an offer is stored in a snapshot: its fields in order, without their names. Offers are
/// most of a large engine's state (every offer ever placed is kept), and in MessagePack with
/// named fields the names were about two thirds of each offer's bytes (docs/benchmarks.md,
/// "Restarts").
#[derive(serde::Serialize, serde::Deserialize)]
struct OfferRow(UserId, SeriesId, OfferKind, Price, u64, u64, bool, bool, Timestamp, OfferStatus, Timestamp);

impl From<Offer> for OfferRow {
    fn from(o: Offer) -> OfferRow {
        let Offer {
            user,
            series,
            kind,
            price,
            volume,
            remaining,
            aon,
            poolable,
            expiration,
            status,
            placed_at,
            link: _,
        } = o;
        OfferRow(user, series, kind, price, volume, remaining, aon, poolable, expiration, status, placed_at)
    }
}

impl From<OfferRow> for Offer {
    fn from(r: OfferRow) -> Offer {
        let OfferRow(user, series, kind, price, volume, remaining, aon, poolable, expiration, status, placed_at) = r;
        Offer {
            user,
            series,
            kind,
            price,
            volume,
            remaining,
            aon,
            poolable,
            expiration,
            status,
            placed_at,
            link: Link::OFF,
        }
    }
}

/// The offers hold the links of the books' levels.
impl Links for Rows<Offer> {
    fn link(&self, id: OfferId) -> Link {
        self[id.index()].link
    }
    fn link_mut(&mut self, id: OfferId) -> &mut Link {
        &mut self[id.index()].link
    }
}

impl Offer {
    /// The offer's price on the fixed-price book.
    pub fn book_bp(&self) -> u16 {
        book_bp(self.kind, self.price)
    }
    /// Credits a buy offer needs reserved for its remaining volume (0 for sells).
    pub fn requirement(&self) -> Amount {
        if self.kind.is_buy() {
            self.price.cost(self.remaining).unwrap_or(Amount(i64::MAX))
        } else {
            Amount::ZERO
        }
    }
    pub fn is_live(&self) -> bool {
        matches!(self.status, OfferStatus::Open | OfferStatus::Suspended)
    }
}

/// The price on the fixed-price book of an offer of `kind` at its own side's `price`.
fn book_bp(kind: OfferKind, price: Price) -> u16 {
    let p = match kind {
        OfferKind::BuyFixed | OfferKind::SellFixed => price,
        OfferKind::BuyUnfixed | OfferKind::SellUnfixed => price.complement(),
    };
    p.bp() as u16
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Series {
    pub issue: IssueId,
    pub maturation: Timestamp,
    pub status: SeriesStatus,
    /// Outstanding units (= fixed units held = unfixed units held).
    pub units: u64,
    pub outcome: Option<Outcome>,
    pub settled_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    /// Price (fixed side) and volume of the last trade, for marks and listings.
    pub last_price: Option<Price>,
    pub traded_volume: u64,
    /// Users that own or owned units (for settlement), in order of their first acquisition;
    /// each appears once (added when their position in this series is created).
    pub holders: Vec<UserId>,
    /// Every offer ever placed on this series, in order (the live ones are cancelled at
    /// maturation). Append-only: cheaper than maintaining a set on every fill.
    #[serde(deserialize_with = "crate::ids::presized")]
    pub offers: Vec<OfferId>,
}

/// Per-user exchange state.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Trader {
    /// The one hold shared by this user's active poolable buy offers: the largest requirement.
    pub pool_hold: Amount,
    /// Poolable buy offers that are open or suspended.
    pub pooled: Vec<OfferId>,
    /// Open + suspended offers (for the per-user limit).
    pub live_offers: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "ExchangeRow")]
pub struct Exchange {
    pub(crate) issue_names: Names,
    pub(crate) issues: Vec<Issue>,
    pub(crate) series_keys: FxHashMap<(IssueId, Timestamp), SeriesId>,
    pub(crate) series: Vec<Series>,
    pub(crate) books: Vec<Book>,
    pub(crate) offer_names: Names,
    /// Every offer ever placed, by id: in chunks that never move (`crate::rows`), so that
    /// growing never copies the whole list.
    pub(crate) offers: Rows<Offer>,
    pub(crate) traders: Vec<Trader>,
    pub(crate) positions: FxHashMap<(UserId, SeriesId), Position>,
    /// Open offers that expire before their series matures, by expiration.
    pub(crate) expiries: Agenda<OfferId>,
    /// Open series by maturation.
    pub(crate) maturities: Agenda<SeriesId>,
    /// Matured series waiting for a decision.
    pub(crate) awaiting: BTreeSet<SeriesId>,
    pub(crate) limits: Limits,
    /// Scratch space of the matcher, kept to avoid an allocation per arriving offer.
    pub(crate) scratch: matching::Scratch,
    /// Automated market makers by series (`maker.rs`).
    pub(crate) makers: std::collections::BTreeMap<SeriesId, maker::Maker>,
    /// Set while a maker re-quotes, so that its own placements do not re-enter.
    pub(crate) requoting: bool,
    /// Series settled by arbitration, not by their tracker (`crate::arbitrated`).
    pub(crate) arbitrated: BTreeSet<SeriesId>,
    /// How long a matured tracker series waits for a dispute before its tracker settles it
    /// (0: no disputes, settlement at maturation).
    pub(crate) dispute_window_ms: i64,
    /// Matured series in their dispute window, with its end.
    pub(crate) dispute_until: std::collections::BTreeMap<SeriesId, Timestamp>,
    pub(crate) releases: Agenda<SeriesId>,
}

/// How an exchange is stored. The books are written as their levels' offers in time priority,
/// walked through the offers' links (`book::BookRef`), and read back by linking those offers
/// again, so the stored form is what it was when each level held its own list of ids: the
/// links are never stored. The field lists of `ExchangeRef` and `ExchangeRow` follow
/// `Exchange` (the conversions name every field, so a new one fails to compile until added).
#[derive(serde::Serialize)]
#[serde(rename = "Exchange")]
struct ExchangeRef<'a> {
    issue_names: &'a Names,
    issues: &'a Vec<Issue>,
    series_keys: &'a FxHashMap<(IssueId, Timestamp), SeriesId>,
    series: &'a Vec<Series>,
    books: BooksRef<'a>,
    offer_names: &'a Names,
    offers: &'a Rows<Offer>,
    traders: &'a Vec<Trader>,
    positions: &'a FxHashMap<(UserId, SeriesId), Position>,
    expiries: &'a Agenda<OfferId>,
    maturities: &'a Agenda<SeriesId>,
    awaiting: &'a BTreeSet<SeriesId>,
    limits: &'a Limits,
    scratch: &'a matching::Scratch,
    makers: &'a std::collections::BTreeMap<SeriesId, maker::Maker>,
    requoting: &'a bool,
    arbitrated: &'a BTreeSet<SeriesId>,
    dispute_window_ms: &'a i64,
    dispute_until: &'a std::collections::BTreeMap<SeriesId, Timestamp>,
    releases: &'a Agenda<SeriesId>,
}

struct BooksRef<'a> {
    books: &'a [Book],
    offers: &'a Rows<Offer>,
}

impl serde::Serialize for BooksRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.books.iter().map(|b| b.row(self.offers)))
    }
}

impl serde::Serialize for Exchange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Exchange {
            issue_names,
            issues,
            series_keys,
            series,
            books,
            offer_names,
            offers,
            traders,
            positions,
            expiries,
            maturities,
            awaiting,
            limits,
            scratch,
            makers,
            requoting,
            arbitrated,
            dispute_window_ms,
            dispute_until,
            releases,
        } = self;
        ExchangeRef {
            issue_names,
            issues,
            series_keys,
            series,
            books: BooksRef { books, offers },
            offer_names,
            offers,
            traders,
            positions,
            expiries,
            maturities,
            awaiting,
            limits,
            scratch,
            makers,
            requoting,
            arbitrated,
            dispute_window_ms,
            dispute_until,
            releases,
        }
        .serialize(s)
    }
}

#[derive(serde::Deserialize)]
struct ExchangeRow {
    issue_names: Names,
    issues: Vec<Issue>,
    series_keys: FxHashMap<(IssueId, Timestamp), SeriesId>,
    series: Vec<Series>,
    books: Vec<BookRow>,
    offer_names: Names,
    offers: Rows<Offer>,
    traders: Vec<Trader>,
    positions: FxHashMap<(UserId, SeriesId), Position>,
    expiries: Agenda<OfferId>,
    maturities: Agenda<SeriesId>,
    awaiting: BTreeSet<SeriesId>,
    limits: Limits,
    scratch: matching::Scratch,
    makers: std::collections::BTreeMap<SeriesId, maker::Maker>,
    requoting: bool,
    arbitrated: BTreeSet<SeriesId>,
    dispute_window_ms: i64,
    dispute_until: std::collections::BTreeMap<SeriesId, Timestamp>,
    releases: Agenda<SeriesId>,
}

impl TryFrom<ExchangeRow> for Exchange {
    type Error = String;

    /// Links the books' offers again; a book that names an unknown offer, or an offer twice,
    /// is refused (it would corrupt the links).
    fn try_from(r: ExchangeRow) -> Result<Exchange, String> {
        let ExchangeRow {
            issue_names,
            issues,
            series_keys,
            series,
            books,
            offer_names,
            mut offers,
            traders,
            positions,
            expiries,
            maturities,
            awaiting,
            limits,
            scratch,
            makers,
            requoting,
            arbitrated,
            dispute_window_ms,
            dispute_until,
            releases,
        } = r;
        let mut on_book = vec![0u64; offers.len().div_ceil(64)];
        for row in &books {
            for id in row.offers() {
                let (word, bit) = (id.index() / 64, id.index() % 64);
                let seen = on_book.get_mut(word).filter(|_| id.index() < offers.len());
                let Some(seen) = seen else { return Err(format!("a book names offer {}, which does not exist", id.0)) };
                if *seen >> bit & 1 == 1 {
                    return Err(format!("offer {} is on the books twice", id.0));
                }
                *seen |= 1 << bit;
            }
        }
        let books = books.into_iter().map(|row| Book::from_row(row, &mut offers)).collect();
        Ok(Exchange {
            issue_names,
            issues,
            series_keys,
            series,
            books,
            offer_names,
            offers,
            traders,
            positions,
            expiries,
            maturities,
            awaiting,
            limits,
            scratch,
            makers,
            requoting,
            arbitrated,
            dispute_window_ms,
            dispute_until,
            releases,
        })
    }
}

/// What the exchange's operations need from the engine around it.
pub struct Ctx<'a> {
    pub ledger: &'a mut Ledger,
    pub out: &'a mut Vec<Timed>,
    pub now: Timestamp,
}

impl Ctx<'_> {
    #[inline]
    pub fn emit(&mut self, event: Event) {
        self.out.push(Timed { at: self.now, event });
    }
}

impl Exchange {
    pub fn with_limits(limits: Limits) -> Exchange {
        Exchange { limits, ..Exchange::default() }
    }

    #[inline]
    pub(crate) fn trader_mut(&mut self, user: UserId) -> &mut Trader {
        if self.traders.len() <= user.index() {
            self.new_trader(user);
        }
        &mut self.traders[user.index()]
    }

    #[cold]
    fn new_trader(&mut self, user: UserId) {
        self.traders.resize_with(user.index() + 1, Trader::default);
    }

    pub fn trader(&self, user: UserId) -> Option<&Trader> {
        self.traders.get(user.index())
    }

    pub fn offer(&self, id: OfferId) -> Option<&Offer> {
        self.offers.get(id.index())
    }
    pub fn offer_id(&self, name: &str) -> Option<OfferId> {
        self.offer_names.get(name).map(OfferId)
    }
    pub fn offer_name(&self, id: OfferId) -> &str {
        self.offer_names.name(id.0)
    }
    pub fn series(&self, id: SeriesId) -> Option<&Series> {
        self.series.get(id.index())
    }
    pub fn series_id(&self, issue: IssueId, maturation: Timestamp) -> Option<SeriesId> {
        self.series_keys.get(&(issue, maturation)).copied()
    }
    pub fn issue_id(&self, name: &str) -> Option<IssueId> {
        self.issue_names.get(name).map(IssueId)
    }
    pub fn issue_name(&self, id: IssueId) -> &str {
        self.issue_names.name(id.0)
    }
    pub fn issue(&self, id: IssueId) -> Option<&Issue> {
        self.issues.get(id.index())
    }
    pub fn book(&self, id: SeriesId) -> Option<&Book> {
        self.books.get(id.index())
    }
    /// The levels of one side of a series' book, ascending, each with its offers in time
    /// priority (empty for an unknown series).
    pub fn book_levels(
        &self,
        id: SeriesId,
        bid: bool,
    ) -> impl DoubleEndedIterator<Item = (u16, book::Level<'_, Rows<Offer>>)> + '_ {
        self.books.get(id.index()).into_iter().flat_map(move |b| b.levels(&self.offers, bid))
    }
    pub fn position(&self, user: UserId, series: SeriesId) -> Option<&Position> {
        self.positions.get(&(user, series))
    }
    pub fn series_count(&self) -> usize {
        self.series.len()
    }
    pub fn offer_count(&self) -> usize {
        self.offers.len()
    }
    pub fn issue_count(&self) -> usize {
        self.issues.len()
    }
    pub fn all_series(&self) -> impl Iterator<Item = (SeriesId, &Series)> {
        self.series.iter().enumerate().map(|(i, s)| (SeriesId(i as u32), s))
    }
    pub fn all_offers(&self) -> impl Iterator<Item = (OfferId, &Offer)> {
        self.offers.iter().enumerate().map(|(i, o)| (OfferId(i as u32), o))
    }
    pub fn all_issues(&self) -> impl Iterator<Item = (IssueId, &Issue)> {
        self.issues.iter().enumerate().map(|(i, s)| (IssueId(i as u32), s))
    }
    /// Every position, sorted by (user, series) for deterministic output.
    pub fn all_positions(&self) -> Vec<((UserId, SeriesId), &Position)> {
        let mut v: Vec<_> = self.positions.iter().map(|(k, p)| (*k, p)).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }
    /// How long (ms) a matured tracker series can be disputed (0: disputes are off).
    pub fn dispute_window_ms(&self) -> i64 {
        self.dispute_window_ms
    }
    /// The end of the series' dispute window, while it is open or pending.
    pub fn dispute_until(&self, s: SeriesId) -> Option<Timestamp> {
        self.dispute_until.get(&s).copied()
    }
    /// Whether the series is settled by arbitration (a statement, or a dispute under way).
    pub fn is_arbitrated(&self, s: SeriesId) -> bool {
        self.arbitrated.contains(&s)
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }
    /// The earliest instant at which something is due (an expiry, a maturation, the end of a
    /// dispute window), if any: the earliest time `advance` has something to do at.
    pub fn next_due(&self) -> Option<Timestamp> {
        earliest([self.expiries.earliest(), self.maturities.earliest(), self.releases.earliest()])
    }
    /// `next_due()` is none or after `at`.
    #[inline]
    pub(crate) fn none_due_by(&self, at: Timestamp) -> bool {
        self.expiries.none_by(at) && self.maturities.none_by(at) && self.releases.none_by(at)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::{MAT, T};
    use super::{Exchange, Link, Offer};
    use crate::ids::{OfferId, SeriesId};
    use crate::Engine;

    /// Every offer ever placed is kept: the record's size is most of a large engine's memory
    /// (docs/benchmarks.md, "Engine memory", and `crate::rows` quote it). At most 56 bytes
    /// (exactly that on 64-bit targets, where `u64` aligns to 8).
    #[test]
    fn an_offer_record_is_at_most_56_bytes() {
        assert!(std::mem::size_of::<Offer>() <= 56, "{}", std::mem::size_of::<Offer>());
    }

    fn with_offers() -> T {
        let mut t = T::new(&[("ann", "100"), ("bob", "100")]);
        t.offer("2026-12-02T09:00:00Z", "a1", "ann", "buy_fixed", "0.40", 3, json!({"aon": true, "poolable": true}));
        t.offer(
            "2026-12-02T09:00:01Z",
            "b1",
            "bob",
            "buy_unfixed",
            "0.55",
            5,
            json!({"expiration": "2026-12-10T00:00:00Z"}),
        );
        t.offer("2026-12-02T09:00:02Z", "b2", "bob", "buy_unfixed", "0.70", 1, json!({}));
        t
    }

    #[test]
    fn an_offer_is_stored_as_a_row_of_its_fields() {
        let t = with_offers();
        for o in &t.engine.exchange.offers {
            let bytes = rmp_serde::to_vec_named(o).unwrap();
            assert_eq!(bytes[0], 0x9b, "a MessagePack array of the 11 fields, without their names");
            let stored = Offer { link: Link::OFF, ..o.clone() };
            assert_eq!(rmp_serde::from_slice::<Offer>(&bytes).unwrap(), stored, "links are not stored");
        }
        assert_eq!(t.engine.exchange.offers.len(), 3, "{MAT}");
    }

    #[test]
    fn an_engine_with_offers_round_trips_through_messagepack() {
        let t = with_offers();
        let back: Engine = rmp_serde::from_slice(&rmp_serde::to_vec_named(&t.engine).unwrap()).unwrap();
        assert_eq!(back, t.engine);
        assert_eq!(back.exchange.offer_id("b2").map(|o| o.index()), Some(2));
    }

    #[test]
    fn a_level_of_several_offers_is_linked_again_when_read_back() {
        let mut t = with_offers();
        for (i, id) in ["b3", "b4", "b5"].into_iter().enumerate() {
            t.offer(&format!("2026-12-02T09:00:1{i}Z"), id, "bob", "buy_unfixed", "0.55", 1, json!({}));
        }
        t.run(json!({"at":"2026-12-02T09:00:20Z","op":"cancel","user":"bob","offer":"b4"}));
        let x = &t.engine.exchange;
        let level: Vec<&str> = x
            .book_levels(SeriesId(0), false)
            .filter(|(p, _)| *p == 4500)
            .flat_map(|(_, l)| l.map(|o| x.offer_name(o)))
            .collect();
        assert_eq!(level, ["b1", "b3", "b5"], "time priority, b4 cancelled");
        let back: Engine = rmp_serde::from_slice(&rmp_serde::to_vec_named(&t.engine).unwrap()).unwrap();
        assert_eq!(back, t.engine, "the same links, rebuilt");
        back.check_invariants().unwrap();
    }

    /// A stored exchange whose books name an offer that does not exist, or one offer twice, is
    /// refused when read (linking it would break the books).
    #[test]
    fn stored_books_that_name_an_unknown_offer_or_one_twice_are_refused() {
        let t = with_offers();
        let bytes = rmp_serde::to_vec_named(&t.engine.exchange).unwrap();
        let read = |change: &dyn Fn(&mut super::ExchangeRow)| {
            let mut row: super::ExchangeRow = rmp_serde::from_slice(&bytes).unwrap();
            change(&mut row);
            Exchange::try_from(row)
        };
        assert_eq!(read(&|_| {}).unwrap(), t.engine.exchange);
        let asks = |r: &mut super::ExchangeRow| r.books[0].asks.clone();
        assert!(!asks(&mut rmp_serde::from_slice(&bytes).unwrap()).is_empty());
        let unknown = read(&|r| r.books[0].asks[0].1.push(OfferId(3))).unwrap_err();
        assert!(unknown.contains("offer 3, which does not exist"), "{unknown}");
        let far = read(&|r| r.books[0].asks[0].1.push(OfferId(700))).unwrap_err();
        assert!(far.contains("does not exist"), "{far}");
        let twice = read(&|r| {
            let first = r.books[0].asks[0].1[0];
            r.books[0].bids[0].1.push(first)
        })
        .unwrap_err();
        assert!(twice.contains("on the books twice"), "{twice}");
    }
}

/// A harness for the exchange's unit tests: JSON commands applied to a whole engine, every
/// invariant checked after each one.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::{json, Value};

    use crate::exchange::types::OfferStatus;
    use crate::ids::OfferId;
    use crate::{Amount, Command, Engine, EngineResult, Timed};

    pub const ISSUE: &str = "t/r#1";
    pub const MAT: &str = "2026-12-15T00:00:00Z";

    pub struct T {
        pub engine: Engine,
        pub events: Vec<Timed>,
    }

    impl T {
        /// Users with the given deposits and the issue `ISSUE` open, at day 1.
        pub fn new(deposits: &[(&str, &str)]) -> T {
            let mut t = T { engine: Engine::new(), events: Vec::new() };
            for (user, amount) in deposits {
                t.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":user,"amount":amount}));
            }
            t.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":ISSUE}));
            t
        }

        pub fn try_run(&mut self, cmd: &Value) -> EngineResult<()> {
            let parsed = Command::from_json(&cmd.to_string()).unwrap();
            let r = self.engine.apply(parsed, &mut self.events);
            self.engine.check_invariants().unwrap_or_else(|v| panic!("invariant broken after {cmd}: {v}"));
            r
        }

        pub fn run(&mut self, cmd: Value) {
            if let Err(e) = self.try_run(&cmd) {
                panic!("{cmd} refused: {} {e}", e.code());
            }
        }

        /// Places an offer on `ISSUE` at `MAT`; `extra` adds fields (poolable, aon, expiration).
        #[allow(clippy::too_many_arguments)] // one per field of the command, in its order
        pub fn offer(&mut self, at: &str, id: &str, user: &str, kind: &str, price: &str, volume: u64, extra: Value) {
            let mut cmd = json!({"at":at,"op":"offer","id":id,"user":user,"kind":kind,"issue":ISSUE,
                "maturation":MAT,"price":price,"volume":volume});
            if let (Some(c), Some(e)) = (cmd.as_object_mut(), extra.as_object()) {
                c.extend(e.clone());
            }
            self.run(cmd);
        }

        pub fn id(&self, offer: &str) -> OfferId {
            self.engine.exchange.offer_id(offer).unwrap()
        }
        pub fn status(&self, offer: &str) -> OfferStatus {
            self.engine.exchange.offers[self.id(offer).index()].status
        }
        pub fn remaining(&self, offer: &str) -> u64 {
            self.engine.exchange.offers[self.id(offer).index()].remaining
        }
        /// (available, held) of `user`.
        pub fn balance(&self, user: &str) -> (Amount, Amount) {
            self.engine.balance(self.engine.user_id(user).unwrap())
        }
        /// The types of the events emitted since event `from`, as rendered.
        pub fn event_types(&self, from: usize) -> Vec<String> {
            self.events[from..]
                .iter()
                .map(|e| self.engine.render_event(e)["type"].as_str().unwrap_or_default().to_string())
                .collect()
        }
    }

    pub fn cr(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }
}
