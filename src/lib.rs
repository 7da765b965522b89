//! Saknad: reporting and follow-up when an unaccompanied child disappears from care.
//!
//! [`build`] is the one composition root: `main` and the tests both start from it.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod input;
pub mod notify;
pub mod routes;
pub mod state;
pub mod store;

use crate::auth::limiter::LoginLimiter;
use crate::auth::token::Keys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::state::AppState;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// Opens and migrates the database and seeds the geography; the first half of start-up, also used by
/// `saknad migrate` and `saknad create-admin`.
pub fn open_database(settings: &Settings) -> Result<Db, String> {
    let db = Db::open(&settings.database, settings.db_pool_size)?;
    db.migrate()?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
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
    let state = AppState {
        keys: Keys::new(&settings.jwt_secret),
        db,
        clock,
        limiter: LoginLimiter::default(),
        settings: settings.clone(),
    };
    let rocket = rocket::custom(settings.rocket_figment(figment))
        .manage(state)
        .mount("/", rocket::routes![routes::health::get_health])
        .mount("/api/v1", routes::api::routes())
        .register("/api", rocket::catchers![error::catchers::api_default])
        .register("/", rocket::catchers![error::catchers::html_default]);
    Ok(rocket)
}
