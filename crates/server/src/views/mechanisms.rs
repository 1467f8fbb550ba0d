//! Views of issue 12's mechanisms on a series: how it is decided (its tracker, or arbitration of
//! a statement or a dispute, with the report and dispute windows) and its automated market
//! maker (subsidy, what it could still lose, its quotes). Public data: no user names, except
//! nothing at all about who reported what.

use peerex_engine::arbitrated::CaseKind;
use peerex_engine::exchange::types::{OfferKind, SeriesStatus};
use peerex_engine::ids::SeriesId;
use peerex_engine::ledger::Account;
use peerex_engine::{Amount, Engine, EngineError, Price, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::{Credits, PriceText, TimeText};

/// How an arbitrated series is being (or was) decided.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ArbitrationView {
    /// `statement` (a statement in words, decided by arbiters from the start) or `dispute` (a
    /// tracker series whose settlement a bond turned over to arbitration).
    pub kind: String,
    /// The statement in words (a dispute's is the issue's own question: is it fixed?).
    pub statement: String,
    /// The sponsor's arbitration bond: it pays the arbiters; the rest returns to the sponsor.
    #[schema(value_type = Credits)]
    pub bond: Amount,
    /// Admissible reports needed to decide.
    pub min_reports: u32,
    /// Largest |fixed - unfixed| units an arbiter may hold and still report (null: no cap).
    #[schema(value_type = Option<Credits>)]
    pub position_cap: Option<Amount>,
    /// Days a report window lasts.
    pub report_days: i64,
    /// `waiting` (the series trades until its maturation), `reporting` (arbiters report until
    /// `report_deadline`), `decided` (settled by the reports) or `to_tracker` (a dispute with too
    /// few admissible reports: the bond went back and the tracker decided).
    pub state: String,
    /// End of the current report window (null before the maturation).
    #[schema(value_type = Option<TimeText>)]
    pub report_deadline: Option<Timestamp>,
    /// Reports received so far (who reported what is not public).
    pub reports: usize,
}

/// A series' automated market maker as the public sees it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MakerSummaryView {
    /// The LMSR liquidity parameter b (units).
    #[schema(value_type = Credits)]
    pub b: Amount,
    /// What the funder put in: b ln 2, the most the maker can lose.
    #[schema(value_type = Credits)]
    pub subsidy: Amount,
    /// Price levels quoted on each side.
    pub levels: u32,
    /// Quoting (false once the series matured: the maker withdrew).
    pub active: bool,
}

/// One offer of the maker on the book.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MakerQuoteView {
    /// `buy_fixed`, `sell_fixed`, `buy_unfixed` or `sell_unfixed`.
    #[schema(value_type = String, example = "sell_fixed")]
    pub kind: OfferKind,
    /// The price of the offer's own side.
    #[schema(value_type = PriceText)]
    pub price: Price,
    /// Its price on the fixed-side book.
    #[schema(value_type = PriceText)]
    pub fixed_price: Price,
    pub remaining: u64,
}

/// A series' market maker in full: its subsidy, what it has lost so far, its quotes.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MakerView {
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    #[serde(flatten)]
    pub summary: MakerSummaryView,
    /// Its cash now (available and held).
    #[schema(value_type = Credits)]
    pub cash: Amount,
    /// Traders' net fixed units against the maker (its own position is the opposite).
    pub traders_net_fixed: i64,
    /// While quoting: subsidy minus cash, what it has lost if the units it holds pay nothing;
    /// once settled: subsidy minus what returned (negative: it gained). Never above the subsidy.
    #[schema(value_type = Credits)]
    pub worst_case_loss: Amount,
    /// What went back to the funder at settlement (null before).
    #[schema(value_type = Option<Credits>)]
    pub returned: Option<Amount>,
    /// Its live offers, ordinary liquidity on the series' book.
    pub quotes: Vec<MakerQuoteView>,
}

/// The operator's dispute window after a tracker series matures.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DisputeSettingsView {
    /// Hours a matured tracker series can be disputed before its tracker settles it (0: off).
    pub hours: i64,
}

/// The arbitration of series `s`, if it has one.
pub fn arbitration(engine: &Engine, s: SeriesId) -> Option<ArbitrationView> {
    let c = engine.cases().case(s)?;
    let x = engine.exchange();
    let series = x.series(s)?;
    let statement = match c.kind {
        CaseKind::Statement => c.statement.clone(),
        CaseKind::Dispute => {
            format!("{} is closed as completed at {}", x.issue_name(series.issue), series.maturation.to_rfc3339())
        }
    };
    let state = if c.to_tracker {
        "to_tracker"
    } else if c.done {
        "decided"
    } else if c.report_deadline.is_some() {
        "reporting"
    } else {
        "waiting"
    };
    Some(ArbitrationView {
        kind: match c.kind {
            CaseKind::Statement => "statement",
            CaseKind::Dispute => "dispute",
        }
        .to_owned(),
        statement,
        bond: Amount(c.bond),
        min_reports: c.min_reports,
        position_cap: c.position_cap.map(Amount),
        report_days: c.report_ms / 86_400_000,
        state: state.to_owned(),
        report_deadline: if c.done { None } else { c.report_deadline },
        reports: c.reports.len(),
    })
}

/// The maker of series `s` in brief, if it has one.
pub fn maker_summary(engine: &Engine, s: SeriesId) -> Option<MakerSummaryView> {
    let m = engine.exchange().maker(s)?;
    Some(MakerSummaryView { b: Amount(m.lmsr.b), subsidy: Amount(m.subsidy), levels: m.levels, active: m.active })
}

/// The maker of series `s` in full, if it has one.
pub fn maker_of(engine: &Engine, s: SeriesId) -> Option<MakerView> {
    let x = engine.exchange();
    let m = x.maker(s)?;
    let series = x.series(s)?;
    let ledger = engine.ledger();
    let cash = ledger
        .balance(Account::Available(m.user))
        .checked_add(ledger.balance(Account::Held(m.user)))
        .unwrap_or(Amount::ZERO);
    let mut quotes: Vec<MakerQuoteView> = series
        .offers
        .iter()
        .filter_map(|o| x.offer(*o))
        .filter(|o| o.user == m.user && o.is_live())
        .map(|o| MakerQuoteView {
            kind: o.kind,
            price: o.price,
            fixed_price: Price::from_bp(u32::from(o.book_bp())).unwrap_or(Price::ZERO),
            remaining: o.remaining,
        })
        .collect();
    // As on a ladder: the highest fixed-side price first.
    quotes.sort_by_key(|q| std::cmp::Reverse(q.fixed_price));
    let settled = series.status == SeriesStatus::Settled;
    Some(MakerView {
        issue: x.issue_name(series.issue).to_owned(),
        maturation: series.maturation,
        summary: maker_summary(engine, s)?,
        cash,
        traders_net_fixed: x.maker_q(s),
        worst_case_loss: if settled { Amount(m.subsidy - m.returned.unwrap_or(0)) } else { Amount(m.subsidy - cash.0) },
        returned: m.returned.map(Amount),
        quotes,
    })
}

/// The maker of the series `issue`@`maturation` (`unknown_issue`/`unknown_series` when there is
/// no such series; `None` when it has no maker).
pub fn maker(engine: &Engine, issue: &str, maturation: &str) -> Result<Option<MakerView>, EngineError> {
    let s = crate::views::find_series(engine, issue, maturation)?;
    Ok(maker_of(engine, s))
}

/// Units of the maker on the fixed-side book at `bp` (bids or asks).
pub fn maker_volume_at(engine: &Engine, s: SeriesId, bid: bool, bp: u16) -> u64 {
    let x = engine.exchange();
    let (Some(m), Some(series)) = (x.maker(s), x.series(s)) else { return 0 };
    series
        .offers
        .iter()
        .filter_map(|o| x.offer(*o))
        .filter(|o| o.user == m.user && o.is_live() && o.kind.is_bid() == bid && o.book_bp() == bp)
        .map(|o| o.remaining)
        .sum()
}

/// The operator's dispute window.
pub fn dispute_settings(engine: &Engine) -> DisputeSettingsView {
    DisputeSettingsView { hours: engine.exchange().dispute_window_ms() / 3_600_000 }
}
