//! Price history of every series, kept in memory for charts, trends and recent trades: loaded
//! from the server's stored public events at start, then followed on its live event stream.
//! (A read-side projection of committed events; it decides nothing.)

use std::collections::HashMap;
use std::sync::RwLock;

use peerex_engine::{Price, Timestamp};
use serde_json::Value;

/// One trade: when, the fixed-side price, how many units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub at: i64,
    pub price: Price,
    pub volume: u64,
}

/// How many of the latest trades (of all series) the home page can show.
pub const LATEST: usize = 8;

#[derive(Default)]
pub struct History {
    series: RwLock<HashMap<(String, i64), Vec<Point>>>,
    /// The last [`LATEST`] trades of any series, oldest first: (issue, maturation, trade).
    latest: RwLock<std::collections::VecDeque<(String, i64, Point)>>,
}

impl History {
    /// The trades of a series, oldest first (a copy of the slice asked for).
    pub fn points(&self, issue: &str, maturation: Timestamp) -> Vec<Point> {
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        map.get(&(issue.to_owned(), maturation.millis())).cloned().unwrap_or_default()
    }

    /// Calls `f` with the trades of a series without copying them.
    pub fn with<R>(&self, issue: &str, maturation: Timestamp, f: impl FnOnce(&[Point]) -> R) -> R {
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        f(map.get(&(issue.to_owned(), maturation.millis())).map_or(&[], |v| v.as_slice()))
    }

    /// The latest trades of any series, newest first.
    pub fn latest(&self) -> Vec<(String, Timestamp, Point)> {
        let l = self.latest.read().unwrap_or_else(|e| e.into_inner());
        l.iter().rev().map(|(i, m, p)| (i.clone(), Timestamp::from_millis(*m), *p)).collect()
    }

    /// Records one public event (only trades matter here).
    pub fn record(&self, json: &str) {
        let Ok(v) = serde_json::from_str::<Value>(json) else { return };
        if v["type"] != "traded" {
            return;
        }
        let parse = |k: &str| v[k].as_str().and_then(|s| Timestamp::parse(s).ok());
        let (Some(at), Some(mat)) = (parse("at"), parse("maturation")) else { return };
        let Some(price) = v["price"].as_str().and_then(|p| Price::parse(p).ok()) else { return };
        let volume = v["volume"].as_u64().unwrap_or(0);
        let Some(issue) = v["issue"].as_str() else { return };
        let point = Point { at: at.millis(), price, volume };
        let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
        map.entry((issue.to_owned(), mat.millis())).or_default().push(point);
        drop(map);
        let mut latest = self.latest.write().unwrap_or_else(|e| e.into_inner());
        if latest.len() == LATEST {
            latest.pop_front();
        }
        latest.push_back((issue.to_owned(), mat.millis(), point));
    }
}

impl crate::projection::Projection for History {
    const WHAT: &'static str = "price history";
    fn record(&self, body: &str) {
        History::record(self, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trades_are_recorded_per_series() {
        let h = History::default();
        h.record(r#"{"type":"traded","at":"2026-12-01T00:00:00Z","issue":"i1","maturation":"2026-12-15T00:00:00Z","price":"0.62","volume":10}"#);
        h.record(
            r#"{"type":"series_created","at":"2026-12-01T00:00:00Z","issue":"i1","maturation":"2026-12-15T00:00:00Z"}"#,
        );
        h.record("not json");
        let mat = Timestamp::parse("2026-12-15T00:00:00Z").unwrap();
        let p = h.points("i1", mat);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].price, Price::parse("0.62").unwrap());
        assert_eq!(p[0].volume, 10);
        assert!(h.points("i2", mat).is_empty());
        for n in 0..LATEST + 2 {
            h.record(&format!(r#"{{"type":"traded","at":"2026-12-01T00:00:00Z","issue":"i{n}","maturation":"2026-12-15T00:00:00Z","price":"0.5","volume":1}}"#));
        }
        let latest = h.latest();
        assert_eq!(latest.len(), LATEST, "bounded");
        assert_eq!(latest[0].0, format!("i{}", LATEST + 1), "newest first");
    }
}
