//! Authorization: users act only on their own offers; minting, settling and the clock are for
//! admins; only an issue's opener (or an admin) closes it; revoked tokens stop working.

use reqwest::Method;
use serde_json::json;

use crate::on_both;
use crate::support::{offer, Backend, Server, ISSUE, PASSWORD};

async fn authorization(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;
    let (_, a1) = c.post("/offers", &adam, offer("buy_fixed", &mat, "0.30", 10)).await;
    let id = a1["id"].as_str().unwrap().to_owned();

    // Beth can neither cancel nor read Adam's offer.
    let (st, body) = c.call(Method::DELETE, &format!("/offers/{id}"), Some(&beth), None).await;
    assert_eq!((st, body["code"].as_str()), (403, Some("not_owner")), "{body}");
    let (st, _) = c.get(&format!("/offers/{id}"), &beth).await;
    assert_eq!(st, 403);
    assert_eq!(c.me(&adam).await["held"], "3");

    // A non-admin can neither mint, settle, create accounts nor move the clock.
    for (path, body) in [
        ("/admin/deposits", json!({"user": "beth", "amount": "1000000"})),
        ("/admin/withdrawals", json!({"user": "adam", "amount": "1"})),
        ("/admin/decide", json!({"issue": ISSUE, "maturation": mat, "winner": "fixed", "reason": "mine"})),
        ("/admin/clock", json!({"advance_seconds": 86_400})),
        ("/admin/users", json!({"name": "evil", "password": PASSWORD, "admin": true})),
        ("/admin/sync", json!({"issue": ISSUE, "tracker": "github", "state": "closed"})),
    ] {
        let (st, resp) = c.post(path, &beth, body).await;
        assert_eq!((st, resp["code"].as_str()), (403, Some("forbidden")), "{path}: {resp}");
    }
    assert_eq!(c.me(&beth).await["available"], "1000");
    // Nor read the ledger's totals, which an admin can: where the 2000 minted credits are.
    let (st, resp) = c.get("/admin/ledger", &beth).await;
    assert_eq!((st, resp["code"].as_str()), (403, Some("forbidden")), "{resp}");
    let (st, ledger) = c.get("/admin/ledger", &s.admin().await).await;
    assert_eq!(st, 200, "{ledger}");
    let totals = ["minted", "users_available", "users_held", "users", "escrows", "accounts", "balanced"]
        .map(|k| ledger[k].clone());
    assert_eq!(
        totals,
        [json!("2000"), json!("1997"), json!("3"), json!("2000"), json!("0"), json!("2000"), json!(true)]
    );

    // Only the opener (or an admin) closes an issue.
    let (st, _) = c.post("/issues/close", &beth, json!({"issue": ISSUE})).await;
    assert_eq!(st, 403);

    // Adam cancels his own offer; the hold is released.
    let (st, cancelled) = c.call(Method::DELETE, &format!("/offers/{id}"), Some(&adam), None).await;
    assert_eq!(st, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(c.me(&adam).await["held"], "0");

    // The admin settles by hand once the series matured (and only then).
    let admin = s.admin().await;
    let decide = json!({"issue": ISSUE, "maturation": mat, "winner": "unfixed", "reason": "tracker gone"});
    let (st, body) = c.post("/admin/decide", &admin, decide.clone()).await;
    assert_eq!(st, 422, "{body}");

    // Logging out revokes the token.
    let (st, _) = c.call(Method::DELETE, "/sessions", Some(&beth), None).await;
    assert_eq!(st, 200);
    let (st, _) = c.get("/me", &beth).await;
    assert_eq!(st, 401);
}
on_both!(authorization);
