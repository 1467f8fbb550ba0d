//! Snapshots of the engine: the state after the command `seq`, so that a start replays only the
//! commands after it instead of the whole log (docs/server.md, "Snapshots").
//!
//! A snapshot is a header and a body:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `PEEREXSN` |
//! | 4 | format version (u32, little endian), [`FORMAT_VERSION`] |
//! | 32 | engine fingerprint: SHA-256 of the encoded state of a probe engine ([`fingerprint`]) |
//! | 8 | seq of the last command the state includes (i64) |
//! | 8 | body length (u64) |
//! | 32 | checksum: SHA-256 of the body, then of all of the above |
//! | n | body: MessagePack (named fields; each offer a row of its fields) of the engine, the time of the last command and the event count |
//!
//! [`decode`] trusts nothing: a wrong magic, another format version, a wrong length or checksum,
//! another engine's fingerprint, or a body that does not decode is a typed [`SnapshotError`],
//! and the start (`rebuild::load`) then skips that snapshot. The fingerprint changes whenever
//! the engine's state layout or its behaviour on the probe commands changes, so a snapshot of
//! an older engine is never loaded into a newer one (it replays the log instead, then writes
//! a new snapshot).
//!
//! The body comes before the header in the checksum so that a snapshot can be encoded in parts
//! ([`encode_parts`]) and stored as it is encoded: the header, which holds the body's length
//! and the checksum, is made last. Writing them is `snapshot_task.rs`: it encodes the readers'
//! engine part by part into the database, so neither a third engine nor the whole body is ever
//! in memory.

use std::sync::OnceLock;

use peerex_engine::{Command, Engine, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::SnapshotRow;

pub const MAGIC: [u8; 8] = *b"PEEREXSN";
/// The layout of header and body. Bump it when either changes. 2: the checksum hashes the body
/// first (so that it can be computed as the body is written).
pub const FORMAT_VERSION: u32 = 2;
/// Snapshots kept in the database: the newest, and one older in case the newest is damaged.
pub const KEEP: usize = 2;
const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 8 + 32;
const CHECKSUM_AT: usize = HEADER_LEN - 32;

/// The engine's state after the command `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: i64,
    /// Time of the last logged command (the writer never stamps earlier).
    pub last_at: Option<Timestamp>,
    /// Events the commands up to `seq` emitted.
    pub events: u64,
    pub engine: Engine,
}

#[derive(Serialize)]
struct BodyRef<'a> {
    last_at: Option<Timestamp>,
    events: u64,
    engine: &'a Engine,
}

#[derive(Deserialize)]
struct Body {
    last_at: Option<Timestamp>,
    events: u64,
    engine: Engine,
}

/// Why a snapshot was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("truncated: {0} bytes, shorter than its header or its stated length")]
    Truncated(usize),
    #[error("not a peerex snapshot (wrong magic)")]
    BadMagic,
    #[error("format version {found}, this server reads version {FORMAT_VERSION}")]
    Version { found: u32 },
    #[error("checksum mismatch: the snapshot is corrupt")]
    Checksum,
    #[error("written by another engine (its state fingerprint differs from this build's)")]
    OtherEngine,
    #[error("the header says seq {found}, its row says {expected}")]
    Seq { found: i64, expected: i64 },
    #[error("it includes commands up to seq {seq}, but the log ends at {last}")]
    AheadOfLog { seq: i64, last: i64 },
    #[error("the body does not decode: {0}")]
    Body(String),
    #[error("encoding failed: {0}")]
    Encode(String),
}

impl SnapshotError {
    /// A stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::Truncated(_) => "truncated",
            SnapshotError::BadMagic => "bad_magic",
            SnapshotError::Version { .. } => "old_version",
            SnapshotError::Checksum => "bad_checksum",
            SnapshotError::OtherEngine => "other_engine",
            SnapshotError::Seq { .. } => "wrong_seq",
            SnapshotError::AheadOfLog { .. } => "ahead_of_log",
            SnapshotError::Body(_) => "bad_body",
            SnapshotError::Encode(_) => "encode_failed",
        }
    }
}

/// An encoded snapshot and its checksum (hex, also stored in its row).
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub checksum: String,
}

/// Encodes a snapshot in memory (CPU-bound: run it on a blocking thread for a large engine).
pub fn encode(s: &Snapshot) -> Result<Encoded, SnapshotError> {
    let body = BodyRef { last_at: s.last_at, events: s.events, engine: &s.engine };
    encode_as(&body, s.seq, FORMAT_VERSION, fingerprint())
}

fn encode_as(body: &BodyRef<'_>, seq: i64, version: u32, fingerprint: &[u8; 32]) -> Result<Encoded, SnapshotError> {
    let mut parts = Vec::new();
    let header = parts_as(body, seq, version, fingerprint, usize::MAX, |p| {
        parts.push(p);
        Ok(Vec::new())
    })?;
    let mut bytes = header.bytes;
    bytes.reserve(parts.iter().map(Vec::len).sum());
    for p in parts {
        bytes.extend_from_slice(&p);
    }
    Ok(Encoded { bytes, checksum: header.checksum })
}

/// Encodes the state of `engine` after the command `seq` without owning it, in parts: `part`
/// receives the body in pieces of `part_size` bytes (the last one shorter), in order, as they
/// are encoded, and gives back a buffer to fill next (one it is done with, so that a few
/// buffers serve the whole body; any contents are cleared); the header comes back at the end
/// (it holds the body's length and the checksum). The snapshot is the header, then the parts.
/// An error from `part` stops the encode.
pub fn encode_parts(
    seq: i64,
    last_at: Option<Timestamp>,
    events: u64,
    engine: &Engine,
    part_size: usize,
    part: impl FnMut(Vec<u8>) -> std::io::Result<Vec<u8>>,
) -> Result<Encoded, SnapshotError> {
    parts_as(&BodyRef { last_at, events, engine }, seq, FORMAT_VERSION, fingerprint(), part_size, part)
}

/// Collects the body into parts, hashing each part as it is handed over (the encoder writes a
/// few bytes at a time; hashing every such write cost more than the encode itself).
struct Parts<F> {
    part: F,
    size: usize,
    buf: Vec<u8>,
    hash: Sha256,
    len: u64,
}

impl<F: FnMut(Vec<u8>) -> std::io::Result<Vec<u8>>> Parts<F> {
    fn flush_part(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.hash.update(&self.buf);
        let full = std::mem::take(&mut self.buf);
        self.buf = (self.part)(full)?;
        self.buf.clear();
        self.buf.reserve(self.size.min(1 << 24));
        Ok(())
    }
}

impl<F: FnMut(Vec<u8>) -> std::io::Result<Vec<u8>>> std::io::Write for Parts<F> {
    fn write(&mut self, mut data: &[u8]) -> std::io::Result<usize> {
        let n = data.len();
        self.len += n as u64;
        if n < self.size - self.buf.len() {
            self.buf.extend_from_slice(data);
            return Ok(n);
        }
        while !data.is_empty() {
            let take = (self.size - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == self.size {
                self.flush_part()?;
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn parts_as(
    body: &BodyRef<'_>,
    seq: i64,
    version: u32,
    fingerprint: &[u8; 32],
    part_size: usize,
    part: impl FnMut(Vec<u8>) -> std::io::Result<Vec<u8>>,
) -> Result<Encoded, SnapshotError> {
    let size = part_size.max(1);
    let mut w = Parts { part, size, buf: Vec::with_capacity(size.min(1 << 24)), hash: Sha256::new(), len: 0 };
    rmp_serde::encode::write_named(&mut w, body).map_err(|e| SnapshotError::Encode(e.to_string()))?;
    w.flush_part().map_err(|e| SnapshotError::Encode(e.to_string()))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(fingerprint);
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(&w.len.to_le_bytes());
    let mut h = w.hash;
    h.update(&bytes);
    let sum: [u8; 32] = h.finalize().into();
    bytes.extend_from_slice(&sum);
    Ok(Encoded { bytes, checksum: hex::encode(sum) })
}

/// SHA-256 of the body, then of the header without its checksum field.
fn checksum(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(&bytes[HEADER_LEN..]);
    h.update(&bytes[..CHECKSUM_AT]);
    h.finalize().into()
}

/// The header's fields, read without trusting them.
fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

/// Decodes and verifies a snapshot: magic, format version, length, checksum, fingerprint,
/// then the body.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    decode_with(bytes, fingerprint())
}

fn decode_with(bytes: &[u8], fingerprint: &[u8; 32]) -> Result<Snapshot, SnapshotError> {
    if bytes.len() < 12 {
        return Err(SnapshotError::Truncated(bytes.len()));
    }
    if bytes[..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    // The version first: it says how to read the rest.
    let found = u32::from_le_bytes(field(bytes, 8));
    if found != FORMAT_VERSION {
        return Err(SnapshotError::Version { found });
    }
    if bytes.len() < HEADER_LEN {
        return Err(SnapshotError::Truncated(bytes.len()));
    }
    let len = u64::from_le_bytes(field(bytes, CHECKSUM_AT - 8));
    if (bytes.len() - HEADER_LEN) as u64 != len {
        return Err(SnapshotError::Truncated(bytes.len()));
    }
    let same_engine = field::<32>(bytes, 12) == *fingerprint;
    let decode = || rmp_serde::from_slice::<Body>(&bytes[HEADER_LEN..]);
    let sum_matches = || checksum(bytes) == field::<32>(bytes, CHECKSUM_AT);
    // The checksum on a second thread while the body decodes (a 500 MB body: 0.3 s of SHA-256
    // beside 2.5 s of decoding). Decoding unverified bytes is safe: a bad body is an error, and
    // its result is only used if the checksum then matches.
    let (sum_ok, body) = std::thread::scope(|s| {
        let sum = std::thread::Builder::new().name("snapshot-checksum".into()).spawn_scoped(s, sum_matches);
        let body = same_engine.then(decode);
        let sum_ok = match sum {
            Ok(handle) => handle.join().unwrap_or(false),
            // No thread to be had: check it here.
            Err(_) => sum_matches(),
        };
        (sum_ok, body)
    });
    if !sum_ok {
        return Err(SnapshotError::Checksum);
    }
    let Some(body) = body else {
        return Err(SnapshotError::OtherEngine);
    };
    let body = body.map_err(|e| SnapshotError::Body(e.to_string()))?;
    let seq = i64::from_le_bytes(field(bytes, 44));
    Ok(Snapshot { seq, last_at: body.last_at, events: body.events, engine: body.engine })
}

/// [`decode`], and checks the snapshot against its row (seq, checksum).
pub fn decode_row(row: &SnapshotRow, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let s = decode(bytes)?;
    if s.seq != row.seq {
        return Err(SnapshotError::Seq { found: s.seq, expected: row.seq });
    }
    if hex::encode(field::<32>(bytes, CHECKSUM_AT)) != row.checksum {
        return Err(SnapshotError::Checksum);
    }
    Ok(s)
}

/// Commands the probe engine of [`fingerprint`] applies: the repository's replay examples
/// without their last third (so that books, holds, markets and cases are still open).
const PROBE: &[&str] = &[
    include_str!("../../../examples/exchange/adam-beth-fixed.jsonl"),
    include_str!("../../../examples/exchange/beth-charles-resale.jsonl"),
    include_str!("../../../examples/exchange/market-maker.jsonl"),
    include_str!("../../../examples/exchange/arbitrated-statement.jsonl"),
    include_str!("../../../examples/exchange/dispute.jsonl"),
    include_str!("../../../examples/prediction.jsonl"),
];

/// This build's engine fingerprint: SHA-256 of the format version and the encoded state of a
/// probe engine (the examples' commands). Another state layout, or another result of the same
/// commands, gives another fingerprint.
pub fn fingerprint() -> &'static [u8; 32] {
    static F: OnceLock<[u8; 32]> = OnceLock::new();
    F.get_or_init(|| {
        let mut h = Sha256::new();
        h.update(MAGIC);
        h.update(FORMAT_VERSION.to_le_bytes());
        for file in PROBE {
            let mut engine = Engine::new();
            let lines: Vec<&str> = file.lines().filter(|l| l.trim_start().starts_with('{')).collect();
            let mut out = Vec::new();
            for line in &lines[..lines.len() * 2 / 3] {
                if let Ok(cmd) = Command::from_json(line) {
                    let _ = engine.apply(cmd, &mut out);
                }
            }
            let mut bytes = Vec::new();
            // Encoding an engine into memory does not fail; if it ever did, the fingerprint
            // would still differ from any real one.
            let _ = rmp_serde::encode::write_named(&mut bytes, &engine);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        h.finalize().into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut e = Engine::new();
        let mut out = Vec::new();
        for line in PROBE[2].lines().chain(PROBE[5].lines()).filter(|l| l.starts_with('{')).take(12) {
            let _ = e.apply(Command::from_json(line).unwrap(), &mut out);
        }
        e
    }

    fn snapshot() -> Snapshot {
        let engine = engine();
        Snapshot { seq: 42, last_at: engine.now(), events: 7, engine }
    }

    #[test]
    fn round_trips_to_an_equal_engine() {
        let s = snapshot();
        assert!(s.engine.user_count() > 0, "the test engine has state");
        let enc = encode(&s).unwrap();
        assert_eq!(&enc.bytes[..8], b"PEEREXSN");
        assert_eq!(enc.checksum.len(), 64);
        let back = decode(&enc.bytes).unwrap();
        assert_eq!(back, s);
        let row =
            SnapshotRow { seq: 42, version: FORMAT_VERSION as i32, checksum: enc.checksum.clone(), created_at: 0 };
        assert_eq!(decode_row(&row, &enc.bytes).unwrap(), s);
        let other = SnapshotRow { seq: 41, ..row.clone() };
        assert_eq!(decode_row(&other, &enc.bytes), Err(SnapshotError::Seq { found: 42, expected: 41 }));
        let bad_sum = SnapshotRow { checksum: "00".repeat(32), ..row };
        assert_eq!(decode_row(&bad_sum, &enc.bytes), Err(SnapshotError::Checksum));
    }

    /// Every state the examples pass through (exchange, arbitration, disputes, prediction
    /// markets, the resource market) comes back equal, after each command: a field the encoding
    /// drops or reads back differently would show here, not only in a large restart.
    #[test]
    fn every_state_of_the_examples_round_trips() {
        let resources = include_str!("../../../examples/resources/backup-and-settle.jsonl");
        let rest = [
            include_str!("../../../examples/exchange/adam-beth-unfixed.jsonl"),
            include_str!("../../../examples/exchange/rejections.jsonl"),
        ];
        for file in PROBE.iter().chain(&rest).chain([&resources]) {
            let mut engine = Engine::new();
            let mut out = Vec::new();
            for (n, line) in file.lines().filter(|l| l.trim_start().starts_with('{')).enumerate() {
                // The rejections example has commands that do not parse: they change nothing.
                if let Ok(cmd) = Command::from_json(line) {
                    let _ = engine.apply(cmd, &mut out);
                }
                let s = Snapshot { seq: n as i64 + 1, last_at: engine.now(), events: out.len() as u64, engine };
                let back = decode(&encode(&s).unwrap().bytes).unwrap();
                assert_eq!(back, s, "after line {} of an example", n + 1);
                engine = s.engine;
            }
        }
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let enc = encode(&snapshot()).unwrap().bytes;
        // Every byte of the header and a spread of the body's.
        let step = (enc.len() / 200).max(1);
        for i in (0..HEADER_LEN).chain((HEADER_LEN..enc.len()).step_by(step)) {
            let mut bad = enc.clone();
            bad[i] ^= 0x55;
            let err = decode(&bad).expect_err("a flipped byte must be refused");
            let expected = match i {
                0..8 => SnapshotError::BadMagic,
                8..12 => SnapshotError::Version { found: u32::from_le_bytes(field(&bad, 8)) },
                // The length no longer matches the size.
                52..60 => SnapshotError::Truncated(bad.len()),
                // Fingerprint, seq, the checksum itself and the body: all under the checksum.
                _ => SnapshotError::Checksum,
            };
            assert_eq!(err, expected, "byte {i}");
        }
    }

    #[test]
    fn truncated_other_version_and_other_engine_are_refused() {
        let s = snapshot();
        let enc = encode(&s).unwrap().bytes;
        for n in [0, 5, 11, 12, HEADER_LEN - 1, HEADER_LEN, enc.len() - 1] {
            assert_eq!(decode(&enc[..n]).unwrap_err(), SnapshotError::Truncated(n), "{n} bytes");
        }
        let body = || BodyRef { last_at: s.last_at, events: s.events, engine: &s.engine };
        let old = encode_as(&body(), s.seq, 0, fingerprint()).unwrap().bytes;
        assert_eq!(decode(&old).unwrap_err(), SnapshotError::Version { found: 0 });
        assert_eq!(decode(&old).unwrap_err().code(), "old_version");
        let other = encode_as(&body(), s.seq, FORMAT_VERSION, &[7; 32]).unwrap().bytes;
        assert_eq!(decode(&other).unwrap_err(), SnapshotError::OtherEngine);
        assert!(decode_with(&other, &[7; 32]).is_ok());
        assert_eq!(decode(b"SQLite format 3\0 and more").unwrap_err(), SnapshotError::BadMagic);
    }

    #[test]
    fn a_body_that_does_not_decode_is_refused_even_with_a_right_checksum() {
        let mut bytes = encode(&snapshot()).unwrap().bytes;
        bytes.truncate(HEADER_LEN);
        bytes.extend_from_slice(b"\x81\x01"); // MessagePack [1]: no engine
        let len = (bytes.len() - HEADER_LEN) as u64;
        bytes[CHECKSUM_AT - 8..CHECKSUM_AT].copy_from_slice(&len.to_le_bytes());
        let sum = checksum(&bytes);
        bytes[CHECKSUM_AT..HEADER_LEN].copy_from_slice(&sum);
        assert!(matches!(decode(&bytes), Err(SnapshotError::Body(_))));
    }

    /// In parts of any size, the header then the parts are the bytes `encode` gives; a part
    /// that cannot be stored stops the encode with an error.
    #[test]
    fn parts_join_to_the_encoded_snapshot() {
        let s = snapshot();
        let whole = encode(&s).unwrap();
        let body_len = whole.bytes.len() - HEADER_LEN;
        for size in [1, 7, 1000, body_len - 1, body_len, body_len + 1, usize::MAX] {
            let mut parts = Vec::new();
            let header = encode_parts(s.seq, s.last_at, s.events, &s.engine, size, |p| {
                parts.push(p);
                // A used buffer back: its old bytes must not leak into the next part.
                Ok(vec![0xAA; 3])
            })
            .unwrap();
            assert_eq!(header.bytes.len(), HEADER_LEN);
            assert_eq!(header.checksum, whole.checksum);
            assert!(parts.iter().all(|p| !p.is_empty() && p.len() <= size), "size {size}");
            assert!(parts[..parts.len() - 1].iter().all(|p| p.len() == size), "size {size}");
            assert_eq!(parts.len(), body_len.div_ceil(size.min(body_len)), "size {size}");
            let joined: Vec<u8> = header.bytes.iter().copied().chain(parts.concat()).collect();
            assert_eq!(joined, whole.bytes, "size {size}");
            assert_eq!(decode(&joined).unwrap(), s);
        }
        let mut calls = 0;
        let err = encode_parts(s.seq, s.last_at, s.events, &s.engine, 100, |_| {
            calls += 1;
            Err(std::io::Error::other("the database went away"))
        });
        assert!(matches!(err, Err(SnapshotError::Encode(_))), "{:?}", err.err());
        assert_eq!(calls, 1, "the encode stops at the first failed part");
    }

    #[test]
    fn the_fingerprint_is_stable_within_a_build_and_covers_state() {
        assert_eq!(fingerprint(), fingerprint());
        assert_ne!(fingerprint(), &[0; 32]);
    }
}
