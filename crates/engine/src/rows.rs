//! [`Rows`]: an append-only list stored in fixed chunks, for the engine's longest list (every
//! offer ever placed). A `Vec` that grows copies itself into a buffer twice its size: at 8 M
//! offers that is 400 MB of old buffer and 400 MB copied, resident at once, for a moment, in
//! each of the server's two engines. A chunk, once made, never moves, so growing costs one
//! chunk at a time. Indexing is one more step (the chunk, then the row) than a `Vec`'s.
//!
//! It serialises as a plain list, exactly like a `Vec`: snapshots and the engine fingerprint
//! do not change.

use std::ops::{Index, IndexMut};

/// log2 of the rows in a chunk: 65,536 (3.5 MiB of 56-byte offers).
const SHIFT: u32 = 16;
const CHUNK: usize = 1 << SHIFT;
const MASK: usize = CHUNK - 1;

/// An append-only list in chunks of `CHUNK` rows (65,536) (see the module).
#[derive(Clone, PartialEq, Eq)]
pub struct Rows<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Rows<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a row at index `len()`.
    pub fn push(&mut self, row: T) {
        if self.len & MASK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(row);
        }
        self.len += 1;
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i >> SHIFT).and_then(|c| c.get(i & MASK))
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i >> SHIFT).and_then(|c| c.get_mut(i & MASK))
    }

    /// The rows in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }
}

impl<T> Index<usize> for Rows<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> SHIFT][i & MASK]
    }
}

impl<T> IndexMut<usize> for Rows<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> SHIFT][i & MASK]
    }
}

impl<'a, T> IntoIterator for &'a Rows<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
    }
}

impl<T> FromIterator<T> for Rows<T> {
    fn from_iter<I: IntoIterator<Item = T>>(rows: I) -> Self {
        let mut out = Rows::default();
        for r in rows {
            out.push(r);
        }
        out
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: serde::Serialize> serde::Serialize for Rows<T> {
    /// With its length first: a format that writes the length before the rows (MessagePack)
    /// would otherwise buffer the whole list to count it (a snapshot's 500 MB of offers).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len))?;
        for r in self.iter() {
            seq.serialize_element(r)?;
        }
        seq.end()
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Rows<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Rows<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Rows<T>, A::Error> {
                let mut rows = Rows::default();
                while let Some(r) = seq.next_element()? {
                    rows.push(r);
                }
                Ok(rows)
            }
        }
        d.deserialize_seq(Visitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three chunks and a bit: every row where a `Vec` has it, by index, `get`, `get_mut`
    /// and in order, on both sides of each chunk's edge.
    #[test]
    fn rows_are_where_a_vec_has_them() {
        let n = 3 * CHUNK + 5;
        let mut rows = Rows::default();
        assert!(rows.is_empty() && rows.get(0).is_none());
        for i in 0..n {
            assert_eq!(rows.len(), i);
            rows.push(i as u32);
        }
        assert!(!rows.is_empty());
        assert_eq!((rows.len(), rows.chunks.len()), (n, 4));
        assert!(rows.chunks[..3].iter().all(|c| c.len() == CHUNK && c.capacity() == CHUNK));
        for i in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 4] {
            assert_eq!((rows[i], rows.get(i)), (i as u32, Some(&(i as u32))), "row {i}");
        }
        assert_eq!((rows.get(n), rows.get(4 * CHUNK)), (None, None));
        let all: Vec<u32> = rows.iter().copied().collect();
        assert_eq!(all, (0..n as u32).collect::<Vec<_>>());
        assert_eq!(rows.iter().next_back(), Some(&(n as u32 - 1)));
        assert_eq!((&rows).into_iter().count(), n);
        *rows.get_mut(CHUNK).unwrap() = 7;
        rows[CHUNK + 1] += 1;
        assert_eq!((rows[CHUNK], rows[CHUNK + 1]), (7, CHUNK as u32 + 2));
        assert!(rows.get_mut(n).is_none());
        let again: Rows<u32> = rows.iter().copied().collect();
        assert!(again == rows && again.len() == n);
        assert_ne!(again, Rows::default());
    }

    #[test]
    #[should_panic]
    fn an_index_past_the_end_panics_like_a_vec() {
        let rows: Rows<u8> = [1, 2, 3].into_iter().collect();
        let _ = rows[3];
    }

    /// The same bytes as a `Vec` (so snapshots and the fingerprint do not change), and back.
    #[test]
    fn serialises_as_a_plain_list() {
        let v: Vec<u32> = (0..(CHUNK as u32 + 3)).collect();
        let rows: Rows<u32> = v.iter().copied().collect();
        assert_eq!(rmp_serde::to_vec(&rows).unwrap(), rmp_serde::to_vec(&v).unwrap());
        assert_eq!(serde_json::to_string(&rows.iter().take(3).copied().collect::<Rows<u32>>()).unwrap(), "[0,1,2]");
        let back: Rows<u32> = rmp_serde::from_slice(&rmp_serde::to_vec(&v).unwrap()).unwrap();
        assert!(back == rows);
        // Written as it goes (a write per row), not buffered whole to be counted first.
        struct Writes(usize);
        impl std::io::Write for Writes {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0 += 1;
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut w = Writes(0);
        rmp_serde::encode::write(&mut w, &rows).unwrap();
        assert!(w.0 >= rows.len(), "{} writes for {} rows", w.0, rows.len());
        let e = serde_json::from_str::<Rows<u32>>("7").unwrap_err();
        assert!(e.to_string().contains("expected a list"), "{e}");
        assert_eq!(format!("{:?}", [1u8, 2].into_iter().collect::<Rows<u8>>()), "[1, 2]");
    }
}
