//! The caller's events after a cursor, the live stream of public events, and the clock.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Deserialize;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::{Stream, StreamExt};
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Query, User};
use crate::state::AppState;
use crate::views::{self, ClockView, EventsPage};

pub const MAX_PAGE: i64 = 1_000;

/// A page after a cursor.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// The cursor of the last event seen (0: from the start).
    #[serde(default)]
    #[param(minimum = 0)]
    pub after: Option<i64>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

impl Page {
    pub fn bounds(&self) -> (i64, i64) {
        (self.after.unwrap_or(0).max(0), self.limit.unwrap_or(100).clamp(1, MAX_PAGE))
    }
}

#[utoipa::path(get, path = "/events", tag = "feeds", security(("bearer" = [])), params(Page),
    responses((status = 200, description = "the caller's events after the cursor", body = EventsPage)))]
pub async fn my_events(
    State(state): State<AppState>,
    user: User,
    Query(p): Query<Page>,
) -> ApiResult<axum::Json<EventsPage>> {
    let (after, limit) = p.bounds();
    let rows = state.store.feed(&user.name, after, limit).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(axum::Json(views::ops::events_page(rows, after)))
}

/// Server-Sent Events: every public event (trades, series, issues, markets) once committed.
#[utoipa::path(get, path = "/stream", tag = "feeds",
    responses((status = 200, description = "Server-Sent Events: every public event once committed (`event: market`, `id`: its cursor, `data`: its JSON)", content_type = "text/event-stream", body = String)))]
pub async fn stream(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.shared.public_events.subscribe();
    let events = BroadcastStream::new(rx).filter_map(|e| e.ok()).map(Some);
    // Ends the stream when the server shuts down.
    let closing = WatchStream::new(state.shared.shutdown.subscribe()).filter(|down| *down).map(|_| None);
    let stream = events
        .merge(closing)
        .take_while(Option::is_some)
        .filter_map(|e| e)
        .map(|e| Ok(Event::default().id(e.0.to_string()).event("market").data(e.1.as_str())));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[utoipa::path(get, path = "/clock", tag = "feeds",
    responses((status = 200, description = "the server's clock", body = ClockView)))]
pub async fn clock(State(state): State<AppState>) -> axum::Json<ClockView> {
    let engine_time = state.shared.engine().now();
    axum::Json(ClockView { now: state.shared.clock.now(), engine_time, sandbox: state.settings.sandbox })
}
