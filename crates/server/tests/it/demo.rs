//! The demo (`peerex serve --demo`): the agents' run depends on the seed only, and after a few
//! simulated weeks the exchange, the prediction markets and the resource market all moved.

use peerex_engine::exchange::types::SeriesStatus;
use peerex_engine::prediction::market::Status;
use peerex_server::demo::{DemoSettings, PASSWORD, SPEED_MAX};
use peerex_server::settings::Settings;

use crate::support::{fresh_database, Backend};

async fn run_demo(seed: u64, days: u64) -> (Vec<String>, peerex_engine::Engine, peerex_server::settings::Database) {
    run_demo_at(seed, days, SPEED_MAX).await
}

async fn run_demo_at(
    seed: u64,
    days: u64,
    speed: f64,
) -> (Vec<String>, peerex_engine::Engine, peerex_server::settings::Database) {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.demo = Some(DemoSettings { seed, days_per_minute: speed, stop_after_days: Some(days) });
    let db = settings.database.clone();
    let mut running = peerex_server::start(settings).await.unwrap();
    running.demo_finished().await;
    let log = running.state.store.load_log().await.unwrap();
    let engine = running.state.shared.engine().clone();
    running.stop().await.unwrap();
    (log.into_iter().map(|c| c.body).collect(), engine, db)
}

/// Two demos with one seed write the same command log (times included), whatever their speed;
/// another seed does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_writes_the_same_log() {
    let (a, _, _) = run_demo(42, 3).await;
    let (b, _, _) = run_demo(42, 3).await;
    let (c, _, _) = run_demo(43, 3).await;
    assert!(a.len() > 100, "{} commands", a.len());
    assert_eq!(a, b);
    assert_ne!(a, c);
    // A slower demo (a step every 12.5 ms instead of at once) makes the same first day.
    let (slow, _, _) = run_demo_at(42, 1, 200.0).await;
    assert!(slow.len() > 50 && slow.len() < a.len());
    assert_eq!(slow[..], a[..slow.len()]);
}

/// Three simulated weeks: priced issues, trades, settled series, a prediction market resolved by
/// its arbiters, resource prices that moved, and a ledger that checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_weeks_of_demo_move_every_market() {
    let (log, engine, db) = run_demo(1, 21).await;
    let x = engine.exchange();
    let priced = x
        .all_issues()
        .filter(|(i, _)| x.series_of_issue(*i).iter().any(|s| x.series(*s).is_some_and(|s| s.last_price.is_some())))
        .count();
    assert!(priced >= 10, "{priced} issues with a price");
    let settled = x.all_series().filter(|(_, s)| s.status == SeriesStatus::Settled).count();
    assert!(settled >= 1);
    let resolved = engine.markets().all().filter(|(_, m)| m.status == Status::Resolved && m.reports.len() >= 3).count();
    assert!(
        resolved >= 1,
        "{:?}",
        engine.markets().all().map(|(_, m)| (m.status, m.reports.len())).collect::<Vec<_>>()
    );
    assert_ne!(
        engine.resources().prices_nano(),
        peerex_engine::resources::market::ResourceMarket::default().prices_nano()
    );
    let resales = log.iter().filter(|c| c.contains("sell_fixed")).count();
    assert!(resales >= 1, "no worker resold");
    engine.check_invariants().unwrap();
    let report = peerex_server::check(&db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(!PASSWORD.is_empty());
}

/// A person logs in with a printed demo account and trades beside the agents through the API;
/// the demo's admin moves its clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_trades_beside_the_agents() {
    let mut settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    settings.demo = Some(DemoSettings { seed: 5, days_per_minute: SPEED_MAX, stop_after_days: Some(1) });
    let mut running = peerex_server::start(settings).await.unwrap();
    running.demo_finished().await;
    let client = crate::support::Client::new(running.addr);
    let you = client.login("you", PASSWORD).await;
    let me = client.get("/balances", &you).await.1;
    assert_eq!(me["available"], "1000", "{me}");
    // The funder's offer on an issue that has no worker yet: take the fixed side of 1 unit.
    let (issue, maturation, price) = {
        let engine = running.state.shared.engine();
        let x = engine.exchange();
        let (_, o) = x
            .all_offers()
            .find(|(_, o)| {
                o.kind == peerex_engine::exchange::types::OfferKind::BuyUnfixed
                    && o.status == peerex_engine::exchange::types::OfferStatus::Open
            })
            .expect("a funder's open offer");
        let s = x.series(o.series).unwrap();
        (x.issue_name(s.issue).to_owned(), s.maturation.to_rfc3339(), o.price.complement())
    };
    let body =
        serde_json::json!({"kind": "buy_fixed", "issue": issue, "maturation": maturation, "price": price, "volume": 1});
    let (st, placed) = client.post("/offers", &you, body).await;
    assert_eq!(st, 201, "{placed}");
    assert_eq!(placed["trades"].as_array().map(Vec::len), Some(1), "{placed}");
    let admin = client.login("admin", PASSWORD).await;
    let to = peerex_server::demo::start().plus_days(5).to_rfc3339();
    let (st, moved) = client.post("/admin/clock", &admin, serde_json::json!({"to": to})).await;
    assert_eq!(st, 200, "{moved}");
    assert_eq!(running.state.shared.clock.now().to_rfc3339(), to);
    running.stop().await.unwrap();
}
