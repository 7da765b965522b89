//! What rendering a notification reads: the notification row, the episode with what every message about
//! it needs (loaded once per batch), the kind of the message an escalation follows, and a reminder's
//! steps. Rendering itself (and its data minimisation) is `notify::render`.

use crate::db::schema::{accommodations, children, episode_steps, episodes, municipalities, notifications, users};
use crate::db::AnyConnection;
use crate::store::children::ChildRow;
use crate::store::episodes::EpisodeRow;
use crate::store::outbox::NotificationHead;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// What the renderer needs of one notification row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct ToRender {
    #[diesel(embed)]
    pub head: NotificationHead,
    pub language: String,
    pub ack_required: bool,
    pub ack_nonce: Option<String>,
    pub ack_expires_at: Option<NaiveDateTime>,
    pub escalation_of: Option<i64>,
    pub message_id: String,
    pub payload: Option<String>,
}

/// What every message about one episode needs, loaded once for the messages of a claimed batch.
pub struct Loaded {
    pub episode: EpisodeRow,
    pub child: ChildRow,
    pub municipality: String,
    pub social_worker: Option<(String, String)>,
    pub accommodation: Option<(String, String)>,
    /// The county's choices of how messages travel (SPEC §7).
    pub delivery: crate::store::org::CountyContacts,
}

impl Loaded {
    pub fn load(conn: &mut AnyConnection, episode_id: i64) -> QueryResult<Loaded> {
        let episode: EpisodeRow = episodes::table.find(episode_id).select(EpisodeRow::as_select()).first(conn)?;
        let child: ChildRow = children::table.find(episode.child_id).select(ChildRow::as_select()).first(conn)?;
        let municipality: String = municipalities::table
            .find(&episode.municipality_code)
            .select(municipalities::name)
            .first(conn)
            .optional()?
            .unwrap_or_else(|| episode.municipality_code.clone());
        let social_worker = match child.social_worker_id {
            Some(id) => users::table.find(id).select((users::name, users::email)).first(conn).optional()?,
            None => None,
        };
        let accommodation = match episode.accommodation_id {
            Some(a) => accommodations::table
                .find(a)
                .select((accommodations::name, accommodations::phone))
                .first(conn)
                .optional()?,
            None => None,
        };
        let delivery = crate::store::org::county_contacts(conn, &episode.county_code)?.unwrap_or_default();
        Ok(Loaded { episode, child, municipality, social_worker, accommodation, delivery })
    }
}

pub fn load(conn: &mut AnyConnection, id: i64) -> QueryResult<ToRender> {
    notifications::table.find(id).select(ToRender::as_select()).first(conn)
}

/// The recipient kind of notification `id` (the one an escalation or a failure report is about).
pub fn recipient_kind_of(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<String>> {
    notifications::table.find(id).select(notifications::recipient_kind).first::<String>(conn).optional()
}

/// One step of a reminder: (episode id, reference, Swedish title, English title, due).
pub type ReminderStep = (i64, String, String, String, NaiveDateTime);

/// A reminder's steps, soonest due first.
pub fn reminder_steps(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<ReminderStep>> {
    episode_steps::table
        .inner_join(episodes::table)
        .filter(episode_steps::id.eq_any(ids))
        .order(episode_steps::due_at.asc())
        .select((
            episodes::id,
            episodes::reference,
            episode_steps::title_sv,
            episode_steps::title_en,
            episode_steps::due_at,
        ))
        .load(conn)
}

/// An event of the morning hand-over, with the step's titles when it was about a step.
pub struct HandoverEvent {
    pub episode_id: i64,
    pub reference: String,
    pub kind: String,
    pub at: chrono::NaiveDateTime,
    pub by: Option<String>,
    pub step_title: Option<(String, String)>,
}

pub fn handover_events(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<HandoverEvent>> {
    use crate::db::schema::episode_events;
    let rows: Vec<(i64, String, String, chrono::NaiveDateTime, Option<String>, String)> = episode_events::table
        .inner_join(episodes::table)
        .filter(episode_events::id.eq_any(ids))
        .order((episode_events::at.asc(), episode_events::id.asc()))
        .select((
            episodes::id,
            episodes::reference,
            episode_events::kind,
            episode_events::at,
            episode_events::actor_name,
            episode_events::detail,
        ))
        .load(conn)?;
    let mut out = Vec::new();
    for (episode_id, reference, kind, at, by, detail) in rows {
        let key =
            serde_json::from_str::<serde_json::Value>(&detail).ok().and_then(|d| d["key"].as_str().map(String::from));
        let step_title = match key {
            Some(k) => episode_steps::table
                .filter(episode_steps::episode_id.eq(episode_id))
                .filter(episode_steps::key.eq(k))
                .select((episode_steps::title_sv, episode_steps::title_en))
                .first(conn)
                .optional()?,
            None => None,
        };
        out.push(HandoverEvent { episode_id, reference, kind, at, by, step_title });
    }
    Ok(out)
}
