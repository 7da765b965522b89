//! Command-line operations that need the database but not the server.

use crate::app::users::{create_user, read_user};
use crate::input::Input;
use crate::store::audit::Actor;
use rocket::figment::Figment;
use serde_json::json;

/// `saknad create-admin`: one line of reason on failure (duplicate email, short password, …).
pub fn create_admin(figment: &Figment, email: &str, name: &str, password: &str) -> Result<i64, String> {
    let settings = crate::config::Settings::from_figment(figment)?;
    let db = crate::open_database(&settings)?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    let body = json!({"email": email, "name": name, "password": password, "role": "admin"});
    let serde_json::Value::Object(map) = body else { return Err("internal error".into()) };
    let mut inp = Input::new(map);
    let draft = read_user(&mut inp);
    let now = crate::clock::Clock::system().now();
    let actor = Actor { user_id: None, role: Some("cli".into()), ip: None };
    create_user(&mut conn, inp, draft, &actor, now).map(|u| u.id).map_err(|e| match e.fields {
        Some(f) => f.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "),
        None => e.message,
    })
}
