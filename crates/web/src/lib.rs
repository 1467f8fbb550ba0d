//! peerex-web: the web UI of `peerex serve` (spec/service.md, "Web UI").
//!
//! Server-rendered pages (maud templates) on the server's public API: pages read the committed
//! engine through [`AppState`] and the engine's typed views, and every change goes through the
//! server's own handlers (the same checks, the same writer, the same error codes), so the UI
//! re-implements no rule. The server does not depend on this crate; `peerex serve` mounts
//! [`router`] with `peerex_server::serve_with`.
//!
//! * `session`: browser sessions (not API tokens), CSRF, the Origin check;
//! * `security`: CSP and the other headers; `assets`: embedded, content-hashed CSS/JS;
//! * `history`: the price history projection (charts, trends, recent trades);
//! * `pages`: one module per area; `layout`, `charts`, `fmt`: shared pieces.

pub mod assets;
pub mod charts;
pub mod fmt;
pub mod history;
pub mod layout;
pub mod market_log;
pub mod pages;
pub mod projection;
pub mod security;
pub mod session;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use peerex_server::state::AppState;

use crate::history::History;
use crate::session::Sessions;

/// How the UI is served.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (with the `__Host-` prefix): set when the UI is reached
    /// over TLS (a terminating proxy in front of `peerex serve`).
    pub secure_cookies: bool,
}

impl WebConfig {
    /// `PEEREX_SECURE_COOKIES=true` turns on secure cookies.
    pub fn from_env() -> WebConfig {
        let on = std::env::var("PEEREX_SECURE_COOKIES").is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        WebConfig { secure_cookies: on }
    }
}

/// What the UI's handlers share.
#[derive(Clone)]
pub struct Web {
    pub app: AppState,
    pub sessions: Arc<Sessions>,
    pub history: Arc<History>,
    /// Prediction-market trades and resolutions (pages::markets).
    pub market_log: Arc<market_log::MarketLog>,
    pub config: Arc<WebConfig>,
}

impl Web {
    /// The UI state; starts following the price history (needs a Tokio runtime).
    pub fn new(app: AppState, config: WebConfig) -> Web {
        let history = Arc::new(History::default());
        projection::follow(history.clone(), app.clone());
        let market_log = Arc::new(market_log::MarketLog::default());
        projection::follow(market_log.clone(), app.clone());
        Web { app, sessions: Arc::new(Sessions::default()), history, market_log, config: Arc::new(config) }
    }
}

/// The UI's routes, for `peerex_server::start_with`.
pub fn router(app: AppState) -> Router {
    router_with(Web::new(app, WebConfig::from_env()))
}

pub fn router_with(web: Web) -> Router {
    use pages::*;
    Router::new()
        .route("/", get(issues::page))
        .route("/live/issues", get(issues::live))
        .route("/issues", post(issues::open))
        .route("/series", get(series::page))
        .route("/live/series", get(series::live))
        .route("/offers", post(series::place))
        .route("/offers/preview", get(series::preview))
        .route("/offers/cancel", post(series::cancel))
        .route("/series/report", post(arbitration::report))
        .route("/series/dispute", post(arbitration::dispute))
        .route("/makers", post(arbitration::fund_maker))
        .route("/statements", post(arbitration::open))
        .route("/statements/new", get(arbitration::new_page))
        .route("/portfolio", get(portfolio::page))
        .route("/portfolio.csv", get(portfolio::csv))
        .route("/signup", get(account::signup_page).post(account::signup))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/admin", get(admin::page))
        .route("/admin/deposit", post(admin::deposit))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/decide", post(admin::decide))
        .route("/admin/clock", post(admin::clock))
        .route("/admin/disputes", post(admin::disputes))
        .merge(markets::routes())
        .merge(resources::routes())
        .route("/static/{file}", get(assets::serve))
        .layer(DefaultBodyLimit::max(session::MAX_FORM))
        .layer(middleware::from_fn_with_state(web.clone(), security::headers))
        .with_state(web)
}
