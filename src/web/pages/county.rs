use super::{choices, flash, Choice, PageResult, Visit};
use super::{Delivery, SelectField};
use crate::app;
use crate::app::command::Submitted;
use crate::app::org as org_app;
use crate::app::routines::SetRoutine;
use crate::auth::AuthUser;
use crate::domain::code::Code;
use crate::domain::deadline::{self, UNITS};
use crate::domain::delivery::Mode;
use crate::domain::role::Role;
use crate::domain::routine::{self, Change, Routine, StepDef};
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

/// The routine editor: every step of the current version as a card of pickers (or the refused rows as
/// sent, with their errors), then the version history with what each version changed.
async fn routine_page(mut v: Visit<'_>, edited: Option<(RoutineForm, FieldErrors)>) -> PageResult {
    let county = county_of(&v.user)?;
    let (current, history, authors) =
        v.st.db
            .run(move |c| {
                let history = routines::history(c, &county)?;
                let ids: Vec<i64> = history.iter().filter_map(|r| r.created_by).collect();
                Ok::<_, AppError>((
                    routines::current(c, &county)?.ok_or_else(AppError::not_found)?,
                    history,
                    crate::store::users::names(c, &ids)?,
                ))
            })
            .await?;
    let l = v.lang;
    let def = current.routine();
    let (form, errors) = match edited {
        Some((form, errors)) => (form, errors),
        None => (RoutineForm::from_routine(&def), FieldErrors::new()),
    };
    let routines: Vec<_> = history.iter().map(|r| r.routine()).collect();
    let history = history
        .iter()
        .enumerate()
        .map(|(i, r)| VersionRow {
            version: r.version,
            created_at: super::local(utc(r.created_at)),
            author: r.created_by.and_then(|id| authors.get(&id).cloned()),
            note: r.note.as_deref().map(|n| i18n::note(l, n)),
            changes: match routines.get(i + 1) {
                Some(older) => routine::changes(older, &routines[i])
                    .iter()
                    .map(|c| describe_change(l, c, older, &routines[i]))
                    .collect(),
                None => vec![i18n::t(l, "first_version").to_string()],
            },
        })
        .collect();
    let mut rows = form.steps.clone();
    if !rows.last().is_some_and(StepRowForm::is_blank) {
        rows.push(<StepRowForm as Default>::default());
    }
    let steps = rows.iter().enumerate().map(|(i, r)| r.view(l, i, &errors)).collect();
    let review_n = form.review_period_n.clone().unwrap_or_default();
    let review_unit = form.review_period_unit.clone().unwrap_or_default();
    let page = RoutinePage {
        steps,
        review_n,
        review_unit,
        note: form.note.clone().unwrap_or_default(),
        review_units: choices(l, "unit_", &["days", "months"]),
        units: choices(l, "unit_", &UNITS),
        responsibles: choices(l, "resp_", &routine::RESPONSIBLE),
        phases: choices(l, "phase_", &routine::PHASES),
        conditions: choices(l, "cond_", &routine::CONDITIONS),
        version: current.version,
        history,
    };
    v.show_form("/routine", "pages/routine.html", &page, &errors)
}

/// One change between versions in words: "Polisanmälan: Tidsgräns 1 timme → 45 minuter".
fn describe_change(l: &str, c: &Change, old: &Routine, new: &Routine) -> String {
    let title = |r: &Routine, key: &str| {
        r.steps.iter().find(|s| s.key == key).map(|s| s.title(l).to_string()).unwrap_or_else(|| key.to_string())
    };
    let value = |field: &str, v: &str| -> String {
        if v.is_empty() {
            return i18n::t(l, "none_given").to_string();
        }
        match field {
            "deadline" | "high_risk_deadline" | "ack_window" => i18n::duration(l, v),
            "responsible" => i18n::t(l, &format!("resp_{v}")).to_string(),
            "phase" => i18n::t(l, &format!("phase_{v}")).to_string(),
            "condition" => i18n::t(l, &format!("cond_{v}")).to_string(),
            "required" => i18n::t(l, if v == "true" { "yes" } else { "no" }).to_string(),
            _ => format!("”{v}”"),
        }
    };
    match c {
        Change::ReviewPeriod { from, to } => {
            format!("{}: {} → {}", i18n::t(l, "change_review_period"), i18n::duration(l, from), i18n::duration(l, to))
        }
        Change::Added { key } => format!("{}: {}", i18n::t(l, "change_added"), title(new, key)),
        Change::Removed { key } => format!("{}: {}", i18n::t(l, "change_removed"), title(old, key)),
        Change::Changed { key, field, from, to } => {
            format!("{}: {} {} → {}", title(new, key), i18n::t(l, field), value(field, from), value(field, to))
        }
        Change::Reordered => i18n::t(l, "change_reordered").to_string(),
    }
}

#[derive(Serialize)]
struct RoutinePage {
    steps: Vec<StepRowView>,
    review_n: String,
    review_unit: String,
    note: String,
    review_units: Vec<Choice>,
    units: Vec<Choice>,
    responsibles: Vec<Choice>,
    phases: Vec<Choice>,
    conditions: Vec<Choice>,
    version: i32,
    history: Vec<VersionRow>,
}

#[derive(Serialize)]
struct VersionRow {
    version: i32,
    created_at: String,
    author: Option<String>,
    note: Option<String>,
    changes: Vec<String>,
}

/// A step card: the form's values, and the summary line shown when the card is closed.
#[derive(Serialize)]
struct StepRowView {
    #[serde(flatten)]
    row: StepRowForm,
    /// the form index (`steps[i]`), and the ids of its inputs (`steps_i__field`)
    i: usize,
    id: String,
    title: String,
    responsible_label: &'static str,
    deadline_text: String,
    /// a refused field in this card: the card is shown open
    open: bool,
}

#[rocket::get("/routine")]
pub async fn get_routine_page(v: Visit<'_>) -> PageResult {
    routine_page(v, None).await
}

/// A step of the editor as the form sends it: durations as a number and a unit, the key hidden (a new
/// step's key is made from its Swedish title), a box to remove the step.
#[derive(FromForm, Default, Clone, Serialize)]
pub struct StepRowForm {
    key: Option<String>,
    title_sv: Option<String>,
    title_en: Option<String>,
    responsible: Option<String>,
    phase: Option<String>,
    deadline_n: Option<String>,
    deadline_unit: Option<String>,
    high_risk_n: Option<String>,
    high_risk_unit: Option<String>,
    condition: Option<String>,
    required: Option<bool>,
    ack_n: Option<String>,
    ack_unit: Option<String>,
    remove: Option<bool>,
}

#[derive(FromForm, Default, Clone)]
pub struct RoutineForm {
    review_period_n: Option<String>,
    review_period_unit: Option<String>,
    note: Option<String>,
    steps: Vec<StepRowForm>,
}

/// A field as typed, trimmed; empty is absent.
fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A duration picked as number and unit, as the routine stores it; `Err` when the number is not one.
fn composed(n: &Option<String>, unit: &Option<String>) -> Result<Option<String>, ()> {
    let Some(n) = text(n.clone()) else { return Ok(None) };
    let n: u32 = n.parse().map_err(|_| ())?;
    Ok(Some(deadline::compose(n, unit.as_deref().unwrap_or("hours")).unwrap_or_default()))
}

fn picked(d: Option<&str>) -> (Option<String>, Option<String>) {
    match d.and_then(deadline::pick) {
        Some((n, unit)) => (Some(n.to_string()), Some(unit.to_string())),
        None => (d.map(str::to_string), None),
    }
}

/// A key for a new step from its Swedish title: `Ring skolan` → `ring_skolan`.
fn key_from(title: &str, taken: &[String]) -> String {
    let mut key: String = title
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'å' | 'ä' | 'à' | 'á' => 'a',
            'ö' | 'ó' => 'o',
            'é' | 'è' => 'e',
            'ü' => 'u',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    key.truncate(56);
    if key.is_empty() {
        key = "step".into();
    }
    let base = key.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

impl RoutineForm {
    fn from_routine(r: &Routine) -> Self {
        let (n, unit) = picked(Some(&r.review_period));
        RoutineForm {
            review_period_n: n,
            review_period_unit: unit.or_else(|| Some("months".into())),
            note: None,
            steps: r.steps.iter().map(StepRowForm::from_def).collect(),
        }
    }
}

impl StepRowForm {
    fn from_def(s: &StepDef) -> Self {
        let (deadline_n, deadline_unit) = picked(Some(&s.deadline));
        let (high_risk_n, high_risk_unit) = picked(s.high_risk_deadline.as_deref());
        let (ack_n, ack_unit) = picked(s.ack_window.as_deref());
        StepRowForm {
            key: Some(s.key.clone()),
            title_sv: Some(s.title_sv.clone()),
            title_en: Some(s.title_en.clone()),
            responsible: Some(s.responsible.clone()),
            phase: Some(s.phase.clone()),
            deadline_n,
            deadline_unit,
            high_risk_n,
            high_risk_unit,
            condition: Some(s.condition.clone()),
            required: Some(s.required),
            ack_n,
            ack_unit,
            remove: None,
        }
    }

    fn view(&self, l: &str, i: usize, errors: &FieldErrors) -> StepRowView {
        let prefix = format!("steps[{i}].");
        let deadline = composed(&self.deadline_n, &self.deadline_unit).ok().flatten();
        StepRowView {
            row: self.clone(),
            i,
            id: super::field_id(&format!("steps[{i}]")),
            title: self.title_sv.clone().filter(|_| l != "en").or_else(|| self.title_en.clone()).unwrap_or_default(),
            responsible_label: i18n::t(l, &format!("resp_{}", self.responsible.as_deref().unwrap_or_default())),
            deadline_text: deadline.map(|d| i18n::duration(l, &d)).unwrap_or_default(),
            open: errors.keys().any(|k| k.starts_with(&prefix)),
        }
    }

    /// Is this the blank card for a new step, left blank?
    fn is_blank(&self) -> bool {
        [&self.key, &self.title_sv, &self.title_en, &self.deadline_n].iter().all(|v| text((*v).clone()).is_none())
    }
}

/// The routine a submitted editor describes, the form index of each of its steps, and the fields the page
/// itself refuses (a duration that is not a whole number). Guidance texts and anchors are not in the
/// form: kept from the current step of that key; a new step is anchored on its phase.
fn routine_from(form: &RoutineForm, current: &[StepDef]) -> (SetRoutine, Vec<usize>, FieldErrors) {
    let mut local = FieldErrors::new();
    let mut steps = Vec::new();
    let mut index = Vec::new();
    let mut taken: Vec<String> = current.iter().map(|s| s.key.clone()).collect();
    for (i, row) in form.steps.iter().enumerate() {
        if row.remove == Some(true) || row.is_blank() {
            continue;
        }
        let old = current.iter().find(|s| Some(&s.key) == row.key.as_ref());
        let phase = text(row.phase.clone()).unwrap_or_else(|| "missing".into());
        let key = match (old, text(row.key.clone())) {
            (Some(o), _) => o.key.clone(),
            (None, Some(k)) => k,
            (None, None) => key_from(row.title_sv.as_deref().unwrap_or_default(), &taken),
        };
        taken.push(key.clone());
        let mut duration = |field: &str, n: &Option<String>, unit: &Option<String>| match composed(n, unit) {
            Ok(d) => d,
            Err(()) => {
                local.insert(format!("steps[{i}].{field}"), "must be a whole number".into());
                Some(String::new())
            }
        };
        let deadline = duration("deadline", &row.deadline_n, &row.deadline_unit).unwrap_or_default();
        let high_risk_deadline = duration("high_risk_deadline", &row.high_risk_n, &row.high_risk_unit);
        let ack_window = duration("ack_window", &row.ack_n, &row.ack_unit);
        steps.push(StepDef {
            key,
            title_sv: text(row.title_sv.clone()).unwrap_or_default(),
            title_en: text(row.title_en.clone()).unwrap_or_default(),
            guidance_sv: old.map(|o| o.guidance_sv.clone()).unwrap_or_default(),
            guidance_en: old.map(|o| o.guidance_en.clone()).unwrap_or_default(),
            responsible: text(row.responsible.clone()).unwrap_or_default(),
            anchor: old
                .map(|o| o.anchor.clone())
                .unwrap_or_else(|| if phase == "found" { "found" } else { "discovered" }.into()),
            phase,
            deadline,
            high_risk_deadline,
            condition: text(row.condition.clone()).unwrap_or_else(|| "always".into()),
            required: row.required.unwrap_or(false),
            ack_window,
        });
        index.push(i);
    }
    let review_period = match form.review_period_n.as_deref().unwrap_or_default().trim().parse::<u32>() {
        Ok(n) => deadline::compose(n, form.review_period_unit.as_deref().unwrap_or("months")),
        Err(_) => {
            local.insert("review_period".into(), "must be a whole number".into());
            Some(String::new())
        }
    };
    let cmd = SetRoutine { review_period, note: text(form.note.clone()), steps: Some(steps) };
    (cmd, index, local)
}

/// The editor posts every card as `steps[i].field`, plus a blank card for a new step.
#[rocket::post("/routine", data = "<form>")]
pub async fn post_routine_page(_csrf: CsrfChecked, v: Visit<'_>, form: Form<RoutineForm>) -> PageResult {
    let county = county_of(&v.user)?;
    let form = form.into_inner();
    let c2 = county.clone();
    let current = v.st.db.run(move |c| routines::current(c, &c2)?.ok_or_else(AppError::not_found)).await?.routine();
    let (cmd, index, local) = routine_from(&form, &current.steps);
    let renumber = |errors: FieldErrors| -> FieldErrors {
        // The rules name a step by its place in the routine, the page by its card; a key is not shown, so
        // its errors belong to the title it is made from.
        errors.into_iter().map(|(k, why)| (renumbered(&k, &index), why)).collect()
    };
    if !local.is_empty() {
        // Nothing is stored while a duration is not a number; the other rules are checked all the same.
        let r = Routine {
            review_period: cmd.review_period.clone().unwrap_or_default(),
            steps: cmd.steps.clone().unwrap_or_default(),
        };
        let mut errors = renumber(routine::validate(&r).into_iter().collect());
        errors.extend(local);
        return routine_page(Visit { flash: None, ..v }, Some((form, errors))).await;
    }
    let (now, u) = (v.now(), v.user.clone());
    let row = match v.st.db.run(move |c| app::routines::set(c, &u, &county, Submitted::new(cmd), now)).await {
        Ok(row) => row,
        Err(e) => {
            let errors = renumber(e.into_fields()?);
            return routine_page(Visit { flash: None, ..v }, Some((form, errors))).await;
        }
    };
    let l = v.lang;
    flash("/routine".into(), &format!("{} {} {}", i18n::t(l, "saved"), i18n::t(l, "version"), row.version))
}

/// `steps[j].field` of the routine as `steps[i].field` of the form (`key` as `title_sv`).
fn renumbered(k: &str, index: &[usize]) -> String {
    let Some(rest) = k.strip_prefix("steps[") else { return k.to_string() };
    let Some((j, field)) = rest.split_once("].") else { return k.to_string() };
    let i = j.parse::<usize>().ok().and_then(|j| index.get(j).copied()).unwrap_or(0);
    let field = if field == "key" { "title_sv" } else { field };
    format!("steps[{i}].{field}")
}

#[rocket::get("/contacts")]
pub async fn get_contacts_page(v: Visit<'_>) -> PageResult {
    let county = county_of(&v.user)?;
    let contacts = v.st.db.run(move |c| org::county_contacts(c, &county)?.ok_or_else(AppError::not_found)).await?;
    contacts_page(v, serde_json::to_value(contacts.with_defaults()).unwrap_or_default(), Default::default())
}

fn contacts_page(mut v: Visit<'_>, values: Value, errors: crate::error::FieldErrors) -> PageResult {
    let heading = i18n::t(v.lang, "county_contacts");
    let fields = (CountyContacts::NAMES, CountyContacts::REQUIRED);
    let modes: Vec<&'static str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
    let selects = org::DELIVERY_FIELDS
        .iter()
        .map(|f| SelectField {
            name: f,
            label: i18n::t(v.lang, f),
            value: values[*f].as_str().unwrap_or("").to_string(),
            options: super::choices(v.lang, "delivery_", &modes),
        })
        .collect();
    let delivery = Delivery { selects, tls_required: v.st.outbox.mailer.tls_required() };
    v.mailbox_form("/contacts", heading, "/contacts", fields, &values, &errors, Some(delivery))
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
    let monthly: Vec<(String, Option<i64>)> =
        s.monthly.iter().map(|m| (i18n::month(l, &m.month), m.episodes)).collect();
    let police = cell_rows(&s.police_report_distribution);
    let found = vec![
        (i18n::t(l, "stat_found_24h").to_string(), Some(s.found_within_24h)),
        (i18n::t(l, "stat_found_7d").to_string(), Some(s.found_within_7d)),
        (i18n::t(l, "stat_episodes").to_string(), Some(s.episodes)),
    ];
    let munis = cell_rows(&s.by_municipality);
    let talks = cell_rows(&s.return_conversation_outcomes);
    let series = [i18n::t(l, "on_time"), i18n::t(l, "late"), i18n::t(l, "overdue"), i18n::t(l, "skipped")];
    let steps: Vec<(String, Vec<i64>)> = s
        .steps
        .iter()
        .map(|x| (super::step_title(l, &x.key), vec![x.done_on_time, x.done_late, x.overdue, x.skipped]))
        .collect();
    let bars = |id: &str, title: &str, first: &'static str, data: &[(String, Option<i64>)]| Chart {
        title: i18n::t(l, title),
        svg: charts::bars(id, i18n::t(l, title), data, i18n::t(l, "suppressed_mark")),
        head: vec![first, i18n::t(l, "count")],
        rows: data
            .iter()
            .map(|(k, v)| {
                vec![k.clone(), v.map(|n| n.to_string()).unwrap_or_else(|| i18n::t(l, "suppressed_mark").into())]
            })
            .collect(),
    };
    let charts = vec![
        bars("monthly", "chart_monthly", i18n::t(l, "month"), &monthly),
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
        bars("return", "chart_return_conversations", i18n::t(l, "rc_outcome"), &talks),
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
    page: Option<i64>,
}

/// Entries per page of the review.
const LOG_PAGE: i64 = 50;

/// The county's access log (loggkontroll), filterable by user (name or number), episode and period, a
/// page of 50 entries at a time.
#[rocket::get("/access-log?<q..>")]
pub async fn get_access_log_page(mut v: Visit<'_>, q: LogQuery) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    let county = county_of(&user)?;
    let now = st.clock.now();
    let typed = q.user.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let (uid, name) = match typed.map(|u| (u, u.parse::<i64>())) {
        Some((_, Ok(id))) => (Some(id), None),
        Some((u, Err(_))) => (None, Some(u.to_string())),
        None => (None, None),
    };
    // A page number from the address bar: bounded, so that no number can overflow the offset.
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let f = app::stats::LogFilter {
        user: uid,
        name,
        case: q.case.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        offset: (page - 1) * LOG_PAGE,
        limit: LOG_PAGE + 1,
    };
    let (u, c2) = (user.clone(), county.clone());
    let l = v.lang;
    let mut entries = match st.db.run(move |c| app::stats::access_log(c, &u, &c2, &f, now)).await {
        Ok(e) => e,
        Err(e) => {
            let errors = e.into_fields()?;
            v.flash = None;
            let page = AccessLogPage { entries: Vec::new(), filter: &q, page, previous: None, next: None };
            return v.show_form("/access-log", "pages/access_log.html", &page, &errors);
        }
    };
    st.audit.log(user.actor(), Event::new("access_log_read").county(Some(county)), now).await?;
    v.flash = None;
    let more = entries.len() as i64 > LOG_PAGE;
    entries.truncate(LOG_PAGE as usize);
    let link = |p: i64| {
        let mut s = form_urlencoded_pairs(&[
            ("user", q.user.as_deref()),
            ("case", q.case.as_deref()),
            ("from", q.from.as_deref()),
            ("to", q.to.as_deref()),
        ]);
        s.push_str(&format!("page={p}"));
        format!("/access-log?{s}")
    };
    let rows = entries
        .iter()
        .map(|e| AccessRow {
            at: super::local(e.at),
            actor_name: e.actor_name.as_deref(),
            role_label: e.actor_role.as_deref().map(|r| i18n::t(l, &format!("role_{r}"))),
            action_label: i18n::t(l, &format!("action_{}", e.action)),
            reference: e.reference.as_deref(),
        })
        .collect();
    let previous = (page > 1).then(|| link(page - 1));
    let next = more.then(|| link(page + 1));
    let view = AccessLogPage { entries: rows, filter: &q, page, previous, next };
    v.show(Status::Ok, "/access-log", "pages/access_log.html", &view)
}

/// `name=value&` for each given filter, percent-encoded.
fn form_urlencoded_pairs(pairs: &[(&str, Option<&str>)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs.iter().filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| format!("{k}={}&", enc(v)))).collect()
}

#[derive(Serialize)]
struct AccessLogPage<'a> {
    entries: Vec<AccessRow<'a>>,
    filter: &'a LogQuery,
    page: i64,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct AccessRow<'a> {
    at: String,
    actor_name: Option<&'a str>,
    role_label: Option<&'static str>,
    action_label: &'static str,
    reference: Option<&'a str>,
}
