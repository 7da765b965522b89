//! Command-line operations that need the database but not the server.

use crate::app::command::Submitted;
use crate::app::users::{self, CreateUser};
use crate::domain::role::Role;
use rocket::figment::Figment;

/// `saknad create-admin`: one line of reason on failure (duplicate email, short password, …).
pub fn create_admin(figment: &Figment, email: &str, name: &str, password: &str) -> Result<i64, String> {
    let settings = crate::config::Settings::from_figment(figment)?;
    let db = crate::open_database(&settings)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let cmd = CreateUser {
        email: Some(email.into()),
        name: Some(name.into()),
        role: Some(Role::Admin),
        ..Default::default()
    };
    let now = crate::clock::Clock::system().now();
    users::create(&mut conn, Submitted::new(cmd), users::Creator::Console { password }, now).map(|u| u.id).map_err(
        |e| match e.fields {
            Some(f) => f.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "),
            None => e.message,
        },
    )
}
