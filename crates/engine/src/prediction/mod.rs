//! Prediction markets with an LMSR market maker and peer-prediction arbitration (spec/prediction.md).

pub mod command;
pub mod events;

use crate::error::{EngineError, EngineResult};
use crate::exchange::{Ctx, Exchange};
use crate::ids::UserId;
use crate::time::Timestamp;

/// All prediction markets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Markets {}

impl Markets {
    pub(crate) fn advance(&mut self, _ctx: &mut Ctx, _to: Timestamp, _exchange: &Exchange) -> EngineResult<()> {
        Ok(())
    }
    pub(crate) fn on_issue_changed(&mut self, _ctx: &mut Ctx, _exchange: &Exchange) -> EngineResult<()> {
        Ok(())
    }
    pub(crate) fn create(
        &mut self,
        _ctx: &mut Ctx,
        _user: UserId,
        _cmd: command::CreateMarket,
        _x: &Exchange,
    ) -> EngineResult<()> {
        Err(EngineError::InvalidState("prediction markets are not built yet".into()))
    }
    pub(crate) fn trade(&mut self, _ctx: &mut Ctx, _user: UserId, _cmd: command::Trade) -> EngineResult<()> {
        Err(EngineError::InvalidState("prediction markets are not built yet".into()))
    }
    pub(crate) fn report(&mut self, _ctx: &mut Ctx, _user: UserId, _cmd: command::Report) -> EngineResult<()> {
        Err(EngineError::InvalidState("prediction markets are not built yet".into()))
    }
    pub fn name(&self, _id: crate::ids::MarketId) -> &str {
        "?"
    }
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    /// Invariants of every market (checked by [`crate::Engine::check_invariants`]).
    pub(crate) fn check(&self, _ledger: &crate::ledger::Ledger) -> Result<(), String> {
        Ok(())
    }
}
