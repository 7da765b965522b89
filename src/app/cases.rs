//! Episodes: what happens to an open one — steps done or skipped, risk assessed, the child found, the
//! episode closed, the review period extended — and reading a report as staff or a social worker gives
//! it. Each use case decides who may through `domain::permission` (after the scope inside the query) and
//! writes its timeline event, outbox rows and access-log entry in the caller's `write_tx`; the
//! statements themselves are `store::episodes::writes`.

use super::command::{de, Check, Submitted};
use super::{AppError, AppResult, Disclosed};
use crate::auth::AuthUser;
use crate::db::{is_unique_violation, write_tx};
use crate::db::{read_tx, AnyConnection};
use crate::domain::calendar::is_office_hours;
use crate::domain::episode::{check_close, check_found, Refusal, Status, StepStatus, CLOSURE_REASONS};
use crate::domain::ids::EpisodeId;
use crate::domain::permission::{self, Act, Relation};
use crate::domain::recipients::{self, Situation};
use crate::domain::risk::{self, RiskLevel};
use crate::domain::role::Role;
use crate::store::audit::{self, Event};
use crate::store::children;
use crate::store::children::utc;
use crate::store::episodes::create::{self, facts, instantiate_steps, NewReport};
use crate::store::episodes::{self, event, steps_of, writes, EpisodeRow, FoundDetails, Report, StepRow, TimelineActor};
use crate::store::org;
use crate::store::outbox;
use crate::store::routines;
use crate::store::scope::Scope;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

fn step(conn: &mut AnyConnection, episode: i64, key: &str) -> Result<StepRow, AppError> {
    writes::step(conn, episode, key)?.ok_or_else(AppError::not_found)
}

/// Free text of a report field, at most this many characters.
pub const TEXT: usize = 4000;
/// Client clocks run a little ahead; a report "now" must not be refused for that.
pub const CLOCK_SKEW_SECONDS: i64 = 5;

fn check_indicators(ck: &mut Check, key: &str, list: &mut Vec<String>) {
    ck.list(key, list, 20, 64);
    if let Some(bad) = list.iter().find(|i| !risk::is_indicator(i)) {
        ck.error(key, format!("unknown indicator: {bad}"));
    }
}

/// `POST /api/v1/cases` and the staff report form.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReportCase {
    #[serde(deserialize_with = "de::id")]
    #[schema(required = true)]
    pub child_id: Option<i64>,
    #[serde(deserialize_with = "de::time")]
    #[schema(required = true, value_type = String, format = DateTime)]
    pub discovered_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::time")]
    #[schema(required = true, value_type = String, format = DateTime)]
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_seen_place: Option<String>,
    pub last_seen_by: Option<String>,
    pub circumstances: Option<String>,
    pub clothing: Option<String>,
    pub belongings: Option<String>,
    /// Search already done; when given, the step `search_and_contact` is recorded as done.
    pub search_actions: Option<String>,
    pub possible_whereabouts: Option<String>,
    pub whereabouts_known: Option<bool>,
    /// indicator codes (API.md "Risk indicators")
    pub risk_indicators: Vec<String>,
    /// The police's reference (diarienummer, K number) when staff phoned the police before reporting here
    /// (SPEC §7): the police email quotes it and `police_report` is recorded as done.
    pub police_reference: Option<String>,
}

impl ReportCase {
    pub fn validate(&mut self, ck: &mut Check, now: DateTime<Utc>) {
        ck.required("child_id", &self.child_id);
        ck.required("discovered_at", &self.discovered_at);
        ck.required("last_seen_at", &self.last_seen_at);
        if let Some(d) = self.discovered_at {
            if d > now + Duration::seconds(CLOCK_SKEW_SECONDS) {
                ck.error("discovered_at", "may not be in the future");
            }
            if self.last_seen_at.is_some_and(|l| l > d) {
                ck.error("last_seen_at", "may not be after discovered_at");
            }
        }
        for (key, v) in [
            ("last_seen_place", &mut self.last_seen_place),
            ("last_seen_by", &mut self.last_seen_by),
            ("circumstances", &mut self.circumstances),
            ("clothing", &mut self.clothing),
            ("belongings", &mut self.belongings),
            ("search_actions", &mut self.search_actions),
            ("possible_whereabouts", &mut self.possible_whereabouts),
        ] {
            ck.text(key, v, TEXT);
        }
        check_indicators(ck, "risk_indicators", &mut self.risk_indicators);
        ck.text("police_reference", &mut self.police_reference, 64);
    }

    /// The report as the store keeps it; only after `validate` found nothing.
    fn into_new(self) -> Result<NewReport, AppError> {
        let (Some(child_id), Some(discovered_at), Some(last_seen_at)) =
            (self.child_id, self.discovered_at, self.last_seen_at)
        else {
            return Err(AppError::internal());
        };
        Ok(NewReport {
            child_id,
            discovered_at,
            last_seen_at,
            report: Report {
                last_seen_place: self.last_seen_place,
                last_seen_by: self.last_seen_by,
                circumstances: self.circumstances,
                clothing: self.clothing,
                belongings: self.belongings,
                search_actions: self.search_actions,
                possible_whereabouts: self.possible_whereabouts,
            },
            whereabouts_known: self.whereabouts_known.unwrap_or(false),
            risk_indicators: self.risk_indicators,
            police_reference: self.police_reference.filter(|r| !r.trim().is_empty()),
        })
    }
}

/// Validates a report; the adapter may add its own fields' problems (a header) before it runs.
pub fn check_report(input: Submitted<ReportCase>, now: DateTime<Utc>) -> (ReportCase, Check) {
    input.checked(|r, ck| r.validate(ck, now))
}

/// `POST …/steps/{key}/complete` and the step form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct CompleteStep {
    pub note: Option<String>,
    /// required for `police_report`
    pub police_reference: Option<String>,
}

/// `POST …/steps/{key}/skip`, `POST …/extend` and their forms: the reason is required.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct WithReason {
    #[schema(required = true)]
    pub reason: Option<String>,
}

impl WithReason {
    fn reason(input: Submitted<WithReason>) -> AppResult<String> {
        let r = input.valid(|r, ck| ck.req_text("reason", &mut r.reason, TEXT))?;
        r.reason.ok_or_else(AppError::internal)
    }
}

/// `POST …/risk-assessments` and the risk form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct AssessRisk {
    /// none, low, medium or high
    #[schema(required = true)]
    pub level: Option<RiskLevel>,
    pub indicators: Vec<String>,
    /// the reason for the level (required)
    #[schema(required = true)]
    pub note: Option<String>,
}

/// `POST …/found` and the found form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct RecordFound {
    /// defaults to now
    #[serde(deserialize_with = "de::time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub found_at: Option<DateTime<Utc>>,
    pub found_place: Option<String>,
    pub found_by: Option<String>,
    pub condition: Option<String>,
}

/// `POST …/return-conversation` (API.md second edition) and its form.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct RecordReturnConversation {
    /// held, declined or not_reached
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// required when held; not in the future
    #[serde(deserialize_with = "de::time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub held_at: Option<DateTime<Utc>>,
    /// social_worker, independent, accommodation_staff or other
    pub conducted_by: Option<String>,
    pub interpreter_used: Option<bool>,
    /// from fear_of_deportation, asylum_decision, turning_18, friends_or_family, placement_conditions,
    /// exploited, wants_to_leave_sweden, other
    pub reasons: Vec<String>,
    /// from the risk indicator list
    pub exploitation_indicators: Vec<String>,
    pub stayed_with: Option<String>,
    pub actions: Option<String>,
}

pub use crate::domain::episode::{CONDUCTED_BY, LEAVING_REASONS, RETURN_CONVERSATION_DAYS, RETURN_OUTCOMES};

/// `POST …/additions`: one thing learnt after the report.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct AddToReport {
    /// last_seen, clothing, belongings, circumstances, possible_whereabouts, search_actions or other
    #[schema(required = true)]
    pub field: Option<String>,
    #[schema(required = true)]
    pub text: Option<String>,
}

/// What an addition may be about: the report's free-text parts, or anything else.
pub const ADDITION_FIELDS: [&str; 7] =
    ["last_seen", "clothing", "belongings", "circumstances", "possible_whereabouts", "search_actions", "other"];

/// `POST …/close` and the closing form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, serde::Serialize)]
#[serde(default)]
pub struct CloseCase {
    /// returned, turned_18, left_sweden, transferred, review_period_ended, deceased or withdrawn
    #[schema(required = true)]
    pub reason: Option<String>,
    /// required for withdrawn
    pub note: Option<String>,
}

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
    e.status
}

/// The episodes in the reader's scope with the given status; county officers get the pseudonymised form.
pub fn list(
    c: &mut AnyConnection,
    user: &AuthUser,
    status: episodes::StatusFilter,
    now: DateTime<Utc>,
) -> AppResult<Disclosed<Vec<episodes::CaseView>>> {
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall, Role::CountyOfficer])?;
    read_tx(c, |c| {
        let scope = Scope::from(user);
        let rows = episodes::list(c, &scope, status)?;
        let value = episodes::views(c, &rows, &scope, &user.language, now, false)?;
        let entry = Event::new("case_list")
            .county(user.workplace.county_code.clone())
            .detail(format!("{} episodes", value.len()));
        let records = rows
            .iter()
            .map(|r| Event::new("case_listed").on("case", r.id).county(Some(r.county_code.clone())))
            .collect();
        Ok(Disclosed { value, entry, records })
    })
}

/// Loads an episode in the user's scope (404 otherwise).
pub fn load_for_action(conn: &mut AnyConnection, user: &AuthUser, EpisodeId(id): EpisodeId) -> AppResult<EpisodeRow> {
    let scope = Scope::from(user);
    if scope.pseudonymised() {
        return Err(AppError::forbidden());
    }
    episodes::find(conn, &scope, id)?.ok_or_else(AppError::not_found)
}

/// `403 forbidden` unless [`permission::may`] lets this user do `act` to the episode they can see.
pub fn authorize(user: &AuthUser, e: &EpisodeRow, act: Act) -> Result<(), AppError> {
    let relation = Relation::of(
        user.role,
        user.workplace.municipality_code.as_deref(),
        &user.workplace.codes(),
        &e.responsible_municipality_code,
    );
    if permission::may(relation, act) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}
/// Completes a step. Staff complete staff steps; the social worker completes any step.
pub fn complete_step(
    conn: &mut AnyConnection,
    user: &AuthUser,
    EpisodeId(id): EpisodeId,
    key: &str,
    input: Submitted<CompleteStep>,
    now: DateTime<Utc>,
) -> Result<StepRow, AppError> {
    let CompleteStep { note, police_reference } = input.valid(|s, ck| {
        ck.text("note", &mut s.note, TEXT);
        ck.text("police_reference", &mut s.police_reference, 64);
    })?;
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, EpisodeId(id))?;
        let s = step(conn, e.id, key)?;
        authorize(user, &e, Act::CompleteStep { staff_step: s.responsible == "staff" })?;
        if status_of(&e) == Status::Closed {
            return Err(AppError::conflict("conflict", "the episode is closed"));
        }
        if s.status != StepStatus::Pending {
            return Err(AppError::conflict("conflict", "the step is already done or skipped"));
        }
        if s.key == "police_report" {
            let Some(r) = police_reference.as_deref() else {
                return Err(AppError::field("police_reference", "required to complete police_report"));
            };
            writes::set_police_reference(conn, e.id, r)?;
        }
        finish(conn, user, &e, &s, StepStatus::Done, note.as_deref(), now)
    })
}

/// Skips a step with a reason (social worker only).
pub fn skip_step(
    conn: &mut AnyConnection,
    user: &AuthUser,
    EpisodeId(id): EpisodeId,
    key: &str,
    input: Submitted<WithReason>,
    now: DateTime<Utc>,
) -> Result<StepRow, AppError> {
    let reason = WithReason::reason(input)?;
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, EpisodeId(id))?;
        let s = step(conn, e.id, key)?;
        authorize(user, &e, Act::SkipStep)?;
        if status_of(&e) == Status::Closed {
            return Err(AppError::conflict("conflict", "the episode is closed"));
        }
        if s.status != StepStatus::Pending {
            return Err(AppError::conflict("conflict", "the step is already done or skipped"));
        }
        finish(conn, user, &e, &s, StepStatus::Skipped, Some(&reason), now)
    })
}

/// A step done or skipped by a person: the step, the episode's change time, the timeline event and the
/// access-log entry together; answers the step as it now is.
fn finish(
    conn: &mut AnyConnection,
    user: &AuthUser,
    e: &EpisodeRow,
    s: &StepRow,
    status: StepStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<StepRow, AppError> {
    writes::finish_step(conn, s, status, Some(user.id), note, now)?;
    writes::touch(conn, e.id, now)?;
    let (kind, action) = if status == StepStatus::Done {
        ("step_done", "case_step_done")
    } else {
        ("step_skipped", "case_step_skipped")
    };
    event(conn, e.id, now, kind, &TimelineActor::from(user), json!({"key": s.key}))?;
    let entry = Event::new(action).on("case", e.id).county(Some(e.county_code.clone())).detail(s.key.clone());
    audit::append(conn, &user.actor(), &entry, now)?;
    step(conn, e.id, &s.key)
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
    let child = writes::child_of(conn, e)?;
    for s in steps_of(conn, &[e.id])?.iter().filter(|s| s.status == StepStatus::Pending) {
        if let Some(def) = routine.steps.iter().find(|d| d.key == s.key) {
            let anchor = if def.anchor == "found" { e.found_at.map(utc) } else { Some(utc(e.discovered_at)) };
            if let Some(anchor) = anchor {
                writes::retime_step(conn, s.id, def.due(anchor, level))?;
            }
        }
    }
    let repeated = create::repeated(conn, child.id, utc(e.discovered_at))?;
    let f = facts(level, indicators, &child, repeated);
    let mut added = Vec::new();
    if e.status == Status::Missing {
        added = instantiate_steps(conn, e.id, &routine, "missing", utc(e.discovered_at), &f)?;
    }
    Ok(added)
}

/// Records a social worker's risk assessment; returns the assessment id.
pub fn assess_risk(
    conn: &mut AnyConnection,
    user: &AuthUser,
    secret: &[u8],
    EpisodeId(id): EpisodeId,
    input: Submitted<AssessRisk>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut a = input.valid(|a, ck| {
        ck.required("level", &a.level);
        check_indicators(ck, "indicators", &mut a.indicators);
        ck.req_text("note", &mut a.note, TEXT);
    })?;
    let (Some(level), Some(note)) = (a.level, a.note.take()) else { return Err(AppError::internal()) };
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, EpisodeId(id))?;
        authorize(user, &e, Act::AssessRisk)?;
        if status_of(&e) == Status::Closed {
            return Err(AppError::conflict("conflict", "the episode is closed"));
        }
        let child = writes::child_of(conn, &e)?;
        let derived = create::derive(conn, &child, utc(e.discovered_at))?;
        // The derived indicators are recomputed; the stored previous episodes must not count this one.
        let derived = risk::Derived {
            previous_episodes: derived.previous_episodes && writes::other_episodes_exist(conn, &e)?,
            previous_episode_within_90_days: derived.previous_episode_within_90_days
                && writes::other_episodes_exist(conn, &e)?,
            ..derived
        };
        let indicators = risk::combine(&a.indicators, &derived);
        let suggested = risk::suggest(&indicators, &derived);
        let new = writes::NewAssessment {
            episode_id: e.id,
            level: level.as_str(),
            suggested_level: suggested.as_str(),
            indicators: &indicators,
            note: &note,
            assessed_by: user.id,
        };
        let aid = writes::record_assessment(conn, &new, now)?;
        let who = TimelineActor::from(user);
        event(
            conn,
            e.id,
            now,
            "risk_assessed",
            &who,
            json!({"level": level.as_str(), "suggested_level": suggested.as_str(), "indicators": indicators}),
        )?;
        if e.risk_level != level.as_str() {
            event(conn, e.id, now, "risk_changed", &who, json!({"from": e.risk_level, "to": level.as_str()}))?;
        }
        let step_key = if e.status == Status::Found { "post_return_risk_assessment" } else { "risk_assessment" };
        if let Some(s) = writes::step(conn, e.id, step_key)? {
            if s.status == StepStatus::Pending {
                writes::finish_step(conn, &s, StepStatus::Done, Some(user.id), Some("risk assessment recorded"), now)?;
                event(conn, e.id, now, "step_done", &who, json!({"key": s.key}))?;
            }
        }
        let fresh = create::load(conn, e.id)?;
        let added = apply_risk(conn, &fresh, level, &indicators)?;
        for key in added {
            event(conn, e.id, now, "step_added", &who, json!({"key": key}))?;
        }
        // A trafficking indicator found at the assessment brings in the coordinator, once.
        if risk::trafficking_suspected(&indicators) && fresh.status != Status::Closed {
            let told = writes::told_before(conn, e.id)?;
            if !told.iter().any(|r| r.kind == recipients::RecipientKind::TraffickingCoordinator) {
                let child = writes::child_of(conn, &fresh)?;
                let dir = create::directory(conn, &child, &e.county_code)?;
                let situation = Situation { office_hours: true, high_risk: false, trafficking_suspected: true };
                let (list, _) = recipients::for_report(&dir, &situation);
                for r in list.iter().filter(|r| r.kind == recipients::RecipientKind::TraffickingCoordinator) {
                    let m = outbox::Outgoing {
                        episode_id: e.id,
                        kind: "case_reported",
                        recipient: r,
                        ack_window: None,
                        escalation_of: None,
                    };
                    outbox::enqueue(conn, secret, &m, now)?;
                }
            }
        }
        audit::append(
            conn,
            &user.actor(),
            &Event::new("case_risk_assessed").on("case", e.id).county(Some(e.county_code)),
            now,
        )?;
        Ok(aid)
    })
}
fn notify_all(
    conn: &mut AnyConnection,
    secret: &[u8],
    e: &EpisodeRow,
    kind: &str,
    step_key: &'static str,
    now: DateTime<Utc>,
) -> diesel::QueryResult<usize> {
    let list = writes::told_before(conn, e.id)?;
    for mut r in list.iter().cloned() {
        r.step_key = step_key;
        let m = outbox::Outgoing { episode_id: e.id, kind, recipient: &r, ack_window: None, escalation_of: None };
        outbox::enqueue(conn, secret, &m, now)?;
    }
    Ok(list.len())
}

/// The note on `police_report` when the reference came with the report.
pub const PHONED_NOTE: &str = "the police were phoned; reference given with the report";

/// The note on a missing-phase step that stopped because the child was found.
pub const FOUND_NOTE: &str = "the child was found";

/// Records that the child is found: the missing phase's pending steps stop (skipped, noted), found-phase
/// steps start, everyone told before is told again.
pub fn found(
    conn: &mut AnyConnection,
    user: &AuthUser,
    secret: &[u8],
    EpisodeId(id): EpisodeId,
    input: Submitted<RecordFound>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let f = input.valid(|f, ck| {
        ck.text("found_place", &mut f.found_place, TEXT);
        ck.text("found_by", &mut f.found_by, TEXT);
        ck.text("condition", &mut f.condition, TEXT);
    })?;
    // Within the clock-skew allowance a "now" from the client counts as now.
    let found_at = match f.found_at {
        None => now,
        Some(t) if t > now && t <= now + Duration::seconds(CLOCK_SKEW_SECONDS) => now,
        Some(t) => t,
    };
    let details = FoundDetails { found_place: f.found_place, found_by: f.found_by, condition: f.condition };
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, EpisodeId(id))?;
        authorize(user, &e, Act::Found)?;
        check_found(status_of(&e), utc(e.last_seen_at), found_at, now)?;
        writes::mark_found(conn, e.id, found_at, &details, now)?;
        let who = TimelineActor::from(user);
        event(conn, e.id, now, "found", &who, json!({"found_at": found_at}))?;
        // Found means found: nothing of the missing phase stays pending, nor reminds anyone (SPEC §7).
        let mut stopped = Vec::new();
        for s in steps_of(conn, &[e.id])?.iter().filter(|s| s.status == StepStatus::Pending && s.phase == "missing") {
            writes::finish_step(conn, s, StepStatus::Skipped, Some(user.id), Some(FOUND_NOTE), now)?;
            stopped.push(s.key.clone());
        }
        if !stopped.is_empty() {
            event(conn, e.id, now, "steps_stopped", &who, json!({"keys": stopped}))?;
        }
        let routine = routines::by_id(conn, e.routine_version_id)?.routine();
        let child = writes::child_of(conn, &e)?;
        let level = RiskLevel::parse(&e.risk_level).unwrap_or(RiskLevel::Low);
        let repeated = create::repeated(conn, child.id, utc(e.discovered_at))?;
        let f = facts(level, &e.indicators(), &child, repeated);
        instantiate_steps(conn, e.id, &routine, "found", found_at, &f)?;
        notify_all(conn, secret, &e, "case_found", "notify_found", now)?;
        audit::append(
            conn,
            &user.actor(),
            &Event::new("case_found").on("case", e.id).county(Some(e.county_code)),
            now,
        )?;
        Ok(())
    })
}

/// Records the return conversation (social worker of the responsible municipality) of an episode found,
/// or closed less than 30 days ago; replaces an earlier record, completes the `return_conversation` step
/// (a declined or unreachable conversation is a recorded decision).
pub fn record_return_conversation(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: EpisodeId,
    input: Submitted<RecordReturnConversation>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let r = input.valid(|r, ck| {
        ck.one_of("outcome", &mut r.outcome, &RETURN_OUTCOMES);
        ck.required("outcome", &r.outcome);
        ck.one_of("conducted_by", &mut r.conducted_by, &CONDUCTED_BY);
        r.reasons.dedup();
        r.exploitation_indicators.dedup();
        if r.reasons.len() > 20 || r.reasons.iter().any(|x| !LEAVING_REASONS.contains(&x.as_str())) {
            ck.error("reasons", format!("must be some of: {}", LEAVING_REASONS.join(", ")));
        }
        if r.exploitation_indicators.len() > 20 || r.exploitation_indicators.iter().any(|x| !risk::is_indicator(x)) {
            ck.error("exploitation_indicators", "must be risk indicators (API.md)");
        }
        ck.text("stayed_with", &mut r.stayed_with, TEXT);
        ck.text("actions", &mut r.actions, TEXT);
        if r.outcome.as_deref() == Some("held") && r.held_at.is_none() {
            ck.error("held_at", "required");
        }
        if r.held_at.is_some_and(|t| t > now + Duration::seconds(CLOCK_SKEW_SECONDS)) {
            ck.error("held_at", "may not be in the future");
        }
    })?;
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, id)?;
        authorize(user, &e, Act::ReturnConversation)?;
        let recent = e.closed_at.is_some_and(|c| now - utc(c) < Duration::days(RETURN_CONVERSATION_DAYS));
        let open_for_it = match status_of(&e) {
            Status::Found => true,
            Status::Closed => recent && e.found_at.is_some(),
            Status::Missing => false,
        };
        if !open_for_it {
            return Err(AppError::conflict(
                "conflict",
                "the child is not found, or the episode closed over 30 days ago",
            ));
        }
        // Forms give minutes: a conversation in the minute the child was found is not before it.
        if r.held_at.is_some_and(|t| e.found_at.is_some_and(|f| t + Duration::seconds(60) <= utc(f))) {
            return Err(AppError::field("held_at", "may not be before the child was found"));
        }
        let outcome = r.outcome.as_deref().unwrap_or_default();
        let n = crate::store::return_conversations::New {
            episode_id: e.id,
            outcome,
            held_at: r.held_at,
            conducted_by: r.conducted_by.as_deref(),
            interpreter_used: r.interpreter_used.unwrap_or(false),
            reasons: &r.reasons,
            exploitation_indicators: &r.exploitation_indicators,
            stayed_with: r.stayed_with.as_deref(),
            actions: r.actions.as_deref(),
            recorded_by: user.id,
        };
        crate::store::return_conversations::put(conn, &n, now)?;
        let who = TimelineActor::from(user);
        event(conn, e.id, now, "return_conversation", &who, json!({"outcome": outcome}))?;
        if let Some(s) = writes::step(conn, e.id, "return_conversation")? {
            if s.status == StepStatus::Pending {
                let note = format!("return conversation: {outcome}");
                writes::finish_step(conn, &s, StepStatus::Done, Some(user.id), Some(&note), now)?;
                event(conn, e.id, now, "step_done", &who, json!({"key": s.key}))?;
            }
        }
        audit::append(
            conn,
            &user.actor(),
            &Event::new("return_conversation_recorded").on("case", e.id).county(Some(e.county_code.clone())),
            now,
        )?;
        Ok(())
    })
}

/// Adds to the report what was learnt later (responsible social worker, staff of the accommodation) while
/// the episode is open: kept in the timeline with who and when, in the access log as a change.
pub fn add_to_report(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: EpisodeId,
    input: Submitted<AddToReport>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let a = input.valid(|a, ck| {
        ck.one_of("field", &mut a.field, &ADDITION_FIELDS);
        ck.required("field", &a.field);
        ck.req_text("text", &mut a.text, TEXT);
    })?;
    let item = (a.field.unwrap_or_default(), a.text.unwrap_or_default());
    write_tx(conn, |conn| add_all(conn, user, id, std::slice::from_ref(&item), now))
}

/// A second report of a child already reported: what this reporter wrote is added to the open episode,
/// never dropped (one transaction, nothing when every field is empty).
pub fn add_second_report(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: EpisodeId,
    report: &ReportCase,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let r = report;
    let mut items: Vec<(String, String)> = Vec::new();
    let mut put = |field: &str, v: &Option<String>| {
        if let Some(t) = v.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            items.push((field.to_string(), t.chars().take(TEXT).collect()));
        }
    };
    let last_seen = [r.last_seen_place.as_deref(), r.last_seen_by.as_deref()]
        .into_iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" – ");
    put("last_seen", &Some(last_seen));
    put("clothing", &r.clothing);
    put("circumstances", &r.circumstances);
    put("possible_whereabouts", &r.possible_whereabouts);
    put("search_actions", &r.search_actions);
    put("belongings", &r.belongings);
    if items.is_empty() {
        return Ok(0);
    }
    write_tx(conn, |conn| add_all(conn, user, id, &items, now)).map(|()| items.len())
}

fn add_all(
    conn: &mut AnyConnection,
    user: &AuthUser,
    id: EpisodeId,
    items: &[(String, String)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let e = load_for_action(conn, user, id)?;
    authorize(user, &e, Act::AddToReport)?;
    if status_of(&e) == crate::domain::episode::Status::Closed {
        return Err(AppError::conflict("conflict", "the episode is closed"));
    }
    let who = TimelineActor::from(user);
    for (field, text) in items {
        event(conn, e.id, now, "report_added", &who, json!({"field": field, "text": text}))?;
    }
    audit::append(
        conn,
        &user.actor(),
        &Event::new("report_added").on("case", e.id).county(Some(e.county_code.clone())),
        now,
    )?;
    Ok(())
}

/// Closes the episode; pending steps are cancelled with the closure reason.
pub fn close(
    conn: &mut AnyConnection,
    user: &AuthUser,
    secret: &[u8],
    EpisodeId(id): EpisodeId,
    input: Submitted<CloseCase>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let cmd = input.valid(|k, ck| {
        ck.one_of("reason", &mut k.reason, &CLOSURE_REASONS);
        ck.required("reason", &k.reason);
        ck.text("note", &mut k.note, TEXT);
    })?;
    let (reason, note) = (cmd.reason.unwrap_or_default(), cmd.note);
    let (reason, note) = (reason.as_str(), note.as_deref());
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, EpisodeId(id))?;
        authorize(user, &e, Act::Close)?;
        let steps = steps_of(conn, &[e.id])?;
        let pending_required: Vec<String> =
            steps.iter().filter(|s| s.status == StepStatus::Pending && s.required).map(|s| s.key.clone()).collect();
        check_close(status_of(&e), reason, note, &pending_required)?;
        writes::mark_closed(conn, e.id, reason, note, now)?;
        let cancelled = format!("cancelled: episode closed ({reason})");
        let mut cancelled_keys = Vec::new();
        for s in steps.iter().filter(|s| s.status == StepStatus::Pending) {
            writes::finish_step(conn, s, StepStatus::Skipped, Some(user.id), Some(&cancelled), now)?;
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
    })
}

/// Keeps a long-running episode open for another review period (the responsible social worker), with a
/// reason; answers the new review date.
pub fn extend(
    conn: &mut AnyConnection,
    user: &AuthUser,
    EpisodeId(id): EpisodeId,
    input: Submitted<WithReason>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AppError> {
    let reason = WithReason::reason(input)?;
    write_tx(conn, |conn| {
        let e = load_for_action(conn, user, EpisodeId(id))?;
        authorize(user, &e, Act::ExtendReview)?;
        if status_of(&e) == Status::Closed {
            return Err(AppError::conflict("conflict", "the episode is closed"));
        }
        let period = routines::by_id(conn, e.routine_version_id)?.routine().review_period;
        let next = crate::domain::deadline::IsoDuration::parse(&period)
            .map(|d| d.add_to(now))
            .unwrap_or(now + Duration::days(91));
        writes::set_review_due(conn, e.id, next, now)?;
        event(
            conn,
            e.id,
            now,
            "review_extended",
            &TimelineActor::from(user),
            json!({"until": next, "reason": reason}),
        )?;
        audit::append(
            conn,
            &user.actor(),
            &Event::new("case_extended").on("case", e.id).county(Some(e.county_code)),
            now,
        )?;
        Ok(next)
    })
}

/// Turns a checked report into what the store keeps; `ck` must have found nothing.
pub fn accepted_report(r: ReportCase, ck: Check) -> AppResult<NewReport> {
    ck.finish()?;
    r.into_new()
}

/// Reports a disappearance (staff of the child's accommodation, or the social worker in scope): the
/// episode with its reference, the suggested risk level, the routine's steps with their due times, and
/// the notifications queued in the same transaction. The caller runs this inside `write_tx`.
pub fn report(
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
    if create::has_open(conn, child.id)? {
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
    let letter = create::county_letter(conn, &county)?;
    let derived = create::derive(conn, &child, input.discovered_at)?;
    // A rejection recorded on the child in the last 90 days is the push factor, whether or not the
    // reporter knew of it (SPEC §7).
    let mut reported = input.risk_indicators.clone();
    let day = crate::domain::calendar::local_date(input.discovered_at);
    let rejected = "asylum_rejected_recently";
    if crate::domain::prevention::rejected_recently(child.asylum_decision(), day)
        && !reported.iter().any(|r| r == rejected)
    {
        reported.push(rejected.to_string());
    }
    let indicators = risk::combine(&reported, &derived);
    let level = risk::suggest(&indicators, &derived);
    let routine_row = routines::current(conn, &county)?.ok_or_else(AppError::internal)?;
    let routine = routine_row.routine();
    let reference = create::reference(conn, &county, &letter, input.discovered_at)?;
    let review_due = crate::domain::deadline::IsoDuration::parse(&routine.review_period)
        .map(|d| d.add_to(input.discovered_at))
        .unwrap_or(input.discovered_at + Duration::days(91));
    let new = create::NewEpisode {
        reference: &reference,
        county: &county,
        municipality: &municipality,
        accommodation: accommodation.as_ref(),
        child: &child,
        routine_version_id: routine_row.id,
        report: input,
        risk_level: level,
        indicators: &indicators,
        reported_by: user.id,
        review_due,
    };
    let id = match create::insert(conn, &new, now) {
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
    // The episode just inserted is among the child's episodes: the third within 30 days is "repeated".
    let repeated = create::repeated(conn, child.id, input.discovered_at)?;
    let f = facts(level, &indicators, &child, repeated);
    instantiate_steps(conn, id, &routine, "missing", input.discovered_at, &f)?;
    if input.report.search_actions.is_some() && create::search_done_with_report(conn, id, user.id, now)? {
        event(conn, id, now, "step_done", &who, json!({"key": "search_and_contact"}))?;
    }
    // The police were phoned first: their reference is the report's, and the police mail quotes it.
    if let Some(r) = input.police_reference.as_deref() {
        writes::set_police_reference(conn, id, r)?;
        if let Some(s) = writes::step(conn, id, "police_report")? {
            writes::finish_step(conn, &s, StepStatus::Done, Some(user.id), Some(PHONED_NOTE), now)?;
            event(conn, id, now, "step_done", &who, json!({"key": "police_report"}))?;
        }
    }
    let dir = create::directory(conn, &child, &county)?;
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
