//! What the delivery worker does to the database: claiming due rows under a lease, recording each
//! attempt's outcome, escalating unacknowledged messages, and acknowledgements. The policy is described
//! in `notify::worker`; the loop that calls these is there too.

use crate::db::schema::{counties, episode_steps, episodes, municipalities, notifications};
use crate::db::{write_tx, AnyConnection};
use crate::domain::code::Code;
use crate::domain::delivery::Mode;
use crate::domain::episode::StepStatus;
use crate::domain::recipients::{Recipient, RecipientKind};
use crate::store::audit::{self, Actor, Event};
use crate::store::children::utc;
use crate::store::episodes::{event, writes, TimelineActor};
use crate::store::outbox::{self, Outgoing};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde_json::json;

/// The longest a claim may last (API.md: at most five minutes); `SAKNAD_OUTBOX_LEASE_SECONDS` can shorten it.
pub const LEASE_SECONDS: i64 = 300;

pub const GIVE_UP_HOURS: i64 = 48;

/// Exponential backoff after `attempts` failed attempts: 10 s, 20 s, 40 s, … at most 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 10) - 1;
    Duration::seconds((10_i64 << exp).min(600))
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    episode_id: i64,
}

/// Claims up to `limit` due rows for this attempt; returns the claim token and (id, episode) pairs.
pub fn claim(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<(String, Vec<(i64, i64)>)> {
    claim_with_lease(conn, now, limit, LEASE_SECONDS)
}

pub fn claim_with_lease(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    limit: i64,
    lease_seconds: i64,
) -> QueryResult<(String, Vec<(i64, i64)>)> {
    let token = crate::auth::random_token(12);
    let until = (now + Duration::seconds(lease_seconds.clamp(1, LEASE_SECONDS))).naive_utc();
    let n = now.naive_utc();
    let ids = match conn {
        AnyConnection::Postgresql(_) => diesel::sql_query(
            "UPDATE notifications SET lock_owner = $1, locked_until = $2 WHERE id IN (\
               SELECT id FROM notifications WHERE status IN ('queued', 'failed') AND gave_up_at IS NULL \
               AND next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until < $3) \
               ORDER BY (recipient_kind <> 'police'), next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id, episode_id",
        )
        .bind::<Text, _>(&token)
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(n)
        .bind::<BigInt, _>(limit)
        .load::<ClaimedId>(conn)?,
        AnyConnection::Sqlite(_) => write_tx(conn, |c| {
            diesel::sql_query(
                "UPDATE notifications SET lock_owner = ?, locked_until = ? WHERE id IN (\
                   SELECT id FROM notifications WHERE status IN ('queued', 'failed') AND gave_up_at IS NULL \
                   AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?) \
                   ORDER BY (recipient_kind <> 'police'), next_attempt_at, id LIMIT ?) RETURNING id, episode_id",
            )
            .bind::<Text, _>(&token)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(n)
            .bind::<Timestamp, _>(n)
            .bind::<BigInt, _>(limit)
            .load::<ClaimedId>(c)
        })?,
    };
    let mut ids: Vec<(i64, i64)> = ids.into_iter().map(|c| (c.id, c.episode_id)).collect();
    ids.sort_unstable();
    Ok((token, ids))
}

fn system() -> TimelineActor<'static> {
    TimelineActor { user_id: None, role: Some("system"), name: None }
}

/// Marks a system step done (when its message is delivered or acknowledged) if it is still pending.
pub fn complete_system_step(
    conn: &mut AnyConnection,
    episode: i64,
    key: &str,
    note: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let pending = writes::step(conn, episode, key)?.filter(|s| s.status == StepStatus::Pending);
    let Some(step) = pending else { return Ok(false) };
    writes::finish_step(conn, &step, StepStatus::Done, None, Some(note), now)?;
    event(conn, episode, now, "step_done", &system(), json!({"key": key}))?;
    Ok(true)
}

/// Records a delivered message (only while our lease holds), inside the caller's transaction; returns the
/// access-log entry of its disclosure — to which kind of recipient, about which episode, which categories of
/// data (`disclosed`) — for the caller to append with the batch's others.
pub fn record_sent(
    c: &mut AnyConnection,
    id: i64,
    token: &str,
    reply: &str,
    sent: &Disclosure,
    now: DateTime<Utc>,
) -> QueryResult<Option<Event>> {
    {
        let n = diesel::update(notifications::table.find(id).filter(notifications::lock_owner.eq(token)))
            .set((
                notifications::delivery_mode.eq(sent.mode.as_str()),
                notifications::status.eq("sent"),
                notifications::sent_at.eq(now.naive_utc()),
                notifications::smtp_reply.eq(reply),
                notifications::attempts.eq(notifications::attempts + 1),
                notifications::locked_until.eq(None::<chrono::NaiveDateTime>),
                notifications::last_error.eq(None::<String>),
            ))
            .execute(c)?;
        if n == 0 {
            return Ok(None);
        }
        let (episode, kind, step, ack, county): (i64, String, Option<String>, bool, String) = notifications::table
            .inner_join(episodes::table)
            .filter(notifications::id.eq(id))
            .select((
                notifications::episode_id,
                notifications::recipient_kind,
                notifications::step_key,
                notifications::ack_required,
                episodes::county_code,
            ))
            .first(c)?;
        event(c, episode, now, "notification_sent", &system(), json!({"recipient_kind": kind, "notification_id": id}))?;
        let how = match (sent.mode, sent.full_refused) {
            (Mode::Full, _) => String::new(),
            (Mode::Notice, false) => " (notice)".to_string(),
            (Mode::Notice, true) => " (notice: full refused, the mail connection does not require TLS)".to_string(),
        };
        let detail = format!("{kind}{how}: {}", sent.categories);
        let entry = Event::new("email_sent").on("case", episode).county(Some(county)).detail(detail);
        // Steps without acknowledgement are done when every message for them is delivered.
        if let (Some(step), false) = (step, ack) {
            let for_step = notifications::table
                .filter(notifications::episode_id.eq(episode))
                .filter(notifications::step_key.eq(&step));
            let unsent: i64 = for_step.filter(notifications::status.ne("sent")).count().get_result(c)?;
            // A step whose messages are acknowledged (police, guardian, social services) is done by the
            // acknowledgement, not by the delivery of an escalation copy to the county.
            let acknowledged_step: bool =
                diesel::select(diesel::dsl::exists(for_step.filter(notifications::ack_required.eq(true))))
                    .get_result(c)?;
            if unsent == 0 && !acknowledged_step && step != "contact_trafficking_coordinator" {
                complete_system_step(c, episode, &step, "delivered", now)?;
            }
        }
        Ok(Some(entry))
    }
}

/// What a delivered message carried, for its notification and its access-log entry.
#[derive(Debug, Clone)]
pub struct Disclosure {
    pub mode: Mode,
    pub full_refused: bool,
    /// The categories of personal data, comma-separated (`reference,identity,…`).
    pub categories: String,
}

/// Records a failed attempt; after 48 hours gives up and tells the county mailbox. Inside the caller's
/// transaction.
pub fn record_failed(
    c: &mut AnyConnection,
    secret: &[u8],
    id: i64,
    token: &str,
    error: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    {
        let row: Option<(i64, i32, chrono::NaiveDateTime, String, String)> = notifications::table
            .find(id)
            .filter(notifications::lock_owner.eq(token))
            .select((
                notifications::episode_id,
                notifications::attempts,
                notifications::created_at,
                notifications::recipient_kind,
                notifications::kind,
            ))
            .first(c)
            .optional()?;
        let Some((episode, attempts, created, recipient_kind, kind)) = row else { return Ok(()) };
        let attempts = attempts + 1;
        let give_up = now - utc(created) >= Duration::hours(GIVE_UP_HOURS);
        diesel::update(notifications::table.find(id))
            .set((
                notifications::status.eq("failed"),
                notifications::attempts.eq(attempts),
                notifications::last_error.eq(error),
                notifications::next_attempt_at.eq((now + backoff(attempts)).naive_utc()),
                notifications::locked_until.eq(None::<chrono::NaiveDateTime>),
                notifications::gave_up_at.eq(give_up.then_some(now.naive_utc())),
            ))
            .execute(c)?;
        if attempts == 1 || give_up {
            let what = if give_up { "notification_gave_up" } else { "notification_failed" };
            event(c, episode, now, what, &system(), json!({"recipient_kind": recipient_kind, "notification_id": id}))?;
        }
        if give_up && kind != "delivery_failed" {
            if let Some(address) = county_mailbox(c, episode)? {
                let r =
                    Recipient { kind: RecipientKind::County, address, language: "sv".into(), ack: false, step_key: "" };
                let m = Outgoing {
                    episode_id: episode,
                    kind: "delivery_failed",
                    recipient: &r,
                    ack_window: None,
                    escalation_of: Some(id),
                };
                outbox::enqueue(c, secret, &m, now)?;
            }
        }
        Ok(())
    }
}

fn county_mailbox(c: &mut AnyConnection, episode: i64) -> QueryResult<Option<String>> {
    episodes::table
        .inner_join(counties::table.on(counties::code.eq(episodes::county_code)))
        .filter(episodes::id.eq(episode))
        .select(counties::county_email)
        .first::<Option<String>>(c)
        .map(|o| o.filter(|s| !s.is_empty()))
}

/// Who hears of an unacknowledged message next (SPEC §7): the county mailbox last. An unacknowledged police
/// mail goes to the people who will phone the police — the child's social worker (or the social services
/// mailbox) in office hours, socialjour outside them — and to the police's fallback mailbox beside them,
/// never to a second police mailbox alone.
fn next_in_chain(
    c: &mut AnyConnection,
    episode: i64,
    recipient_kind: RecipientKind,
    level: i32,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(RecipientKind, Option<String>)>> {
    use RecipientKind as K;
    let (county, responsible): (String, String) = episodes::table
        .find(episode)
        .select((episodes::county_code, episodes::responsible_municipality_code))
        .first(c)?;
    let county_mail =
        |c: &mut AnyConnection| counties::table.find(&county).select(counties::county_email).first::<Option<String>>(c);
    if level >= 1 {
        return Ok(vec![(K::County, county_mail(c)?)]);
    }
    let mailboxes: (Option<String>, Option<String>) = municipalities::table
        .find(&responsible)
        .select((municipalities::social_services_email, municipalities::on_call_email))
        .first(c)?;
    let social_worker = |c: &mut AnyConnection| -> QueryResult<(K, Option<String>)> {
        let own = crate::store::reminders::own_social_worker(c, episode)?.map(|(a, _)| a);
        Ok((K::SocialServices, own.or_else(|| mailboxes.0.clone())))
    };
    Ok(match recipient_kind {
        K::Police => {
            let mut to = vec![(
                K::Police,
                counties::table.find(&county).select(counties::police_fallback_email).first::<Option<String>>(c)?,
            )];
            if crate::domain::calendar::is_office_hours(now) {
                to.push(social_worker(c)?);
            } else {
                to.push((K::OnCall, mailboxes.1.clone()));
                for (address, _) in crate::store::reminders::on_call_users(c, &responsible)? {
                    to.push((K::OnCall, Some(address)));
                }
            }
            to
        }
        K::Guardian => vec![social_worker(c)?],
        K::SocialServices => vec![(K::OnCall, mailboxes.1.clone())],
        _ => vec![(K::County, county_mail(c)?)],
    })
}

#[derive(Queryable)]
struct DueAck {
    id: i64,
    episode_id: i64,
    recipient_kind: String,
    address: String,
    language: String,
    step_key: Option<String>,
    escalation_level: i32,
    ack_due_at: Option<chrono::NaiveDateTime>,
    created_at: chrono::NaiveDateTime,
}

/// Escalates every acknowledgeable message whose window has passed; returns how many.
pub fn escalate(conn: &mut AnyConnection, secret: &[u8], now: DateTime<Utc>) -> QueryResult<usize> {
    write_tx(conn, |c| {
        let due: Vec<DueAck> = notifications::table
            .inner_join(episodes::table)
            .filter(notifications::ack_required.eq(true))
            .filter(notifications::acknowledged_at.is_null())
            .filter(notifications::escalated_at.is_null())
            .filter(notifications::ack_due_at.le(now.naive_utc()))
            .select((
                notifications::id,
                notifications::episode_id,
                notifications::recipient_kind,
                notifications::address,
                notifications::language,
                notifications::step_key,
                notifications::escalation_level,
                notifications::ack_due_at,
                notifications::created_at,
            ))
            .load(c)?;
        let mut count = 0;
        for d in due {
            diesel::update(notifications::table.find(d.id))
                .set(notifications::escalated_at.eq(now.naive_utc()))
                .execute(c)?;
            let status: String = episodes::table.find(d.episode_id).select(episodes::status).first(c)?;
            let step_open = match &d.step_key {
                Some(k) => episode_steps::table
                    .filter(episode_steps::episode_id.eq(d.episode_id))
                    .filter(episode_steps::key.eq(k))
                    .select(episode_steps::status)
                    .first::<String>(c)
                    .optional()?
                    .is_some_and(|s| s == StepStatus::Pending.as_str()),
                None => true,
            };
            let acked_elsewhere: bool = diesel::select(diesel::dsl::exists(
                notifications::table
                    .filter(notifications::episode_id.eq(d.episode_id))
                    .filter(notifications::step_key.eq(&d.step_key))
                    .filter(notifications::acknowledged_at.is_not_null()),
            ))
            .get_result(c)?;
            if status == crate::domain::episode::Status::Closed.as_str()
                || !step_open
                || acked_elsewhere
                || d.escalation_level >= 2
            {
                continue;
            }
            // The same window again for the re-sent message and the next recipient.
            let window = d.ack_due_at.map(|due| utc(due) - utc(d.created_at)).filter(|w| *w > Duration::zero());
            let window = window.map(|w| crate::domain::deadline::IsoDuration {
                seconds: w.num_seconds().clamp(60, 366 * 86_400) as u32,
                ..Default::default()
            });
            let step: &'static str = crate::domain::routine::SYSTEM_NEEDS
                .iter()
                .chain(["notify_guardian", "notify_social_services"].iter())
                .copied()
                .find(|k| Some(*k) == d.step_key.as_deref())
                .unwrap_or("");
            let mut told = Vec::new();
            // A kind this program does not know is escalated as the county's.
            let from = RecipientKind::parse(&d.recipient_kind).unwrap_or(RecipientKind::County);
            if d.escalation_level == 0 {
                let kind = from;
                let again = Recipient {
                    kind,
                    address: d.address.clone(),
                    language: d.language.clone(),
                    ack: true,
                    step_key: step,
                };
                let m = Outgoing {
                    episode_id: d.episode_id,
                    kind: "escalation",
                    recipient: &again,
                    ack_window: window,
                    escalation_of: Some(d.id),
                };
                let nid = outbox::enqueue(c, secret, &m, now)?;
                diesel::update(notifications::table.find(nid)).set(notifications::escalation_level.eq(1)).execute(c)?;
                told.push(kind);
            }
            let next = next_in_chain(c, d.episode_id, from, d.escalation_level, now)?;
            for (kind, address) in next {
                let Some(address) = address else { continue };
                let already: bool = diesel::select(diesel::dsl::exists(
                    notifications::table
                        .filter(notifications::episode_id.eq(d.episode_id))
                        .filter(notifications::kind.eq("escalation"))
                        .filter(notifications::address.eq(&address))
                        .filter(notifications::step_key.eq(&d.step_key)),
                ))
                .get_result(c)?;
                if !already && !address.eq_ignore_ascii_case(&d.address) {
                    let to_county = kind == RecipientKind::County;
                    let r = Recipient { kind, address, language: "sv".into(), ack: !to_county, step_key: step };
                    let m = Outgoing {
                        episode_id: d.episode_id,
                        kind: "escalation",
                        recipient: &r,
                        ack_window: window,
                        escalation_of: Some(d.id),
                    };
                    let nid = outbox::enqueue(c, secret, &m, now)?;
                    let level = if to_county { 2 } else { d.escalation_level + 1 };
                    diesel::update(notifications::table.find(nid))
                        .set(notifications::escalation_level.eq(level))
                        .execute(c)?;
                    told.push(kind);
                }
            }
            if !told.is_empty() {
                event(
                    c,
                    d.episode_id,
                    now,
                    "escalated",
                    &system(),
                    json!({"from": d.recipient_kind, "notification_id": d.id, "to": told}),
                )?;
                count += 1;
            }
        }
        Ok(count)
    })
}

/// Outcome of an acknowledgement.
#[derive(Debug, PartialEq, Eq)]
pub enum AckOutcome {
    Recorded { reference: String },
    Gone,
    Unknown,
}

/// What the acknowledgement page shows before the recipient confirms.
pub struct AckInfo {
    pub episode_id: i64,
    pub county_code: String,
    pub reference: String,
    pub recipient_kind: String,
    /// the recipient's language, the page's unless they switch
    pub language: String,
    pub acknowledged: bool,
    pub expired: bool,
    pub notification_id: i64,
    pub ack_required: bool,
    /// How the message was sent; the page shows a notice's content, never a full message's again.
    pub mode: Option<Mode>,
    pub kind: String,
}

pub fn ack_info(conn: &mut AnyConnection, token: &str, now: DateTime<Utc>) -> QueryResult<Option<AckInfo>> {
    if !crate::auth::ack::well_formed(token) {
        return Ok(None);
    }
    type Row = (
        (i64, String, String, String, String, Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>),
        (i64, bool, Option<String>, String),
    );
    let row: Option<Row> = notifications::table
        .inner_join(episodes::table)
        .filter(notifications::ack_token_hash.eq(crate::auth::ack::hash(token)))
        .select((
            (
                episodes::id,
                episodes::county_code,
                episodes::reference,
                notifications::recipient_kind,
                notifications::language,
                notifications::acknowledged_at,
                notifications::ack_expires_at,
            ),
            (notifications::id, notifications::ack_required, notifications::delivery_mode, notifications::kind),
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|((episode_id, county_code, reference, recipient_kind, language, acked, expires), more)| AckInfo {
        episode_id,
        county_code,
        reference,
        recipient_kind,
        language,
        acknowledged: acked.is_some(),
        expired: expires.is_none_or(|e| utc(e) <= now),
        notification_id: more.0,
        ack_required: more.1,
        mode: more.2.as_deref().and_then(Mode::parse),
        kind: more.3,
    }))
}

/// Records an acknowledgement: single use, within 14 days. A police reference sets the episode's and
/// completes `police_report`; other acknowledgements complete their `notify_*` step.
pub fn acknowledge(
    conn: &mut AnyConnection,
    token: &str,
    name: &str,
    reference: Option<&str>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> QueryResult<AckOutcome> {
    if !crate::auth::ack::well_formed(token) {
        return Ok(AckOutcome::Unknown);
    }
    let hash = crate::auth::ack::hash(token);
    write_tx(conn, |c| {
        #[allow(clippy::type_complexity)]
        let row: Option<(
            i64,
            i64,
            String,
            Option<String>,
            Option<chrono::NaiveDateTime>,
            Option<chrono::NaiveDateTime>,
        )> = notifications::table
            .filter(notifications::ack_token_hash.eq(&hash))
            .filter(notifications::ack_required.eq(true))
            .select((
                notifications::id,
                notifications::episode_id,
                notifications::recipient_kind,
                notifications::step_key,
                notifications::acknowledged_at,
                notifications::ack_expires_at,
            ))
            .first(c)
            .optional()?;
        let Some((id, episode, kind, step, acked, expires)) = row else { return Ok(AckOutcome::Unknown) };
        if acked.is_some() || expires.is_none_or(|e| utc(e) <= now) {
            return Ok(AckOutcome::Gone);
        }
        // Only the first of two concurrent acknowledgements wins.
        let n = diesel::update(notifications::table.find(id).filter(notifications::acknowledged_at.is_null()))
            .set((
                notifications::acknowledged_at.eq(now.naive_utc()),
                notifications::acknowledged_by.eq(name),
                notifications::ack_reference.eq(reference),
            ))
            .execute(c)?;
        if n == 0 {
            return Ok(AckOutcome::Gone);
        }
        let role = format!("recipient:{kind}");
        event(
            c,
            episode,
            now,
            "acknowledged",
            &TimelineActor { user_id: None, role: Some(&role), name: Some(name) },
            json!({"recipient_kind": kind, "notification_id": id, "police_reference": reference}),
        )?;
        let (ep_ref, county, police_ref): (String, String, Option<String>) = episodes::table
            .find(episode)
            .select((episodes::reference, episodes::county_code, episodes::police_reference))
            .first(c)?;
        let police = RecipientKind::Police.as_str();
        match (kind.as_str(), reference) {
            (k, Some(r)) if k == police => {
                if police_ref.is_none() {
                    diesel::update(episodes::table.find(episode)).set(episodes::police_reference.eq(r)).execute(c)?;
                }
                complete_system_step(c, episode, "police_report", "acknowledged by the police with a reference", now)?;
            }
            (k, None) if k == police => {}
            _ => {
                if let Some(s) = step.as_deref().filter(|s| s.starts_with("notify_")) {
                    complete_system_step(c, episode, s, "acknowledged", now)?;
                }
            }
        }
        let actor = Actor { user_id: None, role: Some(role.clone()), ip };
        audit::append(
            c,
            &actor,
            &Event::new("notification_acknowledged").on("case", episode).county(Some(county)),
            now,
        )?;
        Ok(AckOutcome::Recorded { reference: ep_ref })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_at_ten_seconds_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(6), Duration::seconds(320));
        assert_eq!(backoff(7), Duration::seconds(600));
        assert_eq!(backoff(50), Duration::seconds(600));
    }
}
