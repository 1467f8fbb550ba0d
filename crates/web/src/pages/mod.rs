//! One module per area of the UI; each handler reads through `Web` and renders with `layout`.

pub mod account;
pub mod admin;
pub mod arbitration;
pub mod issues;
pub mod markets;
pub mod portfolio;
pub mod resources;
pub mod series;
