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
    assert_eq!(doc["openapi"], "3.1.0");
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

/// The paths the router serves, read from its own description (axum prints its route table).
fn router_paths(router: &axum::Router) -> Vec<String> {
    let text = format!("{router:?}");
    let mut paths: Vec<String> = text
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|p| p.starts_with('/') && !p.contains("__private__"))
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Whether a route answered (not the router's fallbacks for an unknown path or method).
async fn served(c: &crate::support::Client, method: &str, path: &str) -> bool {
    let concrete: String =
        path.split('/').map(|seg| if seg.starts_with('{') { "probe" } else { seg }).collect::<Vec<_>>().join("/");
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let resp = c.http.request(method, format!("{}{concrete}", c.base)).send().await.unwrap();
    let status = resp.status().as_u16();
    if status != 404 && status != 405 {
        return true;
    }
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    !(body["code"] == "method_not_allowed" || body["message"] == "no such endpoint")
}

/// Every route the router serves is in the OpenAPI document, and every operation the document
/// names is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_and_the_openapi_document_agree() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.client.clone();
    let (st, doc) = c.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(st, 200);
    let router = peerex_server::http::router(s.running.as_ref().unwrap().state.clone());
    let paths = router_paths(&router);
    assert!(paths.len() >= 40, "the route table was read: {paths:?}");
    let mut documented = 0;
    for path in &paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if served(&c, method, path).await {
                assert!(doc["paths"][path][method].is_object(), "{method} {path} is served but not documented");
                documented += 1;
            }
        }
    }
    let mut named = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        assert!(paths.contains(path), "the document names {path}, which the router does not have");
        for method in ops.as_object().unwrap().keys() {
            assert!(served(&c, method, path).await, "the document names {method} {path}, which is not served");
            named += 1;
        }
    }
    assert_eq!(documented, named, "as many operations served as documented");
}
