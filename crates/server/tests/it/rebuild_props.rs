//! Property: whatever random commands the writer applied (accepted or refused, with clock moves
//! that expire, mature and settle), a restart rebuilds exactly the same state from the log, and
//! the ledger invariants hold.

use peerex_engine::exchange::types::{CloseReason, OfferKind};
use peerex_engine::{Amount, OfferCommand, Op, Price, Timestamp};
use peerex_server::settings::Settings;
use peerex_server::views::After;
use peerex_server::writer::Action;
use proptest::prelude::*;

use crate::support::{fresh_database, Backend};

const USERS: [&str; 3] = ["ann", "bob", "cid"];
const ISSUE: &str = "p/q#1";

#[derive(Clone, Debug)]
enum Step {
    Deposit(usize, i64),
    Offer { user: usize, kind: usize, bp: u32, volume: u64, later: bool },
    Cancel { user: usize, offer: u64 },
    Advance(i64),
    Close,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..3usize, 1..500i64).prop_map(|(u, a)| Step::Deposit(u, a)),
        4 => (0..3usize, 0..4usize, 0..=10_000u32, 1..50u64, any::<bool>())
            .prop_map(|(user, kind, bp, volume, later)| Step::Offer { user, kind, bp, volume, later }),
        1 => (0..3usize, 0..40u64).prop_map(|(user, offer)| Step::Cancel { user, offer }),
        1 => (1..4i64).prop_map(Step::Advance),
        1 => Just(Step::Close),
    ]
}

async fn run(steps: Vec<Step>) {
    let settings = Settings::for_tests(fresh_database(Backend::Sqlite).await);
    let server = peerex_server::start(settings.clone()).await.unwrap();
    let state = server.state.clone();
    let t0 = state.shared.clock.now();
    let day = Timestamp::MS_PER_DAY;
    let maturities = [t0.plus_millis(2 * day), t0.plus_millis(5 * day)];
    let submit = |op: Op| {
        let state = state.clone();
        async move {
            // Refusals are part of the property: only a stopped writer fails the test.
            let r = state.submit(Action::engine(op, None, After::Nothing), None).await;
            assert!(!matches!(r, Err(peerex_server::writer::WriteError::Unavailable)), "{r:?}");
        }
    };
    submit(Op::OpenIssue { issue: ISSUE.into(), title: String::new(), labels: vec![] }).await;
    for s in steps {
        match s {
            Step::Deposit(u, a) => {
                submit(Op::Deposit { user: USERS[u].into(), amount: Amount::credits(a) }).await;
            }
            Step::Offer { user, kind, bp, volume, later } => {
                let kind =
                    [OfferKind::BuyFixed, OfferKind::BuyUnfixed, OfferKind::SellFixed, OfferKind::SellUnfixed][kind];
                let op = Op::Offer(OfferCommand {
                    id: String::new(),
                    user: USERS[user].into(),
                    kind,
                    issue: ISSUE.into(),
                    maturation: maturities[usize::from(later)],
                    price: Price::from_bp(bp).unwrap(),
                    volume,
                    aon: false,
                    poolable: false,
                    expiration: None,
                });
                submit(op).await;
            }
            Step::Cancel { user, offer } => {
                submit(Op::Cancel { user: USERS[user].into(), offer: format!("o{offer}") }).await;
            }
            Step::Advance(days) => {
                let to = state.shared.clock.now().plus_millis(days * day);
                state.submit(Action::SetClock { to }, None).await.unwrap();
            }
            Step::Close => {
                submit(Op::CloseIssue { issue: ISSUE.into(), reason: CloseReason::Completed }).await;
            }
        }
    }
    let before = state.shared.engine().summary();
    drop(state);
    server.stop().await.unwrap();

    let again = peerex_server::start(settings.clone()).await.unwrap();
    let after = again.state.shared.engine().summary();
    assert_eq!(after, before, "the rebuilt state differs");
    again.state.shared.engine().check_invariants().unwrap();
    again.stop().await.unwrap();
    let report = peerex_server::check(&settings.database).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    if let peerex_server::settings::Database::Sqlite { data_dir } = &settings.database {
        let _ = std::fs::remove_dir_all(data_dir);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn restart_rebuilds_the_same_state(steps in prop::collection::vec(step(), 1..60)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(run(steps));
    }
}
