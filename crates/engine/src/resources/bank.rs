//! The server as bank: daily settlement b_i += s_i . p - d_i . q through the ledger, and the
//! maximum deficit with alert, freeze and hysteresis (spec/resources.md).
//!
//! Amounts: a metered byte (or byte-day) at a price in nano-credits per GB is worth exactly
//! bytes x price atto-credits (1e-18 credit), so each peer's day is first computed *exactly* in
//! atto-credits (i128). Only the net is rounded down to whole micro-credits for the ledger; the
//! sub-micro remainder is carried to the peer's next settlement (`carry_atto`, always in
//! [0, 1e12)), so no fraction of a credit is ever lost or created.

use serde::Serialize;

use crate::error::{overflow, EngineResult};
use crate::ids::PeerId;
use crate::ledger::{Account, Ledger};
use crate::money::Amount;

/// Atto-credits per micro-credit.
pub const ATTO_PER_MICRO: i128 = 1_000_000_000_000;

/// Design defaults: B_max = max(100 credits, 14 x mean daily bill of the last 7 days).
pub const MIN_MAX_DEFICIT: Amount = Amount::credits(100);
pub const DEFICIT_DAYS: i64 = 14;
pub const BILL_WINDOW: usize = 7;

/// B_max from the last days' bills (charges, not net), newest last.
pub fn max_deficit(bills: &[Amount]) -> Amount {
    let recent = &bills[bills.len().saturating_sub(BILL_WINDOW)..];
    if recent.is_empty() {
        return MIN_MAX_DEFICIT;
    }
    let sum: i128 = recent.iter().map(|b| b.0.max(0) as i128).sum();
    let scaled = sum * DEFICIT_DAYS as i128 / recent.len() as i128;
    Amount(i64::try_from(scaled).unwrap_or(i64::MAX).max(MIN_MAX_DEFICIT.0))
}

/// A peer account's standing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    #[default]
    Normal,
    /// Balance at or below -0.5 B_max: the user is told (e-mail in the paper).
    Alert,
    /// Balance reached -B_max: no new backups until the balance is above -0.9 B_max.
    /// Retrieval is always allowed and repair continues.
    Frozen,
}

/// The next standing after a balance change. Freezing at -B_max and unfreezing only above
/// -0.9 B_max is the hysteresis that keeps an account near the limit from flapping.
pub fn next_standing(prev: Standing, balance: Amount, b_max: Amount) -> Standing {
    let b = balance.0 as i128;
    let m = b_max.0.max(0) as i128;
    if b <= -m {
        return Standing::Frozen;
    }
    // Stay frozen until b > -0.9 B_max, i.e. 10 b > -9 B_max (exact in integers).
    if prev == Standing::Frozen && 10 * b <= -9 * m {
        return Standing::Frozen;
    }
    // Alert at b <= -0.5 B_max, i.e. 2 b <= -B_max.
    if 2 * b <= -m {
        Standing::Alert
    } else {
        Standing::Normal
    }
}

/// One peer's day, exactly: what it earned for supply and what its consumption cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayAmounts {
    pub earned_atto: i128,
    pub charged_atto: i128,
}

/// The result of settling one peer's day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Settled {
    /// Net credits moved (positive: bank paid the peer).
    pub net: Amount,
    /// The day's bill rounded down to micro-credits (for B_max).
    pub bill: Amount,
    /// Remainder carried to the next day, in atto-credits, in [0, 1e12).
    pub carry_atto: i64,
}

/// Books one peer's day through the ledger: net = earned - charged + carry, rounded toward
/// minus infinity to micro-credits; the remainder is the new carry. Refused (nothing moves)
/// only on overflow.
pub fn settle(ledger: &mut Ledger, peer: PeerId, day: DayAmounts, carry_atto: i64) -> EngineResult<Settled> {
    let net_atto = day
        .earned_atto
        .checked_sub(day.charged_atto)
        .and_then(|x| x.checked_add(carry_atto as i128))
        .ok_or_else(|| overflow("a day's settlement"))?;
    let micros = net_atto.div_euclid(ATTO_PER_MICRO);
    let carry = net_atto.rem_euclid(ATTO_PER_MICRO);
    let micros = i64::try_from(micros).map_err(|_| overflow("a day's settlement"))?;
    let bill = i64::try_from(day.charged_atto.max(0) / ATTO_PER_MICRO).map_err(|_| overflow("a day's bill"))?;
    let carry = i64::try_from(carry).map_err(|_| overflow("a carry"))?;
    // Check the peer's balance stays representable before moving anything.
    ledger.balance(Account::PeerBalance(peer)).0.checked_add(micros).ok_or_else(|| overflow("a peer balance"))?;
    if micros > 0 {
        ledger.transfer(Account::ResourceBank, Account::PeerBalance(peer), Amount(micros))?;
    } else if micros < 0 {
        let out = micros.checked_neg().ok_or_else(|| overflow("a day's settlement"))?;
        ledger.transfer(Account::PeerBalance(peer), Account::ResourceBank, Amount(out))?;
    }
    Ok(Settled { net: Amount(micros), bill: Amount(bill), carry_atto: carry })
}

/// Atto-credits of `units` bytes (or byte-days) at `price_nano` nano-credits per GB:
/// exactly units x price (1 byte x 1 nano/GB = 1e-9 x 1e-9 credit).
pub fn atto(units: i64, price_nano: i64) -> i128 {
    units as i128 * price_nano as i128
}
