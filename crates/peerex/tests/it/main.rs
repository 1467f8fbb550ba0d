//! Integration tests of the peerex binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crash;
