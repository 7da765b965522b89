//! The HTTP edge of errors: an [`AppError`] answered in API.md's error shape with its status, and the
//! catchers that keep Rocket from ever answering an API client with HTML.

pub use crate::app::error::{AppError, AppResult, ErrorKind, FieldErrors};
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use std::io::Cursor;

/// The HTTP status of an application error.
pub fn status_of(e: &AppError) -> Status {
    Status::from_code(e.kind.http_status()).unwrap_or(Status::InternalServerError)
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let body = self.body().to_string();
        let mut r = Response::build();
        r.status(status_of(&self)).header(ContentType::JSON);
        if let Some(s) = self.retry_after {
            r.header(rocket::http::Header::new("Retry-After", s.to_string()));
        }
        r.sized_body(body.len(), Cursor::new(body)).ok()
    }
}

/// JSON error catchers for everything under `/api`, so Rocket never answers an API client with HTML.
pub mod catchers {
    use super::{AppError, ErrorKind};
    use rocket::http::Status;
    use rocket::Request;

    /// The authentication guard's own error for this request, if it failed (so that a catcher answers
    /// `mfa_required` rather than a bare 403).
    pub fn auth_failure(req: &Request) -> Option<AppError> {
        let cached: &Result<crate::auth::AuthUser, AppError> =
            req.local_cache(|| Err(AppError::new(ErrorKind::Other(0), "none", "")));
        match cached {
            Err(e) if e.code != "none" => Some(e.clone()),
            _ => None,
        }
    }

    #[rocket::catch(default)]
    pub fn api_default(status: Status, req: &Request) -> AppError {
        if let Some(e) = auth_failure(req).filter(|e| super::status_of(e) == status) {
            return e;
        }
        match status.code {
            400 => AppError::bad_request("the request could not be read"),
            401 => AppError::unauthorized(),
            403 => AppError::forbidden(),
            404 => AppError::not_found(),
            405 => AppError::new(ErrorKind::Other(405), "method_not_allowed", "method not allowed"),
            413 => AppError::payload_too_large(),
            // Rocket's own 422 means a body it could not map; our handlers produce field-level 422s.
            422 => AppError::bad_request("the request body has the wrong shape"),
            429 => AppError::rate_limited(),
            503 => AppError::unavailable(),
            c if c >= 500 => AppError::internal(),
            _ => AppError::new(ErrorKind::Other(status.code), "error", status.reason().unwrap_or("error")),
        }
    }

    /// A page refused for want of a second factor goes to the second factor's page; any other 403 is the
    /// error page.
    #[rocket::catch(403)]
    pub fn html_forbidden(
        status: Status,
        req: &Request,
    ) -> Result<rocket::response::Redirect, (Status, rocket::response::content::RawHtml<String>)> {
        match auth_failure(req) {
            Some(e) if e.code == "mfa_required" => Ok(rocket::response::Redirect::to("/mfa")),
            _ => Err(html_default(status, req)),
        }
    }

    /// Error pages outside `/api`, in the site's layout and the visitor's language.
    #[rocket::catch(default)]
    pub fn html_default(status: Status, req: &Request) -> (Status, rocket::response::content::RawHtml<String>) {
        let lang = crate::i18n::lang_of(req.cookies().get(crate::web::session::LANG_COOKIE).map(|c| c.value()));
        let (h, t) = match status.code {
            403 => ("forbidden_title", "forbidden_text"),
            404 => ("not_found_title", "not_found_text"),
            _ => ("error_title", "error_text"),
        };
        let html = match req.rocket().state::<crate::state::AppState>() {
            Some(st) => st.pages.message(status, lang, h, t, None).html,
            None => format!("<!doctype html><html lang=\"sv\"><title>Saknad</title><h1>{}</h1></html>", status.code),
        };
        (status, rocket::response::content::RawHtml(html))
    }
}
