//! What each user has to do next, and how each episode followed its routine.

use super::children::utc;
use super::episodes::{steps_of, visible};
use super::scope::Scope;
use crate::db::schema::{episode_steps, episodes};
use crate::db::AnyConnection;
use crate::domain::compliance::{judge, Outcome};
use crate::domain::episode::Status;
use crate::domain::episode::StepStatus;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkItem {
    pub case_id: i64,
    pub reference: String,
    pub case_status: String,
    pub risk_level: String,
    pub key: String,
    pub title: String,
    pub responsible: String,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

/// Pending steps the caller's role is responsible for, in open episodes in scope, most urgent first.
pub fn worklist(
    conn: &mut AnyConnection,
    scope: &Scope,
    responsible: &[&str],
    lang: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<WorkItem>> {
    let open: Vec<(i64, String, String, String)> = visible(scope)
        .filter(episodes::status.ne(Status::Closed.as_str()))
        .select((episodes::id, episodes::reference, episodes::status, episodes::risk_level))
        .load(conn)?;
    let ids: Vec<i64> = open.iter().map(|e| e.0).collect();
    let steps: Vec<(i64, String, String, String, String, chrono::NaiveDateTime)> = episode_steps::table
        .filter(episode_steps::episode_id.eq_any(&ids))
        .filter(episode_steps::status.eq(StepStatus::Pending.as_str()))
        .filter(episode_steps::responsible.eq_any(responsible))
        .order((episode_steps::due_at.asc(), episode_steps::id.asc()))
        .select((
            episode_steps::episode_id,
            episode_steps::key,
            episode_steps::title_sv,
            episode_steps::title_en,
            episode_steps::responsible,
            episode_steps::due_at,
        ))
        .limit(1000)
        .load(conn)?;
    Ok(steps
        .into_iter()
        .filter_map(|(eid, key, sv, en, responsible, due)| {
            let e = open.iter().find(|e| e.0 == eid)?;
            Some(WorkItem {
                case_id: eid,
                reference: e.1.clone(),
                case_status: e.2.clone(),
                risk_level: e.3.clone(),
                key,
                title: if lang == "en" { en } else { sv },
                responsible,
                due_at: utc(due),
                overdue: utc(due) < now,
            })
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceItem {
    pub key: String,
    pub title: String,
    pub required: bool,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub outcome: Outcome,
    /// minutes after the deadline, for late and overdue steps
    pub late_by_minutes: Option<i64>,
    /// the reason given for skipping (not shown to county officers)
    pub skip_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Compliance {
    pub case_id: i64,
    pub reference: String,
    pub routine_version: i32,
    pub steps: Vec<ComplianceItem>,
}

/// Each step against its deadline, judged by the routine version the episode started with.
pub fn compliance(
    conn: &mut AnyConnection,
    e: &super::episodes::EpisodeRow,
    pseudonymised: bool,
    lang: &str,
    now: DateTime<Utc>,
) -> QueryResult<Compliance> {
    let version = super::routines::by_id(conn, e.routine_version_id)?.version;
    let steps = steps_of(conn, &[e.id])?;
    Ok(Compliance {
        case_id: e.id,
        reference: e.reference.clone(),
        routine_version: version,
        steps: steps
            .into_iter()
            .map(|s| {
                let (outcome, late) = judge(s.status, utc(s.due_at), s.completed_at.map(utc), now);
                ComplianceItem {
                    title: if lang == "en" { s.title_en.clone() } else { s.title_sv.clone() },
                    key: s.key,
                    required: s.required,
                    due_at: utc(s.due_at),
                    done_at: if s.status == crate::domain::episode::StepStatus::Done {
                        s.completed_at.map(utc)
                    } else {
                        None
                    },
                    outcome,
                    late_by_minutes: late,
                    skip_reason: if outcome == Outcome::Skipped && !pseudonymised { s.note } else { None },
                }
            })
            .collect(),
    })
}
