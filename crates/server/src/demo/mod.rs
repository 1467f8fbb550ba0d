//! The demo (`peerex serve --demo`): a living sandbox. It creates demo accounts and runs agent
//! populations ([`agents`]) against the live server. Domain layer: the driver only talks to the
//! single writer, with the same [`Action`]s the API's handlers submit for a user (and the
//! operator's daily resource job), never by touching an engine itself; the engine decides, and
//! may refuse, every agent's command as it would a person's.
//!
//! Time: the server's clock is *stepped* ([`crate::clock::Clock::stepped`]): it starts at
//! [`START`] and only the driver (and an admin) moves it, one simulated hour per step, through
//! the same `SetClock` action as an admin's. A step's wall-clock length follows the speed (simulated days
//! per real minute, default 1). After moving the clock (which applies what fell due: maturations,
//! settlements, expiries), the driver runs the resource market's daily job at midnight, then
//! submits the agents' decisions for the hour, all queued before waiting (one group commit).
//!
//! Determinism: the agents decide from the committed engine state and one random generator
//! seeded by `--seed`, so, as long as no person acts, two demos with the same seed write the
//! same command log (the same commands with the same times, in the same order, hence the same
//! events, trades and prices), whatever the speed and the machine. A person's command changes
//! the state the agents read from then on (and an admin moving the clock changes the times).

pub mod agents;

use std::time::Instant;

use peerex_engine::{Op, Timestamp};
use tokio::sync::oneshot;

use crate::state::AppState;
use crate::store::AccountRow;
use crate::views::After;
use crate::writer::{Action, Request, WriteError};

pub use crate::settings::{DemoSettings, SPEED_MAX, SPEED_MIN};
pub use agents::{accounts, Role};

/// When the demo's clock starts (a Monday).
pub const START: &str = "2026-01-05T00:00:00Z";
/// Every demo account's password.
pub const PASSWORD: &str = "demo-pass";
/// One step of the driver: a simulated hour.
pub const STEP_MS: i64 = 3_600_000;
/// The demo clock's start.
pub fn start() -> Timestamp {
    Timestamp::parse(START).unwrap_or(Timestamp::from_millis(0))
}

/// What to print at start (and show on the login page): the accounts by role.
pub fn credentials() -> Vec<(Role, Vec<&'static str>)> {
    let all = accounts();
    Role::ALL.iter().map(|r| (*r, all.iter().filter(|(_, x)| x == r).map(|(n, _)| *n).collect())).collect()
}

/// Creates the demo accounts (one password hash shared by all) and submits the setup commands.
/// The database must be new: a demo always starts from nothing.
pub async fn setup(state: &AppState) -> anyhow::Result<agents::World> {
    let demo = state.settings.demo.clone().unwrap_or_default();
    let kib = state.settings.argon2_kib;
    let hash = tokio::task::spawn_blocking(move || crate::accounts::hash_password(PASSWORD, kib))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;
    for (name, role) in accounts() {
        let row = AccountRow { name: name.to_owned(), password_hash: hash.clone(), admin: role == Role::Admin };
        state
            .submit(Action::CreateAccount { row }, None)
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo account {name}: {e}"))?;
    }
    let mut world = agents::World::new(demo.seed);
    let setup = world.setup();
    submit_all(state, &mut world, setup).await.map_err(|e| anyhow::anyhow!("setting up the demo: {e}"))?;
    Ok(world)
}

/// Runs the agents, one simulated hour per step, until the server stops (or the test's limit).
pub async fn run(state: AppState, mut world: agents::World) {
    let demo = state.settings.demo.clone().unwrap_or_default();
    let step_wall = demo.step_wall();
    let started = Instant::now();
    let mut shutdown = state.shared.shutdown.subscribe();
    let last = demo.stop_after_days.map(|d| d * agents::HOURS);
    let mut k: u64 = 0;
    loop {
        if last.is_some_and(|l| k > l) || !state.shared.is_healthy() || *shutdown.borrow() {
            break;
        }
        let due = started + step_wall.mul_f64(k as f64);
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = shutdown.changed() => break,
        }
        match step(&state, &mut world, k).await {
            Ok(()) => {}
            Err(WriteError::Unavailable | WriteError::Storage) => break,
            Err(e) => tracing::warn!("demo step {k}: {e}"),
        }
        k += 1;
    }
    tracing::info!("demo agents stopped after {k} simulated hours");
}

/// One simulated hour: move the clock, the daily resource job at midnight, the agents.
///
/// Each step moves the clock one hour on from where it reads (the first to [`START`]): without
/// a person, step `k` is at `START + k` hours; after an admin moved the clock forward, the demo
/// goes on from there.
pub async fn step(state: &AppState, world: &mut agents::World, k: u64) -> Result<(), WriteError> {
    let before = state.shared.clock.now();
    let to = if k == 0 { start() } else { before.plus_millis(STEP_MS) };
    state.submit(Action::SetClock { to }, None).await?;
    let now = state.shared.clock.now();
    if k > 0 && crate::jobs::day_of(now) > crate::jobs::day_of(before) {
        for op in [Op::SettleDay {}, Op::UpdatePrices {}] {
            match state.submit(Action::engine(op, None, After::Nothing), None).await {
                Err(e @ (WriteError::Unavailable | WriteError::Storage)) => return Err(e),
                Err(e) => tracing::debug!("demo daily job: {e}"),
                Ok(_) => {}
            }
        }
    }
    let decisions = {
        let engine = state.shared.engine();
        world.step(&engine, start(), now)
    };
    submit_all(state, world, decisions).await
}

/// Queues every decision to the writer before waiting for any (one group commit), then tells
/// the world which were accepted. Refusals are normal (a person took the offer first, ...).
async fn submit_all(
    state: &AppState,
    world: &mut agents::World,
    decisions: Vec<agents::Decision>,
) -> Result<(), WriteError> {
    if decisions.is_empty() {
        return Ok(());
    }
    let queue = state.writer.sender();
    let permits = queue.reserve_many(decisions.len()).await.map_err(|_| WriteError::Unavailable)?;
    let mut answers = Vec::with_capacity(decisions.len());
    for (permit, d) in permits.zip(decisions) {
        let (tx, rx) = oneshot::channel();
        let action = Action::engine(d.op, d.actor.as_deref(), After::Nothing);
        permit.send(Request { action, idempotency: None, reply: tx, enqueued: Instant::now() });
        answers.push((d.tag, rx));
    }
    for (tag, rx) in answers {
        match rx.await.unwrap_or(Err(WriteError::Unavailable)) {
            Ok(_) => world.observe(&tag, true),
            Err(e @ (WriteError::Unavailable | WriteError::Storage)) => return Err(e),
            Err(e) => {
                tracing::debug!("demo: refused ({}): {e}", e.code());
                world.observe(&tag, false);
            }
        }
    }
    Ok(())
}

/// The text `peerex serve --demo` prints at start.
pub fn banner(addr: std::net::SocketAddr, demo: &DemoSettings) -> String {
    let mut s = format!(
        "peerex demo on http://{addr}: agents trade on a sandbox clock from {START}, {} simulated day(s) per minute, seed {}\n\
         log in with any of these accounts, password `{PASSWORD}`:\n",
        demo.days_per_minute, demo.seed
    );
    for (role, names) in credentials() {
        s.push_str(&format!("  {:<13} {:<36} {}\n", role.title(), names.join(", "), role.label()));
    }
    s
}

/// Shared form for the web UI (the login page lists the accounts in demo mode).
pub fn is_demo(state: &AppState) -> bool {
    state.settings.demo.is_some()
}
