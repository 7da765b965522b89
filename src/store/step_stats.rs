//! The incremental counters behind the county statistics: every step that finishes (done or skipped)
//! is counted once, in the same transaction, per county, local day of discovery and step key; the police
//! report's delay is kept on the episode. Statistics then read a few hundred counter rows instead of every
//! step (see `store::stats`).

use crate::db::schema::{episode_steps, episodes, step_day_stats};
use crate::db::{is_unique_violation, AnyConnection};
use crate::domain::calendar::local_date;
use crate::domain::compliance::{judge, Outcome};
use crate::domain::episode::{Code, StepStatus};
use crate::store::children::utc;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

/// Counts a step that has just been finished. Call after its row says done or skipped.
pub fn finished(conn: &mut AnyConnection, step_id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    let (episode, key, status, due, completed): (
        i64,
        String,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    ) = episode_steps::table
        .find(step_id)
        .select((
            episode_steps::episode_id,
            episode_steps::key,
            episode_steps::status,
            episode_steps::due_at,
            episode_steps::completed_at,
        ))
        .first(conn)?;
    let (county, discovered, found): (String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>) = episodes::table
        .find(episode)
        .select((episodes::county_code, episodes::discovered_at, episodes::found_at))
        .first(conn)?;
    // A code this program does not know counts as not finished.
    let status = StepStatus::parse(&status);
    let (outcome, _) = match status {
        Some(st) => judge(st, utc(due), completed.map(utc), now),
        None => return Ok(()),
    };
    let (on_time, late, skipped) = match outcome {
        Outcome::OnTime => (1, 0, 0),
        Outcome::Late => (0, 1, 0),
        Outcome::Skipped => (0, 0, 1),
        Outcome::Pending | Outcome::Overdue => return Ok(()),
    };
    let within_72h = i64::from(
        key == "return_conversation"
            && status == Some(StepStatus::Done)
            && matches!((completed, found), (Some(c), Some(f)) if c - f <= Duration::hours(72)),
    );
    if key == "police_report" && status == Some(StepStatus::Done) {
        if let Some(c) = completed {
            diesel::update(episodes::table.find(episode))
                .set(episodes::police_seconds.eq((c - discovered).num_seconds().max(0)))
                .execute(conn)?;
        }
    }
    let day = local_date(utc(discovered));
    let row = || {
        step_day_stats::table
            .filter(step_day_stats::county_code.eq(&county))
            .filter(step_day_stats::day.eq(day))
            .filter(step_day_stats::key.eq(&key))
    };
    let bump = |c: &mut AnyConnection| {
        diesel::update(row())
            .set((
                step_day_stats::done_on_time.eq(step_day_stats::done_on_time + on_time),
                step_day_stats::done_late.eq(step_day_stats::done_late + late),
                step_day_stats::skipped.eq(step_day_stats::skipped + skipped),
                step_day_stats::within_72h.eq(step_day_stats::within_72h + within_72h),
            ))
            .execute(c)
    };
    if bump(conn)? > 0 {
        return Ok(());
    }
    // First step of this kind that day: insert under a savepoint; if a concurrent transaction won, bump.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(step_day_stats::table)
            .values((
                step_day_stats::county_code.eq(&county),
                step_day_stats::day.eq(day),
                step_day_stats::key.eq(&key),
                step_day_stats::done_on_time.eq(on_time),
                step_day_stats::done_late.eq(late),
                step_day_stats::skipped.eq(skipped),
                step_day_stats::within_72h.eq(within_72h),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => bump(conn).map(|_| ()),
        Err(e) => Err(e),
    }
}
