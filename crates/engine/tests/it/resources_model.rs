//! The pure model of the hidden resource market (spec/resources.md, "What must be shown").

use peerex_engine::ids::PeerId;
use peerex_engine::ledger::{Account, Ledger};
use peerex_engine::resources::allocation::{choose, Candidate};
use peerex_engine::resources::availability::{effective_space, eta_ppm};
use peerex_engine::resources::bank::{max_deficit, next_standing, settle, DayAmounts, Standing};
use peerex_engine::resources::capacity::{capacity, capacity_price, pie_chart, ServiceProfile};
use peerex_engine::resources::erasure::{min_n, min_n_heterogeneous, unavailability, unavailability_equal};
use peerex_engine::resources::matrix::{Technology, TechnologyPpm, NANO_PER_CREDIT};
use peerex_engine::resources::price_update::*;
use peerex_engine::resources::supply::{counted_supply, ratio_limits, slider_view, thick_line_end};
use peerex_engine::Amount;
use proptest::prelude::*;

const TARGET: f64 = 0.99999;

// ----- erasure coding -----

#[test]
fn plain_replication_needs_17_copies_at_half_availability() {
    assert_eq!(min_n(0.5, 1, TARGET), Some(17));
    // 16 copies are not enough: 0.5^16 = 1.5e-5 > 1e-5.
    assert!(unavailability_equal(0.5, 1, 16) > 1e-5);
    assert!(unavailability_equal(0.5, 1, 17) <= 1e-5);
}

#[test]
fn minimal_n_for_several_availabilities_and_k() {
    // (a, k, n) measured with the exact DP; spot-checked against the closed form below.
    let table = [
        (0.5, 2, 22),
        (0.5, 4, 29),
        (0.5, 8, 42),
        (0.5, 16, 65),
        (0.5, 32, 107),
        (0.5, 50, 151),
        (0.5, 100, 269),
        (0.7, 1, 10),
        (0.7, 8, 26),
        (0.7, 50, 100),
        (0.9, 1, 5), // 0.1^5 = 1e-5 exactly: the target is just reached
        (0.9, 8, 16),
        (0.9, 100, 129),
    ];
    for (a, k, n) in table {
        assert_eq!(min_n(a, k, TARGET), Some(n), "a = {a}, k = {k}");
        assert!(unavailability_equal(a, k, n) <= 1e-5 * (1.0 + 1e-9));
        assert!(
            unavailability_equal(a, k, n - 1) > 1e-5 * (1.0 + 1e-9),
            "n - 1 must not reach the target (a = {a}, k = {k})"
        );
    }
}

#[test]
fn replication_factor_near_three_for_large_k() {
    // The seed: "with erasure coding ... a replication factor of approx. 3" at a = 0.5.
    let r = |k: u32| min_n(0.5, k, TARGET).unwrap() as f64 / k as f64;
    assert!((r(50) - 3.02).abs() < 0.01);
    assert!(r(32) > 3.0 && r(64) < 3.0, "the factor crosses 3 between k = 32 and k = 64");
    // It keeps falling toward 1/a = 2 as k grows.
    assert!(r(500) < 2.3 && r(500) > 2.0);
}

#[test]
fn closed_form_binomial_tail_matches() {
    // sum_{i<k} C(n,i) a^i (1-a)^(n-i) computed directly for small n.
    fn binom(n: u64, i: u64) -> f64 {
        (0..i).fold(1.0, |acc, j| acc * (n - j) as f64 / (j + 1) as f64)
    }
    for (a, k, n) in [(0.5f64, 3u32, 9u32), (0.8, 2, 7), (0.3, 5, 20)] {
        let direct: f64 =
            (0..k).map(|i| binom(n as u64, i as u64) * a.powi(i as i32) * (1.0f64 - a).powi((n - i) as i32)).sum();
        assert!((unavailability_equal(a, k, n) - direct).abs() < 1e-14);
    }
}

#[test]
fn heterogeneous_holders_poisson_binomial() {
    // Brute force over all 2^n online patterns agrees with the DP.
    let avail = [0.9, 0.35, 0.6, 0.75, 0.2, 0.5, 0.95, 0.4, 0.65, 0.3];
    for k in 1..=5u32 {
        let mut brute = 0.0;
        for mask in 0u32..(1 << avail.len()) {
            let mut pr = 1.0;
            for (i, a) in avail.iter().enumerate() {
                pr *= if mask & (1 << i) != 0 { *a } else { 1.0 - a };
            }
            if mask.count_ones() < k {
                brute += pr;
            }
        }
        assert!((unavailability(&avail, k) - brute).abs() < 1e-14, "k = {k}");
    }
    // k = 1: unavailability is the product of (1 - a_i): 0.1 x 0.1 x 0.2 x 0.2 x 0.5^6 <= 1e-5
    // first at the 10th candidate.
    let mut cands = vec![0.9, 0.9, 0.8, 0.8];
    cands.extend(std::iter::repeat_n(0.5, 40));
    assert_eq!(min_n_heterogeneous(&cands, 1, TARGET), Some(10));
    // Mixed holders need fewer fragments than the same number of holders all at a = 0.5 ...
    let mixed = min_n_heterogeneous(&cands, 4, 0.999).unwrap();
    let equal = min_n(0.5, 4, 0.999).unwrap();
    assert!(mixed < equal, "{mixed} vs {equal}");
    // ... and not enough candidates gives None.
    assert_eq!(min_n_heterogeneous(&[0.5; 5], 4, TARGET), None);
}

#[test]
fn effective_space_example_of_the_seed() {
    // 30 GB at a = 0.5 with R = 3 and mean holder availability 0.5: eta = 2/3 -> 10 GB.
    assert_eq!(eta_ppm(3_000_000, 500_000), Some(666_666));
    assert_eq!(effective_space(30_000_000_000, 500_000, 3_000_000, 500_000), Some(10_000_000_000));
    assert_eq!(eta_ppm(3_000_000, 0), None);
    assert_eq!(effective_space(30_000_000_000, 500_000, 3_000_000, 0), None);
}

// ----- prices, capacity, ratio constraints -----

#[test]
fn service_prices_are_a_transpose_p_in_fixed_point() {
    let t = TechnologyPpm::default();
    let q = t.service_prices([NANO_PER_CREDIT, 2 * NANO_PER_CREDIT, NANO_PER_CREDIT / 2]).unwrap();
    // q_B = 3 x 0.5, q_S = 1 + 0.021 x 2 + 0.007 x 0.5, q_R = 1 x 2.
    assert_eq!(q, [1_500_000_000, 1_045_500_000, 2_000_000_000]);
    let qf = Technology::default().service_prices([1.0, 2.0, 0.5]);
    for j in 0..3 {
        assert!((qf[j] - q[j] as f64 / 1e9).abs() < 1e-12);
    }
}

#[test]
fn capacity_and_pie_chart_numbers() {
    let q = Technology::default().service_prices([1.0, 2.0, 0.5]);
    let profile = ServiceProfile { theta_b: 0.1, theta_r: 0.05 };
    let q_cap = capacity_price(q, profile);
    assert!((q_cap - 1.2955).abs() < 1e-12, "Q = 1.0455 + 0.1 x 1.5 + 0.05 x 2");
    let c = capacity([10.0, 5.0, 8.0], [1.0, 2.0, 0.5], q_cap);
    assert!((c - 24.0 / 1.2955).abs() < 1e-12);
    let pie = pie_chart(c, 12.0);
    assert!((pie.available_gb - (c - 12.0)).abs() < 1e-12);
    assert_eq!(pie.used_gb, 12.0);
    assert_eq!(pie_chart(c, 20.0).available_gb, 0.0, "over capacity shows nothing available");
    // Profile estimate: ratios of 30-day sums.
    let days = vec![[2.0, 10.0, 1.0], [0.0, 10.0, 0.0]];
    let p = ServiceProfile::estimate(&days);
    assert!((p.theta_b - 0.1).abs() < 1e-12 && (p.theta_r - 0.05).abs() < 1e-12);
}

#[test]
fn ratio_constraints_and_thick_line_ends() {
    // d = (S 100, U 50, D 300), slack 4: r_SU = 8, r_SD = 4/3, r_US = 2, r_UD = 2/3, r_DS = 12, r_DU = 24.
    let r = ratio_limits([100.0, 50.0, 300.0], 4.0);
    assert!((r[0][1] - 8.0).abs() < 1e-12 && (r[1][2] - 2.0 / 3.0).abs() < 1e-12 && (r[2][1] - 24.0).abs() < 1e-12);
    // A peer with little upload: space counts only up to r_SU x 5 = 40.
    let caps = [100.0, 5.0, 50.0];
    let counted = counted_supply(caps, &r);
    assert!((counted[0] - 40.0).abs() < 1e-12 && counted[1] == 5.0 && counted[2] == 50.0);
    assert!((thick_line_end(caps, &r, 0) - 40.0).abs() < 1e-12, "space slider stops mattering at 40");
    // Upload: counts fully up to min(r_US 100, r_UD 50) = 33.3; but it also lifts space's limit
    // (8 S_U < min(100, 4/3 x 50)) until S_U = 66.7 / 8 = 8.33: the end is 33.3.
    assert!((thick_line_end(caps, &r, 1) - 100.0 / 3.0).abs() < 1e-9);
    // Raising upload lengthens the space slider's thick line (seed: "the other lines change").
    let more_up = [100.0, 8.0, 50.0];
    assert!(thick_line_end(more_up, &r, 0) > thick_line_end(caps, &r, 0));
    let view = slider_view(caps, &r);
    assert_eq!(view.thick_end[0], Some(thick_line_end(caps, &r, 0)));
    // No demand yet: no constraint, the whole slider is thick.
    let free = ratio_limits([0.0, 0.0, 0.0], 4.0);
    assert_eq!(slider_view(caps, &free).thick_end, [None, None, None]);
}

proptest! {
    /// Beyond the end of its thick line a slider changes nothing; just below it, it does.
    #[test]
    fn thick_line_end_is_where_capacity_stops_growing(
        caps in prop::array::uniform3(0.1f64..100.0),
        d in prop::array::uniform3(0.1f64..100.0),
        x in 0usize..3,
    ) {
        let r = ratio_limits(d, 4.0);
        let p = [1.0, 1.7, 0.6];
        let cap_at = |v: f64| { let mut c = caps; c[x] = v; capacity(counted_supply(c, &r), p, 1.0) };
        let end = thick_line_end(caps, &r, x);
        prop_assert!(end.is_finite() && end > 0.0);
        let at = cap_at(end);
        prop_assert!((cap_at(end * 3.0) - at).abs() <= 1e-9 * at.max(1.0));
        prop_assert!(cap_at(end * 0.99) < at);
    }
}

// ----- bank -----

#[test]
fn deficit_alert_freeze_with_hysteresis() {
    // Bills of 10 credits a day: B_max = max(100, 14 x 10) = 140.
    let b_max = max_deficit(&[Amount::credits(10); 7]);
    assert_eq!(b_max, Amount::credits(140));
    assert_eq!(max_deficit(&[]), Amount::credits(100), "the floor");
    assert_eq!(max_deficit(&[Amount::credits(1); 3]), Amount::credits(100));
    // Only the last 7 bills count.
    let mut bills = vec![Amount::credits(1000); 3];
    bills.extend([Amount::credits(10); 7]);
    assert_eq!(max_deficit(&bills), Amount::credits(140));

    let steps = [
        (-60, Standing::Normal),
        (-70, Standing::Alert), // -0.5 B_max
        (-139, Standing::Alert),
        (-140, Standing::Frozen), // -B_max
        (-130, Standing::Frozen), // still below -0.9 B_max = -126
        (-126, Standing::Frozen), // "above" is strict
        (-125, Standing::Alert),  // unfrozen, still in alert
        (-50, Standing::Normal),
    ];
    let mut s = Standing::Normal;
    for (bal, want) in steps {
        s = next_standing(s, Amount::credits(bal), b_max);
        assert_eq!(s, want, "at balance {bal}");
    }
    // Without having been frozen, -130 is only an alert.
    assert_eq!(next_standing(Standing::Alert, Amount::credits(-130), b_max), Standing::Alert);
}

#[test]
fn settlement_is_exact_and_carries_sub_micro_remainders() {
    let mut l = Ledger::default();
    let p = PeerId(0);
    // 2.5 micro-credits earned: 2 paid, 0.5 carried.
    let s = settle(&mut l, p, DayAmounts { earned_atto: 2_500_000_000_000, charged_atto: 0 }, 0).unwrap();
    assert_eq!((s.net, s.carry_atto), (Amount(2), 500_000_000_000));
    // + 0.6 earned: 1.1 -> 1 paid, 0.1 carried.
    let s = settle(&mut l, p, DayAmounts { earned_atto: 600_000_000_000, charged_atto: 0 }, s.carry_atto).unwrap();
    assert_eq!((s.net, s.carry_atto), (Amount(1), 100_000_000_000));
    // A bill of 1.6: net -1.5 -> pays 2, carries +0.5.
    let s = settle(&mut l, p, DayAmounts { earned_atto: 0, charged_atto: 1_600_000_000_000 }, s.carry_atto).unwrap();
    assert_eq!((s.net, s.carry_atto, s.bill), (Amount(-2), 500_000_000_000, Amount(1)));
    assert_eq!(l.balance(Account::PeerBalance(p)), Amount(1));
    assert_eq!(l.balance(Account::ResourceBank), Amount(-1));
    l.check().unwrap();
}

// ----- allocation -----

#[test]
fn work_goes_to_lowest_balances_then_lowest_id() {
    let c = |id: u32, bal: i64| Candidate { peer: PeerId(id), balance: Amount(bal) };
    let chosen = choose(vec![c(0, 5), c(2, -3), c(1, -3), c(3, 0)], 3).unwrap();
    assert_eq!(chosen, vec![PeerId(1), PeerId(2), PeerId(3)]);
    let err = choose(vec![c(0, 0)], 2).unwrap_err();
    assert_eq!(err.code(), "invalid_state");
}

// ----- price update: every rule on hand-made inputs -----

fn sg() -> Safeguards {
    Safeguards::default()
}
fn pt(p: f64, g: f64, e: f64) -> Previous {
    Previous::Valid(Point { p, g, e })
}

#[test]
fn rule_0_no_demand_keeps_the_price_and_zero_supply_steps_at_the_extremes() {
    let s = safeguarded_step(2.0, Current::NoData, Previous::None, &sg());
    assert_eq!((s.rule, s.price), (Rule::NoData, 2.0));
    // Nobody supplies space: e = +inf, every other price falls by phi.
    let e = extended_e([0.0, 5.0, 5.0], [1.0, 1.0, 1.0]).unwrap();
    assert_eq!(e, [f64::INFINITY, f64::INFINITY]);
    let s = safeguarded_step(2.0, Current::Invalid { e: e[0] }, Previous::None, &sg());
    assert_eq!((s.rule, s.price), (Rule::InvalidCurrent, 1.6));
    // Nobody supplies upload: e_U = -1, p_U rises by phi.
    let e = extended_e([5.0, 0.0, 5.0], [1.0, 1.0, 1.0]).unwrap();
    assert_eq!(e[0], -1.0);
    let s = safeguarded_step(2.0, Current::Invalid { e: e[0] }, Previous::None, &sg());
    assert_eq!(s.price, 2.5);
    // The updater uses this when an observation has a zero supply.
    let mut u = Updater::new(sg());
    let up = u.update([1.0, 2.0, 2.0], [0.0, 5.0, 5.0], [1.0, 1.0, 1.0]);
    assert_eq!(up.prices, [1.0, 1.6, 1.6]);
    assert_eq!(u.previous, [Previous::Invalid; 2]);
    assert!(extended_e([1.0, 1.0, 1.0], [0.0, 1.0, 1.0]).is_none(), "no demand: no data");
    assert!(imbalance([1.0, 0.0, 1.0], [1.0, 1.0, 1.0]).is_none(), "zero supply is invalid");
    assert!(imbalance([1.0, 1.0, 1.0], [1.0, 1.0, f64::NAN]).is_none());
}

#[test]
fn rule_1_deadband_keeps_the_price() {
    let s = safeguarded_step(2.0, Current::Valid { g: 0.0004, e: 0.0009 }, pt(1.0, 0.5, 0.5), &sg());
    assert_eq!((s.rule, s.price), (Rule::Deadband, 2.0));
}

#[test]
fn rule_2_no_or_invalid_previous_takes_the_elasticity_step() {
    // p / (1 + e) = 2 / 1.1.
    let s = safeguarded_step(2.0, Current::Valid { g: 0.05, e: 0.1 }, Previous::None, &sg());
    assert_eq!(s.rule, Rule::NoPrevious);
    assert!((s.price - 2.0 / 1.1).abs() < 1e-15);
    let s = safeguarded_step(2.0, Current::Valid { g: 0.05, e: 0.1 }, Previous::Invalid, &sg());
    assert_eq!(s.rule, Rule::InvalidPrevious);
    assert!((s.price - 2.0 / 1.1).abs() < 1e-15);
    // 1 + e <= 0 (only with bad data): x phi.
    let s = safeguarded_step(2.0, Current::Valid { g: -0.5, e: -1.0 }, Previous::None, &sg());
    assert!((s.price - 2.5).abs() < 1e-15);
}

#[test]
fn rule_3_unchanged_price_never_reuses_an_old_slope() {
    let s = safeguarded_step(2.0, Current::Valid { g: 0.05, e: 0.1 }, pt(2.0, 0.3, 0.6), &sg());
    assert_eq!(s.rule, Rule::PriceUnchanged);
    assert!((s.price - 2.0 / 1.1).abs() < 1e-15);
}

#[test]
fn rule_4_unchanged_g_takes_the_elasticity_step() {
    let s = safeguarded_step(2.0, Current::Valid { g: 0.05, e: 0.1 }, pt(1.9, 0.05, 0.1), &sg());
    assert_eq!(s.rule, Rule::GUnchanged);
    assert!((s.price - 2.0 / 1.1).abs() < 1e-15);
}

#[test]
fn rule_5_non_positive_slope_takes_the_elasticity_step() {
    // Price went up, g went up -> that is the expected sign; price up, g down -> slope < 0.
    let s = safeguarded_step(2.0, Current::Valid { g: 0.05, e: 0.1 }, pt(1.9, 0.2, 0.4), &sg());
    assert_eq!(s.rule, Rule::NonPositiveSlope);
    assert!((s.price - 2.0 / 1.1).abs() < 1e-15);
}

#[test]
fn rule_6_change_within_noise_takes_the_elasticity_step() {
    // Positive slope, but e moved by only 0.0004 <= noise 0.0005.
    let s = safeguarded_step(2.0, Current::Valid { g: 0.05, e: 0.1 }, pt(1.9, 0.049, 0.0996), &sg());
    assert_eq!(s.rule, Rule::WithinNoise);
    assert!((s.price - 2.0 / 1.1).abs() < 1e-15);
}

#[test]
fn rule_7_secant_step_of_definition_4() {
    // p = 2, p_prev = 1.8, g = 0.1, g_prev = -0.1: 2 - 0.2 / 0.2 x 0.1 = 1.9.
    let s = safeguarded_step(2.0, Current::Valid { g: 0.1, e: 0.05 }, pt(1.8, -0.1, -0.05), &sg());
    assert_eq!(s.rule, Rule::Secant);
    assert!((s.price - 1.9).abs() < 1e-15);
    assert!((raw_secant(2.0, 1.8, 0.1, -0.1) - 1.9).abs() < 1e-15);
    assert!(!s.step_clamped && !s.range_clamped);
}

#[test]
fn clamps_limit_the_step_and_the_range() {
    // A secant that overshoots to a negative price is held at p / phi.
    let s = safeguarded_step(2.0, Current::Valid { g: 1.0, e: 0.5 }, pt(1.9, 0.98, 0.45), &sg());
    assert_eq!(s.rule, Rule::Secant);
    assert!(s.proposed < 0.0 && s.step_clamped);
    assert!((s.price - 1.6).abs() < 1e-15);
    // One that jumps far up is held at p x phi.
    let s = safeguarded_step(2.0, Current::Valid { g: -0.1, e: -0.2 }, pt(1.9, -0.105, -0.21), &sg());
    assert!(s.proposed > 2.5 && s.step_clamped && (s.price - 2.5).abs() < 1e-15);
    // The absolute range [1e-3, 1e3].
    let s = safeguarded_step(0.0011, Current::Valid { g: 1.0, e: 1.0 }, Previous::None, &sg());
    assert!(s.range_clamped && s.price == 1e-3);
    let s = safeguarded_step(900.0, Current::Valid { g: -0.9, e: -0.9 }, Previous::None, &sg());
    assert!(s.range_clamped && s.price == 1e3);
}

#[test]
fn the_raw_update_breaks_where_the_safeguards_hold() {
    // Division by zero: g did not change.
    assert!(!raw_secant(2.0, 1.9, 0.1, 0.1).is_finite());
    // Frozen price: p(t) = p(t-1) gives p(t+1) = p(t) whatever g says.
    assert_eq!(raw_secant(2.0, 2.0, 0.4, 0.1), 2.0);
    // Negative price far from the root.
    assert!(raw_secant(2.0, 1.9, 1.0, 0.98) < 0.0);
}

#[test]
fn updater_remembers_observations_and_epochs_hold_prices() {
    let mut u = Updater::new(sg());
    // Too much U supplied relative to demand (e_U = 1), D balanced.
    let up = u.update([1.0, 2.0, 1.0], [10.0, 20.0, 10.0], [5.0, 5.0, 5.0]);
    assert_eq!(up.steps[0].rule, Rule::NoPrevious);
    assert_eq!(up.steps[1].rule, Rule::Deadband);
    assert!((up.prices[1] - 1.6).abs() < 1e-15, "p_U falls, limited to 2 / 1.25");
    assert_eq!(up.prices[2], 1.0);
    let mut ep = EpochUpdater::new(7, sg());
    for day in 1..=13 {
        let r = ep.end_of_day([1.0, 2.0, 1.0], [10.0, 20.0, 10.0], [5.0, 5.0, 5.0]);
        assert_eq!(r.is_some(), day == 7, "day {day}");
    }
    assert!(ep.end_of_day([1.0, 2.0, 1.0], [10.0, 20.0, 10.0], [5.0, 5.0, 5.0]).is_some());
}

#[test]
fn averaging_epochs_update_on_the_mean_observation() {
    let mut avg = EpochUpdater::averaging(3, sg());
    let mut direct = Updater::new(sg());
    let days = [[10.0, 20.0, 10.0], [14.0, 16.0, 10.0], [12.0, 18.0, 13.0]];
    let mut last = None;
    for s in days {
        last = avg.end_of_day([1.0, 2.0, 1.0], s, [5.0, 5.0, 5.0]);
    }
    let want = direct.update([1.0, 2.0, 1.0], [12.0, 18.0, 11.0], [5.0, 5.0, 5.0]);
    let got = last.unwrap();
    assert_eq!(got.imbalance, want.imbalance);
    assert_eq!(got.prices, want.prices);
    // The plain epoch updater uses the epoch-end day only.
    let mut end = EpochUpdater::new(3, sg());
    let mut last = None;
    for s in days {
        last = end.end_of_day([1.0, 2.0, 1.0], s, [5.0, 5.0, 5.0]);
    }
    assert_eq!(last.unwrap().imbalance, imbalance([12.0, 18.0, 13.0], [5.0, 5.0, 5.0]));
}

#[test]
fn fixed_point_prices_round_trip() {
    assert_eq!(to_nano(1.25, &sg()), 1_250_000_000);
    assert_eq!(to_nano(f64::NAN, &sg()), 1_000_000);
    assert_eq!(to_nano(-3.0, &sg()), 1_000_000);
    assert_eq!(to_nano(1e9, &sg()), 1_000_000_000_000);
    assert_eq!(from_nano(1_250_000_000), 1.25);
}

proptest! {
    /// Whatever the observations, safeguarded prices stay positive, finite, in range and within
    /// a factor phi of the previous price.
    #[test]
    fn safeguarded_prices_never_nan_or_non_positive(
        p in 1e-3f64..1e3,
        g in prop_oneof![Just(0.0), -1e6f64..1e6, Just(f64::NAN), Just(f64::INFINITY)],
        e in prop_oneof![Just(-1.0), -5.0f64..1e6, Just(f64::NAN)],
        pp in prop_oneof![Just(0.0), -1e3f64..1e3, Just(f64::NAN)],
        pg in -1e6f64..1e6,
        pe in -5.0f64..1e6,
        has_prev in any::<bool>(),
    ) {
        let prev = if has_prev { pt(pp, pg, pe) } else { Previous::None };
        let s = safeguarded_step(p, Current::Valid { g, e }, prev, &sg());
        prop_assert!(s.price.is_finite() && s.price > 0.0);
        prop_assert!((1e-3..=1e3).contains(&s.price));
        prop_assert!(s.price <= p * 1.25 * (1.0 + 1e-12) || s.price == 1e-3);
        prop_assert!(s.price >= p / 1.25 * (1.0 - 1e-12) || s.price == 1e3);
    }

    #[test]
    fn updater_output_is_always_a_valid_price_vector(
        sup in prop::array::uniform3(prop_oneof![Just(0.0), 1e-6f64..1e9]),
        dem in prop::array::uniform3(prop_oneof![Just(0.0), 1e-6f64..1e9]),
        sup2 in prop::array::uniform3(1e-6f64..1e9),
        pu in 1e-3f64..1e3, pd in 1e-3f64..1e3,
    ) {
        let mut u = Updater::new(sg());
        let a = u.update([1.0, pu, pd], sup, dem);
        let b = u.update(a.prices, sup2, dem);
        let mut br = BroydenUpdater::new(sg());
        let c = br.update([1.0, pu, pd], sup, dem);
        let d = br.update(c.prices, sup2, dem);
        for v in a.prices.iter().chain(b.prices.iter()).chain(c.prices.iter()).chain(d.prices.iter()) {
            prop_assert!(v.is_finite() && *v > 0.0 && *v <= 1e3);
        }
    }
}

proptest! {
    /// Over any sequence of days, what the ledger moved plus the final carry is exactly the sum
    /// of the exact (atto-credit) nets: rounding never loses or creates value.
    #[test]
    fn settlement_never_loses_a_fraction(days in prop::collection::vec((0i64..10_000_000_000_000_000, 0i64..10_000_000_000_000_000), 1..40)) {
        let mut l = Ledger::default();
        let p = PeerId(3);
        let mut carry = 0i64;
        let mut exact: i128 = 0;
        for (earned, charged) in days {
            exact += earned as i128 - charged as i128;
            let s = settle(&mut l, p, DayAmounts { earned_atto: earned as i128, charged_atto: charged as i128 }, carry).unwrap();
            prop_assert!((0..1_000_000_000_000).contains(&s.carry_atto));
            carry = s.carry_atto;
        }
        let moved = l.balance(Account::PeerBalance(p)).0 as i128 * 1_000_000_000_000;
        prop_assert_eq!(moved + carry as i128, exact);
        prop_assert_eq!(l.balance(Account::ResourceBank).0, -l.balance(Account::PeerBalance(p)).0);
        l.check().unwrap();
    }

    /// Standings follow the rules for any path of balances: frozen at or below -B_max, frozen
    /// stays frozen until above -0.9 B_max, alert at or below -0.5 B_max, normal otherwise.
    #[test]
    fn standing_follows_the_hysteresis_rules(path in prop::collection::vec(-300i64..50, 1..60), b in 100i64..200) {
        let b_max = Amount::credits(b);
        let mut s = Standing::Normal;
        for bal in path {
            let prev = s;
            s = next_standing(prev, Amount::credits(bal), b_max);
            let want = if bal <= -b || (prev == Standing::Frozen && 10 * bal <= -9 * b) {
                Standing::Frozen
            } else if 2 * bal <= -b {
                Standing::Alert
            } else {
                Standing::Normal
            };
            prop_assert_eq!(s, want);
        }
    }
}
