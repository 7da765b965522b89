//! The return conversation (återkomstsamtal) of an episode: one record, replaced by a later one.

use super::children::{json_list, utc};
use crate::db::schema::return_conversations as rc;
use crate::db::AnyConnection;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rc)]
pub struct Row {
    pub episode_id: i64,
    pub outcome: String,
    #[diesel(deserialize_as = crate::db::timestamp::OptTs)]
    pub held_at: Option<NaiveDateTime>,
    pub conducted_by: Option<String>,
    pub interpreter_used: bool,
    pub reasons: String,
    pub exploitation_indicators: String,
    pub stayed_with: Option<String>,
    pub actions: Option<String>,
    pub recorded_by: Option<i64>,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub recorded_at: NaiveDateTime,
}

/// A record to store.
pub struct New<'a> {
    pub episode_id: i64,
    pub outcome: &'a str,
    pub held_at: Option<DateTime<Utc>>,
    pub conducted_by: Option<&'a str>,
    pub interpreter_used: bool,
    pub reasons: &'a [String],
    pub exploitation_indicators: &'a [String],
    pub stayed_with: Option<&'a str>,
    pub actions: Option<&'a str>,
    pub recorded_by: i64,
}

/// API.md: CASE's `return_conversation`. County officers get outcome, who held it, interpreter, reasons and
/// dates; the exploitation signs, where and with whom the child stayed and the actions are absent for them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct View {
    pub outcome: String,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub held_at: Option<DateTime<Utc>>,
    pub conducted_by: Option<String>,
    pub interpreter_used: bool,
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploitation_indicators: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stayed_with: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub recorded_at: DateTime<Utc>,
}

impl Row {
    pub fn into_view(self, pseudonymised: bool) -> View {
        let personal = !pseudonymised;
        View {
            outcome: self.outcome,
            held_at: self.held_at.map(utc),
            conducted_by: self.conducted_by,
            interpreter_used: self.interpreter_used,
            reasons: json_list(&self.reasons),
            exploitation_indicators: personal.then(|| json_list(&self.exploitation_indicators)),
            stayed_with: self.stayed_with.filter(|_| personal),
            actions: self.actions.filter(|_| personal),
            recorded_at: utc(self.recorded_at),
        }
    }
}

/// Stores the record, replacing an earlier one (call inside `write_tx`).
pub fn put(conn: &mut AnyConnection, n: &New, now: DateTime<Utc>) -> QueryResult<()> {
    let list = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    crate::db::on_backend!(conn, |c| {
        diesel::delete(rc::table.filter(rc::episode_id.eq(n.episode_id))).execute(c)?;
        diesel::insert_into(rc::table)
            .values((
                rc::episode_id.eq(n.episode_id),
                rc::outcome.eq(n.outcome),
                rc::held_at.eq(n.held_at.map(|t| t.naive_utc())),
                rc::conducted_by.eq(n.conducted_by),
                rc::interpreter_used.eq(n.interpreter_used),
                rc::reasons.eq(list(n.reasons)),
                rc::exploitation_indicators.eq(list(n.exploitation_indicators)),
                rc::stayed_with.eq(n.stayed_with),
                rc::actions.eq(n.actions),
                rc::recorded_by.eq(Some(n.recorded_by)),
                rc::recorded_at.eq(now.naive_utc()),
            ))
            .execute(c)
    })
    .map(|_| ())
}

pub fn for_episodes(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    crate::store::load_for_ids!(conn, rc::table.select(Row::as_select()), rc::episode_id, ids)
}

/// The outcomes and reasons of the conversations of a county's episodes discovered in `[start, end)`.
pub fn outcomes(
    conn: &mut AnyConnection,
    county: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<Outcome>> {
    use crate::db::schema::episodes;
    type Row = (String, String, Option<NaiveDateTime>, Option<NaiveDateTime>);
    let rows: Vec<Row> = crate::db::on_backend!(conn, |c| rc::table
        .inner_join(episodes::table)
        .filter(episodes::county_code.eq(county))
        .filter(episodes::discovered_at.ge(start))
        .filter(episodes::discovered_at.lt(end))
        .select((rc::outcome, rc::reasons, rc::held_at, episodes::found_at))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(outcome, r, held, found)| Outcome {
            held_within_72h: outcome == "held"
                && matches!((held, found), (Some(h), Some(f)) if h - f <= chrono::Duration::hours(72)),
            outcome,
            reasons: json_list(&r),
        })
        .collect())
}

/// A conversation as the statistics count it.
pub struct Outcome {
    pub outcome: String,
    pub reasons: Vec<String>,
    /// held no later than 72 hours after the child was found (SPEC §7)
    pub held_within_72h: bool,
}
