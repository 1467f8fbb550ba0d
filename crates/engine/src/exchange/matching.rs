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
use crate::exchange::book::Book;
use crate::exchange::types::{CancelReason, OfferKind, OfferStatus, TradeKind};
use crate::exchange::{Ctx, Exchange, Offer, Trader};
use crate::ids::{OfferId, UserId};
use crate::ledger::{Account, Ledger};
use crate::money::{Amount, Price};
use crate::rows::Rows;

/// Reusable buffers of the matcher.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scratch {
    plan: Vec<(OfferId, u64)>,
    own: Vec<OfferId>,
    pools: FxHashMap<UserId, SimPool>,
}

/// A maker's pool as the plan simulates it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct SimPool {
    /// pool hold + available, after the planned fills so far.
    funds: i64,
    /// Pooled offers a planned fill would suspend.
    suspended: FxHashSet<OfferId>,
}

impl Exchange {
    /// Matches the open offer `taker` (already reserved, not yet on the book), then rests what
    /// is left of it on the book.
    pub(crate) fn match_and_rest(&mut self, ctx: &mut Ctx, taker: OfferId) -> EngineResult<()> {
        // The plan lives in the exchange's scratch space (no allocation per offer). Nothing the
        // fills do matches again (fills, retirements and pool rebalances never place an
        // offer), so it stays as planned while it runs.
        let planned = plan(&self.offers, &self.books, &self.traders, ctx.ledger, taker, &mut self.scratch);
        let result = self.execute_plan(ctx, taker, planned);
        let s = &mut self.scratch;
        s.plan.clear();
        s.own.clear();
        s.pools.clear();
        result
    }

    fn execute_plan(&mut self, ctx: &mut Ctx, taker: OfferId, planned: u64) -> EngineResult<()> {
        for i in 0..self.scratch.own.len() {
            let own = self.scratch.own[i];
            self.retire(ctx, own, OfferStatus::Cancelled, CancelReason::SelfTrade)?;
        }
        let t = &self.offers[taker.index()];
        if !(t.aon && planned < t.remaining) {
            for i in 0..self.scratch.plan.len() {
                let (maker, volume) = self.scratch.plan[i];
                self.fill(ctx, taker, maker, volume)?;
            }
        }
        // Open means unfilled: a fill that takes the last unit marks the offer filled.
        let t = &self.offers[taker.index()];
        if t.status == OfferStatus::Open {
            let (series, bid, bp) = (t.series, t.kind.is_bid(), t.book_bp());
            self.books[series.index()].insert(&mut self.offers, bid, bp, taker);
        }
        Ok(())
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
        // Only buy offers can be poolable (`place` refuses others).
        for id in [maker, taker] {
            let o = &self.offers[id.index()];
            if o.poolable {
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
        let pos = match self.positions.entry((user, series)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.series[series.index()].holders.push(user);
                e.insert(Default::default())
            }
        };
        pos.side_mut(side).buy(volume, paid)
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
        self.books[series.index()].remove(&mut self.offers, bid, bp, id);
        // Only expirations before the maturation are scheduled; removing one that is not is a
        // no-op.
        self.expiries.remove(&(exp, id));
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
            self.books[series.index()].remove(&mut self.offers, bid, bp, id);
        }
        self.expiries.remove(&(exp, id));
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

/// Fills the plan would make for `taker` (into `s`); returns the planned volume.
fn plan(
    offers: &Rows<Offer>,
    books: &[Book],
    traders: &[Trader],
    ledger: &Ledger,
    taker: OfferId,
    s: &mut Scratch,
) -> u64 {
    let t = &offers[taker.index()];
    let mut need = t.remaining;
    let book = &books[t.series.index()];
    let resting_bids = !t.kind.is_bid();
    let Scratch { plan, own, pools } = s;
    book.visit_crossing::<(), _>(offers, resting_bids, t.book_bp(), |_, level| {
        for id in level {
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
                    // The rebalance after this fill suspends every pooled offer the funds no
                    // longer cover. Marking more than those is harmless: offers that are not
                    // open, and this one (already planned; a book lists it once), are never
                    // looked up again.
                    for &p in &traders[o.user.index()].pooled {
                        let po = &offers[p.index()];
                        if po.price.cost(po.remaining).map_or(i64::MAX, |a| a.0) > sim.funds {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::error::EngineError;
    use crate::exchange::testing::{cr, T};
    use crate::exchange::types::OfferStatus;
    use crate::exchange::Ctx;

    const T1: &str = "2026-12-01T10:00:00Z";
    const T2: &str = "2026-12-01T11:00:00Z";
    const T3: &str = "2026-12-01T12:00:00Z";

    /// Maker `m` (with `deposit` credits) bids 0.5 and 0.4 for 100 units each from one pool
    /// (hold 50); `t` sells into both in one sweep. The first fill pays 50, leaving
    /// `deposit - 50` for the second's requirement of 40.
    fn two_pooled_bids_one_sweep(deposit: &str) -> T {
        let mut t = T::new(&[("m", deposit), ("t", "1000")]);
        t.offer(T1, "m1", "m", "buy_fixed", "0.5", 100, json!({"poolable":true}));
        t.offer(T1, "m2", "m", "buy_fixed", "0.4", 100, json!({"poolable":true}));
        assert_eq!(t.balance("m").1, cr("50"), "one pool hold: the larger requirement");
        t.offer(T2, "t1", "t", "buy_unfixed", "0.6", 200, json!({}));
        t
    }

    #[test]
    fn a_sweep_fills_every_pooled_offer_the_funds_still_cover() {
        // 50 left for 40: both fill (this fails if the plan loses the available funds).
        let t = two_pooled_bids_one_sweep("100");
        assert_eq!(
            (t.status("m1"), t.status("m2"), t.status("t1")),
            (OfferStatus::Filled, OfferStatus::Filled, OfferStatus::Filled)
        );
        assert_eq!(t.balance("m"), (cr("10"), cr("0")));
        // Exactly enough (40 for 40) still fills: only a requirement above the funds suspends.
        let t = two_pooled_bids_one_sweep("90");
        assert_eq!((t.status("m2"), t.status("t1")), (OfferStatus::Filled, OfferStatus::Filled));
        assert_eq!(t.balance("m"), (cr("0"), cr("0")));
    }

    #[test]
    fn a_sweep_skips_the_pooled_offers_an_earlier_fill_suspends() {
        // 30 left for 40: the first fill suspends m2, so the plan must not count it (executing
        // it would fail) and the rest of t1 rests on the book.
        let t = two_pooled_bids_one_sweep("80");
        assert_eq!((t.status("m1"), t.status("m2")), (OfferStatus::Filled, OfferStatus::Suspended));
        assert_eq!((t.status("t1"), t.remaining("t1")), (OfferStatus::Open, 100));
        assert_eq!(t.balance("m"), (cr("30"), cr("0")));
        let x = &t.engine.exchange;
        let s = x.offers[t.id("t1").index()].series;
        assert_eq!(x.books[s.index()].all(&x.offers).collect::<Vec<_>>(), [t.id("t1")], "the rest of t1 rests alone");
    }

    #[test]
    fn a_makers_sale_earlier_in_the_sweep_funds_its_later_pooled_fills() {
        let mut t = T::new(&[("m", "140"), ("x", "1000"), ("t", "1000")]);
        // m buys 100 fixed units (pays 50), then offers them at 0.3 and bids for unfixed units
        // from a pool: u1 needs 60, u2 needs 50; pool 60, 30 available.
        t.offer(T1, "mb", "m", "buy_fixed", "0.5", 100, json!({}));
        t.offer(T1, "xb", "x", "buy_unfixed", "0.5", 100, json!({}));
        t.offer(T2, "s1", "m", "sell_fixed", "0.3", 100, json!({}));
        t.offer(T2, "u1", "m", "buy_unfixed", "0.6", 100, json!({"poolable":true}));
        t.offer(T2, "u2", "m", "buy_unfixed", "0.5", 100, json!({"poolable":true}));
        assert_eq!(t.balance("m"), (cr("30"), cr("60")));
        // t's bid takes s1 (m receives 30), u1 (m pays 60) and u2: 60 left covers its 50.
        t.offer(T3, "tb", "t", "buy_fixed", "0.6", 300, json!({}));
        for o in ["s1", "u1", "u2", "tb"] {
            assert_eq!(t.status(o), OfferStatus::Filled, "{o}");
        }
        assert_eq!(t.balance("m"), (cr("10"), cr("0")));
    }

    #[test]
    fn a_makers_sale_too_small_for_its_later_pooled_fill_suspends_that_offer() {
        let mut t = T::new(&[("m", "140"), ("x", "1000"), ("t", "1000")]);
        // As above, but m offers its fixed units at 0.1: the sale brings 10, so after u1 (60)
        // 40 are left for u2's 50, and the plan must skip u2 (executing it would fail).
        t.offer(T1, "mb", "m", "buy_fixed", "0.5", 100, json!({}));
        t.offer(T1, "xb", "x", "buy_unfixed", "0.5", 100, json!({}));
        t.offer(T2, "s1", "m", "sell_fixed", "0.1", 100, json!({}));
        t.offer(T2, "u1", "m", "buy_unfixed", "0.6", 100, json!({"poolable":true}));
        t.offer(T2, "u2", "m", "buy_unfixed", "0.5", 100, json!({"poolable":true}));
        t.offer(T3, "tb", "t", "buy_fixed", "0.6", 300, json!({}));
        assert_eq!(
            (t.status("s1"), t.status("u1"), t.status("u2")),
            (OfferStatus::Filled, OfferStatus::Filled, OfferStatus::Suspended)
        );
        assert_eq!((t.status("tb"), t.remaining("tb")), (OfferStatus::Open, 100));
        assert_eq!(t.balance("m"), (cr("40"), cr("0")));
    }

    #[test]
    fn a_makers_ordinary_bid_in_the_sweep_does_not_draw_on_its_pool() {
        // m's pool (60 for u1) plus 50 available cover u1 then u2; n1, an ordinary bid, is paid
        // from its own hold of 55, so it must not count against the pool's funds.
        let mut t = T::new(&[("m", "165"), ("t", "1000")]);
        t.offer(T1, "u1", "m", "buy_unfixed", "0.6", 100, json!({"poolable":true}));
        t.offer(T1, "n1", "m", "buy_unfixed", "0.55", 100, json!({}));
        t.offer(T1, "u2", "m", "buy_unfixed", "0.5", 100, json!({"poolable":true}));
        assert_eq!(t.balance("m"), (cr("50"), cr("115")));
        t.offer(T2, "tb", "t", "buy_fixed", "0.5", 300, json!({}));
        for o in ["u1", "n1", "u2", "tb"] {
            assert_eq!(t.status(o), OfferStatus::Filled, "{o}");
        }
        assert_eq!(t.balance("m"), (cr("0"), cr("0")));
    }

    #[test]
    fn a_fill_the_plan_got_wrong_is_an_internal_error() {
        // b rests; u, all-or-none for more than b offers, crosses it without trading.
        let mut t = T::new(&[("a", "100"), ("c", "100")]);
        t.offer(T1, "b", "a", "buy_fixed", "0.5", 10, json!({}));
        t.offer(T2, "u", "c", "buy_unfixed", "0.5", 20, json!({"aon":true}));
        assert_eq!((t.status("b"), t.status("u")), (OfferStatus::Open, OfferStatus::Open));
        let (u, b) = (t.id("u"), t.id("b"));
        let fill = |t: &T, volume: u64, status: OfferStatus| {
            let (mut x, mut ledger, mut out) = (t.engine.exchange.clone(), t.engine.ledger.clone(), Vec::new());
            x.offers[b.index()].status = status;
            let now = t.engine.now().unwrap();
            let r = x.fill(&mut Ctx { ledger: &mut ledger, out: &mut out, now }, u, b, volume);
            (r, x)
        };
        let internal =
            |r: Result<(), EngineError>| matches!(r, Err(EngineError::Internal(m)) if m.contains("no longer possible"));
        assert!(internal(fill(&t, 11, OfferStatus::Open).0), "more than the maker has left");
        assert!(internal(fill(&t, 1, OfferStatus::Suspended).0), "a maker that is no longer open");
        let (r, x) = fill(&t, 10, OfferStatus::Open);
        r.unwrap();
        assert_eq!(x.offers[b.index()].status, OfferStatus::Filled);
    }
}
