//! The engine's integration tests: one binary, one module per concern.

mod acceptance;
mod properties;
mod rejections;
mod support;
