//! Resource-market event details (rendered by `Engine::render_event` as `"type": "resource"`
//! with `"what"` naming the detail). Prices appear only in operator events (`prices_*`),
//! which the API shows to operators; peers' feeds carry capacity, not prices.

use serde::Serialize;

use super::bank::Standing;
use super::price_update::Rule;
use crate::ids::PeerId;
use crate::money::Amount;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum ResourceDetail {
    PeerRegistered,
    /// A day's online fraction was recorded; `availability` is the new smoothed estimate (ppm).
    OnlineReported {
        availability_ppm: i64,
        online: bool,
    },
    SlidersSet {
        space_bytes: i64,
        upload_bytes: i64,
        download_bytes: i64,
    },
    FilePlaced {
        file: String,
        k: u32,
        fragment_bytes: i64,
        holders: Vec<PeerId>,
    },
    FileRetrieved {
        file: String,
        sources: Vec<PeerId>,
    },
    FileRepaired {
        file: String,
        lost: PeerId,
        replacement: PeerId,
        sources: Vec<PeerId>,
    },
    FileDeleted {
        file: String,
    },
    /// A fragment its holder no longer has (reported missing, or the holder went offline and
    /// no other peer could take it yet); `repaired` says whether it was rebuilt elsewhere.
    FragmentLost {
        file: String,
        holder: PeerId,
        repaired: bool,
    },
    /// A peer's report of the fragments it holds.
    FragmentsReported {
        held: u32,
        lost: u32,
    },
    /// One peer's day: net credits moved (positive: the bank paid the peer) and its bill.
    Settled {
        day: u32,
        net: Amount,
        bill: Amount,
        balance: Amount,
    },
    StandingChanged {
        from: Standing,
        to: Standing,
        max_deficit: Amount,
    },
    /// Prices after an update (nano-credits per GB; p_S is always 1 credit).
    PricesUpdated {
        p_u_nano: i64,
        p_d_nano: i64,
        rules: [Rule; 2],
        e: Option<[f64; 2]>,
    },
    /// An update call inside an epoch: prices held.
    PricesHeld {
        day_in_epoch: u32,
        epoch_days: u32,
    },
    PricesSet {
        p_u_nano: i64,
        p_d_nano: i64,
    },
    Configured {
        epoch_days: u32,
    },
}
