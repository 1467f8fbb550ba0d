//! Scenario `resource-market` (seed 003 through the engine): the CES agents of
//! `resource-economy` run as peers of the engine's resource market, so balances, allocation,
//! deficits, freezes and repair are simulated, not only the price update. Each treatment is its
//! own engine with the same peers and the same daily draws (common random numbers):
//!
//! * `baseline`: no shock;
//! * `leave`: on `shock_day` a share `leave_share` of the peers (a random set) leaves for good:
//!   from then on it is measured offline (fraction 0), which makes the engine repair its
//!   fragments away; it keeps being charged for the data it stored;
//! * `demand2x`: from `shock_day` every peer stores twice as much (it backs up its extra data that
//!   day), backs up twice as much per week and retrieves twice as often;
//! * `outage`: on `shock_day` the measurement system fails for a day: every peer is measured
//!   offline (fraction 0), as a naive daily job would record peers it could not reach;
//! * `liars`: a share `liar_share` of the peers (a random set) misreports its supply: its space
//!   slider is `lie_factor` x the space it really offers, and it claims to hold every fragment
//!   placed on it; fragments beyond its real space are silently lost (tracked by the simulator,
//!   invisible to the engine);
//! * `liars_report`: the same liars, but their client reports the fragments it really holds once
//!   a week (`report_fragments` on day i mod 7), so the engine repairs the missing ones.
//!
//! The peers (design, where the seed is silent): peer i is agent i of `resource-economy`
//! (endowment, stored data u, theta_B, theta_R, CES weights and elasticity) with a mean online
//! fraction a_i ~ U(0.35, 1); each day it is measured online a_i + U(-0.15, 0.15) (clipped to
//! [0, 1]). Whenever the posted prices change it sets its three sliders to its CES supply at those
//! prices (`Agent::supply`; space as raw GB). From day 14 (the end of the engine's test period,
//! before which nobody can hold fragments) it backs up its data u as `files` files of u / files
//! GB each (`backup` with target availability `target`), then once a week (on day i mod 7) a new
//! file of 7 theta_B u GB, deleting its oldest files while it stores more than u; each day it
//! retrieves one of its files (at random) with probability theta_R u / (mean file size). The
//! operator's daily job settles every peer (`settle_day`) and runs the price update
//! (`update_prices`, epochs of `epoch` days); `start_u`/`start_d` set the starting prices
//! (`set_resource_prices`; default the engine's 1 credit per GB).
//!
//! Per-day CSV rows: one per treatment. Summary metrics `<treatment>.<metric>`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use anyhow::bail;
use peerex_engine::event::Event;
use peerex_engine::ids::PeerId;
use peerex_engine::ledger::Account;
use peerex_engine::resources::bank::Standing;
use peerex_engine::resources::events::ResourceDetail;
use peerex_engine::resources::matrix::Technology;
use peerex_engine::{Amount, Command, Engine, Op, Timed};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::clock::{at, at_ms};
use crate::drive::apply;
use crate::options;
use crate::scenario::{PlotSpec, Row, RunCtx, RunOutput, Scenario};
use crate::scenarios::resource_economy::Agent;

pub struct ResourceMarket;

/// Every treatment, in CSV order.
pub const TREATMENTS: [&str; 6] = ["baseline", "leave", "demand2x", "outage", "liars", "liars_report"];

const COLUMNS: [&str; 14] = [
    "p_u",
    "p_d",
    "max_abs_e",
    "frozen",
    "alert",
    "files",
    "failed_backups",
    "repairs",
    "dropped_fragments",
    "unavailable_files",
    "lost_files",
    "retrieval_failures",
    "bank",
    "mean_balance",
];

const BYTES_PER_GB: f64 = 1e9;
/// The engine's test period: nobody holds fragments before this day.
const FIRST_BACKUP_DAY: u32 = 14;

#[derive(Clone, Debug)]
pub struct Params {
    pub peers: usize,
    pub shock_day: u32,
    pub leave_share: f64,
    pub liar_share: f64,
    pub lie_factor: f64,
    pub start_u: Option<f64>,
    pub start_d: Option<f64>,
    pub epoch: u32,
    pub target: f64,
    pub files: u32,
    pub floor: f64,
    pub treatments: Vec<&'static str>,
}

fn params(o: &BTreeMap<String, String>) -> anyhow::Result<Params> {
    let start = |k: &str| -> anyhow::Result<Option<f64>> {
        match o.get(k) {
            None => Ok(None),
            Some(_) => {
                let v: f64 = options::get(o, k, 1.0)?;
                if !(0.001..=1000.0).contains(&v) {
                    bail!("{k} must lie in [0.001, 1000] credits per GB");
                }
                Ok(Some(v))
            }
        }
    };
    let treatment: String = options::get(o, "treatment", "all".to_owned())?;
    let treatments: Vec<&'static str> = if treatment == "all" {
        TREATMENTS.to_vec()
    } else {
        match TREATMENTS.iter().find(|t| **t == treatment) {
            Some(t) => vec![*t],
            None => bail!("treatment={treatment}: use all or one of {}", TREATMENTS.join(", ")),
        }
    };
    let p = Params {
        peers: options::get(o, "peers", 60)?,
        shock_day: options::get(o, "shock_day", 60)?,
        leave_share: options::get(o, "leave_share", 0.2)?,
        liar_share: options::get(o, "liar_share", 0.2)?,
        lie_factor: options::get(o, "lie_factor", 2.0)?,
        start_u: start("start_u")?,
        start_d: start("start_d")?,
        epoch: options::get(o, "epoch", 7)?,
        target: options::get(o, "target", 0.999)?,
        files: options::get(o, "files", 4)?,
        floor: options::get(o, "floor", 0.1)?,
        treatments,
    };
    if !(2..=500).contains(&p.peers) {
        bail!("peers must lie in 2..=500");
    }
    if !(0.0..=1.0).contains(&p.leave_share) || !(0.0..=1.0).contains(&p.liar_share) {
        bail!("leave_share and liar_share must lie in [0, 1]");
    }
    if !(1.0..=100.0).contains(&p.lie_factor) {
        bail!("lie_factor must lie in [1, 100]");
    }
    if !(1..=365).contains(&p.epoch) {
        bail!("epoch must lie in 1..=365 days");
    }
    if !(0.5..0.999_999).contains(&p.target) {
        bail!("target must lie in [0.5, 0.999999)");
    }
    if !(0.0..=1.0).contains(&p.floor) {
        bail!("floor must lie in [0, 1]");
    }
    if !(1..=20).contains(&p.files) {
        bail!("files must lie in 1..=20");
    }
    Ok(p)
}

fn peer(i: usize) -> String {
    format!("peer{i:03}")
}

/// What every world draws from the run's stream on one day, shared by all treatments.
struct DayDraws {
    online: Vec<f64>,
    retrieve: Vec<f64>,
    pick: Vec<f64>,
}

/// One treatment's engine and the truth the engine does not see.
struct World {
    treatment: &'static str,
    engine: Engine,
    out: Vec<Timed>,
    /// Own files of each peer, oldest first: (name, bytes).
    own: Vec<VecDeque<(String, u64)>>,
    stored: Vec<u64>,
    next_file: Vec<u32>,
    departed: Vec<bool>,
    liar: Vec<bool>,
    /// Liars: the raw space they really offer and the bytes they really hold.
    true_cap: Vec<i64>,
    truly_held: Vec<i64>,
    /// (file, holder) fragments a liar claims but does not hold.
    phantom: BTreeSet<(String, u32)>,
    /// Data multiplier (2 after the demand shock).
    demand: f64,
    prices_seen: Option<[i64; 3]>,
    failed_frozen: u32,
    failed_space: u32,
    repairs: u32,
    dropped: u32,
    retrievals: u32,
    retrieval_failures: u32,
    unavailable_file_days: u64,
    e: Vec<f64>,
    frozen_max: u32,
}

fn amount(x: f64) -> Amount {
    Amount((x * 1e6).round() as i64)
}

impl World {
    fn new(treatment: &'static str, p: &Params, liars: &[bool]) -> anyhow::Result<World> {
        let n = p.peers;
        let mut w = World {
            treatment,
            engine: Engine::new(),
            out: Vec::new(),
            own: vec![VecDeque::new(); n],
            stored: vec![0; n],
            next_file: vec![0; n],
            departed: vec![false; n],
            liar: if treatment.starts_with("liars") { liars.to_vec() } else { vec![false; n] },
            true_cap: vec![0; n],
            truly_held: vec![0; n],
            phantom: BTreeSet::new(),
            demand: 1.0,
            prices_seen: None,
            failed_frozen: 0,
            failed_space: 0,
            repairs: 0,
            dropped: 0,
            retrievals: 0,
            retrieval_failures: 0,
            unavailable_file_days: 0,
            e: Vec::new(),
            frozen_max: 0,
        };
        let t0 = at(0, 0);
        w.apply(t0, Op::ConfigureResources { epoch_days: p.epoch })?;
        if p.start_u.is_some() || p.start_d.is_some() {
            let f = |x: Option<f64>| format!("{:.9}", x.unwrap_or(1.0));
            w.apply(t0, Op::SetResourcePrices { p_u: f(p.start_u), p_d: f(p.start_d) })?;
        }
        for i in 0..n {
            w.apply(t0, Op::RegisterPeer { peer: peer(i) })?;
        }
        Ok(w)
    }

    /// Applies a command that must succeed and books its events.
    fn apply(&mut self, at: peerex_engine::Timestamp, op: Op) -> anyhow::Result<()> {
        apply(&mut self.engine, &mut self.out, at, op)?;
        self.observe();
        Ok(())
    }

    /// Applies a command the engine may refuse (a frozen owner, no placement, ...).
    fn try_apply(&mut self, at: peerex_engine::Timestamp, op: Op) -> Result<(), peerex_engine::EngineError> {
        let r = self.engine.apply(Command::new(at, op), &mut self.out);
        self.observe();
        r
    }

    fn fragment_bytes(&self, file: &str) -> i64 {
        self.engine.resources().fragments().file(file).map_or(0, |r| r.fragment_bytes)
    }

    /// A liar receives a fragment: it keeps it if it really has the space.
    fn receive(&mut self, file: &str, holder: PeerId, fb: i64) {
        let h = holder.index();
        if !self.liar.get(h).copied().unwrap_or(false) {
            return;
        }
        if self.truly_held[h] + fb <= self.true_cap[h] {
            self.truly_held[h] += fb;
        } else {
            self.phantom.insert((file.to_owned(), holder.0));
        }
    }

    /// A liar's fragment leaves it (repaired away, dropped, deleted).
    fn release(&mut self, file: &str, holder: PeerId, fb: i64) {
        let h = holder.index();
        if !self.liar.get(h).copied().unwrap_or(false) {
            return;
        }
        if !self.phantom.remove(&(file.to_owned(), holder.0)) {
            self.truly_held[h] -= fb;
        }
    }

    /// Books the events of the last command.
    fn observe(&mut self) {
        let out = std::mem::take(&mut self.out);
        for e in &out {
            let Event::Resource { detail, .. } = &e.event else { continue };
            match detail.as_ref() {
                ResourceDetail::FilePlaced { file, fragment_bytes, holders, .. } => {
                    for h in holders {
                        self.receive(file, *h, *fragment_bytes);
                    }
                }
                ResourceDetail::FileRepaired { file, lost, replacement, .. } => {
                    let fb = self.fragment_bytes(file);
                    self.repairs += 1;
                    self.release(file, *lost, fb);
                    self.receive(file, *replacement, fb);
                }
                ResourceDetail::FragmentLost { file, holder, repaired: false } => {
                    let fb = self.fragment_bytes(file);
                    self.dropped += 1;
                    self.release(file, *holder, fb);
                }
                ResourceDetail::FileRetrieved { file, sources } => {
                    self.retrievals += 1;
                    if sources.iter().any(|s| self.phantom.contains(&(file.clone(), s.0))) {
                        self.retrieval_failures += 1;
                    }
                }
                _ => {}
            }
        }
        self.out = out;
        self.out.clear();
    }

    fn prices(&self) -> [f64; 3] {
        self.engine.resources().prices_nano().map(|v| v as f64 / 1e9)
    }

    fn backup(&mut self, day: u32, k: &mut i64, i: usize, bytes: u64, target: f64) {
        let file = format!("{}-f{}", peer(i), self.next_file[i]);
        self.next_file[i] += 1;
        let op = Op::Backup { file: file.clone(), owner: peer(i), bytes, target: amount(target) };
        *k += 1;
        match self.try_apply(at_ms(day, 4 * 3_600_000 + *k), op) {
            Ok(()) => {
                self.own[i].push_back((file, bytes));
                self.stored[i] += bytes;
            }
            Err(e) if e.code() == "invalid_state" && self.frozen(i) => self.failed_frozen += 1,
            Err(_) => self.failed_space += 1,
        }
    }

    fn frozen(&self, i: usize) -> bool {
        self.engine.resources().peer(PeerId(i as u32)).is_some_and(|p| p.standing == Standing::Frozen)
    }

    fn delete_oldest(&mut self, day: u32, k: &mut i64, i: usize) -> anyhow::Result<()> {
        let Some((file, bytes)) = self.own[i].pop_front() else { return Ok(()) };
        let (fb, holders) = match self.engine.resources().fragments().file(&file) {
            Some(r) => (r.fragment_bytes, r.holders.clone()),
            None => return Ok(()),
        };
        *k += 1;
        self.apply(at_ms(day, 4 * 3_600_000 + *k), Op::DeleteFile { file: file.clone() })?;
        for h in holders {
            self.release(&file, h, fb);
        }
        self.stored[i] -= bytes;
        Ok(())
    }

    /// One simulated day.
    #[allow(clippy::too_many_arguments)]
    fn day(
        &mut self,
        p: &Params,
        agents: &[Agent],
        tech: &Technology,
        availability: &[f64],
        leavers: &[bool],
        day: u32,
        d: &DayDraws,
    ) -> anyhow::Result<Row> {
        let shock = day == p.shock_day;
        if shock && self.treatment == "leave" {
            self.departed = leavers.to_vec();
        }
        if shock && self.treatment == "demand2x" {
            self.demand = 2.0;
        }
        // 01:00 the day's measured online fractions.
        let outage = shock && self.treatment == "outage";
        for (i, (a, x)) in availability.iter().zip(&d.online).enumerate() {
            let f = if self.departed[i] || outage { 0.0 } else { (a + 0.3 * (x - 0.5)).clamp(0.0, 1.0) };
            self.apply(
                at_ms(day, 3_600_000 + i as i64),
                Op::ReportOnline { peer: peer(i), fraction: amount(f), online: None },
            )?;
        }
        // 02:00 sliders, when the posted prices changed.
        let posted = self.engine.resources().prices_nano();
        if self.prices_seen != Some(posted) {
            self.prices_seen = Some(posted);
            let prices = self.prices();
            for (i, a) in agents.iter().enumerate() {
                if self.departed[i] {
                    continue;
                }
                // The client never offers less than `floor` of an endowment: a peer that offers
                // none of one resource counts none of the others (the ratio constraints).
                let mut s = a.supply(tech, prices);
                for (x, e) in s.iter_mut().zip(a.endowment) {
                    *x = x.max(p.floor * e);
                }
                let space = if self.liar[i] { s[0] * p.lie_factor } else { s[0] };
                self.true_cap[i] = (s[0] * BYTES_PER_GB) as i64;
                let op = Op::SetSliders {
                    peer: peer(i),
                    space_gb: amount(space),
                    upload_gb: amount(s[1]),
                    download_gb: amount(s[2]),
                };
                self.apply(at_ms(day, 2 * 3_600_000 + i as i64), op)?;
            }
        }
        // 04:00 backups, deletions and retrievals.
        let mut k = 0i64;
        if day >= FIRST_BACKUP_DAY {
            for (i, a) in agents.iter().enumerate() {
                if self.departed[i] {
                    continue;
                }
                let u = a.usage * self.demand * BYTES_PER_GB;
                let first = day == FIRST_BACKUP_DAY + (i % 7) as u32;
                if first || (shock && self.treatment == "demand2x") {
                    let add = ((u - self.stored[i] as f64) / f64::from(p.files)).max(0.0);
                    for _ in 0..p.files {
                        self.backup(day, &mut k, i, add as u64 + 1, p.target);
                    }
                } else if day % 7 == (i % 7) as u32 && !self.own[i].is_empty() {
                    let bytes = (7.0 * a.theta_b * u) as u64 + 1;
                    self.backup(day, &mut k, i, bytes, p.target);
                    while self.stored[i] as f64 > u && self.own[i].len() > 1 {
                        self.delete_oldest(day, &mut k, i)?;
                    }
                }
                let count = self.own[i].len();
                if count > 0 {
                    let mean = self.stored[i] as f64 / count as f64;
                    if d.retrieve[i] < (a.theta_r * u / mean).min(1.0) {
                        let j = ((d.pick[i] * count as f64) as usize).min(count - 1);
                        let file = self.own[i][j].0.clone();
                        k += 1;
                        // Fewer than k holders online: the retrieval is refused (counted below
                        // as an unavailable file).
                        let _ = self.try_apply(at_ms(day, 4 * 3_600_000 + k), Op::RetrieveFile { file });
                    }
                }
            }
        }
        // 22:00 liars whose client reports what it really holds, once a week.
        if self.treatment == "liars_report" {
            let due: Vec<usize> = (0..self.liar.len()).filter(|&i| self.liar[i] && day % 7 == (i % 7) as u32).collect();
            for i in due {
                let id = PeerId(i as u32);
                let files: Vec<String> = self
                    .engine
                    .resources()
                    .fragments_of(id)
                    .map(|(f, _)| f.to_owned())
                    .filter(|f| !self.phantom.contains(&(f.clone(), id.0)))
                    .collect();
                self.apply(at_ms(day, 22 * 3_600_000 + i as i64), Op::ReportFragments { peer: peer(i), files })?;
            }
        }
        // 23:00 the operator's daily job.
        self.apply(at(day, 23), Op::SettleDay {})?;
        self.apply(at_ms(day, 23 * 3_600_000 + 1), Op::UpdatePrices {})?;
        crate::conservation::check_day(&self.engine, day)?;
        self.row(day)
    }

    fn row(&mut self, day: u32) -> anyhow::Result<Row> {
        let r = self.engine.resources();
        let prices = self.prices();
        let e = r.last_imbalance().map_or(f64::NAN, |m| m.max_abs_e());
        self.e.push(e);
        let (mut frozen, mut alert) = (0u32, 0u32);
        let mut balance = 0i64;
        for (id, _, peer) in r.peers() {
            match peer.standing {
                Standing::Frozen => frozen += 1,
                Standing::Alert => alert += 1,
                Standing::Normal => {}
            }
            balance += self.engine.ledger().balance(Account::PeerBalance(id)).0;
        }
        self.frozen_max = self.frozen_max.max(frozen);
        // Files the owner could not get back today (fewer than k online holders that really
        // hold a fragment) and files lost for good (fewer than k real fragments left).
        let (mut unavailable, mut lost, mut files) = (0u32, 0u32, 0u32);
        for (f, rec) in r.fragments().files() {
            files += 1;
            let real = |h: &PeerId| !self.departed[h.index()] && !self.phantom.contains(&(f.to_owned(), h.0));
            let present = rec.holders.iter().filter(|h| real(h)).count();
            let online = rec.holders.iter().filter(|h| real(h) && r.peer(**h).is_some_and(|p| p.online)).count();
            if (online as u32) < rec.k {
                unavailable += 1;
            }
            if (present as u32) < rec.k {
                lost += 1;
            }
        }
        self.unavailable_file_days += u64::from(unavailable);
        let bank = self.engine.ledger().balance(Account::ResourceBank).0 as f64 / 1e6;
        let n = r.peers().count().max(1) as f64;
        Ok(Row {
            day,
            entity: self.treatment.to_owned(),
            values: vec![
                prices[1],
                prices[2],
                e,
                f64::from(frozen),
                f64::from(alert),
                f64::from(files),
                f64::from(self.failed_frozen + self.failed_space),
                f64::from(self.repairs),
                f64::from(self.dropped),
                f64::from(unavailable),
                f64::from(lost),
                f64::from(self.retrieval_failures),
                bank,
                balance as f64 / 1e6 / n,
            ],
        })
    }

    fn balance(&self, i: usize) -> f64 {
        self.engine.ledger().balance(Account::PeerBalance(PeerId(i as u32))).0 as f64 / 1e6
    }
}

/// Simulates one run of every treatment.
pub fn simulate(mut ctx: RunCtx) -> anyhow::Result<RunOutput> {
    let p = params(&ctx.options)?;
    let days = ctx.days;
    let rng = &mut ctx.rng;
    let n = p.peers;
    let agents: Vec<Agent> = (0..n).map(|_| Agent::draw(rng)).collect();
    let availability: Vec<f64> = (0..n).map(|_| rng.gen_range(0.35..1.0)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mark = |share: f64, order: &[usize]| {
        let mut v = vec![false; n];
        for &i in order.iter().take((share * n as f64).round() as usize) {
            v[i] = true;
        }
        v
    };
    let leavers = mark(p.leave_share, &order);
    order.shuffle(rng);
    let liars = mark(p.liar_share, &order);
    let tech = Technology::default();
    let mut worlds: Vec<World> = p.treatments.iter().map(|t| World::new(t, &p, &liars)).collect::<Result<_, _>>()?;
    let mut rows = Vec::with_capacity(days as usize * worlds.len());
    for day in 0..days {
        let mut draw = || (0..n).map(|_| rng.gen::<f64>()).collect::<Vec<f64>>();
        let d = DayDraws { online: draw(), retrieve: draw(), pick: draw() };
        for w in &mut worlds {
            rows.push(w.day(&p, &agents, &tech, &availability, &leavers, day, &d)?);
        }
    }
    let mut metrics = BTreeMap::new();
    let baseline =
        worlds.iter().find(|w| w.treatment == "baseline").map(|w| (0..n).map(|i| w.balance(i)).collect::<Vec<_>>());
    for w in &worlds {
        let t = w.treatment;
        let mut put = |k: &str, v: f64| metrics.insert(format!("{t}.{k}"), v);
        let prices = w.prices();
        put("final_p_u", prices[1]);
        put("final_p_d", prices[2]);
        let last_e = w.e.iter().rev().find(|e| e.is_finite()).copied().unwrap_or(f64::NAN);
        put("final_max_abs_e", last_e);
        // The first day from which max |e| stays at or below 0.05 (days if never).
        let settled = w.e.iter().rposition(|e| !(e.is_finite() && *e <= 0.05)).map_or(0, |d| d + 1);
        put("days_to_5pct", settled as f64);
        let after: Vec<f64> = w.e.iter().skip(p.shock_day as usize + 1).copied().filter(|e| e.is_finite()).collect();
        put("max_abs_e_after_shock", after.iter().copied().fold(f64::NAN, f64::max));
        put("frozen_max", f64::from(w.frozen_max));
        let frozen_end = w.engine.resources().peers().filter(|(_, _, p)| p.standing == Standing::Frozen).count();
        put("frozen_final", frozen_end as f64);
        put("bank_final", w.engine.ledger().balance(Account::ResourceBank).0 as f64 / 1e6);
        // Stored fragment bytes per byte of user data (n / k, weighted by size): what the
        // holders are paid for, against the R of the technology matrix the charges use.
        let (mut held, mut user) = (0i64, 0i64);
        for (_, rec) in w.engine.resources().fragments().files() {
            held += rec.fragment_bytes * rec.holders.len() as i64;
            user += rec.user_bytes();
        }
        put("expansion", if user > 0 { held as f64 / user as f64 } else { f64::NAN });
        put("failed_backups_frozen", f64::from(w.failed_frozen));
        put("failed_backups_space", f64::from(w.failed_space));
        put("repairs", f64::from(w.repairs));
        put("dropped_fragments", f64::from(w.dropped));
        put("unavailable_file_days", w.unavailable_file_days as f64);
        put("lost_files", rows.iter().rev().find(|r| r.entity == t).map_or(f64::NAN, |r| r.values[10]));
        put("retrievals", f64::from(w.retrievals));
        put("retrieval_failures", f64::from(w.retrieval_failures));
        let group_mean = |which: &[bool]| {
            let v: Vec<f64> = (0..n).filter(|&i| which[i]).map(|i| w.balance(i)).collect();
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        if t.starts_with("liars") {
            // What lying earned: the liars' balances here minus the same peers' in the baseline.
            let gain = baseline.as_ref().map_or(f64::NAN, |b| {
                let v: Vec<f64> = (0..n).filter(|&i| liars[i]).map(|i| w.balance(i) - b[i]).collect();
                if v.is_empty() {
                    f64::NAN
                } else {
                    v.iter().sum::<f64>() / v.len() as f64
                }
            });
            put("liar_gain", gain);
            put("phantom_fragments", w.phantom.len() as f64);
        }
        if t == "leave" {
            put("leaver_balance", group_mean(&leavers));
            let stayers: Vec<bool> = leavers.iter().map(|l| !l).collect();
            put("stayer_balance", group_mean(&stayers));
        }
    }
    Ok(RunOutput { rows, metrics })
}

impl Scenario for ResourceMarket {
    fn name(&self) -> &'static str {
        "resource-market"
    }
    fn description(&self) -> &'static str {
        "seed 003 through the engine: CES peers back up, hold and repair files; shocks and misreporting peers"
    }
    fn default_days(&self) -> u32 {
        120
    }
    fn default_runs(&self) -> u32 {
        5
    }
    fn columns(&self) -> Vec<String> {
        COLUMNS.iter().map(|s| (*s).to_owned()).collect()
    }
    fn run(&self, ctx: RunCtx) -> anyhow::Result<RunOutput> {
        simulate(ctx)
    }
    fn plots(&self) -> Vec<PlotSpec> {
        let plot = |stem: &str, title: &str, column: &str, y: &str, log_y: bool| PlotSpec {
            stem: stem.into(),
            title: title.into(),
            column: column.into(),
            y_label: y.into(),
            entities: vec![],
            log_y,
        };
        vec![
            plot("max_abs_e", "Measured max |e_X| (engine's last price update)", "max_abs_e", "max |e|", true),
            plot("p_u", "Posted p_U (credits per GB)", "p_u", "p_U", false),
            plot("p_d", "Posted p_D (credits per GB)", "p_d", "p_D", false),
            plot("frozen", "Frozen accounts", "frozen", "peers", false),
            plot("unavailable_files", "Files with fewer than k online holders", "unavailable_files", "files", false),
            plot("failed_backups", "Backups refused (cumulative)", "failed_backups", "backups", false),
        ]
    }
    fn options_doc(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("peers", "number of peers, 2..=500 (60)"),
            ("treatment", "all (default) or one of baseline, leave, demand2x, outage, liars, liars_report"),
            ("shock_day", "day of the shock (60)"),
            ("leave_share", "share of peers leaving in `leave` (0.2)"),
            ("liar_share", "share of misreporting peers in `liars` (0.2)"),
            ("lie_factor", "a liar's space slider / the space it really offers (2)"),
            ("start_u", "starting p_U in credits per GB (engine default 1)"),
            ("start_d", "starting p_D in credits per GB (engine default 1)"),
            ("epoch", "days prices are held between updates (engine default 7)"),
            ("target", "file availability target of each backup (0.999)"),
            ("files", "files a peer's data is split into (4)"),
            ("floor", "least share of each endowment a peer's sliders offer (0.1)"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::run_rng;

    fn run(days: u32, opts: &[(&str, &str)]) -> RunOutput {
        let options = opts.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        simulate(RunCtx { run: 0, days, rng: run_rng(3, 0), options }).unwrap()
    }

    #[test]
    fn peers_back_up_through_the_engine_and_shocks_show() {
        let days = 40;
        let out = run(days, &[("peers", "30"), ("shock_day", "25"), ("epoch", "1")]);
        assert_eq!(out.rows.len(), days as usize * TREATMENTS.len());
        let last = |t: &str| out.rows.iter().rev().find(|r| r.entity == t).unwrap().values.clone();
        // Files were placed and prices moved from the engine's start of 1.
        assert!(last("baseline")[5] > 30.0, "files {:?}", last("baseline"));
        assert!(last("baseline")[0] != 1.0 || last("baseline")[1] != 1.0);
        // Leaving peers' fragments were repaired away; the leavers keep being charged.
        assert!(out.metrics["leave.repairs"] > out.metrics["baseline.repairs"]);
        assert!(out.metrics["leave.leaver_balance"] < out.metrics["leave.stayer_balance"]);
        // Liars hold fragments they do not have, and lying pays.
        assert!(out.metrics["liars.phantom_fragments"] > 0.0);
        assert!(out.metrics["liars.liar_gain"] > 0.0, "{}", out.metrics["liars.liar_gain"]);
        assert_eq!(out.metrics["baseline.retrieval_failures"], 0.0);
        // Reporting what they really hold lets the engine repair the missing fragments.
        assert!(out.metrics["liars_report.repairs"] > out.metrics["liars.repairs"]);
        assert!(out.metrics["liars_report.phantom_fragments"] < out.metrics["liars.phantom_fragments"]);
        // Demand doubling puts more files in the system.
        assert!(last("demand2x")[5] > last("baseline")[5]);
    }

    #[test]
    fn bad_options_are_refused() {
        let bad = |k: &str, v: &str| {
            let options = [(k.to_owned(), v.to_owned())].into_iter().collect();
            simulate(RunCtx { run: 0, days: 2, rng: run_rng(3, 0), options }).is_err()
        };
        assert!(bad("treatment", "nope"));
        assert!(bad("peers", "1"));
        assert!(bad("start_u", "0"));
        assert!(bad("epoch", "0"));
        assert!(!bad("treatment", "outage"));
    }
}
