//! Money conservation at the end of every simulated day (spec/simulation.md): in debug and test
//! builds the engine's invariants (ledger sum, holds, escrows, positions) are checked and a
//! violation fails the run; release builds skip the check (it is the benchmark's hot path).

use peerex_engine::Engine;

/// Checks the engine's invariants after day `day` (debug and test builds only).
pub fn check_day(engine: &Engine, day: u32) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        engine.check_invariants().map_err(|e| anyhow::anyhow!("invariant broken at the end of day {day}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use peerex_engine::{Amount, Command, Op, Timestamp};

    use super::*;

    #[test]
    fn a_consistent_engine_passes() {
        let mut e = Engine::new();
        let mut out = Vec::new();
        let cmd = Command::new(Timestamp::from_millis(0), Op::Deposit { user: "a".into(), amount: Amount::credits(5) });
        e.apply(cmd, &mut out).unwrap();
        assert!(check_day(&e, 0).is_ok());
    }
}
