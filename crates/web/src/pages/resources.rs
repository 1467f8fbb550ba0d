//! The resource (backup) market (spec/resources.md, seed 003 Figure 1): a peer's page with its
//! three sliders (space, upload, download), each with its thick effective region, and the pie
//! chart of the backup space it can use, which follows the sliders as they move (the server's
//! preview view, asked by static/resources.js); registering as a peer; and the operator's page
//! (prices, supply and demand per resource, balances, frozen peers). Peers see no prices or
//! balances (the hidden market); writes go through the server's peer handlers and its writer.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use peerex_engine::Amount;
use peerex_server::http::extract::Body;
use peerex_server::http::peers::{self as api, Online, Sliders};
use peerex_server::views::{self, PeerView};
use serde::Deserialize;

use crate::assets;
use crate::charts::pie;
use crate::fmt;
use crate::layout::{csrf, err_for, error_page, form_key, frame, see_other, FormError, Nav};
use crate::pages::account::{form_idempotency, outcome};
use crate::session::{Posted, Viewer};
use crate::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/resources", get(page))
        .route("/resources/preview", get(preview))
        .route("/resources/register", post(register))
        .route("/resources/sliders", post(sliders))
        .route("/resources/online", post(online))
        .route("/resources/operator", get(operator))
        .route("/resources/settle", post(settle))
        .route("/resources/prices", post(prices))
}

/// The three sliders: form name, label, unit, the top of the range.
const SLIDERS: [(&str, &str, &str, f64); 3] = [
    ("space_gb", "Disk space you give", "GB", 1000.0),
    ("upload_gb", "Upload you allow", "GB a day", 50.0),
    ("download_gb", "Download you allow", "GB a day", 50.0),
];

/// Element `i` of a view's list of three (0 if absent).
fn at(v: &[f64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(0.0)
}

/// Gigabytes for people: `12.5 GB`, `1,200 GB`.
pub fn gb(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return "0 GB".into();
    }
    if x >= 100.0 {
        format!("{} GB", fmt::units(x.round() as u64))
    } else if x >= 10.0 {
        format!("{:.1} GB", x)
    } else {
        format!("{:.2} GB", x)
    }
}

fn num(x: f64) -> String {
    let s = format!("{:.3}", x.max(0.0));
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".into()
    } else {
        s.to_owned()
    }
}

/// Slider values as typed (GB, GB a day).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SliderForm {
    #[serde(default)]
    pub space_gb: String,
    #[serde(default)]
    pub upload_gb: String,
    #[serde(default)]
    pub download_gb: String,
}

impl SliderForm {
    fn parse(&self) -> Result<[Amount; 3], FormError> {
        let one = |name: &str, s: &str| {
            Amount::parse(s.trim()).ok().filter(|a| !a.is_negative()).ok_or_else(|| {
                FormError::new(name, "invalid_argument", "A slider is a number of GB, 0 or more, such as 120 or 2.5.")
            })
        };
        Ok([
            one("space_gb", &self.space_gb)?,
            one("upload_gb", &self.upload_gb)?,
            one("download_gb", &self.download_gb)?,
        ])
    }
    fn of(v: &PeerView) -> SliderForm {
        SliderForm {
            space_gb: num(at(&v.sliders.caps, 0)),
            upload_gb: num(at(&v.sliders.caps, 1)),
            download_gb: num(at(&v.sliders.caps, 2)),
        }
    }
}

/// The pie chart of Figure 1 and the numbers beside it: what the sliders give.
fn balance_part(v: &PeerView) -> Markup {
    let p = &v.pie;
    html! {
        div class="rm-balance" data-rpart="balance" id="balance" {
            p class="big" { "You can back up " strong id="available-gb" { (gb(p.available_gb)) } " more" }
            p class="muted" { "Your backup space: " (gb(p.capacity_gb)) " in all, " (gb(p.used_gb)) " used." }
            (pie(&[("Used".into(), "rm-used", p.used_gb), ("Available".into(), "rm-avail", p.available_gb)],
                &format!("Your resource balance: {} used, {} available", gb(p.used_gb), gb(p.available_gb))))
        }
    }
}

/// One slider's thick effective region, drawn under it.
fn track(v: &PeerView, i: usize, max: f64) -> Markup {
    let cap = at(&v.sliders.caps, i);
    let end = v.sliders.thick_end.get(i).copied().flatten();
    let thick = end.unwrap_or(max).min(max).max(0.0);
    let w = |x: f64| (x / max * 100.0).clamp(0.0, 100.0);
    let beyond = end.is_some_and(|e| cap > e + 1e-9);
    html! {
        div class="rm-track" data-rpart={"track-" (i)} id={"track-" (i)} {
            svg class="rm-line" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" {
                rect class="thin" x="0" y="2.5" width="100" height="1" {}
                rect class="thick" x="0" y="0.5" width=(format!("{:.2}", w(thick))) height="5" {}
            }
            p class="hint" id={"hint-" (i)} {
                @match end {
                    Some(e) if beyond => { span class="rm-warn" { "Beyond " (gb(e)) " this adds nothing" } " until you raise the other sliders." }
                    Some(e) => { "Counts up to " (gb(e)) " (the thick line) with the other sliders as they are." }
                    None => { "All of it counts." }
                }
            }
        }
    }
}

fn slider_max(v: &PeerView, i: usize) -> f64 {
    let base = SLIDERS[i].3;
    let cap = at(&v.sliders.caps, i);
    if cap > base {
        (cap * 1.5).ceil()
    } else {
        base
    }
}

fn standing_note(v: &PeerView) -> Markup {
    html! {
        @match v.standing.as_str() {
            "alert" => p class="rm-note alert" role="status" { "You have used more than you gave lately. Raise a slider or stay online longer, or new backups will pause." },
            "frozen" => p class="rm-note frozen" role="status" { "New backups are paused until you give more. Restoring your files always works." },
            _ => {},
        }
    }
}

fn peer_page(v: &Viewer, view: &PeerView, f: &SliderForm, errors: &[FormError]) -> Markup {
    html! {
        h1 { "Your backup" }
        p class="lead" { "Give a little disk space and bandwidth to the network, get online backup space in return. Move the sliders: the chart shows what you get." }
        (standing_note(view))
        div class="rm-grid card" {
            form method="post" action="/resources/sliders" class="rm-sliders" data-rm-preview="/resources/preview" novalidate {
                (csrf(v)) (form_key())
                h2 { "What you give" }
                (err_for(errors, "form"))
                @for (i, (name, label, unit, _)) in SLIDERS.iter().enumerate() {
                    @let max = slider_max(view, i);
                    @let value = match i { 0 => &f.space_gb, 1 => &f.upload_gb, _ => &f.download_gb };
                    div class="field rm-slider" {
                        label for={"s-" (name)} { (label) ": " output id={"o-" (name)} for={"s-" (name)} { (value) } " " (unit) }
                        input type="range" id={"s-" (name)} name=(name) min="0" max=(num(max)) step=(if i == 0 { "1" } else { "0.1" })
                            value=(value) aria-describedby={"hint-" (i)};
                        (track(view, i, max))
                        (err_for(errors, name))
                    }
                }
                div class="row" {
                    button type="submit" name="action" value="save" id="save-sliders" { "Save" }
                    button type="submit" name="action" value="preview" class="secondary" { "Preview" }
                }
                p class="muted small" { "The software never uses more than these caps." }
            }
            div class="rm-right" {
                h2 { "Your resource balance" }
                (balance_part(view))
            }
        }
        section class="card" {
            h2 { "Your peer" }
            p { "Online " strong { (format!("{:.0}%", view.availability * 100.0)) } " of the time so far."
                @if view.test_target { " New peers are only tested at first; storage work starts after 14 days online." } }
            form method="post" action="/resources/online" class="row" novalidate {
                (csrf(v)) (form_key())
                div class="field" {
                    label for="f-online" { "Report today's online time (%)" }
                    input id="f-online" name="online_pct" type="number" min="0" max="100" step="1" value="100" aria-describedby="f-online-hint";
                    small id="f-online-hint" class="hint" { "Your backup software normally reports this by itself." }
                    (err_for(errors, "online_pct"))
                }
                button type="submit" class="secondary" { "Report" }
            }
        }
        script src=(assets::url("resources.js")) defer {}
    }
}

fn join_page(v: &Viewer, errors: &[FormError]) -> Markup {
    html! {
        h1 { "Backup" }
        section class="card" {
            h2 { "Back up your files on other people's computers" }
            p { "Join the backup network as a peer: you give some disk space and let the network use a little of your upload and download; "
                "in return you get online backup space for your own files, kept safe in pieces on many peers." }
            p { "There are no prices to watch or bills to pay: three sliders decide what you give, and a chart shows what you get." }
            @if v.login.is_none() {
                p { a href="/login" { "Log in" } " or " a href="/signup" { "sign up" } " to join." }
            } @else {
                form method="post" action="/resources/register" {
                    (csrf(v)) (form_key())
                    (err_for(errors, "form"))
                    button type="submit" id="join" { "Join as a peer" }
                }
            }
        }
        @if v.is_admin() { p { a href="/resources/operator" { "The operator's page" } } }
    }
}

fn render(web: &Web, v: &Viewer, trial: Option<&SliderForm>, errors: &[FormError]) -> Response {
    let view = v.name().and_then(|n| views::resources::peer(&web.app.shared.engine(), n).ok());
    let body = match &view {
        None => join_page(v, errors),
        Some(current) => {
            // A trial (the Preview button, or a refused save) shows what those sliders would give.
            let shown = trial
                .and_then(|t| t.parse().ok())
                .and_then(|s| v.name().and_then(|n| views::resources::preview(&web.app.shared.engine(), n, s).ok()))
                .unwrap_or_else(|| current.clone());
            let f = trial.cloned().unwrap_or_else(|| SliderForm::of(current));
            html! {
                (peer_page(v, &shown, &f, errors))
                @if v.is_admin() { p { a href="/resources/operator" { "The operator's page" } } }
            }
        }
    };
    let status =
        if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    (status, frame(v, "Backup", Nav::Resources, None, body)).into_response()
}

pub async fn page(State(web): State<Web>, v: Viewer) -> Response {
    render(&web, &v, None, &[])
}

/// The balance and tracks for slider positions being dragged (static/resources.js), from the
/// server's preview view; nothing is set.
pub async fn preview(State(web): State<Web>, v: Viewer, Query(f): Query<SliderForm>) -> Response {
    let Some(name) = v.name() else { return (axum::http::StatusCode::UNAUTHORIZED, "log in first").into_response() };
    let sliders = match f.parse() {
        Ok(s) => s,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.message).into_response(),
    };
    match views::resources::preview(&web.app.shared.engine(), name, sliders) {
        Ok(view) => Html(
            html! {
                (balance_part(&view))
                @for i in 0..3 { (track(&view, i, slider_max(&view, i).max(sliders[i].micros() as f64 / 1e6))) }
            }
            .into_string(),
        )
        .into_response(),
        Err(e) => {
            (axum::http::StatusCode::from_u16(e.status()).unwrap_or(axum::http::StatusCode::BAD_REQUEST), e.message())
                .into_response()
        }
    }
}

pub async fn register(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let key = form_idempotency(p.fields.get("form_key"), "peer");
    match outcome(api::register(State(web.app.clone()), login.user(), key).await) {
        Ok(_) => see_other("/resources"),
        Err(body) => render(&web, &p.viewer, None, &[FormError::from_api(&body, &[], "form")]),
    }
}

pub async fn sliders(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let f = SliderForm {
        space_gb: p.fields.str("space_gb"),
        upload_gb: p.fields.str("upload_gb"),
        download_gb: p.fields.str("download_gb"),
    };
    let s = match f.parse() {
        Ok(s) => s,
        Err(e) => return render(&web, &p.viewer, Some(&f), &[e]),
    };
    if p.fields.get("action") == Some("preview") {
        return render(&web, &p.viewer, Some(&f), &[]);
    }
    let key = form_idempotency(p.fields.get("form_key"), "sliders");
    let b = Sliders { space_gb: s[0], upload_gb: s[1], download_gb: s[2] };
    match outcome(api::set_sliders(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(_) => see_other("/resources"),
        Err(body) => {
            let e = FormError::from_api(&body, &["space", "upload", "download"], "form");
            let e = match e.field.as_str() {
                "space" | "upload" | "download" => FormError { field: format!("{}_gb", e.field), ..e },
                _ => e,
            };
            render(&web, &p.viewer, Some(&f), &[e])
        }
    }
}

pub async fn online(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let Some(pct) =
        Amount::parse(&p.fields.str("online_pct")).ok().filter(|a| !a.is_negative() && a.micros() <= 100_000_000)
    else {
        let e = FormError::new("online_pct", "invalid_argument", "The online time is a percentage from 0 to 100.");
        return render(&web, &p.viewer, None, &[e]);
    };
    let key = form_idempotency(p.fields.get("form_key"), "online");
    let b = Online { fraction: Amount(pct.micros() / 100), online: None };
    match outcome(api::report_online(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(_) => see_other("/resources"),
        Err(body) => render(&web, &p.viewer, None, &[FormError::from_api(&body, &[], "online_pct")]),
    }
}

// ----- the operator -----

const RESOURCES: [&str; 3] = ["Space", "Upload", "Download"];
const SERVICES: [&str; 3] = ["Backup", "Storage", "Retrieval"];

fn standing_badge(s: &str) -> Markup {
    match s {
        "alert" => html! { span class="badge wait" { "Alert" } },
        "frozen" => html! { span class="badge closed rm-frozen" { "Frozen" } },
        _ => html! { span class="badge open" { "Normal" } },
    }
}

fn nano(n: i64) -> String {
    // Nano-credits to credits with up to 4 decimals.
    fmt::credits(Amount(n / 1_000))
}

pub async fn operator(State(web): State<Web>, v: Viewer) -> Response {
    if !v.is_admin() {
        return error_page(&v, 403, "forbidden", "The operator's page is for admins.");
    }
    let (op, supply, demand) = {
        let engine = web.app.shared.engine();
        let rm = engine.resources();
        (views::resources::operator(&engine), rm.aggregate_supply(), rm.aggregate_demand())
    };
    let body = html! {
        h1 { "Backup market: operator" }
        p class="lead" { "Peers never see prices or balances: the server prices space, upload and download, and moves prices each epoch toward a buffer equilibrium." }
        @if op.balances.is_empty() {
            section class="card empty" id="no-peers" {
                h2 { "No peers yet" }
                p { "A peer is a computer in the backup network: it gives disk space, upload and download bandwidth, "
                    "and gets online backup space for its owner's files in return. Its owner joins from the "
                    a href="/resources" { "Backup" } " page and sets three sliders." }
                p { "Once peers are online and store files, this page shows supply and demand per resource, the prices "
                    "that balance them, each peer's credit balance, and the peers frozen for a deep deficit." }
            }
        }
        div class="stats card" {
            div class="stat" { strong { (op.balances.len()) } span class="label" { "peers" } }
            div class="stat" { strong { (op.frozen.len()) } span class="label" { "frozen" } }
            div class="stat" { strong { (op.files) } span class="label" { "files backed up" } }
            div class="stat" { strong { (op.days_settled) } span class="label" { "days settled (epochs of " (op.epoch_days) ")" } }
            div class="stat" { strong { (fmt::credits(op.bank_balance)) } span class="label" { "bank balance" } }
        }
        section class="card scroll" id="prices" {
            h2 { "Prices, supply and demand" }
            table {
                thead { tr { th scope="col" { "Resource" } th scope="col" class="num" { "Price" } th scope="col" class="num" { "Supply (GB)" } th scope="col" class="num" { "Demand (GB a day)" } th scope="col" class="num" { "Imbalance" } } }
                tbody {
                    @for i in 0..3 {
                        tr {
                            th scope="row" { (RESOURCES[i]) }
                            td class="num" { (nano(op.prices_nano.get(i).copied().unwrap_or(0))) @if i == 0 { " / GB-day" } @else { " / GB" } @if i == 0 { span class="muted small" { " (fixed)" } } }
                            td class="num" { (num(supply[i])) }
                            td class="num" { (num(demand[i])) }
                            td class="num" {
                                @match (i, op.imbalance_e.as_ref().and_then(|e| e.get(i.wrapping_sub(1)))) {
                                    (0, _) | (_, None) => { "–" }
                                    (_, Some(e)) => { (format!("{:+.1}%", e * 100.0)) }
                                }
                            }
                        }
                    }
                }
            }
            p class="muted small" { "Service prices: "
                @for i in 0..3 { (SERVICES[i]) " " (nano(op.service_prices_nano.get(i).copied().unwrap_or(0))) " / GB" @if i < 2 { " · " } } "." }
            div class="row" {
                form method="post" action="/resources/settle" class="inline" { (csrf(&v)) (form_key()) button type="submit" class="secondary" id="settle-day" { "Settle a day now" } }
                form method="post" action="/resources/prices" class="inline" { (csrf(&v)) (form_key()) button type="submit" class="secondary" { "Update prices now" } }
            }
            p class="muted small" { "The daily job does both by itself." }
        }
        @if !op.balances.is_empty() {
            section class="card scroll" id="balances" {
                h2 { "Balances" }
                table {
                    thead { tr { th scope="col" { "Peer" } th scope="col" class="num" { "Balance" } th scope="col" { "Standing" } } }
                    tbody {
                        @for (name, bal, st) in &op.balances {
                            tr { td { (name) } td class={"num " @if bal.is_negative() { "loss" }} { (fmt::credits(*bal)) } td { (standing_badge(st)) } }
                        }
                    }
                }
                @if op.frozen.is_empty() { p class="muted small" { "No peer is frozen." } }
                @else { p { "Frozen (no new backups): " strong { (op.frozen.join(", ")) } } }
            }
        }
    };
    frame(&v, "Backup operator", Nav::Resources, None, body).into_response()
}

async fn operator_op(web: &Web, p: &Posted, what: &str) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let key = form_idempotency(p.fields.get("form_key"), what);
    let r = if what == "settle" {
        outcome(api::settle(State(web.app.clone()), login.user(), key).await)
    } else {
        outcome(api::update_prices(State(web.app.clone()), login.user(), key).await)
    };
    match r {
        Ok(_) => see_other("/resources/operator"),
        Err(body) => error_page(
            &p.viewer,
            422,
            body["code"].as_str().unwrap_or("error"),
            body["message"].as_str().unwrap_or("refused"),
        ),
    }
}

pub async fn settle(State(web): State<Web>, p: Posted) -> Response {
    operator_op(&web, &p, "settle").await
}

pub async fn prices(State(web): State<Web>, p: Posted) -> Response {
    operator_op(&web, &p, "prices").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gigabytes_read_well() {
        assert_eq!(gb(0.0), "0 GB");
        assert_eq!(gb(2.345), "2.35 GB");
        assert_eq!(gb(12.34), "12.3 GB");
        assert_eq!(gb(1234.4), "1,234 GB");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(0.0), "0");
        let f = SliderForm { space_gb: "10".into(), upload_gb: "x".into(), download_gb: "1".into() };
        assert_eq!(f.parse().unwrap_err().field, "upload_gb");
    }
}
