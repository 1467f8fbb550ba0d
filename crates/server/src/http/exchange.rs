//! Issues (local tracker), offers, positions, series, books, trades and prices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::exchange::types::{CloseReason, OfferKind};
use peerex_engine::{OfferCommand, Op, Price, Timestamp};
use serde::Deserialize;

use crate::http::error::{written, ApiError, ApiResult, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::http::feeds::Page;
use crate::state::AppState;
use crate::views::{self, After, BookView, IssueView, OfferView, PositionView, PricesView, SeriesView, TradesPage};
use crate::writer::Action;

pub const MAX_ISSUE: usize = 200;
pub const MAX_TITLE: usize = 500;
pub const MAX_LABELS: usize = 20;

fn check_len(field: &str, v: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(ApiError::bad_request("invalid_argument", format!("{field} has {min} to {max} characters")));
    }
    Ok(())
}

pub async fn list_issues(State(state): State<AppState>) -> Json<Vec<IssueView>> {
    Json(views::exchange::issues(&state.shared.engine()))
}

#[derive(Deserialize)]
pub struct OpenIssue {
    pub issue: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub labels: Vec<String>,
}

pub async fn open_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<OpenIssue>,
) -> ApiResult<Written> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    check_len("title", &b.title, 0, MAX_TITLE)?;
    if b.labels.len() > MAX_LABELS || b.labels.iter().any(|l| l.is_empty() || l.chars().count() > 100) {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("at most {MAX_LABELS} labels of 1 to 100 characters"),
        ));
    }
    let view = After::Issue(b.issue.clone());
    let op = Op::OpenIssue { issue: b.issue, title: b.title, labels: b.labels };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::CREATED, r)
}

#[derive(Deserialize)]
pub struct IssueChange {
    pub issue: String,
    #[serde(default)]
    pub reason: Option<CloseReason>,
}

/// Only the user who opened a local issue, or an admin, may close or reopen it: closing decides
/// the issue's series, so traders must not control it.
fn may_change(state: &AppState, user: &User, issue: &str) -> ApiResult<()> {
    if user.admin {
        return Ok(());
    }
    let accounts = state.shared.accounts();
    match accounts.issue_openers.get(issue) {
        Some(opener) if *opener == user.name => Ok(()),
        Some(_) => Err(ApiError::forbidden("only the issue's opener or an admin may change it")),
        None if state.shared.engine().exchange().issue_id(issue).is_none() => {
            Err(ApiError::new(404, "unknown_issue", format!("no issue {issue:?}")))
        }
        None => Err(ApiError::forbidden("only an admin may change this issue")),
    }
}

pub async fn close_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<IssueChange>,
) -> ApiResult<Written> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    may_change(&state, &user, &b.issue)?;
    let view = After::Issue(b.issue.clone());
    let op = Op::CloseIssue { issue: b.issue, reason: b.reason.unwrap_or_default() };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

pub async fn reopen_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<IssueChange>,
) -> ApiResult<Written> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    may_change(&state, &user, &b.issue)?;
    let view = After::Issue(b.issue.clone());
    let op = Op::ReopenIssue { issue: b.issue };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

/// The `offer` command's fields without `id` and `user` (spec/service.md).
#[derive(Deserialize)]
pub struct PlaceOffer {
    pub kind: OfferKind,
    pub issue: String,
    pub maturation: Timestamp,
    pub price: Price,
    pub volume: u64,
    #[serde(default)]
    pub aon: bool,
    #[serde(default)]
    pub poolable: bool,
    #[serde(default)]
    pub expiration: Option<Timestamp>,
}

pub async fn place_offer(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<PlaceOffer>,
) -> ApiResult<Written> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    {
        let engine = state.shared.engine();
        let live = engine.user_id(&user.name).and_then(|u| engine.exchange().trader(u)).map_or(0, |t| t.live_offers);
        if live >= state.settings.max_open_offers {
            return Err(ApiError::new(
                422,
                "limit_exceeded",
                format!("at most {} open offers per user", state.settings.max_open_offers),
            ));
        }
    }
    let cmd = OfferCommand {
        id: String::new(),
        user: user.name.clone(),
        kind: b.kind,
        issue: b.issue,
        maturation: b.maturation,
        price: b.price,
        volume: b.volume,
        aon: b.aon,
        poolable: b.poolable,
        expiration: b.expiration,
    };
    let r = state
        .submit(Action::engine(Op::Offer(cmd), Some(&user.name), After::PlacedOffer), key.scoped(&user.name))
        .await;
    written(StatusCode::CREATED, r)
}

#[derive(Deserialize)]
pub struct OfferFilter {
    #[serde(default)]
    pub status: Option<String>,
}

pub async fn my_offers(
    State(state): State<AppState>,
    user: User,
    Query(f): Query<OfferFilter>,
) -> Json<Vec<OfferView>> {
    Json(views::exchange::offers_of(&state.shared.engine(), &user.name, f.status.as_deref()))
}

fn own_offer(state: &AppState, user: &User, id: &str) -> ApiResult<OfferView> {
    let engine = state.shared.engine();
    let view = views::exchange::offer(&engine, id)
        .ok_or_else(|| ApiError::new(404, "unknown_offer", format!("no offer {id:?}")))?;
    if view.user != user.name && !user.admin {
        return Err(ApiError::new(403, "not_owner", "the offer is not yours"));
    }
    Ok(view)
}

pub async fn get_offer(State(state): State<AppState>, user: User, PathId(id): PathId) -> ApiResult<Json<OfferView>> {
    own_offer(&state, &user, &id).map(Json)
}

pub async fn cancel_offer(State(state): State<AppState>, user: User, PathId(id): PathId) -> ApiResult<Written> {
    let op = Op::Cancel { user: user.name.clone(), offer: id.clone() };
    let r = state.submit(Action::engine(op, Some(&user.name), After::Offer(id)), None).await;
    written(StatusCode::OK, r)
}

pub async fn resume_offer(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(id): PathId,
) -> ApiResult<Written> {
    let op = Op::Resume { user: user.name.clone(), offer: id.clone() };
    let r =
        state.submit(Action::engine(op, Some(&user.name), After::OfferWithTrades(id)), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

pub async fn positions(State(state): State<AppState>, user: User) -> Json<Vec<PositionView>> {
    Json(views::exchange::positions(&state.shared.engine(), &user.name))
}

#[derive(Deserialize)]
pub struct IssueQuery {
    #[serde(default)]
    pub issue: Option<String>,
}

pub async fn series(State(state): State<AppState>, Query(q): Query<IssueQuery>) -> ApiResult<Json<Vec<SeriesView>>> {
    Ok(Json(views::exchange::series_list(&state.shared.engine(), q.issue.as_deref())?))
}

#[derive(Deserialize)]
pub struct SeriesQuery {
    pub issue: String,
    pub maturation: String,
    #[serde(default)]
    pub levels: Option<usize>,
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

pub async fn book(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json<BookView>> {
    let levels = q.levels.unwrap_or(50).clamp(1, 500);
    Ok(Json(views::exchange::book(&state.shared.engine(), &q.issue, &q.maturation, levels)?))
}

async fn series_trades(state: &AppState, q: &SeriesQuery) -> ApiResult<(Vec<(i64, String)>, i64)> {
    let sid = views::exchange::find_series(&state.shared.engine(), &q.issue, &q.maturation)?;
    let maturation = state.shared.engine().exchange().series(sid).map(|s| s.maturation).unwrap_or_default();
    let (after, limit) = Page { after: q.after, limit: q.limit }.bounds();
    let rows = state
        .store
        .trades(&q.issue, maturation.millis(), after, limit)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((rows, after))
}

pub async fn trades(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json<TradesPage>> {
    let (rows, after) = series_trades(&state, &q).await?;
    Ok(Json(views::exchange::trades_page(&rows, after)))
}

/// Price history: each trade's time, fixed-side price and volume.
pub async fn prices(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json<PricesView>> {
    let (rows, after) = series_trades(&state, &q).await?;
    Ok(Json(views::exchange::prices_page(&rows, after)))
}
