//! A tiny fake peerex API on 127.0.0.1 (port 0) that records every request (method, path with
//! query, bearer header, JSON body) and answers from a table of canned responses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query exactly as sent (percent-encoding included).
    pub target: String,
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    answers: HashMap<String, (u16, Value)>,
    /// Answers used once each, before `answers`.
    once: HashMap<String, Vec<(u16, Value)>>,
    requests: Vec<Request>,
}

pub struct FakeApi {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl FakeApi {
    pub fn start() -> FakeApi {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeApi { inner, addr, _runtime: runtime }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `METHOD /path` (query ignored) with `status` and `body`.
    pub fn answer(&self, method: &str, path: &str, status: u16, body: Value) {
        self.inner.lock().unwrap().answers.insert(format!("{method} {path}"), (status, body));
    }

    /// Answers the next `METHOD /path` with `status` and `body`, once.
    pub fn answer_once(&self, method: &str, path: &str, status: u16, body: Value) {
        self.inner.lock().unwrap().once.entry(format!("{method} {path}")).or_default().push((status, body));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn last(&self) -> Request {
        self.requests().pop().expect("no request reached the fake API")
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let body = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(json!("<not json>")) };
    inner.requests.push(Request {
        method: method.to_string(),
        target: uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
        idempotency_key: headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned),
        body,
    });
    let key = format!("{method} {}", uri.path());
    let once = inner.once.get_mut(&key).filter(|q| !q.is_empty()).map(|q| q.remove(0));
    match once.as_ref().or_else(|| inner.answers.get(&key)) {
        Some((status, Value::Null)) => StatusCode::from_u16(*status).unwrap().into_response(),
        Some((status, body)) => (StatusCode::from_u16(*status).unwrap(), axum::Json(body.clone())).into_response(),
        None => (StatusCode::NOT_FOUND, axum::Json(json!({"code": "not_found", "message": "no such endpoint"})))
            .into_response(),
    }
}
