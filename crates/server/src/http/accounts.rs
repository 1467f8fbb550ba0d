//! Sign up, log in and out, and the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::{self, check_password, check_user_name};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, IdempotencyKey, User};
use crate::state::AppState;
use crate::store::AccountRow;
use crate::views::{self, BalancesView, ErrorView, MeView, RevokedView, SessionView, SignedUpView, View};
use crate::writer::Action;

#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    pub name: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

/// Hashes on a blocking thread: Argon2id is deliberately slow.
pub async fn hash(password: String, kib: u32) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || accounts::hash_password(&password, kib))
        .await
        .map_err(|_| ApiError::internal("hashing failed"))?
        .map_err(ApiError::internal)
}

/// Builds a new account after checking its name and password.
pub async fn new_account(state: &AppState, c: Credentials, admin: bool) -> ApiResult<AccountRow> {
    check_user_name(&c.name).map_err(|m| ApiError::bad_request("invalid_name", m))?;
    check_password(&c.password).map_err(|m| ApiError::bad_request("invalid_password", m))?;
    let password_hash = hash(c.password, state.settings.argon2_kib).await?;
    Ok(AccountRow { name: c.name, password_hash, admin })
}

#[utoipa::path(post, path = "/users", tag = "accounts", request_body = Credentials,
    responses((status = 201, description = "the account", body = SignedUpView), (status = 409, description = "the name is taken", body = ErrorView)))]
pub async fn sign_up(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Body(c): Body<Credentials>,
) -> ApiResult<(StatusCode, Json<SignedUpView>)> {
    // Sign-ups are anonymous: scope the key by the requested name, so two strangers who pick
    // the same key do not get each other's answers.
    let scope = format!("signup:{}", c.name);
    let name = c.name.clone();
    let row = new_account(&state, c, false).await?;
    let outcome = state.submit(Action::CreateAccount { row }, key.scoped(&scope)).await?;
    let name = match outcome.view {
        Some(View::Account(a)) => a.name,
        Some(View::Recorded(v)) => v.get("name").and_then(|n| n.as_str()).map_or(name, str::to_owned),
        _ => name,
    };
    Ok((StatusCode::CREATED, Json(SignedUpView { name })))
}

#[utoipa::path(post, path = "/sessions", tag = "accounts", request_body = Credentials,
    responses((status = 200, description = "a bearer token", body = SessionView), (status = 401, description = "wrong name or password", body = ErrorView)))]
pub async fn log_in(State(state): State<AppState>, Body(c): Body<Credentials>) -> ApiResult<Json<SessionView>> {
    let stored = state.shared.accounts().users.get(&c.name).map(|a| a.password_hash.clone());
    let invalid = || ApiError::new(401, "invalid_credentials", "wrong name or password");
    if c.password.len() > accounts::MAX_PASSWORD * 4 {
        return Err(invalid());
    }
    let known = stored.is_some();
    let kib = state.settings.argon2_kib;
    let password = c.password;
    let ok = tokio::task::spawn_blocking(move || {
        let phc = stored.unwrap_or_else(|| accounts::decoy_hash(kib));
        accounts::verify_password(&password, &phc)
    })
    .await
    .map_err(|_| ApiError::internal("verification failed"))?;
    if !(ok && known) {
        return Err(invalid());
    }
    let (token, token_hash) = accounts::new_token();
    state.submit(Action::CreateSession { token_hash, user: c.name.clone() }, None).await?;
    Ok(Json(SessionView { token, name: c.name }))
}

#[utoipa::path(delete, path = "/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the token is revoked", body = RevokedView)))]
pub async fn log_out(State(state): State<AppState>, user: User) -> ApiResult<Json<RevokedView>> {
    state.submit(Action::RevokeSession { token_hash: user.token_hash }, None).await?;
    Ok(Json(RevokedView { revoked: true }))
}

#[utoipa::path(get, path = "/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the caller's account and balance", body = MeView)))]
pub async fn me(State(state): State<AppState>, user: User) -> Json<MeView> {
    Json(views::accounts::me(&state.shared.engine(), &user.name, user.admin))
}

#[utoipa::path(get, path = "/balances", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "the caller's balances", body = BalancesView)))]
pub async fn balances(State(state): State<AppState>, user: User) -> Json<BalancesView> {
    Json(views::accounts::balances(&state.shared.engine(), &user.name))
}
