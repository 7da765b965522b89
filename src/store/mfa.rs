//! The second factor's rows: the TOTP secret on the user, and recovery codes (`auth::mfa` holds the rules).

use crate::db::schema::{recovery_codes, users};
use crate::db::AnyConnection;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// The enrolled secret replaces any earlier one; the confirming code's step counts as used. (The session's
/// pending secret is cleared by the caller.)
pub fn enable(
    conn: &mut AnyConnection,
    user_id: i64,
    secret: &str,
    step: i64,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let n = diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(secret),
            users::totp_enabled_at.eq(now.naive_utc()),
            users::totp_last_step.eq(step),
        ))
        .execute(conn)?;
    super::users::changed();
    Ok(n)
}

/// A code's step was used: no code of that step or an earlier one is accepted again. Only when the step is
/// newer than the stored one, so two logins racing with the same code cannot both pass.
pub fn use_step(conn: &mut AnyConnection, user_id: i64, step: i64) -> QueryResult<bool> {
    let n = diesel::update(
        users::table.find(user_id).filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step))),
    )
    .set(users::totp_last_step.eq(step))
    .execute(conn)?;
    Ok(n == 1)
}

/// Removes the second factor and the recovery codes (the admin's reset, for a lost phone).
pub fn clear(conn: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    let n = diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(None::<String>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(conn)?;
    super::users::changed();
    Ok(n)
}

pub fn replace_recovery_codes(conn: &mut AnyConnection, user_id: i64, hashes: &[String]) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((recovery_codes::user_id.eq(user_id), recovery_codes::code_hash.eq(h)))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses the recovery code with this hash, once; false when there is no unused one.
pub fn use_recovery_code(conn: &mut AnyConnection, user_id: i64, hash: &str, now: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now.naive_utc()))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn unused_recovery_codes(conn: &mut AnyConnection, user_id: i64) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}
