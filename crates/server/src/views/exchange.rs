//! Views of the issue-futures exchange: issues with their series, series, order books, offers,
//! trades, price history and positions.

use peerex_engine::exchange::types::{IssueState, OfferKind, Outcome, Side};
use peerex_engine::ids::SeriesId;
use peerex_engine::ledger::Account;
use peerex_engine::{Amount, Engine, EngineError, Event, Price, Timed, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{find_series, Credits, PriceText, TimeText};

/// One series (an issue and a maturation), with its market summary.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SeriesView {
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// `open`, `matured` (waiting to be decided) or `settled`.
    pub status: String,
    /// The side that won every unit (null while undecided or after a split decision).
    #[schema(value_type = Option<String>, example = "fixed")]
    pub winner: Option<Side>,
    /// How the series was decided: `"fixed"`, `"unfixed"` or `{"split": {"fixed_pays_micros"}}`.
    #[schema(value_type = Value)]
    pub outcome: Option<Outcome>,
    /// Units outstanding.
    pub units: u64,
    /// Credits held in escrow for the series (1 credit per unit while open or matured).
    #[schema(value_type = Credits)]
    pub escrow: Amount,
    /// The fixed-side price of the last trade.
    #[schema(value_type = Option<PriceText>)]
    pub last_price: Option<Price>,
    /// Units traded in total.
    pub volume: u64,
    #[schema(value_type = Option<PriceText>)]
    pub best_bid: Option<Price>,
    #[schema(value_type = Option<PriceText>)]
    pub best_ask: Option<Price>,
    /// Whether an admin decided the series by hand (which admin is not public: public data
    /// names no user).
    pub manual: bool,
    #[schema(value_type = Option<TimeText>)]
    pub settled_at: Option<Timestamp>,
    /// The fixed-side price: the market's implied probability that the issue is fixed by the
    /// maturation (the last trade's price; null before the first trade and once settled).
    #[schema(value_type = Option<PriceText>)]
    pub fixed_price: Option<Price>,
    /// Open interest: units outstanding.
    pub open_interest: u64,
    /// Matured on an issue of a synced tracker and waiting for a sync newer than the maturation
    /// (a tracker outage delays settlement, never decides it).
    pub waiting_for_sync: bool,
    /// How the series is decided: `tracker` (its issue's tracker; an admin may decide by hand)
    /// or `arbitration` (a statement, or a dispute, decided by arbiters' reports).
    pub decided_by: String,
    /// The arbitration (statement or dispute), when the series has one.
    pub arbitration: Option<crate::views::mechanisms::ArbitrationView>,
    /// End of the dispute window of a matured tracker series: until then anyone may dispute it
    /// with a bond, and its tracker does not settle it.
    #[schema(value_type = Option<TimeText>)]
    pub dispute_until: Option<Timestamp>,
    /// The automated market maker quoting on the series' book, when it has one.
    pub maker: Option<crate::views::mechanisms::MakerSummaryView>,
}

/// An issue with its state and every series on it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct IssueView {
    pub issue: String,
    pub title: String,
    /// `local`, or the synced tracker's name.
    pub tracker: String,
    pub labels: Vec<String>,
    /// When a synced tracker last answered for this issue.
    #[schema(value_type = Option<TimeText>)]
    pub last_synced: Option<Timestamp>,
    pub series: Vec<SeriesView>,
    /// `open` or `closed`.
    pub state: String,
    /// Why it was closed (`completed`, `not_planned`, ...); null while open.
    pub reason: Option<String>,
}

/// One price level of a book, in fixed-price terms.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct LevelView {
    #[schema(value_type = PriceText)]
    pub price: Price,
    /// Units offered at this price.
    pub volume: u64,
    /// Offers at this price.
    pub offers: usize,
    /// Of `volume`, the units quoted by the series' automated market maker.
    pub maker_volume: u64,
}

/// A series' order book: bids best (highest) first, asks best (lowest) first.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct BookView {
    pub issue: String,
    /// The maturation as asked for.
    pub maturation: String,
    pub bids: Vec<LevelView>,
    pub asks: Vec<LevelView>,
}

/// A trade as published (the public `traded` event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TradeView {
    #[schema(value_type = TimeText)]
    pub at: Timestamp,
    /// Always `traded`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// How the units moved: `create` (new units), `transfer` or `redeem`... (spec/exchange.md).
    pub kind: String,
    /// Fixed-side price.
    #[schema(value_type = PriceText)]
    pub price: Price,
    pub volume: u64,
    /// The bid (buy fixed / sell unfixed) offer.
    pub bid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid_user: Option<String>,
    pub ask: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask_user: Option<String>,
    /// The offer that was on the book first.
    pub maker: String,
    /// The event's cursor in the stored event log (absent in a command's immediate answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
}

/// An offer and its state.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct OfferView {
    pub id: String,
    pub user: String,
    #[schema(value_type = String, example = "buy_fixed")]
    pub kind: OfferKind,
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// The price of the offer's own side.
    #[schema(value_type = PriceText)]
    pub price: Price,
    pub volume: u64,
    pub remaining: u64,
    /// `open`, `filled`, `cancelled`, `expired` or `suspended`.
    pub status: String,
    /// All or none.
    pub aon: bool,
    pub poolable: bool,
    #[schema(value_type = TimeText)]
    pub expiration: Timestamp,
    #[schema(value_type = TimeText)]
    pub placed_at: Timestamp,
    /// The trades the command made (only in the answer to placing or resuming the offer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trades: Option<Vec<TradeView>>,
}

/// Trades of a series after a cursor, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TradesPage {
    pub events: Vec<TradeView>,
    /// The cursor to ask after for the next page.
    pub next: i64,
}

/// One point of a series' price history.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PricePoint {
    #[schema(value_type = TimeText)]
    pub at: Timestamp,
    /// Fixed-side price.
    #[schema(value_type = PriceText)]
    pub price: Price,
    pub volume: u64,
}

/// A series' price history after a cursor.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PricesView {
    pub points: Vec<PricePoint>,
    pub next: i64,
}

/// One side of a user's position in a series.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PositionView {
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    #[schema(value_type = String, example = "fixed")]
    pub side: Side,
    pub units: u64,
    /// Units reserved by open sell offers.
    pub held: u64,
    #[schema(value_type = Credits)]
    pub cost_basis: Amount,
    #[schema(value_type = Credits)]
    pub realized_pnl: Amount,
    /// Marked at the series' last trade price (or its payout once settled); null without trades.
    #[schema(value_type = Option<Credits>)]
    pub unrealized_pnl: Option<Amount>,
}

/// The series `sid` with its market summary.
pub fn series(engine: &Engine, sid: SeriesId) -> Option<SeriesView> {
    let escrow = engine.ledger().balance(Account::Escrow(sid));
    let x = engine.exchange();
    let v = x.series_view(sid, escrow)?;
    let local = x.series(sid).and_then(|s| x.issue(s.issue)).is_none_or(|i| i.is_local());
    let arbitration = crate::views::mechanisms::arbitration(engine, sid);
    Some(SeriesView {
        waiting_for_sync: v.status == "matured" && !local,
        // A settled series has no live price (its last trade stays in `last_price`).
        fixed_price: if v.status == "settled" { None } else { v.last_price },
        open_interest: v.units,
        issue: v.issue,
        maturation: v.maturation,
        status: v.status.to_owned(),
        winner: v.winner,
        outcome: v.outcome,
        units: v.units,
        escrow: v.escrow,
        last_price: v.last_price,
        volume: v.volume,
        best_bid: v.best_bid,
        best_ask: v.best_ask,
        manual: v.decided_by.is_some(),
        settled_at: v.settled_at,
        decided_by: if arbitration.as_ref().is_some_and(|a| a.state != "to_tracker") {
            "arbitration".to_owned()
        } else {
            "tracker".to_owned()
        },
        arbitration,
        dispute_until: x.dispute_until(sid).filter(|_| !x.is_arbitrated(sid)),
        maker: crate::views::mechanisms::maker_summary(engine, sid),
    })
}

/// Every series of the issue `name` (404 `unknown_issue` if there is none), or of every issue.
pub fn series_list(engine: &Engine, issue: Option<&str>) -> Result<Vec<SeriesView>, EngineError> {
    let x = engine.exchange();
    let ids = match issue {
        Some(name) => {
            let iid = x.issue_id(name).ok_or_else(|| EngineError::UnknownIssue(format!("no issue {name:?}")))?;
            x.series_of_issue(iid)
        }
        None => x.all_series().map(|(s, _)| s).collect(),
    };
    Ok(ids.into_iter().filter_map(|s| series(engine, s)).collect())
}

/// The issue `name` with its series.
pub fn issue(engine: &Engine, name: &str) -> Option<IssueView> {
    let x = engine.exchange();
    let iid = x.issue_id(name)?;
    let i = x.issue(iid)?;
    let (state, reason) = match i.current() {
        IssueState::Open => ("open", None),
        IssueState::Closed(r) => ("closed", serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned))),
    };
    Some(IssueView {
        issue: name.to_owned(),
        title: i.title.clone(),
        tracker: i.tracker.clone(),
        labels: i.labels.clone(),
        last_synced: i.last_synced,
        series: x.series_of_issue(iid).into_iter().filter_map(|s| series(engine, s)).collect(),
        state: state.to_owned(),
        reason,
    })
}

/// Every issue, in the order they were first seen.
pub fn issues(engine: &Engine) -> Vec<IssueView> {
    let x = engine.exchange();
    x.all_issues().filter_map(|(i, _)| issue(engine, x.issue_name(i))).collect()
}

/// How `GET /issues` orders its list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueSort {
    /// By issue name (the default).
    #[default]
    Issue,
    /// Units traded over all series, largest first.
    Volume,
    /// Units outstanding over all series, largest first.
    OpenInterest,
}

/// The issues in `state` (open or closed; all when `None`), ordered by `sort`, paged.
pub fn issues_query(
    engine: &Engine,
    state: Option<&str>,
    sort: IssueSort,
    offset: usize,
    limit: usize,
) -> Vec<IssueView> {
    let mut all: Vec<IssueView> = issues(engine).into_iter().filter(|i| state.is_none_or(|s| i.state == s)).collect();
    let total = |i: &IssueView, f: fn(&SeriesView) -> u64| i.series.iter().map(f).sum::<u64>();
    match sort {
        IssueSort::Issue => all.sort_by(|a, b| a.issue.cmp(&b.issue)),
        IssueSort::Volume => all.sort_by_key(|i| std::cmp::Reverse(total(i, |s| s.volume))),
        IssueSort::OpenInterest => all.sort_by_key(|i| std::cmp::Reverse(total(i, |s| s.open_interest))),
    }
    all.into_iter().skip(offset).take(limit).collect()
}

/// The order book of a series, `levels` deep on each side.
pub fn book(engine: &Engine, issue: &str, maturation: &str, levels: usize) -> Result<BookView, EngineError> {
    let sid = find_series(engine, issue, maturation)?;
    let depth = engine.exchange().depth(sid, levels);
    let level = |bid: bool| {
        move |l: &peerex_engine::exchange::views::Level| LevelView {
            price: l.price,
            volume: l.volume,
            offers: l.offers,
            maker_volume: crate::views::mechanisms::maker_volume_at(engine, sid, bid, l.price.bp() as u16),
        }
    };
    Ok(BookView {
        issue: issue.to_owned(),
        maturation: maturation.to_owned(),
        bids: depth.bids.iter().map(level(true)).collect(),
        asks: depth.asks.iter().map(level(false)).collect(),
    })
}

/// The offer `id`.
pub fn offer(engine: &Engine, id: &str) -> Option<OfferView> {
    let x = engine.exchange();
    let o = x.offer(x.offer_id(id)?)?;
    let s = x.series(o.series)?;
    Some(OfferView {
        id: id.to_owned(),
        user: engine.user_name(o.user).to_owned(),
        kind: o.kind,
        issue: x.issue_name(s.issue).to_owned(),
        maturation: s.maturation,
        price: o.price,
        volume: o.volume,
        remaining: o.remaining,
        status: o.status.as_str().to_owned(),
        aon: o.aon,
        poolable: o.poolable,
        expiration: o.expiration,
        placed_at: o.placed_at,
        trades: None,
    })
}

/// A user's offers, optionally only those with `status`.
pub fn offers_of(engine: &Engine, user: &str, status: Option<&str>) -> Vec<OfferView> {
    let Some(uid) = engine.user_id(user) else { return Vec::new() };
    let x = engine.exchange();
    x.all_offers()
        .filter(|(_, o)| o.user == uid && status.is_none_or(|s| s == o.status.as_str()))
        .filter_map(|(id, _)| offer(engine, x.offer_name(id)))
        .collect()
}

/// The id of the offer a command placed (from its events).
pub fn placed_offer(engine: &Engine, events: &[Timed]) -> Option<String> {
    events.iter().find_map(|t| match t.event {
        Event::OfferPlaced { offer, .. } => Some(engine.exchange().offer_name(offer).to_owned()),
        _ => None,
    })
}

/// The trades among `events`.
pub fn trades_in(engine: &Engine, events: &[Timed]) -> Vec<TradeView> {
    events
        .iter()
        .filter(|t| matches!(t.event, Event::Traded { .. }))
        .filter_map(|t| serde_json::from_value(engine.render_event(t)).ok())
        .collect()
}

/// The trades among `events` as `me` sees them: their own side named, not the counterparty.
pub fn own_trades_in(engine: &Engine, events: &[Timed], me: &str) -> Vec<TradeView> {
    let mut trades = trades_in(engine, events);
    for t in &mut trades {
        crate::views::privacy::own_side(&mut t.bid_user, &mut t.ask_user, me);
    }
    trades
}

/// Parses stored trade events (cursor, JSON) into a public page: without the traders' names.
pub fn trades_page(rows: &[(i64, String)], after: i64) -> TradesPage {
    let next = rows.last().map_or(after, |r| r.0);
    let events = rows
        .iter()
        .filter_map(|(_, b)| serde_json::from_str(b).ok())
        .map(crate::views::privacy::public_event)
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    TradesPage { events, next }
}

/// The price history in stored trade events.
pub fn prices_page(rows: &[(i64, String)], after: i64) -> PricesView {
    let page = trades_page(rows, after);
    PricesView {
        points: page.events.iter().map(|t| PricePoint { at: t.at, price: t.price, volume: t.volume }).collect(),
        next: page.next,
    }
}

/// A user's positions.
pub fn positions(engine: &Engine, user: &str) -> Vec<PositionView> {
    let list = engine.user_id(user).map(|u| engine.exchange().positions_of(u)).unwrap_or_default();
    list.into_iter()
        .map(|p| PositionView {
            issue: p.issue,
            maturation: p.maturation,
            side: p.side,
            units: p.units,
            held: p.held,
            cost_basis: p.cost_basis,
            realized_pnl: p.realized_pnl,
            unrealized_pnl: p.unrealized_pnl,
        })
        .collect()
}
