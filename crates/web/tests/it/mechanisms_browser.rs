//! Issue 12's pages in a real headless Chromium: a statement opened from its form, the series
//! page saying it is decided by arbitration, an arbiter reporting through the form after the
//! maturation (the sponsor told why she may not), a market maker's liquidity marked in the
//! book; the pages audited by axe-core at 390 px like the others.

use serde_json::{json, Value};

use crate::browser::{audit, deposit, log_in, sign_up};
use crate::cdp::browser_or_skip;
use crate::support::{Server, ADMIN, PASSWORD};

fn api(s: &Server, name: &str, password: &str, path: &str, body: Value) {
    let c = reqwest::blocking::Client::new();
    let r = c.post(s.url("/api/v1/sessions")).json(&json!({"name": name, "password": password})).send().unwrap();
    let token = r.json::<Value>().unwrap()["token"].as_str().unwrap().to_owned();
    let r = c.post(s.url(&format!("/api/v1{path}"))).bearer_auth(token).json(&body).send().unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.text().unwrap());
}

#[test]
fn a_statement_is_opened_reported_on_and_a_maker_is_marked() {
    let Some(mut b) = browser_or_skip("a_statement_is_opened_reported_on_and_a_maker_is_marked") else {
        return;
    };
    let s = Server::start();
    let admin = b.new_tab();
    let alice = b.new_tab();
    let bob = b.new_tab();
    for (tab, name) in [(&alice, "alice"), (&bob, "bob")] {
        sign_up(&mut b, &s, tab, name);
    }
    log_in(&mut b, &s, &admin, ADMIN, PASSWORD);
    deposit(&mut b, &s, &admin, "alice", "100");

    // Alice opens a statement from its form (linked from the issues page).
    b.goto(&alice, &s.url("/statements/new"));
    let now = s.state().shared.clock.now();
    b.fill(&alice, "#f-statement", "The audit of the parser finds no vulnerability");
    b.fill(&alice, "#f-issue", "audit/parser");
    b.fill(&alice, "#f-maturation", &peerex_web::fmt::date(now.plus_days(2)));
    b.fill(&alice, "#f-bond", "40");
    b.fill(&alice, "#f-report_days", "2");
    let new_page = vec![("statement-new".to_owned(), alice.clone(), s.url("/statements/new"))];
    b.submit(&alice, "#open-statement");
    let decided = b.text(&alice, "#decided");
    assert!(decided.contains("Arbitration") && decided.contains("finds no vulnerability"), "{decided}");
    let url: String = serde_json::from_value(b.eval(&alice, "location.href")).unwrap();
    audit(&mut b, &new_page);

    // After the maturation, bob reports through the form; alice, the sponsor, may not.
    b.goto(&admin, &s.url("/admin"));
    b.fill(&admin, "#f-clk_days", "3");
    b.submit(&admin, "form[action='/admin/clock'] button[type=submit]");
    b.goto(&alice, &url);
    assert!(b.text(&alice, "#report-why").contains("bond"), "{}", b.text(&alice, "#decided"));
    b.goto(&bob, &url);
    assert!(b.text(&bob, "#report-window").contains("Reporting is open; the window closes"));
    let reporting = vec![("series-statement-reporting".to_owned(), bob.clone(), url.clone())];
    audit(&mut b, &reporting);
    b.click(&bob, "#r-0");
    b.submit(&bob, "#send-report");
    assert!(b.text(&bob, "#report-why").contains("You have reported"), "{}", b.text(&bob, "#decided"));

    // A market maker on a thin issue book: its offers are marked in the ladders.
    api(&s, ADMIN, PASSWORD, "/issues", json!({"issue": "app#9", "title": "Slow start"}));
    let mat = s.state().shared.clock.now().plus_days(4).to_rfc3339();
    api(&s, "alice", "correct horse battery", "/makers", json!({"issue": "app#9", "maturation": mat, "b": "10"}));
    let maker_url = s.url(&peerex_web::layout::series_url("app#9", &mat));
    b.goto(&bob, &maker_url);
    assert!(b.text(&bob, "#book").contains("maker"), "{}", b.text(&bob, "#book"));
    assert!(b.text(&bob, "#maker").contains("Subsidy"), "{}", b.text(&bob, "#decided"));
    audit(&mut b, &[("series-maker".to_owned(), bob.clone(), maker_url)]);
}
