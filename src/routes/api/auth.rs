use crate::auth::guard::ClientIp;
use crate::auth::{password, AuthUser, SESSION_COOKIE};
use crate::db::write_tx;
use crate::error::{AppError, AppResult};
use crate::input::{body, Body};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Event};
use crate::store::users::{self, UserChanges, UserView};
use chrono::{DateTime, Utc};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

enum LoginOutcome {
    Ok(UserView, String),
    Failed,
}

/// Log in: a JWT for the `Authorization: Bearer` header, and the same token as an HttpOnly cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody), (status = 429, body = super::docs::ErrorBody)))]
#[rocket::post("/auth/login", data = "<data>")]
pub async fn post_login(
    st: &State<AppState>,
    ip: ClientIp,
    cookies: &CookieJar<'_>,
    data: Body,
) -> AppResult<Json<LoginResponse>> {
    let mut inp = body(data)?;
    let email = inp.req_str("email", 254).to_lowercase();
    let pw = inp.req_str("password", 1024);
    inp.finish()?;
    let resp = login(st, ip.0, email, pw).await?;
    cookies.add(session_cookie(&resp.token, st.settings.public_url.starts_with("https://")));
    Ok(Json(resp))
}

/// One login attempt (API and login page): limits, password check, access-log entry, token.
pub async fn login(st: &AppState, ip: Option<String>, email: String, pw: String) -> AppResult<LoginResponse> {
    let email = email.trim().to_lowercase();
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
                Ok(LoginOutcome::Ok(UserView::from(&user), user.security_stamp))
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
            Ok(LoginResponse { token, expires_at, user })
        }
        LoginOutcome::Failed => {
            st.limiter.failed(&account, &address, now);
            Err(AppError::invalid_credentials())
        }
    }
}

pub fn session_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token.to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}

/// Ends the browser session (removes the cookie). Bearer tokens simply expire or are revoked by a
/// password change.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
#[rocket::post("/auth/logout")]
pub fn post_logout(cookies: &CookieJar<'_>) -> Status {
    cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Status::NoContent
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = super::docs::ErrorBody)))]
#[rocket::get("/me")]
pub async fn get_me(st: &State<AppState>, user: AuthUser) -> AppResult<Json<UserView>> {
    let id = user.id;
    let row = st.db.run(move |c| users::by_id(c, id).map_err(AppError::from)).await?;
    row.map(|r| Json(UserView::from(&r))).ok_or_else(AppError::unauthorized)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MePatch {
    /// `sv` or `en`
    pub language: Option<String>,
    pub name: Option<String>,
}

/// Change one's own name or interface language.
#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", request_body = MePatch, security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::patch("/me", data = "<data>")]
pub async fn patch_me(st: &State<AppState>, user: AuthUser, data: Body) -> AppResult<Json<UserView>> {
    let mut inp = body(data)?;
    let ch =
        UserChanges { name: inp.opt_str("name", 200), active: None, language: inp.opt_enum("language", &["sv", "en"]) };
    inp.finish()?;
    let now = st.clock.now();
    let id = user.id;
    let row = st
        .db
        .run(move |c| {
            write_tx(c, |c| {
                users::update(c, id, &ch, now)?;
                users::by_id(c, id)
            })
            .map_err(AppError::from)
        })
        .await?;
    row.map(|r| Json(UserView::from(&r))).ok_or_else(AppError::unauthorized)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// at least 12 characters
    pub new_password: String,
}

/// Change one's own password; every token issued before is revoked.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    security(("bearer" = [])),
    responses((status = 204), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/me/password", data = "<data>")]
pub async fn post_me_password(st: &State<AppState>, user: AuthUser, data: Body) -> AppResult<Status> {
    let mut inp = body(data)?;
    let current = inp.req_str("current_password", 1024);
    let new = inp.password("new_password");
    inp.finish()?;
    let now = st.clock.now();
    let actor = user.actor();
    let id = user.id;
    st.db
        .run(move |c| -> AppResult<()> {
            let row = users::by_id(c, id)?.ok_or_else(AppError::unauthorized)?;
            if !password::verify(&current, &row.password_hash) {
                return Err(AppError::field("current_password", "wrong password"));
            }
            let hash = password::hash(&new).map_err(|_| AppError::internal())?;
            write_tx(c, |c| {
                users::set_password(c, id, &hash, now)?;
                audit::append(c, &actor, &Event::new("password_changed").on("user", id), now)
            })?;
            Ok(())
        })
        .await?;
    Ok(Status::NoContent)
}
