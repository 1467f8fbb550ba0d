//! A list of ledger transfers applied all-or-nothing: every source account's final balance is
//! checked before the first transfer moves, so a resolution (many payouts and rewards) either
//! happens completely or not at all.

use std::collections::BTreeMap;

use crate::error::{overflow, EngineError, EngineResult};
use crate::ledger::{Account, Ledger};
use crate::money::Amount;

#[derive(Debug, Default)]
pub struct Plan {
    moves: Vec<(Account, Account, i64)>,
}

impl Plan {
    pub fn push(&mut self, from: Account, to: Account, micros: i64) {
        if micros != 0 {
            self.moves.push((from, to, micros));
        }
    }

    /// Checks that no protected account would go negative (at any point: all outflows are
    /// counted before inflows) and no balance overflows, then applies every transfer.
    pub fn apply(self, ledger: &mut Ledger) -> EngineResult<()> {
        let mut out: BTreeMap<Account, i64> = BTreeMap::new();
        for (from, _, amount) in &self.moves {
            if *amount < 0 {
                return Err(EngineError::Internal(format!("negative planned transfer from {from:?}")));
            }
            let e = out.entry(*from).or_default();
            *e = e.checked_add(*amount).ok_or_else(|| overflow("a planned transfer"))?;
        }
        for (account, total) in &out {
            let bal = ledger.balance(*account).0;
            if !account.may_be_negative() && bal < *total {
                return Err(EngineError::InsufficientFunds(format!(
                    "{account:?} holds {} but {} must leave it",
                    Amount(bal),
                    Amount(*total)
                )));
            }
        }
        for (from, to, amount) in self.moves {
            ledger.transfer(from, to, Amount(amount))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::money::Amount;

    #[test]
    fn a_plan_moves_nothing_when_one_transfer_is_refused() {
        let (u, v) = (Account::Available(UserId(0)), Account::Available(UserId(1)));
        let mut ledger = Ledger::default();
        ledger.transfer(Account::Mint, u, Amount(10)).unwrap();
        // A zero move is fine; a negative one is a bug.
        let mut plan = Plan::default();
        plan.push(u, v, 0);
        plan.push(u, v, 4);
        plan.apply(&mut ledger).unwrap();
        assert_eq!((ledger.balance(u), ledger.balance(v)), (Amount(6), Amount(4)));
        let before = ledger.clone();
        let mut plan = Plan::default();
        plan.push(v, u, 1);
        plan.push(u, v, -1);
        assert_eq!(plan.apply(&mut ledger).unwrap_err().code(), "internal");
        assert!(ledger == before);
    }
}
