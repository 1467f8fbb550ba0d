//! What happened in each prediction market, for its page: recent trades and the resolution
//! (outcome, payouts, arbiters' rewards, refunds, remainder). A read-side projection of the
//! committed public `market` events, loaded from the store at start and then followed on the
//! live stream, like [`crate::history`]. It decides nothing.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::Value;

/// Trades kept per market (the newest).
pub const MAX_TRADES: usize = 100;

#[derive(Clone, Debug, Default)]
pub struct MarketEvents {
    /// `traded` events, oldest first, at most [`MAX_TRADES`].
    pub trades: Vec<Value>,
    /// `resolved`, `arbitration`, `payout`, `reward`, `shortfall`, `voided`, `refund`,
    /// `remainder`, `reporting_extended` events, in order.
    pub resolution: Vec<Value>,
}

#[derive(Default)]
pub struct MarketLog {
    markets: RwLock<HashMap<String, MarketEvents>>,
}

impl MarketLog {
    /// A copy of what is known of market `id`.
    pub fn get(&self, id: &str) -> MarketEvents {
        let map = self.markets.read().unwrap_or_else(|e| e.into_inner());
        map.get(id).cloned().unwrap_or_default()
    }

    /// Records one public event (only market events matter here).
    pub fn record(&self, json: &str) {
        let Ok(v) = serde_json::from_str::<Value>(json) else { return };
        if v["type"] != "market" {
            return;
        }
        let Some(id) = v["market"].as_str().map(str::to_owned) else { return };
        let what = v["what"].as_str().unwrap_or("");
        let mut map = self.markets.write().unwrap_or_else(|e| e.into_inner());
        let m = map.entry(id).or_default();
        match what {
            "traded" => {
                if m.trades.len() >= MAX_TRADES {
                    m.trades.remove(0);
                }
                m.trades.push(v);
            }
            "resolved" | "arbitration" | "payout" | "reward" | "shortfall" | "voided" | "refund" | "remainder"
            | "reporting_extended" => m.resolution.push(v),
            _ => {}
        }
    }
}

impl crate::projection::Projection for MarketLog {
    const WHAT: &'static str = "market events";
    fn record(&self, body: &str) {
        MarketLog::record(self, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_events_are_kept_per_market() {
        let l = MarketLog::default();
        l.record(r#"{"type":"market","what":"traded","market":"m1","shares":"1"}"#);
        l.record(r#"{"type":"market","what":"payout","market":"m1","amount":"1"}"#);
        l.record(r#"{"type":"market","what":"reported","market":"m1","value":1}"#);
        l.record(r#"{"type":"traded","market":"m1"}"#);
        l.record("not json");
        let m = l.get("m1");
        assert_eq!((m.trades.len(), m.resolution.len()), (1, 1));
        for _ in 0..MAX_TRADES + 5 {
            l.record(r#"{"type":"market","what":"traded","market":"m2"}"#);
        }
        assert_eq!(l.get("m2").trades.len(), MAX_TRADES);
        assert!(l.get("m3").trades.is_empty());
    }
}
