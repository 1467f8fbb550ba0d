//! A test harness: applies commands written as JSON, checks every invariant after each one, and
//! offers short accessors for balances and statuses.

use peerex_engine::exchange::types::Side;
use peerex_engine::{Amount, Command, Engine, EngineError, Timed};
use serde_json::Value;

pub struct H {
    pub engine: Engine,
    pub events: Vec<Timed>,
}

/// Shorthand for `Amount::parse` in tests.
pub fn cr(s: &str) -> Amount {
    Amount::parse(s).unwrap()
}

impl H {
    pub fn new() -> H {
        H { engine: Engine::new(), events: Vec::new() }
    }

    /// Applies one command given as JSON; the invariants must hold afterwards whatever happened.
    pub fn try_run(&mut self, json: Value) -> Result<(), EngineError> {
        let cmd = Command::from_json(&json.to_string())?;
        let r = self.engine.apply(cmd, &mut self.events);
        if let Err(v) = self.engine.check_invariants() {
            panic!("invariant broken after {json}: {v}");
        }
        r
    }

    pub fn run(&mut self, json: Value) {
        if let Err(e) = self.try_run(json.clone()) {
            panic!("command {json} refused: {} {e}", e.code());
        }
    }

    /// Runs a command that must be refused with `code` and change nothing.
    pub fn refuse(&mut self, json: Value, code: &str) {
        let before = self.engine.clone();
        let n = self.events.len();
        // Bring the clock to the command's time first, so "nothing changed" compares like with like.
        if let Some(at) = json.get("at").and_then(Value::as_str) {
            if let Ok(t) = peerex_engine::Timestamp::parse(at) {
                if self.engine.now().is_none_or(|now| t >= now) {
                    let _ = self.engine.advance_to(t, &mut self.events);
                }
            }
        }
        let before_cmd = self.engine.clone();
        let n_cmd = self.events.len();
        let err = self.try_run(json.clone()).expect_err(&format!("{json} was accepted"));
        assert_eq!(err.code(), code, "wrong error for {json}: {err}");
        assert!(!err.message().is_empty());
        assert!(self.engine == before_cmd, "refused command {json} changed the state");
        assert_eq!(self.events.len(), n_cmd, "refused command {json} emitted events");
        let _ = (before, n);
    }

    pub fn available(&self, user: &str) -> Amount {
        self.engine.balance(self.engine.user_id(user).unwrap()).0
    }
    pub fn held(&self, user: &str) -> Amount {
        self.engine.balance(self.engine.user_id(user).unwrap()).1
    }
    pub fn offer_status(&self, id: &str) -> &'static str {
        let x = self.engine.exchange();
        x.offer(x.offer_id(id).unwrap()).unwrap().status.as_str()
    }
    pub fn remaining(&self, id: &str) -> u64 {
        let x = self.engine.exchange();
        x.offer(x.offer_id(id).unwrap()).unwrap().remaining
    }
    pub fn units(&self, user: &str, issue: &str, maturation: &str, side: Side) -> u64 {
        let x = self.engine.exchange();
        let s = x.series_id(x.issue_id(issue).unwrap(), peerex_engine::Timestamp::parse(maturation).unwrap()).unwrap();
        x.position(self.engine.user_id(user).unwrap(), s).map_or(0, |p| p.side(side).units)
    }
    pub fn count(&self, ty: &str) -> usize {
        self.events.iter().filter(|e| self.engine.render_event(e)["type"] == ty).count()
    }
}
