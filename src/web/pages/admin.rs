use super::{base, flash, flash_refusal, page, PageResult};
use crate::app::command::Submitted;
use crate::app::org::{self as org_app, CreateAccommodation};
use crate::app::users::{self as users_app, ChangeUser, CreateUser, ResetPassword};
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::error::{AppError, FieldErrors};
use crate::i18n;
use crate::state::AppState;
use crate::store::org::{self, MunicipalityContacts, ACCOMMODATION_KINDS};
use crate::store::users::{self, UserView};
use crate::web::form::{blank_with, CommandForm};
use crate::web::session::{lang, CsrfChecked};
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::State;
use serde_json::{json, Map, Value};

async fn users_page(
    st: &AppState,
    user: &AuthUser,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    f: &Value,
    errors: FieldErrors,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let (list, accs) = st
        .db
        .run(|c| {
            Ok::<_, AppError>((
                users::list(c)?.iter().map(UserView::from).collect::<Vec<_>>(),
                org::list_accommodations(c, None, None)?,
            ))
        })
        .await?;
    let (mut ctx, l) = base(st, Some(user), cookies, flash, "/admin/users");
    let status = if errors.is_empty() { Status::Ok } else { Status::UnprocessableEntity };
    super::set_errors(&mut ctx, &errors);
    ctx.insert("users", &list);
    ctx.insert("accommodations", &accs);
    ctx.insert(
        "roles",
        &Role::NAMES.iter().map(|r| json!({"value": r, "label": i18n::t(l, &format!("role_{r}"))})).collect::<Vec<_>>(),
    );
    ctx.insert("f", f);
    page(st, status, "pages/admin_users.html", &ctx)
}

#[rocket::get("/admin/users")]
pub async fn get_users_page(
    st: &State<AppState>,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
) -> PageResult {
    let f = blank_with::<CreateUser>(Map::from_iter([("role".to_string(), json!("staff"))]));
    users_page(st, &user, cookies, flash, &f, FieldErrors::new()).await
}

#[rocket::post("/admin/users", data = "<form>")]
pub async fn post_user_page(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    form: CommandForm<CreateUser>,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let f = form.shown();
    let (now, actor) = (st.clock.now(), user.actor());
    match st.db.run(move |c| users_app::create(c, form.input, &actor, now)).await {
        Ok(_) => flash("/admin/users".into(), i18n::t(lang(Some(&user), cookies), "saved")),
        Err(e) if e.fields.is_some() => users_page(st, &user, cookies, None, &f, e.fields.unwrap_or_default()).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(FromForm)]
pub struct ActiveForm {
    active: Option<bool>,
}

#[rocket::post("/admin/users/<id>/active", data = "<form>")]
pub async fn post_user_active_page(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    id: i64,
    form: Form<ActiveForm>,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let input = Submitted::new(ChangeUser { active: Some(form.active.unwrap_or(true)), ..Default::default() });
    let l = lang(Some(&user), cookies);
    let now = st.clock.now();
    match st.db.run(move |c| users_app::change(c, &user, id, input, now)).await {
        Ok(_) => flash("/admin/users".into(), i18n::t(l, "saved")),
        Err(e) => flash_refusal("/admin/users", l, e),
    }
}

#[derive(FromForm)]
pub struct ResetForm {
    password: Option<String>,
}

#[rocket::post("/admin/users/<id>/password", data = "<form>")]
pub async fn post_user_password_page(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    id: i64,
    form: Form<ResetForm>,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let input = Submitted::new(ResetPassword { password: form.into_inner().password });
    let l = lang(Some(&user), cookies);
    let now = st.clock.now();
    match st.db.run(move |c| users_app::reset_password(c, &user, id, input, now)).await {
        Ok(()) => flash("/admin/users".into(), i18n::t(l, "saved")),
        Err(e) => flash_refusal("/admin/users", l, e),
    }
}

async fn accommodations_page(
    st: &AppState,
    user: &AuthUser,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    f: &Value,
    errors: FieldErrors,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let list = st.db.run(|c| org::list_accommodations(c, None, None).map_err(AppError::from)).await?;
    let (mut ctx, _) = base(st, Some(user), cookies, flash, "/admin/accommodations");
    let status = if errors.is_empty() { Status::Ok } else { Status::UnprocessableEntity };
    super::set_errors(&mut ctx, &errors);
    ctx.insert("accommodations", &list);
    ctx.insert("kinds", &ACCOMMODATION_KINDS);
    ctx.insert("f", f);
    page(st, status, "pages/admin_accommodations.html", &ctx)
}

#[rocket::get("/admin/accommodations")]
pub async fn get_accommodations_page(
    st: &State<AppState>,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
) -> PageResult {
    let f = blank_with::<CreateAccommodation>(Map::from_iter([("kind".to_string(), json!("hvb"))]));
    accommodations_page(st, &user, cookies, flash, &f, FieldErrors::new()).await
}

#[rocket::post("/admin/accommodations", data = "<form>")]
pub async fn post_accommodation_page(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    form: CommandForm<CreateAccommodation>,
) -> PageResult {
    let f = form.shown();
    let now = st.clock.now();
    let u = user.clone();
    match st.db.run(move |c| org_app::create_accommodation(c, &u, form.input, now)).await {
        Ok(_) => flash("/admin/accommodations".into(), i18n::t(lang(Some(&user), cookies), "saved")),
        Err(e) if e.fields.is_some() => {
            accommodations_page(st, &user, cookies, None, &f, e.fields.unwrap_or_default()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/admin/municipalities?<county>")]
pub async fn get_municipalities_page(
    st: &State<AppState>,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    county: Option<&str>,
    flash: Option<FlashMessage<'_>>,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let county = county.unwrap_or("01").to_string();
    let list = st.db.run(move |c| org::municipalities_of(c, &county).map_err(AppError::from)).await?;
    let (mut ctx, l) = base(st, Some(&user), cookies, flash, "/admin/municipalities");
    let fields: Vec<Value> = Vec::new();
    ctx.insert("fields", &fields);
    ctx.insert("heading", i18n::t(l, "nav_municipalities"));
    ctx.insert("municipalities", &list);
    page(st, Status::Ok, "pages/admin_municipalities.html", &ctx)
}

fn municipality_form(
    st: &AppState,
    user: &AuthUser,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    code: &str,
    values: Value,
    errors: FieldErrors,
) -> PageResult {
    let (mut ctx, l) = base(st, Some(user), cookies, flash, "/admin/municipalities");
    let fields: Vec<Value> = ["social_services_email", "on_call_email"]
        .iter()
        .map(|f| json!({"name": f, "label": i18n::t(l, f), "value": values[*f].as_str().unwrap_or(""), "type": "email", "required": *f == "social_services_email"}))
        .collect();
    let status = if errors.is_empty() { Status::Ok } else { Status::UnprocessableEntity };
    super::set_errors(&mut ctx, &errors);
    ctx.insert("fields", &fields);
    ctx.insert("heading", &format!("{} {code}", i18n::t(l, "nav_municipalities")));
    ctx.insert("action", &format!("/admin/municipalities/{code}"));
    page(st, status, "pages/form.html", &ctx)
}

#[rocket::get("/admin/municipalities/<code>")]
pub async fn get_municipality_page(
    st: &State<AppState>,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    code: &str,
    flash: Option<FlashMessage<'_>>,
) -> PageResult {
    user.require(&[Role::Admin])?;
    let c2 = code.to_string();
    let contacts = st.db.run(move |c| org::municipality_contacts(c, &c2)?.ok_or_else(AppError::not_found)).await?;
    municipality_form(
        st,
        &user,
        cookies,
        flash,
        code,
        serde_json::to_value(&contacts).unwrap_or_default(),
        FieldErrors::new(),
    )
}

#[rocket::post("/admin/municipalities/<code>", data = "<form>")]
pub async fn post_municipality_page(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: AuthUser,
    cookies: &CookieJar<'_>,
    code: &str,
    form: CommandForm<MunicipalityContacts>,
) -> PageResult {
    let f = form.shown();
    let (now, u, c2) = (st.clock.now(), user.clone(), code.to_string());
    match st.db.run(move |c| org_app::set_municipality_contacts(c, &u, &c2, form.input, now)).await {
        Ok(_) => flash(format!("/admin/municipalities/{code}"), i18n::t(lang(Some(&user), cookies), "saved")),
        Err(e) if e.fields.is_some() => {
            municipality_form(st, &user, cookies, None, code, f, e.fields.unwrap_or_default())
        }
        Err(e) => Err(e.into()),
    }
}
