use crate::app::auth::{login, LoginResponse};
use crate::auth::guard::ClientIp;
use crate::auth::session_cookie;
use crate::auth::{password, AuthUser, SESSION_COOKIE};
use crate::db::write_tx;
use crate::error::{AppError, AppResult};
use crate::input::{body, Body};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::users::{self, UserChanges, UserView};
use rocket::http::{Cookie, CookieJar, Status};
use rocket::serde::json::Json;
use rocket::State;
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
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
