//! Idempotency-Key: a retried POST returns the first result and acts once, also after a restart.

use reqwest::Method;
use serde_json::json;

use crate::on_both;
use crate::support::{offer, Backend, Server, ISSUE};

async fn idempotent_retries(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let admin = s.admin().await;
    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;

    let body = offer("buy_fixed", &mat, "0.25", 40);
    let first = c.call_with(Method::POST, "/offers", Some(&adam), Some(body.clone()), Some("k-1")).await;
    assert_eq!(first.0, 201, "{}", first.1);
    let again = c.call_with(Method::POST, "/offers", Some(&adam), Some(body.clone()), Some("k-1")).await;
    assert_eq!(again, first, "a retry returns the first result");
    let (_, offers) = c.get("/offers", &adam).await;
    assert_eq!(offers.as_array().unwrap().len(), 1, "placed once");
    assert_eq!(c.me(&adam).await["held"], "10");

    // A different key acts again.
    let other = c.call_with(Method::POST, "/offers", Some(&adam), Some(body.clone()), Some("k-2")).await;
    assert_ne!(other.1["id"], first.1["id"]);
    // A cancel retried with its key gets its first answer, not "the offer is not open".
    let path = format!("/offers/{}", other.1["id"].as_str().unwrap());
    let cancelled = c.call_with(Method::DELETE, &path, Some(&adam), None, Some("c-1")).await;
    assert_eq!(cancelled.0, 200, "{}", cancelled.1);
    assert_eq!(c.call_with(Method::DELETE, &path, Some(&adam), None, Some("c-1")).await, cancelled);
    assert_eq!(c.call_with(Method::DELETE, &path, Some(&adam), None, None).await.0, 422, "without a key it acts again");

    // Deposits: once, however often retried; an error is also replayed as it was.
    for _ in 0..3 {
        let (st, _) = c
            .call_with(
                Method::POST,
                "/admin/deposits",
                Some(&admin),
                Some(json!({"user": "adam", "amount": "5"})),
                Some("mint-1"),
            )
            .await;
        assert_eq!(st, 200);
    }
    assert_eq!(c.me(&adam).await["available"], "995");
    let big = offer("buy_fixed", &mat, "0.99", 100_000);
    let refused = c.call_with(Method::POST, "/offers", Some(&adam), Some(big.clone()), Some("k-3")).await;
    assert_eq!(refused.0, 422);
    let (st, minted) = c
        .call_with(
            Method::POST,
            "/admin/deposits",
            Some(&admin),
            Some(json!({"user": "adam", "amount": "100000"})),
            None,
        )
        .await;
    assert_eq!(st, 200, "{minted}");
    let retried = c.call_with(Method::POST, "/offers", Some(&adam), Some(big), Some("k-3")).await;
    assert_eq!(retried, refused, "the first (refused) result is returned, nothing is placed");

    // The record is durable: after a restart the retry still gets the first answer.
    s.restart().await;
    let c = s.client.clone();
    let adam = c.login("adam", crate::support::PASSWORD).await;
    let after = c.call_with(Method::POST, "/offers", Some(&adam), Some(body), Some("k-1")).await;
    assert_eq!(after, first);
    let (_, offers) = c.get("/offers", &adam).await;
    assert_eq!(offers.as_array().unwrap().len(), 2);

    // A retried sign-up gets its first answer (201), not 409; another name's same key is its own.
    let signup = |name: &str| Some(json!({"name": name, "password": crate::support::PASSWORD}));
    let first = c.call_with(Method::POST, "/users", None, signup("carl"), Some("s-1")).await;
    assert_eq!(first.0, 201);
    assert_eq!(c.call_with(Method::POST, "/users", None, signup("carl"), Some("s-1")).await, first);
    assert_eq!(c.call_with(Method::POST, "/users", None, signup("dora"), Some("s-1")).await.1["name"], "dora");
    assert_eq!(c.call_with(Method::POST, "/users", None, signup("carl"), None).await.0, 409);

    // Keys are scoped per user: Beth's "k-1" is her own.
    let beth = s.funded("beth", "10").await;
    let hers =
        c.call_with(Method::POST, "/offers", Some(&beth), Some(offer("buy_fixed", &mat, "0.1", 1)), Some("k-1")).await;
    assert_eq!(hers.0, 201);
    assert_ne!(hers.1["id"], first.1["id"]);
}
on_both!(idempotent_retries);

/// A key reused with a different request is refused (422 `idempotency_key_reused`) and acts
/// not at all; the same request again still gets its first answer.
async fn reused_key_with_another_body(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;
    let first_body = offer("buy_fixed", &mat, "0.25", 40);
    let first = c.call_with(Method::POST, "/offers", Some(&adam), Some(first_body.clone()), Some("k")).await;
    assert_eq!(first.0, 201, "{}", first.1);

    let other = offer("buy_fixed", &mat, "0.30", 40);
    let (st, body) = c.call_with(Method::POST, "/offers", Some(&adam), Some(other), Some("k")).await;
    assert_eq!((st, body["code"].as_str()), (422, Some("idempotency_key_reused")), "{body}");
    // The same key on another endpoint is another request too.
    let (st, body) =
        c.call_with(Method::POST, "/issues", Some(&adam), Some(json!({"issue": "x/y#2"})), Some("k")).await;
    assert_eq!((st, body["code"].as_str()), (422, Some("idempotency_key_reused")), "{body}");
    let (_, offers) = c.get("/offers", &adam).await;
    assert_eq!(offers.as_array().unwrap().len(), 1, "nothing was placed by the refused reuse");
    assert_eq!(c.call_with(Method::POST, "/offers", Some(&adam), Some(first_body), Some("k")).await, first);
}
on_both!(reused_key_with_another_body);

/// Records expire after the configured time, in memory and in the database: the same key then
/// acts again.
async fn records_expire(backend: Backend) {
    let mut settings = peerex_server::settings::Settings::for_tests(crate::support::fresh_database(backend).await);
    settings.idempotency_ttl_secs = 1;
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;
    let body = offer("buy_fixed", &mat, "0.25", 1);
    let first = c.call_with(Method::POST, "/offers", Some(&adam), Some(body.clone()), Some("k")).await;
    assert_eq!(first.0, 201, "{}", first.1);
    let store = s.running.as_ref().unwrap().state.store.clone();
    assert_eq!(store.idempotency_count().await.unwrap(), 1);
    assert_eq!(c.call_with(Method::POST, "/offers", Some(&adam), Some(body.clone()), Some("k")).await, first);

    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let again = c.call_with(Method::POST, "/offers", Some(&adam), Some(body), Some("k")).await;
    assert_eq!(again.0, 201, "{}", again.1);
    assert_ne!(again.1["id"], first.1["id"], "an expired key acts again");
    assert_eq!(store.idempotency_count().await.unwrap(), 1, "the expired record was pruned from the database");
}
on_both!(records_expire);
