//! Queueing mail about accounts and the directory, inside the use case's transaction
//! (`store::account_mail`, rendered by `notify::account`).
//!
//! Policy (separation of duties, issue #18): what gives someone access to children's data, or changes where
//! messages about children go, is told to a second party — the county mailbox of every county it concerns,
//! and for a replaced address that address itself — so no single administrator or county officer can do it
//! unseen. An account's owner is told of changes to their own second factor.

use crate::db::AnyConnection;
use crate::store::account_mail::{self, SECURITY_NOTICE, SET_PASSWORD};
use crate::store::users::UserRow;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde_json::{json, Map, Value};

/// What a security notice lists (`notify::account::FIELDS`): `account`, `role`, `scope`, `field`, `old`,
/// `new`, `by`, `at`.
pub type Fields = Map<String, Value>;

pub fn fields(pairs: &[(&str, String)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect()
}

pub fn account_label(u: &UserRow) -> String {
    format!("{} <{}>", u.name, u.email)
}

/// A security notice to one address.
pub fn notice(
    c: &mut AnyConnection,
    address: &str,
    language: &str,
    event: &str,
    f: Fields,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    queue_notice(c, address, language, event, f, false, now)
}

/// `review`: the recipient reviews the access log (a county mailbox), so the notice links to it.
fn queue_notice(
    c: &mut AnyConnection,
    address: &str,
    language: &str,
    event: &str,
    mut f: Fields,
    review: bool,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let at = crate::domain::calendar::to_local(now).format("%Y-%m-%d %H:%M").to_string();
    f.insert("at".into(), Value::String(at));
    let params = json!({"event": event, "fields": f, "review": review});
    account_mail::queue(c, address, language, SECURITY_NOTICE, &params, now)
}

/// A security notice to the mailbox of each of `counties` that has one (every county when `None`).
pub fn to_county_mailboxes(
    c: &mut AnyConnection,
    counties: Option<&[String]>,
    event: &str,
    f: Fields,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let boxes = crate::store::org::county_mailboxes(c)?;
    let mut n = 0;
    for (county, address) in boxes {
        if counties.is_none_or(|list| list.contains(&county)) {
            queue_notice(c, &address, "sv", event, f.clone(), true, now)?;
            n += 1;
        }
    }
    Ok(n)
}

/// A notice to an account's owner about their own account.
pub fn to_owner(c: &mut AnyConnection, user: &UserRow, event: &str, now: DateTime<Utc>) -> QueryResult<i64> {
    notice(c, &user.email, &user.language, event, fields(&[("account", account_label(user))]), now)
}

/// A one-time link for the account's owner to set their password: `new_account` for a new account, else a
/// reset. Valid 72 hours for a new account, 24 for a reset.
pub fn set_password_link(
    c: &mut AnyConnection,
    secret: &[u8],
    user: &UserRow,
    new_account: bool,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let hours = if new_account { 72 } else { 24 };
    let link = crate::store::links::create(
        c,
        secret,
        user.id,
        crate::store::links::SET_PASSWORD,
        now + chrono::Duration::hours(hours),
        now,
    )?;
    let params = json!({"link_id": link.id, "name": user.name, "new_account": new_account});
    account_mail::queue(c, &user.email, &user.language, SET_PASSWORD, &params, now)
}

/// The counties an account's scope concerns: its county, the counties of a socialjour's municipalities;
/// `None` for the installation-wide roles (admin, national analyst): every county.
pub fn counties_of(c: &mut AnyConnection, u: &UserRow) -> QueryResult<Option<Vec<String>>> {
    let role = crate::domain::role::Role::parse(&u.role);
    if matches!(role, Some(crate::domain::role::Role::Admin | crate::domain::role::Role::NationalAnalyst)) {
        return Ok(None);
    }
    let mut out: Vec<String> = u.workplace.county_code.iter().cloned().collect();
    for m in u.workplace.codes() {
        if let Some(county) = crate::store::org::municipality_county(c, &m)? {
            if !out.contains(&county) {
                out.push(county);
            }
        }
    }
    Ok(Some(out))
}

/// The name of an account's place of work, for a notice: the accommodation, the municipality(ies), the
/// county, or nothing for the installation-wide roles.
pub fn scope_label(c: &mut AnyConnection, u: &UserRow) -> QueryResult<String> {
    if let Some(id) = u.workplace.accommodation_id {
        if let Some(a) = crate::store::org::accommodation(c, id)? {
            return Ok(a.name);
        }
    }
    let mut names = Vec::new();
    for m in u.workplace.municipality_code.iter().cloned().chain(u.workplace.codes()) {
        if let Some(muni) = crate::store::org::municipality(c, &m)? {
            names.push(muni.name);
        }
    }
    if names.is_empty() {
        if let Some(code) = &u.workplace.county_code {
            if let Some(county) = crate::store::org::county(c, code)? {
                names.push(county.name);
            }
        }
    }
    Ok(names.join(", "))
}
