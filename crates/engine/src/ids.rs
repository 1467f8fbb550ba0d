//! Dense internal ids. Commands name things by client-chosen strings; the engine interns each
//! name once and works with small integers from then on (fast maps, compact state).

use rustc_hash::FxHashMap;
use serde::Serialize;

macro_rules! dense_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// A two-way map between client names and dense ids, handed out in order of first use so that
/// replaying the same commands always gives the same ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    by_name: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    pub fn get(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }
    /// The id of `name`, creating it if new. Returns (id, created).
    pub fn intern(&mut self, name: &str) -> (u32, bool) {
        if let Some(&id) = self.by_name.get(name) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.by_name.insert(name.to_owned(), id);
        (id, true)
    }
    /// Like [`Names::intern`] but takes ownership (avoids a copy for fresh names).
    pub fn intern_owned(&mut self, name: String) -> (u32, bool) {
        if let Some(&id) = self.by_name.get(&name) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.by_name.insert(name, id);
        (id, true)
    }
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(String::as_str).unwrap_or("?")
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.names.iter().enumerate().map(|(i, n)| (i as u32, n.as_str()))
    }
}
