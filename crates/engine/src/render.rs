//! Public JSON forms: events with names instead of ids, and the state summary that
//! `peerex replay` prints (spec/commands.md, "Output of peerex replay").

use serde_json::{json, Map, Value};

use crate::engine::Engine;
use crate::event::{Event, Timed};
use crate::exchange::types::Side;
use crate::ids::{OfferId, SeriesId, UserId};
use crate::ledger::Account;

impl Engine {
    fn series_ref(&self, s: SeriesId) -> (String, String) {
        match self.exchange.series(s) {
            Some(series) => (self.exchange.issue_name(series.issue).to_owned(), series.maturation.to_rfc3339()),
            None => ("?".into(), "?".into()),
        }
    }

    fn offer_fields(&self, o: OfferId, m: &mut Map<String, Value>) {
        m.insert("offer".into(), json!(self.exchange.offer_name(o)));
        if let Some(offer) = self.exchange.offer(o) {
            m.insert("kind".into(), json!(offer.kind.as_str()));
            m.insert("price".into(), json!(offer.price));
            m.insert("volume".into(), json!(offer.volume));
            m.insert("remaining".into(), json!(offer.remaining));
            m.insert("aon".into(), json!(offer.aon));
            m.insert("poolable".into(), json!(offer.poolable));
            m.insert("expiration".into(), json!(offer.expiration));
            let (issue, maturation) = self.series_ref(offer.series);
            m.insert("issue".into(), json!(issue));
            m.insert("maturation".into(), json!(maturation));
        }
    }

    /// The public JSON form of an event: `{"at", "type", ...}` with names, decimal strings and
    /// RFC 3339 times.
    pub fn render_event(&self, t: &Timed) -> Value {
        let mut m = Map::new();
        m.insert("at".into(), json!(t.at));
        let user = |u: UserId| json!(self.user_name(u));
        let ty = match &t.event {
            Event::UserCreated { user: u } => {
                m.insert("user".into(), user(*u));
                "user_created"
            }
            Event::Deposited { user: u, amount } => {
                m.insert("user".into(), user(*u));
                m.insert("amount".into(), json!(amount));
                "deposited"
            }
            Event::Withdrew { user: u, amount } => {
                m.insert("user".into(), user(*u));
                m.insert("amount".into(), json!(amount));
                "withdrew"
            }
            Event::IssueOpened { issue }
            | Event::IssueReopened { issue }
            | Event::IssueSynced { issue }
            | Event::IssueClosed { issue, .. } => {
                m.insert("issue".into(), json!(self.exchange.issue_name(*issue)));
                if let Event::IssueClosed { reason, .. } = &t.event {
                    m.insert("reason".into(), json!(reason));
                }
                match &t.event {
                    Event::IssueOpened { .. } => "issue_opened",
                    Event::IssueReopened { .. } => "issue_reopened",
                    Event::IssueSynced { .. } => "issue_synced",
                    _ => "issue_closed",
                }
            }
            Event::SeriesCreated { series } | Event::SeriesMatured { series } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                if matches!(t.event, Event::SeriesCreated { .. }) {
                    "series_created"
                } else {
                    "series_matured"
                }
            }
            Event::SeriesSettled { series, outcome, manual } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                m.insert("winner".into(), json!(outcome.winner()));
                m.insert("fixed_pays".into(), json!(crate::money::Amount(outcome.fixed_pays_micros())));
                m.insert("manual".into(), json!(manual));
                "series_settled"
            }
            Event::OfferPlaced { offer, user: u, .. } => {
                m.insert("user".into(), user(*u));
                self.offer_fields(*offer, &mut m);
                // The event is the placement: its volume is the placed volume, all of it
                // remaining at that moment (fills follow as `traded` events), whatever the
                // offer's state when the event is rendered.
                if let Some(v) = m.get("volume").cloned() {
                    m.insert("remaining".into(), v);
                }
                "offer_placed"
            }
            Event::OfferFilled { offer, user: u }
            | Event::OfferExpired { offer, user: u }
            | Event::OfferSuspended { offer, user: u }
            | Event::OfferResumed { offer, user: u } => {
                m.insert("user".into(), user(*u));
                m.insert("offer".into(), json!(self.exchange.offer_name(*offer)));
                match &t.event {
                    Event::OfferFilled { .. } => "offer_filled",
                    Event::OfferExpired { .. } => "offer_expired",
                    Event::OfferSuspended { .. } => "offer_suspended",
                    _ => "offer_resumed",
                }
            }
            Event::OfferCancelled { offer, user: u, reason } => {
                m.insert("user".into(), user(*u));
                m.insert("offer".into(), json!(self.exchange.offer_name(*offer)));
                m.insert("reason".into(), json!(reason));
                "offer_cancelled"
            }
            Event::Traded { series, kind, price, volume, bid, bid_user, ask, ask_user, maker } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                m.insert("kind".into(), json!(kind));
                m.insert("price".into(), json!(price));
                // Each side's price, so a buyer of the unfixed side reads what they paid.
                m.insert("fixed_price".into(), json!(price));
                m.insert("unfixed_price".into(), json!(price.complement()));
                m.insert("volume".into(), json!(volume));
                m.insert("bid".into(), json!(self.exchange.offer_name(*bid)));
                m.insert("bid_user".into(), user(*bid_user));
                m.insert("ask".into(), json!(self.exchange.offer_name(*ask)));
                m.insert("ask_user".into(), user(*ask_user));
                m.insert("maker".into(), json!(self.exchange.offer_name(*maker)));
                "traded"
            }
            Event::Payout { series, user: u, side, units, amount } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                m.insert("user".into(), user(*u));
                m.insert("side".into(), json!(side));
                m.insert("units".into(), json!(units));
                m.insert("amount".into(), json!(amount));
                "payout"
            }
            Event::MakerFunded { series, funder, maker, b, subsidy } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                m.insert("user".into(), user(*funder));
                m.insert("maker".into(), user(*maker));
                m.insert("b".into(), json!(b));
                m.insert("subsidy".into(), json!(subsidy));
                "maker_funded"
            }
            Event::MakerClosed { series, funder, returned } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                m.insert("user".into(), user(*funder));
                m.insert("returned".into(), json!(returned));
                "maker_closed"
            }
            Event::SeriesArbitration { series, user: u, detail } => {
                let (issue, maturation) = self.series_ref(*series);
                m.insert("issue".into(), json!(issue));
                m.insert("maturation".into(), json!(maturation));
                if let Some(u) = u {
                    m.insert("user".into(), user(*u));
                }
                if let Ok(Value::Object(d)) = serde_json::to_value(detail) {
                    m.extend(d);
                }
                if let crate::prediction::events::MarketDetail::Reward { peer, .. } = detail.as_ref() {
                    m.insert("peer".into(), user(*peer));
                }
                "series_arbitration"
            }
            Event::MarketEvent { market, user: u, detail } => {
                m.insert("market".into(), json!(self.markets.name(*market)));
                if let Some(u) = u {
                    m.insert("user".into(), user(*u));
                }
                if let Ok(Value::Object(d)) = serde_json::to_value(detail) {
                    m.extend(d);
                }
                // An arbiter's peer is a user: print the name, like every other user field.
                if let crate::prediction::events::MarketDetail::Reward { peer, .. } = detail.as_ref() {
                    m.insert("peer".into(), user(*peer));
                }
                "market"
            }
            Event::Resource { peer, detail } => {
                if let Some(p) = peer {
                    m.insert("peer".into(), json!(self.resources.peer_name(*p)));
                }
                if let Ok(Value::Object(mut d)) = serde_json::to_value(detail) {
                    // Peer ids inside details become names.
                    for key in ["holders", "sources"] {
                        if let Some(Value::Array(ids)) = d.get(key) {
                            let names: Vec<Value> = ids
                                .iter()
                                .map(|v| {
                                    let id = v.as_u64().unwrap_or(u64::MAX);
                                    json!(self.resources.peer_name(crate::ids::PeerId(id as u32)))
                                })
                                .collect();
                            d.insert(key.into(), Value::Array(names));
                        }
                    }
                    for key in ["lost", "replacement", "holder"] {
                        if let Some(id) = d.get(key).and_then(Value::as_u64) {
                            d.insert(key.into(), json!(self.resources.peer_name(crate::ids::PeerId(id as u32))));
                        }
                    }
                    m.extend(d);
                }
                "resource"
            }
        };
        m.insert("type".into(), json!(ty));
        Value::Object(m)
    }

    /// The state summary of spec/commands.md (users, offers, series, positions, markets).
    pub fn summary(&self) -> Value {
        let x = &self.exchange;
        let mut users = Map::new();
        for (id, name) in self.users() {
            let (available, held) = self.balance(id);
            users.insert(name.to_owned(), json!({"available": available, "held": held}));
        }
        let mut offers = Map::new();
        for (id, o) in x.all_offers() {
            offers.insert(
                x.offer_name(id).to_owned(),
                json!({"status": o.status.as_str(), "remaining": o.remaining, "user": self.user_name(o.user),
                       "kind": o.kind.as_str(), "price": o.price, "volume": o.volume}),
            );
        }
        let series: Vec<Value> = x
            .all_series()
            .filter_map(|(id, _)| {
                let mut v = json!(x.series_view(id, self.ledger.balance(Account::Escrow(id)))?);
                // Issue 12's mechanisms, only where a series has them.
                if let (Some(c), Value::Object(m)) = (self.cases.case(id), &mut v) {
                    let state = if c.to_tracker {
                        "to_tracker"
                    } else if c.done {
                        "decided"
                    } else if c.report_deadline.is_some() {
                        "reporting"
                    } else {
                        "waiting"
                    };
                    m.insert(
                        "arbitration".into(),
                        json!({"kind": c.kind, "statement": c.statement, "bond": crate::money::Amount(c.bond),
                               "min_reports": c.min_reports, "reports": c.reports.len(), "state": state,
                               "report_deadline": c.report_deadline}),
                    );
                }
                if let (Some(t), Value::Object(m)) = (x.dispute_until(id), &mut v) {
                    m.insert("dispute_until".into(), json!(t));
                }
                if let (Some(mk), Value::Object(m)) = (x.maker(id), &mut v) {
                    m.insert(
                        "maker".into(),
                        json!({"b": crate::money::Amount(mk.lmsr.b), "subsidy": crate::money::Amount(mk.subsidy),
                               "levels": mk.levels, "active": mk.active,
                               "returned": mk.returned.map(crate::money::Amount)}),
                    );
                }
                Some(v)
            })
            .collect();
        let mut positions = Vec::new();
        for ((user, sid), pos) in x.all_positions() {
            let Some(s) = x.series(sid) else { continue };
            for side in [Side::Fixed, Side::Unfixed] {
                let h = pos.side(side);
                if h.units == 0 {
                    continue;
                }
                positions.push(json!({"user": self.user_name(user), "issue": x.issue_name(s.issue),
                    "maturation": s.maturation, "side": side, "units": h.units, "cost_basis": h.cost,
                    "realized_pnl": h.realized}));
            }
        }
        let mut out = Map::new();
        out.insert("time".into(), json!(self.now()));
        out.insert("users".into(), Value::Object(users));
        out.insert("offers".into(), Value::Object(offers));
        out.insert("series".into(), Value::Array(series));
        out.insert("positions".into(), Value::Array(positions));
        out.insert("markets".into(), self.markets.summary());
        out.insert("resources".into(), self.resources.summary(&self.ledger));
        out.insert("minted".into(), json!(self.ledger.minted()));
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::exchange::testing::{ISSUE, MAT, T};
    use crate::exchange::types::{CloseReason, Side};
    use crate::{Event, Timed};

    #[test]
    fn each_issue_event_renders_with_its_own_type() {
        let t = T::new(&[]);
        let issue = t.engine.exchange.issue_id(ISSUE).unwrap();
        let at = t.engine.now().unwrap();
        let render = |event| t.engine.render_event(&Timed { at, event });
        for (event, ty) in [
            (Event::IssueOpened { issue }, "issue_opened"),
            (Event::IssueReopened { issue }, "issue_reopened"),
            (Event::IssueSynced { issue }, "issue_synced"),
            (Event::IssueClosed { issue, reason: CloseReason::Duplicate }, "issue_closed"),
        ] {
            let v = render(event);
            assert_eq!((v["type"].as_str(), v["issue"].as_str()), (Some(ty), Some(ISSUE)));
        }
        assert_eq!(render(Event::IssueClosed { issue, reason: CloseReason::Duplicate })["reason"], "duplicate");
    }

    #[test]
    fn series_and_offer_events_name_their_issue_and_maturation() {
        let mut t = T::new(&[("a", "10")]);
        let from = t.events.len();
        t.offer("2026-12-01T10:00:00Z", "o", "a", "buy_fixed", "0.5", 1, json!({}));
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"deposit","user":"b","amount":"10"}));
        t.offer("2026-12-01T10:00:00Z", "p", "b", "buy_unfixed", "0.5", 1, json!({}));
        let rendered: Vec<_> = t.events[from..].iter().map(|e| t.engine.render_event(e)).collect();
        assert_eq!(rendered.iter().filter(|v| v["type"] == "offer_filled").count(), 2, "{rendered:?}");
        for ty in ["series_created", "offer_placed"] {
            let v = rendered.iter().find(|v| v["type"] == ty).unwrap_or_else(|| panic!("no {ty} in {rendered:?}"));
            assert_eq!((v["issue"].as_str(), v["maturation"].as_str()), (Some(ISSUE), Some(MAT)), "{v}");
        }
    }

    #[test]
    fn the_summary_lists_only_the_sides_users_hold() {
        let mut t = T::new(&[("a", "10"), ("b", "10")]);
        t.offer("2026-12-01T10:00:00Z", "o", "a", "buy_fixed", "0.5", 4, json!({}));
        t.offer("2026-12-01T10:00:00Z", "p", "b", "buy_unfixed", "0.5", 4, json!({}));
        let positions = &t.engine.summary()["positions"];
        let held: Vec<(&str, &str, u64)> = positions
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["user"].as_str().unwrap(), p["side"].as_str().unwrap(), p["units"].as_u64().unwrap()))
            .collect();
        assert_eq!(held, [("a", "fixed", 4), ("b", "unfixed", 4)]);
        assert_eq!((Side::Fixed.as_str(), Side::Unfixed.as_str()), ("fixed", "unfixed"));
    }
}
