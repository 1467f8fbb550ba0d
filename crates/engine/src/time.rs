//! Instants as integer milliseconds since the Unix epoch (UTC). The engine never reads a clock:
//! every command carries its time.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::EngineError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MS_PER_SECOND: i64 = 1_000;
    pub const MS_PER_DAY: i64 = 86_400_000;
    /// The earliest instant the engine accepts: `0000-01-01T00:00:00Z`.
    pub const MIN: Timestamp = Timestamp(-62_167_219_200_000);
    /// The latest instant the engine accepts: `9999-12-31T23:59:59.999Z`. Every instant in
    /// [`Timestamp::MIN`, `Timestamp::MAX`] prints as a four-digit-year RFC 3339 text that parses
    /// back to itself, so whatever the engine accepts can be logged and replayed.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
    pub fn plus_days(self, days: i64) -> Timestamp {
        self.plus_millis(days.saturating_mul(Self::MS_PER_DAY))
    }

    /// Whether the instant lies in [`Timestamp::MIN`, `Timestamp::MAX`].
    pub const fn in_range(self) -> bool {
        self.0 >= Self::MIN.0 && self.0 <= Self::MAX.0
    }

    /// `Ok(self)` when in range, else `invalid_time` naming `what`.
    pub fn checked(self, what: &str) -> Result<Timestamp, EngineError> {
        if self.in_range() {
            Ok(self)
        } else {
            Err(EngineError::InvalidTime(format!(
                "{what} {self} lies outside the supported range {} to {}",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    /// Parses an RFC 3339 instant such as `2026-12-01T09:00:00Z` (any offset, converted to UTC).
    /// The instant, once in UTC, must lie in [`Timestamp::MIN`, `Timestamp::MAX`].
    pub fn parse(s: &str) -> Result<Timestamp, EngineError> {
        let t = DateTime::parse_from_rfc3339(s)
            .map(|t| Timestamp(t.timestamp_millis()))
            .map_err(|e| EngineError::InvalidTime(format!("{s:?} is not an RFC 3339 time: {e}")))?;
        if t.in_range() {
            Ok(t)
        } else {
            Err(EngineError::InvalidTime(format!(
                "{s:?} is not an RFC 3339 time in the supported range {} to {} (UTC)",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    pub fn to_rfc3339(self) -> String {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            None => format!("@{}ms", self.0),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// RFC 3339 text in human-readable formats (JSON); milliseconds in binary ones (snapshots).
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return s.serialize_i64(self.0);
        }
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if !d.is_human_readable() {
            return i64::deserialize(d).map(Timestamp);
        }
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever is inserted, removed or popped, the kept earliest time is the set's first,
        /// and the stored form is the plain set's.
        #[test]
        fn an_agenda_keeps_its_earliest_time(ops in proptest::collection::vec((0u8..4, 0i64..20, 0u32..3), 0..60)) {
            let mut a: Agenda<u32> = Agenda::default();
            let mut model = std::collections::BTreeSet::new();
            for (op, t, k) in ops {
                let e = (Timestamp(t), k);
                match op {
                    0 | 1 => proptest::prop_assert_eq!(a.insert(e), model.insert(e)),
                    2 => proptest::prop_assert_eq!(a.remove(&e), model.remove(&e)),
                    _ => proptest::prop_assert_eq!(a.pop_first(), model.pop_first()),
                }
                proptest::prop_assert_eq!(a.earliest(), model.first().map(|e| e.0));
                proptest::prop_assert_eq!(a.first(), model.first());
                proptest::prop_assert_eq!((a.len(), a.is_empty()), (model.len(), model.is_empty()));
                proptest::prop_assert_eq!(a.contains(&e), model.contains(&e));
                proptest::prop_assert!(a.iter().eq(model.iter()));
            }
            let stored = serde_json::to_string(&a).unwrap();
            proptest::prop_assert_eq!(&stored, &serde_json::to_string(&model).unwrap());
            let back: Agenda<u32> = serde_json::from_str(&stored).unwrap();
            proptest::prop_assert!(back == a);
            a.clear();
            proptest::prop_assert_eq!((a.earliest(), a.len()), (None, 0));
        }
    }

    #[test]
    fn the_earliest_of_some_times() {
        let t = |ms| Some(Timestamp(ms));
        assert_eq!(earliest([None, None]), None);
        assert_eq!(earliest([t(5), None, t(3), t(4)]), t(3));
        assert_eq!(earliest([None, t(7)]), t(7));
    }

    #[test]
    fn binary_formats_carry_milliseconds_and_json_keeps_rfc3339() {
        let t = Timestamp::parse("2026-12-01T09:00:00.250Z").unwrap();
        let b = rmp_serde::to_vec(&t).unwrap();
        assert_eq!(b, rmp_serde::to_vec(&t.0).unwrap());
        assert_eq!(rmp_serde::from_slice::<Timestamp>(&b).unwrap(), t);
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2026-12-01T09:00:00.250Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>("\"2026-12-01T09:00:00.250Z\"").unwrap(), t);
        assert_eq!(t.to_string(), "2026-12-01T09:00:00.250Z", "Display is RFC 3339 too");
        assert_eq!(t.millis(), 1_796_115_600_250);
    }

    #[test]
    fn round_trips_rfc3339() {
        let t = Timestamp::parse("2026-12-01T09:00:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T09:00:00Z");
        let t2 = Timestamp::parse("2026-12-01T10:00:00+01:00").unwrap();
        assert_eq!(t, t2);
        assert_eq!(t.plus_days(1).to_rfc3339(), "2026-12-02T09:00:00Z");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn the_range_round_trips_and_nothing_outside_parses() {
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp(0), Timestamp(-1), Timestamp::MIN.plus_millis(1)] {
            let text = t.to_rfc3339();
            assert_eq!(Timestamp::parse(&text).unwrap(), t, "{text}");
        }
        assert_eq!(Timestamp::MIN.to_rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_rfc3339(), "9999-12-31T23:59:59.999Z");
        // In range locally, outside once converted to UTC (the tester's cases).
        for bad in ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00+00:01"] {
            let e = Timestamp::parse(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_time", "{bad}");
            assert!(e.message().contains("supported range"), "{e}");
        }
        assert!(!Timestamp::MAX.plus_millis(1).in_range());
        assert!(!Timestamp(Timestamp::MIN.0 - 1).in_range());
        assert_eq!(Timestamp::MAX.checked("at").unwrap(), Timestamp::MAX);
        assert_eq!(Timestamp::MAX.plus_days(1).checked("at").unwrap_err().code(), "invalid_time");
    }
}

/// What is due when: a set of (time, key) in time order, with its earliest time kept beside it
/// so that "is anything due by then?" (asked before every command) is one field read rather
/// than a walk down the tree. Stored as the plain set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agenda<K> {
    set: std::collections::BTreeSet<(Timestamp, K)>,
    /// `set.first()`'s time: kept by every change below.
    earliest: Option<Timestamp>,
}

impl<K> Default for Agenda<K> {
    fn default() -> Self {
        Agenda { set: std::collections::BTreeSet::new(), earliest: None }
    }
}

impl<K: Ord + Copy> Agenda<K> {
    /// The earliest time in the agenda.
    pub fn earliest(&self) -> Option<Timestamp> {
        self.earliest
    }
    /// Whether nothing in the agenda is due at or before `at`: [`Agenda::earliest`] compared,
    /// for the check before every command.
    #[inline]
    pub fn none_by(&self, at: Timestamp) -> bool {
        self.earliest.is_none_or(|t| t > at)
    }
    pub fn first(&self) -> Option<&(Timestamp, K)> {
        self.set.first()
    }
    pub fn insert(&mut self, entry: (Timestamp, K)) -> bool {
        self.earliest = Some(self.earliest.map_or(entry.0, |t| t.min(entry.0)));
        self.set.insert(entry)
    }
    pub fn remove(&mut self, entry: &(Timestamp, K)) -> bool {
        // Nothing is earlier than the earliest time (nothing at all in an empty agenda): the
        // common case of removing an offer's expiry that was never scheduled.
        if self.earliest.is_none_or(|t| entry.0 < t) {
            return false;
        }
        let removed = self.set.remove(entry);
        self.earliest = self.set.first().map(|e| e.0);
        removed
    }
    pub fn pop_first(&mut self) -> Option<(Timestamp, K)> {
        let first = self.set.pop_first();
        self.earliest = self.set.first().map(|e| e.0);
        first
    }
    pub fn clear(&mut self) {
        self.set.clear();
        self.earliest = None;
    }
    pub fn contains(&self, entry: &(Timestamp, K)) -> bool {
        self.set.contains(entry)
    }
    pub fn iter(&self) -> impl Iterator<Item = &(Timestamp, K)> {
        self.set.iter()
    }
    pub fn len(&self) -> usize {
        self.set.len()
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

impl<K: Serialize> Serialize for Agenda<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.set.serialize(s)
    }
}

impl<'de, K: Deserialize<'de> + Ord + Copy> Deserialize<'de> for Agenda<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let set = std::collections::BTreeSet::<(Timestamp, K)>::deserialize(d)?;
        let earliest = set.first().map(|e| e.0);
        Ok(Agenda { set, earliest })
    }
}

/// The earliest of some times, if any.
#[inline]
pub fn earliest<const N: usize>(times: [Option<Timestamp>; N]) -> Option<Timestamp> {
    times.iter().fold(None, |min, t| match (min, *t) {
        (Some(m), Some(t)) => Some(m.min(t)),
        (m, None) => m,
        (None, t) => t,
    })
}
