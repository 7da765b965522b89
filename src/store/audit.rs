//! The append-only, hash-chained access log (SPEC §6).
//!
//! Each entry stores the hash of the previous entry and the HMAC-SHA-256 of its own canonical content (a JSON
//! array of its fields in a fixed order, chained to the previous hash), keyed with the access-log key that is
//! kept outside the database (`SAKNAD_AUDIT_KEY`, or a file in the data directory): whoever can write the
//! database but lacks the key cannot recompute the chain after removing or changing an entry. Entries
//! written before the key was introduced (`keyed_from_seq`) keep their plain SHA-256 and are verified so. A one-row head table holds the
//! sequence and the last hash; appending updates that row first, which serialises appenders on both
//! backends (a row lock on PostgreSQL, the write lock on SQLite) so the chain never forks. Verification
//! recomputes the chain and checks that sequence numbers are contiguous and end at the head, so a changed,
//! removed, inserted, reordered or truncated entry is found.

use crate::db::schema::{access_log, audit_head};
use crate::db::AnyConnection;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// The keys of the access logs this process writes, by the log's `chain_id` (one per database; tests run
/// many databases in one process).
static KEYS: LazyLock<RwLock<HashMap<String, Arc<Vec<u8>>>>> = LazyLock::new(Default::default);

/// Loads the key of the database's access log for this process.
pub fn register_key(conn: &mut AnyConnection, key: &[u8]) -> QueryResult<()> {
    let chain: String = audit_head::table.filter(audit_head::id.eq(1)).select(audit_head::chain_id).first(conn)?;
    if let Ok(mut keys) = KEYS.write() {
        keys.insert(chain, Arc::new(key.to_vec()));
    }
    Ok(())
}

fn key_for(chain: &str) -> Option<Arc<Vec<u8>>> {
    KEYS.read().ok().and_then(|k| k.get(chain).cloned())
}

fn no_key() -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError("the access log's key is not loaded".into())
}

/// Who did something, and from where; built from the authenticated user (or a recipient or the system).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub role: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor { user_id: None, role: Some("system".into()), ip: None }
    }
}

/// One thing to log. `detail` must never hold a name, password or free text about a child.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub action: &'static str,
    pub object_kind: Option<&'static str>,
    pub object_id: Option<String>,
    pub county_code: Option<String>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(action: &'static str) -> Event {
        Event { action, ..Default::default() }
    }
    pub fn on(mut self, kind: &'static str, id: impl ToString) -> Event {
        self.object_kind = Some(kind);
        self.object_id = Some(id.to_string());
        self
    }
    pub fn county(mut self, code: Option<impl Into<String>>) -> Event {
        self.county_code = code.map(Into::into);
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Event {
        self.detail = Some(d.into());
        self
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = access_log)]
pub struct LogEntry {
    pub seq: i64,
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub county_code: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn canonical_at(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: i64,
    at: &NaiveDateTime,
    actor_user_id: Option<i64>,
    actor_role: Option<&str>,
    action: &str,
    object_kind: Option<&str>,
    object_id: Option<&str>,
    county_code: Option<&str>,
    ip: Option<&str>,
    detail: Option<&str>,
    prev_hash: &str,
    key: Option<&[u8]>,
) -> String {
    let content = serde_json::json!([
        seq,
        canonical_at(at),
        actor_user_id,
        actor_role,
        action,
        object_kind,
        object_id,
        county_code,
        ip,
        detail
    ]);
    let content = content.to_string();
    match key {
        Some(key) => {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
            mac.update(prev_hash.as_bytes());
            mac.update(b"\n");
            mac.update(content.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // Entries from before the key (`keyed_from_seq`).
        None => {
            let mut h = Sha256::new();
            h.update(prev_hash.as_bytes());
            h.update(b"\n");
            h.update(content.as_bytes());
            hex::encode(h.finalize())
        }
    }
}

fn hash_of(e: &LogEntry, key: Option<&[u8]>) -> String {
    entry_hash(
        e.seq,
        &e.at,
        e.actor_user_id,
        e.actor_role.as_deref(),
        &e.action,
        e.object_kind.as_deref(),
        e.object_id.as_deref(),
        e.county_code.as_deref(),
        e.ip.as_deref(),
        e.detail.as_deref(),
        &e.prev_hash,
        key,
    )
}

/// Appends one entry. Call inside the transaction of the change it records (`db::write_tx`).
pub fn append(conn: &mut AnyConnection, actor: &Actor, ev: &Event, now: DateTime<Utc>) -> QueryResult<i64> {
    append_many(conn, &[(actor, ev, now)])
}

/// Appends entries in order: the head is read and moved once for the whole batch; returns the sequence
/// number of the last one.
pub fn append_many(conn: &mut AnyConnection, items: &[(&Actor, &Event, DateTime<Utc>)]) -> QueryResult<i64> {
    let n = items.len() as i64;
    let (before, mut prev, chain, keyed_from): (i64, String, String, i64) = match conn {
        // SQLite has one writer and this runs inside its write transaction, so nobody can append between
        // reading the head here and writing it back below. (diesel prepares every UPDATE anew; a SELECT
        // and a REPLACE stay prepared.)
        AnyConnection::Sqlite(c) => audit_head::table
            .filter(audit_head::id.eq(1))
            .select((audit_head::seq, audit_head::last_hash, audit_head::chain_id, audit_head::keyed_from_seq))
            .first(c)?,
        // PostgreSQL: moving the head first takes its row lock, which puts concurrent appenders in order.
        AnyConnection::Postgresql(c) => {
            let (last, hash, chain, keyed_from): (i64, String, String, i64) =
                diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
                    .set(audit_head::seq.eq(audit_head::seq + n))
                    .returning((
                        audit_head::seq,
                        audit_head::last_hash,
                        audit_head::chain_id,
                        audit_head::keyed_from_seq,
                    ))
                    .get_result(c)?;
            (last - n, hash, chain, keyed_from)
        }
    };
    // Without its key nothing is logged, and so nothing the log would have recorded is done.
    let key = key_for(&chain).ok_or_else(no_key)?;
    let last_seq = before + n;
    if items.is_empty() {
        return Ok(last_seq);
    }
    let mut rows = Vec::with_capacity(items.len());
    for (i, (actor, ev, now)) in items.iter().enumerate() {
        let mut entry = LogEntry {
            seq: before + 1 + i as i64,
            at: now.naive_utc(),
            actor_user_id: actor.user_id,
            actor_role: actor.role.clone(),
            action: ev.action.to_string(),
            object_kind: ev.object_kind.map(str::to_string),
            object_id: ev.object_id.clone(),
            county_code: ev.county_code.clone(),
            ip: actor.ip.clone(),
            detail: ev.detail.clone(),
            prev_hash: prev,
            hash: String::new(),
        };
        entry.hash = hash_of(&entry, Some(&key));
        prev = entry.hash.clone();
        rows.push(entry);
    }
    match conn {
        // In-process: a multi-row insert of varying length would be parsed anew for every batch, a
        // one-row insert stays prepared.
        AnyConnection::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(access_log::table).values(row).execute(c)?;
            }
            // REPLACE writes the whole row: the chain's name and key boundary go back in unchanged.
            diesel::replace_into(audit_head::table)
                .values((
                    audit_head::id.eq(1),
                    audit_head::seq.eq(last_seq),
                    audit_head::last_hash.eq(&prev),
                    audit_head::chain_id.eq(&chain),
                    audit_head::keyed_from_seq.eq(keyed_from),
                ))
                .execute(c)?;
        }
        // One round trip for the whole batch.
        AnyConnection::Postgresql(c) => {
            diesel::insert_into(access_log::table).values(&rows).execute(c)?;
            diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
                .set(audit_head::last_hash.eq(&prev))
                .execute(c)?;
        }
    };
    Ok(last_seq)
}

/// Appends one entry in a transaction of its own (for events that change nothing else).
pub fn append_alone(conn: &mut AnyConnection, actor: &Actor, ev: &Event, now: DateTime<Utc>) -> QueryResult<i64> {
    crate::db::write_tx(conn, |c| append(c, actor, ev, now))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub entries: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Recomputes the whole chain, page by page so memory stays flat on a large log.
pub fn verify(conn: &mut AnyConnection) -> QueryResult<Verification> {
    const PAGE: i64 = 5_000;
    let (head_seq, head_hash, chain, keyed_from): (i64, String, String, i64) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::last_hash, audit_head::chain_id, audit_head::keyed_from_seq))
        .first(conn)?;
    let Some(key) = key_for(&chain) else {
        return Ok(Verification {
            ok: false,
            entries: 0,
            first_broken_seq: None,
            reason: Some("the access log's key is not loaded".into()),
        });
    };
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_string();
    let mut count = 0i64;
    let broken = |seq: i64, count: i64, reason: &str| Verification {
        ok: false,
        entries: count,
        first_broken_seq: Some(seq),
        reason: Some(reason.to_string()),
    };
    let mut after = 0i64;
    loop {
        let page: Vec<LogEntry> = access_log::table
            .filter(access_log::seq.gt(after))
            .order(access_log::seq.asc())
            .limit(PAGE)
            .select(LogEntry::as_select())
            .load(conn)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            count += 1;
            if e.seq != expected_seq {
                return Ok(broken(expected_seq, count, "an entry is missing or out of order"));
            }
            if e.prev_hash != prev {
                return Ok(broken(e.seq, count, "the entry does not follow the previous one"));
            }
            let h = hash_of(e, (e.seq >= keyed_from).then_some(key.as_slice()));
            if h != e.hash {
                return Ok(broken(e.seq, count, "the entry was changed"));
            }
            prev = h;
            expected_seq += 1;
        }
        after = page.last().map(|e| e.seq).unwrap_or(after);
    }
    if head_seq != count || head_hash != prev {
        return Ok(broken(count + 1, count, "entries at the end of the log are missing"));
    }
    Ok(Verification { ok: true, entries: count, first_broken_seq: None, reason: None })
}

/// A daily anchor of the chain's head, kept outside the database (the server log and `anchors.log` in the
/// data directory): even someone who has the key and rewrites the log cannot change what was anchored, so
/// comparing an anchor with the entry of the same number finds the rewrite (docs/operations.md).
pub struct Anchor {
    pub line: String,
}

/// The anchor line of the head as it is now: `saknad-anchor v1 DATE CHAIN SEQ HASH SIG`, where SIG is the
/// HMAC-SHA-256, with the access-log key, of everything before it.
pub fn anchor(conn: &mut AnyConnection, day: chrono::NaiveDate) -> QueryResult<Anchor> {
    let (seq, hash, chain): (i64, String, String) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::last_hash, audit_head::chain_id))
        .first(conn)?;
    let key = key_for(&chain).ok_or_else(no_key)?;
    let body = format!("saknad-anchor v1 {day} {chain} {seq} {hash}");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| no_key())?;
    mac.update(body.as_bytes());
    Ok(Anchor { line: format!("{body} {}", hex::encode(mac.finalize().into_bytes())) })
}
