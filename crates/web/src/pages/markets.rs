//! Prediction markets (spec/prediction.md): the list with each market's chance, the create
//! form, and a market's page: the chance over time, a trade panel quoting price after, cost and
//! fee as the person types (the server's own quote, the same computation as the trade), my
//! shares, the arbiter's report form in the reporting window, and the resolution (outcome X,
//! payouts, rewards). Every write goes through the server's market handlers and its writer.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use peerex_engine::prediction::arbitration::{self, Arbiter};
use peerex_engine::prediction::market::Market;
use peerex_engine::{Amount, Price, Timestamp};
use peerex_server::http::extract::{Body, PathId};
use peerex_server::http::markets as api;
use peerex_server::views;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::charts::{price_chart, sparkline};
use crate::fmt;
use crate::layout::{csrf, err_for, error_page, field, form_key, frame, query, see_other, FormError, Nav};
use crate::pages::account::{form_idempotency, outcome};
use crate::session::{Posted, Viewer};
use crate::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/markets", get(list).post(create))
        .route("/markets/new", get(new_page))
        .route("/markets/{id}", get(page))
        .route("/markets/{id}/live", get(live))
        .route("/markets/{id}/quote", get(quote))
        .route("/markets/{id}/trade", post(trade))
        .route("/markets/{id}/report", post(report))
        .route("/markets/{id}/resolve", post(resolve))
}

/// Markets per page of the list.
const PAGE: usize = 50;

fn market_url(id: &str) -> String {
    format!("/markets/{}", crate::layout::encode(id))
}

/// A probability in micro-units (0..=1,000,000) as a percentage.
pub fn prob(micros: i64) -> String {
    let bp = ((micros.clamp(0, 1_000_000) + 50) / 100) as u32;
    Price::from_bp(bp).map(fmt::pct).unwrap_or_else(|| "–".into())
}

fn status_badge(s: &str) -> Markup {
    let (class, label) = match s {
        "open" => ("open", "Open"),
        "reporting" => ("wait", "Reporting"),
        "resolved" => ("settled", "Resolved"),
        _ => ("closed", "N/A (void)"),
    };
    html! { span class={"badge " (class)} { (label) } }
}

/// Outcome names: YES/NO for a binary market, "Outcome k" otherwise.
fn outcome_name(n: usize, k: usize) -> String {
    match (n, k) {
        (2, 1) => "YES".into(),
        (2, 0) => "NO".into(),
        _ => format!("Outcome {k}"),
    }
}

fn outcome_badge(n: usize, k: usize) -> Markup {
    let class = match (n, k) {
        (2, 1) => "badge fixed",
        (2, 0) => "badge unfixed",
        _ => "badge",
    };
    html! { span class=(class) { (outcome_name(n, k)) } }
}

fn shares(a: Amount) -> String {
    fmt::credits_bare(a)
}

// ----- the list -----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: usize,
}

pub async fn list(State(web): State<Web>, v: Viewer, Query(q): Query<ListQuery>) -> Response {
    let now = web.app.shared.clock.now();
    struct Row {
        id: String,
        view: views::MarketView,
        trend: Vec<u32>,
    }
    let (rows, total) = {
        let engine = web.app.shared.engine();
        let all: Vec<(String, views::MarketView)> = views::markets::markets(&engine, None, 0, usize::MAX)
            .into_iter()
            .map(|m| (m.id.clone().unwrap_or_default(), m))
            .collect();
        let ms = engine.markets();
        let total = all.len();
        let mut rows: Vec<Row> = all
            .into_iter()
            .filter(|(_, m)| q.status.is_empty() || m.status == q.status)
            .map(|(id, view)| {
                let trend = ms
                    .market_id(&id)
                    .map(|mid| {
                        let h = ms.price_history(mid);
                        h[h.len().saturating_sub(30)..]
                            .iter()
                            .map(|(_, p)| ((p.get(1).copied().unwrap_or(0).clamp(0, 1_000_000) + 50) / 100) as u32)
                            .collect()
                    })
                    .unwrap_or_default();
                Row { id, view, trend }
            })
            .collect();
        // Open markets first, the soonest deadline first; then the rest, the latest first.
        rows.sort_by(|a, b| {
            let open = |r: &Row| r.view.status != "open";
            open(a).cmp(&open(b)).then_with(|| {
                if a.view.status == "open" {
                    a.view.deadline.cmp(&b.view.deadline)
                } else {
                    b.view.deadline.cmp(&a.view.deadline)
                }
            })
        });
        (rows, total)
    };
    let pages = rows.len().div_ceil(PAGE).max(1);
    let page = q.page.min(pages - 1);
    let shown = rows.iter().skip(page * PAGE).take(PAGE);
    let tab = |s: &str, label: &str| {
        html! { a href={"/markets" @if !s.is_empty() { "?status=" (s) }} aria-current=[(q.status == s).then_some("page")] { (label) } }
    };
    let body = html! {
        div class="row between" {
            h1 { "Prediction markets" }
            @if v.login.is_some() { a class="button" href="/markets/new" id="new-market" { "Create a market" } }
        }
        p class="lead" { "Trade on whether a statement comes true. The price of YES is the crowd's chance that it does; arbiters report what happened after the deadline." }
        @if total == 0 {
            section class="card empty" {
                h2 { "No markets yet" }
                p { "A market is a statement with a deadline, such as “version 2.0 ships with the new parser by March”. "
                    "Its creator funds a market maker, so anyone can buy YES or NO at any time; the price moves with every trade." }
                p { "After the deadline, arbiters report whether it happened; YES shares pay the fraction of YES reports, "
                    "and arbiters who agree with a fellow arbiter earn a reward." }
                @if v.login.is_some() {
                    p { a class="button" href="/markets/new" { "Create the first market" } }
                } @else {
                    p { a href="/login" { "Log in" } " or " a href="/signup" { "sign up" } " to create one." }
                }
            }
        } @else {
            nav class="tabs" aria-label="Filter by status" {
                (tab("", "All")) (tab("open", "Open")) (tab("reporting", "Reporting")) (tab("resolved", "Resolved")) (tab("void", "N/A"))
            }
            @if rows.is_empty() { p class="muted" { "No market in this state." } }
            ul class="issues pm-list" {
                @for r in shown {
                    li class="card pm-item" {
                        div class="pm-main" {
                            a class="issue-name" href=(market_url(&r.id)) { (r.view.statement) }
                            p class="muted small" {
                                (status_badge(&r.view.status)) " "
                                @if r.view.status == "open" { "trading closes " (fmt::time(r.view.deadline, now)) }
                                @else { "deadline " (fmt::time(r.view.deadline, now)) }
                                " · " (r.view.trades) " trade" @if r.view.trades != 1 { "s" }
                                " · " code { (r.id) }
                            }
                        }
                        div class="pm-chance" {
                            @if r.view.outcomes == 2 {
                                @let yes = r.view.prices.get(1).map(|a| a.micros()).unwrap_or(0);
                                @if r.view.status == "resolved" {
                                    strong { (resolved_text(&r.view)) }
                                } @else {
                                    strong class="fixed-text" { (prob(yes)) } span class="muted small" { " chance of YES" }
                                }
                            } @else {
                                strong { (r.view.outcomes) " outcomes" }
                            }
                            (sparkline(&r.trend, "Chance of YES over the last trades"))
                        }
                    }
                }
            }
            @if pages > 1 {
                nav class="pager" aria-label="Pages" {
                    @if page > 0 { a href={"/markets?" (query(&[("status", &q.status), ("page", &(page - 1).to_string())]))} { "‹ Newer" } }
                    span { "Page " (page + 1) " of " (pages) }
                    @if page + 1 < pages { a href={"/markets?" (query(&[("status", &q.status), ("page", &(page + 1).to_string())]))} { "Older ›" } }
                }
            }
        }
    };
    frame(&v, "Prediction markets", Nav::Markets, None, body).into_response()
}

/// "YES paid 67%" for a resolved binary market.
fn resolved_text(m: &views::MarketView) -> String {
    match m.outcome.as_str().and_then(|s| Amount::parse(s).ok()) {
        Some(x) => format!("YES paid {}", fmt::credits(x)),
        None => "Resolved".into(),
    }
}

// ----- create -----

#[derive(Clone, Debug, Default)]
pub struct CreateForm {
    pub id: String,
    pub statement: String,
    pub deadline: String,
    pub b: String,
    pub fee_pct: String,
    pub initial_shares: String,
    pub initial_outcome: String,
    pub min_reports: String,
    pub bond: String,
    pub window_days: String,
    pub too_few: String,
    pub issue: String,
    pub position_cap: String,
    pub fee_mode: String,
    pub robust_prior: bool,
}

fn create_form(v: &Viewer, f: &CreateForm, errors: &[FormError], now: Timestamp) -> Markup {
    let subsidy = Amount::parse(f.b.trim())
        .ok()
        .filter(|b| b.is_positive())
        .and_then(|b| peerex_engine::prediction::lmsr::Lmsr::new(b.micros()).ok())
        .and_then(|l| l.subsidy(2).ok());
    html! {
        section class="card narrow-wide" {
            h1 { "Create a prediction market" }
            p class="lead" { "You fund the market maker, so anyone can trade at any time. The most you can lose on it is its subsidy." }
            form method="post" action="/markets" novalidate {
                (csrf(v)) (form_key())
                (err_for(errors, "form"))
                (field(errors, "statement", "Statement", "text", &f.statement,
                    Some("Something that will clearly be true or false by the deadline."), &[("required", "required"), ("maxlength", "1000")]))
                div class="row" {
                    (field(errors, "id", "Short name", "text", &f.id,
                        Some("Letters, digits and '-', used in links, e.g. parser-2-0."), &[("required", "required"), ("maxlength", "200"), ("autocomplete", "off")]))
                    (field(errors, "deadline", "Trading closes", "date", &f.deadline,
                        Some("UTC midnight; reporting opens then."), &[("required", "required"), ("min", &fmt::date(now.plus_days(1)))]))
                }
                div class="row" {
                    (field(errors, "b", "Liquidity b", "text", &f.b,
                        Some("Larger b: prices move less per trade, and the subsidy is larger."), &[("inputmode", "decimal")]))
                    (field(errors, "fee_pct", "Fee (%)", "text", &f.fee_pct,
                        Some("On trades that add risk; it pays the arbiters."), &[("inputmode", "decimal")]))
                }
                div class="preview" {
                    @match subsidy {
                        Some(s) => p { "Creating it moves " strong { (fmt::credits(Amount(s))) } " (b × ln 2) into the market maker; what is left after payouts and rewards comes back to you." },
                        None => p class="muted" { "Enter a liquidity b above 0 to see the subsidy." },
                    }
                }
                details {
                    summary { "More options" }
                    div class="row" {
                        (field(errors, "initial_shares", "Buy shares at creation", "text", &f.initial_shares,
                            Some("Optional: your own opening position."), &[("inputmode", "decimal")]))
                        div class="field" {
                            label for="f-initial_outcome" { "of" }
                            select id="f-initial_outcome" name="initial_outcome" {
                                option value="1" selected[f.initial_outcome != "0"] { "YES" }
                                option value="0" selected[f.initial_outcome == "0"] { "NO" }
                            }
                        }
                    }
                    div class="row" {
                        (field(errors, "bond", "Arbitration bond (cr)", "text", &f.bond,
                            Some("Pays the arbiters beyond the fees; back to you after a clear resolution."), &[("inputmode", "decimal")]))
                        (field(errors, "position_cap", "Arbiters' position cap (shares)", "text", &f.position_cap,
                            Some("Optional: an arbiter holding more than this may not report."), &[("inputmode", "decimal")]))
                    }
                    div class="field" {
                        label for="f-fee_mode" { "Fee charged" }
                        select id="f-fee_mode" name="fee_mode" aria-describedby="f-fee_mode-hint" {
                            option value="transaction" selected[f.fee_mode != "share"] { "Per trade (on the price after it)" }
                            option value="share" selected[f.fee_mode == "share"] { "Per share (keeps prices away from 0 and 1)" }
                        }
                        small id="f-fee_mode-hint" class="hint" { "Per share: a share at 0.99 costs 0.99 × (1 + fee)." }
                        (err_for(errors, "fee_mode"))
                    }
                    div class="choice" {
                        input type="checkbox" id="f-robust_prior" name="robust_prior" value="true" checked[f.robust_prior];
                        label for="f-robust_prior" { "Robust prior" }
                        small class="hint" { " judge arbiters' reports against both the closing price and 1/2" }
                    }
                    div class="row" {
                        (field(errors, "min_reports", "Reports needed", "number", &f.min_reports,
                            Some("At least 2: every arbiter is paired with another."), &[("min", "2"), ("step", "1")]))
                        (field(errors, "window_days", "Reporting window (days)", "number", &f.window_days,
                            Some("How long arbiters may report after the deadline."), &[("min", "1"), ("step", "1")]))
                    }
                    div class="field" {
                        label for="f-too_few" { "With too few reports" }
                        select id="f-too_few" name="too_few" {
                            option value="void" selected[f.too_few != "extend"] { "Resolve N/A: everyone gets back what they paid" }
                            option value="extend" selected[f.too_few == "extend"] { "Keep waiting for reports" }
                        }
                    }
                    (field(errors, "issue", "Decided by an issue (optional)", "text", &f.issue,
                        Some("An issue name such as local#7: YES if it is closed as fixed by the deadline; no arbiters."), &[("autocomplete", "off")]))
                }
                button type="submit" id="create-market" { "Create market" }
            }
        }
    }
}

pub async fn new_page(State(web): State<Web>, v: Viewer) -> Response {
    if v.login.is_none() {
        return see_other("/login");
    }
    let now = web.app.shared.clock.now();
    let f = CreateForm {
        deadline: fmt::date(now.plus_days(7)),
        b: "10".into(),
        fee_pct: "5".into(),
        min_reports: "3".into(),
        window_days: "7".into(),
        ..Default::default()
    };
    frame(&v, "Create a market", Nav::Markets, None, create_form(&v, &f, &[], now)).into_response()
}

/// "5" (%) -> 0.05 as an amount.
fn percent(s: &str) -> Option<Amount> {
    Amount::parse(s.trim()).ok().map(|a| Amount(a.micros() / 100))
}

pub async fn create(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let g = &p.fields;
    let f = CreateForm {
        id: g.str("id"),
        statement: g.str("statement"),
        deadline: g.str("deadline"),
        b: g.str("b"),
        fee_pct: g.str("fee_pct"),
        initial_shares: g.str("initial_shares"),
        initial_outcome: g.str("initial_outcome"),
        min_reports: g.str("min_reports"),
        bond: g.str("bond"),
        window_days: g.str("window_days"),
        too_few: g.str("too_few"),
        issue: g.str("issue"),
        position_cap: g.str("position_cap"),
        fee_mode: g.str("fee_mode"),
        robust_prior: g.checked("robust_prior"),
    };
    let now = web.app.shared.clock.now();
    let mut errors = Vec::new();
    if f.id.is_empty() {
        errors.push(FormError::new("id", "invalid_argument", "Give the market a short name."));
    }
    if f.statement.is_empty() {
        errors.push(FormError::new("statement", "invalid_argument", "Write the statement people trade on."));
    }
    let deadline =
        fmt::parse_time(&f.deadline).map_err(|e| errors.push(FormError::new("deadline", e.code(), e.message())));
    let b = Amount::parse(if f.b.is_empty() { "10" } else { &f.b })
        .map_err(|e| errors.push(FormError::new("b", e.code(), e.message())));
    let fee = percent(if f.fee_pct.is_empty() { "0" } else { &f.fee_pct })
        .ok_or_else(|| errors.push(FormError::new("fee_pct", "invalid_amount", "The fee is a percentage such as 5.")));
    let initial = if f.initial_shares.is_empty() {
        Ok(Amount(0))
    } else {
        Amount::parse(&f.initial_shares)
            .map_err(|e| errors.push(FormError::new("initial_shares", e.code(), e.message())))
    };
    let min_reports = if f.min_reports.is_empty() {
        Ok(None)
    } else {
        f.min_reports.parse::<u32>().map(Some).map_err(|_| {
            errors.push(FormError::new(
                "min_reports",
                "invalid_argument",
                "Reports needed is a whole number, 2 or more.",
            ))
        })
    };
    let window = if f.window_days.is_empty() {
        Ok(None)
    } else {
        f.window_days.parse::<i64>().ok().filter(|d| (1..=3650).contains(d)).map(Some).ok_or_else(|| {
            errors.push(FormError::new("window_days", "invalid_argument", "The window is 1 to 3,650 days."))
        })
    };
    let bond = if f.bond.trim().is_empty() {
        Ok(None)
    } else {
        Amount::parse(f.bond.trim()).map(Some).map_err(|e| errors.push(FormError::new("bond", e.code(), e.message())))
    };
    let cap = if f.position_cap.trim().is_empty() {
        Ok(None)
    } else {
        Amount::parse(f.position_cap.trim())
            .map(Some)
            .map_err(|e| errors.push(FormError::new("position_cap", e.code(), e.message())))
    };
    let (Ok(deadline), Ok(b), Ok(fee), Ok(initial), Ok(min_reports), Ok(window), Ok(bond), Ok(cap)) =
        (deadline, b, fee, initial, min_reports, window, bond, cap)
    else {
        return rerender_create(&p.viewer, &f, &errors, now);
    };
    let mut body = json!({
        "id": f.id, "statement": f.statement, "deadline": deadline, "b": b, "fee": fee,
        "initial_shares": initial, "initial_outcome": if f.initial_outcome == "0" { 0 } else { 1 },
        "too_few": if f.too_few == "extend" { "extend" } else { "void" },
    });
    if let Some(m) = min_reports {
        body["min_reports"] = json!(m);
    }
    if let Some(bond) = bond {
        body["bond"] = json!(bond);
    }
    if let Some(cap) = cap {
        body["position_cap"] = json!(cap);
    }
    if f.fee_mode == "share" {
        body["fee_mode"] = json!("share");
    }
    if f.robust_prior {
        body["robust_prior"] = json!(true);
    }
    if let Some(d) = window {
        body["report_deadline"] = json!(deadline.plus_days(d));
    }
    if !f.issue.is_empty() {
        body["issue"] = json!(f.issue);
    }
    let key = form_idempotency(g.get("form_key"), "market");
    match outcome(api::create(State(web.app.clone()), login.user(), key, Body(body)).await) {
        Ok(_) => see_other(&format!("{}?created=1", market_url(&f.id))),
        Err(body) => {
            let mut e = FormError::from_api(
                &body,
                &[
                    "statement",
                    "deadline",
                    "fee",
                    "initial_shares",
                    "min_reports",
                    "report_deadline",
                    "issue",
                    "position_cap",
                    "id",
                    "b ",
                ],
                "form",
            );
            e.field = match e.field.as_str() {
                "fee" => "fee_pct".into(),
                "report_deadline" => "window_days".into(),
                "b " => "b".into(),
                _ => e.field,
            };
            if body["code"] == "duplicate_id" {
                e.field = "id".into();
            }
            if body["code"].as_str().is_some_and(|c| c.contains("fund")) {
                e.field = "form".into();
            }
            rerender_create(&p.viewer, &f, &[e], now)
        }
    }
}

fn rerender_create(v: &Viewer, f: &CreateForm, errors: &[FormError], now: Timestamp) -> Response {
    (
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        frame(v, "Create a market", Nav::Markets, None, create_form(v, f, errors, now)),
    )
        .into_response()
}

// ----- a market -----

/// What a market's page needs, copied under one read lock.
struct Snapshot {
    id: String,
    view: views::MarketView,
    creator: String,
    is_creator: bool,
    deadline: Timestamp,
    report_deadline: Timestamp,
    linked_issue: Option<String>,
    min_reports: u32,
    k_floor: Amount,
    fee_rate: Amount,
    pool: Amount,
    /// (time ms, YES price in basis points) of every trade.
    history: Vec<(i64, u32)>,
    /// My shares per outcome, what I paid (net) and fees.
    mine: Option<(Vec<Amount>, Amount, Amount)>,
    my_report: Option<u32>,
    /// The reward estimate for me: (both report YES, both report NO), None when ambiguous.
    estimate: Option<(Amount, Amount, Amount)>,
    balance: Option<Amount>,
    now: Timestamp,
}

fn snapshot(web: &Web, id: &str, me: Option<&str>) -> Option<Snapshot> {
    let now = web.app.shared.clock.now();
    let engine = web.app.shared.engine();
    let ms = engine.markets();
    let mid = ms.market_id(id)?;
    let m: &Market = ms.market(mid)?;
    let view = views::markets::market(&engine, id);
    let uid = me.and_then(|n| engine.user_id(n));
    let n = m.outcomes();
    let history = ms
        .price_history(mid)
        .iter()
        .map(|(t, p)| (t.millis(), ((p.get(1).copied().unwrap_or(0).clamp(0, 1_000_000) + 50) / 100) as u32))
        .collect();
    let mine = uid
        .and_then(|u| ms.holding(mid, u))
        .map(|h| (h.shares.iter().map(|s| Amount(*s)).collect::<Vec<_>>(), Amount(h.paid), Amount(h.fees)));
    let my_report = uid.and_then(|u| m.reports.iter().find(|(r, _)| *r == u).map(|(_, v)| *v));
    // What reporting earns, for the person reading: the engine's own reward rule with today's
    // closing price, the person's reliability and position, paired with an arbiter without a
    // history (the rule pairs each arbiter with a randomly drawn fellow arbiter).
    let estimate = (n == 2 && m.issue.is_none()).then(|| {
        let mu = ms.price(mid, 1).unwrap_or(0.5);
        let hist = uid.map(|u| ms.reliability(u)).unwrap_or_default();
        let prior = peerex_engine::prediction::reliability::History::default();
        let position = mine
            .as_ref()
            .map(|(s, _, _)| (s.get(1).map_or(0, |a| a.micros()) - s.first().map_or(0, |a| a.micros())) as f64 / 1e6)
            .unwrap_or(0.0);
        let k_floor = m.k_floor as f64 / 1e6;
        let pair = |report: bool| {
            let arbiters = [
                Arbiter { a: hist.a(), c: hist.c(), position, report, peer: 1 },
                Arbiter { a: prior.a(), c: prior.c(), position: 0.0, report, peer: 0 },
            ];
            arbitration::compute(mu, &arbiters, k_floor)
        };
        let (yes, no) = (pair(true), pair(false));
        let micros = |x: f64| Amount((x * 1e6).floor().max(0.0) as i64);
        (yes.paid && no.paid).then(|| {
            (
                micros(yes.owed.first().copied().unwrap_or(0.0)),
                micros(no.owed.first().copied().unwrap_or(0.0)),
                micros(yes.k),
            )
        })
    });
    let estimate = estimate.flatten();
    let pool = engine.ledger().balance(peerex_engine::ledger::Account::ArbitrationPool(mid));
    Some(Snapshot {
        id: id.to_owned(),
        creator: engine.user_name(m.creator).to_owned(),
        is_creator: uid == Some(m.creator),
        deadline: m.deadline,
        report_deadline: m.report_deadline,
        linked_issue: m.issue.map(|i| engine.exchange().issue_name(i).to_owned()),
        min_reports: m.min_reports,
        k_floor: Amount(m.k_floor),
        fee_rate: Amount(m.fee),
        pool,
        history,
        mine,
        my_report,
        estimate,
        balance: uid.map(|u| engine.balance(u).0),
        view,
        now,
    })
}

fn headline(s: &Snapshot) -> Markup {
    let v = &s.view;
    let n = v.outcomes;
    html! {
        div class="headline" data-part="headline" id="headline" {
            @match v.status.as_str() {
                "resolved" => {
                    @if n == 2 {
                        @let x = v.outcome.as_str().and_then(|t| Amount::parse(t).ok()).unwrap_or_default();
                        p class="big" { "Resolved: " strong id="outcome-x" { (prob(x.micros())) } " YES" }
                        p { "Each " (outcome_badge(2, 1)) " share paid " strong { (fmt::credits(x)) } ", each "
                            (outcome_badge(2, 0)) " share paid " strong { (fmt::credits(Amount(1_000_000 - x.micros()))) } "." }
                    } @else {
                        p class="big" { "Resolved" }
                    }
                }
                "void" => {
                    p class="big" { strong { "N/A" } " – resolved without an outcome" }
                    p { "Everyone got back what they paid." }
                }
                _ => {
                    @if n == 2 {
                        @let yes = v.prices.get(1).map(|a| a.micros()).unwrap_or(0);
                        p class="big" { strong class="fixed-text" id="chance" { (prob(yes)) } " chance of " (outcome_badge(2, 1)) }
                    } @else {
                        p class="big" { (n) " outcomes" }
                    }
                    @if v.status == "open" {
                        p { "Trading closes " (fmt::time(s.deadline, s.now)) "." }
                    } @else {
                        p { "Trading closed " (fmt::time(s.deadline, s.now)) ". "
                            @if let Some(i) = &s.linked_issue { "The issue " (i) " decides it on the next tracker sync." }
                            @else { "Arbiters' reporting window closes " (fmt::time(s.report_deadline, s.now)) ": "
                                    (v.reports) " report" @if v.reports != 1 { "s" } " in, " (s.min_reports) " needed." } }
                    }
                }
            }
            p class="muted small" {
                (status_badge(&v.status)) " · created by " (s.creator) " · " (v.trades) " trade" @if v.trades != 1 { "s" }
                " · fee " (prob(s.fee_rate.micros())) " · arbitration pool " (fmt::credits(s.pool))
                @if let Some(i) = &s.linked_issue { " · decided by issue " (i) }
            }
        }
    }
}

fn chart(s: &Snapshot) -> Markup {
    let now = s.now.millis();
    let from = s.history.first().map_or(now - 86_400_000, |p| p.0.min(now - 3_600_000));
    let to = if s.view.status == "open" { now } else { s.deadline.millis().max(from + 1) };
    html! {
        section class="card" data-part="chart" id="chart" {
            h2 { "Chance of YES over time" }
            @if s.view.outcomes == 2 {
                (price_chart(&s.history, from, to, "The price of YES (the chance the statement comes true) over time", "fixed"))
            } @else {
                table {
                    thead { tr { th scope="col" { "Outcome" } th scope="col" class="num" { "Chance" } } }
                    tbody { @for (k, p) in s.view.prices.iter().enumerate() { tr { td { (outcome_name(s.view.outcomes, k)) } td class="num" { (prob(p.micros())) } } } }
                }
            }
        }
    }
}

/// The trade panel's fields as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TradeForm {
    #[serde(default)]
    pub side: String,
    #[serde(default)]
    pub shares: String,
}

/// (outcome, signed micro-shares) of a side ("buy_yes", "sell_no", "buy_3") and a share count.
fn parse_side(side: &str, n: usize) -> Option<(usize, bool)> {
    let (dir, what) = side.split_once('_')?;
    let buy = match dir {
        "buy" => true,
        "sell" => false,
        _ => return None,
    };
    let k = match what {
        "yes" => 1,
        "no" => 0,
        k => k.parse().ok()?,
    };
    (k < n).then_some((k, buy))
}

/// The live quote: price after, cost, fee and total, from the server's quote of this trade.
fn quote_text(web: &Web, id: &str, me: Option<&str>, f: &TradeForm) -> Markup {
    let engine = web.app.shared.engine();
    let n = views::markets::market(&engine, id).outcomes.max(2);
    let side = parse_side(&f.side, n);
    let amount = Amount::parse(f.shares.trim()).ok().filter(|a| a.is_positive());
    let before = views::markets::market(&engine, id);
    html! {
        div class="preview quote" data-preview-out="" aria-live="polite" id="quote" {
            @match (side, amount) {
                (Some((k, buy)), Some(a)) => {
                    @let signed = if buy { a } else { Amount(-a.micros()) };
                    @match views::markets::quote(&engine, id, me, k, signed) {
                        Ok(q) => {
                            @let p0 = before.prices.get(k).map(|x| x.micros()).unwrap_or(0);
                            @let p1 = q.prices_after.get(k).map(|x| x.micros()).unwrap_or(0);
                            @if q.total.micros() >= 0 {
                                p { "You pay " strong id="quote-total" { (fmt::credits(q.total)) } }
                            } @else {
                                p { "You receive " strong id="quote-total" { (fmt::credits(Amount(-q.total.micros()))) } }
                            }
                            dl class="quote-lines" {
                                dt { "Cost" } dd id="quote-cost" { (fmt::credits(q.cost)) }
                                dt { "Fee" } dd id="quote-fee" { (fmt::credits(q.fee)) @if q.fee.micros() == 0 { span class="muted small" { " (none: it closes a position)" } } }
                                dt { "Chance of " (outcome_name(n, k)) } dd id="quote-after" { (prob(p0)) " → " strong { (prob(p1)) } }
                            }
                            @if buy {
                                p class="small" { "If " (outcome_badge(n, k)) " wins outright, these shares pay " (fmt::credits(a)) "." }
                            }
                            input type="hidden" name="max_cost" value=(q.total.to_string());
                        }
                        Err(e) => {
                            p class="err" role="alert" { (e.message()) " " code class="code" { (e.code()) } }
                        }
                    }
                }
                _ => { p class="muted" { "Choose buy or sell and a number of shares to see the price after, the cost and the fee." } }
            }
        }
    }
}

fn trade_panel(web: &Web, v: &Viewer, s: &Snapshot, f: &TradeForm, errors: &[FormError]) -> Markup {
    let n = s.view.outcomes;
    let sides: Vec<(String, String)> = if n == 2 {
        vec![
            ("buy_yes".into(), "Buy YES".into()),
            ("buy_no".into(), "Buy NO".into()),
            ("sell_yes".into(), "Sell YES".into()),
            ("sell_no".into(), "Sell NO".into()),
        ]
    } else {
        (0..n)
            .flat_map(|k| {
                [(format!("buy_{k}"), format!("Buy outcome {k}")), (format!("sell_{k}"), format!("Sell outcome {k}"))]
            })
            .collect()
    };
    let chosen = if f.side.is_empty() { sides[0].0.clone() } else { f.side.clone() };
    html! {
        section class="card" id="trade" {
            h2 { "Trade" }
            @if s.view.status != "open" {
                p class="muted" { "Trading has closed." }
            } @else if v.login.is_none() {
                p { a href="/login" { "Log in" } " or " a href="/signup" { "sign up" } " to trade." }
            } @else {
                @if let Some(b) = s.balance { p class="muted small" { "Available " (fmt::credits(b)) } }
                form method="post" action={(market_url(&s.id)) "/trade"} data-preview={(market_url(&s.id)) "/quote"} novalidate {
                    (csrf(v)) (form_key())
                    (err_for(errors, "form"))
                    fieldset class="sides" {
                        legend { "What do you want to do?" }
                        @for (value, label) in &sides {
                            label class="side-choice" for={"side-" (value)} {
                                input type="radio" id={"side-" (value)} name="side" value=(value) checked[*value == chosen];
                                " " (label)
                            }
                        }
                        (err_for(errors, "side"))
                    }
                    (field(errors, "shares", "Shares", "text", &f.shares,
                        Some("Each share pays 1 credit times the outcome's result."), &[("inputmode", "decimal"), ("autocomplete", "off"), ("required", "required")]))
                    h3 { "Quote" }
                    (quote_text(web, &s.id, v.name(), f))
                    div class="row" {
                        button type="submit" name="action" value="trade" id="confirm-trade" { "Confirm trade" }
                        button type="submit" name="action" value="quote" class="secondary" { "Update quote" }
                    }
                    p class="muted small" { "The trade is refused if it would cost more than the quote shown (the price moved)." }
                }
            }
        }
    }
}

fn my_shares(s: &Snapshot) -> Markup {
    let n = s.view.outcomes;
    html! {
        @if let Some((shares, paid, fees)) = &s.mine {
            section class="card" id="my-shares" data-part="mine" {
                h2 { "My shares" }
                @if shares.iter().all(|a| a.micros() == 0) {
                    p class="muted" { "None now." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Outcome" } th scope="col" class="num" { "Shares" } th scope="col" class="num" { "Worth now" } } }
                        tbody {
                            @for (k, a) in shares.iter().enumerate() {
                                @if a.micros() != 0 {
                                    @let p = s.view.prices.get(k).map(|x| x.micros()).unwrap_or(0);
                                    tr {
                                        td { (outcome_badge(n, k)) }
                                        td class="num" { (shares_fmt(*a)) }
                                        td class="num" { (fmt::credits(Amount(((a.micros() as i128 * p as i128) / 1_000_000) as i64))) }
                                    }
                                }
                            }
                        }
                    }
                }
                p class="muted small" { "Paid in total " (fmt::credits(*paid)) " plus fees " (fmt::credits(*fees)) ". “Worth now” is at today's chance." }
            }
        }
    }
}

fn shares_fmt(a: Amount) -> String {
    shares(a)
}

fn report_panel(v: &Viewer, s: &Snapshot, errors: &[FormError]) -> Markup {
    if s.view.status != "reporting" || s.linked_issue.is_some() {
        return html! {};
    }
    let n = s.view.outcomes;
    html! {
        section class="card" id="report" {
            h2 { "Report as an arbiter" }
            p { "What happened: " strong { (s.view.statement) } }
            p { "The window closes " strong { (fmt::time(s.report_deadline, s.now)) } ". "
                (s.view.reports) " report" @if s.view.reports != 1 { "s" } " in, " (s.min_reports) " needed." }
            div class="preview" id="earns" {
                @if n == 2 {
                    @match s.estimate {
                        Some((yes, no, k)) => {
                            p { "Reporting earns a reward when your report matches that of a fellow arbiter drawn at random: "
                                "about " strong { (fmt::credits(yes)) } " if you both report YES, about "
                                strong { (fmt::credits(no)) } " if you both report NO." }
                            p class="muted small" { "Estimated with the closing chance and a reward scale k of " (fmt::credits(k))
                                " (at least " (fmt::credits(s.k_floor)) "; more when arbiters hold positions). A report that does not match earns nothing and never costs you anything. Rewards are paid from the fee pool and the subsidy when the window closes." }
                        }
                        None => p { "Reporting costs nothing. With the closing chance at an extreme, this market pays no rewards: the reports only decide the outcome." },
                    }
                } @else {
                    p { "Reporting costs nothing; a categorical market pays no arbiter rewards." }
                }
            }
            @if let Some(r) = s.my_report {
                p class="flash" role="status" id="my-report" { "You reported " (outcome_name(n, r as usize)) ". Thank you: rewards are paid when the market resolves." }
            } @else if v.login.is_none() {
                p { a href="/login" { "Log in" } " to report." }
            } @else {
                form method="post" action={(market_url(&s.id)) "/report"} novalidate {
                    (csrf(v)) (form_key())
                    (err_for(errors, "form"))
                    fieldset {
                        legend { "Did it happen?" }
                        @if n == 2 {
                            label class="side-choice" for="r-1" { input type="radio" id="r-1" name="value" value="1"; " YES, it happened" }
                            label class="side-choice" for="r-0" { input type="radio" id="r-0" name="value" value="0"; " NO, it did not" }
                        } @else {
                            @for k in 0..n { label class="side-choice" for={"r-" (k)} { input type="radio" id={"r-" (k)} name="value" value=(k); " " (outcome_name(n, k)) } }
                        }
                        (err_for(errors, "value"))
                    }
                    button type="submit" id="send-report" { "Send my report" }
                    p class="muted small" { "You report once; you may hold shares and still report." }
                }
            }
            @if s.is_creator && s.view.reports >= s.min_reports as usize {
                form method="post" action={(market_url(&s.id)) "/resolve"} class="resolve" {
                    (csrf(v))
                    p class="small" { "As the creator you may close reporting now that enough reports are in." }
                    button type="submit" class="secondary" id="resolve-now" { "Close reporting and resolve" }
                }
            }
        }
    }
}

fn resolution(web: &Web, s: &Snapshot) -> Markup {
    if s.view.status != "resolved" && s.view.status != "void" {
        return html! {};
    }
    let log = web.market_log.get(&s.id);
    let of = |what: &'static str| log.resolution.iter().filter(move |e| e["what"] == what);
    let amt = |v: &Value| v.as_str().and_then(|t| Amount::parse(t).ok()).unwrap_or_default();
    let n = s.view.outcomes;
    html! {
        section class="card" id="resolution" {
            h2 { "Resolution" }
            @for e in of("resolved") {
                p { "Decided by " (if e["method"] == "reports" { "arbiters' reports" } else { "the linked issue's tracker" })
                    @if e["method"] == "reports" { " (" (e["reports"]) " reports)" } "." }
            }
            @for e in of("voided") { p { "Resolved N/A: " (e["reason"].as_str().unwrap_or("")) "." } }
            @let payouts: Vec<&Value> = of("payout").collect();
            @if !payouts.is_empty() {
                h3 { "Payouts" }
                table id="payouts" {
                    thead { tr { th scope="col" { "Holder" } th scope="col" { "Shares" } th scope="col" class="num" { "Paid" } } }
                    tbody {
                        @for e in &payouts {
                            tr {
                                td { (e["user"].as_str().unwrap_or("")) }
                                td { @for (k, a) in e["shares"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
                                        @if amt(a).micros() != 0 { (shares(amt(a))) " " (outcome_name(n, k)) " " } } }
                                td class="num" { (fmt::credits(amt(&e["amount"]))) }
                            }
                        }
                    }
                }
            }
            @let refunds: Vec<&Value> = of("refund").collect();
            @if !refunds.is_empty() {
                h3 { "Refunds" }
                table { tbody { @for e in &refunds { tr { td { (e["user"].as_str().unwrap_or("")) } td class="num" { (fmt::credits(amt(&e["amount"]))) " + fees " (fmt::credits(amt(&e["fees"]))) } } } } }
            }
            @for e in of("arbitration") {
                @if e["rewarded"] == json!(false) {
                    p class="muted" { "The arbiters' reports told too little about each other (ambiguous), so no rewards were paid." }
                }
            }
            @let rewards: Vec<&Value> = of("reward").collect();
            @if !rewards.is_empty() {
                h3 { "Arbiters' rewards" }
                table id="rewards" {
                    thead { tr { th scope="col" { "Arbiter" } th scope="col" { "Reported" } th scope="col" { "Paired with" } th scope="col" class="num" { "Reward" } } }
                    tbody {
                        @for e in &rewards {
                            tr {
                                td { (e["user"].as_str().unwrap_or("")) }
                                td { (outcome_name(n, e["report"].as_u64().unwrap_or(0) as usize)) }
                                td { (e["peer"].as_str().unwrap_or("")) }
                                td class="num" { (fmt::credits(amt(&e["paid"]))) }
                            }
                        }
                    }
                }
                @for e in of("arbitration") {
                    p class="muted small" { "Reward scale k " (fmt::credits(amt(&e["k"]))) " · midpoint " (prob(amt(&e["midpoint"]).micros()))
                        " · closing chance " (prob(amt(&e["mu"]).micros())) " · peer draw seed " (e["seed"].as_str().unwrap_or("")) }
                }
            }
            @for e in of("shortfall") { p class="err" { "The budget fell short by " (fmt::credits(amt(&e["missing"]))) "; everyone was paid pro rata." } }
            @for e in of("remainder") { p class="muted" { "Returned to the creator " (e["user"].as_str().unwrap_or("")) ": " (fmt::credits(amt(&e["amount"]))) "." } }
        }
    }
}

fn trades(web: &Web, s: &Snapshot) -> Markup {
    let log = web.market_log.get(&s.id);
    let n = s.view.outcomes;
    html! {
        section class="card" data-part="trades" id="trades" {
            h2 { "Recent trades" }
            @if log.trades.is_empty() {
                p class="muted" { "No trades yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Trade" } th scope="col" class="num" { "Chance after" } } }
                    tbody {
                        @for e in log.trades.iter().rev().take(15) {
                            @let k = e["outcome"].as_u64().unwrap_or(1) as usize;
                            @let sh = e["shares"].as_str().and_then(|t| Amount::parse(t).ok()).unwrap_or_default();
                            @let after = e["prices"].get(if n == 2 { 1 } else { k }).and_then(Value::as_str).and_then(|t| Amount::parse(t).ok()).unwrap_or_default();
                            tr {
                                td { @if let Some(t) = e["at"].as_str().and_then(|t| Timestamp::parse(t).ok()) { (fmt::time(t, s.now)) } }
                                td { (e["user"].as_str().unwrap_or("")) }
                                td { (if sh.micros() >= 0 { "bought " } else { "sold " }) (shares(Amount(sh.micros().abs()))) " " (outcome_badge(n, k)) }
                                td class="num" { (prob(after.micros())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn live_parts(web: &Web, s: &Snapshot) -> Markup {
    html! {
        (headline(s))
        (chart(s))
        (trades(web, s))
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    created: String,
    #[serde(default)]
    traded: String,
}

fn render(web: &Web, v: &Viewer, id: &str, q: &PageQuery, f: &TradeForm, errors: &[FormError]) -> Response {
    let Some(s) = snapshot(web, id, v.name()) else {
        return error_page(v, 404, "unknown_market", &format!("There is no market {id:?}."));
    };
    let live = format!("{}/live", market_url(id));
    let report_errors: Vec<FormError> = errors
        .iter()
        .filter(|e| e.field.starts_with("report"))
        .map(|e| FormError {
            field: if e.field == "report_value" { "value".into() } else { "form".into() },
            ..e.clone()
        })
        .collect();
    let trade_errors: Vec<FormError> = errors.iter().filter(|e| !e.field.starts_with("report")).cloned().collect();
    let body = html! {
        nav class="crumbs" aria-label="Breadcrumb" { a href="/markets" { "Prediction markets" } " › " (s.id) }
        h1 { (s.view.statement) }
        @if !q.created.is_empty() { p class="flash" role="status" { "Your market is open for trading." } }
        @if !q.traded.is_empty() { p class="flash" role="status" id="traded" { "Trade done: " (q.traded) "." } }
        @if s.view.status != "reporting" { (err_for(&report_errors, "form")) }
        (headline(&s))
        (resolution(web, &s))
        (chart(&s))
        (trades(web, &s))
        div class="two" {
            div {
                (report_panel(v, &s, &report_errors))
                @if s.view.status == "open" { (trade_panel(web, v, &s, f, &trade_errors)) }
            }
            div {
                (my_shares(&s))
            }
        }
    };
    let status =
        if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    (status, frame(v, &s.view.statement, Nav::Markets, Some(&live), body)).into_response()
}

pub async fn page(State(web): State<Web>, v: Viewer, Path(id): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let f = TradeForm { side: "buy_yes".into(), shares: "10".into() };
    render(&web, &v, &id, &q, &f, &[])
}

pub async fn live(State(web): State<Web>, v: Viewer, Path(id): Path<String>) -> Response {
    let Some(s) = snapshot(&web, &id, v.name()) else {
        return (axum::http::StatusCode::NOT_FOUND, "no such market").into_response();
    };
    Html(html! { (live_parts(&web, &s)) (my_shares(&s)) }.into_string()).into_response()
}

/// The quote fragment, as the person types (static/forms.js asks for it).
pub async fn quote(State(web): State<Web>, v: Viewer, Path(id): Path<String>, Query(f): Query<TradeForm>) -> Response {
    Html(quote_text(&web, &id, v.name(), &f).into_string()).into_response()
}

pub async fn trade(State(web): State<Web>, Path(id): Path<String>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let f = TradeForm { side: p.fields.str("side"), shares: p.fields.str("shares") };
    let n = views::markets::market(&web.app.shared.engine(), &id).outcomes.max(2);
    let mut errors = Vec::new();
    let side = parse_side(&f.side, n);
    if side.is_none() {
        errors.push(FormError::new("side", "invalid_argument", "Choose what you want to do."));
    }
    let amount = Amount::parse(&f.shares).ok().filter(|a| a.is_positive()).ok_or_else(|| {
        errors.push(FormError::new("shares", "invalid_amount", "Shares is a number above 0, e.g. 10 or 2.5."))
    });
    let (Some((k, buy)), Ok(a)) = (side, amount) else {
        return render(&web, &p.viewer, &id, &PageQuery::default(), &f, &errors);
    };
    let max_cost = p.fields.str("max_cost");
    // The quote comes first: without one shown (no JavaScript, or not loaded yet), show it.
    if p.fields.get("action") == Some("quote") || max_cost.is_empty() {
        return render(&web, &p.viewer, &id, &PageQuery::default(), &f, &[]);
    }
    let signed = if buy { a } else { Amount(-a.micros()) };
    let mut body = json!({"shares": signed, "outcome": k});
    if let Ok(m) = Amount::parse(&max_cost) {
        body["max_cost"] = json!(m);
    }
    let key = form_idempotency(p.fields.get("form_key"), "trade");
    match outcome(api::trade(State(web.app.clone()), login.user(), key, PathId(id.clone()), Body(body)).await) {
        Ok(_) => {
            let what = format!("{} {} {}", if buy { "bought" } else { "sold" }, shares(a), outcome_name(n, k));
            see_other(&format!("{}?{}#trade", market_url(&id), query(&[("traded", &what)])))
        }
        Err(body) => {
            let mut e = FormError::from_api(&body, &["shares", "outcome"], "form");
            if body["code"] == "slippage_exceeded" {
                e.message =
                    "The price moved since your quote, so nothing was bought. Check the new quote and confirm again."
                        .into();
            } else if body["code"].as_str().is_some_and(|c| c.contains("fund")) {
                e.field = "shares".into();
            }
            render(&web, &p.viewer, &id, &PageQuery::default(), &f, &[e])
        }
    }
}

pub async fn report(State(web): State<Web>, Path(id): Path<String>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let f = TradeForm { side: String::new(), shares: "10".into() };
    let Some(value) = p.fields.get("value").and_then(|v| v.parse::<u8>().ok()) else {
        let e = FormError::new("report_value", "invalid_argument", "Choose what happened.");
        return render(&web, &p.viewer, &id, &PageQuery::default(), &f, &[e]);
    };
    let key = form_idempotency(p.fields.get("form_key"), "report");
    match outcome(
        api::report(State(web.app.clone()), login.user(), key, PathId(id.clone()), Body(json!({"value": value}))).await,
    ) {
        Ok(_) => see_other(&format!("{}#report", market_url(&id))),
        Err(body) => {
            let e = FormError::from_api(&body, &[], "report_form");
            render(&web, &p.viewer, &id, &PageQuery::default(), &f, &[e])
        }
    }
}

pub async fn resolve(State(web): State<Web>, Path(id): Path<String>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let key = form_idempotency(p.fields.get("form_key"), "resolve");
    match outcome(api::resolve(State(web.app.clone()), login.user(), key, PathId(id.clone())).await) {
        Ok(_) => see_other(&format!("{}#resolution", market_url(&id))),
        Err(body) => {
            let f = TradeForm { side: String::new(), shares: "10".into() };
            let e = FormError::from_api(&body, &[], "report_form");
            render(&web, &p.viewer, &id, &PageQuery::default(), &f, &[e])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_and_probabilities_read_as_people_write_them() {
        assert_eq!(parse_side("buy_yes", 2), Some((1, true)));
        assert_eq!(parse_side("sell_no", 2), Some((0, false)));
        assert_eq!(parse_side("buy_3", 2), None);
        assert_eq!(parse_side("buy_3", 4), Some((3, true)));
        assert_eq!(parse_side("hold_yes", 2), None);
        assert_eq!(prob(731_059), "73.11%");
        assert_eq!(prob(500_000), "50%");
        assert_eq!(percent("5"), Some(Amount(50_000)));
        assert_eq!(percent("x"), None);
    }
}
