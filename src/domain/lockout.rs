//! Login throttling that an attacker cannot turn against the account's owner (issue #18).
//!
//! Policy:
//! - Failures (a wrong password or a wrong second-factor code) are counted per account *and* source, where
//!   the source is the browser (its device cookie) or the client address. Five within 15 minutes are free;
//!   after that each further attempt from that source waits, 30 seconds after the fifth, doubling with each
//!   failure up to 15 minutes. Nothing is ever locked for good: the wait ends by itself.
//! - Failures on one account from sources it has never signed in from are counted together as well, so that
//!   many addresses cannot each take their five; that wait applies to unknown sources only. The owner on a
//!   browser or address where they have signed in before is never kept out by what others did.
//! - An address with 20 failures within 15 minutes, on any accounts, waits until the oldest leaves the
//!   window (API.md: at least 20 attempts a minute and 5 failures an account are allowed) — except a browser
//!   whose device cookie shows it signed in to the account before: a shared office address (NAT, a proxy)
//!   must not keep its own people out.
//! - Wrong second-factor codes are counted per account, wherever they come from: whoever guesses codes has
//!   the password already, so no browser or address is trusted for them; only they can fill that count.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// failures within the window before any wait
    pub free: usize,
    pub window: Duration,
    /// the wait after the first failure beyond the free ones; it doubles with each further failure
    pub first_wait: Duration,
    pub max_wait: Duration,
}

pub const PER_SOURCE: Policy = Policy {
    free: 5,
    window: Duration::minutes(15),
    first_wait: Duration::seconds(30),
    max_wait: Duration::minutes(15),
};

/// Failures on one account from all unknown sources together.
pub const UNKNOWN_SOURCES: Policy = PER_SOURCE;

pub const ADDRESS_FAILURES: usize = 20;
pub const ADDRESS_WINDOW: Duration = Duration::minutes(15);

/// How long the next attempt must wait after the failures `times` (oldest first), or `None` if it may go
/// ahead at `now`.
pub fn wait(times: &[DateTime<Utc>], now: DateTime<Utc>, p: Policy) -> Option<Duration> {
    let recent: Vec<DateTime<Utc>> = times.iter().copied().filter(|t| *t > now - p.window).collect();
    if recent.len() < p.free {
        return None;
    }
    let doublings = (recent.len() - p.free).min(20) as u32;
    let delay = p.first_wait.checked_mul(2_i32.saturating_pow(doublings)).unwrap_or(p.max_wait).min(p.max_wait);
    let last = *recent.last()?;
    let until = last + delay;
    (until > now).then(|| until - now)
}

/// How long an address with the failures `times` (oldest first) must wait, or `None`.
pub fn address_wait(times: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<Duration> {
    let recent: Vec<DateTime<Utc>> = times.iter().copied().filter(|t| *t > now - ADDRESS_WINDOW).collect();
    if recent.len() < ADDRESS_FAILURES {
        return None;
    }
    // Free again when enough of them have left the window.
    let freeing = recent[recent.len() - ADDRESS_FAILURES];
    let until = freeing + ADDRESS_WINDOW;
    (until > now).then(|| until - now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap()
    }

    #[test]
    fn five_are_free_then_the_wait_doubles_and_ends_by_itself() {
        let mut fails: Vec<DateTime<Utc>> = (0..4).map(|i| t0() + Duration::seconds(i)).collect();
        assert_eq!(wait(&fails, t0() + Duration::seconds(5), PER_SOURCE), None);
        fails.push(t0() + Duration::seconds(4));
        let w = wait(&fails, t0() + Duration::seconds(4), PER_SOURCE);
        assert_eq!(w, Some(Duration::seconds(30)));
        assert_eq!(wait(&fails, t0() + Duration::seconds(34), PER_SOURCE), None, "the wait ends by itself");
        fails.push(t0() + Duration::seconds(40));
        assert_eq!(wait(&fails, t0() + Duration::seconds(40), PER_SOURCE), Some(Duration::seconds(60)));
        fails.push(t0() + Duration::seconds(100));
        assert_eq!(wait(&fails, t0() + Duration::seconds(100), PER_SOURCE), Some(Duration::seconds(120)));
    }

    #[test]
    fn an_address_waits_until_its_twentieth_newest_failure_leaves_the_window() {
        let fails: Vec<DateTime<Utc>> = (0..20).map(|i| t0() + Duration::minutes(i / 2)).collect();
        assert_eq!(address_wait(&fails[..19], t0() + Duration::minutes(10),), None);
        let w = address_wait(&fails, t0() + Duration::minutes(10));
        assert_eq!(w, Some(Duration::minutes(5)), "the oldest (t0) leaves at t0 + 15 min");
        assert_eq!(address_wait(&fails, t0() + Duration::minutes(15)), None);
    }

    #[test]
    fn the_wait_is_capped_and_old_failures_leave_the_window() {
        let fails: Vec<DateTime<Utc>> = (0..40).map(|i| t0() + Duration::seconds(i)).collect();
        let w = wait(&fails, t0() + Duration::seconds(40), PER_SOURCE).unwrap_or_default();
        assert!(w <= Duration::minutes(15) && w > Duration::minutes(14), "{w}");
        assert_eq!(wait(&fails, t0() + Duration::minutes(16), PER_SOURCE), None);
    }
}
