//! Log-ins and sessions: per-account throttling (whatever the address), rehashing passwords made
//! with other Argon2 parameters, and sessions that expire.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::on_both;
use crate::support::{fresh_database, Backend, Server, PASSWORD};
use peerex_server::settings::Settings;

async fn log_in(s: &Server, name: &str, password: &str) -> (u16, Option<String>, serde_json::Value) {
    let resp = s
        .client
        .http
        .post(format!("{}/api/v1/sessions", s.client.base))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.json().await.unwrap_or_default())
}

/// Wrong passwords for one account are throttled per account (the per-address limit is far
/// away here, as for an attacker spreading attempts over many addresses); after the lockout
/// window the right password works again.
async fn log_ins_are_throttled_per_account(backend: Backend) {
    let mut settings = Settings::for_tests(fresh_database(backend).await);
    settings.login_attempts = 5;
    settings.login_lockout = Duration::from_secs(2);
    let s = Server::start_with(settings).await;
    s.user("adam").await;
    // `user` logged in once: 4 attempts are left.
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let (st, retry, body) = log_in(&s, "adam", "wrong password").await;
        if st == 429 {
            assert_eq!(body["code"], "rate_limited", "{body}");
            retry_after = retry;
        }
        statuses.push(st);
    }
    assert_eq!(&statuses[..4], &[401; 4], "{statuses:?}");
    assert!(statuses[4..].iter().all(|st| *st == 429), "throttled after 5 attempts: {statuses:?}");
    let wait: u64 = retry_after.expect("429 carries Retry-After").parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Even the right password waits for the window (the attacker cannot tell them apart).
    assert_eq!(log_in(&s, "adam", PASSWORD).await.0, 429);
    // Other accounts are not affected.
    assert_eq!(log_in(&s, "beth", "wrong password").await.0, 401);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (st, _, body) = log_in(&s, "adam", PASSWORD).await;
    assert_eq!(st, 200, "the right password works after the lockout window: {body}");
}
on_both!(log_ins_are_throttled_per_account);

/// A password hashed with other Argon2 parameters is rehashed with the configured ones at the
/// next successful log-in (and the new hash is stored), so log-in costs no longer tell accounts
/// apart by when they were created.
async fn passwords_are_rehashed_when_the_parameters_change(backend: Backend) {
    let settings = Settings::for_tests(fresh_database(backend).await);
    let mut s = Server::start_with(settings).await;
    s.user("adam").await;
    let hash = |s: &Server| s.running.as_ref().unwrap().state.shared.accounts().users["adam"].password_hash.clone();
    assert!(hash(&s).contains("m=64,"), "{}", hash(&s));
    s.settings.argon2_kib = 128;
    s.restart().await;
    // A wrong password changes nothing.
    assert_eq!(log_in(&s, "adam", "wrong password").await.0, 401);
    assert!(hash(&s).contains("m=64,"), "{}", hash(&s));
    s.client.login("adam", PASSWORD).await;
    assert!(hash(&s).contains("m=128,"), "rehashed at log-in: {}", hash(&s));
    s.restart().await;
    assert!(hash(&s).contains("m=128,"), "the new hash is stored: {}", hash(&s));
    s.client.login("adam", PASSWORD).await;
}
on_both!(passwords_are_rehashed_when_the_parameters_change);

/// Sessions expire `session_ttl` after log-in: the token then answers 401, also after a restart.
async fn sessions_expire(backend: Backend) {
    let mut settings = Settings::for_tests(fresh_database(backend).await);
    settings.session_ttl = Duration::from_secs(2);
    let mut s = Server::start_with(settings).await;
    let adam = s.user("adam").await;
    assert_eq!(s.client.get("/me", &adam).await.0, 200);
    s.restart().await;
    assert_eq!(s.client.get("/me", &adam).await.0, 200, "a live session survives a restart");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let (st, body) = s.client.get("/me", &adam).await;
    assert_eq!((st, body["code"].as_str()), (401, Some("unauthorized")), "{body}");
    s.restart().await;
    assert_eq!(s.client.get("/me", &adam).await.0, 401, "still expired after a restart");
    let fresh = s.client.login("adam", PASSWORD).await;
    assert_eq!(s.client.call(Method::GET, "/me", Some(&fresh), None).await.0, 200);
}
on_both!(sessions_expire);
