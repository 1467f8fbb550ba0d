//! The caller's events after a cursor, the live stream of public events, and the clock.
//!
//! Public data never names users (`views::privacy`): the stream's events go through
//! `public_event`, which drops the fields naming users; a user's own feed (`/events`) goes
//! through `own_event`, which keeps only the caller's own name (their side of a trade).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Query, User};
use crate::shared::PublicEvent;
use crate::state::AppState;
use crate::store::Store;
use crate::views::privacy::{own_event, public_event};
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
    let mut page = views::ops::events_page(rows, after);
    for e in &mut page.events {
        *e = own_event(std::mem::take(e), &user.name);
    }
    Ok(axum::Json(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this cursor (for clients that cannot send `Last-Event-ID`).
    #[serde(default)]
    pub after: Option<i64>,
}

/// Events read from the store per catch-up query.
const CATCH_UP_PAGE: i64 = 256;
/// Events buffered per client between the stream's task and the connection.
const CLIENT_BUFFER: usize = 64;

/// Server-Sent Events: every public event (trades, series, issues, markets) once committed, with
/// its cursor as the SSE id. A client that reconnects with `Last-Event-ID` (or `?after=`) first
/// gets, from the stored events, exactly those it missed; a client too slow for the live
/// broadcast catches up from the store too, so no event is ever dropped or repeated.
#[utoipa::path(get, path = "/stream", tag = "feeds",
    params(StreamQuery, ("Last-Event-ID" = Option<i64>, Header, description = "resume after this cursor")),
    responses((status = 200, description = "Server-Sent Events: every public event once committed, without user names (`event: market`, `id`: its cursor, `data`: its JSON); after `Last-Event-ID` or `after`, first the stored events missed", content_type = "text/event-stream", body = String),
        (status = 400, description = "a cursor that is not an integer >= 0", body = crate::views::ErrorView)))]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let header = match headers.get("last-event-id") {
        None => None,
        Some(v) => {
            Some(v.to_str().ok().and_then(|s| s.trim().parse::<i64>().ok()).filter(|c| *c >= 0).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_last_event_id",
                    "Last-Event-ID must be an event cursor (an integer >= 0)",
                )
            })?)
        }
    };
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::bad_request("invalid_query", "after must be >= 0"));
    }
    // Subscribe before reading the store, so nothing committed in between is missed.
    let live = state.shared.public_events.subscribe();
    let cursor = match header.or(q.after) {
        Some(c) => c,
        None => state.store.last_public_event().await.map_err(|e| ApiError::internal(e.to_string()))?,
    };
    let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
    // The task holds the store and a shutdown signal, not the whole state (whose writer queue
    // must close when the server stops).
    let client = Client { store: state.store.clone(), shutdown: state.shared.shutdown.subscribe(), tx };
    tokio::spawn(client.run(live, cursor));
    let events = ReceiverStream::new(rx)
        .map(|(seq, body): (i64, String)| Ok(Event::default().id(seq.to_string()).event("market").data(body)));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One stream client's feeder task.
struct Client {
    store: Store,
    shutdown: watch::Receiver<bool>,
    tx: mpsc::Sender<(i64, String)>,
}

impl Client {
    /// Sends every public event after `cursor`, in order, until the client goes away or the
    /// server shuts down.
    async fn run(mut self, mut live: broadcast::Receiver<PublicEvent>, mut cursor: i64) {
        if self.catch_up(&mut cursor).await.is_err() {
            return;
        }
        loop {
            let next = tokio::select! {
                r = live.recv() => r,
                _ = self.shutdown.wait_for(|down| *down) => return,
                _ = self.tx.closed() => return,
            };
            let sent = match next {
                Ok(e) if e.0 <= cursor => Ok(()),
                Ok(e) => {
                    cursor = e.0;
                    self.send(e.0, &e.1).await
                }
                // Too slow for the broadcast: what was missed is in the store.
                Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up(&mut cursor).await,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if sent.is_err() {
                return;
            }
        }
    }

    /// Sends the stored public events after `cursor`, page by page, advancing it.
    async fn catch_up(&mut self, cursor: &mut i64) -> Result<(), ()> {
        loop {
            let rows = match self.store.public_events(*cursor, CATCH_UP_PAGE).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!("live stream catch-up failed: {e:#}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if *self.shutdown.borrow() || self.tx.is_closed() {
                        return Err(());
                    }
                    continue;
                }
            };
            let full = rows.len() as i64 == CATCH_UP_PAGE;
            for (seq, body) in rows {
                *cursor = seq;
                self.send(seq, &body).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Sends one event in public form; Err when the client is gone or the server stops.
    async fn send(&mut self, seq: i64, body: &str) -> Result<(), ()> {
        let public = serde_json::from_str(body).map(public_event).map(|v| v.to_string()).map_err(|_| ())?;
        tokio::select! {
            sent = self.tx.send((seq, public)) => sent.map_err(|_| ()),
            _ = self.shutdown.wait_for(|down| *down) => Err(()),
        }
    }
}

#[utoipa::path(get, path = "/clock", tag = "feeds",
    responses((status = 200, description = "the server's clock", body = ClockView)))]
pub async fn clock(State(state): State<AppState>) -> axum::Json<ClockView> {
    let engine_time = state.shared.engine().now();
    axum::Json(ClockView { now: state.shared.clock.now(), engine_time, sandbox: state.settings.sandbox })
}
