//! The login limiter shared by all requests of one server process.

use crate::domain::ratelimit::SlidingWindow;
use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

pub const ACCOUNT_FAILURES: usize = 5;
pub const ADDRESS_FAILURES: usize = 20;
pub const WINDOW_MINUTES: i64 = 15;

pub struct LoginLimiter {
    accounts: Mutex<SlidingWindow>,
    addresses: Mutex<SlidingWindow>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            accounts: Mutex::new(SlidingWindow::new(ACCOUNT_FAILURES, Duration::minutes(WINDOW_MINUTES))),
            addresses: Mutex::new(SlidingWindow::new(ADDRESS_FAILURES, Duration::minutes(WINDOW_MINUTES))),
        }
    }
}

impl LoginLimiter {
    pub fn is_blocked(&self, account: &str, address: &str, now: DateTime<Utc>) -> bool {
        let acc = self.accounts.lock().map(|mut w| w.is_blocked(account, now)).unwrap_or(true);
        let addr = self.addresses.lock().map(|mut w| w.is_blocked(address, now)).unwrap_or(true);
        acc || addr
    }

    pub fn failed(&self, account: &str, address: &str, now: DateTime<Utc>) {
        if let Ok(mut w) = self.accounts.lock() {
            w.record(account, now);
        }
        if let Ok(mut w) = self.addresses.lock() {
            w.record(address, now);
        }
    }

    pub fn succeeded(&self, account: &str) {
        if let Ok(mut w) = self.accounts.lock() {
            w.clear(account);
        }
    }
}
