//! The technology matrix A (units of supplier resource per unit of consumed service) and the
//! service prices q = A^T p (spec/resources.md, "Model").
//!
//! Two forms: an `f64` one for the numerical side (price update, simulator, capacity display)
//! and a fixed-point one for posted prices, which must be identical on every machine. Resource
//! and service prices are stored as nano-credits per GB (or per GB-day for storage).

use serde::Serialize;

/// Nano-credits per credit: prices are stored in nano-credits per unit.
pub const NANO_PER_CREDIT: i64 = 1_000_000_000;
/// Parts per million: the fixed-point scale of matrix coefficients and availabilities.
pub const PPM: i64 = 1_000_000;

/// Resource indices: space, upload, download.
pub const RES_S: usize = 0;
pub const RES_U: usize = 1;
pub const RES_D: usize = 2;
/// Service indices: backup, storage, retrieval.
pub const SVC_B: usize = 0;
pub const SVC_S: usize = 1;
pub const SVC_R: usize = 2;

/// The coefficients of A. `r` is the erasure-coding replication factor n/k; `u_rt` and `d_rt`
/// the upload and download spent on repair and testing per stored GB-day; `rho_ret` the upload
/// per retrieved GB.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Technology {
    pub r: f64,
    pub u_rt: f64,
    pub d_rt: f64,
    pub rho_ret: f64,
}

impl Default for Technology {
    /// The design defaults of spec/resources.md: R = 3, u_rt = 0.021, d_rt = 0.007, rho_ret = 1.
    fn default() -> Self {
        Technology { r: 3.0, u_rt: 0.021, d_rt: 0.007, rho_ret: 1.0 }
    }
}

impl Technology {
    /// A as rows = resources (S, U, D), columns = services (B, S, R).
    pub fn matrix(&self) -> [[f64; 3]; 3] {
        [[0.0, 1.0, 0.0], [0.0, self.u_rt, self.rho_ret], [self.r, self.d_rt, 0.0]]
    }

    /// q = A^T p.
    pub fn service_prices(&self, p: [f64; 3]) -> [f64; 3] {
        let a = self.matrix();
        let mut q = [0.0; 3];
        for (j, qj) in q.iter_mut().enumerate() {
            *qj = (0..3).map(|i| a[i][j] * p[i]).sum();
        }
        q
    }

    /// Resources needed to deliver a service vector: A d.
    pub fn resource_demand(&self, d: [f64; 3]) -> [f64; 3] {
        let a = self.matrix();
        let mut out = [0.0; 3];
        for (i, oi) in out.iter_mut().enumerate() {
            *oi = (0..3).map(|j| a[i][j] * d[j]).sum();
        }
        out
    }

    /// The fixed-point form: every coefficient rounded to whole parts per million.
    pub fn to_ppm(&self) -> TechnologyPpm {
        let f = |x: f64| libm::round(x * PPM as f64) as i64;
        TechnologyPpm { r: f(self.r), u_rt: f(self.u_rt), d_rt: f(self.d_rt), rho_ret: f(self.rho_ret) }
    }
}

/// A with coefficients in parts per million (integers), for posted prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TechnologyPpm {
    pub r: i64,
    pub u_rt: i64,
    pub d_rt: i64,
    pub rho_ret: i64,
}

impl Default for TechnologyPpm {
    fn default() -> Self {
        TechnologyPpm { r: 3 * PPM, u_rt: 21_000, d_rt: 7_000, rho_ret: PPM }
    }
}

impl TechnologyPpm {
    pub fn to_f64(&self) -> Technology {
        let f = |x: i64| x as f64 / PPM as f64;
        Technology { r: f(self.r), u_rt: f(self.u_rt), d_rt: f(self.d_rt), rho_ret: f(self.rho_ret) }
    }

    /// q = A^T p on nano-credit prices. Each service price is computed exactly in
    /// nano x ppm and rounded half up to a whole nano-credit once (the only rounding; posted
    /// service prices are then exact integers every settlement multiplies by). `None` on overflow.
    pub fn service_prices(&self, p: [i64; 3]) -> Option<[i64; 3]> {
        let m = |coef: i64, price: i64| (coef as i128).checked_mul(price as i128);
        let q_b = m(self.r, p[RES_D])?;
        let q_s = (PPM as i128 * p[RES_S] as i128)
            .checked_add(m(self.u_rt, p[RES_U])?)?
            .checked_add(m(self.d_rt, p[RES_D])?)?;
        let q_r = m(self.rho_ret, p[RES_U])?;
        let round = |x: i128| -> Option<i64> { i64::try_from((x + PPM as i128 / 2).div_euclid(PPM as i128)).ok() };
        Some([round(q_b)?, round(q_s)?, round(q_r)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_is_a_transpose_p() {
        let t = Technology::default();
        let q = t.service_prices([1.0, 2.0, 0.5]);
        assert!((q[SVC_B] - 1.5).abs() < 1e-12, "q_B = R p_D");
        assert!((q[SVC_S] - (1.0 + 0.021 * 2.0 + 0.007 * 0.5)).abs() < 1e-12);
        assert!((q[SVC_R] - 2.0).abs() < 1e-12, "q_R = rho p_U");
    }

    #[test]
    fn payments_in_equal_payments_out_by_construction() {
        // d . q == (A d) . p for any d and p.
        let t = Technology::default();
        let (p, d) = ([1.0, 3.0, 0.7], [2.0, 10.0, 0.5]);
        let q = t.service_prices(p);
        let lhs: f64 = (0..3).map(|j| d[j] * q[j]).sum();
        let ad = t.resource_demand(d);
        let rhs: f64 = (0..3).map(|i| ad[i] * p[i]).sum();
        assert!((lhs - rhs).abs() < 1e-12);
    }

    #[test]
    fn fixed_point_matches_float_to_a_nano() {
        let t = TechnologyPpm::default();
        let p = [NANO_PER_CREDIT, 2 * NANO_PER_CREDIT, NANO_PER_CREDIT / 2];
        let q = t.service_prices(p).unwrap();
        assert_eq!(q, [1_500_000_000, 1_045_500_000, 2_000_000_000]);
        assert_eq!(t.to_f64().to_ppm(), t);
        let other = Technology { r: 2.5, u_rt: 0.0305, d_rt: 0.0000014, rho_ret: 1.5 };
        assert_eq!(other.to_ppm(), TechnologyPpm { r: 2_500_000, u_rt: 30_500, d_rt: 1, rho_ret: 1_500_000 });
        // And back, for a technology other than the default.
        assert_eq!(other.to_ppm().to_f64(), Technology { r: 2.5, u_rt: 0.0305, d_rt: 0.000001, rho_ret: 1.5 });
        assert!(t.service_prices([i64::MAX, i64::MAX, i64::MAX]).is_none(), "overflow is reported, not wrapped");
        // Rounded half up to a whole nano-credit: p_U 500 nano above 1 credit adds
        // 0.021 x 500 = 10.5 nano to q_S, posted as 11; 24 nano adds 0.504, posted as 1.
        let q = t.service_prices([NANO_PER_CREDIT, NANO_PER_CREDIT + 500, NANO_PER_CREDIT]).unwrap();
        assert_eq!(q, [3_000_000_000, 1_028_000_011, 1_000_000_500]);
        let q = t.service_prices([NANO_PER_CREDIT, NANO_PER_CREDIT + 24, NANO_PER_CREDIT]).unwrap();
        assert_eq!(q[SVC_S], 1_028_000_001);
    }
}
