//! Moving prices toward the buffer equilibrium (seed 003, section 5; spec/resources.md).
//!
//! The root form g_X(p) = S_X/S_S - d_X/d_S = 0 for X in {U, D} (p_S = 1 is the numeraire), the
//! scale-free imbalance e_X = (S_X/S_S)/(d_X/d_S) - 1, the paper's raw per-coordinate secant
//! update (Definition 4), the safeguarded update with rules 1-7 of the spec in order, epochs of E
//! days, and an optional 2x2 Broyden variant.
//!
//! This is numerical analysis, so it is `f64`; the results are stored as fixed-point nano-credit
//! prices ([`to_nano`]) and nothing here touches money. Only +, -, x, / and comparisons are used
//! (correctly rounded in IEEE 754), so the same inputs give the same prices on every machine.

use serde::Serialize;

use super::matrix::{NANO_PER_CREDIT, RES_D, RES_S, RES_U};

/// The two updated coordinates: index 0 is U, 1 is D.
pub const COORDS: [usize; 2] = [RES_U, RES_D];

/// g and e of one observation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Imbalance {
    pub g: [f64; 2],
    pub e: [f64; 2],
}

impl Imbalance {
    pub fn max_abs_e(&self) -> f64 {
        self.e[0].abs().max(self.e[1].abs())
    }
}

/// g and e from aggregate (counted maximum) supply and aggregate resource demand. `None` when
/// the observation is invalid: a zero, negative or non-finite supply or demand component.
pub fn imbalance(supply: [f64; 3], demand: [f64; 3]) -> Option<Imbalance> {
    if supply.iter().chain(demand.iter()).any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    let mut g = [0.0; 2];
    let mut e = [0.0; 2];
    for (i, &x) in COORDS.iter().enumerate() {
        let s_ratio = supply[x] / supply[RES_S];
        let d_ratio = demand[x] / demand[RES_S];
        g[i] = s_ratio - d_ratio;
        e[i] = s_ratio / d_ratio - 1.0;
    }
    Some(Imbalance { g, e })
}

/// Definition 4 exactly as the paper writes it, one coordinate:
/// p(t+1) = p(t) - (p(t) - p(t-1)) / (g(t) - g(t-1)) x g(t). No guard at all: the result may be
/// negative, zero, infinite or NaN (that is the point of having it).
pub fn raw_secant(p_t: f64, p_prev: f64, g_t: f64, g_prev: f64) -> f64 {
    p_t - (p_t - p_prev) / (g_t - g_prev) * g_t
}

/// Tunables of the safeguarded update (design values in `Default`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Safeguards {
    /// Rule 1: |e| at or below this keeps the price.
    pub deadband: f64,
    /// Rule 6: a change of e at or below this is noise, not a slope.
    pub noise: f64,
    /// Largest factor a price moves by in one update.
    pub phi: f64,
    pub min_price: f64,
    pub max_price: f64,
}

impl Default for Safeguards {
    fn default() -> Self {
        Safeguards { deadband: 1e-3, noise: 5e-4, phi: 1.25, min_price: 1e-3, max_price: 1e3 }
    }
}

/// One coordinate's observation at a price.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Point {
    pub p: f64,
    pub g: f64,
    pub e: f64,
}

/// What is known from the previous observation of a coordinate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Previous {
    #[default]
    None,
    /// Observed, but with zero supply or demand somewhere.
    Invalid,
    Valid(Point),
}

/// The current observation of a coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Current {
    /// Every supply and demand component positive and finite.
    Valid { g: f64, e: f64 },
    /// Demand is fine but some supply is zero: e is still meaningful at the extremes
    /// (+inf when nobody supplies space, -1 when nobody supplies X), enough for a step.
    Invalid { e: f64 },
    /// No usable demand (zero or non-finite): nothing to step on.
    NoData,
}

/// e for an observation where only demand must be positive: may be +inf or -1.
pub fn extended_e(supply: [f64; 3], demand: [f64; 3]) -> Option<[f64; 2]> {
    if demand.iter().any(|v| !v.is_finite() || *v <= 0.0) || supply.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return None;
    }
    let mut e = [0.0; 2];
    for (i, &x) in COORDS.iter().enumerate() {
        let d_ratio = demand[x] / demand[RES_S];
        e[i] = if supply[RES_S] > 0.0 {
            supply[x] / supply[RES_S] / d_ratio - 1.0
        } else if supply[x] > 0.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    Some(e)
}

/// Which rule decided a coordinate's step (spec order; `NoData` is the design rule 0: without
/// usable demand there is nothing to step on, so the price is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    NoData,
    /// 2, for the current observation: some supply is zero.
    InvalidCurrent,
    /// 1
    Deadband,
    /// 2
    NoPrevious,
    /// 2
    InvalidPrevious,
    /// 3
    PriceUnchanged,
    /// 4
    GUnchanged,
    /// 5
    NonPositiveSlope,
    /// 6
    WithinNoise,
    /// 7
    Secant,
    /// Broyden variant: the 2x2 quasi-Newton step.
    Broyden,
}

/// A coordinate's step: the rule, the unclamped proposal and the price after the clamps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Step {
    pub rule: Rule,
    pub proposed: f64,
    pub price: f64,
    /// The move was limited to [p/phi, p x phi].
    pub step_clamped: bool,
    /// The price was limited to [min_price, max_price].
    pub range_clamped: bool,
}

/// p / (1 + e): a unit-elasticity guess; if 1 + e <= 0 (nobody supplies X) x phi; e = +inf
/// (nobody supplies space) gives 0, which the clamp turns into p / phi.
pub fn elasticity_step(p: f64, e: f64, phi: f64) -> f64 {
    if e.is_nan() {
        p
    } else if 1.0 + e <= 0.0 {
        p * phi
    } else {
        p / (1.0 + e)
    }
}

/// Clamps a proposal around the current price `p` (> 0). A non-finite proposal keeps `p`.
pub fn clamp(p: f64, proposed: f64, s: &Safeguards) -> (f64, bool, bool) {
    let mut x = if proposed.is_finite() { proposed } else { p };
    let (lo, hi) = (p / s.phi, p * s.phi);
    let step_clamped = x < lo || x > hi;
    x = x.clamp(lo, hi);
    let range_clamped = x < s.min_price || x > s.max_price;
    x = x.clamp(s.min_price, s.max_price);
    (x, step_clamped, range_clamped)
}

/// The safeguarded step of one coordinate: the first matching rule of 1-7, then the clamps.
/// `p` must be positive and finite (it always is: it came out of a previous clamp).
pub fn safeguarded_step(p: f64, current: Current, previous: Previous, s: &Safeguards) -> Step {
    let (g, e) = match current {
        Current::Valid { g, e } => (g, e),
        Current::Invalid { e } => {
            // Zero supply somewhere: the step the imbalance points to (x phi or / phi at the
            // extremes); NaN (nobody supplies space nor X) keeps the price.
            let proposed = if e.is_nan() { p } else { elasticity_step(p, e, s.phi) };
            let (price, a, b) = clamp(p, proposed, s);
            return Step { rule: Rule::InvalidCurrent, proposed, price, step_clamped: a, range_clamped: b };
        }
        Current::NoData => {
            let (price, a, b) = clamp(p, p, s);
            return Step { rule: Rule::NoData, proposed: p, price, step_clamped: a, range_clamped: b };
        }
    };
    let elastic = elasticity_step(p, e, s.phi);
    let (rule, proposed) = if e.abs() <= s.deadband {
        (Rule::Deadband, p)
    } else {
        match previous {
            Previous::None => (Rule::NoPrevious, elastic),
            Previous::Invalid => (Rule::InvalidPrevious, elastic),
            Previous::Valid(prev) => {
                let dp = p - prev.p;
                let dg = g - prev.g;
                if dp == 0.0 {
                    (Rule::PriceUnchanged, elastic)
                } else if dg == 0.0 {
                    (Rule::GUnchanged, elastic)
                } else if dg / dp <= 0.0 {
                    (Rule::NonPositiveSlope, elastic)
                } else if (e - prev.e).abs() <= s.noise {
                    (Rule::WithinNoise, elastic)
                } else {
                    (Rule::Secant, raw_secant(p, prev.p, g, prev.g))
                }
            }
        }
    };
    let (price, step_clamped, range_clamped) = clamp(p, proposed, s);
    Step { rule, proposed, price, step_clamped, range_clamped }
}

/// The safeguarded per-coordinate updater: remembers the last observation of each coordinate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Updater {
    pub safeguards: Safeguards,
    pub previous: [Previous; 2],
}

/// The outcome of one update.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    pub prices: [f64; 3],
    pub imbalance: Option<Imbalance>,
    pub steps: [Step; 2],
}

impl Updater {
    pub fn new(safeguards: Safeguards) -> Updater {
        Updater { safeguards, previous: [Previous::None; 2] }
    }

    /// One update from an observation (supply and demand measured at prices `p`).
    pub fn update(&mut self, p: [f64; 3], supply: [f64; 3], demand: [f64; 3]) -> Update {
        let imb = imbalance(supply, demand);
        let ext = extended_e(supply, demand);
        let mut prices = [1.0, p[RES_U], p[RES_D]];
        let mut steps =
            [Step { rule: Rule::NoData, proposed: 0.0, price: 0.0, step_clamped: false, range_clamped: false }; 2];
        for (i, &x) in COORDS.iter().enumerate() {
            let current = match (imb, ext) {
                (Some(m), _) => Current::Valid { g: m.g[i], e: m.e[i] },
                (None, Some(e)) => Current::Invalid { e: e[i] },
                (None, None) => Current::NoData,
            };
            let step = safeguarded_step(p[x], current, self.previous[i], &self.safeguards);
            prices[x] = step.price;
            steps[i] = step;
            self.previous[i] = match imb {
                Some(m) => Previous::Valid(Point { p: p[x], g: m.g[i], e: m.e[i] }),
                None => Previous::Invalid,
            };
        }
        Update { prices, imbalance: imb, steps }
    }
}

/// g alone, defined whenever space is supplied and every demand is positive (a resource
/// nobody supplies still has a finite g = -d_X/d_S).
pub fn root_g(supply: [f64; 3], demand: [f64; 3]) -> Option<[f64; 2]> {
    extended_e(supply, demand)?;
    if supply[RES_S] <= 0.0 {
        return None;
    }
    let mut g = [0.0; 2];
    for (i, &x) in COORDS.iter().enumerate() {
        g[i] = supply[x] / supply[RES_S] - demand[x] / demand[RES_S];
    }
    Some(g)
}

/// The paper's raw update: Definition 4 with no safeguard. It needs two points, so the very first
/// step (no previous observation) is the elasticity step (documented design).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawUpdater {
    previous: [Option<Point>; 2],
}

impl RawUpdater {
    /// `None` when g is undefined (nobody supplies space, or no demand): the raw update has no
    /// answer then. Otherwise the raw result, which may be negative, infinite or NaN.
    pub fn update(&mut self, p: [f64; 3], supply: [f64; 3], demand: [f64; 3]) -> Option<[f64; 3]> {
        let g = root_g(supply, demand)?;
        let e = extended_e(supply, demand)?;
        let mut out = [1.0, p[RES_U], p[RES_D]];
        for (i, &x) in COORDS.iter().enumerate() {
            out[x] = match self.previous[i] {
                None => elasticity_step(p[x], e[i], 1.25),
                Some(prev) => raw_secant(p[x], prev.p, g[i], prev.g),
            };
            self.previous[i] = Some(Point { p: p[x], g: g[i], e: e[i] });
        }
        Some(out)
    }
}

/// Users react slowly, so prices are held for epochs of `epoch_days` days and updated from the
/// epoch-end observation (the secant pair is then two epoch ends). With `average` the update
/// uses the mean supply and demand of the epoch's days instead (design option against
/// measurement noise: within an epoch prices do not move, so the mean of E noisy samples is as
/// unbiased as one sample and sqrt(E) times less noisy, as long as users have finished reacting).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct EpochUpdater {
    pub epoch_days: u32,
    pub day_in_epoch: u32,
    pub average: bool,
    pub inner: Updater,
    sums: [[f64; 3]; 2],
}

impl EpochUpdater {
    pub fn new(epoch_days: u32, safeguards: Safeguards) -> EpochUpdater {
        EpochUpdater {
            epoch_days: epoch_days.max(1),
            day_in_epoch: 0,
            average: false,
            inner: Updater::new(safeguards),
            sums: [[0.0; 3]; 2],
        }
    }

    /// The same, averaging each epoch's observations.
    pub fn averaging(epoch_days: u32, safeguards: Safeguards) -> EpochUpdater {
        EpochUpdater { average: true, ..EpochUpdater::new(epoch_days, safeguards) }
    }

    /// Records a day; returns the update at the end of an epoch, `None` on other days.
    pub fn end_of_day(&mut self, p: [f64; 3], supply: [f64; 3], demand: [f64; 3]) -> Option<Update> {
        self.day_in_epoch += 1;
        // A non-finite measurement counts as 0 (an invalid observation), so the stored sums
        // are never NaN.
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        for j in 0..3 {
            self.sums[0][j] += finite(supply[j]);
            self.sums[1][j] += finite(demand[j]);
        }
        if self.day_in_epoch < self.epoch_days {
            return None;
        }
        let n = f64::from(self.day_in_epoch);
        let (s, d) =
            if self.average { (self.sums[0].map(|v| v / n), self.sums[1].map(|v| v / n)) } else { (supply, demand) };
        self.day_in_epoch = 0;
        self.sums = [[0.0; 3]; 2];
        Some(self.inner.update(p, s, d))
    }
}

/// The 2x2 Broyden ("good") variant: a full Jacobian estimate of g in (p_U, p_D), updated by
/// rank one each step, p - B^-1 g; any failure (no estimate yet, singular B, non-finite step)
/// falls back to the safeguarded per-coordinate step. The clamps and the deadband apply as usual.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BroydenUpdater {
    pub fallback: Updater,
    jacobian: Option<[[f64; 2]; 2]>,
    last: Option<([f64; 2], [f64; 2])>,
}

impl BroydenUpdater {
    pub fn new(safeguards: Safeguards) -> BroydenUpdater {
        BroydenUpdater { fallback: Updater::new(safeguards), jacobian: None, last: None }
    }

    pub fn update(&mut self, p: [f64; 3], supply: [f64; 3], demand: [f64; 3]) -> Update {
        let x = [p[RES_U], p[RES_D]];
        let imb = imbalance(supply, demand);
        let last = self.last;
        let mut fallback = self.fallback.update(p, supply, demand);
        let Some(m) = imb else {
            self.last = None;
            return fallback;
        };
        if let Some((x0, g0)) = last {
            let dx = [x[0] - x0[0], x[1] - x0[1]];
            let dg = [m.g[0] - g0[0], m.g[1] - g0[1]];
            let dxdx = dx[0] * dx[0] + dx[1] * dx[1];
            if dxdx > 0.0 {
                let b = self.jacobian.unwrap_or_else(|| {
                    // First estimate: the diagonal secant slopes (positive, or a unit guess).
                    let d = |i: usize| {
                        let slope = dg[i] / dx[i];
                        if dx[i] != 0.0 && slope > 0.0 {
                            slope
                        } else {
                            m.g[i].abs().max(1e-9) / x[i]
                        }
                    };
                    [[d(0), 0.0], [0.0, d(1)]]
                });
                let bdx = [b[0][0] * dx[0] + b[0][1] * dx[1], b[1][0] * dx[0] + b[1][1] * dx[1]];
                let mut nb = b;
                for (r, row) in nb.iter_mut().enumerate() {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v += (dg[r] - bdx[r]) * dx[c] / dxdx;
                    }
                }
                if nb.iter().flatten().all(|v| v.is_finite()) {
                    self.jacobian = Some(nb);
                }
            }
        }
        self.last = Some((x, m.g));
        let s = self.fallback.safeguards;
        if m.max_abs_e() <= s.deadband {
            return fallback;
        }
        if let Some(b) = self.jacobian {
            let det = b[0][0] * b[1][1] - b[0][1] * b[1][0];
            if det.is_finite() && det.abs() > 1e-12 {
                let step = [(b[1][1] * m.g[0] - b[0][1] * m.g[1]) / det, (-b[1][0] * m.g[0] + b[0][0] * m.g[1]) / det];
                for (i, &c) in COORDS.iter().enumerate() {
                    let proposed = x[i] - step[i];
                    if proposed.is_finite() && proposed > 0.0 {
                        let (price, a, bb) = clamp(x[i], proposed, &s);
                        fallback.prices[c] = price;
                        fallback.steps[i] =
                            Step { rule: Rule::Broyden, proposed, price, step_clamped: a, range_clamped: bb };
                    }
                }
            }
        }
        fallback
    }
}

/// A price as fixed-point nano-credits per unit (round half away from zero). Non-finite or
/// non-positive input is a bug upstream; it maps to the minimum price rather than to garbage.
pub fn to_nano(price: f64, s: &Safeguards) -> i64 {
    let lo = s.min_price * NANO_PER_CREDIT as f64;
    let hi = s.max_price * NANO_PER_CREDIT as f64;
    let x = price * NANO_PER_CREDIT as f64;
    let x = if x.is_finite() { x.clamp(lo, hi) } else { lo };
    libm::round(x) as i64
}

pub fn from_nano(nano: i64) -> f64 {
    nano as f64 / NANO_PER_CREDIT as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sg() -> Safeguards {
        Safeguards::default()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    /// Supply that gives the imbalance `g` with demand [1, 1, 1] and S_S = 1: then g_X = S_X - 1
    /// (and e_X = g_X).
    fn supply_for(g: [f64; 2]) -> [f64; 3] {
        [1.0, 1.0 + g[0], 1.0 + g[1]]
    }

    #[test]
    fn the_imbalance_is_scale_free_and_its_size_is_the_larger_of_the_two() {
        // S = (2, 3, 1), d = (4, 2, 4): S_U/S_S = 1.5 against d_U/d_S = 0.5, S_D/S_S = 0.5
        // against d_D/d_S = 1.
        let m = imbalance([2.0, 3.0, 1.0], [4.0, 2.0, 4.0]).unwrap();
        assert_eq!(m.g, [1.0, -0.5]);
        assert_eq!(m.e, [2.0, -0.5]);
        assert_eq!(m.max_abs_e(), 2.0);
        // g alone (the raw update's root form) is the same difference, and stays finite when
        // nobody supplies upload: 0 - d_U/d_S = -0.5.
        assert_eq!(root_g([2.0, 3.0, 1.0], [4.0, 2.0, 4.0]), Some([1.0, -0.5]));
        assert_eq!(root_g([2.0, 0.0, 1.0], [4.0, 2.0, 4.0]), Some([-0.5, -0.5]));
        assert_eq!(root_g([0.0, 3.0, 1.0], [4.0, 2.0, 4.0]), None, "no space supplied: no g");
        // e where only demand must be positive: the same e while all is supplied.
        assert_eq!(extended_e([2.0, 3.0, 1.0], [4.0, 2.0, 4.0]), Some([2.0, -0.5]));
        // The same market ten times larger has the same e.
        assert_eq!(imbalance([20.0, 30.0, 10.0], [40.0, 20.0, 40.0]).unwrap().e, m.e);
        let m = Imbalance { g: [0.0; 2], e: [0.25, -0.75] };
        assert_eq!(m.max_abs_e(), 0.75, "a shortage counts as much as a surplus");
    }

    #[test]
    fn with_no_space_supplied_a_resource_nobody_supplies_either_keeps_its_price() {
        // No space and no upload: e_U = 0 / 0, nothing to step on, p_U stays; download is
        // supplied, so e_D = +inf and p_D falls by phi.
        let e = extended_e([0.0, 0.0, 5.0], [1.0, 1.0, 1.0]).unwrap();
        assert!(e[0].is_nan() && e[1] == f64::INFINITY, "{e:?}");
        let up = Updater::new(sg()).update([1.0, 2.0, 2.0], [0.0, 0.0, 5.0], [1.0, 1.0, 1.0]);
        assert_eq!(up.prices, [1.0, 2.0, 1.6]);
        // A space supply of -0 is no space too (not a division by -0 giving -inf and a rise).
        assert_eq!(extended_e([-0.0, 5.0, 5.0], [1.0, 1.0, 1.0]), Some([f64::INFINITY; 2]));
    }

    #[test]
    fn nobody_supplying_a_resource_raises_its_price_by_the_full_factor_phi() {
        // At p_U = 10 nobody supplies upload (e_U = -1): p_U x phi = 12.5 (p_U + phi would be
        // 11.25, inside the step clamp, so only an exact value tells the two apart).
        assert_eq!(elasticity_step(10.0, -1.0, 1.25), 12.5);
        let mut u = Updater::new(sg());
        let up = u.update([1.0, 10.0, 10.0], [5.0, 0.0, 5.0], [1.0, 1.0, 1.0]);
        assert_eq!(up.steps[0].rule, Rule::InvalidCurrent);
        assert_eq!(up.prices[RES_U], 12.5);
        assert!(!up.steps[0].step_clamped);
        // The raw updater's first step is the same unclamped guess.
        let raw = RawUpdater::default().update([1.0, 10.0, 10.0], [5.0, 0.0, 5.0], [1.0, 1.0, 1.0]).unwrap();
        assert_eq!(raw[RES_U], 12.5);
    }

    #[test]
    fn a_negative_or_non_finite_supply_measurement_is_no_data() {
        // Demand is fine, but a supply that cannot be a measurement (negative, NaN, infinite)
        // says nothing: both prices are kept, rule 0. Taken at face value, a supply of -1 upload
        // would read as a shortage (e_U = -2) and raise p_U by phi.
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(extended_e([1.0, bad, 1.0], [1.0, 1.0, 1.0]), None, "{bad}");
            let up = Updater::new(sg()).update([1.0, 2.0, 2.0], [1.0, bad, 1.0], [1.0, 1.0, 1.0]);
            assert_eq!(up.prices, [1.0, 2.0, 2.0], "{bad}");
            assert_eq!([up.steps[0].rule, up.steps[1].rule], [Rule::NoData; 2], "{bad}");
        }
    }

    #[test]
    fn a_price_kept_at_the_edge_of_the_range_is_not_reported_as_clamped() {
        // A price already at the floor or the ceiling that no rule moves was not limited by the
        // range: the flag says "the range changed the price", not "the price is at an end".
        for p in [1e-3, 1e3] {
            let s = safeguarded_step(p, Current::NoData, Previous::None, &sg());
            assert_eq!((s.price, s.step_clamped, s.range_clamped), (p, false, false), "{p}");
            let s = safeguarded_step(p, Current::Valid { g: 0.0, e: 0.0005 }, Previous::None, &sg());
            assert_eq!((s.rule, s.price, s.range_clamped), (Rule::Deadband, p, false), "{p}");
        }
        // A step that lands exactly on p / phi was not limited either: 2.5 / (1 + 0.25) = 2.
        let s = safeguarded_step(2.5, Current::Valid { g: 0.25, e: 0.25 }, Previous::None, &sg());
        assert_eq!((s.price, s.step_clamped), (2.0, false));
        // Just past an end it is.
        let s = safeguarded_step(1e-3, Current::Valid { g: 0.1, e: 0.1 }, Previous::None, &sg());
        assert_eq!((s.price, s.range_clamped), (1e-3, true));
    }

    #[test]
    fn the_raw_updater_steps_by_elasticity_then_by_definition_4_without_any_guard() {
        let mut raw = RawUpdater::default();
        // First observation at p = (1, 2, 2): g = e = (1, 0.25); p / (1 + e) = (1, 1.6).
        let out = raw.update([1.0, 2.0, 2.0], [1.0, 2.0, 1.25], [1.0, 1.0, 1.0]).unwrap();
        assert_eq!(out, [1.0, 1.0, 1.6]);
        // Second at (1, 1, 1.6) with g = (0.5, 0): U's secant 1 - (1 - 2) / (0.5 - 1) x 0.5 = 0,
        // a price of zero (the safeguarded update would stop at 1 / phi); D is at its root and
        // stays.
        let out = raw.update([1.0, 1.0, 1.6], [1.0, 1.5, 1.0], [1.0, 1.0, 1.0]).unwrap();
        assert_eq!(out, [1.0, 0.0, 1.6]);
        // Nobody supplies space: g is undefined and the raw update has no answer.
        assert_eq!(raw.update([1.0, 1.0, 1.6], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]), None);
    }

    /// A linear market with cross effects, g(p) = J (p - p*) with J = [[1, 0.25], [0.5, 2]] and
    /// the equilibrium p* = (1.1, 0.9), each update observed at the previous update's prices.
    #[test]
    fn broyden_finds_the_equilibrium_of_a_linear_market_with_cross_effects() {
        let jac = [[1.0, 0.25], [0.5, 2.0]];
        let star = [1.1, 0.9];
        let g_at = |p: [f64; 3]| {
            let d = [p[RES_U] - star[0], p[RES_D] - star[1]];
            [jac[0][0] * d[0] + jac[0][1] * d[1], jac[1][0] * d[0] + jac[1][1] * d[1]]
        };
        let mut br = BroydenUpdater::new(sg());
        let mut p = [1.0, 1.0, 1.0];
        // Update 1, at (1, 1): g = (-0.075, 0.15), no Jacobian yet, so the elasticity steps
        // 1 / 0.925 and 1 / 1.15. Updates 2 and 3 are Broyden steps p - B^-1 g, B first the
        // diagonal secant slopes of updates 1-2, then corrected by rank one (Broyden's good
        // update B += (dg - B dx) dx^T / dx^T dx); on a linear g the method reaches the root in
        // at most 2n = 4 steps, here at update 4, and the deadband then holds it.
        let want: [([f64; 2], Rule); 6] = [
            ([1.0 / 0.925, 1.0 / 1.15], Rule::NoPrevious),
            ([1.1254545454545455, 0.9112], Rule::Broyden),
            ([1.0992018432705732, 0.8996488110390521], Rule::Broyden),
            ([1.1, 0.9], Rule::Broyden),
            ([1.1, 0.9], Rule::Deadband),
            ([1.1, 0.9], Rule::Deadband),
        ];
        for (n, (prices, rule)) in want.into_iter().enumerate() {
            let up = br.update(p, supply_for(g_at(p)), [1.0, 1.0, 1.0]);
            assert_eq!([up.steps[0].rule, up.steps[1].rule], [rule; 2], "update {}", n + 1);
            assert!(
                close(up.prices[RES_U], prices[0]) && close(up.prices[RES_D], prices[1]),
                "update {}: {:?}",
                n + 1,
                up.prices
            );
            assert_eq!(up.prices[RES_S], 1.0);
            p = up.prices;
        }
        assert!(br.jacobian.is_some());
    }

    #[test]
    fn a_first_jacobian_estimate_trusts_only_slopes_of_the_right_sign() {
        let mut br = BroydenUpdater::new(sg());
        br.update([1.0, 1.0, 1.0], supply_for([0.5, 0.5]), [1.0, 1.0, 1.0]);
        assert_eq!(br.jacobian, None, "one point gives no slope");
        // Both prices halved: g_U fell by 0.375 (slope 0.75), but g_D rose (slope -0.5, noise),
        // so D's diagonal starts at the unit guess |g_D| / p_D = 0.75 / 0.5 = 1.5. The rank-one
        // correction with dx = (-0.5, -0.5) and dg - B dx = (0, 1) then gives row D
        // (0, 1.5) + (1, 1) x (-0.5) / 0.5 = (-1, 0.5).
        let up = br.update([1.0, 0.5, 0.5], supply_for([0.125, 0.75]), [1.0, 1.0, 1.0]);
        assert_eq!(br.jacobian, Some([[0.75, 0.0], [-1.0, 0.5]]));
        // det 0.375: U's step 0.5 - (0.5 x 0.125) / 0.375 = 1/3 is taken (clamped to 0.5 / phi);
        // D's, 0.5 - (0.125 + 0.75 x 0.75) / 0.375 < 0, is not: the per-coordinate rule stays.
        assert_eq!(up.steps[0].rule, Rule::Broyden);
        assert!(close(up.steps[0].proposed, 1.0 / 3.0));
        assert_eq!(up.steps[1].rule, Rule::NonPositiveSlope);
        assert_eq!(up.prices, [1.0, 0.4, 0.4]);
        // A slope of 0 (g_D did not move) is no slope either: D starts at 0.5 / 0.5 = 1, and the
        // correction (0, 0.5) x (-0.5) / 0.5 makes row D (-0.5, 0.5); a 0 there would have left
        // B singular (no step at all).
        let mut br = BroydenUpdater::new(sg());
        br.update([1.0, 1.0, 1.0], supply_for([0.5, 0.5]), [1.0, 1.0, 1.0]);
        br.update([1.0, 0.5, 0.5], supply_for([0.125, 0.5]), [1.0, 1.0, 1.0]);
        assert_eq!(br.jacobian, Some([[0.75, 0.0], [-0.5, 0.5]]));
    }

    #[test]
    fn a_nearly_singular_jacobian_is_not_inverted() {
        // g moved by 5e-8 for a price move of 0.5: slopes of 1e-7, det 1e-14 <= 1e-12. Newton's
        // step g / 1e-7 would be 5e6; the per-coordinate rule stays (here: e moved within the
        // noise, so the elasticity step 0.5 / (1 - 0.5), clamped to 0.5 x phi).
        let mut br = BroydenUpdater::new(sg());
        br.update([1.0, 1.0, 1.0], supply_for([-0.5, -0.5]), [1.0, 1.0, 1.0]);
        let up = br.update([1.0, 0.5, 0.5], supply_for([-0.5 - 5e-8, -0.5 - 5e-8]), [1.0, 1.0, 1.0]);
        let b = br.jacobian.unwrap();
        assert!(b[0][0] * b[1][1] - b[0][1] * b[1][0] < 1e-12);
        assert_eq!([up.steps[0].rule, up.steps[1].rule], [Rule::WithinNoise; 2]);
        assert_eq!(up.prices, [1.0, 0.625, 0.625]);
    }

    #[test]
    fn a_jacobian_determinant_of_exactly_1e_12_counts_as_singular() {
        // The guard is |det| > 1e-12. With B = diag(1, 1e-12) (det exactly 1e-12) and no
        // previous point to update it from, the per-coordinate step stays.
        let mut br = BroydenUpdater::new(sg());
        br.jacobian = Some([[1.0, 0.0], [0.0, 1e-12]]);
        let up = br.update([1.0, 1.0, 1.0], supply_for([-0.1, -0.1]), [1.0, 1.0, 1.0]);
        assert_eq!([up.steps[0].rule, up.steps[1].rule], [Rule::NoPrevious; 2]);
        // Just above the threshold the Broyden step is taken.
        let mut br = BroydenUpdater::new(sg());
        br.jacobian = Some([[1.0, 0.0], [0.0, 2e-12]]);
        let up = br.update([1.0, 1.0, 1.0], supply_for([-0.1, -0.1]), [1.0, 1.0, 1.0]);
        assert_eq!([up.steps[0].rule, up.steps[1].rule], [Rule::Broyden; 2]);
    }

    #[test]
    fn broyden_never_takes_a_step_to_a_price_at_or_below_zero() {
        // g_U = 0.5 p_U has its root at p_U = 0 and g_D = 0.5 p_D + 0.25 at p_D = -0.5: after
        // (1, 1) and (0.5, 0.5) the Broyden step proposes exactly those, and the safeguarded
        // secant step (clamped to 0.5 / phi = 0.4) is kept instead.
        let mut br = BroydenUpdater::new(sg());
        br.update([1.0, 1.0, 1.0], supply_for([0.5, 0.75]), [1.0, 1.0, 1.0]);
        let up = br.update([1.0, 0.5, 0.5], supply_for([0.25, 0.5]), [1.0, 1.0, 1.0]);
        assert_eq!(br.jacobian, Some([[0.5, 0.0], [0.0, 0.5]]));
        assert_eq!([up.steps[0].rule, up.steps[1].rule], [Rule::Secant; 2]);
        assert_eq!([up.steps[0].proposed, up.steps[1].proposed], [0.0, -0.5]);
        assert_eq!(up.prices, [1.0, 0.4, 0.4]);
    }
}
