//! One-time links to set one's own password (new accounts and resets).
//!
//! Policy: the link's token is `HMAC-SHA256(server secret, "set_password\0" + nonce)`, like acknowledgement
//! tokens: the database keeps the nonce and the token's SHA-256, so the worker can render the link when it
//! sends the mail, and a copy of the database alone cannot open one. A new link for the same account and
//! purpose ends the earlier ones; using one ends it.

use crate::auth::ack;
use crate::db::schema::credential_links;
use crate::db::AnyConnection;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

pub const SET_PASSWORD: &str = "set_password";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credential_links)]
pub struct LinkRow {
    pub id: i64,
    pub user_id: i64,
    pub purpose: String,
    pub nonce: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn token(secret: &[u8], purpose: &str, nonce: &str) -> String {
    let mut msg = purpose.as_bytes().to_vec();
    msg.push(0);
    msg.extend_from_slice(nonce.as_bytes());
    ack::b64url(&ack::hmac_sha256(secret, &msg))
}

/// A new link for `user_id`; earlier open links of the same purpose end. Returns the row (its nonce renders
/// the token).
pub fn create(
    conn: &mut AnyConnection,
    secret: &[u8],
    user_id: i64,
    purpose: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<LinkRow> {
    diesel::update(
        credential_links::table
            .filter(credential_links::user_id.eq(user_id))
            .filter(credential_links::purpose.eq(purpose))
            .filter(credential_links::used_at.is_null()),
    )
    .set(credential_links::used_at.eq(now.naive_utc()))
    .execute(conn)?;
    let nonce = crate::auth::random_token(24);
    let hash = ack::hash(&token(secret, purpose, &nonce));
    let id: i64 = diesel::insert_into(credential_links::table)
        .values((
            credential_links::user_id.eq(user_id),
            credential_links::purpose.eq(purpose),
            credential_links::nonce.eq(&nonce),
            credential_links::token_hash.eq(hash),
            credential_links::created_at.eq(now.naive_utc()),
            credential_links::expires_at.eq(expires_at.naive_utc()),
        ))
        .returning(credential_links::id)
        .get_result(conn)?;
    credential_links::table.find(id).select(LinkRow::as_select()).first(conn)
}

pub fn by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<LinkRow>> {
    credential_links::table.find(id).select(LinkRow::as_select()).first(conn).optional()
}

pub fn by_token(conn: &mut AnyConnection, token: &str) -> QueryResult<Option<LinkRow>> {
    credential_links::table
        .filter(credential_links::token_hash.eq(ack::hash(token)))
        .select(LinkRow::as_select())
        .first(conn)
        .optional()
}

/// Uses the link once; false when it was used (or ended) already.
pub fn use_once(conn: &mut AnyConnection, id: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::update(credential_links::table.find(id).filter(credential_links::used_at.is_null()))
        .set(credential_links::used_at.eq(now.naive_utc()))
        .execute(conn)?;
    Ok(n == 1)
}
