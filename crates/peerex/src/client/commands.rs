//! One function per subcommand: build the request, send it, and say what happened, as a table
//! for people or as the server's JSON (`--json`).

use std::io::{BufRead, IsTerminal};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};

use super::config::{Config, Session};
use super::http::Api;
use super::table::{cell, pairs, render};
use super::{
    AdminResourcesCommand, Command, GlobalOpts, IssueCommand, MarketCommand, OfferCommand, PeerCommand, SideArg,
};

const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// What a command prints: the server's answer for `--json`, a text for people.
struct Output {
    json: Value,
    human: String,
}

fn out(json: Value, human: impl Into<String>) -> Result<Output> {
    Ok(Output { json, human: human.into() })
}

/// Runs one client command against `opts.server`, printing its answer on stdout. Errors are
/// returned for the caller to print as one line with a non-zero exit status.
pub fn run(cmd: Command, opts: &GlobalOpts) -> Result<()> {
    // An empty PEEREX_SERVER means "not set".
    let server = match opts.server.trim_end_matches('/') {
        "" => DEFAULT_SERVER.to_owned(),
        s => s.to_owned(),
    };
    let token = match &opts.token {
        Some(t) if !t.is_empty() => Some(t.clone()),
        _ => Config::load()?.sessions.get(&server).map(|s| s.token.clone()),
    };
    let api = Api::new(&server, token)?;
    let o = execute(cmd, &server, &api)?;
    if opts.json {
        let json = if o.json.is_null() { json!({}) } else { o.json };
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else if !o.human.is_empty() {
        print!("{}", o.human);
        if !o.human.ends_with('\n') {
            println!();
        }
    }
    Ok(())
}

fn execute(cmd: Command, server: &str, api: &Api) -> Result<Output> {
    match cmd {
        Command::Signup { name, password } => {
            let password = password_from(password)?;
            let r = api.post(&["users"], &json!({"name": name, "password": password}))?;
            out(r, format!("signed up as {name}; now run: peerex login {name}"))
        }
        Command::Login { name, password } => login(server, api, name, password),
        Command::Logout => {
            let mut config = Config::load()?;
            match config.sessions.remove(server) {
                Some(s) => {
                    config.save()?;
                    out(json!({"logged_out": s.name}), format!("logged out {} from {server}", s.name))
                }
                None => out(json!({"logged_out": null}), format!("no stored session for {server}")),
            }
        }
        Command::Me => {
            require_token(api)?;
            let r = api.get(&["me"], &[])?;
            let text = pairs(&r, &[("name", "name"), ("available", "available"), ("held", "held")]);
            out(r, text)
        }
        Command::Deposit { user, amount } => {
            require_token(api)?;
            let r = api.post(&["admin", "deposits"], &json!({"user": user, "amount": amount}))?;
            out(r, format!("deposited {amount} credits to {user}"))
        }
        Command::Issues => {
            let r = api.get(&["issues"], &[])?;
            let text = issues_table(&r);
            out(r, text)
        }
        Command::Issue(c) => issue(api, c),
        Command::Book { issue, maturation } => {
            check_time("maturation", &maturation)?;
            let r = api.get(&["book"], &[("issue", issue.clone()), ("maturation", maturation.clone())])?;
            let text = format!("{issue} maturing {maturation}\n{}", book_table(&r));
            out(r, text)
        }
        Command::Offer(c) => offer(api, c),
        Command::Offers => {
            require_token(api)?;
            let r = api.get(&["offers"], &[])?;
            let cols = [
                ("ID", "id"),
                ("KIND", "kind"),
                ("ISSUE", "issue"),
                ("MATURATION", "maturation"),
                ("PRICE", "price"),
                ("VOLUME", "volume"),
                ("REMAINING", "remaining"),
                ("STATUS", "status"),
            ];
            let text = list_or_json(&r, &cols);
            out(r, text)
        }
        Command::Positions => {
            require_token(api)?;
            let r = api.get(&["positions"], &[])?;
            let cols = [
                ("ISSUE", "issue"),
                ("MATURATION", "maturation"),
                ("SIDE", "side"),
                ("UNITS", "units"),
                ("COST", "cost_basis"),
                ("REALIZED", "realized_pnl"),
                ("UNREALIZED", "unrealized_pnl"),
            ];
            let text = list_or_json(&r, &cols);
            out(r, text)
        }
        Command::Series { issue } => {
            let r = api.get(&["series"], &[("issue", issue)])?;
            let cols = [
                ("ISSUE", "issue"),
                ("MATURATION", "maturation"),
                ("STATUS", "status"),
                ("WINNER", "winner"),
                ("UNITS", "units"),
                ("ESCROW", "escrow"),
                ("LAST", "last_price"),
                ("BID", "best_bid"),
                ("ASK", "best_ask"),
            ];
            let text = list_or_json(&r, &cols);
            out(r, text)
        }
        Command::Events { after } => {
            require_token(api)?;
            let r = api.get(&["events"], &[("after", after.to_string())])?;
            let text = events_table(&r);
            out(r, text)
        }
        Command::Market(c) => market(api, c),
        Command::Peer(c) => peer(api, c),
        Command::AdminResources(c) => admin_resources(api, c),
        Command::Decide { issue, maturation, winner, fixed_pays, reason } => {
            require_token(api)?;
            check_time("maturation", &maturation)?;
            let mut body = json!({"issue": issue, "maturation": maturation, "reason": reason});
            if let Some(w) = winner {
                body["winner"] = json!(match w {
                    SideArg::Fixed => "fixed",
                    SideArg::Unfixed => "unfixed",
                });
            }
            if let Some(x) = fixed_pays {
                body["fixed_pays"] = json!(x);
            }
            let r = api.post(&["admin", "decide"], &body)?;
            out(r, format!("decided {issue} maturing {maturation}"))
        }
    }
}

fn login(server: &str, api: &Api, name: String, password: Option<String>) -> Result<Output> {
    let password = password_from(password)?;
    let r = api.post(&["sessions"], &json!({"name": name, "password": password}))?;
    let token = r
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow!("the server's answer to the login has no token"))?
        .to_owned();
    let mut config = Config::load()?;
    config.sessions.insert(server.to_owned(), Session { name: name.clone(), token });
    let path = config.save()?;
    // Never echo the token: --json scripts get the name and where it is stored.
    out(
        json!({"name": name, "server": server, "config": path.display().to_string()}),
        format!("logged in as {name} at {server} (token stored in {})", path.display()),
    )
}

fn peer(api: &Api, c: PeerCommand) -> Result<Output> {
    require_token(api)?;
    let sliders = |s: String, u: String, d: String| [("space_gb", s), ("upload_gb", u), ("download_gb", d)];
    let r = match c {
        PeerCommand::Register => api.post(&["peers"], &json!({}))?,
        PeerCommand::Online { fraction, offline } => {
            let mut body = json!({"fraction": fraction});
            if offline {
                body["online"] = json!(false);
            }
            api.post(&["peers", "online"], &body)?
        }
        PeerCommand::Sliders { space_gb, upload_gb, download_gb } => {
            let body: Map<String, Value> =
                sliders(space_gb, upload_gb, download_gb).into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
            api.post(&["peers", "sliders"], &Value::Object(body))?
        }
        PeerCommand::Show => api.get(&["peers", "me"], &[])?,
        PeerCommand::Preview { space_gb, upload_gb, download_gb } => {
            api.get(&["peers", "me", "preview"], &sliders(space_gb, upload_gb, download_gb))?
        }
    };
    let text = peer_text(&r);
    out(r, text)
}

/// The peer view for people: standing, the pie chart's numbers, then the sliders as sent.
fn peer_text(v: &Value) -> String {
    let pie = |k: &str| v.get("pie").and_then(|p| p.get(k)).cloned().unwrap_or(Value::Null);
    let flat = json!({
        "peer": v.get("peer"), "standing": v.get("standing"), "availability": v.get("availability"),
        "capacity_gb": pie("capacity_gb"), "used_gb": pie("used_gb"), "available_gb": pie("available_gb"),
        "sliders": v.get("sliders"),
    });
    pairs(
        &flat,
        &[
            ("peer", "peer"),
            ("standing", "standing"),
            ("availability", "availability"),
            ("capacity GB", "capacity_gb"),
            ("used GB", "used_gb"),
            ("available GB", "available_gb"),
            ("sliders", "sliders"),
        ],
    )
}

fn admin_resources(api: &Api, c: AdminResourcesCommand) -> Result<Output> {
    require_token(api)?;
    let r = match c {
        AdminResourcesCommand::Show => api.get(&["admin", "resources"], &[])?,
        AdminResourcesCommand::Settle => api.post(&["admin", "resources", "settle"], &json!({}))?,
        AdminResourcesCommand::Prices => api.post(&["admin", "resources", "prices"], &json!({}))?,
    };
    let mut text = pairs(
        &r,
        &[
            ("prices (S, U, D)", "prices"),
            ("imbalance", "imbalance_e"),
            ("bank balance", "bank_balance"),
            ("days settled", "days_settled"),
            ("epoch days", "epoch_days"),
            ("frozen", "frozen"),
        ],
    );
    let rows: Vec<Value> = r
        .get("balances")
        .and_then(Value::as_array)
        .map(|b| b.iter().map(|x| json!({"peer": x.get(0), "balance": x.get(1), "standing": x.get(2)})).collect())
        .unwrap_or_default();
    text.push_str(&render(&rows, &[("PEER", "peer"), ("BALANCE", "balance"), ("STANDING", "standing")]));
    out(r, text)
}

fn issue(api: &Api, c: IssueCommand) -> Result<Output> {
    require_token(api)?;
    match c {
        IssueCommand::Open { issue, title } => {
            let r = api.post(&["issues"], &json!({"issue": issue, "title": title}))?;
            out(r, format!("opened issue {issue}"))
        }
        IssueCommand::Close { issue, reason } => {
            let mut body = json!({"issue": issue});
            if let Some(reason) = reason {
                body["reason"] = json!(reason.as_str());
            }
            let r = api.post(&["issues", "close"], &body)?;
            let why = reason.map(|r| format!(" as {}", r.as_str().replace('_', " "))).unwrap_or_default();
            out(r, format!("closed issue {issue}{why}"))
        }
        IssueCommand::Reopen { issue } => {
            let r = api.post(&["issues", "reopen"], &json!({"issue": issue}))?;
            out(r, format!("reopened issue {issue}"))
        }
    }
}

fn offer(api: &Api, c: OfferCommand) -> Result<Output> {
    require_token(api)?;
    match c {
        OfferCommand::Place { kind, issue, maturation, price, volume, aon, poolable, expiration } => {
            check_time("maturation", &maturation)?;
            let mut body = json!({
                "kind": kind.as_str(),
                "issue": issue,
                "maturation": maturation,
                "price": price,
                "volume": volume,
                "aon": aon,
                "poolable": poolable,
            });
            if let Some(e) = expiration {
                check_time("expiration", &e)?;
                body["expiration"] = json!(e);
            }
            let r = api.post(&["offers"], &body)?;
            let text = format!(
                "offer {}: {}, {} of {volume} remaining",
                cell(r.get("id")),
                cell(r.get("status")),
                cell(r.get("remaining"))
            );
            out(r, text)
        }
        OfferCommand::Cancel { id } => {
            let r = api.delete(&["offers", &id])?;
            out(r, format!("cancelled offer {id}"))
        }
    }
}

fn market(api: &Api, c: MarketCommand) -> Result<Output> {
    require_token(api)?;
    match c {
        MarketCommand::Create { statement, deadline, b, fee, initial_shares, outcomes, issue } => {
            check_time("deadline", &deadline)?;
            let mut body = json!({"statement": statement, "deadline": deadline, "b": b});
            let optional = [
                ("fee", fee.map(Value::from)),
                ("initial_shares", initial_shares.map(Value::from)),
                ("outcomes", outcomes.map(Value::from)),
                ("issue", issue.map(Value::from)),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    body[k] = v;
                }
            }
            let r = api.post(&["markets"], &body)?;
            let text = format!("created market {}", cell(r.get("id")));
            out(r, text)
        }
        MarketCommand::Trade { market, shares, max_cost, outcome } => {
            let mut body = json!({"shares": shares});
            if let Some(m) = max_cost {
                body["max_cost"] = json!(m);
            }
            if let Some(o) = outcome {
                body["outcome"] = json!(o);
            }
            let r = api.post(&["markets", &market, "trades"], &body)?;
            let cost = r.get("cost").map(|c| format!(" for {}", cell(Some(c)))).unwrap_or_default();
            out(r, format!("traded {shares} shares in market {market}{cost}"))
        }
        MarketCommand::Report { market, value } => {
            let r = api.post(&["markets", &market, "reports"], &json!({"value": value}))?;
            out(r, format!("reported {value} for market {market}"))
        }
    }
}

fn require_token(api: &Api) -> Result<()> {
    if api.has_token() {
        Ok(())
    } else {
        bail!("not logged in: run `peerex login NAME` or pass --token / PEEREX_TOKEN")
    }
}

/// The password from the flag or environment, else asked on the terminal without echo, else the
/// first line of stdin (scripts).
fn password_from(given: Option<String>) -> Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let p = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").context("reading the password")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if p.is_empty() {
        bail!("no password: pass --password, set PEEREX_PASSWORD, or write it on stdin");
    }
    Ok(p)
}

/// Catches a mistyped time before it reaches the server.
fn check_time(what: &str, value: &str) -> Result<()> {
    peerex_engine::Timestamp::parse(value)
        .map(|_| ())
        .map_err(|_| anyhow!("{what} {value:?} is not an RFC 3339 time such as 2026-12-15T00:00:00Z"))
}

/// The rows of a list answer: a JSON array, or an object holding one under a usual key.
fn rows_of<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Vec<Value>> {
    v.as_array().or_else(|| keys.iter().find_map(|k| v.get(*k).and_then(Value::as_array)))
}

fn list_or_json(v: &Value, cols: &[(&str, &str)]) -> String {
    match rows_of(v, &["items", "data"]) {
        Some(rows) if rows.is_empty() => "(none)\n".to_owned(),
        Some(rows) => render(rows, cols),
        None => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

/// One row per series of each issue (an issue without series gets one row).
fn issues_table(v: &Value) -> String {
    let Some(issues) = rows_of(v, &["issues", "items"]) else {
        return serde_json::to_string_pretty(v).unwrap_or_default();
    };
    if issues.is_empty() {
        return "(no issues)\n".to_owned();
    }
    let mut rows = Vec::new();
    for i in issues {
        let base = |s: Option<&Value>| {
            let mut row = Map::new();
            for k in ["issue", "title", "state", "tracker"] {
                row.insert(k.to_owned(), i.get(k).cloned().unwrap_or(Value::Null));
            }
            if let Some(s) = s {
                row.insert("maturation".into(), s.get("maturation").cloned().unwrap_or(Value::Null));
                let price =
                    ["price", "fixed_price", "last_price"].iter().find_map(|k| s.get(*k).filter(|v| !v.is_null()));
                row.insert("price".into(), price.cloned().unwrap_or(Value::Null));
                row.insert("volume".into(), s.get("volume").cloned().unwrap_or(Value::Null));
                row.insert("status".into(), s.get("status").cloned().unwrap_or(Value::Null));
            }
            Value::Object(row)
        };
        match i.get("series").and_then(Value::as_array) {
            Some(series) if !series.is_empty() => rows.extend(series.iter().map(|s| base(Some(s)))),
            _ => rows.push(base(None)),
        }
    }
    render(
        &rows,
        &[
            ("ISSUE", "issue"),
            ("STATE", "state"),
            ("MATURATION", "maturation"),
            ("FIXED PRICE", "price"),
            ("VOLUME", "volume"),
            ("TITLE", "title"),
        ],
    )
}

/// Asks from the highest price down, then bids from the best down: the usual ladder.
fn book_table(v: &Value) -> String {
    let side = |k: &str| v.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let (mut asks, bids) = (side("asks"), side("bids"));
    if asks.is_empty() && bids.is_empty() {
        return "(empty book)\n".to_owned();
    }
    asks.reverse();
    let mut rows = Vec::new();
    for (name, levels) in [("ask", asks), ("bid", bids)] {
        for mut l in levels {
            if let Some(o) = l.as_object_mut() {
                o.insert("side".into(), json!(name));
            }
            rows.push(l);
        }
    }
    render(&rows, &[("SIDE", "side"), ("PRICE", "price"), ("VOLUME", "volume"), ("OFFERS", "offers")])
}

/// Events with their cursor, time and kind; the other fields compactly.
fn events_table(v: &Value) -> String {
    let Some(events) = rows_of(v, &["events", "items"]) else {
        return serde_json::to_string_pretty(v).unwrap_or_default();
    };
    if events.is_empty() {
        return "(no events)\n".to_owned();
    }
    const CURSOR: [&str; 3] = ["seq", "cursor", "id"];
    const KIND: [&str; 3] = ["type", "event", "kind"];
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            let pick = |keys: &[&str]| keys.iter().find_map(|k| e.get(*k)).cloned().unwrap_or(Value::Null);
            let mut rest = e.as_object().cloned().unwrap_or_default();
            for k in CURSOR.iter().chain(&KIND).chain(&["at"]) {
                rest.remove(*k);
            }
            let details: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={}", cell(Some(v)))).collect();
            json!({"cursor": pick(&CURSOR), "at": pick(&["at"]), "kind": pick(&KIND), "details": details.join(" ")})
        })
        .collect();
    render(&rows, &[("#", "cursor"), ("AT", "at"), ("EVENT", "kind"), ("DETAILS", "details")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_get_one_row_per_series() {
        let v = json!([
            {"issue": "demo/app#1", "title": "Crash", "state": "open",
             "series": [{"maturation": "2026-12-15T00:00:00Z", "price": "0.62", "volume": 40},
                        {"maturation": "2027-01-15T00:00:00Z", "price": null, "last_price": "0.7", "volume": 0}]},
            {"issue": "demo/app#2", "title": "Docs", "state": "closed", "series": []}
        ]);
        assert_eq!(
            issues_table(&v),
            "ISSUE       STATE   MATURATION            FIXED PRICE  VOLUME  TITLE\n\
             demo/app#1  open    2026-12-15T00:00:00Z  0.62         40      Crash\n\
             demo/app#1  open    2027-01-15T00:00:00Z  0.7          0       Crash\n\
             demo/app#2  closed  -                     -            -       Docs\n"
        );
        assert_eq!(issues_table(&json!([])), "(no issues)\n");
    }

    #[test]
    fn books_read_as_a_ladder_and_events_keep_their_details() {
        let book = json!({"bids": [{"price": "0.60", "volume": 5, "offers": 1}, {"price": "0.55", "volume": 7, "offers": 2}],
                          "asks": [{"price": "0.65", "volume": 3, "offers": 1}, {"price": "0.70", "volume": 1, "offers": 1}]});
        assert_eq!(
            book_table(&book),
            "SIDE  PRICE  VOLUME  OFFERS\nask   0.70   1       1\nask   0.65   3       1\nbid   0.60   5       1\nbid   0.55   7       2\n"
        );
        let ev = json!({"events": [{"seq": 3, "at": "2026-12-01T00:00:00Z", "type": "deposit", "amount": "100", "user": "adam"}]});
        assert_eq!(
            events_table(&ev),
            "#  AT                    EVENT    DETAILS\n3  2026-12-01T00:00:00Z  deposit  amount=100 user=adam\n"
        );
    }
}
