//! Admin endpoints: accounts, minting and withdrawing, manual settlement, the sandbox clock,
//! and tracker observations (the seam for the trackers' sync jobs and webhooks).

use axum::extract::State;
use axum::http::StatusCode;
use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::{CloseReason, Side};
use peerex_engine::{Amount, Op, Timestamp};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::accounts::{new_account, Credentials};
use crate::http::error::{written, ApiError, ApiResult, Refused, Written};
use crate::http::exchange::MAX_ISSUE;
use crate::http::extract::{Body, IdempotencyKey, User};
use crate::state::AppState;
use crate::views::{
    AccountView, After, BalanceView, ClockMovedView, Credits, ErrorView, IssueView, LedgerView, TimeText,
};
use crate::writer::Action;

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    pub name: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    #[serde(default)]
    pub admin: bool,
}

#[utoipa::path(post, path = "/admin/users", tag = "admin", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, description = "the account", body = AccountView), (status = 403, description = "admins only", body = ErrorView), (status = 409, description = "the name is taken", body = ErrorView)))]
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

#[derive(Deserialize, ToSchema)]
pub struct Money {
    pub user: String,
    #[schema(value_type = Credits)]
    pub amount: Amount,
}

fn known_account(state: &AppState, name: &str) -> ApiResult<()> {
    if state.shared.accounts().users.contains_key(name) {
        Ok(())
    } else {
        Err(ApiError::new(404, "unknown_user", format!("no account {name:?}")))
    }
}

#[utoipa::path(post, path = "/admin/deposits", tag = "admin", security(("bearer" = [])), request_body = Money,
    responses((status = 200, description = "the user's balance", body = BalanceView), Refused))]
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

#[utoipa::path(post, path = "/admin/withdrawals", tag = "admin", security(("bearer" = [])), request_body = Money,
    responses((status = 200, description = "the user's balance", body = BalanceView), Refused))]
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

/// The ledger's totals by kind of account, from one read of this process's engine: what was
/// minted (deposits minus withdrawals) and where it is (users, escrows, the internal accounts).
#[utoipa::path(get, path = "/admin/ledger", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "the ledger's totals; `accounts` equals `minted` when it balances", body = LedgerView), (status = 403, description = "admins only", body = ErrorView)))]
pub async fn ledger(State(state): State<AppState>, user: User) -> ApiResult<axum::Json<LedgerView>> {
    user.require_admin()?;
    Ok(axum::Json(crate::views::ledger::ledger(&state.shared.engine())))
}

#[derive(Deserialize, ToSchema)]
pub struct Decide {
    pub issue: String,
    #[schema(value_type = TimeText)]
    pub maturation: Timestamp,
    /// `fixed` or `unfixed` wins every unit; or give `fixed_pays`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "fixed")]
    pub winner: Option<Side>,
    /// What each fixed unit pays (unfixed units get the rest of the credit).
    #[serde(default)]
    #[schema(value_type = Option<Credits>)]
    pub fixed_pays: Option<Amount>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Manual settlement, recorded with its reason and the deciding admin.
#[utoipa::path(post, path = "/admin/decide", tag = "admin", security(("bearer" = [])), request_body = Decide,
    responses((status = 200, description = "the issue", body = IssueView), Refused))]
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

#[derive(Deserialize, ToSchema)]
pub struct SetClock {
    /// Move to this time (give this or `advance_seconds`).
    #[serde(default)]
    #[schema(value_type = Option<TimeText>)]
    pub to: Option<Timestamp>,
    #[serde(default)]
    #[schema(maximum = 3_162_240_000u64)]
    pub advance_seconds: Option<u64>,
}

/// The latest sandbox clock: a year before [`Timestamp::MAX`], so the running clock (and the
/// commands it stamps) stays inside the range the log can replay.
pub const LATEST_CLOCK: Timestamp = Timestamp(Timestamp::MAX.0 - 366 * Timestamp::MS_PER_DAY);

/// Sandbox only: moves the server's clock forward (never back) and applies what falls due.
#[utoipa::path(post, path = "/admin/clock", tag = "admin", security(("bearer" = [])), request_body = SetClock,
    responses((status = 200, description = "the clock moved and what fell due was applied", body = ClockMovedView), Refused))]
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
    if to > LATEST_CLOCK {
        return Err(ApiError::bad_request(
            "invalid_time",
            format!("the sandbox clock goes at most to {LATEST_CLOCK}, a year before the last time the log can hold"),
        ));
    }
    written(StatusCode::OK, state.submit(Action::SetClock { to }, key.scoped(&user.name)).await)
}

#[derive(Deserialize, ToSchema)]
pub struct Sync {
    #[schema(min_length = 1, max_length = 200)]
    pub issue: String,
    #[schema(min_length = 1, max_length = 100)]
    pub tracker: String,
    #[serde(default)]
    pub title: String,
    /// `open` or `closed`.
    #[schema(value_type = String, example = "closed")]
    pub state: SyncedState,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "completed")]
    pub reason: Option<CloseReason>,
    #[serde(default)]
    #[schema(value_type = Option<TimeText>)]
    pub changed_at: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<TimeText>)]
    pub observed_at: Option<Timestamp>,
}

/// Records an observation of an issue on a synced tracker (what a sync job or webhook does).
#[utoipa::path(post, path = "/admin/sync", tag = "admin", security(("bearer" = [])), request_body = Sync,
    responses((status = 200, description = "the issue", body = IssueView), Refused))]
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
