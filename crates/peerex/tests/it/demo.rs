//! `peerex serve --demo`, started as README.md writes it (plus a high `--demo-speed` to keep the
//! test short): within a bounded time the API shows at least 10 issues with prices, trades
//! arriving, a settled series, a prediction market resolved by its arbiters and resource prices
//! that moved from their start; then `peerex check` passes on the demo's database.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The README's demo line, with the binary in place of `cargo run --release -p peerex --`.
fn readme_demo_line() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let line = readme.lines().find(|l| l.contains("serve --demo")).expect("README.md offers `serve --demo`");
    let line = line.split(" # ").next().unwrap().trim();
    assert!(line.starts_with("cargo run --release -p peerex -- serve --demo"), "{line}");
    line.replace("cargo run --release -p peerex -- ", "")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(client: &reqwest::blocking::Client, base: &str, path: &str, token: Option<&str>) -> Value {
    let mut r = client.get(format!("{base}/api/v1{path}"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().and_then(|r| r.json()).unwrap_or(Value::Null)
}

#[test]
fn the_demo_moves_every_market_and_its_database_checks() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let args = readme_demo_line();
    let mut args: Vec<&str> = args.split_whitespace().collect();
    args.extend(["--demo-speed", "240", "--seed", "7"]);
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let out = std::fs::File::create(dir.path().join("server.out")).unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_peerex"))
            .args(&args)
            .current_dir(dir.path())
            .env("PEEREX_DATA_DIR", dir.path().join("data"))
            .env("PEEREX_ADDR", format!("127.0.0.1:{port}"))
            .env("PEEREX_ARGON2_KIB", "1024")
            .env("PEEREX_RATE_PER_SEC", "100000")
            .env("PEEREX_RATE_BURST", "100000")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let started = Instant::now();
    let mut token = None;
    let (mut priced, mut settled, mut resolved, mut moved) = (0, 0, 0, false);
    let mut volumes: Vec<u64> = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        if token.is_none() {
            // The printed demo admin, with the printed password.
            let r = client
                .post(format!("{base}/api/v1/sessions"))
                .json(&json!({"name": "admin", "password": "demo-pass"}))
                .send()
                .and_then(|r| r.json::<Value>());
            token = r.ok().and_then(|v| v["token"].as_str().map(str::to_owned));
            continue;
        }
        let issues = get(&client, &base, "/issues?limit=1000", None);
        let Some(issues) = issues.as_array() else { continue };
        let series: Vec<&Value> = issues.iter().flat_map(|i| i["series"].as_array().into_iter().flatten()).collect();
        priced = issues
            .iter()
            .filter(|i| i["series"].as_array().is_some_and(|s| s.iter().any(|s| s["last_price"].is_string())))
            .count();
        settled = series.iter().filter(|s| s["status"] == "settled").count();
        volumes.push(series.iter().filter_map(|s| s["volume"].as_u64()).sum());
        let markets = get(&client, &base, "/markets", None);
        resolved = markets
            .as_array()
            .map_or(0, |m| m.iter().filter(|m| m["status"] == "resolved" && m["reports"].as_u64() >= Some(3)).count());
        let op = get(&client, &base, "/admin/resources", token.as_deref());
        moved = op["prices_nano"].as_array().is_some_and(|p| p.iter().any(|x| x.as_i64() != Some(1_000_000_000)));
        let trading = volumes.len() >= 3 && volumes[volumes.len() - 1] > volumes[volumes.len() - 3];
        if priced >= 10 && settled >= 1 && resolved >= 1 && moved && trading {
            break;
        }
    }
    let printed = std::fs::read_to_string(dir.path().join("server.out")).unwrap();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(printed.contains("password `demo-pass`") && printed.contains("admin"), "{printed}");
    assert!(priced >= 10, "{priced} issues with prices\n{log}");
    assert!(volumes.windows(2).filter(|w| w[1] > w[0]).count() >= 2, "trades keep arriving: {volumes:?}");
    assert!(settled >= 1, "no series settled\n{log}");
    assert!(resolved >= 1, "no prediction market resolved by its arbiters");
    assert!(moved, "resource prices did not move");
    drop(server);
    let check = Command::new(env!("CARGO_BIN_EXE_peerex"))
        .args(["check", "--data-dir"])
        .arg(dir.path().join("data").join("demo"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&check.stderr));
    assert!(stdout.contains("ok: the ledger balances"), "{stdout}");
}
