//! The backup network's resource market (spec/resources.md "Interfaces"): a user's own peer
//! (named by the user name) registers, reports online time, sets its sliders and sees its
//! capacity and pie chart, never prices or balances; the operator (admin) sees prices,
//! imbalance, balances and frozen accounts and runs the daily settlement and price update.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::{Amount, Op};
use serde::Deserialize;

use crate::http::error::{written, ApiResult, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::state::AppState;
use crate::views::{self, After, OperatorView, PeerView};
use crate::writer::Action;

async fn submit_peer_op(
    state: &AppState,
    user: &User,
    key: IdempotencyKey,
    op: Op,
    status: StatusCode,
) -> ApiResult<Written> {
    let action = Action::engine(op, Some(&user.name), After::Peer(user.name.clone()));
    written(status, state.submit(action, key.scoped(&user.name)).await)
}

/// Registers the caller's peer (named by the user name).
pub async fn register(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Written> {
    let op = Op::RegisterPeer { peer: user.name.clone() };
    submit_peer_op(&state, &user, key, op, StatusCode::CREATED).await
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
) -> ApiResult<Written> {
    let op = Op::ReportOnline { peer: user.name.clone(), fraction: b.fraction, online: b.online };
    submit_peer_op(&state, &user, key, op, StatusCode::OK).await
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
) -> ApiResult<Written> {
    let op = Op::SetSliders {
        peer: user.name.clone(),
        space_gb: b.space_gb,
        upload_gb: b.upload_gb,
        download_gb: b.download_gb,
    };
    submit_peer_op(&state, &user, key, op, StatusCode::OK).await
}

/// The caller's capacity, pie chart and sliders with their thick regions.
pub async fn me(State(state): State<AppState>, user: User) -> ApiResult<Json<PeerView>> {
    Ok(Json(views::resources::peer(&state.shared.engine(), &user.name)?))
}

/// The view for slider positions being dragged, without setting them (nothing is logged).
pub async fn preview(State(state): State<AppState>, user: User, Query(q): Query<Sliders>) -> ApiResult<Json<PeerView>> {
    let sliders = [q.space_gb, q.upload_gb, q.download_gb];
    Ok(Json(views::resources::preview(&state.shared.engine(), &user.name, sliders)?))
}

/// The operator's view: prices, imbalance, balances, frozen accounts.
pub async fn operator(State(state): State<AppState>, user: User) -> ApiResult<Json<OperatorView>> {
    user.require_admin()?;
    Ok(Json(views::resources::operator(&state.shared.engine())))
}

/// The operator's debug view of one peer: its view plus balance, deficit limit and prices.
pub async fn peer_debug(State(state): State<AppState>, user: User, PathId(peer): PathId) -> ApiResult<Json<PeerView>> {
    user.require_admin()?;
    Ok(Json(views::resources::peer_debug(&state.shared.engine(), &peer)?))
}

async fn submit_operator_op(state: &AppState, user: &User, key: IdempotencyKey, op: Op) -> ApiResult<Written> {
    user.require_admin()?;
    let action = Action::engine(op, Some(&user.name), After::Operator);
    written(StatusCode::OK, state.submit(action, key.scoped(&user.name)).await)
}

/// Runs one day's settlement by hand (the daily job does this on its own).
pub async fn settle(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Written> {
    submit_operator_op(&state, &user, key, Op::SettleDay {}).await
}

/// Runs one step of the price update by hand (the daily job does this after settling).
pub async fn update_prices(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Written> {
    submit_operator_op(&state, &user, key, Op::UpdatePrices {}).await
}
