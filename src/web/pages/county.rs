use super::{flash, PageResult, Visit};
use crate::app;
use crate::app::command::Submitted;
use crate::app::org as org_app;
use crate::app::routines::SetRoutine;
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::domain::routine::StepDef;
use crate::error::AppError;
use crate::i18n;
use crate::store::audit::Event;
use crate::store::children::utc;
use crate::store::org::{self, CountyContacts, Mailboxes};
use crate::store::routines;
use crate::web::form::CommandForm;
use crate::web::session::CsrfChecked;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use serde_json::{json, Value};

fn county_of(user: &AuthUser) -> Result<String, AppError> {
    user.require(&[Role::CountyOfficer])?;
    user.workplace.county_code.clone().ok_or_else(AppError::forbidden)
}

async fn routine_page(mut v: Visit<'_>, edited: Option<(Value, crate::error::FieldErrors)>) -> PageResult {
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
    let mut ctx = v.base("/routine");
    let def = current.routine();
    let status = match edited {
        Some((body, errors)) => {
            ctx.insert("steps", &body["steps"]);
            ctx.insert("review_period", &body["review_period"]);
            super::set_errors(&mut ctx, &errors);
            Status::UnprocessableEntity
        }
        None => {
            ctx.insert("steps", &def.steps);
            ctx.insert("review_period", &def.review_period);
            Status::Ok
        }
    };
    ctx.insert("version", &current.version);
    let h: Vec<Value> = history
        .iter()
        .map(|r| json!({"version": r.version, "created_at": super::local(utc(r.created_at)), "note": r.note}))
        .collect();
    ctx.insert("history", &h);
    v.page(status, "pages/routine.html", &ctx)
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
    let snapshot = json!({"steps": cmd.steps, "review_period": cmd.review_period});
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
    let mut ctx = v.base("/stats");
    let l = v.lang;
    let counties = st.db.run(|c| org::list_counties(c).map_err(AppError::from)).await?;
    ctx.insert("county_name", &counties.iter().find(|c| c.code == code).map(|c| c.name.clone()).unwrap_or_default());
    let cell_rows = |cells: &[crate::domain::stats::Cell]| -> Vec<(String, Option<i64>)> {
        cells.iter().map(|c| (c.label.clone(), c.episodes)).collect()
    };
    let table = |data: &[(String, Option<i64>)]| -> Vec<Vec<String>> {
        data.iter().map(|(k, v)| vec![k.clone(), v.map(|n| n.to_string()).unwrap_or_else(|| "<3".into())]).collect()
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
    let steps: Vec<(String, Vec<i64>)> =
        s.steps.iter().map(|x| (x.key.clone(), vec![x.done_on_time, x.done_late, x.overdue, x.skipped])).collect();
    let mut charts = vec![
        json!({"title": i18n::t(l, "chart_monthly"), "svg": charts::bars("monthly", i18n::t(l, "chart_monthly"), &monthly), "head": [i18n::t(l, "from"), i18n::t(l, "count")], "rows": table(&monthly)}),
        json!({"title": i18n::t(l, "chart_police"), "svg": charts::bars("police", i18n::t(l, "chart_police"), &police), "head": ["", i18n::t(l, "count")], "rows": table(&police)}),
        json!({"title": i18n::t(l, "chart_steps"), "svg": charts::stacked("steps", i18n::t(l, "chart_steps"), &series, &steps),
               "head": [i18n::t(l, "step"), series[0], series[1], series[2], series[3]],
               "rows": steps.iter().map(|(k, v)| { let mut r = vec![k.clone()]; r.extend(v.iter().map(|n| n.to_string())); r }).collect::<Vec<_>>()}),
        json!({"title": i18n::t(l, "chart_found"), "svg": charts::bars("found", i18n::t(l, "chart_found"), &found), "head": ["", i18n::t(l, "count")], "rows": table(&found)}),
    ];
    charts.push(json!({"title": i18n::t(l, "chart_municipality"), "svg": charts::bars("municipality", i18n::t(l, "chart_municipality"), &munis), "head": [i18n::t(l, "municipality"), i18n::t(l, "count")], "rows": table(&munis)}));
    ctx.insert("charts", &charts);
    ctx.insert("s", &s);
    if user.is(Role::NationalAnalyst) {
        let (u, from, to) = (user.clone(), s.from.to_string(), s.to.to_string());
        let all = st.db.run(move |c| app::stats::national(c, &u, Some(&from), Some(&to), now)).await?;
        ctx.insert("national", &all);
        ctx.insert("counties", &counties);
    }
    v.page(Status::Ok, "pages/stats.html", &ctx)
}

#[derive(FromForm, Default, serde::Serialize)]
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
    st.audit.log(user.actor(), Event::new("access_log_read").county(Some(county)), now).await?;
    v.flash = None;
    let mut ctx = v.base("/access-log");
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| json!({"at": super::local(e.at), "actor_user_id": e.actor_user_id, "actor_role": e.actor_role, "action": e.action, "reference": e.reference}))
        .collect();
    ctx.insert("entries", &rows);
    ctx.insert("filter", &q);
    v.page(Status::Ok, "pages/access_log.html", &ctx)
}
