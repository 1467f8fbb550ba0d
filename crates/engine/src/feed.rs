//! An in-memory event log with per-user feeds read after a cursor. Drivers that keep events
//! in memory (replay, tests, the simulator) use it; the server keeps the same shape in its
//! database.

use rustc_hash::FxHashMap;

use crate::event::Timed;
use crate::ids::UserId;

#[derive(Clone, Debug, Default)]
pub struct EventLog {
    events: Vec<Timed>,
    by_user: FxHashMap<UserId, Vec<u64>>,
}

impl EventLog {
    /// Appends events; each gets the next sequence number (its cursor), starting at 1.
    pub fn extend(&mut self, events: impl IntoIterator<Item = Timed>) {
        for e in events {
            self.events.push(e);
            let seq = self.events.len() as u64;
            let mut last = None;
            for u in self.events[self.events.len() - 1].event.users() {
                if last != Some(u) {
                    self.by_user.entry(u).or_default().push(seq);
                }
                last = Some(u);
            }
        }
    }
    pub fn len(&self) -> usize {
        self.events.len()
    }
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
    pub fn get(&self, seq: u64) -> Option<&Timed> {
        seq.checked_sub(1).and_then(|i| self.events.get(i as usize))
    }
    pub fn all(&self) -> &[Timed] {
        &self.events
    }
    /// Up to `limit` events concerning `user` with a sequence number above `after`, as
    /// (cursor, event); pass the last cursor back to read on.
    pub fn feed(&self, user: UserId, after: u64, limit: usize) -> Vec<(u64, &Timed)> {
        let Some(seqs) = self.by_user.get(&user) else { return Vec::new() };
        let start = seqs.partition_point(|s| *s <= after);
        seqs[start..].iter().take(limit).filter_map(|s| self.get(*s).map(|e| (*s, e))).collect()
    }
}
