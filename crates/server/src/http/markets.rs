//! Prediction markets (spec/prediction.md): the engine's create_market / trade / report
//! operations, routed as they are; the engine decides every rule.

use axum::extract::{Path, State};
use peerex_engine::prediction::command::{CreateMarket, Report, Trade};
use peerex_engine::{Amount, Op, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, IdempotencyKey, User};
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

#[derive(Deserialize)]
pub struct NewMarket {
    pub id: String,
    pub statement: String,
    pub deadline: Timestamp,
    pub b: Amount,
    #[serde(default)]
    pub fee: Amount,
    #[serde(default)]
    pub initial_shares: Amount,
    #[serde(default)]
    pub outcomes: Option<u32>,
    #[serde(default)]
    pub issue: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<NewMarket>,
) -> ApiResult<Reply> {
    if b.id.is_empty() || b.id.len() > 200 || b.statement.chars().count() > 1000 {
        return Err(ApiError::bad_request("invalid_argument", "id has 1 to 200 characters, statement at most 1000"));
    }
    let id = b.id.clone();
    let op = Op::CreateMarket(CreateMarket {
        id: b.id,
        user: user.name.clone(),
        statement: b.statement,
        deadline: b.deadline,
        b: b.b,
        fee: b.fee,
        initial_shares: b.initial_shares,
        outcomes: b.outcomes,
        issue: b.issue,
    });
    let render = on_success(201, move |e, _| market_view(e, &id));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

#[derive(Deserialize)]
pub struct NewTrade {
    pub shares: Amount,
    #[serde(default)]
    pub max_cost: Option<Amount>,
    #[serde(default)]
    pub outcome: Option<u32>,
}

pub async fn trade(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Path(market): Path<String>,
    Body(b): Body<NewTrade>,
) -> ApiResult<Reply> {
    let id = market.clone();
    let op = Op::Trade(Trade {
        id: String::new(),
        user: user.name.clone(),
        market,
        shares: b.shares,
        max_cost: b.max_cost,
        outcome: b.outcome,
    });
    let render = on_success(201, move |e, ev| {
        let events: Vec<Value> = ev.iter().map(|t| e.render_event(t)).collect();
        json!({"market": market_view(e, &id), "events": events})
    });
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

#[derive(Deserialize)]
pub struct NewReport {
    pub value: u8,
}

pub async fn report(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Path(market): Path<String>,
    Body(b): Body<NewReport>,
) -> ApiResult<Reply> {
    let id = market.clone();
    let op = Op::Report(Report { user: user.name.clone(), market, value: b.value });
    let render = on_success(200, move |e, _| market_view(e, &id));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}
