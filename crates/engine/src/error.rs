//! Every way a command can be refused. Each variant has a stable machine code (used by the API,
//! the CLI and `peerex replay`) and a human message. A refused command changes nothing.

use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum EngineError {
    #[error("{0}")]
    MalformedCommand(String),
    #[error("{0}")]
    InvalidAmount(String),
    #[error("{0}")]
    InvalidPrice(String),
    #[error("{0}")]
    InvalidVolume(String),
    #[error("{0}")]
    InvalidTime(String),
    #[error("{0}")]
    InvalidExpiration(String),
    #[error("{0}")]
    MaturationInPast(String),
    #[error("{0}")]
    TimeWentBackwards(String),
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("{0}")]
    InsufficientUnits(String),
    #[error("{0}")]
    UnknownUser(String),
    #[error("{0}")]
    UnknownIssue(String),
    #[error("{0}")]
    UnknownOffer(String),
    #[error("{0}")]
    UnknownSeries(String),
    #[error("{0}")]
    UnknownMarket(String),
    #[error("{0}")]
    DuplicateId(String),
    #[error("{0}")]
    NotOwner(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    SeriesClosed(String),
    #[error("{0}")]
    MarketClosed(String),
    #[error("{0}")]
    SlippageExceeded(String),
    #[error("{0}")]
    AlreadyReported(String),
    #[error("{0}")]
    AlreadyResolved(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    Overflow(String),
    /// The user may not take this role (e.g. report on a market they created, or with a
    /// position above the market's cap).
    #[error("{0}")]
    NotEligible(String),
    /// A series is already under dispute or arbitration.
    #[error("{0}")]
    AlreadyDisputed(String),
    /// An engine invariant would break. Never expected; reported instead of panicking.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        use EngineError::*;
        match self {
            MalformedCommand(_) => "malformed_command",
            InvalidAmount(_) => "invalid_amount",
            InvalidPrice(_) => "invalid_price",
            InvalidVolume(_) => "invalid_volume",
            InvalidTime(_) => "invalid_time",
            InvalidExpiration(_) => "invalid_expiration",
            MaturationInPast(_) => "maturation_in_past",
            TimeWentBackwards(_) => "time_went_backwards",
            InsufficientFunds(_) => "insufficient_funds",
            InsufficientUnits(_) => "insufficient_units",
            UnknownUser(_) => "unknown_user",
            UnknownIssue(_) => "unknown_issue",
            UnknownOffer(_) => "unknown_offer",
            UnknownSeries(_) => "unknown_series",
            UnknownMarket(_) => "unknown_market",
            DuplicateId(_) => "duplicate_id",
            NotOwner(_) => "not_owner",
            InvalidState(_) => "invalid_state",
            SeriesClosed(_) => "series_closed",
            MarketClosed(_) => "market_closed",
            SlippageExceeded(_) => "slippage_exceeded",
            AlreadyReported(_) => "already_reported",
            AlreadyResolved(_) => "already_resolved",
            InvalidArgument(_) => "invalid_argument",
            LimitExceeded(_) => "limit_exceeded",
            Overflow(_) => "overflow",
            NotEligible(_) => "not_eligible",
            AlreadyDisputed(_) => "already_disputed",
            Internal(_) => "internal",
        }
    }

    /// The HTTP-style class of the error: 400 bad input, 403 not yours, 404 unknown, 409 conflict,
    /// 422 rule violation. Drivers map it to their transport.
    pub fn status(&self) -> u16 {
        use EngineError::*;
        match self {
            MalformedCommand(_) | InvalidAmount(_) | InvalidPrice(_) | InvalidVolume(_) | InvalidTime(_)
            | InvalidExpiration(_) | InvalidArgument(_) => 400,
            NotOwner(_) | NotEligible(_) => 403,
            UnknownUser(_) | UnknownIssue(_) | UnknownOffer(_) | UnknownSeries(_) | UnknownMarket(_) => 404,
            DuplicateId(_) | AlreadyReported(_) | AlreadyResolved(_) | AlreadyDisputed(_) | TimeWentBackwards(_) => 409,
            MaturationInPast(_) | InsufficientFunds(_) | InsufficientUnits(_) | InvalidState(_) | SeriesClosed(_)
            | MarketClosed(_) | SlippageExceeded(_) | LimitExceeded(_) | Overflow(_) => 422,
            Internal(_) => 500,
        }
    }

    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Shorthand for arithmetic that must not overflow.
pub(crate) fn overflow(what: &str) -> EngineError {
    EngineError::Overflow(format!("{what} is too large"))
}

pub type EngineResult<T> = Result<T, EngineError>;

#[cfg(test)]
mod tests {
    use super::EngineError::*;

    #[test]
    fn every_class_of_error_has_its_status() {
        let s = |e: super::EngineError| e.status();
        assert_eq!(s(InvalidPrice(String::new())), 400);
        assert_eq!(s(NotOwner(String::new())), 403);
        assert_eq!(s(UnknownOffer(String::new())), 404);
        assert_eq!(s(DuplicateId(String::new())), 409);
        assert_eq!(s(InsufficientFunds(String::new())), 422);
        assert_eq!(s(Internal(String::new())), 500);
    }
}
