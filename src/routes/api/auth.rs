use super::Api;
use crate::app::auth::{login, LoginResponse};
use crate::app::users::{self as users_app, ChangePassword, ChangeUser};
use crate::auth::guard::ClientIp;
use crate::auth::session_cookie;
use crate::auth::{AuthUser, SESSION_COOKIE};
use crate::domain::ids::UserId;
use crate::error::{AppError, AppResult};
use crate::input::{command, Body};
use crate::state::AppState;
use crate::store::users::{self, UserView};
use rocket::http::{Cookie, CookieJar, Status};
use rocket::serde::json::Json;
use rocket::State;

/// Log in: a JWT for the `Authorization: Bearer` header, and the same token as an HttpOnly cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = crate::app::auth::Login,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody), (status = 429, body = super::docs::ErrorBody)))]
#[rocket::post("/auth/login", data = "<data>")]
pub async fn post_login(
    st: &State<AppState>,
    ip: ClientIp,
    cookies: &CookieJar<'_>,
    data: Body,
) -> AppResult<Json<LoginResponse>> {
    let resp = login(st, ip.0, command(data)?).await?;
    cookies.add(session_cookie(&resp.token, st.settings.secure_cookies()));
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

/// Change one's own name or interface language.
#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", request_body = ChangeUser, security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::patch("/me", data = "<data>")]
pub async fn patch_me(api: Api<'_>, data: Body) -> AppResult<Json<UserView>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let (now, id) = (st.clock.now(), user.id);
    st.db.run(move |c| users_app::change_own(c, UserId(id), input, now)).await.map(Json)
}

/// Change one's own password; every token issued before is revoked.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = ChangePassword,
    security(("bearer" = [])),
    responses((status = 204), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/me/password", data = "<data>")]
pub async fn post_me_password(api: Api<'_>, data: Body) -> AppResult<Status> {
    let Api { st, user } = api;
    let input = command(data)?;
    let (now, id, actor) = (st.clock.now(), user.id, user.actor());
    st.db.run(move |c| users_app::change_password(c, UserId(id), &actor, input, now)).await?;
    Ok(Status::NoContent)
}
