//! Dense internal ids. Commands name things by client-chosen strings; the engine interns each
//! name once and works with small integers from then on (fast maps, compact state).

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};
use hashbrown::DefaultHashBuilder;
use serde::{Deserialize, Serialize};

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
/// in one buffer, with where each ends and a hash table of ids beside it (hashbrown's
/// `HashTable`): about 22 bytes a short name instead of 60-70 for a `String` in an `IndexSet`, no
/// allocation per name, and a clone is three buffer copies. The table's hasher is seeded per
/// process (names are client-chosen, so a fixed hash could be attacked); ids, iteration and
/// equality do not depend on it.
///
/// This is string-interner's `StringBackend` layout, kept by hand for one reason: a snapshot
/// holds millions of names, and reading them back into an interner inserts them in id order,
/// each at a random place of the table (a cache miss each: 1.7-2.0 s for 8 M names on the
/// project machine). [`Names`] reads the list into the buffer first and then fills the table
/// in the order of its slots (0.5 s; docs/benchmarks.md, "Restarts").
///
/// Names of the form a server gives offers, `o<n>` ([`server_assigned_form`], with `n` written
/// without leading zeros), are indexed by their number instead ([`Numbered`]): a server numbers
/// them by its command sequence, so a new one lands at the end of an array (no hash, no probe
/// of a table of millions, no table growth) and finding one is one array read.
#[derive(Clone, Default)]
pub struct Names {
    buf: String,
    /// Where each name ends in `buf`, by id.
    ends: Vec<usize>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    numbered: Numbered,
}

/// Where a name is looked up: [`Names::key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// `o<n>`, by `n`.
    Numbered(u32),
    /// Any other name, by this table's hash of it.
    Hashed(u64),
}

/// The ids of the names `o<n>`, by `n` (0: none; else id + 1). The array grows at most
/// [`NUMBERED_AHEAD`] past its end at a time, so a far larger number (a client's, not a
/// server's) cannot make it allocate much: such a name goes to the hash table like any other,
/// and [`Numbered::in_table`] counts them, so that a lookup searches the table too only when
/// there is one.
#[derive(Clone, Default)]
struct Numbered {
    ids: Vec<u32>,
    in_table: u32,
}

/// How far past the numbered array's end a new `o<n>` still goes into it (256 KiB of it).
const NUMBERED_AHEAD: usize = 1 << 16;

/// The `n` of a name `o<n>` written without leading zeros, if it has that form and fits a `u32`.
pub(crate) fn number_of(name: &str) -> Option<u32> {
    let digits = name.strip_prefix('o')?.as_bytes();
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut n: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
    }
    Some(n)
}

/// A name as a command gives it, ready to look up in a [`Names`]: `o<n>` by its number (a
/// driver may have read the number already, see [`crate::resolve`]), any other with its key.
/// Its `Debug` is the name's.
#[derive(Clone, Copy)]
pub enum NameRef<'a> {
    Numbered(u32),
    Named(&'a str, Key),
}

impl<'a> NameRef<'a> {
    /// `name` as `names` looks it up.
    pub fn of(names: &Names, name: &'a str) -> NameRef<'a> {
        match names.key(name) {
            Key::Numbered(n) => NameRef::Numbered(n),
            key => NameRef::Named(name, key),
        }
    }
    pub fn get(self, names: &Names) -> Option<u32> {
        match self {
            NameRef::Numbered(n) => names.get_numbered(n),
            NameRef::Named(name, key) => names.get_keyed(key, name),
        }
    }
    pub fn intern(self, names: &mut Names) -> (u32, bool) {
        match self {
            NameRef::Numbered(n) => names.intern_numbered(n),
            NameRef::Named(name, key) => names.intern_keyed(key, name),
        }
    }
    /// Whether the name is empty (never a number).
    pub fn is_empty(self) -> bool {
        matches!(self, NameRef::Named("", _))
    }
    /// Whether the name starts with `c`.
    pub fn starts_with(self, c: char) -> bool {
        match self {
            NameRef::Numbered(_) => c == 'o',
            NameRef::Named(name, _) => name.starts_with(c),
        }
    }
}

impl std::fmt::Debug for NameRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameRef::Numbered(n) => {
                f.write_str("\"o")?;
                f.write_str(itoa::Buffer::new().format(*n))?;
                f.write_str("\"")
            }
            NameRef::Named(name, _) => write!(f, "{name:?}"),
        }
    }
}

impl Numbered {
    fn get(&self, n: u32) -> Option<u32> {
        self.ids.get(n as usize).and_then(|&v| v.checked_sub(1))
    }

    /// Whether `n` may go into the array (else to the table).
    fn takes(&self, n: u32) -> bool {
        (n as usize) < self.ids.len() + NUMBERED_AHEAD
    }

    fn set(&mut self, n: u32, id: u32) {
        let i = n as usize;
        match i.cmp(&self.ids.len()) {
            std::cmp::Ordering::Less => self.ids[i] = id + 1,
            // The common case: a server numbers its offers in order.
            std::cmp::Ordering::Equal => self.ids.push(id + 1),
            std::cmp::Ordering::Greater => {
                self.ids.resize(i, 0);
                self.ids.push(id + 1);
            }
        }
    }
}

impl Names {
    pub fn get(&self, name: &str) -> Option<u32> {
        self.get_keyed(self.key(name), name)
    }
    /// The id of `name`, creating it if new. Returns (id, created).
    pub fn intern(&mut self, name: &str) -> (u32, bool) {
        self.intern_keyed(self.key(name), name)
    }
    /// Where this table looks `name` up, for a [`Names::get_keyed`] followed by a
    /// [`Names::intern_keyed`] of the same name (one hash instead of two).
    pub fn key(&self, name: &str) -> Key {
        match number_of(name) {
            Some(n) => Key::Numbered(n),
            None => Key::Hashed(self.hasher.hash_one(name)),
        }
    }
    /// [`Names::get`] with `key` = [`Names::key`]`(name)` of this table.
    pub fn get_keyed(&self, key: Key, name: &str) -> Option<u32> {
        debug_assert_eq!(key, self.key(name));
        let hash = match key {
            Key::Numbered(n) => match self.numbered.get(n) {
                Some(id) => return Some(id),
                None if self.numbered.in_table == 0 => return None,
                None => self.hasher.hash_one(name),
            },
            Key::Hashed(hash) => hash,
        };
        self.table.find(hash, |&id| self.name(id) == name).copied()
    }
    /// [`Names::intern`] with `key` = [`Names::key`]`(name)` of this table.
    pub fn intern_keyed(&mut self, key: Key, name: &str) -> (u32, bool) {
        if let Some(id) = self.get_keyed(key, name) {
            return (id, false);
        }
        let id = self.ends.len() as u32;
        match key {
            Key::Numbered(n) if self.numbered.takes(n) => self.numbered.set(n, id),
            _ => {
                let hash = match key {
                    Key::Numbered(_) => {
                        self.numbered.in_table += 1;
                        self.hasher.hash_one(name)
                    }
                    Key::Hashed(hash) => hash,
                };
                let (buf, ends, hasher) = (&self.buf, &self.ends, &self.hasher);
                self.table.insert_unique(hash, id, |&id| hasher.hash_one(name_at(buf, ends, id)));
            }
        }
        self.buf.push_str(name);
        self.ends.push(self.buf.len());
        (id, true)
    }
    /// [`Names::get`] of `o<n>`, without writing the name out.
    pub fn get_numbered(&self, n: u32) -> Option<u32> {
        match self.numbered.get(n) {
            Some(id) => Some(id),
            None if self.numbered.in_table == 0 => None,
            // Rare: a client's far `o<n>` went to the table.
            None => self.get(&format!("o{n}")),
        }
    }
    /// [`Names::intern`] of `o<n>`, without writing the name out but into the buffer.
    pub fn intern_numbered(&mut self, n: u32) -> (u32, bool) {
        // The common case: a server's next number, one past the array's end, and no `o<n>` in
        // the table that could be this one.
        if n as usize == self.numbered.ids.len() && self.numbered.in_table == 0 {
            let id = self.ends.len() as u32;
            self.numbered.ids.push(id + 1);
            self.push_numbered_name(n);
            return (id, true);
        }
        if let Some(id) = self.get_numbered(n) {
            return (id, false);
        }
        if !self.numbered.takes(n) {
            return self.intern(&format!("o{n}"));
        }
        let id = self.ends.len() as u32;
        self.numbered.set(n, id);
        self.push_numbered_name(n);
        (id, true)
    }
    /// Writes `o<n>` at the end of the buffer, as the next id's name.
    #[inline]
    fn push_numbered_name(&mut self, n: u32) {
        let mut digits = itoa::Buffer::new();
        self.buf.push('o');
        self.buf.push_str(digits.format(n));
        self.ends.push(self.buf.len());
    }
    /// The name of `id` ("?" for an id never handed out).
    pub fn name(&self, id: u32) -> &str {
        name_at(&self.buf, &self.ends, id)
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        (0..self.ends.len() as u32).map(|id| (id, self.name(id)))
    }

    /// Fills the table for the names in the buffer, in the order of the table's slots rather
    /// than of the ids (see the type). Err(the first name found twice).
    fn index_all(&mut self) -> Result<(), &str> {
        let n = self.ends.len();
        // The names `o<n>` first, in id order (the order they came in), then the others.
        self.numbered = Numbered::default();
        let mut hashed = Vec::new();
        for id in 0..n as u32 {
            let name = name_at(&self.buf, &self.ends, id);
            match number_of(name) {
                Some(k) if self.numbered.takes(k) => {
                    if self.numbered.get(k).is_some() {
                        return Err(name_at(&self.buf, &self.ends, id));
                    }
                    self.numbered.set(k, id);
                }
                Some(_) => {
                    self.numbered.in_table += 1;
                    hashed.push(id);
                }
                None => hashed.push(id),
            }
        }
        // A name `o<n>` in the table while its number is in the array is a name given twice.
        for &id in &hashed {
            let name = name_at(&self.buf, &self.ends, id);
            if number_of(name).is_some_and(|k| self.numbered.get(k).is_some()) {
                return Err(name);
            }
        }
        self.table = HashTable::with_capacity(hashed.len().max(reserve_ahead(Some(hashed.len()))));
        let mask = slot_mask(self.table.capacity());
        let mut order: Vec<(u64, u32)> =
            hashed.into_iter().map(|id| (self.hasher.hash_one(name_at(&self.buf, &self.ends, id)), id)).collect();
        by_slot(&mut order, mask);
        let names = (&self.buf[..], &self.ends[..], &self.hasher);
        for (hash, id) in order {
            let name = name_at(names.0, names.1, id);
            match entry(&mut self.table, names, hash, name) {
                Entry::Occupied(_) => return Err(name),
                Entry::Vacant(e) => {
                    e.insert(id);
                }
            }
        }
        Ok(())
    }
}

/// The slot a hash starts probing at in a hashbrown table that holds `capacity` entries is the
/// hash's low bits, masked by its number of buckets less one (a power of two, of which 7/8 hold
/// entries).
fn slot_mask(capacity: usize) -> u64 {
    ((capacity as u64).saturating_mul(8) / 7).next_power_of_two().saturating_sub(1)
}

/// The table's entry for `name`, whose hash is `hash`; the ids in the table are looked up in
/// `names` (the buffer, the ends, the hasher) to compare and to rehash.
fn entry<'t>(
    table: &'t mut HashTable<u32>,
    names: (&str, &[usize], &DefaultHashBuilder),
    hash: u64,
    name: &str,
) -> Entry<'t, u32> {
    let (buf, ends, hasher) = names;
    table.entry(hash, |&id| name_at(buf, ends, id) == name, |&id| hasher.hash_one(name_at(buf, ends, id)))
}

/// Sorts (hash, id) pairs by the slot each hash starts probing at.
fn by_slot(order: &mut [(u64, u32)], mask: u64) {
    order.sort_unstable_by_key(|&(hash, _)| hash & mask);
}

fn name_at<'a>(buf: &'a str, ends: &[usize], id: u32) -> &'a str {
    let id = id as usize;
    let start = match id {
        0 => 0,
        _ => ends.get(id - 1).copied().unwrap_or(usize::MAX),
    };
    ends.get(id).and_then(|&end| buf.get(start..end)).unwrap_or("?")
}

/// Equal: the same names with the same ids (the table and its hasher are not compared).
impl PartialEq for Names {
    fn eq(&self, other: &Names) -> bool {
        self.ends == other.ends && self.buf == other.buf
    }
}

impl Eq for Names {}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|(_, n)| n)).finish()
    }
}

/// Stored as the list of names in id order.
impl Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|(_, n)| n))
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
        let mut names = Names { ends: Vec::with_capacity(reserve_ahead(seq.size_hint())), ..Names::default() };
        while seq.next_element_seed(PushOne(&mut names))?.is_some() {}
        u32::try_from(names.ends.len()).map_err(|_| serde::de::Error::custom("more names than ids"))?;
        names.index_all().map_err(|twice| {
            serde::de::Error::custom(format!("a name appears twice in the list of names: {twice:?}"))
        })?;
        Ok(names)
    }
}

/// Appends one name of the list to the buffer as it is read (borrowed from the input when it
/// can be); the table is filled once the list is read.
struct PushOne<'a>(&'a mut Names);

impl<'de> serde::de::DeserializeSeed<'de> for PushOne<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PushOne<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a name")
    }
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<(), E> {
        self.0.buf.push_str(name);
        self.0.ends.push(self.0.buf.len());
        Ok(())
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

    /// Many names read back (the table filled in slot order, not id order) keep their ids,
    /// and the table still grows and finds names after many more are added. (Not of the form
    /// `o<n>`, which the table does not hold.)
    #[test]
    fn a_long_list_read_back_finds_every_name() {
        let mut n = super::Names::default();
        for i in 0..50_000 {
            n.intern(&format!("x{}", i * 7));
        }
        let mut back: super::Names = rmp_serde::from_slice(&rmp_serde::to_vec(&n).unwrap()).unwrap();
        assert!(back == n && back.len() == 50_000);
        assert_eq!(back.ends.capacity(), super::reserve_ahead(Some(50_000)), "reserved once from the stated length");
        assert!(back.table.capacity() >= 50_000 + 50_000 / 8, "room for the commands after a snapshot");
        for i in 0..50_000u32 {
            assert_eq!(back.get(&format!("x{}", i * 7)), Some(i));
        }
        assert_eq!((back.get("x1"), back.get("")), (None, None));
        for i in 0..100_000u32 {
            assert_eq!(back.intern(&format!("n{i}")), (50_000 + i, true));
        }
        assert!((0..50_000u32).all(|i| back.get(&format!("x{}", i * 7)) == Some(i)));
        assert!((0..100_000u32).all(|i| back.name(50_000 + i) == format!("n{i}")));
        assert_eq!(format!("{:?}", super::Names::default()), "[]");
        let mut two = super::Names::default();
        two.intern("x");
        two.intern("é");
        assert_eq!(format!("{two:?}"), r#"["x", "é"]"#);
    }

    /// The slot masks of the tables hashbrown makes (4, 8, 16, 65,536 buckets).
    #[test]
    fn slot_masks_match_the_tables_buckets() {
        let mask = |n: usize| super::slot_mask(hashbrown::HashTable::<u32>::with_capacity(n).capacity());
        assert_eq!([mask(0), mask(3), mask(7), mask(8), mask(50_000)], [0, 3, 7, 15, 65_535]);
        // Sorted by the masked bits only: slot 1 before slot 2 whatever the bits above.
        let mut order = [(0b1_0010, 0), (0b10_0001, 1), (0b0_0001, 2)];
        super::by_slot(&mut order, 0b1111);
        assert_eq!(order.map(|(_, id)| id)[2], 0);
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
        assert!(
            err(r#"["a","b","a"]"#).contains(r#"a name appears twice in the list of names: "a""#),
            "{}",
            err(r#"["a","b","a"]"#)
        );
        assert!(err("[1]").contains("expected a name"), "{}", err("[1]"));
        assert!(err("{}").contains("expected a list of distinct names"), "{}", err("{}"));
        assert!(serde_json::from_str::<super::Names>("[]").unwrap().is_empty());
    }

    #[test]
    fn server_numbered_names_and_only_they_are_read_as_numbers() {
        use super::number_of as n;
        assert_eq!(
            (n("o0"), n("o7"), n("o1234567890"), n("o4294967295")),
            (Some(0), Some(7), Some(1_234_567_890), Some(u32::MAX))
        );
        let long = format!("o{}", "9".repeat(25));
        for other in
            ["o", "o07", "o00", "o4294967296", "o99999999999", "o1x", "o-1", "O7", "t7", "7", "o７", "o 7", &long]
        {
            assert_eq!(n(other), None, "{other}");
        }
    }

    /// Numbered names go to the array, others (and numbers too far ahead of it) to the table;
    /// ids come in order of first use whichever holds them, and each name is found where it is.
    #[test]
    fn numbered_names_are_found_in_the_array_or_the_table() {
        use super::{Key, Names, NUMBERED_AHEAD};
        let ahead = NUMBERED_AHEAD as u32;
        let mut n = Names::default();
        let far = format!("o{}", 2 * ahead - 1);
        assert_eq!(n.intern(&far), (0, true), "far past the array's end: the table");
        assert_eq!((n.numbered.ids.len(), n.numbered.in_table, n.table.len()), (0, 1, 1));
        assert_eq!(n.intern("o3"), (1, true));
        assert_eq!(n.intern("u3"), (2, true));
        assert_eq!(n.intern("o007"), (3, true), "leading zeros: an ordinary name");
        assert_eq!((n.numbered.ids.len(), n.table.len()), (4, 3));
        let near = format!("o{}", ahead - 1);
        assert_eq!(n.intern(&near), (4, true));
        assert_eq!(n.numbered.ids.len(), NUMBERED_AHEAD, "the array reaches the number");
        // `far` is now within reach of the array but stays in the table, and is found there.
        assert!(n.numbered.takes(2 * ahead - 1));
        assert_eq!((n.get(&far), n.intern(&far)), (Some(0), (0, false)));
        assert_eq!((n.get("o3"), n.get("u3"), n.get("o007"), n.get(&near)), (Some(1), Some(2), Some(3), Some(4)));
        assert_eq!((n.get("o7"), n.get("o4"), n.get(&format!("o{}", 3 * ahead))), (None, None, None));
        assert_eq!((n.intern("o3"), n.intern("o007")), ((1, false), (3, false)));
        assert_eq!(n.key("o3"), Key::Numbered(3));
        assert!(matches!(n.key("o03"), Key::Hashed(_)));
        // By number: the same places. Far ahead it goes to the table, not into the array.
        let far_ahead = 3 * ahead;
        assert_eq!(n.intern_numbered(far_ahead), (5, true));
        assert_eq!(
            (n.numbered.ids.len(), n.numbered.in_table, n.name(5)),
            (NUMBERED_AHEAD, 2, format!("o{far_ahead}").as_str())
        );
        assert_eq!((n.get_numbered(far_ahead), n.get_numbered(3), n.get_numbered(4)), (Some(5), Some(1), None));
        assert_eq!((n.intern_numbered(3), n.intern_numbered(far_ahead)), ((1, false), (5, false)));
        // Without any numbered name in the table, a miss does not search it.
        let mut m = Names::default();
        m.intern("o1");
        assert_eq!((m.numbered.in_table, m.get("o2"), m.get("o1")), (0, None, Some(0)));
        // The array takes numbers up to NUMBERED_AHEAD past its end, and not one more.
        let mut m = Names::default();
        m.intern(&format!("o{ahead}"));
        assert_eq!((m.numbered.ids.len(), m.numbered.in_table), (0, 1), "one past: the table");
        m.intern(&format!("o{}", ahead - 1));
        assert_eq!((m.numbered.ids.len(), m.numbered.in_table), (NUMBERED_AHEAD, 1), "the last it takes");
        // Read back: the same ids, and each name where it was.
        let back: Names = rmp_serde::from_slice(&rmp_serde::to_vec(&n).unwrap()).unwrap();
        assert!(back == n);
        assert_eq!((back.numbered.ids.len(), back.numbered.in_table, back.table.len()), (NUMBERED_AHEAD, 2, 4));
        for (id, name) in n.iter() {
            assert_eq!(back.get(name), Some(id), "{name}");
        }
    }

    /// A number the table holds (it was far ahead of the array when given) is found there once
    /// the array's end reaches it, by number as by name: the in-order append does not take it.
    #[test]
    fn the_arrays_end_reaching_a_number_in_the_table_finds_it_there() {
        use super::{Names, NUMBERED_AHEAD};
        let ahead = NUMBERED_AHEAD as u32;
        let mut n = Names::default();
        let far = 2 * ahead - 1;
        assert_eq!(n.intern_numbered(far), (0, true));
        assert_eq!((n.numbered.ids.len(), n.numbered.in_table), (0, 1), "far ahead: the table");
        assert_eq!(n.intern_numbered(ahead - 1), (1, true));
        assert_eq!(n.intern_numbered(far - 1), (2, true));
        assert_eq!(n.numbered.ids.len(), far as usize, "the array's end is `far`'s number");
        assert_eq!((n.intern_numbered(far), n.intern(&format!("o{far}"))), ((0, false), (0, false)));
        assert_eq!(n.len(), 3);
    }

    #[test]
    fn a_numbered_name_given_twice_in_a_list_is_refused() {
        let err = |s: &str| serde_json::from_str::<super::Names>(s).unwrap_err().to_string();
        assert!(err(r#"["o5","a","o5"]"#).contains(r#"twice in the list of names: "o5""#));
        // Once in the table (too far ahead then), once in the array (within reach by then).
        let ahead = super::NUMBERED_AHEAD;
        let list = format!(r#"["o{far}","o{near}","o{far}"]"#, far = 2 * ahead - 1, near = ahead - 1);
        assert!(err(&list).contains("twice in the list of names"), "{}", err(&list));
    }

    proptest::proptest! {
        /// Against a model: ids in order of first use, every name found with its id, before and
        /// after a round trip through the stored form.
        #[test]
        fn names_behave_like_a_map_in_order_of_first_use(
            picks in proptest::collection::vec((0u8..4, 0u32..200, proptest::bool::ANY), 0..300),
        ) {
            use super::NameRef;
            let ahead = super::NUMBERED_AHEAD as u32;
            let mut n = super::Names::default();
            let mut model: std::collections::HashMap<String, u32> = Default::default();
            for (form, k, by_number) in picks {
                let number = match form {
                    0 => Some(k),
                    1 => Some(ahead + k * 1_000),
                    _ => None,
                };
                let name = match (form, number) {
                    (_, Some(number)) => format!("o{number}"),
                    (2, _) => format!("o0{k}"),
                    _ => format!("n{k}"),
                };
                let next = model.len() as u32;
                let want = model.get(&name).map_or((next, true), |&id| (id, false));
                model.entry(name.clone()).or_insert(next);
                // A name `o<n>` may come as its number (a resolved command) or as text: the same.
                let given = match number {
                    Some(number) if by_number => NameRef::Numbered(number),
                    _ => NameRef::of(&n, &name),
                };
                proptest::prop_assert_eq!(format!("{given:?}"), format!("{name:?}"));
                proptest::prop_assert_eq!(given.get(&n), if want.1 { None } else { Some(want.0) });
                proptest::prop_assert_eq!(given.intern(&mut n), want);
            }
            let back: super::Names = rmp_serde::from_slice(&rmp_serde::to_vec(&n).unwrap()).unwrap();
            proptest::prop_assert!(back == n);
            for (name, &id) in &model {
                proptest::prop_assert_eq!(n.get(name), Some(id));
                proptest::prop_assert_eq!(back.get(name), Some(id));
                proptest::prop_assert_eq!(n.name(id), name.as_str());
            }
            proptest::prop_assert_eq!(n.len(), model.len());
        }
    }
}
