//! The CLI client: every user action of the HTTP API (spec/service.md) as a `peerex` subcommand.
//! `config` keeps tokens, `http` talks to the server, `commands` runs each subcommand, `table`
//! prints answers for people (`--json` prints the server's JSON for scripts).

mod commands;
pub mod config;
mod http;
mod table;

use clap::{Args, Subcommand, ValueEnum};

pub use commands::run;

/// Options of every client command.
#[derive(Args, Clone, Debug)]
pub struct GlobalOpts {
    /// The peerex server.
    #[arg(long, global = true, env = "PEEREX_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Use this API token instead of the one stored by `peerex login`.
    #[arg(long, global = true, env = "PEEREX_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the server's JSON answers instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Create an account (password from --password, PEEREX_PASSWORD, or the first line of stdin).
    Signup {
        name: String,
        #[arg(long, env = "PEEREX_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Log in and store the session token for this server.
    Login {
        name: String,
        #[arg(long, env = "PEEREX_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Forget the stored token for this server.
    Logout,
    /// Your name and balances.
    Me,
    /// Mint play credits into a user's account (admin).
    Deposit { user: String, amount: String },
    /// Issues with the fixed-side price and volume of each series.
    Issues,
    /// Open, close or reopen an issue of the local tracker.
    #[command(subcommand)]
    Issue(IssueCommand),
    /// The order book of one series (in fixed-side prices).
    Book { issue: String, maturation: String },
    /// Place or cancel an offer.
    #[command(subcommand)]
    Offer(OfferCommand),
    /// Your offers.
    Offers,
    /// Your positions and P&L.
    Positions,
    /// The series of an issue.
    Series { issue: String },
    /// Your events after a cursor.
    Events {
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Prediction markets: create, trade, report.
    #[command(subcommand)]
    Market(MarketCommand),
    /// Your backup peer in the resource market (named by your user name).
    #[command(subcommand)]
    Peer(PeerCommand),
    /// The resource market's operator view and daily steps (admin).
    #[command(subcommand)]
    AdminResources(AdminResourcesCommand),
    /// Decide a matured series by hand (admin).
    Decide {
        issue: String,
        maturation: String,
        #[arg(long, value_enum, conflicts_with = "fixed_pays", required_unless_present = "fixed_pays")]
        winner: Option<SideArg>,
        /// What each fixed unit pays (0..1); unfixed units get the rest.
        #[arg(long)]
        fixed_pays: Option<String>,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum PeerCommand {
    /// Register your peer.
    Register,
    /// Report a day's measured online fraction (0..1).
    Online {
        fraction: String,
        /// The peer is offline now (default: online when the fraction is above 0).
        #[arg(long)]
        offline: bool,
    },
    /// Set the sliders: raw space (GB), upload and download (GB per day).
    Sliders { space_gb: String, upload_gb: String, download_gb: String },
    /// Your capacity, pie chart and sliders.
    Show,
    /// The pie chart for trial slider positions (nothing is set).
    Preview { space_gb: String, upload_gb: String, download_gb: String },
}

#[derive(Subcommand, Clone, Debug)]
pub enum AdminResourcesCommand {
    /// Prices, imbalance, balances and frozen accounts.
    Show,
    /// Settle one day by hand (the server's daily job does this on its own).
    Settle,
    /// One step of the price update by hand.
    Prices,
}

#[derive(Subcommand, Clone, Debug)]
pub enum IssueCommand {
    Open {
        issue: String,
        #[arg(default_value = "")]
        title: String,
    },
    Close {
        issue: String,
        #[arg(long, value_enum)]
        reason: Option<CloseReasonArg>,
    },
    Reopen {
        issue: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum OfferCommand {
    /// Place an offer: KIND ISSUE MATURATION PRICE VOLUME.
    Place {
        #[arg(value_enum)]
        kind: OfferKindArg,
        issue: String,
        /// RFC 3339, e.g. 2026-12-15T00:00:00Z.
        maturation: String,
        /// Price of the bought or sold side, 0..1 (e.g. 0.80).
        price: String,
        volume: u64,
        /// All or nothing.
        #[arg(long)]
        aon: bool,
        #[arg(long)]
        poolable: bool,
        /// RFC 3339; defaults to the maturation.
        #[arg(long)]
        expiration: Option<String>,
    },
    Cancel {
        id: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum MarketCommand {
    /// Create an LMSR prediction market.
    Create {
        statement: String,
        /// RFC 3339.
        #[arg(long)]
        deadline: String,
        /// Liquidity parameter b (credits).
        #[arg(long)]
        b: String,
        #[arg(long)]
        fee: Option<String>,
        #[arg(long)]
        initial_shares: Option<String>,
        #[arg(long)]
        outcomes: Option<u32>,
        #[arg(long)]
        issue: Option<String>,
    },
    /// Buy (positive) or sell (negative) shares of an outcome.
    Trade {
        market: String,
        #[arg(allow_hyphen_values = true)]
        shares: String,
        #[arg(long)]
        max_cost: Option<String>,
        #[arg(long)]
        outcome: Option<u32>,
    },
    /// Report as an arbiter.
    Report { market: String, value: u8 },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferKindArg {
    #[value(name = "buy_fixed", alias = "buy-fixed", alias = "bf")]
    BuyFixed,
    #[value(name = "buy_unfixed", alias = "buy-unfixed", alias = "bu")]
    BuyUnfixed,
    #[value(name = "sell_fixed", alias = "sell-fixed", alias = "sf")]
    SellFixed,
    #[value(name = "sell_unfixed", alias = "sell-unfixed", alias = "su")]
    SellUnfixed,
}

impl OfferKindArg {
    fn as_str(self) -> &'static str {
        match self {
            OfferKindArg::BuyFixed => "buy_fixed",
            OfferKindArg::BuyUnfixed => "buy_unfixed",
            OfferKindArg::SellFixed => "sell_fixed",
            OfferKindArg::SellUnfixed => "sell_unfixed",
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReasonArg {
    #[value(name = "completed")]
    Completed,
    #[value(name = "not_planned", alias = "not-planned")]
    NotPlanned,
    #[value(name = "duplicate")]
    Duplicate,
}

impl CloseReasonArg {
    fn as_str(self) -> &'static str {
        match self {
            CloseReasonArg::Completed => "completed",
            CloseReasonArg::NotPlanned => "not_planned",
            CloseReasonArg::Duplicate => "duplicate",
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideArg {
    Fixed,
    Unfixed,
}
