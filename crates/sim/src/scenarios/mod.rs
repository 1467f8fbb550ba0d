//! The scenarios of spec/simulation.md, one module each.

pub mod arbiters;
pub mod liquidity;
pub mod random_traders;
pub mod resource_economy;
pub mod resource_market;
pub mod worker_funder;
