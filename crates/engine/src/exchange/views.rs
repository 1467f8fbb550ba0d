//! Read-only projections of exchange state for drivers (replay output, API, UI, simulator).

use serde::Serialize;

use crate::exchange::types::{IssueState, Outcome, Side};
use crate::exchange::Exchange;
use crate::ids::{SeriesId, UserId};
use crate::money::{Amount, Price};
use crate::time::Timestamp;

/// One price level of a book, in fixed-price terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Level {
    pub price: Price,
    pub volume: u64,
    pub offers: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Depth {
    /// Best (highest) first.
    pub bids: Vec<Level>,
    /// Best (lowest) first.
    pub asks: Vec<Level>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeriesView {
    pub issue: String,
    pub maturation: Timestamp,
    pub status: &'static str,
    pub winner: Option<Side>,
    pub outcome: Option<Outcome>,
    pub units: u64,
    pub escrow: Amount,
    pub last_price: Option<Price>,
    pub volume: u64,
    pub best_bid: Option<Price>,
    pub best_ask: Option<Price>,
    pub decided_by: Option<String>,
    pub settled_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PositionView {
    pub issue: String,
    pub maturation: Timestamp,
    pub side: Side,
    pub units: u64,
    pub held: u64,
    pub cost_basis: Amount,
    pub realized_pnl: Amount,
    /// Marked at the series' last trade price (or its payout once settled); null without trades.
    pub unrealized_pnl: Option<Amount>,
}

impl Exchange {
    pub fn depth(&self, s: SeriesId, max_levels: usize) -> Depth {
        let level = |(p, ids): (u16, super::book::Level<'_, crate::rows::Rows<super::Offer>>)| {
            let (volume, offers) = ids.fold((0u64, 0usize), |(v, n), o| (v + self.offers[o.index()].remaining, n + 1));
            Level { price: Price::from_bp(p as u32).unwrap_or(Price::ZERO), volume, offers }
        };
        Depth {
            bids: self.book_levels(s, true).rev().take(max_levels).map(level).collect(),
            asks: self.book_levels(s, false).take(max_levels).map(level).collect(),
        }
    }

    pub fn series_view(&self, s: SeriesId, escrow: Amount) -> Option<SeriesView> {
        let series = self.series.get(s.index())?;
        let book = &self.books[s.index()];
        let bp = |p: Option<u16>| p.and_then(|p| Price::from_bp(p as u32));
        Some(SeriesView {
            issue: self.issue_name(series.issue).to_owned(),
            maturation: series.maturation,
            status: series.status.as_str(),
            winner: series.outcome.and_then(|o| o.winner()),
            outcome: series.outcome,
            units: series.units,
            escrow,
            last_price: series.last_price,
            volume: series.traded_volume,
            best_bid: bp(book.best_bid()),
            best_ask: bp(book.best_ask()),
            decided_by: series.decided_by.clone(),
            settled_at: series.settled_at,
        })
    }

    /// A user's positions (sides with units, or with realised P&L), in series order.
    pub fn positions_of(&self, user: UserId) -> Vec<PositionView> {
        let mut keys: Vec<SeriesId> = self.positions.keys().filter(|(u, _)| *u == user).map(|(_, s)| *s).collect();
        keys.sort_unstable();
        let mut out = Vec::new();
        for s in keys {
            let pos = &self.positions[&(user, s)];
            let series = &self.series[s.index()];
            for side in [Side::Fixed, Side::Unfixed] {
                let h = pos.side(side);
                if h.units == 0 && h.realized == Amount::ZERO && h.cost == Amount::ZERO {
                    continue;
                }
                let mark = series.last_price.map(|p| if side == Side::Fixed { p } else { p.complement() });
                let unrealized = mark.and_then(|p| p.cost(h.units)).and_then(|v| v.checked_sub(h.cost));
                out.push(PositionView {
                    issue: self.issue_name(series.issue).to_owned(),
                    maturation: series.maturation,
                    side,
                    units: h.units,
                    held: h.held,
                    cost_basis: h.cost,
                    realized_pnl: h.realized,
                    unrealized_pnl: if h.units == 0 { Some(Amount::ZERO) } else { unrealized },
                });
            }
        }
        out
    }

    /// The issue's current state (None: no such issue).
    pub fn issue_state(&self, name: &str) -> Option<IssueState> {
        self.issue_id(name).map(|i| self.issues[i.index()].current())
    }

    /// The issue's series, earliest maturation first.
    pub fn series_of_issue(&self, issue: crate::ids::IssueId) -> Vec<SeriesId> {
        let mut v: Vec<SeriesId> =
            self.series.iter().enumerate().filter(|(_, s)| s.issue == issue).map(|(i, _)| SeriesId(i as u32)).collect();
        v.sort_by_key(|s| self.series[s.index()].maturation);
        v
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::exchange::testing::{ISSUE, MAT, T};
    use crate::exchange::types::{CloseReason, IssueState};
    use crate::ids::SeriesId;
    use crate::Timestamp;

    #[test]
    fn depth_adds_up_each_levels_offers_and_volume_best_first() {
        let mut t = T::new(&[("a", "100"), ("b", "100")]);
        t.offer("2026-12-01T10:00:00Z", "a1", "a", "buy_fixed", "0.40", 3, json!({}));
        t.offer("2026-12-01T10:00:01Z", "b1", "b", "buy_fixed", "0.40", 4, json!({}));
        t.offer("2026-12-01T10:00:02Z", "b2", "b", "buy_fixed", "0.30", 5, json!({}));
        t.offer("2026-12-01T10:00:03Z", "a2", "a", "buy_unfixed", "0.40", 2, json!({}));
        let d = t.engine.exchange.depth(SeriesId(0), 10);
        let bids: Vec<(String, u64, usize)> =
            d.bids.iter().map(|l| (l.price.to_string(), l.volume, l.offers)).collect();
        assert_eq!(bids, [("0.4".to_string(), 7, 2), ("0.3".to_string(), 5, 1)]);
        let asks: Vec<(String, u64, usize)> =
            d.asks.iter().map(|l| (l.price.to_string(), l.volume, l.offers)).collect();
        assert_eq!(asks, [("0.6".to_string(), 2, 1)]);
        assert_eq!(t.engine.exchange.depth(SeriesId(0), 1).bids.len(), 1, "at most the levels asked for");
    }

    #[test]
    fn an_issues_series_come_earliest_first_and_only_its_own() {
        let mut t = T::new(&[("a", "100")]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"open_issue","issue":"t/r#2"}));
        for (id, issue, mat) in [("o1", ISSUE, MAT), ("o2", "t/r#2", MAT), ("o3", ISSUE, "2026-12-10T00:00:00Z")] {
            t.run(json!({"at":"2026-12-01T10:00:00Z","op":"offer","id":id,"user":"a","kind":"buy_fixed",
                "issue":issue,"maturation":mat,"price":"0.1","volume":1}));
        }
        let x = &t.engine.exchange;
        let mats = |issue: &str| -> Vec<Timestamp> {
            x.series_of_issue(x.issue_id(issue).unwrap()).iter().map(|s| x.series[s.index()].maturation).collect()
        };
        assert_eq!(mats(ISSUE), [Timestamp::parse("2026-12-10T00:00:00Z").unwrap(), Timestamp::parse(MAT).unwrap()]);
        assert_eq!(mats("t/r#2"), [Timestamp::parse(MAT).unwrap()]);
    }

    #[test]
    fn issue_state_follows_the_tracker_and_knows_no_other_issue() {
        let mut t = T::new(&[]);
        assert_eq!(t.engine.exchange.issue_state(ISSUE), Some(IssueState::Open));
        t.run(json!({"at":"2026-12-02T09:00:00Z","op":"close_issue","issue":ISSUE}));
        assert_eq!(t.engine.exchange.issue_state(ISSUE), Some(IssueState::Closed(CloseReason::Completed)));
        assert_eq!(t.engine.exchange.issue_state("t/r#9"), None);
    }
}
