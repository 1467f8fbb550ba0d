//! Engine throughput and latency on the seeded stream, with full ledger accounting,
//! and the same stream fed to orderbook-rs (an established order-book crate, no accounting)
//! and to a bare book of our own (`peerex_bench::bare`: flat price levels, no accounting, the
//! speed-of-light reference).
//!
//! Run: `cargo bench -p peerex-bench --bench engine` (release). Prints ops/s, latency
//! percentiles and the ratios. Set `PEEREX_BENCH_OPS` to change the stream length.

use std::hint::black_box;

// The engine allocates for names and book levels; the driver picks the allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use orderbook_rs::{Id, OrderBook, Side, TimeInForce};
use peerex_bench::bare::BareBooks;
use peerex_bench::{commands, setup, stream, Step, SERIES};
use peerex_engine::{Command, Engine};

/// CPU time consumed by this thread, in seconds: unlike wall-clock time it does not count the
/// time other processes on a shared machine held the core.
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into a valid, exclusively borrowed location.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn engine_ready() -> Engine {
    let mut engine = Engine::with_limits(peerex_engine::exchange::Limits { max_open_offers_per_user: 1_000_000 });
    let mut out = Vec::new();
    for c in setup() {
        if let Err(e) = engine.apply(c, &mut out) {
            eprintln!("setup failed: {e}");
            std::process::exit(1);
        }
    }
    engine
}

/// Applies the stream; returns (wall seconds, CPU seconds, refused, events, per-op nanoseconds
/// when `timed`).
fn run_engine(cmds: Vec<Command>, timed: bool) -> (f64, f64, usize, usize, Vec<u32>) {
    let mut engine = engine_ready();
    let mut out = Vec::with_capacity(64);
    let mut refused = 0;
    let mut events = 0;
    let mut lat = Vec::with_capacity(if timed { cmds.len() } else { 0 });
    let start = Instant::now();
    let cpu0 = thread_cpu_seconds();
    for c in cmds {
        let t0 = if timed { Some(Instant::now()) } else { None };
        if engine.apply(c, &mut out).is_err() {
            refused += 1;
        }
        if let Some(t0) = t0 {
            lat.push(t0.elapsed().as_nanos().min(u32::MAX as u128) as u32);
        }
        events += out.len();
        out.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds() - cpu0;
    if let Err(v) = engine.check_invariants() {
        eprintln!("invariant violated after the benchmark: {v}");
        std::process::exit(1);
    }
    black_box(&engine);
    (secs, cpu, refused, events, lat)
}

/// Returns (wall seconds, CPU seconds).
fn run_orderbook_rs(steps: &[Step]) -> (f64, f64) {
    let books: Vec<OrderBook<()>> = (0..SERIES).map(|s| OrderBook::new(&format!("S{s}"))).collect();
    let mut series_of = vec![0usize; steps.len()];
    let start = Instant::now();
    let cpu0 = thread_cpu_seconds();
    for s in steps {
        match s {
            Step::Place { id, series, bid, bp, volume, .. } => {
                series_of[*id as usize] = *series;
                let side = if *bid { Side::Buy } else { Side::Sell };
                let _ = black_box(books[*series].add_limit_order(
                    Id::from_u64(*id),
                    *bp as u128,
                    *volume,
                    side,
                    TimeInForce::Gtc,
                    None,
                ));
            }
            Step::Cancel { id, .. } => {
                let _ = black_box(books[series_of[*id as usize]].cancel_order(Id::from_u64(*id)));
            }
        }
    }
    (start.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu0)
}

/// Returns (wall seconds, CPU seconds, units traded, fills).
fn run_bare(steps: &[Step]) -> (f64, f64, u64, u64) {
    let mut books = BareBooks::new(SERIES, steps.len());
    let start = Instant::now();
    let cpu0 = thread_cpu_seconds();
    for s in steps {
        books.apply(s);
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds() - cpu0;
    black_box(&books);
    (secs, cpu, books.traded, books.fills)
}

fn pct(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let n: usize = std::env::var("PEEREX_BENCH_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let steps = stream(42, n);
    let places = steps.iter().filter(|s| matches!(s, Step::Place { .. })).count();
    let crossing = steps.iter().filter(|s| matches!(s, Step::Place { crossing: true, .. })).count();
    println!(
        "stream: {n} operations over {SERIES} series and {} users: {} resting, {} cancels, {} crossing",
        peerex_bench::USERS,
        places - crossing,
        n - places,
        crossing
    );

    // Throughput: best of 3 untimed passes (fresh engine each), then one pass timing every op.
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut refused = 0;
    let mut events = 0;
    for _ in 0..3 {
        let (secs, cpu, r, e, _) = run_engine(commands(&steps), false);
        best = best.min(secs);
        best_cpu = best_cpu.min(cpu);
        refused = r;
        events = e;
    }
    let engine_ops = n as f64 / best;
    println!("peerex engine (ledger, holds, positions, events): {:.0} ops/s wall clock ({best:.3} s), {:.0} ops per CPU-second ({best_cpu:.3} s of thread CPU time); {events} events; {refused} refused (cancels of already-filled offers)", engine_ops, n as f64 / best_cpu);
    // The rate falls as the state grows (more open offers, names and positions, touched at
    // random): the same stream's first operations, on a smaller state.
    for prefix in [10_000, 100_000].into_iter().filter(|p| *p < n) {
        let best_prefix = (0..3).map(|_| run_engine(commands(&steps[..prefix]), false).1).fold(f64::MAX, f64::min);
        println!(
            "peerex engine, the first {prefix} operations only: {:.0} ops per CPU-second",
            prefix as f64 / best_prefix
        );
    }
    let (_, _, _, _, mut lat) = run_engine(commands(&steps), true);
    lat.sort_unstable();
    println!(
        "latency per command (ns): p50 {} p90 {} p99 {} p99.9 {} max {}",
        pct(&lat, 0.50),
        pct(&lat, 0.90),
        pct(&lat, 0.99),
        pct(&lat, 0.999),
        lat.last().copied().unwrap_or(0)
    );

    let mut best_ob = f64::MAX;
    let mut best_ob_cpu = f64::MAX;
    for _ in 0..3 {
        let (w, c) = run_orderbook_rs(&steps);
        best_ob = best_ob.min(w);
        best_ob_cpu = best_ob_cpu.min(c);
    }
    let ob_ops = n as f64 / best_ob;
    println!("orderbook-rs 0.15 (same stream as plain bids/asks, no accounting): {:.0} ops/s wall clock ({best_ob:.3} s), {:.0} ops per CPU-second", ob_ops, n as f64 / best_ob_cpu);
    println!(
        "ratio peerex / orderbook-rs: {:.2} (wall clock), {:.2} (CPU time)",
        engine_ops / ob_ops,
        best_ob_cpu / best_cpu
    );

    let mut best_bare = f64::MAX;
    let mut best_bare_cpu = f64::MAX;
    let (mut traded, mut fills) = (0, 0);
    for _ in 0..3 {
        let (w, c, t, f) = run_bare(&steps);
        best_bare = best_bare.min(w);
        best_bare_cpu = best_bare_cpu.min(c);
        (traded, fills) = (t, f);
    }
    let bare_ops = n as f64 / best_bare;
    println!("bare book (flat price levels, no accounting; {fills} fills, {traded} units traded): {:.0} ops/s wall clock ({best_bare:.3} s), {:.0} ops per CPU-second", bare_ops, n as f64 / best_bare_cpu);
    println!(
        "ratio peerex / bare book: {:.3} (wall clock), {:.3} (CPU time); orderbook-rs / bare book: {:.3} (wall clock)",
        engine_ops / bare_ops,
        best_bare_cpu / best_cpu,
        ob_ops / bare_ops
    );
}
