//! The OpenAPI 3.0 document of the API, built by hand from small helpers so it stays next to
//! the routes it describes (served at /api/v1/openapi.json; checked by .ci/schemathesis.sh).

use axum::Json;
use serde_json::{json, Map, Value};

fn s(t: &str) -> Value {
    json!({"type": t})
}
fn money() -> Value {
    json!({"type": "string", "pattern": "^-?[0-9]{1,12}(\\.[0-9]{1,6})?$", "example": "160"})
}
fn price() -> Value {
    json!({"type": "string", "pattern": "^(0(\\.[0-9]{1,4})?|1(\\.0{1,4})?)$", "example": "0.80"})
}
fn time() -> Value {
    json!({"type": "string", "format": "date-time", "example": "2030-12-15T00:00:00Z"})
}
fn obj(props: Value, required: &[&str]) -> Value {
    let mut o = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}
fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}
fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}
fn q(name: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}
fn path_id() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
}
fn idem() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
}

/// One operation: summary, ok status and schema, parameters, body, auth, and error statuses.
struct Op {
    summary: &'static str,
    ok: (&'static str, Value),
    params: Vec<Value>,
    body: Option<Value>,
    auth: bool,
    errors: &'static [&'static str],
}

impl Op {
    fn new(summary: &'static str, ok: &'static str, schema: Value) -> Op {
        Op { summary, ok: (ok, schema), params: vec![], body: None, auth: false, errors: &["400", "429"] }
    }
    fn auth(mut self) -> Op {
        self.auth = true;
        self
    }
    fn body(mut self, b: Value) -> Op {
        self.body = Some(body(b));
        self.params.push(idem());
        self
    }
    fn params(mut self, p: Vec<Value>) -> Op {
        self.params.extend(p);
        self
    }
    fn errors(mut self, e: &'static [&'static str]) -> Op {
        self.errors = e;
        self
    }
    fn build(self) -> Value {
        let mut responses = Map::new();
        responses.insert(
            self.ok.0.into(),
            json!({"description": "success", "content": {"application/json": {"schema": self.ok.1}}}),
        );
        let mut errs: Vec<&str> = self.errors.to_vec();
        if self.auth {
            errs.push("401");
        }
        for e in errs {
            responses.insert(
                e.into(),
                json!({"description": "error", "content": {"application/json": {"schema": r("Error")}}}),
            );
        }
        let mut op = json!({"summary": self.summary, "responses": responses});
        if !self.params.is_empty() {
            op["parameters"] = json!(self.params);
        }
        if let Some(b) = self.body {
            op["requestBody"] = b;
        }
        if self.auth {
            op["security"] = json!([{"bearer": []}]);
        }
        op
    }
}

fn schemas() -> Value {
    json!({
        "Error": obj(json!({"code": s("string"), "message": s("string")}), &["code", "message"]),
        "Credentials": obj(json!({
            "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
            "password": {"type": "string", "minLength": 8, "maxLength": 256}}), &["name", "password"]),
        "Me": obj(json!({"name": s("string"), "admin": s("boolean"), "available": money(), "held": money()}),
            &["name", "available", "held"]),
        "Offer": obj(json!({"id": s("string"), "user": s("string"), "kind": s("string"), "issue": s("string"),
            "maturation": time(), "price": price(), "volume": s("integer"), "remaining": s("integer"),
            "status": {"type": "string", "enum": ["open", "filled", "cancelled", "expired", "suspended"]},
            "aon": s("boolean"), "poolable": s("boolean"), "expiration": time(),
            "trades": {"type": "array", "items": s("object")}}), &["id", "status", "remaining"]),
        "PlaceOffer": obj(json!({
            "kind": {"type": "string", "enum": ["buy_fixed", "buy_unfixed", "sell_fixed", "sell_unfixed"]},
            "issue": {"type": "string", "minLength": 1, "maxLength": 200}, "maturation": time(), "price": price(),
            "volume": {"type": "integer", "minimum": 1, "maximum": 1_000_000_000u64},
            "aon": s("boolean"), "poolable": s("boolean"), "expiration": time()}),
            &["kind", "issue", "maturation", "price", "volume"]),
        "Series": obj(json!({"issue": s("string"), "maturation": time(), "status": s("string"),
            "winner": {"type": "string", "nullable": true}, "units": s("integer"), "escrow": money(),
            "fixed_price": {"type": "string", "nullable": true}, "volume": s("integer"),
            "open_interest": s("integer")}), &["issue", "maturation", "status", "units", "escrow"]),
        "Issue": obj(json!({"issue": s("string"), "title": s("string"), "tracker": s("string"),
            "state": s("string"), "series": {"type": "array", "items": r("Series")}}), &["issue", "state"]),
        "Position": obj(json!({"issue": s("string"), "maturation": time(),
            "side": {"type": "string", "enum": ["fixed", "unfixed"]}, "units": s("integer"),
            "cost_basis": money(), "realized_pnl": money()}), &["issue", "maturation", "side", "units"]),
        "Events": obj(json!({"events": {"type": "array", "items": s("object")}, "next": s("integer")}),
            &["events", "next"]),
        "Book": obj(json!({"bids": {"type": "array", "items": s("object")}, "asks": {"type": "array", "items": s("object")}}),
            &["bids", "asks"]),
        "Balance": obj(json!({"user": s("string"), "available": money(), "held": money()}), &[]),
        "Pie": obj(json!({"capacity_gb": s("number"), "used_gb": s("number"), "available_gb": s("number")}),
            &["capacity_gb", "used_gb", "available_gb"]),
        "PeerView": obj(json!({"peer": s("string"), "availability": s("number"), "test_target": s("boolean"),
            "standing": s("string"), "pie": r("Pie"), "sliders": s("object")}),
            &["peer", "availability", "standing", "pie", "sliders"]),
        "OperatorView": obj(json!({"prices": {"type": "array", "items": s("number")},
            "prices_nano": {"type": "array", "items": s("integer")},
            "service_prices_nano": {"type": "array", "items": s("integer")},
            "imbalance_e": {"type": "array", "items": s("number"), "nullable": true},
            "bank_balance": money(), "balances": {"type": "array", "items": {"type": "array", "items": {}, "description": "[peer, balance, standing]"}},
            "frozen": {"type": "array", "items": s("string")}, "days_settled": s("integer"),
            "epoch_days": s("integer"), "files": s("integer")}),
            &["prices", "balances", "frozen", "days_settled"]),
        "Any": s("object"),
    })
}

/// `delete /api/v1/offers/{id}` -> `delete_offers_id`.
fn operation_id(method: &str, path: &str) -> String {
    let tail = path.trim_start_matches("/api/v1");
    let words: Vec<&str> = tail.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    format!("{method}_{}", words.join("_"))
}

pub fn spec() -> Value {
    let issue_q = || q("issue", json!({"type": "string", "minLength": 1, "maxLength": 200}), true);
    let series_q = || {
        vec![
            issue_q(),
            q("maturation", time(), true),
            q("after", json!({"type": "integer", "minimum": 0}), false),
            q("limit", json!({"type": "integer", "minimum": 1, "maximum": 1000}), false),
        ]
    };
    let issue_change = obj(
        json!({"issue": {"type": "string", "minLength": 1, "maxLength": 200},
               "reason": {"type": "string", "enum": ["completed", "not_planned", "duplicate", "unknown"]}}),
        &["issue"],
    );
    let money_body = obj(json!({"user": s("string"), "amount": money()}), &["user", "amount"]);
    let mut paths = Map::new();
    let mut add = |path: &str, method: &str, op: Op| {
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        let mut built = op.build();
        built["operationId"] = json!(operation_id(method, path));
        entry[method] = built;
    };
    add(
        "/api/v1/users",
        "post",
        Op::new("Sign up", "201", obj(json!({"name": s("string")}), &["name"]))
            .body(r("Credentials"))
            .errors(&["400", "409", "429"]),
    );
    add(
        "/api/v1/sessions",
        "post",
        Op::new("Log in: a bearer token", "200", obj(json!({"token": s("string")}), &["token"]))
            .body(r("Credentials"))
            .errors(&["400", "401", "429"]),
    );
    add("/api/v1/sessions", "delete", Op::new("Log out (revoke this token)", "200", r("Any")).auth());
    add("/api/v1/me", "get", Op::new("The caller's account and balance", "200", r("Me")).auth());
    add("/api/v1/balances", "get", Op::new("The caller's balances", "200", r("Me")).auth());
    add(
        "/api/v1/issues",
        "get",
        Op::new(
            "Issues with fixed-side price and volume per series",
            "200",
            json!({"type": "array", "items": r("Issue")}),
        ),
    );
    add("/api/v1/issues", "post",
        Op::new("Open an issue on the local tracker", "201", r("Issue")).auth()
            .body(obj(json!({"issue": {"type": "string", "minLength": 1, "maxLength": 200}, "title": {"type": "string", "maxLength": 500},
                "labels": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 100}}}), &["issue"]))
            .errors(&["400", "409", "422", "429"]));
    add(
        "/api/v1/issues/close",
        "post",
        Op::new("Close a local issue (opener or admin)", "200", r("Issue"))
            .auth()
            .body(issue_change.clone())
            .errors(&["400", "403", "404", "409", "422", "429"]),
    );
    add(
        "/api/v1/issues/reopen",
        "post",
        Op::new("Reopen a local issue (opener or admin)", "200", r("Issue"))
            .auth()
            .body(issue_change)
            .errors(&["400", "403", "404", "409", "422", "429"]),
    );
    add(
        "/api/v1/offers",
        "post",
        Op::new("Place an offer (the server assigns its id)", "201", r("Offer"))
            .auth()
            .body(r("PlaceOffer"))
            .errors(&["400", "403", "404", "409", "422", "429"]),
    );
    add(
        "/api/v1/offers",
        "get",
        Op::new("The caller's offers", "200", json!({"type": "array", "items": r("Offer")})).auth().params(vec![q(
            "status",
            json!({"type": "string", "enum": ["open", "filled", "cancelled", "expired", "suspended"]}),
            false,
        )]),
    );
    add(
        "/api/v1/offers/{id}",
        "get",
        Op::new("One of the caller's offers", "200", r("Offer"))
            .auth()
            .params(vec![path_id()])
            .errors(&["403", "404", "429"]),
    );
    add(
        "/api/v1/offers/{id}",
        "delete",
        Op::new("Cancel one of the caller's offers", "200", r("Offer"))
            .auth()
            .params(vec![path_id()])
            .errors(&["400", "403", "404", "422", "429"]),
    );
    add(
        "/api/v1/offers/{id}/resume",
        "post",
        Op::new("Resume a suspended poolable offer", "200", r("Offer"))
            .auth()
            .params(vec![path_id(), idem()])
            .errors(&["400", "403", "404", "422", "429"]),
    );
    add(
        "/api/v1/positions",
        "get",
        Op::new("The caller's positions", "200", json!({"type": "array", "items": r("Position")})).auth(),
    );
    add(
        "/api/v1/series",
        "get",
        Op::new("Series (of one issue)", "200", json!({"type": "array", "items": r("Series")}))
            .params(vec![q("issue", json!({"type": "string", "maxLength": 200}), false)])
            .errors(&["400", "404", "429"]),
    );
    add(
        "/api/v1/book",
        "get",
        Op::new("Order book of a series (fixed-side prices)", "200", r("Book"))
            .params(vec![
                issue_q(),
                q("maturation", time(), true),
                q("levels", json!({"type": "integer", "minimum": 1, "maximum": 500}), false),
            ])
            .errors(&["400", "404", "429"]),
    );
    add(
        "/api/v1/trades",
        "get",
        Op::new("Trades of a series after a cursor", "200", r("Events"))
            .params(series_q())
            .errors(&["400", "404", "429"]),
    );
    add(
        "/api/v1/prices",
        "get",
        Op::new(
            "Price history of a series",
            "200",
            obj(json!({"points": {"type": "array", "items": s("object")}, "next": s("integer")}), &["points"]),
        )
        .params(series_q())
        .errors(&["400", "404", "429"]),
    );
    add(
        "/api/v1/events",
        "get",
        Op::new("The caller's events after a cursor", "200", r("Events")).auth().params(vec![
            q("after", json!({"type": "integer", "minimum": 0}), false),
            q("limit", json!({"type": "integer", "minimum": 1, "maximum": 1000}), false),
        ]),
    );
    add("/api/v1/clock", "get", Op::new("The server's clock", "200", r("Any")));
    add("/api/v1/markets", "get", Op::new("Prediction markets", "200", r("Any")));
    add("/api/v1/markets", "post",
        Op::new("Create a prediction market", "201", r("Any")).auth()
            .body(obj(json!({"id": {"type": "string", "minLength": 1, "maxLength": 200}, "statement": {"type": "string", "maxLength": 1000},
                "deadline": time(), "b": money(), "fee": money(), "initial_shares": money(),
                "outcomes": {"type": "integer", "minimum": 2, "maximum": 100}, "issue": s("string")}), &["id", "statement", "deadline", "b"]))
            .errors(&["400", "404", "409", "422", "429"]));
    add(
        "/api/v1/markets/{id}/trades",
        "post",
        Op::new("Trade shares with the market maker", "201", r("Any"))
            .auth()
            .params(vec![path_id()])
            .body(obj(
                json!({"shares": money(), "max_cost": money(), "outcome": {"type": "integer", "minimum": 0}}),
                &["shares"],
            ))
            .errors(&["400", "404", "409", "422", "429"]),
    );
    add(
        "/api/v1/markets/{id}/reports",
        "post",
        Op::new("Report as an arbiter", "200", r("Any"))
            .auth()
            .params(vec![path_id()])
            .body(obj(json!({"value": {"type": "integer", "minimum": 0, "maximum": 255}}), &["value"]))
            .errors(&["400", "403", "404", "409", "422", "429"]),
    );
    add(
        "/api/v1/admin/users",
        "post",
        Op::new("Create an account (admin)", "201", r("Any"))
            .auth()
            .body(obj(
                json!({"name": s("string"), "password": s("string"), "admin": s("boolean")}),
                &["name", "password"],
            ))
            .errors(&["400", "403", "409", "429"]),
    );
    add(
        "/api/v1/admin/deposits",
        "post",
        Op::new("Mint credits into an account (admin)", "200", r("Balance"))
            .auth()
            .body(money_body.clone())
            .errors(&["400", "403", "404", "422", "429"]),
    );
    add(
        "/api/v1/admin/withdrawals",
        "post",
        Op::new("Return credits to the mint (admin)", "200", r("Balance"))
            .auth()
            .body(money_body)
            .errors(&["400", "403", "404", "422", "429"]),
    );
    add("/api/v1/admin/decide", "post",
        Op::new("Decide a matured series by hand (admin)", "200", r("Issue")).auth()
            .body(obj(json!({"issue": s("string"), "maturation": time(), "winner": {"type": "string", "enum": ["fixed", "unfixed"]},
                "fixed_pays": money(), "reason": {"type": "string", "maxLength": 500}}), &["issue", "maturation"]))
            .errors(&["400", "403", "404", "409", "422", "429"]));
    add(
        "/api/v1/admin/clock",
        "post",
        Op::new("Move the sandbox clock forward (admin)", "200", r("Any"))
            .auth()
            .body(obj(json!({"to": time(), "advance_seconds": {"type": "integer", "minimum": 0}}), &[]))
            .errors(&["400", "403", "409", "429"]),
    );
    add(
        "/api/v1/admin/sync",
        "post",
        Op::new("Record a tracker observation of an issue (admin)", "200", r("Issue"))
            .auth()
            .body(obj(
                json!({"issue": s("string"), "tracker": s("string"), "title": s("string"),
                "state": {"type": "string", "enum": ["open", "closed"]},
                "reason": {"type": "string", "enum": ["completed", "not_planned", "duplicate", "unknown"]},
                "changed_at": time(), "observed_at": time()}),
                &["issue", "tracker", "state"],
            ))
            .errors(&["400", "403", "404", "409", "422", "429"]),
    );
    let gb = || json!({"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,6})?$", "example": "100"});
    let sliders = obj(
        json!({"space_gb": gb(), "upload_gb": gb(), "download_gb": gb()}),
        &["space_gb", "upload_gb", "download_gb"],
    );
    add(
        "/api/v1/peers",
        "post",
        Op::new("Register the caller's backup peer (named by the user name)", "201", r("PeerView"))
            .auth()
            .params(vec![idem()])
            .errors(&["400", "409", "429"]),
    );
    add("/api/v1/peers/online", "post",
        Op::new("Report a day's online fraction of the caller's peer", "200", r("PeerView")).auth()
            .body(obj(json!({"fraction": {"type": "string", "pattern": "^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$", "example": "0.9"},
                "online": s("boolean")}), &["fraction"]))
            .errors(&["400", "404", "422", "429"]));
    for method in ["post", "put"] {
        add(
            "/api/v1/peers/sliders",
            method,
            Op::new("Set the caller's sliders: space (GB), upload and download (GB/day)", "200", r("PeerView"))
                .auth()
                .body(sliders.clone())
                .errors(&["400", "404", "422", "429"]),
        );
    }
    add(
        "/api/v1/peers/me",
        "get",
        Op::new("The caller's capacity, pie chart and sliders (no prices or balances)", "200", r("PeerView"))
            .auth()
            .errors(&["404", "429"]),
    );
    add(
        "/api/v1/peers/me/preview",
        "get",
        Op::new("The pie chart for trial slider positions (nothing is set)", "200", r("PeerView"))
            .auth()
            .params(vec![q("space_gb", gb(), true), q("upload_gb", gb(), true), q("download_gb", gb(), true)])
            .errors(&["400", "404", "422", "429"]),
    );
    add(
        "/api/v1/admin/resources",
        "get",
        Op::new("Resource market prices, imbalance, balances, frozen accounts (admin)", "200", r("OperatorView"))
            .auth()
            .errors(&["403", "429"]),
    );
    add(
        "/api/v1/admin/resources/settle",
        "post",
        Op::new("Settle one day of the resource market (admin)", "200", r("OperatorView"))
            .auth()
            .params(vec![idem()])
            .errors(&["403", "409", "422", "429"]),
    );
    add(
        "/api/v1/admin/resources/prices",
        "post",
        Op::new("One step of the resource price update (admin)", "200", r("OperatorView"))
            .auth()
            .params(vec![idem()])
            .errors(&["403", "409", "422", "429"]),
    );
    for (path, summary) in [
        ("/api/v1/webhooks/github", "GitHub webhook (issues events; X-Hub-Signature-256 over the raw body)"),
        ("/api/v1/webhooks/gitlab", "GitLab webhook (Issue Hook; the secret token in X-Gitlab-Token)"),
        (
            "/api/v1/webhooks/gitea",
            "Gitea/Forgejo webhook (issues events; X-Gitea-Signature or X-Forgejo-Signature over the raw body)",
        ),
    ] {
        add(
            path,
            "post",
            Op::new(
                summary,
                "200",
                obj(json!({"observations": s("integer"), "submitted": s("integer"), "applied": s("integer")}), &[]),
            )
            .body(s("object"))
            .errors(&["400", "401", "404", "429"]),
        );
    }
    add(
        "/api/v1/stream",
        "get",
        Op {
            summary: "Server-Sent Events of public market events (no user names); resumes after \
                      the Last-Event-ID header or the `after` cursor",
            ok: ("200", s("string")),
            params: vec![
                q("after", json!({"type": "integer", "minimum": 0}), false),
                json!({"name": "Last-Event-ID", "in": "header", "required": false,
                       "schema": {"type": "integer", "minimum": 0}}),
            ],
            body: None,
            auth: false,
            errors: &["400"],
        },
    );
    add("/healthz", "get", Op::new("Health", "200", r("Any")).errors(&["503"]));
    json!({
        "openapi": "3.0.3",
        "info": {"title": "peerex API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Issue futures, prediction markets and accounts. Money and prices are decimal strings."},
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
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
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
            }
        }
        assert!(doc["paths"]["/api/v1/offers"]["post"]["requestBody"].is_object());
    }

    /// OpenAPI 3.0 requires `items` on every array schema (validators reject the document otherwise).
    #[test]
    fn every_array_schema_has_items() {
        fn walk(v: &Value, at: &str) {
            match v {
                Value::Object(m) => {
                    if m.get("type") == Some(&json!("array")) {
                        assert!(m.contains_key("items"), "array without items at {at}");
                    }
                    for (k, x) in m {
                        walk(x, &format!("{at}/{k}"));
                    }
                }
                Value::Array(xs) => xs.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{at}/{i}"))),
                _ => {}
            }
        }
        walk(&spec(), "");
        assert!(spec()["paths"]["/api/v1/peers/me/preview"]["get"]["parameters"].is_array());
    }
}
