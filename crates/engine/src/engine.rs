//! The engine: applies commands to state and emits events. Pure and deterministic: no IO, no
//! clock, no randomness, no floats for money. Drivers (replay, server, simulator) own time and
//! storage and feed it [`Command`]s.

use crate::command::{Command, Op, Terms};
use crate::error::{EngineError, EngineResult};
use crate::event::{Event, Timed};
use crate::exchange::types::Outcome;
use crate::exchange::{Ahead, Ctx, Exchange, Limits, Placing};
use crate::ids::{IssueId, Names, SeriesId, UserId};
use crate::ledger::{Account, Ledger};
use crate::money::{Amount, MICROS_PER_CREDIT};
use crate::prediction::Markets;
use crate::resolve::{OfferRef, Ref, Resolved, ResolvedOp, Target};
use crate::resources::ResourceMarket;
use crate::time::{earliest, Timestamp};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Engine {
    now: Option<Timestamp>,
    pub(crate) ledger: Ledger,
    pub(crate) users: Names,
    pub(crate) exchange: Exchange,
    pub(crate) markets: Markets,
    pub(crate) cases: crate::arbitrated::Cases,
    pub(crate) resources: ResourceMarket,
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    pub fn with_limits(limits: Limits) -> Engine {
        Engine { exchange: Exchange::with_limits(limits), ..Engine::default() }
    }

    /// The engine's clock: the time of the last command (None before the first).
    pub fn now(&self) -> Option<Timestamp> {
        self.now
    }

    /// Applies one command: moves the clock to `cmd.at` (applying expiries, maturations and
    /// settlements due by then; their events are kept even if the command itself is refused),
    /// then executes the operation. A refused operation changes nothing and adds no event.
    ///
    /// A command whose time or strings break the shape rules of [`crate::validate`] is refused
    /// first, before the clock moves.
    ///
    /// [`Engine::resolve`] then [`Engine::apply_resolved`]: a driver that resolves the names
    /// itself, ahead of the writer, gets the same result.
    pub fn apply(&mut self, cmd: Command, out: &mut Vec<Timed>) -> EngineResult<()> {
        let cmd = self.resolve(cmd)?;
        self.apply_resolved(cmd, out)
    }

    /// The earliest instant at which something is due (an offer's expiry, a maturation, the end
    /// of a dispute window, a market's or an arbitration case's deadline), if any: a command at
    /// or after it applies what is due first. A driver ticks then.
    pub fn next_due(&self) -> Option<Timestamp> {
        earliest([self.markets.next_due(), self.exchange.next_due(), self.cases.next_due()])
    }

    /// Whether nothing is due at or before `at`: `next_due()` is none or later, looked at
    /// agenda by agenda.
    #[inline]
    fn none_due_by(&self, at: Timestamp) -> bool {
        let none = self.markets.none_due_by(at) && self.exchange.none_due_by(at) && self.cases.none_due_by(at);
        // Every test's every command checks the two ways agree.
        debug_assert_eq!(none, self.next_due().is_none_or(|t| t > at));
        none
    }

    /// Moves the clock forward to `at`. Time never goes backwards.
    #[inline]
    pub fn advance_to(&mut self, at: Timestamp, out: &mut Vec<Timed>) -> EngineResult<()> {
        // Most commands come after the last one and find nothing due: one look at each
        // agenda's earliest time.
        if at.in_range() && self.now.is_some_and(|now| now <= at) && self.none_due_by(at) {
            self.now = Some(at);
            return Ok(());
        }
        self.advance_to_due(at, out)
    }

    /// [`Engine::advance_to`] when something may be due (or the time is refused).
    fn advance_to_due(&mut self, at: Timestamp, out: &mut Vec<Timed>) -> EngineResult<()> {
        at.checked("the command's time")?;
        if let Some(now) = self.now {
            if at < now {
                return Err(EngineError::TimeWentBackwards(format!("{at} is before the engine's time {now}")));
            }
        }
        let mut ctx = Ctx { ledger: &mut self.ledger, out, now: self.now.unwrap_or(at) };
        // Markets first: their deadlines do not depend on the exchange, and vice versa.
        self.markets.advance(&mut ctx, at, &self.exchange)?;
        self.exchange.advance(&mut ctx, at)?;
        self.cases.advance(&mut ctx, &mut self.exchange, &mut self.markets.reliability)?;
        self.now = Some(at);
        Ok(())
    }

    /// Executes an operation at the current time.
    pub fn execute(&mut self, op: Op, out: &mut Vec<Timed>) -> EngineResult<()> {
        let start = out.len();
        let result = self.execute_inner(op, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// The engine's time, which an operation needs.
    pub(crate) fn clock(&self) -> EngineResult<Timestamp> {
        self.now.ok_or_else(|| EngineError::InvalidTime("the engine has no time yet".into()))
    }

    fn execute_inner(&mut self, op: Op, out: &mut Vec<Timed>) -> EngineResult<()> {
        let now = self.clock()?;
        let mut ctx = Ctx { ledger: &mut self.ledger, out: &mut *out, now };
        match op {
            Op::Deposit { user, amount } => {
                positive(amount)?;
                check_user_name(&user)?;
                // The transfer first (it may overflow): a refused deposit must not create the user.
                let existing = self.users.get(&user);
                let id = UserId(existing.unwrap_or(self.users.len() as u32));
                ctx.ledger.transfer(Account::Mint, Account::Available(id), amount)?;
                if existing.is_none() {
                    let (raw, _) = self.users.intern(&user);
                    debug_assert_eq!(raw, id.0);
                    ctx.emit(Event::UserCreated { user: id });
                }
                ctx.emit(Event::Deposited { user: id, amount });
            }
            Op::CreateUser { user } => {
                if self.users.get(&user).is_some() {
                    return Err(EngineError::DuplicateId(format!("user {user:?} exists")));
                }
                check_user_name(&user)?;
                let (raw, _) = self.users.intern(&user);
                ctx.emit(Event::UserCreated { user: UserId(raw) });
            }
            Op::Withdraw { user, amount } => {
                positive(amount)?;
                let user = known(&self.users, &user)?;
                ctx.ledger.transfer(Account::Available(user), Account::Mint, amount)?;
                ctx.emit(Event::Withdrew { user, amount });
            }
            Op::OpenIssue { issue, title, labels } => {
                self.exchange.open_issue(&mut ctx, &issue, &title, &labels)?;
            }
            Op::CloseIssue { issue, reason } => {
                self.exchange.close_issue(&mut ctx, &issue, reason)?;
                self.markets.on_issue_changed(&mut ctx, &self.exchange)?;
            }
            Op::ReopenIssue { issue } => self.exchange.reopen_issue(&mut ctx, &issue)?,
            Op::SyncIssue { issue, tracker, title, state, reason, changed_at, observed_at } => {
                let seen = crate::exchange::issues::Seen { changed_at, observed_at };
                self.exchange.sync_issue(&mut ctx, &issue, &tracker, &title, state, reason, seen)?;
                self.markets.on_issue_changed(&mut ctx, &self.exchange)?;
            }
            // By name: the resolved path, with every name left to look up.
            Op::Offer(cmd) => {
                let terms = cmd.terms();
                let id = OfferRef::unchecked(cmd.id);
                self.offer_resolved(id, Ref::Name(cmd.user), Ref::Name(cmd.issue), None, terms, out)?;
            }
            Op::Cancel { user, offer } => {
                self.cancel_resolved(Ref::Name(user), Target::Named(OfferRef::unchecked(offer)), out)?
            }
            Op::Resume { user, offer } => {
                let user = known(&self.users, &user)?;
                self.exchange.resume(&mut ctx, user, &offer)?;
            }
            Op::Tick {} => {}
            Op::SetLimits { max_open_offers_per_user } => {
                if max_open_offers_per_user == 0 {
                    return Err(EngineError::InvalidArgument("max_open_offers_per_user is at least 1".into()));
                }
                self.exchange.limits = Limits { max_open_offers_per_user };
            }
            Op::Decide { issue, maturation, winner, fixed_pays, reason, actor } => {
                let issue_id = self
                    .exchange
                    .issue_id(&issue)
                    .ok_or_else(|| EngineError::UnknownIssue(format!("no issue {issue:?}")))?;
                let series = self.exchange.series_id(issue_id, maturation).ok_or_else(|| {
                    EngineError::UnknownSeries(format!("no series of {issue:?} maturing {maturation}"))
                })?;
                let outcome = decision(winner, fixed_pays)?;
                self.exchange.decide(&mut ctx, series, outcome, actor, reason)?;
            }
            Op::FundMaker { user, issue, maturation, b, levels } => {
                let funder = known(&self.users, &user)?;
                let levels = levels.unwrap_or(5);
                let (issue, _, lmsr, subsidy) =
                    self.exchange.check_fund_maker(&ctx, funder, &issue, maturation, b, levels)?;
                // From here on nothing can be refused.
                let series = self.exchange.series_for_maker(&mut ctx, issue, maturation);
                let (raw, created) = self.users.intern(&crate::exchange::maker::maker_name(series));
                let maker = UserId(raw);
                if created {
                    ctx.emit(Event::UserCreated { user: maker });
                }
                self.exchange.fund_maker(&mut ctx, series, maker, funder, lmsr, subsidy, levels)?;
            }
            Op::OpenStatement { user, issue, statement, maturation, bond, params } => {
                let user = known(&self.users, &user)?;
                self.cases.open_statement(
                    &mut ctx,
                    &mut self.exchange,
                    user,
                    &issue,
                    &statement,
                    maturation,
                    bond,
                    &params,
                )?;
            }
            Op::Dispute { user, issue, maturation, bond, params } => {
                let user = known(&self.users, &user)?;
                let s = Engine::series_named(&self.exchange, &issue, maturation)?;
                self.cases.dispute(&mut ctx, &mut self.exchange, user, s, bond, &params)?;
            }
            Op::ReportSeries { user, issue, maturation, value } => {
                let user = known(&self.users, &user)?;
                let s = Engine::series_named(&self.exchange, &issue, maturation)?;
                self.cases.report(&mut ctx, &self.exchange, user, s, value)?;
            }
            Op::ConfigureDisputes { hours } => self.exchange.configure_disputes(hours)?,
            Op::CreateMarket(cmd) => {
                let user = known(&self.users, &cmd.user)?;
                self.markets.create(&mut ctx, user, *cmd, &self.exchange)?;
            }
            Op::Trade(cmd) => {
                let user = known(&self.users, &cmd.user)?;
                self.markets.trade(&mut ctx, user, cmd)?;
            }
            Op::Report(cmd) => {
                let user = known(&self.users, &cmd.user)?;
                self.markets.report(&mut ctx, user, cmd)?;
            }
            Op::ResolveMarket(cmd) => {
                let user = known(&self.users, &cmd.user)?;
                self.markets.resolve_early(&mut ctx, user, &cmd.market)?;
            }
            op => execute_resources(&mut self.resources, op, &mut ctx)?,
        }
        Ok(())
    }

    fn series_named(x: &Exchange, issue: &str, maturation: Timestamp) -> EngineResult<crate::ids::SeriesId> {
        let issue_id = x.issue_id(issue).ok_or_else(|| EngineError::UnknownIssue(format!("no issue {issue:?}")))?;
        x.series_id(issue_id, maturation)
            .ok_or_else(|| EngineError::UnknownSeries(format!("no series of {issue:?} maturing {maturation}")))
    }

    /// Arbitrated series (statements and disputes).
    pub fn cases(&self) -> &crate::arbitrated::Cases {
        &self.cases
    }

    // ----- queries -----

    /// The resource market (peer and operator views: `peer_view`, `operator_view`).
    pub fn resources(&self) -> &ResourceMarket {
        &self.resources
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }
    pub fn markets(&self) -> &Markets {
        &self.markets
    }
    pub fn user_id(&self, name: &str) -> Option<UserId> {
        self.users.get(name).map(UserId)
    }
    pub fn user_name(&self, id: UserId) -> &str {
        self.users.name(id.0)
    }
    pub fn users(&self) -> impl Iterator<Item = (UserId, &str)> {
        self.users.iter().map(|(i, n)| (UserId(i), n))
    }
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
    /// (available, held) of a user.
    pub fn balance(&self, user: UserId) -> (Amount, Amount) {
        (self.ledger.balance(Account::Available(user)), self.ledger.balance(Account::Held(user)))
    }
}

fn positive(amount: Amount) -> EngineResult<()> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(EngineError::InvalidAmount(format!("the amount must be positive, not {amount}")))
    }
}

/// Longest user, issue and id names the engine accepts.
pub use crate::validate::MAX_NAME_LEN;

/// Names looked up ahead of the writer: see [`crate::resolve`].
impl Engine {
    /// Looks up the names of `cmd` and checks its shape, changing nothing: the refusals
    /// [`Engine::apply`] gives before it moves the clock (a bad time, a name too long or with a
    /// control character), here. See the module's documentation.
    pub fn resolve(&self, cmd: Command) -> EngineResult<Resolved> {
        let names = crate::resolve::Directory {
            users: &self.users,
            issues: &self.exchange.issue_names,
            offers: &self.exchange.offer_names,
            series: &|issue, maturation| self.exchange.series_id(issue, maturation),
        };
        crate::resolve::resolve(names, cmd)
    }

    /// Applies a command resolved by [`Engine::resolve`] of this engine (now or at any earlier
    /// state): exactly what [`Engine::apply`] of the command would do.
    pub fn apply_resolved(&mut self, cmd: Resolved, out: &mut Vec<Timed>) -> EngineResult<()> {
        self.advance_to(cmd.at, out)?;
        let start = out.len();
        let result = match cmd.op {
            ResolvedOp::Other(op) => return self.execute(*op, out),
            ResolvedOp::Offer { id, user, issue, series, terms } => {
                self.offer_resolved(id, user, issue, series, terms, out)
            }
            ResolvedOp::Cancel { user, offer } => self.cancel_resolved(user, offer, out),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Asks for the memory the next two commands of a batch will read, so that it is on its way
    /// while the current one is applied (`crate::exchange::ahead`): call it just before
    /// applying a command, with the command after it (`next`) and the one after that (`after`).
    /// A hint only: the engine does not change, and results are the same without it.
    #[mutants::skip]
    pub fn prefetch(&self, next: Option<&Resolved>, after: Option<&Resolved>) {
        if let Some(a) = after.and_then(ahead) {
            self.exchange.prefetch_far(a);
        }
        if let Some(a) = next.and_then(ahead) {
            self.exchange.prefetch_near(a);
        }
    }

    fn offer_resolved(
        &mut self,
        id: OfferRef,
        user: Ref<UserId>,
        issue: Ref<IssueId>,
        series: Option<SeriesId>,
        terms: Terms,
        out: &mut Vec<Timed>,
    ) -> EngineResult<()> {
        let user = self.user_of(&user)?;
        let issue = match &issue {
            Ref::Id(i) if i.index() < self.exchange.issue_names.len() => Ok(*i),
            Ref::Id(i) => return Err(EngineError::UnknownIssue(format!("no issue #{}", i.0))),
            Ref::Name(name) => self.exchange.issue_id(name).ok_or(name.as_str()),
        };
        let id = id.as_ref(&self.exchange.offer_names);
        let now = self.clock()?;
        let mut ctx = Ctx { ledger: &mut self.ledger, out, now };
        place_offer(&mut self.exchange, &self.cases, &mut ctx, Placing { user, issue, series, id, terms })
    }

    fn cancel_resolved(&mut self, user: Ref<UserId>, offer: Target, out: &mut Vec<Timed>) -> EngineResult<()> {
        let user = self.user_of(&user)?;
        let now = self.clock()?;
        let mut ctx = Ctx { ledger: &mut self.ledger, out, now };
        match offer {
            Target::Found(id) => self.exchange.cancel_id(&mut ctx, user, id),
            Target::Named(name) => {
                let name = name.as_ref(&self.exchange.offer_names);
                self.exchange.cancel_ref(&mut ctx, user, name)
            }
        }
    }

    fn user_of(&self, user: &Ref<UserId>) -> EngineResult<UserId> {
        match user {
            Ref::Id(u) if u.index() < self.users.len() => Ok(*u),
            Ref::Id(u) => Err(EngineError::UnknownUser(format!("no user #{}", u.0))),
            Ref::Name(name) => known(&self.users, name),
        }
    }
}

fn check_user_name(name: &str) -> EngineResult<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(EngineError::InvalidArgument(format!("a user name has 1 to {MAX_NAME_LEN} characters")));
    }
    if name.starts_with('~') {
        return Err(EngineError::InvalidArgument("user names starting with '~' are reserved (market makers)".into()));
    }
    Ok(())
}

/// Places an offer of a known user: the engine's own rules (reserved ids, a statement's one
/// series), then the exchange's ([`Exchange::place_on`]).
pub(crate) fn place_offer(
    exchange: &mut Exchange,
    cases: &crate::arbitrated::Cases,
    ctx: &mut Ctx,
    placing: Placing,
) -> EngineResult<()> {
    let Placing { id, issue, terms, .. } = placing;
    if id.starts_with('~') {
        return Err(EngineError::InvalidArgument("offer ids starting with '~' are reserved".into()));
    }
    if let Ok(issue) = issue {
        if let Some(m) = cases.is_statement_issue(issue) {
            if m != terms.maturation {
                return Err(EngineError::InvalidArgument(format!(
                    "statement {:?} has one series, maturing {m}",
                    exchange.issue_name(issue)
                )));
            }
        }
    }
    exchange.place_on(ctx, placing)?;
    Ok(())
}

/// What `Engine::prefetch` asks the exchange to load ahead for `cmd`, if anything.
#[mutants::skip] // Only hints depend on it (see `Engine::prefetch`).
fn ahead(cmd: &Resolved) -> Option<Ahead<'_>> {
    match &cmd.op {
        ResolvedOp::Offer { series: Some(series), terms, .. } => Some(Ahead::Offer(*series, terms)),
        ResolvedOp::Cancel { offer: Target::Found(id), .. } => Some(Ahead::Cancel(*id)),
        _ => None,
    }
}

pub(crate) fn known(users: &Names, name: &str) -> EngineResult<UserId> {
    users.get(name).map(UserId).ok_or_else(|| EngineError::UnknownUser(format!("no user {name:?}")))
}

fn decision(winner: Option<crate::exchange::types::Side>, fixed_pays: Option<Amount>) -> EngineResult<Outcome> {
    use crate::exchange::types::Side;
    match (winner, fixed_pays) {
        (Some(Side::Fixed), None) => Ok(Outcome::Fixed),
        (Some(Side::Unfixed), None) => Ok(Outcome::Unfixed),
        (None, Some(x)) if (0..=MICROS_PER_CREDIT).contains(&x.0) => {
            Ok(Outcome::Split { fixed_pays_micros: x.0 as u32 })
        }
        (None, Some(x)) => Err(EngineError::InvalidArgument(format!("fixed_pays must lie in [0, 1], not {x}"))),
        _ => Err(EngineError::InvalidArgument("give exactly one of winner and fixed_pays".into())),
    }
}

/// The resource-market operations. A refused one changes nothing: every operation
/// validates before it mutates, and `settle_day` dry-runs its transfers first.
fn execute_resources(r: &mut ResourceMarket, op: Op, ctx: &mut Ctx) -> EngineResult<()> {
    match op {
        Op::RegisterPeer { peer } => r.register(ctx, &peer),
        Op::ReportOnline { peer, fraction, online } => r.report_online(ctx, &peer, fraction, online),
        Op::SetSliders { peer, space_gb, upload_gb, download_gb } => {
            r.set_sliders(ctx, &peer, space_gb, upload_gb, download_gb)
        }
        Op::BackupFile { file, owner, k, n, fragment_bytes } => r.backup_file(ctx, &file, &owner, k, n, fragment_bytes),
        Op::Backup { file, owner, bytes, target } => r.backup(ctx, &file, &owner, bytes, target),
        Op::ReportFragments { peer, files } => r.report_fragments(ctx, &peer, &files),
        Op::RetrieveFile { file } => r.retrieve_file(ctx, &file),
        Op::RepairFile { file, lost } => r.repair_file(ctx, &file, &lost),
        Op::DeleteFile { file } => r.delete_file(ctx, &file),
        Op::SettleDay {} => r.settle_day(ctx),
        Op::UpdatePrices {} => r.update_prices(ctx),
        Op::SetResourcePrices { p_u, p_d } => {
            let parse = |s: &str| {
                crate::money::parse_fixed(s, 9)
                    .ok_or_else(|| EngineError::InvalidPrice(format!("{s:?} is not a decimal with at most 9 decimals")))
            };
            r.set_prices(ctx, parse(&p_u)?, parse(&p_d)?)
        }
        Op::ConfigureResources { epoch_days } => r.configure(ctx, epoch_days),
        other => Err(EngineError::Internal(format!("unrouted operation {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::exchange::testing::{ISSUE, MAT, T};
    use crate::exchange::Limits;
    use crate::ids::SeriesId;
    use crate::ledger::Account;
    use crate::{Amount, Engine};

    impl Engine {
        /// Only the makers' invariants: the ledger check would also fail on a corrupted copy.
        fn check_makers_only(&self) -> Result<(), String> {
            self.exchange.check_makers(&self.ledger)
        }
    }

    /// Nothing is due before the earliest time of any agenda; from that instant on, something is.
    #[test]
    fn nothing_is_due_before_the_earliest_agenda_time() {
        let mut t = T::new(&[("a", "100")]);
        let far = crate::Timestamp::MAX;
        assert!(t.engine.none_due_by(far), "nothing scheduled");
        t.offer(
            "2026-12-01T10:00:00Z",
            "e1",
            "a",
            "buy_fixed",
            "0.5",
            10,
            json!({"expiration":"2026-12-11T00:00:00Z"}),
        );
        let expiry = crate::Timestamp::parse("2026-12-11T00:00:00Z").unwrap();
        assert!(t.engine.none_due_by(crate::Timestamp(expiry.0 - 1)));
        assert!(!t.engine.none_due_by(expiry) && !t.engine.none_due_by(far));
    }

    #[test]
    fn an_engine_made_with_limits_applies_them() {
        let mut t = T { engine: Engine::with_limits(Limits { max_open_offers_per_user: 1 }), events: Vec::new() };
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"a","amount":"100"}));
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":ISSUE}));
        t.offer("2026-12-01T10:00:00Z", "o1", "a", "buy_fixed", "0.1", 1, json!({}));
        let second = json!({"at":"2026-12-01T10:00:00Z","op":"offer","id":"o2","user":"a","kind":"buy_fixed",
            "issue":ISSUE,"maturation":"2026-12-15T00:00:00Z","price":"0.1","volume":1});
        assert_eq!(t.try_run(&second).unwrap_err().code(), "limit_exceeded");
        assert_eq!(t.engine.exchange.limits(), Limits { max_open_offers_per_user: 1 });
    }

    #[test]
    fn a_statement_bond_that_does_not_match_its_case_breaks_the_invariants() {
        let mut t = T::new(&[("sam", "100")]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_statement","user":"sam","issue":"stmt/x",
            "statement":"s","maturation":"2026-12-15T00:00:00Z","bond":"50"}));
        let mut e = t.engine.clone();
        let sam = e.user_id("sam").unwrap();
        e.ledger.transfer(Account::CaseBond(SeriesId(0)), Account::Available(sam), Amount(1)).unwrap();
        let err = e.check_invariants().unwrap_err();
        assert!(err.contains("bond account 49.999999 but bond 50"), "{err}");
        // Open, but its series no longer under arbitration.
        let mut e = t.engine.clone();
        e.exchange.arbitrated.clear();
        assert!(e.check_invariants().unwrap_err().contains("settled outside arbitration"));
        // Marked decided, its bond paid out, but its series never settled.
        let mut e = t.engine.clone();
        e.ledger.transfer(Account::CaseBond(SeriesId(0)), Account::Available(sam), Amount::credits(50)).unwrap();
        e.cases.cases.get_mut(&SeriesId(0)).unwrap().done = true;
        let err = e.check_invariants().unwrap_err();
        assert!(err.contains("decided but not settled"), "{err}");
    }

    #[test]
    fn user_names_have_1_to_200_bytes() {
        let mut t = T::new(&[]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"u".repeat(200),"amount":"1"}));
        for bad in [String::new(), "u".repeat(201)] {
            let cmd = json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":bad,"amount":"1"});
            assert_eq!(t.try_run(&cmd).unwrap_err().code(), "invalid_argument");
        }
        assert_eq!(t.engine.user_count(), 1);
    }

    /// A maker funded on `ISSUE` (b = 10) by "funder"; `others` get 100 credits each.
    fn funded_maker(others: &[&str]) -> T {
        let deposits: Vec<(&str, &str)> =
            std::iter::once("funder").chain(others.iter().copied()).map(|u| (u, "100")).collect();
        let mut t = T::new(&deposits);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"fund_maker","user":"funder","issue":ISSUE,
            "maturation":MAT,"b":"10"}));
        t.engine.check_invariants().unwrap();
        t
    }

    #[test]
    fn a_maker_with_less_cash_than_the_lmsr_bound_breaks_the_invariants() {
        let t = funded_maker(&[]);
        let mut e = t.engine.clone();
        let maker = e.user_id("~maker/0").unwrap();
        let cash = e.balance(maker).0;
        e.ledger.transfer(Account::Available(maker), Account::Mint, cash).unwrap();
        let err = e.check_invariants().unwrap_err();
        assert!(err.contains("below the LMSR bound"), "{err}");
    }

    /// A maker that holds 2 fixed units (traders are net 2 unfixed units against it, q = -2).
    fn maker_holding_fixed_units() -> (T, SeriesId) {
        let mut t = funded_maker(&["bob"]);
        t.offer("2026-12-01T09:00:00Z", "b1", "bob", "buy_unfixed", "0.55", 2, json!({}));
        t.engine.check_invariants().unwrap();
        let s = *t.engine.exchange.makers.keys().next().unwrap();
        (t, s)
    }

    #[test]
    fn a_maker_holding_both_sides_breaks_the_invariants() {
        let (t, s) = maker_holding_fixed_units();
        let mut e = t.engine.clone();
        let maker = e.user_id("~maker/0").unwrap();
        e.exchange.positions.get_mut(&(maker, s)).unwrap().unfixed.units += 1;
        assert!(e.check_makers_only().unwrap_err().contains("holds both sides"));
    }

    /// The bound is inclusive (cash equal to it is fine, one micro-credit less is not), at the
    /// traders' signed net position.
    #[test]
    fn the_makers_lmsr_bound_is_inclusive_at_its_signed_q() {
        let (t, s) = maker_holding_fixed_units();
        let mut e = t.engine.clone();
        let maker = e.user_id("~maker/0").unwrap();
        let floor = e.exchange.makers[&s].cash_floor(-2).unwrap();
        let (available, held) = e.balance(maker);
        let cash = available.0 + held.0;
        e.ledger.transfer(Account::Available(maker), Account::Mint, Amount(cash - floor)).unwrap();
        e.check_makers_only().unwrap();
        e.ledger.transfer(Account::Available(maker), Account::Mint, Amount(1)).unwrap();
        let err = e.check_makers_only().unwrap_err();
        assert!(err.contains("below the LMSR bound") && err.contains("at q = -2"), "{err}");
    }

    #[test]
    fn a_settled_maker_must_have_returned_its_cash() {
        let mut t = funded_maker(&[]);
        t.run(json!({"at":"2026-12-16T00:00:00Z","op":"tick"}));
        t.engine.check_invariants().unwrap();
        let mut e = t.engine.clone();
        e.exchange.makers.values_mut().for_each(|m| m.returned = None);
        assert!(e.check_invariants().unwrap_err().contains("left after settlement"));
    }

    #[test]
    fn an_issue_has_at_most_max_labels_labels() {
        let mut t = T::new(&[]);
        let labels = |n: usize| (0..n).map(|i| format!("l{i}")).collect::<Vec<_>>();
        let open = |issue: &str, n: usize| json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":issue,"labels":labels(n)});
        t.run(open("a#1", crate::validate::MAX_LABELS));
        assert_eq!(t.try_run(&open("a#2", crate::validate::MAX_LABELS + 1)).unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn an_admin_decision_names_one_winner_or_a_split_in_0_to_1() {
        use crate::exchange::types::{Outcome, Side};
        assert_eq!(super::decision(Some(Side::Fixed), None).unwrap(), Outcome::Fixed);
        assert_eq!(super::decision(Some(Side::Unfixed), None).unwrap(), Outcome::Unfixed);
        for x in [0, 250_000, 1_000_000] {
            assert_eq!(super::decision(None, Some(Amount(x))).unwrap(), Outcome::Split { fixed_pays_micros: x as u32 });
        }
        for (w, x, says) in [
            (None, Some(-1), "fixed_pays must lie in [0, 1]"),
            (None, Some(1_000_001), "fixed_pays must lie in [0, 1]"),
            (None, None, "exactly one of winner and fixed_pays"),
            (Some(Side::Fixed), Some(0), "exactly one of winner and fixed_pays"),
        ] {
            let err = super::decision(w, x.map(Amount)).unwrap_err();
            assert_eq!(err.code(), "invalid_argument");
            assert!(err.message().contains(says), "{w:?} {x:?}: {err}");
        }
    }

    #[test]
    fn the_engine_counts_and_lists_what_it_holds() {
        let mut t = T::new(&[("a", "10"), ("b", "10")]);
        assert_eq!(Engine::new().now(), None);
        assert_eq!(t.engine.now(), Some(crate::Timestamp::parse("2026-12-01T09:00:00Z").unwrap()));
        t.offer("2026-12-01T10:00:00Z", "o", "a", "buy_fixed", "0.5", 1, json!({}));
        t.offer("2026-12-01T10:00:00Z", "p", "b", "buy_fixed", "0.4", 1, json!({}));
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"offer","id":"q","user":"b","kind":"buy_fixed",
            "issue":ISSUE,"maturation":"2026-12-20T00:00:00Z","price":"0.4","volume":1}));
        let x = &t.engine.exchange;
        assert_eq!((x.issue_count(), x.series_count(), x.offer_count()), (1, 2, 3));
        assert_eq!(x.all_issues().map(|(_, i)| i.tracker.as_str()).collect::<Vec<_>>(), ["local"]);
        let mut log = crate::feed::EventLog::default();
        log.extend(t.events.iter().cloned());
        assert_eq!(log.all(), t.events.as_slice());
    }

    #[test]
    fn an_offer_may_hold_all_that_is_available() {
        let mut t = T::new(&[("a", "5")]);
        t.offer("2026-12-01T10:00:00Z", "o", "a", "buy_fixed", "0.5", 10, json!({}));
        assert_eq!(t.engine.balance(t.engine.user_id("a").unwrap()), (Amount::ZERO, Amount::credits(5)));
    }

    #[test]
    fn users_are_counted_once_each() {
        let mut t = T::new(&[("a", "1"), ("b", "1")]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"deposit","user":"a","amount":"1"}));
        assert_eq!(t.engine.user_count(), 2);
        assert_eq!(t.engine.users().map(|(_, n)| n).collect::<Vec<_>>(), ["a", "b"]);
    }
}
