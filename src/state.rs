//! The state every handler shares, built once in `build`.

use crate::auth::limiter::LoginLimiter;
use crate::auth::token::Keys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::notify::worker::Outbox;
use std::sync::Arc;

pub struct AppState {
    pub db: Db,
    pub keys: Keys,
    pub clock: Clock,
    pub settings: Settings,
    pub limiter: LoginLimiter,
    pub outbox: Arc<Outbox>,
    pub pages: crate::web::Pages,
    pub audit: crate::store::audit_sink::AuditSink,
    pub users: crate::auth::cache::UserCache,
    pub sessions: crate::auth::cache::SessionCache,
}

impl AppState {
    /// Logs a read in the access log and answers its records; the records are not shown when the entry
    /// cannot be committed.
    pub async fn disclose<T>(
        &self,
        actor: crate::store::audit::Actor,
        read: crate::app::Disclosed<T>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::app::AppResult<T> {
        if read.records.is_empty() {
            self.audit.log(actor, read.entry, now).await?;
        } else {
            let mut all = vec![read.entry];
            all.extend(read.records);
            self.audit.log_all(actor, all, now).await?;
        }
        Ok(read.value)
    }
}
