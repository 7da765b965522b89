//! Reporting a disappearance: one transaction that creates the episode, its steps, its timeline, its
//! outbox rows and its access-log entry — all or nothing.

use super::{EpisodeRow, Report};
use crate::db::schema::{counties, episode_steps, episodes, reference_counters, users};
use crate::db::{is_unique_violation, AnyConnection};
use crate::domain::calendar::{local_date, to_local};
use crate::domain::episode::Status;
use crate::domain::episode::StepStatus;
use crate::domain::recipients::Directory;
use crate::domain::risk::{self, Derived, RiskLevel};
use crate::domain::routine::{Facts, Routine};
use crate::store::children::{age_on, eighteenth_birthday, ChildRow};
use crate::store::org::{self, Accommodation};
use chrono::{DateTime, Datelike, Duration, Utc};
use diesel::prelude::*;

pub struct NewReport {
    pub child_id: i64,
    pub discovered_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub report: Report,
    pub whereabouts_known: bool,
    pub risk_indicators: Vec<String>,
    pub police_reference: Option<String>,
}

/// Next reference number for a county and year; the counter row is locked until the transaction ends.
fn next_reference(conn: &mut AnyConnection, county: &str, letter: &str, year: i32) -> QueryResult<String> {
    let bump = |c: &mut AnyConnection| -> QueryResult<Option<i32>> {
        diesel::update(
            reference_counters::table
                .filter(reference_counters::county_code.eq(county))
                .filter(reference_counters::year.eq(year)),
        )
        .set(reference_counters::last_seq.eq(reference_counters::last_seq + 1))
        .returning(reference_counters::last_seq)
        .get_result(c)
        .optional()
    };
    let seq = match bump(conn)? {
        Some(n) => n,
        None => {
            // First report of the year: insert under a savepoint; if another transaction won the race, bump.
            let inserted = conn.transaction(|c| {
                diesel::insert_into(reference_counters::table)
                    .values((
                        reference_counters::county_code.eq(county),
                        reference_counters::year.eq(year),
                        reference_counters::last_seq.eq(1),
                    ))
                    .execute(c)
            });
            match inserted {
                Ok(_) => 1,
                Err(e) if is_unique_violation(&e) => bump(conn)?.unwrap_or(1),
                Err(e) => return Err(e),
            }
        }
    };
    Ok(format!("{letter}-{year}-{seq:04}"))
}

/// The facts derived from the child's record at discovery.
pub fn derive(conn: &mut AnyConnection, child: &ChildRow, discovered_at: DateTime<Utc>) -> QueryResult<Derived> {
    let day = local_date(discovered_at);
    let previous: Vec<chrono::NaiveDateTime> =
        episodes::table.filter(episodes::child_id.eq(child.id)).select(episodes::discovered_at).load(conn)?;
    let cutoff = (discovered_at - Duration::days(90)).naive_utc();
    let eighteen = eighteenth_birthday(child.date_of_birth);
    Ok(Derived {
        under_15: age_on(child.date_of_birth, day) < 15,
        previous_episodes: !previous.is_empty(),
        previous_episode_within_90_days: previous.iter().any(|t| *t >= cutoff),
        turning_18_soon: eighteen > day && eighteen <= day + Duration::days(30),
    })
}

/// Whether the disappearance discovered at `at` is the child's third within 30 days.
pub fn repeated(conn: &mut AnyConnection, child: i64, at: DateTime<Utc>) -> QueryResult<bool> {
    let earlier: Vec<chrono::NaiveDateTime> =
        episodes::table.filter(episodes::child_id.eq(child)).select(episodes::discovered_at).load(conn)?;
    let earlier: Vec<DateTime<Utc>> = earlier.into_iter().map(|t| t.and_utc()).collect();
    Ok(crate::domain::routine::is_repeated(at, &earlier))
}

pub fn facts(risk: RiskLevel, indicators: &[String], child: &ChildRow, repeated_missing: bool) -> Facts {
    Facts {
        repeated_missing,
        long_term_missing: false,
        risk,
        trafficking_suspected: risk::trafficking_suspected(indicators),
        assigning_municipality_differs: child
            .assigning_municipality_code
            .as_ref()
            .is_some_and(|a| *a != child.responsible_municipality_code),
    }
}

/// Inserts the steps of `phase` whose condition holds and that the episode does not have yet.
pub fn instantiate_steps(
    conn: &mut AnyConnection,
    episode_id: i64,
    routine: &Routine,
    phase: &str,
    anchor: DateTime<Utc>,
    f: &Facts,
) -> QueryResult<Vec<String>> {
    let have: Vec<String> =
        episode_steps::table.filter(episode_steps::episode_id.eq(episode_id)).select(episode_steps::key).load(conn)?;
    let mut added = Vec::new();
    let mut rows = Vec::new();
    for (pos, s) in routine.steps.iter().enumerate() {
        if s.phase != phase || !s.applies(f) || have.contains(&s.key) {
            continue;
        }
        rows.push((
            episode_steps::episode_id.eq(episode_id),
            episode_steps::key.eq(&s.key),
            episode_steps::position.eq(pos as i32),
            episode_steps::title_sv.eq(&s.title_sv),
            episode_steps::title_en.eq(&s.title_en),
            episode_steps::responsible.eq(&s.responsible),
            episode_steps::phase.eq(&s.phase),
            episode_steps::required.eq(s.required),
            episode_steps::due_at.eq(s.due(anchor, f.risk).naive_utc()),
            episode_steps::status.eq(StepStatus::Pending.as_str()),
        ));
        added.push(s.key.clone());
    }
    // One multi-row statement: a report's steps are written while the database's write lock is held.
    // (MultiConnection has no batch insert; each backend does.)
    if !rows.is_empty() {
        match conn {
            AnyConnection::Sqlite(c) => diesel::insert_into(episode_steps::table).values(rows).execute(c)?,
            AnyConnection::Postgresql(c) => diesel::insert_into(episode_steps::table).values(rows).execute(c)?,
        };
    }
    Ok(added)
}

/// The addresses that apply to this child in this county.
pub fn directory(conn: &mut AnyConnection, child: &ChildRow, county: &str) -> QueryResult<Directory> {
    let cc = org::county_contacts(conn, county)?.unwrap_or_default();
    let mc = org::municipality_contacts(conn, &child.responsible_municipality_code)?.unwrap_or_default();
    let social_worker = match child.social_worker_id {
        Some(id) => users::table
            .find(id)
            .filter(users::active.eq(true))
            .select(users::email)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    let assigning = match &child.assigning_municipality_code {
        Some(a) if *a != child.responsible_municipality_code => {
            org::municipality_contacts(conn, a)?.and_then(|m| m.social_services_email)
        }
        _ => None,
    };
    Ok(Directory {
        police: cc.police_email,
        migrationsverket: cc.migrationsverket_email,
        trafficking_coordinator: cc.trafficking_coordinator_email,
        guardian: child.guardian_email.clone(),
        guardian_language: child.guardian_language.clone(),
        social_worker,
        social_services: mc.social_services_email,
        on_call: mc.on_call_email,
        assigning_municipality: assigning,
    })
}

/// The child's episode that is not closed, if any.
pub fn open_episode(conn: &mut AnyConnection, child_id: i64) -> QueryResult<Option<i64>> {
    episodes::table
        .filter(episodes::child_id.eq(child_id))
        .filter(episodes::status.ne(Status::Closed.as_str()))
        .select(episodes::id)
        .first(conn)
        .optional()
}

/// Whether the child has an episode that is not closed.
pub fn has_open(conn: &mut AnyConnection, child_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        episodes::table.filter(episodes::child_id.eq(child_id)).filter(episodes::status.ne(Status::Closed.as_str())),
    ))
    .get_result(conn)
}

pub fn county_letter(conn: &mut AnyConnection, county: &str) -> QueryResult<String> {
    counties::table.find(county).select(counties::letter).first(conn)
}

/// The next reference of a county's year (`AB-2026-0042`).
pub fn reference(conn: &mut AnyConnection, county: &str, letter: &str, at: DateTime<Utc>) -> QueryResult<String> {
    next_reference(conn, county, letter, to_local(at).year())
}

/// A new episode as reported; the child's age, sex, nationality and accommodation kind are kept on the
/// episode, so that the statistics never change when the child is pseudonymised later.
pub struct NewEpisode<'a> {
    pub reference: &'a str,
    pub county: &'a str,
    pub municipality: &'a str,
    pub accommodation: Option<&'a Accommodation>,
    pub child: &'a ChildRow,
    pub routine_version_id: i64,
    pub report: &'a NewReport,
    pub risk_level: RiskLevel,
    pub indicators: &'a [String],
    pub reported_by: i64,
    pub review_due: DateTime<Utc>,
}

/// Inserts the episode; a second open episode of the same child is refused by the database
/// (`Err` with a unique violation).
pub fn insert(conn: &mut AnyConnection, n: &NewEpisode, now: DateTime<Utc>) -> QueryResult<i64> {
    let input = n.report;
    crate::db::on_backend!(conn, |c| diesel::insert_into(episodes::table)
        .values((
            episodes::reference.eq(n.reference),
            episodes::county_code.eq(n.county),
            episodes::municipality_code.eq(n.municipality),
            episodes::responsible_municipality_code.eq(&n.child.responsible_municipality_code),
            episodes::accommodation_id.eq(n.accommodation.map(|a| a.id)),
            episodes::child_id.eq(n.child.id),
            episodes::routine_version_id.eq(n.routine_version_id),
            episodes::status.eq(Status::Missing.as_str()),
            episodes::discovered_at.eq(input.discovered_at.naive_utc()),
            episodes::last_seen_at.eq(input.last_seen_at.naive_utc()),
            episodes::report.eq(serde_json::to_string(&input.report).unwrap_or_else(|_| "{}".into())),
            episodes::whereabouts_known.eq(input.whereabouts_known),
            episodes::risk_level.eq(n.risk_level.as_str()),
            episodes::risk_indicators.eq(serde_json::to_string(n.indicators).unwrap_or_else(|_| "[]".into())),
            episodes::risk_assessed.eq(false),
            episodes::reported_by.eq(n.reported_by),
            episodes::child_age_years.eq(age_on(n.child.date_of_birth, local_date(input.discovered_at))),
            episodes::child_sex.eq(&n.child.sex),
            episodes::child_nationality.eq(&n.child.nationality),
            episodes::accommodation_kind.eq(n.accommodation.map(|a| a.kind.clone())),
            episodes::created_at.eq(now.naive_utc()),
            episodes::updated_at.eq(now.naive_utc()),
            episodes::review_due_at.eq(n.review_due.naive_utc()),
        ))
        .returning(episodes::id)
        .get_result::<i64>(c))
}

/// Records `search_and_contact` as done with the report, when the routine has it; true when it did.
pub fn search_done_with_report(
    conn: &mut AnyConnection,
    episode: i64,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let Some(step) = super::writes::step(conn, episode, "search_and_contact")? else { return Ok(false) };
    super::writes::finish_step(conn, &step, StepStatus::Done, Some(by), Some("recorded with the report"), now)?;
    Ok(true)
}

/// The loaded episode, for the caller to render after `create`.
pub fn load(conn: &mut AnyConnection, id: i64) -> QueryResult<EpisodeRow> {
    episodes::table.find(id).select(EpisodeRow::as_select()).first(conn)
}
