//! Erasure coding arithmetic (seed 003, section 2.2): a file cut into k fragments and coded into
//! n, any k of which rebuild it. With independent holders online with probabilities a_1..a_n the
//! number of online holders is Poisson-binomial and the file is unavailable when fewer than k are
//! online. Plain replication is k = 1.
//!
//! Computed by the exact O(n^2) dynamic programme over "how many holders are online" (no
//! binomial coefficients, no pow: identical on every machine and stable for large n).

use serde::Serialize;

/// Largest n [`min_n`] searches (a file is never spread over more fragments than this).
pub const MAX_FRAGMENTS: u32 = 4096;

/// Probability that fewer than `k` of the holders (online with the given probabilities) are
/// online: the file's unavailability. `k = 0` is never unavailable; `k > n` always is.
pub fn unavailability(availabilities: &[f64], k: u32) -> f64 {
    let k = k as usize;
    if k == 0 {
        return 0.0;
    }
    if k > availabilities.len() {
        return 1.0;
    }
    // dist[j] = P(exactly j online) for j < k; mass at >= k is not needed.
    let mut dist = vec![0.0f64; k];
    dist[0] = 1.0;
    for &a in availabilities {
        let a = a.clamp(0.0, 1.0);
        for j in (0..k).rev() {
            let stay = dist[j] * (1.0 - a);
            let from_below = if j > 0 { dist[j - 1] * a } else { 0.0 };
            dist[j] = stay + from_below;
        }
    }
    dist.iter().sum::<f64>().clamp(0.0, 1.0)
}

/// The equal-availability case: sum_{i<k} C(n,i) a^i (1-a)^(n-i).
pub fn unavailability_equal(a: f64, k: u32, n: u32) -> f64 {
    unavailability(&vec![a; n as usize], k)
}

/// Smallest n >= k whose file availability (1 - unavailability) reaches `target`, with every
/// holder at availability `a`. `None` if no n <= [`MAX_FRAGMENTS`] does (or the inputs are
/// not probabilities).
pub fn min_n(a: f64, k: u32, target: f64) -> Option<u32> {
    if !valid_probability(a) || !valid_probability(target) || k == 0 || k > MAX_FRAGMENTS {
        return None;
    }
    let allowed = allowed_unavailability(target);
    // Incremental DP: add one holder at a time and test; O(n k) overall.
    let k_us = k as usize;
    let mut dist = vec![0.0f64; k_us];
    dist[0] = 1.0;
    for n in 1..=MAX_FRAGMENTS {
        for j in (0..k_us).rev() {
            let from_below = if j > 0 { dist[j - 1] * a } else { 0.0 };
            dist[j] = dist[j] * (1.0 - a) + from_below;
        }
        if n >= k && dist.iter().sum::<f64>() <= allowed {
            return Some(n);
        }
    }
    None
}

/// Heterogeneous holders: the candidates in allocation order (the server takes a prefix), the
/// smallest n such that the first n of them reach `target`. `None` if all of them do not.
pub fn min_n_heterogeneous(candidates: &[f64], k: u32, target: f64) -> Option<u32> {
    if !valid_probability(target) || k == 0 || candidates.iter().any(|a| !valid_probability(*a)) {
        return None;
    }
    let allowed = allowed_unavailability(target);
    (k as usize..=candidates.len())
        .find(|&n| candidates.get(..n).is_some_and(|c| unavailability(c, k) <= allowed))
        .map(|n| n as u32)
}

/// 1 - target with a relative tolerance of 1e-9, so that a target met exactly (0.1^5 = 1e-5
/// for 99.999%) is not missed by the last bit of rounding.
fn allowed_unavailability(target: f64) -> f64 {
    (1.0 - target) * (1.0 + 1e-9)
}

fn valid_probability(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

/// What `peerex resources min-n --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinNReport {
    pub availability: f64,
    pub k: u32,
    pub target: f64,
    pub n: u32,
    pub replication_factor: f64,
    pub unavailability: f64,
    /// Plain replication (k = 1) for the same availability and target, for comparison.
    pub plain_replicas: Option<u32>,
}

/// [`min_n`] with the details.
pub fn min_n_report(a: f64, k: u32, target: f64) -> Option<MinNReport> {
    let n = min_n(a, k, target)?;
    Some(MinNReport {
        availability: a,
        k,
        target,
        n,
        replication_factor: n as f64 / k as f64,
        unavailability: unavailability_equal(a, k, n),
        plain_replicas: min_n(a, 1, target),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_agrees_with_the_dp() {
        // n = 4, k = 2, a = 0.5: P(0 or 1 online) = (1 + 4) / 16.
        assert!((unavailability_equal(0.5, 2, 4) - 5.0 / 16.0).abs() < 1e-15);
        assert_eq!(unavailability(&[0.9, 0.9], 0), 0.0);
        assert_eq!(unavailability(&[0.9], 2), 1.0);
        // k = n: every holder must be online, so the file is unavailable unless all are.
        assert_eq!(unavailability(&[0.5, 0.5], 2), 0.75);
        assert_eq!(unavailability(&[0.5, 0.5], 3), 1.0, "k > n: never available");
    }

    #[test]
    fn bad_inputs_give_none() {
        assert_eq!(min_n(1.5, 1, 0.9), None);
        assert_eq!(min_n(0.5, 0, 0.9), None);
        assert_eq!(min_n(f64::NAN, 1, 0.9), None);
        assert_eq!(min_n(0.0, 1, 0.9), None, "never-online holders reach no target");
        // The same for the heterogeneous search: a target outside [0, 1] or k = 0 is no
        // request (a target of -0.5 would otherwise be met by any k holders, k = 0 by none).
        assert_eq!(min_n_heterogeneous(&[0.9, 0.9], 1, -0.5), None);
        assert_eq!(min_n_heterogeneous(&[0.9, 0.9], 0, 0.9), None);
        assert_eq!(min_n_heterogeneous(&[0.9, 1.5], 1, 0.9), None);
        assert_eq!(min_n_heterogeneous(&[0.9, 0.9], 1, 0.9), Some(1));
    }

    #[test]
    fn the_min_n_report_of_two_fragments_at_half_availability() {
        // k = 2, a = 0.5, 99%: P(fewer than 2 of n online) = (1 + n) / 2^n is 11/1024 > 1% at
        // n = 10 and 12/2048 at n = 11. Plain replication needs 0.5^7 <= 1%: 7 copies.
        let r = min_n_report(0.5, 2, 0.99).unwrap();
        assert_eq!((r.n, r.replication_factor, r.unavailability, r.plain_replicas), (11, 5.5, 12.0 / 2048.0, Some(7)));
        assert_eq!(min_n_report(0.5, 0, 0.99), None);
    }

    #[test]
    fn the_largest_k_is_searched_and_a_larger_one_refused() {
        // Always-online holders: n = k, up to k = MAX_FRAGMENTS itself.
        assert_eq!(min_n(1.0, MAX_FRAGMENTS, 0.99999), Some(MAX_FRAGMENTS));
        assert_eq!(min_n(1.0, MAX_FRAGMENTS + 1, 0.99999), None);
    }
}
