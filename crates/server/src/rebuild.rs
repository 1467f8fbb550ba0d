//! Rebuilding market state: the engine is deterministic, so replaying the command log in order
//! into a fresh [`Engine`] gives back exactly the state (and the events) it had.

use peerex_engine::{Command, Engine, Timestamp};

use crate::store::LoggedCommand;

pub struct Rebuilt {
    pub engine: Engine,
    /// Time of the last logged command (the writer never stamps earlier).
    pub last_at: Option<Timestamp>,
    pub next_seq: i64,
    pub commands: usize,
    pub events: u64,
    /// Commands whose replayed outcome differs from the logged one (should never happen).
    pub mismatches: Vec<String>,
}

/// Replays the log. A body that does not parse is corruption and fails the rebuild.
pub fn replay(log: &[LoggedCommand]) -> anyhow::Result<Rebuilt> {
    let mut engine = Engine::new();
    let mut out = Vec::new();
    let mut events = 0u64;
    let mut mismatches = Vec::new();
    let mut last_at = None;
    let mut next_seq = 1;
    for c in log {
        let cmd = Command::from_json(&c.body)
            .map_err(|e| anyhow::anyhow!("command {} in the log does not parse: {e}", c.seq))?;
        last_at = Some(cmd.at);
        out.clear();
        let result = engine.apply(cmd, &mut out);
        events += out.len() as u64;
        let got = result.err().map(|e| e.code().to_owned());
        if got != c.error {
            mismatches.push(format!("command {}: logged outcome {:?}, replayed {:?}", c.seq, c.error, got));
        }
        next_seq = c.seq + 1;
    }
    Ok(Rebuilt { engine, last_at, next_seq, commands: log.len(), events, mismatches })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(seq: i64, body: &str, error: Option<&str>) -> LoggedCommand {
        LoggedCommand { seq, body: body.into(), error: error.map(str::to_owned) }
    }

    #[test]
    fn replays_to_the_same_balances_and_spots_mismatches() {
        let log = vec![
            logged(1, r#"{"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"1000"}"#, None),
            logged(2, r#"{"at":"2026-12-01T09:00:01Z","op":"withdraw","user":"adam","amount":"10"}"#, None),
            logged(3, r#"{"at":"2026-12-01T09:00:02Z","op":"withdraw","user":"adam","amount":"5000"}"#, None),
        ];
        let r = replay(&log).unwrap();
        let adam = r.engine.user_id("adam").unwrap();
        assert_eq!(r.engine.balance(adam).0.to_string(), "990");
        assert_eq!(r.next_seq, 4);
        assert_eq!(r.mismatches.len(), 1, "{:?}", r.mismatches);
        assert!(r.engine.check_invariants().is_ok());
        assert!(replay(&[logged(1, "{broken", None)]).is_err());
    }
}
