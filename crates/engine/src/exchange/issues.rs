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

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// When a synced state was true: the tracker's last change, and the instant it was observed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub changed_at: Option<Timestamp>,
    pub observed_at: Option<Timestamp>,
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

    /// Records what a synced tracker said about an issue at `seen.observed_at` (default
    /// `ctx.now`), then settles any matured series on it that this sync makes decidable. An
    /// observation older than one already recorded for the issue (syncs applied out of order)
    /// changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sync_issue(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        tracker: &str,
        title: &str,
        state: SyncedState,
        reason: Option<CloseReason>,
        seen: Seen,
    ) -> EngineResult<()> {
        let Seen { changed_at, observed_at } = seen;
        let observed = observed_at.unwrap_or(ctx.now);
        if observed > ctx.now {
            return Err(EngineError::InvalidTime("observed_at lies after the sync's own time".into()));
        }
        if name.is_empty() || tracker.is_empty() {
            return Err(EngineError::InvalidArgument("a sync needs an issue key and a tracker name".into()));
        }
        if tracker == LOCAL_TRACKER {
            return Err(EngineError::InvalidArgument("the local tracker is changed by commands, not synced".into()));
        }
        if changed_at.is_some_and(|c| c > observed) {
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
        if issue.last_synced.is_some_and(|last| observed < last) {
            ctx.emit(Event::IssueSynced { issue: id });
            return Ok(());
        }
        if !title.is_empty() {
            issue.title = title.to_owned();
        }
        let observed_state = match state {
            SyncedState::Open => IssueState::Open,
            SyncedState::Closed => IssueState::Closed(reason.unwrap_or(CloseReason::Unknown)),
        };
        if issue.history.is_empty() || issue.current() != observed_state {
            issue.record(changed_at.unwrap_or(observed), observed_state);
        }
        issue.last_synced = Some(observed);
        ctx.emit(Event::IssueSynced { issue: id });
        let now_decidable: Vec<_> = self
            .awaiting
            .iter()
            .copied()
            // settle_from_tracker decides only those that matured before `observed`.
            .filter(|s| self.series[s.index()].issue == id)
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
    use crate::exchange::types::SeriesStatus;
    use crate::{Command, Engine};

    fn run(e: &mut Engine, json: &str) -> EngineResult<()> {
        let r = e.apply(Command::from_json(json)?, &mut Vec::new());
        assert_eq!(e.check_invariants(), Ok(()));
        r
    }

    /// An engine with one synced issue `gh#1` and 10 units of its series maturing Dec 15.
    fn traded() -> Engine {
        let mut e = Engine::new();
        for c in [
            r#"{"at":"2026-12-01T00:00:00Z","op":"deposit","user":"a","amount":"100"}"#,
            r#"{"at":"2026-12-01T00:00:00Z","op":"deposit","user":"b","amount":"100"}"#,
            r#"{"at":"2026-12-01T00:00:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"open"}"#,
            r#"{"at":"2026-12-01T00:00:00Z","op":"offer","id":"x","user":"a","kind":"buy_fixed","issue":"gh#1","maturation":"2026-12-15T00:00:00Z","price":"0.5","volume":10}"#,
            r#"{"at":"2026-12-01T00:00:00Z","op":"offer","id":"y","user":"b","kind":"buy_unfixed","issue":"gh#1","maturation":"2026-12-15T00:00:00Z","price":"0.5","volume":10}"#,
        ] {
            run(&mut e, c).unwrap();
        }
        e
    }

    fn status(e: &Engine) -> SeriesStatus {
        let ex = e.exchange();
        let s = ex.series_id(ex.issue_id("gh#1").unwrap(), Timestamp::parse("2026-12-15T00:00:00Z").unwrap()).unwrap();
        ex.series(s).unwrap().status
    }

    #[test]
    fn a_sync_applied_late_counts_from_when_it_was_observed() {
        let mut e = traded();
        // Observed just before the maturation, applied just after it: not enough to decide.
        run(&mut e, r#"{"at":"2026-12-15T00:00:02Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"closed","reason":"completed","changed_at":"2026-12-14T00:00:00Z","observed_at":"2026-12-14T23:59:59Z"}"#).unwrap();
        assert_eq!(status(&e), SeriesStatus::Matured);
        run(&mut e, r#"{"at":"2026-12-15T00:05:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"closed","reason":"completed","observed_at":"2026-12-15T00:04:58Z"}"#).unwrap();
        assert_eq!(status(&e), SeriesStatus::Settled);
        assert_eq!(e.balance(e.user_id("a").unwrap()).0, crate::Amount::credits(100 - 5 + 10));
    }

    #[test]
    fn observations_from_the_future_or_out_of_order_are_refused_or_ignored() {
        let mut e = traded();
        let future = r#"{"at":"2026-12-02T00:00:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"open","observed_at":"2026-12-02T00:00:01Z"}"#;
        assert_eq!(run(&mut e, future).unwrap_err().code(), "invalid_time");
        let after_observation = r#"{"at":"2026-12-03T00:00:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"closed","changed_at":"2026-12-02T12:00:00Z","observed_at":"2026-12-02T00:00:00Z"}"#;
        assert_eq!(run(&mut e, after_observation).unwrap_err().code(), "invalid_time");
        // Closed on the 10th, seen on the 11th; then an older answer (seen on the 9th, open)
        // arrives: it must not reopen the issue.
        run(&mut e, r#"{"at":"2026-12-11T00:00:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"closed","reason":"completed","changed_at":"2026-12-10T00:00:00Z"}"#).unwrap();
        run(&mut e, r#"{"at":"2026-12-12T00:00:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"open","observed_at":"2026-12-09T00:00:00Z"}"#).unwrap();
        let issue = e.exchange().issue(e.exchange().issue_id("gh#1").unwrap()).unwrap();
        assert_eq!(issue.current(), IssueState::Closed(CloseReason::Completed));
        assert_eq!(issue.last_synced, Some(Timestamp::parse("2026-12-11T00:00:00Z").unwrap()));
    }

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

    #[test]
    fn a_sync_needs_both_an_issue_key_and_a_tracker() {
        let mut e = Engine::new();
        for (issue, tracker) in [("gh#2", ""), ("", "github")] {
            let cmd = format!(
                r#"{{"at":"2026-12-01T00:00:00Z","op":"sync_issue","issue":"{issue}","tracker":"{tracker}","state":"open"}}"#
            );
            let err = run(&mut e, &cmd).unwrap_err();
            assert_eq!((err.code(), e.exchange().issue_count()), ("invalid_argument", 0), "{cmd}");
        }
    }

    #[test]
    fn a_change_observed_at_the_instant_of_the_sync_is_accepted() {
        let mut e = Engine::new();
        let at = "2026-12-02T00:00:00Z";
        let cmd = format!(
            r#"{{"at":"{at}","op":"sync_issue","issue":"gh#3","tracker":"github","state":"closed","reason":"completed","changed_at":"{at}"}}"#
        );
        run(&mut e, &cmd).unwrap();
        let x = e.exchange();
        let issue = x.issue(x.issue_id("gh#3").unwrap()).unwrap();
        assert_eq!(issue.current(), IssueState::Closed(CloseReason::Completed));
        assert_eq!(issue.history.last().map(|(t, _)| *t), Some(Timestamp::parse(at).unwrap()));
    }

    #[test]
    fn an_observation_at_the_maturation_instant_does_not_decide_the_series() {
        let mut e = traded();
        run(&mut e, r#"{"at":"2026-12-01T00:00:00Z","op":"configure_disputes","hours":1}"#).unwrap();
        run(&mut e, r#"{"at":"2026-12-15T00:00:00Z","op":"tick"}"#).unwrap();
        // Seen closed at the very instant of maturation: it may have closed at that instant, so
        // the state at maturation is not known yet, neither now nor when the window ends.
        run(
            &mut e,
            r#"{"at":"2026-12-15T00:30:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"closed","reason":"completed","changed_at":"2026-12-14T00:00:00Z","observed_at":"2026-12-15T00:00:00Z"}"#,
        )
        .unwrap();
        run(&mut e, r#"{"at":"2026-12-15T02:00:00Z","op":"tick"}"#).unwrap();
        assert_eq!(status(&e), SeriesStatus::Matured);
        // The next observation decides it.
        run(
            &mut e,
            r#"{"at":"2026-12-15T03:00:00Z","op":"sync_issue","issue":"gh#1","tracker":"github","state":"closed","reason":"completed","changed_at":"2026-12-14T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(status(&e), SeriesStatus::Settled);
    }

    #[test]
    fn a_second_observation_made_at_the_same_instant_is_applied() {
        let mut e = Engine::new();
        let sync = |state: &str, at: &str| {
            format!(
                r#"{{"at":"{at}","op":"sync_issue","issue":"gh#4","tracker":"github","state":"{state}","observed_at":"2026-12-02T00:00:00Z"}}"#
            )
        };
        run(&mut e, &sync("open", "2026-12-02T00:00:00Z")).unwrap();
        run(&mut e, &sync("closed", "2026-12-02T01:00:00Z")).unwrap();
        let x = e.exchange();
        assert_eq!(x.issue(x.issue_id("gh#4").unwrap()).unwrap().current(), IssueState::Closed(CloseReason::Unknown));
    }

    #[test]
    fn a_sync_with_a_title_sets_it_and_one_without_keeps_it() {
        let mut e = Engine::new();
        let sync = |at: &str, title: &str| {
            format!(
                r#"{{"at":"{at}","op":"sync_issue","issue":"gh#5","tracker":"github","state":"open","title":"{title}"}}"#
            )
        };
        let title = |e: &Engine| e.exchange().issue(e.exchange().issue_id("gh#5").unwrap()).unwrap().title.clone();
        run(&mut e, &sync("2026-12-02T00:00:00Z", "Crash on start")).unwrap();
        assert_eq!(title(&e), "Crash on start");
        run(&mut e, &sync("2026-12-03T00:00:00Z", "")).unwrap();
        assert_eq!(title(&e), "Crash on start");
    }

    #[test]
    fn every_change_of_state_is_recorded() {
        let mut e = Engine::new();
        for (at, state) in
            [("2026-12-02", "open"), ("2026-12-03", "closed"), ("2026-12-04", "closed"), ("2026-12-05", "open")]
        {
            let cmd = format!(
                r#"{{"at":"{at}T00:00:00Z","op":"sync_issue","issue":"gh#6","tracker":"github","state":"{state}"}}"#
            );
            run(&mut e, &cmd).unwrap();
        }
        let x = e.exchange();
        let issue = x.issue(x.issue_id("gh#6").unwrap()).unwrap();
        let states: Vec<IssueState> = issue.history.iter().map(|(_, s)| *s).collect();
        assert_eq!(states, [IssueState::Open, IssueState::Closed(CloseReason::Unknown), IssueState::Open]);
    }
}
