//! Server-side sessions (issue #18).
//!
//! Policy:
//! - A login token names its session; the session, not the token, decides. It ends at logout, when its owner
//!   logs out everywhere, after `idle` without a request (30 minutes by default), at its absolute end (8
//!   hours by default, never more than 12, whatever the token claims), and with every session of the account
//!   when the password changes or the account is deactivated.
//! - The last request's time is written at most once a minute, so a session lives between `idle` and
//!   `idle` + 1 minute after its last request.
//! - A session is *strong* when a second factor was given at login (a TOTP code or a recovery code) or the
//!   identity provider vouched for strong authentication. A session that is not strong, of an account that
//!   needs a second factor, reaches only its own account page, the second factor's enrolment or check, and
//!   logout.

use super::role::Role;
use chrono::{DateTime, Duration, Utc};

pub const DEFAULT_IDLE_MINUTES: i64 = 30;
pub const DEFAULT_HOURS: i64 = 8;
pub const MAX_HOURS: i64 = 12;
const TOUCH_EVERY: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Revoked,
    Idle,
    Expired,
}

/// The times a session's validity depends on.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether the session still holds at `now`.
pub fn check(t: Times, now: DateTime<Utc>, idle: Duration) -> Result<(), Ended> {
    if t.revoked_at.is_some_and(|r| r <= now) {
        return Err(Ended::Revoked);
    }
    if now >= t.expires_at {
        return Err(Ended::Expired);
    }
    if now - t.last_seen_at > idle {
        return Err(Ended::Idle);
    }
    Ok(())
}

/// Whether the last request's time should be written now.
pub fn needs_touch(last_seen_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_seen_at >= TOUCH_EVERY
}

/// Whether this account must give a second factor before it reaches anything but its own account.
pub fn needs_second_factor(role: Role, totp_enabled: bool, require_mfa: bool) -> bool {
    totp_enabled || (require_mfa && role.reaches_personal_data())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_session_ends_when_revoked_idle_or_expired() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap();
        let t = Times { last_seen_at: t0, expires_at: t0 + Duration::hours(8), revoked_at: None };
        let idle = Duration::minutes(30);
        assert_eq!(check(t, t0 + Duration::minutes(30), idle), Ok(()));
        assert_eq!(check(t, t0 + Duration::minutes(31), idle), Err(Ended::Idle));
        let busy = Times { last_seen_at: t0 + Duration::hours(8), ..t };
        assert_eq!(check(busy, t0 + Duration::hours(8), idle), Err(Ended::Expired), "busy to the end");
        let gone = Times { revoked_at: Some(t0 + Duration::minutes(1)), ..t };
        assert_eq!(check(gone, t0 + Duration::minutes(2), idle), Err(Ended::Revoked));
        assert!(!needs_touch(t0, t0 + Duration::seconds(59)) && needs_touch(t0, t0 + Duration::seconds(60)));
    }

    #[test]
    fn who_needs_a_second_factor() {
        assert!(needs_second_factor(Role::Staff, false, true));
        assert!(needs_second_factor(Role::Admin, false, true));
        assert!(!needs_second_factor(Role::NationalAnalyst, false, true));
        assert!(needs_second_factor(Role::NationalAnalyst, true, true), "one who enrolled gives it");
        assert!(!needs_second_factor(Role::SocialWorker, false, false));
        assert!(needs_second_factor(Role::SocialWorker, true, false));
    }
}
