//! The CLI client against a fake API: the exact requests it sends (paths, bodies, bearer header),
//! its tables and `--json` output, and its one-line errors with a non-zero exit status.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::fake_api::FakeApi;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn peerex_with(server: &str, config: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peerex"));
    cmd.args(args)
        .env_remove("PEEREX_TOKEN")
        .env_remove("PEEREX_PASSWORD")
        .env("PEEREX_SERVER", server)
        .env("PEEREX_CONFIG_DIR", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn peerex(api: &FakeApi, config: &Path, args: &[&str]) -> Run {
    peerex_with(&api.url(), config, args, &[], "")
}

/// Runs a command that must succeed.
fn ok(api: &FakeApi, config: &Path, args: &[&str]) -> String {
    let r = peerex(api, config, args);
    assert_eq!(r.code, 0, "{args:?} failed: {}", r.stderr);
    assert_eq!(r.stderr, "");
    r.stdout
}

/// A config dir with a stored session for `api`.
fn logged_in(api: &FakeApi) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    api.answer("POST", "/api/v1/sessions", 200, json!({"token": "tok-adam"}));
    ok(api, dir.path(), &["login", "adam", "--password", "pw"]);
    dir
}

#[test]
fn signup_login_me_and_logout() {
    let api = FakeApi::start();
    let dir = tempfile::tempdir().unwrap();
    api.answer("POST", "/api/v1/users", 201, json!({"name": "adam"}));
    assert_eq!(
        ok(&api, dir.path(), &["signup", "adam", "--password", "hunter2"]),
        "signed up as adam; now run: peerex login adam\n"
    );
    let r = api.last();
    assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/api/v1/users"));
    assert_eq!(r.body, json!({"name": "adam", "password": "hunter2"}));
    assert_eq!(r.authorization, None);

    // The password may come on stdin.
    api.answer("POST", "/api/v1/sessions", 200, json!({"token": "tok-123"}));
    let login = peerex_with(&api.url(), dir.path(), &["login", "adam"], &[], "s3cret\n");
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        login.stdout.starts_with(&format!("logged in as adam at {} (token stored in ", api.url())),
        "{}",
        login.stdout
    );
    assert!(!login.stdout.contains("tok-123"), "the token is never printed");
    assert_eq!(api.last().body, json!({"name": "adam", "password": "s3cret"}));
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(stored["sessions"][api.url()]["token"], "tok-123");

    api.answer("GET", "/api/v1/me", 200, json!({"name": "adam", "available": "990.5", "held": "9.5"}));
    assert_eq!(ok(&api, dir.path(), &["me"]), "name       adam\navailable  990.5\nheld       9.5\n");
    let r = api.last();
    assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/api/v1/me"));
    assert_eq!(r.authorization.as_deref(), Some("Bearer tok-123"));
    let json_out: Value = serde_json::from_str(&ok(&api, dir.path(), &["me", "--json"])).unwrap();
    assert_eq!(json_out, json!({"name": "adam", "available": "990.5", "held": "9.5"}));

    // Logging out revokes the token on the server, then forgets it.
    api.answer("DELETE", "/api/v1/sessions", 200, json!({"revoked": true}));
    assert_eq!(ok(&api, dir.path(), &["logout"]), format!("logged out adam from {}\n", api.url()));
    let r = api.last();
    assert_eq!((r.method.as_str(), r.target.as_str()), ("DELETE", "/api/v1/sessions"));
    assert_eq!(r.authorization.as_deref(), Some("Bearer tok-123"));
    let n = api.requests().len();
    let r = peerex(&api, dir.path(), &["me"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr, "peerex: not logged in: run `peerex login NAME` or pass --token / PEEREX_TOKEN\n");
    assert_eq!(r.stdout, "");
    assert_eq!(api.requests().len(), n, "nothing is sent without a token");
}

#[test]
fn a_token_flag_or_environment_overrides_the_stored_one() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    api.answer("GET", "/api/v1/me", 200, json!({"name": "eve", "available": "1", "held": "0"}));
    ok(&api, dir.path(), &["me", "--token", "flag-tok"]);
    assert_eq!(api.last().authorization.as_deref(), Some("Bearer flag-tok"));
    let r = peerex_with(&api.url(), dir.path(), &["me"], &[("PEEREX_TOKEN", "env-tok")], "");
    assert_eq!(r.code, 0);
    assert_eq!(api.last().authorization.as_deref(), Some("Bearer env-tok"));
    ok(&api, dir.path(), &["me"]);
    assert_eq!(api.last().authorization.as_deref(), Some("Bearer tok-adam"));
    // Another server has no stored session.
    let other = FakeApi::start();
    let r = peerex(&other, dir.path(), &["me"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not logged in"));
}

#[test]
fn places_lists_and_cancels_offers_with_the_documented_fields() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    api.answer("POST", "/api/v1/offers", 201, json!({"id": "17", "status": "open", "remaining": 150}));
    let text = ok(
        &api,
        dir.path(),
        &[
            "offer",
            "place",
            "buy_unfixed",
            "demo/app#1337",
            "2026-12-15T00:00:00Z",
            "0.80",
            "200",
            "--aon",
            "--expiration",
            "2026-12-10T00:00:00Z",
        ],
    );
    assert_eq!(text, "offer 17: buy_unfixed 200 at 0.80\n150 of 200 remaining (open)\n");
    let r = api.last();
    assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/api/v1/offers"));
    assert_eq!(r.authorization.as_deref(), Some("Bearer tok-adam"));
    assert_eq!(
        r.body,
        json!({"kind": "buy_unfixed", "issue": "demo/app#1337", "maturation": "2026-12-15T00:00:00Z",
               "price": "0.80", "volume": 200, "aon": true, "poolable": false, "expiration": "2026-12-10T00:00:00Z"})
    );
    ok(&api, dir.path(), &["offer", "place", "sf", "demo/app#1", "2026-12-15T00:00:00Z", "0.5", "3", "--poolable"]);
    assert_eq!(api.last().body["kind"], "sell_fixed");
    assert!(api.last().body.get("expiration").is_none());

    api.answer("DELETE", "/api/v1/offers/17", 200, Value::Null);
    assert_eq!(ok(&api, dir.path(), &["offer", "cancel", "17"]), "cancelled offer 17\n");
    let r = api.last();
    assert_eq!((r.method.as_str(), r.target.as_str(), r.body.clone()), ("DELETE", "/api/v1/offers/17", Value::Null));
    assert_eq!(ok(&api, dir.path(), &["offer", "cancel", "17", "--json"]), "{}\n");
    // Ids are one path segment, whatever they contain.
    peerex(&api, dir.path(), &["offer", "cancel", "a/../b"]);
    assert_eq!(api.last().target, "/api/v1/offers/a%2F..%2Fb");

    api.answer(
        "GET",
        "/api/v1/offers",
        200,
        json!([{"id": "17", "kind": "buy_unfixed", "issue": "demo/app#1337", "maturation": "2026-12-15T00:00:00Z",
                "price": "0.80", "volume": 200, "remaining": 150, "status": "open"}]),
    );
    assert_eq!(
        ok(&api, dir.path(), &["offers"]),
        "ID  KIND         ISSUE          MATURATION            PRICE  VOLUME  REMAINING  STATUS\n\
         17  buy_unfixed  demo/app#1337  2026-12-15T00:00:00Z  0.80   200     150        open\n"
    );
}

#[test]
fn queries_send_encoded_parameters_and_print_tables() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    api.answer(
        "GET",
        "/api/v1/issues",
        200,
        json!([{"issue": "demo/app#1", "title": "Crash", "state": "open", "tracker": "local",
                "series": [{"maturation": "2026-12-15T00:00:00Z", "price": "0.62", "volume": 40}]}]),
    );
    assert_eq!(
        ok(&api, dir.path(), &["issues"]),
        "ISSUE       STATE  MATURATION            FIXED PRICE  VOLUME  OPEN INTEREST  TITLE\n\
         demo/app#1  open   2026-12-15T00:00:00Z  0.62         40      -              Crash\n"
    );
    assert_eq!(api.last().target, "/api/v1/issues");

    api.answer("GET", "/api/v1/book", 200, json!({"bids": [{"price": "0.60", "volume": 5, "offers": 1}], "asks": []}));
    assert_eq!(
        ok(&api, dir.path(), &["book", "demo/app#1", "2026-12-15T00:00:00Z"]),
        "demo/app#1 maturing 2026-12-15T00:00:00Z\nSIDE  PRICE  VOLUME  OFFERS\nbid   0.60   5       1\n"
    );
    assert_eq!(api.last().target, "/api/v1/book?issue=demo%2Fapp%231&maturation=2026-12-15T00%3A00%3A00Z");

    api.answer(
        "GET",
        "/api/v1/series",
        200,
        json!([{"issue": "demo/app#1", "maturation": "2026-12-15T00:00:00Z", "status": "settled", "winner": "fixed",
                "units": 0, "escrow": "0", "last_price": "0.62"}]),
    );
    let series = ok(&api, dir.path(), &["series", "demo/app#1"]);
    assert_eq!(
        series,
        "ISSUE       MATURATION            STATUS   WINNER  UNITS  ESCROW  LAST  BID  ASK\n\
         demo/app#1  2026-12-15T00:00:00Z  settled  fixed   0      0       0.62  -    -\n"
    );
    assert_eq!(api.last().target, "/api/v1/series?issue=demo%2Fapp%231");

    api.answer(
        "GET",
        "/api/v1/positions",
        200,
        json!([{"issue": "demo/app#1", "maturation": "2026-12-15T00:00:00Z", "side": "fixed", "units": 10,
                "cost_basis": "6", "realized_pnl": "0", "unrealized_pnl": "0.2"}]),
    );
    assert_eq!(
        ok(&api, dir.path(), &["positions"]),
        "ISSUE       MATURATION            SIDE   UNITS  COST  REALIZED  UNREALIZED\n\
         demo/app#1  2026-12-15T00:00:00Z  fixed  10     6     0         0.2\n"
    );
    let json_positions: Value = serde_json::from_str(&ok(&api, dir.path(), &["--json", "positions"])).unwrap();
    assert_eq!(json_positions[0]["units"], 10);

    api.answer(
        "GET",
        "/api/v1/events",
        200,
        json!([{"seq": 6, "at": "2026-12-01T00:00:00Z", "type": "deposit", "amount": "100"}]),
    );
    assert_eq!(
        ok(&api, dir.path(), &["events", "--after", "5"]),
        "#  AT                    EVENT    DETAILS\n6  2026-12-01T00:00:00Z  deposit  amount=100\n"
    );
    assert_eq!(api.last().target, "/api/v1/events?after=5");
    api.answer("GET", "/api/v1/events", 200, json!([]));
    assert_eq!(ok(&api, dir.path(), &["events"]), "(no events)\n");
    assert_eq!(api.last().target, "/api/v1/events?after=0");
}

#[test]
fn issue_admin_and_market_commands_post_the_documented_bodies() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    let cases: Vec<(Vec<&str>, &str, Value, &str)> = vec![
        (
            vec!["deposit", "eve", "250.5"],
            "/api/v1/admin/deposits",
            json!({"user": "eve", "amount": "250.5"}),
            "deposited 250.5 credits to eve\n",
        ),
        (
            vec!["issue", "open", "demo/app#9", "Crash on start"],
            "/api/v1/issues",
            json!({"issue": "demo/app#9", "title": "Crash on start"}),
            "opened issue demo/app#9\n",
        ),
        (
            vec!["issue", "close", "demo/app#9", "--reason", "not_planned"],
            "/api/v1/issues/close",
            json!({"issue": "demo/app#9", "reason": "not_planned"}),
            "closed issue demo/app#9 as not planned\n",
        ),
        (
            vec!["issue", "close", "demo/app#9"],
            "/api/v1/issues/close",
            json!({"issue": "demo/app#9"}),
            "closed issue demo/app#9\n",
        ),
        (
            vec!["issue", "reopen", "demo/app#9"],
            "/api/v1/issues/reopen",
            json!({"issue": "demo/app#9"}),
            "reopened issue demo/app#9\n",
        ),
        (
            vec!["decide", "demo/app#9", "2026-12-15T00:00:00Z", "--winner", "fixed", "--reason", "merged fix"],
            "/api/v1/admin/decide",
            json!({"issue": "demo/app#9", "maturation": "2026-12-15T00:00:00Z", "winner": "fixed", "reason": "merged fix"}),
            "decided demo/app#9 maturing 2026-12-15T00:00:00Z\n",
        ),
        (
            vec![
                "market",
                "create",
                "Will it ship?",
                "--deadline",
                "2027-01-01T00:00:00Z",
                "--b",
                "100",
                "--outcomes",
                "2",
            ],
            "/api/v1/markets",
            json!({"statement": "Will it ship?", "deadline": "2027-01-01T00:00:00Z", "b": "100", "outcomes": 2}),
            "created market m1: Will it ship?\n",
        ),
        (
            vec!["market", "trade", "m1", "-5", "--max-cost", "3", "--outcome", "1"],
            "/api/v1/markets/m1/trades",
            json!({"shares": "-5", "max_cost": "3", "outcome": 1}),
            "sold 5 shares of outcome 1 in m1: received 2.9, fee 0.1; price of outcome 1 now 0.45\n",
        ),
        (
            vec!["market", "report", "m1", "1"],
            "/api/v1/markets/m1/reports",
            json!({"value": 1}),
            "reported 1 for market m1\n",
        ),
    ];
    for (args, path, body, text) in cases {
        let answer = match path {
            "/api/v1/markets" => json!({"id": "m1"}),
            "/api/v1/markets/m1/trades" => json!({"market": {"id": "m1"}, "events": [
                {"type": "market", "what": "traded", "outcome": 1, "shares": "-5", "cost": "-2.9", "fee": "0.1", "prices": ["0.55", "0.45"]}]}),
            _ => json!({"ok": true}),
        };
        api.answer("POST", path, 200, answer);
        assert_eq!(ok(&api, dir.path(), &args), text, "{args:?}");
        let r = api.last();
        assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", path), "{args:?}");
        assert_eq!(r.body, body, "{args:?}");
        assert_eq!(r.authorization.as_deref(), Some("Bearer tok-adam"));
    }
}

#[test]
fn errors_are_one_line_with_a_non_zero_status() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    api.answer(
        "POST",
        "/api/v1/offers",
        422,
        json!({"code": "insufficient_funds", "message": "placing needs 160 credits but 100 are available"}),
    );
    let r = peerex(&api, dir.path(), &["offer", "place", "bf", "demo/app#1", "2026-12-15T00:00:00Z", "0.8", "200"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "peerex: placing needs 160 credits but 100 are available (insufficient_funds, HTTP 422)\n");
    // --json does not change how errors look.
    let r = peerex(
        &api,
        dir.path(),
        &["--json", "offer", "place", "bf", "demo/app#1", "2026-12-15T00:00:00Z", "0.8", "200"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert_eq!(r.stderr.lines().count(), 1);

    api.answer("POST", "/api/v1/users", 409, json!({"code": "name_taken", "message": "the name adam is taken"}));
    let r = peerex(&api, dir.path(), &["signup", "adam", "--password", "xxxxxxxx"]);
    assert_eq!((r.code, r.stderr.as_str()), (1, "peerex: the name adam is taken (name_taken, HTTP 409)\n"));

    // An endpoint the fake does not know: its 404 body.
    let r = peerex(&api, dir.path(), &["issues"]);
    assert_eq!(r.stderr, "peerex: no such endpoint (not_found, HTTP 404)\n");

    // A bad time is caught before anything is sent.
    let n = api.requests().len();
    let r = peerex(&api, dir.path(), &["book", "demo/app#1", "next week"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "peerex: <MATURATION> \"next week\" must be an RFC 3339 time such as 2026-12-15T00:00:00Z (invalid_time)\n"
    );
    assert_eq!(api.requests().len(), n);

    // Nobody listening.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let r = peerex_with(&dead, dir.path(), &["issues"], &[], "");
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with(&format!("peerex: cannot reach the server at {dead}/")), "{}", r.stderr);

    // A login answer without a token stores nothing.
    api.answer("POST", "/api/v1/sessions", 200, json!({}));
    let fresh = tempfile::tempdir().unwrap();
    let r = peerex(&api, fresh.path(), &["login", "adam", "--password", "pw"]);
    assert_eq!((r.code, r.stderr.as_str()), (1, "peerex: the server's answer to the login has no token\n"));
    assert!(!fresh.path().join("config.json").exists());

    // A usage error is clap's, also non-zero.
    let r = peerex(&api, dir.path(), &["offer", "place", "buy_sideways", "x", "2026-12-15T00:00:00Z", "0.5", "1"]);
    assert_eq!(r.code, 2);
}

#[test]
fn posts_carry_an_idempotency_key_and_a_gateway_error_is_retried_with_the_same_key() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    let n = api.requests().len();
    api.answer_once("POST", "/api/v1/offers", 503, json!({"code": "unavailable", "message": "restarting"}));
    api.answer("POST", "/api/v1/offers", 201, json!({"id": "5", "status": "filled", "remaining": 0}));
    let text = ok(&api, dir.path(), &["offer", "place", "bf", "demo/app#1", "2026-12-15T00:00:00Z", "0.5", "2"]);
    assert_eq!(text, "offer 5: buy_fixed 2 at 0.5\n0 of 2 remaining (filled)\n");
    let sent = &api.requests()[n..];
    assert_eq!(sent.len(), 2, "one retry after the 503");
    let key = sent[0].idempotency_key.clone().expect("POSTs carry an Idempotency-Key");
    assert!(!key.is_empty());
    assert_eq!(sent[1].idempotency_key.as_deref(), Some(key.as_str()));
    assert_eq!(sent[0].body, sent[1].body);
    // Each command has its own key; GETs have none; a 4xx is final (no retry).
    ok(&api, dir.path(), &["offer", "place", "bf", "demo/app#1", "2026-12-15T00:00:00Z", "0.5", "2"]);
    assert_ne!(api.last().idempotency_key.as_deref(), Some(key.as_str()));
    api.answer("GET", "/api/v1/me", 200, json!({"name": "adam", "available": "1", "held": "0"}));
    ok(&api, dir.path(), &["me"]);
    assert_eq!(api.last().idempotency_key, None);
    let before = api.requests().len();
    api.answer("POST", "/api/v1/issues", 409, json!({"code": "duplicate_id", "message": "issue exists"}));
    assert_eq!(peerex(&api, dir.path(), &["issue", "open", "x#1"]).code, 1);
    assert_eq!(api.requests().len(), before + 1);
}

#[test]
fn peer_and_admin_resources_commands_call_the_resource_endpoints() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    let view = json!({"peer": "adam", "availability": 0.9, "test_target": false, "standing": "good",
        "pie": {"capacity_gb": 40.5, "used_gb": 0.0, "available_gb": 40.5}, "sliders": {}});
    for (method, path) in [
        ("POST", "/api/v1/peers"),
        ("POST", "/api/v1/peers/online"),
        ("POST", "/api/v1/peers/sliders"),
        ("GET", "/api/v1/peers/me"),
        ("GET", "/api/v1/peers/me/preview"),
    ] {
        api.answer(method, path, 200, view.clone());
    }
    let shown = ok(&api, dir.path(), &["peer", "register"]);
    assert!(
        shown.contains("backup space  [....................] used 0.00 GB of 40.50 GB (40.50 GB available)\n"),
        "{shown}"
    );
    assert!(shown.starts_with("peer          adam\n"), "{shown}");
    assert_eq!(api.last().target, "/api/v1/peers");

    ok(&api, dir.path(), &["peer", "online", "0.9", "--offline"]);
    assert_eq!(api.last().body, json!({"fraction": "0.9", "online": false}));
    ok(&api, dir.path(), &["peer", "sliders", "100", "5", "2.5"]);
    assert_eq!(api.last().body, json!({"space_gb": "100", "upload_gb": "5", "download_gb": "2.5"}));
    assert_eq!(api.last().target, "/api/v1/peers/sliders");
    ok(&api, dir.path(), &["peer", "show"]);
    assert_eq!(api.last().target, "/api/v1/peers/me");
    ok(&api, dir.path(), &["peer", "preview", "200", "5", "5"]);
    assert_eq!(api.last().target, "/api/v1/peers/me/preview?space_gb=200&upload_gb=5&download_gb=5");

    let operator = json!({"prices": [1.0, 0.5, 0.25], "imbalance_e": null, "bank_balance": "-3",
        "balances": [["adam", "3", "good"]], "frozen": [], "days_settled": 1, "epoch_days": 1});
    api.answer("POST", "/api/v1/admin/resources/settle", 200, operator.clone());
    api.answer("POST", "/api/v1/admin/resources/prices", 200, operator.clone());
    api.answer("GET", "/api/v1/admin/resources", 200, operator);
    let text = ok(&api, dir.path(), &["admin-resources", "settle"]);
    assert!(text.contains("days settled      1\n"), "{text}");
    assert!(text.ends_with("PEER  BALANCE  STANDING\nadam  3        good\n"), "{text}");
    assert_eq!(api.last().target, "/api/v1/admin/resources/settle");
    ok(&api, dir.path(), &["admin-resources", "prices"]);
    assert_eq!(api.last().target, "/api/v1/admin/resources/prices");
    let j: Value = serde_json::from_str(&ok(&api, dir.path(), &["--json", "admin-resources", "show"])).unwrap();
    assert_eq!(j["days_settled"], 1);
}

/// Help screens: client options only where they act, no `[env: ...=]` noise, completions and
/// a man page generated from the same definitions; bad values are one line with their code.
#[test]
fn help_completions_man_page_and_one_line_value_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| peerex_with("http://127.0.0.1:9", dir.path(), args, &[], "");
    let serve = run(&["serve", "--help"]);
    assert!(!serve.stdout.contains("--server") && !serve.stdout.contains("--json"), "{}", serve.stdout);
    let me = run(&["me", "--help"]);
    assert!(me.stdout.contains("--server") && me.stdout.contains("--as"), "{}", me.stdout);
    assert!(!me.stdout.contains("[env:"), "{}", me.stdout);
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("peerex") && bash.stdout.contains("offer"));
    let man = run(&["man"]);
    assert!(man.stdout.starts_with(".ie") && man.stdout.contains("peerex"), "{}", man.stdout);
    for (args, code) in [
        (vec!["offer", "place", "bf", "d/a#1", "2030-01-01T00:00:00Z", "1.5", "10"], "(invalid_price)"),
        (vec!["offer", "place", "bf", "d/a#1", "2030-01-01T00:00:00Z", "0.5", "-5"], "(invalid_volume)"),
        (vec!["deposit", "eve", "-3"], "(invalid_amount)"),
        (vec!["market", "trade", "m1", "0"], "(invalid_amount)"),
        (vec!["peer", "online", "1.5"], "(invalid_argument)"),
        (vec!["backup", "put", "f", "5PB"], "(invalid_argument)"),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.trim_end().ends_with(code), "{args:?}: {}", r.stderr);
    }
}

/// A logout the server cannot confirm still forgets the token, and says it stays valid.
#[test]
fn logout_forgets_the_token_even_when_the_server_refuses_to_revoke_it() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    api.answer("DELETE", "/api/v1/sessions", 401, json!({"code": "unauthorized", "message": "token expired"}));
    let out = ok(&api, dir.path(), &["logout"]);
    assert!(out.starts_with(&format!("logged out adam from {}; the server could not revoke", api.url())), "{out}");
    assert!(out.contains("stays valid until it expires"), "{out}");
    let r = peerex(&api, dir.path(), &["me"]);
    assert_eq!(r.code, 1, "the token is forgotten");
}

/// `peerex batch FILE` sends the file's commands in one request and prints each result; a bad
/// line is refused before anything is sent.
#[test]
fn batch_sends_a_file_of_commands_in_one_request() {
    let api = FakeApi::start();
    let dir = logged_in(&api);
    let file = dir.path().join("quotes.jsonl");
    std::fs::write(
        &file,
        "# re-quote\n{\"op\": \"cancel_offer\", \"offer\": \"o7\"}\n\n{\"op\": \"place_offer\", \"kind\": \"buy_fixed\", \"issue\": \"demo/app#1\", \"maturation\": \"2030-01-15T00:00:00Z\", \"price\": \"0.3\", \"volume\": 10}\n",
    )
    .unwrap();
    api.answer(
        "POST",
        "/api/v1/batch",
        200,
        json!({"atomic": true, "applied": 1, "refused": 1, "results": [
            {"ok": false, "code": "unknown_offer", "message": "no offer o7"},
            {"ok": true, "seq": 12, "view": {"id": "o12"}}]}),
    );
    let text = ok(&api, dir.path(), &["batch", file.to_str().unwrap(), "--atomic"]);
    assert_eq!(text, "applied 1, refused 1\n   1  refused unknown_offer: no offer o7\n   2  ok o12\n");
    let r = api.last();
    assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/api/v1/batch"));
    assert_eq!(r.body["atomic"], true);
    assert_eq!(r.body["commands"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["commands"][0], json!({"op": "cancel_offer", "offer": "o7"}));

    let n = api.requests().len();
    std::fs::write(&file, "{\"op\": \"cancel_offer\", \"offer\": \"o7\"}\nnot json\n").unwrap();
    let r = peerex(&api, dir.path(), &["batch", file.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("line 2: not a JSON command"), "{}", r.stderr);
    assert_eq!(api.requests().len(), n, "nothing is sent");
}
