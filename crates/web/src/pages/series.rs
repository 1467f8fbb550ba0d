//! A series (one issue, one maturation): the chance of a fix and the last trade, the price
//! chart, the book as two ladders, recent trades, the offer form with its preview, my offers
//! here with cancel, and the settlement state.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use peerex_engine::exchange::types::{IssueState, OfferKind, Side};
use peerex_engine::{Amount, Price, Timestamp};
use peerex_server::http::exchange::{self as api, PlaceOffer};
use peerex_server::http::extract::{Body, IdempotencyKey, PathId};
use peerex_server::views::exchange as views;
use serde::Deserialize;

use crate::charts::{bar, price_chart};
use crate::fmt;
use crate::history::Point;
use crate::layout::{
    csrf, err_for, error_page, field, form_key, frame, query, see_other, series_url, side_badge, FormError, Nav,
};
use crate::pages::account::outcome;
use crate::session::{Posted, Viewer};
use crate::Web;

#[derive(Deserialize, Default, Clone, Debug)]
pub struct SeriesQuery {
    #[serde(default)]
    pub issue: String,
    #[serde(default)]
    pub maturation: String,
    #[serde(default)]
    pub range: String,
    #[serde(default)]
    pub placed: String,
}

/// The offer form's values (what the person typed), re-shown after an error.
#[derive(Clone, Debug, Default)]
pub struct OfferForm {
    pub kind: String,
    pub price: String,
    pub volume: String,
    pub aon: bool,
    pub poolable: bool,
    pub expiration: String,
    pub maturation: String,
}

/// The four kinds in plain words.
pub const KINDS: [(&str, &str, &str); 4] = [
    ("buy_unfixed", "I fund the fix", "Buy the Unfixed side: your stake pays whoever fixes it; you get it back with profit if it is not fixed by the date."),
    ("buy_fixed", "I will fix it", "Buy the Fixed side: it pays 1 credit per unit if the issue is fixed by the date."),
    ("sell_fixed", "Sell my fixed position", "Sell Fixed units you hold."),
    ("sell_unfixed", "Sell my unfixed position", "Sell Unfixed units you hold."),
];

fn kind_of(s: &str) -> Option<OfferKind> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn range_ms(range: &str) -> Option<i64> {
    match range {
        "1d" => Some(86_400_000),
        "1w" => Some(7 * 86_400_000),
        "1m" => Some(30 * 86_400_000),
        _ => None,
    }
}

/// What the page needs, copied from the server's views under one read lock.
pub struct Snapshot {
    pub issue: String,
    pub title: String,
    pub tracker: String,
    pub issue_open: bool,
    pub last_synced: Option<Timestamp>,
    pub maturations: Vec<(Timestamp, &'static str)>,
    pub series: Option<views::SeriesView>,
    pub book: views::BookView,
    pub mine: Vec<views::OfferView>,
    pub position: Vec<views::PositionView>,
    pub balance: Option<(Amount, Amount)>,
    pub now: Timestamp,
}

pub fn snapshot(web: &Web, issue: &str, maturation: Option<Timestamp>, me: Option<&str>) -> Option<Snapshot> {
    let now = web.app.shared.clock.now();
    let engine = web.app.shared.engine();
    let x = engine.exchange();
    let iid = x.issue_id(issue)?;
    let is = x.issue(iid)?;
    let maturations: Vec<(Timestamp, &'static str)> =
        x.series_of_issue(iid).iter().filter_map(|s| x.series(*s)).map(|s| (s.maturation, s.status.as_str())).collect();
    let sid = maturation.and_then(|m| x.series_id(iid, m));
    let series = sid.and_then(|s| views::series(&engine, s));
    let mat = maturation.map(|m| m.to_rfc3339()).unwrap_or_default();
    let book = views::book(&engine, issue, &mat, 12).unwrap_or(views::BookView {
        issue: issue.to_owned(),
        maturation: mat,
        bids: vec![],
        asks: vec![],
    });
    let uid = me.and_then(|m| engine.user_id(m));
    let mut mine = Vec::new();
    let mut position = Vec::new();
    if let (Some(uid), Some(sid), Some(me)) = (uid, sid, me) {
        if let Some(s) = x.series(sid) {
            mine = s
                .offers
                .iter()
                .filter(|o| x.offer(**o).is_some_and(|o| o.user == uid && o.is_live()))
                .filter_map(|o| views::offer(&engine, x.offer_name(*o)))
                .collect();
        }
        position = views::positions(&engine, me)
            .into_iter()
            .filter(|p| p.issue == issue && Some(p.maturation) == maturation)
            .collect();
    }
    Some(Snapshot {
        issue: issue.to_owned(),
        title: is.title.clone(),
        tracker: is.tracker.clone(),
        issue_open: matches!(is.current(), IssueState::Open),
        last_synced: is.last_synced,
        maturations,
        series,
        book,
        mine,
        position,
        balance: me.filter(|_| uid.is_some()).map(|m| peerex_server::views::accounts::balance_of(&engine, m)),
        now,
    })
}

/// What the Fixed side's price means: the chance of a fix for a tracker-decided series, the
/// chance the statement holds for one decided by arbitration.
fn meaning(s: &Snapshot) -> &'static str {
    match &s.series {
        Some(v) if v.decided_by == "arbitration" => "chance the statement holds",
        _ => "chance of a fix",
    }
}

fn headline(s: &Snapshot, last: Option<&Point>) -> Markup {
    html! {
        div class="headline" data-part="headline" id="headline" {
            @match &s.series {
                None => {
                    p class="big" { "No market yet" }
                    p class="muted" { "Place the first offer below: pick a date and a price." }
                }
                Some(v) => {
                    @if let Some(p) = v.last_price {
                        p class="big" {
                            strong class="fixed-text" id="chance" { (fmt::pct(p)) }
                            " " (meaning(s)) " by " (fmt::due(v.maturation, s.now))
                        }
                    } @else {
                        p class="big" { "No trades yet" span class="muted" { " · matures " (fmt::time(v.maturation, s.now)) } }
                    }
                    @if let Some(t) = last {
                        p id="last-trade" { "Last trade: " (fmt::units(t.volume)) " unit" @if t.volume != 1 { "s" } " at "
                            (fmt::pct(t.price)) " (" (fmt::price_cr(t.price)) " per Fixed unit) "
                            (fmt::time(Timestamp::from_millis(t.at), s.now)) }
                    }
                    p class="muted small" {
                        "Best bid " (v.best_bid.map(fmt::pct).unwrap_or_else(|| "–".into()))
                        " · best ask " (v.best_ask.map(fmt::pct).unwrap_or_else(|| "–".into()))
                        " · volume " (fmt::units(v.volume)) " · open interest " (fmt::units(v.units))
                        " · escrow " (fmt::credits(v.escrow))
                    }
                    (state_line(s, v))
                }
            }
        }
    }
}

fn state_line(s: &Snapshot, v: &views::SeriesView) -> Markup {
    html! {
        p class="state" id="settlement" {
            @match v.status.as_str() {
                "open" => { span class="badge open" { "Open" } " trading until " (fmt::due(v.maturation, s.now)) }
                "matured" => {
                    span class="badge wait" { "Matured" }
                    @if v.decided_by == "arbitration" {
                        " waiting for the arbiters' reports"
                        @if let Some(t) = v.arbitration.as_ref().and_then(|a| a.report_deadline) { " (the window closes " (fmt::time(t, s.now)) ")" }
                    } @else if let Some(t) = v.dispute_until {
                        " in its dispute window: its tracker settles it " (fmt::time(t, s.now)) " unless disputed"
                    } @else if !v.waiting_for_sync {
                        " settling now"
                    } @else {
                        " waiting for a tracker sync after the maturation (the tracker "
                        (s.tracker) " was last seen "
                        @if let Some(t) = s.last_synced { (fmt::time(t, s.now)) } @else { "never" }
                        ")"
                    }
                }
                _ => {
                    span class="badge settled" { "Settled" }
                    @match v.winner {
                        Some(w) => { " " (side_badge(w)) " won: each " (w.as_str()) " unit paid 1 credit" }
                        None => {
                            @if let Some(o) = v.outcome {
                                " split: each Fixed unit paid " (fmt::credits(Amount(o.fixed_pays_micros())))
                            }
                        }
                    }
                    @if v.manual { " (decided by an admin)" }
                }
            }
        }
    }
}

fn chart(s: &Snapshot, pts: &[Point], range: &str) -> Markup {
    let now = s.now.millis();
    let from = match range_ms(range) {
        Some(ms) => now - ms,
        None => pts.first().map_or(now - 86_400_000, |p| p.at.min(now - 3_600_000)),
    };
    let data: Vec<(i64, u32)> = pts.iter().map(|p| (p.at, p.price.bp())).collect();
    let mat = s.series.as_ref().map(|v| v.maturation.to_rfc3339()).unwrap_or_default();
    html! {
        section class="card" data-part="chart" id="chart" {
            div class="row between" {
                h2 { (crate::fmt::capitalise(meaning(s))) " over time" }
                nav class="ranges" aria-label="Chart range" {
                    @for (r, label) in [("1d", "1 d"), ("1w", "1 w"), ("1m", "1 m"), ("all", "All")] {
                        a href={"/series?" (query(&[("issue", &s.issue), ("maturation", &mat), ("range", r)])) "#chart"}
                          aria-current=[((range == r) || (range.is_empty() && r == "all")).then_some("true")] { (label) }
                    }
                }
            }
            (price_chart(&data, from, now, &format!("Price of the Fixed side (the {}) over time", meaning(s)), "fixed"))
        }
    }
}

fn book(s: &Snapshot) -> Markup {
    let cum = |levels: &[views::LevelView]| {
        let mut c = 0u64;
        levels
            .iter()
            .map(|l| {
                c += l.volume;
                c
            })
            .collect::<Vec<u64>>()
    };
    let bc = cum(&s.book.bids);
    let ac = cum(&s.book.asks);
    let max = bc.last().copied().unwrap_or(0).max(ac.last().copied().unwrap_or(0)).max(1) as f64;
    html! {
        section class="card" data-part="book" id="book" {
            h2 { "Order book" }
            p class="muted small" { "Prices are the " (meaning(s)) ". Each unit pays 1 credit to the winning side." }
            div class="ladders" {
                div class="ladder" {
                    h3 { (side_badge(Side::Fixed)) " wanted (bids)" }
                    table {
                        thead { tr { th scope="col" { "Chance" } th scope="col" class="num" { "Units" } th scope="col" { span class="sr" { "Depth" } } } }
                        tbody {
                            @for (l, c) in s.book.bids.iter().zip(&bc) {
                                tr { td class="fixed-text" { (fmt::pct(l.price)) } td class="num" { (fmt::units(l.volume)) (maker_mark(l)) } td class="depth" { (bar(*c as f64 / max, "fixed")) } }
                            }
                            @if s.book.bids.is_empty() { tr { td colspan="3" class="muted" { "No bids" } } }
                        }
                    }
                }
                div class="ladder" {
                    h3 { (side_badge(Side::Unfixed)) " wanted (asks)" }
                    table {
                        thead { tr { th scope="col" { "Chance" } th scope="col" class="num" { "Units" } th scope="col" { span class="sr" { "Depth" } } } }
                        tbody {
                            @for (l, c) in s.book.asks.iter().zip(&ac) {
                                tr { td class="unfixed-text" { (fmt::pct(l.price)) } td class="num" { (fmt::units(l.volume)) (maker_mark(l)) } td class="depth" { (bar(*c as f64 / max, "unfixed")) } }
                            }
                            @if s.book.asks.is_empty() { tr { td colspan="3" class="muted" { "No asks" } } }
                        }
                    }
                }
            }
        }
    }
}

/// The market maker's share of a level, marked as such.
fn maker_mark(l: &views::LevelView) -> Markup {
    html! {
        @if l.maker_volume > 0 {
            " " span class="badge maker" title="Offered by the series' automated market maker" {
                "maker " (fmt::units(l.maker_volume))
            }
        }
    }
}

fn trades(s: &Snapshot, pts: &[Point]) -> Markup {
    html! {
        section class="card" data-part="trades" id="trades" {
            h2 { "Recent trades" }
            @if pts.is_empty() {
                p class="muted" { "No trades yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Chance" } th scope="col" class="num" { "Units" } } }
                    tbody {
                        @for p in pts.iter().rev().take(15) {
                            tr { td { (fmt::time(Timestamp::from_millis(p.at), s.now)) } td class="fixed-text" { (fmt::pct(p.price)) } td class="num" { (fmt::units(p.volume)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The preview of an offer: what it holds now and what it pays if it wins.
pub fn preview_text(kind: Option<OfferKind>, price: &str, volume: &str) -> Markup {
    let p = Price::parse(price.trim()).ok();
    let v = volume.trim().parse::<u64>().ok().filter(|v| *v > 0);
    html! {
        div class="preview" data-preview-out="" aria-live="polite" {
            @match (kind, p, v) {
                (Some(k), Some(p), Some(v)) => {
                    @let side = k.side();
                    @let cost = p.cost(v).unwrap_or_default();
                    @let chance = if side == Side::Fixed { p } else { p.complement() };
                    @if k.is_buy() {
                        p { "Holds " strong { (fmt::credits(cost)) } " from your available credits until it trades or you cancel." }
                        p { "If " (side_badge(side)) " wins, it pays " strong { (fmt::credits(Price::ONE.cost(v).unwrap_or_default())) }
                            " (profit " (fmt::credits(Price::ONE.cost(v).unwrap_or_default().checked_sub(cost).unwrap_or_default())) ")." }
                        p class="muted small" { "This price means a " (fmt::pct(chance)) " chance of a fix." }
                    } @else {
                        p { "Sells " (fmt::units(v)) " " (side_badge(side)) " units you hold, for " strong { (fmt::credits(cost)) } " when it trades." }
                        p class="muted small" { "You then no longer win or lose on them. This price means a " (fmt::pct(chance)) " chance of a fix." }
                    }
                }
                _ => { p class="muted" { "Choose what you want to do, a price between 0 and 1 and a number of units to see what it holds and pays." } }
            }
        }
    }
}

fn offer_form(v: &Viewer, s: &Snapshot, f: &OfferForm, errors: &[FormError]) -> Markup {
    let mat = s.series.as_ref().map(|x| x.maturation.to_rfc3339());
    let open = s.series.as_ref().is_none_or(|x| x.status == "open");
    let kind = kind_of(&f.kind);
    html! {
        section class="card" id="trade" {
            h2 { "Place an offer" }
            @if v.login.is_none() {
                p { a href="/login" { "Log in" } " or " a href="/signup" { "sign up" } " to trade." }
            } @else if !open {
                p class="muted" { "This series has matured: no more offers." }
            } @else {
                @if let Some((a, h)) = s.balance { p class="muted small" { "Available " (fmt::credits(a)) " · held " (fmt::credits(h)) } }
                form method="post" action="/offers" data-preview="/offers/preview" novalidate {
                    (csrf(v)) (form_key())
                    input type="hidden" name="issue" value=(s.issue);
                    (err_for(errors, "form"))
                    fieldset {
                        legend { "What do you want to do?" }
                        @for (value, label, help) in KINDS {
                            div class="choice" {
                                input type="radio" id={"k-" (value)} name="kind" value=(value)
                                    checked[f.kind == value || (f.kind.is_empty() && value == "buy_unfixed")]
                                    aria-describedby={"k-" (value) "-help"};
                                label for={"k-" (value)} { strong { (label) } }
                                small id={"k-" (value) "-help"} class="hint" { (help) }
                            }
                        }
                        (err_for(errors, "kind"))
                    }
                    @match &mat {
                        Some(m) => { input type="hidden" name="maturation" value=(m); }
                        None => { (field(errors, "maturation", "Fix by (maturation date)", "date", &f.maturation,
                            Some("The date by which the issue must be fixed; UTC midnight."), &[("required", "required")])) }
                    }
                    div class="row" {
                        (field(errors, "price", "Price per unit of your side", "text", &f.price,
                            Some("0 to 1 credit, up to 4 decimals, e.g. 0.40"), &[("inputmode", "decimal"), ("required", "required"), ("autocomplete", "off")]))
                        (field(errors, "volume", "Units", "number", &f.volume,
                            Some("Each unit pays 1 credit to the winner."), &[("min", "1"), ("step", "1"), ("required", "required")]))
                    }
                    details {
                        summary { "More options" }
                        div class="choice" {
                            input type="checkbox" id="f-aon" name="aon" value="true" checked[f.aon];
                            label for="f-aon" { "All or nothing" } small class="hint" { " trade only the full volume at once" }
                        }
                        div class="choice" {
                            input type="checkbox" id="f-poolable" name="poolable" value="true" checked[f.poolable];
                            label for="f-poolable" { "Poolable" } small class="hint" { " buy offers share one hold (the largest)" }
                        }
                        (field(errors, "expiration", "Expires (optional)", "date", &f.expiration, Some("Default: at the maturation."), &[]))
                    }
                    h3 { "Preview" }
                    (preview_text(kind, &f.price, &f.volume))
                    div class="row" {
                        button type="submit" name="action" value="place" id="place-offer" { "Place offer" }
                        button type="submit" name="action" value="preview" class="secondary" { "Preview" }
                    }
                }
            }
        }
    }
}

fn my_offers(v: &Viewer, s: &Snapshot, back: &str) -> Markup {
    html! {
        @if v.login.is_some() && s.series.is_some() {
            section class="card" id="my-offers" data-part="mine" {
                h2 { "My offers here" }
                @if s.mine.is_empty() {
                    p class="muted" { "None open." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Offer" } th scope="col" { "Price" } th scope="col" class="num" { "Left" } th scope="col" { span class="sr" { "Cancel" } } } }
                        tbody {
                            @for o in &s.mine {
                                tr {
                                    td { (kind_label(o.kind)) br; span class="muted small" { (o.id) " · " (o.status) " · expires " (fmt::time(o.expiration, s.now)) } }
                                    td { (fmt::price_cr(o.price)) }
                                    td class="num" { (fmt::units(o.remaining)) " / " (fmt::units(o.volume)) }
                                    td { (cancel_form(v, &o.id, back)) }
                                }
                            }
                        }
                    }
                }
                @for p in &s.position {
                    p { "You hold " (fmt::units(p.units)) " " (side_badge(p.side)) " units (cost " (fmt::credits(p.cost_basis)) ")." }
                }
            }
        }
    }
}

pub fn kind_label(k: OfferKind) -> Markup {
    let (label, side) = match k {
        OfferKind::BuyUnfixed => ("I fund the fix", Side::Unfixed),
        OfferKind::BuyFixed => ("I will fix it", Side::Fixed),
        OfferKind::SellFixed => ("Sell fixed", Side::Fixed),
        OfferKind::SellUnfixed => ("Sell unfixed", Side::Unfixed),
    };
    html! { (label) " " (side_badge(side)) }
}

pub fn cancel_form(v: &Viewer, id: &str, back: &str) -> Markup {
    html! {
        form method="post" action="/offers/cancel" class="inline" {
            (csrf(v))
            input type="hidden" name="offer" value=(id);
            input type="hidden" name="back" value=(back);
            button type="submit" class="small secondary" aria-label={"Cancel offer " (id)} { "Cancel" }
        }
    }
}

/// The parts that change when the market moves.
fn live_parts(s: &Snapshot, pts: &[Point], range: &str) -> Markup {
    html! {
        (headline(s, pts.last()))
        (chart(s, pts, range))
        div class="two" { (book(s)) (trades(s, pts)) }
    }
}

fn render(web: &Web, v: &Viewer, q: &SeriesQuery, form: &OfferForm, errors: &[FormError]) -> Response {
    let maturation = if q.maturation.is_empty() { None } else { fmt::parse_time(&q.maturation).ok() };
    let Some(mut s) = snapshot(web, &q.issue, maturation, v.name()) else {
        return error_page(v, 404, "unknown_issue", &format!("There is no issue {:?}.", q.issue));
    };
    // No maturation asked: the first open series, else the latest.
    if maturation.is_none() && !s.maturations.is_empty() {
        let m = s.maturations.iter().find(|m| m.1 == "open").or(s.maturations.last()).map(|m| m.0);
        if let Some(snap) = snapshot(web, &q.issue, m, v.name()) {
            s = snap;
        }
    }
    let mat = s.series.as_ref().map(|x| x.maturation.to_rfc3339()).unwrap_or_default();
    let pts = match &s.series {
        Some(x) => web.history.points(&s.issue, x.maturation),
        None => vec![],
    };
    let back = series_url(&s.issue, &mat);
    let live = format!("/live/series?{}", query(&[("issue", &s.issue), ("maturation", &mat), ("range", &q.range)]));
    let placed = (!q.placed.is_empty()).then(|| {
        let engine = web.app.shared.engine();
        peerex_server::views::exchange::offer(&engine, &q.placed).and_then(|o| serde_json::to_value(o).ok())
    });
    let body = html! {
        nav class="crumbs" aria-label="Breadcrumb" { a href="/" { "Issues" } " › " (s.issue) }
        h1 { (s.issue) @if !s.title.is_empty() { ": " span class="title" { (s.title) } } }
        p class="muted small" { "Tracker " (s.tracker) " · " @if s.issue_open { "open" } @else { "closed" } }
        @if s.maturations.len() > 1 || (s.series.is_none() && !s.maturations.is_empty()) {
            nav class="tabs" aria-label="Maturations" {
                @for (m, st) in &s.maturations {
                    a href=(series_url(&s.issue, &m.to_rfc3339())) aria-current=[(m.to_rfc3339() == mat).then_some("page")] {
                        "by " (fmt::date(*m)) @if *st != "open" { " (" (st) ")" }
                    }
                }
            }
        }
        @if let Some(Some(o)) = &placed {
            p class="flash" role="status" { "Your offer " (o["id"].as_str().unwrap_or("")) " is " (o["status"].as_str().unwrap_or(""))
                ": " (o["remaining"]) " of " (o["volume"]) " units left." }
        }
        (live_parts(&s, &pts, &q.range))
        @if let Some(m) = s.series.as_ref().and_then(|x| crate::pages::arbitration::mechanisms(web, &s.issue, x.maturation, v.name())) {
            (crate::pages::arbitration::card(v, &m))
        }
        div class="two" {
            (offer_form(v, &s, form, errors))
            (my_offers(v, &s, &back))
        }
    };
    let status =
        if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    (status, frame(v, &s.issue, Nav::Issues, Some(&live), body)).into_response()
}

pub async fn page(State(web): State<Web>, v: Viewer, Query(q): Query<SeriesQuery>) -> Response {
    render(&web, &v, &q, &OfferForm { volume: "10".into(), ..Default::default() }, &[])
}

pub async fn live(State(web): State<Web>, v: Viewer, Query(q): Query<SeriesQuery>) -> Response {
    let maturation = fmt::parse_time(&q.maturation).ok();
    let Some(s) = snapshot(&web, &q.issue, maturation, v.name()) else {
        return (axum::http::StatusCode::NOT_FOUND, "no such issue").into_response();
    };
    let pts = match &s.series {
        Some(x) => web.history.points(&s.issue, x.maturation),
        None => vec![],
    };
    let back = series_url(&s.issue, &q.maturation);
    Html(html! { (live_parts(&s, &pts, &q.range)) (my_offers(&v, &s, &back)) }.into_string()).into_response()
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    volume: String,
}

/// The preview fragment, as the person types (static/forms.js).
pub async fn preview(Query(q): Query<PreviewQuery>) -> Response {
    Html(preview_text(kind_of(&q.kind), &q.price, &q.volume).into_string()).into_response()
}

pub async fn place(State(web): State<Web>, p: Posted) -> Response {
    let f = &p.fields;
    let issue = f.str("issue");
    let form = OfferForm {
        kind: f.str("kind"),
        price: f.str("price"),
        volume: f.str("volume"),
        aon: f.checked("aon"),
        poolable: f.checked("poolable"),
        expiration: f.str("expiration"),
        maturation: f.str("maturation"),
    };
    let q = SeriesQuery { issue: issue.clone(), maturation: form.maturation.clone(), ..Default::default() };
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let mut errors = Vec::new();
    let kind = kind_of(&form.kind);
    if kind.is_none() {
        errors.push(FormError::new("kind", "invalid_kind", "Choose one of the four kinds."));
    }
    let price = Price::parse(&form.price).map_err(|e| errors.push(FormError::new("price", e.code(), e.message())));
    let volume = form
        .volume
        .parse::<u64>()
        .map_err(|_| errors.push(FormError::new("volume", "invalid_volume", "Units is a whole number, 1 or more.")));
    let maturation =
        fmt::parse_time(&form.maturation).map_err(|e| errors.push(FormError::new("maturation", e.code(), e.message())));
    let expiration = if form.expiration.is_empty() {
        Ok(None)
    } else {
        fmt::parse_time(&form.expiration)
            .map(Some)
            .map_err(|e| errors.push(FormError::new("expiration", e.code(), e.message())))
    };
    let (Some(kind), Ok(price), Ok(volume), Ok(maturation), Ok(expiration)) =
        (kind, price, volume, maturation, expiration)
    else {
        return render(&web, &p.viewer, &q, &form, &errors);
    };
    if f.get("action") == Some("preview") {
        return render(&web, &p.viewer, &q, &form, &[]);
    }
    let b = PlaceOffer {
        kind,
        issue: issue.clone(),
        maturation,
        price,
        volume,
        aon: form.aon,
        poolable: form.poolable,
        expiration,
    };
    let key = crate::pages::account::form_idempotency(f.get("form_key"), "offer");
    match outcome(api::place_offer(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(body) => {
            let id = body["id"].as_str().unwrap_or("");
            let url = format!(
                "/series?{}#trade",
                query(&[("issue", &issue), ("maturation", &maturation.to_rfc3339()), ("placed", id)])
            );
            see_other(&url)
        }
        Err(body) => {
            let e = FormError::from_api(&body, &["price", "volume", "maturation", "expiration", "kind"], "form");
            let e = if e.field == "form" && body["code"].as_str().is_some_and(|c| c.contains("fund")) {
                FormError { field: "volume".into(), ..e }
            } else {
                e
            };
            render(&web, &p.viewer, &q, &form, &[e])
        }
    }
}

/// Only paths on this site are followed back after a post.
pub fn safe_back(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && !back.starts_with("/\\") {
        back
    } else {
        "/portfolio"
    }
}

pub async fn cancel(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let id = p.fields.str("offer");
    let back = p.fields.str("back");
    match outcome(api::cancel_offer(State(web.app.clone()), login.user(), IdempotencyKey(None), PathId(id)).await) {
        Ok(_) => see_other(safe_back(&back)),
        Err(body) => error_page(
            &p.viewer,
            422,
            body["code"].as_str().unwrap_or("error"),
            body["message"].as_str().unwrap_or("the offer could not be cancelled"),
        ),
    }
}
