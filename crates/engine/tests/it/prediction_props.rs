//! Properties of the prediction markets (proptest).
