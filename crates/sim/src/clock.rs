//! The virtual clock of simulations: day 0 starts at 2026-01-01T00:00:00Z; a simulated day is
//! 24 hours of engine time. The engine never reads a clock, so runs are reproducible.

use peerex_engine::Timestamp;

/// 2026-01-01T00:00:00Z.
pub const EPOCH: Timestamp = Timestamp::from_millis(1_767_225_600_000);
pub const MS_PER_HOUR: i64 = 3_600_000;

/// The instant `hour` o'clock of `day` (hour 24 = the next midnight).
pub fn at(day: u32, hour: i64) -> Timestamp {
    EPOCH.plus_days(i64::from(day)).plus_millis(hour * MS_PER_HOUR)
}

/// The instant `ms` milliseconds into `day`.
pub fn at_ms(day: u32, ms: i64) -> Timestamp {
    EPOCH.plus_days(i64::from(day)).plus_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_midnight_utc() {
        assert_eq!(at(0, 0).to_rfc3339(), "2026-01-01T00:00:00Z");
        assert_eq!(at(2, 24), at(3, 0));
        assert_eq!(at_ms(1, 1_000).to_rfc3339(), "2026-01-02T00:00:01Z");
    }
}
