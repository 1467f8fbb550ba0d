//! Read-only views of the markets: quotes for the API, the replay summary, and the invariants
//! that tie each market's state to its two ledger accounts.

use serde_json::{json, Map, Value};

use crate::error::{EngineError, EngineResult};
use crate::ids::{MarketId, UserId};
use crate::ledger::{Account, Ledger};
use crate::money::{format_fixed, Amount, MICROS_PER_CREDIT};
use crate::prediction::lmsr::prob_micros;
use crate::prediction::market::{Holding, Market, Status};
use crate::prediction::reliability::History;
use crate::prediction::trading::{self, Quote};
use crate::prediction::Markets;
use crate::time::Timestamp;

/// A probability in micro-units rounded to 4 decimals, as text ("0.7311").
fn four_decimals(micros: i64) -> String {
    format_fixed((micros + 50) / 100, 4)
}

impl Markets {
    pub fn market_id(&self, name: &str) -> Option<MarketId> {
        self.names.get(name).map(MarketId)
    }
    pub fn market(&self, id: MarketId) -> Option<&Market> {
        self.markets.get(id.index())
    }
    pub fn all(&self) -> impl Iterator<Item = (MarketId, &Market)> {
        self.markets.iter().enumerate().map(|(i, m)| (MarketId(i as u32), m))
    }
    pub fn len(&self) -> usize {
        self.markets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.markets.is_empty()
    }
    /// An arbiter's record (a, c come from it with the prior of reliability.rs).
    pub fn reliability(&self, user: UserId) -> History {
        self.reliability.get(&user).copied().unwrap_or_default()
    }
    pub fn holding(&self, id: MarketId, user: UserId) -> Option<&Holding> {
        self.market(id)?.holding(user)
    }
    /// (time, micro-price of each outcome) after creation and every trade.
    pub fn price_history(&self, id: MarketId) -> &[(Timestamp, Vec<i64>)] {
        self.market(id).map_or(&[], |m| m.history.as_slice())
    }

    fn known(&self, id: MarketId) -> EngineResult<&Market> {
        self.market(id).ok_or_else(|| EngineError::UnknownMarket(format!("no market #{}", id.0)))
    }

    /// The current price of `outcome` (1 = YES for binary markets).
    pub fn price(&self, id: MarketId, outcome: usize) -> EngineResult<f64> {
        let m = self.known(id)?;
        m.lmsr.price(&m.q, outcome)
    }

    /// What a trade of `shares` (signed, micro-shares) of `outcome` by `user` would cost now: the
    /// same computation the trade itself runs.
    pub fn quote(&self, id: MarketId, user: Option<UserId>, outcome: usize, shares: Amount) -> EngineResult<Quote> {
        let m = self.known(id)?;
        trading::quote(m, user.and_then(|u| m.holding(u)), outcome, shares.0)
    }

    /// The most shares of `outcome` that `budget` buys (fee included).
    pub fn shares_for_budget(
        &self,
        id: MarketId,
        user: Option<UserId>,
        outcome: usize,
        budget: Amount,
    ) -> EngineResult<Amount> {
        let m = self.known(id)?;
        trading::shares_for_budget(m, user.and_then(|u| m.holding(u)), outcome, budget.0).map(Amount)
    }

    /// The `markets` object of the replay output (spec/commands.md).
    pub fn summary(&self) -> Value {
        let mut out = Map::new();
        for m in &self.markets {
            let prices: Vec<i64> = m.lmsr.prices(&m.q).unwrap_or_default().into_iter().map(prob_micros).collect();
            let yes = prices.get(1).copied().unwrap_or(0);
            let outcome = match &m.resolution {
                Some(r) if m.is_binary() => {
                    let x = r.weights.get(1).copied().unwrap_or(0) as i128 * MICROS_PER_CREDIT as i128;
                    json!(Amount((x / r.total.max(1) as i128) as i64))
                }
                Some(r) => json!(r
                    .weights
                    .iter()
                    .map(|w| Amount((*w as i128 * MICROS_PER_CREDIT as i128 / r.total.max(1) as i128) as i64))
                    .collect::<Vec<_>>()),
                None => Value::Null,
            };
            out.insert(
                m.name.clone(),
                json!({
                    "status": m.status.as_str(),
                    "q": Amount(m.net_q()),
                    "price": four_decimals(yes),
                    "outcome": outcome,
                    "statement": m.statement,
                    "outcomes": m.outcomes(),
                    "shares": m.q.iter().map(|x| Amount(*x)).collect::<Vec<_>>(),
                    "prices": prices.iter().map(|x| Amount(*x)).collect::<Vec<_>>(),
                    "deadline": m.deadline,
                    "reports": m.reports.len(),
                    "trades": m.history.len().saturating_sub(1),
                }),
            );
        }
        Value::Object(out)
    }

    /// Invariants of every market (checked by [`crate::Engine::check_invariants`]):
    /// holdings add up to the shares outstanding; while live, the market maker's account holds
    /// exactly subsidy + net payments and at least the most any resolution can pay, and the pool
    /// holds exactly the fees; once resolved or void, both accounts are empty.
    pub(crate) fn check(&self, ledger: &Ledger) -> Result<(), String> {
        for (i, m) in self.markets.iter().enumerate() {
            let id = MarketId(i as u32);
            let n = m.outcomes();
            let mut sums = vec![0i128; n];
            let (mut paid, mut fees) = (0i128, 0i128);
            for (u, h) in &m.holdings {
                if h.shares.len() != n || h.shares.iter().any(|s| *s < 0) {
                    return Err(format!("market {}: bad holding of user {}", m.name, u.0));
                }
                for (s, x) in sums.iter_mut().zip(&h.shares) {
                    *s += *x as i128;
                }
                paid += h.paid as i128;
                fees += h.fees as i128;
            }
            if sums.iter().zip(&m.q).any(|(s, q)| *s != *q as i128) {
                return Err(format!("market {}: holdings {sums:?} differ from shares outstanding {:?}", m.name, m.q));
            }
            if paid != m.collected as i128 || fees != m.fees as i128 {
                return Err(format!("market {}: per-trader payments do not add up", m.name));
            }
            let waiting = match m.status {
                Status::Open => Some(m.deadline),
                Status::Reporting if m.issue.is_none() && !m.window_closed => Some(m.report_deadline),
                _ => None,
            };
            if let Some(t) = waiting {
                if !self.due.contains(&(t, id.0)) {
                    return Err(format!("market {} ({}) is not scheduled for {t}", m.name, m.status.as_str()));
                }
            }
            let mm = ledger.balance(Account::MarketMaker(id)).0;
            let pool = ledger.balance(Account::ArbitrationPool(id)).0;
            match m.status {
                Status::Open | Status::Reporting => {
                    if mm as i128 != m.subsidy as i128 + m.collected as i128 {
                        return Err(format!(
                            "market {}: market maker holds {} but subsidy + payments are {}",
                            m.name,
                            Amount(mm),
                            Amount(m.subsidy.saturating_add(m.collected))
                        ));
                    }
                    let worst = m.q.iter().copied().max().unwrap_or(0);
                    if mm < worst {
                        return Err(format!(
                            "market {}: market maker holds {} but may owe {}",
                            m.name,
                            Amount(mm),
                            Amount(worst)
                        ));
                    }
                    if pool as i128 != m.fees as i128 + m.bond as i128 {
                        return Err(format!(
                            "market {}: pool {} but fees {} + bond {}",
                            m.name,
                            Amount(pool),
                            Amount(m.fees),
                            Amount(m.bond)
                        ));
                    }
                }
                Status::Resolved | Status::Void => {
                    if mm != 0 || pool != 0 {
                        return Err(format!(
                            "market {} is {} but its accounts are not empty",
                            m.name,
                            m.status.as_str()
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::exchange::testing::T;

    /// alice's market m1 (b = 10, deadline 2026-12-10); alice and bob have 100 credits each.
    fn market_m1() -> T {
        let mut t = T::new(&[("alice", "100"), ("bob", "100")]);
        t.run(json!({"at":"2026-12-01T09:00:00Z","op":"create_market","id":"m1","user":"alice","statement":"s",
            "deadline":"2026-12-10T00:00:00Z","b":"10","fee":"0.05","initial_shares":"0"}));
        t
    }

    #[test]
    fn traders_payments_or_fees_that_do_not_add_up_are_reported() {
        let mut t = market_m1();
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"trade","id":"t1","user":"bob","market":"m1","shares":"3"}));
        let ledger = t.engine.ledger.clone();
        for paid in [true, false] {
            let mut markets = t.engine.markets.clone();
            let h = markets.markets[0].holdings.values_mut().next().unwrap();
            if paid {
                h.paid += 1;
            } else {
                h.fees += 1;
            }
            assert_eq!(markets.check(&ledger).unwrap_err(), "market m1: per-trader payments do not add up");
        }
    }

    #[test]
    fn an_open_market_missing_from_the_schedule_is_reported() {
        let mut t = market_m1();
        assert_eq!(t.engine.markets.all().map(|(_, m)| m.name.as_str()).collect::<Vec<_>>(), ["m1"]);
        let mut markets = t.engine.markets.clone();
        markets.due.clear();
        assert_eq!(
            markets.check(&t.engine.ledger).unwrap_err(),
            "market m1 (open) is not scheduled for 2026-12-10T00:00:00Z"
        );
        // Past its deadline, it must be scheduled for the end of its reporting window.
        t.run(json!({"at":"2026-12-11T00:00:00Z","op":"tick"}));
        let mut markets = t.engine.markets.clone();
        markets.due.clear();
        let err = markets.check(&t.engine.ledger).unwrap_err();
        assert!(err.starts_with("market m1 (reporting) is not scheduled for"), "{err}");
    }

    #[test]
    fn a_market_maker_below_the_most_it_may_owe_breaks_the_invariants() {
        let mut t = market_m1();
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"trade","id":"t1","user":"bob","market":"m1","shares":"20"}));
        // Take from the market maker's cash all but 19 of the 20 it may owe, and make the books
        // agree (as a consistent bug would): only the bound on what it may owe is broken.
        // Exactly the 20 it may owe is enough.
        let drained_to = |left: i64| {
            let mut e = t.engine.clone();
            let id = crate::ids::MarketId(0);
            let mm = e.ledger.balance(crate::ledger::Account::MarketMaker(id));
            let drained = mm.0 - left;
            e.ledger
                .transfer(crate::ledger::Account::MarketMaker(id), crate::ledger::Account::Mint, crate::Amount(drained))
                .unwrap();
            e.markets.markets[0].subsidy -= drained;
            e.check_invariants()
        };
        let err = drained_to(19_000_000).unwrap_err();
        assert!(err.contains("may owe 20"), "{err}");
        drained_to(20_000_000).unwrap();
    }

    #[test]
    fn counts_the_markets() {
        let t = T::new(&[]);
        assert_eq!((t.engine.markets.len(), t.engine.markets.is_empty()), (0, true));
        let t = market_m1();
        assert_eq!((t.engine.markets.len(), t.engine.markets.is_empty()), (1, false));
    }

    #[test]
    fn a_holding_with_a_negative_share_or_the_wrong_outcomes_is_reported() {
        let mut t = market_m1();
        t.run(json!({"at":"2026-12-01T10:00:00Z","op":"trade","id":"t1","user":"bob","market":"m1","shares":"3"}));
        let bob = t.engine.user_id("bob").unwrap();
        for negative in [true, false] {
            let mut markets = t.engine.markets.clone();
            let h = markets.markets[0].holdings.get_mut(&bob).unwrap();
            if negative {
                h.shares[0] = -1;
            } else {
                h.shares.push(0);
            }
            let err = markets.check(&t.engine.ledger).unwrap_err();
            assert_eq!(err, format!("market m1: bad holding of user {}", bob.0));
        }
    }

    #[test]
    fn a_finished_market_with_money_left_in_either_account_is_reported() {
        use crate::ledger::Account;
        let mut t = market_m1();
        t.run(json!({"at":"2027-01-01T00:00:00Z","op":"tick"}));
        assert_eq!(t.engine.markets.markets[0].status, super::Status::Void, "no reports: void");
        let id = crate::ids::MarketId(0);
        for account in [Account::MarketMaker(id), Account::ArbitrationPool(id)] {
            let mut ledger = t.engine.ledger.clone();
            ledger.transfer(Account::Mint, account, crate::Amount(1)).unwrap();
            assert_eq!(
                t.engine.markets.check(&ledger).unwrap_err(),
                "market m1 is void but its accounts are not empty"
            );
        }
    }
}
