//! The CLI client: every user action of the HTTP API (spec/service.md) as a `peerex` subcommand.
//! `config` keeps tokens, `http` talks to the server, `commands` runs each subcommand, `table`
//! prints answers for people (`--json` prints the server's JSON for scripts), `values` checks
//! what is typed before anything is sent.

mod commands;
pub mod config;
mod http;
mod table;
pub mod values;

use clap::{Args, Subcommand, ValueEnum};

pub use commands::run;

// Options of the client commands only (added to each of them by `main.rs`, so `serve`, `sim`
// and `admin` do not list them). Not a doc comment: clap would make it each command's about.
#[derive(Args, Clone, Debug)]
pub struct GlobalOpts {
    /// The peerex server (env PEEREX_SERVER; default http://127.0.0.1:8080).
    #[arg(
        long,
        global = true,
        env = "PEEREX_SERVER",
        hide_env = true,
        default_value = "http://127.0.0.1:8080",
        hide_default_value = true,
        value_name = "URL"
    )]
    pub server: String,
    /// Use this API token instead of the one stored by `peerex login` (env PEEREX_TOKEN).
    #[arg(long, global = true, env = "PEEREX_TOKEN", hide_env = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Act as NAME: use the session stored by `peerex login NAME` on this server (env PEEREX_AS).
    #[arg(long = "as", global = true, env = "PEEREX_AS", hide_env = true, value_name = "NAME")]
    pub as_user: Option<String>,
    /// Print the server's JSON answers instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Create an account (password from --password, PEEREX_PASSWORD, the terminal, or stdin).
    Signup {
        /// Your user name.
        name: String,
        /// At least 8 characters (env PEEREX_PASSWORD; asked without echo when absent).
        #[arg(long, env = "PEEREX_PASSWORD", hide_env = true)]
        password: Option<String>,
    },
    /// Log in and store the session token for this server.
    Login {
        /// Your user name.
        name: String,
        /// Your password (env PEEREX_PASSWORD; asked without echo when absent).
        #[arg(long, env = "PEEREX_PASSWORD", hide_env = true)]
        password: Option<String>,
    },
    /// Revoke the stored token on the server and forget it.
    Logout,
    /// Your name and balances.
    Me,
    /// Mint play credits into a user's account (admin).
    Deposit {
        /// The user credited.
        user: String,
        /// Credits, e.g. 1000 or 12.5.
        #[arg(value_parser = values::amount, allow_hyphen_values = true)]
        amount: String,
    },
    /// Issues with the fixed-side price, volume and open interest of each series.
    Issues {
        /// Only issues in this state.
        #[arg(long, value_enum)]
        state: Option<IssueStateArg>,
        /// Order: issue (default), volume or open interest, largest first.
        #[arg(long, value_enum)]
        sort: Option<IssueSortArg>,
        /// At most this many issues.
        #[arg(long)]
        limit: Option<u32>,
        /// Skip this many issues (paging).
        #[arg(long)]
        offset: Option<u32>,
    },
    /// Open, close or reopen an issue of the local tracker.
    #[command(subcommand)]
    Issue(IssueCommand),
    /// The order book of one series (in fixed-side prices).
    Book {
        /// The issue, e.g. demo/app#1.
        issue: String,
        /// The series' maturation (RFC 3339).
        #[arg(value_parser = values::time)]
        maturation: String,
    },
    /// Place or cancel an offer.
    #[command(subcommand)]
    Offer(OfferCommand),
    /// Your offers.
    Offers {
        /// Only offers in this status: open, filled, cancelled, expired or suspended.
        #[arg(long)]
        status: Option<String>,
    },
    /// Your positions and P&L.
    Positions,
    /// Send many commands in one request and one commit (POST /batch): FILE holds one JSON
    /// command per line (`-` reads stdin), e.g. {"op": "place_offer", "kind": "buy_fixed",
    /// "issue": "demo/app#1", "maturation": "2030-01-15T00:00:00Z", "price": "0.3", "volume": 10},
    /// {"op": "cancel_offer", "offer": "o12"}, {"op": "resume_offer", "offer": "o12"} or
    /// {"op": "trade", "market": "m1", "shares": "5"}; at most 1,000.
    Batch {
        /// The file of commands, one JSON object per line (blank lines and lines starting with #
        /// are skipped).
        file: std::path::PathBuf,
        /// All-or-nothing: the first refusal refuses the whole batch.
        #[arg(long)]
        atomic: bool,
    },
    /// The series of an issue.
    Series {
        /// The issue, e.g. demo/app#1.
        issue: String,
    },
    /// Your events after a cursor.
    Events {
        /// Only events after this cursor (the `#` column).
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Prediction markets: list, show, quote, create, trade, report, resolve, your shares.
    #[command(subcommand)]
    Market(MarketCommand),
    /// Your prediction-market shares.
    Shares,
    /// Your backup peer in the resource market (named by your user name).
    #[command(subcommand)]
    Peer(PeerCommand),
    /// Back up, list and restore files through the resource market (peerex places and meters
    /// the fragments; the peers carry the bytes).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// The resource market's operator view and daily steps (admin).
    #[command(subcommand)]
    AdminResources(AdminResourcesCommand),
    /// The server's clock; on a sandbox server (`serve --sandbox`) an admin moves it forward.
    Clock {
        #[command(subcommand)]
        action: Option<ClockCommand>,
    },
    /// Decide a matured series by hand (admin).
    Decide {
        /// The issue, e.g. demo/app#1.
        issue: String,
        /// The series' maturation (RFC 3339).
        #[arg(value_parser = values::time)]
        maturation: String,
        /// The side that wins.
        #[arg(long, value_enum, conflicts_with = "fixed_pays", required_unless_present = "fixed_pays")]
        winner: Option<SideArg>,
        /// What each fixed unit pays (0..1); unfixed units get the rest.
        #[arg(long, value_parser = values::fraction, allow_hyphen_values = true)]
        fixed_pays: Option<String>,
        /// Why (recorded with the decision).
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum ClockCommand {
    /// Move the sandbox clock forward by a duration (1d, 6h, 90s, 2w) and apply what falls due.
    Advance {
        /// How far: a whole number with a unit s, m, h, d or w.
        #[arg(value_parser = values::duration)]
        by: u64,
    },
    /// Move the sandbox clock forward to a time (never back).
    Set {
        /// RFC 3339.
        #[arg(value_parser = values::time)]
        to: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum PeerCommand {
    /// Register your peer.
    Register,
    /// Report a day's measured online fraction (0..1).
    Online {
        /// The fraction of the day your peer was online, 0..1.
        #[arg(value_parser = values::fraction, allow_hyphen_values = true)]
        fraction: String,
        /// The peer is offline now (default: online when the fraction is above 0).
        #[arg(long)]
        offline: bool,
    },
    /// Set the sliders: raw space (GB), upload and download (GB per day).
    Sliders {
        /// Raw disk space offered, GB.
        #[arg(value_parser = values::gigabytes, allow_hyphen_values = true)]
        space_gb: String,
        /// Upload offered, GB per day.
        #[arg(value_parser = values::gigabytes, allow_hyphen_values = true)]
        upload_gb: String,
        /// Download offered, GB per day.
        #[arg(value_parser = values::gigabytes, allow_hyphen_values = true)]
        download_gb: String,
    },
    /// Your capacity, pie chart and sliders.
    Show,
    /// The pie chart for trial slider positions (nothing is set).
    Preview {
        /// Raw disk space, GB.
        #[arg(value_parser = values::gigabytes, allow_hyphen_values = true)]
        space_gb: String,
        /// Upload, GB per day.
        #[arg(value_parser = values::gigabytes, allow_hyphen_values = true)]
        upload_gb: String,
        /// Download, GB per day.
        #[arg(value_parser = values::gigabytes, allow_hyphen_values = true)]
        download_gb: String,
    },
    /// The fragments your peer holds (and must serve).
    Fragments,
    /// Report the files whose fragment your peer still holds; the missing ones are repaired
    /// onto other peers.
    Report {
        /// The files (as listed by `peer fragments`) whose fragment you hold.
        files: Vec<String>,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum BackupCommand {
    /// Back up a file: the server picks k of n erasure coding for the reliability target and
    /// places the fragments on peers by the allocation rule.
    Put {
        /// A name for the file (yours; unique).
        file: String,
        /// Its size: bytes, or with a unit (500MB, 2GB).
        #[arg(value_parser = values::size)]
        size: u64,
        /// The wanted probability that the file can be restored, e.g. 0.99999.
        #[arg(long, default_value = "0.99999", value_parser = values::target)]
        target: String,
    },
    /// Your backed-up files.
    Ls,
    /// Restore a file: k online holders serve it (metered).
    Restore {
        /// The file's name.
        file: String,
    },
    /// Delete a backup (its holders free the space).
    Rm {
        /// The file's name.
        file: String,
    },
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
    /// Open an issue on the local tracker.
    Open {
        /// The issue, e.g. demo/app#1.
        issue: String,
        /// Its title.
        #[arg(default_value = "")]
        title: String,
    },
    /// Close an issue.
    Close {
        /// The issue.
        issue: String,
        /// Why: completed (default), not_planned or duplicate.
        #[arg(long, value_enum)]
        reason: Option<CloseReasonArg>,
    },
    /// Reopen a closed issue.
    Reopen {
        /// The issue.
        issue: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum OfferCommand {
    /// Place an offer: KIND ISSUE MATURATION PRICE VOLUME.
    Place {
        /// buy_fixed, buy_unfixed, sell_fixed or sell_unfixed (also bf, bu, sf, su).
        #[arg(value_enum)]
        kind: OfferKindArg,
        /// The issue, e.g. demo/app#1.
        issue: String,
        /// RFC 3339, e.g. 2026-12-15T00:00:00Z.
        #[arg(value_parser = values::time)]
        maturation: String,
        /// Price of the bought or sold side, 0..1 (e.g. 0.80).
        #[arg(value_parser = values::price, allow_hyphen_values = true)]
        price: String,
        /// Units (each pays 1 credit to the winning side).
        #[arg(value_parser = values::volume, allow_hyphen_values = true)]
        volume: u64,
        /// All or nothing.
        #[arg(long)]
        aon: bool,
        /// May be pooled with other offers to match.
        #[arg(long)]
        poolable: bool,
        /// RFC 3339; defaults to the maturation.
        #[arg(long, value_parser = values::time)]
        expiration: Option<String>,
    },
    /// Cancel one of your open offers.
    Cancel {
        /// The offer's id as printed by `offer place` or `offers`, e.g. o17.
        id: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum MarketCommand {
    /// Every market with its prices and status.
    List,
    /// One market.
    Show {
        /// The market's id, e.g. m1.
        market: String,
    },
    /// What a trade would cost now (no login needed).
    Quote {
        /// The market's id.
        market: String,
        /// Shares to buy (negative: sell).
        #[arg(value_parser = values::shares, allow_hyphen_values = true)]
        shares: String,
        /// The outcome (binary markets: 1 = YES, the default; 0 = NO).
        #[arg(long)]
        outcome: Option<u32>,
    },
    /// Create an LMSR prediction market (the server picks its id).
    Create {
        /// The statement the market is about.
        statement: String,
        /// When trading stops (RFC 3339).
        #[arg(long, value_parser = values::time)]
        deadline: String,
        /// Liquidity parameter b (credits): the maker's loss is at most b ln(outcomes).
        #[arg(long, value_parser = values::amount)]
        b: String,
        /// Trading fee rate in [0, 1), e.g. 0.05.
        #[arg(long, value_parser = values::fee)]
        fee: Option<String>,
        /// YES shares the creator buys at creation.
        #[arg(long, value_parser = values::signed_amount)]
        initial_shares: Option<String>,
        /// Number of outcomes (2 = binary).
        #[arg(long)]
        outcomes: Option<u32>,
        /// An issue whose tracker decides the market.
        #[arg(long)]
        issue: Option<String>,
        /// Arbitration bond (credits): pays arbiters' rewards beyond the fees, returned after a
        /// clear resolution, paid to the arbiters if the market turns out ambiguous.
        #[arg(long, value_parser = values::amount)]
        bond: Option<String>,
    },
    /// Buy (positive) or sell (negative) shares of an outcome.
    Trade {
        /// The market's id.
        market: String,
        /// Shares to buy (negative: sell).
        #[arg(value_parser = values::shares, allow_hyphen_values = true)]
        shares: String,
        /// Most you will pay (for a sale, a negative value is the least you accept).
        #[arg(long, value_parser = values::signed_amount, allow_hyphen_values = true)]
        max_cost: Option<String>,
        /// The outcome (binary markets: 1 = YES, the default; 0 = NO).
        #[arg(long)]
        outcome: Option<u32>,
    },
    /// Report the outcome as an arbiter.
    Report {
        /// The market's id.
        market: String,
        /// What happened (binary: 1 yes, 0 no).
        value: u8,
    },
    /// Close reporting early and resolve (the creator, once enough reports are in).
    Resolve {
        /// The market's id.
        market: String,
    },
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
    fn unfixed(self) -> bool {
        matches!(self, OfferKindArg::BuyUnfixed | OfferKindArg::SellUnfixed)
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

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueStateArg {
    Open,
    Closed,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueSortArg {
    Issue,
    Volume,
    #[value(name = "open_interest", alias = "open-interest")]
    OpenInterest,
}
