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
        assert_eq!(r.events, full.events, "the events the snapshot counts and the tail's");
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

/// A snapshot encodes the readers' engine while the writer goes on: the batches it commits
/// meanwhile are answered at once and reach the readers' engine after the encode, and each
/// user's reads wait for that user's own writes, so every answered offer is at once in the
/// answerer's own list. With a snapshot after every command, most batches meet an encode in
/// progress.
async fn each_user_reads_its_own_writes_while_a_snapshot_encodes(backend: Backend) {
    let db = fresh_database(backend).await;
    let mut s = Server::start_with(settings(db.clone(), 1)).await;
    let mut tokens = Vec::new();
    for i in 0..6 {
        tokens.push(s.funded(&format!("u{i}"), "1000").await);
    }
    let _ = s.client.post("/issues", &tokens[0], json!({"issue": ISSUE})).await;
    let mat = s.days_from_now(10).await;
    let mut tasks = Vec::new();
    for t in tokens {
        let (c, mat) = (s.client.clone(), mat.clone());
        tasks.push(tokio::spawn(async move {
            for n in 1..=15 {
                let (st, body) = c.post("/offers", &t, offer("buy_fixed", &mat, "0.40", 1)).await;
                assert_eq!(st, 201, "{body}");
                let (st, open) = c.get("/offers?status=open", &t).await;
                assert_eq!(st, 200, "{open}");
                assert_eq!(open.as_array().unwrap().len(), n, "an answered offer is readable at once");
            }
        }));
    }
    // Sign-ups of one name at once, while offers keep snapshots coming: one account each
    // (a name taken in a batch still held back counts as taken), and the writer keeps going.
    for round in 0..10 {
        let mut signups = Vec::new();
        for _ in 0..4 {
            let c = s.client.clone();
            let body = json!({"name": format!("twin{round}"), "password": PASSWORD});
            signups.push(tokio::spawn(async move { c.call(reqwest::Method::POST, "/users", None, Some(body)).await }));
        }
        let mut created = 0;
        for t in signups {
            let (st, body) = t.await.unwrap();
            assert!(st == 201 || st == 409, "{st} {body}");
            created += usize::from(st == 201);
        }
        assert_eq!(created, 1, "round {round}");
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(s.running.as_ref().unwrap().state.shared.is_healthy());
    let store = s.running.as_ref().unwrap().state.store.clone();
    let newest = stored(&store, 1).await[0];
    s.stop().await;
    let (store, lock) = Store::open(&db, true).await.unwrap();
    let full = rebuild::replay(&store.load_log().await.unwrap()).unwrap();
    let r = rebuild::load(&store).await.unwrap();
    assert!(r.snapshot >= Some(newest) && r.skipped.is_empty(), "{:?} {:?}", r.snapshot, r.skipped);
    assert!(r.engine == full.engine, "the engine differs from a full replay");
    assert_eq!((r.next_seq, r.events), (full.next_seq, full.events));
    store.close().await;
    if let Some(l) = lock {
        l.release().await;
    }
}
on_both!(each_user_reads_its_own_writes_while_a_snapshot_encodes);

/// Within `secs`, or the test fails (instead of hanging) naming what never came.
async fn within<T>(secs: u64, what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f).await.unwrap_or_else(|_| panic!("{what}: no answer in {secs} s"))
}

/// While a snapshot's encode is held open (the test takes the gate it passes first), writes
/// are still answered at once, with a `Peerex-Seq` that names them; the writer's own reads
/// wait until the readers' engine has its writes, and then see them; another user reads at
/// once (the state as of the snapshot); a session made meanwhile works at once.
async fn answers_do_not_wait_for_a_snapshot_encode(backend: Backend) {
    let db = fresh_database(backend).await;
    let mut s = Server::start_with(settings(db.clone(), 1)).await;
    let (adam, beth) = (s.funded("adam", "1000").await, s.funded("beth", "1000").await);
    let _ = s.user("cleo").await;
    let _ = s.client.post("/issues", &adam, json!({"issue": ISSUE})).await;
    let mat = s.days_from_now(10).await;
    let shared = s.running.as_ref().unwrap().state.shared.clone();
    let url = format!("{}/api/v1/offers", s.client.base);

    // The gate, held on a thread of its own until `release` says.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (taken, is_taken) = tokio::sync::oneshot::channel();
    let sh = shared.clone();
    let gate = tokio::task::spawn_blocking(move || {
        let _gate = sh.snapshot_gate.write().unwrap();
        taken.send(()).unwrap();
        let _ = released.recv();
    });
    is_taken.await.unwrap();
    // Offers until one commits while an encode waits at the gate (the one before it started
    // that snapshot; one already storing makes the next batch end try again).
    let mut placed = 0;
    let mut held_seq = None;
    for _ in 0..50 {
        let resp = within(10, "an offer while an encode is held", async {
            s.client.http.post(&url).bearer_auth(&adam).json(&offer("buy_fixed", &mat, "0.40", 1)).send().await.unwrap()
        })
        .await;
        assert_eq!(resp.status().as_u16(), 201);
        placed += 1;
        let seq: i64 = resp.headers()["peerex-seq"].to_str().unwrap().parse().unwrap();
        if shared.cluster.applied() < seq {
            held_seq = Some(seq);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seq = held_seq.expect("no write was held back for an encode");
    assert!(shared.cluster.written() >= seq);

    // The writer's own read waits for its writes...
    let c = s.client.clone();
    let adam2 = adam.clone();
    let own = tokio::spawn(async move { c.get("/offers?status=open", &adam2).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!own.is_finished(), "a read returned without the user's own held write");
    // ... while another user reads and writes at once, and a new session works at once.
    let (st, book) = within(10, "another user's read", s.client.get("/offers?status=open", &beth)).await;
    assert_eq!((st, book.as_array().map(Vec::len)), (200, Some(0)), "{book}");
    let (st, body) =
        within(10, "another user's write", s.client.post("/offers", &beth, offer("buy_unfixed", &mat, "0.30", 1)))
            .await;
    assert_eq!(st, 201, "{body}");
    let cleo = within(10, "a log-in", s.client.login("cleo", PASSWORD)).await;
    let (st, body) =
        within(10, "a write with the new session", s.client.post("/issues", &cleo, json!({"issue": "demo/app#2"})))
            .await;
    assert_eq!(st, 201, "{body}");
    assert!(!own.is_finished());
    assert!(shared.cluster.applied() < seq, "the readers' engine stayed behind while the encode was held");

    release.send(()).unwrap();
    gate.await.unwrap();
    let (st, open) = within(30, "the waiting read after the encode", own).await.unwrap();
    assert_eq!(st, 200, "{open}");
    assert_eq!(open.as_array().unwrap().len(), placed, "the user's own writes, all of them");
    assert!(shared.cluster.applied() >= seq);
    assert!(shared.unread.lock().unwrap().is_empty(), "nothing left to wait for");
    assert_eq!(
        within(10, "beth's own read", s.client.get("/offers?status=open", &beth)).await.1.as_array().unwrap().len(),
        1
    );
    s.stop().await;
    let report = peerex_server::check(&db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(answers_do_not_wait_for_a_snapshot_encode);

/// Stored part by part (the snapshot task's way), a snapshot is invisible until its header and
/// row are in; parts of one never finished are removed by the next; the joined parts decode.
async fn a_snapshot_stored_in_parts_is_seen_only_when_finished(backend: Backend) {
    let db = fresh_database(backend).await;
    let (store, lock) = Store::open(&db, true).await.unwrap();
    let engine = {
        let mut e = Engine::new();
        let mut out = Vec::new();
        let text = include_str!("../../../../examples/exchange/adam-beth-fixed.jsonl");
        for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
            let _ = e.apply(Command::from_json(line).unwrap(), &mut out);
        }
        e
    };
    let mut parts = Vec::new();
    let header = snapshot::encode_parts(7, engine.now(), 3, &engine, 64, |p| {
        parts.push(p);
        Ok(Vec::new())
    })
    .unwrap();
    assert!(parts.len() > 3, "{} parts", parts.len());
    let row = peerex_server::store::SnapshotRow {
        seq: 7,
        version: snapshot::FORMAT_VERSION as i32,
        checksum: header.checksum.clone(),
        created_at: 0,
    };
    // One abandoned half-way, then a whole one at the same seq.
    store.begin_snapshot(7).await.unwrap();
    store.snapshot_parts(7, 1, &parts[..1]).await.unwrap();
    assert!(store.snapshots().await.unwrap().is_empty());
    assert_eq!(store.snapshot_body(7).await.unwrap(), None);
    store.begin_snapshot(7).await.unwrap();
    for (i, two) in parts.chunks(2).enumerate() {
        store.snapshot_parts(7, 2 * i as i32 + 1, two).await.unwrap();
        assert!(store.snapshots().await.unwrap().is_empty(), "not before the header");
    }
    store.finish_snapshot(&row, &header.bytes, parts.len() as i32, snapshot::KEEP).await.unwrap();
    assert_eq!(store.snapshots().await.unwrap(), vec![row.clone()]);
    let body = store.snapshot_body(7).await.unwrap().unwrap();
    let s = snapshot::decode_row(&row, &body).unwrap();
    assert!(s.engine == engine && s.seq == 7 && s.events == 3);
    store.close().await;
    if let Some(l) = lock {
        l.release().await;
    }
}
on_both!(a_snapshot_stored_in_parts_is_seen_only_when_finished);
