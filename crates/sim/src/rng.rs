//! Seeded random streams: one independent ChaCha8 stream per run.
//!
//! A run's stream is the ChaCha8 generator keyed by the master seed (through `seed_from_u64`)
//! with its *stream number* set to the run index. ChaCha's stream number selects an independent
//! keystream for the same key, so run `i` gets the same numbers whatever the number of runs,
//! the thread count or the order in which runs execute.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream of run `run` under master seed `seed`.
pub fn run_rng(seed: u64, run: u32) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(run));
    rng
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;

    fn first_words(mut rng: ChaCha8Rng) -> Vec<u64> {
        (0..4).map(|_| rng.next_u64()).collect()
    }

    #[test]
    fn the_same_seed_and_run_give_the_same_stream() {
        assert_eq!(first_words(run_rng(42, 3)), first_words(run_rng(42, 3)));
    }

    #[test]
    fn runs_and_seeds_get_different_streams() {
        let base = first_words(run_rng(42, 0));
        assert_ne!(base, first_words(run_rng(42, 1)));
        assert_ne!(base, first_words(run_rng(43, 0)));
    }

    #[test]
    fn the_derivation_is_pinned() {
        // A change of derivation silently changes every published result: pin it.
        let mut expected = ChaCha8Rng::seed_from_u64(7);
        expected.set_stream(2);
        assert_eq!(first_words(run_rng(7, 2)), first_words(expected));
        assert_eq!(run_rng(7, 2).get_stream(), 2);
        // The literal words, so a change of rand_chacha's algorithm shows up too.
        let mut r = run_rng(7, 2);
        assert_eq!(r.next_u64(), PINNED);
    }

    const PINNED: u64 = 5_536_391_431_806_027_785;
}
