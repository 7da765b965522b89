//! Reading request bodies at the HTTP edge.
//!
//! Policy: a body that is not a JSON object is `400 bad_request`; the object is decoded into the use
//! case's typed command (`app::command`), whose field problems become one `422 validation_failed`.

use crate::app::command::Submitted;
use crate::app::AppError;
use rocket::data::{FromData, Outcome, ToByteUnit};
use rocket::http::Status;
use rocket::{Data, Request};
use serde_json::{Map, Value};

/// Accepted JSON body size (API.md: at least 1 MiB). Photo uploads have their own, larger limit.
pub const JSON_LIMIT_BYTES: u64 = 2 * 1024 * 1024;

/// A request body that is a JSON object.
pub struct JsonBody(pub Map<String, Value>);

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonBody {
    type Error = AppError;

    async fn from_data(_req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let read = data.open(JSON_LIMIT_BYTES.bytes()).into_bytes().await;
        let bytes = match read {
            Ok(b) if b.is_complete() => b.into_inner(),
            Ok(_) => return Outcome::Error((Status::PayloadTooLarge, AppError::payload_too_large())),
            Err(_) => return Outcome::Error((Status::BadRequest, AppError::bad_request("the body could not be read"))),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Outcome::Success(JsonBody(map)),
            Ok(_) => Outcome::Error((Status::BadRequest, AppError::bad_request("the body must be a JSON object"))),
            Err(_) => Outcome::Error((Status::BadRequest, AppError::bad_request("the body is not valid JSON"))),
        }
    }
}

/// The usual handler argument: the parsed body or the ready-made error.
pub type Body = Result<JsonBody, AppError>;

/// The body decoded as a use case's typed command, with every field of the wrong type noted.
pub fn command<T: serde::de::DeserializeOwned + Default>(b: Body) -> Result<Submitted<T>, AppError> {
    b.map(|JsonBody(m)| Submitted::from_json(m))
}

/// Parses an id from a path segment; anything else is simply "not found".
pub fn path_id<T: From<i64>>(s: &str) -> Result<T, AppError> {
    s.parse::<i64>().ok().filter(|i| *i > 0).map(T::from).ok_or_else(AppError::not_found)
}
