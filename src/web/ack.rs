//! The acknowledgement link of a notification: a page for people (`/ack/{token}`) and a JSON endpoint
//! (`/api/v1/ack/{token}`). The path token is the only credential; `GET` never consumes it.

use super::{Page, Pages};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::input::{body, Body};
use crate::notify::worker::{self, AckOutcome};
use crate::state::AppState;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};

fn form_page(
    st: &AppState,
    token: &str,
    reference: &str,
    is_police: bool,
    name: &str,
    errors: &[(&str, &str)],
) -> Page {
    let mut ctx = Pages::context("sv");
    ctx.insert("token", token);
    ctx.insert("reference", reference);
    ctx.insert("is_police", &is_police);
    ctx.insert("name", name);
    ctx.insert("police_reference", "");
    let errs: crate::error::FieldErrors = errors.iter().map(|(f, m)| (f.to_string(), m.to_string())).collect();
    super::pages::set_errors(&mut ctx, &errs);
    let status = if errors.is_empty() { Status::Ok } else { Status::UnprocessableEntity };
    st.pages.render(status, "pages/ack.html", &ctx)
}

/// The acknowledgement page (Swedish, no login).
#[rocket::get("/ack/<token>")]
pub async fn get_ack(st: &State<AppState>, token: &str) -> Result<Page, AppError> {
    let now = st.clock.now();
    let t = token.to_string();
    let info = st.db.run(move |c| worker::ack_info(c, &t, now).map_err(AppError::from)).await?;
    Ok(match info {
        None => st.pages.message(Status::NotFound, "sv", "ack_gone_title", "ack_gone_text", None),
        Some(i) if i.acknowledged || i.expired => {
            st.pages.message(Status::Gone, "sv", "ack_gone_title", "ack_gone_text", Some(&i.reference))
        }
        Some(i) => form_page(st, token, &i.reference, i.recipient_kind == "police", "", &[]),
    })
}

#[derive(FromForm)]
pub struct AckForm {
    name: Option<String>,
    reference: Option<String>,
}

fn clean(s: Option<String>, max: usize) -> Option<String> {
    s.map(|v| v.trim().chars().filter(|c| !c.is_control()).take(max).collect::<String>()).filter(|v| !v.is_empty())
}

async fn record(
    st: &AppState,
    token: &str,
    name: String,
    reference: Option<String>,
    ip: Option<String>,
) -> AppResult<AckOutcome> {
    let now = st.clock.now();
    let t = token.to_string();
    let out = st
        .db
        .run(move |c| worker::acknowledge(c, &t, &name, reference.as_deref(), ip, now).map_err(AppError::from))
        .await?;
    Ok(out)
}

/// The form on the acknowledgement page.
#[rocket::post("/ack/<token>", data = "<form>")]
pub async fn post_ack(
    st: &State<AppState>,
    ip: crate::auth::guard::ClientIp,
    token: &str,
    form: Form<AckForm>,
) -> Result<Page, AppError> {
    let form = form.into_inner();
    let name = clean(form.name, 200);
    let reference = clean(form.reference, 64);
    let Some(name) = name else {
        let now = st.clock.now();
        let t = token.to_string();
        let info = st.db.run(move |c| worker::ack_info(c, &t, now).map_err(AppError::from)).await?;
        return Ok(match info {
            Some(i) if !i.acknowledged && !i.expired => form_page(
                st,
                token,
                &i.reference,
                i.recipient_kind == "police",
                "",
                &[("name", i18n::t("sv", "required_name"))],
            ),
            Some(i) => st.pages.message(Status::Gone, "sv", "ack_gone_title", "ack_gone_text", Some(&i.reference)),
            None => st.pages.message(Status::NotFound, "sv", "ack_gone_title", "ack_gone_text", None),
        });
    };
    Ok(match record(st, token, name, reference, ip.0).await? {
        AckOutcome::Recorded { reference } => {
            st.pages.message(Status::Ok, "sv", "ack_done_title", "ack_done_text", Some(&reference))
        }
        AckOutcome::Gone => st.pages.message(Status::Gone, "sv", "ack_gone_title", "ack_gone_text", None),
        AckOutcome::Unknown => st.pages.message(Status::NotFound, "sv", "ack_gone_title", "ack_gone_text", None),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AckInput {
    /// who acknowledges
    pub name: String,
    /// for the police: the police reference number
    pub reference: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AckResult {
    pub acknowledged: bool,
    /// the episode's reference
    pub reference: String,
}

/// Acknowledge a notification (no login: the path token is the credential).
#[utoipa::path(post, path = "/api/v1/ack/{token}", tag = "notifications", params(("token" = String, Path)),
    request_body = AckInput,
    responses((status = 200, body = AckResult), (status = 404, body = crate::routes::api::docs::ErrorBody),
              (status = 410, body = crate::routes::api::docs::ErrorBody), (status = 422, body = crate::routes::api::docs::ErrorBody)))]
#[rocket::post("/ack/<token>", data = "<data>", rank = 1)]
pub async fn post_api_ack(
    st: &State<AppState>,
    ip: crate::auth::guard::ClientIp,
    token: &str,
    data: Body,
) -> AppResult<Json<AckResult>> {
    let mut inp = body(data)?;
    let name = inp.req_str("name", 200);
    let reference = inp.opt_str("reference", 64);
    inp.finish()?;
    match record(st, token, name, reference, ip.0).await? {
        AckOutcome::Recorded { reference } => Ok(Json(AckResult { acknowledged: true, reference })),
        AckOutcome::Gone => Err(AppError::gone()),
        AckOutcome::Unknown => Err(AppError::not_found()),
    }
}
