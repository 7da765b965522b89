use super::Api;
use crate::app::auth::{self as auth_app, login, Client, LoginResponse, SessionView, Via};
use crate::app::mfa::{self as mfa_app, Code, Enrolment, MfaStatus, RecoveryCodes};
use crate::app::users::{self as users_app, ChangePassword, ChangeUser};
use crate::auth::session_cookie;
use crate::auth::{AuthUser, SESSION_COOKIE};
use crate::domain::ids::UserId;
use crate::error::{AppError, AppResult};
use crate::input::{command, Body};
use crate::state::AppState;
use crate::store::users::{self, UserView};
use rocket::http::{Cookie, CookieJar, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::Json;
use rocket::{Request, State};

/// Who is logging in: the client's address (`auth::client_ip`), its user agent and its device cookie.
pub struct LoginClient(pub Client);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LoginClient {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let ip = match crate::auth::guard::ClientIp::from_request(req).await {
            Outcome::Success(ip) => ip.0,
            _ => None,
        };
        let agent = req.headers().get_one("User-Agent").map(String::from);
        Outcome::Success(LoginClient(Client { ip, agent, device: crate::auth::device(req.cookies()) }))
    }
}

/// Log in: a JWT for the `Authorization: Bearer` header, and the same token as an HttpOnly cookie. Once a
/// second factor is enrolled, `code` must come with the password (`401 mfa_required` without it).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = crate::app::auth::Login,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody), (status = 429, body = super::docs::ErrorBody)))]
#[rocket::post("/auth/login", data = "<data>")]
pub async fn post_login(
    st: &State<AppState>,
    client: LoginClient,
    cookies: &CookieJar<'_>,
    data: Body,
) -> AppResult<Json<LoginResponse>> {
    let resp = login(st, client.0, command(data)?, Via::Api).await?;
    cookies.add(session_cookie(&resp.token, st.settings.secure_cookies()));
    crate::auth::remember_device(cookies, resp.user.id, st.settings.secure_cookies());
    Ok(Json(resp))
}

/// The session a request's token names, whatever else the guard would say of the request (a browser's
/// logout need not be a JSON request to end its session).
pub struct NamedSession(pub Option<crate::auth::token::Claims>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for NamedSession {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(st) = req.rocket().state::<AppState>() else { return Outcome::Success(NamedSession(None)) };
        let token = match req.headers().get_one("Authorization") {
            Some(h) => h.trim().split_once(' ').map(|(_, t)| t.trim().to_string()),
            None => req.cookies().get(SESSION_COOKIE).map(|c| c.value().to_string()),
        };
        Outcome::Success(NamedSession(token.and_then(|t| st.keys.decode(&t, st.clock.now()))))
    }
}

/// Ends the session: the token (Bearer or cookie) stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
#[rocket::post("/auth/logout")]
pub async fn post_logout(
    st: &State<AppState>,
    user: Option<AuthUser>,
    named: NamedSession,
    cookies: &CookieJar<'_>,
) -> AppResult<Status> {
    match (user, named.0) {
        (Some(u), _) => auth_app::logout(st, &u).await?,
        (None, Some(claims)) => auth_app::end_named_session(st, &claims).await?,
        (None, None) => {}
    }
    cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok(Status::NoContent)
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

/// Change one's own password; every session of the account ends.
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

/// One's open sessions, newest first, with the one of this request marked `current`.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [SessionView]), (status = 401, body = super::docs::ErrorBody)))]
#[rocket::get("/me/sessions")]
pub async fn get_my_sessions(api: Api<'_>) -> AppResult<Json<Vec<SessionView>>> {
    auth_app::my_sessions(api.st, &api.user).await.map(Json)
}

/// Log out everywhere: every session of the account ends, this one too.
#[utoipa::path(delete, path = "/api/v1/me/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::docs::ErrorBody)))]
#[rocket::delete("/me/sessions")]
pub async fn delete_my_sessions(api: Api<'_>, cookies: &CookieJar<'_>) -> AppResult<Status> {
    auth_app::end_all_my_sessions(api.st, &api.user).await?;
    cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok(Status::NoContent)
}

/// Ends one of one's sessions (e.g. on a lost phone).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::delete("/me/sessions/<id>")]
pub async fn delete_my_session(api: Api<'_>, id: &str) -> AppResult<Status> {
    if id.len() > 64 {
        return Err(AppError::not_found());
    }
    auth_app::end_my_session(api.st, &api.user, id.to_string()).await?;
    Ok(Status::NoContent)
}

/// The second factor of one's account.
#[utoipa::path(get, path = "/api/v1/me/mfa", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MfaStatus), (status = 401, body = super::docs::ErrorBody)))]
#[rocket::get("/me/mfa")]
pub async fn get_my_mfa(api: Api<'_>) -> AppResult<Json<MfaStatus>> {
    mfa_app::status(api.st, &api.user).await.map(Json)
}

/// Start enrolling a TOTP authenticator: a new secret (typed, as an otpauth:// link or as a QR code), kept
/// pending until `POST /api/v1/me/mfa/confirm` confirms it. Replacing an enrolled one needs a session in
/// which the second factor was given.
#[utoipa::path(post, path = "/api/v1/me/mfa", tag = "auth", security(("bearer" = [])),
    responses((status = 201, body = Enrolment), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::post("/me/mfa")]
pub async fn post_my_mfa(api: Api<'_>) -> AppResult<(Status, Json<Enrolment>)> {
    mfa_app::start(api.st, &api.user).await.map(|e| (Status::Created, Json(e)))
}

/// Confirm the enrolment with a code from the new authenticator: answers ten recovery codes, shown once.
#[utoipa::path(post, path = "/api/v1/me/mfa/confirm", tag = "auth", security(("bearer" = [])), request_body = Code,
    responses((status = 200, body = RecoveryCodes), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/me/mfa/confirm", data = "<data>")]
pub async fn post_my_mfa_confirm(api: Api<'_>, data: Body) -> AppResult<Json<RecoveryCodes>> {
    mfa_app::confirm(api.st, &api.user, command(data)?).await.map(Json)
}

/// Give the second factor (a code, or a recovery code) in a session that still needs it.
#[utoipa::path(post, path = "/api/v1/me/mfa/verify", tag = "auth", security(("bearer" = [])), request_body = Code,
    responses((status = 204), (status = 422, body = super::docs::ErrorBody), (status = 429, body = super::docs::ErrorBody)))]
#[rocket::post("/me/mfa/verify", data = "<data>")]
pub async fn post_my_mfa_verify(api: Api<'_>, data: Body) -> AppResult<Status> {
    mfa_app::verify(api.st, &api.user, command(data)?).await?;
    Ok(Status::NoContent)
}

/// Ten new recovery codes in place of the old ones.
#[utoipa::path(post, path = "/api/v1/me/mfa/recovery-codes", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 403, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody)))]
#[rocket::post("/me/mfa/recovery-codes")]
pub async fn post_my_recovery_codes(api: Api<'_>) -> AppResult<Json<RecoveryCodes>> {
    mfa_app::renew_recovery_codes(api.st, &api.user).await.map(Json)
}
