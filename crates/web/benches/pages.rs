//! Server-side rendering time of every page of the web UI on a big exchange: 1,000 issues x 3
//! maturations and 10,000 trades (7,000 on one series, whose chart and trade list are the
//! heaviest, the rest spread over the others), 100 prediction markets with 2,000 trades (1,000 on
//! one market), and 100 backup peers. Each page is requested through the UI's router
//! in process (no network), many times; the bench prints p50, p99 and max per page.
//!
//! `cargo bench -p peerex-web --bench pages` (PEEREX_BENCH_ITERS sets the requests per page).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use peerex_engine::exchange::types::OfferKind;
use peerex_engine::{Amount, Price, Timestamp};
use peerex_server::http::accounts::{self as acc, Credentials};
use peerex_server::http::admin::{self as adm, Money};
use peerex_server::http::exchange::{self as ex, OpenIssue, PlaceOffer};
use peerex_server::http::extract::{Body as B, IdempotencyKey, PathId, User};
use peerex_server::http::{markets as mk, peers as pr};
use peerex_server::settings::{Database, Settings};
use peerex_web::{router_with, Web, WebConfig};
use tower::ServiceExt;

const ISSUES: usize = 1_000;
const TRADES: usize = 10_000;
const HOT: usize = 7_000;
const MARKETS: usize = 100;
const MARKET_TRADES: usize = 2_000;
const PEERS: usize = 100;

fn user(name: &str, admin: bool) -> User {
    User { name: name.into(), admin, token_hash: String::new() }
}

fn main() {
    let iters: usize = std::env::var("PEEREX_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Database::Sqlite { data_dir: dir.path().join("data") };
    let mut settings = Settings::for_tests(db.clone());
    settings.max_open_offers = 100_000;
    let built = Instant::now();
    let (running, web, sid) = rt.block_on(async {
        peerex_server::create_user(&db, "root", "password-1", true, 64).await.unwrap();
        for n in ["alice", "bob"] {
            peerex_server::create_user(&db, n, "password-1", false, 64).await.unwrap();
        }
        for i in 0..PEERS {
            peerex_server::create_user(&db, &format!("peer{i}"), "password-1", false, 64).await.unwrap();
        }
        let running = peerex_server::start(settings).await.unwrap();
        let st = running.state.clone();
        for n in ["root", "alice", "bob"] {
            let m = Money { user: n.into(), amount: Amount::credits(1_000_000) };
            adm::deposit(axum::extract::State(st.clone()), user("root", true), IdempotencyKey(None), B(m))
                .await
                .unwrap();
        }
        let now = st.shared.clock.now();
        let mats: Vec<Timestamp> = (1..=3).map(|k| now.plus_days(30 * k)).collect();
        let mut tasks = Vec::new();
        for i in 0..ISSUES {
            let st = st.clone();
            tasks.push(tokio::spawn(async move {
                let b = OpenIssue {
                    issue: format!("local#{i}"),
                    title: format!("Issue number {i} with a title of usual length"),
                    labels: vec![],
                };
                ex::open_issue(axum::extract::State(st), user("alice", false), IdempotencyKey(None), B(b))
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Trades: bob buys Fixed at p, then alice takes one unit of the Unfixed side at any price
        // up to 0.99, so each pair trades exactly once whatever the other tasks' offers do.
        let mut seed = 42u64;
        let mut tasks = Vec::new();
        for i in 0..TRADES {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let bp = 3_000 + (seed >> 33) % 4_000;
            let price = Price::from_bp(bp as u32).unwrap();
            let (issue, mat) = if i < HOT { (0, mats[0]) } else { ((i % ISSUES), mats[i % 3]) };
            let st = st.clone();
            tasks.push(tokio::spawn(async move {
                let take = Price::from_bp(9_900).unwrap();
                for (who, kind, p) in [("bob", OfferKind::BuyFixed, price), ("alice", OfferKind::BuyUnfixed, take)] {
                    let b = PlaceOffer {
                        kind,
                        issue: format!("local#{issue}"),
                        maturation: mat,
                        price: p,
                        volume: 1,
                        aon: false,
                        poolable: false,
                        expiration: None,
                    };
                    ex::place_offer(axum::extract::State(st.clone()), user(who, false), IdempotencyKey(None), B(b))
                        .await
                        .unwrap();
                }
            }));
            if tasks.len() >= 500 {
                for t in tasks.drain(..) {
                    t.await.unwrap();
                }
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Every issue gets all three maturations (an offer creates the series).
        for i in 0..ISSUES {
            for m in &mats {
                let b = PlaceOffer {
                    kind: OfferKind::BuyFixed,
                    issue: format!("local#{i}"),
                    maturation: *m,
                    price: Price::from_bp(1_000).unwrap(),
                    volume: 1,
                    aon: false,
                    poolable: false,
                    expiration: None,
                };
                ex::place_offer(axum::extract::State(st.clone()), user("root", true), IdempotencyKey(None), B(b))
                    .await
                    .unwrap();
            }
        }
        // Prediction markets: alice creates them, bob and alice trade (half on the first one).
        let deadline = now.plus_days(60).to_rfc3339();
        for _ in 0..MARKETS {
            let b = serde_json::json!({"statement": "Will the release ship with the new parser by the deadline?",
                "deadline": deadline, "b": "100"});
            mk::create(axum::extract::State(st.clone()), user("alice", false), IdempotencyKey(None), B(b))
                .await
                .unwrap();
        }
        for i in 0..MARKET_TRADES {
            // bob buys YES, alice buys NO.
            let (who, outcome) = if i % 2 == 0 { ("bob", 1) } else { ("alice", 0) };
            let m = if i < MARKET_TRADES / 2 { 1 } else { 1 + i % MARKETS };
            let b = serde_json::json!({"shares": "3", "outcome": outcome});
            mk::trade(
                axum::extract::State(st.clone()),
                user(who, false),
                IdempotencyKey(None),
                PathId(format!("m{m}")),
                B(b),
            )
            .await
            .unwrap();
        }
        // Backup peers: every one registers and sets its sliders; alice is one of them.
        for i in 0..=PEERS {
            let who = if i == PEERS { "alice".to_owned() } else { format!("peer{i}") };
            pr::register(axum::extract::State(st.clone()), user(&who, false), IdempotencyKey(None)).await.unwrap();
            let s = pr::Sliders {
                space_gb: Amount::credits(50 + (i as i64 % 7) * 20),
                upload_gb: Amount::credits(5 + (i as i64 % 3)),
                download_gb: Amount::credits(5 + (i as i64 % 4)),
            };
            pr::set_sliders(axum::extract::State(st.clone()), user(&who, false), IdempotencyKey(None), B(s))
                .await
                .unwrap();
        }
        let web = Web::new(st.clone(), WebConfig::default());
        // A browser session for alice.
        let r = acc::log_in(
            axum::extract::State(st.clone()),
            B(Credentials { name: "alice".into(), password: "password-1".into() }),
        )
        .await
        .unwrap();
        let token = r.0.token.clone();
        let sid = peerex_web::session::new_sid();
        web.sessions.insert(&sid, token);
        // Wait for the price history to load.
        let hot = mats[0];
        for _ in 0..600 {
            if web.history.points("local#0", hot).len() >= HOT {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (running, web, sid)
    });
    let engine = web.app.shared.engine();
    let (series, trades) =
        (engine.exchange().series_count(), engine.exchange().all_series().map(|(_, s)| s.traded_volume).sum::<u64>());
    drop(engine);
    let hot_points = web
        .history
        .points("local#0", web.app.shared.engine().exchange().all_series().next().unwrap().1.maturation)
        .len();
    println!(
        "built {} issues, {series} series, {trades} trades ({hot_points} on the hot series' chart) in {:.1} s; {iters} requests per page",
        ISSUES,
        built.elapsed().as_secs_f64()
    );
    let hot_mat = web.app.shared.clock.now();
    let _ = hot_mat;
    let mat0 = {
        let e = web.app.shared.engine();
        let x = e.exchange();
        let iid = x.issue_id("local#0").unwrap();
        x.series(x.series_of_issue(iid)[0]).unwrap().maturation.to_rfc3339()
    };
    let series_q = format!("/series?issue=local%230&maturation={}", peerex_web::layout::encode(&mat0));
    let pages: Vec<(&str, String, bool)> = vec![
        ("issues (home, newest)", "/".into(), false),
        ("issues sorted by price, page 20", "/?sort=price&page=20".into(), false),
        ("issues search", "/?q=issue+number+99".into(), false),
        ("issues live fragment", "/live/issues".into(), false),
        ("series (7,000 trades, all)", series_q.clone(), true),
        ("series 1 w range", format!("{series_q}&range=1w"), true),
        ("series live fragment", series_q.replace("/series?", "/live/series?"), true),
        ("portfolio (3,000+ positions)", "/portfolio".into(), true),
        ("admin", "/admin".into(), true),
        ("log in", "/login".into(), false),
        ("markets (100)", "/markets".into(), false),
        ("market m1 (1,000 trades)", "/markets/m1".into(), true),
        ("market quote", "/markets/m1/quote?shares=10&outcome=1".into(), false),
        ("resources (alice's peer page)", "/resources".into(), true),
        ("resources preview", "/resources/preview?space_gb=120&upload_gb=8&download_gb=6".into(), true),
        ("resources operator", "/resources/operator".into(), true),
    ];
    // alice is not an admin: give the admin page an admin session.
    let admin_sid = rt.block_on(async {
        let r = acc::log_in(
            axum::extract::State(web.app.clone()),
            B(Credentials { name: "root".into(), password: "password-1".into() }),
        )
        .await
        .unwrap();
        let sid = peerex_web::session::new_sid();
        web.sessions.insert(&sid, r.0.token.clone());
        sid
    });
    let app = router_with(web.clone());
    println!("| page | p50 ms | p99 ms | max ms | bytes |");
    println!("|---|---:|---:|---:|---:|");
    for (name, path, auth) in &pages {
        let cookie = if *name == "admin" || *name == "resources operator" { &admin_sid } else { &sid };
        let mut times = Vec::with_capacity(iters);
        let mut bytes = 0;
        for _ in 0..iters {
            let mut req = Request::get(path.as_str()).header("host", "bench");
            if *auth {
                req = req.header("cookie", format!("peerex_session={cookie}"));
            }
            let req = req.body(Body::empty()).unwrap();
            let t = Instant::now();
            let resp = rt.block_on(async {
                let resp = app.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
                (status, body.len())
            });
            times.push(t.elapsed());
            assert!(resp.0.is_success(), "{name}: {}", resp.0);
            bytes = resp.1;
        }
        times.sort();
        let q = |f: f64| {
            times[((times.len() as f64 * f).ceil() as usize).saturating_sub(1).min(times.len() - 1)].as_secs_f64() * 1e3
        };
        println!("| {name} | {:.2} | {:.2} | {:.2} | {bytes} |", q(0.5), q(0.99), q(1.0));
    }
    rt.block_on(running.stop()).unwrap();
}
