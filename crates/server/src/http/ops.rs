//! Health and Prometheus metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::http::error::ApiError;
use crate::metrics::Gauges;
use crate::state::AppState;
use crate::views::{ErrorView, HealthView};

#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "the writer runs and the database answers", body = HealthView), (status = 503, description = "unhealthy", body = ErrorView)))]
pub async fn healthz(State(state): State<AppState>) -> Result<axum::Json<HealthView>, ApiError> {
    if !state.shared.is_healthy() {
        return Err(ApiError::new(
            503,
            "unhealthy",
            "the writer stopped (a failed commit or a panic); the process must restart",
        ));
    }
    if !state.store.ping().await {
        return Err(ApiError::new(503, "unhealthy", "the database does not answer"));
    }
    let c = &state.shared.cluster;
    Ok(axum::Json(HealthView {
        status: "ok".into(),
        database: state.store.backend().into(),
        role: c.role().into(),
        applied_seq: c.applied(),
        lag: c.lag(),
    }))
}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format: commands applied and refused, latencies, queue depth, open offers, users", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let gauges = {
        let engine = state.shared.engine();
        let open_offers = engine.exchange().all_offers().filter(|(_, o)| o.is_live()).count();
        let c = &state.shared.cluster;
        Gauges {
            queue_depth: state.queue_depth(),
            open_offers,
            users: engine.user_count(),
            writer: c.is_writer(),
            applied_seq: c.applied(),
            lag: c.lag(),
            failovers: c.failovers.load(std::sync::atomic::Ordering::Relaxed),
        }
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.shared.metrics.render(&gauges))
}
