//! Views of accounts: the caller, balances, a new account, a session.

use peerex_engine::{Amount, Engine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Credits;

/// The caller's account and balance.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MeView {
    pub name: String,
    pub admin: bool,
    /// Credits free to use.
    #[schema(value_type = Credits)]
    pub available: Amount,
    /// Credits reserved by open buy offers.
    #[schema(value_type = Credits)]
    pub held: Amount,
}

/// The caller's balances.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct BalancesView {
    pub name: String,
    #[schema(value_type = Credits)]
    pub available: Amount,
    #[schema(value_type = Credits)]
    pub held: Amount,
    /// Available plus held.
    #[schema(value_type = Credits)]
    pub total: Amount,
}

/// A user's balance after an admin's deposit or withdrawal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BalanceView {
    pub user: String,
    #[schema(value_type = Credits)]
    pub available: Amount,
    #[schema(value_type = Credits)]
    pub held: Amount,
}

/// An account an admin created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    pub name: String,
    pub admin: bool,
}

/// The answer to a sign-up.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SignedUpView {
    pub name: String,
}

/// A new session: send the token as `Authorization: Bearer <token>`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SessionView {
    pub token: String,
    pub name: String,
}

/// The answer to logging out.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct RevokedView {
    pub revoked: bool,
}

/// `(available, held)` of `user` (zero for a user the engine has not seen).
pub fn balance_of(engine: &Engine, user: &str) -> (Amount, Amount) {
    engine.user_id(user).map(|u| engine.balance(u)).unwrap_or_default()
}

pub fn me(engine: &Engine, name: &str, admin: bool) -> MeView {
    let (available, held) = balance_of(engine, name);
    MeView { name: name.to_owned(), admin, available, held }
}

pub fn balances(engine: &Engine, name: &str) -> BalancesView {
    let (available, held) = balance_of(engine, name);
    BalancesView { name: name.to_owned(), available, held, total: available.checked_add(held).unwrap_or(available) }
}

pub fn balance(engine: &Engine, user: &str) -> BalanceView {
    let (available, held) = balance_of(engine, user);
    BalanceView { user: user.to_owned(), available, held }
}
