//! Background jobs on the real clock. The tick job applies expiries, maturations and
//! settlements when something is due (a tick that finds nothing due is not logged).
//!
//! Tracker sync seam: [`sync_op`] builds the `sync_issue` operation a tracker sync job or a
//! verified webhook submits with [`submit_sync`]; the engine settles a series on a synced issue
//! only after an observation newer than its maturation.

use std::time::Duration;

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_engine::{Op, Timestamp};

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::writer::{Action, Reply};

/// Every this many ticks the job submits a tick even if nothing looks due (prediction-market
/// deadlines are not visible through `next_due`).
const FORCED_EVERY: u64 = 30;

pub async fn tick_loop(state: AppState, period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    loop {
        interval.tick().await;
        n += 1;
        let due = {
            let engine = state.shared.engine();
            engine.exchange().next_due().is_some_and(|t| t <= state.shared.clock.now())
        };
        if due || n.is_multiple_of(FORCED_EVERY) {
            let render = Box::new(|_: &_, _: &_, _: &_| Reply::new(200, serde_json::Value::Null));
            match state.submit(Action::Engine { op: Op::Tick {}, actor: None, render }, None).await {
                Ok(_) => {}
                Err(e) if e.status == 503 => break,
                Err(_) => {}
            }
        }
    }
}

pub fn sync_op(
    issue: String,
    tracker: String,
    title: String,
    state: SyncedState,
    reason: Option<CloseReason>,
    changed_at: Option<Timestamp>,
    observed_at: Option<Timestamp>,
) -> Op {
    Op::SyncIssue { issue, tracker, title, state, reason, changed_at, observed_at }
}

/// Applies one tracker observation through the writer (for sync jobs and webhooks).
pub async fn submit_sync(state: &AppState, op: Op) -> Result<Reply, ApiError> {
    let render = crate::http::render::on_success(200, |_, ev| serde_json::json!({"events": ev.len()}));
    state.submit(Action::Engine { op, actor: None, render }, None).await
}
