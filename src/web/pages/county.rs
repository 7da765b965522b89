use super::{flash, PageResult, Visit};
use crate::app;
use crate::app::command::Submitted;
use crate::app::org as org_app;
use crate::app::routines::SetRoutine;
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::domain::routine::StepDef;
use crate::error::AppError;
use crate::error::FieldErrors;
use crate::i18n;
use crate::store::audit::Event;
use crate::store::children::utc;
use crate::store::org::{self, CountyContacts, Mailboxes};
use crate::store::routines;
use crate::store::stats::CountyStats;
use crate::web::form::CommandForm;
use crate::web::session::CsrfChecked;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use serde::Serialize;
use serde_json::Value;

fn county_of(user: &AuthUser) -> Result<String, AppError> {
    user.require(&[Role::CountyOfficer])?;
    user.workplace.county_code.clone().ok_or_else(AppError::forbidden)
}

/// The routine editor: the current version's rows (or the refused rows as sent, with their errors) and the
/// version history.
async fn routine_page(mut v: Visit<'_>, edited: Option<(SetRoutine, FieldErrors)>) -> PageResult {
    let county = county_of(&v.user)?;
    let (current, history) =
        v.st.db
            .run(move |c| {
                Ok::<_, AppError>((
                    routines::current(c, &county)?.ok_or_else(AppError::not_found)?,
                    routines::history(c, &county)?,
                ))
            })
            .await?;
    let def = current.routine();
    let (steps, review_period, errors) = match edited {
        Some((cmd, errors)) => (cmd.steps.unwrap_or_default(), cmd.review_period.unwrap_or_default(), errors),
        None => (def.steps, def.review_period, FieldErrors::new()),
    };
    let history = history
        .iter()
        .map(|r| VersionRow {
            version: r.version,
            created_at: super::local(utc(r.created_at)),
            note: r.note.as_deref().map(|n| i18n::note(v.lang, n)),
        })
        .collect();
    let page = RoutinePage { steps, review_period, version: current.version, history };
    v.show_form("/routine", "pages/routine.html", &page, &errors)
}

#[derive(Serialize)]
struct RoutinePage {
    steps: Vec<StepDef>,
    review_period: String,
    version: i32,
    history: Vec<VersionRow>,
}

#[derive(Serialize)]
struct VersionRow {
    version: i32,
    created_at: String,
    note: Option<String>,
}

#[rocket::get("/routine")]
pub async fn get_routine_page(v: Visit<'_>) -> PageResult {
    routine_page(v, None).await
}

#[derive(FromForm, Default)]
pub struct StepRowForm {
    key: Option<String>,
    title_sv: Option<String>,
    title_en: Option<String>,
    responsible: Option<String>,
    phase: Option<String>,
    deadline: Option<String>,
    high_risk_deadline: Option<String>,
    condition: Option<String>,
    required: Option<bool>,
    ack_window: Option<String>,
}

#[derive(FromForm)]
pub struct RoutineForm {
    review_period: Option<String>,
    steps: Vec<StepRowForm>,
}

/// A field as typed, trimmed; empty is absent.
fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl StepRowForm {
    /// The step a row of the editor describes; `None` for a row left empty (the blank row for a new step).
    /// Guidance and anchor are not in the table: kept from the current step of that key, and a new step is
    /// anchored on its phase.
    fn into_step(self, current: &[StepDef]) -> Option<StepDef> {
        let old = current.iter().find(|s| Some(&s.key) == self.key.as_ref());
        let row = [self.key, self.title_sv, self.title_en, self.responsible, self.phase, self.deadline, self.condition];
        let [key, title_sv, title_en, responsible, phase, deadline, condition] = row.map(text);
        let (high_risk_deadline, ack_window) = (text(self.high_risk_deadline), text(self.ack_window));
        let given =
            [&key, &title_sv, &title_en, &responsible, &phase, &deadline, &condition, &high_risk_deadline, &ack_window];
        if given.iter().all(|v| v.is_none()) {
            return None;
        }
        let anchor = match old {
            Some(o) => o.anchor.clone(),
            None if phase.as_deref() == Some("found") => "found".into(),
            None => "discovered".into(),
        };
        Some(StepDef {
            key: key.unwrap_or_default(),
            title_sv: title_sv.unwrap_or_default(),
            title_en: title_en.unwrap_or_default(),
            guidance_sv: old.map(|o| o.guidance_sv.clone()).unwrap_or_default(),
            guidance_en: old.map(|o| o.guidance_en.clone()).unwrap_or_default(),
            responsible: responsible.unwrap_or_default(),
            phase: phase.unwrap_or_default(),
            anchor,
            deadline: deadline.unwrap_or_default(),
            high_risk_deadline,
            condition: condition.unwrap_or_default(),
            required: self.required.unwrap_or(false),
            ack_window,
        })
    }
}

/// The editor posts `steps[i].field` for every row, plus a blank row for a new step. Guidance texts are
/// not in the table and are kept from the current version by key.
#[rocket::post("/routine", data = "<form>")]
pub async fn post_routine_page(_csrf: CsrfChecked, v: Visit<'_>, form: Form<RoutineForm>) -> PageResult {
    let county = county_of(&v.user)?;
    let form = form.into_inner();
    let c2 = county.clone();
    let current = v.st.db.run(move |c| routines::current(c, &c2)?.ok_or_else(AppError::not_found)).await?.routine();
    let steps: Vec<StepDef> = form.steps.into_iter().filter_map(|r| r.into_step(&current.steps)).collect();
    let cmd = SetRoutine { review_period: text(form.review_period), note: None, steps: Some(steps) };
    let snapshot = SetRoutine { review_period: cmd.review_period.clone(), note: None, steps: cmd.steps.clone() };
    let (now, u) = (v.now(), v.user.clone());
    let row = match v.st.db.run(move |c| app::routines::set(c, &u, &county, Submitted::new(cmd), now)).await {
        Ok(row) => row,
        Err(e) => {
            let errors = e.into_fields()?;
            return routine_page(Visit { flash: None, ..v }, Some((snapshot, errors))).await;
        }
    };
    let l = v.lang;
    flash("/routine".into(), &format!("{} {} {}", i18n::t(l, "saved"), i18n::t(l, "version"), row.version))
}

#[rocket::get("/contacts")]
pub async fn get_contacts_page(v: Visit<'_>) -> PageResult {
    let county = county_of(&v.user)?;
    let contacts = v.st.db.run(move |c| org::county_contacts(c, &county)?.ok_or_else(AppError::not_found)).await?;
    contacts_page(v, serde_json::to_value(&contacts).unwrap_or_default(), Default::default())
}

fn contacts_page(mut v: Visit<'_>, values: Value, errors: crate::error::FieldErrors) -> PageResult {
    let heading = i18n::t(v.lang, "county_contacts");
    let fields = (CountyContacts::NAMES, CountyContacts::REQUIRED);
    v.mailbox_form("/contacts", heading, "/contacts", fields, &values, &errors)
}

#[rocket::post("/contacts", data = "<form>")]
pub async fn post_contacts_page(_csrf: CsrfChecked, v: Visit<'_>, form: CommandForm<CountyContacts>) -> PageResult {
    let county = county_of(&v.user)?;
    let f = form.shown();
    let (now, u) = (v.now(), v.user.clone());
    match v.st.db.run(move |c| org_app::set_county_contacts(c, &u, &county, form.input, now)).await {
        Ok(_) => v.saved("/contacts"),
        Err(e) => {
            let errors = e.into_fields()?;
            contacts_page(Visit { flash: None, ..v }, f, errors)
        }
    }
}

#[derive(FromForm, Default)]
pub struct StatsQuery {
    county: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The statistics dashboard: key figures, charts with data tables, CSV download. National analysts pick a
/// county and see every county side by side.
#[rocket::get("/stats?<q..>")]
pub async fn get_stats_page(mut v: Visit<'_>, q: StatsQuery) -> PageResult {
    use crate::web::charts;
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::CountyOfficer, Role::NationalAnalyst])?;
    let code =
        if user.is(Role::CountyOfficer) { county_of(&user)? } else { q.county.clone().unwrap_or_else(|| "01".into()) };
    let now = st.clock.now();
    let (u, c2, from, to) = (user.clone(), code.clone(), q.from.clone(), q.to.clone());
    let s = st.db.run(move |c| app::stats::county(c, &u, &c2, from.as_deref(), to.as_deref(), now)).await?;
    v.flash = None;
    let l = v.lang;
    let counties = st.db.run(|c| org::list_counties(c).map_err(AppError::from)).await?;
    let cell_rows = |cells: &[crate::domain::stats::Cell]| -> Vec<(String, Option<i64>)> {
        cells.iter().map(|c| (c.label.clone(), c.episodes)).collect()
    };
    let monthly: Vec<(String, Option<i64>)> = s.monthly.iter().map(|m| (m.month.clone(), m.episodes)).collect();
    let police = cell_rows(&s.police_report_distribution);
    let found = vec![
        (i18n::t(l, "stat_found_24h").to_string(), Some(s.found_within_24h)),
        (i18n::t(l, "stat_found_7d").to_string(), Some(s.found_within_7d)),
        (i18n::t(l, "stat_episodes").to_string(), Some(s.episodes)),
    ];
    let munis = cell_rows(&s.by_municipality);
    let series = [i18n::t(l, "on_time"), i18n::t(l, "late"), i18n::t(l, "overdue"), i18n::t(l, "skipped")];
    let steps: Vec<(String, Vec<i64>)> = s
        .steps
        .iter()
        .map(|x| (super::step_title(l, &x.key), vec![x.done_on_time, x.done_late, x.overdue, x.skipped]))
        .collect();
    let bars = |id: &str, title: &str, first: &'static str, data: &[(String, Option<i64>)]| Chart {
        title: i18n::t(l, title),
        svg: charts::bars(id, i18n::t(l, title), data),
        head: vec![first, i18n::t(l, "count")],
        rows: data
            .iter()
            .map(|(k, v)| vec![k.clone(), v.map(|n| n.to_string()).unwrap_or_else(|| "<3".into())])
            .collect(),
    };
    let charts = vec![
        bars("monthly", "chart_monthly", i18n::t(l, "from"), &monthly),
        bars("police", "chart_police", "", &police),
        Chart {
            title: i18n::t(l, "chart_steps"),
            svg: charts::stacked("steps", i18n::t(l, "chart_steps"), &series, &steps),
            head: vec![i18n::t(l, "step"), series[0], series[1], series[2], series[3]],
            rows: steps
                .iter()
                .map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().map(i64::to_string)).collect())
                .collect(),
        },
        bars("found", "chart_found", "", &found),
        bars("municipality", "chart_municipality", i18n::t(l, "municipality"), &munis),
    ];
    let national = match user.is(Role::NationalAnalyst) {
        true => {
            let (u, from, to) = (user.clone(), s.from.to_string(), s.to.to_string());
            Some(st.db.run(move |c| app::stats::national(c, &u, Some(&from), Some(&to), now)).await?)
        }
        false => None,
    };
    let page = StatsPage {
        county_name: counties.iter().find(|c| c.code == code).map(|c| c.name.as_str()).unwrap_or_default(),
        charts,
        s: &s,
        counties: national.as_ref().map(|_| counties.as_slice()),
        national: national.as_deref(),
    };
    v.show(Status::Ok, "/stats", "pages/stats.html", &page)
}

/// The statistics page's view model: the figures, each chart with the table that says the same, and for
/// national analysts every county side by side.
#[derive(Serialize)]
struct StatsPage<'a> {
    county_name: &'a str,
    charts: Vec<Chart>,
    s: &'a CountyStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    counties: Option<&'a [crate::store::org::County]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    national: Option<&'a [CountyStats]>,
}

/// A chart and its data table.
#[derive(Serialize)]
struct Chart {
    title: &'static str,
    svg: String,
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

#[derive(FromForm, Default, Serialize)]
pub struct LogQuery {
    user: Option<String>,
    case: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The county's access log (loggkontroll), filterable by user, episode and period.
#[rocket::get("/access-log?<q..>")]
pub async fn get_access_log_page(mut v: Visit<'_>, q: LogQuery) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    let county = county_of(&user)?;
    let now = st.clock.now();
    let uid = q.user.as_deref().and_then(|u| u.trim().parse::<i64>().ok());
    let f = app::stats::LogFilter { user: uid, case: q.case.clone(), from: q.from.clone(), to: q.to.clone() };
    let (u, c2) = (user.clone(), county.clone());
    let entries = st.db.run(move |c| app::stats::access_log(c, &u, &c2, &f, now)).await?;
    let l = v.lang;
    st.audit.log(user.actor(), Event::new("access_log_read").county(Some(county)), now).await?;
    v.flash = None;
    let entries = entries
        .iter()
        .map(|e| AccessRow {
            at: super::local(e.at),
            actor_user_id: e.actor_user_id,
            actor_name: e.actor_name.as_deref(),
            role_label: e.actor_role.as_deref().map(|r| i18n::t(l, &format!("role_{r}"))),
            action_label: i18n::t(l, &format!("action_{}", e.action)),
            reference: e.reference.as_deref(),
        })
        .collect();
    v.show(Status::Ok, "/access-log", "pages/access_log.html", &AccessLogPage { entries, filter: &q })
}

#[derive(Serialize)]
struct AccessLogPage<'a> {
    entries: Vec<AccessRow<'a>>,
    filter: &'a LogQuery,
}

#[derive(Serialize)]
struct AccessRow<'a> {
    at: String,
    actor_user_id: Option<i64>,
    actor_name: Option<&'a str>,
    role_label: Option<&'static str>,
    action_label: &'static str,
    reference: Option<&'a str>,
}
