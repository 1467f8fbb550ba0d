//! How a worker without a job picks an issue: the pluggable rule sets (treatments) of seed 001's
//! study. Each rule sees only what a worker can see on the market: the open unfixed offers it can
//! afford (funder price, base difficulty, time left) and the projects' public health metrics.
//! The true difficulty (the hidden extra day) is never shown.

use peerex_engine::Price;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// An open unfixed offer the worker can afford.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Index of the issue in the simulation's issue list (placement order).
    pub issue: usize,
    pub project: usize,
    /// The funder's (unfixed) price: the worker buys fixed at 1 - this.
    pub funder_price: Price,
    /// The difficulty the issue is labelled with (days of work, before any hidden extra day).
    pub base_difficulty: u32,
    /// Day of the series' maturation (the last day on which work still counts).
    pub maturation_day: u32,
    /// Days of work left before maturation, counting today.
    pub days_left: u32,
}

/// Public health of a project, as a health-metric-aware worker reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Health {
    /// Share of this project's settled contracts won by fixed; `None` before any settled.
    pub fix_rate: Option<f64>,
    pub open_issues: usize,
    /// The study's health metrics: closed / (closed + abandoned), mean days to close, mean age
    /// of open issues; `None` while undefined.
    pub resolution_efficiency: Option<f64>,
    pub time_to_close: Option<f64>,
    pub open_age: Option<f64>,
}

/// A worker's rule for picking an offer.
pub trait WorkerRule: Send + Sync {
    fn name(&self) -> &'static str;
    /// The index in `candidates` of the offer to take, or `None` to stay idle today.
    fn choose(&self, candidates: &[Candidate], health: &[Health], rng: &mut ChaCha8Rng) -> Option<usize>;
}

/// The rule set by name (`--opt rule=...`).
pub fn by_name(name: &str) -> Option<Box<dyn WorkerRule>> {
    match name {
        "reward" => Some(Box::new(RewardSeeking)),
        "random" => Some(Box::new(RandomChoice)),
        "risk-averse" => Some(Box::new(RiskAverse)),
        "health" => Some(Box::new(HealthAware)),
        "noprice" => Some(Box::new(NoPriceLatest)),
        "study-risk-averse" => Some(Box::new(StudyRiskAverse)),
        "study-health" => Some(Box::new(StudyHealth)),
        _ => None,
    }
}

pub const RULE_NAMES: [&str; 7] =
    ["reward", "random", "risk-averse", "health", "noprice", "study-risk-averse", "study-health"];

/// The index of the best candidate by `key` among those `keep` accepts. Candidates that tie on
/// the whole key are chosen between uniformly at random (reservoir sampling), so that neither
/// funder is favoured by the order in which offers were placed.
fn best_by<K: PartialOrd>(
    candidates: &[Candidate],
    keep: impl Fn(&Candidate) -> bool,
    key: impl Fn(&Candidate) -> K,
    rng: &mut ChaCha8Rng,
) -> Option<usize> {
    let mut best: Option<(usize, K)> = None;
    let mut ties = 0u32;
    for (i, c) in candidates.iter().enumerate().filter(|(_, c)| keep(c)) {
        let k = key(c);
        match &best {
            Some((_, b)) if k < *b => {}
            Some((_, b)) if k == *b => {
                ties += 1;
                if rng.gen_range(0..ties) == 0 {
                    best = Some((i, k));
                }
            }
            _ => {
                best = Some((i, k));
                ties = 1;
            }
        }
    }
    best.map(|(i, _)| i)
}

/// The study's default: the largest reward (highest funder price), ties broken by the latest
/// maturation (the most time to finish), remaining ties at random.
pub struct RewardSeeking;

impl WorkerRule for RewardSeeking {
    fn name(&self) -> &'static str {
        "reward"
    }
    fn choose(&self, c: &[Candidate], _: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        best_by(c, |_| true, |c| (c.funder_price, c.maturation_day), rng)
    }
}

/// Any affordable offer, uniformly at random (the no-price-signal control).
pub struct RandomChoice;

impl WorkerRule for RandomChoice {
    fn name(&self) -> &'static str {
        "random"
    }
    fn choose(&self, c: &[Candidate], _: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        if c.is_empty() {
            None
        } else {
            Some(rng.gen_range(0..c.len()))
        }
    }
}

/// Takes only work it can finish in time even with the hidden extra day (base difficulty + 1
/// <= days left), then the largest reward, ties by latest maturation; idle when nothing is safe.
pub struct RiskAverse;

impl WorkerRule for RiskAverse {
    fn name(&self) -> &'static str {
        "risk-averse"
    }
    fn choose(&self, c: &[Candidate], _: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        best_by(
            c,
            |c| c.base_difficulty < c.days_left, /* base + 1 <= days left */
            |c| (c.funder_price, c.maturation_day),
            rng,
        )
    }
}

/// Weighs the reward by the project's health: expected reward = funder price x the project's
/// fix rate so far (1 before any settlement), ties by latest maturation.
pub struct HealthAware;

impl WorkerRule for HealthAware {
    fn name(&self) -> &'static str {
        "health"
    }
    fn choose(&self, c: &[Candidate], health: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        let rate = |p: usize| health.get(p).and_then(|h| h.fix_rate).unwrap_or(1.0);
        best_by(c, |_| true, |c| (f64::from(c.funder_price.bp()) * rate(c.project), c.maturation_day), rng)
    }
}

/// The study's no-price treatment ("in the dark": no prices, no metrics, only maturation
/// dates): the latest maturation, to be sure to finish; ties at random. Never reads the price.
pub struct NoPriceLatest;

impl WorkerRule for NoPriceLatest {
    fn name(&self) -> &'static str {
        "noprice"
    }
    fn choose(&self, c: &[Candidate], _: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        best_by(c, |_| true, |c| c.maturation_day, rng)
    }
}

/// The study's risk-averse worker with prices, as its research notes describe it: the latest
/// possible maturation first, ties broken by the highest reward (then at random).
pub struct StudyRiskAverse;

impl WorkerRule for StudyRiskAverse {
    fn name(&self) -> &'static str {
        "study-risk-averse"
    }
    fn choose(&self, c: &[Candidate], _: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        best_by(c, |_| true, |c| (c.maturation_day, c.funder_price), rng)
    }
}

/// The study's health-metric worker with prices, as its research notes describe it:
/// * each project's health metrics (resolution efficiency; mean time to close and open-issue
///   age, lower is better) are normalised to [0, 1] across projects (1 best; all 1 when equal
///   or undefined) and averaged into a global score;
/// * a project's difficulty is estimated from its resolution efficiency with the notes'
///   probabilistic layer: <= 0.3 -> 3 (else 2, 10%), (0.3, 0.7] -> 2 (else 1 or 3, 10% each),
///   > 0.7 -> 1 (else 2, 10%); 1 before any data;
/// * offers whose estimated difficulty does not fit the days left are filtered out, then the
///   highest reward, ties by the higher project score, then the latest maturation.
pub struct StudyHealth;

/// Min-max normalised scores of `values` (higher is better when `up`), 1 for undefined values
/// or when all are equal.
fn normalised(values: &[Option<f64>], up: bool) -> Vec<f64> {
    let defined: Vec<f64> = values.iter().flatten().copied().collect();
    let lo = defined.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = defined.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| match v {
            Some(x) if hi > lo => {
                let t = (x - lo) / (hi - lo);
                if up {
                    t
                } else {
                    1.0 - t
                }
            }
            _ => 1.0,
        })
        .collect()
}

/// The notes' difficulty estimate from a resolution efficiency.
pub fn estimate_difficulty(efficiency: Option<f64>, rng: &mut ChaCha8Rng) -> u32 {
    let Some(e) = efficiency else { return 1 };
    let u: f64 = rng.gen();
    if e <= 0.3 {
        if u <= 0.9 {
            3
        } else {
            2
        }
    } else if e <= 0.7 {
        if u <= 0.8 {
            2
        } else if u <= 0.9 {
            1
        } else {
            3
        }
    } else if u <= 0.9 {
        1
    } else {
        2
    }
}

impl WorkerRule for StudyHealth {
    fn name(&self) -> &'static str {
        "study-health"
    }
    fn choose(&self, c: &[Candidate], health: &[Health], rng: &mut ChaCha8Rng) -> Option<usize> {
        let eff: Vec<Option<f64>> = health.iter().map(|h| h.resolution_efficiency).collect();
        let ttc: Vec<Option<f64>> = health.iter().map(|h| h.time_to_close).collect();
        let age: Vec<Option<f64>> = health.iter().map(|h| h.open_age).collect();
        let (a, b, d) = (normalised(&eff, true), normalised(&ttc, false), normalised(&age, false));
        let score: Vec<f64> = (0..health.len()).map(|p| (a[p] + b[p] + d[p]) / 3.0).collect();
        let estimate: Vec<u32> = eff.iter().map(|e| estimate_difficulty(*e, rng)).collect();
        best_by(
            c,
            |c| estimate.get(c.project).is_none_or(|&e| e <= c.days_left),
            |c| (c.funder_price, score.get(c.project).copied().unwrap_or(1.0), c.maturation_day),
            rng,
        )
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn cand(issue: usize, project: usize, price: &str, base: u32, maturation_day: u32, days_left: u32) -> Candidate {
        Candidate {
            issue,
            project,
            funder_price: Price::parse(price).unwrap(),
            base_difficulty: base,
            maturation_day,
            days_left,
        }
    }

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(1)
    }

    #[test]
    fn reward_seeking_picks_the_highest_funder_price() {
        let c = [cand(0, 0, "0.7", 1, 5, 3), cand(1, 1, "0.9", 1, 4, 2), cand(2, 0, "0.8", 2, 5, 3)];
        assert_eq!(RewardSeeking.choose(&c, &[], &mut rng()), Some(1));
    }

    #[test]
    fn reward_seeking_breaks_ties_by_latest_maturation() {
        let c = [cand(0, 0, "0.9", 3, 5, 3), cand(1, 1, "0.9", 1, 4, 2), cand(2, 0, "0.8", 3, 6, 3)];
        assert_eq!(RewardSeeking.choose(&c, &[], &mut rng()), Some(0));
        let c = [cand(0, 0, "0.9", 3, 4, 2), cand(1, 1, "0.9", 1, 5, 3)];
        assert_eq!(RewardSeeking.choose(&c, &[], &mut rng()), Some(1));
        assert_eq!(RewardSeeking.choose(&[], &[], &mut rng()), None);
    }

    #[test]
    fn complete_ties_are_broken_at_random_favouring_neither_funder() {
        let c = [cand(0, 0, "0.9", 3, 5, 3), cand(1, 1, "0.9", 1, 5, 3), cand(2, 1, "0.7", 1, 5, 3)];
        let mut r = rng();
        let mut seen = [0u32; 3];
        for _ in 0..400 {
            seen[RewardSeeking.choose(&c, &[], &mut r).unwrap()] += 1;
        }
        assert_eq!(seen[2], 0);
        assert!(seen[0] > 150 && seen[1] > 150, "{seen:?}");
    }

    #[test]
    fn risk_averse_takes_only_work_it_surely_finishes() {
        // 0.9 needs up to 4 days but only 3 are left; 0.8 (base 2, up to 3 days) is safe.
        let c = [cand(0, 0, "0.9", 3, 5, 3), cand(1, 1, "0.8", 2, 5, 3), cand(2, 1, "0.7", 1, 5, 3)];
        assert_eq!(RiskAverse.choose(&c, &[], &mut rng()), Some(1));
        assert_eq!(RiskAverse.choose(&[cand(0, 0, "0.9", 3, 5, 3)], &[], &mut rng()), None);
    }

    #[test]
    fn health_aware_discounts_unhealthy_projects() {
        let c = [cand(0, 0, "0.9", 3, 5, 3), cand(1, 1, "0.8", 1, 5, 3)];
        let health = [
            Health { fix_rate: Some(0.5), open_issues: 9, ..Health::default() },
            Health { fix_rate: Some(1.0), open_issues: 1, ..Health::default() },
        ];
        assert_eq!(HealthAware.choose(&c, &health, &mut rng()), Some(1));
        let unknown = [
            Health { fix_rate: None, open_issues: 0, ..Health::default() },
            Health { fix_rate: None, open_issues: 0, ..Health::default() },
        ];
        assert_eq!(HealthAware.choose(&c, &unknown, &mut rng()), Some(0));
    }

    #[test]
    fn random_choice_stays_in_range_and_rules_resolve_by_name() {
        let c = [cand(0, 0, "0.9", 3, 5, 3), cand(1, 1, "0.8", 1, 5, 3)];
        let mut r = rng();
        for _ in 0..50 {
            assert!(RandomChoice.choose(&c, &[], &mut r).is_some_and(|i| i < 2));
        }
        for n in RULE_NAMES {
            assert_eq!(by_name(n).map(|r| r.name()), Some(n));
        }
        assert!(by_name("greedy").is_none());
    }

    #[test]
    fn study_rules_follow_the_research_notes() {
        // Risk-averse: latest maturation first, then the highest reward.
        let c = [cand(0, 0, "0.9", 1, 4, 2), cand(1, 1, "0.7", 3, 5, 3), cand(2, 0, "0.8", 2, 5, 3)];
        assert_eq!(StudyRiskAverse.choose(&c, &[], &mut rng()), Some(2));
        // No price: latest maturation, blind to the price (either of the two at day 5).
        let pick = NoPriceLatest.choose(&c, &[], &mut rng()).unwrap();
        assert!(pick == 1 || pick == 2);
        // Health: project 0 resolves few issues (difficulty estimate 3 with 90%), project 1
        // most (estimate 1): an offer of project 0 with 2 days left is filtered out.
        let health = [
            Health {
                resolution_efficiency: Some(0.2),
                time_to_close: Some(3.0),
                open_age: Some(5.0),
                ..Health::default()
            },
            Health {
                resolution_efficiency: Some(0.95),
                time_to_close: Some(1.0),
                open_age: Some(5.0),
                ..Health::default()
            },
        ];
        let c = [cand(0, 0, "0.9", 1, 4, 2), cand(1, 1, "0.8", 1, 4, 2)];
        let picks: Vec<Option<usize>> =
            (0..20u64).map(|s| StudyHealth.choose(&c, &health, &mut ChaCha8Rng::seed_from_u64(s))).collect();
        assert!(picks.iter().filter(|p| **p == Some(1)).count() >= 15, "{picks:?}");
        assert_eq!(normalised(&[Some(1.0), Some(3.0), None], false), vec![1.0, 0.0, 1.0]);
        assert_eq!(estimate_difficulty(None, &mut rng()), 1);
    }
}
