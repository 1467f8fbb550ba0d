//! The backup network's resource market (spec/resources.md "Interfaces"): a user's own peer
//! (named by the user name) registers, reports online time, sets its sliders and sees its
//! capacity and pie chart, never prices or balances; the operator (admin) sees prices,
//! imbalance, balances and frozen accounts and runs the daily settlement and price update.

use axum::extract::State;
use peerex_engine::{Amount, Engine, Op};
use serde::Deserialize;
use serde_json::Value;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::http::render::on_success;
use crate::state::AppState;
use crate::writer::{Action, Reply};

type Json = axum::Json<Value>;

/// The peer's own view (no prices or balances: `debug` is off on the API).
fn my_view(engine: &Engine, name: &str) -> ApiResult<Value> {
    let view = engine.resources().peer_view(engine.ledger(), name, false)?;
    serde_json::to_value(view).map_err(|e| ApiError::internal(format!("peer view: {e}")))
}

fn view_or_null(engine: &Engine, name: &str) -> Value {
    my_view(engine, name).unwrap_or(Value::Null)
}

async fn submit_peer_op(state: &AppState, user: &User, key: IdempotencyKey, op: Op, status: u16) -> ApiResult<Reply> {
    let name = user.name.clone();
    let render = on_success(status, move |e, _| view_or_null(e, &name));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

/// Registers the caller's peer (named by the user name).
pub async fn register(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Reply> {
    let op = Op::RegisterPeer { peer: user.name.clone() };
    submit_peer_op(&state, &user, key, op, 201).await
}

#[derive(Deserialize)]
pub struct Online {
    pub fraction: Amount,
    #[serde(default)]
    pub online: Option<bool>,
}

/// A day's measured online fraction of the caller's peer.
pub async fn report_online(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Online>,
) -> ApiResult<Reply> {
    let op = Op::ReportOnline { peer: user.name.clone(), fraction: b.fraction, online: b.online };
    submit_peer_op(&state, &user, key, op, 200).await
}

#[derive(Deserialize)]
pub struct Sliders {
    pub space_gb: Amount,
    pub upload_gb: Amount,
    pub download_gb: Amount,
}

/// Sets the caller's three sliders (GB, GB per day, GB per day).
pub async fn set_sliders(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Sliders>,
) -> ApiResult<Reply> {
    let op = Op::SetSliders {
        peer: user.name.clone(),
        space_gb: b.space_gb,
        upload_gb: b.upload_gb,
        download_gb: b.download_gb,
    };
    submit_peer_op(&state, &user, key, op, 200).await
}

/// The caller's capacity, pie chart and sliders with their thick regions.
pub async fn me(State(state): State<AppState>, user: User) -> ApiResult<Json> {
    let engine = state.shared.engine();
    my_view(&engine, &user.name).map(axum::Json)
}

/// The view for slider positions being dragged, without setting them (nothing is logged).
pub async fn preview(State(state): State<AppState>, user: User, Query(q): Query<Sliders>) -> ApiResult<Json> {
    let engine = state.shared.engine();
    let view =
        engine.resources().peer_preview(engine.ledger(), &user.name, [q.space_gb, q.upload_gb, q.download_gb])?;
    serde_json::to_value(view).map(axum::Json).map_err(|e| ApiError::internal(format!("peer view: {e}")))
}

fn operator_view(engine: &Engine) -> Value {
    serde_json::to_value(engine.resources().operator_view(engine.ledger())).unwrap_or(Value::Null)
}

/// The operator's view: prices, imbalance, balances, frozen accounts.
pub async fn operator(State(state): State<AppState>, user: User) -> ApiResult<Json> {
    user.require_admin()?;
    let engine = state.shared.engine();
    Ok(axum::Json(operator_view(&engine)))
}

/// The operator's debug view of one peer: its view plus balance, deficit limit and prices.
pub async fn peer_debug(State(state): State<AppState>, user: User, PathId(peer): PathId) -> ApiResult<Json> {
    user.require_admin()?;
    let engine = state.shared.engine();
    let view = engine.resources().peer_view(engine.ledger(), &peer, true)?;
    serde_json::to_value(view).map(axum::Json).map_err(|e| ApiError::internal(format!("peer view: {e}")))
}

async fn submit_operator_op(state: &AppState, user: &User, key: IdempotencyKey, op: Op) -> ApiResult<Reply> {
    user.require_admin()?;
    let render = on_success(200, |e, _| operator_view(e));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

/// Runs one day's settlement by hand (the daily job does this on its own).
pub async fn settle(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Reply> {
    submit_operator_op(&state, &user, key, Op::SettleDay {}).await
}

/// Runs one step of the price update by hand (the daily job does this after settling).
pub async fn update_prices(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Reply> {
    submit_operator_op(&state, &user, key, Op::UpdatePrices {}).await
}
