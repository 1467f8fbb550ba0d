//! The scenarios of spec/simulation.md, one module each.

pub mod arbiters;
