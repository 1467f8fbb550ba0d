//! The worker-funder market, day by day, through the real engine: funders open issues and place
//! buy-unfixed offers, workers buy the fixed side (an `Op::Offer` buy_fixed that crosses the
//! funder's offer: an *expand* trade forms the contract), work, close issues in the local
//! tracker, and `tick` matures and settles every series through the engine's normal path.
//!
//! A day's virtual clock: 06:00 funders open issues and offers; 12:00 workers pick jobs (in a
//! random order); 18:00 a day of work is done and finished issues are closed; midnight (the
//! next day's 00:00) is the end of the day: series due then mature and settle.

use peerex_engine::event::Event;
use peerex_engine::exchange::types::{CloseReason, OfferKind, OfferStatus, Outcome};
use peerex_engine::ids::UserId;
use peerex_engine::{Amount, Engine, OfferCommand, Op, Price, Timed, Timestamp};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::rules::{Candidate, Health, WorkerRule};
use crate::clock::at;
use crate::drive::apply;

/// A funder and its project: the unfixed price it pays for base difficulty 1, 2, 3.
#[derive(Clone, Debug, PartialEq)]
pub struct Funder {
    pub name: &'static str,
    pub prices_bp: [u32; 3],
}

/// Seed 001's two funders.
pub const FUNDERS: [Funder; 2] = [
    Funder { name: "correlatedPay", prices_bp: [7000, 8000, 9000] },
    Funder { name: "inversePay", prices_bp: [9000, 8000, 7000] },
];

/// The experiment's parameters (defaults: seed 001).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub workers: u32,
    pub worker_credits: i64,
    /// "Effectively unlimited": far more than 180 days of offers need.
    pub funder_credits: i64,
    pub issues_per_day: u32,
    /// Probability that an issue needs one day more than its base difficulty.
    pub extra_day_prob: f64,
    pub volume: u64,
    /// Days from opening to maturation: 3 = the end of the day after next.
    pub contract_days: u32,
    /// Futures (the worker stakes the complement) or the bounty baseline (the worker stakes
    /// nothing; the funder's offer is at 1.0 for its price x volume units).
    pub market: Market,
    /// Workers who find they cannot finish in time sell their fixed position on the book.
    pub resale: bool,
    /// Share of workers who are experts (the first round(share x workers) workers).
    pub experts: f64,
    /// Days of work an expert does per day (others do 1).
    pub expert_speed: u32,
}

/// The market a funder pays through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Market {
    Futures,
    Bounty,
}

/// A fixed position offered for sale by a worker who cannot finish in time.
#[derive(Clone, Debug, PartialEq)]
pub struct Sale {
    pub offer: String,
    pub seller: usize,
    pub price: Price,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            workers: 10,
            worker_credits: 1_000,
            funder_credits: 1_000_000_000,
            issues_per_day: 10,
            extra_day_prob: 0.4,
            volume: 100,
            contract_days: 3,
            market: Market::Futures,
            resale: false,
            experts: 0.0,
            expert_speed: 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub project: usize,
    pub key: String,
    pub base: u32,
    /// Days of work it really takes (base, or base + 1).
    pub difficulty: u32,
    pub opened_day: u32,
    /// The last day whose work counts: the series matures at the end of it.
    pub maturation_day: u32,
    pub funder_price: Price,
    pub funder_offer: String,
    /// The funder offer's price and volume on the book (1.0 and price x volume for a bounty).
    pub offer_price: Price,
    pub offer_volume: u64,
    /// Days of work done on it so far (by whoever held it; kept in the tracker).
    pub progress: u32,
    /// Its fixed position on sale, if any.
    pub sale: Option<Sale>,
    pub taken_by: Option<usize>,
    pub closed_day: Option<u32>,
    /// The settled outcome of its contract (only for taken issues).
    pub outcome: Option<Outcome>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub issue: usize,
    pub days_worked: u32,
    /// The price per unit this worker paid for its fixed position.
    pub paid: Price,
    /// It has put the position up for sale.
    pub listed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Worker {
    pub name: String,
    pub user: UserId,
    pub job: Option<Job>,
    /// Issues finished (contract won).
    pub done: u32,
    /// Contracts lost at maturation (issue not closed in time).
    pub failed: u32,
    /// Days of work per day.
    pub speed: u32,
    /// Payouts received: contracts won at maturation plus positions sold.
    pub payouts: u32,
    /// Positions sold and bought on the book, and what sales earned over what was paid.
    pub sold: u32,
    pub bought: u32,
    pub resale_profit: f64,
    /// Days spent working.
    pub workdays: u32,
}

/// Per-project counters: `day_*` reset every day, the others cumulative.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectStats {
    pub day_opened: u32,
    pub day_closed: u32,
    pub day_contracts: u32,
    pub day_settled: u32,
    pub day_fixed: u32,
    pub opened: u32,
    pub closed: u32,
    pub contracts: u32,
    pub settled: u32,
    pub fixed: u32,
    /// Open issues and the sum of their opening days (for their mean age in O(1)).
    pub open: u32,
    pub open_day_sum: u64,
    /// Sum over closed issues of their time from opening to closing, in days.
    pub time_to_close_sum: f64,
    /// Contracts formed and contracts lost by fixed, by base difficulty 1..=3.
    pub taken_by_base: [u32; 3],
    pub failed_by_base: [u32; 3],
    /// Issues opened and closed by base difficulty 1..=3.
    pub opened_by_base: [u32; 3],
    pub closed_by_base: [u32; 3],
    /// Worker-days spent on the project's issues.
    pub workdays: u32,
    /// Positions put up for sale, sold, and sold positions whose issue was then closed in time.
    pub listed: u32,
    pub resold: u32,
    pub resold_fixed: u32,
}

impl ProjectStats {
    pub fn fix_rate(&self) -> f64 {
        if self.settled == 0 {
            f64::NAN
        } else {
            f64::from(self.fixed) / f64::from(self.settled)
        }
    }
    /// Mean age in days of the open issues at the end of `day` (opened at 06:00).
    pub fn open_age(&self, day: u32) -> f64 {
        if self.open == 0 {
            f64::NAN
        } else {
            let n = f64::from(self.open);
            (n * (f64::from(day) + 0.75) - self.open_day_sum as f64) / n
        }
    }
    /// The study's resolution efficiency: closed / (closed + abandoned), abandoned = contracts
    /// lost by fixed (taken, not finished by maturation).
    pub fn resolution_efficiency(&self) -> f64 {
        let abandoned: u32 = self.failed_by_base.iter().sum();
        if self.closed + abandoned == 0 {
            f64::NAN
        } else {
            f64::from(self.closed) / f64::from(self.closed + abandoned)
        }
    }
    /// Share of the issues labelled difficulty 3 that were closed.
    pub fn difficult_close_rate(&self) -> f64 {
        if self.opened_by_base[2] == 0 {
            f64::NAN
        } else {
            f64::from(self.closed_by_base[2]) / f64::from(self.opened_by_base[2])
        }
    }
    pub fn time_to_close(&self) -> f64 {
        if self.closed == 0 {
            f64::NAN
        } else {
            self.time_to_close_sum / f64::from(self.closed)
        }
    }
}

pub struct World {
    pub params: Params,
    pub engine: Engine,
    pub issues: Vec<Issue>,
    pub workers: Vec<Worker>,
    pub funders: Vec<UserId>,
    pub stats: Vec<ProjectStats>,
    rule: Box<dyn WorkerRule>,
    rng: ChaCha8Rng,
    /// Issues whose funder offer is open and untaken, in placement order.
    offerable: Vec<usize>,
    /// Series index -> issue index.
    series_issue: Vec<Option<usize>>,
    out: Vec<Timed>,
    candidates: Vec<Candidate>,
    /// Issues whose fixed position is (or was) on sale, and those whose position was resold.
    on_sale: Vec<usize>,
    resold: Vec<usize>,
}

impl World {
    /// Funders and workers with their deposits, at the start of day 0.
    pub fn new(params: Params, rule: Box<dyn WorkerRule>, rng: ChaCha8Rng) -> anyhow::Result<World> {
        let mut engine = Engine::new();
        let mut out = Vec::new();
        let mut funders = Vec::new();
        for f in &FUNDERS {
            let op = Op::Deposit { user: f.name.to_owned(), amount: Amount::credits(params.funder_credits) };
            apply(&mut engine, &mut out, at(0, 0), op)?;
            funders.push(engine.user_id(f.name).ok_or_else(|| anyhow::anyhow!("funder {} missing", f.name))?);
        }
        let mut workers = Vec::new();
        for i in 0..params.workers {
            let name = format!("worker{:02}", i + 1);
            let op = Op::Deposit { user: name.clone(), amount: Amount::credits(params.worker_credits) };
            apply(&mut engine, &mut out, at(0, 0), op)?;
            let user = engine.user_id(&name).ok_or_else(|| anyhow::anyhow!("worker {name} missing"))?;
            let experts = (params.experts * f64::from(params.workers)).round() as u32;
            let speed = if i < experts { params.expert_speed } else { 1 };
            workers.push(Worker {
                name,
                user,
                job: None,
                done: 0,
                failed: 0,
                speed,
                payouts: 0,
                sold: 0,
                bought: 0,
                resale_profit: 0.0,
                workdays: 0,
            });
        }
        out.clear();
        Ok(World {
            params,
            engine,
            issues: Vec::new(),
            workers,
            funders,
            stats: vec![ProjectStats::default(); FUNDERS.len()],
            rule,
            rng,
            offerable: Vec::new(),
            series_issue: Vec::new(),
            out,
            candidates: Vec::new(),
            on_sale: Vec::new(),
            resold: Vec::new(),
        })
    }

    /// Resets the per-day counters.
    pub fn start_day(&mut self) {
        for s in &mut self.stats {
            (s.day_opened, s.day_closed, s.day_contracts, s.day_settled, s.day_fixed) = (0, 0, 0, 0, 0);
        }
    }

    /// Simulates day `day`: issues and offers, picks, work, end-of-day maturation.
    pub fn step(&mut self, day: u32) -> anyhow::Result<()> {
        self.start_day();
        self.open_issues(day)?;
        self.pick_jobs(day)?;
        self.work(day)?;
        self.end_of_day(day)?;
        crate::conservation::check_day(&self.engine, day)
    }

    /// Each funder opens its issues of the day, each with a random base difficulty (1-3) and a
    /// hidden extra day with probability `extra_day_prob`.
    fn open_issues(&mut self, day: u32) -> anyhow::Result<()> {
        for project in 0..FUNDERS.len() {
            for _ in 0..self.params.issues_per_day {
                let base = self.rng.gen_range(1..=3u32);
                let extra = u32::from(self.rng.gen_bool(self.params.extra_day_prob));
                self.open_issue(day, project, base, base + extra)?;
            }
        }
        Ok(())
    }

    /// Funder `project` opens an issue of base difficulty `base` (1..=3) that really takes
    /// `difficulty` days, and places its buy-unfixed offer (06:00 of `day`). Returns its index.
    pub fn open_issue(&mut self, day: u32, project: usize, base: u32, difficulty: u32) -> anyhow::Result<usize> {
        let funder = FUNDERS.get(project).ok_or_else(|| anyhow::anyhow!("no project {project}"))?;
        let now = at(day, 6);
        let n = self.stats[project].opened + 1;
        let key = format!("{}#{n}", funder.name);
        let offer = format!("{}-offer{n}", funder.name);
        let bp = base.checked_sub(1).and_then(|i| funder.prices_bp.get(i as usize)).copied();
        let price = bp.and_then(Price::from_bp).ok_or_else(|| anyhow::anyhow!("no price for difficulty {base}"))?;
        let maturation_day = day + self.params.contract_days - 1;
        let (offer_price, offer_volume) = match self.params.market {
            Market::Futures => (price, self.params.volume),
            // The bounty: the funder escrows what it would have put in (price x volume), all
            // of it paid to the worker on completion; the worker's side costs nothing.
            Market::Bounty => (Price::ONE, self.params.volume * u64::from(price.bp()) / 10_000),
        };
        let labels = vec![format!("difficulty:{base}")];
        apply(
            &mut self.engine,
            &mut self.out,
            now,
            Op::OpenIssue { issue: key.clone(), title: String::new(), labels },
        )?;
        let cmd = OfferCommand {
            id: offer.clone(),
            user: funder.name.to_owned(),
            kind: OfferKind::BuyUnfixed,
            issue: key.clone(),
            maturation: at(maturation_day + 1, 0),
            price: offer_price,
            volume: offer_volume,
            aon: false,
            poolable: false,
            expiration: None,
        };
        apply(&mut self.engine, &mut self.out, now, Op::Offer(cmd))?;
        let series = self
            .out
            .iter()
            .find_map(|t| match t.event {
                Event::OfferPlaced { series, .. } => Some(series),
                _ => None,
            })
            .ok_or_else(|| anyhow::anyhow!("no offer_placed event for {offer}"))?;
        self.out.clear();
        let idx = self.issues.len();
        if self.series_issue.len() <= series.index() {
            self.series_issue.resize(series.index() + 1, None);
        }
        self.series_issue[series.index()] = Some(idx);
        self.issues.push(Issue {
            project,
            key,
            base,
            difficulty,
            opened_day: day,
            maturation_day,
            funder_price: price,
            funder_offer: offer,
            offer_price,
            offer_volume,
            progress: 0,
            sale: None,
            taken_by: None,
            closed_day: None,
            outcome: None,
        });
        self.offerable.push(idx);
        let s = &mut self.stats[project];
        s.day_opened += 1;
        s.opened += 1;
        s.open += 1;
        s.open_day_sum += u64::from(day);
        if let Some(c) = s.opened_by_base.get_mut(base as usize - 1) {
            *c += 1;
        }
        Ok(idx)
    }

    /// The projects' public health metrics as of the start of `day`.
    pub fn health(&self, day: u32) -> Vec<Health> {
        self.stats
            .iter()
            .map(|s| Health {
                fix_rate: (s.settled > 0).then(|| s.fix_rate()),
                open_issues: s.open as usize,
                resolution_efficiency: Some(s.resolution_efficiency()).filter(|x| !x.is_nan()),
                time_to_close: Some(s.time_to_close()).filter(|x| !x.is_nan()),
                open_age: Some(s.open_age(day)).filter(|x| !x.is_nan()),
            })
            .collect()
    }

    /// 12:00: idle workers, in random order, each pick an affordable open offer by the rule.
    pub fn pick_jobs(&mut self, day: u32) -> anyhow::Result<()> {
        let now = at(day, 12);
        let health = self.health(day.saturating_sub(1));
        let mut order: Vec<usize> = (0..self.workers.len()).collect();
        order.shuffle(&mut self.rng);
        for w in order {
            if self.workers[w].job.is_some() {
                continue;
            }
            let (available, _) = self.engine.balance(self.workers[w].user);
            if self.params.resale && self.buy_resale(day, now, w, available)? {
                continue;
            }
            self.candidates.clear();
            for &i in &self.offerable {
                let issue = &self.issues[i];
                let cost = issue.offer_price.complement().cost(issue.offer_volume).unwrap_or(Amount(i64::MAX));
                if cost <= available && issue.maturation_day >= day {
                    self.candidates.push(Candidate {
                        issue: i,
                        project: issue.project,
                        funder_price: issue.funder_price,
                        base_difficulty: issue.base,
                        maturation_day: issue.maturation_day,
                        days_left: issue.maturation_day - day + 1,
                    });
                }
            }
            let Some(pick) = self.rule.choose(&self.candidates, &health, &mut self.rng) else { continue };
            let Some(issue_idx) = self.candidates.get(pick).map(|c| c.issue) else { continue };
            self.take(day, now, w, issue_idx)?;
        }
        Ok(())
    }

    /// Worker `w` buys the fixed side of issue `i` at the complement of the funder's price.
    pub fn take(&mut self, day: u32, now: Timestamp, w: usize, i: usize) -> anyhow::Result<()> {
        let issue = &self.issues[i];
        let worker = &self.workers[w];
        apply(
            &mut self.engine,
            &mut self.out,
            now,
            Op::Offer(OfferCommand {
                id: format!("{}-day{day}", worker.name),
                user: worker.name.clone(),
                kind: OfferKind::BuyFixed,
                issue: issue.key.clone(),
                maturation: at(issue.maturation_day + 1, 0),
                price: issue.offer_price.complement(),
                volume: issue.offer_volume,
                aon: false,
                poolable: false,
                expiration: None,
            }),
        )?;
        self.out.clear();
        // The contract formed iff the funder's offer was filled whole.
        let x = self.engine.exchange();
        let filled = x
            .offer_id(&issue.funder_offer)
            .and_then(|id| x.offer(id))
            .is_some_and(|o| o.status == OfferStatus::Filled && o.remaining == 0);
        if !filled {
            anyhow::bail!("{} bought fixed on {} but no contract formed", worker.name, issue.key);
        }
        let project = issue.project;
        let base = issue.base as usize;
        self.issues[i].taken_by = Some(w);
        let paid = self.issues[i].offer_price.complement();
        self.workers[w].job = Some(Job { issue: i, days_worked: 0, paid, listed: false });
        self.offerable.retain(|&o| o != i);
        let s = &mut self.stats[project];
        s.day_contracts += 1;
        s.contracts += 1;
        if let Some(c) = s.taken_by_base.get_mut(base - 1) {
            *c += 1;
        }
        Ok(())
    }

    /// 18:00: a day of work on every job; finished issues are closed in the tracker.
    pub fn work(&mut self, day: u32) -> anyhow::Result<()> {
        let now = at(day, 18);
        for w in 0..self.workers.len() {
            let speed = self.workers[w].speed;
            let Some(job) = self.workers[w].job.as_mut() else { continue };
            job.days_worked += 1;
            let i = job.issue;
            let listed = job.listed;
            self.workers[w].workdays += 1;
            let issue = &mut self.issues[i];
            issue.progress = (issue.progress + speed).min(issue.difficulty);
            self.stats[issue.project].workdays += 1;
            if issue.progress < issue.difficulty {
                // After a day on it the worker knows how much is left; one who cannot finish
                // by maturation sells its position (when resale is on).
                let left = issue.difficulty - issue.progress;
                let days_after_today = issue.maturation_day.saturating_sub(day);
                if self.params.resale && !listed && left.div_ceil(speed) > days_after_today {
                    self.list_for_sale(day, w, i)?;
                }
                continue;
            }
            let op = Op::CloseIssue { issue: self.issues[i].key.clone(), reason: CloseReason::Completed };
            apply(&mut self.engine, &mut self.out, now, op)?;
            self.out.clear();
            self.workers[w].job = None;
            self.workers[w].done += 1;
            let issue = &mut self.issues[i];
            issue.closed_day = Some(day);
            let s = &mut self.stats[issue.project];
            s.day_closed += 1;
            s.closed += 1;
            s.open -= 1;
            s.open_day_sum -= u64::from(issue.opened_day);
            // Opened at 06:00, closed at 18:00.
            s.time_to_close_sum += f64::from(day - issue.opened_day) + 0.5;
            if let Some(c) = s.closed_by_base.get_mut(issue.base as usize - 1) {
                *c += 1;
            }
        }
        Ok(())
    }

    /// Midnight: the engine matures and settles the series due (`tick`); workers whose contract
    /// was lost drop the job (its reward is gone).
    pub fn end_of_day(&mut self, day: u32) -> anyhow::Result<()> {
        apply(&mut self.engine, &mut self.out, at(day + 1, 0), Op::Tick {})?;
        let out = std::mem::take(&mut self.out);
        for t in &out {
            let Event::SeriesSettled { series, outcome, .. } = t.event else { continue };
            let Some(i) = self.series_issue.get(series.index()).copied().flatten() else { continue };
            self.offerable.retain(|&o| o != i);
            let issue = &mut self.issues[i];
            issue.sale = None;
            let Some(w) = issue.taken_by else { continue };
            issue.outcome = Some(outcome);
            let s = &mut self.stats[issue.project];
            s.day_settled += 1;
            s.settled += 1;
            if outcome == Outcome::Fixed {
                s.day_fixed += 1;
                s.fixed += 1;
                self.workers[w].payouts += 1;
                if self.resold_issue(i) {
                    self.stats[self.issues[i].project].resold_fixed += 1;
                }
            } else {
                if let Some(c) = s.failed_by_base.get_mut(issue.base as usize - 1) {
                    *c += 1;
                }
                let worker = &mut self.workers[w];
                if worker.job.as_ref().is_some_and(|j| j.issue == i) {
                    worker.job = None;
                    worker.failed += 1;
                }
            }
        }
        self.out = out;
        self.out.clear();
        Ok(())
    }

    /// Whether issue `i`'s position changed hands on the book.
    fn resold_issue(&self, i: usize) -> bool {
        self.resold.contains(&i)
    }

    /// Worker `w` cannot finish issue `i` in time: it offers its fixed position for sale at
    /// what it paid plus the funder's price times the share of the work done (credit for
    /// partial work; capped at 0.99), until maturation.
    fn list_for_sale(&mut self, day: u32, w: usize, i: usize) -> anyhow::Result<()> {
        let Some(job) = self.workers[w].job.as_mut() else { return Ok(()) };
        job.listed = true;
        let paid = job.paid;
        let issue = &self.issues[i];
        let done = u64::from(issue.progress) * u64::from(issue.funder_price.bp()) / u64::from(issue.difficulty);
        let ask_bp = (u64::from(paid.bp()) + done).min(9_900) as u32;
        let price = Price::from_bp(ask_bp).ok_or_else(|| anyhow::anyhow!("bad resale price {ask_bp}"))?;
        let offer = format!("{}-sell-{}", self.workers[w].name, issue.key);
        apply(
            &mut self.engine,
            &mut self.out,
            at(day, 18),
            Op::Offer(OfferCommand {
                id: offer.clone(),
                user: self.workers[w].name.clone(),
                kind: OfferKind::SellFixed,
                issue: issue.key.clone(),
                maturation: at(issue.maturation_day + 1, 0),
                price,
                volume: issue.offer_volume,
                aon: false,
                poolable: false,
                expiration: None,
            }),
        )?;
        self.out.clear();
        self.stats[issue.project].listed += 1;
        self.issues[i].sale = Some(Sale { offer, seller: w, price });
        self.on_sale.push(i);
        Ok(())
    }

    /// An idle worker looks at the positions on sale it could finish in time and can afford,
    /// and buys the cheapest (ties at random) through the book. Returns whether it bought.
    fn buy_resale(&mut self, day: u32, now: Timestamp, w: usize, available: Amount) -> anyhow::Result<bool> {
        self.on_sale.retain(|&i| self.issues[i].sale.is_some());
        let speed = self.workers[w].speed;
        let mut best: Option<(usize, Price)> = None;
        let mut ties = 0u32;
        for &i in &self.on_sale {
            let issue = &self.issues[i];
            let Some(sale) = &issue.sale else { continue };
            if sale.seller == w || issue.maturation_day < day {
                continue;
            }
            let left = issue.difficulty - issue.progress;
            let days_left = issue.maturation_day - day + 1;
            let cost = sale.price.cost(issue.offer_volume).unwrap_or(Amount(i64::MAX));
            if left > speed * days_left || cost > available {
                continue;
            }
            match best {
                Some((_, p)) if sale.price > p => {}
                Some((_, p)) if sale.price == p => {
                    ties += 1;
                    if self.rng.gen_range(0..ties) == 0 {
                        best = Some((i, sale.price));
                    }
                }
                _ => {
                    best = Some((i, sale.price));
                    ties = 1;
                }
            }
        }
        let Some((i, price)) = best else { return Ok(false) };
        let Some(sale) = self.issues[i].sale.take() else { return Ok(false) };
        let issue = &self.issues[i];
        apply(
            &mut self.engine,
            &mut self.out,
            now,
            Op::Offer(OfferCommand {
                id: format!("{}-buy-{}", self.workers[w].name, issue.key),
                user: self.workers[w].name.clone(),
                kind: OfferKind::BuyFixed,
                issue: issue.key.clone(),
                maturation: at(issue.maturation_day + 1, 0),
                price,
                volume: issue.offer_volume,
                aon: false,
                poolable: false,
                expiration: None,
            }),
        )?;
        self.out.clear();
        let x = self.engine.exchange();
        let filled =
            x.offer_id(&sale.offer).and_then(|id| x.offer(id)).is_some_and(|o| o.status == OfferStatus::Filled);
        if !filled {
            anyhow::bail!("{} bought the position on {} but the sale did not fill", self.workers[w].name, issue.key);
        }
        let volume = issue.offer_volume as f64;
        let project = issue.project;
        let seller = &mut self.workers[sale.seller];
        if let Some(job) = seller.job.take_if(|j| j.issue == i) {
            seller.resale_profit += (f64::from(price.bp()) - f64::from(job.paid.bp())) / 10_000.0 * volume;
        }
        seller.sold += 1;
        seller.payouts += 1;
        self.workers[w].bought += 1;
        self.workers[w].job = Some(Job { issue: i, days_worked: 0, paid: price, listed: false });
        self.issues[i].taken_by = Some(w);
        self.resold.push(i);
        self.stats[project].resold += 1;
        Ok(true)
    }

    /// A user's available + held credits.
    pub fn cash(&self, user: UserId) -> f64 {
        let (a, h) = self.engine.balance(user);
        (a.micros() + h.micros()) as f64 / 1e6
    }
}
