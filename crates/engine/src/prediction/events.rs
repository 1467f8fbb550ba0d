//! Prediction-market event details.

use serde::Serialize;

use crate::money::Amount;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum MarketDetail {
    Created { subsidy: Amount },
}
