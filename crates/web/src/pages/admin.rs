//! Admin pages: deposits, users, deciding a series by hand and the sandbox clock, each through
//! the server's admin handlers (which check the role again).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use peerex_engine::exchange::types::Side;
use peerex_engine::{Amount, Timestamp};
use peerex_server::http::admin::{self as api, Decide, Money, NewUser, SetClock};
use peerex_server::http::extract::{Body, IdempotencyKey};
use serde::Deserialize;

use crate::fmt;
use crate::layout::{csrf, err_for, error_page, field, form_key, frame, query, see_other, FormError, Nav};
use crate::pages::account::outcome;
use crate::session::{Posted, Viewer};
use crate::Web;

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

fn body(web: &Web, v: &Viewer, errors: &[FormError], values: &[(String, String)], done: &str) -> Markup {
    let val = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let now = web.app.shared.clock.now();
    let dispute_hours = peerex_server::views::mechanisms::dispute_settings(&web.app.shared.engine()).hours;
    type Users = Vec<(String, bool, Amount, Amount)>;
    let (users, matured): (Users, Vec<(String, Timestamp)>) = {
        let accounts = web.app.shared.accounts();
        let engine = web.app.shared.engine();
        let mut users: Vec<_> = accounts
            .users
            .values()
            .map(|a| {
                let (av, h) = engine.user_id(&a.name).map(|u| engine.balance(u)).unwrap_or_default();
                (a.name.clone(), a.admin, av, h)
            })
            .collect();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        let x = engine.exchange();
        let matured = x
            .all_series()
            .filter(|(_, s)| s.status.as_str() != "settled")
            .map(|(_, s)| (x.issue_name(s.issue).to_owned(), s.maturation))
            .take(200)
            .collect();
        (users, matured)
    };
    html! {
        h1 { "Admin" }
        @if !done.is_empty() { p class="flash" role="status" { (done) } }
        p { "Server clock: " strong id="clock" { (fmt::exact(now)) }
            @if web.app.settings.sandbox { " · sandbox (the clock can be moved forward)" } }
        div class="two" {
            section class="card" id="deposit" {
                h2 { "Deposit credits" }
                form method="post" action="/admin/deposit" {
                    (csrf(v)) (form_key()) (err_for(errors, "dep_form"))
                    (field(errors, "dep_user", "User", "text", &val("dep_user"), None, &[("required", "required"), ("list", "user-names")]))
                    (field(errors, "dep_amount", "Amount (credits)", "text", &val("dep_amount"), Some("e.g. 100 or 12.5"), &[("inputmode", "decimal"), ("required", "required")]))
                    button type="submit" { "Deposit" }
                }
            }
            section class="card" id="clock-form" {
                h2 { "Sandbox clock" }
                @if web.app.settings.sandbox {
                    form method="post" action="/admin/clock" {
                        (csrf(v)) (form_key()) (err_for(errors, "clk_form"))
                        (field(errors, "clk_days", "Advance by days", "number", &val("clk_days"), Some("Or set a date below; the clock never goes back."), &[("min", "0"), ("step", "any")]))
                        (field(errors, "clk_to", "Move to date", "date", &val("clk_to"), None, &[]))
                        button type="submit" { "Move the clock" }
                    }
                } @else {
                    p class="muted" { "This server is not a sandbox: its clock is the wall clock." }
                }
            }
            section class="card" id="disputes" {
                h2 { "Dispute window" }
                p class="muted small" { "How long a matured tracker series can be disputed (a bond turns it over to arbiters) before its tracker settles it. Now: "
                    strong id="dispute-hours" { (dispute_hours) " hours" } @if dispute_hours == 0 { " (off)" } "." }
                form method="post" action="/admin/disputes" {
                    (csrf(v)) (form_key()) (err_for(errors, "dis_form"))
                    (field(errors, "dis_hours", "Hours (0 turns disputes off)", "number", &val("dis_hours"), Some("0 to 2,160; applies to series maturing from now on."), &[("min", "0"), ("max", "2160"), ("step", "1"), ("required", "required")]))
                    button type="submit" { "Set the window" }
                }
            }
            section class="card" id="decide" {
                h2 { "Decide a series by hand" }
                form method="post" action="/admin/decide" {
                    (csrf(v)) (form_key()) (err_for(errors, "dec_form"))
                    (field(errors, "dec_issue", "Issue", "text", &val("dec_issue"), None, &[("required", "required")]))
                    (field(errors, "dec_maturation", "Maturation", "text", &val("dec_maturation"), Some("RFC 3339 or a date, e.g. 2026-12-15"), &[("required", "required")]))
                    div class="field" {
                        label for="f-dec_winner" { "Winner" }
                        select id="f-dec_winner" name="dec_winner" {
                            option value="fixed" selected[val("dec_winner") == "fixed"] { "Fixed" }
                            option value="unfixed" selected[val("dec_winner") == "unfixed"] { "Unfixed" }
                        }
                        (err_for(errors, "dec_winner"))
                    }
                    (field(errors, "dec_reason", "Reason (recorded)", "text", &val("dec_reason"), None, &[("maxlength", "500")]))
                    button type="submit" { "Decide" }
                }
                @if !matured.is_empty() {
                    details { summary { "Unsettled series" }
                        ul class="small" { @for (i, m) in &matured { li { code { (i) } " " (m.to_rfc3339()) } } } }
                }
            }
            section class="card" id="users" {
                h2 { "Users" }
                form method="post" action="/admin/users" {
                    (csrf(v)) (form_key()) (err_for(errors, "new_form"))
                    (field(errors, "new_name", "Name", "text", &val("new_name"), None, &[("required", "required"), ("autocomplete", "off")]))
                    (field(errors, "new_password", "Password", "password", "", None, &[("required", "required"), ("autocomplete", "new-password")]))
                    div class="choice" { input type="checkbox" id="f-new_admin" name="new_admin" value="true"; label for="f-new_admin" { "Admin" } }
                    button type="submit" { "Create user" }
                }
                datalist id="user-names" { @for u in &users { option value=(u.0) {} } }
                div class="scroll" {
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" class="num" { "Available" } th scope="col" class="num" { "Held" } } }
                        tbody { @for (n, a, av, h) in &users { tr { td { (n) @if *a { " " span class="badge" { "admin" } } } td class="num" { (fmt::credits(*av)) } td class="num" { (fmt::credits(*h)) } } } }
                    }
                }
            }
        }
    }
}

fn guard(v: &Viewer) -> Option<Response> {
    match &v.login {
        None => Some(see_other("/login")),
        Some(l) if !l.admin => Some(error_page(v, 403, "forbidden", "Only an admin may see this page.")),
        _ => None,
    }
}

pub async fn page(State(web): State<Web>, v: Viewer, Query(d): Query<Done>) -> Response {
    if let Some(r) = guard(&v) {
        return r;
    }
    frame(&v, "Admin", Nav::Admin, None, body(&web, &v, &[], &[], &d.done)).into_response()
}

fn again(web: &Web, p: &Posted, e: FormError) -> Response {
    let b = body(web, &p.viewer, &[e], &p.fields.without_secrets(), "");
    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, frame(&p.viewer, "Admin", Nav::Admin, None, b)).into_response()
}

fn done(msg: &str) -> Response {
    see_other(&format!("/admin?{}", query(&[("done", msg)])))
}

fn key(p: &Posted, what: &str) -> IdempotencyKey {
    crate::pages::account::form_idempotency(p.fields.get("form_key"), what)
}

pub async fn deposit(State(web): State<Web>, p: Posted) -> Response {
    if let Some(r) = guard(&p.viewer) {
        return r;
    }
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let user = p.fields.str("dep_user");
    let amount = match Amount::parse(&p.fields.str("dep_amount")) {
        Ok(a) => a,
        Err(e) => return again(&web, &p, FormError::new("dep_amount", e.code(), e.message())),
    };
    match outcome(
        api::deposit(
            State(web.app.clone()),
            login.user(),
            key(&p, "deposit"),
            Body(Money { user: user.clone(), amount }),
        )
        .await,
    ) {
        Ok(_) => done(&format!("Deposited {} to {user}.", fmt::credits(amount))),
        Err(b) => again(&web, &p, FormError::from_api(&b, &["user", "amount"], "dep_form").prefixed("dep_")),
    }
}

pub async fn create_user(State(web): State<Web>, p: Posted) -> Response {
    if let Some(r) = guard(&p.viewer) {
        return r;
    }
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let b = NewUser {
        name: p.fields.str("new_name"),
        password: p.fields.str("new_password"),
        admin: p.fields.checked("new_admin"),
    };
    let name = b.name.clone();
    match outcome(api::create_user(State(web.app.clone()), login.user(), key(&p, "user"), Body(b)).await) {
        Ok(_) => done(&format!("Created {name}.")),
        Err(b) => again(&web, &p, FormError::from_api(&b, &["name", "password"], "new_form").prefixed("new_")),
    }
}

pub async fn decide(State(web): State<Web>, p: Posted) -> Response {
    if let Some(r) = guard(&p.viewer) {
        return r;
    }
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let maturation = match fmt::parse_time(&p.fields.str("dec_maturation")) {
        Ok(t) => t,
        Err(e) => return again(&web, &p, FormError::new("dec_maturation", e.code(), e.message())),
    };
    let winner = match p.fields.get("dec_winner") {
        Some("unfixed") => Side::Unfixed,
        _ => Side::Fixed,
    };
    let b = Decide {
        issue: p.fields.str("dec_issue"),
        maturation,
        winner: Some(winner),
        fixed_pays: None,
        reason: p.fields.str("dec_reason"),
    };
    let issue = b.issue.clone();
    match outcome(api::decide(State(web.app.clone()), login.user(), key(&p, "decide"), Body(b)).await) {
        Ok(_) => done(&format!("Decided {issue}: {} won.", winner.as_str())),
        Err(b) => {
            again(&web, &p, FormError::from_api(&b, &["issue", "maturation", "winner"], "dec_form").prefixed("dec_"))
        }
    }
}

pub async fn clock(State(web): State<Web>, p: Posted) -> Response {
    if let Some(r) = guard(&p.viewer) {
        return r;
    }
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let days = p.fields.str("clk_days");
    let to = p.fields.str("clk_to");
    let b = if !to.is_empty() {
        match fmt::parse_time(&to) {
            Ok(t) => SetClock { to: Some(t), advance_seconds: None },
            Err(e) => return again(&web, &p, FormError::new("clk_to", e.code(), e.message())),
        }
    } else {
        match days.parse::<f64>() {
            Ok(d) if d.is_finite() && (0.0..=36_500.0).contains(&d) => {
                SetClock { to: None, advance_seconds: Some((d * 86_400.0).round() as u64) }
            }
            _ => {
                return again(
                    &web,
                    &p,
                    FormError::new("clk_days", "invalid_argument", "Give a number of days (0 to 36,500) or a date."),
                )
            }
        }
    };
    match outcome(api::set_clock(State(web.app.clone()), login.user(), key(&p, "clock"), Body(b)).await) {
        Ok(_) => done(&format!("The clock is now {}.", fmt::exact(web.app.shared.clock.now()))),
        Err(b) => again(&web, &p, FormError::from_api(&b, &[], "clk_form")),
    }
}

pub async fn disputes(State(web): State<Web>, p: Posted) -> Response {
    if let Some(r) = guard(&p.viewer) {
        return r;
    }
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let Ok(hours) = p.fields.str("dis_hours").trim().parse::<i64>() else {
        return again(
            &web,
            &p,
            FormError::new("dis_hours", "invalid_argument", "Give a whole number of hours, 0 to 2,160."),
        );
    };
    let b = peerex_server::http::mechanisms::DisputeSettingsBody { hours };
    let r = peerex_server::http::mechanisms::configure_disputes(
        State(web.app.clone()),
        login.user(),
        key(&p, "disputes"),
        Body(b),
    );
    match outcome(r.await) {
        Ok(_) => done(&format!("Matured tracker series can now be disputed for {hours} hours.")),
        Err(b) => again(&web, &p, FormError::from_api(&b, &[], "dis_hours")),
    }
}
