//! peerex-web's integration tests: the UI over HTTP (headers, CSRF, sessions) and end to end in
//! a real headless Chromium (skipped visibly without one; required under CI=true).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod cdp;
mod demo_browser;
mod http;
mod markets_browser;
mod markets_http;
mod support;
