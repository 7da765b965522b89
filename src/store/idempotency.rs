//! Idempotency keys (API.md): per user, the hash of the request body and the response it got, so a
//! retried report replays the first answer instead of creating a second episode.

use crate::db::schema::idempotency_keys;
use crate::db::AnyConnection;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// The hash of a JSON body that is equal for JSON-equal bodies (object keys are kept sorted).
pub fn body_hash(body: &serde_json::Map<String, serde_json::Value>) -> String {
    hex::encode(Sha256::digest(serde_json::Value::Object(body.clone()).to_string().as_bytes()))
}

pub struct Stored {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

pub fn lookup(conn: &mut AnyConnection, user: i64, key: &str) -> QueryResult<Option<Stored>> {
    idempotency_keys::table
        .find((user, key))
        .select((idempotency_keys::request_hash, idempotency_keys::response_status, idempotency_keys::response_body))
        .first::<(String, i32, String)>(conn)
        .optional()
        .map(|o| o.map(|(request_hash, status, body)| Stored { request_hash, status: status as u16, body }))
}

pub fn save(
    conn: &mut AnyConnection,
    user: i64,
    key: &str,
    hash: &str,
    status: u16,
    body: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::response_status.eq(i32::from(status)),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}
