//! The application's error: what a use case answers when it refuses or fails.
//!
//! Policy: use cases and the store return [`AppError`]. It carries the public code, a kind (which the HTTP
//! edge maps to a status: `crate::error`) and a message that never contains personal data; database and
//! internal causes are logged (without request data) and answered with a generic internal or unavailable
//! error, never leaked. Validation problems are collected per field (`fields`) so that the API can name
//! each field and a page can show each error next to its input. Nothing here knows HTTP.

use crate::db::DbError;
use serde_json::json;
use std::collections::BTreeMap;

pub type FieldErrors = BTreeMap<String, String>;

/// What went wrong, as the edges need to know it (the API maps each to its status, the pages to a page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    PayloadTooLarge,
    Validation,
    RateLimited,
    Internal,
    Unavailable,
    /// Any other HTTP status a catcher has to answer in the API's shape.
    Other(u16),
}

impl ErrorKind {
    /// The HTTP status code of API.md's error contract.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Gone => 410,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Validation => 422,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Unavailable => 503,
            ErrorKind::Other(code) => code,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    pub fields: Option<FieldErrors>,
    /// seconds until a refused attempt may be made again (`Retry-After`)
    pub retry_after: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        AppError { kind, code, message: message.into(), fields: None, retry_after: None }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, "bad_request", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(ErrorKind::Unauthorized, "unauthorized", "authentication required")
    }
    pub fn invalid_credentials() -> Self {
        Self::new(ErrorKind::Unauthorized, "invalid_credentials", "wrong email or password")
    }
    /// The session lacks the second factor its account needs (`domain::session`).
    pub fn mfa_required() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "mfa_required",
            "a second factor is needed: give a code (POST /api/v1/me/mfa/verify) or enrol (POST /api/v1/me/mfa)",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", "your role may not do this")
    }
    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "not_found", "no such resource")
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }
    pub fn gone() -> Self {
        Self::new(ErrorKind::Gone, "gone", "this link has been used or has expired")
    }
    pub fn rate_limited() -> Self {
        Self::new(ErrorKind::RateLimited, "rate_limited", "too many attempts; try again later")
    }
    /// Too many attempts from here; the wait ends by itself after `seconds` (sent as `Retry-After`).
    pub fn retry_after(seconds: i64) -> Self {
        let seconds = seconds.max(1);
        let mut e = Self::new(
            ErrorKind::RateLimited,
            "rate_limited",
            format!("too many attempts from here; try again in {seconds} seconds"),
        );
        e.retry_after = Some(seconds as u64);
        e
    }
    pub fn payload_too_large() -> Self {
        Self::new(ErrorKind::PayloadTooLarge, "payload_too_large", "the request body is too large")
    }
    pub fn validation(fields: FieldErrors) -> Self {
        AppError {
            kind: ErrorKind::Validation,
            code: "validation_failed",
            message: "some fields are missing or invalid".into(),
            fields: Some(fields),
            retry_after: None,
        }
    }
    pub fn field(name: &str, reason: &str) -> Self {
        let mut f = FieldErrors::new();
        f.insert(name.to_string(), reason.to_string());
        Self::validation(f)
    }
    /// The refused fields, for a form shown again with its errors; any other error as it is.
    pub fn into_fields(self) -> Result<FieldErrors, AppError> {
        match self.fields {
            Some(f) => Ok(f),
            None => Err(self),
        }
    }
    pub fn internal() -> Self {
        Self::new(ErrorKind::Internal, "internal_error", "an internal error occurred")
    }
    pub fn unavailable() -> Self {
        Self::new(ErrorKind::Unavailable, "service_unavailable", "the database is unavailable; try again")
    }

    /// API.md's error shape.
    pub fn body(&self) -> serde_json::Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(f) = &self.fields {
            e["fields"] = json!(f);
        }
        json!({ "error": e })
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => {
                log::error!("database unavailable: {cause}");
                AppError::unavailable()
            }
            DbError::Query(q) => q.into(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::NotFound => AppError::not_found(),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                log::error!("database connection lost: {e}");
                AppError::unavailable()
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                log::warn!("serialization failure: {e}");
                AppError::new(ErrorKind::Unavailable, "service_unavailable", "busy; try again")
            }
            _ => {
                log::error!("database error: {e}");
                AppError::internal()
            }
        }
    }
}
