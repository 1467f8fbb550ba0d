//! Issues (local tracker), offers, positions, series, books, trades and prices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use peerex_engine::exchange::types::{CloseReason, OfferKind};
use peerex_engine::{OfferCommand, Op, Price, Timestamp};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{written, ApiError, ApiResult, Refused, Written};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::http::feeds::Page;
use crate::state::AppState;
use crate::views::{
    self, After, BookView, ErrorView, IssueView, OfferView, PositionView, PriceText, PricesView, SeriesView, TimeText,
    TradesPage,
};
use crate::writer::Action;

pub const MAX_ISSUE: usize = 200;
pub const MAX_TITLE: usize = 500;
pub const MAX_LABELS: usize = 20;

pub(crate) fn check_len(field: &str, v: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(ApiError::bad_request("invalid_argument", format!("{field} has {min} to {max} characters")));
    }
    Ok(())
}

/// The one rule for an issue key in a request: 1 to [`MAX_ISSUE`] characters, without
/// surrounding spaces (" demo/app#1" would otherwise be another issue than "demo/app#1").
pub(crate) fn check_issue(issue: &str) -> ApiResult<()> {
    let n = issue.chars().count();
    if n == 0 || n > MAX_ISSUE || issue.trim() != issue {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("issue has 1 to {MAX_ISSUE} characters, without surrounding spaces"),
        ));
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
pub struct IssueListQuery {
    /// Only issues in this state: open or closed.
    #[serde(default)]
    pub state: Option<String>,
    /// issue (default), volume or open_interest (largest first).
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub sort: Option<views::exchange::IssueSort>,
    /// Skip this many issues.
    #[serde(default)]
    pub offset: Option<usize>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Issues with their series: `?state=open|closed`, `sort=issue|volume|open_interest`,
/// `offset`, `limit` (default 100, at most 1000).
#[utoipa::path(get, path = "/issues", tag = "exchange", params(IssueListQuery),
    responses((status = 200, description = "issues with their series: fixed-side price (implied probability of a fix by the maturation), volume, open interest, status", body = Vec<IssueView>), Refused))]
pub async fn list_issues(
    State(state): State<AppState>,
    Query(q): Query<IssueListQuery>,
) -> ApiResult<Json<Vec<IssueView>>> {
    if q.state.as_deref().is_some_and(|s| s != "open" && s != "closed") {
        return Err(ApiError::bad_request("invalid_argument", "state is open or closed"));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let sort = q.sort.unwrap_or_default();
    Ok(Json(views::exchange::issues_query(
        &state.shared.engine(),
        q.state.as_deref(),
        sort,
        q.offset.unwrap_or(0),
        limit,
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct OpenIssue {
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub title: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub labels: Vec<String>,
}

#[utoipa::path(post, path = "/issues", tag = "exchange", security(("bearer" = [])), request_body = OpenIssue,
    responses((status = 201, description = "the issue", body = IssueView), Refused))]
pub async fn open_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<OpenIssue>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
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

#[derive(Deserialize, ToSchema)]
pub struct IssueChange {
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    /// Why it closes (close only; `completed` by default).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "completed")]
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

#[utoipa::path(post, path = "/issues/close", tag = "exchange", security(("bearer" = [])), request_body = IssueChange,
    responses((status = 200, description = "the issue", body = IssueView), Refused))]
pub async fn close_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<IssueChange>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    may_change(&state, &user, &b.issue)?;
    let view = After::Issue(b.issue.clone());
    let op = Op::CloseIssue { issue: b.issue, reason: b.reason.unwrap_or_default() };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

#[utoipa::path(post, path = "/issues/reopen", tag = "exchange", security(("bearer" = [])), request_body = IssueChange,
    responses((status = 200, description = "the issue", body = IssueView), Refused))]
pub async fn reopen_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<IssueChange>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    may_change(&state, &user, &b.issue)?;
    let view = After::Issue(b.issue.clone());
    let op = Op::ReopenIssue { issue: b.issue };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

/// The `offer` command's fields without `id` and `user` (spec/service.md).
#[derive(Deserialize, ToSchema)]
pub struct PlaceOffer {
    /// `buy_fixed`, `buy_unfixed`, `sell_fixed` or `sell_unfixed`.
    #[schema(value_type = String, example = "buy_fixed")]
    pub kind: OfferKind,
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// The price of the offer's own side.
    #[schema(value_type = PriceText)]
    pub price: Price,
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub volume: u64,
    /// All or none.
    #[serde(default)]
    pub aon: bool,
    /// Buy offers only: pool the hold with the caller's other poolable buys.
    #[serde(default)]
    pub poolable: bool,
    #[serde(default)]
    #[schema(value_type = Option<TimeText>)]
    pub expiration: Option<Timestamp>,
}

impl PlaceOffer {
    /// The `offer` command of `user` (the server assigns the id).
    pub fn into_command(self, user: &str) -> OfferCommand {
        OfferCommand {
            id: String::new(),
            user: user.to_owned(),
            kind: self.kind,
            issue: self.issue,
            maturation: self.maturation,
            price: self.price,
            volume: self.volume,
            aon: self.aon,
            poolable: self.poolable,
            expiration: self.expiration,
        }
    }
}

#[utoipa::path(post, path = "/offers", tag = "exchange", security(("bearer" = [])), request_body = PlaceOffer,
    responses((status = 201, description = "the offer (its id is the server's) and the trades it made", body = OfferView), Refused))]
pub async fn place_offer(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<PlaceOffer>,
) -> ApiResult<Written> {
    check_issue(&b.issue)?;
    // The open-offer limit is the engine's (`set_limits`, logged at start), checked in order.
    let cmd = b.into_command(&user.name);
    let r = state
        .submit(Action::engine(Op::Offer(cmd), Some(&user.name), After::PlacedOffer), key.scoped(&user.name))
        .await;
    written(StatusCode::CREATED, r)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferFilter {
    /// Only offers with this status (`open`, `filled`, `cancelled`, `expired`, `suspended`).
    #[serde(default)]
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/offers", tag = "exchange", security(("bearer" = [])), params(OfferFilter),
    responses((status = 200, description = "the caller's offers", body = Vec<OfferView>)))]
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

#[utoipa::path(get, path = "/offers/{id}", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path, description = "the offer's id")),
    responses((status = 200, description = "the offer", body = OfferView), (status = 403, description = "not the caller's", body = ErrorView), (status = 404, description = "no such offer", body = ErrorView)))]
pub async fn get_offer(State(state): State<AppState>, user: User, PathId(id): PathId) -> ApiResult<Json<OfferView>> {
    own_offer(&state, &user, &id).map(Json)
}

#[utoipa::path(delete, path = "/offers/{id}", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path, description = "the offer's id")),
    responses((status = 200, description = "the cancelled offer", body = OfferView), Refused))]
pub async fn cancel_offer(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(id): PathId,
) -> ApiResult<Written> {
    let op = Op::Cancel { user: user.name.clone(), offer: id.clone() };
    // With a key, a retry after a cut answer gets the first answer, not "the offer is not open".
    let r = state.submit(Action::engine(op, Some(&user.name), After::Offer(id)), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

#[utoipa::path(post, path = "/offers/{id}/resume", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path, description = "the offer's id")),
    responses((status = 200, description = "the offer and the trades it made", body = OfferView), Refused))]
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

#[utoipa::path(get, path = "/positions", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, description = "the caller's positions with P&L", body = Vec<PositionView>)))]
pub async fn positions(State(state): State<AppState>, user: User) -> Json<Vec<PositionView>> {
    Json(views::exchange::positions(&state.shared.engine(), &user.name))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssueQuery {
    /// Only the series of this issue.
    #[serde(default)]
    #[param(max_length = 200)]
    pub issue: Option<String>,
}

#[utoipa::path(get, path = "/series", tag = "exchange", params(IssueQuery),
    responses((status = 200, description = "series (of one issue)", body = Vec<SeriesView>), (status = 404, description = "no such issue", body = ErrorView)))]
pub async fn series(State(state): State<AppState>, Query(q): Query<IssueQuery>) -> ApiResult<Json<Vec<SeriesView>>> {
    Ok(Json(views::exchange::series_list(&state.shared.engine(), q.issue.as_deref())?))
}

/// A series and a page of its trades.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    #[param(min_length = 1, max_length = 200)]
    pub issue: String,
    #[param(value_type = TimeText)]
    pub maturation: String,
    /// The cursor of the last trade seen (0: from the start).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: Option<i64>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A series and how deep to show its book.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookQuery {
    #[param(min_length = 1, max_length = 200)]
    pub issue: String,
    #[param(value_type = TimeText)]
    pub maturation: String,
    /// Price levels on each side (1 to 500, default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub levels: Option<usize>,
}

#[utoipa::path(get, path = "/book", tag = "exchange", params(BookQuery),
    responses((status = 200, description = "the series' order book in fixed-side prices", body = BookView), (status = 404, description = "no such issue or series", body = ErrorView)))]
pub async fn book(State(state): State<AppState>, Query(q): Query<BookQuery>) -> ApiResult<Json<BookView>> {
    let levels = q.levels.unwrap_or(50).clamp(1, 500);
    Ok(Json(views::exchange::book(&state.shared.engine(), &q.issue, &q.maturation, levels)?))
}

async fn series_trades(state: &AppState, q: &SeriesQuery) -> ApiResult<(Vec<(i64, String)>, i64)> {
    let sid = views::find_series(&state.shared.engine(), &q.issue, &q.maturation)?;
    let maturation = state.shared.engine().exchange().series(sid).map(|s| s.maturation).unwrap_or_default();
    let (after, limit) = Page { after: q.after, limit: q.limit }.bounds();
    let rows = state
        .store
        .trades(&q.issue, maturation.millis(), after, limit)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((rows, after))
}

#[utoipa::path(get, path = "/trades", tag = "exchange", params(SeriesQuery),
    responses((status = 200, description = "the series' trades after the cursor", body = TradesPage), (status = 404, description = "no such issue or series", body = ErrorView)))]
pub async fn trades(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json<TradesPage>> {
    let (rows, after) = series_trades(&state, &q).await?;
    Ok(Json(views::exchange::trades_page(&rows, after)))
}

/// Price history: each trade's time, fixed-side price and volume.
#[utoipa::path(get, path = "/prices", tag = "exchange", params(SeriesQuery),
    responses((status = 200, description = "the series' price history after the cursor", body = PricesView), (status = 404, description = "no such issue or series", body = ErrorView)))]
pub async fn prices(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json<PricesView>> {
    let (rows, after) = series_trades(&state, &q).await?;
    Ok(Json(views::exchange::prices_page(&rows, after)))
}
