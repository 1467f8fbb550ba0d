//! Scenarios by name, for `peerex sim <scenario>`.

use crate::scenario::Scenario;
use crate::scenarios;

/// Every registered scenario, in listing order.
pub fn all() -> Vec<Box<dyn Scenario>> {
    vec![
        Box::new(scenarios::worker_funder::WorkerFunder),
        Box::new(scenarios::random_traders::RandomTraders),
        Box::new(scenarios::arbiters::Arbiters),
        Box::new(scenarios::resource_economy::ResourceEconomy),
        Box::new(scenarios::liquidity::Liquidity),
        Box::new(scenarios::resource_market::ResourceMarket),
    ]
}

/// The names of every registered scenario.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|s| s.name()).collect()
}

/// The scenario called `name`.
pub fn find(name: &str) -> Option<Box<dyn Scenario>> {
    all().into_iter().find(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_scenarios_by_name_and_names_are_unique() {
        let names = names();
        assert!(names.contains(&"worker-funder") && names.contains(&"random-traders") && names.contains(&"arbiters"));
        assert!(names.contains(&"resource-economy"));
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert_eq!(find("worker-funder").map(|s| s.name()), Some("worker-funder"));
        assert!(find("no-such-thing").is_none());
    }
}
