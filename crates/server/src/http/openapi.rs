//! The OpenAPI document, derived from the code: every route is registered with utoipa-axum's
//! `routes!` from a handler carrying `#[utoipa::path]`, so a route and its description come from
//! one place, and the schemas are the typed views' own (`crate::views`). A few rules then fill in
//! what every operation shares (served at /api/v1/openapi.json; checked by the router-vs-document
//! test and by .ci/schemathesis.sh):
//!
//! * `operationId` is `<method>_<path words>` (`delete /api/v1/offers/{id}` -> `delete_offers_id`);
//! * every operation may answer 408 (request timeout) and 429 (rate limits); one with a bearer token 401; one with
//!   parameters or a body 400 (and 413 for a body); a write (POST, PUT, DELETE) 503 when the
//!   writer has stopped; a POST, PUT or DELETE (but a log-out) takes an `Idempotency-Key` and answers 422
//!   `idempotency_key_reused` when the key comes back with another request.
//!
//! Errors are all `{"code", "message"}` ([`ErrorView`]).

use std::sync::OnceLock;

use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::views::ErrorView;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "peerex API",
        description = "Issue futures, prediction markets, the backup network's resource market, and accounts. \
                       Money and prices are decimal strings; times are RFC 3339."
    ),
    modifiers(&Bearer),
    components(schemas(ErrorView)),
    tags(
        (name = "accounts", description = "Sign up, log in, the caller's account"),
        (name = "exchange", description = "Issues, series, offers, books, trades, positions"),
        (name = "markets", description = "Prediction markets"),
        (name = "arbitration", description = "Series decided by arbiters: statements, reports, disputes"),
        (name = "makers", description = "Automated market makers on series' books"),
        (name = "resources", description = "The backup network's resource market"),
        (name = "admin", description = "Admin only: accounts, money, decisions, the sandbox clock"),
        (name = "feeds", description = "Events, the live stream, the clock"),
        (name = "ops", description = "Health, metrics, this document")
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `delete /api/v1/offers/{id}` -> `delete_offers_id`.
pub fn operation_id(method: &str, path: &str) -> String {
    let tail = path.trim_start_matches("/api/v1");
    let words: Vec<&str> = tail.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    format!("{method}_{}", words.join("_"))
}

fn error_response(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorView"}}}})
}

/// Applies the shared rules (module docs) to the derived document.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return doc };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            op.insert("operationId".into(), json!(operation_id(method, path)));
            let write = matches!(method.as_str(), "post" | "put" | "delete");
            // A log-out's retry has no valid token left to be answered with: it takes no key.
            let takes_key = matches!(method.as_str(), "post" | "put")
                || (method == "delete" && path.as_str() != "/api/v1/sessions");
            if takes_key {
                let params = op.entry("parameters").or_insert_with(|| json!([]));
                if let Some(list) = params.as_array_mut() {
                    list.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
                        "description": "A retry with the same key and request gets the first answer",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200}}));
                }
            }
            let secured = op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            let has_params = op.get("parameters").is_some_and(|p| p.as_array().is_some_and(|a| !a.is_empty()));
            let has_body = op.contains_key("requestBody");
            let responses = op.entry("responses").or_insert_with(|| json!({}));
            let Some(responses) = responses.as_object_mut() else { continue };
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
            };
            add("408", "no answer within the request timeout (request_timeout_ms)");
            add("429", "too many requests (rate limit), or the writer's queue is full");
            if secured {
                add("401", "no valid bearer token");
            }
            if has_params || has_body {
                add("400", "bad input");
            }
            if has_body {
                add("413", "the body is larger than the limit");
            }
            if takes_key {
                add("422", "a rule refused it, or the Idempotency-Key was used for another request");
            }
            if write {
                add(
                    "503",
                    "the writer stopped (the server must restart), or in a cluster no writer is reachable \
                     right now (`writer_unavailable`: retry with the same Idempotency-Key)",
                );
            }
        }
    }
    sort_responses(&mut doc);
    doc
}

/// Orders each operation's responses by status (stable output).
fn sort_responses(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut().filter_map(Value::as_object_mut) {
            if let Some(Value::Object(r)) = op.get_mut("responses") {
                let mut sorted: Vec<(String, Value)> = std::mem::take(r).into_iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                *r = sorted.into_iter().collect::<Map<String, Value>>();
            }
        }
    }
}

/// The whole document (built once).
pub fn spec() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| finish(super::api().split_for_parts().1))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "the OpenAPI document", body = Object)))]
pub async fn document() -> Json<Value> {
    Json(spec().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_responses_and_refs_resolve() {
        let doc = spec();
        let schemas = doc["components"]["schemas"].as_object().unwrap().clone();
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
                assert!(op["operationId"].is_string(), "{method} {path}");
            }
        }
        assert!(doc["paths"]["/api/v1/offers"]["post"]["requestBody"].is_object());
        assert_eq!(doc["paths"]["/api/v1/sessions"]["delete"]["operationId"], "delete_sessions");
        for path in ["/api/v1/markets/{id}/quote", "/api/v1/markets/{id}/resolve", "/api/v1/admin/resources/peers/{id}"]
        {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
        for path in ["/metrics", "/healthz"] {
            assert!(doc["paths"][path]["get"].is_object(), "{path} is documented");
        }
    }

    /// OpenAPI requires `items` on every array schema (validators reject the document otherwise).
    #[test]
    fn every_array_schema_has_items() {
        fn is_array(t: Option<&Value>) -> bool {
            match t {
                Some(Value::String(s)) => s == "array",
                Some(Value::Array(xs)) => xs.iter().any(|x| x == "array"),
                _ => false,
            }
        }
        fn walk(v: &Value, at: &str) {
            match v {
                Value::Object(m) => {
                    if is_array(m.get("type")) {
                        assert!(
                            m.contains_key("items") || m.contains_key("prefixItems"),
                            "array without items at {at}"
                        );
                    }
                    for (k, x) in m {
                        walk(x, &format!("{at}/{k}"));
                    }
                }
                Value::Array(xs) => xs.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{at}/{i}"))),
                _ => {}
            }
        }
        walk(spec(), "");
        assert!(spec()["paths"]["/api/v1/peers/me/preview"]["get"]["parameters"].is_array());
    }

    /// Writes answer 503 when the writer stopped and POSTs 422 for a reused key: documented.
    #[test]
    fn shared_statuses_are_documented() {
        let doc = spec();
        let post = &doc["paths"]["/api/v1/offers"]["post"];
        for status in ["400", "401", "408", "413", "422", "429", "503"] {
            assert!(post["responses"][status].is_object(), "POST /offers documents {status}");
        }
        assert!(post["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key"));
        let get = &doc["paths"]["/api/v1/issues"]["get"];
        assert!(get["responses"]["401"].is_null(), "an anonymous read never answers 401");
    }
}
