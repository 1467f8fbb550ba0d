//! Issues of trackers and their state as of any instant. The built-in local tracker changes
//! state by command; synced trackers (GitHub, ...) by observations, and a series on a synced issue
//! can only be decided once a sync newer than its maturation was seen.

use crate::command::SyncedState;
use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::types::{CloseReason, IssueState};
use crate::exchange::{Ctx, Exchange};
use crate::ids::IssueId;
use crate::time::Timestamp;

/// The tracker name of the built-in local tracker.
pub const LOCAL_TRACKER: &str = "local";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub tracker: String,
    pub title: String,
    pub labels: Vec<String>,
    /// State changes in time order; before the first, the issue counts as open.
    pub history: Vec<(Timestamp, IssueState)>,
    /// When a synced tracker was last seen answering for this issue.
    pub last_synced: Option<Timestamp>,
}

impl Issue {
    pub fn is_local(&self) -> bool {
        self.tracker == LOCAL_TRACKER
    }
    /// The state at instant `t`: the last change at or before `t` (a change at exactly the
    /// maturation instant counts).
    pub fn state_at(&self, t: Timestamp) -> IssueState {
        let idx = self.history.partition_point(|(when, _)| *when <= t);
        if idx == 0 {
            IssueState::Open
        } else {
            self.history[idx - 1].1
        }
    }
    pub fn current(&self) -> IssueState {
        self.history.last().map(|(_, s)| *s).unwrap_or(IssueState::Open)
    }
    /// When the state last changed.
    pub fn changed_at(&self) -> Option<Timestamp> {
        self.history.last().map(|(t, _)| *t)
    }
    /// Whether the statement "closed as completed" can be decided for instant `t` yet.
    pub fn decidable_at(&self, t: Timestamp) -> bool {
        self.is_local() || self.last_synced.is_some_and(|s| s > t)
    }
    fn record(&mut self, at: Timestamp, state: IssueState) {
        // Keep history sorted even if a tracker reports a change older than one we recorded.
        let at = self.history.last().map_or(at, |(last, _)| at.max(*last));
        self.history.push((at, state));
    }
}

impl Exchange {
    fn local_issue(&self, name: &str) -> EngineResult<IssueId> {
        let id = self.issue_id(name).ok_or_else(|| EngineError::UnknownIssue(format!("no issue {name:?}")))?;
        if !self.issues[id.index()].is_local() {
            return Err(EngineError::InvalidState(format!(
                "issue {name:?} belongs to the {} tracker; its state comes from syncs",
                self.issues[id.index()].tracker
            )));
        }
        Ok(id)
    }

    pub(crate) fn open_issue(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        title: &str,
        labels: &[String],
    ) -> EngineResult<IssueId> {
        if name.is_empty() {
            return Err(EngineError::InvalidArgument("an issue needs a non-empty key".into()));
        }
        if self.issue_id(name).is_some() {
            return Err(EngineError::DuplicateId(format!("issue {name:?} exists already (use reopen_issue)")));
        }
        let (id, _) = self.issue_names.intern(name);
        self.issues.push(Issue {
            tracker: LOCAL_TRACKER.to_owned(),
            title: title.to_owned(),
            labels: labels.to_vec(),
            history: vec![(ctx.now, IssueState::Open)],
            last_synced: None,
        });
        ctx.emit(Event::IssueOpened { issue: IssueId(id) });
        Ok(IssueId(id))
    }

    pub(crate) fn close_issue(&mut self, ctx: &mut Ctx, name: &str, reason: CloseReason) -> EngineResult<()> {
        let id = self.local_issue(name)?;
        let issue = &mut self.issues[id.index()];
        if matches!(issue.current(), IssueState::Closed(_)) {
            return Err(EngineError::InvalidState(format!("issue {name:?} is already closed")));
        }
        issue.record(ctx.now, IssueState::Closed(reason));
        ctx.emit(Event::IssueClosed { issue: id, reason });
        Ok(())
    }

    pub(crate) fn reopen_issue(&mut self, ctx: &mut Ctx, name: &str) -> EngineResult<()> {
        let id = self.local_issue(name)?;
        let issue = &mut self.issues[id.index()];
        if issue.current() == IssueState::Open {
            return Err(EngineError::InvalidState(format!("issue {name:?} is open")));
        }
        issue.record(ctx.now, IssueState::Open);
        ctx.emit(Event::IssueReopened { issue: id });
        Ok(())
    }

    /// Records what a synced tracker said about an issue at `ctx.now`, then settles any matured
    /// series on it that this sync makes decidable.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sync_issue(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        tracker: &str,
        title: &str,
        state: SyncedState,
        reason: Option<CloseReason>,
        changed_at: Option<Timestamp>,
    ) -> EngineResult<()> {
        if name.is_empty() || tracker.is_empty() {
            return Err(EngineError::InvalidArgument("a sync needs an issue key and a tracker name".into()));
        }
        if tracker == LOCAL_TRACKER {
            return Err(EngineError::InvalidArgument("the local tracker is changed by commands, not synced".into()));
        }
        if changed_at.is_some_and(|c| c > ctx.now) {
            return Err(EngineError::InvalidTime("changed_at lies after the sync's own time".into()));
        }
        let id = match self.issue_id(name) {
            Some(id) => {
                let existing = &self.issues[id.index()].tracker;
                if existing != tracker {
                    return Err(EngineError::InvalidState(format!("issue {name:?} belongs to the {existing} tracker")));
                }
                id
            }
            None => {
                let (id, _) = self.issue_names.intern(name);
                self.issues.push(Issue {
                    tracker: tracker.to_owned(),
                    title: String::new(),
                    labels: Vec::new(),
                    history: Vec::new(),
                    last_synced: None,
                });
                ctx.emit(Event::IssueOpened { issue: IssueId(id) });
                IssueId(id)
            }
        };
        let issue = &mut self.issues[id.index()];
        if !title.is_empty() {
            issue.title = title.to_owned();
        }
        let observed = match state {
            SyncedState::Open => IssueState::Open,
            SyncedState::Closed => IssueState::Closed(reason.unwrap_or(CloseReason::Unknown)),
        };
        if issue.history.is_empty() || issue.current() != observed {
            issue.record(changed_at.unwrap_or(ctx.now), observed);
        }
        issue.last_synced = Some(ctx.now);
        ctx.emit(Event::IssueSynced { issue: id });
        let now_decidable: Vec<_> = self
            .awaiting
            .iter()
            .copied()
            .filter(|s| self.series[s.index()].issue == id && self.series[s.index()].maturation < ctx.now)
            .collect();
        for s in now_decidable {
            self.settle_from_tracker(ctx, s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_at_counts_changes_at_the_instant() {
        let mut i = Issue {
            tracker: LOCAL_TRACKER.into(),
            title: String::new(),
            labels: vec![],
            history: vec![(Timestamp(0), IssueState::Open)],
            last_synced: None,
        };
        i.record(Timestamp(10), IssueState::Closed(CloseReason::Completed));
        i.record(Timestamp(20), IssueState::Open);
        assert_eq!(i.state_at(Timestamp(9)), IssueState::Open);
        assert_eq!(i.state_at(Timestamp(10)), IssueState::Closed(CloseReason::Completed));
        assert_eq!(i.state_at(Timestamp(25)), IssueState::Open);
        assert_eq!(i.state_at(Timestamp(-5)), IssueState::Open);
    }
}
