//! The shape rules every command meets before it touches state: every instant lies in the range
//! the log can store and replay ([`Timestamp::MIN`], [`Timestamp::MAX`]), and every client
//! string is bounded and free of control characters. [`Engine::apply`](crate::Engine::apply)
//! checks them first, so the server, replay and the simulator refuse the same commands, and no
//! client string reaches a database that would choke on it (PostgreSQL refuses NUL in text).

use crate::command::{OfferCommand, Op};
use crate::error::{EngineError, EngineResult};
use crate::time::Timestamp;

/// Longest name (user, issue, offer, trade, market, tracker, peer, file), in bytes.
pub const MAX_NAME_LEN: usize = 200;
/// Longest free text (titles, reasons, statements), in bytes.
pub const MAX_TEXT_LEN: usize = 4_000;
/// Most labels on one issue, and the longest label in bytes.
pub const MAX_LABELS: usize = 20;
pub const MAX_LABEL_LEN: usize = 100;
/// Longest decimal text of `set_resource_prices`.
const MAX_DECIMAL_LEN: usize = 40;

/// A name: at most [`MAX_NAME_LEN`] bytes, no control characters. (Emptiness is checked where a
/// name is created: an empty reference is simply unknown.)
pub fn name(field: &str, s: &str) -> EngineResult<()> {
    if s.len() > MAX_NAME_LEN {
        return Err(EngineError::InvalidArgument(format!("{field} has at most {MAX_NAME_LEN} bytes")));
    }
    if let Some(c) = first_control(s) {
        return Err(EngineError::InvalidArgument(format!(
            "{field} contains the control character U+{:04X}; names have none",
            c as u32
        )));
    }
    Ok(())
}

/// The first control character of `s` (Unicode's Cc: U+0000-U+001F, U+007F-U+009F). Every
/// command's names pass here, so the common case is one pass over the bytes: a control
/// character is a byte below 0x20, 0x7F, or the lead byte 0xC2 of U+0080-U+00BF; only a name
/// with one of those is read as characters.
fn first_control(s: &str) -> Option<char> {
    if !may_have_control(s.as_bytes()) {
        return None;
    }
    s.chars().find(|c| c.is_control())
}

/// Whether `bytes` has a byte below 0x20, 0x7F or 0xC2.
fn may_have_control(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b < 0x20 || b == 0x7F || b == 0xC2)
}

/// Free text: at most `max` bytes, no control characters but newline and tab.
pub fn text(field: &str, s: &str, max: usize) -> EngineResult<()> {
    if s.len() > max {
        return Err(EngineError::InvalidArgument(format!("{field} has at most {max} bytes")));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(EngineError::InvalidArgument(format!("{field} contains the control character U+{:04X}", c as u32)));
    }
    Ok(())
}

/// `s` made acceptable as free text: control characters (but newline and tab) become spaces, and
/// the text is cut to at most `max` bytes at a character boundary. For adapters that relay text
/// written elsewhere (a tracker's issue titles) rather than refuse it.
pub fn clean_text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        let c = if c.is_control() && !matches!(c, '\n' | '\t') { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// An instant the log can store and replay.
pub fn time(field: &str, t: Timestamp) -> EngineResult<()> {
    t.checked(field).map(|_| ())
}

pub(crate) fn opt_time(field: &str, t: Option<Timestamp>) -> EngineResult<()> {
    t.map_or(Ok(()), |t| time(field, t))
}

impl Op {
    /// Checks the shape rules of this operation's strings and instants (see the module docs).
    pub fn validate(&self) -> EngineResult<()> {
        match self {
            Op::Deposit { user, .. } | Op::Withdraw { user, .. } | Op::CreateUser { user } => name("user", user),
            Op::OpenIssue { issue, title, labels } => {
                name("issue", issue)?;
                text("title", title, MAX_TEXT_LEN)?;
                if labels.len() > MAX_LABELS {
                    return Err(EngineError::InvalidArgument(format!("at most {MAX_LABELS} labels")));
                }
                labels.iter().try_for_each(|l| text("a label", l, MAX_LABEL_LEN))
            }
            Op::CloseIssue { issue, .. } | Op::ReopenIssue { issue } => name("issue", issue),
            Op::SyncIssue { issue, tracker, title, changed_at, observed_at, .. } => {
                name("issue", issue)?;
                name("tracker", tracker)?;
                text("title", title, MAX_TEXT_LEN)?;
                opt_time("changed_at", *changed_at)?;
                opt_time("observed_at", *observed_at)
            }
            Op::Offer(o) => offer(o),
            Op::Cancel { user, offer } | Op::Resume { user, offer } => {
                name("user", user)?;
                name("offer", offer)
            }
            Op::Tick {} | Op::SetLimits { .. } | Op::ConfigureDisputes { .. } => Ok(()),
            Op::FundMaker { user, issue, maturation, .. }
            | Op::Dispute { user, issue, maturation, .. }
            | Op::ReportSeries { user, issue, maturation, .. } => {
                name("user", user)?;
                name("issue", issue)?;
                time("maturation", *maturation)
            }
            Op::OpenStatement { user, issue, statement, maturation, .. } => {
                name("user", user)?;
                name("issue", issue)?;
                text("statement", statement, MAX_TEXT_LEN)?;
                time("maturation", *maturation)
            }
            Op::Decide { issue, maturation, reason, actor, .. } => {
                name("issue", issue)?;
                time("maturation", *maturation)?;
                text("reason", reason, MAX_TEXT_LEN)?;
                name("actor", actor)
            }
            Op::CreateMarket(m) => {
                // An empty id asks the engine to name the market.
                if !m.id.is_empty() {
                    name("id", &m.id)?;
                }
                name("user", &m.user)?;
                text("statement", &m.statement, MAX_TEXT_LEN)?;
                time("deadline", m.deadline)?;
                opt_time("report_deadline", m.report_deadline)?;
                m.issue.as_deref().map_or(Ok(()), |i| name("issue", i))
            }
            Op::Trade(t) => {
                name("id", &t.id)?;
                name("user", &t.user)?;
                name("market", &t.market)
            }
            Op::Report(r) => {
                name("user", &r.user)?;
                name("market", &r.market)
            }
            Op::ResolveMarket(r) => {
                name("user", &r.user)?;
                name("market", &r.market)
            }
            Op::RegisterPeer { peer } | Op::ReportOnline { peer, .. } | Op::SetSliders { peer, .. } => {
                name("peer", peer)
            }
            Op::BackupFile { file, owner, .. } => {
                name("file", file)?;
                name("owner", owner)
            }
            Op::Backup { file, owner, .. } => {
                name("file", file)?;
                name("owner", owner)
            }
            Op::ReportFragments { peer, files } => {
                name("peer", peer)?;
                files.iter().try_for_each(|f| name("file", f))
            }
            Op::RetrieveFile { file } | Op::DeleteFile { file } => name("file", file),
            Op::RepairFile { file, lost } => {
                name("file", file)?;
                name("lost", lost)
            }
            Op::SettleDay {} | Op::UpdatePrices {} | Op::ConfigureResources { .. } => Ok(()),
            Op::SetResourcePrices { p_u, p_d } => {
                text("p_u", p_u, MAX_DECIMAL_LEN)?;
                text("p_d", p_d, MAX_DECIMAL_LEN)
            }
        }
    }
}

fn offer(o: &OfferCommand) -> EngineResult<()> {
    name("id", &o.id)?;
    name("user", &o.user)?;
    name("issue", &o.issue)?;
    time("maturation", o.maturation)?;
    opt_time("expiration", o.expiration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use proptest::prelude::*;

    proptest! {
        /// The byte pre-check finds exactly the control characters a scan of characters finds.
        #[test]
        fn the_byte_check_agrees_with_the_characters(s in "(\\PC|[\\x00-\\x1f\\x7f-\\u{a0}é])*") {
            prop_assert_eq!(first_control(&s), s.chars().find(|c| c.is_control()));
        }

        /// The byte check says yes exactly when some character is a control character or
        /// U+00A0-U+00BF (the other characters whose lead byte is 0xC2).
        #[test]
        fn the_byte_check_flags_controls_and_the_lead_byte_c2(s in "(\\PC|[\\x00-\\x1f\\x7f-\\u{c0}é])*") {
            let flagged = s.chars().any(|c| c.is_control() || ('\u{a0}'..='\u{bf}').contains(&c));
            prop_assert_eq!(may_have_control(s.as_bytes()), flagged);
        }
    }

    #[test]
    fn the_byte_check_at_its_boundaries() {
        for b in [0x00, 0x1F, 0x7F, 0xC2] {
            assert!(may_have_control(&[b'a', b]), "{b:#04x}");
        }
        for b in [0x20, 0x21, 0x7E, 0x80, 0xC1, 0xC3, 0xFF] {
            assert!(!may_have_control(&[b'a', b]), "{b:#04x}");
        }
    }

    #[test]
    fn control_characters_and_long_names_are_refused() {
        assert!(name("issue", "demo/app#1337").is_ok());
        assert!(name("issue", "ünïcødé ok").is_ok());
        for bad in ["a\u{0}b", "a\nb", "a\u{7f}", "a\u{85}b", &"x".repeat(MAX_NAME_LEN + 1)] {
            assert_eq!(name("issue", bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        assert!(text("title", "two\nlines\tand a tab", MAX_TEXT_LEN).is_ok());
        assert!(text("title", "nul\u{0}", MAX_TEXT_LEN).is_err());
        assert_eq!(clean_text("a\u{0}b\r\nc", MAX_TEXT_LEN), "a b \nc");
        assert_eq!(clean_text("ééé", 5), "éé");
        assert_eq!(clean_text("ééé", 6), "ééé", "text of exactly max bytes is kept whole");
        assert!(text("t", &clean_text(&"\u{1}é".repeat(3000), MAX_TEXT_LEN), MAX_TEXT_LEN).is_ok());
        assert!(name("n", "a\u{a0}b").is_ok(), "U+00A0 shares the lead byte 0xC2 but is no control");
        assert!(name("n", "a\u{9f}").is_err());
        let c = Command::from_json(r#"{"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":"a\u0000b"}"#).unwrap();
        assert_eq!(c.op.validate().unwrap_err().code(), "invalid_argument");
    }
}
