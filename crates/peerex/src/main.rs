//! The `peerex` command line. (Minimal root written with the simulator; the lead merges the
//! other subcommands in.)

use clap::{Parser, Subcommand};

mod sim_cmd;

#[derive(Parser, Debug)]
#[command(name = "peerex", version, about = "peerex: a market platform for peer production")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run an agent-based simulation on the real engine (spec/simulation.md).
    Sim(sim_cmd::SimArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sim(args) => sim_cmd::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
