//! Signing in and one's own account: the login page (password, and the identity providers), the second
//! factor's pages, one's sessions, the password, the set-password link's page and the language switch.

use super::{base, page, redirect, PageResult, Visit};
use crate::app::auth::{self as auth_app, login, LoginResponse, Via};
use crate::app::command::Submitted;
use crate::app::mfa::{self as mfa_app, Code};
use crate::app::users::{self as users_app, ChangePassword, ChangeUser, SetPassword};
use crate::auth::oidc::Pending;
use crate::auth::{session_cookie, AuthUser, SESSION_COOKIE};
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::{AppError, FieldErrors};
use crate::i18n;
use crate::routes::api::auth::LoginClient;
use crate::state::AppState;
use crate::web::session::{CsrfChecked, LANG_COOKIE};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::State;
use serde::Serialize;

/// The private cookie that carries an identity provider login from the redirect to the way back.
const OIDC_COOKIE: &str = "saknad_oidc";

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

#[derive(Serialize)]
struct ProviderLink {
    href: String,
    label: String,
}

fn login_page(
    st: &AppState,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    email: &str,
    errors: &FieldErrors,
    status: Status,
) -> PageResult {
    let (mut ctx, lang) = base(st, None, cookies, flash, "/login");
    super::set_errors(&mut ctx, errors, lang);
    ctx.insert("email", email);
    ctx.insert("providers", &providers(st));
    page(st, status, "pages/login.html", &ctx)
}

/// The identity providers' buttons on the login page.
fn providers(st: &AppState) -> Vec<ProviderLink> {
    st.settings
        .oidc
        .iter()
        .map(|p| ProviderLink { href: format!("/login/oidc/{}", p.id), label: p.label.clone() })
        .collect()
}

#[rocket::get("/login")]
pub async fn get_login(st: &State<AppState>, cookies: &CookieJar<'_>, flash: Option<FlashMessage<'_>>) -> PageResult {
    login_page(st, cookies, flash, "", &FieldErrors::new(), Status::Ok)
}

#[derive(FromForm)]
pub struct LoginForm {
    email: Option<String>,
    password: Option<String>,
}

/// After a login: the session cookie, this browser remembered for the account, a language chosen before
/// signing in kept, and the next page — the second factor's when the session still needs it, with a word on
/// failed attempts since the last login.
async fn signed_in(st: &AppState, cookies: &CookieJar<'_>, resp: LoginResponse) -> PageResult {
    cookies.add(session_cookie(&resp.token, st.settings.secure_cookies()));
    crate::auth::remember_device(cookies, resp.user.id, st.settings.secure_cookies());
    let chosen = cookies.get(LANG_COOKIE).map(|c| crate::i18n::lang_of(Some(c.value())));
    if let Some(lang) = chosen.filter(|l| *l != crate::i18n::lang_of(Some(&resp.user.language))) {
        let (now, id) = (st.clock.now(), resp.user.id);
        let input = Submitted::new(ChangeUser { language: Some(lang.to_string()), ..Default::default() });
        let _ = st.db.run(move |c| users_app::change_own(c, UserId(id), input, now)).await;
    }
    let lang = chosen.unwrap_or_else(|| crate::i18n::lang_of(Some(&resp.user.language)));
    let to = if resp.mfa_enrolment_required || resp.mfa_verification_required { "/mfa" } else { "/" };
    match resp.failed_logins {
        Some(f) => {
            let text = i18n::t(lang, "failed_logins_notice")
                .replace("{n}", &f.count.to_string())
                .replace("{at}", &super::local(f.last_at));
            super::flash(to.into(), &text)
        }
        None => redirect(to.into()),
    }
}

#[rocket::post("/login", data = "<form>")]
pub async fn post_login(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    client: LoginClient,
    cookies: &CookieJar<'_>,
    form: Form<LoginForm>,
) -> PageResult {
    let f = form.into_inner();
    let email = f.email.clone().unwrap_or_default();
    let input = Submitted::new(crate::app::auth::Login { email: f.email, password: f.password, code: None });
    match login(st, client.0, input, Via::Page).await {
        Ok(resp) => signed_in(st, cookies, resp).await,
        Err(e) => {
            let lang = crate::web::session::lang(None, cookies);
            let mut errors = FieldErrors::new();
            let (text, status) = match (e.kind, e.retry_after) {
                (crate::app::ErrorKind::RateLimited, Some(s)) => {
                    (i18n::t(lang, "login_wait").replace("{n}", &s.to_string()), Status::TooManyRequests)
                }
                (crate::app::ErrorKind::RateLimited, None) => {
                    (i18n::t(lang, "login_rate_limited").to_string(), Status::TooManyRequests)
                }
                _ => (i18n::t(lang, "login_failed").to_string(), Status::Unauthorized),
            };
            errors.insert("email".into(), text);
            login_page(st, cookies, None, &email, &errors, status)
        }
    }
}

/// Ends the session on the server, not only in this browser.
#[rocket::post("/logout")]
pub async fn post_logout(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    user: Option<AuthUser>,
    cookies: &CookieJar<'_>,
) -> Result<Redirect, super::PageError> {
    if let Some(u) = user {
        auth_app::logout(st, &u).await?;
    }
    cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok(Redirect::to("/login"))
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

/// One's account: the open sessions (this one marked), log out everywhere, and the links to the password and
/// the second factor.
#[derive(Serialize)]
struct AccountPage {
    sessions: Vec<SessionRowView>,
    mfa_enabled: bool,
    sessions_text: String,
}

#[derive(Serialize)]
struct SessionRowView {
    id: String,
    created: String,
    last_seen: String,
    method: &'static str,
    place: String,
    current: bool,
}

#[rocket::get("/account")]
pub async fn get_account(mut v: Visit<'_>) -> PageResult {
    let list = auth_app::my_sessions(v.st, &v.user).await?;
    let l = v.lang;
    let sessions = list
        .into_iter()
        .map(|s| SessionRowView {
            created: super::local(s.created_at),
            last_seen: super::local(s.last_seen_at),
            method: i18n::t(
                l,
                if s.method.starts_with("oidc") {
                    "method_oidc"
                } else if s.strong {
                    "method_password_second"
                } else {
                    "method_password"
                },
            ),
            place: [s.agent.as_deref().map(agent_label), s.ip.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
                .chars()
                .take(80)
                .collect::<String>(),
            current: s.current,
            id: s.id,
        })
        .map(|mut s: SessionRowView| {
            if s.place.is_empty() {
                s.place = i18n::t(l, "session_unknown").to_string();
            }
            s
        })
        .collect();
    let idle = v.st.settings.session_idle.num_minutes().to_string();
    let sessions_text = i18n::t(l, "sessions_text").replace("{n}", &idle);
    let page = AccountPage { sessions, mfa_enabled: v.user.totp_enabled, sessions_text };
    v.show(Status::Ok, "/account", "pages/account.html", &page)
}

/// A user agent as its owner recognises it: the browser and the system, not the whole string.
fn agent_label(agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"].iter().find(|b| agent.contains(**b)).map(|b| match *b {
        "Edg/" => "Edge",
        "Firefox/" => "Firefox",
        "Chrome/" => "Chrome",
        _ => "Safari",
    });
    let system = ["Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"].iter().find(|s| agent.contains(**s));
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b}, {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => agent.chars().take(40).collect(),
    }
}

#[rocket::post("/account/sessions/<id>/end")]
pub async fn post_end_session(_csrf: CsrfChecked, v: Visit<'_>, id: &str) -> PageResult {
    if id.len() > 64 {
        return Err(AppError::not_found().into());
    }
    let current = id == v.user.session_id;
    auth_app::end_my_session(v.st, &v.user, id.to_string()).await?;
    if current {
        v.cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
        return redirect("/login".into());
    }
    v.saved("/account")
}

#[rocket::post("/account/sessions/end-all")]
pub async fn post_end_all_sessions(_csrf: CsrfChecked, v: Visit<'_>) -> PageResult {
    auth_app::end_all_my_sessions(v.st, &v.user).await?;
    v.cookies.remove(Cookie::build(SESSION_COOKIE).path("/"));
    super::flash("/login".into(), i18n::t(v.lang, "logged_out_everywhere"))
}

/// The second factor's page, in the state the account is in.
#[derive(Serialize, Default)]
struct MfaPage {
    /// verify | enrol | status | codes
    mode: &'static str,
    secret: String,
    otpauth_uri: String,
    qr_svg: String,
    recovery_codes: Vec<String>,
    recovery_codes_left: i64,
    required: bool,
}

async fn mfa_page(mut v: Visit<'_>, errors: FieldErrors) -> PageResult {
    let status = mfa_app::status(v.st, &v.user).await?;
    let mut p =
        MfaPage { recovery_codes_left: status.recovery_codes_left, required: status.required, ..Default::default() };
    if status.enabled && !v.user.strong {
        p.mode = "verify";
    } else {
        let pending = mfa_app::pending(v.st, &v.user).await?;
        let enrolment = match pending {
            Some(e) => Some(e),
            None if !status.enabled => Some(mfa_app::start(v.st, &v.user).await?),
            None => None,
        };
        match enrolment {
            Some(e) => {
                p.mode = "enrol";
                (p.secret, p.otpauth_uri, p.qr_svg) = (e.secret, e.otpauth_uri, e.qr_svg);
            }
            None => p.mode = "status",
        }
    }
    v.show_form("/mfa", "pages/mfa.html", &p, &errors)
}

#[rocket::get("/mfa")]
pub async fn get_mfa(v: Visit<'_>) -> PageResult {
    mfa_page(v, FieldErrors::new()).await
}

#[derive(FromForm)]
pub struct CodeForm {
    code: Option<String>,
}

#[rocket::post("/mfa/verify", data = "<form>")]
pub async fn post_mfa_verify(_csrf: CsrfChecked, mut v: Visit<'_>, form: Form<CodeForm>) -> PageResult {
    let input = Submitted::new(Code { code: form.into_inner().code });
    match mfa_app::verify(v.st, &v.user, input).await {
        Ok(()) => redirect("/".into()),
        Err(e) if e.retry_after.is_some() => {
            let mut errors = FieldErrors::new();
            let wait = i18n::t(v.lang, "login_wait").replace("{n}", &e.retry_after.unwrap_or(1).to_string());
            errors.insert("code".into(), wait);
            v.flash = None;
            mfa_page(v, errors).await
        }
        Err(e) => {
            let errors = e.into_fields()?;
            v.flash = None;
            mfa_page(v, errors).await
        }
    }
}

#[rocket::post("/mfa/confirm", data = "<form>")]
pub async fn post_mfa_confirm(_csrf: CsrfChecked, mut v: Visit<'_>, form: Form<CodeForm>) -> PageResult {
    let input = Submitted::new(Code { code: form.into_inner().code });
    match mfa_app::confirm(v.st, &v.user, input).await {
        Ok(codes) => {
            let p = MfaPage { mode: "codes", recovery_codes: codes.recovery_codes, ..Default::default() };
            v.show(Status::Ok, "/mfa", "pages/mfa.html", &p)
        }
        Err(e) => {
            let errors = e.into_fields()?;
            v.flash = None;
            mfa_page(v, errors).await
        }
    }
}

/// Enrol another authenticator (a new phone) in place of the one in use.
#[rocket::post("/mfa/enrol")]
pub async fn post_mfa_enrol(_csrf: CsrfChecked, v: Visit<'_>) -> PageResult {
    mfa_app::start(v.st, &v.user).await?;
    redirect("/mfa".into())
}

#[rocket::post("/mfa/recovery-codes")]
pub async fn post_mfa_recovery_codes(_csrf: CsrfChecked, mut v: Visit<'_>) -> PageResult {
    let codes = mfa_app::renew_recovery_codes(v.st, &v.user).await?;
    let p = MfaPage { mode: "codes", recovery_codes: codes.recovery_codes, ..Default::default() };
    v.show(Status::Ok, "/mfa", "pages/mfa.html", &p)
}

/// The page behind a set-password link: no session, the link is the credential.
fn set_password_page(
    st: &AppState,
    cookies: &CookieJar<'_>,
    token: &str,
    user: &crate::store::users::UserRow,
    errors: &FieldErrors,
) -> PageResult {
    let lang = crate::i18n::lang_of(Some(&user.language));
    cookies.add(Cookie::build((LANG_COOKIE, lang)).same_site(SameSite::Strict).path("/").build());
    let (mut ctx, lang) = base(st, None, cookies, None, "/login");
    ctx.insert("lang", lang);
    ctx.insert("t", &i18n::table(lang));
    super::set_errors(&mut ctx, errors, lang);
    ctx.insert("token", token);
    ctx.insert("account", &user.email);
    page(st, super::form_status(errors), "pages/set_password.html", &ctx)
}

fn link_error(st: &AppState, cookies: &CookieJar<'_>, e: AppError) -> PageResult {
    let lang = crate::web::session::lang(None, cookies);
    let (status, h, t) = if e.kind == crate::app::ErrorKind::Gone {
        (Status::Gone, "link_gone_title", "link_gone_text")
    } else {
        (Status::NotFound, "link_gone_title", "link_gone_text")
    };
    Ok(super::Out::Page(st.pages.message(status, lang, h, t, None)))
}

#[rocket::get("/set-password/<token>")]
pub async fn get_set_password(st: &State<AppState>, cookies: &CookieJar<'_>, token: &str) -> PageResult {
    let (now, t) = (st.clock.now(), token.to_string());
    match st.db.run(move |c| users_app::link_owner(c, &t, now)).await {
        Ok(u) => set_password_page(st, cookies, token, &u, &FieldErrors::new()),
        Err(e) if matches!(e.kind, crate::app::ErrorKind::Gone | crate::app::ErrorKind::NotFound) => {
            link_error(st, cookies, e)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(FromForm)]
pub struct SetPasswordForm {
    new_password: Option<String>,
}

#[rocket::post("/set-password/<token>", data = "<form>")]
pub async fn post_set_password(
    st: &State<AppState>,
    _csrf: CsrfChecked,
    ip: crate::auth::guard::ClientIp,
    cookies: &CookieJar<'_>,
    token: &str,
    form: Form<SetPasswordForm>,
) -> PageResult {
    let (now, t) = (st.clock.now(), token.to_string());
    let input = Submitted::new(SetPassword { new_password: form.into_inner().new_password });
    match st.db.run(move |c| users_app::set_password_by_link(c, &t, ip.0, input, now)).await {
        Ok(u) => super::flash("/login".into(), i18n::t(i18n::lang_of(Some(&u.language)), "password_set")),
        Err(e) if e.fields.is_some() => {
            let t = token.to_string();
            let u = st.db.run(move |c| users_app::link_owner(c, &t, now)).await?;
            set_password_page(st, cookies, token, &u, &e.fields.unwrap_or_default())
        }
        Err(e) if matches!(e.kind, crate::app::ErrorKind::Gone | crate::app::ErrorKind::NotFound) => {
            link_error(st, cookies, e)
        }
        Err(e) => Err(e.into()),
    }
}

/// To the identity provider, remembering (in a private cookie) what must come back.
#[rocket::get("/login/oidc/<provider>")]
pub async fn get_oidc_start(st: &State<AppState>, cookies: &CookieJar<'_>, provider: &str) -> PageResult {
    let (url, pending) = crate::app::oidc::start(st, provider).await?;
    let value = serde_json::to_string(&pending).map_err(|_| AppError::internal())?;
    // Lax, not Strict: the way back is a navigation from the provider's site.
    cookies.add_private(
        Cookie::build((OIDC_COOKIE, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(st.settings.secure_cookies())
            .path("/login/oidc")
            .max_age(rocket::time::Duration::minutes(10))
            .build(),
    );
    redirect(url)
}

/// The way back from the identity provider.
#[rocket::get("/login/oidc/<provider>/callback?<code>&<state>&<error>")]
pub async fn get_oidc_callback(
    st: &State<AppState>,
    client: LoginClient,
    cookies: &CookieJar<'_>,
    provider: &str,
    code: Option<&str>,
    state: Option<&str>,
    error: Option<&str>,
) -> PageResult {
    let pending: Option<Pending> = cookies.get_private(OIDC_COOKIE).and_then(|c| serde_json::from_str(c.value()).ok());
    cookies.remove_private(Cookie::build(OIDC_COOKIE).path("/login/oidc"));
    let lang = crate::web::session::lang(None, cookies);
    // Not a field's fault: said above the form.
    let refused = |key: &str| {
        let (mut ctx, _) = base(st, None, cookies, None, "/login");
        ctx.insert("flash", &Some(i18n::t(lang, key)));
        ctx.insert("flash_error", &true);
        ctx.insert("email", "");
        ctx.insert("providers", &providers(st));
        page(st, Status::Unauthorized, "pages/login.html", &ctx)
    };
    let (Some(pending), Some(code), Some(state), None) = (pending, code, state, error) else {
        return refused("oidc_failed");
    };
    match crate::app::oidc::finish(st, client.0, pending, provider, code, state).await {
        Ok(resp) => {
            // The session cookie is SameSite=Strict: a redirect at the end of the provider's redirect chain
            // would not carry it, so this page moves on by itself (a navigation from this site).
            let to = if resp.mfa_enrolment_required || resp.mfa_verification_required { "/mfa" } else { "/" };
            let _ = signed_in(st, cookies, resp).await?;
            let (mut ctx, _) = base(st, None, cookies, None, "/login");
            ctx.insert("to", to);
            page(st, Status::Ok, "pages/signed_in.html", &ctx)
        }
        Err(e) if e.kind == crate::app::ErrorKind::Unavailable => refused("oidc_unavailable"),
        Err(_) => refused("oidc_failed"),
    }
}
