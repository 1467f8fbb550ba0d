//! Integration tests of peerex-server: the real server on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]
