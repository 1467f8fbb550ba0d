//! The bank test (issue 14), in the manner of Jepsen's: three `peerex serve --cluster`
//! processes on one PostgreSQL database; concurrent clients trade (offers that fill), cancel,
//! and an admin deposits and withdraws, each request sent to a random process and retried with
//! its `Idempotency-Key` on a retryable failure (503, 429, a refused or cut connection); a reader
//! checks on random processes that the ledger balances (users + escrows + internal accounts ==
//! minted) on every read. Meanwhile the writer (found by `/healthz`'s role) is SIGKILLed at
//! seeded moments and restarted, and PostgreSQL itself is restarted once. At the end: no
//! acknowledged command lost or applied twice (the ledger's minted is the deposits minus the
//! withdrawals acknowledged; every acknowledged offer exists once; acknowledged cancels hold),
//! every process has the same totals, and `peerex check` passes. The time from each kill to the
//! next accepted write is printed (p50 and max).
//!
//! A second test kills processes while they start and while they rebuild a long log.

use std::collections::HashMap;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use peerex_engine::Amount;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::procs::{
    check_clean, drop_database, fresh_postgres, peerex, service_or_skip, spawn_serve, try_serve, Db, PASSWORD,
};

const TRADERS: [&str; 4] = ["ann", "bob", "cid", "dee"];
const ISSUE: &str = "bank/vault#1";
const MATURATION: &str = "2099-01-01T00:00:00Z";
/// What each trader is given at the start, in credits.
const START_CREDITS: i64 = 1_000_000;
/// How long one request may take to be answered, retries included, before the test fails.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// What the clients share: where the processes are, what was acknowledged, and when.
#[derive(Default)]
struct Ctx {
    http: reqwest::Client,
    /// The API base URL of each process slot (None while it is down).
    urls: RwLock<Vec<Option<String>>>,
    /// (sent, answered) of every attempt that was answered 2xx by a write.
    acks: Mutex<Vec<(Instant, Instant)>>,
    /// The highest `Peerex-Seq` of an acknowledged write (the log position its process had
    /// applied when it answered): reads ask for at least this (`Peerex-Min-Seq`).
    max_seq: AtomicU64,
    stop: AtomicBool,
    /// Offers placed and acknowledged, by owner.
    placed: Mutex<Vec<(String, String)>>,
    /// Cancels acknowledged (200 to the attempt that applied them), by owner.
    cancelled: Mutex<Vec<(String, String)>>,
    deposited: AtomicI64,
    withdrawn: AtomicI64,
    deposits: AtomicU64,
    withdrawals: AtomicU64,
    /// Ledger reads checked, and retries of all requests.
    reads: AtomicU64,
    retries: AtomicU64,
}

impl Ctx {
    fn pick(&self, rng: &mut ChaCha8Rng) -> Option<String> {
        let urls = self.urls.read().unwrap();
        let up: Vec<&String> = urls.iter().flatten().collect();
        (!up.is_empty()).then(|| up[rng.gen_range(0..up.len())].clone())
    }
}

/// An answer that is not a retryable failure.
struct Answer {
    status: u16,
    body: Value,
}

/// Sends one request to random processes until it gets an answer that is not a retryable
/// failure (a connection error, 503, 429); a write's 2xx answer is recorded with its seq.
async fn send(
    ctx: &Ctx,
    rng: &mut ChaCha8Rng,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    key: Option<&str>,
) -> Answer {
    let deadline = Instant::now() + ANSWER_WITHIN;
    let write = method != Method::GET;
    loop {
        assert!(Instant::now() < deadline, "{method} {path}: no answer in {ANSWER_WITHIN:?}");
        if let Some(base) = ctx.pick(rng) {
            let mut req = ctx.http.request(method.clone(), format!("{base}{path}"));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            if !write {
                let min = ctx.max_seq.load(Ordering::SeqCst);
                req = req.header("Peerex-Min-Seq", min.to_string());
            }
            let sent = Instant::now();
            if let Ok(resp) = req.send().await {
                let status = resp.status().as_u16();
                let seq = resp.headers().get("peerex-seq").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                if status != 503 && status != 429 {
                    if let Ok(bytes) = resp.bytes().await {
                        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        if write && (200..300).contains(&status) {
                            ctx.acks.lock().unwrap().push((sent, Instant::now()));
                            if let Some(s) = seq {
                                ctx.max_seq.fetch_max(s, Ordering::SeqCst);
                            }
                        }
                        return Answer { status, body };
                    }
                }
            }
        }
        ctx.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..60))).await;
    }
}

/// A trader: places offers that cross each other's (buy fixed / buy unfixed around 0.5) and
/// cancels some of its open ones, until told to stop.
async fn trader(ctx: Arc<Ctx>, name: &'static str, token: String, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mine: Vec<String> = Vec::new();
    let mut n = 0;
    while !ctx.stop.load(Ordering::SeqCst) {
        n += 1;
        if !mine.is_empty() && rng.gen_bool(0.25) {
            let id = mine.swap_remove(rng.gen_range(0..mine.len()));
            // With its key, a retry after a cut answer gets the first attempt's answer.
            let key = format!("{name}-cancel-{n}");
            let path = format!("/offers/{id}");
            let a = send(&ctx, &mut rng, Method::DELETE, &path, Some(&token), None, Some(&key)).await;
            match a.status {
                200 => ctx.cancelled.lock().unwrap().push((name.to_owned(), id)),
                // Filled before the cancel.
                422 => {}
                st => panic!("cancel of {id} answered {st} {}", a.body),
            }
        } else {
            let kind = ["buy_fixed", "buy_unfixed"][rng.gen_range(0..2)];
            let body = json!({"kind": kind, "issue": ISSUE, "maturation": MATURATION,
                              "price": format!("0.{:02}", rng.gen_range(35..65)), "volume": rng.gen_range(1..20)});
            let key = format!("{name}-offer-{n}");
            let a = send(&ctx, &mut rng, Method::POST, "/offers", Some(&token), Some(&body), Some(&key)).await;
            assert_eq!(a.status, 201, "offer {key} refused: {}", a.body);
            let id = a.body["id"].as_str().unwrap().to_owned();
            if a.body["status"] == "open" {
                mine.push(id.clone());
            }
            ctx.placed.lock().unwrap().push((name.to_owned(), id));
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(2..15))).await;
    }
}

/// The admin: deposits and withdraws small amounts to and from random traders.
async fn banker(ctx: Arc<Ctx>, token: String, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut n = 0;
    while !ctx.stop.load(Ordering::SeqCst) {
        n += 1;
        let user = TRADERS[rng.gen_range(0..TRADERS.len())];
        let credits: i64 = rng.gen_range(1..50);
        let deposit = rng.gen_bool(0.6);
        let (path, key) = if deposit {
            ("/admin/deposits", format!("deposit-{n}"))
        } else {
            ("/admin/withdrawals", format!("withdrawal-{n}"))
        };
        let body = json!({"user": user, "amount": credits.to_string()});
        let a = send(&ctx, &mut rng, Method::POST, path, Some(&token), Some(&body), Some(&key)).await;
        assert_eq!(a.status, 200, "{key} refused: {}", a.body);
        let (total, count) = if deposit { (&ctx.deposited, &ctx.deposits) } else { (&ctx.withdrawn, &ctx.withdrawals) };
        total.fetch_add(credits * 1_000_000, Ordering::SeqCst);
        count.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(5..30))).await;
    }
}

fn credits(v: &Value, field: &str) -> i64 {
    let text = v[field].as_str().unwrap_or_else(|| panic!("no {field} in {v}"));
    Amount::parse(text).unwrap_or_else(|e| panic!("{field} {text:?}: {e:?}")).0
}

/// Checks one ledger read: the kinds of accounts add up to what was minted. Returns minted.
fn balanced(v: &Value, context: &str) -> i64 {
    let minted = credits(v, "minted");
    let parts = [
        "users",
        "escrows",
        "market_makers",
        "arbitration_pools",
        "case_bonds",
        "rounding",
        "resource_bank",
        "peer_balances",
    ];
    let sum: i64 = parts.iter().map(|p| credits(v, p)).sum();
    assert_eq!(sum, minted, "{context}: users + escrows + internal != minted: {v}");
    assert_eq!(credits(v, "users"), credits(v, "users_available") + credits(v, "users_held"), "{context}: {v}");
    assert_eq!(v["balanced"], true, "{context}: {v}");
    minted
}

/// The reader: ledger reads on random processes, each of which must balance.
async fn auditor(ctx: Arc<Ctx>, token: String, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    while !ctx.stop.load(Ordering::SeqCst) {
        let Some(base) = ctx.pick(&mut rng) else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let min = ctx.max_seq.load(Ordering::SeqCst);
        let req = ctx.http.get(format!("{base}/admin/ledger")).bearer_auth(&token).header("Peerex-Min-Seq", min);
        if let Ok(resp) = req.send().await {
            let status = resp.status().as_u16();
            if let Ok(v) = resp.json::<Value>().await {
                if status == 200 {
                    balanced(&v, &format!("a ledger read on {base}"));
                    ctx.reads.fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(status == 503 || status == 429, "a ledger read on {base} answered {status} {v}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(5..25))).await;
    }
}

/// A process being started: its child and base URL, or `None` when it ended first.
type Starting = JoinHandle<Option<(Child, String)>>;

/// The processes of the test, each in a slot, started and restarted by the harness.
struct Procs {
    db: Db,
    ctx: Arc<Ctx>,
    children: Vec<Option<Child>>,
    starting: Vec<Option<Starting>>,
    /// Times a process ended without being killed by the harness (then it is restarted).
    exits: usize,
}

impl Procs {
    fn new(db: Db, n: usize, ctx: Arc<Ctx>) -> Procs {
        *ctx.urls.write().unwrap() = vec![None; n];
        Procs { db, ctx, children: (0..n).map(|_| None).collect(), starting: (0..n).map(|_| None).collect(), exits: 0 }
    }

    fn start(&mut self, i: usize) {
        let db = self.db.clone();
        self.starting[i] = Some(tokio::task::spawn_blocking(move || try_serve(&db, &["--cluster"])));
    }

    /// Takes the processes that finished starting, and restarts those that ended or failed
    /// to start.
    async fn tend(&mut self) {
        for i in 0..self.children.len() {
            if self.starting[i].as_ref().is_some_and(|h| h.is_finished()) {
                match self.starting[i].take().unwrap().await.unwrap() {
                    Some((child, url)) => {
                        self.children[i] = Some(child);
                        self.ctx.urls.write().unwrap()[i] = Some(url);
                    }
                    None => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        self.start(i);
                    }
                }
            }
            if let Some(child) = &mut self.children[i] {
                if child.try_wait().unwrap().is_some() {
                    self.children[i] = None;
                    self.ctx.urls.write().unwrap()[i] = None;
                    self.exits += 1;
                    self.start(i);
                }
            }
        }
    }

    /// Waits (tending) until every slot has a running process.
    async fn all_up(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            self.tend().await;
            if self.ctx.urls.read().unwrap().iter().all(Option::is_some) {
                return;
            }
            assert!(Instant::now() < deadline, "the processes did not all start within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The slot of the writer: the process whose `/healthz` says `"role": "writer"`.
    async fn writer(&mut self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.tend().await;
            let urls = self.ctx.urls.read().unwrap().clone();
            for (i, url) in urls.iter().enumerate() {
                let Some(base) = url else { continue };
                let health = format!("{}/healthz", base.trim_end_matches("/api/v1"));
                if let Ok(resp) = self.ctx.http.get(health).send().await {
                    if let Ok(v) = resp.json::<Value>().await {
                        if v["role"] == "writer" {
                            return i;
                        }
                    }
                }
            }
            assert!(Instant::now() < deadline, "no process says it is the writer");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILLs the process in slot `i` and starts another in its place.
    fn kill(&mut self, i: usize) {
        self.ctx.urls.write().unwrap()[i] = None;
        if let Some(mut child) = self.children[i].take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        self.start(i);
    }

    fn kill_all(&mut self) {
        for i in 0..self.children.len() {
            self.ctx.urls.write().unwrap()[i] = None;
            if let Some(mut child) = self.children[i].take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Waits (tending) for the first write accepted from a request sent at or after `since`;
    /// returns how long after `since` it was answered.
    async fn next_write_after(&mut self, since: Instant, what: &str) -> Duration {
        let deadline = since + Duration::from_secs(60);
        loop {
            self.tend().await;
            let first = self.ctx.acks.lock().unwrap().iter().filter(|(sent, _)| *sent >= since).map(|a| a.1).min();
            if let Some(at) = first {
                return at - since;
            }
            assert!(Instant::now() < deadline, "no write accepted within 60 s of {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A failed test does not leave its processes running.
impl Procs {
    /// Tells the clients to stop and tends the processes while they finish their last
    /// requests (which may need a restarted process).
    async fn stop_clients(&mut self, ctx: &Ctx, clients: Vec<JoinHandle<()>>) {
        ctx.stop.store(true, Ordering::SeqCst);
        for c in clients {
            while !c.is_finished() {
                self.tend().await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            c.await.unwrap();
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The minted total every process reaches once it has applied the whole log.
async fn settled_ledger(ctx: &Ctx, base: &str, token: &str, expected: i64, context: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let min = ctx.max_seq.load(Ordering::SeqCst);
        let req = ctx.http.get(format!("{base}/admin/ledger")).bearer_auth(token).header("Peerex-Min-Seq", min);
        if let Ok(resp) = req.send().await {
            if resp.status().as_u16() == 200 {
                let v: Value = resp.json().await.unwrap();
                if balanced(&v, context) == expected {
                    return v;
                }
                assert!(
                    Instant::now() < deadline,
                    "{context}: minted {} but {expected} acknowledged: {v}",
                    v["minted"]
                );
            }
        }
        assert!(Instant::now() < deadline, "{context}: no ledger read answered in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh database with the admin `root`, a cluster of `n` processes, the traders signed up,
/// funded and logged in, and the issue open. Returns the processes, the admin's token and the
/// traders' tokens.
async fn set_up(db: &Db, ctx: &Arc<Ctx>, n: usize, rng: &mut ChaCha8Rng) -> (Procs, String, Vec<String>) {
    let st = peerex(&["admin", "create-user", "root", "--admin", "--password", PASSWORD], db).status().unwrap();
    assert!(st.success());
    let mut procs = Procs::new(db.clone(), n, ctx.clone());
    // The first process alone (the writer), so the accounts and sessions exist before the
    // others start.
    procs.start(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ctx.urls.read().unwrap()[0].is_none() {
        assert!(Instant::now() < deadline, "the first process did not start");
        procs.tend().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let creds = |name: &str| json!({"name": name, "password": PASSWORD});
    let a = send(ctx, rng, Method::POST, "/sessions", None, Some(&creds("root")), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let admin = a.body["token"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for name in TRADERS {
        let a = send(ctx, rng, Method::POST, "/users", None, Some(&creds(name)), None).await;
        assert_eq!(a.status, 201, "{}", a.body);
        let body = json!({"user": name, "amount": START_CREDITS.to_string()});
        let a =
            send(ctx, rng, Method::POST, "/admin/deposits", Some(&admin), Some(&body), Some(&format!("fund-{name}")))
                .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let a = send(ctx, rng, Method::POST, "/sessions", None, Some(&creds(name)), None).await;
        assert_eq!(a.status, 200, "{}", a.body);
        tokens.push(a.body["token"].as_str().unwrap().to_owned());
    }
    let a = send(ctx, rng, Method::POST, "/issues", Some(&admin), Some(&json!({"issue": ISSUE})), Some("issue")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    for i in 1..procs.children.len() {
        procs.start(i);
    }
    procs.all_up(Duration::from_secs(60)).await;
    (procs, admin, tokens)
}

/// The bank run: `kills` SIGKILLs of the writer at seeded moments, PostgreSQL restarted once
/// half-way, clients throughout; then every check of the module's header.
async fn bank(db: Db, ctl: String, seed: u64, kills: usize) {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let ctx = Arc::new(Ctx { http, ..Ctx::default() });
    let (mut procs, admin, tokens) = set_up(&db, &ctx, 3, &mut rng).await;
    let mut clients = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        clients.push(tokio::spawn(trader(ctx.clone(), TRADERS[i], token.clone(), seed * 100 + i as u64)));
    }
    clients.push(tokio::spawn(banker(ctx.clone(), admin.clone(), seed * 100 + 50)));
    clients.push(tokio::spawn(auditor(ctx.clone(), admin.clone(), seed * 100 + 60)));

    let mut to_write = Vec::new();
    let mut pg_restart = None;
    for k in 0..kills {
        // Load for a seeded while, then kill the writer at that moment.
        let until = Instant::now() + Duration::from_millis(rng.gen_range(300..1_500));
        while Instant::now() < until {
            procs.tend().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if k == kills / 2 {
            let down = Instant::now();
            let script = ctl.clone();
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new("bash").arg(&script).arg("--restart").output().unwrap()
            })
            .await
            .unwrap();
            assert!(out.status.success(), "{ctl} --restart: {}", String::from_utf8_lossy(&out.stderr));
            let up = Instant::now();
            pg_restart = Some((up - down, procs.next_write_after(up, "the PostgreSQL restart").await));
        }
        let writer = procs.writer().await;
        let at = Instant::now();
        procs.kill(writer);
        to_write.push(procs.next_write_after(at, &format!("kill {}", k + 1)).await);
    }
    procs.stop_clients(&ctx, clients).await;
    procs.all_up(Duration::from_secs(60)).await;

    // No acknowledged deposit or withdrawal lost or applied twice, on every process.
    let expected = TRADERS.len() as i64 * START_CREDITS * 1_000_000 + ctx.deposited.load(Ordering::SeqCst)
        - ctx.withdrawn.load(Ordering::SeqCst);
    let urls: Vec<String> = ctx.urls.read().unwrap().iter().flatten().cloned().collect();
    let mut totals = Vec::new();
    for base in &urls {
        totals.push(settled_ledger(&ctx, base, &admin, expected, &format!("the end, {base}")).await);
    }
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "the processes disagree: {totals:?}");

    // Every acknowledged offer exists exactly once; every acknowledged cancel holds.
    let placed = ctx.placed.lock().unwrap().clone();
    let cancelled = ctx.cancelled.lock().unwrap().clone();
    let mut seen_ids: HashMap<&str, usize> = HashMap::new();
    for (_, id) in &placed {
        *seen_ids.entry(id).or_default() += 1;
    }
    assert!(seen_ids.values().all(|n| *n == 1), "one offer id acknowledged for two placements");
    for base in &urls {
        for (name, token) in TRADERS.iter().zip(&tokens) {
            let min = ctx.max_seq.load(Ordering::SeqCst);
            let offers: Vec<Value> = ctx
                .http
                .get(format!("{base}/offers"))
                .bearer_auth(token)
                .header("Peerex-Min-Seq", min)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status: HashMap<&str, &str> =
                offers.iter().filter_map(|o| Some((o["id"].as_str()?, o["status"].as_str()?))).collect();
            let mine: Vec<&String> = placed.iter().filter(|(o, _)| o == name).map(|(_, id)| id).collect();
            for id in &mine {
                assert!(status.contains_key(id.as_str()), "{base}: acknowledged offer {id} of {name} lost");
            }
            assert_eq!(offers.len(), mine.len(), "{base}: {name} has offers nobody placed (applied twice?)");
            for (_, id) in cancelled.iter().filter(|(o, _)| o == name) {
                assert_eq!(status.get(id.as_str()), Some(&"cancelled"), "{base}: acknowledged cancel of {id} lost");
            }
        }
    }
    // The processes rode out PostgreSQL's restart and the failovers by themselves.
    assert_eq!(procs.exits, 0, "processes ended without being killed (the harness restarted them)");
    procs.kill_all();
    check_clean(&db, &format!("bank seed {seed}, the end"));

    to_write.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    eprintln!(
        "bank (seed {seed}, {} processes): {kills} writer kills, kill to next accepted write p50 {:.0} ms, max {:.0} ms; \
         PostgreSQL restarted in {:.0} ms, back up to next accepted write {:.0} ms; {} offers and {} cancels acknowledged \
         {} deposits and {} withdrawals, minted {}; {} ledger reads balanced; \
         {} retries; none lost or doubled; {:.1} s",
        procs.children.len(),
        ms(percentile(&to_write, 0.5)),
        ms(percentile(&to_write, 1.0)),
        pg_restart.map_or(f64::NAN, |r| ms(r.0)),
        pg_restart.map_or(f64::NAN, |r| ms(r.1)),
        placed.len(),
        cancelled.len(),
        ctx.deposits.load(Ordering::Relaxed),
        ctx.withdrawals.load(Ordering::Relaxed),
        Amount(expected),
        ctx.reads.load(Ordering::Relaxed),
        ctx.retries.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
}

/// PostgreSQL and the script that restarts it (`.ci/postgres.sh --export` sets both).
fn postgres_ctl(test: &str) -> Option<String> {
    let ctl = std::env::var("PEEREX_TEST_POSTGRES_CTL").ok().filter(|c| !c.is_empty());
    let what = "PEEREX_TEST_POSTGRES_CTL (eval \"$(bash .ci/postgres.sh --export)\")";
    if !service_or_skip(test, ctl.is_some(), what) {
        return None;
    }
    ctl
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_under_writer_kills_and_a_postgres_restart() {
    let test = "bank::bank_under_writer_kills_and_a_postgres_restart";
    let name = format!("peerex_bank_{}", std::process::id());
    let Some(ctl) = postgres_ctl(test) else { return };
    let _alone = crate::procs::postgres_alone().await;
    let Some(db) = fresh_postgres(test, &name).await else { return };
    let seed = std::env::var("PEEREX_BANK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(14);
    bank(db, ctl, seed, 12).await;
    drop_database(&name).await;
}

/// Batches of 1,000 offers that make the log longer, so a start has a rebuild to be killed in.
const LONG_BATCHES: usize = 8;

/// Kills while processes start: first on the empty database (migrations, the writer lock),
/// then, with a longer log, while a process rebuilds from it (seeded moments within the time a
/// full start takes). The processes that were not killed keep accepting writes throughout, every
/// process ends with the same balanced ledger, and `peerex check` passes.
async fn kills_while_starting(db: Db, seed: u64) {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let extra = &["--cluster"];
    let mut first_start_kills = Vec::new();
    for _ in 0..4 {
        let mut child = spawn_serve(&db, extra);
        let after = Duration::from_millis(rng.gen_range(0..300));
        tokio::time::sleep(after).await;
        child.kill().unwrap();
        child.wait().unwrap();
        first_start_kills.push(after.as_millis());
    }
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let ctx = Arc::new(Ctx { http, ..Ctx::default() });
    let (mut procs, admin, tokens) = set_up(&db, &ctx, 3, &mut rng).await;
    for b in 0..LONG_BATCHES {
        for (i, kind) in ["buy_fixed", "buy_unfixed"].into_iter().enumerate() {
            let offer = json!({"op": "place_offer", "kind": kind, "issue": ISSUE, "maturation": MATURATION,
                               "price": "0.50", "volume": 1});
            let body = json!({"commands": vec![offer; 1_000]});
            let key = format!("long-{b}-{i}");
            let a = send(&ctx, &mut rng, Method::POST, "/batch", Some(&tokens[i]), Some(&body), Some(&key)).await;
            assert_eq!((a.status, &a.body["applied"]), (200, &json!(1_000)), "{key}: {}", a.body);
        }
    }
    // How long a full start (a rebuild of the whole log) takes.
    procs.all_up(Duration::from_secs(60)).await;
    let victim = procs.children.len() - 1;
    let at = Instant::now();
    procs.kill(victim);
    procs.all_up(Duration::from_secs(120)).await;
    let full_start = at.elapsed();

    let clients = vec![
        tokio::spawn(trader(ctx.clone(), TRADERS[2], tokens[2].clone(), seed * 100 + 2)),
        tokio::spawn(auditor(ctx.clone(), admin.clone(), seed * 100 + 60)),
    ];
    let mut rebuild_kills = Vec::new();
    for round in 0..6 {
        let victim = rng.gen_range(0..procs.children.len());
        ctx.urls.write().unwrap()[victim] = None;
        let mut old = procs.children[victim].take().unwrap();
        old.kill().unwrap();
        old.wait().unwrap();
        // A new process in its place, killed at a seeded moment of its start.
        let mut child = spawn_serve(&db, extra);
        let after = full_start.mul_f64(rng.gen_range(0.0..1.2));
        tokio::time::sleep(after).await;
        let at = Instant::now();
        child.kill().unwrap();
        child.wait().unwrap();
        rebuild_kills.push(after.as_millis());
        procs.start(victim);
        procs.next_write_after(at, &format!("kill {} while starting", round + 1)).await;
        procs.all_up(Duration::from_secs(120)).await;
    }
    procs.stop_clients(&ctx, clients).await;
    procs.all_up(Duration::from_secs(120)).await;
    let expected = TRADERS.len() as i64 * START_CREDITS * 1_000_000;
    let urls: Vec<String> = ctx.urls.read().unwrap().iter().flatten().cloned().collect();
    let mut totals = Vec::new();
    for base in &urls {
        totals.push(settled_ledger(&ctx, base, &admin, expected, &format!("the end, {base}")).await);
    }
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "the processes disagree: {totals:?}");
    assert_eq!(procs.exits, 0, "processes ended without being killed (the harness restarted them)");
    procs.kill_all();
    check_clean(&db, &format!("kills while starting, seed {seed}"));
    eprintln!(
        "kills while starting (seed {seed}, {} processes): first start killed after {first_start_kills:?} ms; \
         a full start over {} commands took {:.0} ms; starts killed after {rebuild_kills:?} ms; {} offers placed \
         meanwhile, {} ledger reads balanced; consistent; {:.1} s",
        procs.children.len(),
        LONG_BATCHES * 2_000,
        full_start.as_secs_f64() * 1_000.0,
        ctx.placed.lock().unwrap().len(),
        ctx.reads.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_during_start_up_and_rebuild_leave_nothing_inconsistent() {
    let test = "bank::kills_during_start_up_and_rebuild_leave_nothing_inconsistent";
    let name = format!("peerex_bank_start_{}", std::process::id());
    let _cluster = crate::procs::postgres_shared().await;
    let Some(db) = fresh_postgres(test, &name).await else { return };
    kills_while_starting(db, 41).await;
    drop_database(&name).await;
}
