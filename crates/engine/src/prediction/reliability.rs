//! An arbiter's signal reliability from their history of resolved markets:
//! a = Pr[report 1 | outcome mostly 1], c = Pr[report 1 | outcome mostly 0].
//!
//! "Mostly 1" means the market's outcome X > 1/2 and "mostly 0" means X < 1/2; X = 1/2 exactly
//! says nothing and is not counted. (Seed 004's code filtered with `(>= 0.5 X)`, i.e. swapped, and
//! assumed a perfect signal a = 1, c = 0 without history; we do neither.)
//!
//! Prior: Beta pseudo-counts, a ~ Beta(4, 1) (mean 0.8) and c ~ Beta(1, 4) (mean 0.2): an arbiter
//! without history is assumed informative but imperfect, and five real observations weigh as much
//! as the prior. The estimates are posterior means, so they lie strictly inside (0, 1).

use serde::Serialize;

/// Pseudo-counts of the prior: (ones, total) for a and for c.
pub const PRIOR_A: (u64, u64) = (4, 5);
pub const PRIOR_C: (u64, u64) = (1, 5);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct History {
    /// Resolved markets whose outcome was mostly 1, and how often this arbiter reported 1 there.
    pub mostly_one: u64,
    pub ones_when_one: u64,
    /// Resolved markets whose outcome was mostly 0, and how often this arbiter reported 1 there.
    pub mostly_zero: u64,
    pub ones_when_zero: u64,
}

impl History {
    /// Records one resolved binary market: the arbiter's report and the outcome X = num/den.
    pub fn record(&mut self, report_one: bool, num: u64, den: u64) {
        let (twice, whole) = (num.saturating_mul(2), den);
        if twice > whole {
            self.mostly_one = self.mostly_one.saturating_add(1);
            self.ones_when_one = self.ones_when_one.saturating_add(u64::from(report_one));
        } else if twice < whole {
            self.mostly_zero = self.mostly_zero.saturating_add(1);
            self.ones_when_zero = self.ones_when_zero.saturating_add(u64::from(report_one));
        }
    }

    /// Posterior mean of a = Pr[report 1 | mostly 1].
    pub fn a(&self) -> f64 {
        (self.ones_when_one + PRIOR_A.0) as f64 / (self.mostly_one + PRIOR_A.1) as f64
    }

    /// Posterior mean of c = Pr[report 1 | mostly 0].
    pub fn c(&self) -> f64 {
        (self.ones_when_zero + PRIOR_C.0) as f64 / (self.mostly_zero + PRIOR_C.1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prior_without_history_and_filters_not_swapped() {
        let h = History::default();
        assert!((h.a() - 0.8).abs() < 1e-12 && (h.c() - 0.2).abs() < 1e-12);
        let mut h = History::default();
        // Reported 1 on a market that came out 2/3: counts towards a, not c.
        h.record(true, 2, 3);
        assert_eq!((h.mostly_one, h.ones_when_one, h.mostly_zero), (1, 1, 0));
        assert!((h.a() - 5.0 / 6.0).abs() < 1e-12);
        // Reported 1 on a market that came out 0: raises c.
        h.record(true, 0, 3);
        assert!((h.c() - 2.0 / 6.0).abs() < 1e-12);
        // A tie counts for nothing.
        h.record(false, 1, 2);
        assert_eq!(h.mostly_one + h.mostly_zero, 2);
    }
}
