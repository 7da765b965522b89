//! The one source of "now". Domain code takes `now` as a parameter; handlers read it from this clock,
//! which tests can move forward instead of sleeping.

use chrono::{DateTime, Duration, DurationRound, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, truncated to microseconds so that it survives a round trip through either database unchanged.
    pub fn now(&self) -> DateTime<Utc> {
        let t = Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
    }

    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// Moves the clock so that `now()` is (about) `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        let delta = to - Utc::now();
        self.offset_ms.store(delta.num_milliseconds(), Ordering::Relaxed);
    }
}
