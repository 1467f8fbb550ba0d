//! Prediction markets with an LMSR market maker and peer-prediction arbitration (spec/prediction.md,
//! rules chosen where the spec is silent: docs/prediction.md).
//!
//! Life of a market: `create` (the creator funds the subsidy, optionally buys a position) ->
//! `trade` until the deadline -> reporting (arbiters opt in by reporting; or the linked issue's
//! tracker decides) -> resolution when the reporting window closes (or early by the creator once
//! enough reports are in): holders paid, arbiters rewarded, the remainder returned to the
//! creator; or N/A (void) with refunds. Each step is one atomic ledger plan.

pub mod arbitration;
pub mod command;
pub mod events;
pub mod lmsr;
pub mod market;
pub mod peers;
pub mod plan;
pub mod reliability;
pub mod resolution;
pub mod trading;
pub mod views;

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;

use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::{Ctx, Exchange};
use crate::ids::{MarketId, Names, UserId};
use crate::ledger::Account;
use crate::money::{Amount, MICROS_PER_CREDIT};
use crate::time::{Agenda, Timestamp};
use crate::validate::MAX_NAME_LEN;

use events::MarketDetail;
use lmsr::{prob_micros, Lmsr};
use market::{Holding, Market, Status, TooFewPolicy};
use plan::Plan;
use reliability::History;

/// Most outcomes a categorical market may have.
pub const MAX_OUTCOMES: u32 = 64;
/// Largest liquidity parameter b accepted (credits).
pub const MAX_B_CREDITS: i64 = 1_000_000_000;
/// Longest statement accepted.
pub const MAX_STATEMENT_LEN: usize = 2_000;
/// Default number of reports needed, and the default reporting window.
pub const DEFAULT_MIN_REPORTS: u32 = 3;
pub const DEFAULT_REPORT_WINDOW_DAYS: i64 = 7;
/// Default floor of the reward scale k: 1 credit.
pub const DEFAULT_K_FLOOR: Amount = Amount::credits(1);

/// All prediction markets.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Markets {
    names: Names,
    markets: Vec<Market>,
    trade_ids: FxHashSet<String>,
    /// Every arbiter's record over resolved binary markets (for a_i, c_i).
    pub(crate) reliability: BTreeMap<UserId, History>,
    /// (instant, market) of every pending deadline and reporting-window close, so that moving
    /// the clock touches only the markets that are due.
    due: Agenda<u32>,
}

fn emit(ctx: &mut Ctx, market: MarketId, user: Option<UserId>, detail: MarketDetail) {
    ctx.emit(Event::MarketEvent { market, user, detail: Box::new(detail) });
}

fn prices_micros(p: &[f64]) -> Vec<Amount> {
    p.iter().map(|x| Amount(prob_micros(*x))).collect()
}

impl Markets {
    fn lookup(&self, name: &str) -> EngineResult<MarketId> {
        self.names.get(name).map(MarketId).ok_or_else(|| EngineError::UnknownMarket(format!("no market {name:?}")))
    }

    fn get(&self, id: MarketId) -> EngineResult<&Market> {
        self.markets.get(id.index()).ok_or_else(|| EngineError::Internal(format!("no market #{}", id.0)))
    }

    /// The earliest time [`Markets::advance`] has something to do at (None: nothing is due).
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.due.earliest()
    }
    /// `next_due()` is none or after `at`.
    #[inline]
    pub(crate) fn none_due_by(&self, at: Timestamp) -> bool {
        self.due.none_by(at)
    }

    /// Moves every market whose deadline or reporting window passed by `to`, in time order:
    /// deadlines open reporting (linked markets ask their tracker), closed windows resolve or void.
    /// Events carry the instant they were due.
    pub(crate) fn advance(&mut self, ctx: &mut Ctx, to: Timestamp, exchange: &Exchange) -> EngineResult<()> {
        let start = ctx.now;
        while let Some(&(t, raw)) = self.due.first() {
            if t > to {
                break;
            }
            self.due.pop_first();
            let id = MarketId(raw);
            let m = self.get(id)?;
            ctx.now = t.max(start);
            if m.status == Status::Open && m.deadline == t {
                self.open_reporting(ctx, id)?;
                self.try_issue_decision(ctx, id, exchange)?;
                let m = self.get(id)?;
                if m.status == Status::Reporting && m.issue.is_none() {
                    self.due.insert((m.report_deadline, raw));
                }
            } else if m.status == Status::Reporting && m.issue.is_none() && m.report_deadline == t && !m.window_closed {
                self.close_window(ctx, id)?;
            }
        }
        ctx.now = start;
        Ok(())
    }

    fn open_reporting(&mut self, ctx: &mut Ctx, id: MarketId) -> EngineResult<()> {
        let m = self.markets.get_mut(id.index()).ok_or_else(|| EngineError::Internal("market vanished".into()))?;
        m.status = Status::Reporting;
        let closing = prices_micros(&m.lmsr.prices(&m.q)?);
        emit(ctx, id, None, MarketDetail::ReportingOpened { closing_prices: closing });
        Ok(())
    }

    fn close_window(&mut self, ctx: &mut Ctx, id: MarketId) -> EngineResult<()> {
        let m = self.get(id)?;
        if m.reports.len() >= m.min_reports as usize {
            return self.resolve_by_reports(ctx, id);
        }
        match m.too_few {
            TooFewPolicy::Void => {
                let reason = format!("{} of {} reports when the window closed", m.reports.len(), m.min_reports);
                self.void(ctx, id, reason, &[])
            }
            TooFewPolicy::Extend => {
                let (reports, needed) = (m.reports.len(), m.min_reports);
                if let Some(m) = self.markets.get_mut(id.index()) {
                    m.window_closed = true;
                }
                emit(ctx, id, None, MarketDetail::ReportingExtended { reports, needed });
                Ok(())
            }
        }
    }

    /// Linked markets: decide from the tracker once it can say what the issue's state was at the
    /// deadline (local issues always can; synced ones after a sync newer than the deadline).
    fn try_issue_decision(&mut self, ctx: &mut Ctx, id: MarketId, exchange: &Exchange) -> EngineResult<()> {
        let m = self.get(id)?;
        let (Some(issue_id), Status::Reporting) = (m.issue, m.status) else { return Ok(()) };
        let Some(issue) = exchange.issue(issue_id) else { return Ok(()) };
        if !issue.decidable_at(m.deadline) {
            return Ok(());
        }
        use crate::exchange::types::{CloseReason, IssueState};
        let yes = issue.state_at(m.deadline) == IssueState::Closed(CloseReason::Completed);
        let weights = if yes { vec![0, 1] } else { vec![1, 0] };
        self.resolve(ctx, id, weights, 1, "issue", None)
    }

    pub(crate) fn on_issue_changed(&mut self, ctx: &mut Ctx, exchange: &Exchange) -> EngineResult<()> {
        for i in 0..self.markets.len() {
            self.try_issue_decision(ctx, MarketId(i as u32), exchange)?;
        }
        Ok(())
    }

    pub(crate) fn create(
        &mut self,
        ctx: &mut Ctx,
        user: UserId,
        mut cmd: command::CreateMarket,
        x: &Exchange,
    ) -> EngineResult<()> {
        if cmd.id.is_empty() {
            // The engine names the market, as it names offers: m1, m2, ... (the first free one).
            let mut n = self.markets.len() + 1;
            while self.names.get(&format!("m{n}")).is_some() {
                n += 1;
            }
            cmd.id = format!("m{n}");
        }
        if cmd.id.len() > MAX_NAME_LEN {
            return Err(EngineError::InvalidArgument(format!("a market id has 1 to {MAX_NAME_LEN} characters")));
        }
        if self.names.get(&cmd.id).is_some() {
            return Err(EngineError::DuplicateId(format!("market id {:?} is taken", cmd.id)));
        }
        if cmd.statement.trim().is_empty() || cmd.statement.len() > MAX_STATEMENT_LEN {
            return Err(EngineError::InvalidArgument(format!("a statement has 1 to {MAX_STATEMENT_LEN} characters")));
        }
        if cmd.deadline <= ctx.now {
            return Err(EngineError::InvalidTime(format!("deadline {} is not after now ({})", cmd.deadline, ctx.now)));
        }
        if !cmd.b.is_positive() || cmd.b > Amount::credits(MAX_B_CREDITS) {
            return Err(EngineError::InvalidArgument(format!(
                "b must be positive and at most {MAX_B_CREDITS}, not {}",
                cmd.b
            )));
        }
        if cmd.fee.is_negative() || cmd.fee.0 >= MICROS_PER_CREDIT {
            return Err(EngineError::InvalidArgument(format!("the fee rate must lie in [0, 1), not {}", cmd.fee)));
        }
        if cmd.initial_shares.is_negative() {
            return Err(EngineError::InvalidAmount(format!(
                "initial_shares must not be negative, not {} (create the opposite statement instead)",
                cmd.initial_shares
            )));
        }
        let n = cmd.outcomes.unwrap_or(2);
        if !(2..=MAX_OUTCOMES).contains(&n) {
            return Err(EngineError::InvalidArgument(format!("a market has 2 to {MAX_OUTCOMES} outcomes, not {n}")));
        }
        let issue = match &cmd.issue {
            None => None,
            Some(name) => {
                if n != 2 {
                    return Err(EngineError::InvalidArgument("only binary markets can be linked to an issue".into()));
                }
                Some(x.issue_id(name).ok_or_else(|| EngineError::UnknownIssue(format!("no issue {name:?}")))?)
            }
        };
        let initial_outcome = cmd.initial_outcome.unwrap_or(1);
        if initial_outcome >= n {
            return Err(EngineError::InvalidArgument(format!("initial_outcome must be below {n}")));
        }
        let min_reports = cmd.min_reports.unwrap_or(DEFAULT_MIN_REPORTS);
        if !(2..=10_000).contains(&min_reports) {
            return Err(EngineError::InvalidArgument(format!(
                "min_reports must lie in 2..=10000 (each arbiter needs a peer), not {min_reports}"
            )));
        }
        let report_deadline = cmd.report_deadline.unwrap_or(cmd.deadline.plus_days(DEFAULT_REPORT_WINDOW_DAYS));
        if report_deadline <= cmd.deadline {
            return Err(EngineError::InvalidTime(format!(
                "report_deadline {report_deadline} is not after the deadline {}",
                cmd.deadline
            )));
        }
        let k_floor = cmd.k_floor.unwrap_or(DEFAULT_K_FLOOR);
        if k_floor.is_negative() || k_floor > Amount::credits(MAX_B_CREDITS) {
            return Err(EngineError::InvalidArgument(format!("k_floor must lie in [0, {MAX_B_CREDITS}]")));
        }
        let bond = cmd.bond.unwrap_or(Amount::ZERO);
        if bond.is_negative() || bond > Amount::credits(MAX_B_CREDITS) {
            return Err(EngineError::InvalidAmount(format!("bond must lie in [0, {MAX_B_CREDITS}], not {bond}")));
        }
        if let Some(cap) = cmd.position_cap {
            if cap.is_negative() || cap > Amount::credits(MAX_B_CREDITS) {
                return Err(EngineError::InvalidArgument(format!(
                    "position_cap must lie in [0, {MAX_B_CREDITS}], not {cap}"
                )));
            }
        }
        let lmsr = Lmsr::new(cmd.b.0)?;
        let subsidy = lmsr.subsidy(n as usize)?;
        let id = MarketId(self.markets.len() as u32);
        let mut market = Market {
            name: cmd.id.clone(),
            statement: cmd.statement.clone(),
            creator: user,
            deadline: cmd.deadline,
            report_deadline,
            lmsr,
            fee: cmd.fee.0,
            issue,
            min_reports,
            too_few: cmd.too_few.unwrap_or_default(),
            k_floor: k_floor.0,
            seed: cmd.seed.unwrap_or(0),
            bond: bond.0,
            position_cap: cmd.position_cap.map(|c| c.0),
            fee_mode: cmd.fee_mode.unwrap_or_default(),
            robust_prior: cmd.robust_prior.unwrap_or(false),
            status: Status::Open,
            q: vec![0; n as usize],
            subsidy,
            collected: 0,
            fees: 0,
            holdings: BTreeMap::new(),
            reports: Vec::new(),
            history: vec![(ctx.now, prices_micros(&lmsr.prices(&vec![0; n as usize])?).iter().map(|a| a.0).collect())],
            resolution: None,
            window_closed: false,
        };
        // Price the initial position before anything moves, so that the whole creation is checked.
        let initial = if cmd.initial_shares.is_positive() {
            Some(trading::quote(&market, None, initial_outcome as usize, cmd.initial_shares.0)?)
        } else {
            None
        };
        let mut plan = Plan::default();
        plan.push(Account::Available(user), Account::MarketMaker(id), subsidy);
        plan.push(Account::Available(user), Account::ArbitrationPool(id), bond.0);
        if let Some(qt) = &initial {
            plan.push(Account::Available(user), Account::MarketMaker(id), qt.cost);
            plan.push(Account::Available(user), Account::ArbitrationPool(id), qt.fee);
        }
        plan.apply(ctx.ledger)?;
        self.names.intern(&cmd.id);
        self.due.insert((cmd.deadline, id.0));
        emit(
            ctx,
            id,
            Some(user),
            MarketDetail::Created {
                statement: cmd.statement,
                outcomes: n as usize,
                b: cmd.b,
                fee: cmd.fee,
                deadline: cmd.deadline,
                report_deadline,
                subsidy: Amount(subsidy),
                issue: cmd.issue,
                min_reports,
                bond,
                position_cap: cmd.position_cap,
                fee_mode: cmd.fee_mode.unwrap_or_default(),
            },
        );
        if let Some(qt) = initial {
            book_trade(
                ctx,
                &mut market,
                id,
                user,
                format!("{}#initial", cmd.id),
                initial_outcome,
                cmd.initial_shares.0,
                qt,
            );
        }
        self.markets.push(market);
        Ok(())
    }

    pub(crate) fn trade(&mut self, ctx: &mut Ctx, user: UserId, cmd: command::Trade) -> EngineResult<()> {
        if cmd.id.is_empty() || cmd.id.len() > MAX_NAME_LEN {
            return Err(EngineError::InvalidArgument(format!("a trade id has 1 to {MAX_NAME_LEN} characters")));
        }
        if self.trade_ids.contains(&cmd.id) {
            return Err(EngineError::DuplicateId(format!("trade id {:?} is taken", cmd.id)));
        }
        let id = self.lookup(&cmd.market)?;
        let m = self.get(id)?;
        // `advance` moves a market to Reporting at its deadline, before anything else runs at
        // that instant: a market still open has not reached its deadline.
        if m.status != Status::Open {
            return Err(EngineError::MarketClosed(format!(
                "market {:?} stopped trading at its deadline {}",
                m.name, m.deadline
            )));
        }
        let outcome = cmd.outcome.unwrap_or(1);
        let qt = trading::quote(m, m.holding(user), outcome as usize, cmd.shares.0)?;
        let total = qt.total()?;
        if let Some(max) = cmd.max_cost {
            if total > max.0 {
                return Err(EngineError::SlippageExceeded(format!(
                    "the trade would cost {} (fee included), above max_cost {max}",
                    Amount(total)
                )));
            }
        }
        let mut plan = Plan::default();
        if qt.cost >= 0 {
            plan.push(Account::Available(user), Account::MarketMaker(id), qt.cost);
        } else {
            plan.push(Account::MarketMaker(id), Account::Available(user), -qt.cost);
        }
        plan.push(Account::Available(user), Account::ArbitrationPool(id), qt.fee);
        plan.apply(ctx.ledger)?;
        self.trade_ids.insert(cmd.id.clone());
        let m = self.markets.get_mut(id.index()).ok_or_else(|| EngineError::Internal("market vanished".into()))?;
        book_trade(ctx, m, id, user, cmd.id, outcome, cmd.shares.0, qt);
        Ok(())
    }

    pub(crate) fn report(&mut self, ctx: &mut Ctx, user: UserId, cmd: command::Report) -> EngineResult<()> {
        let id = self.lookup(&cmd.market)?;
        let m = self.get(id)?;
        if m.issue.is_some() {
            return Err(EngineError::InvalidState(format!(
                "market {:?} is decided by its linked issue, not by reports",
                m.name
            )));
        }
        match m.status {
            Status::Open => {
                return Err(EngineError::InvalidState(format!(
                    "reporting on {:?} opens at its deadline {}",
                    m.name, m.deadline
                )))
            }
            Status::Resolved | Status::Void => {
                return Err(EngineError::MarketClosed(format!("market {:?} is already {}", m.name, m.status.as_str())))
            }
            Status::Reporting => {}
        }
        let value = u32::from(cmd.value);
        if value as usize >= m.outcomes() {
            return Err(EngineError::InvalidArgument(format!(
                "a report on {:?} is an outcome 0 to {}, not {value}",
                m.name,
                m.outcomes() - 1
            )));
        }
        if m.has_reported(user) {
            return Err(EngineError::AlreadyReported(format!("you reported on {:?} already", m.name)));
        }
        if m.creator == user {
            // The creator gets back what the rewards leave of the pool, so their payoff would
            // depend on their own report through their peers' rewards.
            return Err(EngineError::NotEligible(format!("the creator of {:?} may not arbitrate it", m.name)));
        }
        if let Some(cap) = m.position_cap {
            let stake = m.holding(user).map_or(0, market::Holding::stake);
            if stake > cap {
                return Err(EngineError::NotEligible(format!(
                    "a position of {} shares is above {:?}'s arbiter cap of {}",
                    Amount(stake),
                    m.name,
                    Amount(cap)
                )));
            }
        }
        let m = self.markets.get_mut(id.index()).ok_or_else(|| EngineError::Internal("market vanished".into()))?;
        m.reports.push((user, value));
        let ready = m.window_closed && m.reports.len() >= m.min_reports as usize;
        emit(ctx, id, Some(user), MarketDetail::Reported { value });
        if ready {
            // Extended window: the minimum was just reached. Should the resolution be refused,
            // the report is taken back too, so that the refused command changes nothing.
            if let Err(e) = self.resolve_by_reports(ctx, id) {
                if let Some(m) = self.markets.get_mut(id.index()) {
                    m.reports.pop();
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// `resolve_market`: the creator closes reporting early once enough reports are in.
    pub(crate) fn resolve_early(&mut self, ctx: &mut Ctx, user: UserId, market: &str) -> EngineResult<()> {
        let id = self.lookup(market)?;
        let m = self.get(id)?;
        match m.status {
            Status::Resolved | Status::Void => {
                return Err(EngineError::AlreadyResolved(format!("market {market:?} is already {}", m.status.as_str())))
            }
            Status::Open => {
                return Err(EngineError::InvalidState(format!("market {market:?} trades until {}", m.deadline)))
            }
            Status::Reporting => {}
        }
        if m.issue.is_some() {
            return Err(EngineError::InvalidState(format!("market {market:?} is decided by its linked issue")));
        }
        if m.creator != user {
            return Err(EngineError::NotOwner(format!("only the creator of {market:?} may close reporting early")));
        }
        if m.reports.len() < m.min_reports as usize {
            return Err(EngineError::InvalidState(format!(
                "market {market:?} has {} of the {} reports it needs",
                m.reports.len(),
                m.min_reports
            )));
        }
        self.resolve_by_reports(ctx, id)
    }

    pub fn name(&self, id: MarketId) -> &str {
        self.names.name(id.0)
    }
}

/// Records an executed trade in the market's state and emits its event (money already moved).
#[allow(clippy::too_many_arguments)]
fn book_trade(
    ctx: &mut Ctx,
    m: &mut Market,
    id: MarketId,
    user: UserId,
    trade: String,
    outcome: u32,
    shares: i64,
    qt: trading::Quote,
) {
    let n = m.outcomes();
    let h = m.holdings.entry(user).or_insert_with(|| Holding::new(n));
    h.shares = qt.shares_after.clone();
    h.paid = h.paid.saturating_add(qt.cost);
    h.fees = h.fees.saturating_add(qt.fee);
    m.collected = m.collected.saturating_add(qt.cost);
    m.fees = m.fees.saturating_add(qt.fee);
    m.q = qt.q_after.clone();
    let prices = prices_micros(&qt.prices_after);
    m.history.push((ctx.now, prices.iter().map(|a| a.0).collect()));
    emit(
        ctx,
        id,
        Some(user),
        MarketDetail::Traded {
            trade,
            outcome,
            shares: Amount(shares),
            cost: Amount(qt.cost),
            fee: Amount(qt.fee),
            liquidated: Amount(qt.liquidated),
            increased: Amount(qt.increased),
            q: qt.q_after.iter().map(|x| Amount(*x)).collect(),
            prices,
        },
    );
}
