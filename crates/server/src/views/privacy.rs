//! Public data names no user. Event bodies (spec/commands.md) name users in a few fields; every
//! answer anyone may read without logging in (the live stream, trades, prices, series) drops
//! them ([`public_event`]), and a user's own feed keeps only the user's own name, so they see
//! their side of a trade but not who was on the other ([`own_event`]).

use serde_json::Value;

/// Fields of event bodies that carry a user's name.
pub const USER_FIELDS: [&str; 4] = ["user", "bid_user", "ask_user", "peer"];

/// An event as anyone may see it: without the names of the users concerned.
pub fn public_event(mut event: Value) -> Value {
    if let Value::Object(m) = &mut event {
        for f in USER_FIELDS {
            m.remove(f);
        }
    }
    event
}

/// An event as `me` sees it in their own feed: their own name stays (which side of a trade was
/// theirs), every other user's name goes.
pub fn own_event(mut event: Value, me: &str) -> Value {
    if let Value::Object(m) = &mut event {
        for f in USER_FIELDS {
            if m.get(f).and_then(Value::as_str) != Some(me) {
                m.remove(f);
            }
        }
    }
    event
}

/// Keeps `me`'s own name on a trade and drops the counterparty's.
pub fn own_side(bid_user: &mut Option<String>, ask_user: &mut Option<String>, me: &str) {
    for u in [bid_user, ask_user] {
        if u.as_deref() != Some(me) {
            *u = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn public_events_name_nobody_and_own_events_name_only_the_owner() {
        let trade = json!({"type": "traded", "bid_user": "adam", "ask_user": "beth", "price": "0.4"});
        assert_eq!(public_event(trade.clone()), json!({"type": "traded", "price": "0.4"}));
        assert_eq!(own_event(trade, "beth"), json!({"type": "traded", "ask_user": "beth", "price": "0.4"}));
        let market = json!({"type": "market", "what": "reward", "user": "adam", "peer": "carl"});
        assert_eq!(own_event(market, "carl"), json!({"type": "market", "what": "reward", "peer": "carl"}));
        let (mut bid, mut ask) = (Some("adam".to_owned()), Some("beth".to_owned()));
        own_side(&mut bid, &mut ask, "adam");
        assert_eq!((bid.as_deref(), ask), (Some("adam"), None));
    }
}
