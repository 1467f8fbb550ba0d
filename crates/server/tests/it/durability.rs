//! Rebuild: concurrent offers are all there after a restart, one writer at a time holds the lock,
//! and `check` finds a consistent ledger.

use serde_json::json;

use crate::on_both;
use crate::support::{offer, Backend, Server, ISSUE};

async fn concurrent_offers_survive_restart(backend: Backend) {
    let mut s = Server::start(backend).await;
    let c = s.client.clone();
    let mut tokens = Vec::new();
    for i in 0..4 {
        tokens.push(s.funded(&format!("u{i}"), "1000").await);
    }
    let (st, _) = c.post("/issues", &tokens[0], json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;
    let mut tasks = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        for j in 0..10 {
            let (c, t, mat) = (c.clone(), t.clone(), mat.clone());
            let kind = if i % 2 == 0 { "buy_fixed" } else { "buy_unfixed" };
            let price = format!("0.{}", 40 + j);
            tasks.push(tokio::spawn(async move { c.post("/offers", &t, offer(kind, &mat, &price, 3)).await }));
        }
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (st, body) = t.await.unwrap();
        assert_eq!(st, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let before: Vec<_> = {
        let mut v = Vec::new();
        for t in &tokens {
            v.push(c.me(t).await);
        }
        v
    };

    // A second writer on the same database is refused while the first runs.
    let second = peerex_server::start(s.settings.clone()).await;
    assert!(second.is_err(), "two writers");

    s.restart().await;
    let c = s.client.clone();
    let engine_offers = s.running.as_ref().unwrap().state.shared.engine().exchange().offer_count();
    assert_eq!(engine_offers, ids.len());
    for (i, b) in before.iter().enumerate() {
        let t = c.login(&format!("u{i}"), crate::support::PASSWORD).await;
        assert_eq!(&c.me(&t).await, b);
    }
    s.stop().await;
    let report = peerex_server::check(&s.db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
on_both!(concurrent_offers_survive_restart);
