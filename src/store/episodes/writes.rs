//! The statements that change an open episode: steps finished or re-timed, risk recorded, found, closed.
//! Who may and in what order is decided by the use cases in `app::cases`; each function here runs inside
//! the caller's `write_tx`.

use super::{EpisodeRow, FoundDetails, StepRow};
use crate::db::schema::{episode_steps, episodes, notifications, risk_assessments};
use crate::db::AnyConnection;
use crate::domain::code::Code;
use crate::domain::episode::Status;
use crate::domain::episode::StepStatus;
use crate::domain::recipients::Recipient;
use crate::domain::recipients::RecipientKind;
use crate::store::children::ChildRow;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// One step of an episode by key.
pub fn step(conn: &mut AnyConnection, episode: i64, key: &str) -> QueryResult<Option<StepRow>> {
    episode_steps::table
        .filter(episode_steps::episode_id.eq(episode))
        .filter(episode_steps::key.eq(key))
        .select(StepRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a step done or skipped, and counts it in the day statistics.
pub fn finish_step(
    conn: &mut AnyConnection,
    s: &StepRow,
    status: StepStatus,
    by: Option<i64>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(episode_steps::table.find(s.id))
        .set((
            episode_steps::status.eq(status.as_str()),
            episode_steps::completed_at.eq(now.naive_utc()),
            episode_steps::completed_by.eq(by),
            episode_steps::note.eq(note),
        ))
        .execute(conn)?;
    crate::store::step_stats::finished(conn, s.id, now)
}

pub fn retime_step(conn: &mut AnyConnection, step_id: i64, due: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(episode_steps::table.find(step_id)).set(episode_steps::due_at.eq(due.naive_utc())).execute(conn)?;
    Ok(())
}

pub fn touch(conn: &mut AnyConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(episodes::table.find(id)).set(episodes::updated_at.eq(now.naive_utc())).execute(conn).map(|_| ())
}

pub fn set_police_reference(conn: &mut AnyConnection, id: i64, reference: &str) -> QueryResult<()> {
    diesel::update(episodes::table.find(id)).set(episodes::police_reference.eq(reference)).execute(conn).map(|_| ())
}

/// The child of an episode, for the facts its routine's conditions need.
pub fn child_of(conn: &mut AnyConnection, e: &EpisodeRow) -> QueryResult<ChildRow> {
    crate::db::schema::children::table.find(e.child_id).select(ChildRow::as_select()).first(conn)
}

/// Whether the child has another episode than this one.
pub fn other_episodes_exist(conn: &mut AnyConnection, e: &EpisodeRow) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        episodes::table.filter(episodes::child_id.eq(e.child_id)).filter(episodes::id.ne(e.id)),
    ))
    .get_result(conn)
}

/// A risk assessment as recorded.
pub struct NewAssessment<'a> {
    pub episode_id: i64,
    pub level: &'a str,
    pub suggested_level: &'a str,
    pub indicators: &'a [String],
    pub note: &'a str,
    pub assessed_by: i64,
}

/// Stores the assessment and makes its level and indicators the episode's; returns the assessment id.
pub fn record_assessment(conn: &mut AnyConnection, a: &NewAssessment, now: DateTime<Utc>) -> QueryResult<i64> {
    let indicators = serde_json::to_string(a.indicators).unwrap_or_default();
    let id = diesel::insert_into(risk_assessments::table)
        .values((
            risk_assessments::episode_id.eq(a.episode_id),
            risk_assessments::level.eq(a.level),
            risk_assessments::suggested_level.eq(a.suggested_level),
            risk_assessments::indicators.eq(&indicators),
            risk_assessments::note.eq(a.note),
            risk_assessments::assessed_by.eq(a.assessed_by),
            risk_assessments::assessed_at.eq(now.naive_utc()),
        ))
        .returning(risk_assessments::id)
        .get_result(conn)?;
    diesel::update(episodes::table.find(a.episode_id))
        .set((
            episodes::risk_level.eq(a.level),
            episodes::risk_indicators.eq(&indicators),
            episodes::risk_assessed.eq(true),
            episodes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn mark_found(
    conn: &mut AnyConnection,
    id: i64,
    found_at: DateTime<Utc>,
    details: &FoundDetails,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(episodes::table.find(id))
        .set((
            episodes::status.eq(Status::Found.as_str()),
            episodes::found_at.eq(found_at.naive_utc()),
            episodes::found_details.eq(serde_json::to_string(details).unwrap_or_default()),
            episodes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_closed(
    conn: &mut AnyConnection,
    id: i64,
    reason: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(episodes::table.find(id))
        .set((
            episodes::status.eq(Status::Closed.as_str()),
            episodes::closed_at.eq(now.naive_utc()),
            episodes::closure_reason.eq(reason),
            episodes::closure_note.eq(note),
            episodes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_review_due(conn: &mut AnyConnection, id: i64, due: DateTime<Utc>, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(episodes::table.find(id))
        .set((episodes::review_due_at.eq(due.naive_utc()), episodes::updated_at.eq(now.naive_utc())))
        .execute(conn)
        .map(|_| ())
}

/// Everyone told of the report, police first, once per address: the recipients of found and closed.
pub fn told_before(conn: &mut AnyConnection, episode: i64) -> QueryResult<Vec<Recipient>> {
    let rows: Vec<(String, String, String)> = notifications::table
        .filter(notifications::episode_id.eq(episode))
        .filter(notifications::kind.eq_any(["case_reported", "escalation"]))
        .order(notifications::id.asc())
        .select((notifications::recipient_kind, notifications::address, notifications::language))
        .load(conn)?;
    let mut out: Vec<Recipient> = Vec::new();
    for (kind, address, language) in rows {
        if out.iter().any(|r| r.address.eq_ignore_ascii_case(&address)) {
            continue;
        }
        let kind = RecipientKind::parse(&kind).unwrap_or(RecipientKind::County);
        out.push(Recipient { kind, address, language, ack: false, step_key: "notify_found" });
    }
    out.sort_by_key(|r| r.kind != RecipientKind::Police);
    Ok(out)
}
