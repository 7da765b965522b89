//! Users: creating one (from the API, the admin pages and `saknad create-admin`), changing one, and
//! passwords. Only the admin manages users; everyone may change their own name, language and password.
//! The scope field each role needs is resolved against the database. Every change is written to the
//! access log.
//!
//! Separation of duties (issue #18): the admin never knows anyone's password. A new account, and a reset,
//! get a one-time set-password link mailed to the account's own address; only `saknad create-admin` (the
//! installation's first account, at the server's console) takes a password. Creating an account that
//! reaches personal data, giving one access again, or resetting its second factor is told to the county
//! mailbox of every county it concerns; an account's address must be in its county's allowed domains when
//! the county has set them.
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
    /// Not accepted from the API or the admin pages: the new user sets it through the emailed link (only
    /// `saknad create-admin` takes one).
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
        ck.person_name("name", &self.name);
        ck.required("role", &self.role);
        ck.text("county_code", &mut self.county_code, 8);
        ck.text("municipality_code", &mut self.municipality_code, 8);
        ck.one_of("language", &mut self.language, &LANGUAGES);
    }
}

/// Who creates an account: the admin (a set-password link goes to the new user), or the console's
/// `saknad create-admin` with the first admin's password.
pub enum Creator<'a> {
    Admin { actor: &'a Actor, secret: &'a [u8] },
    Console { password: &'a str },
}

pub fn create(
    c: &mut AnyConnection,
    input: Submitted<CreateUser>,
    by: Creator<'_>,
    now: DateTime<Utc>,
) -> AppResult<UserView> {
    let (d, mut ck) = input.checked(CreateUser::validate);
    match &by {
        Creator::Admin { .. } if d.password.is_some() => {
            ck.error("password", "not accepted: the new user sets a password through the emailed link")
        }
        Creator::Console { password } => {
            let inputs = [d.email.as_deref().unwrap_or(""), d.name.as_deref().unwrap_or("")];
            if let Some(why) = password::weakness(password, &inputs) {
                ck.error("password", why)
            }
        }
        Creator::Admin { .. } => {}
    }
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
        // Every county the account reaches: a socialjour's municipalities may lie in several.
        let mut counties: Vec<String> = workplace.county_code.iter().cloned().collect();
        for m in workplace.codes() {
            if let Some(county) = crate::store::org::municipality_county(c, &m)? {
                counties.push(county);
            }
        }
        if !super::org::in_allowed_domains(c, email, &counties)? {
            ck.error("email", "not in the county's allowed email domains");
        }
    }
    ck.finish()?;
    let (Some(email), Some(name), Some(role)) = (d.email, d.name, d.role) else {
        return Err(AppError::internal());
    };
    // An account made by the admin has no password until its owner sets one: no hash matches the empty one.
    let hash = match &by {
        Creator::Console { password } => password::hash(password).map_err(|_| AppError::internal())?,
        Creator::Admin { .. } => String::new(),
    };
    let new = NewUser {
        email,
        name,
        password_hash: hash,
        role,
        workplace,
        language: d.language.unwrap_or_else(|| "sv".into()),
    };
    let console = Actor { user_id: None, role: Some("cli".into()), ip: None };
    let actor = match &by {
        Creator::Admin { actor, .. } => *actor,
        Creator::Console { .. } => &console,
    };
    let res = write_tx(c, |c| {
        let u = users::insert(c, &new, now)?;
        let ev = Event::new("user_created")
            .on("user", u.id)
            .county(u.workplace.county_code.clone())
            .detail(format!("role {}", u.role));
        audit::append(c, actor, &ev, now)?;
        if let Creator::Admin { secret, .. } = &by {
            super::mail::set_password_link(c, secret, &u, true, now)?;
            tell_counties(c, &u, "user_created", actor, now)?;
        }
        Ok::<_, diesel::result::Error>(u)
    });
    match res {
        Ok(u) => Ok(UserView::from(&u)),
        Err(e) if is_unique_violation(&e) => Err(AppError::field("email", "already in use")),
        Err(e) => Err(e.into()),
    }
}

/// Tells the county mailboxes an account concerns that it was given access (or lost its second factor),
/// when its role reaches personal data.
fn tell_counties(
    c: &mut AnyConnection,
    u: &users::UserRow,
    event: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    let reaches = Role::parse(&u.role).is_some_and(|r| r.reaches_personal_data());
    if !reaches {
        return Ok(());
    }
    let by = match actor.user_id {
        Some(id) => users::by_id(c, id)?.map(|a| super::mail::account_label(&a)).unwrap_or_default(),
        None => "saknad create-admin".into(),
    };
    let f = super::mail::fields(&[
        ("account", super::mail::account_label(u)),
        ("role", u.role.clone()),
        ("scope", super::mail::scope_label(c, u)?),
        ("by", by),
    ]);
    let counties = super::mail::counties_of(c, u)?;
    super::mail::to_county_mailboxes(c, counties.as_deref(), event, f, now)?;
    Ok(())
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
        ck.person_name("name", &self.name);
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
        let county = before.workplace.county_code.clone();
        audit::append(c, &admin.actor(), &Event::new(what).on("user", id).county(county), now)?;
        if ch.active == Some(true) && !before.active {
            tell_counties(c, &before, "access_restored", &admin.actor(), now)?;
        }
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

/// `POST /api/v1/users/{id}/password` and the admin page's reset button.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ResetPassword {
    /// Not accepted: the user sets the new password through the emailed link.
    pub password: Option<String>,
}

/// The admin sends a user a link to set a new password; the user's sessions end at once. The admin never
/// learns the password.
pub fn reset_password(
    c: &mut AnyConnection,
    admin: &crate::auth::AuthUser,
    UserId(id): UserId,
    input: Submitted<ResetPassword>,
    secret: &[u8],
    now: DateTime<Utc>,
) -> AppResult<()> {
    admin.require(&[Role::Admin])?;
    let (cmd, mut ck) = input.checked(|_, _| {});
    if cmd.password.is_some() {
        ck.error("password", "not accepted: the user sets a new password through the emailed link");
    }
    ck.finish()?;
    write_tx(c, |c| {
        let u = users::by_id(c, id)?.ok_or_else(AppError::not_found)?;
        // The old password stops working: nobody holds a valid one until the owner uses the link.
        users::set_password(c, id, "", now)?;
        super::mail::set_password_link(c, secret, &u, false, now)?;
        audit::append(c, &admin.actor(), &Event::new("password_reset").on("user", id), now)?;
        Ok(())
    })
}

/// The admin removes a user's second factor (a lost phone and lost recovery codes): the user enrols again at
/// the next login; their sessions end, and they and the county mailboxes are told.
pub fn reset_mfa(
    c: &mut AnyConnection,
    admin: &crate::auth::AuthUser,
    UserId(id): UserId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    admin.require(&[Role::Admin])?;
    write_tx(c, |c| {
        let u = users::by_id(c, id)?.ok_or_else(AppError::not_found)?;
        crate::store::mfa::clear(c, id)?;
        users::end_sessions(c, id, now)?;
        audit::append(c, &admin.actor(), &Event::new("mfa_reset").on("user", id), now)?;
        super::mail::to_owner(c, &u, "mfa_reset", now)?;
        tell_counties(c, &u, "mfa_reset", &admin.actor(), now)?;
        Ok(())
    })
}

/// `POST /set-password/{token}`: the link's owner chooses a password.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetPassword {
    pub new_password: Option<String>,
}

/// What a set-password link opens on: whose account, and whether the link still holds.
pub fn link_owner(c: &mut AnyConnection, token: &str, now: DateTime<Utc>) -> AppResult<users::UserRow> {
    if !crate::auth::ack::well_formed(token) {
        return Err(AppError::not_found());
    }
    let link = crate::store::links::by_token(c, token)?.ok_or_else(AppError::not_found)?;
    if link.used_at.is_some() || crate::store::children::utc(link.expires_at) <= now {
        return Err(AppError::gone());
    }
    users::by_id(c, link.user_id)?.filter(|u| u.active).ok_or_else(AppError::gone)
}

/// Sets the password of the link's owner and uses the link up; every session of the account ends.
pub fn set_password_by_link(
    c: &mut AnyConnection,
    token: &str,
    ip: Option<String>,
    input: Submitted<SetPassword>,
    now: DateTime<Utc>,
) -> AppResult<users::UserRow> {
    let u = link_owner(c, token, now)?;
    let (cmd, ck) = input.checked(|p, ck| ck.password("new_password", &p.new_password, &[&u.email, &u.name]));
    ck.finish()?;
    let hash = password::hash(cmd.new_password.as_deref().unwrap_or_default()).map_err(|_| AppError::internal())?;
    write_tx(c, |c| {
        let link = crate::store::links::by_token(c, token)?.ok_or_else(AppError::gone)?;
        if !crate::store::links::use_once(c, link.id, now)? {
            return Err(AppError::gone());
        }
        users::set_password(c, u.id, &hash, now)?;
        let actor = Actor { user_id: Some(u.id), role: Some(u.role.clone()), ip };
        audit::append(c, &actor, &Event::new("password_set").on("user", u.id), now)?;
        Ok(u)
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
    let row = users::by_id(c, id)?.ok_or_else(AppError::unauthorized)?;
    let (cmd, mut ck) = input.checked(|p, ck| {
        ck.required("current_password", &p.current_password);
        ck.password("new_password", &p.new_password, &[&row.email, &row.name]);
    });
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
