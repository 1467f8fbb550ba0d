//! A peer's availability: the exponentially smoothed fraction of each day it was online
//! (spec/resources.md: lambda = 1/30, new peers are test targets for 14 days, a < 0.17 gets no
//! storage work) and the effective space it supplies.
//!
//! Integers only (parts per million), so every server computes the same estimate.

use serde::Serialize;

use super::matrix::PPM;

/// Smoothing window: lambda = 1 / SMOOTHING_DAYS.
pub const SMOOTHING_DAYS: u32 = 30;
/// Days a new peer is only a test target (no storage work yet).
pub const TEST_PERIOD_DAYS: u32 = 14;
/// Below this availability a peer gets no storage work (0.17 in ppm).
pub const MIN_STORAGE_AVAILABILITY_PPM: i64 = 170_000;

/// The smoothed availability of one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Availability {
    /// Estimate in parts per million, 0..=1_000_000.
    pub ppm: i64,
    /// Number of daily observations so far.
    pub days: u32,
}

impl Availability {
    /// Adds one day's measured online fraction (ppm, clamped to [0, 1e6]).
    ///
    /// Design: for the first 30 days the weight is 1/days (the running mean), so a new peer's
    /// estimate is not dragged toward an arbitrary start value; from then on lambda = 1/30.
    /// The step is rounded half away from zero, so the estimate is exact integer arithmetic.
    pub fn observe(&mut self, fraction_ppm: i64) {
        let x = fraction_ppm.clamp(0, PPM);
        self.days = self.days.saturating_add(1);
        let w = i64::from(self.days.min(SMOOTHING_DAYS));
        let diff = x - self.ppm;
        let step = if diff >= 0 { (diff + w / 2) / w } else { -((-diff + w / 2) / w) };
        self.ppm = (self.ppm + step).clamp(0, PPM);
    }

    pub fn as_f64(&self) -> f64 {
        self.ppm as f64 / PPM as f64
    }

    /// Still in the test period (fewer than 14 days observed).
    pub fn is_test_target(&self) -> bool {
        self.days < TEST_PERIOD_DAYS
    }

    /// May receive storage work: out of the test period and available at least 0.17.
    pub fn gets_storage_work(&self) -> bool {
        !self.is_test_target() && self.ppm >= MIN_STORAGE_AVAILABILITY_PPM
    }
}

/// eta = 1 / (R x mean holder availability), in ppm. `None` if the mean availability is zero.
pub fn eta_ppm(r_ppm: i64, mean_availability_ppm: i64) -> Option<i64> {
    let denom = (r_ppm as i128).checked_mul(mean_availability_ppm as i128)?;
    if denom <= 0 {
        return None;
    }
    // 1e6 * 1e6 * 1e6 / (r * a): result in ppm, rounded down.
    i64::try_from((PPM as i128 * PPM as i128 * PPM as i128) / denom).ok()
}

/// Effective space = raw x a x eta with eta = 1 / (R x mean holder availability), computed in
/// one exact integer expression raw x a x 1e6 / (R x mean) and rounded down once (bytes).
/// `None` when R or the mean availability is not positive.
pub fn effective_space(raw_bytes: i64, availability_ppm: i64, r_ppm: i64, mean_availability_ppm: i64) -> Option<i64> {
    let denom = (r_ppm as i128).checked_mul(mean_availability_ppm as i128)?;
    if denom <= 0 {
        return None;
    }
    let v = (raw_bytes.max(0) as i128) * (availability_ppm.clamp(0, PPM) as i128) * (PPM as i128) / denom;
    Some(i64::try_from(v).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_mean_then_lambda_one_thirtieth() {
        let mut a = Availability::default();
        a.observe(1_000_000);
        assert_eq!(a.ppm, 1_000_000, "the first day is the estimate");
        a.observe(0);
        assert_eq!(a.ppm, 500_000, "running mean for the first 30 days");
        // Each step rounds to the nearest ppm: (1 + 0 + 0) / 3 = 333,333.3 -> 333,333, and
        // (3 x 1,000,000 + 2) / 4 = 750,000.5 -> 750,000 (the step 999,998 / 4 rounded).
        let mut b = Availability::default();
        for x in [1_000_000, 0, 0] {
            b.observe(x);
        }
        assert_eq!(b.ppm, 333_333);
        let mut c = Availability::default();
        for x in [1_000_000, 1_000_000, 1_000_000, 2] {
            c.observe(x);
        }
        assert_eq!(c.ppm, 750_000);
        for _ in 2..30 {
            a.observe(500_000);
        }
        assert_eq!(a.ppm, 500_000);
        a.observe(800_000);
        assert_eq!(a.ppm, 510_000, "then a step of (x - a) / 30");
        a.observe(-5);
        assert!(a.ppm < 510_000 && a.ppm >= 0);
    }

    #[test]
    fn test_period_and_threshold() {
        let mut a = Availability::default();
        for _ in 0..13 {
            a.observe(900_000);
        }
        assert!(a.is_test_target() && !a.gets_storage_work());
        a.observe(900_000);
        assert!(!a.is_test_target() && a.gets_storage_work());
        let low = Availability { ppm: 169_999, days: 100 };
        assert!(!low.gets_storage_work());
        let edge = Availability { ppm: 170_000, days: 100 };
        assert!(edge.gets_storage_work());
    }
}
