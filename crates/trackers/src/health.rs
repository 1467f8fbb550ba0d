//! A tracker's recent history of syncs, for the UI ("GitHub unreachable since ...; series
//! maturing after ... wait").

use peerex_engine::Timestamp;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrackerHealth {
    /// The observation instant of the last sync that succeeded.
    pub last_success: Option<Timestamp>,
    /// When the last failed sync was attempted and why (cleared by a later success).
    pub last_failure: Option<(Timestamp, String)>,
    /// No request goes out before this instant.
    pub rate_limited_until: Option<Timestamp>,
}
