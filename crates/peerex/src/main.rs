//! `peerex`: one binary for the server, the simulator, replay and the CLI client.
//! Each subcommand lives in its own module; this file only parses and dispatches.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

// A faster allocator for every driver (server, simulator, replay); the engine allocates names,
// book levels and events on its hot path.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod client;
mod replay;
mod resources_cmd;
mod serve_cmd;
mod sim_cmd;

#[derive(Parser)]
#[command(name = "peerex", version, about = "A market platform for peer production")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply a file of JSON-Lines commands to a fresh in-memory engine and print the final state.
    Replay(replay::Args),
    /// Run the exchange server (JSON API, background jobs).
    Serve(serve_cmd::ServeArgs),
    /// Verify the ledger of a database (exit status 1 on any violation).
    Check(serve_cmd::CheckArgs),
    /// Administration: accounts.
    #[command(subcommand)]
    Admin(serve_cmd::AdminCommand),
    /// Run an agent-based simulation on the real engine (spec/simulation.md).
    Sim(sim_cmd::SimArgs),
    /// Resource-market tools (erasure coding: `peerex resources min-n`).
    Resources(resources_cmd::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    Man {
        /// Write peerex.1 and a page per subcommand (peerex-offer-place.1, ...) here.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
    #[command(flatten)]
    Client(client::Command),
}

/// The names of the client's subcommands (the ones that talk to a server).
fn client_commands() -> Vec<String> {
    client::Command::augment_subcommands(clap::Command::new("x"))
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// The whole command line: the derived definitions, with the client options (`--server`,
/// `--token`, `--as`, `--json`) added to the client commands only.
pub fn cli() -> clap::Command {
    let mut cmd = client::GlobalOpts::augment_args(Cli::command());
    // Also accepted before the command (`peerex --json me`), but not shown or inherited there.
    for id in CLIENT_OPTS {
        cmd = cmd.mut_arg(id, |a| a.global(false).hide(true));
    }
    for name in client_commands() {
        cmd = cmd.mut_subcommand(name, client::GlobalOpts::augment_args);
    }
    cmd
}

const CLIENT_OPTS: [&str; 4] = ["server", "token", "as_user", "json"];

/// The client options of a command line: the ones given on the client command (or below),
/// else the ones given before it.
fn client_opts(matches: &clap::ArgMatches) -> Result<client::GlobalOpts, clap::Error> {
    let top = client::GlobalOpts::from_arg_matches(matches)?;
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    let mut opts = client::GlobalOpts::from_arg_matches(m)?;
    let given = |id: &str, at: &clap::ArgMatches| at.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if given("server", matches) && !given("server", m) {
        opts.server = top.server;
    }
    if given("token", matches) && !given("token", m) {
        opts.token = top.token;
    }
    if given("as_user", matches) && !given("as_user", m) {
        opts.as_user = top.as_user;
    }
    opts.json |= top.json;
    Ok(opts)
}

/// One line for a value refused on the command line: the argument, the value, the allowed
/// range and the stable code (the value parsers in `client::values` write the last two).
fn one_line(e: &clap::Error) -> Option<String> {
    if !matches!(e.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        return None;
    }
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => return None,
    };
    let value = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let why = match e.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(v)) => format!("must be one of {} (invalid_argument)", v.join(", ")),
        _ => {
            // The value parser's message is the error's source.
            let source = std::error::Error::source(e).map(|s| s.to_string());
            source.unwrap_or_else(|| "is not valid (invalid_argument)".to_owned())
        }
    };
    Some(format!("peerex: {arg} {value:?} {why}"))
}

fn main() -> ExitCode {
    let matches = match cli().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            if let Some(line) = one_line(&e) {
                eprintln!("{line}");
                return ExitCode::from(2);
            }
            e.exit()
        }
    };
    let args = match Cli::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let result = match args.command {
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve_cmd::serve(args).map(|()| ExitCode::SUCCESS),
        Command::Check(args) => serve_cmd::check(args),
        Command::Admin(cmd) => serve_cmd::admin(cmd).map(|()| ExitCode::SUCCESS),
        Command::Sim(args) => sim_cmd::run(args).map(|()| ExitCode::SUCCESS),
        Command::Resources(args) => resources_cmd::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut cli(), "peerex", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { out_dir } => man(out_dir),
        Command::Client(cmd) => match client_opts(&matches) {
            Ok(opts) => client::run(cmd, &opts).map(|()| ExitCode::SUCCESS),
            Err(e) => e.exit(),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerex: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn man(out_dir: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    match out_dir {
        None => clap_mangen::Man::new(cli()).render(&mut std::io::stdout())?,
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(cli(), &dir)?;
            println!("man pages written to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of every command says what it is.
    #[test]
    fn every_argument_has_help() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for s in c.get_subcommands() {
                if s.get_about().is_none() && s.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", s.get_name()));
                }
                walk(s, &format!("{path} {}", s.get_name()), missing);
            }
        }
        let mut cmd = cli();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "peerex", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:#?}");
    }

    #[test]
    fn client_options_only_on_client_commands() {
        let mut cmd = cli();
        cmd.build();
        let has = |name: &str| {
            cmd.find_subcommand(name).is_some_and(|c| c.get_arguments().any(|a| a.get_id().as_str() == "server"))
        };
        assert!(has("me") && has("offer") && has("market"));
        assert!(!has("serve") && !has("sim") && !has("admin") && !has("replay"));
    }
}
