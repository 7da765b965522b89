use crate::app::users::{create_user, read_user};
use crate::auth::{password, AuthUser};
use crate::db::write_tx;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::input::{body, path_id, Body};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::users::{self, UserChanges, UserView};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    /// at least 12 characters
    pub password: String,
    /// staff, social_worker, county_officer, national_analyst or admin
    pub role: String,
    /// required for county_officer
    pub county_code: Option<String>,
    /// required for social_worker
    pub municipality_code: Option<String>,
    /// required for staff
    pub accommodation_id: Option<i64>,
    /// sv (default) or en
    pub language: Option<String>,
}

/// Create a user (admin). Each role needs its scope field.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUserInput,
    responses((status = 201, body = UserView), (status = 403, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/users", data = "<data>")]
pub async fn post_user(st: &State<AppState>, user: AuthUser, data: Body) -> AppResult<(Status, Json<UserView>)> {
    user.require(&[Role::Admin])?;
    let mut inp = body(data)?;
    let draft = read_user(&mut inp);
    let (now, actor) = (st.clock.now(), user.actor());
    st.db.run(move |c| create_user(c, inp, draft, &actor, now)).await.map(|u| (Status::Created, Json(u)))
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
pub async fn get_user(st: &State<AppState>, user: AuthUser, id: &str) -> AppResult<Json<UserView>> {
    user.require(&[Role::Admin])?;
    let id = path_id(id)?;
    st.db.run(move |c| users::by_id(c, id)?.map(|u| UserView::from(&u)).ok_or_else(AppError::not_found)).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    pub name: Option<String>,
    /// false deactivates the account and ends its sessions
    pub active: Option<bool>,
    pub language: Option<String>,
}

/// Change a user's name, language or active flag (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::patch("/users/<id>", data = "<data>")]
pub async fn patch_user(st: &State<AppState>, user: AuthUser, id: &str, data: Body) -> AppResult<Json<UserView>> {
    user.require(&[Role::Admin])?;
    let id = path_id(id)?;
    let mut inp = body(data)?;
    let ch = UserChanges {
        name: inp.opt_str("name", 200),
        active: inp.opt_bool("active"),
        language: inp.opt_enum("language", &["sv", "en"]),
    };
    if ch.active == Some(false) && id == user.id {
        inp.error("active", "you cannot deactivate yourself");
    }
    inp.finish()?;
    let (now, actor) = (st.clock.now(), user.actor());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                let before = users::by_id(c, id)?.ok_or_else(AppError::not_found)?;
                users::update(c, id, &ch, now)?;
                let what = match ch.active {
                    Some(false) => "user_deactivated",
                    Some(true) => "user_activated",
                    None => "user_changed",
                };
                audit::append(c, &actor, &Event::new(what).on("user", id).county(before.county_code), now)?;
                users::by_id(c, id)?.map(|u| UserView::from(&u)).ok_or_else(AppError::not_found)
            })
        })
        .await
        .map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordReset {
    /// at least 12 characters
    pub password: String,
}

/// Set a new password for a user (admin); the user's tokens are revoked.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PasswordReset,
    responses((status = 204), (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/users/<id>/password", data = "<data>")]
pub async fn post_user_password(st: &State<AppState>, user: AuthUser, id: &str, data: Body) -> AppResult<Status> {
    user.require(&[Role::Admin])?;
    let id = path_id(id)?;
    let mut inp = body(data)?;
    let pw = inp.password("password");
    inp.finish()?;
    let hash = password::hash(&pw).map_err(|_| AppError::internal())?;
    let (now, actor) = (st.clock.now(), user.actor());
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                if users::set_password(c, id, &hash, now)? == 0 {
                    return Err(AppError::not_found());
                }
                audit::append(c, &actor, &Event::new("password_reset").on("user", id), now)?;
                Ok(())
            })
        })
        .await?;
    Ok(Status::NoContent)
}
