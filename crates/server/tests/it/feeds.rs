//! Public data and the live stream: no user names without login (a user still sees their own
//! side in their own feed); a reconnecting stream gets exactly the events it missed; a client too
//! slow for the live broadcast catches up from the database instead of losing events.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both;
use crate::support::{enc, fresh_database, offer, Backend, Client, Server, ISSUE};
use peerex_server::settings::Settings;

/// An open SSE connection, parsed into (id, data) events.
struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    async fn open(c: &Client, query: &str, last_event_id: Option<i64>) -> Sse {
        let mut req = c.http.get(format!("{}/api/v1/stream{query}", c.base));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        Sse { resp, buf: String::new() }
    }

    /// The next event, or None if none arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<(i64, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ").or_else(|| line.strip_prefix("id:")) {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
                        data.push_str(v);
                    }
                }
                match id {
                    Some(id) => return Some((id, serde_json::from_str(&data).unwrap())),
                    None => continue, // a keep-alive comment
                }
            }
            let chunk = tokio::time::timeout(wait, self.resp.chunk()).await.ok()?.unwrap()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Events until the one with cursor `last` (inclusive); panics if it does not come.
    async fn until(&mut self, last: i64) -> Vec<(i64, Value)> {
        let mut out = Vec::new();
        while out.last().is_none_or(|(id, _)| *id < last) {
            let e = self.next(Duration::from_secs(10)).await;
            let e = e.unwrap_or_else(|| panic!("no event up to {last}; got {:?}", ids(&out)));
            out.push(e);
        }
        out
    }
}

fn ids(events: &[(i64, Value)]) -> Vec<i64> {
    events.iter().map(|(id, _)| *id).collect()
}

/// One trade between adam (unfixed side) and beth (fixed side).
async fn trade(s: &Server, adam: &str, beth: &str, mat: &str) {
    let (st, body) = s.client.post("/offers", adam, offer("buy_unfixed", mat, "0.6", 5)).await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = s.client.post("/offers", beth, offer("buy_fixed", mat, "0.4", 5)).await;
    assert_eq!((st, body["status"].as_str()), (201, Some("filled")), "{body}");
    // The taker sees the trade from their side, not who was on the other.
    assert_eq!(body["trades"].as_array().map(Vec::len), Some(1), "{body}");
    assert!(!body["trades"].to_string().contains("adam"), "{body}");
}

/// The cursor of the last trade of the series.
async fn last_trade(c: &Client, mat: &str) -> i64 {
    let (st, page) =
        c.call(Method::GET, &format!("/trades?issue={}&maturation={}", enc(ISSUE), enc(mat)), None, None).await;
    assert_eq!(st, 200, "{page}");
    page["next"].as_i64().unwrap()
}

async fn public_data_names_no_user(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    c.post("/issues", &adam, serde_json::json!({"issue": ISSUE})).await;
    let mat = s.days_from_now(3).await;
    let mut stream = Sse::open(&c, "?after=0", None).await;
    trade(&s, &adam, &beth, &mat).await;
    let q = format!("?issue={}&maturation={}", enc(ISSUE), enc(&mat));
    let mut public = Vec::new();
    for path in ["/trades", "/prices", "/series", "/issues", "/markets", "/book"] {
        let path = if path == "/issues" || path == "/markets" { path.to_owned() } else { format!("{path}{q}") };
        let (st, body) = c.call(Method::GET, &path, None, None).await;
        assert_eq!(st, 200, "{path}: {body}");
        public.push((path, body.to_string()));
    }
    let last = last_trade(&c, &mat).await;
    let streamed = stream.until(last).await;
    assert!(streamed.iter().any(|(_, e)| e["type"] == "traded"));
    public.push(("/stream".into(), serde_json::to_string(&streamed.iter().map(|e| &e.1).collect::<Vec<_>>()).unwrap()));
    for (path, body) in &public {
        for name in ["adam", "beth"] {
            assert!(!body.contains(name), "{path} names {name}: {body}");
        }
        assert!(!body.contains("bid_user") && !body.contains("ask_user"), "{path}: {body}");
    }
    let (_, trades) = c.call(Method::GET, &format!("/trades{q}"), None, None).await;
    assert_eq!(trades["events"][0]["price"], "0.4", "{trades}");

    // Each trader sees their own side of the trade in their own feed, not the counterparty.
    for (token, me, other) in [(&adam, "adam", "beth"), (&beth, "beth", "adam")] {
        let (st, feed) = c.get("/events", token).await;
        assert_eq!(st, 200);
        let traded: Vec<&Value> = feed["events"].as_array().unwrap().iter().filter(|e| e["type"] == "traded").collect();
        assert_eq!(traded.len(), 1, "{feed}");
        let t = traded[0];
        let mine = if t.get("bid_user").is_some() { "bid_user" } else { "ask_user" };
        assert_eq!(t[mine], me, "{t}");
        assert!(!feed.to_string().contains(other), "{me}'s feed names {other}: {feed}");
    }

    // A series decided by hand says so, without naming the admin.
    let admin = s.admin().await;
    let synced = "demo/synced#1";
    let (st, body) =
        c.post("/admin/sync", &admin, json!({"issue": synced, "tracker": "github", "state": "open"})).await;
    assert_eq!(st, 200, "{body}");
    let o = |kind: &str| json!({"kind": kind, "issue": synced, "maturation": mat, "price": "0.5", "volume": 1});
    assert_eq!(c.post("/offers", &adam, o("buy_unfixed")).await.0, 201);
    assert_eq!(c.post("/offers", &beth, o("buy_fixed")).await.0, 201);
    c.post("/admin/clock", &admin, json!({"advance_seconds": 4 * 86_400})).await;
    let decide = json!({"issue": synced, "maturation": mat, "winner": "fixed", "reason": "checked by hand"});
    let (st, body) = c.post("/admin/decide", &admin, decide).await;
    assert_eq!(st, 200, "{body}");
    let q = format!("?issue={}", enc(synced));
    for path in [format!("/series{q}"), "/issues".to_owned()] {
        let (_, body) = c.call(Method::GET, &path, None, None).await;
        assert!(!body.to_string().contains(crate::support::ADMIN), "{path} names the admin: {body}");
    }
    let (_, series) = c.call(Method::GET, &format!("/series{q}"), None, None).await;
    assert_eq!(
        (series[0]["status"].as_str(), series[0]["manual"].as_bool()),
        (Some("settled"), Some(true)),
        "{series}"
    );
}
on_both!(public_data_names_no_user);

/// A client that reconnects with `Last-Event-ID` (or `?after=`) gets exactly the public events it
/// missed, in order, without duplicates, then the live ones.
async fn the_stream_resumes_after_the_last_event_id(backend: Backend) {
    let s = Server::start(backend).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "1000").await;
    let beth = s.funded("beth", "1000").await;
    c.post("/issues", &adam, serde_json::json!({"issue": ISSUE})).await;
    let mat = s.days_from_now(3).await;

    let mut first = Sse::open(&c, "", None).await;
    trade(&s, &adam, &beth, &mat).await;
    let seen = first.until(last_trade(&c, &mat).await).await;
    let last_seen = seen.last().unwrap().0;
    drop(first);

    // Missed while disconnected: three more trades.
    for _ in 0..3 {
        trade(&s, &adam, &beth, &mat).await;
    }
    let end = last_trade(&c, &mat).await;
    let (_, missed) = c
        .call(
            Method::GET,
            &format!("/trades?issue={}&maturation={}&after={last_seen}", enc(ISSUE), enc(&mat)),
            None,
            None,
        )
        .await;
    let expected: Vec<i64> =
        missed["events"].as_array().unwrap().iter().map(|e| e["cursor"].as_i64().unwrap()).collect();
    assert_eq!(expected.len(), 3);

    let mut again = Sse::open(&c, "", Some(last_seen)).await;
    let got = again.until(end).await;
    assert_eq!(ids(&got), expected, "exactly the missed events, in order");
    assert!(got.iter().all(|(_, e)| e["type"] == "traded"));
    // Then the live events, without repeating anything.
    trade(&s, &adam, &beth, &mat).await;
    let live_end = last_trade(&c, &mat).await;
    let (id, e) = again.next(Duration::from_secs(10)).await.expect("the live event");
    assert_eq!((id, e["type"].as_str()), (live_end, Some("traded")));
    assert!(again.next(Duration::from_millis(300)).await.is_none(), "nothing repeated");
    drop(again);

    // `?after=` does the same for clients that cannot send headers.
    let mut by_query = Sse::open(&c, &format!("?after={last_seen}"), None).await;
    let got = by_query.until(live_end).await;
    assert_eq!(ids(&got), [expected, vec![live_end]].concat());
    let (st, body) = c.call(Method::GET, "/stream?after=-1", None, None).await;
    assert_eq!((st, body["code"].as_str()), (400, Some("invalid_query")), "{body}");
    let resp = c.http.get(format!("{}/api/v1/stream", c.base)).header("Last-Event-ID", "x").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}
on_both!(the_stream_resumes_after_the_last_event_id);

/// With a live buffer of one event, every multi-event command overflows it: a client still gets
/// every public event exactly once, in order (caught up from the database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_stream_catches_up_instead_of_dropping() {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.stream_buffer = 1;
    let s = Server::start_with(settings).await;
    let c = s.client.clone();
    let adam = s.funded("adam", "100000").await;
    let beth = s.funded("beth", "100000").await;
    c.post("/issues", &adam, serde_json::json!({"issue": ISSUE})).await;
    let mat = s.days_from_now(3).await;
    let mut live = Sse::open(&c, "", None).await;
    for _ in 0..5 {
        // Ten resting offers, then one that takes them all: ten public trades in one command.
        for _ in 0..10 {
            let (st, _) = c.post("/offers", &adam, offer("buy_unfixed", &mat, "0.6", 1)).await;
            assert_eq!(st, 201);
        }
        let (st, body) = c.post("/offers", &beth, offer("buy_fixed", &mat, "0.4", 10)).await;
        assert_eq!((st, body["status"].as_str()), (201, Some("filled")), "{body}");
    }
    let end = last_trade(&c, &mat).await;
    let got = live.until(end).await;
    let mut replay = Sse::open(&c, "?after=0", None).await;
    let all = replay.until(end).await;
    let after_start: Vec<i64> = ids(&all).into_iter().filter(|id| *id >= got[0].0).collect();
    assert_eq!(ids(&got), after_start, "no event lost or repeated");
    assert_eq!(got.iter().filter(|(_, e)| e["type"] == "traded").count(), 50);
}
