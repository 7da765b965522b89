//! Reporting a disappearance: one transaction that creates the episode, its steps, its timeline, its
//! outbox rows and its access-log entry — all or nothing.

use super::{event, EpisodeRow, Report, TimelineActor};
use crate::app::AppError;
use crate::auth::AuthUser;
use crate::db::schema::{counties, episode_steps, episodes, reference_counters, users};
use crate::db::{is_unique_violation, AnyConnection};
use crate::domain::calendar::{is_office_hours, local_date, to_local};
use crate::domain::recipients::{self, Directory, Situation};
use crate::domain::risk::{self, Derived, RiskLevel};
use crate::domain::routine::{Facts, Routine};
use crate::notify::outbox;
use crate::store::audit::{self, Event};
use crate::store::children::{self, age_on, eighteenth_birthday, ChildRow};
use crate::store::org;
use crate::store::routines;
use crate::store::scope::Scope;
use chrono::{DateTime, Datelike, Duration, Utc};
use diesel::prelude::*;
use serde_json::json;

pub struct NewReport {
    pub child_id: i64,
    pub discovered_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub report: Report,
    pub whereabouts_known: bool,
    pub risk_indicators: Vec<String>,
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

pub fn facts(risk: RiskLevel, indicators: &[String], child: &ChildRow) -> Facts {
    Facts {
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
            episode_steps::status.eq("pending"),
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

/// Creates the episode; the caller runs this inside `write_tx`.
pub fn create(
    conn: &mut AnyConnection,
    user: &AuthUser,
    secret: &[u8],
    input: &NewReport,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let scope = Scope::from(user);
    let child = children::find(conn, &scope, input.child_id)?
        .filter(|c| c.pseudonymised_at.is_none())
        .ok_or_else(|| AppError::field("child_id", "no such child"))?;
    let open: bool = diesel::select(diesel::dsl::exists(
        episodes::table.filter(episodes::child_id.eq(child.id)).filter(episodes::status.ne("closed")),
    ))
    .get_result(conn)?;
    if open {
        return Err(AppError::conflict("case_already_open", "this child already has an open episode"));
    }
    let accommodation = match children::current_accommodation(conn, child.id)? {
        Some(id) => org::accommodation(conn, id)?,
        None => None,
    };
    let municipality = accommodation
        .as_ref()
        .map(|a| a.municipality_code.clone())
        .unwrap_or_else(|| child.responsible_municipality_code.clone());
    let county = org::municipality_county(conn, &municipality)?.ok_or_else(AppError::internal)?;
    let letter: String = counties::table.find(&county).select(counties::letter).first(conn)?;
    let derived = derive(conn, &child, input.discovered_at)?;
    let indicators = risk::combine(&input.risk_indicators, &derived);
    let level = risk::suggest(&indicators, &derived);
    let routine_row = routines::current(conn, &county)?.ok_or_else(AppError::internal)?;
    let routine = routine_row.routine();
    let reference = next_reference(conn, &county, &letter, to_local(input.discovered_at).year())?;
    let review_due = crate::domain::deadline::IsoDuration::parse(&routine.review_period)
        .map(|d| d.add_to(input.discovered_at))
        .unwrap_or(input.discovered_at + Duration::days(91));
    let inserted = crate::db::on_backend!(conn, |c| diesel::insert_into(episodes::table)
        .values((
            episodes::reference.eq(&reference),
            episodes::county_code.eq(&county),
            episodes::municipality_code.eq(&municipality),
            episodes::responsible_municipality_code.eq(&child.responsible_municipality_code),
            episodes::accommodation_id.eq(accommodation.as_ref().map(|a| a.id)),
            episodes::child_id.eq(child.id),
            episodes::routine_version_id.eq(routine_row.id),
            episodes::status.eq("missing"),
            episodes::discovered_at.eq(input.discovered_at.naive_utc()),
            episodes::last_seen_at.eq(input.last_seen_at.naive_utc()),
            episodes::report.eq(serde_json::to_string(&input.report).unwrap_or_else(|_| "{}".into())),
            episodes::whereabouts_known.eq(input.whereabouts_known),
            episodes::risk_level.eq(level.as_str()),
            episodes::risk_indicators.eq(serde_json::to_string(&indicators).unwrap_or_else(|_| "[]".into())),
            episodes::risk_assessed.eq(false),
            episodes::reported_by.eq(user.id),
            episodes::child_age_years.eq(age_on(child.date_of_birth, local_date(input.discovered_at))),
            episodes::child_sex.eq(&child.sex),
            episodes::child_nationality.eq(&child.nationality),
            episodes::accommodation_kind.eq(accommodation.as_ref().map(|a| a.kind.clone())),
            episodes::created_at.eq(now.naive_utc()),
            episodes::updated_at.eq(now.naive_utc()),
            episodes::review_due_at.eq(review_due.naive_utc()),
        ))
        .returning(episodes::id)
        .get_result::<i64>(c));
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict("case_already_open", "this child already has an open episode"))
        }
        Err(e) => return Err(e.into()),
    };
    let who = TimelineActor::from(user);
    event(
        conn,
        id,
        now,
        "reported",
        &who,
        json!({"reference": reference, "risk_level": level.as_str(), "indicators": indicators}),
    )?;
    let f = facts(level, &indicators, &child);
    instantiate_steps(conn, id, &routine, "missing", input.discovered_at, &f)?;
    if input.report.search_actions.is_some() {
        let search: Option<i64> = episode_steps::table
            .filter(episode_steps::episode_id.eq(id))
            .filter(episode_steps::key.eq("search_and_contact"))
            .select(episode_steps::id)
            .first(conn)
            .optional()?;
        if let Some(step) = search {
            diesel::update(episode_steps::table.find(step))
                .set((
                    episode_steps::status.eq("done"),
                    episode_steps::completed_at.eq(now.naive_utc()),
                    episode_steps::completed_by.eq(user.id),
                    episode_steps::note.eq("recorded with the report"),
                ))
                .execute(conn)?;
            crate::store::step_stats::finished(conn, step, now)?;
            event(conn, id, now, "step_done", &who, json!({"key": "search_and_contact"}))?;
        }
    }
    let dir = directory(conn, &child, &county)?;
    let situation = Situation {
        office_hours: is_office_hours(now),
        high_risk: level == RiskLevel::High,
        trafficking_suspected: f.trafficking_suspected,
    };
    let (list, missing) = recipients::for_report(&dir, &situation);
    for r in &list {
        let window = routine.steps.iter().find(|s| s.key == r.step_key).and_then(|s| s.ack_window_duration());
        let m = outbox::Outgoing {
            episode_id: id,
            kind: "case_reported",
            recipient: r,
            ack_window: window,
            escalation_of: None,
        };
        outbox::enqueue(conn, secret, &m, now)?;
    }
    for kind in missing {
        event(
            conn,
            id,
            now,
            "recipient_missing",
            &TimelineActor { user_id: None, role: Some("system"), name: None },
            json!({"recipient_kind": kind}),
        )?;
    }
    audit::append(conn, &user.actor(), &Event::new("case_created").on("case", id).county(Some(county)), now)?;
    Ok(id)
}

/// The loaded episode, for the caller to render after `create`.
pub fn load(conn: &mut AnyConnection, id: i64) -> QueryResult<EpisodeRow> {
    episodes::table.find(id).select(EpisodeRow::as_select()).first(conn)
}
