//! Crash safety (spec/service.md): the real `peerex serve` takes a stream of offers from
//! concurrent clients and is killed with SIGKILL at a seeded random moment (after a seeded
//! number of acknowledgements). After a restart every acknowledged offer is there, and
//! `peerex check` finds the ledger consistent.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_peerex");
const PASSWORD: &str = "password-1";
const ISSUE: &str = "demo/app#1";

fn peerex(args: &[&str], data: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--data-dir")
        .arg(data)
        .env("PEEREX_ARGON2_KIB", "64")
        .env("PEEREX_RATE_PER_SEC", "100000")
        .env("PEEREX_RATE_BURST", "100000")
        .env("RUST_LOG", "warn");
    c
}

/// Starts `peerex serve` on a free port; returns the child and its base URL.
fn serve(data: &Path) -> (Child, String) {
    let mut child = peerex(&["serve", "--addr", "127.0.0.1:0", "--sandbox"], data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "unexpected first line {line:?}");
    (child, format!("http://{addr}/api/v1"))
}

async fn post(http: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> reqwest::Result<(u16, Value)> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await?;
    let st = resp.status().as_u16();
    Ok((st, resp.json().await.unwrap_or(Value::Null)))
}

async fn login(http: &reqwest::Client, base: &str, name: &str) -> String {
    let (st, body) =
        post(http, &format!("{base}/sessions"), None, json!({"name": name, "password": PASSWORD})).await.unwrap();
    assert_eq!(st, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn crash_and_recover(seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = std::env::temp_dir().join(format!("peerex_crash_{}_{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let st = peerex(&["admin", "create-user", "root", "--admin", "--password", PASSWORD], &data).status().unwrap();
    assert!(st.success());

    let (mut child, base) = serve(&data);
    let http = reqwest::Client::new();
    let admin = login(&http, &base, "root").await;
    let traders = ["ann", "bob", "cid", "dee"];
    let mut tokens = Vec::new();
    for name in traders {
        let (st, _) =
            post(&http, &format!("{base}/users"), None, json!({"name": name, "password": PASSWORD})).await.unwrap();
        assert_eq!(st, 201);
        let (st, _) =
            post(&http, &format!("{base}/admin/deposits"), Some(&admin), json!({"user": name, "amount": "1000000"}))
                .await
                .unwrap();
        assert_eq!(st, 200);
        tokens.push(login(&http, &base, name).await);
    }
    let (st, _) = post(&http, &format!("{base}/issues"), Some(&admin), json!({"issue": ISSUE})).await.unwrap();
    assert_eq!(st, 201);
    let maturation = "2099-01-01T00:00:00Z";

    let kill_after: usize = rng.gen_range(20..150);
    let acked = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let (http, base, token, acked, count, stop) =
            (http.clone(), base.clone(), token.clone(), acked.clone(), count.clone(), stop.clone());
        let name = traders[i].to_owned();
        let mut trng = ChaCha8Rng::seed_from_u64(seed * 100 + i as u64);
        tasks.push(tokio::spawn(async move {
            // Bounded: at most 2,000 requests per client, and it stops at the kill.
            for _ in 0..2_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let kind = ["buy_fixed", "buy_unfixed"][trng.gen_range(0..2)];
                let price = format!("0.{:02}", trng.gen_range(30..70));
                let body = json!({"kind": kind, "issue": ISSUE, "maturation": maturation, "price": price,
                                  "volume": trng.gen_range(1..20)});
                match post(&http, &format!("{base}/offers"), Some(&token), body).await {
                    Ok((201, offer)) => {
                        acked.lock().unwrap().push((name.clone(), offer["id"].as_str().unwrap().to_owned()));
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((st, body)) => panic!("offer refused: {st} {body}"),
                    Err(_) => break, // the server died under us
                }
            }
        }));
    }
    while count.load(Ordering::SeqCst) < kill_after {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= kill_after);

    // Restart on the same data: every acknowledged offer is there.
    let (mut child, base) = serve(&data);
    for name in traders {
        let token = login(&http, &base, name).await;
        let offers: Vec<Value> =
            http.get(format!("{base}/offers")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let present: HashSet<&str> = offers.iter().filter_map(|o| o["id"].as_str()).collect();
        for (owner, id) in acked.iter().filter(|(o, _)| o == name) {
            assert!(present.contains(id.as_str()), "seed {seed}: acknowledged offer {id} of {owner} lost");
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let out = peerex(&["check"], &data).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "seed {seed}: check failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok:"), "{stdout}");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_offer() {
    for seed in [1, 2, 3, 4] {
        crash_and_recover(seed).await;
    }
}

/// `peerex check` exits non-zero when the ledger of a database is broken.
#[test]
fn check_fails_on_a_corrupted_log() {
    let data = std::env::temp_dir().join(format!("peerex_corrupt_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let st = peerex(&["admin", "create-user", "root", "--admin", "--password", PASSWORD], &data).status().unwrap();
    assert!(st.success());
    // A second account with the same name is refused.
    let again = peerex(&["admin", "create-user", "root", "--password", PASSWORD], &data).output().unwrap();
    assert!(!again.status.success());
    // The password may come from stdin.
    let mut child = peerex(&["admin", "create-user", "viastdin"], &data).stdin(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"from-stdin-1\n").unwrap();
    assert!(child.wait().unwrap().success());

    let ok = peerex(&["check"], &data).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    // Tamper with the log: an event row that no command explains.
    let db = data.join("peerex.db");
    let st = Command::new("sqlite3")
        .arg(&db)
        .arg("INSERT INTO events (seq, command_seq, at, kind, public, body) VALUES (999, 1, 0, 'x', 0, '{}')")
        .status();
    if st.map(|s| s.success()).unwrap_or(false) {
        let bad = peerex(&["check"], &data).output().unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("violation"));
    } else {
        println!("sqlite3 CLI not installed: skipped the tampering half");
    }
    let missing = peerex(&["check"], &data.join("nope")).output().unwrap();
    assert!(!missing.status.success());
    let _ = std::fs::remove_dir_all(&data);
}
