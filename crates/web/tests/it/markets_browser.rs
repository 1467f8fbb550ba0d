//! The prediction-market and backup pages in a real headless Chromium against the real server:
//! a market is created, traded with its quote shown before confirming, reported on by two
//! arbiters after the sandbox clock passes its deadline and resolved; a peer joins the backup
//! network and the pie chart of its resource balance changes as a slider moves. These pages
//! are then audited (axe-core, 390 px) and screenshotted like the others.

use serde_json::json;

use crate::browser::{audit, deposit, log_in, shots, sign_up};
use crate::cdp::{browser_or_skip, Browser, Tab};
use crate::support::{Server, ADMIN, PASSWORD};

const MARKET: &str = "parser-2";

fn press(b: &mut Browser, tab: &Tab, key: &str, code: u32, times: usize) {
    for _ in 0..times {
        for kind in ["keyDown", "keyUp"] {
            b.call(
                Some(&tab.session),
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}),
            );
        }
    }
}

#[test]
fn a_market_is_traded_reported_and_resolved_and_the_pie_follows_a_slider() {
    let Some(mut b) = browser_or_skip("a_market_is_traded_reported_and_resolved_and_the_pie_follows_a_slider") else {
        return;
    };
    let s = Server::start();
    let admin = b.new_tab();
    let alice = b.new_tab();
    let bob = b.new_tab();
    let carol = b.new_tab();
    for (tab, name) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        sign_up(&mut b, &s, tab, name);
    }
    log_in(&mut b, &s, &admin, ADMIN, PASSWORD);
    for name in ["alice", "bob", "carol"] {
        deposit(&mut b, &s, &admin, name, "100");
    }
    // The empty list teaches what a market is.
    b.goto(&alice, &s.url("/markets"));
    assert!(b.text(&alice, "main").contains("No markets yet"));

    // Alice creates a market that two reports can resolve.
    b.submit(&alice, "#new-market");
    let now = s.state().shared.clock.now();
    b.fill(&alice, "#f-statement", "Version 2.0 ships with the new parser");
    b.fill(&alice, "#f-id", MARKET);
    b.fill(&alice, "#f-deadline", &peerex_web::fmt::date(now.plus_days(2)));
    b.fill(&alice, "#f-min_reports", "2");
    // A bond large enough that both arbiters can be paid what the mechanism promises.
    b.fill(&alice, "#f-bond", "50");
    b.submit(&alice, "#create-market");
    assert!(b.text(&alice, "#headline").contains("50%"), "{}", b.text(&alice, "#headline"));

    // Bob buys 10 YES: the quote (price after, cost, fee) shows before he confirms.
    let url = s.url(&format!("/markets/{MARKET}"));
    b.goto(&bob, &url);
    b.click(&bob, "#side-buy_yes");
    b.fill(&bob, "#f-shares", "10");
    b.wait(
        &bob,
        "document.querySelector('#quote-after') && document.querySelector('#quote-after').innerText.includes('73.11%')",
        10,
        "the quote",
    );
    let quote = b.text(&bob, "#quote");
    assert!(quote.contains("6.2011 cr") && quote.contains("0.0366 cr") && quote.contains("50% → 73.11%"), "{quote}");
    let before = s.available("bob");
    b.submit(&bob, "#confirm-trade");
    assert!(b.text(&bob, "#traded").contains("bought 10.00 YES"), "{}", b.text(&bob, "main"));
    assert_eq!(before - s.available("bob"), 6_201_146 + 36_553, "the trade cost what the quote said");
    assert!(b.text(&bob, "#headline").contains("73.11%"));
    assert!(b.text(&bob, "#my-shares").contains("10.00"));
    let open_pages = vec![
        ("markets-list".to_owned(), bob.clone(), s.url("/markets")),
        ("market-open".to_owned(), bob.clone(), url.clone()),
        ("market-new".to_owned(), alice.clone(), s.url("/markets/new")),
    ];
    audit(&mut b, &open_pages);

    // The deadline passes: Bob and Carol report as arbiters, seeing what reporting earns.
    b.goto(&admin, &s.url("/admin"));
    b.fill(&admin, "#f-clk_days", "3");
    b.submit(&admin, "form[action='/admin/clock'] button[type=submit]");
    for tab in [&bob, &carol] {
        b.goto(tab, &url);
        let earns = b.text(tab, "#earns");
        assert!(earns.contains("if you both report YES") && earns.contains(" cr"), "{earns}");
        b.click(tab, "#r-1");
        b.submit(tab, "#send-report");
        assert!(b.text(tab, "#my-report").contains("You reported YES"), "{}", b.text(tab, "main"));
    }
    let reporting = vec![("market-reporting".to_owned(), carol.clone(), url.clone())];
    audit(&mut b, &reporting);
    // Alice, the creator, closes reporting: outcome X, payouts and rewards.
    b.goto(&alice, &url);
    b.submit(&alice, "#resolve-now");
    b.wait(&alice, "document.querySelector('#rewards') !== null", 10, "the resolution's rewards");
    assert!(b.text(&alice, "#outcome-x").contains("100%"));
    assert!(b.text(&alice, "#payouts").contains("bob"), "{}", b.text(&alice, "#resolution"));
    let rewards = b.text(&alice, "#rewards");
    assert!(rewards.contains("bob") && rewards.contains("carol"), "{rewards}");

    // Carol joins the backup network; moving a slider moves the pie chart without a reload.
    b.goto(&carol, &s.url("/resources"));
    b.submit(&carol, "#join");
    b.submit(&carol, "form[action='/resources/online'] button[type=submit]");
    b.fill(&carol, "#s-space_gb", "100");
    b.fill(&carol, "#s-upload_gb", "10");
    b.fill(&carol, "#s-download_gb", "10");
    b.submit(&carol, "#save-sliders");
    let pie = "document.querySelector('#balance').innerText";
    let first = b.eval(&carol, pie);
    b.eval(&carol, "window.__noReload = 7; document.querySelector('#s-space_gb').focus()");
    press(&mut b, &carol, "ArrowRight", 39, 40);
    assert_eq!(b.text(&carol, "#o-space_gb"), "140");
    b.wait(&carol, &format!("window.__noReload === 7 && {pie} !== {first}"), 10, "the pie chart to follow the slider");
    let admin_pages = vec![
        ("resources-peer".to_owned(), carol.clone(), s.url("/resources")),
        ("resources-operator".to_owned(), admin.clone(), s.url("/resources/operator")),
        ("market-resolved".to_owned(), alice.clone(), url.clone()),
    ];
    audit(&mut b, &admin_pages);
    shots(&mut b, &[]);
}
