use super::Api;
use crate::app::org::{self as org_app, AllowedDomains, CreateAccommodation};
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::input::{command, path_id, Body};
use crate::state::AppState;
use crate::store::org::{self, Accommodation, County, CountyContacts, Municipality, MunicipalityContacts};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;

/// The 21 counties.
#[utoipa::path(get, path = "/api/v1/counties", tag = "organisation", security(("bearer" = [])),
    responses((status = 200, body = [County]), (status = 401, body = super::docs::ErrorBody)))]
#[rocket::get("/counties")]
pub async fn get_counties(st: &State<AppState>, _user: AuthUser) -> AppResult<Json<Vec<County>>> {
    st.db.run(|c| org::list_counties(c).map_err(AppError::from)).await.map(Json)
}

/// The municipalities of one county.
#[utoipa::path(get, path = "/api/v1/counties/{code}/municipalities", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path, description = "county code, e.g. 01")),
    responses((status = 200, body = [Municipality]), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/municipalities")]
pub async fn get_municipalities(api: Api<'_>, code: &str) -> AppResult<Json<Vec<Municipality>>> {
    let Api { st, .. } = api;
    let code = code.to_string();
    st.db
        .run(move |c| {
            if !org::county_exists(c, &code)? {
                return Err(AppError::not_found());
            }
            Ok(org::municipalities_of(c, &code)?)
        })
        .await
        .map(Json)
}

/// The county contact directory (police, fallback, Migrationsverket, trafficking coordinator, county mailbox).
#[utoipa::path(get, path = "/api/v1/counties/{code}/contacts", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = CountyContacts), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/contacts")]
pub async fn get_county_contacts(api: Api<'_>, code: &str) -> AppResult<Json<CountyContacts>> {
    let Api { st, .. } = api;
    let code = code.to_string();
    let contacts = st.db.run(move |c| org::county_contacts(c, &code)?.ok_or_else(AppError::not_found)).await?;
    Ok(Json(contacts.with_defaults()))
}

/// Replace the county contact directory (admin, or a county officer of that county).
#[utoipa::path(put, path = "/api/v1/counties/{code}/contacts", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = CountyContacts,
    responses((status = 200, body = CountyContacts), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::put("/counties/<code>/contacts", data = "<data>")]
pub async fn put_county_contacts(api: Api<'_>, code: &str, data: Body) -> AppResult<Json<CountyContacts>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let (code, now) = (code.to_string(), st.clock.now());
    st.db.run(move |c| org_app::set_county_contacts(c, &user, &code, input, now)).await.map(|c| Json(c.with_defaults()))
}

/// The email domains a county's directory addresses and accounts must be in (admin, or a county officer of
/// that county); empty: not configured.
#[utoipa::path(get, path = "/api/v1/counties/{code}/allowed-domains", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = AllowedDomains), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/allowed-domains")]
pub async fn get_allowed_domains(api: Api<'_>, code: &str) -> AppResult<Json<AllowedDomains>> {
    let Api { st, user } = api;
    let code = code.to_string();
    st.db.run(move |c| org_app::allowed_domains(c, &user, &code)).await.map(Json)
}

/// Set a county's allowed email domains (admin); logged and told to the county mailbox.
#[utoipa::path(put, path = "/api/v1/counties/{code}/allowed-domains", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = AllowedDomains,
    responses((status = 200, body = AllowedDomains), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::put("/counties/<code>/allowed-domains", data = "<data>")]
pub async fn put_allowed_domains(api: Api<'_>, code: &str, data: Body) -> AppResult<Json<AllowedDomains>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let (code, now) = (code.to_string(), st.clock.now());
    st.db.run(move |c| org_app::set_allowed_domains(c, &user, &code, input, now)).await.map(Json)
}

/// A municipality's social-services and on-call (socialjour) mailboxes.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}/contacts", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = MunicipalityContacts), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/municipalities/<code>/contacts")]
pub async fn get_municipality_contacts(api: Api<'_>, code: &str) -> AppResult<Json<MunicipalityContacts>> {
    let Api { st, .. } = api;
    let code = code.to_string();
    st.db.run(move |c| org::municipality_contacts(c, &code)?.ok_or_else(AppError::not_found)).await.map(Json)
}

/// Replace a municipality's mailboxes (admin, or a social worker of that municipality).
#[utoipa::path(put, path = "/api/v1/municipalities/{code}/contacts", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = MunicipalityContacts,
    responses((status = 200, body = MunicipalityContacts), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::put("/municipalities/<code>/contacts", data = "<data>")]
pub async fn put_municipality_contacts(api: Api<'_>, code: &str, data: Body) -> AppResult<Json<MunicipalityContacts>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let (code, now) = (code.to_string(), st.clock.now());
    st.db.run(move |c| org_app::set_municipality_contacts(c, &user, &code, input, now)).await.map(Json)
}

/// Register an accommodation (admin).
#[utoipa::path(post, path = "/api/v1/accommodations", tag = "organisation", security(("bearer" = [])),
    request_body = CreateAccommodation,
    responses((status = 201, body = Accommodation), (status = 403, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/accommodations", data = "<data>")]
pub async fn post_accommodation(api: Api<'_>, data: Body) -> AppResult<(Status, Json<Accommodation>)> {
    let Api { st, user } = api;
    let input = command(data)?;
    let now = st.clock.now();
    st.db.run(move |c| org_app::create_accommodation(c, &user, input, now)).await.map(|a| (Status::Created, Json(a)))
}

/// Accommodations in the caller's scope (all for admin; county, municipality or own for others).
#[utoipa::path(get, path = "/api/v1/accommodations", tag = "organisation", security(("bearer" = [])),
    responses((status = 200, body = [Accommodation])))]
#[rocket::get("/accommodations")]
pub async fn get_accommodations(st: &State<AppState>, user: AuthUser) -> AppResult<Json<Vec<Accommodation>>> {
    st.db
        .run(move |c| {
            let all = match user.role {
                Role::Admin | Role::NationalAnalyst => org::list_accommodations(c, None, None)?,
                Role::CountyOfficer => org::list_accommodations(c, None, user.workplace.county_code.as_deref())?,
                Role::SocialWorker => org::list_accommodations(c, user.workplace.municipality_code.as_deref(), None)?,
                Role::OnCall => {
                    let codes = user.workplace.codes();
                    let all = org::list_accommodations(c, None, user.workplace.county_code.as_deref())?;
                    all.into_iter().filter(|a| codes.contains(&a.municipality_code)).collect()
                }
                Role::Staff => {
                    org::accommodation(c, user.workplace.accommodation_id.unwrap_or(0))?.into_iter().collect()
                }
            };
            Ok(all)
        })
        .await
        .map(Json)
}

/// One accommodation, if it is in the caller's scope.
#[utoipa::path(get, path = "/api/v1/accommodations/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Accommodation), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/accommodations/<id>")]
pub async fn get_accommodation(api: Api<'_>, id: &str) -> AppResult<Json<Accommodation>> {
    let Api { st, user } = api;
    let id = path_id(id)?;
    st.db
        .run(move |c| {
            let a = org::accommodation(c, id)?.ok_or_else(AppError::not_found)?;
            let visible = match user.role {
                Role::Admin | Role::NationalAnalyst => true,
                Role::CountyOfficer => org::municipality_county(c, &a.municipality_code)? == user.workplace.county_code,
                Role::SocialWorker => Some(&a.municipality_code) == user.workplace.municipality_code.as_ref(),
                Role::OnCall => user.workplace.codes().contains(&a.municipality_code),
                Role::Staff => user.workplace.accommodation_id == Some(a.id),
            };
            if visible {
                Ok(a)
            } else {
                Err(AppError::not_found())
            }
        })
        .await
        .map(Json)
}
