//! The acknowledgement endpoint of the API (`POST /api/v1/ack/{token}`); the page is in `web::ack`.

use crate::app::ack::record;
use crate::error::{AppError, AppResult};
use crate::input::{command, Body};
use crate::state::AppState;
use crate::store::delivery::AckOutcome;
use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AckResult {
    pub acknowledged: bool,
    /// the episode's reference
    pub reference: String,
}

/// Acknowledge a notification (no login: the path token is the credential).
#[utoipa::path(post, path = "/api/v1/ack/{token}", tag = "notifications", params(("token" = String, Path)),
    request_body = crate::app::ack::Acknowledge,
    responses((status = 200, body = AckResult), (status = 404, body = super::docs::ErrorBody),
              (status = 410, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/ack/<token>", data = "<data>", rank = 1)]
pub async fn post_api_ack(
    st: &State<AppState>,
    ip: crate::auth::guard::ClientIp,
    token: &str,
    data: Body,
) -> AppResult<Json<AckResult>> {
    match record(st, token, command(data)?, ip.0).await? {
        AckOutcome::Recorded { reference } => Ok(Json(AckResult { acknowledged: true, reference })),
        AckOutcome::Gone => Err(AppError::gone()),
        AckOutcome::Unknown => Err(AppError::not_found()),
    }
}
