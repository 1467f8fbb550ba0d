//! Sign up, log in and out, and the caller's own account.

use axum::extract::State;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::accounts::{self, check_password, check_user_name};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, IdempotencyKey, User};
use crate::state::AppState;
use crate::store::AccountRow;
use crate::writer::{Action, Reply};

#[derive(Deserialize)]
pub struct Credentials {
    pub name: String,
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

pub async fn sign_up(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Body(c): Body<Credentials>,
) -> ApiResult<Reply> {
    // Sign-ups are anonymous: scope the key by the requested name, so two strangers who pick
    // the same key do not get each other's answers.
    let scope = format!("signup:{}", c.name);
    let row = new_account(&state, c, false).await?;
    state.submit(Action::CreateAccount { row }, key.scoped(&scope)).await.map(|mut r| {
        if let Value::Object(m) = &mut r.body {
            m.remove("admin");
        }
        r
    })
}

/// Logs in. Throttled per account as well as per address: every attempt on a name (known or
/// not, from any address) takes one of its `login_attempts`; past them the answer is 429 with
/// `Retry-After` until the lockout window gives one back. A known and an unknown name cost one
/// Argon2 verification with the configured parameters each; a hash made with other parameters
/// is replaced after the password proved right.
pub async fn log_in(State(state): State<AppState>, Body(c): Body<Credentials>) -> ApiResult<Reply> {
    let invalid = || ApiError::new(401, "invalid_credentials", "wrong name or password");
    // No account can have such a name or password: nothing to throttle or verify.
    if check_user_name(&c.name).is_err() || c.password.len() > accounts::MAX_PASSWORD * 4 {
        return Err(invalid());
    }
    if let Err(wait) = state.limiter.check_login(&c.name) {
        state.shared.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(ApiError {
            message: "too many log-in attempts for this account; retry later".into(),
            ..ApiError::too_many(wait)
        });
    }
    let stored = state.shared.accounts().users.get(&c.name).map(|a| a.password_hash.clone());
    let known = stored.is_some();
    let kib = state.settings.argon2_kib;
    let password = c.password;
    let (ok, rehash) = tokio::task::spawn_blocking(move || {
        let phc = stored.unwrap_or_else(|| accounts::decoy_hash(kib));
        let ok = accounts::verify_password(&password, &phc);
        let rehash = (ok && accounts::needs_rehash(&phc, kib)).then(|| accounts::hash_password(&password, kib));
        (ok, rehash)
    })
    .await
    .map_err(|_| ApiError::internal("verification failed"))?;
    if !(ok && known) {
        return Err(invalid());
    }
    if let Some(Ok(phc)) = rehash {
        // Accounts are not in the command log: the new hash is stored directly, then shown to
        // later log-ins. A failure keeps the old (still valid) hash.
        match state.store.set_password_hash(&c.name, &phc).await {
            Ok(()) => state.shared.accounts_mut().set_password_hash(&c.name, phc),
            Err(e) => tracing::warn!("rehashing the password of {:?} failed: {e:#}", c.name),
        }
    }
    let (token, token_hash) = accounts::new_token();
    let reply = state.submit(Action::CreateSession { token_hash, user: c.name.clone() }, None).await?;
    if reply.status != 200 {
        return Ok(reply);
    }
    Ok(Reply { status: 200, body: json!({"token": token, "name": c.name}), cacheable: false })
}

pub async fn log_out(State(state): State<AppState>, user: User) -> ApiResult<Reply> {
    state.submit(Action::RevokeSession { token_hash: user.token_hash }, None).await
}

fn balance_of(state: &AppState, name: &str) -> (Value, Value) {
    let engine = state.shared.engine();
    match engine.user_id(name) {
        Some(id) => {
            let (a, h) = engine.balance(id);
            (json!(a), json!(h))
        }
        None => (json!("0"), json!("0")),
    }
}

pub async fn me(State(state): State<AppState>, user: User) -> Json {
    let (available, held) = balance_of(&state, &user.name);
    axum::Json(json!({"name": user.name, "admin": user.admin, "available": available, "held": held}))
}

pub async fn balances(State(state): State<AppState>, user: User) -> Json {
    let engine = state.shared.engine();
    let (a, h) = engine.user_id(&user.name).map(|id| engine.balance(id)).unwrap_or_default();
    let total = a.checked_add(h).unwrap_or(a);
    axum::Json(json!({"name": user.name, "available": a, "held": h, "total": total}))
}

pub type Json = axum::Json<Value>;
