//! Users and their scope.

use crate::db::schema::{accommodations, municipalities, users};
use crate::db::AnyConnection;
use crate::domain::role::Role;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a user works: the codes their scope is derived from (`store::scope`). The API shows them as fields
/// of the user itself.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = users)]
pub struct Workplace {
    pub county_code: Option<String>,
    pub municipality_code: Option<String>,
    pub accommodation_id: Option<i64>,
    /// socialjour (`on_call`): the municipalities it serves, stored as a JSON list
    #[serde(serialize_with = "codes_as_list")]
    #[schema(value_type = Vec<String>)]
    pub municipality_codes: String,
}

impl Workplace {
    /// The municipalities an on-call user serves.
    pub fn codes(&self) -> Vec<String> {
        super::children::json_list(&self.municipality_codes)
    }
}

fn codes_as_list<S: serde::Serializer>(codes: &str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(super::children::json_list(codes))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    #[diesel(embed)]
    pub workplace: Workplace,
    pub security_stamp: String,
    pub active: bool,
    pub language: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
    pub oidc_subject: Option<String>,
}

impl UserRow {
    pub fn totp_enabled(&self) -> bool {
        self.totp_enabled_at.is_some() && self.totp_secret.is_some()
    }
}

/// The public shape of a user (API.md `user`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(flatten)]
    pub workplace: Workplace,
    pub active: bool,
    pub language: String,
    /// a TOTP authenticator is enrolled
    pub mfa_enabled: bool,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        UserView {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            workplace: u.workplace.clone(),
            active: u.active,
            language: u.language.clone(),
            mfa_enabled: u.totp_enabled(),
        }
    }
}

pub fn by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<UserRow>> {
    users::table.find(id).select(UserRow::as_select()).first(conn).optional()
}

pub fn by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// The names of these users, by id.
pub fn names(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<std::collections::HashMap<i64, String>> {
    Ok(users::table.filter(users::id.eq_any(ids)).select((users::id, users::name)).load(conn)?.into_iter().collect())
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<UserRow>> {
    users::table.order(users::id.asc()).select(UserRow::as_select()).load(conn)
}

/// A validated new user; the scope fields are already derived (a social worker's county, a staff
/// member's municipality and county) so that scope checks never need a join.
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub workplace: Workplace,
    pub language: String,
}

pub fn new_stamp() -> String {
    crate::auth::random_token(16)
}

pub fn insert(conn: &mut AnyConnection, u: &NewUser, now: DateTime<Utc>) -> QueryResult<UserRow> {
    let now = now.naive_utc();
    diesel::insert_into(users::table)
        .values((
            users::email.eq(&u.email),
            users::name.eq(&u.name),
            users::password_hash.eq(&u.password_hash),
            users::role.eq(u.role.as_str()),
            &u.workplace,
            users::security_stamp.eq(new_stamp()),
            users::active.eq(true),
            users::language.eq(&u.language),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result::<i64>(conn)
        .and_then(|id| users::table.find(id).select(UserRow::as_select()).first(conn))
        .inspect(|_| changed())
}

/// Resolves the scope fields a role needs; `Err((field, reason))` when one is missing or unknown.
pub fn derive_workplace(
    conn: &mut AnyConnection,
    role: Role,
    given: Workplace,
) -> QueryResult<Result<Workplace, (&'static str, &'static str)>> {
    let at = |county_code: Option<String>, municipality_code, accommodation_id| Workplace {
        county_code,
        municipality_code,
        accommodation_id,
        municipality_codes: "[]".into(),
    };
    Ok(match role {
        Role::Staff => match given.accommodation_id {
            None => Err(("accommodation_id", "required for role staff")),
            Some(id) => {
                let found: Option<(String, String)> = accommodations::table
                    .inner_join(municipalities::table)
                    .filter(accommodations::id.eq(id))
                    .select((accommodations::municipality_code, municipalities::county_code))
                    .first(conn)
                    .optional()?;
                match found {
                    Some((m, c)) => Ok(at(Some(c), Some(m), Some(id))),
                    None => Err(("accommodation_id", "no such accommodation")),
                }
            }
        },
        Role::SocialWorker => match given.municipality_code {
            None => Err(("municipality_code", "required for role social_worker")),
            Some(m) => match super::org::municipality_county(conn, &m)? {
                Some(c) => Ok(at(Some(c), Some(m), None)),
                None => Err(("municipality_code", "no such municipality")),
            },
        },
        Role::CountyOfficer => match given.county_code {
            None => Err(("county_code", "required for role county_officer")),
            Some(c) => {
                if super::org::county_exists(conn, &c)? {
                    Ok(at(Some(c), None, None))
                } else {
                    Err(("county_code", "no such county"))
                }
            }
        },
        Role::OnCall => {
            let codes = super::children::json_list(&given.municipality_codes);
            let mut county = None;
            let mut unknown = false;
            for m in &codes {
                match super::org::municipality_county(conn, m)? {
                    Some(c) => county = county.or(Some(c)),
                    None => unknown = true,
                }
            }
            match (codes.is_empty(), unknown) {
                (true, _) => Err(("municipality_codes", "required for role on_call")),
                (_, true) => Err(("municipality_codes", "no such municipality")),
                _ => Ok(Workplace {
                    county_code: county,
                    municipality_code: None,
                    accommodation_id: None,
                    municipality_codes: serde_json::to_string(&codes).unwrap_or_else(|_| "[]".into()),
                }),
            }
        }
        Role::NationalAnalyst | Role::Admin => {
            Ok(Workplace { municipality_codes: "[]".into(), ..Workplace::default() })
        }
    })
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Bumped after every committed change to a user row (`auth::cache` drops what it read before).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

pub(crate) fn changed() {
    crate::db::after_commit(|| {
        GENERATION.fetch_add(1, Ordering::SeqCst);
    });
}

/// Sets the password and ends every session of the account (a new security stamp, and the session rows).
pub fn set_password(conn: &mut AnyConnection, id: i64, hash: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    let n = diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::security_stamp.eq(new_stamp()),
            users::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    super::sessions::revoke_all(conn, id, None, now)?;
    changed();
    Ok(n)
}

/// Ends every session of the account by a new security stamp (and the session rows).
pub fn end_sessions(conn: &mut AnyConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    let n = diesel::update(users::table.find(id)).set(users::security_stamp.eq(new_stamp())).execute(conn)?;
    super::sessions::revoke_all(conn, id, None, now)?;
    changed();
    Ok(n)
}

/// A failed login on the account, shown to its owner at the next login. Not a change the request guard
/// depends on: the user cache is left alone, so a flood of failures does not empty it.
pub fn record_failed_login(conn: &mut AnyConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::failed_logins.eq(users::failed_logins + 1), users::last_failed_login_at.eq(now.naive_utc())))
        .execute(conn)
}

/// The failed logins since the last login, and when the latest was; counted from zero again.
pub fn take_failed_logins(conn: &mut AnyConnection, id: i64) -> QueryResult<(i32, Option<NaiveDateTime>)> {
    let got: (i32, Option<NaiveDateTime>) =
        users::table.find(id).select((users::failed_logins, users::last_failed_login_at)).first(conn)?;
    if got.0 > 0 {
        diesel::update(users::table.find(id))
            .set((users::failed_logins.eq(0), users::last_failed_login_at.eq(None::<NaiveDateTime>)))
            .execute(conn)?;
    }
    Ok(got)
}

pub fn by_oidc_subject(conn: &mut AnyConnection, subject: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::oidc_subject.eq(subject)).select(UserRow::as_select()).first(conn).optional()
}

pub fn bind_oidc_subject(conn: &mut AnyConnection, id: i64, subject: &str) -> QueryResult<usize> {
    let n = diesel::update(users::table.find(id)).set(users::oidc_subject.eq(subject)).execute(conn)?;
    changed();
    Ok(n)
}

pub struct UserChanges {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub language: Option<String>,
}

/// Applies changes; deactivation also ends the account's sessions immediately.
pub fn update(conn: &mut AnyConnection, id: i64, ch: &UserChanges, now: DateTime<Utc>) -> QueryResult<usize> {
    let target = users::table.find(id);
    let mut n = diesel::update(target).set(users::updated_at.eq(now.naive_utc())).execute(conn)?;
    if let Some(name) = &ch.name {
        n = diesel::update(target).set(users::name.eq(name)).execute(conn)?;
    }
    if let Some(lang) = &ch.language {
        n = diesel::update(target).set(users::language.eq(lang)).execute(conn)?;
    }
    if let Some(active) = ch.active {
        n = diesel::update(target).set(users::active.eq(active)).execute(conn)?;
        if !active {
            n = end_sessions(conn, id, now)?;
        }
    }
    changed();
    Ok(n)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}
