//! Applying commands to the engine from a scenario: a refusal becomes an error naming the
//! operation and the engine's stable code (the operation is not formatted on the hot path).

use peerex_engine::{Command, Engine, Op, Timed, Timestamp};

/// The command-language name of an operation (`"offer"`, `"tick"`, ...); `"command"` for
/// operations added to the engine after this list was written.
pub fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Deposit { .. } => "deposit",
        Op::Withdraw { .. } => "withdraw",
        Op::OpenIssue { .. } => "open_issue",
        Op::CloseIssue { .. } => "close_issue",
        Op::ReopenIssue { .. } => "reopen_issue",
        Op::SyncIssue { .. } => "sync_issue",
        Op::Offer(_) => "offer",
        Op::Cancel { .. } => "cancel",
        Op::Resume { .. } => "resume",
        Op::Tick {} => "tick",
        Op::Decide { .. } => "decide",
        Op::CreateMarket(_) => "create_market",
        Op::Trade(_) => "trade",
        Op::Report(_) => "report",
        Op::FundMaker { .. } => "fund_maker",
        // Operations the simulator's own scenarios do not send (and ones added later).
        _ => "command",
    }
}

/// Applies `op` at `at`; events are appended to `out`.
pub fn apply(engine: &mut Engine, out: &mut Vec<Timed>, at: Timestamp, op: Op) -> anyhow::Result<()> {
    let name = op_name(&op);
    engine
        .apply(Command::new(at, op), out)
        .map_err(|e| anyhow::anyhow!("the engine refused {name} at {at}: {} ({e})", e.code()))
}

#[cfg(test)]
mod tests {
    use peerex_engine::Amount;

    use super::*;

    #[test]
    fn refusals_name_the_operation_and_code() {
        let mut e = Engine::new();
        let mut out = Vec::new();
        let t = Timestamp::from_millis(0);
        apply(&mut e, &mut out, t, Op::Deposit { user: "a".into(), amount: Amount::credits(1) }).unwrap();
        let err = apply(&mut e, &mut out, t, Op::Withdraw { user: "a".into(), amount: Amount::credits(2) })
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("the engine refused withdraw at 1970-01-01T00:00:00Z: insufficient_funds"), "{err}");
        assert_eq!(op_name(&Op::Tick {}), "tick");
    }
}
