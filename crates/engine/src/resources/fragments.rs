//! The server's bookkeeping of erasure-coded files: who holds which fragment, and the metered
//! bytes each operation moves (seed 003, Table 1). The data path itself is not modelled.
//!
//! | operation | supplier resource metered | consumer service metered |
//! |---|---|---|
//! | backup (placement) | D: each holder downloads one fragment | B: k x fragment bytes of user data |
//! | storage | S: fragment bytes held, per day (at settlement) | S: user data stored, per day |
//! | retrieval | U: each of k holders uploads one fragment | R: k x fragment bytes |
//! | repair | U: k sources upload a fragment each; D: the new holder downloads one | (priced into q_S) |

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{overflow, EngineError, EngineResult};
use crate::ids::PeerId;

/// Metered bytes of one peer since its last settlement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Meter {
    /// Supplied upload (fragments sent), bytes.
    pub uploaded: i64,
    /// Supplied download (fragments received), bytes.
    pub downloaded: i64,
    /// Consumed backup service: user data backed up, bytes.
    pub backed_up: i64,
    /// Consumed retrieval service: user data retrieved, bytes.
    pub retrieved: i64,
}

/// One backed-up file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FileRecord {
    pub owner: PeerId,
    pub k: u32,
    pub fragment_bytes: i64,
    /// Holder of each fragment (n entries, distinct peers).
    pub holders: Vec<PeerId>,
}

impl FileRecord {
    pub fn user_bytes(&self) -> i64 {
        self.fragment_bytes.saturating_mul(i64::from(self.k))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fragments {
    files: BTreeMap<String, FileRecord>,
    /// Fragment bytes each peer holds (supplied space in use).
    held: Vec<i64>,
    /// User-data bytes each peer has backed up (consumed storage).
    owned: Vec<i64>,
    meters: Vec<Meter>,
}

fn slot<T: Default + Clone>(v: &mut Vec<T>, p: PeerId) -> &mut T {
    if v.len() <= p.index() {
        v.resize(p.index() + 1, T::default());
    }
    &mut v[p.index()]
}

fn add(x: &mut i64, d: i64) -> EngineResult<()> {
    *x = x.checked_add(d).ok_or_else(|| overflow("metered bytes"))?;
    Ok(())
}

impl Fragments {
    pub fn file(&self, name: &str) -> Option<&FileRecord> {
        self.files.get(name)
    }
    pub fn files(&self) -> impl Iterator<Item = (&str, &FileRecord)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v))
    }
    pub fn held_bytes(&self, p: PeerId) -> i64 {
        self.held.get(p.index()).copied().unwrap_or(0)
    }
    pub fn owned_bytes(&self, p: PeerId) -> i64 {
        self.owned.get(p.index()).copied().unwrap_or(0)
    }
    pub fn meter(&self, p: PeerId) -> Meter {
        self.meters.get(p.index()).copied().unwrap_or_default()
    }

    /// Records a placement on `holders` (already chosen by the allocation rule).
    pub fn place(
        &mut self,
        name: &str,
        owner: PeerId,
        k: u32,
        fragment_bytes: i64,
        holders: Vec<PeerId>,
    ) -> EngineResult<()> {
        if self.files.contains_key(name) {
            return Err(EngineError::DuplicateId(format!("file {name:?} is already backed up")));
        }
        let rec = FileRecord { owner, k, fragment_bytes, holders };
        let user = rec.user_bytes();
        // Check every sum first so that a refusal changes nothing.
        self.owned_bytes(owner).checked_add(user).ok_or_else(|| overflow("stored bytes"))?;
        self.meter(owner).backed_up.checked_add(user).ok_or_else(|| overflow("metered bytes"))?;
        for h in &rec.holders {
            self.held_bytes(*h).checked_add(fragment_bytes).ok_or_else(|| overflow("held bytes"))?;
            self.meter(*h).downloaded.checked_add(fragment_bytes).ok_or_else(|| overflow("metered bytes"))?;
        }
        for h in &rec.holders {
            add(slot(&mut self.held, *h), fragment_bytes)?;
            add(&mut slot(&mut self.meters, *h).downloaded, fragment_bytes)?;
        }
        add(slot(&mut self.owned, owner), user)?;
        add(&mut slot(&mut self.meters, owner).backed_up, user)?;
        self.files.insert(name.to_owned(), rec);
        Ok(())
    }

    /// Records a retrieval served by `sources` (k holders of the file).
    pub fn retrieve(&mut self, name: &str, sources: &[PeerId]) -> EngineResult<()> {
        let rec = self.files.get(name).ok_or_else(|| unknown_file(name))?;
        let (fb, owner, user) = (rec.fragment_bytes, rec.owner, rec.user_bytes());
        for s in sources {
            self.meter(*s).uploaded.checked_add(fb).ok_or_else(|| overflow("metered bytes"))?;
        }
        self.meter(owner).retrieved.checked_add(user).ok_or_else(|| overflow("metered bytes"))?;
        for s in sources {
            add(&mut slot(&mut self.meters, *s).uploaded, fb)?;
        }
        add(&mut slot(&mut self.meters, owner).retrieved, user)
    }

    /// Replaces the fragment of `lost` by a new one on `replacement`, rebuilt from `sources`.
    pub fn repair(&mut self, name: &str, lost: PeerId, replacement: PeerId, sources: &[PeerId]) -> EngineResult<()> {
        let rec = self.files.get(name).ok_or_else(|| unknown_file(name))?;
        let fb = rec.fragment_bytes;
        let Some(pos) = rec.holders.iter().position(|h| *h == lost) else {
            return Err(EngineError::InvalidArgument(format!("peer {} holds no fragment of {name:?}", lost.0)));
        };
        for s in sources {
            self.meter(*s).uploaded.checked_add(fb).ok_or_else(|| overflow("metered bytes"))?;
        }
        self.held_bytes(replacement).checked_add(fb).ok_or_else(|| overflow("held bytes"))?;
        self.meter(replacement).downloaded.checked_add(fb).ok_or_else(|| overflow("metered bytes"))?;
        if let Some(rec) = self.files.get_mut(name) {
            if let Some(h) = rec.holders.get_mut(pos) {
                *h = replacement;
            }
        }
        add(slot(&mut self.held, lost), -fb)?;
        add(slot(&mut self.held, replacement), fb)?;
        add(&mut slot(&mut self.meters, replacement).downloaded, fb)?;
        for s in sources {
            add(&mut slot(&mut self.meters, *s).uploaded, fb)?;
        }
        Ok(())
    }

    /// Removes the fragment of `holder` from a file without a replacement (a lost fragment no
    /// peer could take): the file keeps its other n - 1 fragments.
    pub fn drop_fragment(&mut self, name: &str, holder: PeerId) -> EngineResult<()> {
        let rec = self.files.get_mut(name).ok_or_else(|| unknown_file(name))?;
        let pos =
            rec.holders.iter().position(|h| *h == holder).ok_or_else(|| {
                EngineError::InvalidArgument(format!("peer {} holds no fragment of {name:?}", holder.0))
            })?;
        let fb = rec.fragment_bytes;
        rec.holders.remove(pos);
        add(slot(&mut self.held, holder), -fb)
    }

    /// Forgets a file: its holders free the space.
    pub fn delete(&mut self, name: &str) -> EngineResult<FileRecord> {
        let rec = self.files.remove(name).ok_or_else(|| unknown_file(name))?;
        for h in &rec.holders {
            add(slot(&mut self.held, *h), -rec.fragment_bytes)?;
        }
        add(slot(&mut self.owned, rec.owner), -rec.user_bytes())?;
        Ok(rec)
    }

    /// Returns every peer's meter and starts new ones (at settlement).
    pub fn take_meters(&mut self) -> Vec<Meter> {
        std::mem::take(&mut self.meters)
    }

    /// Puts meters back (a settlement that was refused).
    pub fn restore_meters(&mut self, meters: Vec<Meter>) {
        self.meters = meters;
    }

    /// Consistency: held and owned bytes equal what the file records say.
    pub fn check(&self) -> Result<(), String> {
        let mut held: BTreeMap<PeerId, i64> = BTreeMap::new();
        let mut owned: BTreeMap<PeerId, i64> = BTreeMap::new();
        for (name, f) in &self.files {
            let mut seen = std::collections::BTreeSet::new();
            for h in &f.holders {
                if !seen.insert(*h) {
                    return Err(format!("file {name:?} has two fragments on peer {}", h.0));
                }
                *held.entry(*h).or_default() += f.fragment_bytes;
            }
            *owned.entry(f.owner).or_default() += f.user_bytes();
        }
        for (i, v) in self.held.iter().enumerate() {
            let want = held.get(&PeerId(i as u32)).copied().unwrap_or(0);
            if *v != want {
                return Err(format!("peer {i} holds {v} bytes but its fragments sum to {want}"));
            }
        }
        for (i, v) in self.owned.iter().enumerate() {
            let want = owned.get(&PeerId(i as u32)).copied().unwrap_or(0);
            if *v != want {
                return Err(format!("peer {i} stores {v} bytes but its files sum to {want}"));
            }
        }
        Ok(())
    }
}

fn unknown_file(name: &str) -> EngineError {
    EngineError::InvalidArgument(format!("no backed-up file {name:?}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const O: PeerId = PeerId(0);
    const A: PeerId = PeerId(1);
    const B: PeerId = PeerId(2);
    const C: PeerId = PeerId(3);

    #[test]
    fn placement_retrieval_repair_delete_meter_the_right_bytes() {
        let mut f = Fragments::default();
        f.place("x", O, 2, 100, vec![A, B, C]).unwrap();
        assert_eq!((f.held_bytes(A), f.owned_bytes(O)), (100, 200));
        assert_eq!(f.meter(A).downloaded, 100);
        assert_eq!(f.meter(O).backed_up, 200);
        f.retrieve("x", &[A, C]).unwrap();
        assert_eq!((f.meter(A).uploaded, f.meter(B).uploaded, f.meter(O).retrieved), (100, 0, 200));
        f.repair("x", B, PeerId(4), &[A, C]).unwrap();
        assert_eq!(f.held_bytes(B), 0);
        assert_eq!(f.held_bytes(PeerId(4)), 100);
        assert_eq!(f.meter(A).uploaded, 200);
        assert_eq!(f.meter(PeerId(4)).downloaded, 100);
        f.check().unwrap();
        let meters = f.take_meters();
        assert_eq!(meters.len(), 5);
        assert_eq!(f.meter(A), Meter::default(), "new day, new meters");
        let rec = f.delete("x").unwrap();
        assert_eq!(rec.holders, vec![A, PeerId(4), C]);
        assert_eq!((f.held_bytes(A), f.owned_bytes(O)), (0, 0));
        f.check().unwrap();
    }

    #[test]
    fn refusals_change_nothing() {
        let mut f = Fragments::default();
        f.place("x", O, 1, 10, vec![A]).unwrap();
        let before = f.clone();
        assert_eq!(f.place("x", O, 1, 10, vec![B]).unwrap_err().code(), "duplicate_id");
        assert_eq!(f.retrieve("nope", &[A]).unwrap_err().code(), "invalid_argument");
        assert_eq!(f.repair("x", B, C, &[A]).unwrap_err().code(), "invalid_argument");
        assert_eq!(f.place("y", O, 1, i64::MAX, vec![A]).unwrap_err().code(), "overflow");
        assert_eq!(f, before);
    }

    #[test]
    fn a_dropped_fragment_frees_its_holders_space_only() {
        let mut f = Fragments::default();
        f.place("x", O, 2, 100, vec![A, B, C]).unwrap();
        f.drop_fragment("x", B).unwrap();
        assert_eq!(f.file("x").unwrap().holders, vec![A, C]);
        assert_eq!((f.held_bytes(A), f.held_bytes(B), f.held_bytes(C)), (100, 0, 100));
        assert_eq!(f.owned_bytes(O), 200, "the file is still backed up");
        f.check().unwrap();
        assert_eq!(f.drop_fragment("x", B).unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn meters_put_back_after_a_refused_settlement_are_the_days_meters() {
        let mut f = Fragments::default();
        f.place("x", O, 2, 100, vec![A, B, C]).unwrap();
        let meters = f.take_meters();
        assert_eq!(f.meter(A), Meter::default());
        f.restore_meters(meters);
        assert_eq!(f.meter(A).downloaded, 100);
        assert_eq!(f.meter(O).backed_up, 200);
    }

    #[test]
    fn the_consistency_check_finds_bytes_that_do_not_add_up() {
        let mut f = Fragments::default();
        f.place("x", O, 2, 100, vec![A, B, C]).unwrap();
        f.check().unwrap();
        let good = f.clone();
        f.held[A.index()] += 1;
        assert_eq!(f.check().unwrap_err(), "peer 1 holds 101 bytes but its fragments sum to 100");
        let mut f = good.clone();
        f.owned[O.index()] -= 1;
        assert_eq!(f.check().unwrap_err(), "peer 0 stores 199 bytes but its files sum to 200");
        let mut f = good.clone();
        f.files.get_mut("x").unwrap().holders = vec![A, A, C];
        f.held[A.index()] = 200;
        f.held[B.index()] = 0;
        assert_eq!(f.check().unwrap_err(), "file \"x\" has two fragments on peer 1");
    }
}
