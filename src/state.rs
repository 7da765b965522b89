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
}
