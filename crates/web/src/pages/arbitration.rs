//! Issue 12 on the series page and its own form: how a series is decided (its tracker, or
//! arbiters of a statement or a dispute), the report form for a user who may report, the
//! dispute form in a tracker series' window, the market maker's presence; and the form that
//! opens a statement series. Every change goes through the server's own handlers
//! (`peerex_server::http::mechanisms`): the same checks and error codes as the API.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use peerex_engine::exchange::types::SeriesStatus;
use peerex_engine::{Amount, Timestamp};
use peerex_server::http::extract::Body;
use peerex_server::http::mechanisms::{
    self as api, ArbitrationParams, DisputeBody, FundMakerBody, OpenStatementBody, SeriesReportBody,
};
use peerex_server::views::mechanisms::{ArbitrationView, MakerView};

use crate::fmt;
use crate::layout::{csrf, err_for, error_page, field, form_key, frame, see_other, series_url, FormError, Nav};
use crate::pages::account::{form_idempotency, outcome};
use crate::session::{Posted, Viewer};
use crate::Web;

/// What the series page shows of the series' mechanisms, for the viewer.
pub struct Mechanisms {
    pub issue: String,
    pub maturation: Timestamp,
    pub arbitration: Option<ArbitrationView>,
    /// The end of an open dispute window.
    pub dispute_until: Option<Timestamp>,
    pub maker: Option<MakerView>,
    /// Whether the viewer may report now (`Err`: why not); `None` when nobody reports now.
    pub may_report: Option<Result<(), String>>,
    /// The series still trades (a maker can be funded).
    pub open: bool,
    pub now: Timestamp,
}

pub fn mechanisms(web: &Web, issue: &str, maturation: Timestamp, me: Option<&str>) -> Option<Mechanisms> {
    let now = web.app.shared.clock.now();
    let engine = web.app.shared.engine();
    let x = engine.exchange();
    let sid = x.series_id(x.issue_id(issue)?, maturation)?;
    let series = x.series(sid)?;
    let arbitration = peerex_server::views::mechanisms::arbitration(&engine, sid);
    let dispute_until =
        x.dispute_until(sid).filter(|t| now < *t && series.status == SeriesStatus::Matured && !x.is_arbitrated(sid));
    let may_report = engine.cases().case(sid).filter(|c| !c.done && c.report_deadline.is_some()).map(|c| {
        let uid = me.and_then(|m| engine.user_id(m));
        let Some(uid) = uid else { return Err("Log in to report as an arbiter.".to_owned()) };
        if c.sponsor == uid {
            return Err("You posted this series' bond, so you may not arbitrate it.".to_owned());
        }
        if c.reports.iter().any(|(u, _)| *u == uid) {
            return Err("You have reported on this series.".to_owned());
        }
        if let Some(cap) = c.position_cap {
            let stake = x.position(uid, sid).map_or(0, |p| p.fixed.units as i64 - p.unfixed.units as i64);
            if stake.unsigned_abs().saturating_mul(1_000_000) > cap.unsigned_abs() {
                return Err(format!(
                    "Your position ({} units) is above this series' cap of {} units: you may not report.",
                    stake.unsigned_abs(),
                    fmt::credits_bare(Amount(cap))
                ));
            }
        }
        Ok(())
    });
    Some(Mechanisms {
        issue: issue.to_owned(),
        maturation,
        arbitration,
        dispute_until,
        maker: peerex_server::views::mechanisms::maker_of(&engine, sid),
        may_report,
        open: series.status == SeriesStatus::Open,
        now,
    })
}

/// The card "How this series is decided", with the report and dispute forms when they apply.
pub fn card(v: &Viewer, m: &Mechanisms) -> Markup {
    let mat = m.maturation.to_rfc3339();
    html! {
        section class="card" id="decided" data-part="decided" {
            h2 { "How this series is decided" }
            @match &m.arbitration {
                Some(a) if a.state != "to_tracker" => {
                    p id="decided-by" {
                        span class="badge wait" { "Arbitration" } " "
                        @if a.kind == "statement" { "Arbiters judge the statement after the maturation." }
                        @else { "Disputed: arbiters decide instead of the tracker." }
                    }
                    blockquote id="statement" { (a.statement) }
                    p class="muted small" {
                        "Bond " (fmt::credits(a.bond)) " pays the arbiters · " (a.min_reports) " reports needed · "
                        (a.reports) " received"
                        @if let Some(cap) = a.position_cap { " · arbiters may hold at most " (fmt::credits_bare(cap)) " units" }
                    }
                    p id="report-window" {
                        @match (a.state.as_str(), a.report_deadline) {
                            ("reporting", Some(t)) => { "Reporting is open; the window closes " (fmt::time(t, m.now)) "." }
                            ("decided", _) => { "Decided by the arbiters' reports." }
                            _ => { "Reporting opens at the maturation (" (fmt::time(m.maturation, m.now)) ") for " (a.report_days) " days." }
                        }
                    }
                    @if let Some(may) = &m.may_report { (report_form(v, m, &mat, may)) }
                }
                Some(_) => {
                    p id="decided-by" { span class="badge" { "Tracker" } " Disputed, but too few arbiters reported: the bond went back and the issue's tracker decided." }
                }
                None => {
                    p id="decided-by" { span class="badge" { "Tracker" } " Fixed wins if the issue is closed as completed at the maturation." }
                    @if let Some(until) = m.dispute_until { (dispute_form(v, m, &mat, until)) }
                }
            }
            @match &m.maker {
                Some(mk) => { (maker(mk, m.now)) }
                None if m.open && v.login.is_some() => { (fund_form(v, m, &mat)) }
                None => {}
            }
        }
    }
}

fn fund_form(v: &Viewer, m: &Mechanisms, mat: &str) -> Markup {
    html! {
        details id="fund-maker" {
            summary { "Fund a market maker for this thin book" }
            form method="post" action="/makers" {
                (csrf(v)) (form_key())
                input type="hidden" name="issue" value=(m.issue);
                input type="hidden" name="maturation" value=(mat);
                div class="row" {
                    (field(&[], "maker_b", "Liquidity b (units)", "text", "10",
                        Some("You pay b × ln 2, the most it can lose; what it holds at settlement comes back to you."), &[("inputmode", "decimal"), ("required", "required")]))
                    (field(&[], "maker_levels", "Price levels per side", "number", "5",
                        Some("1 to 50."), &[("min", "1"), ("max", "50"), ("step", "1")]))
                }
                button type="submit" id="fund-maker-button" class="secondary" { "Fund the market maker" }
            }
        }
    }
}

fn report_form(v: &Viewer, m: &Mechanisms, mat: &str, may: &Result<(), String>) -> Markup {
    html! {
        @match may {
            Err(why) => { p class="muted" id="report-why" { (why) } }
            Ok(()) => {
                form method="post" action="/series/report" id="report-form" {
                    (csrf(v)) (form_key())
                    input type="hidden" name="issue" value=(m.issue);
                    input type="hidden" name="maturation" value=(mat);
                    fieldset {
                        legend { "Your report as an arbiter: is the statement true?" }
                        div class="choice" {
                            input type="radio" id="r-1" name="value" value="1" checked;
                            label for="r-1" { "True (Fixed wins)" }
                        }
                        div class="choice" {
                            input type="radio" id="r-0" name="value" value="0";
                            label for="r-0" { "Not true (Unfixed wins)" }
                        }
                    }
                    p class="muted small" { "You are paid from the bond for a report that helps predict another arbiter's: reporting what you believe pays best." }
                    button type="submit" id="send-report" { "Send report" }
                }
            }
        }
    }
}

fn dispute_form(v: &Viewer, m: &Mechanisms, mat: &str, until: Timestamp) -> Markup {
    html! {
        p id="dispute-window" { "Its tracker settles it after the dispute window, which closes " (fmt::time(until, m.now)) "." }
        @if v.login.is_some() {
            form method="post" action="/series/dispute" id="dispute-form" {
                (csrf(v)) (form_key())
                input type="hidden" name="issue" value=(m.issue);
                input type="hidden" name="maturation" value=(mat);
                (field(&[], "bond", "Dispute bond (credits)", "text", "10",
                    Some("Arbiters then decide; the bond pays them, the rest comes back to you."), &[("inputmode", "decimal"), ("required", "required")]))
                button type="submit" id="dispute" class="secondary" { "Dispute the tracker's outcome" }
            }
        } @else {
            p { a href="/login" { "Log in" } " to dispute it." }
        }
    }
}

fn maker(mk: &MakerView, now: Timestamp) -> Markup {
    let _ = now;
    html! {
        div id="maker" {
            h3 { "Market maker" }
            p {
                span class="badge maker" { "maker" } " "
                @if mk.summary.active {
                    "An automated market maker keeps offers on this book (marked " em { "maker" } " in the order book) at LMSR prices, b = "
                    (fmt::credits_bare(mk.summary.b)) "."
                } @else {
                    "The market maker withdrew at the maturation."
                }
            }
            p class="muted small" {
                "Subsidy " (fmt::credits(mk.summary.subsidy)) " (the most it can lose) · "
                @match mk.returned {
                    Some(r) => { "returned to its funder " (fmt::credits(r)) }
                    None => { "lost so far at worst " (fmt::credits(mk.worst_case_loss)) " · quotes " (mk.quotes.len()) }
                }
            }
        }
    }
}

fn back_to(issue: &str, maturation: &str, part: &str) -> Response {
    see_other(&format!("{}#{part}", series_url(issue, maturation)))
}

pub async fn report(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let f = &p.fields;
    let (issue, mat) = (f.str("issue"), f.str("maturation"));
    let Ok(maturation) = fmt::parse_time(&mat) else {
        return error_page(&p.viewer, 400, "invalid_time", "The series' maturation is not a time.");
    };
    let value = match f.get("value") {
        Some("1") => 1,
        Some("0") => 0,
        _ => return error_page(&p.viewer, 400, "invalid_argument", "Choose true or not true."),
    };
    let key = form_idempotency(f.get("form_key"), "report");
    let b = SeriesReportBody { issue: issue.clone(), maturation, value };
    match outcome(api::report(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(_) => back_to(&issue, &mat, "decided"),
        Err(body) => refused(&p.viewer, &body, "the report was not accepted"),
    }
}

pub async fn dispute(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let f = &p.fields;
    let (issue, mat) = (f.str("issue"), f.str("maturation"));
    let Ok(maturation) = fmt::parse_time(&mat) else {
        return error_page(&p.viewer, 400, "invalid_time", "The series' maturation is not a time.");
    };
    let bond = match Amount::parse(f.str("bond").trim()) {
        Ok(b) => b,
        Err(e) => return error_page(&p.viewer, 400, e.code(), &e.message()),
    };
    let key = form_idempotency(f.get("form_key"), "dispute");
    let b = DisputeBody { issue: issue.clone(), maturation, bond, params: ArbitrationParams::default() };
    match outcome(api::dispute(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(_) => back_to(&issue, &mat, "decided"),
        Err(body) => refused(&p.viewer, &body, "the dispute was not accepted"),
    }
}

pub async fn fund_maker(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let f = &p.fields;
    let (issue, mat) = (f.str("issue"), f.str("maturation"));
    let Ok(maturation) = fmt::parse_time(&mat) else {
        return error_page(&p.viewer, 400, "invalid_time", "The series' maturation is not a time.");
    };
    let b = match Amount::parse(f.str("maker_b").trim()) {
        Ok(b) => b,
        Err(e) => return error_page(&p.viewer, 400, e.code(), &e.message()),
    };
    let levels = match f.str("maker_levels").trim() {
        "" => None,
        l => match l.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                return error_page(&p.viewer, 400, "invalid_argument", "Price levels is a whole number, 1 to 50.")
            }
        },
    };
    let key = form_idempotency(f.get("form_key"), "maker");
    let body = FundMakerBody { issue: issue.clone(), maturation, b, levels };
    match outcome(api::fund_maker(State(web.app.clone()), login.user(), key, Body(body)).await) {
        Ok(_) => back_to(&issue, &mat, "decided"),
        Err(body) => refused(&p.viewer, &body, "the market maker was not funded"),
    }
}

fn refused(v: &Viewer, body: &serde_json::Value, default: &str) -> Response {
    let status = match body["code"].as_str() {
        Some("forbidden" | "not_eligible") => 403,
        Some(c) if c.starts_with("unknown") => 404,
        Some("already_reported" | "already_disputed" | "already_resolved" | "duplicate_id") => 409,
        Some(c) if c.starts_with("invalid") => 400,
        _ => 422,
    };
    error_page(v, status, body["code"].as_str().unwrap_or("error"), body["message"].as_str().unwrap_or(default))
}

// ----- open a statement -----

#[derive(Clone, Debug, Default)]
pub struct StatementForm {
    pub issue: String,
    pub statement: String,
    pub maturation: String,
    pub bond: String,
    pub report_days: String,
    pub min_reports: String,
    pub position_cap: String,
}

fn statement_form(v: &Viewer, f: &StatementForm, errors: &[FormError], now: Timestamp) -> Markup {
    html! {
        section class="card narrow-wide" {
            h1 { "Open a statement" }
            p class="lead" { "A series decided by arbiters instead of an issue tracker: people trade on whether the statement is true; after the maturation arbiters report, and the series pays by their reports." }
            form method="post" action="/statements" novalidate {
                (csrf(v)) (form_key())
                (err_for(errors, "form"))
                (field(errors, "statement", "Statement", "text", &f.statement,
                    Some("Something arbiters can judge, e.g. \u{201c}The review of PR 42 finds no blocking problem\u{201d}."), &[("required", "required"), ("maxlength", "1000")]))
                div class="row" {
                    (field(errors, "issue", "Short name", "text", &f.issue,
                        Some("The new issue's key, e.g. review/pr-42."), &[("required", "required"), ("maxlength", "200"), ("autocomplete", "off")]))
                    (field(errors, "maturation", "Trading closes", "date", &f.maturation,
                        Some("UTC midnight; reporting opens then."), &[("required", "required"), ("min", &fmt::date(now.plus_days(1)))]))
                }
                div class="row" {
                    (field(errors, "bond", "Arbitration bond (cr)", "text", &f.bond,
                        Some("Pays the arbiters; what is left comes back to you."), &[("inputmode", "decimal"), ("required", "required")]))
                    (field(errors, "report_days", "Reporting window (days)", "number", &f.report_days,
                        Some("1 to 365 days."), &[("min", "1"), ("max", "365"), ("step", "1")]))
                }
                details {
                    summary { "More options" }
                    div class="row" {
                        (field(errors, "min_reports", "Reports needed", "number", &f.min_reports,
                            Some("At least 2."), &[("min", "2"), ("step", "1")]))
                        (field(errors, "position_cap", "Arbiters' position cap (units)", "text", &f.position_cap,
                            Some("Optional: an arbiter holding more may not report."), &[("inputmode", "decimal")]))
                    }
                }
                button type="submit" id="open-statement" { "Open statement" }
            }
        }
    }
}

pub async fn new_page(State(web): State<Web>, v: Viewer) -> Response {
    if v.login.is_none() {
        return see_other("/login");
    }
    let now = web.app.shared.clock.now();
    let f = StatementForm {
        maturation: fmt::date(now.plus_days(7)),
        bond: "50".into(),
        report_days: "3".into(),
        min_reports: "3".into(),
        ..Default::default()
    };
    frame(&v, "Open a statement", Nav::Issues, None, statement_form(&v, &f, &[], now)).into_response()
}

pub async fn open(State(web): State<Web>, p: Posted) -> Response {
    let Some(login) = &p.viewer.login else { return see_other("/login") };
    let g = &p.fields;
    let f = StatementForm {
        issue: g.str("issue"),
        statement: g.str("statement"),
        maturation: g.str("maturation"),
        bond: g.str("bond"),
        report_days: g.str("report_days"),
        min_reports: g.str("min_reports"),
        position_cap: g.str("position_cap"),
    };
    let now = web.app.shared.clock.now();
    let mut errors = Vec::new();
    if f.statement.trim().is_empty() {
        errors.push(FormError::new("statement", "invalid_argument", "Write the statement arbiters will judge."));
    }
    if f.issue.trim().is_empty() {
        errors.push(FormError::new("issue", "invalid_argument", "Give it a short name."));
    }
    let maturation =
        fmt::parse_time(&f.maturation).map_err(|e| errors.push(FormError::new("maturation", e.code(), e.message())));
    let bond = Amount::parse(f.bond.trim()).map_err(|e| errors.push(FormError::new("bond", e.code(), e.message())));
    let whole = |s: &str, name: &str, errors: &mut Vec<FormError>| -> Result<Option<i64>, ()> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        s.trim().parse::<i64>().map(Some).map_err(|_| {
            errors.push(FormError::new(name, "invalid_argument", "A whole number."));
        })
    };
    let days = whole(&f.report_days, "report_days", &mut errors);
    let min = if f.min_reports.trim().is_empty() {
        Ok(None)
    } else {
        f.min_reports.trim().parse::<u32>().map(Some).map_err(|_| {
            errors.push(FormError::new(
                "min_reports",
                "invalid_argument",
                "Reports needed is a whole number, 2 or more.",
            ))
        })
    };
    let cap = if f.position_cap.trim().is_empty() {
        Ok(None)
    } else {
        Amount::parse(f.position_cap.trim())
            .map(Some)
            .map_err(|e| errors.push(FormError::new("position_cap", e.code(), e.message())))
    };
    let (Ok(maturation), Ok(bond), Ok(days), Ok(min), Ok(cap), true) =
        (maturation, bond, days, min, cap, errors.is_empty())
    else {
        return rerender(&p.viewer, &f, &errors, now);
    };
    let b = OpenStatementBody {
        issue: f.issue.trim().to_owned(),
        statement: f.statement.clone(),
        maturation,
        bond,
        params: ArbitrationParams { min_reports: min, report_days: days, position_cap: cap, ..Default::default() },
    };
    let key = form_idempotency(g.get("form_key"), "statement");
    match outcome(api::open_statement(State(web.app.clone()), login.user(), key, Body(b)).await) {
        Ok(_) => see_other(&series_url(f.issue.trim(), &maturation.to_rfc3339())),
        Err(body) => {
            let mut e = FormError::from_api(
                &body,
                &["statement", "maturation", "bond", "report_days", "min_reports", "position_cap", "issue"],
                "form",
            );
            match body["code"].as_str() {
                Some("duplicate_id") => e.field = "issue".into(),
                Some("insufficient_funds" | "invalid_amount") => e.field = "bond".into(),
                Some("maturation_in_past") => e.field = "maturation".into(),
                _ => {}
            }
            rerender(&p.viewer, &f, &[e], now)
        }
    }
}

fn rerender(v: &Viewer, f: &StatementForm, errors: &[FormError], now: Timestamp) -> Response {
    (
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        frame(v, "Open a statement", Nav::Issues, None, statement_form(v, f, errors, now)),
    )
        .into_response()
}
