use crate::auth::AuthUser;
use crate::db::write_tx;
use crate::domain::preparedness;
use crate::domain::role::Role;
use crate::domain::validate::is_municipality_code;
use crate::error::{ApiError, ApiResult};
use crate::input::{body, path_id, Body, Input};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::children::{self, ChildFields, ChildView};
use crate::store::org;
use crate::store::scope::Scope;
use chrono::{DateTime, Utc};
use rocket::data::{Data, ToByteUnit};
use rocket::http::{ContentType, Header, Status};
use rocket::serde::json::Json;
use rocket::State;
use serde::Deserialize;
use serde_json::{Map, Value};

pub const PHOTO_LIMIT_BYTES: u64 = 5 * 1024 * 1024;
const SEXES: [&str; 4] = ["male", "female", "other", "unknown"];

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GuardianInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// ISO 639-1, e.g. sv, en, ar, prs
    pub language: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChildInput {
    pub given_name: String,
    pub family_name: String,
    pub aliases: Option<Vec<String>>,
    pub date_of_birth: chrono::NaiveDate,
    pub date_of_birth_estimated: Option<bool>,
    /// male, female, other or unknown
    pub sex: String,
    /// ISO 3166-1 alpha-2
    pub nationality: Option<String>,
    /// ISO 639 codes
    pub languages: Option<Vec<String>>,
    pub dossier_number: Option<String>,
    pub asylum_status: Option<String>,
    /// defaults to the social worker's municipality, and must be it
    pub responsible_municipality_code: Option<String>,
    pub assigning_municipality_code: Option<String>,
    /// the current accommodation (a placement starts now)
    pub accommodation_id: Option<i64>,
    pub guardian: Option<GuardianInput>,
    /// description fields of the preparedness sheet (height, build, hair, eyes, distinguishing_marks,
    /// phone_numbers, social_media, known_contacts, known_places, health_and_medication,
    /// vulnerabilities, …): text, numbers, booleans or lists of text; `null` removes a field
    #[schema(schema_with = crate::domain::preparedness::sheet_input_schema)]
    pub preparedness: Option<Value>,
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_language(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// An optional field that may be cleared with `null`: absent → None, null → Some(None).
fn clearable(inp: &mut Input, key: &str, max: usize) -> Option<Option<String>> {
    if !inp.has(key) {
        return None;
    }
    Some(inp.opt_str(key, max))
}

/// Reads the child fields; `creating` makes the identity fields required.
pub fn read_fields(inp: &mut Input, creating: bool, today: chrono::NaiveDate) -> ChildFields {
    let mut f = ChildFields::default();
    let text = |inp: &mut Input, key: &str, max: usize| {
        if creating {
            Some(inp.req_str(key, max))
        } else {
            inp.opt_str(key, max)
        }
    };
    f.given_name = text(inp, "given_name", 100);
    f.family_name = text(inp, "family_name", 100);
    if inp.has("aliases") || creating {
        f.aliases = Some(inp.str_list("aliases", 20, 100));
    }
    f.date_of_birth = if creating { Some(inp.req_date("date_of_birth")) } else { inp.opt_date("date_of_birth") };
    if let Some(d) = f.date_of_birth {
        if d > today {
            inp.error("date_of_birth", "may not be in the future");
        } else if children::age_on(d, today) >= 18 {
            inp.error("date_of_birth", "the child must be under 18");
        }
    }
    f.date_of_birth_estimated = inp.opt_bool("date_of_birth_estimated");
    f.sex = if creating { Some(inp.req_enum("sex", &SEXES)) } else { inp.opt_enum("sex", &SEXES) };
    f.nationality = clearable(inp, "nationality", 2).map(|o| o.map(|s| s.to_uppercase()));
    if let Some(Some(n)) = &f.nationality {
        if !is_country(n) {
            inp.error("nationality", "must be an ISO 3166-1 alpha-2 code such as AF");
        }
    }
    if inp.has("languages") || creating {
        let langs: Vec<String> = inp.str_list("languages", 10, 3).into_iter().map(|l| l.to_lowercase()).collect();
        if !langs.iter().all(|l| is_language(l)) {
            inp.error("languages", "must be ISO 639 codes such as sv, ps, prs");
        }
        f.languages = Some(langs);
    }
    f.dossier_number = clearable(inp, "dossier_number", 40);
    f.asylum_status = clearable(inp, "asylum_status", 100);
    f.assigning_municipality_code = clearable(inp, "assigning_municipality_code", 4);
    if let Some(Some(m)) = &f.assigning_municipality_code {
        if !is_municipality_code(m) {
            inp.error("assigning_municipality_code", "must be a 4-digit municipality code");
        }
    }
    if let Some(mut g) = inp.opt_object("guardian") {
        f.guardian_name = clearable(&mut g, "name", 200);
        f.guardian_email = if g.has("email") { Some(g.opt_email("email")) } else { None };
        f.guardian_phone = clearable(&mut g, "phone", 40);
        f.guardian_language = clearable(&mut g, "language", 3).map(|o| o.map(|s| s.to_lowercase()));
        if let Some(Some(l)) = &f.guardian_language {
            if !is_language(l) {
                g.error("language", "must be an ISO 639 code such as sv or en");
            }
        }
        inp.absorb(g);
    }
    f
}

/// Reads a change to the preparedness sheet with the rules of [`preparedness`]; errors go to `inp`.
pub fn read_preparedness(inp: &mut Input) -> Option<Map<String, Value>> {
    let raw = inp.raw("preparedness")?;
    match preparedness::check_change(raw) {
        Ok(m) => Some(m.clone()),
        Err(errors) => {
            for (k, v) in errors {
                inp.error(&k, &v);
            }
            None
        }
    }
}

/// Merges a checked change into a stored sheet; a sheet that would grow past the limit is a 422.
pub fn merge(into: &mut Map<String, Value>, changes: &Map<String, Value>) -> Result<(), ApiError> {
    preparedness::merge(into, changes).map_err(ApiError::validation)
}

fn check_municipality(
    c: &mut crate::db::AnyConnection,
    inp: &mut Input,
    key: &str,
    code: Option<&String>,
) -> Result<(), ApiError> {
    if let Some(m) = code {
        if inp.ok() && org::municipality_county(c, m)?.is_none() {
            inp.error(key, "no such municipality");
        }
    }
    Ok(())
}

/// Register a child (social worker of the responsible municipality).
#[utoipa::path(post, path = "/api/v1/children", tag = "children", security(("bearer" = [])), request_body = ChildInput,
    responses((status = 201, body = ChildView), (status = 403, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/children", data = "<data>")]
pub async fn post_child(st: &State<AppState>, user: AuthUser, data: Body) -> ApiResult<(Status, Json<ChildView>)> {
    user.require(&[Role::SocialWorker])?;
    let now = st.clock.now();
    let today = crate::domain::calendar::local_date(now);
    let mut inp = body(data)?;
    let fields = read_fields(&mut inp, true, today);
    let own = user.municipality_code.clone().unwrap_or_default();
    let responsible = inp.opt_str("responsible_municipality_code", 4).unwrap_or_else(|| own.clone());
    if responsible != own {
        inp.error("responsible_municipality_code", "must be your own municipality");
    }
    let accommodation = inp.opt_id("accommodation_id");
    let mut prep = Map::new();
    if let Some(changes) = read_preparedness(&mut inp) {
        if let Err(e) = preparedness::merge(&mut prep, &changes) {
            inp.errors.extend(e);
        }
    }
    let secret_user = user.clone();
    st.db
        .run(move |c| {
            check_municipality(
                c,
                &mut inp,
                "assigning_municipality_code",
                fields.assigning_municipality_code.as_ref().and_then(|o| o.as_ref()),
            )?;
            if let Some(a) = accommodation {
                if inp.ok() && org::accommodation(c, a)?.is_none() {
                    inp.error("accommodation_id", "no such accommodation");
                }
            }
            inp.finish()?;
            let user = secret_user;
            write_tx(c, |c| {
                let id = children::insert(c, &fields, &responsible, Some(user.id), &prep, now)?;
                if let Some(a) = accommodation {
                    children::place(c, id, a, user.id, now)?;
                }
                let county = org::municipality_county(c, &responsible)?;
                audit::append(c, &user.actor(), &Event::new("child_created").on("child", id).county(county), now)?;
                let row = children::find(c, &Scope::from(&user), id)?.ok_or_else(ApiError::internal)?;
                Ok(children::view(c, &row, today)?)
            })
        })
        .await
        .map(|v| (Status::Created, Json(v)))
}

/// The children in the caller's scope: placed at the staff member's accommodation, or the social worker's
/// municipality's.
#[utoipa::path(get, path = "/api/v1/children", tag = "children", security(("bearer" = [])),
    responses((status = 200, body = [ChildView]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/children")]
pub async fn get_children(st: &State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<ChildView>>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let now = st.clock.now();
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                let scope = Scope::from(&user);
                let rows = children::list(c, &scope)?;
                let today = crate::domain::calendar::local_date(now);
                let views = rows.iter().map(|r| children::view(c, r, today)).collect::<Result<Vec<_>, _>>()?;
                let ev = Event::new("child_list")
                    .county(user.county_code.clone())
                    .detail(format!("{} children", views.len()));
                audit::append(c, &user.actor(), &ev, now)?;
                Ok(views)
            })
        })
        .await
        .map(Json)
}

/// Loads a child in scope, with the county its access-log entry belongs to.
fn read_child(
    c: &mut crate::db::AnyConnection,
    user: &AuthUser,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<(ChildView, Option<String>)> {
    let row = children::find(c, &Scope::from(user), id)?.ok_or_else(ApiError::not_found)?;
    let county = org::municipality_county(c, &row.responsible_municipality_code)?;
    Ok((children::view(c, &row, crate::domain::calendar::local_date(now))?, county))
}

/// One child with the preparedness sheet (social worker of the responsible municipality, staff of the current
/// accommodation).
#[utoipa::path(get, path = "/api/v1/children/{id}", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ChildView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/children/<id>")]
pub async fn get_child(st: &State<AppState>, user: AuthUser, id: &str) -> ApiResult<Json<ChildView>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    let actor = user.actor();
    let (view, county) = st.db.run(move |c| read_child(c, &user, id, now)).await?;
    st.audit.log(actor, Event::new("child_read").on("child", id).county(county), now).await?;
    Ok(Json(view))
}

/// Change a child. Staff of the current accommodation may change only `preparedness`; the social worker may
/// change everything, including moving the child (`accommodation_id` closes the old placement).
#[utoipa::path(patch, path = "/api/v1/children/{id}", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ChildInput,
    responses((status = 200, body = ChildView), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::patch("/children/<id>", data = "<data>")]
pub async fn patch_child(st: &State<AppState>, user: AuthUser, id: &str, data: Body) -> ApiResult<Json<ChildView>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    let today = crate::domain::calendar::local_date(now);
    let data = data?;
    let staff_only_sheet = user.is(Role::Staff) && data.0.keys().any(|k| k != "preparedness");
    let mut inp = Input::new(data.0);
    let fields = read_fields(&mut inp, false, today);
    let accommodation = inp.opt_id("accommodation_id");
    let prep = read_preparedness(&mut inp);
    if inp.has("responsible_municipality_code") {
        inp.error("responsible_municipality_code", "cannot be changed; transfer the child instead");
    }
    st.db
        .run(move |c| {
            // Scope first: an out-of-scope child is 404 whatever the body says.
            let row = children::find(c, &Scope::from(&user), id)?.ok_or_else(ApiError::not_found)?;
            if staff_only_sheet {
                return Err(ApiError::forbidden());
            }
            check_municipality(
                c,
                &mut inp,
                "assigning_municipality_code",
                fields.assigning_municipality_code.as_ref().and_then(|o| o.as_ref()),
            )?;
            if let Some(a) = accommodation {
                if inp.ok() && org::accommodation(c, a)?.is_none() {
                    inp.error("accommodation_id", "no such accommodation");
                }
            }
            inp.finish()?;
            write_tx(c, |c| {
                children::update(c, id, &fields, now)?;
                if let Some(changes) = &prep {
                    let mut sheet = children::json_object(&row.preparedness);
                    merge(&mut sheet, changes)?;
                    children::set_preparedness(c, id, &sheet, now)?;
                }
                let mut moved = false;
                if let Some(a) = accommodation {
                    moved = children::place(c, id, a, user.id, now)?;
                }
                let county = org::municipality_county(c, &row.responsible_municipality_code)?;
                let what = if moved {
                    "child_moved"
                } else if prep.is_some() && user.is(Role::Staff) {
                    "preparedness_changed"
                } else {
                    "child_changed"
                };
                audit::append(c, &user.actor(), &Event::new(what).on("child", id).county(county), now)?;
                // After a move the staff of the old accommodation no longer see the child: read as the social worker.
                let row = children::find(c, &Scope::Municipality(row.responsible_municipality_code.clone()), id)?
                    .ok_or_else(ApiError::not_found)?;
                Ok(children::view(c, &row, today)?)
            })
        })
        .await
        .map(Json)
}

/// The photo of the preparedness sheet; every view is written to the access log.
#[utoipa::path(get, path = "/api/v1/children/{id}/photo", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "image/jpeg or image/png", content_type = "image/*"), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/children/<id>/photo")]
pub async fn get_child_photo(st: &State<AppState>, user: AuthUser, id: &str) -> ApiResult<Photo> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    let actor = user.actor();
    let (photo, county) = st
        .db
        .run(move |c| {
            let row = children::find(c, &Scope::from(&user), id)?.ok_or_else(ApiError::not_found)?;
            let (ct, data) = children::photo(c, id)?.ok_or_else(ApiError::not_found)?;
            let county = org::municipality_county(c, &row.responsible_municipality_code)?;
            Ok::<_, ApiError>((Photo { content_type: ct, data }, county))
        })
        .await?;
    st.audit.log(actor, Event::new("photo_viewed").on("child", id).county(county), now).await?;
    Ok(photo)
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
pub async fn put_child_photo(st: &State<AppState>, user: AuthUser, id: &str, data: Data<'_>) -> ApiResult<Status> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let bytes = data
        .open(PHOTO_LIMIT_BYTES.bytes())
        .into_bytes()
        .await
        .map_err(|_| ApiError::bad_request("the body could not be read"))?;
    if !bytes.is_complete() {
        return Err(ApiError::payload_too_large());
    }
    let bytes = bytes.into_inner();
    let now = st.clock.now();
    st.db
        .run(move |c| {
            let row = children::find(c, &Scope::from(&user), id)?.ok_or_else(ApiError::not_found)?;
            let ct =
                children::sniff_image(&bytes).ok_or_else(|| ApiError::field("photo", "must be a JPEG or PNG image"))?;
            write_tx(c, |c| {
                children::set_photo(c, id, ct, &bytes, user.id, now)?;
                let county = org::municipality_county(c, &row.responsible_municipality_code)?;
                audit::append(c, &user.actor(), &Event::new("photo_uploaded").on("child", id).county(county), now)?;
                Ok(Status::NoContent)
            })
        })
        .await
}

/// Remove the photo.
#[utoipa::path(delete, path = "/api/v1/children/{id}/photo", tag = "children", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::delete("/children/<id>/photo")]
pub async fn delete_child_photo(st: &State<AppState>, user: AuthUser, id: &str) -> ApiResult<Status> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                let row = children::find(c, &Scope::from(&user), id)?.ok_or_else(ApiError::not_found)?;
                if children::delete_photo(c, id)? == 0 {
                    return Err(ApiError::not_found());
                }
                let county = org::municipality_county(c, &row.responsible_municipality_code)?;
                audit::append(c, &user.actor(), &Event::new("photo_deleted").on("child", id).county(county), now)?;
                Ok(Status::NoContent)
            })
        })
        .await
}
