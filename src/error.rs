//! Errors.
//!
//! Policy: handlers and store functions return [`ApiError`]. It carries the public code, status and a
//! message that never contains personal data; database and internal causes are logged (without request
//! data) and answered with a generic 500/503, never leaked. Validation problems are collected per field
//! (`fields`) so that a client can show each next to its input.

use crate::db::DbError;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Cursor;

pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: Status,
    pub code: &'static str,
    pub message: String,
    pub fields: Option<FieldErrors>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: Status, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: None }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Status::BadRequest, "bad_request", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(Status::Unauthorized, "unauthorized", "authentication required")
    }
    pub fn invalid_credentials() -> Self {
        Self::new(Status::Unauthorized, "invalid_credentials", "wrong email or password")
    }
    pub fn forbidden() -> Self {
        Self::new(Status::Forbidden, "forbidden", "your role may not do this")
    }
    pub fn not_found() -> Self {
        Self::new(Status::NotFound, "not_found", "no such resource")
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Status::Conflict, code, message)
    }
    pub fn gone() -> Self {
        Self::new(Status::Gone, "gone", "this link has been used or has expired")
    }
    pub fn rate_limited() -> Self {
        Self::new(Status::TooManyRequests, "rate_limited", "too many attempts; try again later")
    }
    pub fn payload_too_large() -> Self {
        Self::new(Status::PayloadTooLarge, "payload_too_large", "the request body is too large")
    }
    pub fn validation(fields: FieldErrors) -> Self {
        ApiError {
            status: Status::UnprocessableEntity,
            code: "validation_failed",
            message: "some fields are missing or invalid".into(),
            fields: Some(fields),
        }
    }
    pub fn field(name: &str, reason: &str) -> Self {
        let mut f = FieldErrors::new();
        f.insert(name.to_string(), reason.to_string());
        Self::validation(f)
    }
    pub fn internal() -> Self {
        Self::new(Status::InternalServerError, "internal_error", "an internal error occurred")
    }
    pub fn unavailable() -> Self {
        Self::new(Status::ServiceUnavailable, "service_unavailable", "the database is unavailable; try again")
    }

    pub fn body(&self) -> serde_json::Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(f) = &self.fields {
            e["fields"] = json!(f);
        }
        json!({ "error": e })
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => {
                log::error!("database unavailable: {cause}");
                ApiError::unavailable()
            }
            DbError::Query(q) => q.into(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::NotFound => ApiError::not_found(),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                log::error!("database connection lost: {e}");
                ApiError::unavailable()
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                log::warn!("serialization failure: {e}");
                ApiError::new(Status::ServiceUnavailable, "service_unavailable", "busy; try again")
            }
            _ => {
                log::error!("database error: {e}");
                ApiError::internal()
            }
        }
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let body = self.body().to_string();
        Response::build().status(self.status).header(ContentType::JSON).sized_body(body.len(), Cursor::new(body)).ok()
    }
}

/// JSON error catchers for everything under `/api`, so Rocket never answers an API client with HTML.
pub mod catchers {
    use super::ApiError;
    use rocket::http::Status;
    use rocket::Request;

    #[rocket::catch(default)]
    pub fn api_default(status: Status, _req: &Request) -> ApiError {
        match status.code {
            400 => ApiError::bad_request("the request could not be read"),
            401 => ApiError::unauthorized(),
            403 => ApiError::forbidden(),
            404 => ApiError::not_found(),
            405 => ApiError::new(status, "method_not_allowed", "method not allowed"),
            413 => ApiError::payload_too_large(),
            // Rocket's own 422 means a body it could not map; our handlers produce field-level 422s.
            422 => ApiError::bad_request("the request body has the wrong shape"),
            429 => ApiError::rate_limited(),
            503 => ApiError::unavailable(),
            c if c >= 500 => ApiError::internal(),
            _ => ApiError::new(status, "error", status.reason().unwrap_or("error")),
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
