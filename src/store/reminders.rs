//! Reminders and prompts, driven by the clock in the worker's pass.
//!
//! Policy (issue #5):
//! - When a staff or social-worker step's deadline has passed, its owners are emailed once: for staff steps the
//!   staff of the accommodation and the accommodation's address; for social-worker steps the episode's own
//!   social worker (who registered or was assigned the child) and the municipality mailbox, and outside
//!   office hours socialjour too — its users serving the municipality and its mailbox (SPEC §7). Not every
//!   social worker of the municipality: only when the child has no social worker and there is no mailbox.
//! - In the hour from 07:00 Europe/Stockholm each day, every address that still owns an overdue step gets one
//!   digest of them (at most one per address and local day); never later in the day. The same digest hands
//!   over what socialjour did in the last 24 hours (steps, risk, found, return conversation) to each
//!   episode's own social worker.
//! - A step due at the moment of the report (PT0S: search the premises) is the reporter's own task on the
//!   confirmation page: it is not reminded one by one, only listed in the digest while it is pending.
//! - Nothing is sent for steps done or skipped, or for closed episodes.
//! - A missing child's episode whose review period has ended, or whose child has turned 18, gets a
//!   timeline prompt (once; extending the episode sets a new review date).
//!
//! Reminders name the episode reference and the step, never the child.

use super::outbox::{self, Outgoing};
use crate::db::schema::{
    accommodations, children, episode_events, episode_steps, episodes, municipalities, reminder_digests, users,
};
use crate::db::{write_tx, AnyConnection};
use crate::domain::calendar::{is_office_hours, local_date, to_local};
use crate::domain::episode::Status;
use crate::domain::episode::StepStatus;
use crate::domain::recipients::Recipient;
use crate::domain::risk::RiskLevel;
use crate::domain::routine::Facts;
use crate::store::children::eighteenth_birthday;
use crate::store::episodes::create::instantiate_steps;
use crate::store::episodes::{event, TimelineActor};
use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use serde_json::json;

pub const DIGEST_HOUR: u32 = 7;

fn system() -> TimelineActor<'static> {
    TimelineActor { user_id: None, role: Some("system"), name: None }
}

/// The on-call users (socialjour) serving a municipality: (address, language).
pub fn on_call_users(c: &mut AnyConnection, muni: &str) -> QueryResult<Vec<(String, String)>> {
    // `municipality_codes` is a JSON list of four-digit codes: the quoted code matches one element only.
    users::table
        .filter(users::role.eq(crate::domain::role::Role::OnCall.as_str()))
        .filter(users::active.eq(true))
        .filter(users::municipality_codes.like(format!("%\"{muni}\"%")))
        .select((users::email, users::language))
        .load(c)
}

/// The episode's own social worker (the one who registered or was assigned the child), when active.
pub fn own_social_worker(c: &mut AnyConnection, episode: i64) -> QueryResult<Option<(String, String)>> {
    episodes::table
        .inner_join(children::table)
        .inner_join(users::table.on(users::id.nullable().eq(children::social_worker_id)))
        .filter(episodes::id.eq(episode))
        .filter(users::active.eq(true))
        .select((users::email, users::language))
        .first(c)
        .optional()
}

/// The owners of a step: (address, language). A social worker's step belongs to the episode's own social
/// worker and the municipality's mailbox, and at `night` also to socialjour (its users and mailbox); every
/// social worker of the municipality only when there is neither an own social worker nor a mailbox.
fn owners(c: &mut AnyConnection, episode: i64, responsible: &str, night: bool) -> QueryResult<Vec<(String, String)>> {
    let (muni, acc): (String, Option<i64>) = episodes::table
        .find(episode)
        .select((episodes::responsible_municipality_code, episodes::accommodation_id))
        .first(c)?;
    let mut out: Vec<(String, String)> = Vec::new();
    if responsible == "staff" {
        if let Some(a) = acc {
            out.extend(
                users::table
                    .filter(users::role.eq("staff"))
                    .filter(users::active.eq(true))
                    .filter(users::accommodation_id.eq(a))
                    .select((users::email, users::language))
                    .load::<(String, String)>(c)?,
            );
            if let Some(mail) =
                accommodations::table.find(a).select(accommodations::email).first::<String>(c).optional()?
            {
                out.push((mail, "sv".into()));
            }
        }
    } else {
        let (mailbox, on_call_mailbox): (Option<String>, Option<String>) = municipalities::table
            .find(&muni)
            .select((municipalities::social_services_email, municipalities::on_call_email))
            .first(c)
            .optional()?
            .unwrap_or_default();
        let own = own_social_worker(c, episode)?;
        if own.is_none() && mailbox.is_none() {
            out.extend(
                users::table
                    .filter(users::role.eq("social_worker"))
                    .filter(users::active.eq(true))
                    .filter(users::municipality_code.eq(&muni))
                    .select((users::email, users::language))
                    .load::<(String, String)>(c)?,
            );
        }
        out.extend(own);
        out.extend(mailbox.map(|m| (m, "sv".to_string())));
        if night {
            out.extend(on_call_users(c, &muni)?);
            out.extend(on_call_mailbox.map(|m| (m, "sv".to_string())));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(a, _)| !a.is_empty() && seen.insert(a.to_ascii_lowercase()));
    Ok(out)
}

/// Who gets a reminder, for which steps.
struct Reminder<'a> {
    episode: i64,
    address: &'a str,
    lang: &'a str,
    steps: &'a [i64],
    digest: bool,
}

/// The morning digest to one address: overdue steps, and what socialjour did since yesterday morning.
struct Digest {
    address: String,
    lang: String,
    episode: i64,
    steps: Vec<i64>,
    night: Vec<i64>,
}

impl Digest {
    fn entry(all: &mut Vec<Digest>, address: String, lang: String, episode: i64) -> &mut Digest {
        let at = match all.iter().position(|x| x.address.eq_ignore_ascii_case(&address)) {
            Some(i) => i,
            None => {
                all.push(Digest { address, lang, episode, steps: Vec::new(), night: Vec::new() });
                all.len() - 1
            }
        };
        &mut all[at]
    }
}

/// The hand-over covers the day since the previous morning's digest.
pub const HANDOVER_HOURS: i64 = 24;
/// What socialjour does that the social worker must know in the morning.
pub const HANDOVER_EVENTS: [&str; 6] =
    ["step_done", "step_skipped", "risk_assessed", "found", "return_conversation", "report_added"];

fn queue(c: &mut AnyConnection, secret: &[u8], rem: &Reminder, night: &[i64], now: DateTime<Utc>) -> QueryResult<()> {
    let r = Recipient {
        kind: crate::domain::recipients::RecipientKind::Reminder,
        address: rem.address.to_string(),
        language: rem.lang.to_string(),
        ack: false,
        step_key: "",
    };
    let m =
        Outgoing { episode_id: rem.episode, kind: "reminder", recipient: &r, ack_window: None, escalation_of: None };
    let id = outbox::enqueue(c, secret, &m, now)?;
    let payload = json!({"steps": rem.steps, "digest": rem.digest, "night": night}).to_string();
    diesel::update(crate::db::schema::notifications::table.find(id))
        .set(crate::db::schema::notifications::payload.eq(payload))
        .execute(c)?;
    Ok(())
}

/// The digest goes out in the hour from 07:00 Europe/Stockholm, never later in the day: a report at 14:00
/// brings its own reminders, not a "daily digest" seconds after it.
pub fn is_digest_hour(now: DateTime<Utc>) -> bool {
    let t = to_local(now).time();
    let from = NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0).unwrap_or_default();
    t >= from && t < from + chrono::Duration::hours(1)
}

/// Adds the steps of condition `long_term_missing` to a missing episode; returns their keys.
fn long_term_steps(c: &mut AnyConnection, episode: i64, now: DateTime<Utc>) -> QueryResult<Vec<String>> {
    let (version, risk): (i64, String) =
        episodes::table.find(episode).select((episodes::routine_version_id, episodes::risk_level)).first(c)?;
    let routine = crate::store::routines::by_id(c, version)?.routine();
    let f = Facts {
        risk: RiskLevel::parse(&risk).unwrap_or(RiskLevel::Low),
        trafficking_suspected: false,
        assigning_municipality_differs: false,
        repeated_missing: false,
        long_term_missing: true,
    };
    // Every other condition is false and the episode has its steps already: only these are new.
    instantiate_steps(c, episode, &routine, "missing", now, &f)
}

/// One pass; returns how many reminder messages were queued.
pub fn run(conn: &mut AnyConnection, secret: &[u8], now: DateTime<Utc>) -> QueryResult<usize> {
    write_tx(conn, |c| {
        let mut queued = 0;
        // 1. Newly overdue steps: one reminder per step and owner.
        let due: Vec<(i64, i64, String)> = episode_steps::table
            .inner_join(episodes::table)
            .filter(episode_steps::status.eq(StepStatus::Pending.as_str()))
            .filter(episode_steps::responsible.eq_any(["staff", "social_worker"]))
            .filter(episode_steps::due_at.lt(now.naive_utc()))
            // A step due at the moment of the report (search the premises) is the reporter's task on the
            // confirmation page, not a reminder seconds later; it stays in the morning digest while pending.
            .filter(episode_steps::due_at.gt(episodes::created_at))
            .filter(episode_steps::reminded_at.is_null())
            .filter(episodes::status.ne(Status::Closed.as_str()))
            .select((episode_steps::id, episode_steps::episode_id, episode_steps::responsible))
            .load(c)?;
        let night = !is_office_hours(now);
        for (step, episode, responsible) in &due {
            for (address, lang) in owners(c, *episode, responsible, night)? {
                let rem =
                    Reminder { episode: *episode, address: &address, lang: &lang, steps: &[*step], digest: false };
                queue(c, secret, &rem, &[], now)?;
                queued += 1;
            }
            diesel::update(episode_steps::table.find(step))
                .set(episode_steps::reminded_at.eq(now.naive_utc()))
                .execute(c)?;
            event(c, *episode, now, "reminder_sent", &system(), json!({"step_id": step}))?;
        }
        // 2. The daily digest from 07:00 local time.
        if is_digest_hour(now) {
            let today = local_date(now);
            let overdue: Vec<(i64, i64, String)> = episode_steps::table
                .inner_join(episodes::table)
                .filter(episode_steps::status.eq(StepStatus::Pending.as_str()))
                .filter(episode_steps::responsible.eq_any(["staff", "social_worker"]))
                .filter(episode_steps::due_at.le(now.naive_utc()))
                .filter(episodes::status.ne(Status::Closed.as_str()))
                .order(episode_steps::due_at.asc())
                .select((episode_steps::id, episode_steps::episode_id, episode_steps::responsible))
                .load(c)?;
            let mut by_address: Vec<Digest> = Vec::new();
            for (step, episode, responsible) in overdue {
                // The morning digest is for the day: socialjour has handed over by then.
                for (address, lang) in owners(c, episode, &responsible, false)? {
                    Digest::entry(&mut by_address, address, lang, episode).steps.push(step);
                }
            }
            // The hand-over: what socialjour did in the last 24 hours goes to each episode's own social
            // worker (or the municipality mailbox), with or without overdue steps.
            let night: Vec<(i64, i64)> = episode_events::table
                .filter(episode_events::actor_role.eq(crate::domain::role::Role::OnCall.as_str()))
                .filter(episode_events::at.gt((now - chrono::Duration::hours(HANDOVER_HOURS)).naive_utc()))
                .filter(episode_events::kind.eq_any(HANDOVER_EVENTS))
                .order((episode_events::at.asc(), episode_events::id.asc()))
                .select((episode_events::id, episode_events::episode_id))
                .load(c)?;
            for (id, episode) in night {
                let mailbox: Option<String> = episodes::table
                    .inner_join(
                        municipalities::table.on(municipalities::code.eq(episodes::responsible_municipality_code)),
                    )
                    .filter(episodes::id.eq(episode))
                    .select(municipalities::social_services_email)
                    .first::<Option<String>>(c)?;
                let to = own_social_worker(c, episode)?.or(mailbox.map(|m| (m, "sv".to_string())));
                if let Some((address, lang)) = to {
                    Digest::entry(&mut by_address, address, lang, episode).night.push(id);
                }
            }
            for d in by_address {
                let address = &d.address;
                let already: bool = diesel::select(diesel::dsl::exists(
                    reminder_digests::table
                        .filter(reminder_digests::address.eq(address))
                        .filter(reminder_digests::day.eq(today)),
                ))
                .get_result(c)?;
                if already {
                    continue;
                }
                diesel::insert_into(reminder_digests::table)
                    .values((
                        reminder_digests::address.eq(address),
                        reminder_digests::day.eq(today),
                        reminder_digests::sent_at.eq(now.naive_utc()),
                    ))
                    .execute(c)?;
                let rem = Reminder { episode: d.episode, address, lang: &d.lang, steps: &d.steps, digest: true };
                queue(c, secret, &rem, &d.night, now)?;
                queued += 1;
            }
        }
        // 3. Long-running episodes: the review period has ended, or the child has turned 18.
        let review: Vec<i64> = episodes::table
            .filter(episodes::status.eq(Status::Missing.as_str()))
            .filter(episodes::review_due_at.le(now.naive_utc()))
            .select(episodes::id)
            .load(c)?;
        for id in review {
            diesel::update(episodes::table.find(id))
                .set(episodes::review_due_at.eq(None::<chrono::NaiveDateTime>))
                .execute(c)?;
            event(c, id, now, "review_period_ended", &system(), json!({"suggested_closure": "review_period_ended"}))?;
            // Still missing after the review period: the routine's hand-over steps (police, överförmyndaren,
            // Migrationsverket) are added now, due from now.
            for key in long_term_steps(c, id, now)? {
                event(c, id, now, "step_added", &system(), json!({"key": key}))?;
            }
        }
        let missing: Vec<(i64, chrono::NaiveDate)> = episodes::table
            .inner_join(children::table)
            .filter(episodes::status.eq(Status::Missing.as_str()))
            .filter(episodes::turned_18_prompted_at.is_null())
            .select((episodes::id, children::date_of_birth))
            .load(c)?;
        let today = local_date(now);
        for (id, dob) in missing {
            if eighteenth_birthday(dob) <= today {
                diesel::update(episodes::table.find(id))
                    .set(episodes::turned_18_prompted_at.eq(now.naive_utc()))
                    .execute(c)?;
                event(c, id, now, "turned_18", &system(), json!({"suggested_closure": "turned_18"}))?;
            }
        }
        Ok(queued)
    })
}
