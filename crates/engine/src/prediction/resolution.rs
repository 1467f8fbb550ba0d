//! Resolution (payouts, arbiters' rewards, remainder) and N/A voiding (refunds). Each is planned
//! completely, checked against the market's two accounts, and applied as one ledger plan, and the
//! market leaves the reporting state in the same step: it happens exactly once.
//!
//! Budget (docs/prediction.md, "Paying what was promised"): before anyone's report is read, the
//! arbitration budget G = fee pool + bond + (market maker's cash - the most any outcome can pay
//! holders) is known. A binary market resolved by reports admits the largest set of arbiters
//! (dropping the largest stakes first) whose worst-case rewards W (every arbiter agreeing with
//! their peer) fit in G, so every promised reward is paid in full; when no set of `min_reports`
//! fits, the market is void. Who is admitted depends on positions, reliabilities, the closing
//! price and the arrival order, never on what anyone reported. Whatever remains goes back to
//! the creator, except that an ambiguous market's bond goes to its arbiters. Nothing is minted.

use crate::error::{overflow, EngineError, EngineResult};
use crate::exchange::Ctx;
use crate::ids::{MarketId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, MICROS_PER_CREDIT};
use crate::prediction::arbitration::{self, Arbiter, Rewards};
use crate::prediction::events::{MarketDetail, Seed};
use crate::prediction::lmsr::prob_micros;
use crate::prediction::market::{Holding, Market, Resolution, Status};
use crate::prediction::plan::Plan;
use crate::prediction::{emit, peers, Markets};

type Pending = Vec<(Option<UserId>, MarketDetail)>;

/// Splits `owed` (each >= 0) within `budget`: all of it when it fits, else pro rata rounded down.
fn within_budget(owed: &[i64], budget: i64) -> EngineResult<(Vec<i64>, Option<MarketDetail>)> {
    let total: i128 = owed.iter().map(|x| *x as i128).sum();
    if total <= budget as i128 {
        return Ok((owed.to_vec(), None));
    }
    let paid: Vec<i64> = owed
        .iter()
        .map(|x| i64::try_from(*x as i128 * budget.max(0) as i128 / total).map_err(|_| overflow("a pro-rata share")))
        .collect::<EngineResult<_>>()?;
    let paid_total: i128 = paid.iter().map(|x| *x as i128).sum();
    let owed_total = i64::try_from(total).map_err(|_| overflow("the rewards owed"))?;
    let paid_total = i64::try_from(paid_total).map_err(|_| overflow("the rewards paid"))?;
    let shortfall = MarketDetail::Shortfall {
        owed: Amount(owed_total),
        paid: Amount(paid_total),
        missing: Amount(owed_total - paid_total),
    };
    Ok((paid, Some(shortfall)))
}

/// Credits (f64) to micro-credits, rounded down, clamped at 0.
fn floor_micros(credits: f64) -> EngineResult<i64> {
    let x = libm::floor(credits * MICROS_PER_CREDIT as f64);
    if !x.is_finite() || x >= 9.0e18 {
        return Err(overflow("a reward"));
    }
    Ok(x.max(0.0) as i64)
}

/// Who arbitrates a binary market, and on what terms.
#[derive(Clone, Debug)]
pub(crate) struct Admission {
    /// Indices into the market's reports, in arrival order.
    pub admitted: Vec<usize>,
    /// (index into the reports, reason) of every report left out.
    pub excluded: Vec<(usize, &'static str)>,
    /// The admitted arbiters (peers index into this list).
    pub arbiters: Vec<Arbiter>,
    pub rewards: Rewards,
    pub seed: u64,
    /// G and W in micro-credits.
    pub budget: i64,
    pub worst: i64,
}

/// What `admit` decided.
#[derive(Clone, Debug)]
pub(crate) enum Admit {
    Yes(Admission),
    /// No admissible set: void. `ambiguous`: because delta <= epsilon (the bond then goes to the
    /// arbiters who reported).
    Void {
        ambiguous: bool,
    },
}

/// The size of `user`'s bet in micro-shares, |YES - NO| (only its size matters to arbitration).
fn stake(m: &Market, user: UserId) -> i64 {
    m.holding(user).map_or(0, Holding::stake)
}

/// G: what is certainly left for rewards whatever the outcome.
pub(crate) fn arbitration_budget(m: &Market, mm: i64, pool: i64) -> EngineResult<i64> {
    let worst_payout = m.q.iter().copied().max().unwrap_or(0);
    mm.checked_sub(worst_payout).and_then(|x| x.checked_add(pool)).ok_or_else(|| overflow("the arbitration budget"))
}

impl Markets {
    /// Decides which reports of a binary market count and what each admitted arbiter is owed,
    /// from everything but the report values.
    pub(crate) fn admit(&self, m: &Market, budget: i64) -> EngineResult<Admit> {
        let panel = Panel {
            name: &m.name,
            seed: m.seed,
            min_reports: m.min_reports,
            k_floor: m.k_floor,
            mu: m.lmsr.price(&m.q, 1)?,
            robust_prior: m.robust_prior,
            reports: &m.reports,
        };
        admit_panel(&self.reliability, &panel, |u| stake(m, u), budget)
    }

    pub(crate) fn resolve_by_reports(&mut self, ctx: &mut Ctx, id: MarketId) -> EngineResult<()> {
        let m = self.get(id)?;
        if !m.is_binary() {
            let mut weights = vec![0u64; m.outcomes()];
            for (_, v) in &m.reports {
                if let Some(w) = weights.get_mut(*v as usize) {
                    *w += 1;
                }
            }
            let total = m.reports.len() as u64;
            return self.resolve(ctx, id, weights, total, "reports", None);
        }
        let mm = ctx.ledger.balance(Account::MarketMaker(id)).0;
        let pool = ctx.ledger.balance(Account::ArbitrationPool(id)).0;
        let budget = arbitration_budget(m, mm, pool)?;
        match self.admit(m, budget)? {
            Admit::Yes(adm) => {
                let mut weights = vec![0u64; 2];
                for &i in &adm.admitted {
                    let v = m.reports.get(i).map_or(0, |r| r.1) as usize;
                    if let Some(w) = weights.get_mut(v) {
                        *w += 1;
                    }
                }
                let total = adm.admitted.len() as u64;
                self.resolve(ctx, id, weights, total, "reports", Some(adm))
            }
            Admit::Void { ambiguous: false } => {
                let reason = format!(
                    "no {} of the {} arbiters can be paid what the mechanism promises from the budget of {}",
                    m.min_reports,
                    m.reports.len(),
                    Amount(budget)
                );
                self.void(ctx, id, reason, &[])
            }
            Admit::Void { ambiguous: true } => {
                let reason = format!("ambiguous market with fewer than {} arbiters without a stake", m.min_reports);
                let arbiters: Vec<UserId> = m.reports.iter().map(|(u, _)| *u).collect();
                self.void(ctx, id, reason, &arbiters)
            }
        }
    }

    /// Resolves with outcome X_k = weights[k] / total: each share of outcome k pays X_k.
    pub(crate) fn resolve(
        &mut self,
        ctx: &mut Ctx,
        id: MarketId,
        weights: Vec<u64>,
        total: u64,
        method: &'static str,
        admission: Option<Admission>,
    ) -> EngineResult<()> {
        let m = self.get(id)?;
        if m.status != Status::Reporting {
            return Err(EngineError::AlreadyResolved(format!("market {:?} is {}", m.name, m.status.as_str())));
        }
        if total == 0 || weights.len() != m.outcomes() {
            return Err(EngineError::Internal(format!("resolution of {:?} without weights", m.name)));
        }
        let (mm, pool) = (Account::MarketMaker(id), Account::ArbitrationPool(id));
        let mut mm_left = ctx.ledger.balance(mm).0;
        let mut pool_left = ctx.ledger.balance(pool).0;
        let mut plan = Plan::default();
        let mut pending: Pending = Vec::new();

        // 1. Holders: floor(sum_k shares_k * X_k), in integers.
        for (user, h) in &m.holdings {
            let num: i128 = h.shares.iter().zip(&weights).map(|(s, w)| *s as i128 * *w as i128).sum();
            let pay = i64::try_from(num / total as i128).map_err(|_| overflow("a payout"))?;
            if h.shares.iter().all(|s| *s == 0) {
                continue;
            }
            plan.push(mm, Account::Available(*user), pay);
            mm_left -= pay;
            let shares = h.shares.iter().map(|s| Amount(*s)).collect();
            pending.push((Some(*user), MarketDetail::Payout { shares, amount: Amount(pay) }));
        }
        if mm_left < 0 {
            return Err(EngineError::Internal(format!("market maker of {:?} cannot cover its payouts", m.name)));
        }

        // 2. Arbiters (binary markets resolved by reports): excluded reports, then rewards (or,
        // for an ambiguous market, the creator's bond shared by the admitted arbiters).
        if let Some(adm) = &admission {
            let r = &adm.rewards;
            let p = |x: f64| Amount(prob_micros(x));
            for (i, why) in &adm.excluded {
                if let Some((u, v)) = m.reports.get(*i) {
                    pending.push((Some(*u), MarketDetail::Excluded { report: *v, reason: (*why).to_owned() }));
                }
            }
            pending.push((None, arbitration_detail(adm)?));
            let users: Vec<(UserId, u32)> = adm.admitted.iter().filter_map(|&i| m.reports.get(i).copied()).collect();
            if r.paid {
                let owed: Vec<i64> = r.owed.iter().map(|x| floor_micros(*x)).collect::<EngineResult<_>>()?;
                let sum: i64 = owed.iter().sum();
                let budget = pool_left.checked_add(mm_left).ok_or_else(|| overflow("the reward budget"))?;
                if sum > adm.worst || sum > budget {
                    return Err(EngineError::Internal(format!(
                        "market {:?}: rewards {} exceed the worst case {} or the budget {}",
                        m.name,
                        Amount(sum),
                        Amount(adm.worst),
                        Amount(budget)
                    )));
                }
                for (i, ((user, v), arb)) in users.iter().zip(&adm.arbiters).enumerate() {
                    let pay = owed.get(i).copied().unwrap_or(0);
                    let from_pool = pay.min(pool_left);
                    plan.push(pool, Account::Available(*user), from_pool);
                    plan.push(mm, Account::Available(*user), pay - from_pool);
                    pool_left -= from_pool;
                    mm_left -= pay - from_pool;
                    let peer = users.get(arb.peer).map_or(*user, |(u, _)| *u);
                    pending.push((
                        Some(*user),
                        MarketDetail::Reward {
                            peer,
                            report: *v,
                            a: p(arb.a),
                            c: p(arb.c),
                            owed: Amount(pay),
                            paid: Amount(pay),
                        },
                    ));
                }
            } else if m.bond > 0 && !users.is_empty() {
                // Seed 004's stretch goal: an ambiguous market costs its creator the bond.
                let share = m.bond / users.len() as i64;
                for (user, _) in &users {
                    let from_pool = share.min(pool_left);
                    plan.push(pool, Account::Available(*user), from_pool);
                    pool_left -= from_pool;
                    pending.push((Some(*user), MarketDetail::BondShared { amount: Amount(from_pool) }));
                }
            }
        }

        // 3. The remainder goes back to the creator.
        plan.push(pool, Account::Available(m.creator), pool_left);
        plan.push(mm, Account::Available(m.creator), mm_left);
        let remainder = pool_left.checked_add(mm_left).ok_or_else(|| overflow("the remainder"))?;
        pending.push((Some(m.creator), MarketDetail::Remainder { amount: Amount(remainder) }));

        plan.apply(ctx.ledger)?;

        // Only now, with the money moved, does the state change.
        let outcome =
            weights.iter().map(|w| Amount(((*w as i128 * MICROS_PER_CREDIT as i128) / total as i128) as i64)).collect();
        let counted: Vec<(UserId, u32)> = match &admission {
            Some(adm) => adm.admitted.iter().filter_map(|&i| m.reports.get(i).copied()).collect(),
            None => m.reports.clone(),
        };
        let binary_reports = method == "reports" && m.is_binary();
        emit(ctx, id, None, MarketDetail::Resolved { method, outcome, reports: counted.len() });
        for (user, detail) in pending {
            emit(ctx, id, user, detail);
        }
        if binary_reports {
            let ones = weights.get(1).copied().unwrap_or(0);
            for (u, v) in &counted {
                self.reliability.entry(*u).or_default().record(*v == 1, ones, total);
            }
        }
        let m = self.markets.get_mut(id.index()).ok_or_else(|| EngineError::Internal("market vanished".into()))?;
        m.status = Status::Resolved;
        m.resolution = Some(Resolution { weights, total });
        Ok(())
    }

    /// Resolves N/A: every holder gets back their fees and their net payments to the market maker
    /// (pro rata with a recorded shortfall in the unlikely case its cash does not cover them);
    /// the rest of the market maker's cash returns to the creator.
    pub(crate) fn void(&mut self, ctx: &mut Ctx, id: MarketId, reason: String, bond_to: &[UserId]) -> EngineResult<()> {
        let m = self.get(id)?;
        if m.status != Status::Reporting {
            return Err(EngineError::AlreadyResolved(format!("market {:?} is {}", m.name, m.status.as_str())));
        }
        let (mm, pool) = (Account::MarketMaker(id), Account::ArbitrationPool(id));
        let mm_left = ctx.ledger.balance(mm).0;
        let mut pool_left = ctx.ledger.balance(pool).0;
        let users: Vec<UserId> = m.holdings.keys().copied().collect();
        let paid: Vec<i64> = m.holdings.values().map(|h| h.paid.max(0)).collect();
        let (refunds, shortfall) = within_budget(&paid, mm_left)?;
        let mut plan = Plan::default();
        let mut pending: Pending = Vec::new();
        let mut refunded: i64 = 0;
        for ((user, h), refund) in users.iter().zip(m.holdings.values()).zip(&refunds) {
            let fees = h.fees.min(pool_left);
            pool_left -= fees;
            refunded += refund;
            plan.push(mm, Account::Available(*user), *refund);
            plan.push(pool, Account::Available(*user), fees);
            pending.push((Some(*user), MarketDetail::Refund { amount: Amount(*refund), fees: Amount(fees) }));
        }
        if let Some(s) = shortfall {
            pending.push((None, s));
        }
        // An ambiguous market's bond goes to the arbiters who reported, not back to the creator.
        if m.bond > 0 && !bond_to.is_empty() {
            let share = m.bond / bond_to.len() as i64;
            for user in bond_to {
                let from_pool = share.min(pool_left);
                pool_left -= from_pool;
                plan.push(pool, Account::Available(*user), from_pool);
                pending.push((Some(*user), MarketDetail::BondShared { amount: Amount(from_pool) }));
            }
        }
        let remainder = mm_left - refunded + pool_left;
        plan.push(mm, Account::Available(m.creator), mm_left - refunded);
        plan.push(pool, Account::Available(m.creator), pool_left);
        pending.push((Some(m.creator), MarketDetail::Remainder { amount: Amount(remainder) }));
        plan.apply(ctx.ledger)?;
        emit(ctx, id, None, MarketDetail::Voided { reason });
        for (user, detail) in pending {
            emit(ctx, id, user, detail);
        }
        let m = self.markets.get_mut(id.index()).ok_or_else(|| EngineError::Internal("market vanished".into()))?;
        m.status = Status::Void;
        Ok(())
    }
}

/// The arbiters of one binary question (a market, or an arbitrated series).
pub(crate) struct Panel<'a> {
    pub name: &'a str,
    pub seed: u64,
    pub min_reports: u32,
    /// Micro-credits.
    pub k_floor: i64,
    /// The common prior: the closing price.
    pub mu: f64,
    /// Also guard against a prior of 1/2 (see `arbitration::compute_robust`).
    pub robust_prior: bool,
    pub reports: &'a [(UserId, u32)],
}

/// Admission (see the module's doc): the largest set of arbiters, dropping the largest stakes
/// first, whose worst-case rewards fit in `budget`; for an ambiguous question only arbiters
/// without a stake. `position` gives an arbiter's signed stake in micro-shares.
pub(crate) fn admit_panel(
    reliability: &std::collections::BTreeMap<UserId, crate::prediction::reliability::History>,
    panel: &Panel,
    position: impl Fn(UserId) -> i64,
    budget: i64,
) -> EngineResult<Admit> {
    let mu = panel.mu;
    let floor = panel.k_floor as f64 / MICROS_PER_CREDIT as f64;
    let reports = panel.reports;
    let n = reports.len();
    let min = panel.min_reports as usize;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (position(reports[i].0).unsigned_abs(), i));
    for size in (min.max(2)..=n).rev() {
        let mut set: Vec<usize> = order.iter().copied().take(size).collect();
        set.sort_unstable();
        let ids: Vec<UserId> = set.iter().map(|&i| reports[i].0).collect();
        let seed = peers::seed(panel.name, panel.seed, &ids);
        let peer_of = peers::draw(set.len(), seed);
        let arbiters: Vec<Arbiter> = set
            .iter()
            .zip(&peer_of)
            .map(|(&i, &peer)| {
                let (u, v) = reports[i];
                let hist = reliability.get(&u).copied().unwrap_or_default();
                Arbiter {
                    a: hist.a(),
                    c: hist.c(),
                    position: position(u) as f64 / MICROS_PER_CREDIT as f64,
                    report: v == 1,
                    peer,
                }
            })
            .collect();
        let priors = if panel.robust_prior { vec![mu, 0.5] } else { vec![mu] };
        let rewards = arbitration::compute_robust(mu, &priors, &arbiters, floor);
        let left_out = |kept: &[usize], why: &'static str| -> Vec<(usize, &'static str)> {
            (0..n).filter(|i| !kept.contains(i)).map(|i| (i, why)).collect()
        };
        if !rewards.paid {
            // Ambiguous: no rewards, so only arbiters without a stake (who gain nothing from
            // any report) are admitted; they share the sponsor's bond.
            let (kept, arbiters): (Vec<usize>, Vec<Arbiter>) =
                set.iter().copied().zip(arbiters).filter(|(_, a)| a.position == 0.0).unzip();
            if kept.len() < min {
                return Ok(Admit::Void { ambiguous: true });
            }
            let excluded = left_out(&kept, "ambiguous: arbiters with a stake are not admitted");
            return Ok(Admit::Yes(Admission { admitted: kept, excluded, arbiters, rewards, seed, budget, worst: 0 }));
        }
        let one = floor_micros(rewards.k * rewards.midpoint)?.max(floor_micros(rewards.k * (1.0 - rewards.midpoint))?);
        let worst = one.checked_mul(set.len() as i64).ok_or_else(|| overflow("the worst-case rewards"))?;
        if worst <= budget {
            let excluded = left_out(&set, "the arbitration budget does not cover this stake");
            return Ok(Admit::Yes(Admission { admitted: set, excluded, arbiters, rewards, seed, budget, worst }));
        }
    }
    Ok(Admit::Void { ambiguous: false })
}

/// Micro-credits each admitted arbiter is owed (floored).
pub(crate) fn owed_micros(adm: &Admission) -> EngineResult<Vec<i64>> {
    adm.rewards.owed.iter().map(|x| floor_micros(*x)).collect()
}

/// The `arbitration` event of an admission.
pub(crate) fn arbitration_detail(adm: &Admission) -> EngineResult<MarketDetail> {
    let r = &adm.rewards;
    let p = |x: f64| Amount(prob_micros(x));
    Ok(MarketDetail::Arbitration {
        seed: Seed(adm.seed),
        mu: p(r.mu),
        mu1: p(r.mu1),
        mu0: p(r.mu0),
        delta: Amount(prob_micros(r.delta.abs()) * r.delta.signum() as i64),
        midpoint: p(r.midpoint),
        k: Amount(floor_micros(r.k)?),
        rewarded: r.paid,
        admitted: adm.admitted.len(),
        budget: Amount(adm.budget),
        worst_case: Amount(adm.worst),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_micros_rounds_down_clamps_at_zero_and_refuses_from_9e18_micro_credits() {
        assert_eq!(floor_micros(1.9999999).unwrap(), 1_999_999);
        assert_eq!(floor_micros(-3.0).unwrap(), 0);
        assert_eq!(floor_micros(8.999_999e12).unwrap(), 8_999_999_000_000_000_000);
        for bad in [9.0e12, f64::INFINITY, f64::NAN] {
            assert_eq!(floor_micros(bad).unwrap_err().code(), "overflow", "{bad}");
        }
    }

    #[test]
    fn rewards_over_budget_are_paid_pro_rata_and_the_shortfall_says_what_is_missing() {
        assert_eq!(within_budget(&[3, 1], 4).unwrap(), (vec![3, 1], None));
        let (paid, shortfall) = within_budget(&[3_000_000, 1_000_000], 2_000_000).unwrap();
        assert_eq!(paid, [1_500_000, 500_000]);
        assert_eq!(
            shortfall,
            Some(MarketDetail::Shortfall {
                owed: Amount(4_000_000),
                paid: Amount(2_000_000),
                missing: Amount(2_000_000)
            })
        );
    }

    #[test]
    fn a_resolution_without_weights_for_every_outcome_is_an_internal_error() {
        use serde_json::json;
        let mut t = crate::exchange::testing::T::new(&[("alice", "100")]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m1","user":"alice","statement":"s",
            "deadline":"2026-12-10T00:00:00Z","b":"10","fee":"0.05","initial_shares":"0"}));
        t.run(json!({"at":"2026-12-11T00:00:00Z","op":"tick"}));
        let now = t.engine.now().unwrap();
        for (weights, total) in [(vec![0, 0], 0), (vec![1, 0, 0], 1), (vec![1], 1)] {
            let (mut ledger, mut out) = (t.engine.ledger.clone(), Vec::new());
            let mut ctx = Ctx { ledger: &mut ledger, out: &mut out, now };
            let err = t.engine.markets.clone().resolve(&mut ctx, MarketId(0), weights, total, "reports", None);
            assert!(matches!(err, Err(EngineError::Internal(_))), "{err:?}");
        }
    }

    #[test]
    fn a_market_maker_that_cannot_cover_the_payouts_stops_the_resolution() {
        use serde_json::json;
        let mut t = crate::exchange::testing::T::new(&[("alice", "100"), ("bob", "100")]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m1","user":"alice","statement":"s",
            "deadline":"2026-12-10T00:00:00Z","b":"10","fee":"0.05","initial_shares":"0"}));
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"trade","id":"t1","user":"bob","market":"m1","shares":"20"}));
        t.run(json!({"at":"2026-12-11T00:00:00Z","op":"tick"}));
        let now = t.engine.now().unwrap();
        let (mut ledger, mut out) = (t.engine.ledger.clone(), Vec::new());
        // Drain the market maker (as a bug would) below bob's 20 credits of YES.
        let mm = ledger.balance(Account::MarketMaker(MarketId(0)));
        ledger.transfer(Account::MarketMaker(MarketId(0)), Account::Mint, Amount(mm.0 - 19_000_000)).unwrap();
        let before = ledger.clone();
        let mut ctx = Ctx { ledger: &mut ledger, out: &mut out, now };
        let err = t.engine.markets.clone().resolve(&mut ctx, MarketId(0), vec![0, 1], 1, "tracker", None);
        assert!(matches!(&err, Err(EngineError::Internal(m)) if m.contains("cannot cover its payouts")), "{err:?}");
        assert!(ledger == before, "no money moved");
    }
}
