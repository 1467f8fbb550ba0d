//! The HTTP API under /api/v1 (spec/service.md), plus /healthz and /metrics.
//! Each submodule owns one group of endpoints; `openapi` describes them all.

pub mod accounts;
pub mod admin;
pub mod error;
pub mod exchange;
pub mod extract;
pub mod feeds;
pub mod markets;
pub mod openapi;
pub mod ops;
pub mod peers;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::http::error::ApiError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/users", post(accounts::sign_up))
        .route("/sessions", post(accounts::log_in).delete(accounts::log_out))
        .route("/me", get(accounts::me))
        .route("/balances", get(accounts::balances))
        .route("/issues", get(exchange::list_issues).post(exchange::open_issue))
        .route("/issues/close", post(exchange::close_issue))
        .route("/issues/reopen", post(exchange::reopen_issue))
        .route("/offers", get(exchange::my_offers).post(exchange::place_offer))
        .route("/offers/{id}", get(exchange::get_offer).delete(exchange::cancel_offer))
        .route("/offers/{id}/resume", post(exchange::resume_offer))
        .route("/positions", get(exchange::positions))
        .route("/series", get(exchange::series))
        .route("/book", get(exchange::book))
        .route("/trades", get(exchange::trades))
        .route("/prices", get(exchange::prices))
        .route("/events", get(feeds::my_events))
        .route("/stream", get(feeds::stream))
        .route("/clock", get(feeds::clock))
        .route("/markets", get(markets::list).post(markets::create))
        .route("/markets/{id}/trades", post(markets::trade))
        .route("/markets/{id}/reports", post(markets::report))
        .route("/markets/{id}/resolve", post(markets::resolve))
        .route("/markets/{id}/quote", get(markets::quote))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/deposits", post(admin::deposit))
        .route("/admin/withdrawals", post(admin::withdraw))
        .route("/admin/decide", post(admin::decide))
        .route("/admin/clock", post(admin::set_clock))
        .route("/admin/sync", post(admin::sync_issue))
        .route("/peers", post(peers::register))
        .route("/peers/online", post(peers::report_online))
        .route("/peers/sliders", post(peers::set_sliders).put(peers::set_sliders))
        .route("/peers/me", get(peers::me))
        .route("/peers/me/preview", get(peers::preview))
        .route("/admin/resources", get(peers::operator))
        .route("/admin/resources/peers/{id}", get(peers::peer_debug))
        .route("/admin/resources/settle", post(peers::settle))
        .route("/admin/resources/prices", post(peers::update_prices))
        .route("/webhooks/github", post(webhooks::github_webhook))
        .route("/webhooks/gitlab", post(webhooks::gitlab_webhook))
        .route("/webhooks/gitea", post(webhooks::gitea_webhook))
        .route("/openapi.json", get(openapi::document));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), fingerprint))
        .layer(middleware::from_fn_with_state(state.clone(), per_address))
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal("the request failed inside the server").into_response()
        }))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(405, "method_not_allowed", "this endpoint does not take that method")
}

/// Counts requests and applies the per-address rate limit (health and metrics are exempt so
/// monitoring keeps working under load).
async fn per_address(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state.shared.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path();
    if path != "/healthz" && path != "/metrics" {
        let addr = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        if let Some(ip) = addr {
            if let Err(wait) = state.limiter.check(&format!("ip:{ip}")) {
                state.shared.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
                return ApiError::too_many(wait).into_response();
            }
        }
    }
    next.run(req).await
}

/// For a request with an `Idempotency-Key`: reads the body (within the body limit) and puts a
/// hash of the method, path, query and body in the request's extensions, so the writer can
/// refuse the key when it comes back with a different request.
async fn fingerprint(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key("idempotency-key") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.settings.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(413, "invalid_body", "the body is larger than the limit").into_response();
        }
    };
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let hash = extract::RequestHash::of(parts.method.as_str(), target, &bytes);
    parts.extensions.insert(hash);
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}
