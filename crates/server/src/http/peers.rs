//! The backup network's resource market (spec/resources.md "Interfaces"): a user's own peer
//! (named by the user name) registers, reports online time, sets its sliders and sees its
//! capacity and pie chart, never prices or balances; the operator (admin) sees prices,
//! imbalance, balances and frozen accounts and runs the daily settlement and price update.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::{Amount, Op};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{written, ApiResult, Refused, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::state::AppState;
use crate::views::{self, After, Credits, ErrorView, OperatorView, PeerView};
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
#[utoipa::path(post, path = "/peers", tag = "resources", security(("bearer" = [])),
    responses((status = 201, description = "the caller's peer", body = PeerView), Refused))]
pub async fn register(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Written> {
    let op = Op::RegisterPeer { peer: user.name.clone() };
    submit_peer_op(&state, &user, key, op, StatusCode::CREATED).await
}

#[derive(Deserialize, ToSchema)]
pub struct Online {
    /// The day's measured online fraction, in [0, 1].
    #[schema(value_type = Credits, example = "0.9")]
    pub fraction: Amount,
    #[serde(default)]
    pub online: Option<bool>,
}

/// A day's measured online fraction of the caller's peer.
#[utoipa::path(post, path = "/peers/online", tag = "resources", security(("bearer" = [])), request_body = Online,
    responses((status = 200, description = "the caller's peer", body = PeerView), Refused))]
pub async fn report_online(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Online>,
) -> ApiResult<Written> {
    let op = Op::ReportOnline { peer: user.name.clone(), fraction: b.fraction, online: b.online };
    submit_peer_op(&state, &user, key, op, StatusCode::OK).await
}

#[derive(Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Sliders {
    /// Space offered, GB.
    #[schema(value_type = Credits, example = "100")]
    #[param(value_type = Credits)]
    pub space_gb: Amount,
    /// Upload offered, GB per day.
    #[schema(value_type = Credits, example = "10")]
    #[param(value_type = Credits)]
    pub upload_gb: Amount,
    /// Download offered, GB per day.
    #[schema(value_type = Credits, example = "10")]
    #[param(value_type = Credits)]
    pub download_gb: Amount,
}

/// Sets the caller's three sliders (GB, GB per day, GB per day).
#[utoipa::path(post, path = "/peers/sliders", tag = "resources", security(("bearer" = [])), request_body = Sliders,
    responses((status = 200, description = "the caller's peer", body = PeerView), Refused))]
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

/// Sets the caller's three sliders (the same as POST).
#[utoipa::path(put, path = "/peers/sliders", tag = "resources", security(("bearer" = [])), request_body = Sliders,
    responses((status = 200, description = "the caller's peer", body = PeerView), Refused))]
pub async fn put_sliders(
    state: State<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<Sliders>,
) -> ApiResult<Written> {
    set_sliders(state, user, key, body).await
}

/// The caller's capacity, pie chart and sliders with their thick regions.
#[utoipa::path(get, path = "/peers/me", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "the caller's capacity, pie chart and sliders (no prices or balances)", body = PeerView), (status = 404, description = "the caller has no peer", body = ErrorView)))]
pub async fn me(State(state): State<AppState>, user: User) -> ApiResult<Json<PeerView>> {
    Ok(Json(views::resources::peer(&state.shared.engine(), &user.name)?))
}

/// The view for slider positions being dragged, without setting them (nothing is logged).
#[utoipa::path(get, path = "/peers/me/preview", tag = "resources", security(("bearer" = [])), params(Sliders),
    responses((status = 200, description = "the view for these slider positions (nothing is set)", body = PeerView), Refused))]
pub async fn preview(State(state): State<AppState>, user: User, Query(q): Query<Sliders>) -> ApiResult<Json<PeerView>> {
    let sliders = [q.space_gb, q.upload_gb, q.download_gb];
    Ok(Json(views::resources::preview(&state.shared.engine(), &user.name, sliders)?))
}

/// The operator's view: prices, imbalance, balances, frozen accounts.
#[utoipa::path(get, path = "/admin/resources", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "prices, imbalance, balances, frozen accounts", body = OperatorView), (status = 403, description = "admins only", body = ErrorView)))]
pub async fn operator(State(state): State<AppState>, user: User) -> ApiResult<Json<OperatorView>> {
    user.require_admin()?;
    Ok(Json(views::resources::operator(&state.shared.engine())))
}

/// The operator's debug view of one peer: its view plus balance, deficit limit and prices.
#[utoipa::path(get, path = "/admin/resources/peers/{id}", tag = "resources", security(("bearer" = [])), params(("id" = String, Path, description = "the peer (its user name)")),
    responses((status = 200, description = "the peer's view with balance, deficit limit and prices", body = PeerView), (status = 403, description = "admins only", body = ErrorView), (status = 404, description = "no such peer", body = ErrorView)))]
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
#[utoipa::path(post, path = "/admin/resources/settle", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "the operator's view after the day's settlement", body = OperatorView), Refused))]
pub async fn settle(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Written> {
    submit_operator_op(&state, &user, key, Op::SettleDay {}).await
}

/// Runs one step of the price update by hand (the daily job does this after settling).
#[utoipa::path(post, path = "/admin/resources/prices", tag = "resources", security(("bearer" = [])),
    responses((status = 200, description = "the operator's view after the price update", body = OperatorView), Refused))]
pub async fn update_prices(State(state): State<AppState>, user: User, key: IdempotencyKey) -> ApiResult<Written> {
    submit_operator_op(&state, &user, key, Op::UpdatePrices {}).await
}
