//! Logging in and out: the throttle (`domain::lockout`), the password and second-factor checks, the
//! server-side session (`domain::session`), the access-log entries and the token, for the API, the login
//! page and the identity provider's way back alike.

use super::command::Submitted;
use super::{AppError, AppResult};
use crate::auth::limiter::Attempt;
use crate::auth::password;
use crate::db::{write_tx, AnyConnection};
use crate::domain::role::Role;
use crate::domain::session::needs_second_factor;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::sessions::{self, NewSession};
use crate::store::users::{self, UserRow, UserView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/auth/login` and the login form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Login {
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub password: Option<String>,
    /// the authenticator app's 6-digit code, or a recovery code; needed once a second factor is enrolled
    pub code: Option<String>,
}

/// Failed attempts on the account since its owner last logged in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedLogins {
    pub count: i32,
    #[serde(serialize_with = "crate::timefmt::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub last_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
    /// true: the account must enrol a second factor (`POST /api/v1/me/mfa`) before it reaches anything else
    pub mfa_enrolment_required: bool,
    /// true: a second factor is still to be given in this session (`POST /api/v1/me/mfa/verify`)
    pub mfa_verification_required: bool,
    /// failed attempts since the last login, when there were any
    pub failed_logins: Option<FailedLogins>,
}

/// Who is logging in, as the request shows it.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<String>,
    pub agent: Option<String>,
    /// the browser's device cookie: its id and the accounts that signed in on it
    pub device: Option<crate::auth::Device>,
}

impl Client {
    fn address(&self) -> String {
        self.ip.clone().unwrap_or_else(|| "unknown".into())
    }
}

/// How a login page differs from the API: a page may open a session that still needs its second factor
/// (and sends the browser to `/mfa`); the API answers `401 mfa_required` until the code comes with the
/// password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Api,
    Page,
}

enum Checked {
    Ok { user: Box<UserRow>, strong: bool, method: &'static str },
    Failed(&'static str),
    CodeMissing,
}

/// One login attempt with email and password (and a code, once enrolled).
pub async fn login(st: &AppState, client: Client, input: Submitted<Login>, via: Via) -> AppResult<LoginResponse> {
    let l = input.valid(|l, ck| {
        ck.req_text("email", &mut l.email, 254);
        ck.required("password", &l.password);
        if l.password.as_ref().is_some_and(|p| p.chars().count() > 1024) {
            ck.error("password", "at most 1024 characters");
        }
        ck.text("code", &mut l.code, 40);
    })?;
    let (email, pw, code) = (l.email.unwrap_or_default().to_lowercase(), l.password.unwrap_or_default(), l.code);
    let now = st.clock.now();
    let address = client.address();
    let found = {
        let email = email.clone();
        st.db.run(move |c| users::by_email(c, &email).map_err(AppError::from)).await?
    };
    let device = client.device.as_ref().filter(|d| found.as_ref().is_some_and(|u| d.accounts.contains(&u.id)));
    // A browser that has signed in to this account before is not held up by its address's other failures.
    if let Some(wait) = st.limiter.address_wait(&address, now).filter(|_| device.is_none()) {
        return Err(AppError::retry_after(seconds(wait)));
    }
    let known_address = match &found {
        Some(u) if device.is_none() && client.ip.is_some() => {
            let (id, ip) = (u.id, address.clone());
            st.db.run(move |c| sessions::known_address(c, id, &ip, now).map_err(AppError::from)).await?
        }
        _ => false,
    };
    let attempt = Attempt {
        account: email.clone(),
        address: address.clone(),
        device: device.map(|d| d.id.clone()),
        known: device.is_some() || known_address,
    };
    if let Some(wait) = st.limiter.wait(&attempt, now) {
        return Err(AppError::retry_after(seconds(wait)));
    }
    let codes_enrolled = found.as_ref().is_some_and(|u| u.totp_enabled());
    if let Some(wait) = st.limiter.code_wait(&email, now).filter(|_| codes_enrolled && code.is_some()) {
        return Err(AppError::retry_after(seconds(wait)));
    }
    let (secret, ip) = (st.settings.jwt_secret.clone(), client.ip.clone());
    let checked = st
        .db
        .run(move |c| -> AppResult<Checked> {
            let Some(user) = found else {
                password::verify_dummy(&pw);
                let actor = Actor { user_id: None, role: None, ip };
                audit::append_alone(c, &actor, &Event::new("login_failed").detail("unknown account"), now)?;
                return Ok(Checked::Failed("unknown account"));
            };
            let actor = Actor { user_id: Some(user.id), role: Some(user.role.clone()), ip };
            let failed = |c: &mut AnyConnection, why: &'static str| -> AppResult<Checked> {
                write_tx(c, |c| {
                    users::record_failed_login(c, user.id, now)?;
                    audit::append(c, &actor, &Event::new("login_failed").on("user", user.id).detail(why), now)
                })?;
                Ok(Checked::Failed(why))
            };
            // The same work whatever the account's state, so the time taken tells nothing about it.
            let right = if user.password_hash.is_empty() {
                password::verify_dummy(&pw);
                false
            } else {
                password::verify(&pw, &user.password_hash)
            };
            if !user.active {
                return failed(c, "account inactive");
            }
            if !right {
                return failed(c, "wrong password");
            }
            if !user.totp_enabled() {
                return Ok(Checked::Ok { user: Box::new(user), strong: false, method: "password" });
            }
            let Some(code) = code.filter(|c| !c.is_empty()) else {
                return Ok(if via == Via::Page {
                    Checked::Ok { user: Box::new(user), strong: false, method: "password" }
                } else {
                    Checked::CodeMissing
                });
            };
            match second_factor(c, &user, &code, &secret, now)? {
                Some(method) => Ok(Checked::Ok { user: Box::new(user), strong: true, method }),
                None => failed(c, "wrong code"),
            }
        })
        .await?;
    match checked {
        Checked::Ok { user, strong, method } => {
            st.limiter.succeeded(&attempt);
            open_session(st, *user, method, strong, &client).await
        }
        Checked::Failed(why) => {
            if why == "wrong code" {
                st.limiter.code_failed(&email, now);
            }
            st.limiter.failed(&attempt, now);
            Err(AppError::invalid_credentials())
        }
        Checked::CodeMissing => Err(AppError::new(
            crate::app::ErrorKind::Unauthorized,
            "mfa_required",
            "the password is right; give the authenticator app's code (or a recovery code) as `code`",
        )),
    }
}

/// A wait in whole seconds, rounded up (`Retry-After`).
pub fn seconds(wait: chrono::Duration) -> i64 {
    (wait.num_milliseconds() + 999) / 1000
}

/// Checks a TOTP or recovery code of `user` and uses it up; the method it was, or `None` when wrong.
pub fn second_factor(
    c: &mut AnyConnection,
    user: &UserRow,
    code: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<&'static str>> {
    let Some(totp) = &user.totp_secret else { return Ok(None) };
    if crate::auth::mfa::looks_like_recovery_code(code) {
        let hash = crate::auth::mfa::recovery_hash(secret.as_bytes(), code);
        let used = write_tx(c, |c| {
            let ok = crate::store::mfa::use_recovery_code(c, user.id, &hash, now)?;
            if ok {
                let ev = Event::new("recovery_code_used").on("user", user.id);
                let actor = Actor { user_id: Some(user.id), role: Some(user.role.clone()), ip: None };
                audit::append(c, &actor, &ev, now)?;
                super::mail::to_owner(c, user, "recovery_code_used", now)?;
            }
            Ok::<_, AppError>(ok)
        })?;
        return Ok(used.then_some("password+recovery_code"));
    }
    let unix = u64::try_from(now.timestamp()).unwrap_or(0);
    match crate::auth::mfa::check(totp, code, unix, user.totp_last_step) {
        Some(step) if crate::store::mfa::use_step(c, user.id, step)? => Ok(Some("password+totp")),
        _ => Ok(None),
    }
}

/// Opens a session for a user who has proved who they are, and issues its token. `method` is how
/// (`password`, `password+totp`, `oidc …`), `strong` whether a second factor was given.
pub async fn open_session(
    st: &AppState,
    user: UserRow,
    method: &str,
    strong: bool,
    client: &Client,
) -> AppResult<LoginResponse> {
    let now = st.clock.now();
    let role = Role::parse(&user.role).ok_or_else(AppError::internal)?;
    let needs = needs_second_factor(role, user.totp_enabled(), st.settings.require_mfa);
    let (length, method_s) = (st.settings.session_length, method.to_string());
    let (ip, agent) = (client.ip.clone(), client.agent.clone());
    let user_id = user.id;
    let actor = Actor { user_id: Some(user.id), role: Some(user.role.clone()), ip: client.ip.clone() };
    let (session, failed) = st
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let new = NewSession {
                    user_id,
                    method: &method_s,
                    strong,
                    ip: ip.as_deref(),
                    agent: agent.as_deref(),
                    length,
                };
                let s = sessions::insert(c, &new, now)?;
                // Told only to whoever proved to be the owner: a session still owing its second factor may be
                // the guesser's.
                let (count, last) = if strong || !needs { users::take_failed_logins(c, user_id)? } else { (0, None) };
                let ev = Event::new("login").on("user", user_id).detail(method_s.clone());
                audit::append(c, &actor, &ev, now)?;
                let failed =
                    last.filter(|_| count > 0).map(|t| FailedLogins { count, last_at: crate::store::children::utc(t) });
                Ok::<_, AppError>((s, failed))
            })
        })
        .await?;
    let expires_at = crate::store::children::utc(session.expires_at);
    let (token, expires_at) =
        st.keys.issue(user.id, &user.security_stamp, &session.id, now, expires_at).map_err(|e| {
            log::error!("{e}");
            AppError::internal()
        })?;
    Ok(LoginResponse {
        token,
        expires_at,
        mfa_enrolment_required: needs && !strong && !user.totp_enabled(),
        mfa_verification_required: needs && !strong && user.totp_enabled(),
        user: UserView::from(&user),
        failed_logins: failed,
    })
}

/// Ends the caller's session (`POST /api/v1/auth/logout`, the logout button).
pub async fn logout(st: &AppState, user: &crate::auth::AuthUser) -> AppResult<()> {
    let (now, id, sid, actor) = (st.clock.now(), user.id, user.session_id.clone(), user.actor());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                sessions::revoke(c, id, &sid, now)?;
                audit::append(c, &actor, &Event::new("logout").on("user", id), now)?;
                Ok::<_, AppError>(())
            })
        })
        .await
}

/// Ends the session a validly signed token names, when the request could not be authenticated otherwise
/// (a logout that is not a JSON request): ending one's own session is never harmful.
pub async fn end_named_session(st: &AppState, claims: &crate::auth::token::Claims) -> AppResult<()> {
    let Ok(id) = claims.sub.parse::<i64>() else { return Ok(()) };
    let (now, sid) = (st.clock.now(), claims.sid.clone());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                if sessions::revoke(c, id, &sid, now)? > 0 {
                    let actor = Actor { user_id: Some(id), role: None, ip: None };
                    audit::append(c, &actor, &Event::new("logout").on("user", id), now)?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await
}

/// A signed-in person's open session, as their sessions list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    #[serde(serialize_with = "crate::timefmt::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::timefmt::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::timefmt::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    /// how the session was opened: `password`, `password+totp`, `password+recovery_code`, `oidc`
    pub method: String,
    pub strong: bool,
    pub ip: Option<String>,
    pub agent: Option<String>,
    /// the session this request belongs to
    pub current: bool,
}

/// The caller's open sessions, newest first (ended and idle ones left out).
pub async fn my_sessions(st: &AppState, user: &crate::auth::AuthUser) -> AppResult<Vec<SessionView>> {
    let (now, id, idle) = (st.clock.now(), user.id, st.settings.session_idle);
    let current = user.session_id.clone();
    let rows = st.db.run(move |c| sessions::open_of(c, id, now).map_err(AppError::from)).await?;
    Ok(rows
        .into_iter()
        .filter(|s| crate::domain::session::check(s.times(), now, idle).is_ok())
        .map(|s| SessionView {
            current: s.id == current,
            created_at: crate::store::children::utc(s.created_at),
            last_seen_at: crate::store::children::utc(s.last_seen_at),
            expires_at: crate::store::children::utc(s.expires_at),
            id: s.id,
            method: s.method,
            strong: s.strong,
            ip: s.ip,
            agent: s.agent,
        })
        .collect())
}

/// Ends one of the caller's sessions; `404` for one that is not theirs or has ended.
pub async fn end_my_session(st: &AppState, user: &crate::auth::AuthUser, sid: String) -> AppResult<()> {
    let (now, id, actor) = (st.clock.now(), user.id, user.actor());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                if sessions::revoke(c, id, &sid, now)? == 0 {
                    return Err(AppError::not_found());
                }
                audit::append(c, &actor, &Event::new("session_ended").on("user", id), now)?;
                Ok(())
            })
        })
        .await
}

/// "Log out everywhere": ends every session of the caller, this one too.
pub async fn end_all_my_sessions(st: &AppState, user: &crate::auth::AuthUser) -> AppResult<usize> {
    let (now, id, actor) = (st.clock.now(), user.id, user.actor());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                let n = sessions::revoke_all(c, id, None, now)?;
                audit::append(
                    c,
                    &actor,
                    &Event::new("logout_everywhere").on("user", id).detail(format!("{n} sessions")),
                    now,
                )?;
                Ok(n)
            })
        })
        .await
}
