//! Issue 12 over HTTP: a statement series decided by arbiters, a dispute of a tracker series,
//! the operator's dispute window, an automated market maker, the market options of the
//! mechanism; and every bad input (wrong values, no funds, not admitted, huge strings) refused
//! with its stable code, changing nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both;
use crate::support::{enc, offer, Backend, Client, Server, ISSUE};

async fn issue_view(c: &Client, issue: &str) -> Value {
    let (st, v) = c.call(Method::GET, &format!("/series?issue={}", enc(issue)), None, None).await;
    assert_eq!(st, 200, "{v}");
    v[0].clone()
}

async fn advance(s: &Server, admin: &str, seconds: i64) {
    let (st, v) = s.client.post("/admin/clock", admin, json!({"advance_seconds": seconds})).await;
    assert_eq!(st, 200, "{v}");
}

/// Refused with `status` and `code`.
fn refused(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", got.1);
}

#[tokio::test]
async fn a_statement_is_decided_by_its_arbiters_and_settles_once() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let admin = s.admin().await;
    let sam = s.funded("sam", "1000").await;
    let mat = s.days_from_now(2).await;
    let stmt = json!({"issue": "review/pr-42", "statement": "The review of PR 42 finds no blocking problem",
                      "maturation": mat, "bond": "100", "min_reports": 3, "report_days": 2});

    // Bad inputs first: each refused, nothing opened, nothing paid.
    let mut long = stmt.clone();
    long["statement"] = json!("x".repeat(1001));
    refused(c.post("/statements", &sam, long).await, 400, "invalid_argument");
    let mut blank = stmt.clone();
    blank["statement"] = json!("   ");
    refused(c.post("/statements", &sam, blank).await, 400, "invalid_argument");
    let mut big_issue = stmt.clone();
    big_issue["issue"] = json!("i".repeat(201));
    refused(c.post("/statements", &sam, big_issue).await, 400, "invalid_argument");
    let mut rich = stmt.clone();
    rich["bond"] = json!("5000");
    refused(c.post("/statements", &sam, rich).await, 422, "insufficient_funds");
    let mut zero = stmt.clone();
    zero["bond"] = json!("0");
    refused(c.post("/statements", &sam, zero).await, 400, "invalid_amount");
    let mut window = stmt.clone();
    window["report_days"] = json!(366);
    refused(c.post("/statements", &sam, window).await, 400, "invalid_argument");
    let mut past = stmt.clone();
    past["maturation"] = json!("2000-01-01T00:00:00Z");
    refused(c.post("/statements", &sam, past).await, 422, "maturation_in_past");
    refused(c.post("/statements", &sam, json!({"issue": "x"})).await, 400, "invalid_body");
    assert_eq!(c.me(&sam).await["available"], "1000");
    let (st, _) = c.call(Method::GET, "/series?issue=review%2Fpr-42", None, None).await;
    assert_eq!(st, 404, "no issue was opened");

    let (st, v) = c.post("/statements", &sam, stmt.clone()).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["series"][0]["decided_by"], "arbitration");
    let a = &v["series"][0]["arbitration"];
    assert_eq!(a["kind"], "statement");
    assert_eq!(a["statement"], "The review of PR 42 finds no blocking problem");
    assert_eq!(a["state"], "waiting");
    assert_eq!(a["bond"], "100");
    assert_eq!(a["report_deadline"], Value::Null);
    assert_eq!(c.me(&sam).await["available"], "900");
    refused(c.post("/statements", &sam, stmt.clone()).await, 409, "duplicate_id");

    let report = |v: u8| json!({"issue": "review/pr-42", "maturation": mat, "value": v});
    let arbiters = [s.funded("ann", "10").await, s.funded("bob", "10").await, s.funded("cat", "10").await];
    refused(c.post("/series/reports", &arbiters[0], report(1)).await, 422, "invalid_state");

    advance(&s, &admin, 2 * 86_400 + 60).await;
    let series = issue_view(&c, "review/pr-42").await;
    assert_eq!(series["status"], "matured");
    assert_eq!(series["arbitration"]["state"], "reporting");
    assert!(series["arbitration"]["report_deadline"].is_string(), "{series}");
    // The sponsor is not admitted; a report is 0 or 1; a tracker series takes no reports.
    refused(c.post("/series/reports", &sam, report(1)).await, 403, "not_eligible");
    refused(c.post("/series/reports", &arbiters[0], report(2)).await, 400, "invalid_argument");
    for t in &arbiters {
        let (st, v) = c.post("/series/reports", t, report(1)).await;
        assert_eq!(st, 200, "{v}");
    }
    refused(c.post("/series/reports", &arbiters[0], report(0)).await, 409, "already_reported");
    assert_eq!(issue_view(&c, "review/pr-42").await["arbitration"]["reports"], 3);
    // An admin cannot decide it by hand.
    let decide = json!({"issue": "review/pr-42", "maturation": mat, "winner": "unfixed"});
    refused(c.post("/admin/decide", &admin, decide).await, 409, "already_disputed");

    advance(&s, &admin, 2 * 86_400 + 60).await;
    let series = issue_view(&c, "review/pr-42").await;
    assert_eq!(series["status"], "settled", "{series}");
    assert_eq!(series["arbitration"]["state"], "decided");
    assert_eq!(series["decided_by"], "arbitration");
    // The arbiters were paid from the bond; the rest returned to the sponsor: no credit lost.
    let mut total = 0.0;
    for t in arbiters.iter().chain([&sam]) {
        total += c.me(t).await["available"].as_str().unwrap().parse::<f64>().unwrap();
    }
    assert!((total - 1030.0).abs() < 1e-6, "{total}");
    refused(c.post("/series/reports", &arbiters[0], report(1)).await, 409, "already_resolved");
}

async fn a_dispute_turns_a_tracker_series_over_to_arbitration_in_its_window(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let admin = s.admin().await;
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    let dora = s.funded("dora", "100").await;
    let poor = s.user("poor").await;

    // The operator's window: admins only, bounded.
    refused(c.post("/admin/disputes", &adam, json!({"hours": 24})).await, 403, "forbidden");
    refused(c.post("/admin/disputes", &admin, json!({"hours": -1})).await, 400, "invalid_argument");
    refused(c.post("/admin/disputes", &admin, json!({"hours": 100_000})).await, 400, "invalid_argument");
    let (st, v) = c.post("/admin/disputes", &admin, json!({"hours": 24})).await;
    assert_eq!((st, v["hours"].as_i64()), (200, Some(24)), "{v}");
    let (_, v) = c.call(Method::GET, "/disputes", None, None).await;
    assert_eq!(v["hours"], 24);

    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE, "title": "Crash"})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(2).await;
    c.post("/offers", &adam, offer("buy_unfixed", &mat, "0.80", 10)).await;
    let (st, v) = c.post("/offers", &beth, offer("buy_fixed", &mat, "0.20", 10)).await;
    assert_eq!(st, 201, "{v}");
    let dispute = |bond: &str| json!({"issue": ISSUE, "maturation": mat, "bond": bond});
    refused(c.post("/series/disputes", &dora, dispute("50")).await, 422, "invalid_state");

    advance(&s, &admin, 2 * 86_400 + 60).await;
    let series = issue_view(&c, ISSUE).await;
    assert_eq!(series["status"], "matured", "the tracker waits for the window: {series}");
    assert_eq!(series["decided_by"], "tracker");
    assert!(series["dispute_until"].is_string(), "{series}");
    // No funds, too large a bond, a bad bond: refused, nothing changed.
    refused(c.post("/series/disputes", &poor, dispute("50")).await, 422, "insufficient_funds");
    refused(c.post("/series/disputes", &dora, dispute("101")).await, 422, "insufficient_funds");
    refused(c.post("/series/disputes", &dora, dispute("-5")).await, 400, "invalid_amount");
    refused(
        c.post(
            "/series/disputes",
            &dora,
            json!({"issue": ISSUE, "maturation": "2001-01-01T00:00:00Z",
        "bond": "5"}),
        )
        .await,
        404,
        "unknown_series",
    );
    assert_eq!(c.me(&dora).await["available"], "100");
    assert_eq!(issue_view(&c, ISSUE).await["decided_by"], "tracker");

    let (st, v) = c.post("/series/disputes", &dora, dispute("50")).await;
    assert_eq!(st, 200, "{v}");
    let series = &v["series"][0];
    assert_eq!(series["decided_by"], "arbitration");
    assert_eq!(series["arbitration"]["kind"], "dispute");
    assert_eq!(series["arbitration"]["state"], "reporting");
    assert_eq!(series["dispute_until"], Value::Null);
    assert_eq!(c.me(&dora).await["available"], "50");
    refused(c.post("/series/disputes", &adam, dispute("10")).await, 409, "already_disputed");

    // A restart rebuilds the same state from the log: still under arbitration, window and all.
    let before = issue_view(&c, ISSUE).await;
    s.restart().await;
    let c = s.client.clone();
    assert_eq!(issue_view(&c, ISSUE).await, before);
    let (_, v) = c.call(Method::GET, "/disputes", None, None).await;
    assert_eq!(v["hours"], 24);
    let admin = s.admin().await;

    // Nobody reports: the bond returns and the tracker decides, once.
    advance(&s, &admin, 4 * 86_400).await;
    let series = issue_view(&c, ISSUE).await;
    assert_eq!(series["status"], "settled", "{series}");
    assert_eq!(series["decided_by"], "tracker");
    assert_eq!(series["arbitration"]["state"], "to_tracker");
    assert_eq!(series["winner"], "unfixed");
    assert_eq!(c.me(&dora).await["available"], "100");
    refused(c.post("/series/disputes", &dora, dispute("10")).await, 422, "invalid_state");
}

on_both!(a_dispute_turns_a_tracker_series_over_to_arbitration_in_its_window);

#[tokio::test]
async fn a_market_maker_quotes_on_the_book_and_never_loses_more_than_its_subsidy() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let fred = s.funded("fred", "100").await;
    let tess = s.funded("tess", "100").await;
    let poor = s.funded("poor", "1").await;
    let (st, _) = c.post("/issues", &fred, json!({"issue": ISSUE, "title": "Thin book"})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(7).await;
    let fund = |b: &str, levels: u32| json!({"issue": ISSUE, "maturation": mat, "b": b, "levels": levels});
    let q = format!("/makers?issue={}&maturation={}", enc(ISSUE), enc(&mat));

    refused(c.post("/makers", &poor, fund("100", 5)).await, 422, "insufficient_funds");
    refused(c.post("/makers", &fred, fund("0", 5)).await, 400, "invalid_argument");
    refused(c.post("/makers", &fred, fund("10", 0)).await, 400, "invalid_argument");
    refused(c.post("/makers", &fred, fund("10", 51)).await, 400, "invalid_argument");
    refused(c.post("/makers", &fred, fund("2000000", 5)).await, 400, "invalid_argument");
    refused(
        c.post("/makers", &fred, json!({"issue": "no/such#1", "maturation": mat, "b": "10"})).await,
        404,
        "unknown_issue",
    );
    assert_eq!(c.me(&poor).await["available"], "1");
    assert_eq!(c.me(&fred).await["available"], "100");
    refused(c.call(Method::GET, &q, None, None).await, 404, "unknown_series");

    let (st, m) = c.post("/makers", &fred, fund("10", 3)).await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["subsidy"], "6.931472");
    assert_eq!(m["active"], true);
    assert_eq!(m["quotes"].as_array().map(Vec::len), Some(6), "{m}");
    assert_eq!(c.me(&fred).await["available"], "93.068528");
    refused(c.post("/makers", &fred, fund("10", 3)).await, 409, "duplicate_id");

    let series = issue_view(&c, ISSUE).await;
    assert_eq!(series["maker"]["subsidy"], "6.931472", "{series}");
    let (_, book) =
        c.call(Method::GET, &format!("/book?issue={}&maturation={}", enc(ISSUE), enc(&mat)), None, None).await;
    assert!(book["asks"][0]["maker_volume"].as_u64().unwrap() > 0, "{book}");
    assert_eq!(book["asks"][0]["maker_volume"], book["asks"][0]["volume"]);

    // A trader lifts its asks; it re-quotes and its loss stays within the subsidy.
    let (st, v) = c.post("/offers", &tess, offer("buy_fixed", &mat, "0.9", 5)).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"], "filled", "{v}");
    let (st, m) = c.call(Method::GET, &q, None, None).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["traders_net_fixed"], 5);
    let loss: f64 = m["worst_case_loss"].as_str().unwrap().parse().unwrap();
    assert!(loss <= 6.931472, "{m}");
    assert!(!m["quotes"].as_array().unwrap().is_empty());

    // Another series of the issue has no maker.
    let other = s.days_from_now(9).await;
    c.post("/offers", &tess, offer("buy_fixed", &other, "0.1", 1)).await;
    let q2 = format!("/makers?issue={}&maturation={}", enc(ISSUE), enc(&other));
    refused(c.call(Method::GET, &q2, None, None).await, 404, "no_maker");
}

#[tokio::test]
async fn market_create_takes_the_mechanism_options() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let mia = s.funded("mia", "1000").await;
    let deadline = s.days_from_now(5).await;
    let body = json!({"statement": "Will it ship?", "deadline": deadline, "b": "10", "fee": "0.05",
        "fee_mode": "share", "position_cap": "5", "robust_prior": true, "bond": "20", "too_few": "extend"});
    let mut bad = body.clone();
    bad["fee_mode"] = json!("per_moon");
    refused(c.post("/markets", &mia, bad).await, 400, "invalid_body");
    let mut bad = body.clone();
    bad["position_cap"] = json!("-1");
    refused(c.post("/markets", &mia, bad).await, 400, "invalid_argument");
    let (st, v) = c.post("/markets", &mia, body).await;
    assert_eq!(st, 201, "{v}");
    let setup = &v["setup"];
    assert_eq!(setup["fee_mode"], "share", "{v}");
    assert_eq!(setup["position_cap"], "5");
    assert_eq!(setup["robust_prior"], true);
    assert_eq!(setup["bond"], "20");
    assert_eq!(setup["too_few"], "extend");
}

#[tokio::test]
async fn huge_bodies_are_refused_before_the_writer() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let sam = s.funded("sam", "1000").await;
    let huge = "y".repeat(200_000);
    let (st, v) = c
        .post(
            "/statements",
            &sam,
            json!({"issue": "a", "statement": huge, "maturation": "2030-01-01T00:00:00Z", "bond": "1"}),
        )
        .await;
    assert_eq!(st, 413, "{v}");
    let (st, v) = c
        .call(Method::GET, &format!("/makers?issue={}&maturation=2030-01-01T00:00:00Z", "z".repeat(300)), None, None)
        .await;
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid_argument")), "{v}");
    assert_eq!(c.me(&sam).await["available"], "1000");
}

#[tokio::test]
async fn an_arbiter_above_the_position_cap_is_not_admitted_to_report() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let admin = s.admin().await;
    let sam = s.funded("sam", "100").await;
    let ann = s.funded("ann", "100").await;
    let bob = s.funded("bob", "100").await;
    let mat = s.days_from_now(2).await;
    let (st, v) = c
        .post(
            "/statements",
            &sam,
            json!({"issue": "audit/x", "statement": "The audit of X finds no vulnerability", "maturation": mat,
                   "bond": "20", "position_cap": "2", "min_reports": 2}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["series"][0]["arbitration"]["position_cap"], "2");
    let buy = |kind: &str| json!({"kind": kind, "issue": "audit/x", "maturation": mat, "price": "0.5", "volume": 5});
    assert_eq!(c.post("/offers", &ann, buy("buy_fixed")).await.0, 201);
    let (st, v) = c.post("/offers", &bob, buy("buy_unfixed")).await;
    assert_eq!((st, v["status"].as_str()), (201, Some("filled")), "{v}");
    advance(&s, &admin, 2 * 86_400 + 60).await;
    let report = json!({"issue": "audit/x", "maturation": mat, "value": 1});
    refused(c.post("/series/reports", &ann, report.clone()).await, 403, "not_eligible");
    refused(c.post("/series/reports", &bob, report.clone()).await, 403, "not_eligible");
    assert_eq!(issue_view(&c, "audit/x").await["arbitration"]["reports"], 0, "nothing recorded");
    // Reports on a tracker series, or on no series at all, are refused too.
    refused(
        c.post("/series/reports", &ann, json!({"issue": "audit/x", "maturation": "2031-01-01T00:00:00Z", "value": 1}))
            .await,
        404,
        "unknown_series",
    );
    refused(c.post("/series/reports", &ann, json!({"issue": "audit/x", "value": 1})).await, 400, "invalid_body");
}

/// The tick job ticks when a prediction market's deadline is due (the engine's `next_due`
/// covers it), not only at its forced tick every 30 periods (6 s with the tests' 200 ms).
#[tokio::test]
async fn a_markets_deadline_gets_its_tick_on_time() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let mia = s.funded("mia", "1000").await;
    // Past the job's first (forced) tick.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (_, clock) = c.call(Method::GET, "/clock", None, None).await;
    let now = peerex_engine::Timestamp::parse(clock["now"].as_str().unwrap()).unwrap();
    let deadline = peerex_engine::Timestamp::from_millis((now.millis() / 1000 + 2) * 1000);
    let body = json!({"statement": "Soon?", "deadline": deadline.to_rfc3339(), "b": "10", "fee": "0.05"});
    let (st, v) = c.post("/markets", &mia, body).await;
    assert_eq!(st, 201, "{v}");
    let path = format!("/markets/{}", v["id"].as_str().unwrap());
    let started = std::time::Instant::now();
    loop {
        let (st, m) = c.call(Method::GET, &path, None, None).await;
        assert_eq!(st, 200, "{m}");
        if m["status"] != "open" {
            assert_eq!(m["status"], "reporting", "{m}");
            break;
        }
        assert!(started.elapsed().as_secs_f64() < 4.5, "no tick at the deadline: {m}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
