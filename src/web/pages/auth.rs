use super::{base, page, redirect, PageResult, Visit};
use crate::app::auth::login;
use crate::app::command::Submitted;
use crate::app::users::{self as users_app, ChangePassword, ChangeUser};
use crate::auth::guard::ClientIp;
use crate::auth::session_cookie;
use crate::auth::{AuthUser, SESSION_COOKIE};
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::FieldErrors;
use crate::i18n;
use crate::state::AppState;
use crate::web::session::{CsrfChecked, LANG_COOKIE};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::State;

/// The start page of each role.
#[rocket::get("/")]
pub async fn get_index(user: Option<AuthUser>) -> Redirect {
    match user.map(|u| u.role) {
        None => Redirect::to("/login"),
        Some(Role::Staff) => Redirect::to("/children"),
        Some(Role::SocialWorker) | Some(Role::OnCall) => Redirect::to("/cases"),
        Some(Role::CountyOfficer) => Redirect::to("/cases"),
        Some(Role::NationalAnalyst) => Redirect::to("/stats"),
        Some(Role::Admin) => Redirect::to("/admin/users"),
    }
}

#[rocket::get("/login")]
pub async fn get_login(st: &State<AppState>, cookies: &CookieJar<'_>, flash: Option<FlashMessage<'_>>) -> PageResult {
    let (mut ctx, _) = base(st, None, cookies, flash, "/login");
    ctx.insert("email", "");
    page(st, Status::Ok, "pages/login.html", &ctx)
}

#[derive(FromForm)]
pub struct LoginForm {
    email: Option<String>,
    password: Option<String>,
}

#[rocket::post("/login", data = "<form>")]
pub async fn post_login(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    ip: ClientIp,
    cookies: &CookieJar<'_>,
    form: Form<LoginForm>,
) -> PageResult {
    let f = form.into_inner();
    let email = f.email.clone().unwrap_or_default();
    let input = Submitted::new(crate::app::auth::Login { email: f.email, password: f.password });
    match login(st, ip.0, input).await {
        Ok(resp) => {
            cookies.add(session_cookie(&resp.token, st.settings.secure_cookies()));
            // A language chosen before signing in is kept: the account takes it.
            let chosen = cookies.get(LANG_COOKIE).map(|c| crate::i18n::lang_of(Some(c.value())));
            if let Some(lang) = chosen.filter(|l| *l != crate::i18n::lang_of(Some(&resp.user.language))) {
                let (now, id) = (st.clock.now(), resp.user.id);
                let input = Submitted::new(ChangeUser { language: Some(lang.to_string()), ..Default::default() });
                let _ = st.db.run(move |c| users_app::change_own(c, UserId(id), input, now)).await;
            }
            redirect("/".into())
        }
        Err(e) => {
            let (mut ctx, lang) = base(st, None, cookies, None, "/login");
            let mut errors = FieldErrors::new();
            let key = if e.kind == crate::app::ErrorKind::RateLimited { "login_rate_limited" } else { "login_failed" };
            errors.insert("email".into(), i18n::t(lang, key).into());
            super::set_errors(&mut ctx, &errors, lang);
            ctx.insert("email", &email);
            let status = if e.kind == crate::app::ErrorKind::RateLimited {
                Status::TooManyRequests
            } else {
                Status::Unauthorized
            };
            page(st, status, "pages/login.html", &ctx)
        }
    }
}

#[rocket::post("/logout")]
pub fn post_logout(_csrf: CsrfChecked, cookies: &CookieJar<'_>) -> Redirect {
    cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Redirect::to("/login")
}

#[derive(FromForm)]
pub struct LangForm {
    lang: Option<String>,
    /// the page the switch was made on, to return to it
    back: Option<String>,
}

/// A same-site path to return to; anything else (another site, `//host`, a scheme) returns to the start page.
fn back_to(back: Option<&str>) -> String {
    match back {
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && !b.starts_with("/\\")
                && b.len() <= 2000
                && !b.chars().any(|c| c.is_control() || c == '\\') =>
        {
            b.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The language switch: remembered on the account, or in a cookie before login.
#[rocket::post("/language", data = "<form>")]
pub async fn post_language(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: Option<AuthUser>,
    cookies: &CookieJar<'_>,
    form: Form<LangForm>,
) -> Redirect {
    let lang = if form.lang.as_deref() == Some("en") { "en" } else { "sv" };
    cookies.add(Cookie::build((LANG_COOKIE, lang)).same_site(SameSite::Strict).path("/").build());
    if let Some(u) = user {
        let now = st.clock.now();
        let input = Submitted::new(ChangeUser { language: Some(lang.to_string()), ..Default::default() });
        // The cookie already carries the choice; the account keeps it when the database is reachable.
        let _ = st.db.run(move |c| users_app::change_own(c, UserId(u.id), input, now)).await;
    }
    Redirect::to(back_to(form.back.as_deref()))
}

#[rocket::get("/password")]
pub async fn get_password(mut v: Visit<'_>) -> PageResult {
    let ctx = v.base("/password");
    v.page(Status::Ok, "pages/password.html", &ctx)
}

#[derive(FromForm)]
pub struct PasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
}

#[rocket::post("/password", data = "<form>")]
pub async fn post_password(_csrf: CsrfChecked, mut v: Visit<'_>, form: Form<PasswordForm>) -> PageResult {
    let f = form.into_inner();
    let input = Submitted::new(ChangePassword { current_password: f.current_password, new_password: f.new_password });
    let (now, id, actor) = (v.now(), v.user.id, v.user.actor());
    match v.st.db.run(move |c| users_app::change_password(c, UserId(id), &actor, input, now)).await {
        Ok(()) => {
            v.cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
            super::flash("/login".into(), i18n::t(v.lang, "password_changed"))
        }
        Err(e) => {
            let errors = e.into_fields()?;
            v.flash = None;
            let mut ctx = v.base("/password");
            super::set_errors(&mut ctx, &errors, v.lang);
            v.page(Status::UnprocessableEntity, "pages/password.html", &ctx)
        }
    }
}
