//! An automated market maker for thin issue books (spec/exchange.md, "Liquidity for thin books";
//! seed 002's question, seed 004's answer). A funder subsidises it with b ln 2; it quotes a
//! ladder of ordinary offers on the series' book at the prices of the binary LMSR cost function
//! C(q) = b ln(1 + e^(q/b)) over the traders' net fixed units q (= minus the maker's own net
//! fixed position), and re-quotes after every fill. Traders see plain offers.
//!
//! Each quoted unit is priced from the exact cost difference, rounded to the basis point in the
//! maker's favour: the k-th ask unit at ceil(C(q+k+1) - C(q+k)), the k-th bid unit at
//! floor(C(q-k) - C(q-k-1)). So every trade pays the maker at least what the LMSR would charge,
//! and its cash M (available + held) never falls below the LMSR's bound M >= b ln(1 + e^(-|q|/b))
//! (rounded down; checked in `check_invariants`): its loss never exceeds the subsidy. It holds
//! one side only (it sells fixed units it owns before creating new ones, and likewise for
//! unfixed), so M >= 0 is its worst case whatever the outcome. It trades only through the
//! ledger, like any user, and withdraws at maturation: its offers are cancelled with every
//! other live offer, and at settlement what it holds (cash plus payout) returns to the funder.

use crate::command::OfferCommand;
use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::types::{CancelReason, OfferKind, OfferStatus, SeriesStatus, Side};
use crate::exchange::{Ctx, Exchange, MAX_VOLUME};
use crate::ids::{IssueId, SeriesId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, Price, MICROS_PER_CREDIT};
use crate::prediction::lmsr::Lmsr;
use crate::time::Timestamp;

/// Most price levels per side.
pub const MAX_LEVELS: u32 = 50;
/// Largest b accepted (units).
pub const MAX_MAKER_B: i64 = 1_000_000;
/// Re-quote rounds after one command (each round that trades consumes resting volume).
const MAX_ROUNDS: u32 = 64;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Maker {
    /// The maker's own account holder (a reserved name `~maker/<series>`).
    pub user: UserId,
    pub funder: UserId,
    pub lmsr: Lmsr,
    /// Micro-credits moved in by the funder (b ln 2 rounded up).
    pub subsidy: i64,
    pub levels: u32,
    /// False once the series matured.
    pub active: bool,
    /// Offers placed so far (for unique offer ids).
    pub placed: u32,
    /// What went back to the funder at settlement.
    pub returned: Option<i64>,
}

/// The reserved user name of the maker on `series`.
pub fn maker_name(series: SeriesId) -> String {
    format!("~maker/{}", series.0)
}

impl Maker {
    /// The binary cost C(q) of the traders' net fixed units q, rounded up or down (micro-credits).
    fn cost(&self, q: i64, up: bool) -> EngineResult<i64> {
        let v = [0, q.checked_mul(MICROS_PER_CREDIT).ok_or_else(|| crate::error::overflow("a maker quantity"))?];
        if up {
            self.lmsr.cost_up(&v)
        } else {
            self.lmsr.cost_down(&v)
        }
    }

    /// The LMSR's lower bound on the maker's cash at traders' net position q.
    pub fn cash_floor(&self, q: i64) -> EngineResult<i64> {
        Ok(self.cost(-q.abs(), false)?.max(0))
    }
}

impl Exchange {
    pub fn maker(&self, s: SeriesId) -> Option<&Maker> {
        self.makers.get(&s)
    }

    /// Traders' net fixed units against the maker on `s` (= minus its own net fixed position).
    pub fn maker_q(&self, s: SeriesId) -> i64 {
        let Some(m) = self.makers.get(&s) else { return 0 };
        let p = self.positions.get(&(m.user, s)).copied().unwrap_or_default();
        p.unfixed.units as i64 - p.fixed.units as i64
    }

    /// Checks a `fund_maker` completely; returns the series (None: it will be created) and the
    /// subsidy. Changes nothing.
    pub(crate) fn check_fund_maker(
        &self,
        ctx: &Ctx,
        funder: UserId,
        issue: &str,
        maturation: Timestamp,
        b: Amount,
        levels: u32,
    ) -> EngineResult<(IssueId, Option<SeriesId>, Lmsr, i64)> {
        if !b.is_positive() || b > Amount::credits(MAX_MAKER_B) {
            return Err(EngineError::InvalidArgument(format!("b must lie in (0, {MAX_MAKER_B}], not {b}")));
        }
        if !(1..=MAX_LEVELS).contains(&levels) {
            return Err(EngineError::InvalidArgument(format!("levels must lie in 1..={MAX_LEVELS}, not {levels}")));
        }
        let issue_id = self.issue_id(issue).ok_or_else(|| EngineError::UnknownIssue(format!("no issue {issue:?}")))?;
        let series = self.series_id(issue_id, maturation);
        match series {
            Some(s) if self.series[s.index()].status != SeriesStatus::Open => {
                return Err(EngineError::SeriesClosed(format!("the series maturing {maturation} has matured")));
            }
            Some(s) if self.makers.contains_key(&s) => {
                return Err(EngineError::DuplicateId(format!("the series maturing {maturation} has a market maker")));
            }
            None if maturation <= ctx.now => {
                return Err(EngineError::MaturationInPast(format!(
                    "maturation {maturation} is not after now ({})",
                    ctx.now
                )));
            }
            _ => {}
        }
        let lmsr = Lmsr::new(b.0)?;
        let subsidy = lmsr.subsidy(2)?;
        let available = ctx.ledger.balance(Account::Available(funder));
        if available.0 < subsidy {
            return Err(EngineError::InsufficientFunds(format!(
                "the subsidy b ln 2 is {} but {available} is available",
                Amount(subsidy)
            )));
        }
        Ok((issue_id, series, lmsr, subsidy))
    }

    /// The series a maker will be funded on, creating it if needed (after `check_fund_maker`).
    pub(crate) fn series_for_maker(&mut self, ctx: &mut Ctx, issue: IssueId, maturation: Timestamp) -> SeriesId {
        match self.series_id(issue, maturation) {
            Some(s) => s,
            None => self.create_series(ctx, issue, maturation),
        }
    }

    /// Moves the subsidy to the maker's account and puts its first quotes on the book.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fund_maker(
        &mut self,
        ctx: &mut Ctx,
        s: SeriesId,
        maker_user: UserId,
        funder: UserId,
        lmsr: Lmsr,
        subsidy: i64,
        levels: u32,
    ) -> EngineResult<()> {
        ctx.ledger.transfer(Account::Available(funder), Account::Available(maker_user), Amount(subsidy))?;
        self.makers.insert(
            s,
            Maker { user: maker_user, funder, lmsr, subsidy, levels, active: true, placed: 0, returned: None },
        );
        ctx.emit(Event::MakerFunded {
            series: s,
            funder,
            maker: maker_user,
            b: Amount(lmsr.b),
            subsidy: Amount(subsidy),
        });
        self.requote(ctx, s)
    }

    /// The ladder the maker on `s` wants on the book now: (kind, own-side price, volume).
    fn ladder(&self, s: SeriesId) -> EngineResult<Vec<(OfferKind, Price, u64)>> {
        let Some(m) = self.makers.get(&s) else { return Ok(Vec::new()) };
        let pos = self.positions.get(&(m.user, s)).copied().unwrap_or_default();
        let q = pos.unfixed.units as i64 - pos.fixed.units as i64;
        let (mut fixed_left, mut unfixed_left) = (pos.fixed.free(), pos.unfixed.free());
        let mut asks: Vec<(OfferKind, Price, u64)> = Vec::new();
        let mut bids: Vec<(OfferKind, Price, u64)> = Vec::new();
        let push = |v: &mut Vec<(OfferKind, Price, u64)>, kind: OfferKind, price: Price| match v.last_mut() {
            Some(last) if last.0 == kind && last.1 == price => last.2 += 1,
            _ => v.push((kind, price, 1)),
        };
        for k in 0..i64::from(m.levels) {
            // Traders buy the (k+1)-th fixed unit: the maker receives at least C(q+k+1) - C(q+k).
            let ask = m.cost(q + k + 1, true)? - m.cost(q + k, false)?;
            let bp = (ask + 99) / 100;
            if bp >= 10_000 {
                break;
            }
            let price = Price::from_bp(bp.max(1) as u32).ok_or_else(|| EngineError::Internal("maker ask".into()))?;
            if fixed_left > 0 {
                fixed_left -= 1;
                push(&mut asks, OfferKind::SellFixed, price);
            } else {
                push(&mut asks, OfferKind::BuyUnfixed, price.complement());
            }
        }
        for k in 0..i64::from(m.levels) {
            // Traders sell the (k+1)-th fixed unit: the maker pays at most C(q-k) - C(q-k-1).
            let bid = m.cost(q - k, false)? - m.cost(q - k - 1, true)?;
            let bp = bid.div_euclid(100);
            if bp <= 0 {
                break;
            }
            let price =
                Price::from_bp(bp.min(9_999) as u32).ok_or_else(|| EngineError::Internal("maker bid".into()))?;
            if unfixed_left > 0 {
                unfixed_left -= 1;
                push(&mut bids, OfferKind::SellUnfixed, price.complement());
            } else {
                push(&mut bids, OfferKind::BuyFixed, price);
            }
        }
        // Best prices first, alternating sides.
        let mut out = Vec::with_capacity(asks.len() + bids.len());
        let (mut a, mut b) = (asks.into_iter(), bids.into_iter());
        loop {
            match (a.next(), b.next()) {
                (None, None) => break,
                (x, y) => out.extend(x.into_iter().chain(y)),
            }
        }
        Ok(out)
    }

    /// Replaces the maker's quotes on `s` with its current ladder. Placing a quote may trade
    /// against resting offers; then the ladder is recomputed, a bounded number of times.
    pub(crate) fn requote(&mut self, ctx: &mut Ctx, s: SeriesId) -> EngineResult<()> {
        if self.requoting || !self.makers.get(&s).is_some_and(|m| m.active) {
            return Ok(());
        }
        self.requoting = true;
        let result = self.requote_rounds(ctx, s);
        self.requoting = false;
        result
    }

    fn requote_rounds(&mut self, ctx: &mut Ctx, s: SeriesId) -> EngineResult<()> {
        for _ in 0..MAX_ROUNDS {
            let Some(m) = self.makers.get(&s) else { return Ok(()) };
            let (user, maturation) = (m.user, self.series[s.index()].maturation);
            let live: Vec<_> = self.series[s.index()]
                .offers
                .iter()
                .copied()
                .filter(|o| {
                    let o = &self.offers[o.index()];
                    o.user == user && o.is_live()
                })
                .collect();
            for o in live {
                self.retire(ctx, o, OfferStatus::Cancelled, CancelReason::Requote)?;
            }
            let trades_before = self.series[s.index()].traded_volume;
            let issue = self.issue_name(self.series[s.index()].issue).to_owned();
            let mut traded = false;
            for (kind, price, volume) in self.ladder(s)? {
                let n = self.makers.get(&s).map_or(0, |m| m.placed);
                let cmd = OfferCommand {
                    id: format!("{}/{n}", maker_name(s)),
                    user: String::new(),
                    kind,
                    issue: issue.clone(),
                    maturation,
                    price,
                    volume: volume.min(MAX_VOLUME),
                    aon: false,
                    poolable: false,
                    expiration: None,
                };
                if let Some(m) = self.makers.get_mut(&s) {
                    m.placed = m.placed.saturating_add(1);
                }
                // Quotes the maker cannot fund are simply not placed (nothing changes).
                if self.place(ctx, user, cmd).is_err() {
                    continue;
                }
                if self.series[s.index()].traded_volume != trades_before {
                    traded = true;
                    break;
                }
            }
            if !traded {
                return Ok(());
            }
        }
        Ok(())
    }

    /// At settlement: everything the maker holds returns to its funder.
    pub(crate) fn close_maker(&mut self, ctx: &mut Ctx, s: SeriesId) -> EngineResult<()> {
        let Some(m) = self.makers.get_mut(&s) else { return Ok(()) };
        m.active = false;
        let (user, funder) = (m.user, m.funder);
        let cash = ctx.ledger.balance(Account::Available(user));
        ctx.ledger.transfer(Account::Available(user), Account::Available(funder), cash)?;
        if let Some(m) = self.makers.get_mut(&s) {
            m.returned = Some(cash.0);
        }
        ctx.emit(Event::MakerClosed { series: s, funder, returned: cash });
        Ok(())
    }

    /// The maker's invariants: one-sided holdings, cash at least the LMSR bound, quotes only on
    /// an open series, nothing left after settlement.
    pub(crate) fn check_makers(&self, ledger: &crate::ledger::Ledger) -> Result<(), String> {
        for (s, m) in &self.makers {
            let series = &self.series[s.index()];
            let pos = self.positions.get(&(m.user, *s)).copied().unwrap_or_default();
            let cash = ledger.balance(Account::Available(m.user)).0 + ledger.balance(Account::Held(m.user)).0;
            if series.status == SeriesStatus::Settled {
                if cash != 0 || m.returned.is_none() {
                    return Err(format!("maker of series {}: {} left after settlement", s.0, Amount(cash)));
                }
                continue;
            }
            if pos.side(Side::Fixed).units > 0 && pos.side(Side::Unfixed).units > 0 {
                return Err(format!("maker of series {} holds both sides", s.0));
            }
            let q = pos.unfixed.units as i64 - pos.fixed.units as i64;
            let floor = m.cash_floor(q).map_err(|e| e.to_string())?;
            if cash < floor {
                return Err(format!(
                    "maker of series {}: cash {} below the LMSR bound {} at q = {q}",
                    s.0,
                    Amount(cash),
                    Amount(floor)
                ));
            }
        }
        Ok(())
    }
}
