//! When to sync what: a small, clock-free planner for a server's background job. Each target (a
//! repository or an issue of one tracker) is due at some instant; a success schedules the next
//! regular poll, a rate limit waits exactly as long as the tracker asked, an outage backs off
//! exponentially (but never longer than the regular interval), and a maturation pulls the next
//! sync forward to just after it, so series settle promptly once the tracker answers.

use std::collections::BTreeMap;

use peerex_engine::Timestamp;

use crate::error::TrackerError;

/// How often and how patiently to sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// Between two successful syncs of a target.
    pub interval_ms: i64,
    /// The first retry after a failure; doubled per further failure, capped at `interval_ms`.
    pub retry_ms: i64,
    /// How long after a maturation its issue is synced (a sync must be *newer* than it).
    pub after_maturation_ms: i64,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy { interval_ms: 5 * 60_000, retry_ms: 30_000, after_maturation_ms: 1_000 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot {
    due: Timestamp,
    failures: u32,
    /// The end of the tracker's last rate limit: nothing is planned before it.
    not_before: Option<Timestamp>,
}

/// The planner. Targets are any ordered keys (e.g. `(tracker, repo)`).
#[derive(Clone, Debug)]
pub struct Schedule<K: Ord + Clone> {
    policy: SchedulePolicy,
    slots: BTreeMap<K, Slot>,
}

impl<K: Ord + Clone> Schedule<K> {
    pub fn new(policy: SchedulePolicy) -> Schedule<K> {
        Schedule { policy, slots: BTreeMap::new() }
    }

    /// Adds a target, due at once (`now`); an existing one keeps its plan.
    pub fn add(&mut self, key: K, now: Timestamp) {
        self.slots.entry(key).or_insert(Slot { due: now, failures: 0, not_before: None });
    }

    pub fn remove(&mut self, key: &K) {
        self.slots.remove(key);
    }

    /// The targets due at `now`, earliest first.
    pub fn due(&self, now: Timestamp) -> Vec<K> {
        let mut due: Vec<(Timestamp, &K)> =
            self.slots.iter().filter(|(_, s)| s.due <= now).map(|(k, s)| (s.due, k)).collect();
        due.sort_by_key(|(t, _)| *t);
        due.into_iter().map(|(_, k)| k.clone()).collect()
    }

    /// When the next target is due (to sleep until then).
    pub fn next_due(&self) -> Option<Timestamp> {
        self.slots.values().map(|s| s.due).min()
    }

    pub fn due_at(&self, key: &K) -> Option<Timestamp> {
        self.slots.get(key).map(|s| s.due)
    }

    /// Records how a sync of `key` started at `at` ended, and plans the next one.
    pub fn record<T>(&mut self, key: &K, at: Timestamp, outcome: &Result<T, TrackerError>) {
        let policy = self.policy;
        let Some(slot) = self.slots.get_mut(key) else { return };
        match outcome {
            Ok(_) => {
                slot.failures = 0;
                slot.not_before = None;
                slot.due = at.plus_millis(policy.interval_ms);
            }
            Err(TrackerError::RateLimited { until }) => {
                // Not the tracker's fault, and it said exactly when: no back-off growth.
                slot.not_before = Some(*until);
                slot.due = (*until).max(at);
            }
            Err(_) => {
                slot.failures = slot.failures.saturating_add(1);
                let exp = slot.failures.saturating_sub(1).min(20);
                let wait = policy.retry_ms.saturating_mul(1i64 << exp).min(policy.interval_ms);
                slot.due = at.plus_millis(wait);
            }
        }
    }

    /// A series on `key` matures at `maturation`: sync just after it, unless planned earlier
    /// or a rate limit forbids asking that soon.
    pub fn maturation(&mut self, key: &K, maturation: Timestamp) {
        let after = maturation.plus_millis(self.policy.after_maturation_ms);
        if let Some(slot) = self.slots.get_mut(key) {
            let after = slot.not_before.map_or(after, |nb| after.max(nb));
            if after < slot.due {
                slot.due = after;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SchedulePolicy = SchedulePolicy { interval_ms: 300_000, retry_ms: 30_000, after_maturation_ms: 1_000 };

    #[test]
    fn plans_polls_retries_rate_limits_and_maturations() {
        let t = Timestamp(1_000_000);
        let mut s: Schedule<&str> = Schedule::new(P);
        s.add("a", t);
        s.add("b", t.plus_millis(10));
        assert_eq!(s.due(t), vec!["a"]);
        assert_eq!(s.due(t.plus_millis(10)), vec!["a", "b"]);

        s.record(&"a", t, &Ok::<(), _>(()));
        assert_eq!(s.due_at(&"a"), Some(t.plus_millis(300_000)));

        // Outages: 30 s, 60 s, 120 s, 240 s, then capped at the interval.
        let down: Result<(), _> = Err(TrackerError::Unavailable("502".into()));
        let waits: Vec<i64> = (0..6)
            .map(|_| {
                s.record(&"b", t, &down);
                s.due_at(&"b").unwrap().millis() - t.millis()
            })
            .collect();
        assert_eq!(waits, [30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
        s.record(&"b", t, &Ok::<(), _>(()));
        s.record(&"b", t, &down);
        assert_eq!(s.due_at(&"b"), Some(t.plus_millis(30_000)), "a success resets the back-off");

        // A rate limit waits exactly until its end, and a maturation cannot pull it forward.
        let until = t.plus_millis(900_000);
        s.record(&"a", t, &Err::<(), _>(TrackerError::RateLimited { until }));
        assert_eq!(s.due_at(&"a"), Some(until));
        s.maturation(&"a", t.plus_millis(60_000));
        assert_eq!(s.due_at(&"a"), Some(until));
        // After a success, a maturation pulls the next poll forward to just after it.
        s.record(&"a", until, &Ok::<(), _>(()));
        assert_eq!(s.due_at(&"a"), Some(until.plus_millis(300_000)));
        s.maturation(&"a", until.plus_millis(60_000));
        assert_eq!(s.due_at(&"a"), Some(until.plus_millis(61_000)));
        // ... but never later than planned.
        s.maturation(&"a", until.plus_millis(600_000));
        assert_eq!(s.due_at(&"a"), Some(until.plus_millis(61_000)));
        assert_eq!(s.next_due(), Some(t.plus_millis(30_000)));
        s.remove(&"b");
        assert_eq!(s.next_due(), Some(until.plus_millis(61_000)));
        assert_eq!(s.due(t), Vec::<&str>::new());
    }
}
