//! Names looked up before the writer. A driver turns a [`Command`] into a [`Resolved`] one with
//! `Engine::resolve` (it reads the engine and changes nothing, so it can run ahead of the
//! writer, on another thread's copy), and the writer applies it with `Engine::apply_resolved`:
//! dense ids instead of names on the hot path, the names' shape rules checked once, at the edge.
//! `Engine::apply` is the two in one step, so both ways give the same events and the same
//! refusals.
//!
//! A name's id never changes once given (users, issues and offers are never removed; ids are
//! handed out in order of first use), so a command resolved against any earlier state of the
//! same engine applies as its names would. A name unknown when resolved (a user whose deposit is
//! in the same batch, an offer placed by an earlier command of the stream) is kept and looked up
//! when applied. A cancel's offer is looked up too, and a new offer's series (by issue and
//! maturation; series are never removed either, and the writer checks that the one found has
//! the offer's issue and maturation); a new offer's id (`o<n>` as a server gives them, or any
//! other) is kept, as its number or its name, for the writer to check and add.
//!
//! Only the commands of the hot path are resolved (offers and cancels); every other command is
//! carried as it is and applied by name.

use crate::command::{Command, Op, Terms};
use crate::error::EngineResult;
use crate::ids::{number_of, IssueId, NameRef, Names, OfferId, SeriesId, UserId};
use crate::time::Timestamp;
use crate::validate;

/// A command with its names looked up (`Engine::resolve`). Opaque: only the engine makes one,
/// so its names have passed the shape rules of [`crate::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub(crate) at: Timestamp,
    pub(crate) op: ResolvedOp,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ResolvedOp {
    Offer {
        id: OfferRef,
        user: Ref<UserId>,
        issue: Ref<IssueId>,
        /// The series of the issue and maturation, if the driver's copy has it (ids never
        /// change; the writer checks that it is that series all the same).
        series: Option<SeriesId>,
        terms: Terms,
    },
    Cancel {
        user: Ref<UserId>,
        offer: Target,
    },
    /// Any other operation, applied by name (boxed: most are large and rare).
    Other(Box<Op>),
}

/// A user or an issue: its id, or its name when it was unknown at resolution.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ref<I> {
    Id(I),
    Name(String),
}

/// An offer's id: `o<n>` by its number, any other by name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OfferRef {
    Numbered(u32),
    Name(String),
}

/// The offer a cancel names: found by the driver, or its id, to look up when applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    Found(OfferId),
    Named(OfferRef),
}

impl OfferRef {
    fn new(field: &str, name: String) -> EngineResult<OfferRef> {
        if number_of(&name).is_none() {
            validate::name(field, &name)?;
        }
        Ok(OfferRef::unchecked(name))
    }

    /// `name` without its shape checked (for an operation given to `Engine::execute`).
    pub(crate) fn unchecked(name: String) -> OfferRef {
        match number_of(&name) {
            Some(n) => OfferRef::Numbered(n),
            None => OfferRef::Name(name),
        }
    }

    /// The offer's id as `names` reads it.
    pub(crate) fn as_ref<'a>(&'a self, names: &Names) -> NameRef<'a> {
        match self {
            OfferRef::Numbered(n) => NameRef::Numbered(*n),
            OfferRef::Name(name) => NameRef::of(names, name),
        }
    }

    /// The offer named so in `offers` if there is one, else the name to look up when applied.
    fn target_in(self, offers: &Names) -> Target {
        let id = match &self {
            OfferRef::Numbered(n) => offers.get_numbered(*n),
            OfferRef::Name(name) => offers.get(name),
        };
        id.map_or(Target::Named(self), |id| Target::Found(OfferId(id)))
    }
}

/// Looks `name` up in `names`; a name not there is checked against the shape rules and kept. (A
/// name in the table passed them when it was made.)
fn lookup(names: &Names, field: &str, name: String) -> EngineResult<Ref<u32>> {
    match names.get(&name) {
        Some(id) => Ok(Ref::Id(id)),
        None => {
            validate::name(field, &name)?;
            Ok(Ref::Name(name))
        }
    }
}

impl<I> Ref<I> {
    fn map<J>(self, f: impl FnOnce(I) -> J) -> Ref<J> {
        match self {
            Ref::Id(i) => Ref::Id(f(i)),
            Ref::Name(n) => Ref::Name(n),
        }
    }
}

/// The engine's names a driver looks commands up in, and its series by issue and maturation.
pub(crate) struct Directory<'a> {
    pub(crate) users: &'a Names,
    pub(crate) issues: &'a Names,
    pub(crate) offers: &'a Names,
    pub(crate) series: &'a dyn Fn(IssueId, Timestamp) -> Option<SeriesId>,
}

/// Looks up the names of `cmd` in the engine's `users`, `issues` and (the offer a cancel
/// names) `offers`, and checks its shape.
pub(crate) fn resolve(names: Directory, cmd: Command) -> EngineResult<Resolved> {
    let Directory { users, issues, offers, series } = names;
    let at = cmd.at.checked("the command's time")?;
    let op = match cmd.op {
        Op::Offer(o) => {
            let terms = o.terms();
            // In the order of `validate`: id, user, issue, times.
            let id = OfferRef::new("id", o.id)?;
            let user = lookup(users, "user", o.user)?.map(UserId);
            let issue = lookup(issues, "issue", o.issue)?.map(IssueId);
            validate::time("maturation", terms.maturation)?;
            validate::opt_time("expiration", terms.expiration)?;
            let series = match issue {
                Ref::Id(i) => series(i, terms.maturation),
                Ref::Name(_) => None,
            };
            ResolvedOp::Offer { id, user, issue, series, terms }
        }
        Op::Cancel { user, offer } => {
            let user = lookup(users, "user", user)?.map(UserId);
            ResolvedOp::Cancel { user, offer: OfferRef::new("offer", offer)?.target_in(offers) }
        }
        op => {
            op.validate()?;
            ResolvedOp::Other(Box::new(op))
        }
    };
    Ok(Resolved { at, op })
}
