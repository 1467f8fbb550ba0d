//! Every error status with its JSON body {code, message}; refused requests change nothing.

use peerex_server::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both;
use crate::support::{fresh_database, offer, Backend, Server, ISSUE, PASSWORD};

fn assert_error(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", got.1);
}

async fn error_statuses(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "100").await;
    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(10).await;

    // 400: malformed JSON, wrong field types, a price outside [0, 1], bad names.
    assert_error(c.raw(Method::POST, "/offers", Some(&adam), "{not json").await, 400, "invalid_body");
    assert_error(c.raw(Method::POST, "/offers", Some(&adam), "").await, 400, "invalid_body");
    assert_error(c.post("/offers", &adam, offer("buy_fixed", &mat, "1.5", 1)).await, 400, "invalid_body");
    assert_error(c.post("/offers", &adam, offer("buy_fixed", &mat, "0.5", 0)).await, 400, "invalid_volume");
    assert_error(c.post("/offers", &adam, json!({"kind": "buy_fixed"})).await, 400, "invalid_body");
    // One rule for issue keys everywhere: no surrounding spaces (another issue otherwise).
    let mut spaced = offer("buy_fixed", &mat, "0.5", 1);
    spaced["issue"] = json!(format!(" {ISSUE}"));
    assert_error(c.post("/offers", &adam, spaced).await, 400, "invalid_argument");
    assert_error(c.post("/issues", &adam, json!({"issue": format!("{ISSUE} ")})).await, 400, "invalid_argument");
    assert_error(
        c.call(Method::POST, "/users", None, Some(json!({"name": "a b", "password": PASSWORD}))).await,
        400,
        "invalid_name",
    );
    assert_error(
        c.call(Method::POST, "/users", None, Some(json!({"name": "ok", "password": "short"}))).await,
        400,
        "invalid_password",
    );
    assert_error(c.call(Method::GET, "/book?issue=x", None, None).await, 400, "invalid_query");
    assert_error(c.post("/issues", &adam, json!({"issue": "x".repeat(201)})).await, 400, "invalid_argument");

    // 401: no token, a wrong token, wrong credentials.
    assert_error(c.call(Method::GET, "/me", None, None).await, 401, "unauthorized");
    assert_error(c.get("/me", "not-a-token").await, 401, "unauthorized");
    assert_error(
        c.call(Method::POST, "/sessions", None, Some(json!({"name": "adam", "password": "wrong-pass"}))).await,
        401,
        "invalid_credentials",
    );
    assert_error(
        c.call(Method::POST, "/sessions", None, Some(json!({"name": "nobody", "password": PASSWORD}))).await,
        401,
        "invalid_credentials",
    );

    // 403: a non-admin mints.
    assert_error(c.post("/admin/deposits", &adam, json!({"user": "adam", "amount": "5"})).await, 403, "forbidden");

    // 404: unknown offer, unknown issue, unknown endpoint, unknown account for a deposit.
    assert_error(c.call(Method::DELETE, "/offers/nope", Some(&adam), None).await, 404, "unknown_offer");
    let mut o = offer("buy_fixed", &mat, "0.5", 1);
    o["issue"] = json!("other/repo#1");
    assert_error(c.post("/offers", &adam, o).await, 404, "unknown_issue");
    assert_error(c.call(Method::GET, "/nothing-here", None, None).await, 404, "not_found");
    let admin = s.admin().await;
    assert_error(c.post("/admin/deposits", &admin, json!({"user": "ghost", "amount": "5"})).await, 404, "unknown_user");

    // 405 with a JSON body too.
    assert_error(c.call(Method::PUT, "/me", Some(&adam), None).await, 405, "method_not_allowed");

    // 409: a taken name, an issue opened twice, a clock moved backwards.
    assert_error(
        c.call(Method::POST, "/users", None, Some(json!({"name": "adam", "password": PASSWORD}))).await,
        409,
        "name_taken",
    );
    assert_error(c.post("/issues", &adam, json!({"issue": ISSUE})).await, 409, "duplicate_id");
    assert_error(
        c.post("/admin/clock", &admin, json!({"to": "2000-01-01T00:00:00Z"})).await,
        409,
        "time_went_backwards",
    );

    // 422: insufficient funds (100 credits cannot hold 200 x 0.8), a maturation in the past.
    assert_error(c.post("/offers", &adam, offer("buy_unfixed", &mat, "0.80", 200)).await, 422, "insufficient_funds");
    assert_error(
        c.post("/offers", &adam, offer("buy_fixed", "2001-01-01T00:00:00Z", "0.5", 1)).await,
        422,
        "maturation_in_past",
    );
    assert_error(c.post("/offers", &adam, offer("sell_fixed", &mat, "0.5", 1)).await, 422, "insufficient_units");

    // Nothing of that changed Adam's money.
    let me = c.me(&adam).await;
    assert_eq!((me["available"].as_str(), me["held"].as_str()), (Some("100"), Some("0")));
    let (_, offers) = c.get("/offers", &adam).await;
    assert_eq!(offers, json!([]));
}
on_both!(error_statuses);

/// 429 once a user's (and an address's) budget is spent, with Retry-After.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_with_429() {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.rate_per_sec = 1;
    settings.rate_burst = 8;
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    let token = c.login("root", PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(c.get("/me", &token).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let resp = c.http.get(format!("{}/api/v1/me", c.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Monitoring is exempt.
    let health = c.http.get(format!("{}/healthz", c.base)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

/// Bodies over the limit are refused before they are read whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let big = format!("{{\"name\":\"x\",\"password\":\"{}\"}}", "p".repeat(100_000));
    let (st, body) = c.raw(Method::POST, "/users", None, &big).await;
    assert_eq!(st, 413, "{body}");
    assert_eq!(body["code"], "invalid_body");
}
