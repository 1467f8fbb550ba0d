//! The server's clock: the wall clock plus an offset that only a sandbox admin moves forward
//! (persisted in `meta`, so a restarted sandbox keeps its time). The engine never reads it;
//! the writer stamps each command with `max(clock, last command's time)`.

use std::sync::atomic::{AtomicI64, Ordering};

use peerex_engine::Timestamp;

pub const OFFSET_KEY: &str = "clock_offset_ms";

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn with_offset(offset_ms: i64) -> Clock {
        Clock { offset_ms: AtomicI64::new(offset_ms) }
    }
    pub fn wall_ms() -> i64 {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(Clock::wall_ms().saturating_add(self.offset_ms()))
    }
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
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
}
