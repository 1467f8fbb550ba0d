#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of the simulator: determinism across thread counts, the worker-funder
//! rules and settlements through the real engine, and the random-traders shape.

mod determinism;
mod properties;
mod random_traders;
mod worker_funder;
