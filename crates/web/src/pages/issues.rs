//! Issues (the home page): per maturation, the market's chance of a fix, its 24 h change,
//! volume, open interest and a trend; search, filters, sorting, paging; opening a local issue.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use peerex_engine::exchange::types::IssueState;
use peerex_engine::Timestamp;
use peerex_server::http::exchange::{self as api, OpenIssue};
use peerex_server::http::extract::Body;
use peerex_server::views::exchange as views;
use serde::Deserialize;

use crate::charts::sparkline;
use crate::fmt;
use crate::layout::{csrf, err_for, field, form_key, frame, query, see_other, series_url, FormError, Nav};
use crate::pages::account::outcome;
use crate::session::{Posted, Viewer};
use crate::Web;

pub const PER_PAGE: usize = 25;
const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize, Default, Clone, Debug)]
pub struct Filter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub tracker: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: usize,
}

impl Filter {
    fn pairs(&self, page: usize) -> String {
        let p = page.to_string();
        let mut v: Vec<(&str, &str)> = vec![];
        for (k, val) in [("q", &self.q), ("tracker", &self.tracker), ("status", &self.status), ("sort", &self.sort)] {
            if !val.is_empty() {
                v.push((k, val));
            }
        }
        if page > 0 {
            v.push(("page", &p));
        }
        query(&v)
    }
}

pub struct IssueRow {
    pub name: String,
    pub title: String,
    pub tracker: String,
    pub open: bool,
    pub order: usize,
    /// The server's view of each series, by maturation.
    pub series: Vec<views::SeriesView>,
}

impl IssueRow {
    fn headline_price(&self) -> i64 {
        self.series
            .iter()
            .find(|s| s.status == "open" && s.fixed_price.is_some())
            .or_else(|| self.series.iter().find(|s| s.fixed_price.is_some()))
            .and_then(|s| s.fixed_price)
            .map_or(-1, |p| i64::from(p.bp()))
    }
    fn volume(&self) -> u64 {
        self.series.iter().map(|s| s.volume).sum()
    }
}

/// The rows matching the filter, sorted, and how many matched.
pub fn rows(web: &Web, f: &Filter) -> (Vec<IssueRow>, usize, Vec<String>) {
    let engine = web.app.shared.engine();
    let x = engine.exchange();
    let q = f.q.trim().to_lowercase();
    // One pass over the series (not one per issue): 1,000s of issues stay fast.
    let mut by_issue: Vec<Vec<peerex_engine::ids::SeriesId>> = Vec::new();
    by_issue.resize_with(x.issue_count(), Vec::new);
    for (sid, s) in x.all_series() {
        if let Some(v) = by_issue.get_mut(s.issue.index()) {
            v.push(sid);
        }
    }
    let mut trackers: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for ((iid, issue), sids) in x.all_issues().zip(by_issue) {
        if !trackers.contains(&issue.tracker) {
            trackers.push(issue.tracker.clone());
        }
        let name = x.issue_name(iid);
        let open = matches!(issue.current(), IssueState::Open);
        if !f.tracker.is_empty() && issue.tracker != f.tracker {
            continue;
        }
        match f.status.as_str() {
            "open" if !open => continue,
            "closed" if open => continue,
            _ => {}
        }
        if !q.is_empty() && !name.to_lowercase().contains(&q) && !issue.title.to_lowercase().contains(&q) {
            continue;
        }
        let mut series: Vec<views::SeriesView> = sids.into_iter().filter_map(|s| views::series(&engine, s)).collect();
        series.sort_by_key(|s| s.maturation);
        out.push(IssueRow {
            name: name.to_owned(),
            title: issue.title.clone(),
            tracker: issue.tracker.clone(),
            open,
            order: iid.index(),
            series,
        });
    }
    drop(engine);
    match f.sort.as_str() {
        "price" => out.sort_by_key(|r| std::cmp::Reverse(r.headline_price())),
        "volume" => out.sort_by_key(|r| std::cmp::Reverse(r.volume())),
        _ => out.sort_by_key(|r| std::cmp::Reverse(r.order)),
    }
    let total = out.len();
    trackers.sort();
    (out, total, trackers)
}

fn table(web: &Web, f: &Filter, rows: &[IssueRow], total: usize, now: Timestamp) -> Markup {
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page_no = f.page.min(pages - 1);
    html! {
        div id="issues-table" data-part="issues-table" {
            p class="muted" aria-live="polite" { (total) " issue" @if total != 1 { "s" } }
            ul class="issues" {
                @for r in rows.iter().skip(page_no * PER_PAGE).take(PER_PAGE) {
                    li class="issue card" {
                        div class="issue-head" {
                            a class="issue-name" href=(series_url(&r.name, "")) { (r.name) }
                            @if !r.open { span class="badge closed" { "Closed" } }
                            span class="muted small" { (r.tracker) }
                        }
                        @if !r.title.is_empty() { p class="issue-title" { (r.title) } }
                        @if r.series.is_empty() {
                            p class="muted small" { "No market yet. " a href=(series_url(&r.name, "")) { "Place the first offer" } }
                        } @else {
                            table class="mats" {
                                thead { tr {
                                    th scope="col" { "Chance of a fix by" }
                                    th scope="col" class="num" { "24 h" }
                                    th scope="col" class="num opt" { "Volume" }
                                    th scope="col" class="num opt" { "Open interest" }
                                    th scope="col" class="opt" { "Trend" }
                                } }
                                tbody {
                                    @for s in &r.series {
                                        (series_cells(web, &r.name, s, now))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav class="pager" aria-label="Pages" {
                    @if page_no > 0 { a href={"/?" (f.pairs(page_no - 1))} rel="prev" { "← Newer" } }
                    span { "Page " (page_no + 1) " of " (pages) }
                    @if page_no + 1 < pages { a href={"/?" (f.pairs(page_no + 1))} rel="next" { "Older →" } }
                }
            }
        }
    }
}

fn series_cells(web: &Web, issue: &str, s: &views::SeriesView, now: Timestamp) -> Markup {
    let mat = s.maturation.to_rfc3339();
    let (spark, change) = web.history.with(issue, s.maturation, |pts| {
        let last: Vec<u32> = pts.iter().rev().take(30).rev().map(|p| p.price.bp()).collect();
        let cutoff = now.millis() - DAY_MS;
        let before = pts.iter().rev().find(|p| p.at <= cutoff).map(|p| i64::from(p.price.bp()));
        let latest = pts.last().map(|p| i64::from(p.price.bp()));
        let change = match (before, latest) {
            (Some(b), Some(l)) => Some(l - b),
            (None, Some(l)) if pts.first().is_some_and(|p| p.at > cutoff) => Some(l - i64::from(pts[0].price.bp())),
            _ => None,
        };
        (last, change)
    });
    html! {
        tr {
            td {
                a href=(series_url(issue, &mat)) class="chance" {
                    @match (s.status.as_str(), s.fixed_price) {
                        ("settled", _) => {
                            @match s.winner {
                                Some(w) => { "Settled: " (crate::layout::side_badge(w)) " won" }
                                None => { "Settled (split)" }
                            }
                        }
                        (_, Some(p)) => { strong class="fixed-text" { (fmt::pct(p)) } }
                        (_, None) => { span class="muted" { "no trades" } }
                    }
                }
                " " span class="small" { "by " (fmt::due(s.maturation, now)) }
            }
            td class="num" { @if let Some(c) = change { (fmt::pts(c)) } @else { span class="muted" { "–" } } }
            td class="num opt" { (fmt::units(s.volume)) }
            td class="num opt" { (fmt::units(s.open_interest)) }
            td class="opt" { (sparkline(&spark, &format!("Recent prices of {issue}"))) }
        }
    }
}

fn filters(f: &Filter, trackers: &[String]) -> Markup {
    html! {
        form class="filters" method="get" action="/" role="search" {
            div class="field grow" {
                label for="f-q" { "Search" }
                input id="f-q" type="search" name="q" value=(f.q) placeholder="issue or title";
            }
            div class="field" {
                label for="f-tracker" { "Tracker" }
                select id="f-tracker" name="tracker" {
                    option value="" { "All" }
                    @for t in trackers { option value=(t) selected[f.tracker == *t] { (t) } }
                }
            }
            div class="field" {
                label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    option value="" { "All" }
                    option value="open" selected[f.status == "open"] { "Open" }
                    option value="closed" selected[f.status == "closed"] { "Closed" }
                }
            }
            div class="field" {
                label for="f-sort" { "Sort" }
                select id="f-sort" name="sort" {
                    option value="newest" selected[f.sort.is_empty() || f.sort == "newest"] { "Newest" }
                    option value="price" selected[f.sort == "price"] { "Chance of a fix" }
                    option value="volume" selected[f.sort == "volume"] { "Volume" }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

fn open_form(v: &Viewer, errors: &[FormError], issue: &str, title: &str) -> Markup {
    html! {
        details class="card" open[!errors.is_empty()] {
            summary { "Open an issue on the local tracker" }
            form method="post" action="/issues" {
                (csrf(v)) (form_key())
                (err_for(errors, "form"))
                (field(errors, "issue", "Issue id", "text", issue, Some("A short name, e.g. local#42."), &[("required", "required"), ("maxlength", "200")]))
                (field(errors, "title", "Title", "text", title, None, &[("maxlength", "500")]))
                button type="submit" { "Open issue" }
            }
        }
    }
}

fn body(web: &Web, v: &Viewer, f: &Filter, errors: &[FormError], fields: (&str, &str)) -> Markup {
    let now = web.app.shared.clock.now();
    let (rows, total, trackers) = rows(web, f);
    let any = total > 0 || !f.q.is_empty() || !f.tracker.is_empty() || !f.status.is_empty();
    html! {
        h1 { "Issues" }
        p class="lead" { "Each price is the market's chance that the issue is fixed by the date. Fund a fix, or get paid for fixing." }
        // A demo starts empty and fills while the person watches: its card is there from the start.
        @if any || v.demo { (latest_trades(web)) }
        @if any {
            (filters(f, &trackers))
            (table(web, f, &rows, total, now))
        } @else {
            section class="card empty" {
                h2 { "No issues yet" }
                p { "Issues come from a tracker. Open one on the local tracker below, or connect GitHub: start the server with "
                    code { "PEEREX_GITHUB_REPOS=owner/name" } " and its issues appear here after the next sync." }
                p { "Then anyone can fund a fix (buy the " span class="badge unfixed" { "Unfixed" } " side) or offer to fix it (buy the "
                    span class="badge fixed" { "Fixed" } " side)." }
            }
        }
        @if v.login.is_some() {
            (open_form(v, errors, fields.0, fields.1))
        } @else {
            p { a href="/login" { "Log in" } " or " a href="/signup" { "sign up" } " to open issues and trade." }
        }
    }
}

pub async fn page(State(web): State<Web>, v: Viewer, Query(f): Query<Filter>) -> Response {
    let live = format!("/live/issues?{}", f.pairs(f.page));
    frame(&v, "Issues", Nav::Issues, Some(&live), body(&web, &v, &f, &[], ("", ""))).into_response()
}

/// The live part of the home page (static/live.js swaps it in when the market moves).
pub async fn live(State(web): State<Web>, Query(f): Query<Filter>) -> Response {
    let now = web.app.shared.clock.now();
    let (rows, total, _) = rows(&web, &f);
    let html = html! { (latest_trades(&web)) (table(&web, &f, &rows, total, now)) };
    axum::response::Html(html.into_string()).into_response()
}

/// The latest trades of any series (a live part: new trades appear without a reload).
fn latest_trades(web: &Web) -> Markup {
    let latest = web.history.latest();
    let now = web.app.shared.clock.now();
    html! {
        section class="card" id="latest-trades" data-part="latest-trades" aria-labelledby="latest-h" {
            h2 id="latest-h" { "Latest trades" }
            @if latest.is_empty() {
                p class="muted small" { "No trades yet." }
            } @else {
                ul class="latest" {
                    @for (issue, mat, p) in &latest {
                        li class="trade" {
                            a class="issue-name" href=(series_url(issue, &mat.to_rfc3339())) { (issue) }
                            span { (crate::fmt::pct(p.price)) " chance of a fix by " (crate::fmt::day(*mat)) }
                            span class="muted small" { (crate::fmt::units(p.volume)) " unit" @if p.volume != 1 { "s" } " · " (crate::fmt::time(crate::fmt::ts(p.at), now)) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn open(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let (issue, title) = (p.fields.str("issue"), p.fields.str("title"));
    let b = OpenIssue { issue: issue.clone(), title: title.clone(), labels: vec![] };
    let key = crate::pages::account::form_idempotency(p.fields.get("form_key"), "open");
    match outcome(api::open_issue(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(_) => see_other(&series_url(&issue, "")),
        Err(body) => {
            let e = vec![FormError::from_api(&body, &["issue", "title"], "form")];
            let b = body_with(&web, &p.viewer, &e, (&issue, &title));
            (axum::http::StatusCode::UNPROCESSABLE_ENTITY, frame(&p.viewer, "Issues", Nav::Issues, None, b))
                .into_response()
        }
    }
}

fn body_with(web: &Web, v: &Viewer, e: &[FormError], fields: (&str, &str)) -> Markup {
    body(web, v, &Filter::default(), e, fields)
}
