//! Rebuilding market state: the engine is deterministic, so replaying the command log in order
//! into a fresh [`Engine`] gives back exactly the state (and the events) it had. A start
//! ([`load`]) begins from the newest valid snapshot (snapshot.rs) and replays only the commands
//! after it; `peerex check` replays the whole log ([`replay`]).

use anyhow::Context;
use peerex_engine::{Command, Engine, Timestamp};

use crate::snapshot::{self, Snapshot, SnapshotError, FORMAT_VERSION};
use crate::store::{LoggedCommand, Store};

pub struct Rebuilt {
    pub engine: Engine,
    /// Time of the last logged command (the writer never stamps earlier).
    pub last_at: Option<Timestamp>,
    pub next_seq: i64,
    pub commands: usize,
    pub events: u64,
    /// Commands whose replayed outcome differs from the logged one (should never happen).
    pub mismatches: Vec<String>,
    /// The seq of the snapshot the state started from (`None`: the whole log was replayed).
    pub snapshot: Option<i64>,
    /// Snapshots skipped, newest first: (seq, why).
    pub skipped: Vec<(i64, SnapshotError)>,
}

/// Replays the log. A body that does not parse is corruption and fails the rebuild.
pub fn replay(log: &[LoggedCommand]) -> anyhow::Result<Rebuilt> {
    replay_from(None, log)
}

/// Replays `log` (the commands after the snapshot's seq) onto the snapshot's state, or onto a
/// fresh engine without one.
pub fn replay_from(start: Option<Snapshot>, log: &[LoggedCommand]) -> anyhow::Result<Rebuilt> {
    let snapshot = start.as_ref().map(|s| s.seq);
    let (mut engine, mut events, mut last_at, mut next_seq, before) = match start {
        Some(s) => (s.engine, s.events, s.last_at, s.seq + 1, s.seq as usize),
        None => (Engine::new(), 0, None, 1, 0),
    };
    let mut out = Vec::new();
    let mut mismatches = Vec::new();
    for c in log {
        let cmd = Command::from_json(&c.body)
            .map_err(|e| anyhow::anyhow!("command {} in the log does not parse: {e}", c.seq))?;
        last_at = Some(cmd.at);
        out.clear();
        let result = engine.apply(cmd, &mut out);
        events += out.len() as u64;
        let got = result.err().map(|e| e.code().to_owned());
        if got != c.error {
            mismatches.push(format!("command {}: logged outcome {:?}, replayed {:?}", c.seq, c.error, got));
        }
        next_seq = c.seq + 1;
    }
    Ok(Rebuilt {
        engine,
        last_at,
        next_seq,
        commands: before + log.len(),
        events,
        mismatches,
        snapshot,
        skipped: Vec::new(),
    })
}

/// The state on start: the newest snapshot that passes every check (snapshot.rs), then the
/// commands after it. A snapshot that fails one (corrupt, an older format or engine, ahead of
/// the log) is skipped with a warning naming its seq and why, for the next older one or, with
/// none left, a replay of the whole log.
pub async fn load(store: &Store) -> anyhow::Result<Rebuilt> {
    let began = std::time::Instant::now();
    let last_logged = store.last_seq().await?;
    let mut skipped = Vec::new();
    let mut start = None;
    for row in store.snapshots().await? {
        let checked = if row.version != FORMAT_VERSION as i32 {
            Err(SnapshotError::Version { found: row.version as u32 })
        } else if row.seq > last_logged {
            // The log lost commands the snapshot includes (a restored backup?): never build on it.
            Err(SnapshotError::AheadOfLog { seq: row.seq, last: last_logged })
        } else {
            match store.snapshot_body(row.seq).await? {
                Some(bytes) => {
                    let r = row.clone();
                    tokio::task::spawn_blocking(move || snapshot::decode_row(&r, &bytes))
                        .await
                        .context("decoding a snapshot")?
                }
                // Deleted since listed (another process keeps the newest few): try the next.
                None => continue,
            }
        };
        match checked {
            Ok(s) => {
                start = Some(s);
                break;
            }
            Err(e) => {
                tracing::warn!("skipping the snapshot at seq {}: {e} ({})", row.seq, e.code());
                skipped.push((row.seq, e));
            }
        }
    }
    let loaded = began.elapsed();
    let after = start.as_ref().map_or(0, |s| s.seq);
    let tail = store.load_log_after(after).await?;
    let mut rebuilt = replay_from(start, &tail)?;
    let total = began.elapsed().as_secs_f64();
    match rebuilt.snapshot {
        Some(seq) => tracing::info!(
            "state from the snapshot at seq {seq} (read and decoded in {:.2} s) and the {} commands after it, in {total:.2} s",
            loaded.as_secs_f64(),
            tail.len()
        ),
        None => tracing::info!("state from a replay of the whole log ({} commands) in {total:.2} s", tail.len()),
    }
    rebuilt.skipped = skipped;
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(seq: i64, body: &str, error: Option<&str>) -> LoggedCommand {
        LoggedCommand { seq, body: body.into(), error: error.map(str::to_owned) }
    }

    #[test]
    fn replays_to_the_same_balances_and_spots_mismatches() {
        let log = vec![
            logged(1, r#"{"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"1000"}"#, None),
            logged(2, r#"{"at":"2026-12-01T09:00:01Z","op":"withdraw","user":"adam","amount":"10"}"#, None),
            logged(3, r#"{"at":"2026-12-01T09:00:02Z","op":"withdraw","user":"adam","amount":"5000"}"#, None),
        ];
        let r = replay(&log).unwrap();
        let adam = r.engine.user_id("adam").unwrap();
        assert_eq!(r.engine.balance(adam).0.to_string(), "990");
        assert_eq!(r.next_seq, 4);
        assert_eq!(r.mismatches.len(), 1, "{:?}", r.mismatches);
        assert!(r.engine.check_invariants().is_ok());
        assert!(replay(&[logged(1, "{broken", None)]).is_err());
    }
}
