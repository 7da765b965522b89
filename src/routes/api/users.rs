use super::Api;
use crate::app::users::{self as users_app, ChangeUser, CreateUser, Creator, ResetPassword};
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::input::{command, path_id, Body};
use crate::state::AppState;
use crate::store::users::{self, UserView};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 403, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/users", data = "<data>")]
pub async fn post_user(api: Api<'_>, data: Body) -> AppResult<(Status, Json<UserView>)> {
    let Api { st, user } = api;
    user.require(&[Role::Admin])?;
    let input = command(data)?;
    let (now, actor, secret) = (st.clock.now(), user.actor(), st.settings.jwt_secret.clone());
    st.db
        .run(move |c| users_app::create(c, input, Creator::Admin { actor: &actor, secret: secret.as_bytes() }, now))
        .await
        .map(|u| (Status::Created, Json(u)))
}

/// All users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = [UserView]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/users")]
pub async fn get_users(st: &State<AppState>, user: AuthUser) -> AppResult<Json<Vec<UserView>>> {
    user.require(&[Role::Admin])?;
    st.db.run(|c| Ok(users::list(c)?.iter().map(UserView::from).collect())).await.map(Json)
}

/// One user (admin).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/users/<id>")]
pub async fn get_user(api: Api<'_>, id: &str) -> AppResult<Json<UserView>> {
    let Api { st, user } = api;
    user.require(&[Role::Admin])?;
    let id = path_id(id)?;
    st.db.run(move |c| users::by_id(c, id)?.map(|u| UserView::from(&u)).ok_or_else(AppError::not_found)).await.map(Json)
}

/// Change a user's name, language or active flag (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ChangeUser,
    responses((status = 200, body = UserView), (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::patch("/users/<id>", data = "<data>")]
pub async fn patch_user(api: Api<'_>, id: &str, data: Body) -> AppResult<Json<UserView>> {
    let Api { st, user } = api;
    let id = path_id(id)?;
    let input = command(data)?;
    let now = st.clock.now();
    st.db.run(move |c| users_app::change(c, &user, id, input, now)).await.map(Json)
}

/// Send a user a one-time link to set a new password (admin); the old password and every session of the
/// account end at once. The admin never learns the password: a `password` in the body is refused.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ResetPassword,
    responses((status = 204), (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/users/<id>/password", data = "<data>")]
pub async fn post_user_password(api: Api<'_>, id: &str, data: Body) -> AppResult<Status> {
    let Api { st, user } = api;
    let id = path_id(id)?;
    let input = command(data)?;
    let (now, secret) = (st.clock.now(), st.settings.jwt_secret.clone());
    st.db.run(move |c| users_app::reset_password(c, &user, id, input, secret.as_bytes(), now)).await?;
    Ok(Status::NoContent)
}

/// Remove a user's second factor (admin; a lost phone and lost recovery codes): the user enrols again at
/// the next login; the user and the county mailboxes are told.
#[utoipa::path(post, path = "/api/v1/users/{id}/mfa/reset", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::post("/users/<id>/mfa/reset")]
pub async fn post_user_mfa_reset(api: Api<'_>, id: &str) -> AppResult<Status> {
    let Api { st, user } = api;
    user.require(&[Role::Admin])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    st.db.run(move |c| users_app::reset_mfa(c, &user, id, now)).await?;
    Ok(Status::NoContent)
}
