//! Integration tests of peerex-server: the real server on port 0, over HTTP, on SQLite, and on
//! PostgreSQL when PEEREX_TEST_POSTGRES_URL is set (each test then runs on a fresh database).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod batch;
mod cluster;
mod demo;
mod durability;
mod errors;
mod feeds;
mod flow;
mod hardening;
mod idempotency;
mod logins;
mod mechanisms;
mod ops;
mod peers;
mod rebuild_props;
mod snapshots;
mod support;
mod tracker_sync;
mod webhooks;
