//! Resolution (payouts, arbiters' rewards, remainder) and N/A voiding (refunds). Each is planned
//! completely, checked against the market's two accounts, and applied as one ledger plan, and the
//! market leaves the reporting state in the same step: it happens exactly once.
//!
//! Budget order: holders' payouts come from the market maker's cash (always enough: see
//! lmsr.rs); rewards from the fee pool first, then what is left of the market maker's cash; if
//! the rewards owed exceed that budget, everyone is paid pro rata (rounded down) and the
//! shortfall is recorded in a `shortfall` event. Whatever remains goes back to the creator, who
//! funded the subsidy. Nothing is ever minted.

use crate::error::{overflow, EngineError, EngineResult};
use crate::exchange::Ctx;
use crate::ids::{MarketId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, MICROS_PER_CREDIT};
use crate::prediction::arbitration::{self, Arbiter};
use crate::prediction::events::{MarketDetail, Seed};
use crate::prediction::lmsr::prob_micros;
use crate::prediction::market::{Resolution, Status};
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

impl Markets {
    pub(crate) fn resolve_by_reports(&mut self, ctx: &mut Ctx, id: MarketId) -> EngineResult<()> {
        let m = self.get(id)?;
        let mut weights = vec![0u64; m.outcomes()];
        for (_, v) in &m.reports {
            if let Some(w) = weights.get_mut(*v as usize) {
                *w += 1;
            }
        }
        let total = m.reports.len() as u64;
        self.resolve(ctx, id, weights, total, "reports")
    }

    /// Resolves with outcome X_k = weights[k] / total: each share of outcome k pays X_k.
    pub(crate) fn resolve(
        &mut self,
        ctx: &mut Ctx,
        id: MarketId,
        weights: Vec<u64>,
        total: u64,
        method: &'static str,
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

        // 2. Arbiters' rewards (binary markets resolved by reports).
        if method == "reports" && m.is_binary() {
            let seed = peers::seed(&m.name, m.seed, &m.reports);
            let peer_of = peers::draw(m.reports.len(), seed);
            let arbiters: Vec<Arbiter> = m
                .reports
                .iter()
                .zip(&peer_of)
                .map(|((u, v), peer)| {
                    let hist = self.reliability.get(u).copied().unwrap_or_default();
                    let net = m
                        .holding(*u)
                        .map_or(0, |h| h.shares.get(1).copied().unwrap_or(0) - h.shares.first().copied().unwrap_or(0));
                    Arbiter {
                        a: hist.a(),
                        c: hist.c(),
                        position: net as f64 / MICROS_PER_CREDIT as f64,
                        report: *v == 1,
                        peer: *peer,
                    }
                })
                .collect();
            let mu = m.lmsr.price(&m.q, 1)?;
            let r = arbitration::compute(mu, &arbiters, m.k_floor as f64 / MICROS_PER_CREDIT as f64);
            let p = |x: f64| Amount(prob_micros(x));
            pending.push((
                None,
                MarketDetail::Arbitration {
                    seed: Seed(seed),
                    mu: p(r.mu),
                    mu1: p(r.mu1),
                    mu0: p(r.mu0),
                    delta: Amount(prob_micros(r.delta.abs()) * if r.delta < 0.0 { -1 } else { 1 }),
                    midpoint: p(r.midpoint),
                    k: Amount(floor_micros(r.k)?),
                    rewarded: r.paid,
                },
            ));
            if r.paid {
                let owed: Vec<i64> = r.owed.iter().map(|x| floor_micros(*x)).collect::<EngineResult<_>>()?;
                let budget = pool_left.checked_add(mm_left).ok_or_else(|| overflow("the reward budget"))?;
                let (paid, shortfall) = within_budget(&owed, budget)?;
                for (i, ((user, v), arb)) in m.reports.iter().zip(&arbiters).enumerate() {
                    let pay = paid.get(i).copied().unwrap_or(0);
                    let from_pool = pay.min(pool_left);
                    plan.push(pool, Account::Available(*user), from_pool);
                    plan.push(mm, Account::Available(*user), pay - from_pool);
                    pool_left -= from_pool;
                    mm_left -= pay - from_pool;
                    let peer = m.reports.get(arb.peer).map_or(*user, |(u, _)| *u);
                    pending.push((
                        Some(*user),
                        MarketDetail::Reward {
                            peer,
                            report: *v,
                            a: p(arb.a),
                            c: p(arb.c),
                            owed: Amount(owed.get(i).copied().unwrap_or(0)),
                            paid: Amount(pay),
                        },
                    ));
                }
                if let Some(s) = shortfall {
                    pending.push((None, s));
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
        let reports = m.reports.clone();
        let binary_reports = method == "reports" && m.is_binary();
        emit(ctx, id, None, MarketDetail::Resolved { method, outcome, reports: reports.len() });
        for (user, detail) in pending {
            emit(ctx, id, user, detail);
        }
        if binary_reports {
            let ones = weights.get(1).copied().unwrap_or(0);
            for (u, v) in &reports {
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
    pub(crate) fn void(&mut self, ctx: &mut Ctx, id: MarketId, reason: String) -> EngineResult<()> {
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
