//! Dense internal ids. Commands name things by client-chosen strings; the engine interns each
//! name once and works with small integers from then on (fast maps, compact state).

use indexmap::IndexSet;
use rustc_hash::FxBuildHasher;
use serde::Serialize;

macro_rules! dense_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
        pub struct $name(pub u32);
        impl $name {
            pub const fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

dense_id!(
    /// A user (trader, funder, worker, arbiter).
    UserId,
    /// An issue of some tracker.
    IssueId,
    /// A series: statement + maturation instant.
    SeriesId,
    /// An offer on a series' book.
    OfferId,
    /// A prediction market.
    MarketId,
    /// A member of the P2P backup network's resource market.
    PeerId,
);

/// Whether `id` has the form `<prefix><digits>` (`o17`, `t42`): the ids a server assigns to
/// offers (`o`) and market trades (`t`) sent without one, from its command sequence. A server
/// refuses client-chosen ids of that form, so the two namespaces never meet.
pub fn server_assigned_form(prefix: char, id: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// A two-way map between client names and dense ids, handed out in order of first use so that
/// replaying the same commands always gives the same ids. Each name is stored once: its index
/// in the set is its id.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Names {
    set: IndexSet<String, FxBuildHasher>,
}

/// Order matters (it is the id assignment), so equality compares sequences, not sets.
impl PartialEq for Names {
    fn eq(&self, other: &Self) -> bool {
        self.set.iter().eq(other.set.iter())
    }
}
impl Eq for Names {}

impl Names {
    pub fn get(&self, name: &str) -> Option<u32> {
        self.set.get_index_of(name).map(|i| i as u32)
    }
    /// The id of `name`, creating it if new. Returns (id, created).
    pub fn intern(&mut self, name: &str) -> (u32, bool) {
        match self.get(name) {
            Some(id) => (id, false),
            None => self.intern_owned(name.to_owned()),
        }
    }
    /// Like [`Names::intern`] but takes ownership (no copy for fresh names).
    pub fn intern_owned(&mut self, name: String) -> (u32, bool) {
        let (i, created) = self.set.insert_full(name);
        (i as u32, created)
    }
    pub fn name(&self, id: u32) -> &str {
        self.set.get_index(id as usize).map(String::as_str).unwrap_or("?")
    }
    pub fn len(&self) -> usize {
        self.set.len()
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.set.iter().enumerate().map(|(i, n)| (i as u32, n.as_str()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_assigned_ids_have_one_form() {
        use super::server_assigned_form as f;
        assert!(f('t', "t500") && f('o', "o1") && f('t', "t0001"));
        assert!(!f('t', "t") && !f('t', "t5x") && !f('t', "trade-5") && !f('t', "o5") && !f('o', "t5"));
    }

    #[test]
    fn names_are_interned_once_each() {
        let mut n = super::Names::default();
        assert!(n.is_empty());
        assert_eq!((n.intern("a"), n.intern("b"), n.intern("a")), ((0, true), (1, true), (0, false)));
        assert_eq!((n.len(), n.is_empty(), n.name(1), n.get("b")), (2, false, "b", Some(1)));
        // Equal means the same names in the same order (the same ids).
        let mut m = super::Names::default();
        m.intern("b");
        m.intern("a");
        assert!(n != m && n == n.clone());
    }
}
