//! The delivery worker.
//!
//! Policy:
//! - Started with the server; woken at once when a change queues messages, and every few seconds for
//!   retries and escalations.
//! - Rows are claimed with a lease (at most 5 minutes) under a fresh claim token; on PostgreSQL with
//!   `FOR UPDATE SKIP LOCKED`, so several server instances never claim the same row. A row whose claimer
//!   died is claimed again when its lease runs out. A result is recorded only while the lease is still ours.
//! - Messages are rendered at send time. A failed attempt is retried with exponential backoff (10 s,
//!   doubling, at most 10 minutes); 48 hours after it was queued the notification has failed for good,
//!   which is recorded on the episode and reported to the county mailbox.
//! - Delivery is at least once; the Message-ID is fixed per notification so receivers can drop repeats.
//! - Escalation: an acknowledgeable message not acknowledged within its window is sent again and the next
//!   recipient in the chain is told (police → police fallback; guardian → social worker; social services →
//!   socialjour; then the county mailbox), unless the step is done or the episode closed.

use super::mailer::{self, Mailer, SendResult};
use super::render::{self, Renderer};
use crate::clock::Clock;
use crate::db::{write_tx, Db, DbError};
use crate::domain::delivery::Mode;
use crate::store::delivery::{claim_with_lease, escalate, record_failed, record_sent, Disclosure};
use chrono::{DateTime, Duration, Utc};
use rocket::tokio::sync::Notify;
use std::sync::Arc;
const BATCH: i64 = 32;

/// What the worker shares with the handlers.
pub struct Outbox {
    pub wake: Notify,
    pub renderer: Renderer,
    pub mailer: Mailer,
    pub mail_from: String,
    pub public_url: String,
    pub secret: Vec<u8>,
    /// (photo days, personal-data days) for retention, and when it last ran.
    pub retention: (i64, i64),
    pub last_retention: std::sync::Mutex<Option<DateTime<Utc>>>,
    /// The local day the access log's head was last anchored outside the database.
    pub last_anchor: std::sync::Mutex<Option<chrono::NaiveDate>>,
    /// Where anchors are appended (`anchors.log` in the data directory).
    pub anchor_file: std::path::PathBuf,
    /// Anchor mails not yet delivered to a county mailbox: (county code, address, line), retried each pass.
    pub anchor_mail: std::sync::Mutex<Vec<(String, String, String)>>,
    pub lease_seconds: i64,
}

impl Outbox {
    /// Tells the worker that new rows are committed.
    pub fn poke(&self) {
        self.wake.notify_one();
    }
}

/// Renders (in one database round trip) and sends the claimed rows of one episode, in order.
/// Renders every claimed message in one read transaction (messages about one episode share its data).
async fn prepare(db: &Db, ob: &Arc<Outbox>, now: DateTime<Utc>, ids: Vec<i64>) -> Result<Vec<Prepared>, DbError> {
    let ob2 = Arc::clone(ob);
    db.run(move |c| -> Result<Vec<_>, DbError> {
        crate::db::read_tx(c, |c| {
            let mut out = Vec::with_capacity(ids.len());
            let mut cache = None;
            for id in ids {
                let n = crate::store::messages::load(c, id)?;
                let rendered = ob2.renderer.render(
                    c,
                    &n,
                    &mut cache,
                    &ob2.secret,
                    &ob2.public_url,
                    now,
                    ob2.mailer.tls_required(),
                );
                out.push((n, rendered));
            }
            Ok(out)
        })
    })
    .await
}

type Prepared = (crate::store::messages::ToRender, Result<render::Rendered, String>);

/// Sends one episode's messages in queue order.
async fn send_group(ob: &Arc<Outbox>, clock: &Clock, prepared: Vec<Prepared>) -> Vec<(i64, SendResult)> {
    let mut results = Vec::with_capacity(prepared.len());
    for (n, rendered) in prepared {
        let outcome = match rendered.and_then(|r| mailer::build(&ob.mail_from, &n.head.address, &n.message_id, &r)) {
            Ok(msg) => {
                let stem = format!("{}-{}", clock.now().format("%Y%m%dT%H%M%S"), n.head.id);
                ob.mailer.send(msg, &stem).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &outcome {
            // The server's reply can name the recipient: the log gets only its first word (e.g. the code);
            // the whole reply is kept with the notification.
            let kind = e.split_whitespace().next().unwrap_or("error");
            log::warn!("notification {}: delivery attempt failed ({kind})", n.head.id);
        }
        results.push((n.head.id, outcome));
    }
    results
}

/// One pass: escalate what is due, then claim and deliver until nothing is due. Returns messages sent.
pub async fn run_once(db: &Db, ob: &Arc<Outbox>, clock: &Clock) -> Result<usize, DbError> {
    maintain(db, ob, clock).await?;
    deliver_due(db, ob, clock).await
}

/// The clock-driven duties: escalations, reminders and prompts, retention (hourly).
pub async fn maintain(db: &Db, ob: &Arc<Outbox>, clock: &Clock) -> Result<(), DbError> {
    let now = clock.now();
    let ob2 = Arc::clone(ob);
    let escalated = db.run(move |c| escalate(c, &ob2.secret, now).map_err(DbError::from)).await?;
    if escalated > 0 {
        log::info!("escalated {escalated} unacknowledged notifications");
    }
    let ob2 = Arc::clone(ob);
    db.run(move |c| crate::store::reminders::run(c, &ob2.secret, now).map_err(DbError::from)).await?;
    // Once a day, the access log's head is anchored outside the database.
    let today = crate::domain::calendar::local_date(now);
    let anchor_due = ob.last_anchor.lock().map(|l| *l != Some(today)).unwrap_or(false);
    if anchor_due {
        let a = db.run(move |c| crate::store::audit::anchor(c, today).map_err(DbError::from)).await?;
        log::info!("{}", a.line);
        let path = ob.anchor_file.clone();
        let line = a.line.clone();
        let written = rocket::tokio::task::spawn_blocking(move || crate::files::append_private(&path, &line)).await;
        match written {
            Ok(Ok(())) => {
                if let Ok(mut l) = ob.last_anchor.lock() {
                    *l = Some(today);
                }
                // And to every county mailbox: a copy that whoever can write the server cannot take back.
                let boxes = db.run(|c| crate::store::org::county_mailboxes(c).map_err(DbError::from)).await?;
                if let Ok(mut pending) = ob.anchor_mail.lock() {
                    pending.extend(boxes.into_iter().map(|(county, to)| (county, to, a.line.clone())));
                }
            }
            _ => log::error!("the access log's anchor could not be written to {}", ob.anchor_file.display()),
        }
    }
    send_anchor_mail(ob, clock).await;
    super::account::send_due(db, ob, now).await?;
    // Retention at most once an hour.
    let due = ob.last_retention.lock().map(|l| l.is_none_or(|t| now - t >= Duration::hours(1))).unwrap_or(false);
    if due {
        let (photo, personal) = ob.retention;
        let out = db.run(move |c| crate::store::retention::run(c, photo, personal, now).map_err(DbError::from)).await?;
        db.run(move |c| crate::store::sessions::prune(c, now).map_err(DbError::from)).await?;
        if let Ok(mut l) = ob.last_retention.lock() {
            *l = Some(now);
        }
        if out.photos_deleted + out.children_pseudonymised > 0 {
            log::info!(
                "retention: {} photos deleted, {} children pseudonymised",
                out.photos_deleted,
                out.children_pseudonymised
            );
        }
    }
    Ok(())
}

/// Sends the pending anchor mails; those that fail stay pending for the next pass.
async fn send_anchor_mail(ob: &Arc<Outbox>, clock: &Clock) {
    let pending: Vec<_> = ob.anchor_mail.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default();
    let mut failed = Vec::new();
    for (county, to, line) in pending {
        let day = line.split(' ').nth(2).unwrap_or_default().to_string();
        let r = render::anchor(&line);
        let id = format!("<anchor-{day}-{county}@saknad>");
        let outcome = match mailer::build(&ob.mail_from, &to, &id, &r) {
            Ok(msg) => ob.mailer.send(msg, &format!("{}-anchor-{county}", clock.now().format("%Y%m%dT%H%M%S"))).await,
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            let kind = e.split_whitespace().next().unwrap_or("error").to_string();
            log::warn!("the access log's anchor could not be mailed to county {county} ({kind}); retrying");
            failed.push((county, to, line));
        }
    }
    if let Ok(mut p) = ob.anchor_mail.lock() {
        p.extend(failed);
    }
}

/// Claims and delivers every message that is due; returns how many were sent.
pub async fn deliver_due(db: &Db, ob: &Arc<Outbox>, clock: &Clock) -> Result<usize, DbError> {
    let mut sent = 0;
    loop {
        let now = clock.now();
        let lease = ob.lease_seconds;
        let (token, ids) = db.run(move |c| claim_with_lease(c, now, BATCH, lease).map_err(DbError::from)).await?;
        if ids.is_empty() {
            return Ok(sent);
        }
        // Episodes in parallel; within an episode in queue order, so the police hear first.
        let mut groups: Vec<(i64, Vec<Prepared>)> = Vec::new();
        let mut disclosed: std::collections::HashMap<i64, Disclosure> = std::collections::HashMap::new();
        for p in prepare(db, ob, now, ids.iter().map(|i| i.0).collect()).await? {
            if let Ok(r) = &p.1 {
                let d = Disclosure { mode: r.mode, full_refused: r.full_refused, categories: r.categories.join(",") };
                disclosed.insert(p.0.head.id, d);
            }
            match groups.iter_mut().find(|g| g.0 == p.0.head.episode_id) {
                Some(g) => g.1.push(p),
                None => groups.push((p.0.head.episode_id, vec![p])),
            }
        }
        let results =
            rocket::futures::future::join_all(groups.into_iter().map(|(_, p)| send_group(ob, clock, p))).await;
        let outcomes: Vec<(i64, SendResult)> = results.into_iter().flatten().collect();
        let ok = outcomes.iter().filter(|o| o.1.is_ok()).count();
        sent += ok;
        // All outcomes of the batch in one transaction.
        let now = clock.now();
        let ob3 = Arc::clone(ob);
        db.run(move |c| {
            write_tx(c, |c| {
                let mut entries = Vec::new();
                for (id, outcome) in &outcomes {
                    match outcome {
                        Ok(reply) => {
                            let what = disclosed.get(id).cloned().unwrap_or(Disclosure {
                                mode: Mode::Notice,
                                full_refused: false,
                                categories: "reference".into(),
                            });
                            entries.extend(record_sent(c, *id, &token, reply, &what, now)?);
                        }
                        Err(e) => record_failed(c, &ob3.secret, *id, &token, e, now)?,
                    }
                }
                // Each delivered message's disclosure, appended to the access log in one go.
                let system = crate::store::audit::Actor::system();
                let items: Vec<_> = entries.iter().map(|e| (&system, e, now)).collect();
                crate::store::audit::append_many(c, &items)?;
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(DbError::from)
        })
        .await?;
        if ok == 0 {
            // Everything failed (mail server down): wait for the backoff rather than spinning.
            return Ok(sent);
        }
    }
}

/// The background loop: runs until `stop` is notified, finishing the send in flight.
/// The background loop: delivers at once when woken, and does the clock-driven duties every `poll`, so a
/// burst of reports is not slowed by scans for reminders. Runs until `stop`, finishing the send in flight.
pub async fn run(db: Db, ob: Arc<Outbox>, clock: Clock, stop: Arc<Notify>, poll: std::time::Duration) {
    let mut last_maintenance: Option<std::time::Instant> = None;
    loop {
        if last_maintenance.is_none_or(|t| t.elapsed() >= poll) {
            if let Err(e) = maintain(&db, &ob, &clock).await {
                log::error!("outbox worker: {e}");
            }
            last_maintenance = Some(std::time::Instant::now());
        }
        if let Err(e) = deliver_due(&db, &ob, &clock).await {
            log::error!("outbox worker: {e}");
        }
        rocket::tokio::select! {
            _ = ob.wake.notified() => {}
            _ = rocket::tokio::time::sleep(poll) => {}
            _ = stop.notified() => return,
        }
    }
}
