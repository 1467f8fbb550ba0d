//! The worked example of seed 001 over HTTP: an admin mints credits, Adam funds a fix, Beth
//! takes the fixed side, the issue is closed, the sandbox clock passes the maturation and the
//! series settles: Beth 1160, Adam 840.

use reqwest::Method;
use serde_json::{json, Value};

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
    // GET /markets is a list (filterable and paged), GET /markets/{id} one market.
    let (_, all) = c.call(Method::GET, "/markets", None, None).await;
    assert_eq!(all[0]["id"], "m1", "{all}");
    assert_eq!(all[0]["trades"], 1);
    let (_, none) = c.call(Method::GET, "/markets?status=resolved", None, None).await;
    assert_eq!(none, json!([]));
    let (st, _) = c.call(Method::GET, "/markets?status=bogus", None, None).await;
    assert_eq!(st, 400);
    let (st, one) = c.call(Method::GET, "/markets/m1", None, None).await;
    assert_eq!((st, one["id"].as_str()), (200, Some("m1")), "{one}");
    let (st, _) = c.call(Method::GET, "/markets/nope", None, None).await;
    assert_eq!(st, 404);
    // Quotes need no login.
    let (st, q) = c.call(Method::GET, "/markets/m1/quote?shares=1", None, None).await;
    assert_eq!(st, 200, "{q}");
    // The server names a market created without an id.
    let (st, created) =
        c.post("/markets", &alice, json!({"statement": "No id", "deadline": deadline, "b": "10"})).await;
    assert_eq!(st, 201, "{created}");
    assert_eq!(created["id"], "m2");
    // A user's shares.
    let (st, shares) = c.get("/shares", &bob).await;
    assert_eq!(st, 200, "{shares}");
    assert_eq!(shares[0]["market"], "m1");
    assert_eq!(shares[0]["outcome"], 1);
    assert_eq!(shares[0]["shares"], "10");
    let (st, body) = c.post("/markets/nope/trades", &bob, json!({"shares": "1"})).await;
    assert_eq!(st, 404, "{body}");
    let (st, body) = c.post("/markets/m1/trades", &bob, json!({"shares": "many"})).await;
    assert_eq!(st, 400, "{body}");
}
on_both!(markets_over_http);

/// A signed-up user is known to the exchange at once, with 0 credits: an offer is refused for
/// funds, not as an unknown user.
async fn signup_makes_an_exchange_user(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let admin = s.admin().await;
    let (st, _) = c.post("/issues", &admin, json!({"issue": "demo/app#1", "title": "t"})).await;
    assert_eq!(st, 201);
    let eve = s.user("eve").await;
    let maturation = s.days_from_now(10).await;
    let (st, body) = c
        .post(
            "/offers",
            &eve,
            json!({"kind": "buy_fixed", "issue": "demo/app#1", "maturation": maturation, "price": "0.5", "volume": 1}),
        )
        .await;
    assert_eq!((st, body["code"].as_str()), (422, Some("insufficient_funds")), "{body}");
    let (_, me) = c.get("/me", &eve).await;
    assert_eq!(me["available"], "0");
}
on_both!(signup_makes_an_exchange_user);

/// Backups through the resource market: the server picks (k, n) and the holders, lists,
/// restores (the owner only), and a peer's fragment report repairs what it lost.
async fn backups_over_http(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let mut tokens = Vec::new();
    for p in ["p1", "p2", "p3", "p4", "p5", "p6", "p7"] {
        let t = s.user(p).await;
        assert_eq!(c.post("/peers", &t, json!({})).await.0, 201);
        let sliders = json!({"space_gb": "200", "upload_gb": "50", "download_gb": "50"});
        assert_eq!(c.post("/peers/sliders", &t, sliders).await.0, 200);
        for _ in 0..14 {
            assert_eq!(c.post("/peers/online", &t, json!({"fraction": "0.9"})).await.0, 200);
        }
        tokens.push(t);
    }
    let (st, b) =
        c.post("/backups", &tokens[0], json!({"file": "photos", "bytes": 1_000_000_000u64, "target": "0.999"})).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!((b["k"].as_u64(), b["n"].as_u64()), (Some(2), Some(5)), "{b}");
    assert_eq!(b["fragment_bytes"], 500_000_000);
    let (_, mine) = c.get("/backups", &tokens[0]).await;
    assert_eq!(mine[0]["file"], "photos");
    let (st, r) = c.post("/backups/photos/restore", &tokens[0], json!({})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["sources"].as_array().map(Vec::len), Some(2));
    let (st, _) = c.post("/backups/photos/restore", &tokens[1], json!({})).await;
    assert_eq!(st, 403, "only the owner restores");
    let (st, bad) = c.post("/backups", &tokens[0], json!({"file": "x", "bytes": 1, "target": "1.5"})).await;
    assert_eq!((st, bad["code"].as_str()), (400, Some("invalid_argument")), "{bad}");
    // p2 holds a fragment; it reports none held: the fragment is rebuilt on p7, the spare peer.
    let (_, held) = c.get("/peers/me/fragments", &tokens[1]).await;
    assert_eq!(held[0]["file"], "photos", "{held}");
    let (st, rep) = c.post("/peers/fragments", &tokens[1], json!({"files": []})).await;
    assert_eq!(st, 200, "{rep}");
    assert_eq!(rep["repaired"], json!(["photos"]));
    let (_, b) = c.get("/backups", &tokens[0]).await;
    let holders: Vec<&str> = b[0]["holders"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(holders.contains(&"p7") && !holders.contains(&"p2"), "{holders:?}");
}
on_both!(backups_over_http);

/// `GET /issues` filters by state, sorts by volume or open interest, and pages.
async fn issues_take_queries(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let admin = s.admin().await;
    for i in ["a/b#1", "a/b#2", "a/b#3"] {
        assert_eq!(c.post("/issues", &admin, json!({"issue": i, "title": "t"})).await.0, 201);
    }
    let adam = s.funded("adam", "100").await;
    let beth = s.funded("beth", "100").await;
    let m = s.days_from_now(10).await;
    let place =
        |kind: &str, price: &str| json!({"kind": kind, "issue": "a/b#2", "maturation": m, "price": price, "volume": 5});
    assert_eq!(c.post("/offers", &adam, place("buy_unfixed", "0.4")).await.0, 201);
    assert_eq!(c.post("/offers", &beth, place("buy_fixed", "0.6")).await.0, 201);
    assert_eq!(c.post("/issues/close", &admin, json!({"issue": "a/b#3"})).await.0, 200);
    let (_, by_volume) = c.call(Method::GET, "/issues?sort=volume&limit=1", None, None).await;
    assert_eq!(by_volume.as_array().map(Vec::len), Some(1));
    assert_eq!(by_volume[0]["issue"], "a/b#2");
    assert_eq!(by_volume[0]["series"][0]["open_interest"], 5);
    let (_, by_oi) = c.call(Method::GET, "/issues?sort=open_interest", None, None).await;
    assert_eq!(by_oi[0]["issue"], "a/b#2");
    let (_, closed) = c.call(Method::GET, "/issues?state=closed", None, None).await;
    assert_eq!(closed.as_array().map(Vec::len), Some(1));
    assert_eq!(closed[0]["issue"], "a/b#3");
    let (_, page) = c.call(Method::GET, "/issues?offset=1&limit=1", None, None).await;
    assert_eq!(page[0]["issue"], "a/b#2");
    let (st, _) = c.call(Method::GET, "/issues?state=maybe", None, None).await;
    assert_eq!(st, 400);
}
on_both!(issues_take_queries);
