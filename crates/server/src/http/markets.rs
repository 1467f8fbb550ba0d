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

use crate::http::error::{written, ApiError, ApiResult, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::state::AppState;
use crate::views::{self, After, MarketsView, QuoteView};
use crate::writer::Action;

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
    serde_json::from_value(Value::Object(m))
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid body: {e}")))
}

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
    let action = Action::engine(Op::Trade(cmd), Some(&user.name), After::MarketTrade(market));
    written(StatusCode::CREATED, state.submit(action, key.scoped(&user.name)).await)
}

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

#[derive(Deserialize)]
pub struct QuoteQuery {
    pub shares: Amount,
    #[serde(default)]
    pub outcome: Option<u32>,
}

/// What a trade would cost now (the same computation as the trade), for the caller.
pub async fn quote(
    State(state): State<AppState>,
    user: User,
    PathId(market): PathId,
    Query(q): Query<QuoteQuery>,
) -> ApiResult<Json<QuoteView>> {
    let outcome = q.outcome.unwrap_or(1) as usize;
    Ok(Json(views::markets::quote(&state.shared.engine(), &market, &user.name, outcome, q.shares)?))
}
