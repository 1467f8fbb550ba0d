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

/// A backed-up file: its erasure coding and where its fragments are.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct BackupView {
    pub file: String,
    pub owner: String,
    /// User data stored (k x fragment size), bytes.
    pub bytes: i64,
    /// Fragments needed to rebuild the file.
    pub k: u32,
    /// Fragments placed (one per holder).
    pub n: usize,
    pub fragment_bytes: i64,
    /// The peers holding a fragment, in placement order.
    pub holders: Vec<String>,
}

/// A restore: the k holders that serve it (metered: each uploads a fragment).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct RestoreView {
    pub file: String,
    pub sources: Vec<String>,
}

/// A peer's fragment report: how many fragments it holds, the files whose fragment it lost,
/// and those of them rebuilt on another peer.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FragmentReportView {
    pub held: usize,
    pub lost: Vec<String>,
    pub repaired: Vec<String>,
}

fn backup_of(engine: &Engine, file: &str, rec: &peerex_engine::resources::fragments::FileRecord) -> BackupView {
    let r = engine.resources();
    BackupView {
        file: file.to_owned(),
        owner: r.peer_name(rec.owner).to_owned(),
        bytes: rec.user_bytes(),
        k: rec.k,
        n: rec.holders.len(),
        fragment_bytes: rec.fragment_bytes,
        holders: rec.holders.iter().map(|h| r.peer_name(*h).to_owned()).collect(),
    }
}

/// The backup `file`, if it exists.
pub fn backup(engine: &Engine, file: &str) -> Option<BackupView> {
    engine.resources().fragments().file(file).map(|rec| backup_of(engine, file, rec))
}

/// The files `owner` has backed up.
pub fn backups(engine: &Engine, owner: &str) -> Vec<BackupView> {
    let Some(id) = engine.resources().peer_id(owner) else { return Vec::new() };
    engine
        .resources()
        .fragments()
        .files()
        .filter(|(_, r)| r.owner == id)
        .map(|(f, r)| backup_of(engine, f, r))
        .collect()
}

/// The fragments the peer `name` holds (and must serve).
pub fn held_fragments(engine: &Engine, name: &str) -> Vec<BackupView> {
    let Some(id) = engine.resources().peer_id(name) else { return Vec::new() };
    engine.resources().fragments_of(id).map(|(f, r)| backup_of(engine, f, r)).collect()
}

/// The sources of the restore among `events`.
pub fn restore(engine: &Engine, file: &str, events: &[peerex_engine::Timed]) -> RestoreView {
    let sources = events
        .iter()
        .map(|t| engine.render_event(t))
        .find(|v| v["what"] == "file_retrieved")
        .and_then(|v| v.get("sources").cloned())
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default();
    RestoreView { file: file.to_owned(), sources }
}

/// The lost and repaired fragments among a report's `events`.
pub fn fragment_report(engine: &Engine, events: &[peerex_engine::Timed]) -> FragmentReportView {
    let mut v = FragmentReportView { held: 0, lost: Vec::new(), repaired: Vec::new() };
    for e in events.iter().map(|t| engine.render_event(t)) {
        match e["what"].as_str() {
            Some("fragment_lost") => {
                let f = e["file"].as_str().unwrap_or_default().to_owned();
                if e["repaired"] == true {
                    v.repaired.push(f.clone());
                }
                v.lost.push(f);
            }
            Some("fragments_reported") => v.held = e["held"].as_u64().unwrap_or(0) as usize,
            _ => {}
        }
    }
    v
}
