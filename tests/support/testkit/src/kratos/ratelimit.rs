//! Ory Network's per-project rate limits (reference §1): each operation belongs to a bucket
//! (its `x-ory-ratelimit-bucket` in the OpenAPI documents, e.g. `kratos-admin-high`), and
//! each bucket has a burst budget per second and a sustained budget per minute, counted here
//! in fixed windows of 1 s and 60 s from the double's start.
//!
//! Every admin answer carries the IETF-draft headers the edge sends:
//! `x-ratelimit-limit: <ps>, <ps>;w=1, <pm>;w=60`, `x-ratelimit-remaining` (the smaller of
//! the two windows' remainders) and `x-ratelimit-reset` (whole seconds until the binding
//! window starts afresh; at least 1 when nothing remains). A request over budget is not
//! counted and gets a plain-text 429 with the same headers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::RateBudget;
use crate::common::lock;

#[derive(Default, Clone, Copy)]
struct Windows {
    second: u64,
    in_second: u32,
    minute: u64,
    in_minute: u32,
}

pub(crate) struct RateLimiter {
    budget: RateBudget,
    start: Instant,
    buckets: Mutex<HashMap<String, Windows>>,
}

/// The limiter's decision for one request.
pub(crate) struct Decision {
    pub allowed: bool,
    pub headers: Vec<(String, String)>,
}

/// Whole seconds, rounded up.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl RateLimiter {
    pub fn new(budget: RateBudget) -> RateLimiter {
        RateLimiter {
            budget,
            start: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request against `bucket` if the budget allows it.
    pub fn admit(&self, bucket: &str) -> Decision {
        self.admit_at(bucket, Instant::now())
    }

    fn admit_at(&self, bucket: &str, now: Instant) -> Decision {
        let elapsed = now.saturating_duration_since(self.start);
        let second = elapsed.as_secs();
        let minute = second / 60;
        let (ps, pm) = (self.budget.per_second, self.budget.per_minute);
        let (allowed, w) = {
            let mut buckets = lock(&self.buckets);
            let w = buckets.entry(bucket.to_string()).or_default();
            if w.second != second {
                w.second = second;
                w.in_second = 0;
            }
            if w.minute != minute {
                w.minute = minute;
                w.in_minute = 0;
            }
            let allowed = w.in_second < ps && w.in_minute < pm;
            if allowed {
                w.in_second += 1;
                w.in_minute += 1;
            }
            (allowed, *w)
        };
        let left_s = ps.saturating_sub(w.in_second);
        let left_m = pm.saturating_sub(w.in_minute);
        let remaining = left_s.min(left_m);
        let reset_s = ceil_secs(Duration::from_secs(second + 1).saturating_sub(elapsed));
        let reset_m = ceil_secs(Duration::from_secs((minute + 1) * 60).saturating_sub(elapsed));
        // The binding window: the one with the least left; of two equal ones, the one that
        // takes longer to reset (a client waiting that long is sure to be let in).
        let mut reset = match left_s.cmp(&left_m) {
            std::cmp::Ordering::Less => reset_s,
            std::cmp::Ordering::Greater => reset_m,
            std::cmp::Ordering::Equal => reset_s.max(reset_m),
        };
        if remaining == 0 {
            reset = reset.max(1);
        }
        Decision {
            allowed,
            headers: vec![
                (
                    "x-ratelimit-limit".into(),
                    format!("{ps}, {ps};w=1, {pm};w=60"),
                ),
                ("x-ratelimit-remaining".into(), remaining.to_string()),
                ("x-ratelimit-reset".into(), reset.to_string()),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(d: &'a Decision, name: &str) -> &'a str {
        d.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn fixed_windows_per_bucket() {
        let l = RateLimiter::new(RateBudget {
            per_second: 2,
            per_minute: 3,
        });
        let t0 = l.start + Duration::from_millis(100);
        let a = l.admit_at("a", t0);
        assert!(a.allowed);
        assert_eq!(header(&a, "x-ratelimit-limit"), "2, 2;w=1, 3;w=60");
        assert_eq!(header(&a, "x-ratelimit-remaining"), "1");
        assert_eq!(header(&a, "x-ratelimit-reset"), "1");
        let b = l.admit_at("a", t0);
        assert!(b.allowed);
        assert_eq!(header(&b, "x-ratelimit-remaining"), "0");
        let c = l.admit_at("a", t0);
        assert!(!c.allowed, "the second's budget is spent");
        assert_eq!(header(&c, "x-ratelimit-remaining"), "0");
        assert_eq!(header(&c, "x-ratelimit-reset"), "1");
        // Another bucket has its own budget.
        assert!(l.admit_at("b", t0).allowed);
        // The next second: one left in the minute, which then binds.
        let d = l.admit_at("a", t0 + Duration::from_secs(1));
        assert!(d.allowed);
        assert_eq!(header(&d, "x-ratelimit-remaining"), "0");
        assert_eq!(header(&d, "x-ratelimit-reset"), "59");
        let e = l.admit_at("a", t0 + Duration::from_secs(2));
        assert!(!e.allowed);
        assert_eq!(header(&e, "x-ratelimit-reset"), "58");
        // A new minute starts afresh.
        assert!(l.admit_at("a", t0 + Duration::from_secs(60)).allowed);
    }
}
