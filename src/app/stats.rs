//! County statistics and the access-log review (SPEC §5): who may see which county, and the period a
//! request may name.

use super::{AppError, AppResult, FieldErrors};
use crate::auth::AuthUser;
use crate::db::AnyConnection;
use crate::domain::role::Role;
use crate::domain::stats as stats_domain;
use crate::store::access_review::{self, AccessEntry};
use crate::store::org;
use crate::store::stats::{self, CountyStats};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

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

/// County officers see their own county; national analysts every county.
pub fn may_see(user: &AuthUser, county: &str) -> Result<(), AppError> {
    user.require(&[Role::CountyOfficer, Role::NationalAnalyst])?;
    if user.is(Role::CountyOfficer) && user.workplace.county_code.as_deref() != Some(county) {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// The county's figures for a period (county officer of that county, national analyst).
pub fn county(
    c: &mut AnyConnection,
    user: &AuthUser,
    county: &str,
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<CountyStats> {
    may_see(user, county)?;
    let (from, to) = period(from, to, crate::domain::calendar::local_date(now))?;
    if !org::county_exists(c, county)? {
        return Err(AppError::not_found());
    }
    let mut s = stats::county(c, county, from, to, now)?;
    stats::label(&mut s, crate::i18n::lang_of(Some(&user.language)));
    Ok(s)
}

/// Every county's figures (national analyst).
pub fn national(
    c: &mut AnyConnection,
    user: &AuthUser,
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Vec<CountyStats>> {
    user.require(&[Role::NationalAnalyst])?;
    let (from, to) = period(from, to, crate::domain::calendar::local_date(now))?;
    let counties = org::list_counties(c)?;
    let lang = crate::i18n::lang_of(Some(&user.language));
    counties
        .iter()
        .map(|k| {
            let mut s = stats::county(c, &k.code, from, to, now)?;
            stats::label(&mut s, lang);
            Ok(s)
        })
        .collect()
}

/// What the access-log review is filtered by; dates as given (`YYYY-MM-DD`), empty means no filter.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    pub user: Option<i64>,
    /// part of the acting user's name, any case
    pub name: Option<String>,
    pub case: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// entries to leave out (newest first) and at most how many to answer; 0 means the API's 2,000
    pub offset: i64,
    pub limit: i64,
}

/// The county's access-log entries (county officer of that county); by default the last ten years.
pub fn access_log(
    c: &mut AnyConnection,
    user: &AuthUser,
    county: &str,
    f: &LogFilter,
    now: DateTime<Utc>,
) -> AppResult<Vec<AccessEntry>> {
    let (by_user, case, from, to) = (f.user, f.case.as_deref().map(str::trim), f.from.as_deref(), f.to.as_deref());
    user.require(&[Role::CountyOfficer])?;
    if user.workplace.county_code.as_deref() != Some(county) {
        return Err(AppError::not_found());
    }
    let today = crate::domain::calendar::local_date(now);
    let ten_years = (today - chrono::Duration::days(3650)).format("%Y-%m-%d").to_string();
    let (from, to) = period(Some(from.filter(|f| !f.is_empty()).unwrap_or(&ten_years)), to, today)?;
    let case = case.filter(|c| !c.is_empty());
    let name = f.name.as_deref();
    let limit = if f.limit > 0 { f.limit.min(2000) } else { 2000 };
    let q = access_review::Query { user: by_user, name, case, from, to, offset: f.offset.max(0), limit };
    Ok(access_review::entries(c, county, &q)?)
}
