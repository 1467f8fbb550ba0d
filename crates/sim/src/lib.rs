//! peerex-sim: agent-based simulations that drive the real engine in process with a virtual
//! clock (spec/simulation.md).
//!
//! * [`scenario`]: the contract between the framework and a scenario;
//! * [`registry`]: scenarios by name;
//! * [`runner`]: parallel, deterministic runs; [`rng`]: one seeded stream per run;
//! * [`csv`], [`summary`], [`plot`], [`output`]: what a simulation writes;
//! * [`progress`]: the terminal progress bar; [`conservation`]: end-of-day invariant checks.

pub mod clock;
pub mod conservation;
pub mod csv;
pub mod drive;
pub mod options;
pub mod output;
pub mod plot;
pub mod progress;
pub mod registry;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod scenarios;
pub mod summary;
pub mod sweep;
