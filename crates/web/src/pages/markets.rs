//! Prediction markets.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::layout::{frame, Nav};
use crate::session::Viewer;
use crate::Web;

pub async fn list(State(_web): State<Web>, v: Viewer) -> Response {
    let body = html! {
        h1 { "Prediction markets" }
        section class="card empty" {
            p { "Markets on any question, priced by a market maker (LMSR) and resolved by arbiters." }
        }
    };
    frame(&v, "Prediction markets", Nav::Markets, None, body).into_response()
}
