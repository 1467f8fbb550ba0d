//! My portfolio: available and held credits, positions with cost basis, mark and P&L, open
//! offers with cancel, my events, and a CSV export of the positions.
//!
//! Positions and open offers are shown [`PER_PAGE`] at a time (`?page=`, `?offers=`): a user
//! holding thousands of positions still gets the page in a few milliseconds, and the CSV export
//! has them all.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use peerex_engine::exchange::types::Side;
use peerex_engine::{Amount, Price, Timestamp};
use peerex_server::views::exchange as views;
use serde_json::Value;

use crate::fmt;
use crate::layout::{frame, query, see_other, series_url, side_badge, Nav};
use crate::pages::series::{cancel_form, kind_label};
use crate::session::Viewer;
use crate::Web;

pub struct Row {
    pub pos: views::PositionView,
    /// The side's price now (last trade, or the payout once settled).
    pub mark: Option<Price>,
    pub status: String,
}

/// Rows of positions, and of open offers, per page.
pub const PER_PAGE: usize = 50;

pub struct Portfolio {
    pub available: Amount,
    pub held: Amount,
    /// The positions of the page asked for.
    pub rows: Vec<Row>,
    /// How many positions there are in all.
    pub positions: usize,
    /// The open offers of the page asked for.
    pub offers: Vec<views::OfferView>,
    /// How many open offers there are in all.
    pub open_offers: usize,
    pub now: Timestamp,
}

/// Which page of positions and of open offers (0-based; past the end shows the last page).
#[derive(Debug, Default, Clone, Copy, serde::Deserialize)]
pub struct Pages {
    #[serde(default)]
    pub page: usize,
    #[serde(default)]
    pub offers: usize,
}

/// The page's index clamped to the pages there are, and how many pages there are.
fn clamp(page: usize, total: usize) -> (usize, usize) {
    let pages = total.div_ceil(PER_PAGE).max(1);
    (page.min(pages - 1), pages)
}

/// The portfolio from the server's views (positions, offers, balance) and each series' view:
/// every position and open offer when `pages` is `None` (the CSV), else the pages asked for.
pub fn portfolio(web: &Web, name: &str, pages: Option<Pages>) -> Portfolio {
    let now = web.app.shared.clock.now();
    let engine = web.app.shared.engine();
    let x = engine.exchange();
    let (available, held) = peerex_server::views::accounts::balance_of(&engine, name);
    let all = views::positions(&engine, name);
    let positions = all.len();
    let window = |page: usize, total: usize| match pages {
        Some(_) => (clamp(page, total).0 * PER_PAGE, PER_PAGE),
        None => (0, usize::MAX),
    };
    let (skip, take) = window(pages.unwrap_or_default().page, positions);
    let rows = all
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|pos| {
            let sv = x
                .issue_id(&pos.issue)
                .and_then(|i| x.series_id(i, pos.maturation))
                .and_then(|s| views::series(&engine, s));
            let status = sv.as_ref().map_or_else(|| "open".to_owned(), |s| s.status.clone());
            let fixed = sv.as_ref().and_then(|s| match s.outcome {
                Some(o) => Price::from_bp((o.fixed_pays_micros() / 100) as u32),
                None => s.fixed_price,
            });
            let mark = fixed.map(|p| if pos.side == Side::Fixed { p } else { p.complement() });
            Row { pos, mark, status }
        })
        .collect();
    let mut offers: Vec<views::OfferView> = views::offers_of(&engine, name, None)
        .into_iter()
        .filter(|o| o.status == "open" || o.status == "suspended")
        .collect();
    let open_offers = offers.len();
    let (skip, take) = window(pages.unwrap_or_default().offers, open_offers);
    offers = offers.into_iter().skip(skip).take(take).collect();
    Portfolio { available, held, rows, positions, offers, open_offers, now }
}

/// The pager under a table: `key` is the query parameter it moves, `other` the other table's.
fn pager(label: &str, key: &str, at: usize, total: usize, other: (&str, usize), anchor: &str) -> Markup {
    let (at, pages) = clamp(at, total);
    let link = |n: usize| {
        let (a, b) = (n.to_string(), other.1.to_string());
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if n > 0 {
            pairs.push((key, &a));
        }
        if other.1 > 0 {
            pairs.push((other.0, &b));
        }
        format!("/portfolio{}#{anchor}", if pairs.is_empty() { String::new() } else { format!("?{}", query(&pairs)) })
    };
    html! {
        @if pages > 1 {
            nav class="pager" aria-label=(label) {
                @if at > 0 { a href=(link(at - 1)) rel="prev" { "← Previous" } }
                span { "Page " (at + 1) " of " (pages) " · " (total) " in all" }
                @if at + 1 < pages { a href=(link(at + 1)) rel="next" { "Next →" } }
            }
        }
    }
}

fn pnl(a: Option<Amount>) -> Markup {
    match a {
        Some(a) => {
            let class = if a.micros() > 0 {
                "gain"
            } else if a.micros() < 0 {
                "loss"
            } else {
                ""
            };
            html! { span class=(class) { (fmt::signed_credits(a)) } }
        }
        None => html! { span class="muted" { "–" } },
    }
}

fn event_line(e: &Value) -> String {
    let ty = e["type"].as_str().unwrap_or("event");
    let s = |k: &str| e[k].as_str().map(str::to_owned).unwrap_or_else(|| e[k].to_string());
    match ty {
        "deposited" => format!("Deposit of {} cr", s("amount")),
        "withdrew" => format!("Withdrawal of {} cr", s("amount")),
        "traded" => {
            let chance = e["price"].as_str().and_then(|p| Price::parse(p).ok()).map(fmt::pct).unwrap_or_default();
            format!("Trade on {}: {} units at a {chance} chance of a fix", s("issue"), s("volume"))
        }
        "offer_placed" => format!("Offer {} placed", s("offer")),
        "offer_cancelled" => format!("Offer {} cancelled", s("offer")),
        "payout" => format!("Payout on {}: {} cr for {} {} units", s("issue"), s("amount"), s("units"), s("side")),
        "series_settled" => format!("{} settled: {} won", s("issue"), s("winner")),
        other => other.replace('_', " "),
    }
}

pub async fn page(State(web): State<Web>, v: Viewer, Query(at): Query<Pages>) -> Response {
    let Some(name) = v.name().map(str::to_owned) else { return see_other("/login") };
    let p = portfolio(&web, &name, Some(at));
    // The newest 30 events, newest first.
    let events = web.app.store.feed_latest(&name, 30).await.unwrap_or_default();
    let events: Vec<Value> = events.iter().filter_map(|(_, b)| serde_json::from_str(b).ok()).collect();
    let body = html! {
        h1 { "Portfolio" }
        div class="stats" {
            div class="stat card" { span class="label" { "Available" } strong id="available" { (fmt::credits(p.available)) } }
            div class="stat card" { span class="label" { "Held by open offers" } strong id="held" { (fmt::credits(p.held)) } }
        }
        @if p.rows.is_empty() && p.offers.is_empty() {
            section class="card empty" {
                h2 { "Nothing here yet" }
                p { "Credits come from an admin's deposit (in the sandbox, ask the operator). Then pick an issue on the "
                    a href="/" { "Issues" } " page: fund a fix by buying the " span class="badge unfixed" { "Unfixed" }
                    " side, or offer to fix it by buying the " span class="badge fixed" { "Fixed" } " side." }
            }
        }
        @if !p.rows.is_empty() {
            section class="card" id="positions" {
                div class="row between" { h2 { "Positions" } a href="/portfolio.csv" download="positions.csv" { "Export CSV" } }
                div class="scroll" {
                    table {
                        thead { tr {
                            th scope="col" { "Series" } th scope="col" { "Side" } th scope="col" class="num" { "Units" }
                            th scope="col" class="num opt" { "Cost basis" } th scope="col" class="num opt" { "Mark" }
                            th scope="col" class="num" { "Realised" } th scope="col" class="num" { "Unrealised" }
                        } }
                        tbody {
                            @for r in &p.rows {
                                tr {
                                    td { a href=(series_url(&r.pos.issue, &r.pos.maturation.to_rfc3339())) { (r.pos.issue) }
                                        br; span class="muted small" { "by " (fmt::date(r.pos.maturation)) " · " (r.status) } }
                                    td { (side_badge(r.pos.side)) }
                                    td class="num" { (fmt::units(r.pos.units)) }
                                    td class="num opt" { (fmt::credits(r.pos.cost_basis)) }
                                    td class="num opt" { @if let Some(m) = r.mark { (fmt::price_cr(m)) } @else { "–" } }
                                    td class="num" { (pnl(Some(r.pos.realized_pnl))) }
                                    td class="num" { (pnl(r.pos.unrealized_pnl)) }
                                }
                            }
                        }
                    }
                }
                (pager("Pages of positions", "page", at.page, p.positions, ("offers", at.offers), "positions"))
            }
        }
        @if !p.offers.is_empty() {
            section class="card" id="offers" {
                h2 { "Open offers" }
                div class="scroll" {
                    table {
                        thead { tr { th scope="col" { "Offer" } th scope="col" { "Series" } th scope="col" { "Price" } th scope="col" class="num" { "Left" } th scope="col" { span class="sr" { "Cancel" } } } }
                        tbody {
                            @for o in &p.offers {
                                tr {
                                    td { (kind_label(o.kind)) br; span class="muted small" { (o.id) } }
                                    td { a href=(series_url(&o.issue, &o.maturation.to_rfc3339())) { (o.issue) } }
                                    td { (fmt::price_cr(o.price)) }
                                    td class="num" { (fmt::units(o.remaining)) " / " (fmt::units(o.volume)) }
                                    td { (cancel_form(&v, &o.id, "/portfolio")) }
                                }
                            }
                        }
                    }
                }
                (pager("Pages of open offers", "offers", at.offers, p.open_offers, ("page", at.page), "offers"))
            }
        }
        section class="card" id="events" {
            h2 { "My events" }
            @if events.is_empty() { p class="muted" { "No events yet." } }
            ul class="events" {
                @for e in &events {
                    li {
                        @if let Some(t) = e["at"].as_str().and_then(|s| Timestamp::parse(s).ok()) { (fmt::time(t, p.now)) " · " }
                        (event_line(e))
                    }
                }
            }
        }
    };
    frame(&v, "Portfolio", Nav::Portfolio, None, body).into_response()
}

fn csv_field(s: &str) -> String {
    // Quote, and defuse spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub async fn csv(State(web): State<Web>, v: Viewer) -> Response {
    let Some(name) = v.name() else { return see_other("/login") };
    let p = portfolio(&web, name, None);
    let mut out = String::from("issue,maturation,side,units,held,cost_basis,mark,realized_pnl,unrealized_pnl,status\n");
    for r in &p.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            csv_field(&r.pos.issue),
            r.pos.maturation,
            r.pos.side.as_str(),
            r.pos.units,
            r.pos.held,
            r.pos.cost_basis,
            r.mark.map(|m| m.to_string()).unwrap_or_default(),
            r.pos.realized_pnl,
            r.pos.unrealized_pnl.map(|a| a.to_string()).unwrap_or_default(),
            r.status
        ));
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"positions.csv\""),
        ],
        out,
    )
        .into_response()
}
