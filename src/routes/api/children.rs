use super::Api;
use crate::auth::AuthUser;
use crate::db::write_tx;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::input::{command, path_id, Body};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::children::{self, ChildView};
use crate::store::org;
use crate::store::scope::Scope;
use rocket::data::{Data, ToByteUnit};
use rocket::http::{ContentType, Header, Status};
use rocket::serde::json::Json;
use rocket::State;

use crate::app::{self, children::PHOTO_LIMIT_BYTES};

/// Register a child (social worker of the responsible municipality).
#[utoipa::path(post, path = "/api/v1/children", tag = "children", security(("bearer" = [])), request_body = crate::app::children::ChildCommand,
    responses((status = 201, body = ChildView), (status = 403, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/children", data = "<data>")]
pub async fn post_child(api: Api<'_>, data: Body) -> AppResult<(Status, Json<ChildView>)> {
    let Api { st, user } = api;
    let input = command(data)?;
    let now = st.clock.now();
    st.db.run(move |c| app::children::register(c, &user, input, now)).await.map(|v| (Status::Created, Json(v)))
}

/// The children in the caller's scope: placed at the staff member's accommodation, or the social worker's
/// municipality's.
#[utoipa::path(get, path = "/api/v1/children", tag = "children", security(("bearer" = [])),
    responses((status = 200, body = [ChildView]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/children")]
pub async fn get_children(st: &State<AppState>, user: AuthUser) -> AppResult<Json<Vec<ChildView>>> {
    let (now, actor) = (st.clock.now(), user.actor());
    let read = st.db.run(move |c| app::children::list(c, &user, now)).await?;
    st.disclose(actor, read, now).await.map(Json)
}

/// One child with the preparedness sheet (social worker of the responsible municipality, staff of the current
/// accommodation).
#[utoipa::path(get, path = "/api/v1/children/{id}", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ChildView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/children/<id>")]
pub async fn get_child(api: Api<'_>, id: &str) -> AppResult<Json<ChildView>> {
    let Api { st, user } = api;
    let id = path_id(id)?;
    let (now, actor) = (st.clock.now(), user.actor());
    let read = st.db.run(move |c| app::children::read(c, &user, id, now)).await?;
    st.disclose(actor, read, now).await.map(Json)
}

/// Change a child. Staff of the current accommodation may change only `preparedness`; the social worker may
/// change everything, including moving the child (`accommodation_id` closes the old placement).
#[utoipa::path(patch, path = "/api/v1/children/{id}", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = crate::app::children::ChildCommand,
    responses((status = 200, body = ChildView), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::patch("/children/<id>", data = "<data>")]
pub async fn patch_child(api: Api<'_>, id: &str, data: Body) -> AppResult<Json<ChildView>> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let input = command(data)?;
    let now = st.clock.now();
    st.db.run(move |c| app::children::change(c, &user, id, input, now)).await.map(Json)
}

/// The preparedness sheet was gone through with the child and is right as it is (staff of the current
/// accommodation, the social worker): answers the prevention prompts that ask for a review.
#[utoipa::path(post, path = "/api/v1/children/{id}/preparedness/reviewed", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ChildView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::post("/children/<id>/preparedness/reviewed")]
pub async fn post_sheet_reviewed(api: Api<'_>, id: &str) -> AppResult<Json<ChildView>> {
    let Api { st, user } = api;
    let id = path_id(id)?;
    let now = st.clock.now();
    st.db.run(move |c| app::children::confirm_sheet(c, &user, id, now)).await.map(Json)
}

/// The photo of the preparedness sheet; every view is written to the access log.
#[utoipa::path(get, path = "/api/v1/children/{id}/photo", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "image/jpeg or image/png", content_type = "image/*"), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/children/<id>/photo")]
pub async fn get_child_photo(api: Api<'_>, id: &str) -> AppResult<Photo> {
    let Api { st, user } = api;
    let id = path_id(id)?;
    let (now, actor) = (st.clock.now(), user.actor());
    let read = st.db.run(move |c| app::children::photo(c, &user, id)).await?;
    let (content_type, data) = st.disclose(actor, read, now).await?;
    Ok(Photo { content_type, data })
}

pub struct Photo {
    content_type: String,
    data: Vec<u8>,
}

impl<'r> rocket::response::Responder<'r, 'static> for Photo {
    fn respond_to(self, _: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let ct = if self.content_type == "image/png" { ContentType::PNG } else { ContentType::JPEG };
        rocket::Response::build()
            .header(ct)
            .header(Header::new("Cache-Control", "no-store"))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .header(Header::new("Content-Disposition", "inline"))
            .sized_body(self.data.len(), std::io::Cursor::new(self.data))
            .ok()
    }
}

/// Upload or replace the photo: the raw JPEG or PNG bytes as the body (at most 5 MB), recognised by content.
#[utoipa::path(put, path = "/api/v1/children/{id}/photo", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 204), (status = 404, body = super::docs::ErrorBody), (status = 413, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody)))]
#[rocket::put("/children/<id>/photo", data = "<data>")]
pub async fn put_child_photo(api: Api<'_>, id: &str, data: Data<'_>) -> AppResult<Status> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let bytes = data
        .open(PHOTO_LIMIT_BYTES.bytes())
        .into_bytes()
        .await
        .map_err(|_| AppError::bad_request("the body could not be read"))?;
    if !bytes.is_complete() {
        return Err(AppError::payload_too_large());
    }
    let bytes = bytes.into_inner();
    let now = st.clock.now();
    st.db.run(move |c| app::children::upload_photo(c, &user, id, &bytes, now)).await.map(|()| Status::NoContent)
}

/// Remove the photo.
#[utoipa::path(delete, path = "/api/v1/children/{id}/photo", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::delete("/children/<id>/photo")]
pub async fn delete_child_photo(api: Api<'_>, id: &str) -> AppResult<Status> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                let row = children::find(c, &Scope::from(&user), id)?.ok_or_else(AppError::not_found)?;
                if children::delete_photo(c, id)? == 0 {
                    return Err(AppError::not_found());
                }
                let county = org::municipality_county(c, &row.responsible_municipality_code)?;
                audit::append(c, &user.actor(), &Event::new("photo_deleted").on("child", id).county(county), now)?;
                Ok(Status::NoContent)
            })
        })
        .await
}
