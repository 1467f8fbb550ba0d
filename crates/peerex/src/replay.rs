//! `peerex replay FILE` (spec/commands.md): JSON Lines of commands applied in order to a fresh
//! in-memory engine; the final state is printed as JSON. Rejected commands are recorded and
//! replay goes on; a malformed file (bad JSON, unknown op) stops with a message naming the line.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use peerex_engine::{Command, Engine, EngineError};
use serde_json::{json, Value};

#[derive(clap::Args)]
pub struct Args {
    /// The commands file (JSON Lines; blank lines and lines starting with # are skipped); `-` reads stdin.
    pub file: PathBuf,
    /// Also print every event (public JSON form) under "event_log".
    #[arg(long)]
    pub events: bool,
    /// Check every engine invariant after each command and fail on a violation.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?)
    };
    let out = replay(BufReader::new(reader), args.events, args.check)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

/// Replays JSON Lines into a fresh engine and returns the state summary.
pub fn replay(input: impl BufRead, with_events: bool, check: bool) -> anyhow::Result<Value> {
    let mut engine = Engine::new();
    let mut events = Vec::new();
    let mut rejected = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("line {n}: cannot read"))?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let cmd = match Command::from_json(text) {
            Ok(c) => c,
            Err(EngineError::MalformedCommand(m)) => bail!("line {n}: malformed command: {m}"),
            Err(e) => {
                // Well-formed JSON with a bad value (price, amount, time): a rejected command.
                rejected.push(json!({"line": n, "error": e.code(), "message": e.message()}));
                continue;
            }
        };
        if let Err(e) = engine.apply(cmd, &mut events) {
            rejected.push(json!({"line": n, "error": e.code(), "message": e.message()}));
        }
        if check {
            if let Err(v) = engine.check_invariants() {
                bail!("line {n}: invariant violated: {v}");
            }
        }
    }
    let mut out = engine.summary();
    if let Value::Object(m) = &mut out {
        m.insert("rejected".into(), Value::Array(rejected));
        m.insert("events".into(), json!(events.len()));
        if with_events {
            m.insert("event_log".into(), Value::Array(events.iter().map(|e| engine.render_event(e)).collect()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_commands_are_recorded_and_replay_goes_on() {
        let input = r#"
# Adam deposits, then tries to overspend
{"at":"2026-12-01T09:00:00Z","op":"deposit","user":"adam","amount":"10"}
{"at":"2026-12-01T09:00:00Z","op":"withdraw","user":"adam","amount":"11"}
{"at":"2026-12-01T09:00:00Z","op":"withdraw","user":"adam","amount":"1"}
"#;
        let out = replay(input.as_bytes(), false, true).unwrap();
        assert_eq!(out["users"]["adam"]["available"], "9");
        assert_eq!(out["rejected"][0]["line"], 4);
        assert_eq!(out["rejected"][0]["error"], "insufficient_funds");
        assert_eq!(out["events"], 3);
    }

    #[test]
    fn a_malformed_line_is_named() {
        let err =
            replay("{\"at\":\"2026-12-01T09:00:00Z\",\"op\":\"tick\"}\n{oops\n".as_bytes(), false, false).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
