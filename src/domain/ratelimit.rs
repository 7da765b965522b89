//! Login failure limiting: a sliding window of failure times per key (an account or an address).
//!
//! Policy (issue #2): 5 failures for one account or 20 from one address within 15 minutes block further
//! attempts on that key until the oldest failure leaves the window. Successful logins are not counted,
//! so an address with many legitimate users is never limited for its successes.

use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};

pub struct SlidingWindow {
    window: Duration,
    max: usize,
    hits: HashMap<String, VecDeque<DateTime<Utc>>>,
}

/// Keys kept at most; beyond this, entries whose failures have all expired are dropped first.
const MAX_KEYS: usize = 100_000;

impl SlidingWindow {
    pub fn new(max: usize, window: Duration) -> Self {
        SlidingWindow { window, max, hits: HashMap::new() }
    }

    fn prune(q: &mut VecDeque<DateTime<Utc>>, cutoff: DateTime<Utc>) {
        while q.front().is_some_and(|t| *t <= cutoff) {
            q.pop_front();
        }
    }

    /// True when `key` has reached the limit at `now`.
    pub fn is_blocked(&mut self, key: &str, now: DateTime<Utc>) -> bool {
        let cutoff = now - self.window;
        match self.hits.get_mut(key) {
            Some(q) => {
                Self::prune(q, cutoff);
                q.len() >= self.max
            }
            None => false,
        }
    }

    pub fn record(&mut self, key: &str, now: DateTime<Utc>) {
        if self.hits.len() >= MAX_KEYS {
            let cutoff = now - self.window;
            self.hits.retain(|_, q| {
                Self::prune(q, cutoff);
                !q.is_empty()
            });
        }
        self.hits.entry(key.to_string()).or_default().push_back(now);
    }

    pub fn clear(&mut self, key: &str) {
        self.hits.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn blocks_at_limit_and_releases_after_window() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let mut w = SlidingWindow::new(5, Duration::minutes(15));
        for i in 0..4 {
            assert!(!w.is_blocked("a", t0 + Duration::minutes(i)));
            w.record("a", t0 + Duration::minutes(i));
        }
        assert!(!w.is_blocked("a", t0 + Duration::minutes(5)));
        w.record("a", t0 + Duration::minutes(5));
        assert!(w.is_blocked("a", t0 + Duration::minutes(6)));
        assert!(!w.is_blocked("b", t0 + Duration::minutes(6)));
        // The first failure (t0) leaves the window at t0 + 15 min.
        assert!(w.is_blocked("a", t0 + Duration::minutes(14)));
        assert!(!w.is_blocked("a", t0 + Duration::minutes(15)));
        w.clear("a");
        assert!(!w.is_blocked("a", t0 + Duration::minutes(6)));
    }
}
