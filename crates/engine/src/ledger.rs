//! The one double-entry ledger every mechanism moves money through.
//!
//! Every movement is a transfer between two accounts, so the sum over all accounts is always
//! exactly zero: the mint's (negative) balance is minus every credit in existence. Accounts that
//! represent someone's money can never go below zero; a transfer that would make them is refused
//! before anything moves.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{EngineError, EngineResult};
use crate::ids::{MarketId, PeerId, SeriesId, UserId};
use crate::money::Amount;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Account {
    /// Issues play money (deposits) and takes it back (withdrawals). Negative by design.
    Mint,
    /// A user's spendable credits.
    Available(UserId),
    /// A user's credits reserved by open buy offers (and poolable holds).
    Held(UserId),
    /// Credits backing a series' units: 1 credit per outstanding unit until settlement.
    Escrow(SeriesId),
    /// A prediction market's market-maker cash: the creator's subsidy plus what traders paid.
    MarketMaker(MarketId),
    /// A prediction market's trading fees, which pay arbiters' rewards.
    ArbitrationPool(MarketId),
    /// The resource market's bank (the server). May be negative: it is the counterparty of
    /// every peer's virtual balance.
    ResourceBank,
    /// A peer's virtual-credit balance in the resource market. May be negative down to the
    /// maximum deficit, which the resource market enforces.
    PeerBalance(PeerId),
    /// The arbitration bond of an arbitrated series (statement or dispute), which pays its
    /// arbiters.
    CaseBond(SeriesId),
    /// Sub-micro remainders of proportional payouts (e.g. outcome X paid per unit), so escrows
    /// end at exactly zero without minting.
    Rounding,
}

impl Account {
    /// Whether the account may hold a negative balance.
    pub fn may_be_negative(self) -> bool {
        matches!(self, Account::Mint | Account::ResourceBank | Account::PeerBalance(_))
    }
}

/// Balances in micro-credits. The accounts touched on every trade (users' available and held
/// funds, series escrows) live in vectors indexed by dense id; the rest in a map.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ledger {
    available: Vec<i64>,
    held: Vec<i64>,
    escrow: Vec<i64>,
    other: FxHashMap<Account, i64>,
    transfers: u64,
}

fn read(v: &[i64], i: usize) -> i64 {
    v.get(i).copied().unwrap_or(0)
}

#[cold]
fn negative(from: Account, to: Account, amount: Amount) -> EngineError {
    EngineError::Internal(format!("negative transfer {amount} from {from:?} to {to:?}"))
}

#[cold]
fn set_new_slot(v: &mut Vec<i64>, i: usize, value: i64) {
    *slot(v, i) = value;
}

#[cold]
fn insufficient(from: Account, balance: i64, amount: Amount) -> EngineError {
    EngineError::InsufficientFunds(format!("{from:?} holds {} but {} is needed", Amount(balance), amount))
}

#[cold]
fn overflow(account: Account) -> EngineError {
    EngineError::Overflow(format!("balance of {account:?}"))
}

fn slot(v: &mut Vec<i64>, i: usize) -> &mut i64 {
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    &mut v[i]
}

impl Ledger {
    #[inline(always)]
    pub fn balance(&self, account: Account) -> Amount {
        Amount(match account {
            Account::Available(u) => read(&self.available, u.index()),
            Account::Held(u) => read(&self.held, u.index()),
            Account::Escrow(s) => read(&self.escrow, s.index()),
            other => self.balance_other(other),
        })
    }

    #[cold]
    fn balance_other(&self, account: Account) -> i64 {
        self.other.get(&account).copied().unwrap_or(0)
    }

    /// Moves `amount` (>= 0) from one account to another. Refused, changing nothing, when the
    /// source cannot go negative and holds too little, or when a balance would overflow.
    ///
    /// Inlined: where the accounts' kinds are known (every transfer of a trade: users' and
    /// series' accounts, kept in vector slots) it comes down to a few instructions; refusals,
    /// new slots and the accounts kept in the map are out of line.
    #[inline(always)]
    pub fn transfer(&mut self, from: Account, to: Account, amount: Amount) -> EngineResult<()> {
        if amount.0 <= 0 || from == to {
            if amount.is_negative() {
                return Err(negative(from, to, amount));
            }
            return Ok(());
        }
        let from_bal = self.balance(from).0;
        let new_from = match from_bal.checked_sub(amount.0) {
            Some(v) if v >= 0 || from.may_be_negative() => v,
            Some(_) => return Err(insufficient(from, from_bal, amount)),
            None => return Err(overflow(from)),
        };
        let new_to = match self.balance(to).0.checked_add(amount.0) {
            Some(v) => v,
            None => return Err(overflow(to)),
        };
        self.set(from, new_from);
        self.set(to, new_to);
        self.transfers += 1;
        Ok(())
    }

    #[inline(always)]
    fn set(&mut self, account: Account, value: i64) {
        let (v, i) = match account {
            Account::Available(u) => (&mut self.available, u.index()),
            Account::Held(u) => (&mut self.held, u.index()),
            Account::Escrow(s) => (&mut self.escrow, s.index()),
            other => return self.set_other(other, value),
        };
        match v.get_mut(i) {
            Some(slot) => *slot = value,
            None => set_new_slot(v, i, value),
        }
    }

    /// [`Ledger::set`] of an account kept in the map: dropped at zero.
    #[cold]
    fn set_other(&mut self, account: Account, value: i64) {
        if value == 0 {
            self.other.remove(&account);
        } else {
            self.other.insert(account, value);
        }
    }

    /// Number of transfers applied so far (for metrics).
    pub fn transfer_count(&self) -> u64 {
        self.transfers
    }

    /// All non-zero balances, sorted by account (deterministic).
    pub fn balances(&self) -> Vec<(Account, Amount)> {
        let dense = |v: &[i64], f: fn(u32) -> Account| -> Vec<(Account, Amount)> {
            v.iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, b)| (f(i as u32), Amount(*b))).collect()
        };
        let mut v = dense(&self.available, |i| Account::Available(UserId(i)));
        v.extend(dense(&self.held, |i| Account::Held(UserId(i))));
        v.extend(dense(&self.escrow, |i| Account::Escrow(SeriesId(i))));
        v.extend(self.other.iter().map(|(a, b)| (*a, Amount(*b))));
        v.sort();
        v
    }

    /// Credits in existence: minus the mint's balance.
    pub fn minted(&self) -> Amount {
        Amount(-self.balance(Account::Mint).0)
    }

    /// The ledger's own invariants: balances sum to zero; no protected account is negative.
    pub fn check(&self) -> Result<(), String> {
        let mut sum: i128 = 0;
        for (account, bal) in self.balances() {
            sum += bal.0 as i128;
            if bal.is_negative() && !account.may_be_negative() {
                return Err(format!("{account:?} is negative: {bal}"));
            }
        }
        if sum != 0 {
            return Err(format!("ledger does not balance: sum of all accounts is {sum} micro-credits"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_conserve_and_refuse_overdrafts() {
        let mut l = Ledger::default();
        let u = Account::Available(UserId(0));
        l.transfer(Account::Mint, u, Amount::credits(10)).unwrap();
        assert_eq!(l.balance(u), Amount::credits(10));
        assert_eq!(l.minted(), Amount::credits(10));
        let err = l.transfer(u, Account::Held(UserId(0)), Amount::credits(11)).unwrap_err();
        assert_eq!(err.code(), "insufficient_funds");
        assert_eq!(l.balance(u), Amount::credits(10), "refused transfer moved nothing");
        l.transfer(u, Account::Held(UserId(0)), Amount::credits(4)).unwrap();
        l.check().unwrap();
        assert_eq!(l.balances().len(), 3);
    }

    #[test]
    fn negative_transfer_is_an_internal_error() {
        let mut l = Ledger::default();
        assert_eq!(l.transfer(Account::Mint, Account::Rounding, Amount(-1)).unwrap_err().code(), "internal");
    }

    #[test]
    fn self_and_zero_transfers_change_nothing() {
        let mut l = Ledger::default();
        let u = Account::Available(UserId(0));
        l.transfer(Account::Mint, u, Amount::credits(10)).unwrap();
        let count = l.transfer_count();
        assert_eq!(count, 1);
        // A transfer to the same account would otherwise write the balance twice (-5 then +5 on
        // the old value) and mint 5.
        l.transfer(u, u, Amount::credits(5)).unwrap();
        assert_eq!(l.balance(u), Amount::credits(10));
        l.transfer(u, Account::Held(UserId(0)), Amount::ZERO).unwrap();
        assert_eq!(l.transfer_count(), count, "neither counts as a transfer");
        l.check().unwrap();
    }

    #[test]
    fn an_account_back_at_zero_is_no_longer_listed() {
        let mut l = Ledger::default();
        let u = Account::Available(UserId(0));
        l.transfer(Account::Mint, Account::Rounding, Amount(3)).unwrap();
        assert!(l.balances().contains(&(Account::Rounding, Amount(3))));
        l.transfer(Account::Rounding, u, Amount(3)).unwrap();
        assert_eq!(l.transfer_count(), 2);
        // Sparse accounts (all but users' and series') are dropped at zero, so the listing (and
        // the ledger's size) does not grow with every market or peer that ever held a balance.
        assert_eq!(l.balances(), vec![(Account::Mint, Amount(-3)), (u, Amount(3))]);
        assert_eq!(l.balance(Account::Rounding), Amount::ZERO);
    }

    #[test]
    fn check_finds_an_unbalanced_ledger_and_a_negative_protected_account() {
        let mut l = Ledger::default();
        l.transfer(Account::Mint, Account::Available(UserId(0)), Amount(5)).unwrap();
        let mut broken = l.clone();
        *slot(&mut broken.held, 0) = 1;
        assert_eq!(broken.check().unwrap_err(), "ledger does not balance: sum of all accounts is 1 micro-credits");
        let mut broken = l.clone();
        *slot(&mut broken.available, 0) = -1;
        broken.other.insert(Account::Mint, 1);
        assert!(broken.check().unwrap_err().contains("is negative"));
    }
}
