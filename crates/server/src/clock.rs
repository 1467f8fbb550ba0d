//! The server's clock: the wall clock plus an offset that only a sandbox admin moves forward
//! (persisted in `meta`, so a restarted sandbox keeps its time). The engine never reads it;
//! the writer stamps each command with `max(clock, last command's time)`.
//!
//! A *stepped* clock (the demo, `peerex serve --demo`) does not follow the wall clock at all:
//! it reads what it was last moved to, and only [`Clock::advance_to`] moves it, so every command
//! stamped between two steps carries the same time and a demo's log depends on its seed only.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use peerex_engine::Timestamp;

pub const OFFSET_KEY: &str = "clock_offset_ms";

#[derive(Debug, Default)]
pub struct Clock {
    /// Added to the wall clock; for a stepped clock, the time itself.
    offset_ms: AtomicI64,
    stepped: AtomicBool,
}

impl Clock {
    pub fn with_offset(offset_ms: i64) -> Clock {
        Clock { offset_ms: AtomicI64::new(offset_ms), stepped: AtomicBool::new(false) }
    }
    /// A clock that reads `at` until it is moved (the demo's).
    pub fn stepped(at: Timestamp) -> Clock {
        Clock { offset_ms: AtomicI64::new(at.millis()), stepped: AtomicBool::new(true) }
    }
    pub fn is_stepped(&self) -> bool {
        self.stepped.load(Ordering::SeqCst)
    }
    pub fn wall_ms() -> i64 {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
    pub fn now(&self) -> Timestamp {
        let v = self.offset_ms.load(Ordering::SeqCst);
        if self.is_stepped() {
            Timestamp::from_millis(v)
        } else {
            Timestamp::from_millis(Clock::wall_ms().saturating_add(v))
        }
    }
    /// How far the clock is ahead of the wall clock (what `meta` keeps).
    pub fn offset_ms(&self) -> i64 {
        let v = self.offset_ms.load(Ordering::SeqCst);
        if self.is_stepped() {
            v.saturating_sub(Clock::wall_ms())
        } else {
            v
        }
    }
    /// A replica follows the writer's sandbox clock: the offset only moves forward.
    pub fn advance_offset_to(&self, offset_ms: i64) {
        if !self.is_stepped() {
            self.offset_ms.fetch_max(offset_ms, Ordering::SeqCst);
        }
    }
    /// Moves the clock forward so that it reads at least `to`; returns the new offset.
    pub fn advance_to(&self, to: Timestamp) -> i64 {
        let behind = to.millis().saturating_sub(self.now().millis());
        if behind > 0 {
            self.offset_ms.fetch_add(behind, Ordering::SeqCst);
        }
        self.offset_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_moves_forward() {
        let c = Clock::default();
        let t0 = c.now();
        c.advance_to(t0.plus_days(-1));
        assert_eq!(c.offset_ms(), 0);
        c.advance_to(t0.plus_days(2));
        assert!(c.now() >= t0.plus_days(2));
        assert!(c.offset_ms() >= 2 * Timestamp::MS_PER_DAY - 1000);
    }

    #[test]
    fn a_stepped_clock_reads_only_what_it_was_moved_to() {
        let t0 = Timestamp::parse("2026-01-05T00:00:00Z").unwrap();
        let c = Clock::stepped(t0);
        assert_eq!(c.now(), t0);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.now(), t0, "the wall clock does not move it");
        c.advance_to(t0.plus_days(1));
        assert_eq!(c.now(), t0.plus_days(1));
        c.advance_to(t0);
        assert_eq!(c.now(), t0.plus_days(1), "never back");
    }
}
