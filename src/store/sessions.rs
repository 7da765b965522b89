//! Server-side sessions (`domain::session` holds the rules).

use crate::db::schema::sessions;
use crate::db::AnyConnection;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub method: String,
    pub strong: bool,
    pub ip: Option<String>,
    pub agent: Option<String>,
    /// a TOTP secret this session is enrolling, until a code from it confirms it
    pub totp_pending: Option<String>,
}

impl SessionRow {
    pub fn times(&self) -> crate::domain::session::Times {
        use super::children::utc;
        crate::domain::session::Times {
            last_seen_at: utc(self.last_seen_at),
            expires_at: utc(self.expires_at),
            revoked_at: self.revoked_at.map(utc),
        }
    }
}

pub struct NewSession<'a> {
    pub user_id: i64,
    pub method: &'a str,
    pub strong: bool,
    pub ip: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub length: Duration,
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Bumped after every committed revocation (`auth::cache` drops what it read before).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

fn changed() {
    crate::db::after_commit(|| {
        GENERATION.fetch_add(1, Ordering::SeqCst);
    });
}

pub fn insert(conn: &mut AnyConnection, s: &NewSession<'_>, now: DateTime<Utc>) -> QueryResult<SessionRow> {
    let id = crate::auth::random_token(24);
    let n = now.naive_utc();
    // A user agent is kept short: it only helps the owner tell their sessions apart.
    let agent: Option<String> = s.agent.map(|a| a.chars().filter(|c| !c.is_control()).take(200).collect());
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&id),
            sessions::user_id.eq(s.user_id),
            sessions::created_at.eq(n),
            sessions::last_seen_at.eq(n),
            sessions::expires_at.eq((now + s.length).naive_utc()),
            sessions::method.eq(s.method),
            sessions::strong.eq(s.strong),
            sessions::ip.eq(s.ip),
            sessions::agent.eq(agent),
        ))
        .execute(conn)?;
    sessions::table.find(id).select(SessionRow::as_select()).first(conn)
}

pub fn by_id(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table.find(id).select(SessionRow::as_select()).first(conn).optional()
}

/// The sessions of a user that have not ended by `now` (idle ones are filtered by the caller's rule).
pub fn open_of(conn: &mut AnyConnection, user_id: i64, now: DateTime<Utc>) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now.naive_utc()))
        .order(sessions::created_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}

/// Records a request in the session; 0 when it has ended meanwhile.
pub fn touch(conn: &mut AnyConnection, id: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
        .set(sessions::last_seen_at.eq(now.naive_utc()))
        .execute(conn)
}

/// Keeps a secret being enrolled with the session that asked for it (no other session sees it).
pub fn set_pending(conn: &mut AnyConnection, id: &str, secret: Option<&str>) -> QueryResult<usize> {
    let n = diesel::update(sessions::table.find(id)).set(sessions::totp_pending.eq(secret)).execute(conn)?;
    changed();
    Ok(n)
}

/// A second factor was given in this session.
pub fn make_strong(conn: &mut AnyConnection, id: &str, method: &str) -> QueryResult<usize> {
    let n = diesel::update(sessions::table.find(id))
        .set((sessions::strong.eq(true), sessions::method.eq(method)))
        .execute(conn)?;
    changed();
    Ok(n)
}

/// Ends one session of `user_id` (0 when it is not theirs or already ended).
pub fn revoke(conn: &mut AnyConnection, user_id: i64, id: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now.naive_utc()))
    .execute(conn)?;
    changed();
    Ok(n)
}

/// Ends every session of `user_id`, except `keep` when given.
pub fn revoke_all(
    conn: &mut AnyConnection,
    user_id: i64,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let q = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::id.ne(keep.unwrap_or("")));
    let n = diesel::update(q).set(sessions::revoked_at.eq(now.naive_utc())).execute(conn)?;
    changed();
    Ok(n)
}

/// Whether `user_id` has logged in from `ip` within the last 30 days (an address its owner uses).
pub fn known_address(conn: &mut AnyConnection, user_id: i64, ip: &str, now: DateTime<Utc>) -> QueryResult<bool> {
    let since = (now - Duration::days(30)).naive_utc();
    diesel::select(diesel::dsl::exists(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::ip.eq(ip))
            .filter(sessions::created_at.gt(since)),
    ))
    .get_result(conn)
}

/// Forgets sessions that ended more than 30 days ago (the access log keeps the logins).
pub fn prune(conn: &mut AnyConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let before = (now - Duration::days(30)).naive_utc();
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(before))).execute(conn)
}
