//! What happens to an open episode: steps done or skipped, risk assessed, the child found, the episode
//! closed. Each function runs inside the caller's `write_tx` and writes its timeline event, outbox rows
//! and access-log entry in that same transaction.

use super::create::{facts, instantiate_steps};
use super::{event, steps_of, EpisodeRow, FoundDetails, StepRow, TimelineActor};
use crate::app::AppError;
use crate::auth::AuthUser;
use crate::db::schema::{episode_steps, episodes, notifications, risk_assessments};
use crate::db::AnyConnection;
use crate::domain::episode::{check_close, check_found, Refusal, Status};
use crate::domain::permission::{self, Act, Relation};
use crate::domain::recipients::Recipient;
use crate::domain::risk::{self, RiskLevel};
use crate::notify::outbox;
use crate::store::audit::{self, Event};
use crate::store::children::{self, utc};
use crate::store::routines;
use crate::store::scope::Scope;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Conflict(m) => AppError::conflict("conflict", m),
            Refusal::RequiredStepsPending(keys) => {
                let mut e = AppError::conflict("required_steps_pending", "required steps are still pending");
                e.fields = Some(keys.into_iter().map(|k| (k, "pending".to_string())).collect());
                e
            }
            Refusal::Invalid(field, reason) => AppError::field(field, reason),
        }
    }
}

fn status_of(e: &EpisodeRow) -> Status {
    Status::parse(&e.status).unwrap_or(Status::Closed)
}

/// Loads an episode in the user's scope (404 otherwise).
pub fn load_for_action(conn: &mut AnyConnection, user: &AuthUser, id: i64) -> Result<EpisodeRow, AppError> {
    let scope = Scope::from(user);
    if scope.pseudonymised() {
        return Err(AppError::forbidden());
    }
    super::find(conn, &scope, id)?.ok_or_else(AppError::not_found)
}

/// `403 forbidden` unless [`permission::may`] lets this user do `act` to the episode they can see.
pub fn authorize(user: &AuthUser, e: &EpisodeRow, act: Act) -> Result<(), AppError> {
    let relation = Relation::of(user.role, user.municipality_code.as_deref(), &e.responsible_municipality_code);
    if permission::may(relation, act) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

fn step(conn: &mut AnyConnection, episode: i64, key: &str) -> Result<StepRow, AppError> {
    episode_steps::table
        .filter(episode_steps::episode_id.eq(episode))
        .filter(episode_steps::key.eq(key))
        .select(StepRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)
}

fn finish_step(
    conn: &mut AnyConnection,
    s: &StepRow,
    status: &str,
    by: Option<i64>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(episode_steps::table.find(s.id))
        .set((
            episode_steps::status.eq(status),
            episode_steps::completed_at.eq(now.naive_utc()),
            episode_steps::completed_by.eq(by),
            episode_steps::note.eq(note),
        ))
        .execute(conn)?;
    crate::store::step_stats::finished(conn, s.id, now)
}

fn touch(conn: &mut AnyConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(episodes::table.find(id)).set(episodes::updated_at.eq(now.naive_utc())).execute(conn).map(|_| ())
}

/// Completes a step. Staff complete staff steps; the social worker completes any step.
pub fn complete_step(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: i64,
    key: &str,
    note: Option<String>,
    police_reference: Option<String>,
    now: DateTime<Utc>,
) -> Result<StepRow, AppError> {
    let e = load_for_action(conn, user, id)?;
    let s = step(conn, e.id, key)?;
    authorize(user, &e, Act::CompleteStep { staff_step: s.responsible == "staff" })?;
    if status_of(&e) == Status::Closed {
        return Err(AppError::conflict("conflict", "the episode is closed"));
    }
    if s.status != "pending" {
        return Err(AppError::conflict("conflict", "the step is already done or skipped"));
    }
    if s.key == "police_report" {
        let Some(r) = police_reference.as_deref() else {
            return Err(AppError::field("police_reference", "required to complete police_report"));
        };
        diesel::update(episodes::table.find(e.id)).set(episodes::police_reference.eq(r)).execute(conn)?;
    }
    finish_step(conn, &s, "done", Some(user.id), note.as_deref(), now)?;
    touch(conn, e.id, now)?;
    event(conn, e.id, now, "step_done", &TimelineActor::from(user), json!({"key": s.key}))?;
    audit::append(
        conn,
        &user.actor(),
        &Event::new("case_step_done").on("case", e.id).county(Some(e.county_code)).detail(s.key.clone()),
        now,
    )?;
    step(conn, id, key)
}

/// Skips a step with a reason (social worker only).
pub fn skip_step(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: i64,
    key: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<StepRow, AppError> {
    let e = load_for_action(conn, user, id)?;
    let s = step(conn, e.id, key)?;
    authorize(user, &e, Act::SkipStep)?;
    if status_of(&e) == Status::Closed {
        return Err(AppError::conflict("conflict", "the episode is closed"));
    }
    if s.status != "pending" {
        return Err(AppError::conflict("conflict", "the step is already done or skipped"));
    }
    finish_step(conn, &s, "skipped", Some(user.id), Some(reason), now)?;
    touch(conn, e.id, now)?;
    event(conn, e.id, now, "step_skipped", &TimelineActor::from(user), json!({"key": s.key}))?;
    audit::append(
        conn,
        &user.actor(),
        &Event::new("case_step_skipped").on("case", e.id).county(Some(e.county_code)).detail(s.key.clone()),
        now,
    )?;
    step(conn, id, key)
}

/// Re-times pending steps after a risk change (high risk shortens deadlines) and adds steps whose
/// condition now holds.
fn apply_risk(
    conn: &mut AnyConnection,
    e: &EpisodeRow,
    level: RiskLevel,
    indicators: &[String],
) -> Result<Vec<String>, AppError> {
    let routine = routines::by_id(conn, e.routine_version_id)?.routine();
    let child =
        crate::db::schema::children::table.find(e.child_id).select(children::ChildRow::as_select()).first(conn)?;
    for s in steps_of(conn, &[e.id])?.iter().filter(|s| s.status == "pending") {
        if let Some(def) = routine.steps.iter().find(|d| d.key == s.key) {
            let anchor = if def.anchor == "found" { e.found_at.map(utc) } else { Some(utc(e.discovered_at)) };
            if let Some(anchor) = anchor {
                diesel::update(episode_steps::table.find(s.id))
                    .set(episode_steps::due_at.eq(def.due(anchor, level).naive_utc()))
                    .execute(conn)?;
            }
        }
    }
    let f = facts(level, indicators, &child);
    let mut added = Vec::new();
    if e.status == "missing" {
        added = instantiate_steps(conn, e.id, &routine, "missing", utc(e.discovered_at), &f)?;
    }
    Ok(added)
}

pub struct Assessment {
    pub level: RiskLevel,
    pub indicators: Vec<String>,
    pub note: String,
}

/// Records a social worker's risk assessment; returns the assessment id.
pub fn assess_risk(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: i64,
    a: &Assessment,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let e = load_for_action(conn, user, id)?;
    authorize(user, &e, Act::AssessRisk)?;
    if status_of(&e) == Status::Closed {
        return Err(AppError::conflict("conflict", "the episode is closed"));
    }
    let child =
        crate::db::schema::children::table.find(e.child_id).select(children::ChildRow::as_select()).first(conn)?;
    let derived = super::create::derive(conn, &child, utc(e.discovered_at))?;
    // The derived indicators are recomputed; the stored previous episodes must not count this one.
    let derived = risk::Derived {
        previous_episodes: derived.previous_episodes && episodes_before(conn, &e)?,
        previous_episode_within_90_days: derived.previous_episode_within_90_days && episodes_before(conn, &e)?,
        ..derived
    };
    let indicators = risk::combine(&a.indicators, &derived);
    let suggested = risk::suggest(&indicators, &derived);
    let aid: i64 = diesel::insert_into(risk_assessments::table)
        .values((
            risk_assessments::episode_id.eq(e.id),
            risk_assessments::level.eq(a.level.as_str()),
            risk_assessments::suggested_level.eq(suggested.as_str()),
            risk_assessments::indicators.eq(serde_json::to_string(&indicators).unwrap_or_default()),
            risk_assessments::note.eq(&a.note),
            risk_assessments::assessed_by.eq(user.id),
            risk_assessments::assessed_at.eq(now.naive_utc()),
        ))
        .returning(risk_assessments::id)
        .get_result(conn)?;
    diesel::update(episodes::table.find(e.id))
        .set((
            episodes::risk_level.eq(a.level.as_str()),
            episodes::risk_indicators.eq(serde_json::to_string(&indicators).unwrap_or_default()),
            episodes::risk_assessed.eq(true),
            episodes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let who = TimelineActor::from(user);
    event(
        conn,
        e.id,
        now,
        "risk_assessed",
        &who,
        json!({"level": a.level.as_str(), "suggested_level": suggested.as_str(), "indicators": indicators}),
    )?;
    if e.risk_level != a.level.as_str() {
        event(conn, e.id, now, "risk_changed", &who, json!({"from": e.risk_level, "to": a.level.as_str()}))?;
    }
    let step_key = if e.status == "found" { "post_return_risk_assessment" } else { "risk_assessment" };
    if let Ok(s) = step(conn, e.id, step_key) {
        if s.status == "pending" {
            finish_step(conn, &s, "done", Some(user.id), Some("risk assessment recorded"), now)?;
            event(conn, e.id, now, "step_done", &who, json!({"key": s.key}))?;
        }
    }
    let fresh = super::create::load(conn, e.id)?;
    let added = apply_risk(conn, &fresh, a.level, &indicators)?;
    for key in added {
        event(conn, e.id, now, "step_added", &who, json!({"key": key}))?;
    }
    audit::append(
        conn,
        &user.actor(),
        &Event::new("case_risk_assessed").on("case", e.id).county(Some(e.county_code)),
        now,
    )?;
    Ok(aid)
}

fn episodes_before(conn: &mut AnyConnection, e: &EpisodeRow) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        episodes::table.filter(episodes::child_id.eq(e.child_id)).filter(episodes::id.ne(e.id)),
    ))
    .get_result(conn)
}

/// Everyone told of the report, police first, once per address: the recipients of found and closed.
fn told_before(conn: &mut AnyConnection, episode: i64) -> QueryResult<Vec<Recipient>> {
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
        let kind = crate::domain::recipients::KINDS.iter().copied().find(|k| *k == kind).unwrap_or("county");
        out.push(Recipient { kind, address, language, ack: false, step_key: "notify_found" });
    }
    out.sort_by_key(|r| r.kind != "police");
    Ok(out)
}

fn notify_all(
    conn: &mut AnyConnection,
    secret: &[u8],
    e: &EpisodeRow,
    kind: &str,
    step_key: &'static str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let list = told_before(conn, e.id)?;
    for mut r in list.iter().cloned() {
        r.step_key = step_key;
        let m = outbox::Outgoing { episode_id: e.id, kind, recipient: &r, ack_window: None, escalation_of: None };
        outbox::enqueue(conn, secret, &m, now)?;
    }
    Ok(list.len())
}

pub struct Found {
    pub found_at: DateTime<Utc>,
    pub details: FoundDetails,
}

/// Records that the child is found: found-phase steps start, everyone told before is told again.
pub fn found(
    conn: &mut AnyConnection,
    user: &AuthUser,
    secret: &[u8],
    id: i64,
    f: &Found,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let e = load_for_action(conn, user, id)?;
    authorize(user, &e, Act::Found)?;
    check_found(status_of(&e), utc(e.last_seen_at), f.found_at, now)?;
    diesel::update(episodes::table.find(e.id))
        .set((
            episodes::status.eq("found"),
            episodes::found_at.eq(f.found_at.naive_utc()),
            episodes::found_details.eq(serde_json::to_string(&f.details).unwrap_or_default()),
            episodes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let who = TimelineActor::from(user);
    event(conn, e.id, now, "found", &who, json!({"found_at": f.found_at}))?;
    let routine = routines::by_id(conn, e.routine_version_id)?.routine();
    let child =
        crate::db::schema::children::table.find(e.child_id).select(children::ChildRow::as_select()).first(conn)?;
    let level = RiskLevel::parse(&e.risk_level).unwrap_or(RiskLevel::Low);
    instantiate_steps(conn, e.id, &routine, "found", f.found_at, &facts(level, &e.indicators(), &child))?;
    notify_all(conn, secret, &e, "case_found", "notify_found", now)?;
    audit::append(conn, &user.actor(), &Event::new("case_found").on("case", e.id).county(Some(e.county_code)), now)?;
    Ok(())
}

/// Closes the episode; pending steps are cancelled with the closure reason.
pub fn close(
    conn: &mut AnyConnection,
    user: &AuthUser,
    secret: &[u8],
    id: i64,
    reason: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let e = load_for_action(conn, user, id)?;
    authorize(user, &e, Act::Close)?;
    let steps = steps_of(conn, &[e.id])?;
    let pending_required: Vec<String> =
        steps.iter().filter(|s| s.status == "pending" && s.required).map(|s| s.key.clone()).collect();
    check_close(status_of(&e), reason, note, &pending_required)?;
    diesel::update(episodes::table.find(e.id))
        .set((
            episodes::status.eq("closed"),
            episodes::closed_at.eq(now.naive_utc()),
            episodes::closure_reason.eq(reason),
            episodes::closure_note.eq(note),
            episodes::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let cancelled = format!("cancelled: episode closed ({reason})");
    let mut cancelled_keys = Vec::new();
    for s in steps.iter().filter(|s| s.status == "pending") {
        finish_step(conn, s, "skipped", Some(user.id), Some(&cancelled), now)?;
        cancelled_keys.push(s.key.clone());
    }
    let who = TimelineActor::from(user);
    event(conn, e.id, now, "closed", &who, json!({"reason": reason, "cancelled_steps": cancelled_keys}))?;
    notify_all(conn, secret, &e, "case_closed", "", now)?;
    audit::append(
        conn,
        &user.actor(),
        &Event::new("case_closed").on("case", e.id).county(Some(e.county_code)).detail(reason.to_string()),
        now,
    )?;
    Ok(())
}
