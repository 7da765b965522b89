use super::Api;
use crate::app;
use crate::auth::AuthUser;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::access_review::AccessEntry;
use crate::store::stats::{self, CountyStats};
use rocket::http::ContentType;
use rocket::serde::json::Json;

/// The period of a statistics request, as the query gives it; `app::stats` checks it.
#[derive(rocket::FromForm, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// first day (Europe/Stockholm), YYYY-MM-DD from 2000-01-01 to 2100-12-31; default 1 January this year
    #[param(format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    from: Option<String>,
    /// last day (Europe/Stockholm), YYYY-MM-DD from 2000-01-01 to 2100-12-31, not before from; default today
    #[param(format = Date, pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    to: Option<String>,
}

pub async fn compute(st: &AppState, user: AuthUser, county: String, period: Period) -> AppResult<CountyStats> {
    let Period { from, to } = period;
    let now = st.clock.now();
    st.db.run(move |c| app::stats::county(c, &user, &county, from.as_deref(), to.as_deref(), now)).await
}

/// The county's figures for a period (SPEC §5). Breakdown cells of 1 or 2 are suppressed.
#[utoipa::path(get, path = "/api/v1/counties/{code}/stats", tag = "county", security(("bearer" = [])),
    params(("code" = String, Path), Period),
    responses((status = 200, body = CountyStats), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody),
              (status = 422, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/stats?<period..>")]
pub async fn get_county_stats(api: Api<'_>, code: &str, period: Period) -> AppResult<Json<CountyStats>> {
    let Api { st, user } = api;
    compute(st, user, code.to_string(), period).await.map(Json)
}

/// The same figures as CSV (`section,key,label,value`; suppressed cells are `<3`).
#[utoipa::path(get, path = "/api/v1/counties/{code}/stats.csv", tag = "county", security(("bearer" = [])),
    params(("code" = String, Path), Period),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/stats.csv?<period..>")]
pub async fn get_county_stats_csv(api: Api<'_>, code: &str, period: Period) -> AppResult<(ContentType, String)> {
    let Api { st, user } = api;
    let lang = crate::i18n::lang_of(Some(&user.language));
    let s = compute(st, user, code.to_string(), period).await?;
    Ok((ContentType::new("text", "csv").with_params(("charset", "utf-8")), stats::to_csv(&s, lang)))
}

/// Every county side by side (national analysts).
#[utoipa::path(get, path = "/api/v1/stats", tag = "county", security(("bearer" = [])),
    params(Period),
    responses((status = 200, body = [CountyStats]), (status = 403, body = super::docs::ErrorBody)))]
#[rocket::get("/stats?<period..>")]
pub async fn get_national_stats(api: Api<'_>, period: Period) -> AppResult<Json<Vec<CountyStats>>> {
    let Api { st, user } = api;
    let now = st.clock.now();
    let Period { from, to } = period;
    st.db.run(move |c| app::stats::national(c, &user, from.as_deref(), to.as_deref(), now)).await.map(Json)
}

/// The access log of the county (loggkontroll): who touched which episode or child, and when. Filter by
/// user id, episode reference and period.
#[utoipa::path(get, path = "/api/v1/counties/{code}/access-log", tag = "county", security(("bearer" = [])),
    params(("code" = String, Path), ("user" = Option<i64>, Query), ("case" = Option<String>, Query, description = "episode reference"),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = [AccessEntry]), (status = 403, body = super::docs::ErrorBody), (status = 404, body = super::docs::ErrorBody)))]
#[rocket::get("/counties/<code>/access-log?<user>&<case>&<from>&<to>")]
pub async fn get_access_log(
    api: Api<'_>,
    code: &str,
    user: Option<i64>,
    case: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Json<Vec<AccessEntry>>> {
    let Api { st, user: me } = api;
    let now = st.clock.now();
    let actor = me.actor();
    let county = code.to_string();
    let f = app::stats::LogFilter {
        user,
        case: case.map(String::from),
        from: from.map(String::from),
        to: to.map(String::from),
        ..Default::default()
    };
    let entries = st.db.run(move |c| app::stats::access_log(c, &me, &county, &f, now)).await?;
    st.audit.log(actor, crate::store::audit::Event::new("access_log_read").county(Some(code.to_string())), now).await?;
    Ok(Json(entries))
}
