//! The scenarios of spec/simulation.md, one module each.

pub mod arbiters;
pub mod random_traders;
pub mod worker_funder;
// REGISTRATION POINT: `pub mod resource_economy;` goes here when that module lands (and its
// scenario in registry.rs).
