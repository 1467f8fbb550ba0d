//! A user's holding of one side of one series, with average-cost basis and realised P&L.

use serde::Serialize;

use crate::error::{overflow, EngineResult};
use crate::money::Amount;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Holding {
    /// Units owned.
    pub units: u64,
    /// Of those, units reserved by open sell offers.
    pub held: u64,
    /// Cost basis of the units owned, in micro-credits.
    pub cost: Amount,
    /// Realised profit and loss so far, in micro-credits.
    pub realized: Amount,
}

impl Holding {
    pub fn free(&self) -> u64 {
        self.units - self.held
    }

    /// Adds units bought for `paid`.
    pub fn buy(&mut self, units: u64, paid: Amount) -> EngineResult<()> {
        self.units = self.units.checked_add(units).ok_or_else(|| overflow("position"))?;
        self.cost = self.cost.checked_add(paid).ok_or_else(|| overflow("cost basis"))?;
        Ok(())
    }

    /// Removes units disposed of for `proceeds` (sold, reduced, or paid out at settlement),
    /// realising the difference to their average cost. Units must be owned.
    pub fn dispose(&mut self, units: u64, proceeds: Amount) -> EngineResult<()> {
        if units > self.units {
            return Err(crate::error::EngineError::Internal(format!("disposing {units} of {} units", self.units)));
        }
        // Average cost of the units leaving; the last unit takes the whole rest, so the basis of
        // an emptied position is exactly zero.
        let basis = if units == self.units {
            self.cost
        } else {
            let b = (self.cost.0 as i128) * (units as i128) / (self.units as i128);
            Amount(b as i64)
        };
        self.units -= units;
        self.cost = self.cost.checked_sub(basis).ok_or_else(|| overflow("cost basis"))?;
        let gain = proceeds.checked_sub(basis).ok_or_else(|| overflow("P&L"))?;
        self.realized = self.realized.checked_add(gain).ok_or_else(|| overflow("P&L"))?;
        Ok(())
    }
}

/// Both sides of one user's position in one series (a user may own units of both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub fixed: Holding,
    pub unfixed: Holding,
}

impl Position {
    pub fn side(&self, side: crate::exchange::types::Side) -> &Holding {
        match side {
            crate::exchange::types::Side::Fixed => &self.fixed,
            crate::exchange::types::Side::Unfixed => &self.unfixed,
        }
    }
    pub fn side_mut(&mut self, side: crate::exchange::types::Side) -> &mut Holding {
        match side {
            crate::exchange::types::Side::Fixed => &mut self.fixed,
            crate::exchange::types::Side::Unfixed => &mut self.unfixed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_cost_and_realised_pnl() {
        let mut h = Holding::default();
        h.buy(200, Amount::credits(40)).unwrap();
        h.dispose(100, Amount::credits(40)).unwrap();
        assert_eq!(h.realized, Amount::credits(20));
        assert_eq!(h.cost, Amount::credits(20));
        h.dispose(100, Amount::credits(40)).unwrap();
        assert_eq!(h.realized, Amount::credits(40));
        assert_eq!(h.cost, Amount::ZERO);
        assert!(h.dispose(1, Amount::ZERO).is_err());
    }
}
