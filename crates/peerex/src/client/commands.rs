//! One function per subcommand: build the request, send it, and say what happened, as a table
//! for people or as the server's JSON (`--json`).

use std::io::{BufRead, IsTerminal};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};

use super::config::Config;
use super::http::Api;
use super::table::{cell, pairs, render};
use super::{
    AdminResourcesCommand, BackupCommand, ClockCommand, Command, GlobalOpts, IssueCommand, IssueSortArg, IssueStateArg,
    MarketCommand, OfferCommand, PeerCommand, SideArg,
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
    let as_user = opts.as_user.as_deref().filter(|n| !n.is_empty());
    let token = match &opts.token {
        Some(t) if !t.is_empty() => Some(t.clone()),
        _ => {
            let t = Config::load()?.token_for(&server, as_user);
            if let (None, Some(name)) = (&t, as_user) {
                bail!("no stored session for {name} on {server}: run `peerex login {name}`");
            }
            t
        }
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
            // Revoke the token on the server first (a copied token stops working), then forget
            // it here even when the server cannot be reached: it then expires by itself.
            let revoked = if api.has_token() { Some(api.delete(&["sessions"])) } else { None };
            let mut config = Config::load()?;
            match config.sessions.remove(server) {
                Some(s) => {
                    if let Some(a) = config.accounts.get_mut(server) {
                        a.remove(&s.name);
                    }
                    config.save()?;
                    let text = match &revoked {
                        Some(Err(e)) => format!(
                            "logged out {} from {server}; the server could not revoke the token ({e:#}): it stays valid until it expires",
                            s.name
                        ),
                        _ => format!("logged out {} from {server}", s.name),
                    };
                    out(json!({"logged_out": s.name, "revoked": matches!(revoked, Some(Ok(_)))}), text)
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
        Command::Issues { state, sort, limit, offset } => {
            let mut q = Vec::new();
            if let Some(s) = state {
                q.push((
                    "state",
                    match s {
                        IssueStateArg::Open => "open",
                        IssueStateArg::Closed => "closed",
                    }
                    .to_owned(),
                ));
            }
            if let Some(s) = sort {
                let key = match s {
                    IssueSortArg::Issue => "issue",
                    IssueSortArg::Volume => "volume",
                    IssueSortArg::OpenInterest => "open_interest",
                };
                q.push(("sort", key.to_owned()));
            }
            if let Some(l) = limit {
                q.push(("limit", l.to_string()));
            }
            if let Some(o) = offset {
                q.push(("offset", o.to_string()));
            }
            let r = api.get(&["issues"], &q)?;
            let text = issues_table(&r);
            out(r, text)
        }
        Command::Issue(c) => issue(api, c),
        Command::Book { issue, maturation } => {
            let r = api.get(&["book"], &[("issue", issue.clone()), ("maturation", maturation.clone())])?;
            let text = format!("{issue} maturing {maturation}\n{}", book_table(&r));
            out(r, text)
        }
        Command::Offer(c) => offer(api, c),
        Command::Offers { status } => {
            require_token(api)?;
            let q: Vec<(&str, String)> = status.into_iter().map(|s| ("status", s)).collect();
            let r = api.get(&["offers"], &q)?;
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
        Command::Batch { file, atomic } => {
            require_token(api)?;
            let commands = read_batch(&file)?;
            let r = api.post(&["batch"], &json!({"commands": commands, "atomic": atomic}))?;
            let mut text = format!(
                "applied {}, refused {}",
                r["applied"].as_u64().unwrap_or(0),
                r["refused"].as_u64().unwrap_or(0)
            );
            for (i, item) in r["results"].as_array().into_iter().flatten().enumerate() {
                let what = if item["ok"].as_bool() == Some(true) {
                    match item["view"]["id"].as_str() {
                        Some(id) => format!("ok {id}"),
                        None => "ok".to_owned(),
                    }
                } else {
                    format!(
                        "refused {}: {}",
                        item["code"].as_str().unwrap_or("?"),
                        item["message"].as_str().unwrap_or("")
                    )
                };
                text.push_str(&format!("\n{:>4}  {what}", i + 1));
            }
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
        Command::Shares => {
            require_token(api)?;
            let r = api.get(&["shares"], &[])?;
            let cols = [
                ("MARKET", "market"),
                ("OUTCOME", "outcome"),
                ("SHARES", "shares"),
                ("PRICE", "price"),
                ("VALUE", "value"),
                ("STATUS", "status"),
            ];
            let text = list_or_json(&r, &cols);
            out(r, text)
        }
        Command::Peer(c) => peer(api, c),
        Command::Backup(c) => backup(api, c),
        Command::Clock { action } => clock(api, action),
        Command::AdminResources(c) => admin_resources(api, c),
        Command::Decide { issue, maturation, winner, fixed_pays, reason } => {
            require_token(api)?;
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
    config.log_in(server, &name, token);
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
        PeerCommand::Fragments => {
            let r = api.get(&["peers", "me", "fragments"], &[])?;
            let cols = [("FILE", "file"), ("OWNER", "owner"), ("FRAGMENT", "fragment_size"), ("K", "k"), ("N", "n")];
            let text = list_or_json(&with_sizes(&r, "fragment_bytes", "fragment_size"), &cols);
            return out(r, text);
        }
        PeerCommand::Report { files } => {
            let r = api.post(&["peers", "fragments"], &json!({"files": files}))?;
            let repaired = r.get("repaired").and_then(Value::as_array).map_or(0, Vec::len);
            let held = r.get("held").and_then(Value::as_u64).unwrap_or(0);
            let text =
                format!("reported {held} fragments held; {repaired} missing fragments repaired onto other peers");
            return out(r, text);
        }
    };
    let text = peer_text(&r);
    out(r, text)
}

/// A number of GB for people: two decimals.
fn gb(v: Option<&Value>) -> String {
    match v.and_then(Value::as_f64) {
        Some(x) => format!("{x:.2}"),
        None => "-".to_owned(),
    }
}

/// A byte count for people (decimal units, as disks count).
fn human_bytes(b: f64) -> String {
    let units = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    for (u, f) in units {
        if b >= f {
            return format!("{:.2} {u}", b / f);
        }
    }
    format!("{b} B")
}

/// Adds a human size column `to` from a byte column `from` to every row of a list.
fn with_sizes(v: &Value, from: &str, to: &str) -> Value {
    let mut v = v.clone();
    if let Some(rows) = v.as_array_mut() {
        for r in rows {
            let size = r.get(from).and_then(Value::as_f64).map(human_bytes);
            if let (Some(o), Some(size)) = (r.as_object_mut(), size) {
                o.insert(to.to_owned(), json!(size));
            }
        }
    }
    v
}

/// The pie chart of seed 003's Figure 1 as a bar: used (#) and available (.) backup space.
pub fn pie_bar(used: f64, capacity: f64, width: usize) -> String {
    if capacity.is_nan() || capacity <= 0.0 {
        return format!("[{}]", " ".repeat(width));
    }
    let filled = ((used / capacity).clamp(0.0, 1.0) * width as f64).round() as usize;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

/// The peer view for people: standing, the pie chart drawn and in numbers, the sliders as a
/// table with the end of each slider's effective (thick) region.
fn peer_text(v: &Value) -> String {
    if v.get("peer").is_none() {
        return serde_json::to_string_pretty(v).unwrap_or_default();
    }
    let pie = |k: &str| v.get("pie").and_then(|p| p.get(k));
    let f = |x: Option<&Value>| x.and_then(Value::as_f64).unwrap_or(0.0);
    let availability =
        v.get("availability").and_then(Value::as_f64).map_or("-".into(), |a| format!("{:.1}%", a * 100.0));
    let test = if v.get("test_target").and_then(Value::as_bool).unwrap_or(false) {
        " (test period: no storage work until 14 daily online reports)"
    } else {
        ""
    };
    let mut text = format!(
        "peer          {}\nstanding      {}\navailability  {availability}{test}\nbackup space  {} used {} GB of {} GB ({} GB available)\n\n",
        cell(v.get("peer")),
        cell(v.get("standing")),
        pie_bar(f(pie("used_gb")), f(pie("capacity_gb")), 20),
        gb(pie("used_gb")),
        gb(pie("capacity_gb")),
        gb(pie("available_gb")),
    );
    let s = v.get("sliders");
    let at = |k: &str, i: usize| s.and_then(|s| s.get(k)).and_then(|a| a.get(i));
    let rows: Vec<Value> = ["space (GB)", "upload (GB/day)", "download (GB/day)"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let end = match at("thick_end", i) {
                Some(Value::Null) | None => "whole slider".to_owned(),
                x => gb(x),
            };
            json!({"slider": name, "set": gb(at("caps", i)), "counted": gb(at("counted", i)), "end": end})
        })
        .collect();
    text.push_str(&render(
        &rows,
        &[("SLIDER", "slider"), ("SET", "set"), ("COUNTED", "counted"), ("EFFECTIVE UP TO", "end")],
    ));
    text
}

fn admin_resources(api: &Api, c: AdminResourcesCommand) -> Result<Output> {
    require_token(api)?;
    let r = match c {
        AdminResourcesCommand::Show => api.get(&["admin", "resources"], &[])?,
        AdminResourcesCommand::Settle => api.post(&["admin", "resources", "settle"], &json!({}))?,
        AdminResourcesCommand::Prices => api.post(&["admin", "resources", "prices"], &json!({}))?,
    };
    let nums = |k: &str, digits: usize| {
        r.get(k).and_then(Value::as_array).map_or("-".to_owned(), |a| {
            a.iter().map(|x| x.as_f64().map_or("-".into(), |x| format!("{x:.digits$}"))).collect::<Vec<_>>().join(", ")
        })
    };
    let frozen = r.get("frozen").and_then(Value::as_array).map_or("-".to_owned(), |a| {
        if a.is_empty() {
            "none".into()
        } else {
            a.iter().map(|x| cell(Some(x))).collect::<Vec<_>>().join(", ")
        }
    });
    let mut text = format!(
        "prices (S, U, D)  {} credits per GB\nimbalance (U, D)  {}\nbank balance      {}\ndays settled      {}\nepoch days        {}\nfiles             {}\nfrozen            {frozen}\n\n",
        nums("prices", 4),
        nums("imbalance_e", 4),
        cell(r.get("bank_balance")),
        cell(r.get("days_settled")),
        cell(r.get("epoch_days")),
        cell(r.get("files")),
    );
    let rows: Vec<Value> = r
        .get("balances")
        .and_then(Value::as_array)
        .map(|b| b.iter().map(|x| json!({"peer": x.get(0), "balance": x.get(1), "standing": x.get(2)})).collect())
        .unwrap_or_default();
    text.push_str(&render(&rows, &[("PEER", "peer"), ("BALANCE", "balance"), ("STANDING", "standing")]));
    out(r, text)
}

fn backup(api: &Api, c: BackupCommand) -> Result<Output> {
    require_token(api)?;
    match c {
        BackupCommand::Put { file, size, target } => {
            let r = api.post(&["backups"], &json!({"file": file, "bytes": size, "target": target}))?;
            let holders = r
                .get("holders")
                .and_then(Value::as_array)
                .map_or(String::new(), |h| h.iter().map(|x| cell(Some(x))).collect::<Vec<_>>().join(", "));
            let text = format!(
                "backed up {file} ({}): {} of {} fragments of {} each, on {holders}",
                human_bytes(size as f64),
                cell(r.get("k")),
                cell(r.get("n")),
                r.get("fragment_bytes").and_then(Value::as_f64).map_or("-".into(), human_bytes),
            );
            out(r, text)
        }
        BackupCommand::Ls => {
            let r = api.get(&["backups"], &[])?;
            let cols = [("FILE", "file"), ("SIZE", "size"), ("K", "k"), ("N", "n"), ("HOLDERS", "holders_text")];
            let mut rows = with_sizes(&r, "bytes", "size");
            if let Some(a) = rows.as_array_mut() {
                for x in a {
                    let h = x
                        .get("holders")
                        .and_then(Value::as_array)
                        .map(|h| h.iter().map(|p| cell(Some(p))).collect::<Vec<_>>().join(","));
                    if let (Some(o), Some(h)) = (x.as_object_mut(), h) {
                        o.insert("holders_text".into(), json!(h));
                    }
                }
            }
            let text = list_or_json(&rows, &cols);
            out(r, text)
        }
        BackupCommand::Restore { file } => {
            let r = api.post(&["backups", &file, "restore"], &json!({}))?;
            let sources = r
                .get("sources")
                .and_then(Value::as_array)
                .map_or(String::new(), |h| h.iter().map(|x| cell(Some(x))).collect::<Vec<_>>().join(", "));
            out(r, format!("restore of {file} served by {sources}"))
        }
        BackupCommand::Rm { file } => {
            let r = api.delete(&["backups", &file])?;
            out(r, format!("deleted the backup {file}"))
        }
    }
}

fn clock(api: &Api, c: Option<ClockCommand>) -> Result<Output> {
    let r = match c {
        None => api.get(&["clock"], &[])?,
        Some(c) => {
            require_token(api)?;
            let body = match c {
                ClockCommand::Advance { by } => json!({"advance_seconds": by}),
                ClockCommand::Set { to } => json!({"to": to}),
            };
            api.post(&["admin", "clock"], &body)?
        }
    };
    let mut text = format!("clock at {}", cell(r.get("now")));
    if let Some(n) = r.get("events").and_then(Value::as_u64) {
        text.push_str(&format!(" ({n} events applied)"));
    }
    if r.get("sandbox").and_then(Value::as_bool) == Some(true) {
        text.push_str(" (sandbox: an admin may move it with `peerex clock advance 1d`)");
    }
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
                body["expiration"] = json!(e);
            }
            let r = api.post(&["offers"], &body)?;
            let text = placed_text(&r, kind.as_str(), kind.unfixed(), &price, volume);
            out(r, text)
        }
        OfferCommand::Cancel { id } => {
            let r = api.delete(&["offers", &id])?;
            out(r, format!("cancelled offer {id}"))
        }
    }
}

/// What `offer place` says: the offer, each fill at the placer's side price with its cost, and
/// what remains in the book.
fn placed_text(r: &Value, kind: &str, unfixed: bool, price: &str, volume: u64) -> String {
    let mut text = format!("offer {}: {kind} {volume} at {price}\n", cell(r.get("id")));
    let mut filled = 0u64;
    let mut total = peerex_engine::Amount::ZERO;
    for t in r.get("trades").and_then(Value::as_array).into_iter().flatten() {
        let v = t.get("volume").and_then(Value::as_u64).unwrap_or(0);
        // A trade's own side price if the server gives it, else from the fixed-side price.
        let key = if unfixed { "unfixed_price" } else { "fixed_price" };
        let side = t.get(key).and_then(Value::as_str).and_then(|p| peerex_engine::Price::parse(p).ok());
        let fixed = t.get("price").and_then(Value::as_str).and_then(|p| peerex_engine::Price::parse(p).ok());
        let p = side.or_else(|| fixed.map(|f| if unfixed { f.complement() } else { f }));
        match p.and_then(|p| p.cost(v).map(|c| (p, c))) {
            Some((p, cost)) => {
                text.push_str(&format!("  filled {v} at {p} = {cost} credits\n"));
                total = peerex_engine::Amount(total.0.saturating_add(cost.0));
            }
            None => text.push_str(&format!("  filled {v}\n")),
        }
        filled += v;
    }
    if filled > 0 {
        text.push_str(&format!("  total {filled} units for {total} credits\n"));
    }
    text.push_str(&format!("{} of {volume} remaining ({})", cell(r.get("remaining")), cell(r.get("status"))));
    text
}

fn market(api: &Api, c: MarketCommand) -> Result<Output> {
    match c {
        MarketCommand::List => {
            let r = api.get(&["markets"], &[])?;
            let text = list_or_json(&market_rows(&r), &MARKET_COLS);
            out(r, text)
        }
        MarketCommand::Show { market } => {
            let r = api.get(&["markets", &market], &[])?;
            let row = market_rows(&json!([r.clone()]));
            let first = row.get(0).cloned().unwrap_or(Value::Null);
            let text = pairs(
                &first,
                &[
                    ("id", "id"),
                    ("statement", "statement"),
                    ("status", "status"),
                    ("prices", "prices_text"),
                    ("b", "b"),
                    ("fee", "fee"),
                    ("deadline", "deadline"),
                    ("outcome", "outcome_text"),
                ],
            );
            out(r, text)
        }
        MarketCommand::Quote { market, shares, outcome } => {
            let mut q = vec![("shares", shares.clone())];
            if let Some(o) = outcome {
                q.push(("outcome", o.to_string()));
            }
            let r = api.get(&["markets", &market, "quote"], &q)?;
            let text = format!(
                "{shares} shares of outcome {} in {market}: cost {}, fee {}, total {}",
                cell(r.get("outcome")),
                cell(r.get("cost")),
                cell(r.get("fee")),
                cell(r.get("total"))
            );
            out(r, text)
        }
        MarketCommand::Create { statement, deadline, b, fee, initial_shares, outcomes, issue, bond } => {
            require_token(api)?;
            let mut body = json!({"statement": statement, "deadline": deadline, "b": b});
            let optional = [
                ("fee", fee.map(Value::from)),
                ("initial_shares", initial_shares.map(Value::from)),
                ("outcomes", outcomes.map(Value::from)),
                ("issue", issue.map(Value::from)),
                ("bond", bond.map(Value::from)),
            ];
            for (k, v) in optional {
                if let Some(v) = v {
                    body[k] = v;
                }
            }
            let r = api.post(&["markets"], &body)?;
            let text = format!("created market {}: {statement}", cell(r.get("id")));
            out(r, text)
        }
        MarketCommand::Trade { market, shares, max_cost, outcome } => {
            require_token(api)?;
            let mut body = json!({"shares": shares});
            if let Some(m) = max_cost {
                body["max_cost"] = json!(m);
            }
            if let Some(o) = outcome {
                body["outcome"] = json!(o);
            }
            let r = api.post(&["markets", &market, "trades"], &body)?;
            let text = traded_text(&r, &market, &shares);
            out(r, text)
        }
        MarketCommand::Report { market, value } => {
            require_token(api)?;
            let r = api.post(&["markets", &market, "reports"], &json!({"value": value}))?;
            out(r, format!("reported {value} for market {market}"))
        }
        MarketCommand::Resolve { market } => {
            require_token(api)?;
            let r = api.post(&["markets", &market, "resolve"], &json!({}))?;
            let rows = market_rows(&json!([r.clone()]));
            let outcome = rows.get(0).map(|m| cell(m.get("outcome_text"))).unwrap_or_default();
            let text = format!("market {market}: {} (outcome {outcome})", cell(r.get("status")));
            out(r, text)
        }
    }
}

const MARKET_COLS: [(&str, &str); 5] = [
    ("ID", "id"),
    ("STATUS", "status"),
    ("PRICES", "prices_text"),
    ("DEADLINE", "deadline"),
    ("STATEMENT", "statement"),
];

/// Market rows with their prices and outcome as short text (the answer may be a list, or an
/// older server's object keyed by id).
fn market_rows(v: &Value) -> Value {
    let list: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::Object(m) if !m.contains_key("id") => m
            .iter()
            .map(|(id, x)| {
                let mut x = x.clone();
                if let Some(o) = x.as_object_mut() {
                    o.entry("id").or_insert(json!(id));
                }
                x
            })
            .collect(),
        other => vec![other.clone()],
    };
    let short = |x: Option<&Value>| match x {
        Some(Value::Array(a)) => a.iter().map(|p| cell(Some(p))).collect::<Vec<_>>().join(" / "),
        Some(Value::Null) | None => "-".to_owned(),
        Some(p) => cell(Some(p)),
    };
    Value::Array(
        list.into_iter()
            .map(|mut m| {
                let prices = short(m.get("prices").or_else(|| m.get("price")));
                let outcome = short(m.get("outcome"));
                if let Some(o) = m.as_object_mut() {
                    o.insert("prices_text".into(), json!(prices));
                    o.insert("outcome_text".into(), json!(outcome));
                }
                m
            })
            .collect(),
    )
}

/// What `market trade` says: shares, cost, fee and the price after the trade.
fn traded_text(r: &Value, market: &str, shares: &str) -> String {
    let ev = r.get("events").and_then(Value::as_array).and_then(|e| e.iter().find(|x| x.get("cost").is_some()));
    let Some(ev) = ev else {
        return format!("traded {shares} shares in market {market}");
    };
    let outcome = ev.get("outcome").and_then(Value::as_u64).unwrap_or(1);
    let cost = ev.get("cost").and_then(Value::as_str).and_then(|c| peerex_engine::Amount::parse(c).ok());
    let fee = ev.get("fee").and_then(Value::as_str).and_then(|c| peerex_engine::Amount::parse(c).ok());
    let price = ev.get("prices").and_then(Value::as_array).and_then(|p| p.get(outcome as usize));
    let verb = if shares.starts_with('-') { "sold" } else { "bought" };
    let n = shares.trim_start_matches('-');
    match (cost, fee) {
        (Some(c), Some(f)) => {
            let (what, amount) = if c.0 < 0 { ("received", peerex_engine::Amount(-c.0)) } else { ("cost", c) };
            format!(
                "{verb} {n} shares of outcome {outcome} in {market}: {what} {amount}, fee {f}; price of outcome {outcome} now {}",
                cell(price)
            )
        }
        _ => format!("{verb} {n} shares of outcome {outcome} in {market}"),
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
                let settled = s.get("status").and_then(Value::as_str) == Some("settled");
                let price =
                    if settled { Some(json!(format!("settled: {}", cell(s.get("winner"))))) } else { price.cloned() };
                row.insert("price".into(), price.unwrap_or(Value::Null));
                row.insert("volume".into(), s.get("volume").cloned().unwrap_or(Value::Null));
                let oi = s.get("open_interest").or_else(|| s.get("units"));
                row.insert("open_interest".into(), oi.cloned().unwrap_or(Value::Null));
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
            ("OPEN INTEREST", "open_interest"),
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

/// The commands of a batch file (`-`: stdin), one JSON object per line, checked before
/// anything is sent.
fn read_batch(file: &std::path::Path) -> Result<Vec<Value>> {
    use std::io::Read as _;
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    }
    let mut commands = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{} line {}: not a JSON command: {e}", file.display(), n + 1))?;
        if !v.is_object() || !v["op"].is_string() {
            anyhow::bail!("{} line {}: a command is a JSON object with an \"op\"", file.display(), n + 1);
        }
        commands.push(v);
    }
    match commands.len() {
        0 => anyhow::bail!("{}: no commands", file.display()),
        n if n > 1_000 => anyhow::bail!("{}: {n} commands; a batch has at most 1,000", file.display()),
        _ => Ok(commands),
    }
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
            "ISSUE       STATE   MATURATION            FIXED PRICE  VOLUME  OPEN INTEREST  TITLE\n\
             demo/app#1  open    2026-12-15T00:00:00Z  0.62         40      -              Crash\n\
             demo/app#1  open    2027-01-15T00:00:00Z  0.7          0       -              Crash\n\
             demo/app#2  closed  -                     -            -       -              Docs\n"
        );
        let settled = json!([{"issue": "a#1", "state": "closed", "title": "t",
            "series": [{"maturation": "2026-12-15T00:00:00Z", "status": "settled", "winner": "fixed", "price": "0.9", "units": 5}]}]);
        assert!(issues_table(&settled).contains("settled: fixed"), "no live price on a settled series");
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
