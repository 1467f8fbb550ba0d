//! peerex-sim: agent-based simulations that drive the real engine in process with a virtual
//! clock (spec/simulation.md).

pub mod scenario;
pub mod scenarios;
