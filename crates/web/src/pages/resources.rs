//! The resource (backup) market.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::layout::{frame, Nav};
use crate::session::Viewer;
use crate::Web;

pub async fn page(State(_web): State<Web>, v: Viewer) -> Response {
    let body = html! {
        h1 { "Backup market" }
        section class="card empty" {
            p { "Peers trade disk space, upload and download for backup capacity." }
        }
    };
    frame(&v, "Backup market", Nav::Resources, None, body).into_response()
}
