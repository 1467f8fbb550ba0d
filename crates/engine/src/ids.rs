//! Dense internal ids. Commands name things by client-chosen strings; the engine interns each
//! name once and works with small integers from then on (fast maps, compact state).

use serde::{Deserialize, Serialize};
use string_interner::backend::StringBackend as DefaultBackend;
use string_interner::symbol::{Symbol, SymbolU32};
use string_interner::StringInterner;

macro_rules! dense_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
/// replaying the same commands always gives the same ids. The names are stored once, end to end
/// in one buffer (string-interner's `StringBackend`), with a hash table of ids beside it: about
/// 22 bytes a short name instead of 60-70 for a `String` in an `IndexSet`, no allocation per
/// name, and a clone is three buffer copies. The table's hasher is seeded per process (names are
/// client-chosen, so a fixed hash could be attacked); ids and iteration do not depend on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    set: StringInterner<DefaultBackend>,
}

impl Names {
    pub fn get(&self, name: &str) -> Option<u32> {
        self.set.get(name).map(|s| s.to_usize() as u32)
    }
    /// The id of `name`, creating it if new. Returns (id, created).
    pub fn intern(&mut self, name: &str) -> (u32, bool) {
        let before = self.set.len();
        let id = self.set.get_or_intern(name).to_usize() as u32;
        (id, self.set.len() > before)
    }
    pub fn name(&self, id: u32) -> &str {
        SymbolU32::try_from_usize(id as usize).and_then(|s| self.set.resolve(s)).unwrap_or("?")
    }
    pub fn len(&self) -> usize {
        self.set.len()
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.set.iter().map(|(s, n)| (s.to_usize() as u32, n))
    }
}

/// Stored as the list of names in id order.
impl Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.set.iter().map(|(_, n)| n))
    }
}

/// Read back straight into the buffer (no allocation per name), sized once for the list: a
/// large snapshot holds millions of offer names. A name that appears twice is refused, since it
/// would shift every later id.
impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(NamesVisitor)
    }
}

/// Entries reserved ahead from a list's stated length, at most: a snapshot's lengths are
/// checksummed but still not trusted with an allocation.
const RESERVED_AT_MOST: usize = 16_777_216;

/// How many entries to reserve for a list read back from a snapshot that states its length:
/// that length (at most [`RESERVED_AT_MOST`]) and an eighth more, so that the commands after
/// the snapshot do not at once copy the longest lists into new memory (the offers alone are
/// 380 MB at 8 M offers; reserved but untouched memory costs nothing).
pub(crate) fn reserve_ahead(stated: Option<usize>) -> usize {
    let n = stated.unwrap_or(0).min(RESERVED_AT_MOST);
    n + n / 8
}

/// Reads a list into a vector reserved once from its stated length ([`reserve_ahead`]; past
/// that it grows as usual). serde's own reserves at most 1 MiB ahead, so the offers, a
/// snapshot's longest list, were copied at every doubling.
pub(crate) fn presized<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct Presized<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Presized<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut v = Vec::with_capacity(reserve_ahead(seq.size_hint()));
            while let Some(x) = seq.next_element()? {
                v.push(x);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(Presized(std::marker::PhantomData))
}

struct NamesVisitor;

impl<'de> serde::de::Visitor<'de> for NamesVisitor {
    type Value = Names;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of distinct names")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
        let mut names = Names { set: StringInterner::with_capacity(reserve_ahead(seq.size_hint())) };
        while let Some(created) = seq.next_element_seed(InternOne(&mut names))? {
            if !created {
                return Err(serde::de::Error::custom("a name appears twice in the list of names"));
            }
        }
        Ok(names)
    }
}

/// Interns one name of the list as it is read (borrowed from the input when it can be).
struct InternOne<'a>(&'a mut Names);

impl<'de> serde::de::DeserializeSeed<'de> for InternOne<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for InternOne<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a name")
    }
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(self.0.intern(name).1)
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
        assert_eq!(n.name(2), "?", "an id never handed out");
    }

    #[test]
    fn names_are_stored_as_their_list_and_read_back_with_the_same_ids() {
        let mut n = super::Names::default();
        for name in ["u1", "o17", "ÿ-ü"] {
            n.intern(name);
        }
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, r#"["u1","o17","ÿ-ü"]"#);
        let mut back: super::Names = serde_json::from_str(&json).unwrap();
        assert_eq!(back, n);
        assert_eq!((back.get("o17"), back.name(2), back.len()), (Some(1), "ÿ-ü", 3));
        // The table works after reading: known names keep their ids, new ones come next.
        assert_eq!((back.intern("u1"), back.intern("new")), ((0, false), (3, true)));
        let packed: super::Names = rmp_serde::from_slice(&rmp_serde::to_vec_named(&n).unwrap()).unwrap();
        assert_eq!(packed.iter().collect::<Vec<_>>(), [(0, "u1"), (1, "o17"), (2, "ÿ-ü")]);
    }

    #[test]
    fn lists_read_back_are_reserved_once_with_an_eighth_to_spare() {
        use super::reserve_ahead;
        assert_eq!((reserve_ahead(None), reserve_ahead(Some(7)), reserve_ahead(Some(800))), (0, 7, 900));
        // A stated length is not trusted past 2^24 entries.
        assert_eq!(reserve_ahead(Some(usize::MAX)), 16_777_216 + 2_097_152);
    }

    #[test]
    fn presized_reads_a_list_and_refuses_anything_else() {
        let v: Vec<u32> = super::presized(&mut serde_json::Deserializer::from_str("[1,2,3]")).unwrap();
        assert_eq!(v, [1, 2, 3]);
        // MessagePack states the length: the vector is reserved once, with room to grow.
        let list: Vec<u32> = (0..800).collect();
        let v: Vec<u32> =
            super::presized(&mut rmp_serde::Deserializer::new(&rmp_serde::to_vec(&list).unwrap()[..])).unwrap();
        assert_eq!((v.len(), v.capacity()), (800, 900));
        let e = super::presized::<_, u32>(&mut serde_json::Deserializer::from_str("7")).unwrap_err();
        assert!(e.to_string().contains("expected a list"), "{e}");
    }

    #[test]
    fn a_list_of_names_that_is_not_one_is_refused() {
        let err = |s: &str| serde_json::from_str::<super::Names>(s).unwrap_err().to_string();
        assert!(err(r#"["a","b","a"]"#).contains("a name appears twice"), "{}", err(r#"["a","a"]"#));
        assert!(err("[1]").contains("expected a name"), "{}", err("[1]"));
        assert!(err("{}").contains("expected a list of distinct names"), "{}", err("{}"));
        assert!(serde_json::from_str::<super::Names>("[]").unwrap().is_empty());
    }
}
