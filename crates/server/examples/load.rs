//! Load benchmark (not a test): many concurrent HTTP clients place and cancel offers against a
//! SQLite-backed server with durable (synchronous=FULL, group-committed) writes. Reports
//! orders/s and p50/p99 latency. The server runs in this process on the same runtime.
//!
//! cargo run --release -p peerex-server --example load -- [clients] [orders per client] [backend URL]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use peerex_server::settings::{Database, Settings};
use serde_json::{json, Value};

const PASSWORD: &str = "password-1";
const ISSUE: &str = "bench/app#1";

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status().as_u16();
    (st, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let per_client: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let db = match args.get(3) {
        Some(url) => Database::choose(Some(url), None).unwrap(),
        None => Database::Sqlite { data_dir: std::env::temp_dir().join(format!("peerex_load_{}", std::process::id())) },
    };
    peerex_server::create_user(&db, "root", PASSWORD, true, 64).await.unwrap();
    let mut settings = Settings::for_tests(db.clone());
    settings.max_open_offers = 100_000;
    let server = peerex_server::start(settings).await.unwrap();
    let base = format!("http://{}/api/v1", server.addr);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();

    let (_, s) = post(&http, format!("{base}/sessions"), None, json!({"name": "root", "password": PASSWORD})).await;
    let admin = s["token"].as_str().unwrap().to_owned();
    post(&http, format!("{base}/issues"), Some(&admin), json!({"issue": ISSUE})).await;
    let mut tokens = Vec::new();
    for i in 0..clients {
        let name = format!("trader{i}");
        post(&http, format!("{base}/users"), None, json!({"name": name, "password": PASSWORD})).await;
        post(&http, format!("{base}/admin/deposits"), Some(&admin), json!({"user": name, "amount": "1000000"})).await;
        let (_, s) = post(&http, format!("{base}/sessions"), None, json!({"name": name, "password": PASSWORD})).await;
        tokens.push(s["token"].as_str().unwrap().to_owned());
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client * 2);
            let mut errors = 0usize;
            for j in 0..per_client {
                // Bids below asks: offers rest on the book (no trades), then half are cancelled.
                let (kind, price) = if i % 2 == 0 {
                    ("buy_fixed", 0.10 + (j % 20) as f64 / 100.0)
                } else {
                    ("buy_unfixed", 0.10 + (j % 20) as f64 / 100.0)
                };
                let body = json!({"kind": kind, "issue": ISSUE, "maturation": "2099-01-01T00:00:00Z",
                                  "price": format!("{price:.2}"), "volume": 1 + j % 5});
                let t = Instant::now();
                let (st, offer) = post(&http, format!("{base}/offers"), Some(&token), body).await;
                latencies.push(t.elapsed());
                if st != 201 {
                    errors += 1;
                    continue;
                }
                if j % 2 == 0 {
                    let id = offer["id"].as_str().unwrap_or("");
                    let t = Instant::now();
                    let resp = http.delete(format!("{base}/offers/{id}")).bearer_auth(&token).send().await.unwrap();
                    latencies.push(t.elapsed());
                    if resp.status().as_u16() != 200 {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    let metrics = http.get(format!("http://{}/metrics", server.addr)).send().await.unwrap().text().await.unwrap();
    let batches = metrics.lines().find(|l| l.starts_with("peerex_batches_total")).unwrap_or("").to_owned();
    println!(
        "backend {}: {clients} clients x {per_client} orders (+ cancels): {} requests in {:.2}s = {:.0} requests/s; \
         p50 {:.2} ms, p99 {:.2} ms; errors {errors}; {batches}",
        server.state.store.backend(),
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
    server.stop().await.unwrap();
    let report = peerex_server::check(&db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    if let Database::Sqlite { data_dir } = db {
        let _ = std::fs::remove_dir_all(data_dir);
    }
}
