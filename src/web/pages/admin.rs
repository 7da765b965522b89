use super::{choices, Choice, PageResult, Visit};
use crate::app::command::Submitted;
use crate::app::org::{self as org_app, CreateAccommodation};
use crate::app::users::{self as users_app, ChangeUser, CreateUser, Creator, ResetPassword};
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::{AppError, FieldErrors};
use crate::i18n;
use crate::store::org::{
    self, Accommodation, CountyMunicipalities, Mailboxes, MunicipalityContacts, ACCOMMODATION_KINDS,
};
use crate::store::users::{self, UserView};
use crate::web::form::{blank_with, CommandForm};
use crate::web::session::CsrfChecked;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use serde::Serialize;
use serde_json::{json, Map, Value};

async fn users_page(mut v: Visit<'_>, f: &Value, errors: FieldErrors) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let (list, accs, places) =
        v.st.db
            .run(|c| {
                Ok::<_, AppError>((
                    users::list(c)?.iter().map(UserView::from).collect::<Vec<_>>(),
                    org::list_accommodations(c, None, None)?,
                    org::municipalities_by_county(c)?,
                ))
            })
            .await?;
    let users = list
        .into_iter()
        .map(|u| {
            let w = &u.workplace;
            let place = match (w.accommodation_id, &w.municipality_code, &w.county_code) {
                (Some(a), _, _) => accs.iter().find(|x| x.id == a).map(|x| x.name.clone()),
                (None, Some(m), _) => municipality_name(&places, m),
                (None, None, Some(c)) => places.iter().find(|x| &x.code == c).map(|x| x.name.clone()),
                _ => None,
            };
            UserRowView { user: u, place }
        })
        .collect();
    let roles = choices(v.lang, "role_", &Role::NAMES);
    let page = UsersPage { users, accommodations: accs, roles, places, f };
    v.show_form("/admin/users", "pages/admin_users.html", &page, &errors)
}

fn municipality_name(places: &[CountyMunicipalities], code: &str) -> Option<String> {
    places.iter().flat_map(|c| &c.municipalities).find(|m| m.code == code).map(|m| m.name.clone())
}

/// The users page's view model: the users with where they work, and the form for a new one (`f`).
#[derive(Serialize)]
struct UsersPage<'a> {
    users: Vec<UserRowView>,
    accommodations: Vec<Accommodation>,
    roles: Vec<Choice>,
    places: Vec<CountyMunicipalities>,
    f: &'a Value,
}

#[derive(Serialize)]
struct UserRowView {
    #[serde(flatten)]
    user: UserView,
    /// the accommodation, municipality or county, by name
    place: Option<String>,
}

#[rocket::get("/admin/users")]
pub async fn get_users_page(v: Visit<'_>) -> PageResult {
    let f = blank_with::<CreateUser>(Map::from_iter([("role".to_string(), json!("staff"))]));
    users_page(v, &f, FieldErrors::new()).await
}

#[rocket::post("/admin/users", data = "<form>")]
pub async fn post_user_page(_csrf: CsrfChecked, v: Visit<'_>, form: CommandForm<CreateUser>) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let f = form.shown();
    let (now, actor, secret) = (v.now(), v.user.actor(), v.st.settings.jwt_secret.clone());
    let created =
        v.st.db
            .run(move |c| {
                users_app::create(c, form.input, Creator::Admin { actor: &actor, secret: secret.as_bytes() }, now)
            })
            .await;
    match created {
        Ok(_) => super::flash("/admin/users".into(), i18n::t(v.lang, "user_created_link_sent")),
        Err(e) => {
            let errors = e.into_fields()?;
            users_page(Visit { flash: None, ..v }, &f, errors).await
        }
    }
}

#[derive(FromForm)]
pub struct ActiveForm {
    active: Option<bool>,
}

#[rocket::post("/admin/users/<id>/active", data = "<form>")]
pub async fn post_user_active_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: Form<ActiveForm>) -> PageResult {
    let input = Submitted::new(ChangeUser { active: Some(form.active.unwrap_or(true)), ..Default::default() });
    let (now, u) = (v.now(), v.user.clone());
    match v.st.db.run(move |c| users_app::change(c, &u, UserId(id), input, now)).await {
        Ok(_) => v.saved("/admin/users"),
        Err(e) => v.refused("/admin/users", e),
    }
}

/// Sends the user a link to set a new password; the admin never sees one.
#[rocket::post("/admin/users/<id>/password")]
pub async fn post_user_password_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64) -> PageResult {
    let input = Submitted::new(ResetPassword::default());
    let (now, u, secret) = (v.now(), v.user.clone(), v.st.settings.jwt_secret.clone());
    match v.st.db.run(move |c| users_app::reset_password(c, &u, UserId(id), input, secret.as_bytes(), now)).await {
        Ok(()) => super::flash("/admin/users".into(), i18n::t(v.lang, "reset_link_sent")),
        Err(e) => v.refused("/admin/users", e),
    }
}

/// Removes a user's second factor (a lost phone): they enrol again at the next login.
#[rocket::post("/admin/users/<id>/mfa-reset")]
pub async fn post_user_mfa_reset_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64) -> PageResult {
    let (now, u) = (v.now(), v.user.clone());
    match v.st.db.run(move |c| users_app::reset_mfa(c, &u, UserId(id), now)).await {
        Ok(()) => v.saved("/admin/users"),
        Err(e) => v.refused("/admin/users", e),
    }
}

async fn accommodations_page(mut v: Visit<'_>, f: &Value, errors: FieldErrors) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let (list, places) =
        v.st.db
            .run(|c| Ok::<_, AppError>((org::list_accommodations(c, None, None)?, org::municipalities_by_county(c)?)))
            .await?;
    let l = v.lang;
    let accommodations = list
        .into_iter()
        .map(|a| AccommodationRow {
            kind_label: i18n::t(l, &format!("acc_kind_{}", a.kind)),
            municipality: municipality_name(&places, &a.municipality_code).unwrap_or_default(),
            a,
        })
        .collect();
    let page = AccommodationsPage { accommodations, kinds: choices(l, "acc_kind_", &ACCOMMODATION_KINDS), places, f };
    v.show_form("/admin/accommodations", "pages/admin_accommodations.html", &page, &errors)
}

#[derive(Serialize)]
struct AccommodationsPage<'a> {
    accommodations: Vec<AccommodationRow>,
    kinds: Vec<Choice>,
    places: Vec<CountyMunicipalities>,
    f: &'a Value,
}

#[derive(Serialize)]
struct AccommodationRow {
    #[serde(flatten)]
    a: Accommodation,
    kind_label: &'static str,
    municipality: String,
}

#[rocket::get("/admin/accommodations")]
pub async fn get_accommodations_page(v: Visit<'_>) -> PageResult {
    let f = blank_with::<CreateAccommodation>(Map::from_iter([("kind".to_string(), json!("hvb"))]));
    accommodations_page(v, &f, FieldErrors::new()).await
}

#[rocket::post("/admin/accommodations", data = "<form>")]
pub async fn post_accommodation_page(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    form: CommandForm<CreateAccommodation>,
) -> PageResult {
    let f = form.shown();
    let (now, u) = (v.now(), v.user.clone());
    match v.st.db.run(move |c| org_app::create_accommodation(c, &u, form.input, now)).await {
        Ok(_) => v.saved("/admin/accommodations"),
        Err(e) => {
            let errors = e.into_fields()?;
            accommodations_page(Visit { flash: None, ..v }, &f, errors).await
        }
    }
}

#[rocket::get("/admin/municipalities?<county>")]
pub async fn get_municipalities_page(mut v: Visit<'_>, county: Option<&str>) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let county = county.unwrap_or("01").to_string();
    let places = v.st.db.run(move |c| org::municipalities_by_county(c).map_err(AppError::from)).await?;
    let municipalities = places.iter().find(|c| c.code == county).map(|c| c.municipalities.clone()).unwrap_or_default();
    let heading = i18n::t(v.lang, "nav_municipalities");
    let page = MunicipalitiesPage { heading, municipalities, county: &county, places: &places };
    v.show(Status::Ok, "/admin/municipalities", "pages/admin_municipalities.html", &page)
}

#[derive(Serialize)]
struct MunicipalitiesPage<'a> {
    heading: &'static str,
    municipalities: Vec<crate::store::org::Municipality>,
    county: &'a str,
    places: &'a [CountyMunicipalities],
}

fn municipality_form(mut v: Visit<'_>, code: &str, name: &str, values: Value, errors: FieldErrors) -> PageResult {
    let heading = format!("{} – {name}", i18n::t(v.lang, "nav_municipalities"));
    let fields = (MunicipalityContacts::NAMES, MunicipalityContacts::REQUIRED);
    v.mailbox_form(
        "/admin/municipalities",
        &heading,
        &format!("/admin/municipalities/{code}"),
        fields,
        &values,
        &errors,
        None,
    )
}

#[rocket::get("/admin/municipalities/<code>")]
pub async fn get_municipality_page(v: Visit<'_>, code: &str) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let c2 = code.to_string();
    let (contacts, name) =
        v.st.db
            .run(move |c| {
                let contacts = org::municipality_contacts(c, &c2)?.ok_or_else(AppError::not_found)?;
                Ok::<_, AppError>((contacts, org::municipality(c, &c2)?.map(|m| m.name).unwrap_or_default()))
            })
            .await?;
    municipality_form(v, code, &name, serde_json::to_value(&contacts).unwrap_or_default(), FieldErrors::new())
}

#[rocket::post("/admin/municipalities/<code>", data = "<form>")]
pub async fn post_municipality_page(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    code: &str,
    form: CommandForm<MunicipalityContacts>,
) -> PageResult {
    let f = form.shown();
    let (now, u, c2) = (v.now(), v.user.clone(), code.to_string());
    match v.st.db.run(move |c| org_app::set_municipality_contacts(c, &u, &c2, form.input, now)).await {
        Ok(_) => v.saved(format!("/admin/municipalities/{code}")),
        Err(e) => {
            let errors = e.into_fields()?;
            let c2 = code.to_string();
            let name =
                v.st.db
                    .run(move |c| org::municipality(c, &c2).map_err(AppError::from))
                    .await?
                    .map(|m| m.name)
                    .unwrap_or_default();
            municipality_form(Visit { flash: None, ..v }, code, &name, f, errors)
        }
    }
}

/// A county's allowed email domains: the directory's addresses and the accounts of the county must be in
/// them (empty: not configured).
#[derive(Serialize)]
struct DomainsPage<'a> {
    county: &'a str,
    county_name: String,
    places: &'a [CountyMunicipalities],
    domains: String,
}

async fn domains_page(mut v: Visit<'_>, county: &str, typed: Option<String>, errors: FieldErrors) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let (c2, u) = (county.to_string(), v.user.clone());
    let (places, current) =
        v.st.db
            .run(move |c| {
                let current = org_app::allowed_domains(c, &u, &c2)?;
                Ok::<_, AppError>((org::municipalities_by_county(c)?, current))
            })
            .await?;
    let county_name = places.iter().find(|c| c.code == county).map(|c| c.name.clone()).unwrap_or_default();
    let domains = typed.unwrap_or_else(|| current.domains.join("\n"));
    let page = DomainsPage { county, county_name, places: &places, domains };
    v.show_form("/admin/domains", "pages/admin_domains.html", &page, &errors)
}

#[rocket::get("/admin/domains?<county>")]
pub async fn get_domains_page(v: Visit<'_>, county: Option<&str>) -> PageResult {
    let county = county.unwrap_or("01").to_string();
    domains_page(v, &county, None, FieldErrors::new()).await
}

#[derive(FromForm)]
pub struct DomainsForm {
    domains: Option<String>,
}

#[rocket::post("/admin/domains/<county>", data = "<form>")]
pub async fn post_domains_page(_csrf: CsrfChecked, v: Visit<'_>, county: &str, form: Form<DomainsForm>) -> PageResult {
    let typed = form.into_inner().domains.unwrap_or_default();
    let domains: Vec<String> =
        typed.split([',', '\n', ' ', ';']).map(str::trim).filter(|d| !d.is_empty()).map(String::from).collect();
    let input = Submitted::new(org_app::AllowedDomains { domains });
    let (now, u, c2) = (v.now(), v.user.clone(), county.to_string());
    match v.st.db.run(move |c| org_app::set_allowed_domains(c, &u, &c2, input, now)).await {
        Ok(_) => v.saved(format!("/admin/domains?county={county}")),
        Err(e) => {
            let errors = e.into_fields()?;
            domains_page(Visit { flash: None, ..v }, county, Some(typed), errors).await
        }
    }
}
