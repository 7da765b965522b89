use super::Api;
use crate::app::cases::{
    self as actions, AddToReport, AssessRisk, CloseCase, CompleteStep, RecordFound, RecordReturnConversation,
    ReportCase, WithReason,
};
use crate::app::command::Submitted;
use crate::auth::AuthUser;
use crate::db::{read_tx, write_tx};
use crate::domain::ids::EpisodeId;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::input::{command, path_id, Body};
use crate::state::AppState;
use crate::store::audit::Event;
use crate::store::episodes::create::{self};
use crate::store::episodes::{self as store, CaseView, StatusFilter, StepView};
use crate::store::idempotency;
use crate::store::scope::Scope;
use chrono::{DateTime, Utc};
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::serde::json::Json;
use rocket::Request;

/// The optional `Idempotency-Key` header.
pub struct IdempotencyKey(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IdempotencyKey {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(IdempotencyKey(req.headers().get_one("Idempotency-Key").map(|s| s.trim().to_string())))
    }
}

fn view_one(
    c: &mut crate::db::AnyConnection,
    user: &AuthUser,
    row: &store::EpisodeRow,
    now: DateTime<Utc>,
) -> AppResult<CaseView> {
    let scope = Scope::from(user);
    store::views(c, std::slice::from_ref(row), &scope, &user.language, now, true)?.pop().ok_or_else(AppError::internal)
}

/// A case as JSON, written into a buffer sized for a whole case at once (a case is about 5 KB; a String
/// grown from empty is copied six times on the way).
pub struct CaseJson(pub CaseView);

impl<'r> rocket::response::Responder<'r, 'static> for CaseJson {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut buf = Vec::with_capacity(8 * 1024);
        serde_json::to_writer(&mut buf, &self.0).map_err(|_| Status::InternalServerError)?;
        rocket::Response::build().header(ContentType::JSON).sized_body(buf.len(), std::io::Cursor::new(buf)).ok()
    }
}

pub struct RawJson(pub Status, pub String);

impl<'r> rocket::response::Responder<'r, 'static> for RawJson {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        rocket::Response::build()
            .status(self.0)
            .header(ContentType::JSON)
            .sized_body(self.1.len(), std::io::Cursor::new(self.1))
            .ok()
    }
}

/// Report a disappearance. One request creates the episode with its steps, due times and queued
/// notifications. `Idempotency-Key` makes retries safe.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), request_body = ReportCase,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and body → the same episode")),
    responses((status = 201, body = CaseView), (status = 403, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases", data = "<data>")]
pub async fn post_case(api: Api<'_>, key: IdempotencyKey, data: Body) -> AppResult<RawJson> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let data = data?;
    let hash = idempotency::body_hash(&data.0);
    let now = st.clock.now();
    let (cmd, mut ck) = actions::check_report(Submitted::from_json(data.0), now);
    if let Some(k) = &key.0 {
        if k.is_empty() || k.len() > 200 {
            ck.error("Idempotency-Key", "must be 1–200 characters");
        }
    }
    let report = actions::accepted_report(cmd, ck)?;
    let secret = st.settings.jwt_secret.clone().into_bytes();
    let key = key.0;
    st.db
        .run(move |c| {
            let attempt = write_tx(c, |c| -> AppResult<Result<RawJson, i64>> {
                if let Some(k) = &key {
                    if let Some(hit) = idempotency::lookup(c, user.id, k)? {
                        return replay(c, &user, hit, &hash, now).map(Ok);
                    }
                }
                let id = crate::app::cases::report(c, &user, &secret, &report, now)?;
                let Some(k) = &key else { return Ok(Err(id)) };
                // The stored answer must be the one committed with the episode.
                let row = create::load(c, id)?;
                let body = serde_json::to_string(&view_one(c, &user, &row, now)?).map_err(|_| AppError::internal())?;
                idempotency::save(c, user.id, k, &hash, 201, &body, now)?;
                Ok(Ok(RawJson(Status::Created, body)))
            })
            .and_then(|done| match done {
                Ok(replayed_or_stored) => Ok(replayed_or_stored),
                // Without a key the answer is read after the commit, outside the write lock.
                Err(id) => {
                    let view = read_tx(c, |c| {
                        let row = create::load(c, id)?;
                        view_one(c, &user, &row, now)
                    })?;
                    let body = serde_json::to_string(&view).map_err(|_| AppError::internal())?;
                    Ok(RawJson(Status::Created, body))
                }
            });
            match (attempt, &key) {
                // A concurrent request with the same key may have won; answer with its response.
                (Err(e), Some(k)) if e.kind == crate::app::ErrorKind::Conflict => {
                    match idempotency::lookup(c, user.id, k)? {
                        Some(hit) => replay(c, &user, hit, &hash, now),
                        None => Err(e),
                    }
                }
                (r, _) => r,
            }
        })
        .await
        .inspect(|r| {
            if r.0 == Status::Created {
                st.outbox.poke();
            }
        })
}

/// The stored answer of an earlier request with the same key. It discloses the episode again, so it is
/// logged like a read.
fn replay(
    c: &mut crate::db::AnyConnection,
    user: &crate::auth::AuthUser,
    hit: idempotency::Stored,
    hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<RawJson> {
    if hit.request_hash != hash {
        return Err(AppError::field("Idempotency-Key", "was already used with a different body"));
    }
    let id = serde_json::from_str::<serde_json::Value>(&hit.body).ok().and_then(|v| v["id"].as_i64());
    if let Some(id) = id {
        use diesel::prelude::*;
        let county: Option<String> = crate::db::schema::episodes::table
            .find(id)
            .select(crate::db::schema::episodes::county_code)
            .first(c)
            .optional()?;
        let entry = crate::store::audit::Event::new("case_replayed").on("case", id).county(county);
        crate::store::audit::append_alone(c, &user.actor(), &entry, now)?;
    }
    Ok(RawJson(Status::from_code(hit.status).unwrap_or(Status::Created), hit.body))
}

/// Episodes in scope (`status`: missing, found, closed or open). County officers get the pseudonymised form.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "missing | found | closed | open")),
    responses((status = 200, body = [CaseView]), (status = 403, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::get("/cases?<status>")]
pub async fn get_cases(api: Api<'_>, status: Option<&str>) -> AppResult<Json<Vec<CaseView>>> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall, Role::CountyOfficer])?;
    let filter = match status {
        None | Some("") => StatusFilter::All,
        Some("open") => StatusFilter::Open,
        Some("missing") => StatusFilter::Is("missing"),
        Some("found") => StatusFilter::Is("found"),
        Some("closed") => StatusFilter::Is("closed"),
        Some(_) => return Err(AppError::field("status", "must be one of: missing, found, closed, open")),
    };
    let (now, actor) = (st.clock.now(), user.actor());
    let read = st.db.run(move |c| actions::list(c, &user, filter, now)).await?;
    st.disclose(actor, read, now).await.map(Json)
}

/// One episode with steps, notifications, timeline and police reference (pseudonymised for county officers).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/cases/<id>")]
pub async fn get_case(api: Api<'_>, id: &str) -> AppResult<CaseJson> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall, Role::CountyOfficer])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    let actor = user.actor();
    // A read holds no write lock; its access-log entry is group-committed before the answer leaves.
    let view = st
        .db
        .run(move |c| {
            read_tx(c, |c| {
                let row = store::find(c, &Scope::from(&user), id)?.ok_or_else(AppError::not_found)?;
                view_one(c, &user, &row, now)
            })
        })
        .await?;
    st.audit.log(actor, Event::new("case_read").on("case", id).county(Some(view.county_code.clone())), now).await?;
    Ok(CaseJson(view))
}

async fn step_action(
    st: &AppState,
    user: AuthUser,
    id: &str,
    key: &str,
    action: impl FnOnce(&mut crate::db::AnyConnection, &AuthUser, i64, DateTime<Utc>) -> AppResult<store::StepRow>
        + Send
        + 'static,
) -> AppResult<Json<StepView>> {
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall])?;
    let id = path_id(id)?;
    if key.is_empty() || key.len() > 64 {
        return Err(AppError::not_found());
    }
    let now = st.clock.now();
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                let s = action(c, &user, id, now)?;
                Ok(s.into_view(&user.language, now, false))
            })
        })
        .await
        .map(Json)
}

/// Mark a step done. Staff complete staff steps; the social worker may complete any step.
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps/{key}/complete", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path), ("key" = String, Path)), request_body = CompleteStep,
    responses((status = 200, body = StepView), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/steps/<key>/complete", data = "<data>")]
pub async fn post_step_complete(api: Api<'_>, id: &str, key: &str, data: Body) -> AppResult<Json<StepView>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let key_owned = key.to_string();
    step_action(st, user, id, key, move |c, u, id, now| {
        actions::complete_step(c, u, EpisodeId(id), &key_owned, input, now)
    })
    .await
}

/// Skip a step with a reason (social worker).
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps/{key}/skip", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path), ("key" = String, Path)), request_body = WithReason,
    responses((status = 200, body = StepView), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/steps/<key>/skip", data = "<data>")]
pub async fn post_step_skip(api: Api<'_>, id: &str, key: &str, data: Body) -> AppResult<Json<StepView>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let key_owned = key.to_string();
    step_action(st, user, id, key, move |c, u, id, now| actions::skip_step(c, u, EpisodeId(id), &key_owned, input, now))
        .await
}

/// Record a risk assessment (social worker). A level change is a timeline event; high risk shortens deadlines.
#[utoipa::path(post, path = "/api/v1/cases/{id}/risk-assessments", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AssessRisk,
    responses((status = 201, body = store::RiskAssessmentView), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/risk-assessments", data = "<data>")]
pub async fn post_risk_assessment(
    api: Api<'_>,
    id: &str,
    data: Body,
) -> AppResult<(Status, Json<store::RiskAssessmentView>)> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall])?;
    let id = path_id(id)?;
    let input = command(data)?;
    let (now, secret) = (st.clock.now(), st.settings.jwt_secret.clone().into_bytes());
    st.db
        .run(move |c| {
            let aid = actions::assess_risk(c, &user, &secret, id, input, now)?;
            store::risk_history(c, id.0)?.into_iter().find(|r| r.id == aid).ok_or_else(AppError::internal)
        })
        .await
        .inspect(|_| st.outbox.poke())
        .map(|v| (Status::Created, Json(v)))
}

/// The child is found or has come back (staff of the accommodation or the social worker).
#[utoipa::path(post, path = "/api/v1/cases/{id}/found", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RecordFound,
    responses((status = 200, body = CaseView), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/found", data = "<data>")]
pub async fn post_case_found(api: Api<'_>, id: &str, data: Body) -> AppResult<Json<CaseView>> {
    let Api { st, user } = api;
    let input = command(data)?;
    episode_action(st, user, id, move |c, u, secret, id, now| actions::found(c, u, secret, EpisodeId(id), input, now))
        .await
}

/// Add to the report what was learnt later (staff of the accommodation, the responsible social worker),
/// while the episode is open; the episode gains it under `additions`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/additions", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AddToReport,
    responses((status = 201, body = CaseView), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/additions", data = "<data>")]
pub async fn post_case_addition(api: Api<'_>, id: &str, data: Body) -> AppResult<(Status, Json<CaseView>)> {
    let Api { st, user } = api;
    let input = command(data)?;
    episode_action(st, user, id, move |c, u, _, id, now| actions::add_to_report(c, u, EpisodeId(id), input, now))
        .await
        .map(|v| (Status::Created, v))
}

/// The return conversation (återkomstsamtal) as a record (the responsible social worker; episode found, or
/// closed less than 30 days ago). A later POST replaces it; it completes the `return_conversation` step.
#[utoipa::path(post, path = "/api/v1/cases/{id}/return-conversation", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RecordReturnConversation,
    responses((status = 201, body = CaseView), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/return-conversation", data = "<data>")]
pub async fn post_return_conversation(api: Api<'_>, id: &str, data: Body) -> AppResult<(Status, Json<CaseView>)> {
    let Api { st, user } = api;
    let input = command(data)?;
    episode_action(st, user, id, move |c, u, _, id, now| {
        actions::record_return_conversation(c, u, EpisodeId(id), input, now)
    })
    .await
    .map(|v| (Status::Created, v))
}

/// Close the episode (social worker). `returned` needs every required step done or skipped.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseCase,
    responses((status = 200, body = CaseView), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/close", data = "<data>")]
pub async fn post_case_close(api: Api<'_>, id: &str, data: Body) -> AppResult<Json<CaseView>> {
    let Api { st, user } = api;
    let input = command(data)?;
    episode_action(st, user, id, move |c, u, secret, id, now| actions::close(c, u, secret, EpisodeId(id), input, now))
        .await
}

/// Runs an action that changes the episode and may queue messages (found, close), then answers the
/// episode as it is after the commit and wakes the worker.
async fn episode_action(
    st: &AppState,
    user: AuthUser,
    id: &str,
    action: impl FnOnce(&mut crate::db::AnyConnection, &AuthUser, &[u8], i64, DateTime<Utc>) -> AppResult<()>
        + Send
        + 'static,
) -> AppResult<Json<CaseView>> {
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall])?;
    let id = path_id(id)?;
    let (now, secret) = (st.clock.now(), st.settings.jwt_secret.clone().into_bytes());
    st.db
        .run(move |c| {
            action(c, &user, &secret, id, now)?;
            read_tx(c, |c| {
                let row = create::load(c, id)?;
                view_one(c, &user, &row, now)
            })
        })
        .await
        .inspect(|_| st.outbox.poke())
        .map(Json)
}
