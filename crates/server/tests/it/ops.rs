//! The operational surface: OpenAPI document, health, metrics, and the live SSE stream.

use reqwest::Method;
use serde_json::json;

use crate::support::{offer, Backend, Server, ISSUE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_health_metrics_and_stream() {
    let mut s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();

    let (st, doc) = c.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    for (path, method) in [
        ("/api/v1/users", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/admin/deposits", "post"),
        ("/api/v1/issues", "post"),
        ("/api/v1/issues/close", "post"),
        ("/api/v1/issues/reopen", "post"),
        ("/api/v1/offers", "post"),
        ("/api/v1/offers/{id}", "delete"),
        ("/api/v1/positions", "get"),
        ("/api/v1/series", "get"),
        ("/api/v1/peers", "post"),
        ("/api/v1/peers/sliders", "put"),
        ("/api/v1/peers/me", "get"),
        ("/api/v1/admin/resources", "get"),
        ("/api/v1/admin/resources/settle", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} undocumented");
    }

    let health = c.http.get(format!("{}/healthz", c.base)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    // The live stream: subscribe, then trade; the trade arrives as an SSE event.
    let mut stream = c.http.get(format!("{}/api/v1/stream", c.base)).send().await.unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    let (st, _) = c.post("/issues", &adam, json!({"issue": ISSUE})).await;
    assert_eq!(st, 201);
    let mat = s.days_from_now(3).await;
    c.post("/offers", &adam, offer("buy_unfixed", &mat, "0.6", 5)).await;
    let (st, _) = c.post("/offers", &beth, offer("buy_fixed", &mat, "0.4", 5)).await;
    assert_eq!(st, 201);
    let mut seen = String::new();
    while !seen.contains("\"type\":\"traded\"") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), stream.chunk()).await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(seen.contains("event: market"));
    assert!(seen.contains("\"type\":\"issue_opened\""), "public events arrive in order: {seen}");
    assert!(!seen.contains("deposited"), "private events stay private");

    let metrics = c.http.get(format!("{}/metrics", c.base)).send().await.unwrap().text().await.unwrap();
    for name in [
        "peerex_commands_applied_total",
        "peerex_queue_depth",
        "peerex_open_offers",
        "peerex_command_latency_seconds_bucket",
    ] {
        assert!(metrics.contains(name), "{name} missing");
    }
    let applied: u64 =
        metrics.lines().find_map(|l| l.strip_prefix("peerex_commands_applied_total ")).unwrap().parse().unwrap();
    assert!(applied >= 5, "{applied}");

    // Shutting down ends open streams instead of waiting for them.
    s.stop().await;
    let mut rest = 0;
    while let Some(chunk) = stream.chunk().await.unwrap_or(None) {
        rest += chunk.len();
        assert!(rest < 1_000_000);
    }
}
