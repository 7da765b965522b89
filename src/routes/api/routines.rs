use crate::auth::AuthUser;
use crate::db::write_tx;
use crate::domain::role::Role;
use crate::domain::routine::{self, Routine, StepDef};
use crate::error::{AppError, AppResult};
use crate::input::{body, Body, Input};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::children::utc;
use crate::store::org;
use crate::store::routines::{self, RoutineRow};
use chrono::{DateTime, Utc};
use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RoutineInput {
    /// ISO 8601 duration after which a long-running episode is reviewed (default P3M)
    pub review_period: Option<String>,
    /// why this version was made
    pub note: Option<String>,
    /// the whole ordered list of steps
    pub steps: Vec<StepDef>,
}

/// Reads a routine from a body: type errors per field, then the domain's rules per field.
pub fn read_routine(inp: &mut Input) -> Routine {
    let review_period = inp.opt_str("review_period", 32).unwrap_or_else(|| "P3M".into());
    let mut steps = Vec::new();
    match inp.raw("steps").cloned() {
        Some(Value::Array(items)) => {
            if items.len() > 100 {
                inp.error("steps", "at most 100 steps");
            }
            for (i, item) in items.into_iter().take(100).enumerate() {
                let Value::Object(map) = item else {
                    inp.error(&format!("steps[{i}]"), "must be an object");
                    continue;
                };
                let mut s = Input::nested(map, format!("steps[{i}]."));
                let phase = s.req_str("phase", 16);
                let def = StepDef {
                    key: s.req_str("key", 64),
                    title_sv: s.req_str("title_sv", 200),
                    title_en: s.req_str("title_en", 200),
                    guidance_sv: s.opt_str("guidance_sv", 4000).unwrap_or_default(),
                    guidance_en: s.opt_str("guidance_en", 4000).unwrap_or_default(),
                    responsible: s.req_str("responsible", 32),
                    anchor: s.opt_str("anchor", 16).unwrap_or_else(|| {
                        if phase == "found" {
                            "found".into()
                        } else {
                            "discovered".into()
                        }
                    }),
                    phase,
                    deadline: s.req_str("deadline", 32),
                    high_risk_deadline: s.opt_str("high_risk_deadline", 32),
                    condition: s.opt_str("condition", 40).unwrap_or_else(|| "always".into()),
                    required: s.opt_bool("required").unwrap_or(false),
                    ack_window: s.opt_str("ack_window", 32),
                };
                for (k, v) in s.errors {
                    inp.errors.entry(k).or_insert(v);
                }
                steps.push(def);
            }
        }
        Some(_) => inp.error("steps", "must be a list of steps"),
        None => inp.error("steps", "required"),
    }
    let r = Routine { review_period, steps };
    if inp.ok() {
        for (k, v) in routine::validate(&r) {
            inp.errors.entry(k).or_insert(v);
        }
    }
    r
}

/// The county's routine in force: every step with all its attributes (any signed-in user).
#[utoipa::path(get, path = "/api/v1/counties/{code}/routine", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = RoutineView), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/routine")]
pub async fn get_routine(st: &State<AppState>, _user: AuthUser, code: &str) -> AppResult<Json<RoutineView>> {
    let code = code.to_string();
    st.db
        .run(move |c| routines::current(c, &code)?.map(|r| RoutineView::from(&r)).ok_or_else(AppError::not_found))
        .await
        .map(Json)
}

/// Store a new version of the county's routine (county officer of that county). Episodes already open keep
/// the version they started with.
#[utoipa::path(put, path = "/api/v1/counties/{code}/routine", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = RoutineInput,
    responses((status = 200, body = RoutineView), (status = 403, body = super::docs::ErrorBody),
              (status = 404, body = super::docs::ErrorBody), (status = 422, body = super::docs::ErrorBody)))]
#[rocket::put("/counties/<code>/routine", data = "<data>")]
pub async fn put_routine(st: &State<AppState>, user: AuthUser, code: &str, data: Body) -> AppResult<Json<RoutineView>> {
    user.require(&[Role::CountyOfficer])?;
    if user.county_code.as_deref() != Some(code) {
        return Err(AppError::not_found());
    }
    let mut inp = body(data)?;
    let r = read_routine(&mut inp);
    let note = inp.opt_str("note", 1000);
    inp.finish()?;
    let (code, now, actor, author) = (code.to_string(), st.clock.now(), user.actor(), user.id);
    st.db
        .run(move |c| {
            write_tx(c, |c| {
                if !org::county_exists(c, &code)? {
                    return Err(AppError::not_found());
                }
                let row = routines::insert_version(c, &code, &r, Some(author), note.clone(), now)?;
                let ev = Event::new("routine_changed")
                    .on("county", &code)
                    .county(Some(code.clone()))
                    .detail(format!("version {}", row.version));
                audit::append(c, &actor, &ev, now)?;
                Ok(RoutineView::from(&row))
            })
        })
        .await
        .map(Json)
}

/// Every version of the county's routine, newest first.
#[utoipa::path(get, path = "/api/v1/counties/{code}/routine/versions", tag = "routines", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = [VersionSummary]), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/routine/versions")]
pub async fn get_routine_versions(
    st: &State<AppState>,
    _user: AuthUser,
    code: &str,
) -> AppResult<Json<Vec<VersionSummary>>> {
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
pub async fn get_routine_version(
    st: &State<AppState>,
    _user: AuthUser,
    code: &str,
    version: &str,
) -> AppResult<Json<RoutineView>> {
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
