//! Prediction markets (spec/prediction.md). Request bodies are the engine commands' own fields
//! minus `user` (and the market id, taken from the path); they are completed and parsed into the
//! engine's command types, so new optional fields of the engine reach the API unchanged.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::prediction::command::{CreateMarket, Report, ResolveMarket, Trade};
use peerex_engine::{Amount, Op};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{written, ApiError, ApiResult, Refused, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::state::AppState;
use crate::views::{self, After, Credits, MarketTradeView, MarketView, MarketsView, QuoteView, ShareView, TimeText};
use crate::writer::Action;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only markets in this status: open, reporting, resolved or void.
    #[serde(default)]
    pub status: Option<String>,
    /// Skip this many markets.
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Every market as a list: `?status=open|reporting|resolved|void`, `offset`, `limit` (at most 1000).
#[utoipa::path(get, path = "/markets", tag = "markets", params(ListQuery),
    responses((status = 200, description = "the prediction markets, in id order", body = MarketsView), Refused))]
pub async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<MarketsView>> {
    if let Some(s) = q.status.as_deref() {
        if !["open", "reporting", "resolved", "void"].contains(&s) {
            return Err(ApiError::bad_request("invalid_argument", "status is open, reporting, resolved or void"));
        }
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    Ok(Json(views::markets::markets(&state.shared.engine(), q.status.as_deref(), q.offset.unwrap_or(0), limit)))
}

/// One market.
#[utoipa::path(get, path = "/markets/{id}", tag = "markets", params(("id" = String, Path, description = "the market's id")),
    responses((status = 200, description = "the market", body = MarketView), Refused))]
pub async fn get_one(State(state): State<AppState>, PathId(market): PathId) -> ApiResult<Json<MarketView>> {
    let engine = state.shared.engine();
    if engine.markets().market_id(&market).is_none() {
        return Err(ApiError::new(404, "unknown_market", format!("no market {market:?}")));
    }
    Ok(Json(views::markets::market(&engine, &market)))
}

/// The caller's prediction-market shares.
#[utoipa::path(get, path = "/shares", tag = "markets", security(("bearer" = [])),
    responses((status = 200, description = "the caller's shares, one row per market and outcome held", body = Vec<ShareView>), Refused))]
pub async fn shares(State(state): State<AppState>, user: User) -> Json<Vec<ShareView>> {
    Json(views::markets::shares(&state.shared.engine(), &user.name))
}

/// Completes a JSON object body with server-known fields and parses it as the command `T`.
fn complete<T: DeserializeOwned>(body: Value, fields: &[(&str, Value)], keep: &[&str]) -> ApiResult<T> {
    let Value::Object(mut m) = body else {
        return Err(ApiError::bad_request("invalid_body", "the body must be a JSON object"));
    };
    for (k, v) in fields {
        if keep.contains(k) && m.get(*k).is_some_and(|x| !x.is_null()) {
            continue;
        }
        m.insert((*k).to_owned(), v.clone());
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| crate::http::extract::body_error(format!("invalid body: {e}")))
}

#[utoipa::path(post, path = "/markets", tag = "markets", security(("bearer" = [])), request_body = CreateMarketBody,
    responses((status = 201, description = "the market", body = MarketView), Refused))]
pub async fn create(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Value>,
) -> ApiResult<Written> {
    let cmd: CreateMarket = complete(b, &[("user", json!(user.name))], &[])?;
    if cmd.id.len() > 200 || cmd.statement.chars().count() > 1000 {
        return Err(ApiError::bad_request("invalid_argument", "id has at most 200 characters, statement at most 1000"));
    }
    // No id: the engine names the market (m1, m2, ...), as it names offers.
    let view = After::CreatedMarket;
    let op = Op::CreateMarket(Box::new(cmd));
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::CREATED, r)
}

#[utoipa::path(post, path = "/markets/{id}/trades", tag = "markets", security(("bearer" = [])), params(("id" = String, Path, description = "the market's id")), request_body = TradeBody,
    responses((status = 201, description = "the market after the trade and the trade's events", body = MarketTradeView), Refused))]
pub async fn trade(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(market): PathId,
    Body(b): Body<Value>,
) -> ApiResult<Written> {
    let cmd: Trade = complete(b, &[("user", json!(user.name)), ("market", json!(market)), ("id", json!(""))], &["id"])?;
    if cmd.id.len() > 200 {
        return Err(ApiError::bad_request("invalid_argument", "id has at most 200 characters"));
    }
    if peerex_engine::ids::server_assigned_form('t', &cmd.id) {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("trade ids of the form t<number> ({:?}) are the server's; choose another or send none", cmd.id),
        ));
    }
    let action = Action::engine(Op::Trade(cmd), Some(&user.name), After::MarketTrade(market));
    written(StatusCode::CREATED, state.submit(action, key.scoped(&user.name)).await)
}

#[utoipa::path(post, path = "/markets/{id}/reports", tag = "markets", security(("bearer" = [])), params(("id" = String, Path, description = "the market's id")), request_body = ReportBody,
    responses((status = 200, description = "the market", body = MarketView), Refused))]
pub async fn report(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(market): PathId,
    Body(b): Body<Value>,
) -> ApiResult<Written> {
    let cmd: Report = complete(b, &[("user", json!(user.name)), ("market", json!(market))], &[])?;
    let action = Action::engine(Op::Report(cmd), Some(&user.name), After::Market(market));
    written(StatusCode::OK, state.submit(action, key.scoped(&user.name)).await)
}

/// The creator closes reporting early once enough reports are in.
#[utoipa::path(post, path = "/markets/{id}/resolve", tag = "markets", security(("bearer" = [])), params(("id" = String, Path, description = "the market's id")),
    responses((status = 200, description = "the resolved market", body = MarketView), Refused))]
pub async fn resolve(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(market): PathId,
) -> ApiResult<Written> {
    let op = Op::ResolveMarket(ResolveMarket { user: user.name.clone(), market: market.clone() });
    let r = state.submit(Action::engine(op, Some(&user.name), After::Market(market)), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// Shares to buy (negative: sell).
    #[param(value_type = Credits)]
    pub shares: Amount,
    /// The outcome (1 = YES by default).
    #[serde(default)]
    pub outcome: Option<u32>,
}

/// The `create_market` command's fields but `user` (spec/prediction.md).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateMarketBody {
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    #[schema(max_length = 1000)]
    statement: String,
    #[schema(value_type = TimeText)]
    deadline: String,
    /// LMSR liquidity parameter b.
    #[schema(value_type = Credits)]
    b: String,
    /// Trading fee rate (e.g. "0.05").
    #[schema(value_type = Option<Credits>)]
    fee: Option<String>,
    /// Shares the creator buys at creation.
    #[schema(value_type = Option<Credits>)]
    initial_shares: Option<String>,
    /// Number of outcomes (2 by default).
    #[schema(minimum = 2, maximum = 100)]
    outcomes: Option<u32>,
    /// An issue whose tracker decides the market (binary markets only).
    issue: Option<String>,
    /// Outcome of the initial shares (1 by default).
    initial_outcome: Option<u32>,
    /// Reports needed to resolve (default 3, at least 2).
    min_reports: Option<u32>,
    /// End of the reporting window (default: deadline + 7 days).
    #[schema(value_type = Option<TimeText>)]
    report_deadline: Option<String>,
    /// Arbitration bond the creator moves into the arbitration pool (default 0): arbiters are
    /// admitted only while what they may be owed fits fees plus bond (docs/prediction.md).
    #[schema(value_type = Option<Credits>)]
    bond: Option<String>,
    /// Largest position (|YES - NO| shares) an arbiter may hold and still report (default: no
    /// cap).
    #[schema(value_type = Option<Credits>)]
    position_cap: Option<String>,
    /// `transaction` (default: f p' once per risk-increasing trade) or `share` (f times the cost
    /// of the risk-increasing shares: the price-bounding fee, a share at 0.99 costs 0.99 x 1.05).
    #[schema(value_type = Option<String>, example = "share")]
    fee_mode: Option<String>,
    /// Evaluate the arbiters' priors at both the closing price and 1/2 (default false).
    robust_prior: Option<bool>,
    /// Too few reports when the window closes: `void` (default, refund) or `extend`.
    #[schema(value_type = Option<String>, example = "void")]
    too_few: Option<String>,
    /// Lower bound of the arbiters' reward scale k (default 1 credit).
    #[schema(value_type = Option<Credits>)]
    k_floor: Option<String>,
    /// Mixed into the seed of the arbiters' peer draw (default 0).
    seed: Option<u64>,
}

/// The `trade` command's fields but `user` and `market` (spec/prediction.md).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TradeBody {
    /// The trade's id (the server assigns one when absent).
    #[schema(max_length = 200)]
    id: Option<String>,
    /// Signed: positive buys, negative sells.
    #[schema(value_type = Credits)]
    shares: String,
    /// Most the trader pays (for a sale, a negative value is a minimum of proceeds).
    #[schema(value_type = Option<Credits>)]
    max_cost: Option<String>,
    /// The outcome (1 = YES by default).
    outcome: Option<u32>,
}

/// The `report` command's field (spec/prediction.md).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReportBody {
    /// The outcome observed: 1 (YES) or 0 (NO) for binary markets.
    #[schema(minimum = 0, maximum = 255)]
    value: u8,
}

/// What a trade would cost now (the same computation as the trade). No login needed; with one,
/// the quote accounts for the caller's shares (a sale of held shares pays no fee).
#[utoipa::path(get, path = "/markets/{id}/quote", tag = "markets", params(("id" = String, Path, description = "the market's id"), QuoteQuery),
    responses((status = 200, description = "what the trade would cost now", body = QuoteView), Refused))]
pub async fn quote(
    State(state): State<AppState>,
    user: Option<User>,
    PathId(market): PathId,
    Query(q): Query<QuoteQuery>,
) -> ApiResult<Json<QuoteView>> {
    let outcome = q.outcome.unwrap_or(1) as usize;
    let name = user.as_ref().map(|u| u.name.as_str());
    Ok(Json(views::markets::quote(&state.shared.engine(), &market, name, outcome, q.shares)?))
}
