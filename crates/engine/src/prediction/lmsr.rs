//! Hanson's logarithmic market scoring rule for n mutually exclusive outcomes (binary is n = 2).
//!
//! State: `q[k]` = micro-shares of outcome k outstanding (all >= 0, starting at 0).
//! Cost `C(q) = b ln(sum_k e^(q_k/b))`, evaluated in the stable log-sum-exp form
//! `C(q) = max_k q_k + b ln(sum_k e^((q_k - max)/b))`: every exponent is <= 0, the sum lies in
//! [1, n], so nothing overflows whatever |q|/b is.
//!
//! Determinism: the transcendental functions come from the pure-Rust `libm` crate (the same
//! bits on every platform), never from the platform's libm; +, -, *, / on f64 are IEEE-exact.
//! Exactness of money: the integer part `max_k q_k` is added in integer micro-credits; only the
//! bounded term `b ln S` (at most b ln n) passes through a float, and it is rounded up or down to
//! the micro-credit ([`Lmsr::cost_up`], [`Lmsr::cost_down`]). A trade from q to q' costs
//! `cost_up(q') - cost_down(q)`, so every charge rounds up and every payout rounds down, and the
//! sum over any sequence of trades telescopes to at least `cost_up(q_T) - cost_up(0)`. With the
//! subsidy set to `cost_up(0)`, the market maker always holds at least `cost_up(q) >= max_k q_k`,
//! which is the most any resolution can pay: solvency holds exactly, whatever the float error.

use crate::error::{overflow, EngineError, EngineResult};
use crate::money::MICROS_PER_CREDIT;

/// An LMSR with liquidity `b` (micro-credits; one share pays at most one credit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lmsr {
    pub b: i64,
}

impl Lmsr {
    pub fn new(b: i64) -> EngineResult<Lmsr> {
        if b <= 0 {
            return Err(EngineError::InvalidArgument(format!("the liquidity b must be positive, not {b} micro")));
        }
        Ok(Lmsr { b })
    }

    /// (max_k q_k, b ln S) with S = sum_k e^((q_k - max)/b) in [1, n]; the second in micro-credits.
    fn split(&self, q: &[i64]) -> EngineResult<(i64, f64)> {
        let max = q.iter().copied().max().ok_or_else(|| EngineError::Internal("a market without outcomes".into()))?;
        let b = self.b as f64;
        let mut s = 0.0f64;
        for &qk in q {
            let d = qk.checked_sub(max).ok_or_else(|| overflow("a share quantity"))?;
            s += libm::exp(d as f64 / b);
        }
        // The largest q_k contributes e^0 = 1 and the others (0, 1], so S lies in [1, n] and the
        // tail in [0, b ln n]: finite and not negative (and `to_micros` refuses anything else).
        Ok((max, b * libm::log(s)))
    }

    /// C(q) rounded up to the micro-credit.
    pub fn cost_up(&self, q: &[i64]) -> EngineResult<i64> {
        let (max, tail) = self.split(q)?;
        max.checked_add(to_micros(libm::ceil(tail))?).ok_or_else(|| overflow("an LMSR cost"))
    }

    /// C(q) rounded down to the micro-credit.
    pub fn cost_down(&self, q: &[i64]) -> EngineResult<i64> {
        let (max, tail) = self.split(q)?;
        max.checked_add(to_micros(libm::floor(tail))?).ok_or_else(|| overflow("an LMSR cost"))
    }

    /// What a trader pays (positive) or receives (negative) to move the state from `q` to `q2`,
    /// rounded in the market maker's favour both ways.
    pub fn trade_cost(&self, q: &[i64], q2: &[i64]) -> EngineResult<i64> {
        self.cost_up(q2)?.checked_sub(self.cost_down(q)?).ok_or_else(|| overflow("a trade's cost"))
    }

    /// The market maker's subsidy: its worst-case loss b ln n, rounded up (= `cost_up(0)`).
    pub fn subsidy(&self, n: usize) -> EngineResult<i64> {
        self.cost_up(&vec![0; n])
    }

    /// Instantaneous prices p_k = e^((q_k - max)/b) / S, each in [0, 1], summing to 1 (up to
    /// rounding). Strictly inside (0, 1) while |q_j - q_k|/b stays below about 36 (beyond that
    /// the larger side rounds to exactly 1.0 in f64).
    pub fn prices(&self, q: &[i64]) -> EngineResult<Vec<f64>> {
        let max = q.iter().copied().max().ok_or_else(|| EngineError::Internal("a market without outcomes".into()))?;
        let b = self.b as f64;
        let mut e = Vec::with_capacity(q.len());
        for &qk in q {
            let d = qk.checked_sub(max).ok_or_else(|| overflow("a share quantity"))?;
            e.push(libm::exp(d as f64 / b));
        }
        let s: f64 = e.iter().sum();
        Ok(e.into_iter().map(|x| x / s).collect())
    }

    /// The price of outcome `k`.
    pub fn price(&self, q: &[i64], k: usize) -> EngineResult<f64> {
        self.prices(q)?.get(k).copied().ok_or_else(|| EngineError::InvalidArgument(format!("no outcome {k}")))
    }
}

/// A probability in [0, 1] as micro-units (for display and events), rounded to nearest.
pub fn prob_micros(p: f64) -> i64 {
    if p.is_finite() {
        libm::round(p.clamp(0.0, 1.0) * MICROS_PER_CREDIT as f64) as i64
    } else {
        0
    }
}

/// A whole, finite float of micro-credits as an integer.
fn to_micros(x: f64) -> EngineResult<i64> {
    // 2^62 leaves room for the additions around it; NaN and the infinities fail the test too.
    if x.abs() < 4.6e18 {
        Ok(x as i64)
    } else {
        Err(overflow("an LMSR amount"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B10: Lmsr = Lmsr { b: 10 * MICROS_PER_CREDIT };
    fn bin(q: i64) -> Vec<i64> {
        // Binary state as (NO, YES) with q = YES - NO.
        if q >= 0 {
            vec![0, q * MICROS_PER_CREDIT]
        } else {
            vec![-q * MICROS_PER_CREDIT, 0]
        }
    }

    #[test]
    fn binary_reference_values() {
        assert_eq!(prob_micros(B10.price(&bin(0), 1).unwrap()), 500_000);
        assert_eq!(prob_micros(B10.price(&bin(10), 1).unwrap()), 731_059);
        assert_eq!(prob_micros(B10.price(&bin(20), 1).unwrap()), 880_797);
        // C(10) - C(0) = 6.201145; C(30) - C(20) = 9.216593 (each within the 2-micro rounding).
        let c = B10.trade_cost(&bin(0), &bin(10)).unwrap();
        assert!((6_201_145..=6_201_147).contains(&c), "{c}");
        let c = B10.trade_cost(&bin(20), &bin(30)).unwrap();
        assert!((9_216_593..=9_216_595).contains(&c), "{c}");
        assert_eq!(B10.subsidy(2).unwrap(), 6_931_472);
    }

    #[test]
    fn no_overflow_far_from_the_origin() {
        let b = Lmsr { b: MICROS_PER_CREDIT };
        let q = vec![0, 5_000 * MICROS_PER_CREDIT, 10];
        let p = b.prices(&q).unwrap();
        assert!(p.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
        assert_eq!(b.cost_up(&q).unwrap(), 5_000 * MICROS_PER_CREDIT);
        assert!(b.trade_cost(&q, &[0, 5_001 * MICROS_PER_CREDIT, 10]).unwrap() <= MICROS_PER_CREDIT + 1);
    }

    #[test]
    fn amounts_from_4_6e18_micro_credits_up_are_an_overflow() {
        assert_eq!(to_micros(4.599e18).unwrap(), 4_599_000_000_000_000_000);
        assert_eq!(to_micros(-2.5).unwrap(), -2);
        for x in [4.6e18, -4.6e18, f64::INFINITY, f64::NAN] {
            assert_eq!(to_micros(x).unwrap_err().code(), "overflow", "{x}");
        }
    }
}
