//! Ratio constraints (seed 003, eq. 4) and the sliders' "thick lines" (Figure 1).
//!
//! r_XY = sigma_slack x d_X / d_Y from the system-wide resource demand d: a peer's supply of X is
//! only counted up to r_XY times its supply of every other resource Y. Moving slider X beyond
//! the end of its thick line no longer changes the peer's counted supply, hence its capacity.
//!
//! These are quantities, not money: `f64` with plain arithmetic (deterministic everywhere).

use serde::Serialize;

/// Design default of spec/resources.md.
pub const DEFAULT_SLACK: f64 = 4.0;

/// `r[x][y] = slack x d_x / d_y`. With a zero or invalid demand component the constraints
/// involving it are switched off (infinite ratio): nothing is known about that resource yet.
pub fn ratio_limits(demand: [f64; 3], slack: f64) -> [[f64; 3]; 3] {
    let mut r = [[f64::INFINITY; 3]; 3];
    for x in 0..3 {
        for y in 0..3 {
            let (dx, dy) = (demand[x], demand[y]);
            if x != y && dx.is_finite() && dy.is_finite() && dx > 0.0 && dy > 0.0 && slack > 0.0 {
                r[x][y] = slack * dx / dy;
            }
        }
    }
    r
}

/// The largest supply of X the constraints allow given the other sliders: min_{Y != X} r_XY S_Y.
fn limit(caps: [f64; 3], r: &[[f64; 3]; 3], x: usize) -> f64 {
    (0..3).filter(|&y| y != x).map(|y| r[x][y] * caps[y].max(0.0)).fold(f64::INFINITY, f64::min)
}

/// Counted supply S~_X = min(S_X, min_{Y != X} r_XY S_Y).
pub fn counted_supply(caps: [f64; 3], r: &[[f64; 3]; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (x, o) in out.iter_mut().enumerate() {
        *o = caps[x].max(0.0).min(limit(caps, r, x));
    }
    out
}

/// Where slider X stops mattering. Raising S_X helps while either S~_X itself grows
/// (S_X < min_Y r_XY S_Y) or it lifts the limit of another resource Y that is bound by X
/// (r_YX S_X < min(S_Y, r_YZ S_Z)). The thick line is [0, end]; `f64::INFINITY` when no
/// constraint is active (e.g. no demand observed yet).
pub fn thick_line_end(caps: [f64; 3], r: &[[f64; 3]; 3], x: usize) -> f64 {
    let mut end = limit(caps, r, x);
    for y in (0..3).filter(|&y| y != x) {
        let z = 3 - x - y;
        let bound_without_x = caps[y].max(0.0).min(r[y][z] * caps[z].max(0.0));
        if r[y][x].is_finite() && r[y][x] > 0.0 {
            end = end.max(bound_without_x / r[y][x]);
        }
    }
    end
}

/// All three thick-line ends and the counted supply, as the slider page needs them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SliderView {
    pub caps: [f64; 3],
    pub counted: [f64; 3],
    /// End of each slider's effective (thick) region; `None` = the whole slider.
    pub thick_end: [Option<f64>; 3],
}

pub fn slider_view(caps: [f64; 3], r: &[[f64; 3]; 3]) -> SliderView {
    let mut thick_end = [None; 3];
    for (x, t) in thick_end.iter_mut().enumerate() {
        let e = thick_line_end(caps, r, x);
        *t = e.is_finite().then_some(e);
    }
    SliderView { caps, counted: counted_supply(caps, r), thick_end }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn a_zero_demand_switches_off_every_constraint_it_is_part_of() {
        // d = (0, 1, 2): nothing is known about space yet, U and D constrain each other.
        let r = ratio_limits([0.0, 1.0, 2.0], 4.0);
        assert_eq!(r, [[INF, INF, INF], [INF, INF, 2.0], [INF, 8.0, INF]]);
        // A zero of either sign: -0 must not turn into a ratio of 0 or of -infinity (which would
        // count a negative or no supply).
        assert_eq!(ratio_limits([-0.0, 1.0, 2.0], 4.0), r);
        assert_eq!(counted_supply([5.0, 10.0, 100.0], &r), [5.0, 10.0, 80.0]);
        // No slack (or a negative one) is no constraint, not a limit of zero on every supply.
        assert_eq!(ratio_limits([1.0, 2.0, 4.0], 0.0), [[INF; 3]; 3]);
        assert_eq!(ratio_limits([1.0, 2.0, 4.0], -1.0), [[INF; 3]; 3]);
    }

    #[test]
    fn more_space_matters_as_long_as_it_lifts_the_limit_of_the_upload_it_binds() {
        // Upload counts up to r_US = 2 x space, space up to r_SU = 0.25 x upload. With 100 GB/day
        // of upload, space's own limit is 25 GB, but space keeps lifting upload's limit until
        // 2 x S = 100, so its thick line ends at 50.
        let r = [[INF, 0.25, INF], [2.0, INF, INF], [INF, INF, INF]];
        let caps = [10.0, 100.0, 100.0];
        assert_eq!(counted_supply(caps, &r), [10.0, 20.0, 100.0]);
        assert_eq!(thick_line_end(caps, &r, 0), 50.0);
        assert_eq!(counted_supply([50.0, 100.0, 100.0], &r), [25.0, 100.0, 100.0]);
    }

    #[test]
    fn a_resource_held_at_zero_whatever_x_does_not_stretch_xs_thick_line() {
        // r_US = 0: upload counts nothing whatever the space, so raising space never lifts
        // upload's limit; space's own limit is r_SU x S_U = 2 x 10 = 20.
        let r = [[INF, 2.0, INF], [0.0, INF, INF], [INF, INF, INF]];
        let caps = [5.0, 10.0, 10.0];
        assert_eq!(counted_supply(caps, &r), [5.0, 0.0, 10.0]);
        assert_eq!(thick_line_end(caps, &r, 0), 20.0);
    }
}
