//! `POST /batch`: many commands of one user in one request and one commit, each with its own
//! result, or all-or-nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both;
use crate::support::{fresh_database, offer, Backend, Server, ISSUE};

fn place(mat: &str, price: &str, volume: u64) -> Value {
    let mut o = offer("buy_fixed", mat, price, volume);
    o["op"] = json!("place_offer");
    o
}

async fn open_offers(s: &Server, token: &str) -> usize {
    let (st, body) = s.client.get("/offers?status=open", token).await;
    assert_eq!(st, 200, "{body}");
    body.as_array().unwrap().len()
}

/// Each command stands alone: a refusal is listed with its code and the others apply; the
/// results come in order with the view each command's own endpoint answers.
async fn each_command_gets_its_own_result(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "100").await;
    assert_eq!(c.post("/issues", &ann, json!({"issue": ISSUE})).await.0, 201);
    let mat = s.days_from_now(30).await;
    let body = json!({"commands": [
        place(&mat, "0.4", 10),
        {"op": "cancel_offer", "offer": "o999999"},
        place(&mat, "0.3", 10),
        place(&mat, "0.3", 1000),
    ]});
    let (st, v) = c.post("/batch", &ann, body).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["applied"].as_u64(), v["refused"].as_u64(), v["atomic"].as_bool()), (Some(2), Some(2), Some(false)));
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[0]["ok"], true);
    assert_eq!(r[0]["view"]["price"], "0.4", "{v}");
    assert!(r[0]["seq"].as_i64().unwrap() < r[2]["seq"].as_i64().unwrap(), "applied in order");
    assert_eq!((r[1]["ok"].as_bool(), r[1]["code"].as_str()), (Some(false), Some("unknown_offer")), "{v}");
    assert_eq!((r[3]["ok"].as_bool(), r[3]["code"].as_str()), (Some(false), Some("insufficient_funds")), "{v}");
    assert_eq!(open_offers(&s, &ann).await, 2);
    // The two offers hold 4 + 3 credits.
    assert_eq!(c.me(&ann).await["held"], "7");
    // Cancel both in one batch.
    let ids: Vec<String> = [0, 2].iter().map(|&i| r[i]["view"]["id"].as_str().unwrap().to_owned()).collect();
    let cancel =
        json!({"commands": ids.iter().map(|id| json!({"op": "cancel_offer", "offer": id})).collect::<Vec<_>>()});
    let (st, v) = c.post("/batch", &ann, cancel).await;
    assert_eq!((st, v["applied"].as_u64()), (200, Some(2)), "{v}");
    assert_eq!(open_offers(&s, &ann).await, 0);
    s.restart().await;
    assert_eq!(s.client.me(&ann).await["held"], "0", "the log replays the batches");
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(each_command_gets_its_own_result);

/// All-or-nothing: the first refusal refuses the batch with that command's code and index, and
/// nothing of it is applied or logged, also after a restart.
async fn an_atomic_batch_applies_all_or_nothing(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "100").await;
    assert_eq!(c.post("/issues", &ann, json!({"issue": ISSUE})).await.0, 201);
    let mat = s.days_from_now(30).await;
    let before = c.me(&ann).await;
    let bad =
        json!({"atomic": true, "commands": [place(&mat, "0.4", 10), place(&mat, "0.4", 10), place(&mat, "0.5", 1000)]});
    let (st, v) = c.post("/batch", &ann, bad).await;
    assert_eq!((st, v["code"].as_str()), (422, Some("insufficient_funds")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("command 2 of the batch"), "{v}");
    assert_eq!(c.me(&ann).await, before, "nothing held");
    assert_eq!(open_offers(&s, &ann).await, 0);
    let good = json!({"atomic": true, "commands": [place(&mat, "0.4", 10), place(&mat, "0.4", 10)]});
    let (st, v) = c.post("/batch", &ann, good).await;
    assert_eq!((st, v["applied"].as_u64()), (200, Some(2)), "{v}");
    // The ids the server gave follow the log: the refused batch took no sequence numbers.
    let ids: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["view"]["id"].as_str().unwrap()).collect();
    assert_eq!(open_offers(&s, &ann).await, 2, "{ids:?}");
    s.restart().await;
    assert_eq!(open_offers(&s, &ann).await, 2);
    assert_eq!(s.client.me(&ann).await["held"], "8");
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(an_atomic_batch_applies_all_or_nothing);

/// An undone atomic batch leaves the writer's own engine as it was before the batch (it is
/// rebuilt from the readers' engine and the commands not yet there), also while committed
/// batches wait for a snapshot (one after every command here, with another user trading
/// meanwhile): what the batch held is free for the next command at once, and the log
/// replays to the same engine. No copy is made for the atomic batches that apply.
async fn an_undone_atomic_batch_frees_what_it_held_at_once(backend: Backend) {
    let db = fresh_database(backend).await;
    let mut settings = peerex_server::settings::Settings::for_tests(db.clone());
    settings.snapshot_every = 1;
    let mut s = Server::start_with(settings).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "10").await;
    let bob = s.funded("bob", "1000").await;
    assert_eq!(c.post("/issues", &ann, json!({"issue": ISSUE})).await.0, 201);
    let mat = s.days_from_now(30).await;
    let busy = {
        let (c, mat) = (c.clone(), mat.clone());
        tokio::spawn(async move {
            for _ in 0..60 {
                let (st, v) = c.post("/offers", &bob, offer("buy_fixed", &mat, "0.10", 1)).await;
                assert_eq!(st, 201, "{v}");
            }
        })
    };
    let undone =
        || s.running.as_ref().unwrap().state.shared.metrics.atomic_undone.load(std::sync::atomic::Ordering::Relaxed);
    for round in 0..6 {
        // Holds 8 of ann's 10 credits, then asks for 500 more: refused and undone.
        let bad = json!({"atomic": true, "commands": [place(&mat, "0.4", 20), place(&mat, "0.5", 1000)]});
        let (st, v) = c.post("/batch", &ann, bad).await;
        assert_eq!((st, v["code"].as_str()), (422, Some("insufficient_funds")), "round {round}: {v}");
        // All 10 are free in the writer's engine: an offer holding all of them is placed.
        let (st, v) = c.post("/offers", &ann, offer("buy_fixed", &mat, "0.5", 20)).await;
        assert_eq!(st, 201, "round {round}: {v}");
        let id = v["id"].as_str().unwrap().to_owned();
        let (st, v) = c.call(Method::DELETE, &format!("/offers/{id}"), Some(&ann), None).await;
        assert_eq!(st, 200, "round {round}: {v}");
    }
    let good = json!({"atomic": true, "commands": [place(&mat, "0.4", 10), place(&mat, "0.4", 10)]});
    assert_eq!(c.post("/batch", &ann, good).await.0, 200);
    assert_eq!(undone(), 6, "one undo per refused atomic batch, none for the one that applied");
    busy.await.unwrap();
    assert_eq!(c.me(&ann).await["held"], "8");
    let readers = s.running.as_ref().unwrap().state.shared.engine().clone();
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let (store, lock) = peerex_server::store::Store::open(&db, true).await.unwrap();
    let full = peerex_server::rebuild::replay(&store.load_log().await.unwrap()).unwrap();
    assert!(full.engine == readers, "the log replays to the readers' engine");
    store.close().await;
    if let Some(l) = lock {
        l.release().await;
    }
}
on_both!(an_undone_atomic_batch_frees_what_it_held_at_once);

/// The bounds: 1 to 1,000 commands (a full batch of offers is larger than the ordinary body
/// limit and still accepted), known ops only, fields checked as by their own endpoints, and
/// an Idempotency-Key retry applies nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_bounded_and_retries_apply_once() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "10000").await;
    assert_eq!(c.post("/issues", &ann, json!({"issue": ISSUE})).await.0, 201);
    let mat = s.days_from_now(30).await;
    for (body, code) in [
        (json!({"commands": []}), "invalid_argument"),
        (json!({"commands": [{"op": "withdraw", "amount": "5"}]}), "invalid_body"),
        (json!({"commands": [{"op": "cancel_offer", "offer": "x".repeat(201)}]}), "invalid_argument"),
        (json!({"commands": [{"op": "place_offer", "kind": "buy_fixed"}]}), "invalid_body"),
        (json!({"commands": (0..1001).map(|_| place(&mat, "0.01", 1)).collect::<Vec<_>>()}), "invalid_argument"),
    ] {
        let (st, v) = c.post("/batch", &ann, body).await;
        assert_eq!((st, v["code"].as_str()), (400, Some(code)), "{v}");
    }
    assert_eq!(open_offers(&s, &ann).await, 0, "a refused request changes nothing");
    let full = json!({"commands": (0..1000).map(|i| place(&mat, if i % 2 == 0 { "0.01" } else { "0.02" }, 1)).collect::<Vec<_>>()});
    assert!(full.to_string().len() > 64 * 1024, "bigger than the ordinary body limit");
    let first = c.call_with(Method::POST, "/batch", Some(&ann), Some(full.clone()), Some("k-1")).await;
    assert_eq!((first.0, first.1["applied"].as_u64()), (200, Some(1000)), "{}", first.1);
    let again = c.call_with(Method::POST, "/batch", Some(&ann), Some(full), Some("k-1")).await;
    assert_eq!(again, first, "the retry answers the first answer");
    assert_eq!(open_offers(&s, &ann).await, 1000, "and applies nothing twice");
    // A trade on a prediction market works in a batch too.
    let market = json!({"statement": "It ships", "deadline": s.days_from_now(5).await, "b": "10"});
    let (st, m) = c.post("/markets", &ann, market).await;
    assert_eq!(st, 201, "{m}");
    let id = m["id"].as_str().unwrap();
    let trades = json!({"commands": [{"op": "trade", "market": id, "shares": "2"}, {"op": "trade", "market": id, "shares": "-1"}]});
    let (st, v) = c.post("/batch", &ann, trades).await;
    assert_eq!((st, v["applied"].as_u64()), (200, Some(2)), "{v}");
}

/// While the undo budget is spent (here it is 0: `atomic_undo_ms = 0`), an all-or-nothing
/// batch is answered 429 `busy` with `Retry-After` before it starts; plain batches and single
/// commands go on, and the pause is not recorded under the batch's Idempotency-Key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_batches_wait_while_the_undo_budget_is_spent() {
    let db = fresh_database(Backend::Sqlite).await;
    let mut settings = peerex_server::settings::Settings::for_tests(db);
    settings.atomic_undo = std::time::Duration::ZERO;
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    let ann = s.funded("ann", "100").await;
    assert_eq!(c.post("/issues", &ann, json!({"issue": ISSUE})).await.0, 201);
    let mat = s.days_from_now(30).await;
    let atomic = json!({"atomic": true, "commands": [place(&mat, "0.4", 10)]});
    let resp = c
        .http
        .post(format!("{}/api/v1/batch", c.base))
        .bearer_auth(&ann)
        .header("Idempotency-Key", "k1")
        .json(&atomic)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers().get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "busy", "{body}");
    // Not recorded: the same key with another body is paused again, not `idempotency_key_reused`.
    let other = json!({"atomic": true, "commands": [place(&mat, "0.3", 5)]});
    let (st, v) = c.call_with(Method::POST, "/batch", Some(&ann), Some(other), Some("k1")).await;
    assert_eq!((st, v["code"].as_str()), (429, Some("busy")), "{v}");
    // Plain batches and single commands are never paused.
    let plain = json!({"commands": [place(&mat, "0.4", 10)]});
    let (st, v) = c.post("/batch", &ann, plain).await;
    assert_eq!((st, v["applied"].as_u64()), (200, Some(1)), "{v}");
    assert_eq!(c.post("/offers", &ann, offer("buy_fixed", &mat, "0.3", 10)).await.0, 201);
    assert_eq!(open_offers(&s, &ann).await, 2, "nothing of the paused batches was applied");
    let undone =
        s.running.as_ref().unwrap().state.shared.metrics.atomic_undone.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(undone, 0, "a paused batch is not started, so nothing is undone");
}
