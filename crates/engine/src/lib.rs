//! peerex-engine: the pure, deterministic core of peerex.
//!
//! Commands in, events out. No IO, no wall clock, no randomness, no floating point for money.
//! Every credit moves through one double-entry [`ledger::Ledger`]. See ARCHITECTURE.md.
//!
//! No unsafe code but one cache hint (`hint.rs`), which reads and changes nothing.

#![deny(unsafe_code)]

pub mod arbitrated;
pub mod command;
pub mod engine;
pub mod error;
pub mod event;
pub mod exchange;
pub mod feed;
mod hint;
pub mod ids;
pub mod invariants;
pub mod ledger;
pub mod money;
pub mod prediction;
pub mod render;
pub mod resolve;
pub mod resources;
pub mod rows;
pub mod time;
pub mod validate;

pub use command::{Command, OfferCommand, Op};
pub use engine::Engine;
pub use error::{EngineError, EngineResult};
pub use event::{Event, Timed};
pub use money::{Amount, Price};
pub use resolve::Resolved;
pub use time::Timestamp;
