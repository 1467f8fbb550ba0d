//! Admin endpoints: accounts, minting and withdrawing, manual settlement, the sandbox clock,
//! and tracker observations (the seam for the trackers' sync jobs and webhooks).

use axum::extract::State;
use axum::http::StatusCode;
use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::{CloseReason, Side};
use peerex_engine::{Amount, Op, Timestamp};
use serde::Deserialize;

use crate::http::accounts::{new_account, Credentials};
use crate::http::error::{written, ApiError, ApiResult, Written};
use crate::http::exchange::MAX_ISSUE;
use crate::http::extract::{Body, IdempotencyKey, User};
use crate::state::AppState;
use crate::views::After;
use crate::writer::Action;

#[derive(Deserialize)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub admin: bool,
}

pub async fn create_user(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<NewUser>,
) -> ApiResult<Written> {
    user.require_admin()?;
    let row = new_account(&state, Credentials { name: b.name, password: b.password }, b.admin).await?;
    written(StatusCode::CREATED, state.submit(Action::CreateAccount { row }, key.scoped(&user.name)).await)
}

#[derive(Deserialize)]
pub struct Money {
    pub user: String,
    pub amount: Amount,
}

fn known_account(state: &AppState, name: &str) -> ApiResult<()> {
    if state.shared.accounts().users.contains_key(name) {
        Ok(())
    } else {
        Err(ApiError::new(404, "unknown_user", format!("no account {name:?}")))
    }
}

pub async fn deposit(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Money>,
) -> ApiResult<Written> {
    user.require_admin()?;
    known_account(&state, &b.user)?;
    let view = After::Balance(b.user.clone());
    let op = Op::Deposit { user: b.user, amount: b.amount };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

pub async fn withdraw(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Money>,
) -> ApiResult<Written> {
    user.require_admin()?;
    known_account(&state, &b.user)?;
    let view = After::Balance(b.user.clone());
    let op = Op::Withdraw { user: b.user, amount: b.amount };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

#[derive(Deserialize)]
pub struct Decide {
    pub issue: String,
    pub maturation: Timestamp,
    #[serde(default)]
    pub winner: Option<Side>,
    #[serde(default)]
    pub fixed_pays: Option<Amount>,
    #[serde(default)]
    pub reason: String,
}

/// Manual settlement, recorded with its reason and the deciding admin.
pub async fn decide(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Decide>,
) -> ApiResult<Written> {
    user.require_admin()?;
    if b.reason.chars().count() > 500 {
        return Err(ApiError::bad_request("invalid_argument", "reason has at most 500 characters"));
    }
    let view = After::Issue(b.issue.clone());
    let op = Op::Decide {
        issue: b.issue,
        maturation: b.maturation,
        winner: b.winner,
        fixed_pays: b.fixed_pays,
        reason: b.reason,
        actor: user.name.clone(),
    };
    let r = state.submit(Action::engine(op, Some(&user.name), view), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}

#[derive(Deserialize)]
pub struct SetClock {
    #[serde(default)]
    pub to: Option<Timestamp>,
    #[serde(default)]
    pub advance_seconds: Option<u64>,
}

/// Sandbox only: moves the server's clock forward (never back) and applies what falls due.
pub async fn set_clock(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<SetClock>,
) -> ApiResult<Written> {
    user.require_admin()?;
    if !state.settings.sandbox {
        return Err(ApiError::forbidden("the clock can only be moved on a sandbox server (--sandbox)"));
    }
    let now = state.shared.clock.now();
    let to = match (b.to, b.advance_seconds) {
        (Some(t), None) => t,
        (None, Some(s)) if s <= 100 * 366 * 86_400 => now.plus_millis(s as i64 * 1000),
        (None, Some(_)) => return Err(ApiError::bad_request("invalid_argument", "advance at most 100 years")),
        _ => return Err(ApiError::bad_request("invalid_argument", "give exactly one of to and advance_seconds")),
    };
    if to < now {
        return Err(ApiError::new(409, "time_went_backwards", format!("the clock is at {now}; it never goes back")));
    }
    written(StatusCode::OK, state.submit(Action::SetClock { to }, key.scoped(&user.name)).await)
}

#[derive(Deserialize)]
pub struct Sync {
    pub issue: String,
    pub tracker: String,
    #[serde(default)]
    pub title: String,
    pub state: SyncedState,
    #[serde(default)]
    pub reason: Option<CloseReason>,
    #[serde(default)]
    pub changed_at: Option<Timestamp>,
    #[serde(default)]
    pub observed_at: Option<Timestamp>,
}

/// Records an observation of an issue on a synced tracker (what a sync job or webhook does).
pub async fn sync_issue(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<Sync>,
) -> ApiResult<Written> {
    user.require_admin()?;
    if b.issue.is_empty() || b.issue.chars().count() > MAX_ISSUE || b.tracker.is_empty() || b.tracker.len() > 100 {
        return Err(ApiError::bad_request("invalid_argument", "issue and tracker must be non-empty and short"));
    }
    let op = crate::jobs::sync_op(b.issue.clone(), b.tracker, b.title, b.state, b.reason, b.changed_at, b.observed_at);
    let r = state.submit(Action::engine(op, None, After::Issue(b.issue)), key.scoped(&user.name)).await;
    written(StatusCode::OK, r)
}
