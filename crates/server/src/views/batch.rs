//! The answer to a batch of commands: one result per command, in order.

use serde::Serialize;
use utoipa::ToSchema;

use super::View;

/// What a batch did: each command's result in the order sent. In an all-or-nothing batch every
/// result is `ok` (a refusal refuses the whole batch instead).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Whether the batch was all-or-nothing.
    pub atomic: bool,
    /// How many commands were applied and how many refused.
    pub applied: usize,
    pub refused: usize,
    pub results: Vec<BatchItemView>,
}

/// One command's result: applied (with its place in the log and the view its own endpoint
/// answers, e.g. the offer with its trades) or refused (with the error's stable code).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchItemView {
    pub ok: bool,
    /// The command's place in the log (applied commands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// What the command's own endpoint answers (an offer, a market after a trade).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub view: Option<View>,
    /// A refusal's stable code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
