//! Saknad: reporting and follow-up when an unaccompanied child disappears from care.
//!
//! [`build`] is the one composition root: `main` and the tests both start from it.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod files;
pub mod i18n;
pub mod input;
pub mod notify;
pub mod routes;
pub mod state;
pub mod store;
/// Every Tera template under `templates/`, embedded at build time by `build.rs`.
pub mod templates {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));

    /// A Tera engine with one of the lists; `what` names it when a template does not parse.
    pub fn engine(list: &[(&str, &str)], what: &str) -> Result<tera::Tera, String> {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(list.to_vec()).map_err(|e| format!("{what} templates do not parse: {e}"))?;
        Ok(tera)
    }
}
pub mod timefmt;
pub mod web;

use crate::auth::limiter::LoginLimiter;
use crate::auth::token::Keys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::notify::mailer::Mailer;
use crate::notify::render::Renderer;
use crate::notify::worker::Outbox;
use crate::state::AppState;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::tokio::sync::Notify;
use rocket::{Build, Orbit, Rocket};
use std::sync::Arc;

/// Opens and migrates the database and seeds the geography; the first half of start-up, also used by
/// `saknad migrate` and `saknad create-admin`.
pub fn open_database(settings: &Settings) -> Result<Db, String> {
    let db = Db::open(&settings.database, settings.db_pool_size)?;
    db.migrate()?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    store::audit::register_key(&mut conn, settings.audit_key.as_bytes())
        .map_err(|e| format!("loading the access log's key failed: {e}"))?;
    db::seed::seed_geography(&mut conn).map_err(|e| format!("seeding counties and municipalities failed: {e}"))?;
    store::routines::seed_defaults(&mut conn, clock::Clock::system().now())
        .map_err(|e| format!("seeding the default routines failed: {e}"))?;
    Ok(db)
}

/// Builds the server from a figment (Rocket.toml, ROCKET_* and SAKNAD_* merged) with the system clock.
pub fn build(figment: Figment) -> Result<Rocket<Build>, String> {
    build_with_clock(figment, Clock::system())
}

pub fn build_with_clock(figment: Figment, clock: Clock) -> Result<Rocket<Build>, String> {
    let settings = Settings::from_figment(&figment)?;
    let db = open_database(&settings)?;
    if settings.demo {
        let mut conn = db.get().map_err(|e| e.to_string())?;
        if let Some(logins) = demo::seed(&mut conn, clock.now()).map_err(|e| format!("demo seeding failed: {e}"))? {
            println!("{logins}");
        }
    }
    let outbox = Arc::new(Outbox {
        wake: Notify::new(),
        renderer: Renderer::new()?,
        mailer: Mailer::from_settings(
            settings.smtp_url.as_deref(),
            settings.smtp_ca_file.as_deref(),
            &settings.data_dir,
        )?,
        mail_from: settings.mail_from.clone(),
        public_url: settings.public_url.clone(),
        secret: settings.jwt_secret.clone().into_bytes(),
        retention: (settings.retention_photo_days, settings.retention_personal_days),
        last_retention: std::sync::Mutex::new(None),
        last_anchor: std::sync::Mutex::new(None),
        anchor_mail: std::sync::Mutex::new(Vec::new()),
        anchor_file: settings.data_dir.join("anchors.log"),
        lease_seconds: settings.outbox_lease_seconds,
    });
    let worker = settings.worker.then(|| WorkerFairing {
        db: db.clone(),
        outbox: Arc::clone(&outbox),
        clock: clock.clone(),
        poll: settings.worker_poll,
        stop: Arc::new(Notify::new()),
        handle: std::sync::Mutex::new(None),
    });
    let state = AppState {
        keys: Keys::new(&settings.jwt_secret),
        db: db.clone(),
        clock,
        limiter: LoginLimiter::default(),
        settings: settings.clone(),
        outbox,
        pages: web::Pages::new()?,
        audit: store::audit_sink::AuditSink::start(db.clone()),
        users: auth::cache::UserCache::new(store::users::generation),
        sessions: auth::cache::SessionCache::new(store::sessions::generation),
    };
    let rocket = rocket::custom(settings.rocket_figment(figment))
        .manage(state)
        .attach(web::SecurityHeaders { hsts: settings.https() })
        .mount(
            "/",
            rocket::routes![
                routes::health::get_health,
                web::get_app_css,
                web::get_app_js,
                web::ack::get_ack,
                web::ack::post_ack
            ],
        )
        .mount("/", web::pages::routes())
        .mount("/api/v1", routes::api::routes())
        .register("/api", rocket::catchers![error::catchers::api_default])
        .register(
            "/",
            rocket::catchers![error::catchers::html_default, error::catchers::html_forbidden, web::pages::to_login],
        );
    Ok(match worker {
        Some(w) => rocket.attach(w),
        None => rocket,
    })
}

/// Starts the delivery worker at liftoff and, at shutdown, lets it finish the send in flight.
struct WorkerFairing {
    db: Db,
    outbox: Arc<Outbox>,
    clock: Clock,
    poll: std::time::Duration,
    stop: Arc<Notify>,
    handle: std::sync::Mutex<Option<rocket::tokio::task::JoinHandle<()>>>,
}

#[rocket::async_trait]
impl Fairing for WorkerFairing {
    fn info(&self) -> Info {
        Info { name: "outbox worker", kind: Kind::Liftoff | Kind::Shutdown }
    }

    async fn on_liftoff(&self, _: &Rocket<Orbit>) {
        let task = notify::worker::run(
            self.db.clone(),
            Arc::clone(&self.outbox),
            self.clock.clone(),
            Arc::clone(&self.stop),
            self.poll,
        );
        if let Ok(mut h) = self.handle.lock() {
            *h = Some(rocket::tokio::spawn(task));
        }
    }

    async fn on_shutdown(&self, _: &Rocket<Orbit>) {
        self.stop.notify_one();
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            // A send in flight gets up to 20 seconds (the SMTP timeout is 15).
            let _ = rocket::tokio::time::timeout(std::time::Duration::from_secs(20), h).await;
        }
    }
}
