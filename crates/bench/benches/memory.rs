//! Memory of the engine: heap bytes per open offer and per position, and whether a book of
//! 10 M open offers fits in 2 GiB.
//!
//! Run: `cargo bench -p peerex-bench --bench memory` (release). `PEEREX_BENCH_OFFERS` sets the
//! number of open offers (default 10,000,000), `PEEREX_BENCH_POSITIONS` the positions
//! (default 1,000,000). A counting global allocator (around mimalloc, the allocator of the
//! engine bench and of `peerex`) measures the live heap the engine asked for; the process's
//! resident set (`VmRSS`, peak `VmHWM` from /proc/self/status) adds the allocator's own
//! overhead and everything else in the process.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use peerex_bench::{issue_name, user_name};
use peerex_engine::exchange::types::OfferKind;
use peerex_engine::exchange::Limits;
use peerex_engine::{Amount, Command, Engine, OfferCommand, Op, Price, Timed, Timestamp};

/// mimalloc, counting the bytes currently allocated and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to mimalloc, which upholds GlobalAlloc's contract;
// the wrapper only adds to and subtracts from counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on as is.
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !p.is_null() {
            Counting::grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for alloc.
        let p = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            Counting::grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr was allocated by this allocator with this layout.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for dealloc and alloc.
        let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            Counting::grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SERIES: usize = 100;
const START: i64 = 1_796_000_000_000;
const MATURATION: i64 = START + 365 * 86_400_000;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// A field of /proc/self/status in bytes (`VmRSS`, `VmHWM`), 0 where there is none.
fn proc_status(field: &str) -> usize {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn apply(engine: &mut Engine, out: &mut Vec<Timed>, at: i64, op: Op) {
    if let Err(e) = engine.apply(Command::new(Timestamp(at), op), out) {
        eprintln!("refused at {at}: {e}");
        std::process::exit(1);
    }
    out.clear();
}

fn offer(id: u64, user: usize, series: usize, kind: OfferKind, bp: u32, volume: u64) -> Op {
    Op::Offer(OfferCommand {
        id: format!("o{id}"),
        user: user_name(user),
        kind,
        issue: issue_name(series),
        maturation: Timestamp(MATURATION),
        price: Price::from_bp(bp).unwrap_or(Price::ZERO),
        volume,
        aon: false,
        poolable: false,
        expiration: None,
    })
}

/// An engine with `users` funded users and the 100 issues; the open-offer limit is raised so
/// that one user may hold `per_user` offers.
fn ready(users: usize, per_user: usize, out: &mut Vec<Timed>) -> Engine {
    let limit = u32::try_from(per_user).unwrap_or(u32::MAX);
    let mut engine = Engine::with_limits(Limits { max_open_offers_per_user: limit });
    for u in 0..users {
        apply(&mut engine, out, START, Op::Deposit { user: user_name(u), amount: Amount::credits(100_000_000) });
    }
    for s in 0..SERIES {
        apply(&mut engine, out, START, Op::OpenIssue { issue: issue_name(s), title: String::new(), labels: vec![] });
    }
    engine
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// `n` resting offers from 10,000 users (at most 1,000 each, the server's default limit) over
/// the 100 series: bids (buy fixed) at 0.30-0.49 and asks (buy unfixed at 0.51-0.70 on the
/// fixed side), so nothing crosses and every offer stays open.
fn open_offers(n: usize) {
    let users = 10_000.min(n.max(1));
    let per_user = n.div_ceil(users);
    let mut out = Vec::with_capacity(64);
    let rss0 = proc_status("VmRSS");
    let mut engine = ready(users, per_user, &mut out);
    let (heap0, rss1) = (live(), proc_status("VmRSS"));
    let started = Instant::now();
    for i in 0..n {
        let (user, series) = (i % users, (i / users) % SERIES);
        let level = (i / (users * SERIES)) as u32 % 190;
        let (kind, bp) = if (i / 7) % 2 == 0 {
            (OfferKind::BuyFixed, 3_000 + level)
        } else {
            (OfferKind::BuyUnfixed, 3_000 + level)
        };
        apply(
            &mut engine,
            &mut out,
            START + 1 + i as i64,
            offer(i as u64, user, series, kind, bp, 1 + (i % 100) as u64),
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let (heap, rss) = (live(), proc_status("VmRSS"));
    let open = engine.exchange().all_offers().filter(|(_, o)| o.remaining > 0).count();
    if open != n {
        eprintln!("expected {n} open offers, found {open}");
        std::process::exit(1);
    }
    let per = (heap - heap0) as f64 / n as f64;
    println!("open offers: {n} from {users} users on {SERIES} series, placed in {secs:.1} s");
    println!(
        "  engine heap: {:.1} MiB before the offers, {:.1} MiB after: {per:.1} bytes per open offer",
        mib(heap0),
        mib(heap)
    );
    println!(
        "  process RSS: {:.1} MiB at start, {:.1} MiB with the users, {:.1} MiB with the offers: {:.1} bytes per open offer",
        mib(rss0),
        mib(rss1),
        mib(rss),
        (rss.saturating_sub(rss1)) as f64 / n as f64
    );
    println!(
        "  peak heap {:.1} MiB, peak RSS {:.1} MiB: {} 2 GiB",
        mib(PEAK.load(Ordering::Relaxed)),
        mib(proc_status("VmHWM")),
        if (proc_status("VmHWM") as f64) < 2.0 * GIB { "within" } else { "ABOVE" }
    );
    black_box(&engine);
}

/// `users` x 100 positions: a market maker rests one large ask on every series, and every user
/// buys one unit on every series (a new position each, and the maker's one per series). Then
/// every user buys once more on every series: a trade on a position that exists. The difference
/// of the two is the position itself; the rest is the taker offer's record and the trade.
fn positions(n: usize) {
    let users = n.div_ceil(SERIES).max(1);
    let maker = users;
    let mut out = Vec::with_capacity(64);
    let mut engine = ready(users + 1, SERIES, &mut out);
    let mut at = START + 1;
    let mut id = 0u64;
    for s in 0..SERIES {
        // Buy unfixed at 0.50: an ask at 0.50 on the fixed price, large enough for every buy.
        apply(&mut engine, &mut out, at, offer(id, maker, s, OfferKind::BuyUnfixed, 5_000, 4 * users as u64));
        (at, id) = (at + 1, id + 1);
    }
    let mut round = |engine: &mut Engine| {
        let before = live();
        for u in 0..users {
            for s in 0..SERIES {
                apply(engine, &mut out, at, offer(id, u, s, OfferKind::BuyFixed, 5_000, 1));
                (at, id) = (at + 1, id + 1);
            }
        }
        live() - before
    };
    let first = round(&mut engine);
    let again = round(&mut engine);
    let trades = users * SERIES;
    let held = engine.exchange().all_positions().len();
    if let Err(v) = engine.check_invariants() {
        eprintln!("invariant violated: {v}");
        std::process::exit(1);
    }
    let (first_per, again_per) = (first as f64 / trades as f64, again as f64 / trades as f64);
    println!("positions: {held} ({users} users x {SERIES} series, and the maker's {SERIES})");
    println!("  a fill that opens a position: {first_per:.1} bytes (the position, the filled offer, the trade)");
    println!("  a fill on a position that exists: {again_per:.1} bytes (the filled offer, the trade)");
    println!("  so one position: {:.1} bytes", first_per - again_per);
    black_box(&engine);
}

fn main() {
    let offers = env_usize("PEEREX_BENCH_OFFERS", 10_000_000);
    let positions_n = env_usize("PEEREX_BENCH_POSITIONS", 1_000_000);
    if std::env::args().any(|a| a == "--positions-only") {
        positions(positions_n);
        return;
    }
    // The offers first, on a fresh process, so that the peak RSS is theirs.
    open_offers(offers);
    positions(positions_n);
}
