//! Crash safety (spec/service.md): the real `peerex serve` takes a stream of offers and
//! cancellations from concurrent clients and is killed with SIGKILL at seeded random moments,
//! again and again on the same database (SQLite, and PostgreSQL when configured). After every
//! kill `peerex check` finds the log consistent, and after every restart every acknowledged
//! operation is there: each acknowledged offer exists, each acknowledged cancellation holds.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::procs::{
    check_clean, drop_database, fresh_postgres, login, peerex, post, serve, service_or_skip, Db, PASSWORD,
};

const ISSUE: &str = "demo/app#1";
const TRADERS: [&str; 4] = ["ann", "bob", "cid", "dee"];

/// What the clients were told: offers placed (by owner) and offers cancelled.
#[derive(Clone, Default)]
struct Acked {
    placed: Vec<(String, String)>,
    cancelled: Vec<(String, String)>,
}

/// After a restart: every acknowledged offer is there and every acknowledged cancel holds.
async fn verify(http: &reqwest::Client, base: &str, acked: &Acked, context: &str) {
    for name in TRADERS {
        let token = login(http, base, name).await;
        let offers: Vec<Value> =
            http.get(format!("{base}/offers")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let status: HashMap<&str, &str> =
            offers.iter().filter_map(|o| Some((o["id"].as_str()?, o["status"].as_str()?))).collect();
        for (_, id) in acked.placed.iter().filter(|(o, _)| o == name) {
            assert!(status.contains_key(id.as_str()), "{context}: acknowledged offer {id} of {name} lost");
        }
        for (_, id) in acked.cancelled.iter().filter(|(o, _)| o == name) {
            assert_eq!(status.get(id.as_str()), Some(&"cancelled"), "{context}: acknowledged cancel of {id} lost");
        }
    }
}

/// `kills` rounds on one database: start, load it from four concurrent clients, SIGKILL at a
/// seeded moment, `peerex check`, restart and verify. Bounded: each round waits at most 60 s
/// for its acknowledgements, each client sends at most 400 requests per round.
async fn kill_loop(db: Db, seed: u64, kills: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let st = peerex(&["admin", "create-user", "root", "--admin", "--password", PASSWORD], &db).status().unwrap();
    assert!(st.success());
    let http = reqwest::Client::new();
    let (mut child, mut base) = serve(&db);
    let admin = login(&http, &base, "root").await;
    for name in TRADERS {
        let (st, _) =
            post(&http, &format!("{base}/users"), None, json!({"name": name, "password": PASSWORD})).await.unwrap();
        assert_eq!(st, 201);
        let (st, _) =
            post(&http, &format!("{base}/admin/deposits"), Some(&admin), json!({"user": name, "amount": "1000000"}))
                .await
                .unwrap();
        assert_eq!(st, 200);
    }
    let (st, _) = post(&http, &format!("{base}/issues"), Some(&admin), json!({"issue": ISSUE})).await.unwrap();
    assert_eq!(st, 201);
    let maturation = "2099-01-01T00:00:00Z";
    let acked = Arc::new(Mutex::new(Acked::default()));
    let started = Instant::now();

    for round in 0..kills {
        let context = format!("seed {seed}, kill {}", round + 1);
        let mut tokens = Vec::new();
        for name in TRADERS {
            tokens.push(login(&http, &base, name).await);
        }
        let kill_after: usize = rng.gen_range(10..60);
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (i, token) in tokens.into_iter().enumerate() {
            let (http, base, acked, count, stop) =
                (http.clone(), base.clone(), acked.clone(), count.clone(), stop.clone());
            let name = TRADERS[i].to_owned();
            let mut trng = ChaCha8Rng::seed_from_u64(seed * 1_000 + round as u64 * 10 + i as u64);
            tasks.push(tokio::spawn(async move {
                let mut mine: Vec<String> = Vec::new();
                for _ in 0..400 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if !mine.is_empty() && trng.gen_bool(0.2) {
                        let id = mine.swap_remove(trng.gen_range(0..mine.len()));
                        let resp = http.delete(format!("{base}/offers/{id}")).bearer_auth(&token).send().await;
                        match resp.map(|r| r.status().as_u16()) {
                            Ok(200) => {
                                acked.lock().unwrap().cancelled.push((name.clone(), id));
                                count.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(_) => {}      // filled meanwhile: nothing to cancel
                            Err(_) => break, // the server died under us
                        }
                        continue;
                    }
                    let kind = ["buy_fixed", "buy_unfixed"][trng.gen_range(0..2)];
                    let price = format!("0.{:02}", trng.gen_range(30..70));
                    let body = json!({"kind": kind, "issue": ISSUE, "maturation": maturation, "price": price,
                                      "volume": trng.gen_range(1..20)});
                    match post(&http, &format!("{base}/offers"), Some(&token), body).await {
                        Ok((201, offer)) => {
                            let id = offer["id"].as_str().unwrap().to_owned();
                            mine.push(id.clone());
                            acked.lock().unwrap().placed.push((name.clone(), id));
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((st, body)) => panic!("offer refused: {st} {body}"),
                        Err(_) => break,
                    }
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while count.load(Ordering::SeqCst) < kill_after && !tasks.iter().all(|t| t.is_finished()) {
            assert!(
                Instant::now() < deadline,
                "{context}: only {} acknowledgements in 60 s",
                count.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Land the kill at a random point of whatever batch is in flight.
        tokio::time::sleep(Duration::from_micros(rng.gen_range(0..3_000))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for t in tasks {
            t.await.unwrap();
        }
        assert!(count.load(Ordering::SeqCst) >= kill_after, "{context}: the clients stopped early");
        check_clean(&db, &context);
        let (next, next_base) = serve(&db);
        (child, base) = (next, next_base);
        let so_far = acked.lock().unwrap().clone();
        verify(&http, &base, &so_far, &context).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    check_clean(&db, &format!("seed {seed}, the end"));
    let acked = acked.lock().unwrap();
    eprintln!(
        "kill loop (seed {seed}): {kills} kills, {} offers and {} cancels acknowledged, none lost, {:.1} s",
        acked.placed.len(),
        acked.cancelled.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loop_loses_nothing_on_sqlite() {
    let data = std::env::temp_dir().join(format!("peerex_crash_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    kill_loop(Db::Sqlite(data.clone()), 7, 12).await;
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loop_loses_nothing_on_postgres() {
    let name = format!("peerex_crash_{}", std::process::id());
    let _cluster = crate::procs::postgres_shared().await;
    let Some(db) = fresh_postgres("crash::sigkill_loop_loses_nothing_on_postgres", &name).await else { return };
    kill_loop(db, 11, 12).await;
    drop_database(&name).await;
}

/// `peerex check` exits non-zero when the ledger of a database is broken.
#[test]
fn check_fails_on_a_corrupted_log() {
    let data = std::env::temp_dir().join(format!("peerex_corrupt_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let db = Db::Sqlite(data.clone());
    let st = peerex(&["admin", "create-user", "root", "--admin", "--password", PASSWORD], &db).status().unwrap();
    assert!(st.success());
    // A second account with the same name is refused.
    let again = peerex(&["admin", "create-user", "root", "--password", PASSWORD], &db).output().unwrap();
    assert!(!again.status.success());
    // The password may come from stdin.
    let mut child = peerex(&["admin", "create-user", "viastdin"], &db).stdin(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"from-stdin-1\n").unwrap();
    assert!(child.wait().unwrap().success());

    let ok = peerex(&["check"], &db).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    // Tamper with the log: an event row that no command explains.
    let db_file = data.join("peerex.db");
    let st = Command::new("sqlite3")
        .arg(&db_file)
        .arg("INSERT INTO events (seq, command_seq, at, kind, public, body) VALUES (999, 1, 0, 'x', 0, '{}')")
        .status();
    let tampered = st.map(|s| s.success()).unwrap_or(false);
    if service_or_skip("crash::check_fails_on_a_corrupted_log (tampering half)", tampered, "the sqlite3 program") {
        let bad = peerex(&["check"], &db).output().unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("violation"));
    }
    let missing = peerex(&["check"], &Db::Sqlite(data.join("nope"))).output().unwrap();
    assert!(!missing.status.success());
    let _ = std::fs::remove_dir_all(&data);
}
