//! Several processes on one PostgreSQL database (`--cluster`, docs/deploy.md): one writer,
//! replicas that tail the log, serve reads and forward writes, and a replica that takes over
//! when the writer stops. (The bank test of the peerex crate kills real processes.)

use std::time::{Duration, Instant};

use peerex_server::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{fresh_database, service_or_skip, Backend, Client, Server, PASSWORD};

fn postgres(test: &str) -> bool {
    service_or_skip(test, "PEEREX_TEST_POSTGRES_URL", "PostgreSQL (see .ci/postgres.sh)")
}

async fn health(c: &Client) -> Value {
    c.http.get(format!("{}/healthz", c.base)).send().await.unwrap().json().await.unwrap()
}

/// Waits until `c` reports `role`.
async fn wait_role(c: &Client, role: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if health(c).await["role"] == role {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "no {role} within {within:?}: {}", health(c).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A GET that asks for at least `min_seq`: (status, body).
async fn get_at_least(c: &Client, path: &str, token: &str, min_seq: &str) -> (u16, Value) {
    let r = c
        .http
        .get(format!("{}/api/v1{path}", c.base))
        .bearer_auth(token)
        .header("Peerex-Min-Seq", min_seq)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_serves_reads_forwards_writes_and_takes_over_from_a_stopped_writer() {
    if !postgres("cluster::a_replica_serves_reads_forwards_writes_and_takes_over_from_a_stopped_writer") {
        return;
    }
    let db = fresh_database(Backend::Postgres).await;
    let settings = Settings { cluster: true, ..Settings::for_tests(db) };
    let mut a = Server::start_with(settings.clone()).await;
    let mut b = Server::start_with(settings.clone()).await;
    assert_eq!(health(&a.client).await["role"], "writer");
    assert_eq!(health(&b.client).await["role"], "replica");

    // Sign-up, log-in and a deposit through the replica: the writer commits them, and the
    // replica answers once it holds them, so the token works on it at once.
    let (st, body) =
        b.client.call(Method::POST, "/users", None, Some(json!({"name": "ann", "password": PASSWORD}))).await;
    assert_eq!(st, 201, "{body}");
    let ann = b.client.login("ann", PASSWORD).await;
    let admin = b.admin().await;
    let r = b
        .client
        .http
        .post(format!("{}/api/v1/admin/deposits", b.client.base))
        .bearer_auth(&admin)
        .json(&json!({"user": "ann", "amount": "100"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seq = r.headers()["peerex-seq"].to_str().unwrap().to_owned();
    assert!(seq.parse::<i64>().unwrap() >= 1, "{seq}");
    assert_eq!(b.client.me(&ann).await["available"], "100", "the replica reads its own write");
    // The writer reads it too (it committed it), and so does a read that asks for that seq.
    assert_eq!(a.client.me(&ann).await["available"], "100");
    let (st, me) = get_at_least(&a.client, "/me", &ann, &seq).await;
    assert_eq!((st, &me["available"]), (200, &json!("100")));

    // A batch through the replica (the writer applies it in one commit), atomic or not.
    let (st, _) = a.client.post("/issues", &ann, json!({"issue": crate::support::ISSUE})).await;
    assert_eq!(st, 201);
    let mut o = crate::support::offer("buy_fixed", "2099-01-01T00:00:00Z", "0.2", 10);
    o["op"] = json!("place_offer");
    let (st, body) = b.client.post("/batch", &ann, json!({"commands": [o.clone(), o.clone()]})).await;
    assert_eq!((st, &body["applied"]), (200, &json!(2)), "{body}");
    let mut too_big = o.clone();
    too_big["volume"] = json!(1_000_000);
    let (st, body) = b.client.post("/batch", &ann, json!({"commands": [o, too_big], "atomic": true})).await;
    assert_eq!((st, body["code"].as_str()), (422, Some("insufficient_funds")), "{body}");
    assert_eq!(b.client.me(&ann).await["held"], "4", "two offers of 10 at 0.2, the atomic batch left nothing");

    // A token made through one process works at once on another (a replica that has not
    // tailed the session yet looks it up in the database).
    for _ in 0..10 {
        let token = a.client.login("ann", PASSWORD).await;
        let (st, me) = b.client.get("/me", &token).await;
        assert_eq!((st, &me["name"]), (200, &json!("ann")), "{me}");
    }

    // A read asking for a position no process has reached waits, then answers 503 (retryable).
    let (st, body) = get_at_least(&b.client, "/me", &ann, "999999").await;
    assert_eq!((st, body["code"].as_str()), (503, Some("lagging")), "{body}");
    let (st, body) = get_at_least(&b.client, "/me", &ann, "soon").await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid_header")), "{body}");

    // A write through the writer is read on the replica once it asks for its seq.
    let r = a
        .client
        .http
        .post(format!("{}/api/v1/admin/deposits", a.client.base))
        .bearer_auth(&admin)
        .json(&json!({"user": "ann", "amount": "5"}))
        .send()
        .await
        .unwrap();
    let seq = r.headers()["peerex-seq"].to_str().unwrap().to_owned();
    let (st, me) = get_at_least(&b.client, "/me", &ann, &seq).await;
    assert_eq!((st, &me["available"]), (200, &json!("101")));

    // The writer stops: the replica takes the lock, catches up and writes.
    a.stop().await;
    let took = wait_role(&b.client, "writer", Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "took over in {took:?}");
    let (st, body) = b.client.post("/admin/deposits", &admin, json!({"user": "ann", "amount": "1"})).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(b.client.me(&ann).await["available"], "102");
    let metrics = b.client.http.get(format!("{}/metrics", b.client.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("peerex_failovers_total 1\n"), "{metrics}");
    assert!(metrics.contains("peerex_writer 1\n"), "{metrics}");

    // The old writer comes back as a replica and forwards to the new one.
    a.restart().await;
    assert_eq!(health(&a.client).await["role"], "replica");
    let (st, body) = a.client.post("/admin/deposits", &admin, json!({"user": "ann", "amount": "2"})).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(a.client.me(&ann).await["available"], "104");
    assert_eq!(b.client.me(&ann).await["available"], "104");

    b.stop().await;
    a.stop().await;
    let report = peerex_server::check(&settings.database).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_write_needs_the_writers_secret() {
    if !postgres("cluster::a_forwarded_write_needs_the_writers_secret") {
        return;
    }
    let db = fresh_database(Backend::Postgres).await;
    let mut a = Server::start_with(Settings { cluster: true, ..Settings::for_tests(db) }).await;
    let forward = |secret: &'static str| {
        let c = a.client.clone();
        async move {
            let body = json!({"action": {"SetClock": {"to": "2030-01-01T00:00:00Z"}}, "idempotency": null});
            let r = c
                .http
                .post(format!("{}/internal/v1/submit", c.base))
                .header("peerex-cluster-secret", secret)
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(forward("guess").await, 403);
    assert_eq!(forward("").await, 403);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_mode_needs_postgresql() {
    let db = fresh_database(Backend::Sqlite).await;
    let layer = peerex_server::settings::SettingsLayer {
        cluster: Some(true),
        data_dir: match &db {
            peerex_server::settings::Database::Sqlite { data_dir } => Some(data_dir.clone()),
            _ => None,
        },
        ..Default::default()
    };
    let err = Settings::from_layer(layer).unwrap_err().to_string();
    assert!(err.contains("PostgreSQL"), "{err}");
}
