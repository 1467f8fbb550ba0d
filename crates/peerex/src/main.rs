//! The `peerex` binary. Each subcommand lives in its own module.

mod serve_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "peerex", version, about = "A market platform for peer production")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the exchange server (JSON API, background jobs)
    Serve(serve_cmd::ServeArgs),
    /// Verify the ledger of a database (exit status 1 on any violation)
    Check(serve_cmd::CheckArgs),
    /// Administration: accounts
    #[command(subcommand)]
    Admin(serve_cmd::AdminCommand),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve_cmd::serve(a).map(|()| 0),
        Command::Check(a) => serve_cmd::check(a),
        Command::Admin(c) => serve_cmd::admin(c).map(|()| 0),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("peerex: {e:#}");
            std::process::exit(1);
        }
    }
}
