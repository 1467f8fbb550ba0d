//! The backup network's resource market over HTTP: peers register, set sliders and read their
//! capacity and pie chart; only the operator sees prices and balances and runs a day.

use reqwest::Method;
use serde_json::json;

use crate::on_both;
use crate::support::{Backend, Server};

async fn peers_register_set_sliders_and_the_operator_settles(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let ann = s.user("ann").await;
    let bob = s.user("bob").await;
    let admin = s.admin().await;

    // Not yet registered: a clear 404, not an empty view.
    let (st, body) = c.get("/peers/me", &ann).await;
    assert_eq!(st, 404, "{body}");
    assert!(body["code"].is_string() && body["message"].is_string(), "{body}");

    let (st, body) = c.post("/peers", &ann, json!({})).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["peer"], "ann");
    assert!(body.get("debug").is_none(), "a peer never sees prices or balances: {body}");
    let (st, _) = c.post("/peers", &bob, json!({})).await;
    assert_eq!(st, 201);
    let (st, body) = c.post("/peers", &ann, json!({})).await;
    assert_eq!(st, 409, "registering twice is refused: {body}");

    let sliders = json!({"space_gb": "100", "upload_gb": "5", "download_gb": "5"});
    let (st, body) = c.call(Method::PUT, "/peers/sliders", Some(&ann), Some(sliders.clone())).await;
    assert_eq!(st, 200, "{body}");
    let (st, _) = c.post("/peers/sliders", &bob, sliders).await;
    assert_eq!(st, 200);
    let (st, body) = c.post("/peers/online", &ann, json!({"fraction": "0.9"})).await;
    assert_eq!(st, 200, "{body}");
    let (st, _) = c.post("/peers/online", &bob, json!({"fraction": "0.8"})).await;
    assert_eq!(st, 200);

    let (st, me) = c.get("/peers/me", &ann).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["peer"], "ann");
    assert!(me.get("debug").is_none());
    let pie = &me["pie"];
    let capacity = pie["capacity_gb"].as_f64().unwrap();
    assert!(capacity > 0.0, "100 GB raw space gives some capacity: {me}");
    assert!(capacity <= 100.0, "capacity never exceeds the raw space: {me}");
    assert_eq!(pie["used_gb"].as_f64().unwrap(), 0.0, "nothing stored yet");
    assert_eq!(pie["available_gb"].as_f64().unwrap(), capacity);

    // Dragging the sliders: a preview, nothing set.
    let (st, pre) = c.get("/peers/me/preview?space_gb=200&upload_gb=5&download_gb=5", &ann).await;
    assert_eq!(st, 200, "{pre}");
    assert!(pre["pie"]["capacity_gb"].as_f64().unwrap() >= capacity, "{pre}");
    let (st, bad) = c.get("/peers/me/preview?space_gb=lots&upload_gb=5&download_gb=5", &ann).await;
    assert_eq!(st, 400, "{bad}");
    assert_eq!(c.get("/peers/me", &ann).await.1, me, "a preview changes nothing");

    // A refused call changes nothing.
    let (st, body) =
        c.post("/peers/sliders", &ann, json!({"space_gb": "-1", "upload_gb": "5", "download_gb": "5"})).await;
    assert!(st == 400 || st == 422, "{st} {body}");
    assert!(body["code"].is_string(), "{body}");
    let (st, body) = c.post("/peers/online", &ann, json!({"fraction": "1.5"})).await;
    assert!(st == 400 || st == 422, "{st} {body}");
    assert_eq!(c.get("/peers/me", &ann).await.1, me, "refused calls change nothing");

    // The operator endpoints are the admin's only.
    let (_, before) = c.get("/admin/resources", &admin).await;
    for (method, path) in [
        (Method::GET, "/admin/resources"),
        (Method::POST, "/admin/resources/settle"),
        (Method::POST, "/admin/resources/prices"),
    ] {
        let (st, body) = c.call(method, path, Some(&ann), Some(json!({}))).await;
        assert_eq!(st, 403, "{path}: {body}");
        assert_eq!(body["code"], "forbidden");
    }
    assert_eq!(c.get("/admin/resources", &admin).await.1, before, "refused operator calls change nothing");
    assert_eq!(before["days_settled"], 0);
    assert_eq!(before["prices"].as_array().unwrap().len(), 3);

    let (st, after) = c.post("/admin/resources/settle", &admin, json!({})).await;
    assert_eq!(st, 200, "{after}");
    assert_eq!(after["days_settled"], 1);
    let names: Vec<&str> = after["balances"].as_array().unwrap().iter().map(|b| b[0].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "bob"]);
    let (st, priced) = c.post("/admin/resources/prices", &admin, json!({})).await;
    assert_eq!(st, 200, "{priced}");
    assert_eq!(priced["days_settled"], 1);
    let (st, view) = c.get("/admin/resources", &admin).await;
    assert_eq!(st, 200);
    assert_eq!(view, priced);

    // The operator's debug view of one peer carries its balance and prices; a peer cannot see it.
    let (st, debug) = c.get("/admin/resources/peers/ann", &admin).await;
    assert_eq!(st, 200, "{debug}");
    assert_eq!(debug["debug"]["balance"], view["balances"][0][1], "{debug}");
    assert_eq!(debug["debug"]["prices"].as_array().unwrap().len(), 3);
    assert_eq!(c.get("/admin/resources/peers/ann", &ann).await.0, 403);
    assert_eq!(c.get("/admin/resources/peers/nobody", &admin).await.0, 404);
}
on_both!(peers_register_set_sliders_and_the_operator_settles);

/// The operator's daily job: after the sandbox clock crosses midnight, the server settles the
/// day and runs the price update by itself (polled: the tick job runs every 200 ms in tests).
async fn the_daily_job_settles_a_day_on_the_server_clock(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let ann = s.user("ann").await;
    let admin = s.admin().await;
    let (st, _) = c.post("/peers", &ann, json!({})).await;
    assert_eq!(st, 201);
    let (st, _) = c.post("/peers/sliders", &ann, json!({"space_gb": "50", "upload_gb": "2", "download_gb": "2"})).await;
    assert_eq!(st, 200);
    assert_eq!(c.get("/admin/resources", &admin).await.1["days_settled"], 0);

    let (st, body) = c.post("/admin/clock", &admin, json!({"advance_seconds": 86_400})).await;
    assert_eq!(st, 200, "{body}");
    let mut view = serde_json::Value::Null;
    for _ in 0..300 {
        view = c.get("/admin/resources", &admin).await.1;
        if view["days_settled"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(view["days_settled"], 1, "{view}");
    let names: Vec<&str> = view["balances"].as_array().unwrap().iter().map(|b| b[0].as_str().unwrap()).collect();
    assert_eq!(names, ["ann"]);
}
on_both!(the_daily_job_settles_a_day_on_the_server_clock);
