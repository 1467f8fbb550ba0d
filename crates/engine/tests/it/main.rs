//! The engine's integration tests: one binary, one module per concern.

// Tests may unwrap: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod acceptance;
mod arbitrated;
mod maker;
mod prediction;
mod prediction_props;
mod properties;
mod rejections;
mod resources_engine;
mod resources_model;
mod support;
