//! Group commit for access-log entries of reads.
//!
//! Policy: a read of personal data is answered only after its access-log entry is committed, but the
//! entries of concurrent reads are committed together — one transaction per batch on a dedicated writer
//! thread — so the log costs one write per batch instead of one per request (SQLite has one writer).
//! Changes still write their entry inside their own transaction.

use super::audit::{self, Actor, Event};
use crate::app::AppError;
use crate::db::{write_tx, Db};
use chrono::{DateTime, Utc};
use std::sync::mpsc;
use tokio::sync::oneshot;

const MAX_BATCH: usize = 512;

struct Pending {
    actor: Actor,
    event: Event,
    at: DateTime<Utc>,
    done: oneshot::Sender<bool>,
}

pub struct AuditSink {
    tx: std::sync::Mutex<mpsc::Sender<Pending>>,
}

impl AuditSink {
    pub fn start(db: Db) -> AuditSink {
        let (tx, rx) = mpsc::channel::<Pending>();
        let spawned = std::thread::Builder::new().name("saknad-audit".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let ok = match db.get() {
                    Ok(mut c) => write_tx(&mut c, |c| {
                        let items: Vec<_> = batch.iter().map(|p| (&p.actor, &p.event, p.at)).collect();
                        audit::append_many(c, &items).map(|_| ())
                    })
                    .map_err(|e| log::error!("access log batch failed: {e}"))
                    .is_ok(),
                    Err(e) => {
                        log::error!("access log: {e}");
                        false
                    }
                };
                for p in batch {
                    let _ = p.done.send(ok);
                }
            }
        });
        if let Err(e) = spawned {
            log::error!("cannot start the access-log writer: {e}");
        }
        AuditSink { tx: std::sync::Mutex::new(tx) }
    }

    /// Logs several entries of one read (a list and each record in it) and waits until all are committed.
    pub async fn log_all(&self, actor: Actor, events: Vec<Event>, at: DateTime<Utc>) -> Result<(), AppError> {
        let mut waits = Vec::with_capacity(events.len());
        if let Ok(tx) = self.tx.lock() {
            for event in events {
                let (done, wait) = oneshot::channel();
                if tx.send(Pending { actor: actor.clone(), event, at, done }).is_err() {
                    return Err(AppError::unavailable());
                }
                waits.push(wait);
            }
        } else {
            return Err(AppError::unavailable());
        }
        for w in waits {
            if !w.await.unwrap_or(false) {
                return Err(AppError::unavailable());
            }
        }
        Ok(())
    }

    /// Logs a read and waits until the entry is committed; an error means the data must not be shown.
    pub async fn log(&self, actor: Actor, event: Event, at: DateTime<Utc>) -> Result<(), AppError> {
        let (done, wait) = oneshot::channel();
        let sent = self.tx.lock().map(|tx| tx.send(Pending { actor, event, at, done }).is_ok()).unwrap_or(false);
        if sent && wait.await.unwrap_or(false) {
            Ok(())
        } else {
            Err(AppError::unavailable())
        }
    }
}
