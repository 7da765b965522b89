use super::Api;
use crate::app::routines as app_routines;
use crate::domain::routine::StepDef;
use crate::error::{AppError, AppResult};
use crate::input::{command, Body};
use crate::store::children::utc;
use crate::store::routines::{self, RoutineRow};
use chrono::{DateTime, Utc};
use rocket::serde::json::Json;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutineView {
    pub county_code: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub note: Option<String>,
    pub review_period: String,
    pub steps: Vec<StepDef>,
}

impl From<&RoutineRow> for RoutineView {
    fn from(r: &RoutineRow) -> Self {
        let def = r.routine();
        RoutineView {
            county_code: r.county_code.clone(),
            version: r.version,
            created_at: utc(r.created_at),
            created_by: r.created_by,
            note: r.note.clone(),
            review_period: def.review_period,
            steps: def.steps,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub note: Option<String>,
}

/// The county's routine in force: every step with all its attributes (any signed-in user).
#[utoipa::path(get, path = "/api/v1/counties/{code}/routine", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = RoutineView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/routine")]
pub async fn get_routine(api: Api<'_>, code: &str) -> AppResult<Json<RoutineView>> {
    let Api { st, .. } = api;
    let code = code.to_string();
    st.db
        .run(move |c| routines::current(c, &code)?.map(|r| RoutineView::from(&r)).ok_or_else(AppError::not_found))
        .await
        .map(Json)
}

/// Store a new version of the county's routine (county officer of that county). Episodes already open keep
/// the version they started with.
#[utoipa::path(put, path = "/api/v1/counties/{code}/routine", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = crate::app::routines::SetRoutine,
    responses((status = 200, body = RoutineView), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::put("/counties/<code>/routine", data = "<data>")]
pub async fn put_routine(api: Api<'_>, code: &str, data: Body) -> AppResult<Json<RoutineView>> {
    let Api { st, user } = api;
    let input = command(data)?;
    let (code, now) = (code.to_string(), st.clock.now());
    st.db.run(move |c| app_routines::set(c, &user, &code, input, now)).await.map(|row| Json(RoutineView::from(&row)))
}

/// Every version of the county's routine, newest first.
#[utoipa::path(get, path = "/api/v1/counties/{code}/routine/versions", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = [VersionSummary]), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/routine/versions")]
pub async fn get_routine_versions(api: Api<'_>, code: &str) -> AppResult<Json<Vec<VersionSummary>>> {
    let Api { st, .. } = api;
    let code = code.to_string();
    st.db
        .run(move |c| {
            let rows = routines::history(c, &code)?;
            if rows.is_empty() {
                return Err(AppError::not_found());
            }
            Ok(rows
                .iter()
                .map(|r| VersionSummary {
                    version: r.version,
                    created_at: utc(r.created_at),
                    created_by: r.created_by,
                    note: r.note.clone(),
                })
                .collect())
        })
        .await
        .map(Json)
}

/// One version of the county's routine.
#[utoipa::path(get, path = "/api/v1/counties/{code}/routine/versions/{version}", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path), ("version" = i32, Path)),
    responses((status = 200, body = RoutineView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/routine/versions/<version>")]
pub async fn get_routine_version(api: Api<'_>, code: &str, version: &str) -> AppResult<Json<RoutineView>> {
    let Api { st, .. } = api;
    let code = code.to_string();
    let version: i32 = version.parse().map_err(|_| AppError::not_found())?;
    st.db
        .run(move |c| {
            routines::history(c, &code)?
                .iter()
                .find(|r| r.version == version)
                .map(RoutineView::from)
                .ok_or_else(AppError::not_found)
        })
        .await
        .map(Json)
}
