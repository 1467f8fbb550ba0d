//! The UI over plain HTTP: security headers, sessions apart from API tokens, and CSRF: a form
//! without a valid token (or from another origin) changes nothing.

use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;

use crate::support::{Server, ADMIN, PASSWORD};

pub(crate) fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

pub(crate) fn cookie_of(r: &Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("peerex_session=").map(|s| s.split(';').next().unwrap_or("").to_owned()))
}

pub(crate) fn csrf_in(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[i..].split('"').next().unwrap().to_owned()
}

/// A browser-like session: (cookie, csrf) after logging in as `name`.
pub(crate) fn log_in(s: &Server, c: &Client, name: &str, password: &str) -> (String, String) {
    let r = c.get(s.url("/login")).send().unwrap();
    let sid = cookie_of(&r).expect("a session cookie");
    let csrf = csrf_in(&r.text().unwrap());
    let r = c
        .post(s.url("/login"))
        .header("cookie", format!("peerex_session={sid}"))
        .header("origin", &s.base)
        .form(&[("csrf", csrf.as_str()), ("name", name), ("password", password)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303, "log in redirects");
    let new_sid = cookie_of(&r).expect("log in sets a new session cookie");
    assert_ne!(new_sid, sid, "the session id is rotated at log-in");
    let r = c.get(s.url("/admin")).header("cookie", format!("peerex_session={new_sid}")).send().unwrap();
    let csrf = csrf_in(&r.text().unwrap());
    (new_sid, csrf)
}

/// Signs `name` up through the form: (cookie header, csrf).
pub(crate) fn sign_up(s: &Server, c: &Client, name: &str) -> (String, String) {
    let r = c.get(s.url("/signup")).send().unwrap();
    let sid = cookie_of(&r).unwrap();
    let csrf = csrf_in(&r.text().unwrap());
    let r = c
        .post(s.url("/signup"))
        .header("cookie", format!("peerex_session={sid}"))
        .header("origin", &s.base)
        .form(&[("csrf", csrf.as_str()), ("name", name), ("password", "correct horse battery")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = format!("peerex_session={}", cookie_of(&r).unwrap());
    let page = c.get(s.url("/markets")).header("cookie", &cookie).send().unwrap().text().unwrap();
    (cookie, csrf_in(&page))
}

#[test]
fn pages_carry_a_strict_policy_and_a_safe_cookie() {
    let s = Server::start();
    let c = client();
    for path in ["/", "/login", "/signup", "/markets", "/resources"] {
        let r = c.get(s.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        let cookie = h["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let body = r.text().unwrap();
        assert!(!body.contains("<script>") && !body.contains(" style="), "{path}: no inline script or style");
    }
    // Assets: content-hashed names, cached for a year.
    let html = c.get(s.url("/")).send().unwrap().text().unwrap();
    let css = html.split("href=\"/static/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = c.get(s.url(&format!("/static/{css}"))).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(c.get(s.url("/static/app.0000.css")).send().unwrap().status(), 404);
}

#[test]
fn a_form_without_its_csrf_token_changes_nothing() {
    let s = Server::start();
    let c = client();
    let (sid, csrf) = log_in(&s, &c, ADMIN, PASSWORD);
    let cookie = format!("peerex_session={sid}");
    let post = |fields: &[(&str, &str)], origin: &str| {
        c.post(s.url("/admin/deposit")).header("cookie", &cookie).header("origin", origin).form(fields).send().unwrap()
    };
    let before = s.available(ADMIN);
    // No token, a wrong token, another session's token, another origin: all refused.
    let r = post(&[("dep_user", ADMIN), ("dep_amount", "100")], &s.base);
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("csrf_invalid"));
    let r = post(&[("csrf", "00"), ("dep_user", ADMIN), ("dep_amount", "100")], &s.base);
    assert_eq!(r.status(), 403);
    let other = c.get(s.url("/login")).send().unwrap();
    let other_csrf = csrf_in(&other.text().unwrap());
    let r = post(&[("csrf", &other_csrf), ("dep_user", ADMIN), ("dep_amount", "100")], &s.base);
    assert_eq!(r.status(), 403);
    let r = post(&[("csrf", &csrf), ("dep_user", ADMIN), ("dep_amount", "100")], "http://evil.example");
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("cross_origin"));
    assert_eq!(s.available(ADMIN), before, "nothing changed");
    // With its token, the same form works.
    let r = post(&[("csrf", &csrf), ("dep_user", ADMIN), ("dep_amount", "100")], &s.base);
    assert_eq!(r.status(), 303);
    assert_eq!(s.available(ADMIN), before + 100_000_000);
}

#[test]
fn browser_sessions_are_not_api_tokens() {
    let s = Server::start();
    let c = client();
    let (sid, csrf) = log_in(&s, &c, ADMIN, PASSWORD);
    // The cookie is worthless against the API.
    let r = c.get(s.url("/api/v1/me")).bearer_auth(&sid).send().unwrap();
    assert_eq!(r.status(), 401);
    // The session shows who is logged in; log out ends it.
    let page = c.get(s.url("/portfolio")).header("cookie", format!("peerex_session={sid}")).send().unwrap();
    assert_eq!(page.status(), 200);
    let r = c
        .post(s.url("/logout"))
        .header("cookie", format!("peerex_session={sid}"))
        .header("origin", &s.base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = c.get(s.url("/portfolio")).header("cookie", format!("peerex_session={sid}")).send().unwrap();
    assert_eq!(page.status(), 303, "logged out: the portfolio sends to the log-in page");
    // A wrong password is shown next to the form with its code.
    let r = c.get(s.url("/login")).send().unwrap();
    let sid = cookie_of(&r).unwrap();
    let csrf = csrf_in(&r.text().unwrap());
    let r = c
        .post(s.url("/login"))
        .header("cookie", format!("peerex_session={sid}"))
        .form(&[("csrf", csrf.as_str()), ("name", ADMIN), ("password", "wrong-password")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("invalid_credentials"));
}

/// A user with many positions and open offers sees them a page at a time, with links to the
/// others; the CSV export still has every position.
#[test]
fn a_big_portfolio_is_shown_a_page_at_a_time() {
    use axum::extract::State;
    use peerex_engine::exchange::types::OfferKind;
    use peerex_engine::{Amount, Price};
    use peerex_server::http::admin::{self as adm, Money};
    use peerex_server::http::exchange::{self as ex, OpenIssue, PlaceOffer};
    use peerex_server::http::extract::{Body, IdempotencyKey, User};

    let s = Server::start();
    let c = client();
    let (alice, _) = sign_up(&s, &c, "alice");
    sign_up(&s, &c, "bob");
    let st = s.state().clone();
    let user = |name: &str, admin: bool| User { name: name.into(), admin, token_hash: String::new() };
    let now = st.shared.clock.now();
    s.rt.block_on(async {
        for n in ["alice", "bob"] {
            let m = Money { user: n.into(), amount: Amount::credits(1_000) };
            adm::deposit(State(st.clone()), user(ADMIN, true), IdempotencyKey(None), Body(m)).await.unwrap();
        }
        let offer = |issue: usize, kind, bp| PlaceOffer {
            kind,
            issue: format!("local#{issue}"),
            maturation: now.plus_days(30),
            price: Price::from_bp(bp).unwrap(),
            volume: 1,
            aon: false,
            poolable: false,
            expiration: None,
        };
        // 60 positions of alice's (one trade on each of 60 issues), and 55 open offers of hers.
        for i in 0..60 {
            let b = OpenIssue { issue: format!("local#{i}"), title: format!("Issue {i}"), labels: vec![] };
            ex::open_issue(State(st.clone()), user("alice", false), IdempotencyKey(None), Body(b)).await.unwrap();
            let b = offer(i, OfferKind::BuyFixed, 5_000);
            ex::place_offer(State(st.clone()), user("bob", false), IdempotencyKey(None), Body(b)).await.unwrap();
            let b = offer(i, OfferKind::BuyUnfixed, 5_000);
            ex::place_offer(State(st.clone()), user("alice", false), IdempotencyKey(None), Body(b)).await.unwrap();
        }
        for i in 0..55 {
            let b = offer(i, OfferKind::BuyUnfixed, 1_000);
            ex::place_offer(State(st.clone()), user("alice", false), IdempotencyKey(None), Body(b)).await.unwrap();
        }
    });
    let get = |path: &str| {
        let r = c.get(s.url(path)).header("cookie", &alice).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.text().unwrap()
    };
    let rows = |html: &str, section: &str| {
        let start = html.find(&format!("id=\"{section}\"")).unwrap_or_else(|| panic!("no {section} in {html}"));
        let part = &html[start..];
        let end = part.find("</section>").unwrap();
        part[..end].matches("<tr>").count() - 1 // the header row
    };
    let first = get("/portfolio");
    assert_eq!(rows(&first, "positions"), 50, "the first page has 50 positions");
    assert_eq!(rows(&first, "offers"), 50, "and 50 open offers");
    assert!(first.contains("Page 1 of 2 · 60 in all") && first.contains("Page 1 of 2 · 55 in all"), "{first}");
    assert!(first.contains("href=\"/portfolio?page=1#positions\""), "a link to the next page of positions");
    assert!(first.contains("href=\"/portfolio?offers=1#offers\""), "a link to the next page of offers");
    let second = get("/portfolio?page=1&offers=1");
    assert_eq!(rows(&second, "positions"), 10);
    assert_eq!(rows(&second, "offers"), 5);
    assert!(second.contains("href=\"/portfolio?offers=1#positions\""), "back to the first page keeps the offers' page");
    // Past the end shows the last page; the CSV has every position.
    assert_eq!(rows(&get("/portfolio?page=99"), "positions"), 10);
    let csv = get("/portfolio.csv");
    assert_eq!(csv.lines().count(), 61, "a header and 60 positions");
    // A page number that is not a number is refused, not a server error.
    let r = c.get(s.url("/portfolio?page=-1")).header("cookie", &alice).send().unwrap();
    assert_eq!(r.status(), 400);
}

/// The per-address rate limit covers the pages as it covers the API: one address hammering the
/// log-in page (or any page) is told to wait, with the API's error and a Retry-After.
#[test]
fn pages_are_under_the_per_address_rate_limit() {
    let s = Server::start_with(|st| {
        st.rate_per_sec = 1;
        st.rate_burst = 5;
    });
    let c = client();
    let statuses: Vec<u16> = (0..10).map(|_| c.get(s.url("/login")).send().unwrap().status().as_u16()).collect();
    // The burst of 5, and at most a refill or two while the requests run (1 a second).
    let served = statuses.iter().filter(|&&st| st == 200).count();
    assert!((5..=7).contains(&served), "{statuses:?}");
    assert!(statuses.iter().all(|&st| st == 200 || st == 429), "{statuses:?}");
    let r = c.post(s.url("/login")).form(&[("name", "root"), ("password", "x")]).send().unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().unwrap().contains("rate_limited"));
}

/// While a snapshot's encode is held open, a person's next page waits until the readers'
/// engine has what that person just did (and then shows it); other people's pages come at once.
#[test]
fn a_page_shows_the_viewers_own_change_made_during_a_snapshot() {
    use axum::extract::State;
    use peerex_engine::exchange::types::OfferKind;
    use peerex_engine::{Amount, Price};
    use peerex_server::http::admin::{self as adm, Money};
    use peerex_server::http::exchange::{self as ex, OpenIssue, PlaceOffer};
    use peerex_server::http::extract::{Body, IdempotencyKey, User};

    let s = Server::start_with(|settings| settings.snapshot_every = 1);
    let c = client();
    let (alice, _) = sign_up(&s, &c, "alice");
    let (bob, _) = sign_up(&s, &c, "bob");
    let st = s.state().clone();
    let user = |name: &str, admin: bool| User { name: name.into(), admin, token_hash: String::new() };
    let maturation = st.shared.clock.now().plus_days(30);
    let offer = || PlaceOffer {
        kind: OfferKind::BuyFixed,
        issue: "local#1".into(),
        maturation,
        price: Price::from_bp(4_000).unwrap(),
        volume: 1,
        aon: false,
        poolable: false,
        expiration: None,
    };
    s.rt.block_on(async {
        let m = Money { user: "alice".into(), amount: Amount::credits(1_000) };
        adm::deposit(State(st.clone()), user(ADMIN, true), IdempotencyKey(None), Body(m)).await.unwrap();
        let b = OpenIssue { issue: "local#1".into(), title: "One".into(), labels: vec![] };
        ex::open_issue(State(st.clone()), user("alice", false), IdempotencyKey(None), Body(b)).await.unwrap();
    });
    // The gate the encode passes first, held on a thread of its own.
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (taken, is_taken) = std::sync::mpsc::channel::<()>();
    let shared = st.shared.clone();
    let gate = std::thread::spawn(move || {
        let _gate = shared.snapshot_gate.write().unwrap();
        taken.send(()).unwrap();
        let _ = released.recv();
    });
    is_taken.recv().unwrap();
    // Offers of alice's until one is answered while the readers' engine is behind (an encode waits).
    let mut placed = 0;
    while st.shared.cluster.applied() >= st.shared.cluster.written() {
        assert!(placed < 50, "no write was held back for an encode");
        s.rt.block_on(ex::place_offer(State(st.clone()), user("alice", false), IdempotencyKey(None), Body(offer())))
            .unwrap();
        placed += 1;
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let page = {
        let (c, url, alice) = (c.clone(), s.url("/portfolio"), alice.clone());
        std::thread::spawn(move || c.get(url).header("cookie", alice).send().unwrap())
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!page.is_finished(), "alice's page came without her own change");
    let r = c.get(s.url("/portfolio")).header("cookie", &bob).send().unwrap();
    assert_eq!(r.status(), 200, "another person's page comes at once");
    release.send(()).unwrap();
    gate.join().unwrap();
    let r = page.join().unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().unwrap();
    let start = html.find("id=\"offers\"").expect("her open offers");
    let part = &html[start..];
    let rows = part[..part.find("</section>").unwrap()].matches("<tr>").count() - 1;
    assert_eq!(rows, placed, "every offer she placed is on the page");
}
