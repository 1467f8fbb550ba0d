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
use crate::views::{self, After, Credits, MarketTradeView, MarketView, MarketsView, QuoteView, TimeText};
use crate::writer::Action;

#[utoipa::path(get, path = "/markets", tag = "markets",
    responses((status = 200, description = "every prediction market by id", body = MarketsView)))]
pub async fn list(State(state): State<AppState>) -> Json<MarketsView> {
    Json(views::markets::markets(&state.shared.engine()))
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
    if cmd.id.is_empty() || cmd.id.len() > 200 || cmd.statement.chars().count() > 1000 {
        return Err(ApiError::bad_request("invalid_argument", "id has 1 to 200 characters, statement at most 1000"));
    }
    let view = After::Market(cmd.id.clone());
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

/// What a trade would cost now (the same computation as the trade), for the caller.
#[utoipa::path(get, path = "/markets/{id}/quote", tag = "markets", security(("bearer" = [])), params(("id" = String, Path, description = "the market's id"), QuoteQuery),
    responses((status = 200, description = "what the trade would cost now", body = QuoteView), Refused))]
pub async fn quote(
    State(state): State<AppState>,
    user: User,
    PathId(market): PathId,
    Query(q): Query<QuoteQuery>,
) -> ApiResult<Json<QuoteView>> {
    let outcome = q.outcome.unwrap_or(1) as usize;
    Ok(Json(views::markets::quote(&state.shared.engine(), &market, &user.name, outcome, q.shares)?))
}
