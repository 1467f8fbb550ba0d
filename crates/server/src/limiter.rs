//! Rate limiting per user and per address: a token bucket per key (refilled at `rate` per
//! second up to `burst`). Buckets idle long enough to be full are dropped now and then, so
//! the map stays small.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct Limiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(rate_per_sec: u32, burst: u32) -> Limiter {
        Limiter { rate: f64::from(rate_per_sec.max(1)), burst: f64::from(burst.max(1)), buckets: Mutex::default() }
    }

    /// Takes one token for `key`; Err(seconds to wait) when none is left.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            let full_after = self.burst / self.rate;
            buckets.retain(|_, (_, last)| now.saturating_duration_since(*last).as_secs_f64() < full_after);
        }
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn allows_a_burst_then_refills() {
        let l = Limiter::new(2, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at("ip:1", t0).is_ok());
        }
        assert_eq!(l.check_at("ip:1", t0), Err(1));
        assert!(l.check_at("ip:2", t0).is_ok(), "keys are independent");
        assert!(l.check_at("ip:1", t0 + Duration::from_millis(500)).is_ok());
        assert!(l.check_at("ip:1", t0 + Duration::from_millis(500)).is_err());
    }
}
