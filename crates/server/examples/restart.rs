//! Restart benchmark (not a test): a SQLite database whose command log holds N commands of the
//! engine bench's stream (crates/bench: 1,000 users, 100 series, resting offers, cancels and
//! crossing offers), then the time `peerex_server::start` takes to serve, from a snapshot and
//! from the whole log. See docs/benchmarks.md.
//!
//! cargo run --release -p peerex-server --example restart -- [commands, default 10000000] [tail after the snapshot, default 50000] [--no-full] [--keep]
//!
//! `--keep` leaves the database in place (its folder is printed) instead of deleting it;
//! `--start FOLDER` then only times `peerex_server::start` on it (to compare builds on the same
//! database).
//!
//! The log is written straight to the database (as the writer would: each command's body and
//! its logged outcome), in transactions of 50,000 commands; events are not stored (a start does
//! not read them). The snapshot is the one the server writes, at `commands - tail`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use peerex_engine::{Command, Engine, Op, Timestamp};
use peerex_server::settings::{Database, Settings};
use peerex_server::snapshot::{self, Snapshot};
use peerex_server::snapshot_task;
use peerex_server::store::{BatchWrite, Store};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OPEN_OFFERS: u32 = 1_000_000;

fn rss_mib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .map_or(0, |k| k / 1024)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some("--start"), Some(folder)) = (args.get(1).map(String::as_str), args.get(2)) {
        let mut settings = Settings::for_tests(Database::Sqlite { data_dir: folder.into() });
        settings.max_open_offers = OPEN_OFFERS;
        let t = Instant::now();
        let running = peerex_server::start(settings).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        let offers = running.state.shared.engine().exchange().offer_count();
        running.stop().await.unwrap();
        println!("start: {secs:.2} s ({offers} offers)");
        return;
    }
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let tail: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let full = !args.iter().any(|a| a == "--no-full");
    let keep = args.iter().any(|a| a == "--keep");
    let dir = std::env::temp_dir().join(format!("peerex_restart_{}", std::process::id()));
    let db = Database::Sqlite { data_dir: dir.clone() };

    // 1. The log: the limit the server would log first, the setup, then the stream.
    let t = Instant::now();
    let (store, lock) = Store::open(&db, true).await.unwrap();
    let mut engine = Engine::new();
    let mut out = Vec::new();
    let mut seq = 0i64;
    let mut batch = BatchWrite::default();
    let mut snap: Option<Snapshot> = None;
    let mut refused = std::collections::BTreeMap::<String, u64>::new();
    let steps = peerex_bench::stream(1, n.saturating_sub(peerex_bench::USERS + peerex_bench::SERIES + 1));
    let first = peerex_bench::setup();
    let start = first[0].at;
    let mut step = 0usize;
    let limit = Command::new(start, Op::SetLimits { max_open_offers_per_user: OPEN_OFFERS });
    let head = std::iter::once(limit).chain(first);
    let mut chunks = steps.chunks(50_000);
    let mut pending: Vec<Command> = head.collect();
    loop {
        for cmd in pending.drain(..) {
            seq += 1;
            let body = cmd.to_json();
            let at = cmd.at.0;
            out.clear();
            let error = engine.apply(cmd, &mut out).err().map(|e| e.code().to_owned());
            if let Some(code) = &error {
                *refused.entry(code.clone()).or_default() += 1;
            }
            batch.commands.push((seq, at, body, error));
            if seq as usize == n - tail.min(n) {
                // What a clone costs (why the writer does not clone: snapshot.rs).
                let t = Instant::now();
                let copy = engine.clone();
                println!("clone of the engine at seq {seq}: {} ms", t.elapsed().as_millis());
                snap = Some(Snapshot { seq, last_at: engine.now(), events: 0, engine: copy });
            }
        }
        if batch.commands.len() >= 50_000 {
            store.write_batch(&batch).await.unwrap();
            batch = BatchWrite::default();
        }
        match chunks.next() {
            Some(c) => {
                // The bench numbers a slice's commands from its start: number them in the stream.
                pending = peerex_bench::commands(c);
                for cmd in &mut pending {
                    cmd.at = Timestamp(start.0 + 1 + step as i64);
                    step += 1;
                }
            }
            None => break,
        }
    }
    store.write_batch(&batch).await.unwrap();
    let open: usize = engine.exchange().offer_count();
    println!("refused: {refused:?}");
    println!(
        "log: {seq} commands, {open} offers (open and closed) in the engine, written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    drop(engine);

    // 2. The snapshot the server's background task would write (encode, then store), timed apart.
    let s = snap.expect("a snapshot point inside the log");
    let t = Instant::now();
    let enc = snapshot::encode(&s).unwrap();
    let encode_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = snapshot::decode(&enc.bytes).unwrap();
    let decode_s = t.elapsed().as_secs_f64();
    assert!(back == s, "the snapshot decodes to the same engine");
    drop(back);
    println!(
        "snapshot at seq {}: {:.1} MiB, encode {encode_s:.2} s, decode {decode_s:.2} s",
        s.seq,
        enc.bytes.len() as f64 / 1048576.0,
    );
    drop(enc);
    // The server's way (snapshot_task.rs): encoded in parts, each stored as it comes.
    let t = Instant::now();
    let (seq, last_at, events) = (s.seq, s.last_at, s.events);
    let engine = std::sync::Arc::new(s.engine);
    let e = engine.clone();
    let at = snapshot_task::At { seq, last_at, events };
    let stored = snapshot_task::store_in_parts(&store, at, move |part| {
        snapshot::encode_parts(seq, last_at, events, &e, snapshot_task::PART, part)
    })
    .await
    .unwrap();
    println!(
        "the same snapshot encoded in {} parts, each stored as it comes (the server's way): {:.2} s",
        stored.parts,
        t.elapsed().as_secs_f64()
    );
    drop(engine);
    store.close().await;
    drop(lock);

    // 3. What a start from the snapshot does, step by step (rebuild::load, then the readers'
    // copy of the engine), then whole starts.
    let (store, lock) = Store::open(&db, true).await.unwrap();
    let t = Instant::now();
    let row = store.snapshots().await.unwrap().remove(0);
    let bytes = store.snapshot_body(row.seq).await.unwrap().unwrap();
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let s = snapshot::decode_row(&row, &bytes).unwrap();
    let decode_s = t.elapsed().as_secs_f64();
    drop(bytes);
    let t = Instant::now();
    let log = store.load_log_after(s.seq).await.unwrap();
    let read_tail_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let rebuilt = peerex_server::rebuild::replay_from(Some(s), &log).unwrap();
    let tail_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let copy = rebuilt.engine.clone();
    let clone_s = t.elapsed().as_secs_f64();
    println!(
        "steps of a start: read the snapshot {read_s:.2} s, decode {decode_s:.2} s, \
         read the {} commands after it {read_tail_s:.2} s, replay them {tail_s:.2} s, the readers' copy {clone_s:.2} s",
        log.len()
    );
    drop((copy, rebuilt, log));
    store.close().await;
    drop(lock);

    // 4. Restarts.
    let mut settings = Settings::for_tests(db.clone());
    settings.max_open_offers = OPEN_OFFERS;
    let t = Instant::now();
    let running = peerex_server::start(settings.clone()).await.unwrap();
    let from_snapshot = t.elapsed().as_secs_f64();
    let state_open = running.state.shared.engine().exchange().offer_count();
    running.stop().await.unwrap();
    println!("restart from the snapshot + {tail} commands: {from_snapshot:.2} s ({state_open} offers)");
    if full {
        let (store, lock) = Store::open(&db, true).await.unwrap();
        store.delete_snapshots().await.unwrap();
        store.close().await;
        drop(lock);
        let t = Instant::now();
        let running = peerex_server::start(settings).await.unwrap();
        let whole = t.elapsed().as_secs_f64();
        running.stop().await.unwrap();
        println!("restart replaying the whole log ({seq} commands): {whole:.2} s");
    }
    println!("peak RSS {} MiB", rss_mib());
    if keep {
        println!("database kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
