//! Background jobs on the real clock. The tick job applies expiries, maturations and
//! settlements when something is due (a tick that finds nothing due is not logged). The same
//! loop runs the resource market's daily operator job: once per day of the server's clock (real,
//! or the sandbox clock), `settle_day` then `update_prices` (skipped, unlogged, while no peer is
//! registered).
//!
//! Tracker sync seam: [`sync_op`] builds the `sync_issue` operation a tracker sync job or a
//! verified webhook submits with [`submit_sync`]; the engine settles a series on a synced issue
//! only after an observation newer than its maturation.

use std::time::Duration;

use peerex_engine::command::SyncedState;
use peerex_engine::exchange::types::CloseReason;
use peerex_engine::{Op, Timestamp};

use crate::state::AppState;
use crate::views::After;
use crate::writer::{Action, WriteError, WriteResult};

/// Every this many ticks the job submits a tick even if nothing looks due: a safety net, since
/// `Engine::next_due` covers every deadline the engine keeps (expiries, maturations, dispute
/// windows, prediction markets' and arbitration cases' deadlines).
const FORCED_EVERY: u64 = 30;

pub async fn tick_loop(state: AppState, period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    // The job starts counting at the day the server starts in, so a restart never settles the
    // same day twice (a day the server was down across midnight is not settled; see docs).
    let mut resource_day = day_of(state.shared.clock.now());
    loop {
        interval.tick().await;
        n += 1;
        if n.is_multiple_of(HOUSEKEEPING_EVERY) {
            housekeeping(&state);
        }
        // The demo's driver moves its stepped clock and runs the daily job itself, in order
        // with its agents (crate::demo), so that its log depends on its seed only.
        if state.settings.demo.is_some() {
            continue;
        }
        if !state.shared.cluster.is_writer() {
            // A replica: the writer runs the jobs. If this process becomes the writer, it counts
            // days from then on, as a restart does.
            resource_day = day_of(state.shared.clock.now());
            continue;
        }
        if resource_day_job(&state, &mut resource_day).await.is_err() {
            break;
        }
        let due = {
            let engine = state.shared.engine();
            engine.next_due().is_some_and(|t| t <= state.shared.clock.now())
        };
        if due || n.is_multiple_of(FORCED_EVERY) {
            if let Err(WriteError::Unavailable | WriteError::Storage) =
                state.submit(Action::engine(Op::Tick {}, None, After::Nothing), None).await
            {
                break;
            }
        }
    }
}

/// Every this many ticks the job forgets expired sessions and idle rate-limit keys.
const HOUSEKEEPING_EVERY: u64 = 10;

/// Bounds the memory of what clients create without committing anything: expired sessions
/// (they already answer 401) and rate-limit keys back to a fresh key's state.
pub fn housekeeping(state: &AppState) {
    let pruned = state.shared.accounts_mut().prune_sessions(crate::clock::Clock::wall_ms());
    if pruned > 0 {
        tracing::debug!("forgot {pruned} expired sessions");
    }
    state.limiter.housekeeping();
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days since the epoch (UTC) of a time on the server's clock.
pub fn day_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(MILLIS_PER_DAY)
}

/// What the daily job does this tick, given the last day it handled, today and whether any peer
/// is registered: the day it has now handled, and whether to settle. It catches up at most one
/// day per tick (a sandbox clock jumping ahead settles each day, spread over ticks).
pub fn resource_step(handled: i64, today: i64, has_peers: bool) -> (i64, bool) {
    if today <= handled {
        (handled, false)
    } else if has_peers {
        (handled + 1, true)
    } else {
        (today, false)
    }
}

/// One tick of the daily resource job; `Err` only when the writer has stopped.
async fn resource_day_job(state: &AppState, handled: &mut i64) -> Result<(), ()> {
    let today = day_of(state.shared.clock.now());
    let has_peers = state.shared.engine().resources().peers().next().is_some();
    let (next, settle) = resource_step(*handled, today, has_peers);
    *handled = next;
    if settle {
        for op in [Op::SettleDay {}, Op::UpdatePrices {}] {
            match state.submit(Action::engine(op, None, After::Nothing), None).await {
                Err(WriteError::Unavailable | WriteError::Storage) => return Err(()),
                Err(e) => tracing::warn!(code = %e.code(), message = %e, "daily resource job refused"),
                Ok(_) => {}
            }
        }
    }
    Ok(())
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
pub async fn submit_sync(state: &AppState, op: Op) -> WriteResult {
    state.submit(Action::engine(op, None, After::Sync), None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_job_settles_once_per_day_and_skips_without_peers() {
        assert_eq!(resource_step(10, 10, true), (10, false), "same day: nothing");
        assert_eq!(resource_step(10, 11, true), (11, true), "a new day: settle");
        assert_eq!(resource_step(10, 13, true), (11, true), "behind: one day per tick");
        assert_eq!(resource_step(10, 13, false), (13, false), "no peers: skip to today, log nothing");
        assert_eq!(day_of(Timestamp::from_millis(86_400_000 - 1)), 0);
        assert_eq!(day_of(Timestamp::from_millis(86_400_000)), 1);
    }
}
