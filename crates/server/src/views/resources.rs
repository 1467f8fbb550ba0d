//! Views of the resource market (spec/resources.md "Interfaces"): a peer's own view (capacity,
//! pie chart, sliders; no prices or balances) and the operator's.

use peerex_engine::resources::bank::Standing;
use peerex_engine::resources::market as rm;
use peerex_engine::{Amount, Engine, EngineError};
use serde::Serialize;
use utoipa::ToSchema;

use super::Credits;

/// The pie chart of a peer's capacity (seed 003, Figure 1).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PieView {
    pub capacity_gb: f64,
    pub used_gb: f64,
    pub available_gb: f64,
}

/// The three sliders: space (GB), upload and download (GB per day).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct SlidersView {
    /// Where each slider is set.
    pub caps: Vec<f64>,
    /// How much of each the market counts.
    pub counted: Vec<f64>,
    /// End of each slider's effective (thick) region; null = the whole slider.
    pub thick_end: Vec<Option<f64>>,
}

/// A peer's balance and prices: only in the operator's view of one peer.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PeerDebugView {
    #[schema(value_type = Credits)]
    pub balance: Amount,
    #[schema(value_type = Credits)]
    pub max_deficit: Amount,
    pub capacity_price: f64,
    /// Prices of space, upload and download.
    pub prices: Vec<f64>,
}

/// What a peer sees: availability, standing, the pie chart of its capacity, its sliders with
/// their thick regions; `debug` (balance, deficit limit, prices) only in the operator's view of
/// one peer.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PeerView {
    pub peer: String,
    /// Measured fraction of time online.
    pub availability: f64,
    pub test_target: bool,
    /// `normal`, `alert` or `frozen`.
    pub standing: String,
    pub pie: PieView,
    pub sliders: SlidersView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<PeerDebugView>,
}

/// The operator's view: prices, imbalance, bank balance, peers' balances, frozen accounts.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct OperatorView {
    /// Prices of space, upload and download.
    pub prices: Vec<f64>,
    pub prices_nano: Vec<i64>,
    pub service_prices_nano: Vec<i64>,
    /// The last measured imbalance (null before the first price update).
    pub imbalance_e: Option<Vec<f64>>,
    #[schema(value_type = Credits)]
    pub bank_balance: Amount,
    /// `[peer, balance, standing]` of every peer.
    #[schema(value_type = Vec<Vec<String>>)]
    pub balances: Vec<(String, Amount, String)>,
    pub frozen: Vec<String>,
    pub days_settled: u32,
    pub epoch_days: u32,
    pub files: usize,
}

fn standing(s: Standing) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn peer_view(v: rm::PeerView) -> PeerView {
    PeerView {
        peer: v.peer,
        availability: v.availability,
        test_target: v.test_target,
        standing: standing(v.standing),
        pie: PieView { capacity_gb: v.pie.capacity_gb, used_gb: v.pie.used_gb, available_gb: v.pie.available_gb },
        sliders: SlidersView {
            caps: v.sliders.caps.to_vec(),
            counted: v.sliders.counted.to_vec(),
            thick_end: v.sliders.thick_end.to_vec(),
        },
        debug: v.debug.map(|d| PeerDebugView {
            balance: d.balance,
            max_deficit: d.max_deficit,
            capacity_price: d.capacity_price,
            prices: d.prices.to_vec(),
        }),
    }
}

/// The peer `name`'s own view.
pub fn peer(engine: &Engine, name: &str) -> Result<PeerView, EngineError> {
    engine.resources().peer_view(engine.ledger(), name, false).map(peer_view)
}

/// The view for slider positions being dragged, without setting them.
pub fn preview(engine: &Engine, name: &str, sliders: [Amount; 3]) -> Result<PeerView, EngineError> {
    engine.resources().peer_preview(engine.ledger(), name, sliders).map(peer_view)
}

/// The operator's debug view of one peer (with balance, deficit limit and prices).
pub fn peer_debug(engine: &Engine, name: &str) -> Result<PeerView, EngineError> {
    engine.resources().peer_view(engine.ledger(), name, true).map(peer_view)
}

pub fn operator(engine: &Engine) -> OperatorView {
    let v = engine.resources().operator_view(engine.ledger());
    OperatorView {
        prices: v.prices.to_vec(),
        prices_nano: v.prices_nano.to_vec(),
        service_prices_nano: v.service_prices_nano.to_vec(),
        imbalance_e: v.imbalance_e.map(|e| e.to_vec()),
        bank_balance: v.bank_balance,
        balances: v.balances.into_iter().map(|(p, b, s)| (p, b, standing(s))).collect(),
        frozen: v.frozen,
        days_settled: v.days_settled,
        epoch_days: v.epoch_days,
        files: v.files,
    }
}
