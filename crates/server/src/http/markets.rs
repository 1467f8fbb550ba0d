//! Prediction markets (spec/prediction.md). Request bodies are the engine commands' own fields
//! minus `user` (and the market id, taken from the path); they are completed and parsed into the
//! engine's command types, so new optional fields of the engine reach the API unchanged.

use axum::extract::State;
use peerex_engine::prediction::command::{CreateMarket, Report, ResolveMarket, Trade};
use peerex_engine::{Amount, Op};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::http::render::on_success;
use crate::state::AppState;
use crate::writer::{Action, Reply};

pub async fn list(State(state): State<AppState>) -> axum::Json<Value> {
    axum::Json(state.shared.engine().markets().summary())
}

fn market_view(e: &peerex_engine::Engine, id: &str) -> Value {
    let summary = e.markets().summary();
    let mut v = summary.get(id).cloned().unwrap_or_else(|| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(id));
    }
    v
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

pub async fn create(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Value>,
) -> ApiResult<Reply> {
    let cmd: CreateMarket = complete(b, &[("user", json!(user.name))], &[])?;
    if cmd.id.is_empty() || cmd.id.len() > 200 || cmd.statement.chars().count() > 1000 {
        return Err(ApiError::bad_request("invalid_argument", "id has 1 to 200 characters, statement at most 1000"));
    }
    let id = cmd.id.clone();
    let op = Op::CreateMarket(Box::new(cmd));
    let render = on_success(201, move |e, _| market_view(e, &id));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

pub async fn trade(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(market): PathId,
    Body(b): Body<Value>,
) -> ApiResult<Reply> {
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
    let id = market;
    let render = on_success(201, move |e, ev| {
        let events: Vec<Value> = ev.iter().map(|t| e.render_event(t)).collect();
        json!({"market": market_view(e, &id), "events": events})
    });
    state
        .submit(Action::Engine { op: Op::Trade(cmd), actor: Some(user.name.clone()), render }, key.scoped(&user.name))
        .await
}

pub async fn report(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(market): PathId,
    Body(b): Body<Value>,
) -> ApiResult<Reply> {
    let cmd: Report = complete(b, &[("user", json!(user.name)), ("market", json!(market))], &[])?;
    let id = market;
    let render = on_success(200, move |e, _| market_view(e, &id));
    state
        .submit(Action::Engine { op: Op::Report(cmd), actor: Some(user.name.clone()), render }, key.scoped(&user.name))
        .await
}

/// The creator closes reporting early once enough reports are in.
pub async fn resolve(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(market): PathId,
) -> ApiResult<Reply> {
    let op = Op::ResolveMarket(ResolveMarket { user: user.name.clone(), market: market.clone() });
    let render = on_success(200, move |e, _| market_view(e, &market));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
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
) -> ApiResult<axum::Json<Value>> {
    let engine = state.shared.engine();
    let markets = engine.markets();
    let id = markets
        .market_id(&market)
        .ok_or_else(|| ApiError::new(404, "unknown_market", format!("no market {market:?}")))?;
    let outcome = q.outcome.unwrap_or(1) as usize;
    let quote = markets.quote(id, engine.user_id(&user.name), outcome, q.shares)?;
    let total = Amount(quote.cost.saturating_add(quote.fee));
    Ok(axum::Json(json!({"market": market, "shares": q.shares, "outcome": outcome,
        "cost": Amount(quote.cost), "fee": Amount(quote.fee), "total": total})))
}
