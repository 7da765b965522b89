//! Retention (issue #7): a set time after an episode is closed, the child's photo is deleted (default 90
//! days) and the child's personal data pseudonymised (default five years).
//!
//! Policy: a child is eligible only when no episode is open and the last closure is older than the limit.
//! Pseudonymising removes names, aliases, guardian, dossier number, preparedness sheet and photo from the
//! child, and all free text from the child's episodes (report, found details, notes, timeline details,
//! acknowledgement names, the guardian's address). The episodes keep their reference, dates, steps and the
//! statistics columns recorded at the report, so every figure of SPEC §5 is the same before and after.
//! Each run is idempotent and writes one access-log entry.

use super::audit::{self, Actor, Event};
use crate::db::schema::{
    child_photos, children, episode_events, episode_steps, episodes, notifications, risk_assessments,
};
use crate::db::{write_tx, AnyConnection};
use crate::domain::episode::Status;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub photos_deleted: usize,
    pub children_pseudonymised: usize,
}

/// Children with no open episode whose last closure is at or before `cutoff`.
fn closed_before(c: &mut AnyConnection, cutoff: NaiveDateTime) -> QueryResult<Vec<i64>> {
    let open: Vec<i64> =
        episodes::table.filter(episodes::status.ne(Status::Closed.as_str())).select(episodes::child_id).load(c)?;
    let closed: Vec<(i64, Option<NaiveDateTime>)> = episodes::table
        .filter(episodes::status.eq(Status::Closed.as_str()))
        .group_by(episodes::child_id)
        .select((episodes::child_id, diesel::dsl::max(episodes::closed_at)))
        .load(c)?;
    Ok(closed
        .into_iter()
        .filter(|(id, last)| !open.contains(id) && last.is_some_and(|t| t <= cutoff))
        .map(|(id, _)| id)
        .collect())
}

pub fn run(conn: &mut AnyConnection, photo_days: i64, personal_days: i64, now: DateTime<Utc>) -> QueryResult<Outcome> {
    write_tx(conn, |c| {
        let mut out = Outcome::default();
        let photo_children = closed_before(c, (now - Duration::days(photo_days)).naive_utc())?;
        if !photo_children.is_empty() {
            out.photos_deleted =
                diesel::delete(child_photos::table.filter(child_photos::child_id.eq_any(&photo_children)))
                    .execute(c)?;
        }
        let due = closed_before(c, (now - Duration::days(personal_days)).naive_utc())?;
        let fresh: Vec<(i64, NaiveDate)> = children::table
            .filter(children::id.eq_any(&due))
            .filter(children::pseudonymised_at.is_null())
            .select((children::id, children::date_of_birth))
            .load(c)?;
        for (id, dob) in &fresh {
            diesel::delete(child_photos::table.filter(child_photos::child_id.eq(id))).execute(c)?;
            diesel::update(children::table.find(id))
                .set((
                    children::given_name.eq("–"),
                    children::family_name.eq("–"),
                    children::aliases.eq("[]"),
                    // Only the birth year is kept.
                    children::date_of_birth.eq(NaiveDate::from_ymd_opt(dob.year(), 1, 1).unwrap_or(*dob)),
                    children::languages.eq("[]"),
                    children::dossier_number.eq(None::<String>),
                    children::asylum_status.eq(None::<String>),
                    children::asylum_decision_date.eq(None::<NaiveDate>),
                    children::asylum_decision_outcome.eq(None::<String>),
                    children::asylum_decision_recorded_at.eq(None::<chrono::NaiveDateTime>),
                    children::guardian_name.eq(None::<String>),
                    children::guardian_email.eq(None::<String>),
                    children::guardian_phone.eq(None::<String>),
                    children::guardian_language.eq(None::<String>),
                    children::preparedness.eq("{}"),
                    children::pseudonymised_at.eq(now.naive_utc()),
                    children::updated_at.eq(now.naive_utc()),
                ))
                .execute(c)?;
            let eps: Vec<i64> = episodes::table.filter(episodes::child_id.eq(id)).select(episodes::id).load(c)?;
            diesel::update(episodes::table.filter(episodes::id.eq_any(&eps)))
                .set((
                    episodes::report.eq("{}"),
                    episodes::found_details.eq(None::<String>),
                    episodes::closure_note.eq(None::<String>),
                    episodes::police_reference.eq(None::<String>),
                ))
                .execute(c)?;
            diesel::update(episode_steps::table.filter(episode_steps::episode_id.eq_any(&eps)))
                .set(episode_steps::note.eq(None::<String>))
                .execute(c)?;
            diesel::update(episode_events::table.filter(episode_events::episode_id.eq_any(&eps)))
                .set((episode_events::detail.eq("{}"), episode_events::actor_name.eq(None::<String>)))
                .execute(c)?;
            diesel::update(risk_assessments::table.filter(risk_assessments::episode_id.eq_any(&eps)))
                .set(risk_assessments::note.eq(None::<String>))
                .execute(c)?;
            {
                use crate::db::schema::return_conversations as rc;
                diesel::update(rc::table.filter(rc::episode_id.eq_any(&eps)))
                    .set((rc::stayed_with.eq(None::<String>), rc::actions.eq(None::<String>)))
                    .execute(c)?;
            }
            diesel::update(notifications::table.filter(notifications::episode_id.eq_any(&eps)))
                .set((
                    notifications::acknowledged_by.eq(None::<String>),
                    notifications::ack_reference.eq(None::<String>),
                ))
                .execute(c)?;
            diesel::update(
                notifications::table
                    .filter(notifications::episode_id.eq_any(&eps))
                    .filter(notifications::recipient_kind.eq("guardian")),
            )
            .set(notifications::address.eq("removed"))
            .execute(c)?;
        }
        out.children_pseudonymised = fresh.len();
        let ev = Event::new("retention_run").detail(format!(
            "photos deleted {}, children pseudonymised {}",
            out.photos_deleted, out.children_pseudonymised
        ));
        audit::append(c, &Actor::system(), &ev, now)?;
        Ok(out)
    })
}
