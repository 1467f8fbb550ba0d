//! The backup space a peer can have (spec/resources.md): its service profile theta (backup and
//! retrieval per stored GB per day), the capacity price Q_i = q_S + theta_B q_B + theta_R q_R,
//! the capacity C_i = (S~_i . p) / Q_i and the pie chart used / available.
//!
//! Quantities for display, computed in `f64` from the posted fixed-point prices.

use serde::Serialize;

use super::matrix::{SVC_B, SVC_R, SVC_S};

/// Days of history the service profile is estimated from.
pub const PROFILE_DAYS: usize = 30;

/// theta_B and theta_R: GB backed up and GB retrieved per stored GB per day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ServiceProfile {
    pub theta_b: f64,
    pub theta_r: f64,
}

impl ServiceProfile {
    /// From daily service totals (backup GB, stored GB-days, retrieved GB) of up to the last
    /// 30 days: ratios of sums. No storage yet gives a zero profile (storage only).
    pub fn estimate(days: &[[f64; 3]]) -> ServiceProfile {
        let recent = &days[days.len().saturating_sub(PROFILE_DAYS)..];
        let sum = |j: usize| recent.iter().map(|d| d[j].max(0.0)).sum::<f64>();
        let stored = sum(SVC_S);
        if stored <= 0.0 {
            return ServiceProfile::default();
        }
        ServiceProfile { theta_b: sum(SVC_B) / stored, theta_r: sum(SVC_R) / stored }
    }
}

/// Q_i = q_S + theta_B q_B + theta_R q_R (credits per GB of backup space per day).
pub fn capacity_price(q: [f64; 3], profile: ServiceProfile) -> f64 {
    q[SVC_S] + profile.theta_b * q[SVC_B] + profile.theta_r * q[SVC_R]
}

/// C_i = (S~_i . p) / Q_i in GB; 0 when Q_i is not positive.
pub fn capacity(counted_supply: [f64; 3], p: [f64; 3], q_cap: f64) -> f64 {
    let income: f64 = (0..3).map(|x| counted_supply[x].max(0.0) * p[x]).sum();
    if q_cap > 0.0 && q_cap.is_finite() {
        income / q_cap
    } else {
        0.0
    }
}

/// The pie chart of Figure 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PieChart {
    pub capacity_gb: f64,
    pub used_gb: f64,
    pub available_gb: f64,
}

pub fn pie_chart(capacity_gb: f64, stored_gb: f64) -> PieChart {
    PieChart { capacity_gb, used_gb: stored_gb, available_gb: (capacity_gb - stored_gb).max(0.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_income_over_the_capacity_price_and_nothing_without_a_price() {
        // Income 10 x 1 + 5 x 2 + 5 x 0.5 = 22.5 credits a day; at Q = 2 that buys 11.25 GB.
        assert_eq!(capacity([10.0, 5.0, 5.0], [1.0, 2.0, 0.5], 2.0), 11.25);
        // A negative supply earns nothing (it is not a debt).
        assert_eq!(capacity([10.0, -5.0, 5.0], [1.0, 2.0, 0.5], 2.0), 6.25);
        // No capacity price (services free, or not posted yet): no capacity, not infinite.
        assert_eq!(capacity([10.0, 5.0, 5.0], [1.0, 2.0, 0.5], 0.0), 0.0);
        assert_eq!(capacity([10.0, 5.0, 5.0], [1.0, 2.0, 0.5], -1.0), 0.0);
        assert_eq!(capacity([10.0, 5.0, 5.0], [1.0, 2.0, 0.5], f64::INFINITY), 0.0);
    }
}
