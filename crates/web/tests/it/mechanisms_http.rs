//! Issue 12's pages over plain HTTP: the statement form (CSRF, errors next to the field with
//! their code, nothing opened on a refusal), the series page saying how it is decided, the
//! arbiter's report form only for who may report, the dispute form in the window, the market
//! maker's offers marked in the book, and the market create form's mechanism options.

use reqwest::blocking::Client;
use serde_json::{json, Value};

use peerex_web::layout::series_url;

use crate::http::{client, sign_up};
use crate::support::{Server, ADMIN, PASSWORD};

const PW: &str = "correct horse battery";

fn post(s: &Server, c: &Client, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = c.post(s.url(path)).header("cookie", cookie).header("origin", &s.base).form(form).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn page(s: &Server, c: &Client, cookie: &str, path: &str) -> String {
    let r = c.get(s.url(path)).header("cookie", cookie).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().unwrap()
}

/// An API call with a bearer token.
fn api(s: &Server, c: &Client, token: &str, path: &str, body: Value) -> Value {
    let r = c.post(s.url(&format!("/api/v1{path}"))).bearer_auth(token).json(&body).send().unwrap();
    let st = r.status().as_u16();
    let v: Value = r.json().unwrap();
    assert!(st < 300, "{path}: {st} {v}");
    v
}

fn token(s: &Server, c: &Client, name: &str, password: &str) -> String {
    let r = c.post(s.url("/api/v1/sessions")).json(&json!({"name": name, "password": password})).send().unwrap();
    r.json::<Value>().unwrap()["token"].as_str().unwrap().to_owned()
}

#[test]
fn a_statement_series_from_its_form_to_the_arbiters_reports() {
    let s = Server::start();
    let c = client();
    let root = token(&s, &c, ADMIN, PASSWORD);
    let (alice, csrf) = sign_up(&s, &c, "alice");
    let (bob, bob_csrf) = sign_up(&s, &c, "bob");
    api(&s, &c, &root, "/admin/deposits", json!({"user": "alice", "amount": "100"}));
    let now = s.state().shared.clock.now();
    let date = peerex_web::fmt::date(now.plus_days(3));
    let mat = peerex_engine::Timestamp::parse(&format!("{date}T00:00:00Z")).unwrap().to_rfc3339();
    let form = |csrf: &str, bond: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("issue".into(), "review/pr-42".into()),
            ("statement".into(), "The review of PR 42 finds no blocking problem".into()),
            ("maturation".into(), date.clone()),
            ("bond".into(), bond.into()),
            ("report_days".into(), "2".into()),
        ]
    };
    let opened = |s: &Server| s.state().shared.engine().exchange().issue_id("review/pr-42").is_some();
    assert!(page(&s, &c, &alice, "/statements/new").contains("Open a statement"));
    // No token: refused, nothing opened.
    let r = c.post(s.url("/statements")).header("cookie", &alice).header("origin", &s.base).form(&form("", "50"));
    assert_eq!(r.send().unwrap().status(), 403);
    // More bond than alice has: the error sits next to the bond, with its code.
    let r = c.post(s.url("/statements")).header("cookie", &alice).header("origin", &s.base).form(&form(&csrf, "500"));
    let r = r.send().unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().unwrap();
    assert!(html.contains("id=\"bond-err\"") && html.contains("insufficient_funds"), "{html}");
    let r = c.post(s.url("/statements")).header("cookie", &alice).header("origin", &s.base).form(&form(&csrf, "x"));
    assert!(r.send().unwrap().text().unwrap().contains("id=\"bond-err\""));
    assert!(!opened(&s));
    assert_eq!(s.available("alice"), 100_000_000);

    let r = c.post(s.url("/statements")).header("cookie", &alice).header("origin", &s.base).form(&form(&csrf, "50"));
    let r = r.send().unwrap();
    assert_eq!(r.status(), 303);
    assert!(opened(&s));
    assert_eq!(s.available("alice"), 50_000_000);
    let url = series_url("review/pr-42", &mat);
    let html = page(&s, &c, &alice, &url);
    assert!(html.contains("How this series is decided") && html.contains("Arbitration"), "{html}");
    assert!(html.contains("The review of PR 42 finds no blocking problem"));
    // Its prices are the chance that the statement holds, not the chance of a fix.
    assert!(
        html.contains("Prices are the chance the statement holds") && !html.contains("Prices are the chance of a fix"),
        "{html}"
    );
    assert!(html.contains("Reporting opens at the maturation"), "{html}");
    assert!(!html.contains("id=\"report-form\""), "no reports before the maturation");

    api(&s, &c, &root, "/admin/clock", json!({"advance_seconds": 3 * 86_400 + 60}));
    // The sponsor is told why she may not report; bob gets the form.
    let html = page(&s, &c, &alice, &url);
    assert!(html.contains("You posted this series' bond") && !html.contains("id=\"report-form\""), "{html}");
    let html = page(&s, &c, &bob, &url);
    assert!(html.contains("id=\"report-form\"") && html.contains("Reporting is open; the window closes"), "{html}");
    assert!(html.contains("waiting for the arbiters' reports"), "the settlement line: {html}");
    // A report by the sponsor is refused with its code, not recorded.
    let (st, html) = post(
        &s,
        &c,
        &alice,
        "/series/report",
        &[("csrf", &csrf), ("issue", "review/pr-42"), ("maturation", &mat), ("value", "1")],
    );
    assert_eq!(st, 403, "{html}");
    assert!(html.contains("not_eligible"), "{html}");
    let (st, _) = post(
        &s,
        &c,
        &bob,
        "/series/report",
        &[("csrf", &bob_csrf), ("issue", "review/pr-42"), ("maturation", &mat), ("value", "7")],
    );
    assert_eq!(st, 400);
    let (st, _) = post(
        &s,
        &c,
        &bob,
        "/series/report",
        &[("csrf", &bob_csrf), ("issue", "review/pr-42"), ("maturation", &mat), ("value", "1")],
    );
    assert_eq!(st, 303);
    let html = page(&s, &c, &bob, &url);
    assert!(html.contains("You have reported") && html.contains("1 received"), "{html}");
}

#[test]
fn a_dispute_in_its_window_and_a_makers_marked_liquidity() {
    let s = Server::start();
    let c = client();
    let root = token(&s, &c, ADMIN, PASSWORD);
    let (carol, csrf) = sign_up(&s, &c, "carol");
    let (_dan, _) = sign_up(&s, &c, "dan");
    api(&s, &c, &root, "/admin/deposits", json!({"user": "carol", "amount": "100"}));
    // The admin page sets the dispute window; a bad value is shown with its code.
    let (admin, admin_csrf) = crate::http::log_in(&s, &c, ADMIN, PASSWORD);
    let admin = format!("peerex_session={admin}");
    let (st, html) = post(&s, &c, &admin, "/admin/disputes", &[("csrf", &admin_csrf), ("dis_hours", "99999")]);
    assert_eq!(st, 422, "{html}");
    assert!(html.contains("id=\"dis_hours-err\"") && html.contains("invalid_argument"), "{html}");
    let (st, _) = post(&s, &c, &carol, "/admin/disputes", &[("csrf", &csrf), ("dis_hours", "24")]);
    assert_eq!(st, 403);
    let (st, _) = post(&s, &c, &admin, "/admin/disputes", &[("csrf", &admin_csrf), ("dis_hours", "24")]);
    assert_eq!(st, 303);
    assert!(page(&s, &c, &admin, "/admin").contains("24 hours"));
    let carol_t = token(&s, &c, "carol", PW);
    api(&s, &c, &carol_t, "/issues", json!({"issue": "app#1", "title": "Crash"}));
    let now = s.state().shared.clock.now();
    let mat = peerex_engine::Timestamp::from_millis(now.millis() / 1000 * 1000).plus_days(2).to_rfc3339();
    // The maker is funded from the series page's form: a bad b or more than carol has is
    // refused with its code and funds nothing.
    api(
        &s,
        &c,
        &carol_t,
        "/offers",
        json!({"kind": "buy_fixed", "issue": "app#1", "maturation": mat, "price": "0.1", "volume": 1}),
    );
    let url = series_url("app#1", &mat);
    let html = page(&s, &c, &carol, &url);
    assert!(html.contains("id=\"fund-maker\""), "{html}");
    let fund = |b: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("issue", "app#1".into()),
            ("maturation", mat.clone()),
            ("maker_b", b.into()),
            ("maker_levels", "2".into()),
        ]
    };
    let send_fund = |f: Vec<(&str, String)>| {
        let r = c.post(s.url("/makers")).header("cookie", &carol).header("origin", &s.base).form(&f).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let before = s.available("carol");
    let (st, html) = send_fund(fund("1000"));
    assert_eq!(st, 422, "{html}");
    assert!(html.contains("insufficient_funds"), "{html}");
    let (st, _) = send_fund(fund("-1"));
    assert_eq!(st, 400);
    assert_eq!(s.available("carol"), before);
    let (st, html) = send_fund(fund("10"));
    assert_eq!(st, 303, "{html}");
    assert_eq!(before - s.available("carol"), 6_931_472);
    let html = page(&s, &c, &carol, &url);
    assert!(html.contains("class=\"badge maker\"") && html.contains("Market maker"), "{html}");
    assert!(html.contains("Tracker"), "{html}");
    assert!(!html.contains("id=\"dispute-form\""), "no dispute before the maturation");

    api(&s, &c, &root, "/admin/clock", json!({"advance_seconds": 2 * 86_400 + 60}));
    let html = page(&s, &c, &carol, &url);
    assert!(html.contains("id=\"dispute-form\"") && html.contains("dispute window"), "{html}");
    assert!(html.contains("in its dispute window: its tracker settles it"), "the settlement line: {html}");
    assert!(html.contains("withdrew"), "the maker withdrew at maturation: {html}");
    let form = |bond: &'static str| [("issue", "app#1"), ("maturation", mat.as_str()), ("bond", bond)];
    let with = |csrf: &str, bond: &'static str| {
        let mut f = vec![("csrf", csrf.to_owned())];
        f.extend(form(bond).iter().map(|(k, v)| (*k, (*v).to_owned())));
        f
    };
    let send = |cookie: &str, f: Vec<(&str, String)>| {
        let r = c.post(s.url("/series/dispute")).header("cookie", cookie).header("origin", &s.base).form(&f);
        let r = r.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let (st, html) = send(&carol, with(&csrf, "lots"));
    assert_eq!(st, 400, "{html}");
    let (st, html) = send(&carol, with(&csrf, "5000"));
    assert_eq!(st, 422, "{html}");
    assert!(html.contains("insufficient_funds"), "{html}");
    let (st, _) = send(&carol, with("", "10"));
    assert_eq!(st, 403);
    assert!(page(&s, &c, &carol, &url).contains("id=\"dispute-form\""), "nothing changed");
    let (st, html) = send(&carol, with(&csrf, "10"));
    assert_eq!(st, 303, "{html}");
    let html = page(&s, &c, &carol, &url);
    assert!(html.contains("Disputed: arbiters decide") && html.contains("You posted this series' bond"), "{html}");
}

#[test]
fn the_market_form_takes_the_mechanism_options() {
    let s = Server::start();
    let c = client();
    let root = token(&s, &c, ADMIN, PASSWORD);
    let (eve, csrf) = sign_up(&s, &c, "eve");
    api(&s, &c, &root, "/admin/deposits", json!({"user": "eve", "amount": "100"}));
    let html = page(&s, &c, &eve, "/markets/new");
    assert!(
        html.contains("name=\"fee_mode\"")
            && html.contains("name=\"position_cap\"")
            && html.contains("name=\"robust_prior\"")
    );
    let deadline = peerex_web::fmt::date(s.state().shared.clock.now().plus_days(5));
    let mut f = vec![
        ("csrf", csrf.clone()),
        ("id", "m7".into()),
        ("statement", "It ships".into()),
        ("deadline", deadline),
        ("b", "10".into()),
        ("fee_pct", "5".into()),
        ("position_cap", "-3".into()),
        ("fee_mode", "share".into()),
        ("robust_prior", "true".into()),
    ];
    let r = c.post(s.url("/markets")).header("cookie", &eve).header("origin", &s.base).form(&f).send().unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("id=\"position_cap-err\""));
    f[6].1 = "4".into();
    let r = c.post(s.url("/markets")).header("cookie", &eve).header("origin", &s.base).form(&f).send().unwrap();
    assert_eq!(r.status(), 303);
    let v: Value = c.get(s.url("/api/v1/markets/m7")).send().unwrap().json().unwrap();
    assert_eq!(v["setup"]["fee_mode"], "share", "{v}");
    assert_eq!(v["setup"]["position_cap"], "4");
    assert_eq!(v["setup"]["robust_prior"], true);
}
