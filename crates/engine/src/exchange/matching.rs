//! Matching an arriving offer against the opposite side of its series' book.
//!
//! Two phases, so that all-or-none works exactly:
//! 1. *plan*: walk the crossing levels best first (price, then time), skipping the taker's own
//!    offers (they are cancelled: self-trade prevention) and resting AON offers that the taker
//!    cannot fill whole, and simulate how each maker's pooled hold evolves, so that a maker offer
//!    that an earlier fill of the same maker would suspend is not counted;
//! 2. *execute*: an AON taker whose plan falls short trades nothing; otherwise every planned fill
//!    runs at the resting offer's price, the taker keeping any price improvement.

use std::ops::ControlFlow;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::types::{CancelReason, OfferKind, OfferStatus, TradeKind};
use crate::exchange::{Ctx, Exchange};
use crate::ids::{OfferId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, Price};

/// Reusable buffers of the matcher.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scratch {
    plan: Vec<(OfferId, u64)>,
    own: Vec<OfferId>,
    pools: FxHashMap<UserId, SimPool>,
}

/// A maker's pool as the plan simulates it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SimPool {
    /// pool hold + available, after the planned fills so far.
    funds: i64,
    /// Pooled offers a planned fill would suspend.
    suspended: FxHashSet<OfferId>,
    /// Volume planned per pooled offer (their requirement shrinks as they fill).
    planned: FxHashMap<OfferId, u64>,
}

impl Exchange {
    /// Matches the open offer `taker` (already reserved, not yet on the book), then rests what
    /// is left of it on the book.
    pub(crate) fn match_and_rest(&mut self, ctx: &mut Ctx, taker: OfferId) -> EngineResult<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = self.match_with(ctx, taker, &mut scratch);
        scratch.plan.clear();
        scratch.own.clear();
        scratch.pools.clear();
        self.scratch = scratch;
        result
    }

    fn match_with(&mut self, ctx: &mut Ctx, taker: OfferId, s: &mut Scratch) -> EngineResult<()> {
        let planned = self.plan(ctx, taker, s);
        for &own in &s.own {
            self.retire(ctx, own, OfferStatus::Cancelled, CancelReason::SelfTrade)?;
        }
        let t = &self.offers[taker.index()];
        if !(t.aon && planned < t.remaining) {
            for i in 0..s.plan.len() {
                let (maker, volume) = s.plan[i];
                self.fill(ctx, taker, maker, volume)?;
            }
        }
        let t = &self.offers[taker.index()];
        if t.status == OfferStatus::Open && t.remaining > 0 {
            let (series, bid, bp) = (t.series, t.kind.is_bid(), t.book_bp());
            self.books[series.index()].insert(bid, bp, taker);
        }
        Ok(())
    }

    /// Fills the plan would make for `taker`; returns the planned volume.
    fn plan(&self, ctx: &Ctx, taker: OfferId, s: &mut Scratch) -> u64 {
        let t = &self.offers[taker.index()];
        let mut need = t.remaining;
        let book = &self.books[t.series.index()];
        let resting_bids = !t.kind.is_bid();
        let offers = &self.offers;
        let traders = &self.traders;
        let ledger = &*ctx.ledger;
        let Scratch { plan, own, pools } = s;
        book.visit_crossing::<()>(resting_bids, t.book_bp(), |_, level| {
            for &id in level {
                let o = &offers[id.index()];
                if o.user == t.user {
                    own.push(id);
                    continue;
                }
                if o.status != OfferStatus::Open {
                    continue;
                }
                let pooled = o.kind.is_buy() && o.poolable;
                if pooled && pools.get(&o.user).is_some_and(|p| p.suspended.contains(&id)) {
                    continue;
                }
                let volume = if o.aon {
                    if o.remaining > need {
                        continue;
                    }
                    o.remaining
                } else {
                    o.remaining.min(need)
                };
                let amount = o.price.cost(volume).map_or(i64::MAX, |a| a.0);
                let maker_has_pool = traders.get(o.user.index()).is_some_and(|tr| !tr.pooled.is_empty());
                if maker_has_pool {
                    let sim = pools.entry(o.user).or_insert_with(|| SimPool {
                        funds: traders[o.user.index()].pool_hold.0 + ledger.balance(Account::Available(o.user)).0,
                        ..SimPool::default()
                    });
                    if pooled {
                        sim.funds -= amount;
                        *sim.planned.entry(id).or_default() += volume;
                        for &p in &traders[o.user.index()].pooled {
                            let po = &offers[p.index()];
                            if po.status != OfferStatus::Open || sim.suspended.contains(&p) {
                                continue;
                            }
                            let left = po.remaining - sim.planned.get(&p).copied().unwrap_or(0);
                            let req = po.price.cost(left).map_or(i64::MAX, |a| a.0);
                            if req > sim.funds {
                                sim.suspended.insert(p);
                            }
                        }
                    } else if !o.kind.is_buy() {
                        sim.funds += amount;
                    }
                }
                plan.push((id, volume));
                need -= volume;
                if need == 0 {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        t.remaining - need
    }

    /// Executes one fill of `volume` between the arriving `taker` and the resting `maker`, at
    /// the maker's price.
    fn fill(&mut self, ctx: &mut Ctx, taker: OfferId, maker: OfferId, volume: u64) -> EngineResult<()> {
        let m = &self.offers[maker.index()];
        if m.status != OfferStatus::Open || m.remaining < volume {
            return Err(EngineError::Internal(format!("planned fill of offer {} no longer possible", maker.0)));
        }
        let price = Price::from_bp(m.book_bp() as u32).ok_or_else(|| EngineError::Internal("book price".into()))?;
        let (bid, ask) = if self.offers[taker.index()].kind.is_bid() { (taker, maker) } else { (maker, taker) };
        let (b, a) = (&self.offers[bid.index()], &self.offers[ask.index()]);
        let (bid_kind, ask_kind, bid_user, ask_user, series) = (b.kind, a.kind, b.user, a.user, b.series);
        let kind = TradeKind::of(bid_kind, ask_kind);
        let fixed_amount = price.cost(volume).ok_or_else(|| crate::error::overflow("trade value"))?;
        let unfixed_amount = price.complement().cost(volume).ok_or_else(|| crate::error::overflow("trade value"))?;
        let escrow = Account::Escrow(series);
        match (bid_kind, ask_kind) {
            (OfferKind::BuyFixed, OfferKind::BuyUnfixed) => {
                self.pay(ctx, bid, fixed_amount, escrow, volume)?;
                self.pay(ctx, ask, unfixed_amount, escrow, volume)?;
                self.acquire(bid, volume, fixed_amount)?;
                self.acquire(ask, volume, unfixed_amount)?;
                let s = &mut self.series[series.index()];
                s.units = s.units.checked_add(volume).ok_or_else(|| crate::error::overflow("units"))?;
            }
            (OfferKind::BuyFixed, OfferKind::SellFixed) => {
                self.pay(ctx, bid, fixed_amount, Account::Available(ask_user), volume)?;
                self.dispose(ask, volume, fixed_amount)?;
                self.acquire(bid, volume, fixed_amount)?;
            }
            (OfferKind::SellUnfixed, OfferKind::BuyUnfixed) => {
                self.pay(ctx, ask, unfixed_amount, Account::Available(bid_user), volume)?;
                self.dispose(bid, volume, unfixed_amount)?;
                self.acquire(ask, volume, unfixed_amount)?;
            }
            (OfferKind::SellUnfixed, OfferKind::SellFixed) => {
                ctx.ledger.transfer(escrow, Account::Available(ask_user), fixed_amount)?;
                ctx.ledger.transfer(escrow, Account::Available(bid_user), unfixed_amount)?;
                self.dispose(ask, volume, fixed_amount)?;
                self.dispose(bid, volume, unfixed_amount)?;
                let s = &mut self.series[series.index()];
                s.units = s.units.checked_sub(volume).ok_or_else(|| EngineError::Internal("units underflow".into()))?;
            }
            _ => return Err(EngineError::Internal("a bid met a bid".into())),
        }
        let s = &mut self.series[series.index()];
        s.last_price = Some(price);
        s.traded_volume = s.traded_volume.saturating_add(volume);
        ctx.emit(Event::Traded { series, kind, price, volume, bid, bid_user, ask, ask_user, maker });
        for (id, user) in [(maker, self.offers[maker.index()].user), (taker, self.offers[taker.index()].user)] {
            let o = &mut self.offers[id.index()];
            o.remaining -= volume;
            if o.remaining == 0 {
                self.finish(id)?;
                ctx.emit(Event::OfferFilled { offer: id, user });
            }
        }
        for id in [maker, taker] {
            let o = &self.offers[id.index()];
            if o.kind.is_buy() && o.poolable {
                self.rebalance_pool(ctx, o.user)?;
            }
        }
        Ok(())
    }

    /// A buyer pays `amount` for `volume` units from its hold; a non-pooled offer gets back the
    /// part of its hold the price improvement freed.
    fn pay(&mut self, ctx: &mut Ctx, buyer: OfferId, amount: Amount, to: Account, volume: u64) -> EngineResult<()> {
        let o = &self.offers[buyer.index()];
        let user = o.user;
        ctx.ledger.transfer(Account::Held(user), to, amount)?;
        if !o.poolable {
            let reserved = o.price.cost(volume).ok_or_else(|| crate::error::overflow("hold"))?;
            let improvement = reserved.checked_sub(amount).ok_or_else(|| crate::error::overflow("hold"))?;
            ctx.ledger.transfer(Account::Held(user), Account::Available(user), improvement)?;
        } else {
            // The pool shrank by what was paid; rebalance_pool (after the fill) settles the rest.
            let t = self.trader_mut(user);
            t.pool_hold = t.pool_hold.checked_sub(amount).ok_or_else(|| crate::error::overflow("pool"))?;
        }
        Ok(())
    }

    fn acquire(&mut self, offer: OfferId, volume: u64, paid: Amount) -> EngineResult<()> {
        let o = &self.offers[offer.index()];
        let (user, series, side) = (o.user, o.series, o.kind.side());
        self.series[series.index()].holders.insert(user);
        self.positions.entry((user, series)).or_default().side_mut(side).buy(volume, paid)
    }

    fn dispose(&mut self, offer: OfferId, volume: u64, proceeds: Amount) -> EngineResult<()> {
        let o = &self.offers[offer.index()];
        let (user, series, side) = (o.user, o.series, o.kind.side());
        let pos = self
            .positions
            .get_mut(&(user, series))
            .ok_or_else(|| EngineError::Internal("seller without position".into()))?;
        let h = pos.side_mut(side);
        h.held = h.held.checked_sub(volume).ok_or_else(|| EngineError::Internal("unit hold underflow".into()))?;
        h.dispose(volume, proceeds)
    }

    /// Bookkeeping for an offer that just filled completely.
    fn finish(&mut self, id: OfferId) -> EngineResult<()> {
        let o = &mut self.offers[id.index()];
        o.status = OfferStatus::Filled;
        let (user, series, bid, bp, exp, poolable) =
            (o.user, o.series, o.kind.is_bid(), o.book_bp(), o.expiration, o.poolable);
        self.books[series.index()].remove(bid, bp, id);
        if exp < self.series[series.index()].maturation {
            self.expiries.remove(&(exp, id));
        }
        let t = self.trader_mut(user);
        t.live_offers = t.live_offers.saturating_sub(1);
        if poolable {
            t.pooled.retain(|o| *o != id);
        }
        Ok(())
    }

    /// Takes a live offer out of play with a final status (cancelled or expired) and releases
    /// what it reserved.
    pub(crate) fn retire(
        &mut self,
        ctx: &mut Ctx,
        id: OfferId,
        status: OfferStatus,
        reason: CancelReason,
    ) -> EngineResult<()> {
        let o = &mut self.offers[id.index()];
        if !o.is_live() {
            return Err(EngineError::Internal(format!("retiring offer {} which is {:?}", id.0, o.status)));
        }
        let was_open = o.status == OfferStatus::Open;
        o.status = status;
        let (user, series, bid, bp, exp) = (o.user, o.series, o.kind.is_bid(), o.book_bp(), o.expiration);
        if was_open {
            self.books[series.index()].remove(bid, bp, id);
        }
        if exp < self.series[series.index()].maturation {
            self.expiries.remove(&(exp, id));
        }
        let t = self.trader_mut(user);
        t.live_offers = t.live_offers.saturating_sub(1);
        self.release(ctx, id, was_open)?;
        ctx.emit(match status {
            OfferStatus::Expired => Event::OfferExpired { offer: id, user },
            _ => Event::OfferCancelled { offer: id, user, reason },
        });
        Ok(())
    }
}
