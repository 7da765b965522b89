//! The access-log review (loggkontroll): the county's entries by user, episode and period, with each
//! episode entry's reference, for the county officer.

use crate::db::schema::{access_log, episodes, users};
use crate::store::audit::LogEntry;
use crate::store::children::utc;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_user_id: Option<i64>,
    /// the acting user's name, for the reviewer to read
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// the episode reference, for entries about an episode
    pub reference: Option<String>,
}

/// What the review asks for: by user (id, or part of a name), episode reference, period, and which page.
pub struct Query<'a> {
    pub user: Option<i64>,
    pub name: Option<&'a str>,
    pub case: Option<&'a str>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub offset: i64,
    pub limit: i64,
}

/// The entries, newest first.
pub fn entries(c: &mut crate::db::AnyConnection, county: &str, f: &Query) -> QueryResult<Vec<AccessEntry>> {
    let Query { user, name, case, from, to, .. } = *f;
    use crate::domain::calendar::start_of_local_day;
    let mut q = access_log::table
        .filter(access_log::county_code.eq(county))
        .filter(access_log::at.ge(start_of_local_day(from).naive_utc()))
        .filter(access_log::at.lt(start_of_local_day(to + chrono::Duration::days(1)).naive_utc()))
        .into_boxed();
    if let Some(u) = user {
        q = q.filter(access_log::actor_user_id.eq(u));
    }
    if let Some(part) = name.map(str::to_lowercase).filter(|n| !n.trim().is_empty()) {
        // Names are few and compared as a person would (any case, any part): matched here, not in SQL,
        // where LIKE's case rules differ between SQLite and PostgreSQL.
        let all: Vec<(i64, String)> = users::table.select((users::id, users::name)).load(c)?;
        let ids: Vec<i64> =
            all.into_iter().filter(|(_, n)| n.to_lowercase().contains(part.trim())).map(|(id, _)| id).collect();
        q = q.filter(access_log::actor_user_id.eq_any(ids));
    }
    if let Some(r) = case {
        let id: Option<i64> =
            episodes::table.filter(episodes::reference.eq(r)).select(episodes::id).first(c).optional()?;
        q = q.filter(access_log::object_kind.eq("case")).filter(access_log::object_id.eq(id.unwrap_or(-1).to_string()));
    }
    let rows: Vec<LogEntry> =
        q.order(access_log::seq.desc()).offset(f.offset).limit(f.limit).select(LogEntry::as_select()).load(c)?;
    let ids: Vec<i64> = rows
        .iter()
        .filter(|e| e.object_kind.as_deref() == Some("case"))
        .filter_map(|e| e.object_id.as_deref()?.parse().ok())
        .collect();
    let refs: std::collections::HashMap<i64, String> = episodes::table
        .filter(episodes::id.eq_any(&ids))
        .select((episodes::id, episodes::reference))
        .load(c)?
        .into_iter()
        .collect();
    let actors: Vec<i64> = rows.iter().filter_map(|e| e.actor_user_id).collect();
    let names: std::collections::HashMap<i64, String> =
        users::table.filter(users::id.eq_any(&actors)).select((users::id, users::name)).load(c)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|e| AccessEntry {
            seq: e.seq,
            at: utc(e.at),
            reference: if e.object_kind.as_deref() == Some("case") {
                e.object_id.as_deref().and_then(|i| i.parse().ok()).and_then(|i: i64| refs.get(&i).cloned())
            } else {
                None
            },
            actor_name: e.actor_user_id.and_then(|u| names.get(&u).cloned()),
            actor_user_id: e.actor_user_id,
            actor_role: e.actor_role,
            action: e.action,
            object_kind: e.object_kind,
            object_id: e.object_id,
        })
        .collect())
}
