//! The login limiter shared by all requests of one server process (the rules are `domain::lockout`).

use crate::domain::lockout::{self, Policy};
use crate::domain::ratelimit::SlidingWindow;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// One login attempt as the limiter sees it.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// the account's email, as typed (lower case)
    pub account: String,
    /// the client's address
    pub address: String,
    /// the browser's device id when its device cookie shows it signed in to this account before
    pub device: Option<String>,
    /// whether the account has signed in from this browser or address before
    pub known: bool,
}

impl Attempt {
    fn source_key(&self) -> String {
        match &self.device {
            Some(d) => format!("{}|dev:{d}", self.account),
            None => format!("{}|ip:{}", self.account, self.address),
        }
    }
}

/// Failure times per key, oldest first, forgotten when they leave the window.
#[derive(Default)]
struct Failures {
    hits: HashMap<String, VecDeque<DateTime<Utc>>>,
}

const MAX_KEYS: usize = 100_000;

impl Failures {
    fn wait(&mut self, key: &str, now: DateTime<Utc>, p: Policy) -> Option<Duration> {
        let q = self.hits.get_mut(key)?;
        while q.front().is_some_and(|t| *t <= now - p.window) {
            q.pop_front();
        }
        lockout::wait(q.make_contiguous(), now, p)
    }

    fn record(&mut self, key: String, now: DateTime<Utc>, window: Duration) {
        if self.hits.len() >= MAX_KEYS {
            self.hits.retain(|_, q| q.back().is_some_and(|t| *t > now - window));
        }
        let q = self.hits.entry(key).or_default();
        q.push_back(now);
        // Beyond this the wait is at its maximum anyway.
        if q.len() > 64 {
            q.pop_front();
        }
    }
}

pub struct LoginLimiter {
    sources: Mutex<Failures>,
    unknown: Mutex<Failures>,
    addresses: Mutex<SlidingWindow>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            sources: Mutex::new(Failures::default()),
            unknown: Mutex::new(Failures::default()),
            addresses: Mutex::new(SlidingWindow::new(lockout::ADDRESS_FAILURES, lockout::ADDRESS_WINDOW)),
        }
    }
}

impl LoginLimiter {
    /// Whether the address has failed too often on any accounts (checked before anything is looked up).
    pub fn address_blocked(&self, address: &str, now: DateTime<Utc>) -> bool {
        self.addresses.lock().map(|mut w| w.is_blocked(address, now)).unwrap_or(true)
    }

    /// How long this attempt must wait, if at all.
    pub fn wait(&self, a: &Attempt, now: DateTime<Utc>) -> Option<Duration> {
        let own = self.sources.lock().ok().and_then(|mut f| f.wait(&a.source_key(), now, lockout::PER_SOURCE));
        let shared = if a.known {
            None
        } else {
            self.unknown.lock().ok().and_then(|mut f| f.wait(&a.account, now, lockout::UNKNOWN_SOURCES))
        };
        own.max(shared)
    }

    pub fn failed(&self, a: &Attempt, now: DateTime<Utc>) {
        if let Ok(mut f) = self.sources.lock() {
            f.record(a.source_key(), now, lockout::PER_SOURCE.window);
        }
        if !a.known {
            if let Ok(mut f) = self.unknown.lock() {
                f.record(a.account.clone(), now, lockout::UNKNOWN_SOURCES.window);
            }
        }
        if let Ok(mut w) = self.addresses.lock() {
            w.record(&a.address, now);
        }
    }

    /// A successful login clears the failures of its own source.
    pub fn succeeded(&self, a: &Attempt) {
        if let Ok(mut f) = self.sources.lock() {
            f.hits.remove(&a.source_key());
        }
    }
}
