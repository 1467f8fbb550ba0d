//! Work allocation (seed 003, section 2.4): for each placement or retrieval, the eligible peers
//! sorted by balance ascending, then peer id, and the first n take the work. Giving work to the
//! lowest balances drives every account back toward zero.

use crate::error::{EngineError, EngineResult};
use crate::ids::PeerId;
use crate::money::Amount;

/// A peer that passed the eligibility test, with its balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub peer: PeerId,
    pub balance: Amount,
}

/// The first `n` candidates by (balance, peer id). Refused when fewer than `n` are eligible.
pub fn choose(mut candidates: Vec<Candidate>, n: usize) -> EngineResult<Vec<PeerId>> {
    if candidates.len() < n {
        return Err(EngineError::InvalidState(format!(
            "{n} holders are needed but only {} peers are eligible",
            candidates.len()
        )));
    }
    candidates.sort_by_key(|c| (c.balance, c.peer));
    Ok(candidates.into_iter().take(n).map(|c| c.peer).collect())
}
