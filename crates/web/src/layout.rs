//! The page frame (header, navigation, footer), form helpers and error display.

use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::assets;
use crate::session::{Refused, Viewer};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Nav {
    Issues,
    Markets,
    Resources,
    Portfolio,
    Admin,
    Account,
}

/// A whole page. `live` is the URL of the page's live fragment (see static/live.js).
pub fn frame(v: &Viewer, title: &str, nav: Nav, live: Option<&str>, body: Markup) -> Html<String> {
    let link = |n: Nav, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(n == nav).then_some("page")] { (label) } }
    };
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · peerex" }
                    link rel="stylesheet" href=(assets::url("app.css"));
                    script src=(assets::url("live.js")) defer {}
                    script src=(assets::url("forms.js")) defer {}
                }
                body data-live=[live] {
                    a class="skip" href="#main" { "Skip to content" }
                    @if v.demo {
                        div class="demo-banner" role="note" {
                            strong { "Demo" } " · play money on a fast sandbox clock; the other traders are simulated agents. "
                            @if v.login.is_none() { a href="/login" { "Log in as a demo user" } " to trade beside them." }
                        }
                    }
                    header class="top" {
                        a class="brand" href="/" { "peerex" }
                        nav aria-label="Main" {
                            (link(Nav::Issues, "/", "Issues"))
                            (link(Nav::Markets, "/markets", "Predictions"))
                            (link(Nav::Resources, "/resources", "Backup"))
                            @if v.login.is_some() { (link(Nav::Portfolio, "/portfolio", "Portfolio")) }
                            @if v.is_admin() { (link(Nav::Admin, "/admin", "Admin")) }
                        }
                        div class="who" {
                            @if let Some(name) = v.name() {
                                span class="me" { (name) }
                                form method="post" action="/logout" class="inline" {
                                    (csrf(v))
                                    button class="link" type="submit" { "Log out" }
                                }
                            } @else {
                                (link(Nav::Account, "/login", "Log in"))
                                a class="button small" href="/signup" { "Sign up" }
                            }
                        }
                    }
                    main id="main" { (body) }
                    footer class="foot" {
                        "peerex · prices are the market's chance of a fix · "
                        a href="/api/v1/openapi.json" { "API" }
                    }
                }
            }
        }
        .into_string(),
    )
}

/// The hidden CSRF field of every state-changing form.
pub fn csrf(v: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

/// A hidden per-form key: a double submit (back button, double click) acts once.
pub fn form_key() -> Markup {
    html! { input type="hidden" name="form_key" value=(crate::session::new_sid()); }
}

/// An error shown next to the field (or form) that caused it, with its stable code.
#[derive(Clone, Debug, Default)]
pub struct FormError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FormError {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> FormError {
        FormError { field: field.into(), code: code.into(), message: message.into() }
    }
    /// The same error on a field of a prefixed form (`user` -> `dep_user`; `form` stays).
    pub fn prefixed(mut self, prefix: &str) -> FormError {
        if !self.field.ends_with("form") && !self.field.starts_with(prefix) {
            self.field = format!("{prefix}{}", self.field);
        }
        self
    }
    /// From an API answer `{"code","message"}`, placed at the field the code is about.
    pub fn from_api(body: &serde_json::Value, fields: &[&str], default: &str) -> FormError {
        let code = body["code"].as_str().unwrap_or("error").to_owned();
        let message = body["message"].as_str().unwrap_or("the server refused the request").to_owned();
        let lc = format!("{code} {}", message.to_lowercase());
        let field = fields.iter().find(|f| lc.contains(*f)).copied().unwrap_or(default);
        FormError { field: field.into(), code, message }
    }
}

/// The error for `field`, if any: `<p class="err" id="FIELD-err">message <code>code</code></p>`.
pub fn err_for(errors: &[FormError], field: &str) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == field) {
            p class="err" id={(field) "-err"} role="alert" {
                (e.message) " " code class="code" { (e.code) }
            }
        }
    }
}

pub fn has_err(errors: &[FormError], field: &str) -> bool {
    errors.iter().any(|e| e.field == field)
}

/// A labelled input with its error beside it.
#[allow(clippy::too_many_arguments)]
pub fn field(
    errors: &[FormError],
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    hint: Option<&str>,
    extra: &[(&str, &str)],
) -> Markup {
    let id = format!("f-{name}");
    let bad = has_err(errors, name);
    let described = match (hint.is_some(), bad) {
        (true, true) => Some(format!("{id}-hint {name}-err")),
        (true, false) => Some(format!("{id}-hint")),
        (false, true) => Some(format!("{name}-err")),
        (false, false) => None,
    };
    let attrs: String = extra.iter().map(|(k, v)| format!(" {}=\"{}\"", esc(k), esc(v))).collect();
    html! {
        div class="field" {
            label for=(id) { (label) }
            (PreEscaped(format!(
                "<input id=\"{id}\" name=\"{n}\" type=\"{k}\" value=\"{val}\"{inv}{desc}{attrs}>",
                n = esc(name),
                k = esc(kind),
                val = esc(value),
                inv = if bad { " aria-invalid=\"true\"" } else { "" },
                desc = described.map(|d| format!(" aria-describedby=\"{d}\"")).unwrap_or_default(),
            )))
            @if let Some(h) = hint { small id={(id) "-hint"} class="hint" { (h) } }
            (err_for(errors, name))
        }
    }
}

/// A page for a refused request (no session needed).
pub fn bare_error(status: u16, code: &str, message: &str) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Refused · peerex" }
                    link rel="stylesheet" href=(assets::url("app.css"));
                }
                body {
                    main id="main" class="narrow" {
                        h1 { "Nothing was changed" }
                        p class="err" role="alert" { (message) " " code class="code" { (code) } }
                        p { "Status " (status) ". " a href="/" { "Back to the issues" } }
                    }
                }
            }
        }
        .into_string(),
    )
}

/// A plain error page within the frame.
pub fn error_page(v: &Viewer, status: u16, code: &str, message: &str) -> Response {
    let body = html! {
        h1 { "Something is not right" }
        p class="err" role="alert" { (message) " " code class="code" { (code) } }
        p { a href="/" { "Back to the issues" } }
    };
    let s = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (s, frame(v, "Error", Nav::Issues, None, body)).into_response()
}

/// A redirect after a successful post (303: the browser GETs the target).
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// `a=b&c=d`, escaped.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&encode(k));
        s.push('=');
        s.push_str(&encode(v));
    }
    s
}

/// Percent-encodes a query component.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link to a series page.
pub fn series_url(issue: &str, maturation: &str) -> String {
    format!("/series?{}", query(&[("issue", issue), ("maturation", maturation)]))
}

/// A side label, always with its word (never colour alone).
pub fn side_badge(side: peerex_engine::exchange::types::Side) -> Markup {
    use peerex_engine::exchange::types::Side;
    match side {
        Side::Fixed => html! { span class="badge fixed" { "Fixed" } },
        Side::Unfixed => html! { span class="badge unfixed" { "Unfixed" } },
    }
}

/// Escapes text for an HTML attribute value.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A form refused by the session's checks (Origin, CSRF): the 403 page.
impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = bare_error(403, self.0, self.1);
        (axum::http::StatusCode::FORBIDDEN, body).into_response()
    }
}
