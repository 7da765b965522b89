use crate::auth::AuthUser;
use crate::db::schema::{access_log, episodes};
use crate::domain::role::Role;
use crate::domain::stats as stats_domain;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;
use crate::store::audit::LogEntry;
use crate::store::children::utc;
use crate::store::org;
use crate::store::stats::{self, CountyStats};
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use rocket::http::ContentType;
use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;

/// The period of a statistics request: dates in Europe/Stockholm, by default this year so far; any period
/// within [`stats_domain::FIRST_DAY`] ..= [`stats_domain::LAST_DAY`] (API.md second edition), so an auditor
/// asking "since the start" gets an answer.
pub fn period(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
    let mut errors = FieldErrors::new();
    let mut parse = |name: &str, v: Option<&str>, default: NaiveDate| match v.filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
            errors.insert(name.into(), "must be a date YYYY-MM-DD".into());
            default
        }),
    };
    let from = parse("from", from, NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = parse("to", to, today);
    if errors.is_empty() && from > to {
        errors.insert("to".into(), "must not be before from".into());
    }
    for (name, d) in [("from", from), ("to", to)] {
        if errors.is_empty() && !stats_domain::in_range(d) {
            errors.insert(name.into(), "must be a date from 2000-01-01 to 2100-12-31".into());
        }
    }
    if errors.is_empty() {
        Ok((from, to))
    } else {
        Err(AppError::validation(errors))
    }
}

/// How the OpenAPI document describes a period's days (the pattern, a literal there, says 2000–2100).
const PERIOD_FROM: &str =
    "first day (Europe/Stockholm), YYYY-MM-DD from 2000-01-01 to 2100-12-31; default 1 January this year";
const PERIOD_TO: &str =
    "last day (Europe/Stockholm), YYYY-MM-DD from 2000-01-01 to 2100-12-31, not before from; default today";

/// County officers see their own county; national analysts every county.
pub fn may_see(user: &AuthUser, county: &str) -> Result<(), AppError> {
    user.require(&[Role::CountyOfficer, Role::NationalAnalyst])?;
    if user.is(Role::CountyOfficer) && user.county_code.as_deref() != Some(county) {
        return Err(AppError::not_found());
    }
    Ok(())
}

pub async fn compute(st: &AppState, county: String, from: Option<&str>, to: Option<&str>) -> AppResult<CountyStats> {
    let now = st.clock.now();
    let (from, to) = period(from, to, crate::domain::calendar::local_date(now))?;
    st.db
        .run(move |c| {
            if !org::county_exists(c, &county)? {
                return Err(AppError::not_found());
            }
            Ok(stats::county(c, &county, from, to, now)?)
        })
        .await
}

/// The county's figures for a period (SPEC §5). Breakdown cells of 1 or 2 are suppressed.
#[utoipa::path(get, path = "/api/v1/counties/{code}/stats", tag = "county", security(("bearer" = [])),
    params(("code" = String, Path), ("from" = Option<String>, Query, format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = PERIOD_FROM), ("to" = Option<String>, Query, format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = PERIOD_TO)),
    responses((status = 200, body = CountyStats), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/stats?<from>&<to>")]
pub async fn get_county_stats(
    st: &State<AppState>,
    user: AuthUser,
    code: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Json<CountyStats>> {
    may_see(&user, code)?;
    compute(st, code.to_string(), from, to).await.map(Json)
}

/// The same figures as CSV (`section,key,label,value`; suppressed cells are `<3`).
#[utoipa::path(get, path = "/api/v1/counties/{code}/stats.csv", tag = "county", security(("bearer" = [])),
    params(("code" = String, Path), ("from" = Option<String>, Query, format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = PERIOD_FROM), ("to" = Option<String>, Query, format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = PERIOD_TO)),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/stats.csv?<from>&<to>")]
pub async fn get_county_stats_csv(
    st: &State<AppState>,
    user: AuthUser,
    code: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<(ContentType, String)> {
    may_see(&user, code)?;
    let s = compute(st, code.to_string(), from, to).await?;
    Ok((ContentType::new("text", "csv").with_params(("charset", "utf-8")), stats::to_csv(&s)))
}

/// Every county side by side (national analysts).
#[utoipa::path(get, path = "/api/v1/stats", tag = "county", security(("bearer" = [])),
    params(("from" = Option<String>, Query, format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = PERIOD_FROM), ("to" = Option<String>, Query, format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = PERIOD_TO)),
    responses((status = 200, body = [CountyStats]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/stats?<from>&<to>")]
pub async fn get_national_stats(
    st: &State<AppState>,
    user: AuthUser,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Json<Vec<CountyStats>>> {
    user.require(&[Role::NationalAnalyst])?;
    let now = st.clock.now();
    let (from, to) = period(from, to, crate::domain::calendar::local_date(now))?;
    st.db
        .run(move |c| {
            let counties = org::list_counties(c)?;
            counties.iter().map(|k| stats::county(c, &k.code, from, to, now).map_err(AppError::from)).collect()
        })
        .await
        .map(Json)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// the episode reference, for entries about an episode
    pub reference: Option<String>,
}

/// The access log of the county (loggkontroll): who touched which episode or child, and when. Filter by
/// user id, episode reference and period.
#[utoipa::path(get, path = "/api/v1/counties/{code}/access-log", tag = "county", security(("bearer" = [])),
    params(("code" = String, Path), ("user" = Option<i64>, Query), ("case" = Option<String>, Query, description = "episode reference"),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = [AccessEntry]), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/access-log?<user>&<case>&<from>&<to>")]
pub async fn get_access_log(
    st: &State<AppState>,
    me: AuthUser,
    code: &str,
    user: Option<i64>,
    case: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Json<Vec<AccessEntry>>> {
    me.require(&[Role::CountyOfficer])?;
    if me.county_code.as_deref() != Some(code) {
        return Err(AppError::not_found());
    }
    let now = st.clock.now();
    let (from, to) = {
        let today = crate::domain::calendar::local_date(now);
        let ten_years = (today - chrono::Duration::days(3650)).format("%Y-%m-%d").to_string();
        period(Some(from.unwrap_or(&ten_years)), to, today)?
    };
    let (county, case) = (code.to_string(), case.map(str::to_string).filter(|c| !c.is_empty()));
    let actor = me.actor();
    let entries =
        st.db.run(move |c| access_entries(c, &county, user, case.as_deref(), from, to).map_err(AppError::from)).await?;
    st.audit.log(actor, crate::store::audit::Event::new("access_log_read").county(Some(code.to_string())), now).await?;
    Ok(Json(entries))
}

pub fn access_entries(
    c: &mut crate::db::AnyConnection,
    county: &str,
    user: Option<i64>,
    case: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<AccessEntry>> {
    use crate::domain::calendar::start_of_local_day;
    let mut q = access_log::table
        .filter(access_log::county_code.eq(county))
        .filter(access_log::at.ge(start_of_local_day(from).naive_utc()))
        .filter(access_log::at.lt(start_of_local_day(to + chrono::Duration::days(1)).naive_utc()))
        .into_boxed();
    if let Some(u) = user {
        q = q.filter(access_log::actor_user_id.eq(u));
    }
    if let Some(r) = case {
        let id: Option<i64> =
            episodes::table.filter(episodes::reference.eq(r)).select(episodes::id).first(c).optional()?;
        q = q.filter(access_log::object_kind.eq("case")).filter(access_log::object_id.eq(id.unwrap_or(-1).to_string()));
    }
    let rows: Vec<LogEntry> = q.order(access_log::seq.desc()).limit(2000).select(LogEntry::as_select()).load(c)?;
    let ids: Vec<i64> = rows
        .iter()
        .filter(|e| e.object_kind.as_deref() == Some("case"))
        .filter_map(|e| e.object_id.as_deref()?.parse().ok())
        .collect();
    let refs: std::collections::HashMap<i64, String> = episodes::table
        .filter(episodes::id.eq_any(&ids))
        .select((episodes::id, episodes::reference))
        .load::<(i64, String)>(c)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|e| AccessEntry {
            seq: e.seq,
            at: utc(e.at),
            reference: if e.object_kind.as_deref() == Some("case") {
                e.object_id.as_deref().and_then(|i| i.parse().ok()).and_then(|i: i64| refs.get(&i).cloned())
            } else {
                None
            },
            actor_user_id: e.actor_user_id,
            actor_role: e.actor_role,
            action: e.action,
            object_kind: e.object_kind,
            object_id: e.object_id,
        })
        .collect())
}
