//! Users: creating one (from the API, the admin pages and `saknad create-admin`), changing one, and
//! passwords. Only the admin manages users; everyone may change their own name, language and password.
//! The scope field each role needs is resolved against the database. Every change is written to the
//! access log.
use super::command::{de, Check, Submitted};
use super::{AppError, AppResult};
use crate::auth::password;
use crate::db::{is_unique_violation, write_tx, AnyConnection};
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::store::audit::{self, Actor, Event};
use crate::store::users::{self, NewUser, UserChanges, UserView, Workplace};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const LANGUAGES: [&str; 2] = ["sv", "en"];

/// `POST /api/v1/users`, the admin's new-user form and `saknad create-admin`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CreateUser {
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    /// at least 12 characters
    #[schema(required = true)]
    #[serde(skip_serializing)]
    pub password: Option<String>,
    #[schema(required = true)]
    pub role: Option<Role>,
    /// required for county_officer
    pub county_code: Option<String>,
    /// required for social_worker
    pub municipality_code: Option<String>,
    /// required for staff
    #[serde(deserialize_with = "de::id")]
    pub accommodation_id: Option<i64>,
    /// required for on_call: the municipalities the socialjour serves
    pub municipality_codes: Option<Vec<String>>,
    /// sv (default) or en
    pub language: Option<String>,
}

impl CreateUser {
    pub fn validate(&mut self, ck: &mut Check) {
        ck.email("email", &mut self.email);
        ck.required("email", &self.email);
        ck.req_text("name", &mut self.name, 200);
        ck.password("password", &self.password);
        ck.required("role", &self.role);
        ck.text("county_code", &mut self.county_code, 8);
        ck.text("municipality_code", &mut self.municipality_code, 8);
        ck.one_of("language", &mut self.language, &LANGUAGES);
    }
}

pub fn create(
    c: &mut AnyConnection,
    input: Submitted<CreateUser>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<UserView> {
    let (d, mut ck) = input.checked(CreateUser::validate);
    let mut workplace = Workplace::default();
    if let Some(role) = d.role {
        let given = Workplace {
            county_code: d.county_code,
            municipality_code: d.municipality_code,
            accommodation_id: d.accommodation_id,
            municipality_codes: serde_json::to_string(&d.municipality_codes.clone().unwrap_or_default())
                .unwrap_or_else(|_| "[]".into()),
        };
        match users::derive_workplace(c, role, given)? {
            Ok(w) => workplace = w,
            Err((field, reason)) => ck.error(field, reason),
        }
    }
    if let Some(email) = &d.email {
        if users::by_email(c, email)?.is_some() {
            ck.error("email", "already in use");
        }
    }
    ck.finish()?;
    let (Some(email), Some(name), Some(pw), Some(role)) = (d.email, d.name, d.password, d.role) else {
        return Err(AppError::internal());
    };
    let hash = password::hash(&pw).map_err(|_| AppError::internal())?;
    let new = NewUser {
        email,
        name,
        password_hash: hash,
        role,
        workplace,
        language: d.language.unwrap_or_else(|| "sv".into()),
    };
    let res = write_tx(c, |c| {
        let u = users::insert(c, &new, now)?;
        let ev = Event::new("user_created")
            .on("user", u.id)
            .county(u.workplace.county_code.clone())
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

/// `PATCH /api/v1/users/{id}` (admin; `active` too) and `PATCH /api/v1/me` (one's own name and language).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ChangeUser {
    pub name: Option<String>,
    /// false deactivates the account and ends its sessions (admin only)
    pub active: Option<bool>,
    /// `sv` or `en`
    pub language: Option<String>,
}

impl ChangeUser {
    pub fn validate(&mut self, ck: &mut Check) {
        ck.text("name", &mut self.name, 200);
        ck.one_of("language", &mut self.language, &LANGUAGES);
    }
}

/// The admin changes a user; deactivating oneself is refused (nobody would be left to undo it).
pub fn change(
    c: &mut AnyConnection,
    admin: &crate::auth::AuthUser,
    UserId(id): UserId,
    input: Submitted<ChangeUser>,
    now: DateTime<Utc>,
) -> AppResult<UserView> {
    admin.require(&[Role::Admin])?;
    let (ch, mut ck) = input.checked(ChangeUser::validate);
    if ch.active == Some(false) && id == admin.id {
        ck.error("active", "you cannot deactivate yourself");
    }
    ck.finish()?;
    let ch = UserChanges { name: ch.name, active: ch.active, language: ch.language };
    write_tx(c, |c| {
        let before = users::by_id(c, id)?.ok_or_else(AppError::not_found)?;
        users::update(c, id, &ch, now)?;
        let what = match ch.active {
            Some(false) => "user_deactivated",
            Some(true) => "user_activated",
            None => "user_changed",
        };
        audit::append(c, &admin.actor(), &Event::new(what).on("user", id).county(before.workplace.county_code), now)?;
        users::by_id(c, id)?.map(|u| UserView::from(&u)).ok_or_else(AppError::not_found)
    })
}

/// One's own name and language; `active` is not one's own to change and is ignored.
pub fn change_own(
    c: &mut AnyConnection,
    UserId(id): UserId,
    input: Submitted<ChangeUser>,
    now: DateTime<Utc>,
) -> AppResult<UserView> {
    let (ch, ck) = input.checked(ChangeUser::validate);
    ck.finish()?;
    let ch = UserChanges { name: ch.name, active: None, language: ch.language };
    let row = write_tx(c, |c| {
        users::update(c, id, &ch, now)?;
        users::by_id(c, id)
    })?;
    row.map(|r| UserView::from(&r)).ok_or_else(AppError::unauthorized)
}

/// `POST /api/v1/users/{id}/password` and the admin page's reset form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ResetPassword {
    /// at least 12 characters
    #[schema(required = true)]
    pub password: Option<String>,
}

/// The admin sets a new password; the user's tokens are revoked (the store rotates the security stamp).
pub fn reset_password(
    c: &mut AnyConnection,
    admin: &crate::auth::AuthUser,
    UserId(id): UserId,
    input: Submitted<ResetPassword>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    admin.require(&[Role::Admin])?;
    let (cmd, ck) = input.checked(|r, ck| ck.password("password", &r.password));
    ck.finish()?;
    let hash = password::hash(cmd.password.as_deref().unwrap_or_default()).map_err(|_| AppError::internal())?;
    write_tx(c, |c| {
        if users::set_password(c, id, &hash, now)? == 0 {
            return Err(AppError::not_found());
        }
        audit::append(c, &admin.actor(), &Event::new("password_reset").on("user", id), now)?;
        Ok(())
    })
}

/// `POST /api/v1/me/password` and the password page.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ChangePassword {
    #[schema(required = true)]
    pub current_password: Option<String>,
    /// at least 12 characters
    #[schema(required = true)]
    pub new_password: Option<String>,
}

/// One's own password, after proving the current one; every token issued before is revoked.
pub fn change_password(
    c: &mut AnyConnection,
    UserId(id): UserId,
    actor: &Actor,
    input: Submitted<ChangePassword>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (cmd, mut ck) = input.checked(|p, ck| {
        ck.required("current_password", &p.current_password);
        ck.password("new_password", &p.new_password);
    });
    let row = users::by_id(c, id)?.ok_or_else(AppError::unauthorized)?;
    if let Some(current) = &cmd.current_password {
        if !password::verify(current, &row.password_hash) {
            ck.error("current_password", "wrong password");
        }
    }
    ck.finish()?;
    let hash = password::hash(cmd.new_password.as_deref().unwrap_or_default()).map_err(|_| AppError::internal())?;
    write_tx(c, |c| {
        users::set_password(c, id, &hash, now)?;
        audit::append(c, actor, &Event::new("password_changed").on("user", id), now)
    })?;
    Ok(())
}
