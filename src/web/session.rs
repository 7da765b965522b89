//! The browser session: the login cookie (the same JWT as the API), the CSRF token and the language.
//!
//! Policy:
//! - Pages authenticate with the HttpOnly, SameSite=Strict session cookie; a page request without a valid
//!   session is sent to the login page (the 401 catcher redirects).
//! - Every state-changing form carries the CSRF token in its action URL (`?csrf=…`) and the token must equal
//!   the `saknad_csrf` cookie (double submit). The check is a request guard, so it runs before the body is
//!   read: a forged form is refused with 403 whatever it contains. The session cookie being SameSite=Strict
//!   is the first line; this is the second.
//! - Language: the signed-in user's (remembered on the account), else the `saknad_lang` cookie, else Swedish.

use crate::auth::AuthUser;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::Request;

pub const CSRF_COOKIE: &str = "saknad_csrf";
pub const LANG_COOKIE: &str = "saknad_lang";

/// The CSRF token of this browser, created on first use.
pub fn csrf_token(cookies: &CookieJar<'_>, secure: bool) -> String {
    if let Some(c) = cookies.get(CSRF_COOKIE) {
        let v = c.value();
        if v.len() >= 32 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return v.to_string();
        }
    }
    let token = crate::auth::random_token(32);
    cookies.add(
        Cookie::build((CSRF_COOKIE, token.clone()))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .path("/")
            .build(),
    );
    token
}

/// Passes only when the request's `csrf` query parameter equals the CSRF cookie.
pub struct CsrfChecked;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfChecked {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let cookie = req.cookies().get(CSRF_COOKIE).map(|c| c.value().to_string());
        let given = req.query_value::<&str>("csrf").and_then(|r| r.ok()).map(str::to_string);
        match (cookie, given) {
            // A token this server made is 43 characters: a short one was planted, not made here.
            (Some(c), Some(g)) if c.len() >= 32 && constant_time_eq(c.as_bytes(), g.as_bytes()) => {
                Outcome::Success(CsrfChecked)
            }
            _ => Outcome::Error((Status::Forbidden, ())),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The language of a page: the user's, or the anonymous visitor's cookie, or Swedish.
pub fn lang(user: Option<&AuthUser>, cookies: &CookieJar<'_>) -> &'static str {
    match user {
        Some(u) => crate::i18n::lang_of(Some(&u.language)),
        None => crate::i18n::lang_of(cookies.get(LANG_COOKIE).map(|c| c.value())),
    }
}
