//! Writing snapshots (the format is snapshot.rs): every `snapshot_every` commands the writer,
//! at the end of a batch, starts a blocking task that encodes the readers' engine under its
//! read lock (reads go on beside it), in parts of [`PART`] bytes that an async task stores as
//! they come (a few at a time, each few their own short transaction; the header and the row
//! last, in one). While
//! the encode runs, the writer goes on applying, committing and answering batches but holds
//! them back from the readers' engine; it applies them as soon as the encode is done. So there
//! is no third engine and no whole body in memory (a few parts at most) and no clone. The cost:
//! until then, the readers' engine is behind the log, so the reads of a user who wrote
//! meanwhile wait for it (`Shared::unread_write`: each user reads its own writes), and
//! everyone else reads the state as of the snapshot's seq (docs/server.md, "Snapshots").
//!
//! Below the writer (which owns a [`Snapshots`]) and above `shared` and `store`.

use std::sync::Arc;

use peerex_engine::Timestamp;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::shared::Shared;
use crate::snapshot::{self, Encoded, SnapshotError, FORMAT_VERSION};
use crate::store::{SnapshotRow, Store};

/// A part of a snapshot's body: the encode hands it to the store and goes on (one row of
/// `snapshot_parts`; a transaction stores `PARTS_PER_TRANSACTION` of them).
pub const PART: usize = 64 << 10;
/// Parts stored in one transaction (8 MiB).
const PARTS_PER_TRANSACTION: usize = 128;
/// Parts encoded but not yet stored, at most (then the encode waits for the store): with the
/// ones being stored, the memory a snapshot takes is a few transactions' worth.
const PARTS_IN_FLIGHT: usize = 2 * PARTS_PER_TRANSACTION;

/// The writer's snapshot schedule and the snapshot being made.
#[derive(Debug)]
pub struct Snapshots {
    every: u64,
    /// The seq of the last snapshot started (or stored when the process started).
    last: i64,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    /// Answers (or closes) once the encode no longer reads the readers' engine; `None` then.
    encoding: Option<oneshot::Receiver<()>>,
    /// The whole task: encode, then store.
    task: JoinHandle<()>,
}

/// The readers' engine as of a batch end: the command `seq` was its last, at `last_at`, and the
/// commands up to it emitted `events` events.
#[derive(Clone, Copy, Debug)]
pub struct At {
    pub seq: i64,
    pub last_at: Option<Timestamp>,
    pub events: u64,
}

impl Snapshots {
    /// `last`: the seq of the newest stored snapshot (0 if none).
    pub fn new(every: u64, last: i64) -> Snapshots {
        Snapshots { every, last, running: None }
    }

    /// Whether a snapshot at `seq` is due.
    pub fn due(&self, seq: i64) -> bool {
        self.every > 0 && seq.saturating_sub(self.last) >= self.every as i64
    }

    /// Whether an encode is reading the readers' engine now (then the writer holds its
    /// batches back from it).
    pub fn encoding(&mut self) -> bool {
        let Some(rx) = self.running.as_mut().and_then(|r| r.encoding.as_mut()) else {
            return false;
        };
        if matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)) {
            return true;
        }
        self.encode_done();
        false
    }

    /// Resolves once the encode in progress is done; never, if none is.
    pub async fn encoded(&mut self) {
        match self.running.as_mut().and_then(|r| r.encoding.as_mut()) {
            Some(rx) => {
                let _ = rx.await;
                self.encode_done();
            }
            None => std::future::pending().await,
        }
    }

    /// Forgets the finished encode's signal (the store may still be going on).
    fn encode_done(&mut self) {
        if let Some(r) = self.running.as_mut() {
            r.encoding = None;
        }
    }

    /// At a batch end, with every committed batch applied to the readers' engine: starts a
    /// snapshot of it if one is due and the last one is stored (snapshots never queue up: the
    /// next batch end tries again).
    pub fn committed(&mut self, store: &Store, shared: &Arc<Shared>, at: At) {
        if !self.due(at.seq) || self.running.as_ref().is_some_and(|r| !r.task.is_finished()) {
            return;
        }
        self.last = at.seq;
        let (done, encoding) = oneshot::channel();
        let (store, shared) = (store.clone(), shared.clone());
        let task = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let stored = store_in_parts(&store, at, move |part| {
                let gate = shared.snapshot_gate.read().unwrap_or_else(|e| e.into_inner());
                let engine = shared.engine();
                let header = snapshot::encode_parts(at.seq, at.last_at, at.events, &engine, PART, part);
                drop((engine, gate));
                let _ = done.send(());
                header
            })
            .await;
            match stored {
                Ok(s) => tracing::info!(
                    "snapshot at seq {} stored ({} bytes in {} parts, {} ms)",
                    at.seq,
                    s.bytes,
                    s.parts,
                    started.elapsed().as_millis()
                ),
                Err(e) => tracing::warn!("snapshot at seq {} not stored: {e:#}", at.seq),
            }
        });
        self.running = Some(Running { encoding: Some(encoding), task });
    }
}

/// What [`store_in_parts`] stored: the body's parts and bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    pub parts: i32,
    pub bytes: usize,
}

/// Stores the snapshot at `at.seq` as `encode` makes it: `encode` runs on a blocking thread and
/// hands each part to the function it is given (which waits while `PARTS_IN_FLIGHT` parts
/// wait for the database, fails once storing has failed, and gives back a buffer already
/// stored when there is one, so that few buffers are allocated); the parts are stored as they
/// come, then the header and the row (`Store::begin_snapshot`, `snapshot_parts`,
/// `finish_snapshot`).
pub async fn store_in_parts<F>(store: &Store, at: At, encode: F) -> anyhow::Result<Stored>
where
    F: FnOnce(&mut dyn FnMut(Vec<u8>) -> std::io::Result<Vec<u8>>) -> Result<Encoded, SnapshotError> + Send + 'static,
{
    let (tx, mut parts) = mpsc::channel::<Vec<u8>>(PARTS_IN_FLIGHT);
    let (stored_tx, stored_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let encode = tokio::task::spawn_blocking(move || {
        encode(&mut |part| {
            tx.blocking_send(part).map_err(|_| std::io::Error::other("the snapshot's store stopped"))?;
            Ok(stored_rx.try_recv().unwrap_or_default())
        })
    });
    let stored = async {
        store.begin_snapshot(at.seq).await?;
        let mut s = Stored { parts: 0, bytes: 0 };
        let mut group = Vec::with_capacity(PARTS_PER_TRANSACTION);
        while parts.recv_many(&mut group, PARTS_PER_TRANSACTION).await > 0 {
            store.snapshot_parts(at.seq, s.parts + 1, &group).await?;
            s.parts += group.len() as i32;
            for part in group.drain(..) {
                s.bytes += part.len();
                let _ = stored_tx.send(part);
            }
        }
        anyhow::Ok(s)
    }
    .await;
    // A failed store drops the receiver: the encode stops at its next part.
    drop(parts);
    // The store's error first: the encode's is then only that the store stopped.
    let header = encode.await?;
    let stored = stored?;
    let header = header?;
    let row = SnapshotRow {
        seq: at.seq,
        version: FORMAT_VERSION as i32,
        checksum: header.checksum.clone(),
        created_at: Clock::wall_ms(),
    };
    store.finish_snapshot(&row, &header.bytes, stored.parts, snapshot::KEEP).await?;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_waits_for_every_commands() {
        let s = Snapshots::new(100, 0);
        assert!(!s.due(99) && s.due(100) && s.due(250));
        let s = Snapshots::new(100, 250);
        assert!(!s.due(300) && s.due(350));
        assert!(!Snapshots::new(0, 0).due(1_000_000), "0 means never");
    }

    #[tokio::test]
    async fn encoding_until_the_task_says_done() {
        let mut s = Snapshots::new(1, 0);
        assert!(!s.encoding(), "nothing running");
        let (tx, rx) = oneshot::channel();
        s.running = Some(Running { encoding: Some(rx), task: tokio::spawn(async {}) });
        assert!(s.encoding());
        tx.send(()).unwrap();
        assert!(!s.encoding());
        assert!(s.running.as_ref().unwrap().encoding.is_none());
        // A task that died without saying so counts as done too.
        let (tx, rx) = oneshot::channel::<()>();
        s.running = Some(Running { encoding: Some(rx), task: tokio::spawn(async {}) });
        drop(tx);
        s.encoded().await;
        assert!(!s.encoding());
    }
}
