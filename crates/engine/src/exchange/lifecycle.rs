//! An offer's and a series' life: placement (validated completely before anything changes),
//! cancellation, resumption, expiry, maturation and settlement (exactly once).

use crate::command::{OfferCommand, Terms};
use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::types::{CancelReason, CloseReason, IssueState, OfferStatus, Outcome, SeriesStatus};
use crate::exchange::{Ctx, Exchange, Offer, Series, MAX_VOLUME};
use crate::ids::{IssueId, NameRef, OfferId, SeriesId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, MICROS_PER_CREDIT};
use crate::time::Timestamp;

/// An offer to place with its names looked up: its user (known to the engine), its issue
/// (`Err(its name)` if there is no such issue), the series of that issue and maturation if a
/// driver found it (checked before it is used), its id as the offer names read it, its terms.
#[derive(Clone, Copy)]
pub(crate) struct Placing<'a> {
    pub(crate) user: UserId,
    pub(crate) issue: Result<IssueId, &'a str>,
    pub(crate) series: Option<SeriesId>,
    pub(crate) id: NameRef<'a>,
    pub(crate) terms: Terms,
}

impl Exchange {
    /// Places an offer for `user` (already known to the engine). Every rule is checked before
    /// anything changes; then the offer reserves, matches and rests.
    pub(crate) fn place(&mut self, ctx: &mut Ctx, user: UserId, cmd: OfferCommand) -> EngineResult<OfferId> {
        let issue = self.issue_id(&cmd.issue).ok_or(cmd.issue.as_str());
        let id = NameRef::of(&self.offer_names, &cmd.id);
        self.place_on(ctx, Placing { user, issue, series: None, id, terms: cmd.terms() })
    }

    /// [`Exchange::place`] with the offer's names looked up already.
    pub(crate) fn place_on(&mut self, ctx: &mut Ctx, placing: Placing) -> EngineResult<OfferId> {
        let Placing { user, issue, series: found, id, terms: t } = placing;
        if id.is_empty() {
            return Err(EngineError::InvalidArgument("an offer needs a non-empty id".into()));
        }
        if id.get(&self.offer_names).is_some() {
            return Err(EngineError::DuplicateId(format!("offer id {id:?} is taken")));
        }
        if t.volume == 0 || t.volume > MAX_VOLUME {
            return Err(EngineError::InvalidVolume(format!(
                "volume must be between 1 and {MAX_VOLUME}, not {}",
                t.volume
            )));
        }
        if t.poolable && !t.kind.is_buy() {
            return Err(EngineError::InvalidArgument("only buy offers can be poolable".into()));
        }
        let issue = issue.map_err(|name| EngineError::UnknownIssue(format!("no issue {name:?}")))?;
        // The series the driver found is this one's if it has this issue and maturation (a
        // command resolved by another engine may name any).
        let found = found
            .filter(|s| self.series.get(s.index()).is_some_and(|x| x.issue == issue && x.maturation == t.maturation));
        let existing = found.or_else(|| self.series_id(issue, t.maturation));
        match existing {
            Some(s) if self.series[s.index()].status != SeriesStatus::Open => {
                return Err(EngineError::SeriesClosed(format!("the series maturing {} has matured", t.maturation)));
            }
            None if t.maturation <= ctx.now => {
                return Err(EngineError::MaturationInPast(format!(
                    "maturation {} is not after now ({})",
                    t.maturation, ctx.now
                )));
            }
            _ => {}
        }
        let expiration = t.expiration.unwrap_or(t.maturation);
        if expiration > t.maturation {
            return Err(EngineError::InvalidExpiration(format!(
                "expiration {expiration} is after the maturation {}",
                t.maturation
            )));
        }
        if expiration <= ctx.now {
            return Err(EngineError::InvalidExpiration(format!(
                "expiration {expiration} is not after now ({})",
                ctx.now
            )));
        }
        let live = self.trader(user).map_or(0, |t| t.live_offers);
        if live >= self.limits.max_open_offers_per_user {
            return Err(EngineError::LimitExceeded(format!(
                "at most {} open offers per user",
                self.limits.max_open_offers_per_user
            )));
        }
        let next_series = SeriesId(self.series.len() as u32);
        let offer = Offer {
            user,
            series: existing.unwrap_or(next_series),
            kind: t.kind,
            price: t.price,
            volume: t.volume,
            remaining: t.volume,
            aon: t.aon,
            poolable: t.poolable,
            expiration,
            status: OfferStatus::Open,
            placed_at: ctx.now,
            link: super::book::Link::OFF,
        };
        self.check_reservable(ctx.ledger, &offer)?;

        // From here on nothing can be refused.
        let series = match existing {
            Some(s) => s,
            None => self.create_series(ctx, issue, t.maturation),
        };
        let (raw, _) = id.intern(&mut self.offer_names);
        let id = OfferId(raw);
        self.offers.push(offer);
        self.series[series.index()].offers.push(id);
        self.trader_mut(user).live_offers += 1;
        if expiration < t.maturation {
            self.expiries.insert((expiration, id));
        }
        self.reserve(ctx, id)?;
        ctx.emit(Event::OfferPlaced { offer: id, user, series });
        let traded = self.series[series.index()].traded_volume;
        self.match_and_rest(ctx, id)?;
        if self.series[series.index()].traded_volume != traded {
            self.requote(ctx, series)?;
        }
        Ok(id)
    }

    pub(crate) fn create_series(
        &mut self,
        ctx: &mut Ctx,
        issue: crate::ids::IssueId,
        maturation: Timestamp,
    ) -> SeriesId {
        let id = SeriesId(self.series.len() as u32);
        self.series.push(Series {
            issue,
            maturation,
            status: SeriesStatus::Open,
            units: 0,
            outcome: None,
            settled_at: None,
            decided_by: None,
            decision_reason: None,
            last_price: None,
            traded_volume: 0,
            holders: Vec::new(),
            offers: Vec::new(),
        });
        self.books.push(Default::default());
        self.series_keys.insert((issue, maturation), id);
        self.maturities.insert((maturation, id));
        ctx.emit(Event::SeriesCreated { series: id });
        id
    }

    fn owned_offer(&self, user: UserId, name: &str) -> EngineResult<OfferId> {
        let id = self.offer_named(NameRef::of(&self.offer_names, name))?;
        self.owned(user, id).map(|_| id)
    }

    /// The offer a command names, or `unknown_offer`.
    fn offer_named(&self, name: NameRef) -> EngineResult<OfferId> {
        name.get(&self.offer_names).map(OfferId).ok_or_else(|| EngineError::UnknownOffer(format!("no offer {name:?}")))
    }

    /// Offer `id` if `user` owns it: `unknown_offer` for an id this engine never gave (a
    /// driver's mistake), `not_owner` for another user's.
    fn owned(&self, user: UserId, id: OfferId) -> EngineResult<&Offer> {
        let Some(o) = self.offers.get(id.index()) else {
            return Err(EngineError::UnknownOffer(format!("no offer #{}", id.0)));
        };
        if o.user != user {
            let name = self.offer_names.name(id.0);
            return Err(EngineError::NotOwner(format!("offer {name:?} belongs to another user")));
        }
        Ok(o)
    }

    /// Cancels an offer of `user`, named as a command names it.
    pub(crate) fn cancel_ref(&mut self, ctx: &mut Ctx, user: UserId, name: NameRef) -> EngineResult<()> {
        let id = self.offer_named(name)?;
        self.cancel_id(ctx, user, id)
    }

    /// Cancels the offer `id` of `user` (an id a driver looked up).
    pub(crate) fn cancel_id(&mut self, ctx: &mut Ctx, user: UserId, id: OfferId) -> EngineResult<()> {
        let o = self.owned(user, id)?;
        if !o.is_live() {
            let name = self.offer_names.name(id.0);
            return Err(EngineError::InvalidState(format!("offer {name:?} is {}", o.status.as_str())));
        }
        self.retire(ctx, id, OfferStatus::Cancelled, CancelReason::User)
    }

    /// Puts a suspended poolable offer back on the book as if it arrived now (new time
    /// priority), once the user's funds cover it.
    pub(crate) fn resume(&mut self, ctx: &mut Ctx, user: UserId, name: &str) -> EngineResult<()> {
        let id = self.owned_offer(user, name)?;
        let o = &self.offers[id.index()];
        if o.status != OfferStatus::Suspended {
            return Err(EngineError::InvalidState(format!("offer {name:?} is {}, not suspended", o.status.as_str())));
        }
        let pool = self.trader(user).map_or(Amount::ZERO, |t| t.pool_hold);
        let extra = Amount(o.requirement().0.saturating_sub(pool.0).max(0));
        let available = ctx.ledger.balance(Account::Available(user));
        if extra > available {
            return Err(EngineError::InsufficientFunds(format!(
                "resuming needs {extra} more credits held but {available} are available"
            )));
        }
        self.offers[id.index()].status = OfferStatus::Open;
        self.rebalance_pool(ctx, user)?;
        ctx.emit(Event::OfferResumed { offer: id, user });
        let series = self.offers[id.index()].series;
        let traded = self.series[series.index()].traded_volume;
        self.match_and_rest(ctx, id)?;
        if self.series[series.index()].traded_volume != traded {
            self.requote(ctx, series)?;
        }
        Ok(())
    }

    /// Applies everything due up to and including `target`, in time order: offer expiries,
    /// then maturations (with their settlements) at each instant.
    pub(crate) fn advance(&mut self, ctx: &mut Ctx, target: Timestamp) -> EngineResult<()> {
        loop {
            let next_exp = self.expiries.first().copied().filter(|(t, _)| *t <= target);
            let next_mat = self.maturities.first().copied().filter(|(t, _)| *t <= target);
            match (next_exp, next_mat) {
                (Some((te, o)), m) if m.is_none_or(|(tm, _)| te <= tm) => {
                    ctx.now = te;
                    self.retire(ctx, o, OfferStatus::Expired, CancelReason::User)?;
                }
                (_, Some((tm, s))) => {
                    ctx.now = tm;
                    self.maturities.remove(&(tm, s));
                    self.mature(ctx, s)?;
                }
                _ => break,
            }
        }
        // Dispute windows that ended: the tracker may settle now.
        while let Some(&(t, s)) = self.releases.first() {
            if t > target {
                break;
            }
            self.releases.pop_first();
            ctx.now = t;
            self.dispute_until.remove(&s);
            self.settle_from_tracker(ctx, s)?;
        }
        ctx.now = target;
        Ok(())
    }

    fn mature(&mut self, ctx: &mut Ctx, s: SeriesId) -> EngineResult<()> {
        let live: Vec<OfferId> =
            self.series[s.index()].offers.iter().copied().filter(|o| self.offers[o.index()].is_live()).collect();
        for o in live {
            self.retire(ctx, o, OfferStatus::Cancelled, CancelReason::Maturation)?;
        }
        self.series[s.index()].status = SeriesStatus::Matured;
        if let Some(m) = self.makers.get_mut(&s) {
            m.active = false;
        }
        if self.dispute_window_ms > 0 && !self.arbitrated.contains(&s) {
            let until = ctx.now.plus_millis(self.dispute_window_ms);
            self.dispute_until.insert(s, until);
            self.releases.insert((until, s));
        }
        ctx.emit(Event::SeriesMatured { series: s });
        self.awaiting.insert(s);
        self.settle_from_tracker(ctx, s)
    }

    /// Settles a matured series from its issue's state at the maturation instant, if the tracker
    /// can tell yet (local: always; synced: after a sync newer than the maturation).
    pub(crate) fn settle_from_tracker(&mut self, ctx: &mut Ctx, s: SeriesId) -> EngineResult<()> {
        let series = &self.series[s.index()];
        let issue = &self.issues[series.issue.index()];
        if series.status != SeriesStatus::Matured || !issue.decidable_at(series.maturation) {
            return Ok(());
        }
        // Under arbitration, or still in its dispute window: not the tracker's call (yet). A
        // window is removed by `advance` at its end, before anything else runs at that instant,
        // so one that is still there has not ended.
        if self.arbitrated.contains(&s) || self.dispute_until.contains_key(&s) {
            return Ok(());
        }
        let outcome = match issue.state_at(series.maturation) {
            IssueState::Closed(CloseReason::Completed) => Outcome::Fixed,
            _ => Outcome::Unfixed,
        };
        self.settle(ctx, s, outcome, None)
    }

    /// An admin's decision on a matured series.
    pub(crate) fn decide(
        &mut self,
        ctx: &mut Ctx,
        s: SeriesId,
        outcome: Outcome,
        actor: String,
        reason: String,
    ) -> EngineResult<()> {
        let status = self.series[s.index()].status;
        match status {
            SeriesStatus::Open => Err(EngineError::InvalidState("the series has not matured yet".into())),
            SeriesStatus::Settled => Err(EngineError::InvalidState("the series is already settled".into())),
            SeriesStatus::Matured if self.arbitrated.contains(&s) => {
                Err(EngineError::AlreadyDisputed("the series is under arbitration: its arbiters decide".into()))
            }
            SeriesStatus::Matured => self.settle(ctx, s, outcome, Some((actor, reason))),
        }
    }

    /// Settles a series by its arbitration's outcome (`crate::arbitrated`).
    pub(crate) fn settle_arbitrated(&mut self, ctx: &mut Ctx, s: SeriesId, outcome: Outcome) -> EngineResult<()> {
        self.dispute_until.remove(&s);
        self.settle(ctx, s, outcome, None)
    }

    /// Operator: the dispute window after maturation (0 turns disputes off).
    pub(crate) fn configure_disputes(&mut self, hours: i64) -> EngineResult<()> {
        if !(0..=crate::command::MAX_DISPUTE_HOURS).contains(&hours) {
            return Err(EngineError::InvalidArgument(format!(
                "the dispute window is 0 to {} hours, not {hours}",
                crate::command::MAX_DISPUTE_HOURS
            )));
        }
        self.dispute_window_ms = hours * 3_600_000;
        Ok(())
    }

    /// Pays every unit of a matured series from its escrow: exactly once (the status check), and
    /// the escrow ends at exactly zero.
    fn settle(
        &mut self,
        ctx: &mut Ctx,
        s: SeriesId,
        outcome: Outcome,
        manual: Option<(String, String)>,
    ) -> EngineResult<()> {
        if self.series[s.index()].status != SeriesStatus::Matured {
            return Err(EngineError::InvalidState("only a matured, unsettled series can be settled".into()));
        }
        let fixed_pays = outcome.fixed_pays_micros();
        let unfixed_pays = MICROS_PER_CREDIT - fixed_pays;
        let holders = self.series[s.index()].holders.clone();
        for user in holders {
            let Some(pos) = self.positions.get_mut(&(user, s)) else { continue };
            for (side, per_unit) in [
                (crate::exchange::types::Side::Fixed, fixed_pays),
                (crate::exchange::types::Side::Unfixed, unfixed_pays),
            ] {
                let h = pos.side_mut(side);
                if h.units == 0 {
                    continue;
                }
                let units = h.units;
                let amount =
                    Amount(per_unit.checked_mul(units as i64).ok_or_else(|| crate::error::overflow("payout"))?);
                h.dispose(units, amount)?;
                ctx.ledger.transfer(Account::Escrow(s), Account::Available(user), amount)?;
                ctx.emit(Event::Payout { series: s, user, side, units, amount });
            }
        }
        let left = ctx.ledger.balance(Account::Escrow(s));
        if left != Amount::ZERO {
            return Err(EngineError::Internal(format!("escrow of series {} ends at {left}, not 0", s.0)));
        }
        let series = &mut self.series[s.index()];
        series.units = 0;
        series.status = SeriesStatus::Settled;
        series.outcome = Some(outcome);
        series.settled_at = Some(ctx.now);
        let manual_flag = manual.is_some();
        if let Some((actor, reason)) = manual {
            series.decided_by = Some(actor);
            series.decision_reason = Some(reason);
        }
        self.awaiting.remove(&s);
        ctx.emit(Event::SeriesSettled { series: s, outcome, manual: manual_flag });
        self.close_maker(ctx, s)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::exchange::testing::{cr, ISSUE, T};
    use crate::exchange::types::OfferStatus;

    const T1: &str = "2026-12-01T10:00:00Z";

    /// Offer `e1` expires at `expiry`; another series of the issue matures at `maturation`; one
    /// tick passes both. Returns the expiry and the maturation events, in emission order.
    fn expiry_and_maturation(expiry: &str, maturation: &str) -> Vec<String> {
        let mut t = T::new(&[("a", "100")]);
        t.offer(T1, "e1", "a", "buy_fixed", "0.5", 10, json!({"expiration":expiry}));
        t.run(json!({"at":T1,"op":"offer","id":"o2","user":"a","kind":"buy_fixed","issue":ISSUE,
            "maturation":maturation,"price":"0.5","volume":10}));
        let from = t.events.len();
        t.run(json!({"at":"2026-12-12T00:00:00Z","op":"tick"}));
        assert!(t.events[from..].windows(2).all(|w| w[0].at <= w[1].at), "events in time order");
        assert_eq!((t.status("e1"), t.status("o2")), (OfferStatus::Expired, OfferStatus::Cancelled));
        t.event_types(from).into_iter().filter(|e| e == "offer_expired" || e == "series_matured").collect()
    }

    #[test]
    fn a_tick_applies_expiries_and_maturations_in_time_order_expiries_first_at_one_instant() {
        assert_eq!(
            expiry_and_maturation("2026-12-11T00:00:00Z", "2026-12-10T00:00:00Z"),
            ["series_matured", "offer_expired"]
        );
        assert_eq!(
            expiry_and_maturation("2026-12-10T00:00:00Z", "2026-12-11T00:00:00Z"),
            ["offer_expired", "series_matured"]
        );
        assert_eq!(
            expiry_and_maturation("2026-12-10T00:00:00Z", "2026-12-10T00:00:00Z"),
            ["offer_expired", "series_matured"]
        );
    }

    #[test]
    fn resuming_needs_the_missing_part_of_the_requirement_available() {
        // m's pooled bids of 0.5 and 0.4 x 100 from 80 credits: the first fill leaves 30 of the
        // 40 the second needs, so it is suspended.
        let mut t = T::new(&[("m", "80"), ("t", "1000")]);
        t.offer(T1, "m1", "m", "buy_fixed", "0.5", 100, json!({"poolable":true}));
        t.offer(T1, "m2", "m", "buy_fixed", "0.4", 100, json!({"poolable":true}));
        t.offer(T1, "t1", "t", "buy_unfixed", "0.6", 100, json!({}));
        assert_eq!(t.status("m2"), OfferStatus::Suspended);
        let resume = json!({"at":T1,"op":"resume","user":"m","offer":"m2"});
        let before = t.engine.clone();
        assert_eq!(t.try_run(&resume).unwrap_err().code(), "insufficient_funds");
        assert!(t.engine == before, "a refused resume changes nothing");
        // 40 available for 40 missing: enough.
        t.run(json!({"at":T1,"op":"deposit","user":"m","amount":"10"}));
        t.run(resume);
        assert_eq!(t.status("m2"), OfferStatus::Open);
        assert_eq!(t.balance("m"), (cr("0"), cr("40")));
    }

    #[test]
    fn the_next_due_instant_is_the_earliest_expiry_or_maturation() {
        let mut t = T::new(&[("a", "100")]);
        assert_eq!(t.engine.exchange.next_due(), None);
        t.offer(T1, "e1", "a", "buy_fixed", "0.5", 10, json!({"expiration":"2026-12-11T00:00:00Z"}));
        let at = |s: &str| Some(crate::Timestamp::parse(s).unwrap());
        assert_eq!(t.engine.exchange.next_due(), at("2026-12-11T00:00:00Z"));
        t.run(json!({"at":"2026-12-12T00:00:00Z","op":"tick"}));
        assert_eq!(t.engine.exchange.next_due(), at(crate::exchange::testing::MAT));
    }
}
