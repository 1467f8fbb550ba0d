//! Pricing one trade against the market maker, without changing anything (the same function
//! serves quotes and execution, so a quote is exactly what the trade will cost).
//!
//! Every outcome's shares are held long (never negative), so no trader ever owes money at
//! resolution. A trade names an outcome k and a signed number of shares x:
//! * x > 0 buys k. Shares the trader holds of *every other* outcome are sold first (holding one
//!   of each other outcome is the same risk as being short k; for a binary market this is
//!   "buying YES closes a NO position"); the rest buys new k shares.
//! * x < 0 sells k: shares of k the trader holds are sold first; the rest buys one share of every
//!   other outcome per share (binary: selling YES beyond the position buys NO).
//!
//! The first part liquidates (free), the second increases risk (fee). Fee rule (seed 004's
//! implementation): one fee per risk-increasing transaction at the post-trade price p' of k:
//! f p' for a buy, f (1 - p') for a sale, rounded up to the micro-credit. Optional per-share
//! rule (`fee_mode: share`, the dissertation's price-bounding fee): f x the cost of the
//! risk-increasing part, rounded up.

use crate::error::{overflow, EngineError, EngineResult};
use crate::money::MICROS_PER_CREDIT;
use crate::prediction::market::{FeeMode, Holding, Market};

/// The full effect of a trade.
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    /// Micro-credits the trader pays the market maker (negative: receives).
    pub cost: i64,
    /// Micro-credits of fee into the arbitration pool.
    pub fee: i64,
    pub liquidated: i64,
    pub increased: i64,
    pub q_after: Vec<i64>,
    pub shares_after: Vec<i64>,
    pub prices_after: Vec<f64>,
}

impl Quote {
    /// What leaves the trader's account in total (negative: what arrives).
    pub fn total(&self) -> EngineResult<i64> {
        self.cost.checked_add(self.fee).ok_or_else(|| overflow("a trade's total"))
    }
}

pub fn quote(m: &Market, holding: Option<&Holding>, outcome: usize, shares: i64) -> EngineResult<Quote> {
    let n = m.outcomes();
    if outcome >= n {
        return Err(EngineError::InvalidArgument(format!("market {:?} has outcomes 0 to {}", m.name, n - 1)));
    }
    if shares == 0 {
        return Err(EngineError::InvalidAmount("a trade needs a non-zero number of shares".into()));
    }
    let held = holding.map_or_else(|| vec![0; n], |h| h.shares.clone());
    let mut q = m.q.clone();
    let mut mine = held;
    let size = shares.checked_abs().ok_or_else(|| overflow("shares"))?;
    let (liquidated, increased, q_mid);
    // Not zero (refused above): positive buys, negative sells.
    if shares.is_positive() {
        let others = (0..n).filter(|&j| j != outcome).map(|j| mine[j]).min().unwrap_or(0);
        liquidated = size.min(others);
        increased = size - liquidated;
        for j in (0..n).filter(|&j| j != outcome) {
            q[j] -= liquidated;
            mine[j] -= liquidated;
        }
        q_mid = q.clone();
        q[outcome] = q[outcome].checked_add(increased).ok_or_else(|| overflow("shares outstanding"))?;
        mine[outcome] = mine[outcome].checked_add(increased).ok_or_else(|| overflow("a holding"))?;
    } else {
        liquidated = size.min(mine[outcome]);
        increased = size - liquidated;
        q[outcome] -= liquidated;
        mine[outcome] -= liquidated;
        q_mid = q.clone();
        for j in (0..n).filter(|&j| j != outcome) {
            q[j] = q[j].checked_add(increased).ok_or_else(|| overflow("shares outstanding"))?;
            mine[j] = mine[j].checked_add(increased).ok_or_else(|| overflow("a holding"))?;
        }
    }
    let cost = m.lmsr.trade_cost(&m.q, &q)?;
    let prices_after = m.lmsr.prices(&q)?;
    let fee = if increased == 0 {
        0
    } else if m.fee_mode == FeeMode::Share {
        // f x what the risk-increasing shares cost (rounded up): a share bought at marginal
        // price p costs p (1 + f), so nobody buys above 1 / (1 + f) and prices stay bounded.
        let part = m.lmsr.trade_cost(&q_mid, &q)?.max(0);
        let x =
            (i128::from(m.fee) * i128::from(part) + i128::from(MICROS_PER_CREDIT) - 1) / i128::from(MICROS_PER_CREDIT);
        i64::try_from(x).map_err(|_| overflow("a fee"))?
    } else {
        let p = prices_after.get(outcome).copied().unwrap_or(0.0);
        let rate = if shares.is_positive() { p } else { 1.0 - p };
        fee_micros(m.fee, rate)?
    };
    Ok(Quote { cost, fee, liquidated, increased, q_after: q, shares_after: mine, prices_after })
}

/// f x rate, rounded up to the micro-credit (f in micro-units, rate in [0, 1]).
fn fee_micros(fee: i64, rate: f64) -> EngineResult<i64> {
    let x = libm::ceil(fee as f64 * rate.clamp(0.0, 1.0));
    // The range excludes NaN and the infinities as well.
    if (0.0..9.0e18).contains(&x) {
        Ok(x as i64)
    } else {
        Err(overflow("a fee"))
    }
}

/// The largest number of micro-shares of `outcome` that `budget` micro-credits buy (cost + fee),
/// found by doubling then bisection on the exact quote.
pub fn shares_for_budget(m: &Market, holding: Option<&Holding>, outcome: usize, budget: i64) -> EngineResult<i64> {
    let fits = |x: i64| -> EngineResult<bool> { Ok(quote(m, holding, outcome, x)?.total()? <= budget) };
    if budget <= 0 || !fits(1)? {
        return Ok(0);
    }
    let (mut lo, mut hi) = (1i64, 2i64);
    while fits(hi)? {
        lo = hi;
        hi = match hi.checked_mul(2) {
            Some(h) if h < (1i64 << 60) => h,
            _ => return Ok(lo),
        };
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}
