//! Snapshots (snapshot.rs, rebuild::load): a start from a snapshot and the commands after it
//! gives the engine a replay of the whole log gives; a corrupt or old-version snapshot is
//! skipped (and reported) for the next older one or the whole log; a restarted server keeps
//! every acknowledged command.

use std::path::Path;
use std::time::Duration;

use peerex_engine::{Command, Engine};
use peerex_server::rebuild;
use peerex_server::settings::Settings;
use peerex_server::snapshot::{self, Snapshot, SnapshotError};
use peerex_server::store::Store;
use serde_json::json;

use crate::on_both;
use crate::support::{fresh_database, offer, Backend, Server, ISSUE, PASSWORD};

fn example_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            example_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "jsonl") {
            out.push(p);
        }
    }
}

/// Every state the repository's examples pass through (exchange, prediction markets,
/// arbitration, resources) encodes and decodes to an equal engine.
#[test]
fn every_example_state_round_trips() {
    let mut files = Vec::new();
    example_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples"), &mut files);
    assert!(files.len() >= 8, "{files:?}");
    let mut states = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut engine = Engine::new();
        let mut out = Vec::new();
        for (i, line) in text.lines().filter(|l| l.trim_start().starts_with('{')).enumerate() {
            if let Ok(cmd) = Command::from_json(line) {
                let _ = engine.apply(cmd, &mut out);
            }
            let s =
                Snapshot { seq: i as i64 + 1, last_at: engine.now(), events: out.len() as u64, engine: engine.clone() };
            let enc = snapshot::encode(&s).unwrap();
            let back = snapshot::decode(&enc.bytes).unwrap_or_else(|e| panic!("{} line {}: {e}", f.display(), i + 1));
            assert!(back == s, "{} after line {}: the decoded engine differs", f.display(), i + 1);
            states += 1;
        }
    }
    assert!(states > 100, "{states}");
}

/// Waits until the server has stored at least `n` snapshots (they are written in the
/// background); their seqs, newest first.
async fn stored(store: &Store, n: usize) -> Vec<i64> {
    for _ in 0..200 {
        let rows = store.snapshots().await.unwrap();
        if rows.len() >= n {
            return rows.iter().map(|r| r.seq).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} snapshots were stored");
}

/// Some trading: funded users, an issue, offers that rest and offers that cross.
async fn trade(s: &Server, users: usize, offers: usize) -> Vec<String> {
    let c = s.client.clone();
    let mut tokens = Vec::new();
    for i in 0..users {
        tokens.push(s.funded(&format!("u{i}"), "1000").await);
    }
    let _ = c.post("/issues", &tokens[0], json!({"issue": ISSUE})).await;
    let mat = s.days_from_now(10).await;
    let mut tasks = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        for j in 0..offers {
            let (c, t, mat) = (c.clone(), t.clone(), mat.clone());
            let kind = if i % 2 == 0 { "buy_fixed" } else { "buy_unfixed" };
            let price = format!("0.{}", 45 + j);
            tasks.push(tokio::spawn(async move { c.post("/offers", &t, offer(kind, &mat, &price, 3)).await }));
        }
    }
    for t in tasks {
        let (st, body) = t.await.unwrap();
        assert_eq!(st, 201, "{body}");
    }
    tokens
}

fn settings(db: peerex_server::settings::Database, every: u64) -> Settings {
    let mut s = Settings::for_tests(db);
    s.snapshot_every = every;
    s
}

async fn load_equals_full_replay_and_skips_bad_snapshots(backend: Backend) {
    let db = fresh_database(backend).await;
    let mut s = Server::start_with(settings(db.clone(), 8)).await;
    trade(&s, 4, 6).await;
    let store = s.running.as_ref().unwrap().state.store.clone();
    stored(&store, 2).await;
    s.stop().await;

    let (store, lock) = Store::open(&db, true).await.unwrap();
    let full = rebuild::replay(&store.load_log().await.unwrap()).unwrap();
    assert!(full.commands > 20, "{}", full.commands);
    let seqs: Vec<i64> = store.snapshots().await.unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs.len(), snapshot::KEEP, "only the newest are kept: {seqs:?}");
    let (newest, older) = (seqs[0], seqs[1]);
    assert!(newest > older && newest <= full.commands as i64);

    let check = |r: &rebuild::Rebuilt| {
        assert!(r.engine == full.engine, "the engine differs from a full replay");
        assert_eq!((r.next_seq, r.last_at, r.commands), (full.next_seq, full.last_at, full.commands));
        assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);
    };
    let from_newest = rebuild::load(&store).await.unwrap();
    assert_eq!(from_newest.snapshot, Some(newest));
    assert!(from_newest.skipped.is_empty());
    check(&from_newest);

    // A flipped byte in the newest: skipped (and reported) for the older one.
    let mut body = store.snapshot_body(newest).await.unwrap().unwrap();
    let mid = body.len() / 2;
    body[mid] ^= 0x01;
    store.overwrite_snapshot_body(newest, &body).await.unwrap();
    let r = rebuild::load(&store).await.unwrap();
    assert_eq!(r.snapshot, Some(older));
    assert_eq!(r.skipped, vec![(newest, SnapshotError::Checksum)]);
    check(&r);

    // The older one from another format version too: both skipped, the whole log replayed.
    let mut body = store.snapshot_body(older).await.unwrap().unwrap();
    body[8..12].copy_from_slice(&0u32.to_le_bytes());
    store.overwrite_snapshot_body(older, &body).await.unwrap();
    let r = rebuild::load(&store).await.unwrap();
    assert_eq!(r.snapshot, None);
    assert_eq!(r.skipped, vec![(newest, SnapshotError::Checksum), (older, SnapshotError::Version { found: 0 })]);
    check(&r);
    store.close().await;
    if let Some(l) = lock {
        l.release().await;
    }

    // A real start skips both too, serves the same state, and writes a good snapshot again.
    s.restart().await;
    assert!(*s.running.as_ref().unwrap().state.shared.engine() == full.engine);
    let t = s.client.login("u0", PASSWORD).await;
    let (st, _) = s.client.post("/offers", &t, offer("buy_fixed", &s.days_from_now(10).await, "0.10", 1)).await;
    assert_eq!(st, 201);
    let store = s.running.as_ref().unwrap().state.store.clone();
    // The start replayed the whole log (no valid snapshot): its first commit writes one (at the
    // same seq as the damaged newest, or after it), which the next start uses.
    let mut r = rebuild::load(&store).await.unwrap();
    for _ in 0..200 {
        if r.skipped.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        r = rebuild::load(&store).await.unwrap();
    }
    assert!(r.skipped.is_empty() && r.snapshot >= Some(newest), "{:?} {:?}", r.snapshot, r.skipped);
    s.stop().await;
    let (store, lock) = Store::open(&db, true).await.unwrap();
    let r = rebuild::load(&store).await.unwrap();
    assert!(r.skipped.is_empty() && r.snapshot >= Some(newest), "{:?} {:?}", r.snapshot, r.skipped);
    let all = rebuild::replay(&store.load_log().await.unwrap()).unwrap();
    assert!(r.engine == all.engine, "after the offer made past the snapshot");
    store.close().await;
    if let Some(l) = lock {
        l.release().await;
    }
}
on_both!(load_equals_full_replay_and_skips_bad_snapshots);

async fn restart_after_snapshots_keeps_every_acknowledged_command(backend: Backend) {
    let db = fresh_database(backend).await;
    let mut s = Server::start_with(settings(db.clone(), 5)).await;
    let tokens = trade(&s, 4, 5).await;
    let before: Vec<_> = {
        let mut v = Vec::new();
        for t in &tokens {
            v.push(s.client.me(t).await);
        }
        v
    };
    let offers = s.running.as_ref().unwrap().state.shared.engine().exchange().offer_count();
    stored(&s.running.as_ref().unwrap().state.store, 1).await;

    for round in 0..2 {
        s.restart().await;
        let running = s.running.as_ref().unwrap();
        assert_eq!(running.state.shared.engine().exchange().offer_count(), offers, "round {round}");
        for (i, b) in before.iter().enumerate() {
            let t = s.client.login(&format!("u{i}"), PASSWORD).await;
            assert_eq!(&s.client.me(&t).await, b, "round {round}, u{i}");
        }
    }
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(restart_after_snapshots_keeps_every_acknowledged_command);
