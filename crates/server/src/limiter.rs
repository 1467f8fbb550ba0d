//! Rate limiting with the `governor` crate (GCRA, one keyed limiter per kind of key):
//!
//! * requests: per user (`user:NAME`) and per address (`ip:ADDR`), `rate` per second with a
//!   burst of `burst`;
//! * log-in attempts per account (the name tried, known or not): `attempts` in a burst, then one
//!   more per `lockout` (so 30 wrong passwords for one account from 30 addresses are throttled
//!   like 30 from one address).
//!
//! A refusal carries the seconds to wait (the API's 429 `Retry-After`). Memory stays bounded:
//! [`Limiter::housekeeping`] (run by the tick job) drops every key whose state is back to that of
//! a fresh key and shrinks the maps, so only keys used within their refill window are kept.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

type Keyed<C> = RateLimiter<String, DashMapStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

pub struct Limiter<C: Clock = DefaultClock> {
    requests: Keyed<C>,
    logins: Keyed<C>,
    clock: C,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl Limiter<DefaultClock> {
    /// `rate_per_sec` requests per second with bursts of `burst`, per key; `attempts` log-ins
    /// per account, then one per `lockout`.
    pub fn new(rate_per_sec: u32, burst: u32, attempts: u32, lockout: Duration) -> Limiter {
        Limiter::with_clock(rate_per_sec, burst, attempts, lockout, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limiter<C> {
    pub fn with_clock(rate_per_sec: u32, burst: u32, attempts: u32, lockout: Duration, clock: C) -> Limiter<C> {
        let requests = Quota::per_second(nonzero(rate_per_sec)).allow_burst(nonzero(burst));
        let logins = Quota::with_period(lockout.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(nonzero(attempts));
        Limiter {
            requests: RateLimiter::dashmap_with_clock(requests, clock.clone()),
            logins: RateLimiter::dashmap_with_clock(logins, clock.clone()),
            clock,
        }
    }

    /// Takes one request for `key`; Err(seconds to wait) when the key is over its rate.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.take(&self.requests, key)
    }

    /// Takes one log-in attempt for the account `name`; Err(seconds to wait) while locked out.
    pub fn check_login(&self, name: &str) -> Result<(), u64> {
        self.take(&self.logins, name)
    }

    fn take(&self, limiter: &Keyed<C>, key: &str) -> Result<(), u64> {
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Round up, at least one second (Retry-After counts whole seconds).
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Forgets keys whose limit state is back to a fresh key's, and returns the memory.
    pub fn housekeeping(&self) {
        for l in [&self.requests, &self.logins] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Keys currently remembered (requests, log-ins).
    pub fn len(&self) -> (usize, usize) {
        (self.requests.len(), self.logins.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(clock: &FakeRelativeClock) -> Limiter<FakeRelativeClock> {
        Limiter::with_clock(2, 3, 2, Duration::from_secs(60), clock.clone())
    }

    #[test]
    fn allows_a_burst_then_refills() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        for _ in 0..3 {
            assert!(l.check("ip:1").is_ok());
        }
        assert_eq!(l.check("ip:1"), Err(1));
        assert!(l.check("ip:2").is_ok(), "keys are independent");
        clock.advance(Duration::from_millis(500));
        assert!(l.check("ip:1").is_ok());
        assert!(l.check("ip:1").is_err());
    }

    #[test]
    fn log_ins_lock_an_account_for_the_lockout_window() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        assert!(l.check_login("adam").is_ok());
        assert!(l.check_login("adam").is_ok());
        assert_eq!(l.check_login("adam"), Err(60), "locked until one attempt is back");
        assert!(l.check_login("beth").is_ok(), "other accounts are not locked");
        clock.advance(Duration::from_secs(60));
        assert!(l.check_login("adam").is_ok(), "one attempt per lockout window");
        assert!(l.check_login("adam").is_err());
    }

    #[test]
    fn memory_is_returned_once_keys_are_idle() {
        let clock = FakeRelativeClock::default();
        let l = limiter(&clock);
        for i in 0..10_000 {
            let _ = l.check(&format!("ip:{i}"));
            let _ = l.check_login(&format!("user{i}"));
        }
        assert_eq!(l.len(), (10_000, 10_000));
        l.housekeeping();
        assert_eq!(l.len(), (10_000, 10_000), "keys within their refill window are kept");
        clock.advance(Duration::from_secs(2));
        l.housekeeping();
        assert_eq!(l.len().0, 0, "request keys back to full are forgotten");
        clock.advance(Duration::from_secs(120));
        l.housekeeping();
        assert!(l.is_empty(), "{:?}", l.len());
    }
}
