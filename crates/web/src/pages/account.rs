//! Sign up, log in, log out: through the server's own account handlers; the browser gets a
//! session cookie, never the API token.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use peerex_server::http::accounts::{self as api, Credentials};
use peerex_server::http::error::{ApiResult, Written};
use peerex_server::http::extract::{Body, IdempotencyKey};
use serde_json::Value;

use crate::layout::{csrf, err_for, field, frame, see_other, FormError, Nav};
use crate::session::{cookie, new_sid, Posted, Viewer};
use crate::Web;

/// The body of a server answer: `Ok` for 2xx, `Err` (with `code`, `message`) otherwise.
pub fn outcome<T: Answer>(r: ApiResult<T>) -> Result<Value, Value> {
    match r {
        Ok(w) => Ok(w.body()),
        Err(e) => Err(serde_json::json!({"code": e.code, "message": e.message})),
    }
}

/// The JSON body of a server handler's successful answer.
pub trait Answer {
    fn body(self) -> Value;
}

impl Answer for Written {
    fn body(self) -> Value {
        serde_json::to_value(self.1).unwrap_or(Value::Null)
    }
}

impl<T: serde::Serialize> Answer for axum::Json<T> {
    fn body(self) -> Value {
        serde_json::to_value(self.0).unwrap_or(Value::Null)
    }
}

impl<T: serde::Serialize> Answer for (axum::http::StatusCode, axum::Json<T>) {
    fn body(self) -> Value {
        serde_json::to_value(self.1 .0).unwrap_or(Value::Null)
    }
}

/// A web form's key as an Idempotency-Key (the web form is its own request: no hash).
pub fn form_idempotency(key: Option<&str>, what: &str) -> IdempotencyKey {
    IdempotencyKey(key.filter(|k| !k.is_empty()).map(|k| (format!("web-{what}-{k}"), String::new())))
}

fn form(v: &Viewer, action: &str, title: &str, button: &str, name: &str, errors: &[FormError]) -> maud::Markup {
    let signup = action == "/signup";
    html! {
        section class="narrow card" {
            h1 { (title) }
            @if signup {
                p class="lead" { "An account holds your credits, offers and positions. An admin adds credits to it." }
            }
            form method="post" action=(action) novalidate {
                (csrf(v))
                (err_for(errors, "form"))
                (field(errors, "name", "User name", "text", name,
                    signup.then_some("Letters, digits, '_', '-', '.'; up to 64."),
                    &[("autocomplete", "username"), ("required", "required"), ("maxlength", "64")]))
                (field(errors, "password", "Password", "password", "",
                    signup.then_some("8 to 256 characters."),
                    &[("autocomplete", if signup { "new-password" } else { "current-password" }), ("required", "required")]))
                button type="submit" { (button) }
            }
            @if signup {
                p { "Already have an account? " a href="/login" { "Log in" } }
            } @else {
                p { "New here? " a href="/signup" { "Sign up" } }
            }
        }
    }
}

pub async fn signup_page(v: Viewer) -> Response {
    frame(&v, "Sign up", Nav::Account, None, form(&v, "/signup", "Create your account", "Sign up", "", &[]))
        .into_response()
}

pub async fn login_page(v: Viewer) -> Response {
    let body = html! {
        (form(&v, "/login", "Log in", "Log in", "", &[]))
        @if v.demo { (demo_accounts()) }
    };
    frame(&v, "Log in", Nav::Account, None, body).into_response()
}

/// The demo's accounts (shown on the login page in demo mode only).
fn demo_accounts() -> Markup {
    html! {
        section class="card demo-accounts" aria-labelledby="demo-accounts" {
            h2 id="demo-accounts" { "Demo accounts" }
            p { "Every demo account has the password " code { (peerex_server::demo::PASSWORD) } ". "
                "Agents act for all of them except " code { "you" } " and " code { "admin" } "." }
            table {
                thead { tr { th scope="col" { "Role" } th scope="col" { "Accounts" } th scope="col" { "What they do" } } }
                tbody {
                    @for (role, names) in peerex_server::demo::credentials() {
                        tr {
                            th scope="row" { (role.title()) }
                            td { @for (i, n) in names.iter().enumerate() { @if i > 0 { ", " } code { (n) } } }
                            td { (role.label()) }
                        }
                    }
                }
            }
        }
    }
}

fn place(body: &Value) -> FormError {
    FormError::from_api(body, &["name", "password"], "form")
}

pub async fn signup(State(web): State<Web>, p: Posted) -> Response {
    let (name, password) = (p.fields.str("name"), p.fields.get("password").unwrap_or("").to_owned());
    let creds = Credentials { name: name.clone(), password: password.clone() };
    if let Err(body) = outcome(api::sign_up(State(web.app.clone()), IdempotencyKey(None), Body(creds)).await) {
        let e = vec![place(&body)];
        let body = form(&p.viewer, "/signup", "Create your account", "Sign up", &name, &e);
        return (axum::http::StatusCode::UNPROCESSABLE_ENTITY, frame(&p.viewer, "Sign up", Nav::Account, None, body))
            .into_response();
    }
    log_in_as(&web, &p.viewer, name, password, "/portfolio").await
}

pub async fn login(State(web): State<Web>, p: Posted) -> Response {
    let (name, password) = (p.fields.str("name"), p.fields.get("password").unwrap_or("").to_owned());
    log_in_as(&web, &p.viewer, name, password, "/").await
}

async fn log_in_as(web: &Web, v: &Viewer, name: String, password: String, to: &str) -> Response {
    let creds = Credentials { name: name.clone(), password };
    match outcome(api::log_in(State(web.app.clone()), Body(creds)).await) {
        Ok(body) => {
            let Some(token) = body["token"].as_str() else {
                return crate::layout::error_page(v, 500, "internal", "the server gave no session");
            };
            // A new id at log-in: a session id planted before it is worth nothing.
            let sid = new_sid();
            web.sessions.remove(&v.sid);
            web.sessions.insert(&sid, token.to_owned());
            let mut r = see_other(to);
            r.headers_mut().insert(header::SET_COOKIE, cookie(&sid, web.config.secure_cookies));
            r
        }
        Err(body) => {
            let e = vec![place(&body)];
            let body = form(v, "/login", "Log in", "Log in", &name, &e);
            (axum::http::StatusCode::UNAUTHORIZED, frame(v, "Log in", Nav::Account, None, body)).into_response()
        }
    }
}

pub async fn logout(State(web): State<Web>, p: Posted) -> Response {
    if let Some(login) = &p.viewer.login {
        let _ = api::log_out(State(web.app.clone()), login.user()).await;
    }
    web.sessions.remove(&p.viewer.sid);
    let mut r = see_other("/");
    r.headers_mut().insert(header::SET_COOKIE, cookie(&new_sid(), web.config.secure_cookies));
    r
}
