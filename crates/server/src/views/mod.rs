//! Typed views: one `Serialize` + [`utoipa::ToSchema`] struct per answer of the API, built from
//! the engine (and the accounts where needed) by plain functions. The JSON API serialises them
//! as they are and derives its OpenAPI document from them; the web UI renders the same structs.
//!
//! This module is domain code: it knows the engine, never HTTP. Lookups that fail return the
//! engine's own errors ([`EngineError::UnknownIssue`], ...), which carry a stable code.
//!
//! [`After`] names the view a command's caller wants of the state right after the command; the
//! single writer builds it with [`after`] before the next command changes anything.

pub mod accounts;
pub mod batch;
pub mod exchange;
pub mod ledger;
pub mod markets;
pub mod mechanisms;
pub mod ops;
pub mod privacy;
pub mod resources;

use peerex_engine::ids::SeriesId;
use peerex_engine::{Engine, EngineError, Timed, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

pub use accounts::{AccountView, BalanceView, BalancesView, MeView, RevokedView, SessionView, SignedUpView};
pub use batch::{BatchItemView, BatchView};
pub use exchange::{
    BookView, IssueView, LevelView, OfferView, PositionView, PricePoint, PricesView, SeriesView, TradeView, TradesPage,
};
pub use ledger::LedgerView;
pub use markets::{MarketSetupView, MarketTradeView, MarketView, MarketsView, QuoteView, ShareView};
pub use mechanisms::{ArbitrationView, DisputeSettingsView, MakerQuoteView, MakerSummaryView, MakerView};
pub use ops::{ClockMovedView, ClockView, ErrorView, EventsPage, HealthView, SyncView, WebhookView};
pub use resources::{
    BackupView, FragmentReportView, OperatorView, PeerDebugView, PeerView, PieView, RestoreView, SlidersView,
};

/// Schema of an amount of credits: a decimal string with at most 6 decimals ("160", "-2.5").
pub struct Credits;

impl PartialSchema for Credits {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^-?[0-9]{1,13}(\\.[0-9]{1,6})?$"))
            .examples([serde_json::json!("160")])
            .description(Some("credits as a decimal string (at most 6 decimals)"))
            .into()
    }
}
impl ToSchema for Credits {}

/// Schema of a price: a decimal string in [0, 1] with at most 4 decimals ("0.8").
pub struct PriceText;

impl PartialSchema for PriceText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^(0(\\.[0-9]{1,4})?|1(\\.0{1,4})?)$"))
            .examples([serde_json::json!("0.80")])
            .description(Some("a price in [0, 1] (4 decimals at most)"))
            .into()
    }
}
impl ToSchema for PriceText {}

/// Schema of a time: RFC 3339.
pub struct TimeText;

impl PartialSchema for TimeText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .examples([serde_json::json!("2030-12-15T00:00:00Z")])
            .into()
    }
}
impl ToSchema for TimeText {}

/// Which view of the state right after a command its caller wants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum After {
    /// Nothing (background jobs).
    Nothing,
    /// The issue (open, close, reopen, decide, sync).
    Issue(String),
    /// The offer the command placed (found in its events), with the trades it made.
    PlacedOffer,
    /// An offer by id.
    Offer(String),
    /// An offer by id, with the trades the command made (resume).
    OfferWithTrades(String),
    /// A prediction market.
    Market(String),
    /// A prediction market and the command's events (a trade).
    MarketTrade(String),
    /// A user's balance (deposit, withdraw).
    Balance(String),
    /// The user's own peer of the resource market.
    Peer(String),
    /// The resource market operator's view.
    Operator,
    /// The engine's time and how many events moving the clock emitted.
    ClockMoved,
    /// How many events a tracker observation emitted.
    Sync,
    /// The prediction market the command created (its id found in the events).
    CreatedMarket,
    /// A backed-up file.
    Backup(String),
    /// A restore's sources.
    Restore(String),
    /// A peer's fragment report: what was lost and repaired.
    FragmentReport,
    /// The market maker of a series (issue, maturation).
    Maker(String, peerex_engine::Timestamp),
    /// The operator's dispute window.
    DisputeSettings,
}

/// A view of the state right after a command, as built by [`after`].
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum View {
    Issue(Box<IssueView>),
    Offer(Box<OfferView>),
    Market(Box<MarketView>),
    MarketTrade(Box<MarketTradeView>),
    Balance(BalanceView),
    Account(AccountView),
    Peer(Box<PeerView>),
    Operator(Box<OperatorView>),
    ClockMoved(ClockMovedView),
    Sync(SyncView),
    Backup(Box<resources::BackupView>),
    Restore(resources::RestoreView),
    FragmentReport(resources::FragmentReportView),
    Maker(Box<MakerView>),
    DisputeSettings(DisputeSettingsView),
    Batch(Box<batch::BatchView>),
    /// An Idempotency-Key retry: the first answer's view, as recorded.
    Recorded(serde_json::Value),
}

/// The series of `issue` maturing at `maturation` (RFC 3339), or the engine's error.
pub fn find_series(engine: &Engine, issue: &str, maturation: &str) -> Result<SeriesId, EngineError> {
    let at = Timestamp::parse(maturation)?;
    let x = engine.exchange();
    let iid = x.issue_id(issue).ok_or_else(|| EngineError::UnknownIssue(format!("no issue {issue:?}")))?;
    x.series_id(iid, at).ok_or_else(|| EngineError::UnknownSeries(format!("no series of {issue:?} maturing {at}")))
}

/// Builds the view `want` of `engine` right after a command that emitted `events`. `None` when
/// the thing is gone or was never there (the API then answers `null`).
pub fn after(engine: &Engine, want: &After, events: &[Timed]) -> Option<View> {
    Some(match want {
        After::Nothing => return None,
        After::Issue(name) => View::Issue(Box::new(exchange::issue(engine, name)?)),
        After::PlacedOffer => {
            let id = exchange::placed_offer(engine, events)?;
            let mut v = exchange::offer(engine, &id)?;
            v.trades = Some(exchange::own_trades_in(engine, events, &v.user));
            View::Offer(Box::new(v))
        }
        After::Offer(id) => View::Offer(Box::new(exchange::offer(engine, id)?)),
        After::OfferWithTrades(id) => {
            let mut v = exchange::offer(engine, id)?;
            v.trades = Some(exchange::own_trades_in(engine, events, &v.user));
            View::Offer(Box::new(v))
        }
        After::Market(id) => View::Market(Box::new(markets::market(engine, id))),
        After::MarketTrade(id) => View::MarketTrade(Box::new(markets::market_trade(engine, id, events))),
        After::Balance(user) => View::Balance(accounts::balance(engine, user)),
        After::Peer(name) => View::Peer(Box::new(resources::peer(engine, name).ok()?)),
        After::Operator => View::Operator(Box::new(resources::operator(engine))),
        After::ClockMoved => View::ClockMoved(ClockMovedView { now: engine.now(), events: events.len() }),
        After::Sync => View::Sync(SyncView { events: events.len() }),
        After::CreatedMarket => {
            let id = events.iter().map(|t| engine.render_event(t)).find(|v| v["what"] == "created")?;
            View::Market(Box::new(markets::market(engine, id["market"].as_str()?)))
        }
        After::Backup(file) => View::Backup(Box::new(resources::backup(engine, file)?)),
        After::Restore(file) => View::Restore(resources::restore(engine, file, events)),
        After::FragmentReport => View::FragmentReport(resources::fragment_report(engine, events)),
        After::Maker(issue, maturation) => {
            let x = engine.exchange();
            let s = x.series_id(x.issue_id(issue)?, *maturation)?;
            View::Maker(Box::new(mechanisms::maker_of(engine, s)?))
        }
        After::DisputeSettings => View::DisputeSettings(mechanisms::dispute_settings(engine)),
    })
}
