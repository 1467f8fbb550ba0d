//! Issues (local tracker), offers, positions, series, books, trades and prices.

use axum::extract::State;
use peerex_engine::exchange::types::{CloseReason, OfferKind};
use peerex_engine::{OfferCommand, Op, Price, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, IdempotencyKey, PathId, Query, User};
use crate::http::feeds::{page, Page};
use crate::http::render::{find_series, issue_view, offer_view, on_success, series_view, trades_in};
use crate::state::AppState;
use crate::writer::{Action, Reply};

pub const MAX_ISSUE: usize = 200;
pub const MAX_TITLE: usize = 500;
pub const MAX_LABELS: usize = 20;

type Json = axum::Json<Value>;

fn check_len(field: &str, v: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(ApiError::bad_request("invalid_argument", format!("{field} has {min} to {max} characters")));
    }
    Ok(())
}

pub async fn list_issues(State(state): State<AppState>) -> Json {
    let engine = state.shared.engine();
    let x = engine.exchange();
    let issues: Vec<Value> = x.all_issues().filter_map(|(i, _)| issue_view(&engine, x.issue_name(i))).collect();
    axum::Json(json!(issues))
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
) -> ApiResult<Reply> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    check_len("title", &b.title, 0, MAX_TITLE)?;
    if b.labels.len() > MAX_LABELS || b.labels.iter().any(|l| l.is_empty() || l.chars().count() > 100) {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("at most {MAX_LABELS} labels of 1 to 100 characters"),
        ));
    }
    let name = b.issue.clone();
    let op = Op::OpenIssue { issue: b.issue, title: b.title, labels: b.labels };
    let render = on_success(201, move |e, _| issue_view(e, &name).unwrap_or(Value::Null));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
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
) -> ApiResult<Reply> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    may_change(&state, &user, &b.issue)?;
    let name = b.issue.clone();
    let op = Op::CloseIssue { issue: b.issue, reason: b.reason.unwrap_or_default() };
    let render = on_success(200, move |e, _| issue_view(e, &name).unwrap_or(Value::Null));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

pub async fn reopen_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<IssueChange>,
) -> ApiResult<Reply> {
    check_len("issue", &b.issue, 1, MAX_ISSUE)?;
    may_change(&state, &user, &b.issue)?;
    let name = b.issue.clone();
    let op = Op::ReopenIssue { issue: b.issue };
    let render = on_success(200, move |e, _| issue_view(e, &name).unwrap_or(Value::Null));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
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
) -> ApiResult<Reply> {
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
    let me = user.name.clone();
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
    let render =
        Box::new(move |e: &peerex_engine::Engine, r: &peerex_engine::EngineResult<()>, ev: &[peerex_engine::Timed]| {
            match r {
                Ok(()) => {
                    let id = ev.iter().find_map(|t| match t.event {
                        peerex_engine::Event::OfferPlaced { offer, .. } => {
                            Some(e.exchange().offer_name(offer).to_owned())
                        }
                        _ => None,
                    });
                    let mut v = id.as_deref().and_then(|id| offer_view(e, id)).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut v {
                        m.insert("trades".into(), json!(trades_in(e, ev, &me)));
                    }
                    Reply::new(201, v)
                }
                Err(err) => Reply::error(err.status(), err.code(), err.message()),
            }
        });
    state
        .submit(Action::Engine { op: Op::Offer(cmd), actor: Some(user.name.clone()), render }, key.scoped(&user.name))
        .await
}

#[derive(Deserialize)]
pub struct OfferFilter {
    #[serde(default)]
    pub status: Option<String>,
}

pub async fn my_offers(State(state): State<AppState>, user: User, Query(f): Query<OfferFilter>) -> Json {
    let engine = state.shared.engine();
    let Some(uid) = engine.user_id(&user.name) else { return axum::Json(json!([])) };
    let x = engine.exchange();
    let offers: Vec<Value> = x
        .all_offers()
        .filter(|(_, o)| o.user == uid && f.status.as_deref().is_none_or(|s| s == o.status.as_str()))
        .filter_map(|(id, _)| offer_view(&engine, x.offer_name(id)))
        .collect();
    axum::Json(json!(offers))
}

fn own_offer(state: &AppState, user: &User, id: &str) -> ApiResult<Value> {
    let engine = state.shared.engine();
    let view =
        offer_view(&engine, id).ok_or_else(|| ApiError::new(404, "unknown_offer", format!("no offer {id:?}")))?;
    if view["user"] != json!(user.name) && !user.admin {
        return Err(ApiError::new(403, "not_owner", "the offer is not yours"));
    }
    Ok(view)
}

pub async fn get_offer(State(state): State<AppState>, user: User, PathId(id): PathId) -> ApiResult<Json> {
    own_offer(&state, &user, &id).map(axum::Json)
}

pub async fn cancel_offer(State(state): State<AppState>, user: User, PathId(id): PathId) -> ApiResult<Reply> {
    let op = Op::Cancel { user: user.name.clone(), offer: id.clone() };
    let render = on_success(200, move |e, _| offer_view(e, &id).unwrap_or(Value::Null));
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, None).await
}

pub async fn resume_offer(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    PathId(id): PathId,
) -> ApiResult<Reply> {
    let op = Op::Resume { user: user.name.clone(), offer: id.clone() };
    let me = user.name.clone();
    let render = on_success(200, move |e, ev| {
        let mut v = offer_view(e, &id).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("trades".into(), json!(trades_in(e, ev, &me)));
        }
        v
    });
    state.submit(Action::Engine { op, actor: Some(user.name.clone()), render }, key.scoped(&user.name)).await
}

pub async fn positions(State(state): State<AppState>, user: User) -> Json {
    let engine = state.shared.engine();
    let list = engine.user_id(&user.name).map(|u| engine.exchange().positions_of(u)).unwrap_or_default();
    axum::Json(json!(list))
}

#[derive(Deserialize)]
pub struct IssueQuery {
    #[serde(default)]
    pub issue: Option<String>,
}

pub async fn series(State(state): State<AppState>, Query(q): Query<IssueQuery>) -> ApiResult<Json> {
    let engine = state.shared.engine();
    let x = engine.exchange();
    let ids = match q.issue.as_deref() {
        Some(name) => {
            let iid =
                x.issue_id(name).ok_or_else(|| ApiError::new(404, "unknown_issue", format!("no issue {name:?}")))?;
            x.series_of_issue(iid)
        }
        None => x.all_series().map(|(s, _)| s).collect(),
    };
    Ok(axum::Json(json!(ids.into_iter().filter_map(|s| series_view(&engine, s)).collect::<Vec<_>>())))
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

pub async fn book(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json> {
    let engine = state.shared.engine();
    let sid = find_series(&engine, &q.issue, &q.maturation)?;
    let depth = engine.exchange().depth(sid, q.levels.unwrap_or(50).clamp(1, 500));
    Ok(axum::Json(json!({"issue": q.issue, "maturation": q.maturation, "bids": depth.bids, "asks": depth.asks})))
}

async fn series_trades(state: &AppState, q: &SeriesQuery) -> ApiResult<(Vec<(i64, String)>, i64)> {
    let maturation = find_series(&state.shared.engine(), &q.issue, &q.maturation)
        .and_then(|_| Timestamp::parse(&q.maturation).map_err(ApiError::from))?;
    let (after, limit) = Page { after: q.after, limit: q.limit }.bounds();
    let rows = state
        .store
        .trades(&q.issue, maturation.millis(), after, limit)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((rows, after))
}

pub async fn trades(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json> {
    let (rows, after) = series_trades(&state, &q).await?;
    Ok(axum::Json(page(rows, after)))
}

/// Price history: each trade's time, fixed-side price and volume.
pub async fn prices(State(state): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json> {
    let (rows, after) = series_trades(&state, &q).await?;
    let next = rows.last().map_or(after, |r| r.0);
    let points: Vec<Value> = rows
        .iter()
        .filter_map(|(_, b)| serde_json::from_str::<Value>(b).ok())
        .map(|t| json!({"at": t["at"], "price": t["price"], "volume": t["volume"]}))
        .collect();
    Ok(axum::Json(json!({"points": points, "next": next})))
}
