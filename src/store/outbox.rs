//! Writing notifications into the outbox, always inside the transaction of the change that causes them,
//! so that a change acknowledged to the user can never lose its messages.

use crate::auth::ack;
use crate::db::schema::notifications;
use crate::db::AnyConnection;
use crate::domain::deadline::IsoDuration;
use crate::domain::recipients::Recipient;
use crate::domain::recipients::RecipientKind;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

/// What every reader of a notification needs: which message to whom, about which episode.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationHead {
    pub id: i64,
    pub episode_id: i64,
    pub kind: String,
    #[diesel(deserialize_as = crate::db::code::Coded<RecipientKind>)]
    pub recipient_kind: RecipientKind,
    pub address: String,
}

/// The columns of a notification that a case view shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    #[diesel(embed)]
    pub head: NotificationHead,
    pub status: String,
    pub ack_required: bool,
    #[diesel(deserialize_as = crate::db::timestamp::OptTs)]
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    #[diesel(deserialize_as = crate::db::timestamp::OptTs)]
    pub sent_at: Option<NaiveDateTime>,
}

/// API.md NOTE.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub id: i64,
    pub recipient_kind: RecipientKind,
    pub address: Option<String>,
    pub kind: String,
    pub status: String,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    pub ack_required: bool,
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

impl NotificationRow {
    pub fn into_view(self, pseudonymised: bool) -> NoteView {
        let utc = crate::store::children::utc;
        NoteView {
            id: self.head.id,
            recipient_kind: self.head.recipient_kind,
            address: (!pseudonymised).then_some(self.head.address),
            kind: self.head.kind,
            status: self.status,
            sent_at: self.sent_at.map(utc),
            ack_required: self.ack_required,
            acknowledged_at: self.acknowledged_at.map(utc),
            acknowledged_by: if pseudonymised { None } else { self.acknowledged_by },
        }
    }
}

pub fn for_episodes(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<NotificationRow>> {
    crate::store::load_for_ids!(
        conn,
        notifications::table.order(notifications::id.asc()).select(NotificationRow::as_select()),
        notifications::episode_id,
        ids
    )
}

/// One message to queue.
pub struct Outgoing<'a> {
    pub episode_id: i64,
    /// case_reported, case_found, case_closed, escalation or reminder
    pub kind: &'a str,
    pub recipient: &'a Recipient,
    pub ack_window: Option<IsoDuration>,
    pub escalation_of: Option<i64>,
}

/// Queues one message; returns its id.
pub fn enqueue(conn: &mut AnyConnection, secret: &[u8], m: &Outgoing, now: DateTime<Utc>) -> QueryResult<i64> {
    let (episode_id, kind, r, ack_window, escalation_of) =
        (m.episode_id, m.kind, m.recipient, m.ack_window, m.escalation_of);
    let nonce = crate::auth::random_token(32);
    // Every message has a link: to acknowledge, or to read a notice's content (SPEC §7); both expire together.
    let hash = Some(ack::hash(&ack::token(secret, &nonce)));
    let expires = Some((now + Duration::days(ack::VALID_DAYS)).naive_utc());
    let due = r.ack.then(|| ack_window.map(|w| w.add_to(now)).unwrap_or(now + Duration::hours(1)).naive_utc());
    crate::db::on_backend!(conn, |c| diesel::insert_into(notifications::table)
        .values((
            notifications::episode_id.eq(episode_id),
            notifications::kind.eq(kind),
            notifications::recipient_kind.eq(r.kind.as_str()),
            notifications::address.eq(&r.address),
            notifications::language.eq(&r.language),
            notifications::status.eq("queued"),
            notifications::step_key.eq(Some(r.step_key).filter(|k| !k.is_empty())),
            notifications::ack_required.eq(r.ack),
            notifications::ack_nonce.eq(&nonce),
            notifications::ack_token_hash.eq(hash),
            notifications::ack_expires_at.eq(expires),
            notifications::ack_due_at.eq(due),
            notifications::escalation_of.eq(escalation_of),
            notifications::attempts.eq(0),
            notifications::next_attempt_at.eq(now.naive_utc()),
            // Stable per notification, so a receiver can drop a repeat of the same message.
            notifications::message_id.eq(format!("<{}@saknad>", crate::auth::random_token(18))),
            notifications::created_at.eq(now.naive_utc()),
        ))
        .returning(notifications::id)
        .get_result(c))
}
