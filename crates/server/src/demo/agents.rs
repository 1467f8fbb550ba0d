//! The demo's agents: what each population decides to do in one simulated hour, from the
//! committed engine state and the driver's own memory (hidden truths, work progress), with one
//! seeded random generator. They only *decide*: every decision is an [`Op`] that the driver
//! submits through the writer like any user's request, and the engine may refuse it.
//!
//! The populations follow the simulator's (crates/sim): worker-funder (funders post unfixed
//! offers, workers buy the fixed side, work, get their issue closed, sometimes give up and
//! resell), random traders with beliefs (on series and on prediction markets), arbiters who
//! report after deadlines, and the backup network's peers (sliders, presence, backups).

// Agents are indexed in parallel arrays (workers and the issues they hold).
#![allow(clippy::needless_range_loop)]

use peerex_engine::exchange::types::{OfferKind, OfferStatus, SeriesStatus};
use peerex_engine::prediction::market::Status as MarketStatus;
use peerex_engine::{Amount, Engine, Op, Timestamp};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// Hours per simulated day; the driver steps one hour at a time.
pub const HOURS: u64 = 24;

/// A population's role, as printed at start and on the login page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Person,
    Funder,
    Worker,
    Trader,
    Arbiter,
    Peer,
}

impl Role {
    pub const ALL: [Role; 7] =
        [Role::Person, Role::Admin, Role::Funder, Role::Worker, Role::Trader, Role::Arbiter, Role::Peer];

    pub fn title(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Person => "You",
            Role::Funder => "Funders",
            Role::Worker => "Workers",
            Role::Trader => "Traders",
            Role::Arbiter => "Arbiters",
            Role::Peer => "Backup peers",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "moves the sandbox clock, deposits; no agent acts for it",
            Role::Person => "1,000 credits; no agent acts for it: trade beside the agents",
            Role::Funder => "open their project's issues and post unfixed offers; run prediction markets",
            Role::Worker => "buy the fixed side, fix issues, sometimes resell",
            Role::Trader => "trade series and prediction markets on their beliefs",
            Role::Arbiter => "report prediction-market outcomes after deadlines",
            Role::Peer => "set sliders, come and go, back up and restore files",
        }
    }
}

pub const FUNDERS: [(&str, &str); 3] = [("ada", "demo/engine"), ("ben", "demo/webapp"), ("cleo", "demo/docs")];
pub const WORKERS: [&str; 6] = ["wren", "omar", "ines", "yuki", "tariq", "lena"];
pub const TRADERS: [&str; 5] = ["tom", "uma", "vic", "zoe", "max"];
pub const ARBITERS: [&str; 5] = ["kai", "mei", "noor", "piet", "rosa"];
pub const PEERS: [&str; 6] = ["sam", "tess", "ugo", "val", "wes", "xia"];

/// Every demo account with its role, in creation order.
pub fn accounts() -> Vec<(&'static str, Role)> {
    let mut v = vec![("admin", Role::Admin), ("you", Role::Person)];
    v.extend(FUNDERS.iter().map(|(n, _)| (*n, Role::Funder)));
    v.extend(WORKERS.iter().map(|n| (*n, Role::Worker)));
    v.extend(TRADERS.iter().map(|n| (*n, Role::Trader)));
    v.extend(ARBITERS.iter().map(|n| (*n, Role::Arbiter)));
    v.extend(PEERS.iter().map(|n| (*n, Role::Peer)));
    v
}

/// Credits each role starts with (and is topped up to when it runs low).
fn endowment(role: Role) -> i64 {
    match role {
        Role::Admin => 0,
        Role::Person => 1_000,
        Role::Funder => 20_000,
        Role::Worker => 1_500,
        Role::Trader => 3_000,
        Role::Arbiter => 100,
        Role::Peer => 200,
    }
}

/// Issue titles per project (funder index), used in turn.
const TITLES: [&[&str]; 3] = [
    &[
        "Crash when the config file is empty",
        "Matching is slow with 10k open offers",
        "Support IPv6 listen addresses",
        "Memory grows without bound under load",
        "Add a --dry-run flag to replay",
        "Race between cancel and fill",
        "Expose commit latency as a histogram",
        "Panic on a malformed webhook body",
    ],
    &[
        "Dark mode for the series page",
        "Price chart flickers on update",
        "Keyboard navigation skips the order form",
        "Show the order book depth on mobile",
        "Portfolio CSV has the wrong header",
        "Login form forgets the user name",
        "Add a search box to the issue list",
        "Screen reader announces every price tick",
    ],
    &[
        "Document the dispute window",
        "Tutorial: your first offer",
        "Explain the resource market's prices",
        "Translate the README into Spanish",
        "Broken links in the API reference",
        "Diagram of the settlement flow",
        "FAQ: what is a series?",
        "Examples for the CLI's --json output",
    ],
];

/// Statements of the prediction markets, used in turn.
const STATEMENTS: [&str; 8] = [
    "Will version 2.0 ship before the end of the month?",
    "Will the engine pass 1 million commands per second this quarter?",
    "Will a second GitLab instance join the network this month?",
    "Will the docs translation be complete within two weeks?",
    "Will the next release have zero open security issues?",
    "Will the backup network reach 100 peers this month?",
    "Will the web UI score 100 on accessibility audits?",
    "Will the conference talk be accepted?",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The funder's offer waits for a worker.
    Funded,
    /// A worker holds the fixed side and works.
    Working,
    /// The worker gave up and offers its fixed units for sale.
    ForSale { ask_bp: u32 },
    /// Closed as completed, or the series matured.
    Done,
}

#[derive(Clone, Debug)]
struct IssueAgent {
    name: String,
    funder: usize,
    /// Days of work it takes.
    difficulty: u32,
    progress: u32,
    worker: Option<usize>,
    maturation: Timestamp,
    /// The funder's unfixed price.
    price_bp: u32,
    phase: Phase,
    /// What the current worker paid per unit (fixed side).
    paid_bp: u32,
}

#[derive(Clone, Debug)]
struct Poll {
    id: String,
    creator: usize,
    truth: bool,
    deadline: Timestamp,
    reported: Vec<usize>,
    resolve_sent: bool,
}

#[derive(Clone, Debug)]
struct PeerAgent {
    availability: f64,
    sliders: [i64; 3],
}

/// What a decision is for: the driver reports each decision's outcome back with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    None,
    WorkerTakes { issue: usize, worker: usize, paid_bp: u32 },
}

/// One decision: the operation, who acts (recorded as the issue's opener for `open_issue`).
#[derive(Clone, Debug)]
pub struct Decision {
    pub op: Op,
    pub actor: Option<String>,
    pub tag: Tag,
}

/// The agents' world: their memory and the one random generator, seeded.
pub struct World {
    rng: ChaCha8Rng,
    issues: Vec<IssueAgent>,
    workers: Vec<Option<usize>>,
    polls: Vec<Poll>,
    peers: Vec<PeerAgent>,
    files: Vec<(String, usize)>,
    next_file: u64,
    opened_per_project: [usize; 3],
}

fn op(v: Value) -> Option<Op> {
    match serde_json::from_value(v) {
        Ok(op) => Some(op),
        Err(e) => {
            tracing::warn!("demo: a malformed decision: {e}");
            None
        }
    }
}

fn price(bp: u32) -> String {
    format!("{}.{:04}", bp / 10_000, bp % 10_000)
}

fn gb(micro: i64) -> String {
    Amount(micro).to_string()
}

fn midnight(t: Timestamp) -> Timestamp {
    Timestamp::from_millis(t.millis().div_euclid(Timestamp::MS_PER_DAY) * Timestamp::MS_PER_DAY)
}

impl World {
    pub fn new(seed: u64) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let peers = PEERS
            .iter()
            .map(|_| PeerAgent {
                availability: rng.gen_range(0.75..0.98),
                sliders: [
                    rng.gen_range(60..240) * 1_000_000,
                    rng.gen_range(10..60) * 1_000_000,
                    rng.gen_range(10..60) * 1_000_000,
                ],
            })
            .collect();
        World {
            rng,
            issues: Vec::new(),
            workers: vec![None; WORKERS.len()],
            polls: Vec::new(),
            peers,
            files: Vec::new(),
            next_file: 1,
            opened_per_project: [0; 3],
        }
    }

    /// The commands that set the demo up (after the accounts exist): credits, the resource
    /// market's daily epoch, the peers and their sliders.
    pub fn setup(&mut self) -> Vec<Decision> {
        let mut v = Vec::new();
        for (name, role) in accounts() {
            let credits = endowment(role);
            if credits > 0 {
                v.extend(op(json!({"op": "deposit", "user": name, "amount": credits.to_string()})));
            }
        }
        v.extend(op(json!({"op": "configure_resources", "epoch_days": 1})));
        for (i, p) in PEERS.iter().enumerate() {
            let s = self.peers[i].sliders;
            v.extend(op(json!({"op": "register_peer", "peer": p})));
            v.extend(op(json!({"op": "set_sliders", "peer": p, "space_gb": gb(s[0]), "upload_gb": gb(s[1]), "download_gb": gb(s[2])})));
        }
        v.into_iter().map(|op| Decision { op, actor: None, tag: Tag::None }).collect()
    }

    /// A decision's outcome: accepted or refused by the engine.
    pub fn observe(&mut self, tag: &Tag, accepted: bool) {
        if let (Tag::WorkerTakes { issue, worker, paid_bp }, true) = (tag, accepted) {
            let (issue, worker) = (*issue, *worker);
            if let Some(i) = self.issues.get_mut(issue) {
                i.worker = Some(worker);
                i.phase = Phase::Working;
                i.paid_bp = *paid_bp;
                self.workers[worker] = Some(issue);
            }
        }
    }

    /// What the agents do in the hour that starts at `now` (the demo's day 0 starts at `start`).
    pub fn step(&mut self, engine: &Engine, start: Timestamp, now: Timestamp) -> Vec<Decision> {
        let hour = now.millis().div_euclid(3_600_000).rem_euclid(HOURS as i64) as u64;
        let day = (now.millis() - start.millis()).max(0).div_euclid(Timestamp::MS_PER_DAY) as u64;
        let mut out = Vec::new();
        self.forget_matured(engine, now);
        if hour == 0 {
            self.peers_day(now, &mut out);
            self.top_up(engine, &mut out);
        }
        if hour == 8 && day.is_multiple_of(2) {
            self.open_poll(now, &mut out);
        }
        // Twelve issues at once (the first page a person sees is full), then about one a day.
        let opening = if self.issues.is_empty() {
            12
        } else if hour == 9 {
            usize::from(self.rng.gen_bool(0.8))
        } else {
            0
        };
        for n in 0..opening {
            self.open_issue(now, n, &mut out);
        }
        if (10..=18).contains(&hour) {
            self.workers_look(engine, now, &mut out);
        }
        if hour == 17 {
            self.workers_work(engine, now, &mut out);
        }
        if hour == 12 && day >= 1 {
            self.backups(now, &mut out);
        }
        self.speculate(engine, now, &mut out);
        if hour % 2 == 1 {
            self.trade_polls(engine, now, &mut out);
        }
        self.arbitrate(engine, now, &mut out);
        out
    }

    fn push(out: &mut Vec<Decision>, v: Value, actor: Option<&str>, tag: Tag) {
        if let Some(op) = op(v) {
            out.push(Decision { op, actor: actor.map(str::to_owned), tag });
        }
    }

    /// Issues whose series matured are done; their workers are free again.
    fn forget_matured(&mut self, engine: &Engine, now: Timestamp) {
        for i in 0..self.issues.len() {
            let issue = &self.issues[i];
            let closed = engine
                .exchange()
                .issue_state(&issue.name)
                .is_some_and(|s| !matches!(s, peerex_engine::exchange::types::IssueState::Open));
            if issue.phase != Phase::Done && (issue.maturation <= now || closed) {
                if let Some(w) = issue.worker {
                    if self.workers[w] == Some(i) {
                        self.workers[w] = None;
                    }
                }
                self.issues[i].phase = Phase::Done;
            }
        }
    }

    fn open_issue(&mut self, now: Timestamp, n: usize, out: &mut Vec<Decision>) {
        let funder = (self.issues.len() + n) % FUNDERS.len();
        let (user, project) = FUNDERS[funder];
        let titles = TITLES[funder];
        let count = self.opened_per_project[funder];
        self.opened_per_project[funder] += 1;
        let number = 100 + count;
        let round = count / titles.len();
        let title = titles[count % titles.len()];
        let title = if round == 0 { title.to_owned() } else { format!("{title} (again, #{round})") };
        let name = format!("{project}#{number}");
        let difficulty = self.rng.gen_range(1..=5u32);
        // The funder pays more for harder issues; the first day's issues mature soon so that
        // settlements come early.
        let price_bp = (6_000 + 700 * difficulty + self.rng.gen_range(0..5) * 100).min(9_500);
        let days = if self.issues.len() < 4 { self.rng.gen_range(3..=5) } else { self.rng.gen_range(5..=12) };
        let maturation = midnight(now).plus_days(days);
        let volume = self.rng.gen_range(2..=8) * 10;
        let label = ["bug", "feature", "docs"][funder];
        Self::push(
            out,
            json!({"op": "open_issue", "issue": name, "title": title, "labels": [label]}),
            Some(user),
            Tag::None,
        );
        Self::push(
            out,
            json!({"op": "offer", "id": "", "user": user, "kind": "buy_unfixed", "issue": name,
                   "maturation": maturation, "price": price(price_bp), "volume": volume}),
            Some(user),
            Tag::None,
        );
        self.issues.push(IssueAgent {
            name,
            funder,
            difficulty,
            progress: 0,
            worker: None,
            maturation,
            price_bp,
            phase: Phase::Funded,
            paid_bp: 0,
        });
    }

    /// Idle workers take a funded issue (or buy a resold position), best pay per day of work
    /// first, seen through a little noise.
    fn workers_look(&mut self, engine: &Engine, now: Timestamp, out: &mut Vec<Decision>) {
        for w in 0..WORKERS.len() {
            if self.workers[w].is_some() || !self.rng.gen_bool(0.3) {
                continue;
            }
            let mut best: Option<(f64, usize)> = None;
            for (i, issue) in self.issues.iter().enumerate() {
                let taken = out.iter().any(|d| matches!(d.tag, Tag::WorkerTakes { issue, .. } if issue == i));
                let days_left = (issue.maturation.millis() - now.millis()) as f64 / Timestamp::MS_PER_DAY as f64;
                let work_left = f64::from(issue.difficulty - issue.progress.min(issue.difficulty));
                if taken || days_left < work_left + 0.5 {
                    continue;
                }
                let pay = match issue.phase {
                    Phase::Funded => f64::from(issue.price_bp),
                    Phase::ForSale { ask_bp } => f64::from(10_000 - ask_bp),
                    _ => continue,
                };
                let score = pay / work_left.max(0.5) * self.rng.gen_range(0.8..1.2);
                if best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, i));
                }
            }
            let Some((_, i)) = best else { continue };
            let issue = &self.issues[i];
            let (price_bp, volume) = match issue.phase {
                Phase::Funded => {
                    let left = funder_left(engine, issue);
                    (10_000 - issue.price_bp, left)
                }
                Phase::ForSale { ask_bp } => (ask_bp, sale_left(engine, issue)),
                _ => continue,
            };
            if volume == 0 {
                continue;
            }
            let available = engine.user_id(WORKERS[w]).map_or(Amount::ZERO, |u| engine.balance(u).0);
            let cost = i64::from(price_bp) * 100 * volume as i64;
            if available.0 < cost {
                continue;
            }
            Self::push(
                out,
                json!({"op": "offer", "id": "", "user": WORKERS[w], "kind": "buy_fixed", "issue": issue.name,
                       "maturation": issue.maturation, "price": price(price_bp), "volume": volume,
                       "expiration": now.plus_millis(3_600_000).min(issue.maturation)}),
                Some(WORKERS[w]),
                Tag::WorkerTakes { issue: i, worker: w, paid_bp: price_bp },
            );
        }
    }

    /// A working day: progress, a closed issue when done, or (rarely) giving up and reselling.
    fn workers_work(&mut self, engine: &Engine, now: Timestamp, out: &mut Vec<Decision>) {
        for w in 0..WORKERS.len() {
            let Some(i) = self.workers[w] else { continue };
            if self.issues[i].phase != Phase::Working {
                continue;
            }
            if self.rng.gen_bool(0.8) {
                self.issues[i].progress += 1;
            }
            let issue = &self.issues[i];
            if issue.progress >= issue.difficulty {
                // The fix lands: the maintainer (the funder) closes the issue.
                let funder = FUNDERS[issue.funder].0;
                Self::push(
                    out,
                    json!({"op": "close_issue", "issue": issue.name, "reason": "completed"}),
                    Some(funder),
                    Tag::None,
                );
                self.issues[i].phase = Phase::Done;
                self.workers[w] = None;
            } else if issue.progress > 0 && issue.maturation > now.plus_days(2) && self.rng.gen_bool(0.12) {
                // Gives up: sells the fixed units for what it paid plus a share of the work done.
                let held = held_fixed(engine, WORKERS[w], issue);
                if held == 0 {
                    continue;
                }
                let share = f64::from(issue.progress) / f64::from(issue.difficulty);
                let ask = f64::from(issue.paid_bp) + f64::from(10_000 - issue.paid_bp) * share * 0.7;
                let ask_bp = ((ask / 100.0).round() as u32 * 100).clamp(100, 9_900);
                Self::push(
                    out,
                    json!({"op": "offer", "id": "", "user": WORKERS[w], "kind": "sell_fixed", "issue": issue.name,
                           "maturation": issue.maturation, "price": price(ask_bp), "volume": held}),
                    Some(WORKERS[w]),
                    Tag::None,
                );
                self.issues[i].phase = Phase::ForSale { ask_bp };
                self.issues[i].worker = None;
                self.workers[w] = None;
            }
        }
    }

    /// Every hour two traders with different beliefs about one open series trade with each
    /// other (the bull buys fixed, the bear crosses with unfixed at its own belief).
    fn speculate(&mut self, engine: &Engine, now: Timestamp, out: &mut Vec<Decision>) {
        // Series still trading: their issue is open, or closed as fixed (the traders then know
        // the fixed side is all but sure to win) and not about to mature.
        let fixed = |name: &str| {
            engine.exchange().issue_state(name)
                == Some(peerex_engine::exchange::types::IssueState::Closed(
                    peerex_engine::exchange::types::CloseReason::Completed,
                ))
        };
        let live: Vec<usize> = (0..self.issues.len())
            .filter(|&i| {
                let s = &self.issues[i];
                (s.phase != Phase::Done || fixed(&s.name)) && s.maturation > now.plus_millis(6 * 3_600_000)
            })
            .collect();
        let Some(&i) = live.choose(&mut self.rng) else { return };
        let issue = &self.issues[i];
        let last = series_of(engine, issue)
            .and_then(|s| s.last_price)
            .map_or(f64::from(10_000 - issue.price_bp) / 10_000.0, |p| f64::from(p.bp()) / 10_000.0);
        let base = match issue.phase {
            _ if fixed(&issue.name) => 0.93,
            Phase::Working => last + 0.04 * f64::from(issue.progress),
            _ => last - 0.02,
        };
        let mut belief = || ((base + self.rng.gen_range(-0.12..0.12)).clamp(0.03, 0.97) * 100.0).round() as u32 * 100;
        let (a, b) = (belief(), belief());
        let (bull, bear) = (a.max(b), a.min(b));
        let mut who: Vec<&str> = TRADERS.to_vec();
        who.shuffle(&mut self.rng);
        let volume = self.rng.gen_range(1..=4);
        let expiration = now.plus_millis(3 * 3_600_000).min(issue.maturation);
        let name = issue.name.clone();
        let maturation = issue.maturation;
        Self::push(
            out,
            json!({"op": "offer", "id": "", "user": who[0], "kind": "buy_fixed", "issue": name,
                   "maturation": maturation, "price": price(bull), "volume": volume, "expiration": expiration}),
            Some(who[0]),
            Tag::None,
        );
        // The bear wants a little more than the bull sells: the rest waits on the book.
        let extra = self.rng.gen_range(0..=3);
        Self::push(
            out,
            json!({"op": "offer", "id": "", "user": who[1], "kind": "buy_unfixed", "issue": name,
                   "maturation": maturation, "price": price(10_000 - bear), "volume": volume + extra, "expiration": expiration}),
            Some(who[1]),
            Tag::None,
        );
        // A third quotes a bid a little below, for a while.
        let bid = bull.saturating_sub(self.rng.gen_range(3..=8) * 100).max(100);
        let later = now.plus_millis(6 * 3_600_000).min(maturation);
        Self::push(
            out,
            json!({"op": "offer", "id": "", "user": who[2], "kind": "buy_fixed", "issue": name,
                   "maturation": maturation, "price": price(bid), "volume": self.rng.gen_range(1..=5), "expiration": later}),
            Some(who[2]),
            Tag::None,
        );
    }

    fn open_poll(&mut self, now: Timestamp, out: &mut Vec<Decision>) {
        let n = self.polls.len();
        let id = format!("demo-{}", n + 1);
        let creator = n % FUNDERS.len();
        let statement = STATEMENTS[n % STATEMENTS.len()];
        let deadline = now.plus_millis(self.rng.gen_range(36..=72) * 3_600_000);
        let truth = self.rng.gen_bool(0.5);
        Self::push(
            out,
            json!({"op": "create_market", "id": id, "user": FUNDERS[creator].0, "statement": statement,
                   "deadline": deadline, "b": "50", "fee": "0.02", "min_reports": 3,
                   "report_deadline": deadline.plus_days(2), "bond": "20"}),
            Some(FUNDERS[creator].0),
            Tag::None,
        );
        self.polls.push(Poll { id, creator, truth, deadline, reported: Vec::new(), resolve_sent: false });
    }

    /// Traders with noisy signals of the truth move each open market toward their belief.
    fn trade_polls(&mut self, engine: &Engine, now: Timestamp, out: &mut Vec<Decision>) {
        for p in 0..self.polls.len() {
            let poll = &self.polls[p];
            if poll.deadline <= now {
                continue;
            }
            let Some(id) = engine.markets().market_id(&poll.id) else { continue };
            let Ok(yes) = engine.markets().price(id, 1) else { continue };
            let trader = TRADERS[self.rng.gen_range(0..TRADERS.len())];
            let signal = if self.rng.gen_bool(0.7) { poll.truth } else { !poll.truth };
            let belief = if signal { 0.72 } else { 0.28 };
            let shares = self.rng.gen_range(2..=8).to_string();
            let outcome = if belief > yes + 0.04 {
                1
            } else if belief < yes - 0.04 {
                0
            } else {
                continue;
            };
            let market = poll.id.clone();
            Self::push(
                out,
                json!({"op": "trade", "id": "", "user": trader, "market": market, "shares": shares, "outcome": outcome}),
                Some(trader),
                Tag::None,
            );
        }
    }

    /// After a deadline, one arbiter an hour reports what it saw (right 90% of the time); once
    /// all have, the creator closes reporting.
    fn arbitrate(&mut self, engine: &Engine, now: Timestamp, out: &mut Vec<Decision>) {
        for p in 0..self.polls.len() {
            let poll = &self.polls[p];
            if poll.deadline > now || poll.resolve_sent {
                continue;
            }
            let Some(id) = engine.markets().market_id(&poll.id) else { continue };
            let Some(m) = engine.markets().market(id) else { continue };
            if m.status != MarketStatus::Reporting {
                continue;
            }
            if poll.reported.len() < ARBITERS.len() {
                let a = poll.reported.len();
                let value = if self.rng.gen_bool(0.9) { poll.truth } else { !poll.truth };
                let market = poll.id.clone();
                Self::push(
                    out,
                    json!({"op": "report", "user": ARBITERS[a], "market": market, "value": u8::from(value)}),
                    Some(ARBITERS[a]),
                    Tag::None,
                );
                self.polls[p].reported.push(a);
            } else {
                let creator = FUNDERS[poll.creator].0;
                let market = poll.id.clone();
                Self::push(
                    out,
                    json!({"op": "resolve_market", "user": creator, "market": market}),
                    Some(creator),
                    Tag::None,
                );
                self.polls[p].resolve_sent = true;
            }
        }
    }

    /// The day's presence of each peer (sometimes offline all day), and now and then new sliders.
    fn peers_day(&mut self, _now: Timestamp, out: &mut Vec<Decision>) {
        for (i, name) in PEERS.iter().enumerate() {
            let a = self.peers[i].availability;
            let offline = self.rng.gen_bool(0.08);
            let fraction = if offline {
                self.rng.gen_range(0.0..0.3)
            } else {
                (a + self.rng.gen_range(-0.05..0.05)).clamp(0.0, 1.0)
            };
            let micro = (fraction * 1_000_000.0).round() as i64;
            Self::push(
                out,
                json!({"op": "report_online", "peer": name, "fraction": gb(micro), "online": !offline}),
                None,
                Tag::None,
            );
            if self.rng.gen_bool(0.15) {
                let s = &mut self.peers[i].sliders;
                for (j, v) in s.iter_mut().enumerate() {
                    let factor = self.rng.gen_range(0.8..1.25);
                    let lo = if j == 0 { 20_000_000 } else { 2_000_000 };
                    *v = ((*v as f64 * factor) as i64).clamp(lo, 400_000_000);
                }
                let s = *s;
                Self::push(
                    out,
                    json!({"op": "set_sliders", "peer": name, "space_gb": gb(s[0]), "upload_gb": gb(s[1]), "download_gb": gb(s[2])}),
                    None,
                    Tag::None,
                );
            }
        }
    }

    /// A peer backs up a file each day; every third day one is restored; old ones are deleted.
    fn backups(&mut self, now: Timestamp, out: &mut Vec<Decision>) {
        let day = now.millis().div_euclid(Timestamp::MS_PER_DAY);
        let owner = self.rng.gen_range(0..PEERS.len());
        let file = format!("{}-backup-{}.tar", PEERS[owner], self.next_file);
        self.next_file += 1;
        let bytes: u64 = self.rng.gen_range(1..=8) * 1_000_000_000;
        Self::push(
            out,
            json!({"op": "backup", "file": file, "owner": PEERS[owner], "bytes": bytes, "target": "0.99"}),
            Some(PEERS[owner]),
            Tag::None,
        );
        self.files.push((file, owner));
        if day % 3 == 0 && !self.files.is_empty() {
            let i = self.rng.gen_range(0..self.files.len());
            let (file, owner) = self.files[i].clone();
            Self::push(out, json!({"op": "retrieve_file", "file": file}), Some(PEERS[owner]), Tag::None);
        }
        if self.files.len() > 12 {
            let (file, owner) = self.files.remove(0);
            Self::push(out, json!({"op": "delete_file", "file": file}), Some(PEERS[owner]), Tag::None);
        }
    }

    /// Agents short of credits get their endowment again from the bank (an admin deposit).
    fn top_up(&mut self, engine: &Engine, out: &mut Vec<Decision>) {
        for (name, role) in accounts() {
            if matches!(role, Role::Admin | Role::Person) {
                continue;
            }
            let want = endowment(role);
            let have = engine.user_id(name).map_or(Amount::ZERO, |u| engine.balance(u).0);
            if have.0 < want * 1_000_000 / 4 {
                Self::push(out, json!({"op": "deposit", "user": name, "amount": want.to_string()}), None, Tag::None);
            }
        }
    }
}

fn series_of<'e>(engine: &'e Engine, issue: &IssueAgent) -> Option<&'e peerex_engine::exchange::Series> {
    let x = engine.exchange();
    let iid = x.issue_id(&issue.name)?;
    x.series(x.series_id(iid, issue.maturation)?)
}

/// Units of an open offer of `user`'s of `kind` on the issue's series.
fn open_units(engine: &Engine, issue: &IssueAgent, user: &str, kind: OfferKind) -> u64 {
    let x = engine.exchange();
    let (Some(series), Some(uid)) = (series_of(engine, issue), engine.user_id(user)) else { return 0 };
    series
        .offers
        .iter()
        .filter_map(|o| x.offer(*o))
        .filter(|o| o.user == uid && o.status == OfferStatus::Open && o.kind == kind)
        .map(|o| o.remaining)
        .sum()
}

fn funder_left(engine: &Engine, issue: &IssueAgent) -> u64 {
    open_units(engine, issue, FUNDERS[issue.funder].0, OfferKind::BuyUnfixed)
}

fn sale_left(engine: &Engine, issue: &IssueAgent) -> u64 {
    WORKERS.iter().map(|w| open_units(engine, issue, w, OfferKind::SellFixed)).sum()
}

fn held_fixed(engine: &Engine, user: &str, issue: &IssueAgent) -> u64 {
    let x = engine.exchange();
    let Some(uid) = engine.user_id(user) else { return 0 };
    let Some(iid) = x.issue_id(&issue.name) else { return 0 };
    let Some(sid) = x.series_id(iid, issue.maturation) else { return 0 };
    if x.series(sid).is_none_or(|s| s.status != SeriesStatus::Open) {
        return 0;
    }
    x.position(uid, sid).map_or(0, |p| p.fixed.units - p.fixed.held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_decides_the_same() {
        let engine = Engine::new();
        let t = Timestamp::parse("2026-01-05T09:00:00Z").unwrap();
        let run = |seed| {
            let mut w = World::new(seed);
            let mut all = w.setup();
            all.extend(w.step(&engine, Timestamp::parse("2026-01-05T00:00:00Z").unwrap(), t));
            all.extend(w.step(&engine, Timestamp::parse("2026-01-05T00:00:00Z").unwrap(), t.plus_millis(3_600_000)));
            all.into_iter().map(|d| serde_json::to_string(&d.op).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().filter(|o| o.contains("open_issue")).count() >= 10);
    }

    #[test]
    fn prices_print_as_the_command_language_wants() {
        assert_eq!(price(7_500), "0.7500");
        assert_eq!(price(10_000), "1.0000");
        assert_eq!(gb(1_500_000), "1.5");
    }
}
