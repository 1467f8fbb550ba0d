//! A demo server (`peerex serve --demo`) in headless Chromium: the home page shows new trades
//! arriving without a reload, every page carries the demo banner, the login page lists the demo
//! accounts (and logging in with them works); the demo's pages pass the audit and are
//! screenshotted for docs/ui.md.

use crate::browser::{audit, log_in};
use crate::cdp::browser_or_skip;
use crate::support::Server;

#[test]
fn a_demo_home_page_shows_new_trades_without_reload() {
    let Some(mut b) = browser_or_skip("a_demo_home_page_shows_new_trades_without_reload") else { return };
    let s = Server::start_demo(30.0);
    let home = b.new_tab();
    b.goto(&home, &s.url("/"));
    assert!(b.text(&home, ".demo-banner").to_lowercase().contains("demo"));
    // A mark that a reload would wipe.
    b.eval(&home, "window.__notReloaded = true");
    b.wait(&home, "document.querySelectorAll('#latest-trades li.trade').length > 0", 30, "the first trades");
    let first = b.text(&home, "#latest-trades");
    b.wait(
        &home,
        &format!("document.querySelector('#latest-trades').innerText !== {}", serde_json::json!(first)),
        30,
        "newer trades",
    );
    let still = b.eval(&home, "window.__notReloaded === true");
    assert_eq!(still, serde_json::json!(true), "the page was reloaded");

    // The login page lists the demo accounts; one of them logs in.
    let login = b.new_tab();
    b.goto(&login, &s.url("/login"));
    let accounts = b.text(&login, ".demo-accounts");
    assert!(accounts.contains("demo-pass") && accounts.contains("admin") && accounts.contains("you"), "{accounts}");
    log_in(&mut b, &s, &login, "you", peerex_server::demo::PASSWORD);
    b.wait(&login, "location.pathname === '/'", 10, "the home page after log-in");
    assert!(b.text(&login, ".who").contains("you"));

    // Let the demo run a few more simulated days, then audit and screenshot its pages.
    std::thread::sleep(std::time::Duration::from_secs(8));
    let tab = b.new_tab();
    let worker = b.new_tab();
    log_in(&mut b, &s, &worker, "wren", peerex_server::demo::PASSWORD);
    b.wait(&worker, "location.pathname === '/'", 10, "the worker's home page");
    let peer = b.new_tab();
    log_in(&mut b, &s, &peer, "sam", peerex_server::demo::PASSWORD);
    b.wait(&peer, "location.pathname === '/'", 10, "the peer's home page");
    let (issue, mat) = {
        let engine = s.state().shared.engine();
        let x = engine.exchange();
        // A live series that still trades while the pages are audited: traded, its issue open,
        // the latest maturation.
        let (_, series) = x
            .all_series()
            .filter(|(_, s)| s.traded_volume > 0 && s.status == peerex_engine::exchange::types::SeriesStatus::Open)
            .filter(|(_, s)| {
                x.issue(s.issue).is_some_and(|i| i.current() == peerex_engine::exchange::types::IssueState::Open)
            })
            .max_by_key(|(_, s)| (s.maturation, s.traded_volume))
            .expect("a traded series");
        (x.issue_name(series.issue).to_owned(), series.maturation.to_rfc3339())
    };
    let series = s.url(&format!(
        "/series?issue={}&maturation={}",
        peerex_web::layout::encode(&issue),
        peerex_web::layout::encode(&mat)
    ));
    let pages = vec![
        ("demo-home".to_owned(), tab.clone(), s.url("/")),
        ("demo-login".to_owned(), b.new_tab(), s.url("/login")),
        ("demo-series".to_owned(), tab.clone(), series),
        ("demo-market".to_owned(), tab.clone(), s.url("/markets/demo-1")),
        ("demo-portfolio".to_owned(), worker.clone(), s.url("/portfolio")),
        ("demo-backup".to_owned(), peer.clone(), s.url("/resources")),
    ];
    audit(&mut b, &pages);
}
