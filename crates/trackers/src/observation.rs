//! What an adapter reports: one observation per issue, mapping 1:1 onto the engine's
//! `Op::SyncIssue`.

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_engine::{Command, Op, Timestamp};
use serde::Serialize;

use crate::error::TrackerError;

/// "At `observed_at`, tracker `tracker` said issue `issue` is `state` (closed for `reason`), last
/// changed at `changed_at`." `changed_at` is never after `observed_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// The engine's issue key: `owner/repo#number`.
    pub issue: String,
    pub tracker: String,
    pub title: String,
    pub state: SyncedState,
    pub reason: Option<CloseReason>,
    pub changed_at: Option<Timestamp>,
    /// The instant the state was known to be current: for a poll, when the request was sent
    /// (the answer reflects that instant or a later one); for a webhook, when it was received.
    pub observed_at: Timestamp,
    /// The tracker's own last-update instant of the issue, used to drop stale webhook deliveries.
    #[serde(skip)]
    pub updated_at: Option<Timestamp>,
}

impl Observation {
    pub fn to_op(&self) -> Op {
        Op::SyncIssue {
            issue: self.issue.clone(),
            tracker: self.tracker.clone(),
            // A tracker's title may hold anything; the engine refuses control characters.
            title: peerex_engine::validate::clean_text(&self.title, peerex_engine::validate::MAX_TEXT_LEN),
            state: self.state,
            reason: self.reason,
            changed_at: self.changed_at,
            observed_at: Some(self.observed_at),
        }
    }

    /// The command to apply at `at` (the engine's clock, when it has moved past the
    /// observation): the state still only counts as known from `observed_at`.
    pub fn to_command_at(&self, at: Timestamp) -> Command {
        Command::new(at.max(self.observed_at), self.to_op())
    }

    /// The command to apply, at the observation instant.
    pub fn to_command(&self) -> Command {
        Command::new(self.observed_at, self.to_op())
    }
}

/// The outcome of one successful sync of a repository or an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncResult {
    pub observed_at: Timestamp,
    pub observations: Vec<Observation>,
    /// Pages fetched, and how many of them the tracker answered "not modified" (304).
    pub pages: u32,
    pub not_modified: u32,
}

impl SyncResult {
    /// The commands to apply, in order.
    pub fn commands(&self) -> Vec<Command> {
        self.observations.iter().map(Observation::to_command).collect()
    }
}

/// The engine's key for issue `number` of `repo` (`owner/name`).
pub fn issue_key(repo: &str, number: u64) -> String {
    format!("{repo}#{number}")
}

/// Splits `owner/name#12` into (`owner/name`, 12).
pub fn parse_issue_key(key: &str) -> Result<(String, u64), TrackerError> {
    let (repo, number) = key
        .rsplit_once('#')
        .ok_or_else(|| TrackerError::InvalidArgument(format!("{key:?} is not of the form owner/repo#number")))?;
    validate_repo(repo)?;
    let number = number
        .parse::<u64>()
        .map_err(|_| TrackerError::InvalidArgument(format!("{key:?}: {number:?} is not an issue number")))?;
    Ok((repo.to_owned(), number))
}

/// A repository is `owner/name` (GitLab-style subgroups allowed), with no characters that would
/// change the meaning of the URL it goes into.
pub(crate) fn validate_repo(repo: &str) -> Result<(), TrackerError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let parts: Vec<&str> = repo.split('/').collect();
    let valid =
        parts.len() >= 2 && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && p.chars().all(ok_char));
    if valid {
        Ok(())
    } else {
        Err(TrackerError::InvalidArgument(format!("{repo:?} is not a repository of the form owner/name")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_keys_round_trip_and_reject_junk() {
        assert_eq!(issue_key("demo/app", 1337), "demo/app#1337");
        assert_eq!(parse_issue_key("demo/app#1337").unwrap(), ("demo/app".to_owned(), 1337));
        for bad in ["demo#1", "demo/app", "demo/app#x", "../x#1", "a/b?c#1", "a//b#1", "a/b#-1"] {
            assert!(parse_issue_key(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn maps_onto_sync_issue() {
        let o = Observation {
            issue: "a/b#1".into(),
            tracker: "github".into(),
            title: "t".into(),
            state: SyncedState::Closed,
            reason: Some(CloseReason::NotPlanned),
            changed_at: Some(Timestamp(5)),
            observed_at: Timestamp(9),
            updated_at: None,
        };
        let c = o.to_command();
        assert_eq!(c.at, Timestamp(9));
        let json: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(json["op"], "sync_issue");
        assert_eq!(json["reason"], "not_planned");
        assert_eq!(json["state"], "closed");
        assert_eq!(peerex_engine::Command::from_json(&c.to_json()).unwrap(), c);
    }
}
