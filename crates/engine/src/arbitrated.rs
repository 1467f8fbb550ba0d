//! Arbitrated contracts (issue 12, item 3): a series decided by peer-prediction arbitration
//! instead of its issue tracker. Two ways in:
//!
//! * `open_statement`: a statement in words ("a vulnerability in X is reported by `<date>`") with
//!   its one maturation. Its sponsor posts an arbitration bond. Units, book and escrow are those
//!   of any series; at maturation trading stops and arbiters report 0 or 1 for a window.
//! * `dispute`: when the operator set a dispute window (`configure_disputes`), a matured
//!   tracker-decided series waits that long before the tracker settles it; within the window
//!   anyone may post a bond and turn its settlement over to arbitration.
//!
//! At the end of the report window the admitted reports give X (share of 1s); the series
//! settles once with fixed units paying X and unfixed units 1 - X (exchange `settle`), and the
//! arbiters are paid from the bond by the mechanism of spec/prediction.md (admission keeps the
//! worst case within the bond; docs/prediction.md). With too few admissible reports a
//! statement stays in reporting for another window, and a dispute falls back to the tracker
//! (bond returned). "Settled exactly once" holds because a series under arbitration is never
//! settled by its tracker or by an admin's `decide`, a dispute is only accepted before
//! settlement, and the arbitration resolves in the same step as the one `settle`.

use std::collections::BTreeMap;

use crate::error::{overflow, EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::types::{Outcome, SeriesStatus};
use crate::exchange::{Ctx, Exchange};
use crate::ids::{IssueId, SeriesId, UserId};
use crate::ledger::Account;
use crate::money::{Amount, MICROS_PER_CREDIT};
use crate::prediction::events::MarketDetail;
use crate::prediction::reliability::History;
use crate::prediction::resolution::{admit_panel, arbitration_detail, owed_micros, Admit, Panel};
use crate::time::{earliest, Agenda, Timestamp};

pub const DEFAULT_REPORT_DAYS: i64 = 3;
pub const MAX_REPORT_DAYS: i64 = 365;
pub use crate::command::{CaseKind, CaseParams, MAX_DISPUTE_HOURS};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Case {
    pub kind: CaseKind,
    pub statement: String,
    /// Who posted the bond (statement's creator, or the disputer): not eligible to report.
    pub sponsor: UserId,
    pub bond: i64,
    pub min_reports: u32,
    pub k_floor: i64,
    pub position_cap: Option<i64>,
    pub seed: u64,
    pub report_ms: i64,
    /// Set when reporting opens (statement: at maturation; dispute: when disputed).
    pub report_deadline: Option<Timestamp>,
    pub reports: Vec<(UserId, u32)>,
    pub done: bool,
    /// A dispute that found too few admissible reports: its tracker decided the series.
    pub to_tracker: bool,
}

/// Every arbitrated series, the dispute window, and what is due when.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cases {
    pub(crate) cases: BTreeMap<SeriesId, Case>,
    /// Report windows closing: (instant, series).
    due: Agenda<SeriesId>,
    /// Statements whose reporting opens at their maturation: (maturation, series). Kept so
    /// that a command does not look through every case ever opened.
    waiting: Agenda<SeriesId>,
    /// The issue of each statement and its one maturation (an offer on a statement must name
    /// it), so that an offer does not look through every case either.
    statements: BTreeMap<IssueId, Timestamp>,
}

fn emit(ctx: &mut Ctx, series: SeriesId, user: Option<UserId>, detail: MarketDetail) {
    ctx.emit(Event::SeriesArbitration { series, user, detail: Box::new(detail) });
}

/// The signed stake of `user` in units (fixed - unfixed), in micro-shares.
fn stake(x: &Exchange, user: UserId, s: SeriesId) -> i64 {
    x.position(user, s).map_or(0, |p| (p.fixed.units as i64 - p.unfixed.units as i64) * MICROS_PER_CREDIT)
}

impl Cases {
    pub fn case(&self, s: SeriesId) -> Option<&Case> {
        self.cases.get(&s)
    }
    pub fn all(&self) -> impl Iterator<Item = (SeriesId, &Case)> {
        self.cases.iter().map(|(s, c)| (*s, c))
    }
    /// The one maturation of `issue` if it is a statement's.
    pub(crate) fn is_statement_issue(&self, issue: IssueId) -> Option<Timestamp> {
        self.statements.get(&issue).copied()
    }

    fn check_params(p: &CaseParams, bond: Amount) -> EngineResult<(u32, i64, i64, Option<i64>)> {
        if !bond.is_positive() || bond > Amount::credits(crate::prediction::MAX_B_CREDITS) {
            return Err(EngineError::InvalidAmount(format!("an arbitration bond must be positive, not {bond}")));
        }
        let min = p.min_reports.unwrap_or(crate::prediction::DEFAULT_MIN_REPORTS);
        if !(2..=10_000).contains(&min) {
            return Err(EngineError::InvalidArgument(format!("min_reports must lie in 2..=10000, not {min}")));
        }
        let days = p.report_days.unwrap_or(DEFAULT_REPORT_DAYS);
        if !(1..=MAX_REPORT_DAYS).contains(&days) {
            return Err(EngineError::InvalidArgument(format!("report_days must lie in 1..={MAX_REPORT_DAYS}")));
        }
        let k_floor = p.k_floor.unwrap_or(crate::prediction::DEFAULT_K_FLOOR);
        if k_floor.is_negative() || k_floor > bond {
            return Err(EngineError::InvalidArgument("k_floor must lie in [0, bond]".into()));
        }
        if p.position_cap.is_some_and(|c| c.is_negative()) {
            return Err(EngineError::InvalidArgument("position_cap must not be negative".into()));
        }
        Ok((min, days * 86_400_000, k_floor.0, p.position_cap.map(|c| c.0)))
    }

    /// `open_statement`: a local issue carrying a statement in words, its one series, and the
    /// sponsor's bond.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open_statement(
        &mut self,
        ctx: &mut Ctx,
        x: &mut Exchange,
        sponsor: UserId,
        issue: &str,
        statement: &str,
        maturation: Timestamp,
        bond: Amount,
        params: &CaseParams,
    ) -> EngineResult<()> {
        let (min_reports, report_ms, k_floor, position_cap) = Self::check_params(params, bond)?;
        if statement.trim().is_empty() || statement.len() > crate::prediction::MAX_STATEMENT_LEN {
            return Err(EngineError::InvalidArgument("a statement has 1 to 2000 characters".into()));
        }
        if issue.is_empty() || issue.len() > crate::validate::MAX_NAME_LEN {
            return Err(EngineError::InvalidArgument("an issue key has 1 to 200 characters".into()));
        }
        if x.issue_id(issue).is_some() {
            return Err(EngineError::DuplicateId(format!("issue {issue:?} exists already")));
        }
        if maturation <= ctx.now {
            return Err(EngineError::MaturationInPast(format!("maturation {maturation} is not after now")));
        }
        let available = ctx.ledger.balance(Account::Available(sponsor));
        if available < bond {
            return Err(EngineError::InsufficientFunds(format!("the bond is {bond} but {available} is available")));
        }
        // From here on nothing can be refused.
        let issue_id = x.open_issue(ctx, issue, statement, &[])?;
        let s = x.create_series(ctx, issue_id, maturation);
        x.arbitrated.insert(s);
        ctx.ledger.transfer(Account::Available(sponsor), Account::CaseBond(s), bond)?;
        self.cases.insert(
            s,
            Case {
                kind: CaseKind::Statement,
                statement: statement.to_owned(),
                sponsor,
                bond: bond.0,
                min_reports,
                k_floor,
                position_cap,
                seed: params.seed.unwrap_or(0),
                report_ms,
                report_deadline: None,
                reports: Vec::new(),
                done: false,
                to_tracker: false,
            },
        );
        self.waiting.insert((maturation, s));
        self.statements.insert(issue_id, maturation);
        emit(ctx, s, Some(sponsor), MarketDetail::CaseOpened { kind: CaseKind::Statement, bond });
        Ok(())
    }

    /// `dispute`: turns a matured, not yet settled tracker series over to arbitration.
    pub(crate) fn dispute(
        &mut self,
        ctx: &mut Ctx,
        x: &mut Exchange,
        sponsor: UserId,
        s: SeriesId,
        bond: Amount,
        params: &CaseParams,
    ) -> EngineResult<()> {
        let (min_reports, report_ms, k_floor, position_cap) = Self::check_params(params, bond)?;
        let series = x.series(s).ok_or_else(|| EngineError::Internal("no series".into()))?;
        match series.status {
            SeriesStatus::Open => return Err(EngineError::InvalidState("the series has not matured yet".into())),
            SeriesStatus::Settled => {
                return Err(EngineError::InvalidState("the series is settled: disputes come before settlement".into()))
            }
            SeriesStatus::Matured => {}
        }
        if x.arbitrated.contains(&s) {
            return Err(EngineError::AlreadyDisputed("the series is under arbitration already".into()));
        }
        // `advance` removes a window at its end, before anything else runs at that instant.
        if !x.dispute_until.contains_key(&s) {
            return Err(EngineError::InvalidState("the series' dispute window is closed".into()));
        }
        let available = ctx.ledger.balance(Account::Available(sponsor));
        if available < bond {
            return Err(EngineError::InsufficientFunds(format!("the bond is {bond} but {available} is available")));
        }
        // From here on nothing can be refused.
        x.arbitrated.insert(s);
        ctx.ledger.transfer(Account::Available(sponsor), Account::CaseBond(s), bond)?;
        let deadline = ctx.now.plus_millis(report_ms);
        self.cases.insert(
            s,
            Case {
                kind: CaseKind::Dispute,
                statement: String::new(),
                sponsor,
                bond: bond.0,
                min_reports,
                k_floor,
                position_cap,
                seed: params.seed.unwrap_or(0),
                report_ms,
                report_deadline: Some(deadline),
                reports: Vec::new(),
                done: false,
                to_tracker: false,
            },
        );
        self.due.insert((deadline, s));
        emit(ctx, s, Some(sponsor), MarketDetail::CaseOpened { kind: CaseKind::Dispute, bond });
        emit(ctx, s, None, MarketDetail::CaseReporting { report_deadline: deadline });
        Ok(())
    }

    /// `report_series`: an arbiter's 0 or 1 on an arbitrated series in reporting.
    pub(crate) fn report(
        &mut self,
        ctx: &mut Ctx,
        x: &Exchange,
        user: UserId,
        s: SeriesId,
        value: u8,
    ) -> EngineResult<()> {
        let c = self
            .cases
            .get(&s)
            .ok_or_else(|| EngineError::InvalidState("the series is decided by its tracker, not by reports".into()))?;
        if c.done {
            return Err(EngineError::AlreadyResolved("the series is settled".into()));
        }
        if c.report_deadline.is_none() {
            return Err(EngineError::InvalidState("reporting opens at the maturation".into()));
        }
        if value > 1 {
            return Err(EngineError::InvalidArgument(format!("a report is 0 or 1, not {value}")));
        }
        if c.reports.iter().any(|(u, _)| *u == user) {
            return Err(EngineError::AlreadyReported("you reported on this series already".into()));
        }
        if c.sponsor == user {
            return Err(EngineError::NotEligible("the bond's sponsor may not arbitrate".into()));
        }
        if let Some(cap) = c.position_cap {
            if stake(x, user, s).abs() > cap {
                return Err(EngineError::NotEligible(format!("a position above the cap of {} units", Amount(cap))));
            }
        }
        if let Some(c) = self.cases.get_mut(&s) {
            c.reports.push((user, u32::from(value)));
        }
        emit(ctx, s, Some(user), MarketDetail::Reported { value: u32::from(value) });
        Ok(())
    }

    /// The earliest time [`Cases::advance`] has something to do at (None: nothing is due).
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        earliest([self.waiting.earliest(), self.due.earliest()])
    }
    /// `next_due()` is none or after `at`.
    #[inline]
    pub(crate) fn none_due_by(&self, at: Timestamp) -> bool {
        self.waiting.none_by(at) && self.due.none_by(at)
    }

    /// Opens reporting on statements whose series matured by now and resolves the windows that
    /// closed, in time order.
    pub(crate) fn advance(
        &mut self,
        ctx: &mut Ctx,
        x: &mut Exchange,
        reliability: &mut BTreeMap<UserId, History>,
    ) -> EngineResult<()> {
        let now = ctx.now;
        // Statements that matured by now, in series order (the exchange matured them first).
        let mut opening: Vec<SeriesId> = Vec::new();
        while let Some(&(t, s)) = self.waiting.first() {
            if t > now {
                break;
            }
            self.waiting.pop_first();
            opening.push(s);
        }
        opening.sort_unstable();
        for s in opening {
            // Always matured here; a statement settled otherwise would not open (as before).
            let Some(maturation) = x.series(s).filter(|se| se.status == SeriesStatus::Matured).map(|se| se.maturation)
            else {
                debug_assert!(false, "statement series {} not matured at its maturation", s.0);
                continue;
            };
            if let Some(c) = self.cases.get_mut(&s) {
                let deadline = maturation.plus_millis(c.report_ms);
                c.report_deadline = Some(deadline);
                self.due.insert((deadline, s));
                let at = ctx.now;
                ctx.now = maturation;
                emit(ctx, s, None, MarketDetail::CaseReporting { report_deadline: deadline });
                ctx.now = at;
            }
        }
        while let Some(&(t, s)) = self.due.first() {
            if t > now {
                break;
            }
            self.due.pop_first();
            let at = ctx.now;
            ctx.now = t;
            let r = self.close(ctx, x, reliability, s);
            ctx.now = at;
            r?;
        }
        Ok(())
    }

    /// A report window closed: settle by the admitted reports, or extend / fall back.
    fn close(
        &mut self,
        ctx: &mut Ctx,
        x: &mut Exchange,
        reliability: &mut BTreeMap<UserId, History>,
        s: SeriesId,
    ) -> EngineResult<()> {
        let Some(c) = self.cases.get(&s) else { return Ok(()) };
        if c.done {
            return Ok(());
        }
        let series = x.series(s).ok_or_else(|| EngineError::Internal("no series".into()))?;
        let mu = series.last_price.map_or(0.5, |p| f64::from(p.bp()) / 10_000.0);
        let name = format!("{}@{}", x.issue_name(series.issue), series.maturation);
        let budget = ctx.ledger.balance(Account::CaseBond(s)).0;
        let panel = Panel {
            name: &name,
            seed: c.seed,
            min_reports: c.min_reports,
            k_floor: c.k_floor,
            mu,
            robust_prior: true,
            reports: &c.reports,
        };
        let admit = admit_panel(reliability, &panel, |u| stake(x, u, s), budget)?;
        let adm = match admit {
            Admit::Yes(adm) => adm,
            Admit::Void { .. } => return self.no_decision(ctx, x, s),
        };
        // Money first (the bond account), then the one settlement.
        let bond_acc = Account::CaseBond(s);
        let users: Vec<(UserId, u32)> = adm.admitted.iter().filter_map(|&i| c.reports.get(i).copied()).collect();
        let ones = users.iter().filter(|(_, v)| *v == 1).count() as i64;
        let total = users.len() as i64;
        let fixed_pays = (ones * MICROS_PER_CREDIT) / total.max(1);
        let mut pending: Vec<(Option<UserId>, MarketDetail)> = Vec::new();
        for (i, why) in &adm.excluded {
            if let Some((u, v)) = c.reports.get(*i) {
                pending.push((Some(*u), MarketDetail::Excluded { report: *v, reason: (*why).to_owned() }));
            }
        }
        pending.push((None, arbitration_detail(&adm)?));
        let mut left = budget;
        let mut moves: Vec<(UserId, i64)> = Vec::new();
        if adm.rewards.paid {
            let owed = owed_micros(&adm)?;
            let sum: i64 = owed.iter().sum();
            if sum > adm.worst || sum > budget {
                return Err(EngineError::Internal(format!(
                    "rewards {} exceed the bond {}",
                    Amount(sum),
                    Amount(budget)
                )));
            }
            for (i, ((user, v), arb)) in users.iter().zip(&adm.arbiters).enumerate() {
                let pay = owed.get(i).copied().unwrap_or(0);
                left -= pay;
                moves.push((*user, pay));
                let peer = users.get(arb.peer).map_or(*user, |(u, _)| *u);
                let p = |x: f64| Amount(crate::prediction::lmsr::prob_micros(x));
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
        } else if !users.is_empty() {
            let share = budget / users.len() as i64;
            for (user, _) in &users {
                left -= share;
                moves.push((*user, share));
                pending.push((Some(*user), MarketDetail::BondShared { amount: Amount(share) }));
            }
        }
        for (user, pay) in &moves {
            ctx.ledger.transfer(bond_acc, Account::Available(*user), Amount(*pay))?;
        }
        ctx.ledger.transfer(bond_acc, Account::Available(c.sponsor), Amount(left))?;
        pending.push((Some(c.sponsor), MarketDetail::Remainder { amount: Amount(left) }));
        let outcome = Outcome::Split { fixed_pays_micros: u32::try_from(fixed_pays).map_err(|_| overflow("X"))? };
        x.arbitrated.remove(&s);
        x.settle_arbitrated(ctx, s, outcome)?;
        for (user, detail) in pending {
            emit(ctx, s, user, detail);
        }
        for (u, v) in &users {
            reliability.entry(*u).or_default().record(*v == 1, ones as u64, total as u64);
        }
        if let Some(c) = self.cases.get_mut(&s) {
            c.done = true;
        }
        Ok(())
    }

    /// Too few admissible reports: a statement gets another window; a dispute falls back to the
    /// tracker and the bond returns to the disputer.
    fn no_decision(&mut self, ctx: &mut Ctx, x: &mut Exchange, s: SeriesId) -> EngineResult<()> {
        let Some(c) = self.cases.get_mut(&s) else { return Ok(()) };
        let (reports, needed) = (c.reports.len(), c.min_reports);
        match c.kind {
            CaseKind::Statement => {
                let deadline = ctx.now.plus_millis(c.report_ms);
                c.report_deadline = Some(deadline);
                self.due.insert((deadline, s));
                emit(ctx, s, None, MarketDetail::ReportingExtended { reports, needed });
                Ok(())
            }
            CaseKind::Dispute => {
                let (sponsor, bond_acc) = (c.sponsor, Account::CaseBond(s));
                c.done = true;
                c.to_tracker = true;
                let bond = ctx.ledger.balance(bond_acc);
                ctx.ledger.transfer(bond_acc, Account::Available(sponsor), bond)?;
                emit(
                    ctx,
                    s,
                    None,
                    MarketDetail::Voided {
                        reason: format!("{reports} admissible of {needed} reports: the tracker decides"),
                    },
                );
                emit(ctx, s, Some(sponsor), MarketDetail::Remainder { amount: bond });
                x.arbitrated.remove(&s);
                x.dispute_until.remove(&s);
                x.settle_from_tracker(ctx, s)
            }
        }
    }

    /// Invariants: an open case's bond account holds its bond; a finished case's is empty; a
    /// case is done iff its series settled.
    pub(crate) fn check(&self, ledger: &crate::ledger::Ledger, x: &Exchange) -> Result<(), String> {
        for (s, c) in &self.cases {
            let bal = ledger.balance(Account::CaseBond(*s)).0;
            let settled = x.series(*s).is_some_and(|se| se.status == SeriesStatus::Settled);
            if c.done {
                if bal != 0 {
                    return Err(format!("arbitrated series {}: {} left in its bond account", s.0, Amount(bal)));
                }
                if c.kind == CaseKind::Statement && !settled {
                    return Err(format!("arbitrated series {} decided but not settled", s.0));
                }
            } else {
                if bal != c.bond {
                    return Err(format!(
                        "arbitrated series {}: bond account {} but bond {}",
                        s.0,
                        Amount(bal),
                        Amount(c.bond)
                    ));
                }
                if settled || !x.arbitrated.contains(s) {
                    return Err(format!("arbitrated series {} settled outside arbitration", s.0));
                }
            }
        }
        Ok(())
    }
}
