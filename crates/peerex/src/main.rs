//! `peerex`: one binary for the server, the simulator, replay and the CLI client.
//! Each subcommand lives in its own module; this file only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    #[command(flatten)]
    client: client::GlobalOpts,
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
    #[command(flatten)]
    Client(client::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve_cmd::serve(args).map(|()| ExitCode::SUCCESS),
        Command::Check(args) => serve_cmd::check(args),
        Command::Admin(cmd) => serve_cmd::admin(cmd).map(|()| ExitCode::SUCCESS),
        Command::Sim(args) => sim_cmd::run(args).map(|()| ExitCode::SUCCESS),
        Command::Resources(args) => resources_cmd::run(args),
        Command::Client(cmd) => client::run(cmd, &cli.client).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("peerex: {e:#}");
            ExitCode::FAILURE
        }
    }
}
