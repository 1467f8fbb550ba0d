//! The scenarios of spec/simulation.md, one module each.

pub mod random_traders;
pub mod worker_funder;
// REGISTRATION POINT: `pub mod arbiters;` and `pub mod resource_economy;` go here when those
// modules land (see registry.rs).
