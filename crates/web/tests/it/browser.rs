//! End to end in a real headless Chromium against the real server: two users sign up in two
//! browser sessions, an admin deposits, one funds a fix, the other takes the fixed side from the
//! series page, a third page sees the new price and trade without reloading, the admin moves
//! the sandbox clock past the maturation and both portfolios show the settlement. Then every
//! page passes axe-core (no serious or critical violation) and fits a 390 px phone screen;
//! with PEEREX_UI_SCREENSHOTS=DIR the run saves desktop and phone screenshots of every page.

use std::path::PathBuf;

use serde_json::json;

use crate::cdp::{browser_or_skip, Browser, Tab};
use crate::support::{Server, ADMIN, PASSWORD};

const ISSUE: &str = "local#7";

pub(crate) fn sign_up(b: &mut Browser, s: &Server, tab: &Tab, name: &str) {
    b.goto(tab, &s.url("/signup"));
    b.fill(tab, "#f-name", name);
    b.fill(tab, "#f-password", "correct horse battery");
    b.submit(tab, "form[action='/signup'] button[type=submit]");
    b.wait(tab, "location.pathname === '/portfolio'", 10, "the portfolio after sign-up");
}

pub(crate) fn log_in(b: &mut Browser, s: &Server, tab: &Tab, name: &str, password: &str) {
    b.goto(tab, &s.url("/login"));
    b.fill(tab, "#f-name", name);
    b.fill(tab, "#f-password", password);
    b.submit(tab, "form[action='/login'] button[type=submit]");
}

pub(crate) fn deposit(b: &mut Browser, s: &Server, tab: &Tab, user: &str, amount: &str) {
    b.goto(tab, &s.url("/admin"));
    b.fill(tab, "#f-dep_user", user);
    b.fill(tab, "#f-dep_amount", amount);
    b.submit(tab, "form[action='/admin/deposit'] button[type=submit]");
    b.wait(
        tab,
        &format!(
            "document.querySelector('.flash') && document.querySelector('.flash').innerText.includes({})",
            json!(user)
        ),
        10,
        "the deposit's confirmation",
    );
}

/// Places an offer from the series page's form.
fn place_offer(b: &mut Browser, tab: &Tab, kind: &str, price: &str, volume: &str, maturation: Option<&str>) {
    b.click(tab, &format!("#k-{kind}"));
    if let Some(m) = maturation {
        b.fill(tab, "#f-maturation", m);
    }
    b.fill(tab, "#f-price", price);
    b.fill(tab, "#f-volume", volume);
    // The preview follows the typing (fetched from the server).
    b.wait(tab, "document.querySelector('[data-preview-out]').innerText.includes('cr')", 10, "the offer preview");
    b.submit(tab, "#place-offer");
    b.wait(tab, "document.querySelector('.flash') !== null", 10, "the placed offer's confirmation");
}

fn series_url(s: &Server, maturation: &str) -> String {
    s.url(&format!(
        "/series?issue={}&maturation={}",
        peerex_web::layout::encode(ISSUE),
        peerex_web::layout::encode(maturation)
    ))
}

#[test]
fn two_traders_trade_and_settle_in_a_real_browser() {
    let Some(mut b) = browser_or_skip("two_traders_trade_and_settle_in_a_real_browser") else { return };
    let s = Server::start();
    let admin = b.new_tab();
    let alice = b.new_tab();
    let bob = b.new_tab();
    let watcher = b.new_tab();

    sign_up(&mut b, &s, &alice, "alice");
    sign_up(&mut b, &s, &bob, "bob");
    // The empty portfolio teaches where credits come from.
    assert!(b.text(&alice, "main").contains("Nothing here yet"));
    log_in(&mut b, &s, &admin, ADMIN, PASSWORD);
    deposit(&mut b, &s, &admin, "alice", "1000");
    deposit(&mut b, &s, &admin, "bob", "1000");

    // Alice opens an issue on the local tracker and funds a fix: buy Unfixed at 0.60.
    b.goto(&alice, &s.url("/"));
    b.click(&alice, "details.card summary");
    b.fill(&alice, "#f-issue", ISSUE);
    b.fill(&alice, "#f-title", "Crash when the config file is empty");
    b.submit(&alice, "form[action='/issues'] button[type=submit]");
    b.wait(&alice, "document.querySelector('#f-maturation') !== null", 10, "the first offer form");
    let now = s.state().shared.clock.now();
    let maturation = peerex_web::fmt::date(now.plus_days(3));
    place_offer(&mut b, &alice, "buy_unfixed", "0.60", "10", Some(&maturation));
    let mat = format!("{maturation}T00:00:00Z");
    assert!(b.text(&alice, "#book").contains("40%"), "the ask at a 40% chance of a fix");

    // A third person watches the series page; it must update without a reload.
    b.goto(&watcher, &series_url(&s, &mat));
    b.eval(&watcher, "window.__noReload = 42");
    b.wait(&watcher, "document.body.getAttribute('data-live-connected') === '1'", 10, "the live stream");
    assert!(b.text(&watcher, "#headline").contains("No trades yet"));

    // Bob will fix it: buy Fixed at 0.40 from the series page: a trade at 40%.
    b.goto(&bob, &series_url(&s, &mat));
    place_offer(&mut b, &bob, "buy_fixed", "0.40", "10", None);
    assert!(b.text(&bob, ".flash").contains("filled"), "{}", b.text(&bob, ".flash"));

    b.wait(
        &watcher,
        "window.__noReload === 42 && document.querySelector('#chance') && document.querySelector('#chance').innerText === '40%' \
         && document.querySelector('#trades').innerText.includes('40%')",
        10,
        "the new price and trade on the watching page, without reload",
    );

    // Bob's form posted without its CSRF token (from his own logged-in page) changes nothing.
    let offers_before = s.state().shared.engine().exchange().offer_count();
    let status = b.eval(
        &bob,
        &format!(
            "fetch('/offers', {{method: 'POST', body: new URLSearchParams({{issue: {}, maturation: {}, kind: 'buy_fixed', price: '0.5', volume: '1', action: 'place'}})}}).then(r => r.status)",
            json!(ISSUE),
            json!(mat)
        ),
    );
    assert_eq!(status, json!(403));
    assert_eq!(s.state().shared.engine().exchange().offer_count(), offers_before);

    // Pages for the audit and screenshots, captured while the market is open.
    let mut pages: Vec<(String, Tab, String)> = vec![
        ("issues".into(), watcher.clone(), s.url("/")),
        ("series".into(), alice.clone(), series_url(&s, &mat)),
        ("portfolio".into(), alice.clone(), s.url("/portfolio")),
        ("admin".into(), admin.clone(), s.url("/admin")),
        ("markets".into(), alice.clone(), s.url("/markets")),
        ("resources".into(), alice.clone(), s.url("/resources")),
    ];
    let anon = b.new_tab();
    pages.push(("login".into(), anon.clone(), s.url("/login")));
    pages.push(("signup".into(), anon.clone(), s.url("/signup")));
    audit(&mut b, &pages);

    // The admin moves the sandbox clock past the maturation: the series settles (the issue
    // is still open at the maturation, so Unfixed wins).
    b.goto(&admin, &s.url("/admin"));
    b.fill(&admin, "#f-clk_days", "4");
    b.submit(&admin, "form[action='/admin/clock'] button[type=submit]");
    b.wait(&admin, "document.querySelector('.flash') !== null", 10, "the clock's confirmation");
    for (tab, who, available) in [(&alice, "alice", "1,004.00 cr"), (&bob, "bob", "996.00 cr")] {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            b.goto(tab, &s.url("/portfolio"));
            let text = b.text(tab, "main");
            if text.contains("settled") && text.contains(available) {
                break;
            }
            assert!(std::time::Instant::now() < until, "{who}'s portfolio never showed the settlement:\n{text}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
    assert!(b.text(&alice, "#events").contains("Payout"), "{}", b.text(&alice, "#events"));
    b.goto(&watcher, &series_url(&s, &mat));
    assert!(b.text(&watcher, "#settlement").contains("Unfixed won"), "{}", b.text(&watcher, "#settlement"));
    shots(&mut b, &[("series-settled".into(), watcher.clone(), series_url(&s, &mat))]);
}

/// axe-core on every page (no serious or critical violation), no horizontal scroll at 390 px,
/// and the screenshots when asked for.
pub(crate) fn audit(b: &mut Browser, pages: &[(String, Tab, String)]) {
    let axe = axe_source();
    for (name, tab, url) in pages {
        b.goto(tab, url);
        match &axe {
            Some(src) => {
                b.eval(tab, src);
                let v = b.eval(
                    tab,
                    "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations\
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                     .map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))",
                );
                let found: Vec<String> = serde_json::from_value(v).unwrap_or_default();
                assert!(found.is_empty(), "axe on {name}: {found:#?}");
            }
            None => println!("SKIPPED axe on {name}: set PEEREX_AXE_JS to axe.min.js (npm package axe-core)"),
        }
        b.size(tab, 390, 844, true);
        b.goto(tab, url);
        let fits = b.eval(tab, "[document.documentElement.scrollWidth, window.innerWidth]");
        let (sw, iw) = (fits[0].as_u64().unwrap_or(0), fits[1].as_u64().unwrap_or(0));
        assert!(sw <= iw, "{name} scrolls sideways on a phone: scrollWidth {sw} > innerWidth {iw}");
        b.size(tab, 1280, 900, false);
    }
    shots(b, pages);
}

fn axe_source() -> Option<String> {
    let path = std::env::var("PEEREX_AXE_JS").ok().map(PathBuf::from)?;
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PEEREX_AXE_JS={}: {e}", path.display());
            }
            None
        }
    }
}

pub(crate) fn shots(b: &mut Browser, pages: &[(String, Tab, String)]) {
    let Some(dir) = std::env::var("PEEREX_UI_SCREENSHOTS").ok().map(PathBuf::from) else { return };
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    for (name, tab, url) in pages {
        b.goto(tab, url);
        b.screenshot(tab, 1280, false, &dir.join(format!("{name}-desktop.png")));
        b.goto(tab, url);
        b.screenshot(tab, 390, true, &dir.join(format!("{name}-phone.png")));
    }
}
