//! JSON views of engine state shared by several endpoints, and the [`Render`] closures that
//! turn an engine command's result into an answer inside the writer.

use peerex_engine::exchange::types::IssueState;
use peerex_engine::ids::SeriesId;
use peerex_engine::ledger::Account;
use peerex_engine::{Engine, EngineResult, Event, Timed, Timestamp};
use serde_json::{json, Value};

use crate::http::error::ApiError;
use crate::writer::{Render, Reply};

/// A render that answers `status` with `view(engine, events)` on success and the engine's
/// error otherwise.
pub fn on_success(status: u16, view: impl FnOnce(&Engine, &[Timed]) -> Value + Send + 'static) -> Render {
    Box::new(move |engine: &Engine, result: &EngineResult<()>, events: &[Timed]| match result {
        Ok(()) => Reply::new(status, view(engine, events)),
        Err(e) => Reply::error(e.status(), e.code(), e.message()),
    })
}

pub fn offer_view(engine: &Engine, id: &str) -> Option<Value> {
    let x = engine.exchange();
    let oid = x.offer_id(id)?;
    let o = x.offer(oid)?;
    let s = x.series(o.series)?;
    Some(json!({
        "id": id,
        "user": engine.user_name(o.user),
        "kind": o.kind.as_str(),
        "issue": x.issue_name(s.issue),
        "maturation": s.maturation,
        "price": o.price,
        "volume": o.volume,
        "remaining": o.remaining,
        "status": o.status.as_str(),
        "aon": o.aon,
        "poolable": o.poolable,
        "expiration": o.expiration,
        "placed_at": o.placed_at,
    }))
}

/// The trades among `events`, as `viewer` may see them: their own side, not the counterparty.
pub fn trades_in(engine: &Engine, events: &[Timed], viewer: &str) -> Vec<Value> {
    events
        .iter()
        .filter(|t| matches!(t.event, Event::Traded { .. }))
        .map(|t| crate::http::feeds::own_view(engine.render_event(t), viewer))
        .collect()
}

pub fn issue_state(state: IssueState) -> Value {
    match state {
        IssueState::Open => json!({"state": "open", "reason": null}),
        IssueState::Closed(r) => json!({"state": "closed", "reason": r}),
    }
}

pub fn series_view(engine: &Engine, sid: SeriesId) -> Option<Value> {
    let escrow = engine.ledger().balance(Account::Escrow(sid));
    let view = engine.exchange().series_view(sid, escrow)?;
    let mut v = serde_json::to_value(view).ok()?;
    if let Value::Object(m) = &mut v {
        // The fixed-side price is the market's probability of a fix by the maturation.
        let price = m.get("last_price").cloned().unwrap_or(Value::Null);
        m.insert("fixed_price".into(), price);
        let units = m.get("units").cloned().unwrap_or(Value::Null);
        m.insert("open_interest".into(), units);
        // Public data names no user: say that an admin decided, not which one.
        let manual = m.remove("decided_by").is_some_and(|d| !d.is_null());
        m.insert("manual".into(), json!(manual));
    }
    Some(v)
}

pub fn issue_view(engine: &Engine, name: &str) -> Option<Value> {
    let x = engine.exchange();
    let iid = x.issue_id(name)?;
    let issue = x.issue(iid)?;
    let series: Vec<Value> = x.series_of_issue(iid).into_iter().filter_map(|s| series_view(engine, s)).collect();
    let mut v = json!({
        "issue": name,
        "title": issue.title,
        "tracker": issue.tracker,
        "labels": issue.labels,
        "last_synced": issue.last_synced,
        "series": series,
    });
    if let (Value::Object(m), Value::Object(s)) = (&mut v, issue_state(issue.current())) {
        m.extend(s);
    }
    Some(v)
}

/// The series of `issue` maturing at `maturation`, or a 404.
pub fn find_series(engine: &Engine, issue: &str, maturation: &str) -> Result<SeriesId, ApiError> {
    let at = Timestamp::parse(maturation).map_err(ApiError::from)?;
    let x = engine.exchange();
    let iid = x.issue_id(issue).ok_or_else(|| ApiError::new(404, "unknown_issue", format!("no issue {issue:?}")))?;
    x.series_id(iid, at)
        .ok_or_else(|| ApiError::new(404, "unknown_series", format!("no series of {issue:?} maturing {at}")))
}
