//! What the UI keeps in memory from the public events (price history, market logs): loaded
//! from the stored events at start, then kept current from the live stream, catching up from
//! the store when the stream lags. One loop serves every projection.

use std::sync::Arc;

use peerex_server::state::AppState;
use tokio::sync::broadcast::error::RecvError;

/// A projection of the public events: takes each event's JSON once, in cursor order.
pub trait Projection: Send + Sync + 'static {
    /// What it holds, for the log line when loading fails.
    const WHAT: &'static str;
    fn record(&self, body: &str);
}

/// Loads what is stored, then follows the live stream until the server shuts down.
pub fn follow<P: Projection>(p: Arc<P>, app: AppState) {
    let mut rx = app.shared.public_events.subscribe();
    let mut shutdown = app.shared.shutdown.subscribe();
    tokio::spawn(async move {
        let mut cursor = load_after(&*p, &app, 0).await;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                got = rx.recv() => match got {
                    Ok(e) => {
                        if e.0 > cursor {
                            p.record(&e.1);
                            cursor = e.0;
                        }
                    }
                    Err(RecvError::Lagged(_)) => cursor = load_after(&*p, &app, cursor).await,
                    Err(RecvError::Closed) => break,
                }
            }
        }
    });
}

async fn load_after<P: Projection>(p: &P, app: &AppState, mut cursor: i64) -> i64 {
    loop {
        match app.store.public_events(cursor, 5_000).await {
            Ok(rows) if !rows.is_empty() => {
                for (c, body) in &rows {
                    p.record(body);
                    cursor = *c;
                }
            }
            Ok(_) => return cursor,
            Err(e) => {
                tracing::warn!("web: loading the {} failed: {e:#}", P::WHAT);
                return cursor;
            }
        }
    }
}
