#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of the `peerex` binary.

mod bank;
mod client;
mod crash;
mod demo;
mod fake_api;
mod procs;
mod session;
