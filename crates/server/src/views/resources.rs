//! Views of the resource market (spec/resources.md "Interfaces"): a peer's own view (capacity,
//! pie chart, sliders; no prices or balances) and the operator's.

use peerex_engine::resources::market as rm;
use peerex_engine::{Amount, Engine, EngineError};
use serde::Serialize;
use utoipa::ToSchema;

/// What a peer sees: availability, standing, the pie chart of its capacity, its sliders with
/// their thick regions; `debug` (balance, deficit limit, prices) only in the operator's view of
/// one peer.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct PeerView {
    #[schema(value_type = Object)]
    pub view: rm::PeerView,
}

/// The operator's view: prices, imbalance, bank balance, peers' balances, frozen accounts.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct OperatorView {
    #[schema(value_type = Object)]
    pub view: rm::OperatorView,
}

/// The peer `name`'s own view.
pub fn peer(engine: &Engine, name: &str) -> Result<PeerView, EngineError> {
    engine.resources().peer_view(engine.ledger(), name, false).map(|view| PeerView { view })
}

/// The view for slider positions being dragged, without setting them.
pub fn preview(engine: &Engine, name: &str, sliders: [Amount; 3]) -> Result<PeerView, EngineError> {
    engine.resources().peer_preview(engine.ledger(), name, sliders).map(|view| PeerView { view })
}

/// The operator's debug view of one peer (with balance, deficit limit and prices).
pub fn peer_debug(engine: &Engine, name: &str) -> Result<PeerView, EngineError> {
    engine.resources().peer_view(engine.ledger(), name, true).map(|view| PeerView { view })
}

pub fn operator(engine: &Engine) -> OperatorView {
    OperatorView { view: engine.resources().operator_view(engine.ledger()) }
}
