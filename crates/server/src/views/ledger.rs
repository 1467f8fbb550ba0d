//! The ledger's totals: where every minted credit is, from one read of the engine. An operator
//! (and the bank test, on every process of a cluster) checks that the accounts add up to what
//! was minted: `users + escrows + internal == minted` on every read.

use peerex_engine::ledger::Account;
use peerex_engine::{Amount, Engine, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Credits, TimeText};

/// Totals of the ledger by kind of account. Each total is the sum of that kind's balances;
/// `accounts` sums every account but the mint, and equals `minted` when the ledger balances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerView {
    /// Credits in existence: deposited minus withdrawn (minus the mint's balance).
    #[schema(value_type = Credits)]
    pub minted: Amount,
    /// Users' spendable credits.
    #[schema(value_type = Credits)]
    pub users_available: Amount,
    /// Users' credits reserved by open buy offers.
    #[schema(value_type = Credits)]
    pub users_held: Amount,
    /// `users_available + users_held`.
    #[schema(value_type = Credits)]
    pub users: Amount,
    /// Series escrows: 1 credit per outstanding unit.
    #[schema(value_type = Credits)]
    pub escrows: Amount,
    /// Prediction markets' market-maker cash.
    #[schema(value_type = Credits)]
    pub market_makers: Amount,
    /// Prediction markets' trading fees kept for arbiters.
    #[schema(value_type = Credits)]
    pub arbitration_pools: Amount,
    /// Arbitrated series' bonds.
    #[schema(value_type = Credits)]
    pub case_bonds: Amount,
    /// Sub-micro remainders of proportional payouts.
    #[schema(value_type = Credits)]
    pub rounding: Amount,
    /// The resource market's bank (may be negative: it is the counterparty of the peers).
    #[schema(value_type = Credits)]
    pub resource_bank: Amount,
    /// Peers' resource-market balances (each may be negative down to the deficit limit).
    #[schema(value_type = Credits)]
    pub peer_balances: Amount,
    /// Every account but the mint: `users + escrows + market_makers + arbitration_pools +
    /// case_bonds + rounding + resource_bank + peer_balances`.
    #[schema(value_type = Credits)]
    pub accounts: Amount,
    /// Whether `accounts == minted`.
    pub balanced: bool,
    /// Transfers applied so far.
    pub transfers: u64,
    /// The time of the last applied command (null before the first).
    #[schema(value_type = Option<TimeText>)]
    pub engine_time: Option<Timestamp>,
}

/// Sums of micro-credits in i128, so no subtotal can overflow; shown saturated to i64 (which
/// only a broken ledger could reach: every balance is an i64 and they sum to zero).
#[derive(Default)]
struct Sums {
    available: i128,
    held: i128,
    escrows: i128,
    market_makers: i128,
    arbitration_pools: i128,
    case_bonds: i128,
    rounding: i128,
    resource_bank: i128,
    peer_balances: i128,
    mint: i128,
}

fn amount(v: i128) -> Amount {
    Amount(i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }))
}

/// The ledger's totals of `engine`, from one pass over its balances.
pub fn ledger(engine: &Engine) -> LedgerView {
    let l = engine.ledger();
    let mut s = Sums::default();
    for (account, bal) in l.balances() {
        let b = i128::from(bal.0);
        let total = match account {
            Account::Mint => &mut s.mint,
            Account::Available(_) => &mut s.available,
            Account::Held(_) => &mut s.held,
            Account::Escrow(_) => &mut s.escrows,
            Account::MarketMaker(_) => &mut s.market_makers,
            Account::ArbitrationPool(_) => &mut s.arbitration_pools,
            Account::ResourceBank => &mut s.resource_bank,
            Account::PeerBalance(_) => &mut s.peer_balances,
            Account::CaseBond(_) => &mut s.case_bonds,
            Account::Rounding => &mut s.rounding,
        };
        *total += b;
    }
    let users = s.available + s.held;
    let accounts = users
        + s.escrows
        + s.market_makers
        + s.arbitration_pools
        + s.case_bonds
        + s.rounding
        + s.resource_bank
        + s.peer_balances;
    LedgerView {
        minted: amount(-s.mint),
        users_available: amount(s.available),
        users_held: amount(s.held),
        users: amount(users),
        escrows: amount(s.escrows),
        market_makers: amount(s.market_makers),
        arbitration_pools: amount(s.arbitration_pools),
        case_bonds: amount(s.case_bonds),
        rounding: amount(s.rounding),
        resource_bank: amount(s.resource_bank),
        peer_balances: amount(s.peer_balances),
        accounts: amount(accounts),
        balanced: accounts == -s.mint,
        transfers: l.transfer_count(),
        engine_time: engine.now(),
    }
}

#[cfg(test)]
mod tests {
    use peerex_engine::{Command, Op};

    use super::*;

    fn apply(e: &mut Engine, at: i64, op: Op) {
        e.apply(Command { at: Timestamp(at), op }, &mut Vec::new()).unwrap();
    }

    #[test]
    fn totals_follow_deposits_withdrawals_and_trades() {
        let mut e = Engine::new();
        let empty = ledger(&e);
        assert_eq!(empty.minted, Amount::ZERO);
        assert!(empty.balanced);
        assert_eq!(empty.engine_time, None);

        apply(&mut e, 1_000, Op::Deposit { user: "ann".into(), amount: Amount::credits(100) });
        apply(&mut e, 2_000, Op::Deposit { user: "bob".into(), amount: Amount::credits(50) });
        apply(&mut e, 3_000, Op::Withdraw { user: "bob".into(), amount: Amount::credits(20) });
        let v = ledger(&e);
        assert_eq!(v.minted, Amount::credits(130));
        assert_eq!(v.users_available, Amount::credits(130));
        assert_eq!(v.users, Amount::credits(130));
        assert_eq!(v.accounts, Amount::credits(130));
        assert_eq!(v.escrows, Amount::ZERO);
        assert!(v.balanced);
        assert_eq!(v.transfers, 3);
        assert_eq!(v.engine_time, Some(Timestamp(3_000)));
    }

    fn example_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                example_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "jsonl") {
                out.push(path);
            }
        }
    }

    /// Every example replay file, checked after every command: the kinds add up to what was
    /// minted, and between them the examples put money in escrows, holds, market makers, fee
    /// pools, bonds and the resource market.
    #[test]
    fn every_kind_of_account_is_counted_once() {
        let mut files = Vec::new();
        example_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples"), &mut files);
        assert!(!files.is_empty());
        let mut seen = [false; 6];
        for path in files {
            let mut e = Engine::new();
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let Ok(cmd) = Command::from_json(line.trim()) else { continue };
                let _ = e.apply(cmd, &mut Vec::new());
                let v = ledger(&e);
                let parts = [
                    v.users,
                    v.escrows,
                    v.market_makers,
                    v.arbitration_pools,
                    v.case_bonds,
                    v.rounding,
                    v.resource_bank,
                    v.peer_balances,
                ];
                assert!(v.balanced, "{}: {v:?}", path.display());
                assert_eq!(parts.iter().map(|a| a.0).sum::<i64>(), v.minted.0, "{}", path.display());
                assert_eq!(v.accounts, v.minted);
                assert_eq!(v.users.0, v.users_available.0 + v.users_held.0);
                let kinds =
                    [v.users_held, v.escrows, v.market_makers, v.arbitration_pools, v.case_bonds, v.peer_balances];
                for (s, k) in seen.iter_mut().zip(kinds) {
                    *s |= k.0 != 0;
                }
            }
        }
        assert_eq!(seen, [true; 6], "held, escrows, makers, pools, bonds, peers: some kind never held money");
    }
}
