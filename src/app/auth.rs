//! Logging in: the per-account and per-address limits, the password check, the access-log entry and the
//! token, for the API and the login page alike.

use super::command::Submitted;
use super::{AppError, AppResult};
use crate::auth::password;
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::users::{self, UserView};
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
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

enum LoginOutcome {
    Ok(Box<UserView>, String),
    Failed,
}

/// One login attempt (API and login page): limits, password check, access-log entry, token.
pub async fn login(st: &AppState, ip: Option<String>, input: Submitted<Login>) -> AppResult<LoginResponse> {
    let l = input.valid(|l, ck| {
        ck.req_text("email", &mut l.email, 254);
        ck.required("password", &l.password);
        if l.password.as_ref().is_some_and(|p| p.chars().count() > 1024) {
            ck.error("password", "at most 1024 characters");
        }
    })?;
    let (email, pw) = (l.email.unwrap_or_default().to_lowercase(), l.password.unwrap_or_default());
    let now = st.clock.now();
    let address = ip.clone().unwrap_or_else(|| "unknown".into());
    if st.limiter.is_blocked(&email, &address, now) {
        return Err(AppError::rate_limited());
    }
    let ip_for_log = ip;
    let account = email.clone();
    let outcome = st
        .db
        .run(move |c| -> AppResult<LoginOutcome> {
            let user = users::by_email(c, &email)?;
            let Some(user) = user else {
                password::verify_dummy(&pw);
                let actor = Actor { user_id: None, role: None, ip: ip_for_log };
                audit::append_alone(c, &actor, &Event::new("login_failed").detail("unknown account"), now)?;
                return Ok(LoginOutcome::Failed);
            };
            let actor = Actor { user_id: Some(user.id), role: Some(user.role.clone()), ip: ip_for_log };
            if user.active && password::verify(&pw, &user.password_hash) {
                audit::append_alone(c, &actor, &Event::new("login").on("user", user.id), now)?;
                Ok(LoginOutcome::Ok(Box::new(UserView::from(&user)), user.security_stamp))
            } else {
                let why = if user.active { "wrong password" } else { "account inactive" };
                audit::append_alone(c, &actor, &Event::new("login_failed").on("user", user.id).detail(why), now)?;
                Ok(LoginOutcome::Failed)
            }
        })
        .await?;
    match outcome {
        LoginOutcome::Ok(user, stamp) => {
            st.limiter.succeeded(&account);
            let (token, expires_at) = st.keys.issue(user.id, &stamp, now).map_err(|e| {
                log::error!("{e}");
                AppError::internal()
            })?;
            Ok(LoginResponse { token, expires_at, user: *user })
        }
        LoginOutcome::Failed => {
            st.limiter.failed(&account, &address, now);
            Err(AppError::invalid_credentials())
        }
    }
}
