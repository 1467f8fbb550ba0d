//! Deterministic "random" peers. The engine has no randomness, so each arbiter's peer comes from
//! a SplitMix64 stream whose seed hashes (FNV-1a) the market's name, the seed given at creation
//! and the admitted arbiters in arrival order: their identities, never their reports, so no
//! report can change who anyone's peer is (an arbiter who can compute their peer gains nothing:
//! eq. 7's mu1 and mu0 bound every drawn pair). The seed is recorded in the `arbitration` event,
//! so anyone can re-draw the peers.

use crate::ids::UserId;

/// FNV-1a over the market's identity and the arbiters (in arrival order).
pub fn seed(market: &str, client_seed: u64, arbiters: &[UserId]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(market.as_bytes());
    eat(&[0xff]);
    eat(&client_seed.to_le_bytes());
    for u in arbiters {
        eat(&u.0.to_le_bytes());
    }
    h
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, well mixed, and identical everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0) by rejection, so no value is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// For each of `m` arbiters (m >= 2), the index of a peer j != i drawn uniformly from the others.
/// Works for any m, odd or even (unlike seed 004's pairing, which needed an even count).
pub fn draw(m: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    (0..m)
        .map(|i| {
            if m < 2 {
                return i;
            }
            let r = rng.below(m as u64 - 1) as usize;
            if r >= i {
                r + 1
            } else {
                r
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state whose next output is `out`: SplitMix64's mixer undone step by step (a
    /// xor-shift by k >= 32 is its own inverse; multiplying by an odd constant is undone by its
    /// inverse modulo 2^64, found by Newton's iteration).
    fn state_before(out: u64) -> u64 {
        let inverse = |a: u64| (0..6).fold(a, |x, _| x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x))));
        let unshift = |z: u64, k: u32| (1..64 / k + 1).fold(z, |x, _| z ^ (x >> k));
        let mut z = unshift(out, 31);
        z = unshift(z.wrapping_mul(inverse(0x94d0_49bb_1331_11eb)), 27);
        z = unshift(z.wrapping_mul(inverse(0xbf58_476d_1ce4_e5b9)), 30);
        z.wrapping_sub(0x9e37_79b9_7f4a_7c15)
    }

    /// The rejection zone is exclusive: a draw equal to its bound is thrown away, or 0..n would
    /// get one more chance at `zone % n` than the others.
    #[test]
    fn below_rejects_a_draw_at_the_zones_bound() {
        let n = 3u64;
        let zone = u64::MAX - (u64::MAX % n);
        let seed = state_before(zone);
        let mut probe = SplitMix64(seed);
        assert_eq!(probe.next(), zone, "the inverse is right");
        let after = probe.next();
        assert_eq!(SplitMix64(seed).below(n), after % n, "the bound itself was rejected");
        assert_ne!(zone % n, after % n, "the test tells the two apart");
    }

    #[test]
    fn peers_are_others_and_reproducible() {
        for m in 2..9 {
            let s = seed("m1", 7, &[UserId(1), UserId(2)]);
            let p = draw(m, s);
            assert_eq!(p, draw(m, s));
            assert!(p.iter().enumerate().all(|(i, j)| *j != i && *j < m));
        }
        assert_ne!(seed("m1", 0, &[]), seed("m2", 0, &[]));
        assert_ne!(seed("m1", 0, &[]), seed("m1", 1, &[]));
    }

    #[test]
    fn every_other_arbiter_can_be_drawn() {
        let mut seen = [false; 5];
        for s in 0..200 {
            seen[draw(5, s)[0]] = true;
        }
        assert_eq!(seen, [false, true, true, true, true]);
    }

    #[test]
    fn splitmix64_gives_the_reference_sequence() {
        // The published sequence from state 0 (Steele, Lea, Flood; Vigna's splitmix64.c).
        let mut g = SplitMix64(0);
        assert_eq!(
            [g.next(), g.next(), g.next()],
            [0xe220_a839_7b1d_cdaf, 0x6e78_9e6a_a1b9_65f4, 0x06c4_5d18_8009_454f]
        );
    }
}
