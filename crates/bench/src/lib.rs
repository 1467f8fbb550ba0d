//! The benchmark stream of the engine issue: a seeded mix over 100 series and 1,000 users,
//! about 70% resting offers, 20% cancels and 10% crossing offers. The same stream can be
//! mapped to plain bids and asks on the fixed price for an order-book crate without accounting.

pub mod bare;

use peerex_engine::exchange::types::OfferKind;
use peerex_engine::{Amount, Command, OfferCommand, Op, Price, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SERIES: usize = 100;
pub const USERS: usize = 1_000;
const START: i64 = 1_796_000_000_000;
const MATURATION: i64 = START + 365 * 86_400_000;

/// One operation of the stream, independent of any engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Place offer `id` (sequential from 0): `bid` is BF at `bp`; otherwise BU at `10_000 - bp`
    /// (an ask at fixed price `bp`). `crossing` marks the aggressive 10%.
    Place { id: u64, user: usize, series: usize, bid: bool, bp: u16, volume: u64, crossing: bool },
    /// Cancel offer `id` (placed earlier by `user`; it may have filled meanwhile).
    Cancel { id: u64, user: usize },
}

/// Generates `n` steps from `seed`.
pub fn stream(seed: u64, n: usize) -> Vec<Step> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut resting: Vec<(u64, usize)> = Vec::new();
    let mut next = 0u64;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let roll: f64 = rng.gen();
        if roll < 0.20 && !resting.is_empty() {
            let i = rng.gen_range(0..resting.len());
            let (id, user) = resting.swap_remove(i);
            out.push(Step::Cancel { id, user });
            continue;
        }
        let crossing = roll >= 0.90;
        let user = rng.gen_range(0..USERS);
        let series = rng.gen_range(0..SERIES);
        let bid = rng.gen_bool(0.5);
        // Resting bids sit at 0.30-0.49, resting asks at 0.51-0.70; crossing offers reach
        // 0.55-0.70 (bids) or 0.30-0.45 (asks) into the other side.
        let bp = match (bid, crossing) {
            (true, false) => rng.gen_range(3_000..4_900),
            (false, false) => rng.gen_range(5_100..7_000),
            (true, true) => rng.gen_range(5_500..7_000),
            (false, true) => rng.gen_range(3_000..4_500),
        };
        let volume = rng.gen_range(1..=100);
        if !crossing {
            resting.push((next, user));
        }
        out.push(Step::Place { id: next, user, series, bid, bp, volume, crossing });
        next += 1;
    }
    out
}

pub fn user_name(u: usize) -> String {
    format!("u{u}")
}
pub fn issue_name(s: usize) -> String {
    format!("bench/repo#{s}")
}

/// Commands that set up the engine: users with ample credits and the 100 issues.
pub fn setup() -> Vec<Command> {
    let at = Timestamp(START);
    let mut v = Vec::new();
    for u in 0..USERS {
        v.push(Command::new(at, Op::Deposit { user: user_name(u), amount: Amount::credits(1_000_000_000) }));
    }
    for s in 0..SERIES {
        v.push(Command::new(at, Op::OpenIssue { issue: issue_name(s), title: String::new(), labels: vec![] }));
    }
    v
}

/// The stream as engine commands (built before timing starts).
pub fn commands(steps: &[Step]) -> Vec<Command> {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = Timestamp(START + 1 + i as i64);
            match s {
                Step::Place { id, user, series, bid, bp, volume, .. } => {
                    let (kind, own) = if *bid {
                        (OfferKind::BuyFixed, *bp as u32)
                    } else {
                        (OfferKind::BuyUnfixed, 10_000 - *bp as u32)
                    };
                    Command::new(
                        at,
                        Op::Offer(OfferCommand {
                            id: format!("o{id}"),
                            user: user_name(*user),
                            kind,
                            issue: issue_name(*series),
                            maturation: Timestamp(MATURATION),
                            price: Price::from_bp(own).unwrap_or(Price::ZERO),
                            volume: *volume,
                            aon: false,
                            poolable: false,
                            expiration: None,
                        }),
                    )
                }
                Step::Cancel { id, user } => {
                    Command::new(at, Op::Cancel { user: user_name(*user), offer: format!("o{id}") })
                }
            }
        })
        .collect()
}
