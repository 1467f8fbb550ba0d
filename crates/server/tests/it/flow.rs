//! The worked example of seed 001 over HTTP: an admin mints credits, Adam funds a fix, Beth
//! takes the fixed side, the issue is closed, the sandbox clock passes the maturation and the
//! series settles: Beth 1160, Adam 840.

use reqwest::Method;
use serde_json::json;

use crate::on_both;
use crate::support::{enc, offer, Backend, Server, ISSUE};

async fn adam_beth_over_http(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    let admin = s.admin().await;

    let (st, issue) = c.post("/issues", &adam, json!({"issue": ISSUE, "title": "Crash on start"})).await;
    assert_eq!(st, 201, "{issue}");
    assert_eq!(issue["issue"], ISSUE);
    assert_eq!(issue["state"], "open");

    let mat = s.days_from_now(14).await;
    let (st, a1) = c.post("/offers", &adam, offer("buy_unfixed", &mat, "0.80", 200)).await;
    assert_eq!(st, 201, "{a1}");
    assert_eq!(a1["status"], "open");
    assert_eq!(a1["remaining"], 200);
    assert!(a1["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(c.me(&adam).await["held"], "160");

    let (st, b1) = c.post("/offers", &beth, offer("buy_fixed", &mat, "0.20", 200)).await;
    assert_eq!(st, 201, "{b1}");
    assert_eq!(b1["status"], "filled");
    assert_eq!(b1["remaining"], 0);
    assert_eq!(b1["trades"][0]["kind"], "expand");
    assert_eq!(b1["trades"][0]["volume"], 200);

    let me = c.me(&adam).await;
    assert_eq!(
        (me["name"].as_str(), me["available"].as_str(), me["held"].as_str()),
        (Some("adam"), Some("840"), Some("0"))
    );
    assert_eq!(c.me(&beth).await["available"], "960");

    let (st, series) = c.call(Method::GET, &format!("/series?issue={}", enc(ISSUE)), None, None).await;
    assert_eq!(st, 200);
    assert_eq!(series[0]["units"], 200);
    assert_eq!(series[0]["escrow"], "200");
    assert_eq!(series[0]["status"], "open");
    assert_eq!(series[0]["fixed_price"], "0.2");

    let (_, positions) = c.get("/positions", &beth).await;
    assert_eq!(positions[0]["issue"], ISSUE);
    assert_eq!(positions[0]["side"], "fixed");
    assert_eq!(positions[0]["units"], 200);
    assert_eq!(positions[0]["maturation"], mat.as_str());

    let q = format!("?issue={}&maturation={}", enc(ISSUE), enc(&mat));
    let (st, trades) = c.call(Method::GET, &format!("/trades{q}"), None, None).await;
    assert_eq!(st, 200, "{trades}");
    assert_eq!(trades["events"].as_array().unwrap().len(), 1);
    assert_eq!(trades["events"][0]["price"], "0.2");
    let (_, prices) = c.call(Method::GET, &format!("/prices{q}"), None, None).await;
    assert_eq!(prices["points"][0]["volume"], 200);
    let (st, book) = c.call(Method::GET, &format!("/book{q}"), None, None).await;
    assert_eq!(st, 200);
    assert_eq!(book["bids"], json!([]));

    // The issue is fixed: Adam (its opener) closes it, then the sandbox clock passes maturation.
    let (st, closed) = c.post("/issues/close", &adam, json!({"issue": ISSUE, "reason": "completed"})).await;
    assert_eq!(st, 200, "{closed}");
    assert_eq!(closed["state"], "closed");
    let (st, clock) = c.post("/admin/clock", &admin, json!({"advance_seconds": 15 * 86_400})).await;
    assert_eq!(st, 200, "{clock}");

    assert_eq!(c.me(&beth).await["available"], "1160");
    assert_eq!(c.me(&adam).await["available"], "840");
    let (_, series) = c.call(Method::GET, &format!("/series?issue={}", enc(ISSUE)), None, None).await;
    assert_eq!(series[0]["status"], "settled");
    assert_eq!(series[0]["winner"], "fixed");
    assert_eq!(series[0]["escrow"], "0");

    // Beth's feed tells her story, in order, after a cursor.
    let (_, feed) = c.get("/events", &beth).await;
    let types: Vec<&str> = feed["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["user_created", "deposited", "offer_placed", "traded", "offer_filled", "payout"]);
    let cursor = feed["events"][3]["cursor"].as_i64().unwrap();
    let (_, rest) = c.get(&format!("/events?after={cursor}"), &beth).await;
    assert_eq!(rest["events"].as_array().unwrap().len(), 2);
    assert_eq!(rest["events"][1]["amount"], "200");

    // The state survives a restart (rebuilt from the command log) and the ledger checks out.
    s.restart().await;
    let c = s.client.clone();
    let beth = c.login("beth", crate::support::PASSWORD).await;
    assert_eq!(c.me(&beth).await["available"], "1160");
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.users, 2);
    assert_eq!(report.minted, "2000");
}
on_both!(adam_beth_over_http);

/// Prediction markets are routed to the engine: create, quote, trade, list.
async fn markets_over_http(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let alice = s.funded("alice", "100").await;
    let bob = s.funded("bob", "100").await;
    let deadline = s.days_from_now(7).await;
    let (st, m) = c
        .post("/markets", &alice, json!({"id": "m1", "statement": "Tavistock win", "deadline": deadline, "b": "10"}))
        .await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["id"], "m1");
    assert_eq!(m["status"], "open");
    let (st, quote) = c.get("/markets/m1/quote?shares=10", &bob).await;
    assert_eq!(st, 200, "{quote}");
    let cost = peerex_engine::Amount::parse(quote["total"].as_str().unwrap()).unwrap();
    assert!(cost.is_positive());
    let (st, traded) = c.post("/markets/m1/trades", &bob, json!({"shares": "10"})).await;
    assert_eq!(st, 201, "{traded}");
    let available = peerex_engine::Amount::parse(c.me(&bob).await["available"].as_str().unwrap()).unwrap();
    assert_eq!(
        available,
        peerex_engine::Amount::credits(100).checked_sub(cost).unwrap(),
        "the quote is what the trade cost"
    );
    let (_, all) = c.call(Method::GET, "/markets", None, None).await;
    assert_eq!(all["m1"]["trades"], 1);
    let (st, body) = c.post("/markets/nope/trades", &bob, json!({"shares": "1"})).await;
    assert_eq!(st, 404, "{body}");
    let (st, body) = c.post("/markets/m1/trades", &bob, json!({"shares": "many"})).await;
    assert_eq!(st, 400, "{body}");
}
on_both!(markets_over_http);
