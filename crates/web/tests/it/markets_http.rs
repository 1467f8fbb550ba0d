//! The prediction-market and backup pages over plain HTTP: their forms need the CSRF token
//! (without it nothing changes), the quote fragment, a trade confirmed only after a quote,
//! errors next to the field with their code, and the operator's page for admins only.

use reqwest::blocking::Client;

use crate::http::{client, log_in, sign_up};
use crate::support::{Server, ADMIN, PASSWORD};

fn post(s: &Server, c: &Client, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = c.post(s.url(path)).header("cookie", cookie).header("origin", &s.base).form(form).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn deposit(s: &Server, c: &Client, user: &str) {
    let (sid, csrf) = log_in(s, c, ADMIN, PASSWORD);
    let (st, _) = post(
        s,
        c,
        &format!("peerex_session={sid}"),
        "/admin/deposit",
        &[("csrf", &csrf), ("dep_user", user), ("dep_amount", "100")],
    );
    assert_eq!(st, 303);
}

fn market_count(s: &Server) -> usize {
    s.state().shared.engine().markets().len()
}

#[test]
fn market_forms_need_their_token_and_quote_before_trading() {
    let s = Server::start();
    let c = client();
    let (cookie, csrf) = sign_up(&s, &c, "alice");
    deposit(&s, &c, "alice");
    let deadline = peerex_web::fmt::date(s.state().shared.clock.now().plus_days(5));
    let fields = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("id".into(), "m1".into()),
            ("statement".into(), "It rains tomorrow".into()),
            ("deadline".into(), deadline.clone()),
            ("b".into(), "10".into()),
            ("fee_pct".into(), "5".into()),
        ]
    };
    // Without the token (or with another's), nothing is created.
    let r =
        c.post(s.url("/markets")).header("cookie", &cookie).header("origin", &s.base).form(&fields("")).send().unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("csrf_invalid"));
    assert_eq!(market_count(&s), 0);
    // A bad field is shown next to it with its code; nothing is created.
    let mut bad = fields(&csrf);
    bad[3].1 = "not a date".into();
    let r = c.post(s.url("/markets")).header("cookie", &cookie).header("origin", &s.base).form(&bad).send().unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().unwrap();
    assert!(html.contains("id=\"deadline-err\"") && html.contains("class=\"code\""), "{html}");
    assert_eq!(market_count(&s), 0);
    // With it, the market opens and alice paid the subsidy (b ln 2 = 6.931472).
    let before = s.available("alice");
    let r = c
        .post(s.url("/markets"))
        .header("cookie", &cookie)
        .header("origin", &s.base)
        .form(&fields(&csrf))
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(market_count(&s), 1);
    assert_eq!(before - s.available("alice"), 6_931_472);
    // A taken name is an error next to the name.
    let r = c
        .post(s.url("/markets"))
        .header("cookie", &cookie)
        .header("origin", &s.base)
        .form(&fields(&csrf))
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("id=\"id-err\""));

    // The list shows the chance as a percentage.
    let list = c.get(s.url("/markets")).send().unwrap().text().unwrap();
    assert!(list.contains("It rains tomorrow") && list.contains("50%"), "{list}");
    // The quote fragment: the spec's reference numbers (b = 10, f = 0.05).
    let q = c.get(s.url("/markets/m1/quote?side=buy_yes&shares=10")).send().unwrap().text().unwrap();
    assert!(q.contains("6.2011 cr") && q.contains("0.0366 cr") && q.contains("73.11%"), "{q}");
    let q = c.get(s.url("/markets/m1/quote?side=buy_yes&shares=-1")).send().unwrap().text().unwrap();
    assert!(q.contains("Choose buy or sell"), "{q}");

    // A trade without a quote shown is not made: the page shows the quote to confirm.
    let before = s.available("alice");
    let (st, html) =
        post(&s, &c, &cookie, "/markets/m1/trade", &[("csrf", &csrf), ("side", "buy_yes"), ("shares", "10")]);
    assert_eq!(st, 200);
    assert!(html.contains("name=\"max_cost\" value=\"6.237699\""), "the confirm form carries the quoted total");
    assert_eq!(s.available("alice"), before);
    // A quote that is too low (the price moved) refuses the trade, next to the form.
    let (st, html) = post(
        &s,
        &c,
        &cookie,
        "/markets/m1/trade",
        &[("csrf", &csrf), ("side", "buy_yes"), ("shares", "10"), ("max_cost", "6")],
    );
    assert_eq!(st, 422);
    assert!(html.contains("slippage_exceeded") && html.contains("The price moved"), "{html}");
    assert_eq!(s.available("alice"), before);
    // Without the token: refused.
    let (st, _) =
        post(&s, &c, &cookie, "/markets/m1/trade", &[("side", "buy_yes"), ("shares", "10"), ("max_cost", "7")]);
    assert_eq!(st, 403);
    // Confirmed: done, at the quoted cost.
    let (st, _) = post(
        &s,
        &c,
        &cookie,
        "/markets/m1/trade",
        &[("csrf", &csrf), ("side", "buy_yes"), ("shares", "10"), ("max_cost", "6.237699")],
    );
    assert_eq!(st, 303);
    assert_eq!(before - s.available("alice"), 6_237_699);
    let page = c.get(s.url("/markets/m1")).header("cookie", &cookie).send().unwrap().text().unwrap();
    assert!(page.contains("73.11%") && page.contains("My shares"), "{page}");
    // Reporting before the deadline is refused with the engine's code.
    let (st, html) = post(&s, &c, &cookie, "/markets/m1/report", &[("csrf", &csrf), ("value", "1")]);
    assert_eq!(st, 422);
    assert!(html.contains("invalid_state"), "{html}");
    assert_eq!(c.get(s.url("/markets/nope")).send().unwrap().status(), 404);
}

#[test]
fn backup_forms_need_their_token_and_the_operator_page_is_for_admins() {
    let s = Server::start();
    let c = client();
    let (cookie, csrf) = sign_up(&s, &c, "carol");
    let peers = |s: &Server| s.state().shared.engine().resources().peers().count();
    let page = c.get(s.url("/resources")).header("cookie", &cookie).send().unwrap().text().unwrap();
    assert!(page.contains("Join as a peer"));
    let (st, _) = post(&s, &c, &cookie, "/resources/register", &[]);
    assert_eq!(st, 403);
    assert_eq!(peers(&s), 0);
    let (st, _) = post(&s, &c, &cookie, "/resources/register", &[("csrf", &csrf)]);
    assert_eq!(st, 303);
    assert_eq!(peers(&s), 1);
    // Sliders: a bad value is shown next to its slider; good values are saved.
    let (st, html) = post(
        &s,
        &c,
        &cookie,
        "/resources/sliders",
        &[("csrf", &csrf), ("space_gb", "-5"), ("upload_gb", "1"), ("download_gb", "1")],
    );
    assert_eq!(st, 422);
    assert!(html.contains("id=\"space_gb-err\""), "{html}");
    let (st, _) = post(
        &s,
        &c,
        &cookie,
        "/resources/sliders",
        &[("csrf", &csrf), ("space_gb", "120"), ("upload_gb", "4"), ("download_gb", "4")],
    );
    assert_eq!(st, 303);
    let page = c.get(s.url("/resources")).header("cookie", &cookie).send().unwrap().text().unwrap();
    assert!(page.contains("id=\"s-space_gb\"") && page.contains("value=\"120\"") && page.contains("You can back up"));
    assert!(!page.contains(" cr"), "a peer sees no prices or credits (the hidden market)");
    // The preview fragment answers for slider positions without setting them.
    let frag = c
        .get(s.url("/resources/preview?space_gb=500&upload_gb=4&download_gb=4"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(frag.status(), 200);
    let frag = frag.text().unwrap();
    assert!(frag.contains("data-rpart=\"balance\"") && frag.contains("data-rpart=\"track-2\""), "{frag}");
    let caps = s.state().shared.engine().resources().peer(peerex_engine::ids::PeerId(0)).unwrap().caps;
    assert_eq!(caps[0], 120_000_000_000, "a preview sets nothing");
    assert_eq!(c.get(s.url("/resources/preview?space_gb=1&upload_gb=1&download_gb=1")).send().unwrap().status(), 401);
    // The operator's page: admins only.
    let r = c.get(s.url("/resources/operator")).header("cookie", &cookie).send().unwrap();
    assert_eq!(r.status(), 403);
    let (sid, acsrf) = log_in(&s, &c, ADMIN, PASSWORD);
    let admin = format!("peerex_session={sid}");
    let op = c.get(s.url("/resources/operator")).header("cookie", &admin).send().unwrap().text().unwrap();
    assert!(op.contains("carol") && op.contains("Supply") && op.contains("Demand"), "{op}");
    let (st, _) = post(&s, &c, &admin, "/resources/settle", &[]);
    assert_eq!(st, 403);
    let (st, _) = post(&s, &c, &admin, "/resources/settle", &[("csrf", &acsrf)]);
    assert_eq!(st, 303);
}

#[test]
fn an_operator_without_peers_is_told_what_a_peer_does() {
    let s = Server::start();
    let c = client();
    let (sid, _) = log_in(&s, &c, ADMIN, PASSWORD);
    let op = c.get(s.url("/resources/operator")).header("cookie", format!("peerex_session={sid}")).send().unwrap();
    let op = op.text().unwrap();
    assert!(op.contains("No peers yet") && op.contains("A peer is a computer in the backup network"), "{op}");
}
