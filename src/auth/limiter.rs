//! The login limiter shared by all requests of one server process (the rules are `domain::lockout`).

use crate::domain::lockout::{self, Policy};
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
/// Beyond this many failures of one key the wait is at its longest anyway.
const KEPT: usize = 64;

impl Failures {
    fn recent(&mut self, key: &str, now: DateTime<Utc>, window: Duration) -> Option<&[DateTime<Utc>]> {
        let q = self.hits.get_mut(key)?;
        while q.front().is_some_and(|t| *t <= now - window) {
            q.pop_front();
        }
        Some(q.make_contiguous())
    }

    fn wait(&mut self, key: &str, now: DateTime<Utc>, p: Policy) -> Option<Duration> {
        lockout::wait(self.recent(key, now, p.window)?, now, p)
    }

    fn record(&mut self, key: String, now: DateTime<Utc>, window: Duration) {
        if self.hits.len() >= MAX_KEYS {
            self.hits.retain(|_, q| q.back().is_some_and(|t| *t > now - window));
        }
        let q = self.hits.entry(key).or_default();
        q.push_back(now);
        if q.len() > KEPT {
            q.pop_front();
        }
    }
}

#[derive(Default)]
pub struct LoginLimiter {
    sources: Mutex<Failures>,
    unknown: Mutex<Failures>,
    codes: Mutex<Failures>,
    addresses: Mutex<Failures>,
}

impl LoginLimiter {
    /// How long the address must wait for its failures on any accounts, if at all.
    pub fn address_wait(&self, address: &str, now: DateTime<Utc>) -> Option<Duration> {
        let mut f = self.addresses.lock().ok()?;
        lockout::address_wait(f.recent(address, now, lockout::ADDRESS_WINDOW)?, now)
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
        if let Ok(mut f) = self.addresses.lock() {
            f.record(a.address.clone(), now, lockout::ADDRESS_WINDOW);
        }
    }

    /// A successful login clears the failures of its own source.
    pub fn succeeded(&self, a: &Attempt) {
        if let Ok(mut f) = self.sources.lock() {
            f.hits.remove(&a.source_key());
        }
    }

    /// How long the account must wait before another second-factor code, if at all.
    pub fn code_wait(&self, account: &str, now: DateTime<Utc>) -> Option<Duration> {
        self.codes.lock().ok().and_then(|mut f| f.wait(account, now, lockout::PER_SOURCE))
    }

    /// A wrong second-factor code, counted for the account wherever it came from.
    pub fn code_failed(&self, account: &str, now: DateTime<Utc>) {
        if let Ok(mut f) = self.codes.lock() {
            f.record(account.to_string(), now, lockout::PER_SOURCE.window);
        }
    }
}
