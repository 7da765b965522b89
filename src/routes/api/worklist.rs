use super::Api;
use crate::auth::AuthUser;
use crate::db::read_tx;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::input::{path_id, Body};
use crate::state::AppState;
use crate::store::audit::Event;
use crate::store::episodes::{self as store};
use crate::store::scope::Scope;
use crate::store::worklist::{self, Compliance, WorkItem};
use rocket::serde::json::Json;
use rocket::State;

/// The caller's pending and overdue steps across all open episodes in scope, most urgent first: staff get
/// staff steps; social workers get their own and the system's (which they may complete or skip).
#[utoipa::path(get, path = "/api/v1/worklist", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [WorkItem]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/worklist")]
pub async fn get_worklist(st: &State<AppState>, user: AuthUser) -> AppResult<Json<Vec<WorkItem>>> {
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall])?;
    let responsible: &'static [&'static str] =
        if user.is(Role::Staff) { &["staff"] } else { &["social_worker", "system"] };
    let now = st.clock.now();
    let (scope, lang, actor, county) =
        (Scope::from(&user), user.language.clone(), user.actor(), user.workplace.county_code.clone());
    let items =
        st.db.run(move |c| worklist::worklist(c, &scope, responsible, &lang, now).map_err(AppError::from)).await?;
    st.audit
        .log(actor, Event::new("worklist_read").county(county).detail(format!("{} steps", items.len())), now)
        .await?;
    Ok(Json(items))
}

/// Prevention prompts for the children in the caller's scope (SPEC §7): the preparedness sheet not gone
/// through for 90 days, a photo missing or older than six months, and a review after a move, after an asylum
/// decision and in the 30 days before the 18th birthday. Oldest first.
#[utoipa::path(get, path = "/api/v1/worklist/prompts", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [crate::app::children::PromptView]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/worklist/prompts")]
pub async fn get_prompts(
    st: &State<AppState>,
    user: AuthUser,
) -> AppResult<Json<Vec<crate::app::children::PromptView>>> {
    let (now, actor, lang) = (st.clock.now(), user.actor(), user.language.clone());
    let read = st.db.run(move |c| crate::app::children::prompts(c, &user, &lang, now)).await?;
    st.disclose(actor, read, now).await.map(Json)
}

/// Each step of the episode against its deadline (on time, late by how much, skipped, overdue). County
/// officers get it pseudonymised: no skip reasons.
#[utoipa::path(get, path = "/api/v1/cases/{id}/compliance", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Compliance), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/cases/<id>/compliance")]
pub async fn get_case_compliance(api: Api<'_>, id: &str) -> AppResult<Json<Compliance>> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall, Role::CountyOfficer])?;
    let id = path_id(id)?;
    let now = st.clock.now();
    let (scope, lang, actor) = (Scope::from(&user), user.language.clone(), user.actor());
    let (county, report) = st
        .db
        .run(move |c| {
            let e = store::find(c, &scope, id)?.ok_or_else(AppError::not_found)?;
            Ok::<_, AppError>((e.county_code.clone(), worklist::compliance(c, &e, scope.pseudonymised(), &lang, now)?))
        })
        .await?;
    st.audit.log(actor, Event::new("compliance_read").on("case", id).county(Some(county)), now).await?;
    Ok(Json(report))
}

/// Keep a long-running episode open for another review period (social worker), with a reason.
#[utoipa::path(post, path = "/api/v1/cases/{id}/extend", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = crate::app::cases::WithReason,
    responses((status = 200, body = store::CaseView), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 409, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::post("/cases/<id>/extend", data = "<data>")]
pub async fn post_case_extend(api: Api<'_>, id: &str, data: Body) -> AppResult<Json<store::CaseView>> {
    let Api { st, user } = api;
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let id = path_id(id)?;
    let input = crate::input::command(data)?;
    let now = st.clock.now();
    st.db
        .run(move |c| {
            crate::app::cases::extend(c, &user, id, input, now)?;
            read_tx(c, |c| {
                let row = store::create::load(c, id.0)?;
                store::views(c, std::slice::from_ref(&row), &Scope::from(&user), &user.language, now, true)?
                    .pop()
                    .ok_or_else(AppError::internal)
            })
        })
        .await
        .map(Json)
}
