//! Regression tests for the holes an outside test found: times the log cannot replay, control
//! characters, limits checked outside the writer, shared id namespaces, connections that never
//! finish their headers, and fatal states that did not stop the process.

use std::time::{Duration, Instant};

use peerex_server::settings::Settings;
use peerex_server::store::{BatchWrite, Store};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::on_both;
use crate::support::{fresh_database, offer, Backend, Server, ISSUE};

/// Every instant the tester sent, one per field that carries a time: each is refused with a 4xx
/// `invalid_time`, nothing is logged, and the server restarts and checks clean afterwards.
async fn times_outside_the_replayable_range_are_refused(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let admin = s.admin().await;
    let ann = s.funded("ann", "1000").await;
    let (st, body) = c.post("/issues", &ann, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201, "{body}");

    let (st, body) = c.post("/offers", &ann, offer("buy_fixed", "9999-12-31T23:59:59-23:59", "0.5", 1)).await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid_time")), "{body}");
    let market = json!({"id": "m1", "statement": "s", "deadline": "0000-01-01T00:00:00+00:01", "b": "10"});
    let (st, body) = c.post("/markets", &ann, market).await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid_time")), "{body}");
    let (st, body) = c.post("/admin/clock", &admin, json!({"to": "9999-12-31T00:00:00Z"})).await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid_time")), "{body}");
    let sync = json!({"issue": "gh/x#1", "tracker": "github", "state": "open",
                      "observed_at": "0000-01-01T00:00:00+23:59"});
    let (st, body) = c.post("/admin/sync", &admin, sync).await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid_time")), "{body}");

    // What the engine accepts still works, and the log replays.
    let (st, body) = c.post("/offers", &ann, offer("buy_fixed", "9998-12-31T00:00:00Z", "0.5", 1)).await;
    assert_eq!(st, 201, "{body}");
    s.restart().await;
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(times_outside_the_replayable_range_are_refused);

/// Appends one raw command row to a stopped server's log.
async fn append_to_log(s: &Server, body: &str, error: Option<&str>) -> i64 {
    let (store, lock) = Store::open(&s.db, true).await.unwrap();
    let seq = store.load_log().await.unwrap().last().map_or(1, |c| c.seq + 1);
    let b = BatchWrite { commands: vec![(seq, 0, body.to_owned(), error.map(str::to_owned))], ..Default::default() };
    store.write_batch(&b).await.unwrap();
    store.close().await;
    // Released now: dropped, a PostgreSQL advisory lock is freed only once the server notices
    // the closed session, and the start that follows could find it still held.
    if let Some(lock) = lock {
        lock.release().await;
    }
    seq
}

/// A log row that cannot be read stops the start with a message naming its seq.
async fn an_unreadable_log_row_stops_the_start(backend: Backend) {
    let mut s = Server::start(backend).await;
    s.funded("ann", "10").await;
    s.stop().await;
    let seq = append_to_log(&s, r#"{"at":"+10000-01-01T00:00:00Z","op":"tick"}"#, None).await;
    let err = peerex_server::start(s.settings.clone()).await.err().expect("the start must fail");
    let text = format!("{err:#}");
    assert!(text.contains(&format!("command {seq} in the log does not parse")), "{text}");
    assert!(peerex_server::check(&s.db).await.is_err());
}
on_both!(an_unreadable_log_row_stops_the_start);

/// A log whose replay differs from what was recorded stops the start (it was only a warning).
async fn a_replay_mismatch_stops_the_start(backend: Backend) {
    let mut s = Server::start(backend).await;
    s.funded("ann", "10").await;
    s.stop().await;
    // Recorded as accepted, but replaying it is refused (no such user).
    let body = r#"{"at":"2999-01-01T00:00:00Z","op":"withdraw","user":"nobody","amount":"1"}"#;
    let seq = append_to_log(&s, body, None).await;
    let err = peerex_server::start(s.settings.clone()).await.err().expect("the start must fail");
    let text = format!("{err:#}");
    assert!(text.contains("does not replay as recorded") && text.contains(&format!("command {seq}")), "{text}");
}
on_both!(a_replay_mismatch_stops_the_start);

/// NUL and other control characters never reach the database: on PostgreSQL a NUL in an issue
/// name made the commit fail and the server exit.
async fn control_characters_are_refused_before_storage(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "1000").await;
    for body in [
        json!({"issue": "a\u{0}b"}),
        json!({"issue": "a\u{1b}[2Jb"}),
        json!({"issue": "ok#1", "title": "nul \u{0} inside"}),
        json!({"issue": "ok#1", "labels": ["x\u{0}"]}),
    ] {
        let (st, resp) = c.post("/issues", &ann, body.clone()).await;
        assert_eq!((st, resp["code"].as_str()), (400, Some("invalid_argument")), "{body}: {resp}");
    }
    let market = json!({"id": "m\u{0}", "statement": "s", "deadline": s.days_from_now(3).await, "b": "10"});
    let (st, resp) = c.post("/markets", &ann, market).await;
    assert_eq!((st, resp["code"].as_str()), (400, Some("invalid_argument")), "{resp}");
    // The writer is alive and the database took nothing odd.
    let health = c.http.get(format!("{}/healthz", c.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(s.running.as_ref().unwrap().healthy());
    let (st, body) = c.post("/issues", &ann, json!({"issue": "ok#1", "title": "two\nlines"})).await;
    assert_eq!(st, 201, "{body}");
}
on_both!(control_characters_are_refused_before_storage);

/// The open-offer limit holds under concurrency: 100 parallel offers with a limit of 5 open
/// exactly 5 (the readers' check let all 100 through), and the limit survives a restart.
async fn the_open_offer_limit_holds_under_parallel_requests(backend: Backend) {
    let mut settings = Settings::for_tests(fresh_database(backend).await);
    settings.max_open_offers = 5;
    let mut s = Server::start_with(settings).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "100000").await;
    let (st, _) = c.post("/issues", &ann, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (c, ann, mat) = (c.clone(), ann.clone(), mat.clone());
            tokio::spawn(async move { c.post("/offers", &ann, offer("buy_fixed", &mat, "0.10", 1)).await })
        })
        .collect();
    let mut placed = 0;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        match st {
            201 => placed += 1,
            422 => assert_eq!(body["code"], "limit_exceeded", "{body}"),
            _ => panic!("{st} {body}"),
        }
    }
    assert_eq!(placed, 5);
    let (_, open) = c.get("/offers?status=open", &ann).await;
    assert_eq!(open.as_array().unwrap().len(), 5);
    s.restart().await;
    let c = s.client.clone();
    let ann = c.login("ann", crate::support::PASSWORD).await;
    let (st, body) = c.post("/offers", &ann, offer("buy_fixed", &mat, "0.10", 1)).await;
    assert_eq!((st, body["code"].as_str()), (422, Some("limit_exceeded")), "{body}");
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(the_open_offer_limit_holds_under_parallel_requests);

/// Ids the server assigns (`t<seq>` for market trades sent without one) cannot be taken by a
/// client first: someone sending t500..t529 made other users' trades fail with duplicate_id.
async fn client_ids_never_take_server_ids(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "1000").await;
    let bob = s.funded("bob", "1000").await;
    let market = json!({"id": "m1", "statement": "rain?", "deadline": s.days_from_now(3).await, "b": "10"});
    let (st, body) = c.post("/markets", &ann, market).await;
    assert_eq!(st, 201, "{body}");
    // The next command sequences: whatever they are, ann tries to take a window of them.
    for n in 1..60 {
        let (st, body) = c.post("/markets/m1/trades", &ann, json!({"id": format!("t{n}"), "shares": "0.01"})).await;
        assert_eq!((st, body["code"].as_str()), (400, Some("invalid_argument")), "t{n}: {body}");
    }
    let (st, body) = c.post("/markets/m1/trades", &ann, json!({"id": "ann-t5", "shares": "0.01"})).await;
    assert_eq!(st, 201, "{body}");
    for _ in 0..5 {
        let (st, body) = c.post("/markets/m1/trades", &bob, json!({"shares": "0.01"})).await;
        assert_eq!(st, 201, "{body}");
    }
}
on_both!(client_ids_never_take_server_ids);

/// Raises this process's soft limit on open files (the test holds 1,000 sockets, the server
/// side as many as it accepts).
fn raise_fd_limit(want: libc::rlim_t) {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < want {
            r.rlim_cur = want.min(r.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

async fn half_open(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let mut conn = tokio::net::TcpStream::connect(addr).await?;
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: peerex\r\n").await?;
    Ok(conn)
}

/// A connection that never finishes its headers is closed after the header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_timed_out() {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.conn.header_timeout = Duration::from_millis(300);
    let mut s = Server::start_with(settings).await;
    let mut conn = half_open(s.running.as_ref().unwrap().addr).await.unwrap();
    let mut buf = [0u8; 256];
    let started = Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read(&mut conn, &mut buf)).await;
    assert!(read.is_ok(), "the server kept a half-open connection for 5 s");
    assert!(started.elapsed() < Duration::from_secs(3));
    s.stop().await;
}

/// One address cannot hold more than its share of connections: beyond the cap they are closed
/// on accept, while another address is served normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_capped() {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.conn.max_per_address = 8;
    let mut s = Server::start_with(settings).await;
    let addr = s.running.as_ref().unwrap().addr;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(half_open(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = half_open(addr).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), tokio::io::AsyncReadExt::read(&mut extra, &mut buf))
        .await
        .expect("a connection over the cap must be closed at once");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    drop(held);
    s.stop().await;
}

/// While 1,000 idle half-open connections from one address are held, a normal client (from
/// another loopback address) is answered within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_client_is_served_while_1000_half_open_connections_are_held() {
    raise_fd_limit(8_192);
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.conn = peerex_server::conn::ConnLimits::default();
    let mut s = Server::start_with(settings).await;
    let addr = s.running.as_ref().unwrap().addr;
    let mut held = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        match half_open(addr).await {
            Ok(c) => held.push(c),
            Err(e) => panic!("opening half-open connection {}: {e}", held.len()),
        }
    }
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let resp = client.get(format!("http://{addr}/healthz")).send().await;
    let resp = resp.unwrap_or_else(|e| panic!("no answer within a second while 1,000 are held: {e}"));
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(held);
    s.stop().await;
}

/// A writer that lost its lock can never commit again: each process that takes the lock moves
/// the writer epoch on, and a batch fenced with an older epoch is refused with nothing written.
/// (On PostgreSQL the lock lives on its own connection: a killed writer's last commit could
/// land after the next writer loaded the log; the fence orders or refuses it.)
async fn a_writer_that_lost_its_lock_can_never_commit_again(backend: Backend) {
    let db = fresh_database(backend).await;
    let row = |seq: i64| (seq, 0, r#"{"at":"2026-01-01T00:00:00Z","op":"tick"}"#.to_owned(), None);
    let (old, lock) = Store::open(&db, true).await.unwrap();
    let lock = lock.expect("the writer lock");
    let first = lock.epoch();
    assert_eq!(old.epoch().await.unwrap(), first);
    let b = BatchWrite { commands: vec![row(1)], fence: Some(first), ..Default::default() };
    old.write_batch(&b).await.expect("the lock holder commits");
    lock.release().await;

    let (new, lock2) = Store::open(&db, true).await.unwrap();
    let lock2 = lock2.expect("the lock, once released");
    assert_eq!(lock2.epoch(), first + 1, "taking the lock moves the epoch on");
    let stale = BatchWrite { commands: vec![row(2)], fence: Some(first), ..Default::default() };
    let err = old.write_batch(&stale).await.expect_err("the old writer is fenced");
    assert!(format!("{err:#}").contains("fenced"), "{err:#}");
    assert_eq!(new.load_log().await.unwrap().len(), 1, "the fenced batch wrote nothing");
    let b = BatchWrite { commands: vec![row(2)], fence: Some(lock2.epoch()), ..Default::default() };
    new.write_batch(&b).await.expect("the new writer commits");
    assert_eq!(new.load_log().await.unwrap().len(), 2);
    old.close().await;
    new.close().await;
    lock2.release().await;
}
on_both!(a_writer_that_lost_its_lock_can_never_commit_again);
