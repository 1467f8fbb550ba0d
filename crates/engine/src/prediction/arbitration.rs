//! The 1/prior-with-midpoint reward of Freeman, Lahaie & Pennock (seed 004, eqs. 1-3 and 7).
//! Pure arithmetic on f64 (+, -, *, / only: IEEE-exact and therefore the same everywhere); the
//! rewards are floored to the micro-credit by the caller's budget step.
//!
//! For arbiter i with reliability (a_i, c_i), peer j and prior mu (the closing price):
//!   Pr[X=1 | x_i=1] = a_i mu / (a_i mu + c_i (1-mu)),  Pr[X=1 | x_i=0] = (1-a_i) mu / ((1-a_i) mu + (1-c_i)(1-mu))
//!   mu1_i = c_j Pr[X=0 | x_i=1] + a_j Pr[X=1 | x_i=1]  (eq. 7),  mu0_i likewise given x_i = 0
//!   mu1 = min_i mu1_i, mu0 = max_i mu0_i, delta = mu1 - mu0, mid = (mu1 + mu0)/2
//!   k = max(k_floor, max_i 2|n_i| / (m delta))
//!   reward_i = k mid if both reported 0, k (1 - mid) if both reported 1, else 0.
//! If delta <= EPSILON (or any quantity is not a finite number) the market is ambiguous: no
//! rewards at all, nothing divided by delta, nobody charged.

use serde::Serialize;

/// Smallest delta for which rewards are paid. Below it k = 2|n|/(m delta) explodes and the
/// arbiters' signals barely say anything about each other.
pub const EPSILON: f64 = 0.01;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arbiter {
    /// Reliability: Pr[report 1 | mostly 1], Pr[report 1 | mostly 0].
    pub a: f64,
    pub c: f64,
    /// Net position in shares (YES minus NO); only |n| matters.
    pub position: f64,
    pub report: bool,
    /// Index of the peer in the same slice.
    pub peer: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rewards {
    pub mu: f64,
    pub mu1: f64,
    pub mu0: f64,
    pub delta: f64,
    pub midpoint: f64,
    pub k: f64,
    /// False when delta <= EPSILON: no rewards.
    pub paid: bool,
    /// Credits owed to each arbiter (same order as the input).
    pub owed: Vec<f64>,
}

/// Pr[X = 1 | signal], or None when the denominator vanishes.
fn posterior(likelihood_one: f64, likelihood_zero: f64, mu: f64) -> Option<f64> {
    let num = likelihood_one * mu;
    let den = num + likelihood_zero * (1.0 - mu);
    if den > 0.0 && den.is_finite() {
        Some(num / den)
    } else {
        None
    }
}

/// (mu1_i, mu0_i) of eq. 7 for arbiter `me` with peer `peer`.
pub fn update_probabilities(me: &Arbiter, peer: &Arbiter, mu: f64) -> Option<(f64, f64)> {
    let one = posterior(me.a, me.c, mu)?;
    let zero = posterior(1.0 - me.a, 1.0 - me.c, mu)?;
    let mu1 = peer.c * (1.0 - one) + peer.a * one;
    let mu0 = peer.c * (1.0 - zero) + peer.a * zero;
    Some((mu1, mu0))
}

/// Computes the rewards of every arbiter. `k_floor` in credits.
pub fn compute(mu: f64, arbiters: &[Arbiter], k_floor: f64) -> Rewards {
    compute_robust(mu, &[mu], arbiters, k_floor)
}

/// As [`compute`], with mu1 the minimum and mu0 the maximum of eq. 7 over every prior in
/// `priors` (the `robust_prior` option passes the closing price and 1/2): truthful reporting is
/// then a best response whichever of those priors (or any between them: eq. 7 is monotone in
/// the prior) the arbiters actually hold. `mu` is the one reported.
pub fn compute_robust(mu: f64, priors: &[f64], arbiters: &[Arbiter], k_floor: f64) -> Rewards {
    let m = arbiters.len();
    let ambiguous = |mu1: f64, mu0: f64| Rewards {
        mu,
        mu1,
        mu0,
        delta: mu1 - mu0,
        midpoint: (mu1 + mu0) / 2.0,
        k: 0.0,
        paid: false,
        owed: vec![0.0; m],
    };
    if m < 2 || priors.is_empty() || priors.iter().any(|p| !(*p > 0.0 && *p < 1.0)) {
        return ambiguous(0.0, 0.0);
    }
    let mut mu1 = f64::INFINITY;
    let mut mu0 = f64::NEG_INFINITY;
    for prior in priors {
        for me in arbiters {
            let Some(peer) = arbiters.get(me.peer) else { return ambiguous(0.0, 0.0) };
            let Some((m1, m0)) = update_probabilities(me, peer, *prior) else { return ambiguous(0.0, 0.0) };
            mu1 = mu1.min(m1);
            mu0 = mu0.max(m0);
        }
    }
    let delta = mu1 - mu0;
    if !delta.is_finite() || delta <= EPSILON {
        return ambiguous(mu1, mu0);
    }
    let midpoint = (mu1 + mu0) / 2.0;
    let stake = arbiters.iter().map(|a| a.position.abs()).fold(0.0f64, f64::max);
    let k = (2.0 * stake / (m as f64 * delta)).max(k_floor);
    if !k.is_finite() {
        return ambiguous(mu1, mu0);
    }
    let owed = arbiters
        .iter()
        .map(|me| {
            let peer_report = arbiters.get(me.peer).map(|p| p.report);
            match (me.report, peer_report) {
                (false, Some(false)) => k * midpoint,
                (true, Some(true)) => k * (1.0 - midpoint),
                _ => 0.0,
            }
        })
        .collect();
    Rewards { mu, mu1, mu0, delta, midpoint, k, paid: true, owed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(report: bool) -> Rewards {
        let mu = libm::exp(1.0) / (1.0 + libm::exp(1.0)); // p_10(10)
        let arbiters = [
            Arbiter { a: 0.9, c: 0.2, position: 10.0, report, peer: 1 },
            Arbiter { a: 0.8, c: 0.1, position: 0.0, report, peer: 0 },
        ];
        compute(mu, &arbiters, 1.0)
    }

    fn r4(x: f64) -> f64 {
        libm::round(x * 1e4) / 1e4
    }

    #[test]
    fn seed_004_reference_case() {
        let r = reference(true);
        assert_eq!((r4(r.delta), r4(r.midpoint), r4(r.k)), (0.2835, 0.6054, 35.2745));
        assert_eq!(r.owed.iter().map(|x| r4(*x)).collect::<Vec<_>>(), vec![13.9210, 13.9210]);
        let r = reference(false);
        assert_eq!(r.owed.iter().map(|x| r4(*x)).collect::<Vec<_>>(), vec![21.3535, 21.3535]);
    }

    #[test]
    fn disagreement_pays_nothing_and_the_floor_applies() {
        let mu = 0.5;
        let arbiters = [
            Arbiter { a: 0.8, c: 0.2, position: 0.0, report: true, peer: 1 },
            Arbiter { a: 0.8, c: 0.2, position: 0.0, report: false, peer: 0 },
        ];
        let r = compute(mu, &arbiters, 2.0);
        assert!(r.paid);
        assert_eq!(r.k, 2.0);
        assert_eq!(r.owed, vec![0.0, 0.0]);
    }

    #[test]
    fn uninformative_arbiters_are_ambiguous() {
        let arbiters = [
            Arbiter { a: 0.5, c: 0.5, position: 3.0, report: true, peer: 1 },
            Arbiter { a: 0.5, c: 0.5, position: 0.0, report: true, peer: 0 },
        ];
        let r = compute(0.7, &arbiters, 1.0);
        assert!(!r.paid);
        assert!(r.delta.abs() < 1e-12);
        assert_eq!(r.owed, vec![0.0, 0.0]);
        // A price of exactly 1 (far from the origin) is ambiguous too, not a division by zero.
        assert!(!compute(1.0, &arbiters, 1.0).paid);
    }

    #[test]
    fn an_arbiter_who_never_reports_one_makes_the_market_ambiguous() {
        // a = c = 0: Pr[x_i = 1] is 0 whatever happens, so Pr[X = 1 | x_i = 1] is 0/0.
        assert_eq!(posterior(0.0, 0.0, 0.5), None);
        let arbiters = [
            Arbiter { a: 0.0, c: 0.0, position: 1.0, report: false, peer: 1 },
            Arbiter { a: 0.8, c: 0.2, position: 0.0, report: false, peer: 0 },
        ];
        let r = compute(0.5, &arbiters, 1.0);
        assert!(!r.paid);
        assert_eq!((r.mu1, r.mu0, r.owed.clone()), (0.0, 0.0, vec![0.0, 0.0]), "nothing computed from a 0/0");
    }

    #[test]
    fn uninformative_arbiters_are_ambiguous_and_the_midpoint_is_the_mean_of_the_posteriors() {
        // a = c = 1/2: a report says nothing, so the peer reports 1 with probability 1/2 whatever
        // one saw: mu1 = mu0 = 1/2 (delta 0).
        let arbiters = [
            Arbiter { a: 0.5, c: 0.5, position: 0.0, report: true, peer: 1 },
            Arbiter { a: 0.5, c: 0.5, position: 0.0, report: true, peer: 0 },
        ];
        let r = compute_robust(0.3, &[0.3], &arbiters, 1.0);
        assert!(!r.paid);
        assert!((r.mu1 - 0.5).abs() < 1e-12 && (r.mu0 - 0.5).abs() < 1e-12, "{r:?}");
        assert!((r.midpoint - 0.5).abs() < 1e-12, "{r:?}");
        assert_eq!((r.k, r.owed.as_slice()), (0.0, &[0.0, 0.0][..]));
    }

    #[test]
    fn without_a_prior_strictly_inside_0_and_1_it_is_ambiguous() {
        let arbiters = [
            Arbiter { a: 0.9, c: 0.2, position: 0.0, report: true, peer: 1 },
            Arbiter { a: 0.8, c: 0.1, position: 0.0, report: true, peer: 0 },
        ];
        for priors in [&[][..], &[1.0], &[0.5, 0.0]] {
            let r = compute_robust(0.5, priors, &arbiters, 1.0);
            assert_eq!((r.paid, r.mu1, r.mu0, r.delta), (false, 0.0, 0.0, 0.0), "{priors:?}");
        }
    }

    #[test]
    fn one_arbiter_alone_is_ambiguous() {
        let one = [Arbiter { a: 0.9, c: 0.2, position: 0.0, report: true, peer: 0 }];
        let r = compute_robust(0.5, &[0.5], &one, 1.0);
        assert_eq!((r.paid, r.mu1, r.mu0), (false, 0.0, 0.0));
    }
}
