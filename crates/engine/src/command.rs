//! The JSON command language of spec/commands.md. One command per JSON object:
//! `{"at": "<RFC 3339>", "op": "<name>", ...fields}`.
//!
//! Parsing validates shapes (types, decimal precision); the engine validates rules (funds,
//! ownership, time). Both kinds of failure are [`EngineError`]s with stable codes.

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::exchange::types::{CloseReason, OfferKind, Side};
use crate::money::{Amount, Price};
use crate::time::Timestamp;

/// A command with its time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub at: Timestamp,
    #[serde(flatten)]
    pub op: Op,
}

impl Command {
    pub fn new(at: Timestamp, op: Op) -> Command {
        Command { at, op }
    }

    /// Parses one JSON object. Every failure is `malformed_command` naming what is wrong,
    /// except decimal and time fields, which keep their own codes (`invalid_price`, ...).
    pub fn from_json(text: &str) -> Result<Command, EngineError> {
        serde_json::from_str(text).map_err(|e| classify_parse_error(&e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// Maps serde's message back to the stable code of the field validator that produced it.
fn classify_parse_error(msg: &str) -> EngineError {
    let m = msg.to_owned();
    if msg.contains("outside [0, 1]") || msg.contains("decimal with at most 4 decimals") {
        EngineError::InvalidPrice(m)
    } else if msg.contains("decimal amount") {
        EngineError::InvalidAmount(m)
    } else if msg.contains("RFC 3339") {
        EngineError::InvalidTime(m)
    } else {
        EngineError::MalformedCommand(m)
    }
}

/// Every operation. The JSON name is the snake_case variant name (`"op":"open_issue"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    // ----- money -----
    /// Mint play money into a user's account; creates the user when new.
    Deposit {
        user: String,
        amount: Amount,
    },
    /// Return credits to the mint.
    Withdraw {
        user: String,
        amount: Amount,
    },

    // ----- local tracker -----
    OpenIssue {
        issue: String,
        #[serde(default)]
        title: String,
        #[serde(default)]
        labels: Vec<String>,
    },
    CloseIssue {
        issue: String,
        #[serde(default)]
        reason: CloseReason,
    },
    ReopenIssue {
        issue: String,
    },
    /// An observation of an issue on a synced tracker (GitHub, ...), made at the command's `at`.
    /// `changed_at` is when the tracker says the state last changed (e.g. GitHub's `closed_at`).
    SyncIssue {
        issue: String,
        tracker: String,
        #[serde(default)]
        title: String,
        state: SyncedState,
        #[serde(default)]
        reason: Option<CloseReason>,
        #[serde(default)]
        changed_at: Option<Timestamp>,
        /// When the tracker was seen giving this answer, if earlier than the command's `at` (a
        /// server whose clock moved on while the request was in flight). The state counts as
        /// known from this instant only, so no series maturing after it is decided from it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        observed_at: Option<Timestamp>,
    },

    // ----- exchange -----
    Offer(OfferCommand),
    Cancel {
        user: String,
        offer: String,
    },
    /// Put a suspended poolable offer back on the book, once funds allow.
    Resume {
        user: String,
        offer: String,
    },
    /// Only moves the clock (expiries, maturations, settlements due by `at`).
    Tick {},
    /// Operator: the exchange's limits from now on (open offers per user, at least 1). Being a
    /// logged command, a limit holds in replay exactly as it held live; lowering it refuses new
    /// offers and leaves the open ones alone.
    SetLimits {
        max_open_offers_per_user: u32,
    },
    /// Decide a matured series by hand (admin). `winner` or `fixed_pays` (a price in [0, 1]
    /// that each fixed unit pays; unfixed units pay the rest).
    Decide {
        issue: String,
        maturation: Timestamp,
        #[serde(default)]
        winner: Option<Side>,
        #[serde(default)]
        fixed_pays: Option<Amount>,
        #[serde(default)]
        reason: String,
        #[serde(default)]
        actor: String,
    },

    /// A user with 0 credits (what signing up does; `deposit` to an unknown user also creates
    /// one). Refused with `duplicate_id` when the user exists.
    CreateUser {
        user: String,
    },

    /// Subsidise an automated LMSR market maker on a series (created if needed): the funder
    /// moves b ln 2 to it; it quotes `levels` units per side (default 5) and re-quotes after
    /// every fill; it withdraws at maturation and returns what it holds at settlement.
    FundMaker {
        user: String,
        issue: String,
        maturation: Timestamp,
        b: Amount,
        #[serde(default)]
        levels: Option<u32>,
    },

    /// A series decided by arbitration: a statement in words, its maturation, and the sponsor's
    /// arbitration bond (creates the issue and its one series).
    OpenStatement {
        user: String,
        issue: String,
        statement: String,
        maturation: Timestamp,
        bond: Amount,
        #[serde(flatten)]
        params: CaseParams,
    },
    /// Turn a matured tracker series over to arbitration within its dispute window, by a bond.
    Dispute {
        user: String,
        issue: String,
        maturation: Timestamp,
        bond: Amount,
        #[serde(flatten)]
        params: CaseParams,
    },
    /// An arbiter's report (0 or 1: is the statement true, i.e. does fixed win?) on an
    /// arbitrated series.
    ReportSeries {
        user: String,
        issue: String,
        maturation: Timestamp,
        value: u8,
    },
    /// Operator: how long (hours) a matured tracker series can be disputed before its tracker
    /// settles it; 0 (default) turns disputes off.
    ConfigureDisputes {
        hours: i64,
    },

    // ----- prediction markets (spec/prediction.md) -----
    CreateMarket(Box<crate::prediction::command::CreateMarket>),
    Trade(crate::prediction::command::Trade),
    Report(crate::prediction::command::Report),
    ResolveMarket(crate::prediction::command::ResolveMarket),

    // ----- resource market of the P2P backup network (spec/resources.md, docs/resources.md) -----
    /// A new peer (its own namespace, not a user).
    RegisterPeer {
        peer: String,
    },
    /// A day's measured online fraction in [0, 1]; `online` is the peer's presence now
    /// (default: fraction > 0).
    ReportOnline {
        peer: String,
        fraction: Amount,
        #[serde(default)]
        online: Option<bool>,
    },
    /// The three sliders: raw space in GB, upload and download in GB per day (6 decimals).
    SetSliders {
        peer: String,
        space_gb: Amount,
        upload_gb: Amount,
        download_gb: Amount,
    },
    /// Place an erasure-coded file (k of n fragments of `fragment_bytes` each) on n peers.
    BackupFile {
        file: String,
        owner: String,
        k: u32,
        n: u32,
        fragment_bytes: u64,
    },
    /// Back up a file of `bytes` bytes with file availability at least `target` (e.g.
    /// "0.99999"): the engine picks k of n erasure coding for the eligible peers'
    /// availabilities and places the fragments by the allocation rule.
    Backup {
        file: String,
        owner: String,
        bytes: u64,
        target: Amount,
    },
    /// A peer's report of the files whose fragment it holds (and serves). A fragment the
    /// server placed on it but missing from the list is lost: it is repaired onto another
    /// peer when possible, else dropped.
    ReportFragments {
        peer: String,
        files: Vec<String>,
    },
    RetrieveFile {
        file: String,
    },
    /// Move the fragment held by `lost` to a new peer, rebuilt from k online holders.
    RepairFile {
        file: String,
        lost: String,
    },
    DeleteFile {
        file: String,
    },
    /// Operator (daily job): settle every peer's metered day through the ledger.
    SettleDay {},
    /// Operator (daily job): one step of the price update (prices change at epoch ends).
    UpdatePrices {},
    /// Operator: set p_U and p_D (credits per GB, up to 9 decimals, in [0.001, 1000]).
    SetResourcePrices {
        p_u: String,
        p_d: String,
    },
    /// Operator: the epoch length in days (prices held between updates).
    ConfigureResources {
        epoch_days: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncedState {
    Open,
    Closed,
}

/// Place an offer (spec/exchange.md, "Objects").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OfferCommand {
    pub id: String,
    pub user: String,
    pub kind: OfferKind,
    pub issue: String,
    pub maturation: Timestamp,
    pub price: Price,
    pub volume: u64,
    #[serde(default)]
    pub aon: bool,
    #[serde(default)]
    pub poolable: bool,
    /// Defaults to the maturation; never later.
    #[serde(default)]
    pub expiration: Option<Timestamp>,
}

/// An offer's terms: an [`OfferCommand`] without its three names (id, user, issue), which the
/// engine looks up on its own ([`crate::resolve`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Terms {
    pub kind: OfferKind,
    pub maturation: Timestamp,
    pub price: Price,
    pub volume: u64,
    pub aon: bool,
    pub poolable: bool,
    pub expiration: Option<Timestamp>,
}

impl OfferCommand {
    pub(crate) fn terms(&self) -> Terms {
        Terms {
            kind: self.kind,
            maturation: self.maturation,
            price: self.price,
            volume: self.volume,
            aon: self.aon,
            poolable: self.poolable,
            expiration: self.expiration,
        }
    }
}

/// The longest dispute window an operator may set, in hours (90 days).
pub const MAX_DISPUTE_HOURS: i64 = 24 * 90;

/// What an arbitration case decides: a statement no tracker can decide, or a dispute of a
/// tracker's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Statement,
    Dispute,
}

/// Optional arbitration parameters shared by `open_statement` and `dispute`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_reports: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_floor: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_cap: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        let c = Command::from_json(
            r#"{"at":"2026-12-01T09:00:00Z","op":"offer","id":"o1","user":"adam","kind":"buy_unfixed","issue":"demo/app#1337",
             "maturation":"2026-12-15T00:00:00Z","price":"0.80","volume":200,"aon":false,"poolable":false,
             "expiration":"2026-12-10T00:00:00Z"}"#,
        )
        .unwrap();
        match c.op {
            Op::Offer(o) => {
                assert_eq!(o.price.bp(), 8000);
                assert_eq!(o.volume, 200);
                assert_eq!(o.kind, OfferKind::BuyUnfixed);
            }
            other => panic!("parsed as {other:?}"),
        }
        let t = Command::from_json(r#"{"at":"2026-12-01T09:00:00Z","op":"tick"}"#).unwrap();
        assert_eq!(t.op, Op::Tick {});
        let d = Command::from_json(r#"{"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"1000"}"#)
            .unwrap();
        assert_eq!(d.op, Op::Deposit { user: "adam".into(), amount: Amount::credits(1000) });
    }

    #[test]
    fn bad_fields_keep_their_codes() {
        let price = Command::from_json(
            r#"{"at":"2026-12-01T09:00:00Z","op":"offer","id":"o1","user":"a","kind":"buy_fixed","issue":"i","maturation":"2026-12-15T00:00:00Z","price":"1.5","volume":1}"#,
        );
        assert_eq!(price.unwrap_err().code(), "invalid_price");
        assert_eq!(Command::from_json("{not json").unwrap_err().code(), "malformed_command");
        assert_eq!(
            Command::from_json(r#"{"at":"2026-12-01T09:00:00Z","op":"fly"}"#).unwrap_err().code(),
            "malformed_command"
        );
        assert_eq!(Command::from_json(r#"{"at":"noon","op":"tick"}"#).unwrap_err().code(), "invalid_time");
    }
}
