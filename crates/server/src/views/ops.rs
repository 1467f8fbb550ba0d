//! Views of the service itself: errors, health, the clock, event pages, tracker results.

use peerex_engine::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::TimeText;

/// Every error: a stable machine code and a human message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorView {
    #[schema(example = "insufficient_funds")]
    pub code: String,
    pub message: String,
}

/// The server is up and its database answers.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct HealthView {
    #[schema(example = "ok")]
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// `writer` (the one process that commits), or `replica` (in a cluster: it serves reads from
    /// the log it tails and forwards writes to the writer).
    #[schema(example = "writer")]
    pub role: String,
    /// The last log seq this process has applied (what `Peerex-Min-Seq` waits for).
    pub applied_seq: i64,
    /// Commands committed in the database that this process has not applied yet.
    pub lag: i64,
}

/// The server's clock and the engine's.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ClockView {
    #[schema(value_type = TimeText)]
    pub now: Timestamp,
    /// The time of the last applied command (null before the first).
    #[schema(value_type = Option<TimeText>)]
    pub engine_time: Option<Timestamp>,
    /// Whether an admin may move the clock (a sandbox server).
    pub sandbox: bool,
}

/// The answer to moving the sandbox clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClockMovedView {
    #[schema(value_type = Option<TimeText>)]
    pub now: Option<Timestamp>,
    /// Events that fell due and were applied.
    pub events: usize,
}

/// How many events a tracker observation emitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncView {
    pub events: usize,
}

/// The answer to a tracker webhook delivery.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WebhookView {
    /// Issue observations in the delivery.
    pub observations: usize,
    /// Observations that changed something and were submitted (the others are already known).
    pub submitted: usize,
    /// Observations the engine accepted.
    pub applied: usize,
}

/// A page of the caller's events after a cursor.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EventsPage {
    /// Public event JSON: `{"at", "type", "cursor", ...}`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
    /// The cursor to ask after for the next page.
    pub next: i64,
}

/// Parses stored event bodies (cursor, JSON) into a page.
pub fn events_page(rows: Vec<(i64, String)>, after: i64) -> EventsPage {
    let next = rows.last().map_or(after, |r| r.0);
    EventsPage { events: rows.into_iter().filter_map(|(_, b)| serde_json::from_str(&b).ok()).collect(), next }
}
