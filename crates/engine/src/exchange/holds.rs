//! What open offers reserve. A buy offer holds `remaining x price` credits; a sell offer holds
//! its remaining units. Poolable buy offers of one user share a single hold equal to the largest
//! of their requirements; when a fill leaves too little for the others, those that no longer fit
//! are suspended (spec/exchange.md). Invariant, for every user:
//! `Held = sum(requirements of open non-pooled buys) + pool_hold`, and
//! `pool_hold = max(requirements of open pooled buys)`.

use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::types::OfferStatus;
use crate::exchange::{Ctx, Exchange, Offer};
use crate::ids::{OfferId, UserId};
use crate::ledger::{Account, Ledger};
use crate::money::Amount;

impl Exchange {
    /// Checks, without changing anything, that `offer` (not yet placed) can be reserved.
    pub(crate) fn check_reservable(&self, ledger: &Ledger, offer: &Offer) -> EngineResult<()> {
        let user = offer.user;
        if offer.kind.is_buy() {
            let need = offer.price.cost(offer.remaining).ok_or_else(|| crate::error::overflow("offer cost"))?;
            let extra = if offer.poolable {
                let pool = self.trader(user).map_or(Amount::ZERO, |t| t.pool_hold);
                Amount(need.0.saturating_sub(pool.0).max(0))
            } else {
                need
            };
            let available = ledger.balance(Account::Available(user));
            if extra > available {
                return Err(EngineError::InsufficientFunds(format!(
                    "the offer needs {extra} credits held but {available} are available"
                )));
            }
        } else {
            let side = offer.kind.side();
            let free = self.position(user, offer.series).map_or(0, |p| p.side(side).free());
            if offer.remaining > free {
                return Err(EngineError::InsufficientUnits(format!(
                    "selling {} {} units but only {free} are owned and not already offered",
                    offer.remaining,
                    side.as_str()
                )));
            }
        }
        Ok(())
    }

    /// Reserves what a newly placed (and checked) offer needs.
    pub(crate) fn reserve(&mut self, ctx: &mut Ctx, id: OfferId) -> EngineResult<()> {
        let offer = &self.offers[id.index()];
        let user = offer.user;
        if offer.kind.is_buy() {
            if offer.poolable {
                self.trader_mut(user).pooled.push(id);
                self.rebalance_pool(ctx, user)
            } else {
                let need = offer.requirement();
                ctx.ledger.transfer(Account::Available(user), Account::Held(user), need)
            }
        } else {
            let (side, series, volume) = (offer.kind.side(), offer.series, offer.remaining);
            let pos = self.positions.entry((user, series)).or_default();
            pos.side_mut(side).held += volume;
            Ok(())
        }
    }

    /// Releases what a live offer reserved, after `retire` set its status to a final one
    /// (cancelled or expired; a suspension goes through `suspend` and keeps the offer in the
    /// user's pool list for a later resume).
    pub(crate) fn release(&mut self, ctx: &mut Ctx, id: OfferId, was_open: bool) -> EngineResult<()> {
        let offer = &self.offers[id.index()];
        let user = offer.user;
        if offer.kind.is_buy() {
            if offer.poolable {
                self.trader_mut(user).pooled.retain(|o| *o != id);
                self.rebalance_pool(ctx, user)
            } else if was_open {
                let need = offer.requirement();
                ctx.ledger.transfer(Account::Held(user), Account::Available(user), need)
            } else {
                Ok(())
            }
        } else {
            let (side, series, remaining) = (offer.kind.side(), offer.series, offer.remaining);
            if let Some(pos) = self.positions.get_mut(&(user, series)) {
                let h = pos.side_mut(side);
                h.held =
                    h.held.checked_sub(remaining).ok_or_else(|| EngineError::Internal("unit hold underflow".into()))?;
            }
            Ok(())
        }
    }

    /// Restores the pool invariant for `user`: suspends open pooled offers whose requirement
    /// exceeds what the user has (pool + available), then sets the pool to the largest remaining
    /// requirement, moving the difference between Held and Available.
    pub(crate) fn rebalance_pool(&mut self, ctx: &mut Ctx, user: UserId) -> EngineResult<()> {
        let pool = self.trader(user).map_or(Amount::ZERO, |t| t.pool_hold);
        let funds = pool
            .checked_add(ctx.ledger.balance(Account::Available(user)))
            .ok_or_else(|| crate::error::overflow("funds"))?;
        let pooled = std::mem::take(&mut self.trader_mut(user).pooled);
        let mut needed = Amount::ZERO;
        for &o in &pooled {
            let offer = &self.offers[o.index()];
            if offer.status != OfferStatus::Open {
                continue;
            }
            let req = offer.requirement();
            if req > funds {
                self.suspend(ctx, o);
            } else {
                needed = needed.max(req);
            }
        }
        self.trader_mut(user).pooled = pooled;
        match needed.cmp(&pool) {
            std::cmp::Ordering::Greater => {
                ctx.ledger.transfer(Account::Available(user), Account::Held(user), Amount(needed.0 - pool.0))?
            }
            std::cmp::Ordering::Less => {
                ctx.ledger.transfer(Account::Held(user), Account::Available(user), Amount(pool.0 - needed.0))?
            }
            std::cmp::Ordering::Equal => {}
        }
        self.trader_mut(user).pool_hold = needed;
        Ok(())
    }

    /// Takes an open pooled offer off the book; it keeps its place in the user's pool list.
    fn suspend(&mut self, ctx: &mut Ctx, id: OfferId) {
        let offer = &mut self.offers[id.index()];
        offer.status = OfferStatus::Suspended;
        let (user, series, bid, bp) = (offer.user, offer.series, offer.kind.is_bid(), offer.book_bp());
        self.books[series.index()].remove(&mut self.offers, bid, bp, id);
        ctx.emit(Event::OfferSuspended { offer: id, user });
    }
}
