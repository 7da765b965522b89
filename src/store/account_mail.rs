//! Mail about accounts and the directory: set-password links, and security notices to a county mailbox, to
//! an address being replaced, or to an account's owner.
//!
//! Policy: like notifications (the transactional outbox), a message is written in the same transaction as
//! the change it tells of, and the worker sends it: claimed with a lease, retried with backoff (10 s,
//! doubling, at most 10 minutes), given up after 48 hours. `params` holds what the message says; a
//! set-password link is rendered from its nonce at send time, never stored.

use crate::db::schema::account_mail;
use crate::db::AnyConnection;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

pub const SET_PASSWORD: &str = "set_password";
pub const SECURITY_NOTICE: &str = "security_notice";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = account_mail)]
pub struct MailRow {
    pub id: i64,
    pub address: String,
    pub language: String,
    pub kind: String,
    pub params: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
}

pub fn queue(
    conn: &mut AnyConnection,
    address: &str,
    language: &str,
    kind: &str,
    params: &serde_json::Value,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let n = now.naive_utc();
    diesel::insert_into(account_mail::table)
        .values((
            account_mail::address.eq(address),
            account_mail::language.eq(language),
            account_mail::kind.eq(kind),
            account_mail::params.eq(params.to_string()),
            account_mail::created_at.eq(n),
            account_mail::next_attempt_at.eq(n),
        ))
        .returning(account_mail::id)
        .get_result(conn)
}

/// Claims up to `limit` due messages for `lease`; each row is taken only if no other worker holds it.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<MailRow>> {
    let n = now.naive_utc();
    let free = account_mail::locked_until.is_null().or(account_mail::locked_until.lt(n));
    let due: Vec<i64> = account_mail::table
        .filter(account_mail::sent_at.is_null())
        .filter(account_mail::next_attempt_at.le(n))
        .filter(free)
        .order(account_mail::id.asc())
        .limit(limit)
        .select(account_mail::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in due {
        let free = account_mail::locked_until.is_null().or(account_mail::locked_until.lt(n));
        let got = diesel::update(account_mail::table.find(id).filter(account_mail::sent_at.is_null()).filter(free))
            .set(account_mail::locked_until.eq((now + lease).naive_utc()))
            .execute(conn)?;
        if got == 1 {
            claimed.push(account_mail::table.find(id).select(MailRow::as_select()).first(conn)?);
        }
    }
    Ok(claimed)
}

pub fn mark_sent(conn: &mut AnyConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(account_mail::table.find(id))
        .set((
            account_mail::sent_at.eq(now.naive_utc()),
            account_mail::locked_until.eq(None::<NaiveDateTime>),
            account_mail::attempts.eq(account_mail::attempts + 1),
        ))
        .execute(conn)
}

/// A failed attempt: the next one after the backoff, none after 48 hours.
pub fn mark_failed(conn: &mut AnyConnection, row: &MailRow, error: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    let attempts = row.attempts + 1;
    let backoff = Duration::seconds((10_i64 << attempts.clamp(0, 16)).min(600));
    let give_up = now - super::children::utc(row.created_at) > Duration::hours(48);
    let next = if give_up { now + Duration::days(36_500) } else { now + backoff };
    let error: String = error.chars().take(500).collect();
    diesel::update(account_mail::table.find(row.id))
        .set((
            account_mail::attempts.eq(attempts),
            account_mail::next_attempt_at.eq(next.naive_utc()),
            account_mail::last_error.eq(if give_up { format!("gave up: {error}") } else { error }),
            account_mail::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// Every account message, newest first (tests and the admin's view of what was sent).
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<MailRow>> {
    account_mail::table.order(account_mail::id.desc()).select(MailRow::as_select()).load(conn)
}
