//! `peerex`: one binary for the server, the simulator, replay and the CLI client.
//! Each subcommand lives in its own module; this file only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod replay;
mod serve_cmd;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve_cmd::serve(args).map(|()| ExitCode::SUCCESS),
        Command::Check(args) => serve_cmd::check(args),
        Command::Admin(cmd) => serve_cmd::admin(cmd).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerex: {e:#}");
            ExitCode::FAILURE
        }
    }
}
