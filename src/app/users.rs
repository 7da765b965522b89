//! Users: creating one (from the API, the admin pages and `saknad create-admin`), with the scope field
//! each role needs resolved against the database. Every change is written to the access log.
use super::input::Input;
use super::{AppError, AppResult};
use crate::auth::password;
use crate::db::{is_unique_violation, write_tx};
use crate::domain::role::Role;
use crate::store::audit::{self, Event};
use crate::store::users::{self, NewUser, UserView};

/// The fields of a new user, validated; scope is resolved against the database later.
pub struct UserDraft {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Option<Role>,
    pub county_code: Option<String>,
    pub municipality_code: Option<String>,
    pub accommodation_id: Option<i64>,
    pub language: String,
}

pub fn read_user(inp: &mut Input) -> UserDraft {
    UserDraft {
        email: inp.req_email("email"),
        name: inp.req_str("name", 200),
        password: inp.password("password"),
        role: Role::parse(&inp.req_enum("role", &Role::NAMES)),
        county_code: inp.opt_str("county_code", 8),
        municipality_code: inp.opt_str("municipality_code", 8),
        accommodation_id: inp.opt_id("accommodation_id"),
        language: inp.opt_enum("language", &["sv", "en"]).unwrap_or_else(|| "sv".into()),
    }
}

/// Creates a user from a draft; shared by the API and `saknad create-admin`. Field errors come back in
/// `inp`, which the caller has not finished yet.
pub fn create_user(
    c: &mut crate::db::AnyConnection,
    mut inp: Input,
    d: UserDraft,
    actor: &audit::Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<UserView> {
    let mut scope = (None, None, None);
    if let Some(role) = d.role {
        match users::derive_scope(c, role, d.county_code, d.municipality_code, d.accommodation_id)? {
            Ok(s) => scope = s,
            Err((field, reason)) => inp.error(field, reason),
        }
    }
    if !d.email.is_empty() && users::by_email(c, &d.email)?.is_some() {
        inp.error("email", "already in use");
    }
    inp.finish()?;
    let role = d.role.ok_or_else(AppError::internal)?;
    let hash = password::hash(&d.password).map_err(|_| AppError::internal())?;
    let new = NewUser {
        email: d.email,
        name: d.name,
        password_hash: hash,
        role,
        county_code: scope.0,
        municipality_code: scope.1,
        accommodation_id: scope.2,
        language: d.language,
    };
    let res = write_tx(c, |c| {
        let u = users::insert(c, &new, now)?;
        let ev = Event::new("user_created")
            .on("user", u.id)
            .county(u.county_code.clone())
            .detail(format!("role {}", u.role));
        audit::append(c, actor, &ev, now)?;
        Ok::<_, diesel::result::Error>(u)
    });
    match res {
        Ok(u) => Ok(UserView::from(&u)),
        Err(e) if is_unique_violation(&e) => Err(AppError::field("email", "already in use")),
        Err(e) => Err(e.into()),
    }
}
