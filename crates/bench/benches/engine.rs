//! Engine throughput and latency on the seeded stream, with full ledger accounting,
//! and the same stream fed to orderbook-rs (an established order-book crate, no accounting)
//! and to a bare book of our own (`peerex_bench::bare`: flat price levels, no accounting, the
//! speed-of-light reference).
//!
//! Run: `cargo bench -p peerex-bench --bench engine` (release). Prints ops/s, latency
//! percentiles and the ratios. Set `PEEREX_BENCH_OPS` to change the stream length, and
//! `PEEREX_BENCH_ONLY=resolved` for one pass of the writer on ids alone (for a profiler).

use std::hint::black_box;

// The engine allocates for names and book levels; the driver picks the allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use orderbook_rs::{Id, OrderBook, Side, TimeInForce};
use peerex_bench::bare::BareBooks;
use peerex_bench::{commands, setup, stream, Step, SERIES};
use peerex_engine::{Command, Engine, Resolved};

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

/// System (kernel) CPU time this thread consumed, in seconds: mostly the page faults of memory
/// the engine touches for the first time, which on a virtual machine can cost far more than
/// the engine's own work (the host backs the guest's memory on first use).
fn thread_system_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value; getrusage writes one into it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage into a valid, exclusively borrowed location.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    if rc != 0 {
        return f64::NAN;
    }
    ru.ru_stime.tv_sec as f64 + ru.ru_stime.tv_usec as f64 * 1e-6
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

/// How a driver hands the engine its commands.
#[derive(Clone, Copy, PartialEq)]
enum Edge {
    /// The names looked up by the driver before the writer (`Engine::resolve`, timed apart, in
    /// batches of `DRIVER_BATCH`), the writer applying ids (`Engine::apply_resolved`): how the
    /// issue asks the hot path to run. Before each command the writer asks for the memory of
    /// the next two (`Engine::prefetch`).
    Resolved,
    /// The same without `Engine::prefetch`: what the hints save.
    ResolvedUnhinted,
    /// The writer looks the names up itself (`Engine::apply`).
    Names,
}

/// What one pass measured.
struct Pass {
    /// Wall-clock and thread CPU seconds of the writer's work.
    secs: f64,
    cpu: f64,
    /// Thread CPU seconds the driver spent resolving names (0 for `Edge::Names`).
    resolve_cpu: f64,
    /// System CPU seconds of the whole pass (the driver's share is negligible): part of `cpu`.
    sys: f64,
    refused: usize,
    events: usize,
    /// Nanoseconds per command, when timed.
    lat: Vec<u32>,
}

/// How many commands a driver resolves at a time, against the engine as it stood before them:
/// a cancel of an offer placed earlier in the same batch keeps the offer's number and the
/// writer looks it up, as when a server's driver reads a copy of the engine a little behind.
const DRIVER_BATCH: usize = 1_000;

/// Applies the stream through `edge` and checks the invariants after.
fn run_engine(cmds: Vec<Command>, edge: Edge, timed: bool) -> Pass {
    let mut engine = engine_ready();
    let mut out = Vec::with_capacity(64);
    let mut pass = Pass { secs: 0.0, cpu: 0.0, resolve_cpu: 0.0, sys: 0.0, refused: 0, events: 0, lat: Vec::new() };
    let sys0 = thread_system_seconds();
    if timed {
        pass.lat.reserve(cmds.len());
    }
    let mut cmds = cmds.into_iter();
    let mut batch: Vec<Command> = Vec::with_capacity(DRIVER_BATCH);
    let mut resolved: Vec<Resolved> = Vec::with_capacity(DRIVER_BATCH);
    loop {
        batch.extend(cmds.by_ref().take(DRIVER_BATCH));
        if batch.is_empty() {
            break;
        }
        if edge != Edge::Names {
            // The driver's side, timed apart: users and issues become their ids, a cancel's
            // offer its id when it is in the engine already, a new offer's `o<n>` its number.
            let cpu0 = thread_cpu_seconds();
            resolved.extend(
                batch
                    .drain(..)
                    .map(|c| engine.resolve(c).unwrap_or_else(|e| panic!("the bench stream is well formed: {e}"))),
            );
            pass.resolve_cpu += thread_cpu_seconds() - cpu0;
        }
        let start = Instant::now();
        let cpu0 = thread_cpu_seconds();
        // A command's latency includes the hints the writer gives before applying it.
        macro_rules! apply_one {
            ($c:expr, $apply:ident, $before:block) => {
                let t0 = if timed { Some(Instant::now()) } else { None };
                $before
                if engine.$apply($c, &mut out).is_err() {
                    pass.refused += 1;
                }
                if let Some(t0) = t0 {
                    pass.lat.push(t0.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                }
                pass.events += out.len();
                out.clear();
            };
        }
        match edge {
            Edge::Resolved | Edge::ResolvedUnhinted => {
                // Applied from the end of the reversed batch, so that the next two commands are
                // its last two: their memory is asked for while this one runs.
                resolved.reverse();
                while let Some(c) = resolved.pop() {
                    apply_one!(c, apply_resolved, {
                        let n = resolved.len();
                        if edge == Edge::Resolved {
                            engine.prefetch(
                                n.checked_sub(1).map(|i| &resolved[i]),
                                n.checked_sub(2).map(|i| &resolved[i]),
                            );
                        }
                    });
                }
            }
            Edge::Names => {
                for c in batch.drain(..) {
                    apply_one!(c, apply, {});
                }
            }
        }
        pass.cpu += thread_cpu_seconds() - cpu0;
        pass.secs += start.elapsed().as_secs_f64();
    }
    pass.sys = thread_system_seconds() - sys0;
    if let Err(v) = engine.check_invariants() {
        eprintln!("invariant violated after the benchmark: {v}");
        std::process::exit(1);
    }
    black_box(&engine);
    pass
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

    // For profilers (callgrind): `PEEREX_BENCH_ONLY=resolved` runs one pass of the writer on
    // ids and stops, so that a count covers `Engine::apply_resolved` on this stream alone.
    if std::env::var("PEEREX_BENCH_ONLY").as_deref() == Ok("resolved") {
        let p = run_engine(commands(&steps), Edge::Resolved, false);
        println!(
            "one pass on ids: {:.0} ops per CPU-second ({:.3} s of it system time); {} events; {} refused",
            n as f64 / p.cpu,
            p.sys,
            p.events,
            p.refused
        );
        return;
    }

    // Throughput: best of 3 untimed passes (fresh engine each) per edge, then one pass timing
    // every op.
    let best_of_3 = |edge: Edge, steps: &[Step]| {
        let passes: Vec<Pass> = (0..3).map(|_| run_engine(commands(steps), edge, false)).collect();
        let secs = passes.iter().map(|p| p.secs).fold(f64::MAX, f64::min);
        let cpu = passes.iter().map(|p| p.cpu).fold(f64::MAX, f64::min);
        let resolve_cpu = passes.iter().map(|p| p.resolve_cpu).fold(f64::MAX, f64::min);
        let sys = passes.iter().map(|p| p.sys).fold(f64::MAX, f64::min);
        let user = passes.iter().map(|p| p.cpu - p.sys).fold(f64::MAX, f64::min);
        (secs, cpu, resolve_cpu, passes[0].refused, passes[0].events, sys, user)
    };
    let (best, best_cpu, resolve_cpu, refused, events, sys, user) = best_of_3(Edge::Resolved, &steps);
    let engine_ops = n as f64 / best;
    println!("peerex engine (ledger, holds, positions, events), names resolved by the driver: {:.0} ops/s wall clock ({best:.3} s), {:.0} ops per CPU-second ({best_cpu:.3} s of thread CPU time); {events} events; {refused} refused (cancels of already-filled offers)", engine_ops, n as f64 / best_cpu);
    println!(
        "  system CPU time (the kernel, mostly page faults of new memory): {sys:.3} s at least; user CPU time alone: {:.0} ops per CPU-second ({user:.3} s)",
        n as f64 / user
    );
    println!(
        "  the driver's name lookups before it (Engine::resolve): {:.0} commands per CPU-second ({resolve_cpu:.3} s)",
        n as f64 / resolve_cpu
    );
    // The same stream, the other ways a writer can take it (the same output lines as before).
    for (edge, how) in [
        (
            Edge::ResolvedUnhinted,
            "names resolved by the driver, without asking for the next commands' memory (Engine::prefetch)",
        ),
        (Edge::Names, "the writer looking the names up itself (Engine::apply)"),
    ] {
        let (secs, cpu, _, edge_refused, edge_events, _, _) = best_of_3(edge, &steps);
        assert_eq!((edge_refused, edge_events), (refused, events), "every edge applies the same stream alike");
        println!(
            "peerex engine, {how}: {:.0} ops/s wall clock ({secs:.3} s), {:.0} ops per CPU-second",
            n as f64 / secs,
            n as f64 / cpu
        );
    }
    // The rate falls as the state grows (more open offers, names and positions, touched at
    // random): the same stream's first operations, on a smaller state.
    for prefix in [10_000, 100_000].into_iter().filter(|p| *p < n) {
        let (_, cpu, _, _, _, _, _) = best_of_3(Edge::Resolved, &steps[..prefix]);
        println!("peerex engine, the first {prefix} operations only: {:.0} ops per CPU-second", prefix as f64 / cpu);
    }
    let mut lat = run_engine(commands(&steps), Edge::Resolved, true).lat;
    lat.sort_unstable();
    println!(
        "latency per command, names resolved by the driver (ns): p50 {} p90 {} p99 {} p99.9 {} max {}",
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
