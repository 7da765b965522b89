//! Versioned routine templates per county. A new version is a new row; episodes point at the row they
//! started with, so an edit never changes the deadlines of an episode already open.

use crate::db::schema::{counties, routine_versions};
use crate::db::AnyConnection;
use crate::domain::routine::{national_default, Routine};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = routine_versions)]
pub struct RoutineRow {
    pub id: i64,
    pub county_code: String,
    pub version: i32,
    pub definition: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub note: Option<String>,
}

impl RoutineRow {
    pub fn routine(&self) -> Routine {
        // Only validated routines are stored; a row that no longer parses falls back to the national default
        // rather than leaving an episode without steps.
        serde_json::from_str(&self.definition).unwrap_or_else(|e| {
            log::error!("routine version {} does not parse: {e}", self.id);
            national_default()
        })
    }
}

/// Gives every county without a routine the national default as version 1.
pub fn seed_defaults(conn: &mut AnyConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let definition = serde_json::to_string(&national_default()).unwrap_or_default();
    crate::db::write_tx(conn, |c| {
        let with: Vec<String> = routine_versions::table.select(routine_versions::county_code).distinct().load(c)?;
        let all: Vec<String> = counties::table.select(counties::code).load(c)?;
        let mut n = 0;
        for code in all.iter().filter(|c| !with.contains(c)) {
            diesel::insert_into(routine_versions::table)
                .values((
                    routine_versions::county_code.eq(code),
                    routine_versions::version.eq(1),
                    routine_versions::definition.eq(&definition),
                    routine_versions::created_at.eq(now.naive_utc()),
                    routine_versions::note.eq("national default"),
                ))
                .execute(c)?;
            n += 1;
        }
        Ok(n)
    })
}

/// A county's routine versions, newest first.
#[diesel::dsl::auto_type(no_type_alias)]
fn newest_first<'a>(county: &'a str) -> _ {
    routine_versions::table.filter(routine_versions::county_code.eq(county)).order(routine_versions::version.desc())
}

pub fn current(conn: &mut AnyConnection, county: &str) -> QueryResult<Option<RoutineRow>> {
    newest_first(county).select(RoutineRow::as_select()).first(conn).optional()
}

pub fn by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<RoutineRow> {
    routine_versions::table.find(id).select(RoutineRow::as_select()).first(conn)
}

pub fn history(conn: &mut AnyConnection, county: &str) -> QueryResult<Vec<RoutineRow>> {
    newest_first(county).select(RoutineRow::as_select()).load(conn)
}

/// Stores `routine` as the next version of the county's template (call inside `write_tx`).
pub fn insert_version(
    conn: &mut AnyConnection,
    county: &str,
    routine: &Routine,
    author: Option<i64>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> QueryResult<RoutineRow> {
    let next = current(conn, county)?.map(|r| r.version + 1).unwrap_or(1);
    let id: i64 = diesel::insert_into(routine_versions::table)
        .values((
            routine_versions::county_code.eq(county),
            routine_versions::version.eq(next),
            routine_versions::definition.eq(serde_json::to_string(routine).unwrap_or_default()),
            routine_versions::created_at.eq(now.naive_utc()),
            routine_versions::created_by.eq(author),
            routine_versions::note.eq(note),
        ))
        .returning(routine_versions::id)
        .get_result(conn)?;
    by_id(conn, id)
}
