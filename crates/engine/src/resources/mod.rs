//! The hidden resource market of a P2P backup network (spec/resources.md, seed 003).
//!
//! Pure model pieces, one job each:
//! * `matrix`: technology matrix A and service prices q = A^T p;
//! * `erasure`: file unavailability for (k, n) and the minimal n for a target;
//! * `availability`: smoothed availability, test period, effective space;
//! * `supply`: ratio constraints, counted supply, the sliders' thick lines;
//! * `capacity`: service profile, capacity price, capacity and pie chart;
//! * `bank`: daily settlement through the ledger, maximum deficit, alert and freeze;
//! * `allocation`: who gets the work (lowest balance first);
//! * `price_update`: Definition 4, the safeguarded update, epochs, Broyden;
//! * `fragments`: placements, repairs and metered bytes;
//! * `market`: the engine's state and operations built from the pieces above;
//! * `events`: what the market emits.

pub use market::ResourceMarket;

pub mod allocation;
pub mod availability;
pub mod bank;
pub mod capacity;
pub mod erasure;
pub mod events;
pub mod fragments;
pub mod market;
pub mod matrix;
pub mod price_update;
pub mod supply;
