use super::{choices, Choice, PageResult, Visit};
use crate::app::command::Submitted;
use crate::app::org::{self as org_app, CreateAccommodation};
use crate::app::users::{self as users_app, ChangeUser, CreateUser, ResetPassword};
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::{AppError, FieldErrors};
use crate::i18n;
use crate::store::org::{self, Accommodation, Mailboxes, MunicipalityContacts, ACCOMMODATION_KINDS};
use crate::store::users::{self, UserView};
use crate::web::form::{blank_with, CommandForm};
use crate::web::session::CsrfChecked;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use serde::Serialize;
use serde_json::{json, Map, Value};

async fn users_page(mut v: Visit<'_>, f: &Value, errors: FieldErrors) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let (list, accs) =
        v.st.db
            .run(|c| {
                Ok::<_, AppError>((
                    users::list(c)?.iter().map(UserView::from).collect::<Vec<_>>(),
                    org::list_accommodations(c, None, None)?,
                ))
            })
            .await?;
    let page = UsersPage { users: list, accommodations: accs, roles: choices(v.lang, "role_", &Role::NAMES), f };
    v.show_form("/admin/users", "pages/admin_users.html", &page, &errors)
}

/// The users page's view model: the users, and the form for a new one (`f`).
#[derive(Serialize)]
struct UsersPage<'a> {
    users: Vec<UserView>,
    accommodations: Vec<Accommodation>,
    roles: Vec<Choice>,
    f: &'a Value,
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
    let (now, actor) = (v.now(), v.user.actor());
    match v.st.db.run(move |c| users_app::create(c, form.input, &actor, now)).await {
        Ok(_) => v.saved("/admin/users"),
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

#[derive(FromForm)]
pub struct ResetForm {
    password: Option<String>,
}

#[rocket::post("/admin/users/<id>/password", data = "<form>")]
pub async fn post_user_password_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: Form<ResetForm>) -> PageResult {
    let input = Submitted::new(ResetPassword { password: form.into_inner().password });
    let (now, u) = (v.now(), v.user.clone());
    match v.st.db.run(move |c| users_app::reset_password(c, &u, UserId(id), input, now)).await {
        Ok(()) => v.saved("/admin/users"),
        Err(e) => v.refused("/admin/users", e),
    }
}

async fn accommodations_page(mut v: Visit<'_>, f: &Value, errors: FieldErrors) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let list = v.st.db.run(|c| org::list_accommodations(c, None, None).map_err(AppError::from)).await?;
    let page = AccommodationsPage { accommodations: list, kinds: &ACCOMMODATION_KINDS, f };
    v.show_form("/admin/accommodations", "pages/admin_accommodations.html", &page, &errors)
}

#[derive(Serialize)]
struct AccommodationsPage<'a> {
    accommodations: Vec<Accommodation>,
    kinds: &'static [&'static str],
    f: &'a Value,
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
    let list = v.st.db.run(move |c| org::municipalities_of(c, &county).map_err(AppError::from)).await?;
    let page = MunicipalitiesPage { heading: i18n::t(v.lang, "nav_municipalities"), municipalities: list };
    v.show(Status::Ok, "/admin/municipalities", "pages/admin_municipalities.html", &page)
}

#[derive(Serialize)]
struct MunicipalitiesPage {
    heading: &'static str,
    municipalities: Vec<crate::store::org::Municipality>,
}

fn municipality_form(mut v: Visit<'_>, code: &str, values: Value, errors: FieldErrors) -> PageResult {
    let heading = format!("{} {code}", i18n::t(v.lang, "nav_municipalities"));
    let fields = (MunicipalityContacts::NAMES, MunicipalityContacts::REQUIRED);
    v.mailbox_form(
        "/admin/municipalities",
        &heading,
        &format!("/admin/municipalities/{code}"),
        fields,
        &values,
        &errors,
    )
}

#[rocket::get("/admin/municipalities/<code>")]
pub async fn get_municipality_page(v: Visit<'_>, code: &str) -> PageResult {
    v.user.require(&[Role::Admin])?;
    let c2 = code.to_string();
    let contacts = v.st.db.run(move |c| org::municipality_contacts(c, &c2)?.ok_or_else(AppError::not_found)).await?;
    municipality_form(v, code, serde_json::to_value(&contacts).unwrap_or_default(), FieldErrors::new())
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
            municipality_form(Visit { flash: None, ..v }, code, f, errors)
        }
    }
}
