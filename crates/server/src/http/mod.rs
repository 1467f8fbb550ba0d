//! The HTTP API under /api/v1 (spec/service.md), plus /healthz and /metrics.
//! Each submodule owns one group of endpoints; `openapi` describes them all.

pub mod accounts;
pub mod admin;
pub mod backups;
pub mod batch;
pub mod error;
pub mod exchange;
pub mod extract;
pub mod feeds;
pub mod internal;
pub mod markets;
pub mod mechanisms;
pub mod openapi;
pub mod ops;
pub mod peers;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Every route with its description: each handler carries `#[utoipa::path]` and is registered
/// with `routes!`, so the router and the OpenAPI document cannot drift apart.
pub fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(accounts::sign_up))
        .routes(routes!(accounts::log_in, accounts::log_out))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::balances))
        .routes(routes!(exchange::list_issues, exchange::open_issue))
        .routes(routes!(exchange::close_issue))
        .routes(routes!(exchange::reopen_issue))
        .routes(routes!(exchange::my_offers, exchange::place_offer))
        .routes(routes!(exchange::get_offer, exchange::cancel_offer))
        .routes(routes!(exchange::resume_offer))
        .merge(
            // A batch may carry up to 1,000 offers: its own, larger body limit.
            OpenApiRouter::new().routes(routes!(batch::submit)).layer(DefaultBodyLimit::max(batch::BATCH_BODY_LIMIT)),
        )
        .routes(routes!(exchange::positions))
        .routes(routes!(exchange::series))
        .routes(routes!(exchange::book))
        .routes(routes!(exchange::trades))
        .routes(routes!(exchange::prices))
        .routes(routes!(feeds::my_events))
        .routes(routes!(feeds::stream))
        .routes(routes!(feeds::clock))
        .routes(routes!(markets::list, markets::create))
        .routes(routes!(markets::get_one))
        .routes(routes!(markets::shares))
        .routes(routes!(backups::list, backups::put))
        .routes(routes!(backups::delete))
        .routes(routes!(backups::restore))
        .routes(routes!(backups::held))
        .routes(routes!(backups::report))
        .routes(routes!(markets::trade))
        .routes(routes!(markets::report))
        .routes(routes!(markets::resolve))
        .routes(routes!(markets::quote))
        .routes(routes!(mechanisms::open_statement))
        .routes(routes!(mechanisms::report))
        .routes(routes!(mechanisms::dispute))
        .routes(routes!(mechanisms::dispute_settings))
        .routes(routes!(mechanisms::configure_disputes))
        .routes(routes!(mechanisms::get_maker, mechanisms::fund_maker))
        .routes(routes!(admin::create_user))
        .routes(routes!(admin::deposit))
        .routes(routes!(admin::withdraw))
        .routes(routes!(admin::ledger))
        .routes(routes!(admin::decide))
        .routes(routes!(admin::set_clock))
        .routes(routes!(admin::sync_issue))
        .routes(routes!(peers::register))
        .routes(routes!(peers::report_online))
        .routes(routes!(peers::set_sliders, peers::put_sliders))
        .routes(routes!(peers::me))
        .routes(routes!(peers::preview))
        .routes(routes!(peers::operator))
        .routes(routes!(peers::peer_debug))
        .routes(routes!(peers::settle))
        .routes(routes!(peers::update_prices))
        .routes(routes!(webhooks::github_webhook))
        .routes(routes!(webhooks::gitlab_webhook))
        .routes(routes!(webhooks::gitea_webhook))
        .routes(routes!(openapi::document));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", v1)
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
}

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The API's router with `extra` routes (the web UI) merged in: the per-address rate limit, the
/// body limit and the panic guard cover both; idempotency fingerprints are the API's.
pub fn router_with(state: AppState, extra: Router) -> Router {
    let (routes, _) = api().split_for_parts();
    // Forwarded writes of a cluster's other processes: only with --cluster, and not in the
    // OpenAPI document (not an API for clients).
    let internal = if state.shared.cluster.enabled {
        Router::new()
            .route(crate::forward::FORWARD_PATH, axum::routing::post(internal::submit))
            .layer(DefaultBodyLimit::max(internal::FORWARD_BODY_LIMIT))
            .with_state(state.clone())
    } else {
        Router::new()
    };
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), fingerprint))
        .with_state(state.clone())
        .merge(internal)
        .merge(extra)
        .layer(middleware::from_fn_with_state(state.clone(), log_position))
        .layer(middleware::from_fn_with_state(state.clone(), per_address))
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal("the request failed inside the server").into_response()
        }))
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
    // A replica forwards every client's writes from one address: the writer does not count them
    // against it (each client was limited where it came in).
    let forwarded = path == crate::forward::FORWARD_PATH && internal::authorised(&state, req.headers());
    if path != "/healthz" && path != "/metrics" && !forwarded {
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
    let limit = if parts.uri.path() == "/api/v1/batch" {
        batch::BATCH_BODY_LIMIT.max(state.settings.body_limit)
    } else {
        state.settings.body_limit
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
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

/// The request header a client sends to read at least its own write (the `Peerex-Seq` of its
/// answer): the process waits up to [`MIN_SEQ_WAIT`] to have applied it, then answers 503.
pub const MIN_SEQ_HEADER: &str = "peerex-min-seq";
/// The response header with the log position this process had applied when it answered.
pub const SEQ_HEADER: &str = "peerex-seq";
/// How long a read waits for its minimum seq.
pub const MIN_SEQ_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads that ask for a minimum log position wait for it; every answer says the position this
/// process had applied (a read) or committed (a write: at least that write's).
async fn log_position(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get(MIN_SEQ_HEADER) {
        let Some(min) = v.to_str().ok().and_then(|v| v.trim().parse::<i64>().ok()) else {
            return ApiError::bad_request("invalid_header", "Peerex-Min-Seq must be a whole number (a Peerex-Seq)")
                .into_response();
        };
        if !state.shared.cluster.wait_applied(min, MIN_SEQ_WAIT).await {
            let applied = state.shared.cluster.applied();
            return ApiError::from(crate::state::Lagging { applied, wanted: min }).into_response();
        }
    }
    let safe = req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD;
    let mut resp = next.run(req).await;
    // A read answers from what was applied; a write's answer may come before the readers'
    // engine has it (a snapshot holding it back), so it names what was committed.
    let c = &state.shared.cluster;
    let seq = if safe { c.applied() } else { c.written() };
    if let Ok(v) = axum::http::HeaderValue::from_str(&seq.to_string()) {
        resp.headers_mut().insert(SEQ_HEADER, v);
    }
    resp
}
