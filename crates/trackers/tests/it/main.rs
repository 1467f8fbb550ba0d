#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of the tracker adapters against local fake trackers (no internet).

mod engine_outage;
mod fake;
mod gitea;
mod github_sync;
mod gitlab;
mod never_wrong;
mod webhooks;
