//! `POST /batch`: up to [`MAX_BATCH`] commands of the caller in one request, applied in order in
//! one commit, each with its own result; `atomic: true` makes it all-or-nothing.

use axum::extract::State;
use axum::http::StatusCode;
use peerex_engine::prediction::command::Trade;
use peerex_engine::{Amount, Op};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::error::{written, ApiError, ApiResult, Refused, Written};
use crate::http::exchange::{check_issue, check_len, PlaceOffer, MAX_ISSUE};
use crate::http::extract::{Body, IdempotencyKey, User};
use crate::state::AppState;
use crate::views::{After, BatchView, Credits};
use crate::writer::Action;

/// Most commands in one batch.
pub const MAX_BATCH: usize = 1_000;
/// The body limit of a batch (1,000 offers of about 200 bytes); other requests keep the
/// server's `body_limit`.
pub const BATCH_BODY_LIMIT: usize = 512 * 1024;

/// One command of a batch, named by `op`.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BatchCommand {
    /// Place an offer: the fields of `POST /offers`.
    PlaceOffer(PlaceOffer),
    /// Cancel one of the caller's offers.
    CancelOffer { offer: String },
    /// Resume one of the caller's suspended offers.
    ResumeOffer { offer: String },
    /// Trade on a prediction market: the fields of `POST /markets/{id}/trades` and the market.
    Trade {
        market: String,
        /// Signed: positive buys, negative sells.
        #[schema(value_type = Credits)]
        shares: Amount,
        /// Most the trader pays (for a sale, a negative value is a minimum of proceeds).
        #[schema(value_type = Option<Credits>)]
        #[serde(default)]
        max_cost: Option<Amount>,
        /// The outcome (1 = YES by default).
        #[serde(default)]
        outcome: Option<u32>,
    },
}

impl BatchCommand {
    /// The engine operation for `user`, checked as its own endpoint checks it, and the view
    /// that endpoint answers with.
    fn into_op(self, user: &str) -> ApiResult<(Op, After)> {
        let id = |field: &str, v: &str| check_len(field, v, 1, MAX_ISSUE);
        Ok(match self {
            BatchCommand::PlaceOffer(b) => {
                check_issue(&b.issue)?;
                (Op::Offer(b.into_command(user)), After::PlacedOffer)
            }
            BatchCommand::CancelOffer { offer } => {
                id("offer", &offer)?;
                (Op::Cancel { user: user.to_owned(), offer: offer.clone() }, After::Offer(offer))
            }
            BatchCommand::ResumeOffer { offer } => {
                id("offer", &offer)?;
                (Op::Resume { user: user.to_owned(), offer: offer.clone() }, After::OfferWithTrades(offer))
            }
            BatchCommand::Trade { market, shares, max_cost, outcome } => {
                id("market", &market)?;
                let t = Trade {
                    id: String::new(),
                    user: user.to_owned(),
                    market: market.clone(),
                    shares,
                    max_cost,
                    outcome,
                };
                (Op::Trade(t), After::MarketTrade(market))
            }
        })
    }
}

/// A batch: the commands in order, and whether a refusal refuses them all.
#[derive(Deserialize, ToSchema)]
pub struct BatchBody {
    #[schema(min_items = 1, max_items = 1000)]
    pub commands: Vec<BatchCommand>,
    /// All-or-nothing: the first refusal undoes the commands before it and the batch is refused
    /// with that command's error (its message names the command's index). Default false: each
    /// command stands alone and the answer lists every result.
    #[serde(default)]
    pub atomic: bool,
}

/// Several commands of the caller in one request and one commit (a market maker re-quoting,
/// a bot placing a ladder). Each command gets the result its own endpoint would give.
#[utoipa::path(post, path = "/batch", tag = "exchange", security(("bearer" = [])), request_body = BatchBody,
    responses((status = 200, description = "each command's result, in order", body = BatchView), Refused))]
pub async fn submit(
    State(state): State<AppState>,
    user: User,
    key: IdempotencyKey,
    Body(b): Body<BatchBody>,
) -> ApiResult<Written> {
    if b.commands.is_empty() || b.commands.len() > MAX_BATCH {
        return Err(ApiError::bad_request(
            "invalid_argument",
            format!("a batch has 1 to {MAX_BATCH} commands (got {})", b.commands.len()),
        ));
    }
    let items = b.commands.into_iter().map(|c| c.into_op(&user.name)).collect::<ApiResult<Vec<_>>>()?;
    let action = Action::Batch { items, actor: user.name.clone(), atomic: b.atomic };
    written(StatusCode::OK, state.submit(action, key.scoped(&user.name)).await)
}
