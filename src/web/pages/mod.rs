//! The server-rendered pages: thin handlers that decode a form into the use case's command, call the same
//! use case as the API, and render Tera templates in the user's language.

pub mod admin;
pub mod auth;
pub mod cases;
pub mod children;
pub mod county;

use super::session::{csrf_token, lang};
use super::{Page, Pages};
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::error::{AppError, FieldErrors};
use crate::i18n;
use crate::state::AppState;
use rocket::http::{CookieJar, Status};
use rocket::request::{FlashMessage, FromRequest, Outcome};
use rocket::response::{self, Flash, Redirect, Responder};
use rocket::Request;
use tera::Context;

/// What a page handler answers: a page, a redirect, or a redirect with a message for the next page.
#[derive(rocket::Responder)]
pub enum Out {
    Page(Page),
    Redirect(Redirect),
    Flash(Flash<Redirect>),
}

pub type PageResult = Result<Out, PageError>;

/// An error while serving a page: rendered as a page in the same style, never as JSON.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<crate::db::DbError> for PageError {
    fn from(e: crate::db::DbError) -> Self {
        PageError(e.into())
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> Self {
        PageError(e.into())
    }
}

impl<'r> Responder<'r, 'static> for PageError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        if self.0.kind == crate::app::ErrorKind::Unauthorized {
            return Redirect::to("/login").respond_to(req);
        }
        let Some(st) = req.rocket().state::<AppState>() else { return Err(Status::InternalServerError) };
        let lang = i18n::lang_of(req.cookies().get(super::session::LANG_COOKIE).map(|c| c.value()));
        let (h, t) = match self.0.kind.http_status() {
            403 => ("forbidden_title", "forbidden_text"),
            404 => ("not_found_title", "not_found_text"),
            _ => ("error_title", "error_text"),
        };
        st.pages.message(crate::error::status_of(&self.0), lang, h, t, None).respond_to(req)
    }
}

/// A signed-in person asking for a page: the state, the person, the browser's cookies, the message left by the
/// previous page and the page's language, taken from the request once for every page handler.
pub struct Visit<'r> {
    pub st: &'r AppState,
    pub user: AuthUser,
    pub cookies: &'r CookieJar<'r>,
    pub flash: Option<FlashMessage<'r>>,
    pub lang: &'static str,
    /// this page's address, for the language switch to come back to (a form's POST address has no query:
    /// it would carry the CSRF token)
    pub here: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visit<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let user = match AuthUser::from_request(req).await {
            Outcome::Success(u) => u,
            Outcome::Error((s, _)) => return Outcome::Error((s, ())),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let Some(st) = req.rocket().state::<AppState>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let flash = FlashMessage::from_request(req).await.succeeded();
        let lang = lang(Some(&user), req.cookies());
        let here = match req.method() {
            rocket::http::Method::Get => req.uri().to_string(),
            _ => req.uri().path().to_string(),
        };
        Outcome::Success(Visit { st, user, cookies: req.cookies(), flash, lang, here })
    }
}

impl Visit<'_> {
    /// The page's starting context; the previous page's message is shown once.
    pub fn base(&mut self, current: &str) -> Context {
        let mut ctx = base(self.st, Some(&self.user), self.cookies, self.flash.take(), current).0;
        ctx.insert("here", &self.here);
        ctx
    }

    pub fn page(&self, status: Status, name: &str, ctx: &Context) -> PageResult {
        page(self.st, status, name, ctx)
    }

    /// Renders `name` from the page's view model: each field of `view` is a variable of the template.
    pub fn show(&mut self, status: Status, current: &str, name: &str, view: &impl serde::Serialize) -> PageResult {
        let mut ctx = self.base(current);
        ctx.extend(Context::from_serialize(view).map_err(|_| AppError::internal())?);
        self.page(status, name, &ctx)
    }

    /// As [`show`](Self::show) for a page with a form: the refused fields at their inputs, and 422 then.
    pub fn show_form(
        &mut self,
        current: &str,
        name: &str,
        view: &impl serde::Serialize,
        errors: &FieldErrors,
    ) -> PageResult {
        let mut ctx = self.base(current);
        set_errors(&mut ctx, errors, self.lang);
        ctx.extend(Context::from_serialize(view).map_err(|_| AppError::internal())?);
        self.page(form_status(errors), name, &ctx)
    }

    /// As [`show_form`](Self::show_form) for a page of several forms; the refused one's ids start with
    /// `prefix`.
    pub fn show_form_in(
        &mut self,
        current: &str,
        name: &str,
        view: &impl serde::Serialize,
        prefix: &str,
        errors: &FieldErrors,
    ) -> PageResult {
        let mut ctx = self.base(current);
        set_errors_in(&mut ctx, prefix, errors, self.lang);
        ctx.extend(Context::from_serialize(view).map_err(|_| AppError::internal())?);
        self.page(form_status(errors), name, &ctx)
    }

    /// Back to `to`, saying it was saved.
    pub fn saved(&self, to: impl Into<String>) -> PageResult {
        flash(to.into(), i18n::t(self.lang, "saved"))
    }

    /// A page of mailbox fields (`pages/form.html`): each of `names` with its value from `values`; those
    /// in `required` must be given.
    #[allow(clippy::too_many_arguments)]
    pub fn mailbox_form(
        &mut self,
        current: &str,
        heading: &str,
        action: &str,
        (names, required): (&[&'static str], &[&str]),
        values: &serde_json::Value,
        errors: &FieldErrors,
        delivery: Option<Delivery>,
    ) -> PageResult {
        let fields = names
            .iter()
            .map(|f| FormField {
                name: f,
                label: i18n::t(self.lang, f),
                value: values[*f].as_str().unwrap_or("").to_string(),
                kind: "email",
                required: required.contains(f),
            })
            .collect();
        let page = FormPage { fields, heading, action, delivery };
        self.show_form(current, "pages/form.html", &page, errors)
    }

    pub fn refused(&self, to: &str, e: AppError) -> PageResult {
        flash_refusal(to, self.lang, e)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.st.clock.now()
    }
}

/// A page of one simple form (`pages/form.html`).
#[derive(serde::Serialize)]
pub struct FormPage<'a> {
    pub fields: Vec<FormField>,
    pub heading: &'a str,
    pub action: &'a str,
    /// A county's choices of how messages travel, on its contacts page.
    pub delivery: Option<Delivery>,
}

/// How each recipient kind's messages travel (SPEC §7), and whether `full` can be sent at all.
#[derive(serde::Serialize)]
pub struct Delivery {
    pub selects: Vec<SelectField>,
    pub tls_required: bool,
}

#[derive(serde::Serialize)]
pub struct SelectField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
}

#[derive(serde::Serialize)]
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
}

/// An option of a select or a checkbox list: the stored code and what a person reads.
#[derive(serde::Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// The options for `codes`, each labelled by the text `prefix` + code.
pub fn choices(lang: &str, prefix: &str, codes: &[&'static str]) -> Vec<Choice> {
    codes.iter().map(|c| Choice { value: c, label: i18n::t(lang, &format!("{prefix}{c}")) }).collect()
}

/// A step by its title in the page's language: the national default's, a county's own step by its key.
pub fn step_title(lang: &str, key: &str) -> String {
    i18n::step_title(lang, key)
}

/// 200 for a form shown afresh, 422 for one shown again with its errors.
pub fn form_status(errors: &FieldErrors) -> Status {
    if errors.is_empty() {
        Status::Ok
    } else {
        Status::UnprocessableEntity
    }
}

/// A link of the main navigation.
#[derive(serde::Serialize)]
struct NavLink {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// Who is signed in, as the page header shows it.
#[derive(serde::Serialize)]
struct SignedIn<'a> {
    name: &'a str,
    role_label: &'static str,
}

fn nav(role: Role, lang: &str, current: &str) -> Vec<NavLink> {
    let items: &[(&str, &str)] = match role {
        Role::Staff => &[("/", "nav_children"), ("/worklist", "nav_worklist")],
        Role::SocialWorker => &[
            ("/", "nav_cases"),
            ("/children", "nav_children"),
            ("/children/new", "nav_register_child"),
            ("/worklist", "nav_worklist"),
        ],
        Role::OnCall => &[("/cases", "nav_cases"), ("/worklist", "nav_worklist")],
        Role::CountyOfficer => &[
            ("/cases", "nav_cases"),
            ("/stats", "nav_stats"),
            ("/routine", "nav_routine"),
            ("/contacts", "nav_contacts"),
            ("/access-log", "nav_access_log"),
        ],
        Role::NationalAnalyst => &[("/stats", "nav_stats")],
        Role::Admin => &[
            ("/admin/users", "nav_users"),
            ("/admin/accommodations", "nav_accommodations"),
            ("/admin/municipalities", "nav_municipalities"),
            ("/admin/domains", "nav_domains"),
        ],
    };
    items.iter().map(|(href, key)| NavLink { href, label: i18n::t(lang, key), current: *href == current }).collect()
}

/// The context every page starts from: language, texts, CSRF token, user and navigation, flash message.
pub fn base(
    st: &AppState,
    user: Option<&AuthUser>,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    current: &str,
) -> (Context, &'static str) {
    let lang = lang(user, cookies);
    let mut ctx = Pages::context(lang);
    ctx.insert("csrf", &csrf_token(cookies, st.settings.secure_cookies()));
    ctx.insert("here", current);
    set_errors(&mut ctx, &FieldErrors::new(), lang);
    ctx.insert("flash_error", &flash.as_ref().is_some_and(|f| f.kind() == "error"));
    ctx.insert("flash", &flash.map(|f| f.message().to_string()));
    if let Some(u) = user {
        ctx.insert(
            "user",
            &SignedIn { name: &u.name, role_label: i18n::t(lang, &format!("role_{}", u.role.as_str())) },
        );
        // Until the second factor is given, the session reaches nothing the navigation would offer.
        let waiting =
            crate::domain::session::needs_second_factor(u.role, u.totp_enabled, st.settings.require_mfa) && !u.strong;
        if !waiting {
            ctx.insert("nav", &nav(u.role, lang, current));
        }
    }
    (ctx, lang)
}

/// A refused field as the error summary lists it: the input it links to, what the field is called and why it
/// was refused, both in the page's language.
#[derive(serde::Serialize)]
struct Refused {
    id: String,
    label: String,
    message: String,
}

/// What a person calls a field: `guardian.email` is the guardian's email, `steps[2].deadline` the third
/// step's deadline, `preparedness.height` the sheet's height.
pub fn field_label(lang: &str, name: &str) -> String {
    let label = |k: &str| Some(i18n::t(lang, k)).filter(|l| !l.is_empty());
    if let Some(l) = label(name).or_else(|| label(&name.replace('.', "_"))) {
        return l.to_string();
    }
    if let Some(rest) = name.strip_prefix("steps[") {
        if let Some((n, field)) = rest.split_once("].") {
            let n = n.parse::<usize>().map(|n| n + 1).unwrap_or(0);
            return format!("{} {n}: {}", i18n::t(lang, "step_number"), field_label(lang, field));
        }
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    label(last).unwrap_or_else(|| i18n::t(lang, "field_generic")).to_string()
}

/// Field errors for a page: `errors` lists each refused field for the summary at the top (label and reason
/// in the page's language, a link to the input); `ferr` holds the reason by the input's id
/// (`steps[1].deadline` → `steps_1__deadline`), because Tera reads dots in a key as a path.
pub fn set_errors(ctx: &mut Context, errors: &FieldErrors, lang: &str) {
    set_errors_in(ctx, "", errors, lang)
}

/// As [`set_errors`] for one of several forms on a page: its inputs' ids start with `prefix`.
pub fn set_errors_in(ctx: &mut Context, prefix: &str, errors: &FieldErrors, lang: &str) {
    let id = |k: &str| format!("{prefix}{}", field_id(k));
    let ids: FieldErrors = errors.iter().map(|(k, v)| (id(k), i18n::reason(lang, v))).collect();
    let summary: Vec<Refused> = errors
        .iter()
        .map(|(k, v)| Refused { id: id(k), label: field_label(lang, k), message: i18n::reason(lang, v) })
        .collect();
    ctx.insert("errors", &summary);
    ctx.insert("ferr", &ids);
}

pub fn field_id(name: &str) -> String {
    name.replace(['.', '[', ']'], "_")
}

pub fn page(st: &AppState, status: Status, name: &str, ctx: &Context) -> PageResult {
    Ok(Out::Page(st.pages.render(status, name, ctx)))
}

pub fn redirect(to: String) -> PageResult {
    Ok(Out::Redirect(Redirect::to(to)))
}

pub fn flash(to: String, message: &str) -> PageResult {
    Ok(Out::Flash(Flash::success(Redirect::to(to), message.to_string())))
}

/// A refused action whose form has no page of its own: back to `to` with each field's reason, the field
/// named in the page's language. Anything but a refusal of fields is answered as an error page.
pub fn flash_refusal(to: &str, l: &str, e: crate::error::AppError) -> PageResult {
    match &e.fields {
        Some(fields) => {
            let text = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", field_label(l, k), i18n::reason(l, v)))
                .collect::<Vec<_>>()
                .join("; ");
            Ok(Out::Flash(Flash::error(Redirect::to(to.to_string()), text)))
        }
        None => Err(e.into()),
    }
}

/// Local time for people: `2026-11-30 10:15`.
pub fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::domain::calendar::to_local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The 401 catcher for pages: to the login page.
#[rocket::catch(401)]
pub fn to_login() -> Redirect {
    Redirect::to("/login")
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        auth::get_index,
        auth::get_login,
        auth::post_login,
        auth::post_logout,
        auth::post_language,
        auth::get_password,
        auth::post_password,
        auth::get_account,
        auth::post_end_session,
        auth::post_end_all_sessions,
        auth::get_mfa,
        auth::post_mfa_verify,
        auth::post_mfa_confirm,
        auth::post_mfa_enrol,
        auth::post_mfa_recovery_codes,
        auth::get_set_password,
        auth::post_set_password,
        auth::get_oidc_start,
        auth::get_oidc_callback,
        children::get_children_page,
        children::get_child_page,
        children::post_child_sheet,
        children::post_child_photo,
        children::post_child_move,
        children::post_child_social_worker,
        children::post_child_decision,
        children::post_child_sheet_reviewed,
        children::get_child_new,
        children::post_child_new,
        children::get_report,
        children::post_report,
        cases::get_case_page,
        cases::get_reported_page,
        cases::get_cases_page,
        cases::get_worklist_page,
        cases::post_step_page,
        cases::post_found_page,
        cases::post_risk_page,
        cases::post_close_page,
        cases::post_addition_page,
        cases::post_return_page,
        county::get_routine_page,
        county::post_routine_page,
        county::get_contacts_page,
        county::post_contacts_page,
        county::get_stats_page,
        county::get_access_log_page,
        admin::get_users_page,
        admin::post_user_page,
        admin::post_user_active_page,
        admin::post_user_password_page,
        admin::post_user_mfa_reset_page,
        admin::get_domains_page,
        admin::post_domains_page,
        admin::get_accommodations_page,
        admin::post_accommodation_page,
        admin::get_municipalities_page,
        admin::get_municipality_page,
        admin::post_municipality_page,
    ]
}
