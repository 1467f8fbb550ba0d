//! The resource market's state inside the engine: peers, sliders, availability, files and
//! fragments, posted prices, the daily settlement and the price update. Every credit moves
//! through the engine's ledger (`Account::ResourceBank` <-> `Account::PeerBalance`).

use serde::Serialize;

use super::allocation::{choose, Candidate};
use super::availability::{effective_space, Availability};
use super::bank::{self, atto, max_deficit, next_standing, DayAmounts, Standing, ATTO_PER_MICRO};
use super::capacity::{capacity, capacity_price, pie_chart, PieChart, ServiceProfile, PROFILE_DAYS};
use super::events::ResourceDetail;
use super::fragments::{Fragments, Meter};
use super::matrix::{TechnologyPpm, NANO_PER_CREDIT, PPM, RES_D, RES_S, RES_U};
use super::price_update::{from_nano, to_nano, EpochUpdater, Imbalance, Previous, Safeguards};
use super::supply::{ratio_limits, slider_view, SliderView, DEFAULT_SLACK};
use crate::error::{EngineError, EngineResult};
use crate::event::Event;
use crate::exchange::Ctx;
use crate::ids::{Names, PeerId};
use crate::ledger::{Account, Ledger};
use crate::money::Amount;

/// Bytes per GB (decimal, as disks and the seed count).
pub const BYTES_PER_GB: i64 = 1_000_000_000;
/// Largest erasure-coding n the server accepts for one file.
pub const MAX_N: u32 = 256;
/// Largest k `backup` tries (design: more fragments than this cost more metadata and repair
/// traffic than the replication factor saves).
pub const MAX_K: u32 = 16;
/// Largest file `backup` accepts, bytes (1 TB).
pub const MAX_FILE_BYTES: u64 = 1_000 * BYTES_PER_GB as u64;
/// Days of aggregate demand averaged for the ratio limits and the price update.
pub const DEMAND_DAYS: usize = 30;
/// Default epoch length (days prices are held).
pub const DEFAULT_EPOCH_DAYS: u32 = 7;

/// One peer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Peer {
    pub availability: Availability,
    /// Slider caps: raw space (bytes), upload and download (bytes per day).
    pub caps: [i64; 3],
    pub online: bool,
    pub standing: Standing,
    /// Sub-micro remainder carried to the next settlement, atto-credits in [0, 1e12).
    pub carry_atto: i64,
    /// Bills of the last 7 settled days (newest last).
    pub bills: Vec<Amount>,
    /// Service bytes (backup, stored byte-days, retrieved) of the last 30 settled days.
    pub history: Vec<[i64; 3]>,
}

impl Peer {
    pub fn max_deficit(&self) -> Amount {
        max_deficit(&self.bills)
    }
    fn profile(&self) -> ServiceProfile {
        let days: Vec<[f64; 3]> = self.history.iter().map(|d| d.map(|v| v as f64)).collect();
        ServiceProfile::estimate(&days)
    }
}

/// The market.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResourceMarket {
    names: Names,
    peers: Vec<Peer>,
    files: Fragments,
    tech: TechnologyPpm,
    slack: f64,
    /// p in nano-credits per GB (S per GB-day); p_S fixed at 1 credit.
    prices: [i64; 3],
    /// q = A^T p, nano-credits per GB of user data (S per GB-day).
    service_prices: [i64; 3],
    updater: EpochUpdater,
    /// Aggregate service bytes (backup, stored byte-days, retrieved) of each of the last
    /// (up to 30) settled days, newest last: the demand the ratio limits and the price update
    /// see is their mean, so that one day's burst of backups does not swing prices.
    demand_days: Vec<[i64; 3]>,
    last_imbalance: Option<Imbalance>,
    days_settled: u32,
}

// The updater keeps f64 observations, but only valid (finite) ones are ever stored, never NaN,
// so `==` on them is reflexive and equality is a true equivalence.
impl Eq for ResourceMarket {}

impl Default for ResourceMarket {
    fn default() -> Self {
        let tech = TechnologyPpm::default();
        let prices = [NANO_PER_CREDIT; 3];
        let service_prices = tech.service_prices(prices).unwrap_or(prices);
        ResourceMarket {
            names: Names::default(),
            peers: Vec::new(),
            files: Fragments::default(),
            tech,
            slack: DEFAULT_SLACK,
            prices,
            service_prices,
            updater: EpochUpdater::new(DEFAULT_EPOCH_DAYS, Safeguards::default()),
            demand_days: Vec::new(),
            last_imbalance: None,
            days_settled: 0,
        }
    }
}

/// What a peer sees: capacity and the pie chart, its sliders with their thick regions.
/// Prices and balance only in the operator's debug view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeerView {
    pub peer: String,
    pub availability: f64,
    pub test_target: bool,
    pub standing: Standing,
    pub pie: PieChart,
    /// Sliders in GB (space) and GB per day (bandwidth).
    pub sliders: SliderView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<PeerDebug>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeerDebug {
    pub balance: Amount,
    pub max_deficit: Amount,
    pub capacity_price: f64,
    pub prices: [f64; 3],
}

/// The operator's view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperatorView {
    pub prices: [f64; 3],
    pub prices_nano: [i64; 3],
    pub service_prices_nano: [i64; 3],
    pub imbalance_e: Option<[f64; 2]>,
    pub bank_balance: Amount,
    pub balances: Vec<(String, Amount, Standing)>,
    pub frozen: Vec<String>,
    pub days_settled: u32,
    pub epoch_days: u32,
    pub files: usize,
}

fn gb(bytes: i64) -> f64 {
    bytes as f64 / BYTES_PER_GB as f64
}

fn gb_to_bytes(a: Amount, what: &str) -> EngineResult<i64> {
    // Amount has 6 decimals: micro-GB = 1,000 bytes.
    if a.is_negative() {
        return Err(EngineError::InvalidArgument(format!("{what} must not be negative")));
    }
    a.0.checked_mul(1_000).ok_or_else(|| EngineError::InvalidArgument(format!("{what} is too large")))
}

impl ResourceMarket {
    pub fn peer_id(&self, name: &str) -> Option<PeerId> {
        self.names.get(name).map(PeerId)
    }
    pub fn peer_name(&self, id: PeerId) -> &str {
        self.names.name(id.0)
    }
    pub fn peer(&self, id: PeerId) -> Option<&Peer> {
        self.peers.get(id.index())
    }
    pub fn peers(&self) -> impl Iterator<Item = (PeerId, &str, &Peer)> {
        self.names.iter().zip(self.peers.iter()).map(|((i, n), p)| (PeerId(i), n, p))
    }
    pub fn fragments(&self) -> &Fragments {
        &self.files
    }
    pub fn prices_nano(&self) -> [i64; 3] {
        self.prices
    }
    pub fn service_prices_nano(&self) -> [i64; 3] {
        self.service_prices
    }
    pub fn technology(&self) -> TechnologyPpm {
        self.tech
    }
    pub fn epoch_days(&self) -> u32 {
        self.updater.epoch_days
    }
    pub fn last_imbalance(&self) -> Option<Imbalance> {
        self.last_imbalance
    }

    fn known(&self, name: &str) -> EngineResult<PeerId> {
        self.peer_id(name).ok_or_else(|| EngineError::UnknownUser(format!("no peer {name:?}")))
    }

    fn peer_mut(&mut self, id: PeerId) -> EngineResult<&mut Peer> {
        self.peers.get_mut(id.index()).ok_or_else(|| EngineError::Internal(format!("peer {} has no state", id.0)))
    }

    fn emit(ctx: &mut Ctx, peer: Option<PeerId>, detail: ResourceDetail) {
        ctx.emit(Event::Resource { peer, detail: Box::new(detail) });
    }

    // ----- operations -----

    pub(crate) fn register(&mut self, ctx: &mut Ctx, name: &str) -> EngineResult<()> {
        if name.is_empty() || name.len() > crate::validate::MAX_NAME_LEN {
            return Err(EngineError::InvalidArgument("a peer name has 1 to 200 characters".into()));
        }
        if self.names.get(name).is_some() {
            return Err(EngineError::DuplicateId(format!("peer {name:?} is already registered")));
        }
        let (id, _) = self.names.intern(name);
        self.peers.push(Peer::default());
        Self::emit(ctx, Some(PeerId(id)), ResourceDetail::PeerRegistered);
        Ok(())
    }

    pub(crate) fn report_online(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        fraction: Amount,
        online: Option<bool>,
    ) -> EngineResult<()> {
        let id = self.known(name)?;
        if !(0..=PPM).contains(&fraction.0) {
            return Err(EngineError::InvalidArgument(format!("an online fraction lies in [0, 1], not {fraction}")));
        }
        let online = online.unwrap_or(fraction.0 > 0);
        let p = self.peer_mut(id)?;
        p.availability.observe(fraction.0);
        p.online = online;
        let availability_ppm = p.availability.ppm;
        Self::emit(ctx, Some(id), ResourceDetail::OnlineReported { availability_ppm, online });
        if !online && fraction.0 == 0 {
            self.repair_away_from(ctx, id);
        }
        Ok(())
    }

    pub(crate) fn set_sliders(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        space_gb: Amount,
        upload_gb: Amount,
        download_gb: Amount,
    ) -> EngineResult<()> {
        let id = self.known(name)?;
        let caps =
            [gb_to_bytes(space_gb, "space")?, gb_to_bytes(upload_gb, "upload")?, gb_to_bytes(download_gb, "download")?];
        self.peer_mut(id)?.caps = caps;
        Self::emit(
            ctx,
            Some(id),
            ResourceDetail::SlidersSet { space_bytes: caps[0], upload_bytes: caps[1], download_bytes: caps[2] },
        );
        Ok(())
    }

    /// The ratio limits from the last day's aggregate resource demand.
    fn ratios(&self) -> [[f64; 3]; 3] {
        let d = self.aggregate_demand();
        ratio_limits(d, self.slack)
    }

    /// Effective GB per raw GB of this peer's space: a / (R x mean holder availability).
    fn effective_factor(&self, peer: &Peer, mean_a: i64) -> f64 {
        let denom = self.tech.r as f64 * mean_a as f64;
        if denom > 0.0 {
            peer.availability.ppm as f64 * PPM as f64 / denom
        } else {
            0.0
        }
    }

    /// A peer's sliders under the ratio constraints. The constraints compare *effective* space
    /// with bandwidth (demand d_S is in GB-days of user data), so space is converted to
    /// effective GB, constrained, and converted back to raw GB for the slider page.
    /// Returns the raw-unit view and the counted supply in effective units.
    fn sliders_of(&self, peer: &Peer, r: &[[f64; 3]; 3], mean_a: i64) -> (SliderView, [f64; 3]) {
        let f = self.effective_factor(peer, mean_a);
        let raw = peer.caps.map(gb);
        let eff_caps = [raw[RES_S] * f, raw[RES_U], raw[RES_D]];
        let mut view = slider_view(eff_caps, r);
        let counted_eff = view.counted;
        view.caps = raw;
        if f > 0.0 {
            view.counted[RES_S] /= f;
            view.thick_end[RES_S] = view.thick_end[RES_S].map(|e| e / f);
        } else {
            view.counted[RES_S] = 0.0;
            view.thick_end[RES_S] = None;
        }
        (view, counted_eff)
    }

    /// Raw space a peer's sliders let count (bytes).
    fn counted_space_bytes(&self, peer: &Peer, r: &[[f64; 3]; 3], mean_a: i64) -> i64 {
        let (view, _) = self.sliders_of(peer, r, mean_a);
        (view.counted[RES_S] * BYTES_PER_GB as f64) as i64
    }

    fn balance(ledger: &Ledger, id: PeerId) -> Amount {
        ledger.balance(Account::PeerBalance(id))
    }

    pub(crate) fn backup_file(
        &mut self,
        ctx: &mut Ctx,
        file: &str,
        owner: &str,
        k: u32,
        n: u32,
        fragment_bytes: u64,
    ) -> EngineResult<()> {
        let owner_id = self.known(owner)?;
        if file.is_empty() || file.len() > crate::validate::MAX_NAME_LEN {
            return Err(EngineError::InvalidArgument("a file name has 1 to 200 characters".into()));
        }
        if k == 0 || n < k || n > MAX_N {
            return Err(EngineError::InvalidArgument(format!("need 1 <= k <= n <= {MAX_N}, not k = {k}, n = {n}")));
        }
        let fb = i64::try_from(fragment_bytes)
            .ok()
            .filter(|b| *b > 0 && *b <= 1_000 * BYTES_PER_GB)
            .ok_or_else(|| EngineError::InvalidArgument("fragment_bytes must lie in [1, 1e12]".into()))?;
        if self.files.file(file).is_some() {
            return Err(EngineError::DuplicateId(format!("file {file:?} is already backed up")));
        }
        let owner_peer = self.peer(owner_id).ok_or_else(|| EngineError::Internal("owner has no state".into()))?;
        if owner_peer.standing == Standing::Frozen {
            return Err(EngineError::InvalidState(format!(
                "{owner}'s account is frozen: no new backups until the balance is above -0.9 x the maximum deficit"
            )));
        }
        let r = self.ratios();
        let mean_a = self.mean_holder_availability();
        let candidates: Vec<Candidate> = self
            .peers()
            .filter(|(id, _, p)| {
                *id != owner_id
                    && p.online
                    && p.availability.gets_storage_work()
                    && self.files.held_bytes(*id).saturating_add(fb) <= self.counted_space_bytes(p, &r, mean_a)
            })
            .map(|(id, _, _)| Candidate { peer: id, balance: Self::balance(ctx.ledger, id) })
            .collect();
        let holders = choose(candidates, n as usize)?;
        self.files.place(file, owner_id, k, fb, holders.clone())?;
        Self::emit(
            ctx,
            Some(owner_id),
            ResourceDetail::FilePlaced { file: file.to_owned(), k, fragment_bytes: fb, holders },
        );
        Ok(())
    }

    /// Peers that may take a fragment of `fb` bytes: online, out of the test period, available
    /// enough, with spare counted space, not `owner` and not in `exclude`; in allocation order
    /// (balance ascending, then peer id).
    fn eligible(&self, ledger: &Ledger, owner: PeerId, fb: i64, exclude: &[PeerId]) -> Vec<Candidate> {
        let r = self.ratios();
        let mean_a = self.mean_holder_availability();
        let mut c: Vec<Candidate> = self
            .peers()
            .filter(|(id, _, p)| {
                *id != owner
                    && !exclude.contains(id)
                    && p.online
                    && p.availability.gets_storage_work()
                    && self.files.held_bytes(*id).saturating_add(fb) <= self.counted_space_bytes(p, &r, mean_a)
            })
            .map(|(id, _, _)| Candidate { peer: id, balance: Self::balance(ledger, id) })
            .collect();
        c.sort_by_key(|x| (x.balance, x.peer));
        c
    }

    /// The placement `backup` chooses for a file of `bytes` bytes and an availability target:
    /// for each k in 1..=MAX_K, the fragment size ceil(bytes / k), the eligible peers in
    /// allocation order and the smallest n whose first n holders reach the target
    /// (Poisson-binomial tail of their availabilities); the (k, n) storing the fewest bytes
    /// (n x fragment) wins, ties to the smaller n. `None` when no k reaches the target.
    pub fn plan_backup(
        &self,
        ledger: &Ledger,
        owner: PeerId,
        bytes: u64,
        target: f64,
    ) -> Option<(u32, i64, Vec<PeerId>)> {
        let mut best: Option<(i128, u32, u32, i64, Vec<PeerId>)> = None;
        for k in 1..=MAX_K {
            let fb = i64::try_from(bytes.div_ceil(u64::from(k))).ok()?;
            let cands = self.eligible(ledger, owner, fb, &[]);
            if cands.len() < k as usize {
                continue;
            }
            let avail: Vec<f64> =
                cands.iter().map(|c| self.peer(c.peer).map_or(0.0, |p| p.availability.as_f64())).collect();
            let Some(n) = super::erasure::min_n_heterogeneous(&avail, k, target) else { continue };
            if n > MAX_N {
                continue;
            }
            let total = i128::from(n) * i128::from(fb);
            if best.as_ref().is_none_or(|b| (total, n) < (b.0, b.2)) {
                let holders = cands.iter().take(n as usize).map(|c| c.peer).collect();
                best = Some((total, k, n, fb, holders));
            }
        }
        best.map(|(_, k, _, fb, holders)| (k, fb, holders))
    }

    /// Backs up a file for a reliability target: the engine picks (k, n) and the holders.
    pub(crate) fn backup(
        &mut self,
        ctx: &mut Ctx,
        file: &str,
        owner: &str,
        bytes: u64,
        target: Amount,
    ) -> EngineResult<()> {
        let owner_id = self.known(owner)?;
        if file.is_empty() || file.len() > crate::validate::MAX_NAME_LEN {
            return Err(EngineError::InvalidArgument("a file name has 1 to 200 characters".into()));
        }
        if bytes == 0 || bytes > MAX_FILE_BYTES {
            return Err(EngineError::InvalidArgument(format!("a file has 1 to {MAX_FILE_BYTES} bytes, not {bytes}")));
        }
        if !(1..PPM).contains(&target.0) {
            return Err(EngineError::InvalidArgument(format!(
                "the target file availability lies in (0, 1), e.g. 0.99999, not {target}"
            )));
        }
        if self.files.file(file).is_some() {
            return Err(EngineError::DuplicateId(format!("file {file:?} is already backed up")));
        }
        if self.peer(owner_id).is_some_and(|p| p.standing == Standing::Frozen) {
            return Err(EngineError::InvalidState(format!(
                "{owner}'s account is frozen: no new backups until the balance is above -0.9 x the maximum deficit"
            )));
        }
        let target_f = target.0 as f64 / PPM as f64;
        let (k, fb, holders) = self.plan_backup(ctx.ledger, owner_id, bytes, target_f).ok_or_else(|| {
            let eligible = self.eligible(ctx.ledger, owner_id, 1, &[]).len();
            EngineError::InvalidState(format!(
                "no placement reaches {target} availability: {eligible} peers are eligible (online, past the 14-day test period, with spare space)"
            ))
        })?;
        self.files.place(file, owner_id, k, fb, holders.clone())?;
        Self::emit(
            ctx,
            Some(owner_id),
            ResourceDetail::FilePlaced { file: file.to_owned(), k, fragment_bytes: fb, holders },
        );
        Ok(())
    }

    /// A peer's report of the files whose fragment it holds. Every listed file must have a
    /// fragment on the peer (else the report is refused and changes nothing); each fragment
    /// the server placed on it but not listed is lost: repaired onto another peer from k
    /// online holders when possible, else dropped (the file keeps its other fragments).
    pub(crate) fn report_fragments(&mut self, ctx: &mut Ctx, name: &str, files: &[String]) -> EngineResult<()> {
        let id = self.known(name)?;
        if files.len() > 100_000 {
            return Err(EngineError::LimitExceeded("at most 100000 files per report".into()));
        }
        for f in files {
            let holds = self.files.file(f).is_some_and(|r| r.holders.contains(&id));
            if !holds {
                return Err(EngineError::InvalidArgument(format!("{name} holds no fragment of {f:?}")));
            }
        }
        let listed: std::collections::BTreeSet<&str> = files.iter().map(String::as_str).collect();
        let lost: Vec<String> = self
            .files
            .files()
            .filter(|(f, r)| r.holders.contains(&id) && !listed.contains(f))
            .map(|(f, _)| f.to_owned())
            .collect();
        for f in &lost {
            let repaired = self.repair_file(ctx, f, name).is_ok();
            if !repaired {
                self.files.drop_fragment(f, id)?;
            }
            let owner = self.files.file(f).map(|r| r.owner);
            Self::emit(ctx, owner, ResourceDetail::FragmentLost { file: f.clone(), holder: id, repaired });
        }
        Self::emit(
            ctx,
            Some(id),
            ResourceDetail::FragmentsReported { held: listed.len() as u32, lost: lost.len() as u32 },
        );
        Ok(())
    }

    /// A peer that reports a whole day offline triggers the repair of every fragment it
    /// holds; a fragment no other peer can take yet stays where it is (the peer may return).
    fn repair_away_from(&mut self, ctx: &mut Ctx, id: PeerId) {
        let name = self.peer_name(id).to_owned();
        let held: Vec<String> =
            self.files.files().filter(|(_, r)| r.holders.contains(&id)).map(|(f, _)| f.to_owned()).collect();
        for f in held {
            if self.repair_file(ctx, &f, &name).is_ok() {
                let owner = self.files.file(&f).map(|r| r.owner);
                Self::emit(ctx, owner, ResourceDetail::FragmentLost { file: f, holder: id, repaired: true });
            }
        }
    }

    /// The files a peer holds a fragment of: (file, record).
    pub fn fragments_of(&self, id: PeerId) -> impl Iterator<Item = (&str, &super::fragments::FileRecord)> {
        self.files.files().filter(move |(_, r)| r.holders.contains(&id))
    }

    /// k online holders (excluding `except`), lowest balance first.
    fn sources(&self, ledger: &Ledger, file: &str, except: Option<PeerId>) -> EngineResult<Vec<PeerId>> {
        let rec = self.files.file(file).ok_or_else(|| EngineError::InvalidArgument(format!("no file {file:?}")))?;
        let candidates: Vec<Candidate> = rec
            .holders
            .iter()
            .filter(|h| Some(**h) != except && self.peer(**h).is_some_and(|p| p.online))
            .map(|h| Candidate { peer: *h, balance: Self::balance(ledger, *h) })
            .collect();
        choose(candidates, rec.k as usize)
            .map_err(|_| EngineError::InvalidState(format!("fewer than k = {} holders of {file:?} are online", rec.k)))
    }

    /// Retrieval is always allowed, even for a frozen account.
    pub(crate) fn retrieve_file(&mut self, ctx: &mut Ctx, file: &str) -> EngineResult<()> {
        let sources = self.sources(ctx.ledger, file, None)?;
        let owner = self.files.file(file).map(|f| f.owner);
        self.files.retrieve(file, &sources)?;
        Self::emit(ctx, owner, ResourceDetail::FileRetrieved { file: file.to_owned(), sources });
        Ok(())
    }

    /// Repair continues whatever the owner's standing.
    pub(crate) fn repair_file(&mut self, ctx: &mut Ctx, file: &str, lost: &str) -> EngineResult<()> {
        let lost_id = self.known(lost)?;
        let rec = self.files.file(file).ok_or_else(|| EngineError::InvalidArgument(format!("no file {file:?}")))?;
        if !rec.holders.contains(&lost_id) {
            return Err(EngineError::InvalidArgument(format!("{lost} holds no fragment of {file:?}")));
        }
        let (owner, fb, holders) = (rec.owner, rec.fragment_bytes, rec.holders.clone());
        let sources = self.sources(ctx.ledger, file, Some(lost_id))?;
        let r = self.ratios();
        let mean_a = self.mean_holder_availability();
        let candidates: Vec<Candidate> = self
            .peers()
            .filter(|(id, _, p)| {
                *id != owner
                    && !holders.contains(id)
                    && p.online
                    && p.availability.gets_storage_work()
                    && self.files.held_bytes(*id).saturating_add(fb) <= self.counted_space_bytes(p, &r, mean_a)
            })
            .map(|(id, _, _)| Candidate { peer: id, balance: Self::balance(ctx.ledger, id) })
            .collect();
        let replacement =
            choose(candidates, 1)?.first().copied().ok_or_else(|| EngineError::Internal("empty".into()))?;
        self.files.repair(file, lost_id, replacement, &sources)?;
        Self::emit(
            ctx,
            Some(owner),
            ResourceDetail::FileRepaired { file: file.to_owned(), lost: lost_id, replacement, sources },
        );
        Ok(())
    }

    pub(crate) fn delete_file(&mut self, ctx: &mut Ctx, file: &str) -> EngineResult<()> {
        let rec = self.files.delete(file)?;
        Self::emit(ctx, Some(rec.owner), ResourceDetail::FileDeleted { file: file.to_owned() });
        Ok(())
    }

    /// Mean availability (ppm) of the peers holding fragments; of all peers if none does.
    fn mean_holder_availability(&self) -> i64 {
        let holders: Vec<i64> = self
            .peers()
            .filter(|(id, _, _)| self.files.held_bytes(*id) > 0)
            .map(|(_, _, p)| p.availability.ppm)
            .collect();
        let pool: Vec<i64> =
            if holders.is_empty() { self.peers.iter().map(|p| p.availability.ppm).collect() } else { holders };
        if pool.is_empty() {
            return 0;
        }
        pool.iter().sum::<i64>() / pool.len() as i64
    }

    /// The daily settlement: every peer is paid for the resources it supplied and charged for
    /// the services it consumed at the posted prices, through the ledger. Computed for every
    /// peer first, then applied, so a refusal (overflow) changes nothing.
    pub(crate) fn settle_day(&mut self, ctx: &mut Ctx) -> EngineResult<()> {
        let meters = self.files.take_meters();
        let result = self.settle_with(ctx, &meters);
        if result.is_err() {
            self.files.restore_meters(meters);
        }
        result
    }

    fn settle_with(&mut self, ctx: &mut Ctx, meters: &[Meter]) -> EngineResult<()> {
        let mean_a = self.mean_holder_availability();
        let (p, q) = (self.prices, self.service_prices);
        let mut plan = Vec::with_capacity(self.peers.len());
        let mut services_total = [0i64; 3];
        for (id, _, peer) in self.peers() {
            let m = meters.get(id.index()).copied().unwrap_or_default();
            let held = self.files.held_bytes(id);
            let stored = self.files.owned_bytes(id);
            let eff = effective_space(held, peer.availability.ppm, self.tech.r, mean_a).unwrap_or(0);
            let earned = atto(eff, p[RES_S]) + atto(m.uploaded, p[RES_U]) + atto(m.downloaded, p[RES_D]);
            let charged = atto(m.backed_up, q[0]) + atto(stored, q[1]) + atto(m.retrieved, q[2]);
            let services = [m.backed_up, stored, m.retrieved];
            for (t, s) in services_total.iter_mut().zip(services) {
                *t = t.saturating_add(s);
            }
            plan.push((id, DayAmounts { earned_atto: earned, charged_atto: charged }, services));
        }
        // Dry run on a copy of the ledger so that nothing moves unless every peer settles.
        let mut trial = ctx.ledger.clone();
        for (id, day, _) in &plan {
            let carry = self.peer(*id).map_or(0, |p| p.carry_atto);
            bank::settle(&mut trial, *id, *day, carry)?;
        }
        let day_no = self.days_settled + 1;
        for (id, day, services) in plan {
            let carry = self.peer(id).map_or(0, |p| p.carry_atto);
            let s = bank::settle(ctx.ledger, id, day, carry)?;
            let balance = Self::balance(ctx.ledger, id);
            let peer = self.peer_mut(id)?;
            peer.carry_atto = s.carry_atto;
            peer.bills.push(s.bill);
            if peer.bills.len() > bank::BILL_WINDOW {
                peer.bills.remove(0);
            }
            peer.history.push(services);
            if peer.history.len() > PROFILE_DAYS {
                peer.history.remove(0);
            }
            let b_max = peer.max_deficit();
            let from = peer.standing;
            let to = next_standing(from, balance, b_max);
            peer.standing = to;
            if day.earned_atto != 0 || day.charged_atto != 0 || s.net.0 != 0 {
                Self::emit(ctx, Some(id), ResourceDetail::Settled { day: day_no, net: s.net, bill: s.bill, balance });
            }
            if from != to {
                Self::emit(ctx, Some(id), ResourceDetail::StandingChanged { from, to, max_deficit: b_max });
            }
        }
        self.demand_days.push(services_total);
        if self.demand_days.len() > DEMAND_DAYS {
            self.demand_days.remove(0);
        }
        self.days_settled = day_no;
        Ok(())
    }

    /// Aggregate counted maximum supply in GB: effective space, upload and download caps.
    pub fn aggregate_supply(&self) -> [f64; 3] {
        let r = self.ratios();
        let mean_a = self.mean_holder_availability();
        let mut total = [0.0; 3];
        for p in &self.peers {
            let (_, c) = self.sliders_of(p, &r, mean_a);
            for x in 0..3 {
                total[x] += c[x];
            }
        }
        total
    }

    /// Aggregate resource demand A d, GB per day: the mean of the last (up to 30) settled days.
    pub fn aggregate_demand(&self) -> [f64; 3] {
        let n = self.demand_days.len().max(1) as f64;
        let mut mean = [0.0; 3];
        for d in &self.demand_days {
            for j in 0..3 {
                mean[j] += gb(d[j]) / n;
            }
        }
        self.tech.to_f64().resource_demand(mean)
    }

    /// The scheduled price update: at the end of each epoch, one safeguarded step from the
    /// observed supply and demand; inside an epoch, prices are held.
    pub(crate) fn update_prices(&mut self, ctx: &mut Ctx) -> EngineResult<()> {
        let p = self.prices.map(from_nano);
        let (supply, demand) = (self.aggregate_supply(), self.aggregate_demand());
        let mut updater = self.updater.clone();
        match updater.end_of_day(p, supply, demand) {
            None => {
                let detail =
                    ResourceDetail::PricesHeld { day_in_epoch: updater.day_in_epoch, epoch_days: updater.epoch_days };
                self.updater = updater;
                Self::emit(ctx, None, detail);
            }
            Some(u) => {
                let sg = updater.inner.safeguards;
                let prices = [NANO_PER_CREDIT, to_nano(u.prices[RES_U], &sg), to_nano(u.prices[RES_D], &sg)];
                let q = self
                    .tech
                    .service_prices(prices)
                    .ok_or_else(|| EngineError::Overflow("service prices are too large".into()))?;
                self.prices = prices;
                self.service_prices = q;
                self.updater = updater;
                self.last_imbalance = u.imbalance;
                Self::emit(
                    ctx,
                    None,
                    ResourceDetail::PricesUpdated {
                        p_u_nano: prices[RES_U],
                        p_d_nano: prices[RES_D],
                        rules: [u.steps[0].rule, u.steps[1].rule],
                        e: u.imbalance.map(|m| m.e),
                    },
                );
            }
        }
        Ok(())
    }

    /// Operator: set start prices (also forgets the secant history, which belonged to other
    /// prices) and optionally the epoch length.
    pub(crate) fn set_prices(&mut self, ctx: &mut Ctx, p_u_nano: i64, p_d_nano: i64) -> EngineResult<()> {
        let lo = NANO_PER_CREDIT / 1_000;
        let hi = NANO_PER_CREDIT * 1_000;
        for v in [p_u_nano, p_d_nano] {
            if !(lo..=hi).contains(&v) {
                return Err(EngineError::InvalidPrice("resource prices lie in [0.001, 1000] credits per GB".into()));
            }
        }
        let prices = [NANO_PER_CREDIT, p_u_nano, p_d_nano];
        let q = self.tech.service_prices(prices).ok_or_else(|| EngineError::Overflow("service prices".into()))?;
        self.prices = prices;
        self.service_prices = q;
        self.updater.inner.previous = [Previous::None; 2];
        Self::emit(ctx, None, ResourceDetail::PricesSet { p_u_nano, p_d_nano });
        Ok(())
    }

    pub(crate) fn configure(&mut self, ctx: &mut Ctx, epoch_days: u32) -> EngineResult<()> {
        if !(1..=365).contains(&epoch_days) {
            return Err(EngineError::InvalidArgument("epoch_days lies in [1, 365]".into()));
        }
        self.updater.epoch_days = epoch_days;
        self.updater.day_in_epoch = 0;
        Self::emit(ctx, None, ResourceDetail::Configured { epoch_days });
        Ok(())
    }

    // ----- views -----

    /// What the peer's settings page shows (Figure 1). `debug` adds prices and balance.
    pub fn peer_view(&self, ledger: &Ledger, name: &str, debug: bool) -> EngineResult<PeerView> {
        let id = self.known(name)?;
        let peer = self.peer(id).ok_or_else(|| EngineError::Internal("peer has no state".into()))?;
        self.view_of(ledger, id, name, peer, debug)
    }

    /// The same view for slider positions the peer is trying out (GB, GB/day) without setting
    /// them: what the page shows while a slider is being dragged (the pie chart and the other
    /// sliders' thick lines move with it). Nothing changes.
    pub fn peer_preview(&self, ledger: &Ledger, name: &str, caps_gb: [Amount; 3]) -> EngineResult<PeerView> {
        let id = self.known(name)?;
        let peer = self.peer(id).ok_or_else(|| EngineError::Internal("peer has no state".into()))?;
        let mut trial = peer.clone();
        trial.caps = [
            gb_to_bytes(caps_gb[0], "space")?,
            gb_to_bytes(caps_gb[1], "upload")?,
            gb_to_bytes(caps_gb[2], "download")?,
        ];
        self.view_of(ledger, id, name, &trial, false)
    }

    fn view_of(&self, ledger: &Ledger, id: PeerId, name: &str, peer: &Peer, debug: bool) -> EngineResult<PeerView> {
        let r = self.ratios();
        let p = self.prices.map(from_nano);
        let q = self.service_prices.map(from_nano);
        let q_cap = capacity_price(q, peer.profile());
        let mean_a = self.mean_holder_availability();
        // Space counts as effective space in the income; the sliders show raw GB.
        let (sliders, counted) = self.sliders_of(peer, &r, mean_a);
        let cap = capacity(counted, p, q_cap);
        let pie = pie_chart(cap, gb(self.files.owned_bytes(id)));
        let debug = debug.then(|| PeerDebug {
            balance: Self::balance(ledger, id),
            max_deficit: peer.max_deficit(),
            capacity_price: q_cap,
            prices: p,
        });
        Ok(PeerView {
            peer: name.to_owned(),
            availability: peer.availability.as_f64(),
            test_target: peer.availability.is_test_target(),
            standing: peer.standing,
            pie,
            sliders,
            debug,
        })
    }

    pub fn operator_view(&self, ledger: &Ledger) -> OperatorView {
        let balances: Vec<(String, Amount, Standing)> =
            self.peers().map(|(id, n, p)| (n.to_owned(), Self::balance(ledger, id), p.standing)).collect();
        let frozen = balances.iter().filter(|b| b.2 == Standing::Frozen).map(|b| b.0.clone()).collect();
        OperatorView {
            prices: self.prices.map(from_nano),
            prices_nano: self.prices,
            service_prices_nano: self.service_prices,
            imbalance_e: self.last_imbalance.map(|m| m.e),
            bank_balance: ledger.balance(Account::ResourceBank),
            balances,
            frozen,
            days_settled: self.days_settled,
            epoch_days: self.updater.epoch_days,
            files: self.files.files().count(),
        }
    }

    /// The state for `engine.summary()`.
    pub fn summary(&self, ledger: &Ledger) -> serde_json::Value {
        let mut peers = serde_json::Map::new();
        for (id, name, p) in self.peers() {
            let view = self.peer_view(ledger, name, false).ok();
            peers.insert(
                name.to_owned(),
                serde_json::json!({
                    "balance": Self::balance(ledger, id),
                    "standing": p.standing,
                    "availability_ppm": p.availability.ppm,
                    "held_bytes": self.files.held_bytes(id),
                    "stored_bytes": self.files.owned_bytes(id),
                    "capacity_gb": view.as_ref().map(|v| v.pie.capacity_gb),
                    "available_gb": view.as_ref().map(|v| v.pie.available_gb),
                }),
            );
        }
        let op = self.operator_view(ledger);
        serde_json::json!({
            "prices_nano": op.prices_nano,
            "service_prices_nano": op.service_prices_nano,
            "imbalance_e": op.imbalance_e,
            "bank_balance": op.bank_balance,
            "frozen": op.frozen,
            "days_settled": op.days_settled,
            "files": op.files,
            "peers": peers,
        })
    }

    /// Invariants: peer balances and the bank sum to zero; carries are sub-micro; standings
    /// agree with balances; posted q = A^T p; prices in range; fragment bookkeeping adds up.
    pub(crate) fn check(&self, ledger: &Ledger) -> Result<(), String> {
        let mut sum = ledger.balance(Account::ResourceBank).0 as i128;
        for (id, name, p) in self.peers() {
            let b = Self::balance(ledger, id);
            sum += b.0 as i128;
            if !(0..ATTO_PER_MICRO).contains(&(p.carry_atto as i128)) {
                return Err(format!("peer {name}: carry {} outside [0, 1e12)", p.carry_atto));
            }
            let m = p.max_deficit();
            if b.0 <= -m.0 && p.standing != Standing::Frozen {
                return Err(format!("peer {name}: balance {b} at or below -{m} but not frozen"));
            }
            if p.standing == Standing::Normal && 2 * (b.0 as i128) <= -(m.0 as i128) {
                return Err(format!("peer {name}: balance {b} past the alert level but normal"));
            }
        }
        if sum != 0 {
            return Err(format!("resource bank and peer balances sum to {sum} micro-credits, not 0"));
        }
        for (a, acc) in ledger.balances() {
            if let Account::PeerBalance(id) = a {
                if self.peer(id).is_none() {
                    return Err(format!("balance {acc} of unknown peer {}", id.0));
                }
            }
        }
        if self.prices[RES_S] != NANO_PER_CREDIT {
            return Err("p_S is not the numeraire 1".into());
        }
        if self.prices.iter().any(|v| !(NANO_PER_CREDIT / 1_000..=NANO_PER_CREDIT * 1_000).contains(v)) {
            return Err(format!("prices {:?} outside [1e-3, 1e3]", self.prices));
        }
        if self.tech.service_prices(self.prices) != Some(self.service_prices) {
            return Err("posted service prices are not A^T p".into());
        }
        self.files.check()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::event::Timed;
    use crate::resources::price_update::imbalance;
    use crate::time::Timestamp;

    /// A market, its ledger and the events it emitted.
    #[derive(Default)]
    struct World {
        m: ResourceMarket,
        ledger: Ledger,
        out: Vec<Timed>,
    }

    impl World {
        fn with<R>(&mut self, f: impl FnOnce(&mut ResourceMarket, &mut Ctx) -> R) -> R {
            let mut ctx = Ctx { ledger: &mut self.ledger, out: &mut self.out, now: Timestamp::from_millis(0) };
            f(&mut self.m, &mut ctx)
        }

        /// Registers a peer with sliders (GB, GB/day) and an availability observed for `days` days.
        fn peer(&mut self, name: &str, caps_gb: [i64; 3], online_ppm: i64, days: u32) -> PeerId {
            self.with(|m, ctx| {
                m.register(ctx, name).unwrap();
                let [s, u, d] = caps_gb.map(|g| Amount(g * 1_000_000));
                m.set_sliders(ctx, name, s, u, d).unwrap();
                for _ in 0..days {
                    m.report_online(ctx, name, Amount(online_ppm), None).unwrap();
                }
            });
            self.m.peer_id(name).unwrap()
        }

        /// A typical peer: 100 GB of space, 50 GB/day each way, online 80% of 14 days.
        fn typical(&mut self, name: &str) -> PeerId {
            self.peer(name, [100, 50, 50], 800_000, 14)
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn aggregate_supply_weights_each_peers_space_by_its_availability() {
        let mut w = World::default();
        w.peer("a", [90, 5, 1], 800_000, 1);
        w.peer("b", [90, 10, 2], 400_000, 1);
        // No demand yet, so no ratio constraint: every slider counts in full. Space counts as
        // effective space raw x a_i / (R x mean a) with R = 3 and mean a = 0.6:
        // 90 x 0.8 / 1.8 + 90 x 0.4 / 1.8 = 40 + 20 GB.
        let s = w.m.aggregate_supply();
        assert!(close(s[RES_S], 60.0) && s[RES_U] == 15.0 && s[RES_D] == 3.0, "{s:?}");
    }

    #[test]
    fn the_mean_availability_is_over_the_holders_once_there_are_some() {
        let mut w = World::default();
        w.peer("o", [100, 50, 50], 200_000, 14);
        w.peer("a", [100, 50, 50], 900_000, 14);
        w.peer("b", [100, 50, 50], 300_000, 14);
        assert_eq!(w.m.mean_holder_availability(), (200_000 + 900_000 + 300_000) / 3, "no holder yet: all peers");
        // One fragment, on a (the lowest balance, then the lowest id among o's candidates).
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 1, 1_000)).unwrap();
        assert_eq!(w.m.mean_holder_availability(), 900_000, "the holders only");
    }

    #[test]
    fn a_file_larger_than_any_peers_space_is_spread_over_all_of_them() {
        // 100 GB over three always-online peers with 40 GB each: k = 1 or 2 fits nobody, k = 3
        // (33.4 GB fragments) fits exactly the three, n = k = 3.
        let mut w = World::default();
        w.peer("o", [100, 50, 50], 1_000_000, 14);
        for p in ["a", "b", "c"] {
            w.peer(p, [40, 50, 50], 1_000_000, 14);
        }
        let plan = w.m.plan_backup(&w.ledger, PeerId(0), 100 * BYTES_PER_GB as u64, 0.99999).unwrap();
        assert_eq!(plan, (3, 33_333_333_334, vec![PeerId(1), PeerId(2), PeerId(3)]));
    }

    #[test]
    fn the_operator_reads_the_epoch_the_technology_and_the_last_imbalance() {
        let mut w = World::default();
        assert_eq!(w.m.epoch_days(), DEFAULT_EPOCH_DAYS);
        assert_eq!(w.m.technology(), TechnologyPpm::default());
        let other = TechnologyPpm { r: 2 * PPM, ..TechnologyPpm::default() };
        w.m.tech = other;
        assert_eq!(w.m.technology(), other, "a restored snapshot's technology");
        w.m.tech = TechnologyPpm::default();
        w.with(|m, ctx| m.configure(ctx, 1)).unwrap();
        assert_eq!(w.m.epoch_days(), 1);
        w.typical("o");
        w.typical("a");
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 1, 1_000_000_000)).unwrap();
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        assert_eq!(w.m.last_imbalance(), None, "no update yet");
        let want = imbalance(w.m.aggregate_supply(), w.m.aggregate_demand());
        assert!(want.is_some());
        w.with(|m, ctx| m.update_prices(ctx)).unwrap();
        assert_eq!(w.m.last_imbalance(), want, "the observation of the one-day epoch");
    }

    #[test]
    fn a_plan_stores_the_fewest_bytes() {
        // Four peers at 0.9, 99%: k = 1 needs n = 2 (0.1^2 = 1%), k = 2 needs n = 4; both store
        // 2 GB for a 1 GB file, and the tie goes to fewer fragments: k = 1, n = 2.
        let mut w = World::default();
        w.typical("o");
        for i in 0..4 {
            w.peer(&format!("p{i}"), [100, 50, 50], 900_000, 14);
        }
        let (k, fb, holders) = w.m.plan_backup(&w.ledger, PeerId(0), BYTES_PER_GB as u64, 0.99).unwrap();
        assert_eq!((k, fb, holders.len()), (1, 1_000_000_000, 2));
    }

    #[test]
    fn a_plan_never_spreads_a_file_over_more_than_max_n_peers() {
        // 280 peers at the lowest availability that gets storage work (0.17) and a target of
        // 1 - 1e-8: k = 16 would need n = 273 (the fewest bytes, 17.1 x the file) but n is at
        // most 256, so the plan is the best within that, k = 14 and n = 254 (18.1 x).
        let mut w = World::default();
        w.typical("o");
        for i in 0..280 {
            w.peer(&format!("p{i}"), [100, 50, 50], 170_000, 14);
        }
        let (k, fb, holders) = w.m.plan_backup(&w.ledger, PeerId(0), BYTES_PER_GB as u64, 0.999_999_99).unwrap();
        assert_eq!((k, fb, holders.len()), (14, 71_428_572, 254));
        // A target where k = 14 needs exactly n = 256: allowed (k = 13 would need 246, 18.9 x).
        let (k, _, holders) = w.m.plan_backup(&w.ledger, PeerId(0), BYTES_PER_GB as u64, 0.999_999_992_631_4).unwrap();
        assert_eq!((k, holders.len()), (14, 256));
    }

    #[test]
    fn only_a_whole_day_offline_moves_a_peers_fragments_away() {
        let mut w = World::default();
        w.typical("o");
        let a = w.typical("a");
        w.typical("b");
        w.typical("c");
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 2, 1_000)).unwrap();
        let holders = w.m.fragments().file("f").unwrap().holders.clone();
        assert!(holders.contains(&a));
        // Offline now but online half the day, or online now after a day at 0: a may be back,
        // its fragment stays.
        w.with(|m, ctx| m.report_online(ctx, "a", Amount(500_000), Some(false))).unwrap();
        w.with(|m, ctx| m.report_online(ctx, "a", Amount(0), Some(true))).unwrap();
        assert_eq!(w.m.fragments().file("f").unwrap().holders, holders);
        // A whole day offline: the fragment is repaired onto c.
        w.with(|m, ctx| m.report_online(ctx, "a", Amount(0), None)).unwrap();
        assert!(!w.m.fragments().file("f").unwrap().holders.contains(&a));
    }

    #[test]
    fn a_fragment_report_concerns_only_the_files_the_peer_holds() {
        let mut w = World::default();
        w.typical("o");
        for p in ["a", "b", "c"] {
            w.typical(p);
        }
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 1, 1_000)).unwrap();
        w.with(|m, ctx| m.backup_file(ctx, "g", "o", 1, 2, 1_000)).unwrap();
        let holder = |w: &World, f: &str| w.m.fragments().file(f).unwrap().holders.clone();
        let (f_on, g_on) = (holder(&w, "f"), holder(&w, "g"));
        assert_eq!((f_on.clone(), g_on.clone()), (vec![PeerId(1)], vec![PeerId(1), PeerId(2)]));
        // b reports g, the one file it holds: nothing is lost, and f (held by a only) is none of
        // its business.
        w.out.clear();
        w.with(|m, ctx| m.report_fragments(ctx, "b", &["g".to_owned()])).unwrap();
        assert_eq!((holder(&w, "f"), holder(&w, "g")), (f_on, g_on));
        assert!(!w.out.iter().any(|t| matches!(&t.event, Event::Resource { detail, .. }
            if matches!(**detail, ResourceDetail::FragmentLost { .. }))));
        let held_by_b: Vec<&str> = w.m.fragments_of(PeerId(2)).map(|(f, _)| f).collect();
        assert_eq!(held_by_b, vec!["g"]);
    }

    #[test]
    fn a_fragment_report_may_list_100000_files_and_no_more() {
        let mut w = World::default();
        w.typical("a");
        // 100,000 names are read (and refused for naming files a does not hold); one more is
        // refused unread.
        let names = vec!["x".to_owned(); 100_000];
        let e = w.with(|m, ctx| m.report_fragments(ctx, "a", &names)).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        let names = vec!["x".to_owned(); 100_001];
        let e = w.with(|m, ctx| m.report_fragments(ctx, "a", &names)).unwrap_err();
        assert_eq!(e.code(), "limit_exceeded");
    }

    #[test]
    fn no_space_counts_while_the_mean_availability_is_zero() {
        // One peer online 1 ppm of one day, two never seen: the mean availability is 1/3 ppm,
        // 0 in whole ppm. Space is then worth nothing (rather than a / 0 = infinitely much).
        let mut w = World::default();
        w.peer("a", [100, 50, 50], 1, 1);
        w.peer("b", [100, 50, 50], 0, 0);
        w.peer("c", [100, 50, 50], 0, 0);
        assert_eq!(w.m.mean_holder_availability(), 0);
        assert_eq!(w.m.aggregate_supply(), [0.0, 150.0, 150.0]);
        let v = w.m.peer_view(&w.ledger, "a", false).unwrap();
        assert_eq!(v.sliders.counted[RES_S], 0.0);
    }

    #[test]
    fn a_holder_is_paid_for_the_space_it_holds_and_the_bytes_it_uploads_and_downloads() {
        let mut w = World::default();
        w.typical("o");
        let a = w.typical("a");
        let b = w.typical("b");
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 2, 1_000_000_000)).unwrap();
        // One source (k = 1), the lowest balance then the lowest id: a uploads the fragment.
        w.with(|m, ctx| m.retrieve_file(ctx, "f")).unwrap();
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        // At p = (1, 1, 1) credit per GB: effective space 1 GB x 0.8 / (3 x 0.8) = 1/3 GB-day
        // (333,333,333 bytes), 1 GB downloaded by each holder, 1 GB uploaded by a.
        assert_eq!(w.ledger.balance(Account::PeerBalance(a)), Amount(2_333_333));
        assert_eq!(w.ledger.balance(Account::PeerBalance(b)), Amount(1_333_333));
        // The owner pays for 1 GB backed up at q_B = R p_D = 3, 1 GB-day stored at
        // q_S = 1 + 0.021 + 0.007 and 1 GB retrieved at q_R = p_U = 1.
        assert_eq!(w.ledger.balance(Account::PeerBalance(PeerId(0))), Amount(-5_028_000));
        // That day is the owner's service profile (1 GB backed up and 1 retrieved per GB
        // stored), so a GB of backup space costs it 1.028 + 3 + 1 a day.
        let debug = w.m.peer_view(&w.ledger, "o", true).unwrap().debug.unwrap();
        assert!(close(debug.capacity_price, 5.028), "{debug:?}");
        assert_eq!(debug.balance, Amount(-5_028_000));
    }

    #[test]
    fn a_settlement_reports_the_peers_whose_money_moved_and_only_real_standing_changes() {
        let mut w = World::default();
        w.typical("o");
        w.typical("a");
        let idle = w.typical("idle");
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 1, 1_000_000_000)).unwrap();
        w.out.clear();
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        let details: Vec<(Option<PeerId>, ResourceDetail)> = w
            .out
            .iter()
            .filter_map(|t| match &t.event {
                Event::Resource { peer, detail } => Some((*peer, (**detail).clone())),
                _ => None,
            })
            .collect();
        // The owner paid and the holder earned; the idle peer had nothing to settle.
        let settled: Vec<Option<PeerId>> =
            details.iter().filter(|(_, d)| matches!(d, ResourceDetail::Settled { .. })).map(|(p, _)| *p).collect();
        assert_eq!(settled, vec![Some(PeerId(0)), Some(PeerId(1))]);
        assert!(!settled.contains(&Some(idle)));
        // Everybody is still in normal standing: no standing event.
        assert!(!details.iter().any(|(_, d)| matches!(d, ResourceDetail::StandingChanged { .. })), "{details:?}");
    }

    #[test]
    fn a_day_of_sub_micro_credit_amounts_is_still_reported_as_settled() {
        let mut w = World::default();
        w.typical("o");
        let a = w.typical("a");
        // A 100-byte file: a earns 0.13 micro-credits on day 1 (100 bytes downloaded, 33 bytes
        // of effective space), the owner pays 0.3 for the backup (1 micro, rounded down, with
        // 0.7 carried), and on day 2 its 0.1 of storage is covered by that carry.
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 1, 100)).unwrap();
        let settled = |w: &World| -> Vec<(PeerId, Amount)> {
            w.out
                .iter()
                .filter_map(|t| match &t.event {
                    Event::Resource { peer: Some(p), detail } => match **detail {
                        ResourceDetail::Settled { net, .. } => Some((*p, net)),
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        };
        w.out.clear();
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        assert_eq!(settled(&w), vec![(PeerId(0), Amount(-1)), (a, Amount(0))]);
        w.out.clear();
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        assert_eq!(settled(&w), vec![(PeerId(0), Amount(0)), (a, Amount(0))]);
    }

    #[test]
    fn a_refused_settlement_keeps_the_days_meters_for_the_next_try() {
        let mut w = World::default();
        w.typical("o");
        let a = w.typical("a");
        w.typical("b");
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 2, 1_000_000_000)).unwrap();
        let ids: Vec<PeerId> = w.m.peers().map(|(id, _, _)| id).collect();
        let meters = |w: &World| ids.iter().map(|id| w.m.fragments().meter(*id)).collect::<Vec<_>>();
        let meters_before = meters(&w);
        assert_eq!(w.m.fragments().meter(a).downloaded, 1_000_000_000);
        // a's balance is at the top of the range: paying a for its download would overflow it,
        // so the whole day is refused and nothing moves.
        let top = Amount(i64::MAX);
        w.ledger.transfer(Account::ResourceBank, Account::PeerBalance(a), top).unwrap();
        let ledger_before = w.ledger.clone();
        let err = w.with(|m, ctx| m.settle_day(ctx)).unwrap_err();
        assert_eq!(err.code(), "overflow");
        assert_eq!(w.ledger, ledger_before);
        assert_eq!(meters(&w), meters_before, "the day's meters are kept");
        assert_eq!(w.m.days_settled, 0);
        // Once the balance is back in range the same day settles and pays the download.
        w.ledger.transfer(Account::PeerBalance(a), Account::ResourceBank, top).unwrap();
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        assert_eq!(w.m.days_settled, 1);
        assert!(w.ledger.balance(Account::PeerBalance(a)) > Amount(1_000_000), "1 GB downloaded at p_D = 1, and space");
        assert_eq!(w.m.fragments().meter(a), Meter::default());
    }

    #[test]
    fn a_file_is_refused_as_a_bad_argument_only_past_the_largest_n_and_size() {
        let mut w = World::default();
        w.typical("o");
        for p in ["a", "b", "c"] {
            w.peer(p, [2_000, 50, 50], 800_000, 14);
        }
        // n = MAX_N is a valid request (three peers cannot take 256 fragments, a state the
        // network may grow out of); n = MAX_N + 1 never is.
        let e = w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, MAX_N, 1_000)).unwrap_err();
        assert_eq!(e.code(), "invalid_state");
        let e = w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, MAX_N + 1, 1_000)).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        // A file of exactly MAX_FILE_BYTES (1 TB) is placed; one byte more is refused.
        let target = Amount(990_000);
        let e = w.with(|m, ctx| m.backup(ctx, "big", "o", MAX_FILE_BYTES + 1, target)).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        w.with(|m, ctx| m.backup(ctx, "big", "o", MAX_FILE_BYTES, target)).unwrap();
        let rec = w.m.fragments().file("big").unwrap();
        assert!(rec.user_bytes() >= MAX_FILE_BYTES as i64, "{rec:?}");
        // File names: 200 bytes is the longest (both ways of backing up), 201 is refused.
        let (long, too_long) = ("f".repeat(200), "f".repeat(201));
        let e = w.with(|m, ctx| m.backup_file(ctx, &too_long, "o", 1, 1, 1_000)).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        let e = w.with(|m, ctx| m.backup(ctx, &too_long, "o", 1_000, target)).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        w.with(|m, ctx| m.backup_file(ctx, &long, "o", 1, 1, 1_000)).unwrap();
        w.with(|m, ctx| m.backup(ctx, &"g".repeat(200), "o", 1_000, target)).unwrap();
    }

    #[test]
    fn demand_is_the_mean_of_the_last_30_settled_days() {
        let mut w = World::default();
        w.typical("o");
        w.typical("a");
        // Day 1: 1 GB backed up (service B) and stored; then storage only.
        w.with(|m, ctx| m.backup_file(ctx, "f", "o", 1, 1, 1_000_000_000)).unwrap();
        let backups = |w: &World| w.m.demand_days.iter().map(|d| d[0]).sum::<i64>();
        for _ in 0..30 {
            w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        }
        assert_eq!((w.m.demand_days.len(), backups(&w)), (30, 1_000_000_000), "day 1 is one of the last 30");
        // The backup is 1/30 of a GB a day of the mean: q_B's resources are R x D = 3 GB of
        // download per GB backed up, so d_D = 3 / 30 plus storage's 0.007 x 1 GB.
        let d = w.m.aggregate_demand();
        assert!(close(d[RES_D], 0.1 + 0.007), "{d:?}");
        w.with(|m, ctx| m.settle_day(ctx)).unwrap();
        assert_eq!((w.m.demand_days.len(), backups(&w)), (30, 0), "day 31: day 1 has left the window");
        assert!(close(w.m.aggregate_demand()[RES_D], 0.007));
        // The owner's bills (for B_max) cover the last 7 days, its service history 30.
        let o = w.m.peer(PeerId(0)).unwrap();
        assert_eq!((o.bills.len(), o.history.len()), (bank::BILL_WINDOW, PROFILE_DAYS));
        assert_eq!(o.history[0], [0, 1_000_000_000, 0], "day 2: storage only");
    }

    #[test]
    fn the_invariant_check_reports_a_price_outside_the_range() {
        let mut w = World::default();
        w.peer("a", [100, 50, 50], 800_000, 1);
        w.m.check(&w.ledger).unwrap();
        // 0.000999999 credit per GB of upload, just under the floor of 0.001.
        w.m.prices[RES_U] = NANO_PER_CREDIT / 1_000 - 1;
        w.m.service_prices = w.m.tech.service_prices(w.m.prices).unwrap();
        assert!(w.m.check(&w.ledger).unwrap_err().contains("outside [1e-3, 1e3]"));
        w.m.prices[RES_U] = NANO_PER_CREDIT / 1_000;
        w.m.service_prices = w.m.tech.service_prices(w.m.prices).unwrap();
        w.m.check(&w.ledger).unwrap();
        // A balance of -60 credits is past the alert level (-0.5 x B_max = -50) of a peer still
        // in normal standing.
        let a = w.m.peer_id("a").unwrap();
        w.ledger.transfer(Account::PeerBalance(a), Account::ResourceBank, Amount::credits(60)).unwrap();
        assert!(w.m.check(&w.ledger).unwrap_err().contains("past the alert level but normal"));
        w.m.peers[a.index()].standing = Standing::Alert;
        w.m.check(&w.ledger).unwrap();
    }
}
