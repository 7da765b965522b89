//! Episodes (cases): one disappearance of one child, its steps, timeline and notifications.
//!
//! Views come in two shapes: the full record for staff and social workers in scope, and the
//! pseudonymised record for county officers (reference, municipality, dates, state, risk level, step
//! times; never names, free text, addresses or photos).

pub mod create;
pub mod writes;

use super::children::utc;
use super::scope::Scope;
use crate::db::schema::{children, episode_events, episode_steps, episodes, risk_assessments, routine_versions};
use crate::db::{AnyConnection, MultiBackend};
use crate::domain::episode::{Status, StepStatus};
use crate::store::outbox::{self, NoteView};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = episodes)]
pub struct EpisodeRow {
    pub id: i64,
    pub reference: String,
    pub county_code: String,
    pub municipality_code: String,
    pub responsible_municipality_code: String,
    pub accommodation_id: Option<i64>,
    pub child_id: i64,
    pub routine_version_id: i64,
    #[diesel(deserialize_as = crate::db::code::Coded<Status>)]
    pub status: Status,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub discovered_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub last_seen_at: NaiveDateTime,
    pub report: String,
    pub whereabouts_known: bool,
    pub risk_level: String,
    pub risk_indicators: String,
    pub risk_assessed: bool,
    pub police_reference: Option<String>,
    #[diesel(deserialize_as = crate::db::timestamp::OptTs)]
    pub found_at: Option<NaiveDateTime>,
    pub found_details: Option<String>,
    #[diesel(deserialize_as = crate::db::timestamp::OptTs)]
    pub closed_at: Option<NaiveDateTime>,
    pub closure_reason: Option<String>,
    pub closure_note: Option<String>,
    pub reported_by: Option<i64>,
    pub child_age_years: i32,
    pub child_sex: String,
    pub child_nationality: Option<String>,
    pub accommodation_kind: Option<String>,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub updated_at: NaiveDateTime,
}

/// The free-text part of a report: stored as one JSON column, given in the report command and shown in the
/// case's personal part under the same names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Report {
    pub last_seen_place: Option<String>,
    pub last_seen_by: Option<String>,
    pub circumstances: Option<String>,
    pub clothing: Option<String>,
    pub belongings: Option<String>,
    /// Search already done; when given, the step `search_and_contact` is recorded as done.
    pub search_actions: Option<String>,
    pub possible_whereabouts: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FoundDetails {
    pub found_place: Option<String>,
    pub found_by: Option<String>,
    pub condition: Option<String>,
}

impl EpisodeRow {
    pub fn report(&self) -> Report {
        serde_json::from_str(&self.report).unwrap_or_default()
    }
    pub fn found(&self) -> FoundDetails {
        self.found_details.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }
    pub fn indicators(&self) -> Vec<String> {
        super::children::json_list(&self.risk_indicators)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = episode_steps)]
pub struct StepRow {
    pub id: i64,
    pub episode_id: i64,
    pub key: String,
    pub position: i32,
    pub title_sv: String,
    pub title_en: String,
    pub responsible: String,
    pub phase: String,
    pub required: bool,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub due_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::code::Coded<StepStatus>)]
    pub status: StepStatus,
    #[diesel(deserialize_as = crate::db::timestamp::OptTs)]
    pub completed_at: Option<NaiveDateTime>,
    pub completed_by: Option<i64>,
    pub note: Option<String>,
}

/// API.md STEP.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub key: String,
    pub title: String,
    pub responsible: String,
    pub phase: String,
    pub required: bool,
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub due_at: DateTime<Utc>,
    pub status: StepStatus,
    pub overdue: bool,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl StepRow {
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == StepStatus::Pending && utc(self.due_at) < now
    }

    pub fn into_view(self, lang: &str, now: DateTime<Utc>, pseudonymised: bool) -> StepView {
        let overdue = self.overdue(now);
        StepView {
            key: self.key,
            title: if lang == "en" { self.title_en } else { self.title_sv },
            responsible: self.responsible,
            phase: self.phase,
            required: self.required,
            due_at: utc(self.due_at),
            status: self.status,
            overdue,
            completed_at: self.completed_at.map(utc),
            note: if pseudonymised { None } else { self.note },
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = episode_events)]
pub struct EventRow {
    pub id: i64,
    pub episode_id: i64,
    #[diesel(deserialize_as = crate::db::timestamp::Ts)]
    pub at: NaiveDateTime,
    pub kind: String,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub actor_name: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub actor_name: Option<String>,
    /// Stored as JSON and passed through as it is.
    #[schema(value_type = Object)]
    pub detail: Box<serde_json::value::RawValue>,
}

/// What someone added to the report later (`POST …/additions`, or a second report of the same child),
/// kept in the timeline as `report_added`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Addition {
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub at: DateTime<Utc>,
    /// last_seen, clothing, belongings, circumstances, possible_whereabouts, search_actions or other
    pub field: String,
    pub text: String,
    pub by: Option<String>,
}

impl Addition {
    /// The additions among the events of a timeline, oldest first.
    pub fn from_timeline(events: &[EventView]) -> Vec<Addition> {
        #[derive(Deserialize)]
        struct Detail {
            field: String,
            text: String,
        }
        events
            .iter()
            .filter(|e| e.kind == "report_added")
            .filter_map(|e| {
                let d: Detail = serde_json::from_str(e.detail.get()).ok()?;
                Some(Addition { at: e.at, field: d.field, text: d.text, by: e.actor_name.clone() })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskAssessmentView {
    pub id: i64,
    pub level: String,
    pub suggested_level: String,
    pub indicators: Vec<String>,
    pub note: Option<String>,
    pub assessed_by: Option<i64>,
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub assessed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChildSummary {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
}

/// The episode as the API returns it. Fields that are personal are absent from the pseudonymised form.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub reference: String,
    pub status: Status,
    pub risk_level: String,
    pub risk_assessed: bool,
    pub county_code: String,
    pub municipality_code: String,
    pub routine_version: i32,
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub discovered_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub last_seen_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub found_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<String>,
    pub steps: Vec<StepView>,
    pub notifications: Vec<NoteView>,
    /// the return conversation's record, when one is recorded (pseudonymised for county officers)
    pub return_conversation: Option<crate::store::return_conversations::View>,
    #[serde(flatten)]
    pub personal: Option<CasePersonal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CasePersonal {
    pub child_id: i64,
    pub child: Option<ChildSummary>,
    pub responsible_municipality_code: String,
    pub accommodation_id: Option<i64>,
    pub risk_indicators: Vec<String>,
    #[serde(flatten)]
    pub report: Report,
    pub whereabouts_known: bool,
    pub police_reference: Option<String>,
    pub found_place: Option<String>,
    pub found_by: Option<String>,
    pub found_condition: Option<String>,
    pub closure_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
    /// what was added to the report later, oldest first (with the timeline)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additions: Option<Vec<Addition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_assessments: Option<Vec<RiskAssessmentView>>,
}

/// Applies the scope rule to an episodes query: the one place that says which episodes a scope may see.
/// `$then` gets the filtered query as `$q`; each arm has its own static type, so a query that is not boxed
/// stays in diesel's statement cache.
macro_rules! in_scope {
    ($query:expr, $scope:expr, |$q:ident| $then:expr) => {
        match $scope {
            Scope::Accommodation(a) => {
                let $q = $query.filter(episodes::accommodation_id.eq(*a));
                $then
            }
            Scope::Municipality(m) => {
                let $q = $query.filter(
                    episodes::responsible_municipality_code.eq(m.clone()).or(episodes::municipality_code.eq(m.clone())),
                );
                $then
            }
            Scope::County(c) => {
                let $q = $query.filter(episodes::county_code.eq(c.clone()));
                $then
            }
            Scope::OnCall(list) => {
                let $q = $query.filter(episodes::responsible_municipality_code.eq_any(list.clone()));
                $then
            }
            Scope::Nothing => {
                let $q = $query.filter(episodes::id.eq(-1));
                $then
            }
        }
    };
}

/// The episodes a scope may see.
pub fn visible(scope: &Scope) -> episodes::BoxedQuery<'static, MultiBackend> {
    in_scope!(episodes::table.into_boxed(), scope, |q| q)
}

pub fn find(conn: &mut AnyConnection, scope: &Scope, id: i64) -> QueryResult<Option<EpisodeRow>> {
    crate::db::on_backend!(conn, |c| {
        let query = episodes::table.filter(episodes::id.eq(id)).select(EpisodeRow::as_select());
        in_scope!(query, scope, |q| q.first(c).optional())
    })
}

pub fn steps_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<StepRow>> {
    crate::store::load_for_ids!(
        conn,
        episode_steps::table
            .order((episode_steps::episode_id.asc(), episode_steps::position.asc(), episode_steps::id.asc()))
            .select(StepRow::as_select()),
        episode_steps::episode_id,
        ids
    )
}

/// Which episodes to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Open,
    Is(&'static str),
}

pub fn list(conn: &mut AnyConnection, scope: &Scope, filter: StatusFilter) -> QueryResult<Vec<EpisodeRow>> {
    let mut q = visible(scope);
    q = match filter {
        StatusFilter::All => q,
        StatusFilter::Open => q.filter(episodes::status.ne(Status::Closed.as_str())),
        StatusFilter::Is(s) => q.filter(episodes::status.eq(s)),
    };
    q.order(episodes::discovered_at.desc()).select(EpisodeRow::as_select()).limit(1000).load(conn)
}

/// Builds views for episodes already loaded in scope, with their steps and notifications in two queries.
pub fn views(
    conn: &mut AnyConnection,
    rows: &[EpisodeRow],
    scope: &Scope,
    lang: &str,
    now: DateTime<Utc>,
    with_timeline: bool,
) -> QueryResult<Vec<CaseView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut steps = by_episode(steps_of(conn, &ids)?, |s| s.episode_id);
    let mut notes = by_episode(outbox::for_episodes(conn, &ids)?, |n| n.head.episode_id);
    let mut talks = by_episode(crate::store::return_conversations::for_episodes(conn, &ids)?, |r| r.episode_id);
    let pseudo = scope.pseudonymised();
    let version_ids: Vec<i64> = rows.iter().map(|r| r.routine_version_id).collect();
    let q = routine_versions::table.select((routine_versions::id, routine_versions::version));
    let versions: Vec<(i64, i32)> = crate::store::load_for_ids!(conn, q, routine_versions::id, version_ids.as_slice())?;
    let kids: Vec<(i64, String, String, NaiveDate)> = if pseudo {
        Vec::new()
    } else {
        let child_ids: Vec<i64> = rows.iter().map(|r| r.child_id).collect();
        let q = children::table.select((
            children::id,
            children::given_name,
            children::family_name,
            children::date_of_birth,
        ));
        crate::store::load_for_ids!(conn, q, children::id, child_ids.as_slice())?
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let personal = if pseudo {
            None
        } else {
            let rep = r.report();
            let f = r.found();
            let (timeline, risk) = if with_timeline {
                (Some(timeline(conn, r.id)?), Some(risk_history(conn, r.id)?))
            } else {
                (None, None)
            };
            Some(CasePersonal {
                child_id: r.child_id,
                child: kids.iter().find(|k| k.0 == r.child_id).map(|k| ChildSummary {
                    given_name: k.1.clone(),
                    family_name: k.2.clone(),
                    date_of_birth: k.3,
                }),
                responsible_municipality_code: r.responsible_municipality_code.clone(),
                accommodation_id: r.accommodation_id,
                risk_indicators: r.indicators(),
                report: rep,
                whereabouts_known: r.whereabouts_known,
                police_reference: r.police_reference.clone(),
                found_place: f.found_place,
                found_by: f.found_by,
                found_condition: f.condition,
                closure_note: r.closure_note.clone(),
                additions: timeline.as_deref().map(Addition::from_timeline),
                timeline,
                risk_assessments: risk,
            })
        };
        out.push(CaseView {
            id: r.id,
            reference: r.reference.clone(),
            status: r.status,
            risk_level: r.risk_level.clone(),
            risk_assessed: r.risk_assessed,
            county_code: r.county_code.clone(),
            municipality_code: r.municipality_code.clone(),
            routine_version: versions.iter().find(|v| v.0 == r.routine_version_id).map(|v| v.1).unwrap_or(0),
            discovered_at: utc(r.discovered_at),
            last_seen_at: utc(r.last_seen_at),
            found_at: r.found_at.map(utc),
            closed_at: r.closed_at.map(utc),
            closure_reason: r.closure_reason.clone(),
            steps: steps
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.into_view(lang, now, pseudo))
                .collect(),
            notifications: notes.remove(&r.id).unwrap_or_default().into_iter().map(|n| n.into_view(pseudo)).collect(),
            return_conversation: talks.remove(&r.id).and_then(|t| t.into_iter().next()).map(|t| t.into_view(pseudo)),
            personal,
        });
    }
    Ok(out)
}

/// Rows grouped by their episode, each group in the order loaded.
fn by_episode<T>(rows: Vec<T>, episode: impl Fn(&T) -> i64) -> std::collections::HashMap<i64, Vec<T>> {
    let mut out: std::collections::HashMap<i64, Vec<T>> = std::collections::HashMap::new();
    for r in rows {
        out.entry(episode(&r)).or_default().push(r);
    }
    out
}

pub fn timeline(conn: &mut AnyConnection, episode: i64) -> QueryResult<Vec<EventView>> {
    let rows: Vec<EventRow> = crate::db::on_backend!(conn, |c| episode_events::table
        .filter(episode_events::episode_id.eq(episode))
        .order((episode_events::at.asc(), episode_events::id.asc()))
        .select(EventRow::as_select())
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|e| EventView {
            at: utc(e.at),
            kind: e.kind,
            actor_user_id: e.actor_user_id,
            actor_role: e.actor_role,
            actor_name: e.actor_name,
            detail: serde_json::value::RawValue::from_string(e.detail).unwrap_or_default(),
        })
        .collect())
}

pub fn risk_history(conn: &mut AnyConnection, episode: i64) -> QueryResult<Vec<RiskAssessmentView>> {
    let q = risk_assessments::table
        .filter(risk_assessments::episode_id.eq(episode))
        .order(risk_assessments::id.asc())
        .select((
            risk_assessments::id,
            risk_assessments::level,
            risk_assessments::suggested_level,
            risk_assessments::indicators,
            risk_assessments::note,
            risk_assessments::assessed_by,
            risk_assessments::assessed_at,
        ));
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, String, String, String, Option<String>, Option<i64>, NaiveDateTime)> =
        crate::db::on_backend!(conn, |c| q.load(c))?;
    Ok(rows
        .into_iter()
        .map(|(id, level, suggested_level, ind, note, by, at)| RiskAssessmentView {
            id,
            level,
            suggested_level,
            indicators: super::children::json_list(&ind),
            note,
            assessed_by: by,
            assessed_at: utc(at),
        })
        .collect())
}

/// Who acted, for the timeline.
pub struct TimelineActor<'a> {
    pub user_id: Option<i64>,
    pub role: Option<&'a str>,
    pub name: Option<&'a str>,
}

pub fn event(
    conn: &mut AnyConnection,
    episode: i64,
    at: DateTime<Utc>,
    kind: &str,
    who: &TimelineActor,
    detail: Value,
) -> QueryResult<()> {
    crate::db::on_backend!(conn, |c| diesel::insert_into(episode_events::table)
        .values((
            episode_events::episode_id.eq(episode),
            episode_events::at.eq(at.naive_utc()),
            episode_events::kind.eq(kind),
            episode_events::actor_user_id.eq(who.user_id),
            episode_events::actor_role.eq(who.role),
            episode_events::actor_name.eq(who.name),
            episode_events::detail.eq(detail.to_string()),
        ))
        .execute(c))
    .map(|_| ())
}
