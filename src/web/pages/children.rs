use super::{choices, redirect, Choice, PageError, PageResult, Visit};
use crate::app::cases::ReportCase;
use crate::app::children::ChildCommand;
use crate::app::children::PHOTO_LIMIT_BYTES;
use crate::app::command::Submitted;
use crate::app::{self, ErrorKind};
use crate::auth::AuthUser;
use crate::db::write_tx;
use crate::domain::ids::{ChildId, EpisodeId};
use crate::domain::preparedness;
use crate::domain::risk::REPORTED;
use crate::domain::role::Role;
use crate::error::{AppError, FieldErrors};
use crate::i18n;
use crate::state::AppState;
use crate::store::children::ChildView;
use crate::store::org;
use crate::store::org::Accommodation;
use crate::web::form::FormFields;
use crate::web::session::CsrfChecked;
use chrono::NaiveDateTime;
use rocket::form::{Form, FromForm};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub const SHEET_FIELDS: [&str; 11] = [
    "height",
    "build",
    "hair",
    "eyes",
    "distinguishing_marks",
    "phone_numbers",
    "social_media",
    "known_contacts",
    "known_places",
    "health_and_medication",
    "vulnerabilities",
];

fn sheet_label(lang: &str, key: &str) -> &'static str {
    match key {
        "health_and_medication" => i18n::t(lang, "health"),
        k => i18n::t(lang, k),
    }
}

async fn load_child(st: &AppState, user: &AuthUser, id: i64) -> Result<ChildView, PageError> {
    let (now, u) = (st.clock.now(), user.clone());
    let read = st.db.run(move |c| app::children::read(c, &u, ChildId(id), now)).await?;
    Ok(st.disclose(user.actor(), read, now).await?)
}

/// Staff: the children placed at the accommodation. Social workers: the municipality's children.
#[rocket::get("/children")]
pub async fn get_children_page(mut v: Visit<'_>) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    let (now, u) = (v.now(), user.clone());
    let read = st.db.run(move |c| app::children::list(c, &u, now)).await?;
    let list = st.disclose(user.actor(), read, now).await?;
    let (current, template) =
        if user.is(Role::Staff) { ("/", "pages/staff_home.html") } else { ("/children", "pages/children_list.html") };
    v.show(Status::Ok, current, template, &ChildrenPage { children: &list })
}

#[derive(Serialize)]
struct ChildrenPage<'a> {
    children: &'a [ChildView],
}

#[rocket::get("/children/<id>", rank = 2)]
pub async fn get_child_page(v: Visit<'_>, id: i64) -> PageResult {
    child_page(v, id, None).await
}

/// The child page; after a refused asylum decision, with its errors at the fields and what was typed.
async fn child_page(mut v: Visit<'_>, id: i64, refused: Option<(crate::app::FieldErrors, DecisionForm)>) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let child = load_child(st, &user, id).await?;
    let lang = v.lang;
    let sheet_fields = SHEET_FIELDS
        .iter()
        .map(|k| SheetField {
            name: k,
            label: sheet_label(lang, k),
            value: preparedness::as_text(child.preparedness.get(*k), lang).unwrap_or_default(),
        })
        .collect();
    let can_move = user.is(Role::SocialWorker);
    let accommodations = match can_move {
        true => st.db.run(|c| org::list_accommodations(c, None, None).map_err(AppError::from)).await?,
        false => Vec::new(),
    };
    let muni = child.responsible_municipality_code.clone();
    let social_workers = match can_move {
        true => st.db.run(move |c| crate::store::children::social_workers_of(c, &muni).map_err(AppError::from)).await?,
        false => Vec::new(),
    };
    let (errors, typed) = refused.unwrap_or_default();
    let decision = match (&child.asylum_decision, typed.outcome.is_some() || typed.date.is_some()) {
        (_, true) => typed,
        (Some(d), false) => DecisionForm { date: Some(d.date.to_string()), outcome: Some(d.outcome.clone()) },
        (None, false) => <DecisionForm as Default>::default(),
    };
    let page = ChildPage {
        nationality: child.nationality.as_deref().map(|c| i18n::names::country(lang, c)),
        languages: i18n::names::language_list(lang, &child.languages),
        reviewed_at: child.preparedness_reviewed_at.map(|t| crate::domain::calendar::local_date(t).to_string()),
        decision_label: child
            .asylum_decision
            .as_ref()
            .map(|d| format!("{}, {}", i18n::t(lang, &format!("asylum_{}", d.outcome)), d.date)),
        outcomes: super::choices(lang, "asylum_", &crate::domain::prevention::ASYLUM_OUTCOMES),
        decision,
        child: &child,
        sheet_fields,
        can_move,
        accommodations,
        social_workers,
    };
    v.show_form("/children", "pages/child.html", &page, &errors)
}

/// The child page's view model: the child, the preparedness sheet as a form, the move form.
#[derive(Serialize)]
struct ChildPage<'a> {
    child: &'a ChildView,
    /// nationality and languages by their names
    nationality: Option<String>,
    languages: String,
    sheet_fields: Vec<SheetField>,
    can_move: bool,
    accommodations: Vec<Accommodation>,
    /// the responsible municipality's social workers, to reassign the child: (id, name)
    social_workers: Vec<(i64, String)>,
    /// the local day the sheet was last gone through
    reviewed_at: Option<String>,
    decision_label: Option<String>,
    outcomes: Vec<super::Choice>,
    /// the asylum decision form's values: as stored, or as typed when refused
    decision: DecisionForm,
}

#[derive(FromForm, Serialize, Default, Clone)]
pub struct DecisionForm {
    date: Option<String>,
    outcome: Option<String>,
}

#[rocket::post("/children/<id>/asylum-decision", data = "<form>")]
pub async fn post_child_decision(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: Form<DecisionForm>) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::SocialWorker])?;
    let typed = form.into_inner();
    let given = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let mut body = serde_json::Map::new();
    body.insert(
        "asylum_decision".into(),
        serde_json::json!({"date": given(&typed.date), "outcome": given(&typed.outcome)}),
    );
    let cmd = crate::app::command::Submitted::<ChildCommand>::from_json(body);
    let now = st.clock.now();
    let u = user.clone();
    match st.db.run(move |c| app::children::change(c, &u, ChildId(id), cmd, now)).await {
        Ok(_) => super::flash(format!("/children/{id}"), i18n::t(v.lang, "saved")),
        Err(e) if e.kind == ErrorKind::Validation => {
            child_page(v, id, Some((e.fields.unwrap_or_default(), typed))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/children/<id>/sheet/reviewed")]
pub async fn post_child_sheet_reviewed(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
) -> Result<Flash<Redirect>, PageError> {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let now = st.clock.now();
    let u = user.clone();
    st.db.run(move |c| app::children::confirm_sheet(c, &u, ChildId(id), now)).await?;
    Ok(Flash::success(Redirect::to(format!("/children/{id}")), i18n::t(v.lang, "saved")))
}

#[derive(Serialize)]
struct SheetField {
    name: &'static str,
    label: &'static str,
    value: String,
}

/// Applies a change to a child through the same use case as the API; answers the field errors, if any.
async fn change_child(
    st: &AppState,
    user: &AuthUser,
    id: i64,
    cmd: ChildCommand,
) -> Result<Option<crate::app::FieldErrors>, PageError> {
    let now = st.clock.now();
    let u = user.clone();
    match st.db.run(move |c| app::children::change(c, &u, ChildId(id), Submitted::new(cmd), now)).await {
        Ok(_) => Ok(None),
        Err(e) if e.kind == ErrorKind::Validation => Ok(Some(e.fields.unwrap_or_default())),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/children/<id>/sheet", data = "<form>")]
pub async fn post_child_sheet(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
    form: Form<std::collections::HashMap<String, String>>,
) -> Result<Flash<Redirect>, PageError> {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let lang = v.lang;
    let stored = load_child(st, &user, id).await?.preparedness;
    let mut sheet = Map::new();
    for k in SHEET_FIELDS {
        let typed = form.get(k).map(String::as_str).unwrap_or("");
        sheet.insert(k.to_string(), preparedness::from_form(stored.get(k), typed, lang));
    }
    let cmd = ChildCommand { preparedness: Some(Value::Object(sheet)), ..Default::default() };
    let errors = change_child(st, &user, id, cmd).await?;
    let msg = match errors {
        None => i18n::t(lang, "saved").to_string(),
        Some(e) => e
            .iter()
            .map(|(k, v)| format!("{}: {v}", sheet_label(lang, k.trim_start_matches("preparedness."))))
            .collect::<Vec<_>>()
            .join("; "),
    };
    Ok(Flash::success(Redirect::to(format!("/children/{id}")), msg))
}

#[derive(FromForm)]
pub struct MoveForm {
    accommodation_id: Option<i64>,
}

#[rocket::post("/children/<id>/move", data = "<form>")]
pub async fn post_child_move(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
    form: Form<MoveForm>,
) -> Result<Flash<Redirect>, PageError> {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::SocialWorker])?;
    change_child(st, &user, id, ChildCommand { accommodation_id: form.accommodation_id, ..Default::default() }).await?;
    let lang = v.lang;
    Ok(Flash::success(Redirect::to(format!("/children/{id}")), i18n::t(lang, "saved")))
}

#[derive(FromForm)]
pub struct AssignForm {
    social_worker_id: Option<i64>,
}

#[rocket::post("/children/<id>/social-worker", data = "<form>")]
pub async fn post_child_social_worker(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
    form: Form<AssignForm>,
) -> Result<Flash<Redirect>, PageError> {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::SocialWorker])?;
    let cmd = ChildCommand { social_worker_id: form.social_worker_id, ..Default::default() };
    let lang = v.lang;
    let msg = match change_child(st, &user, id, cmd).await? {
        None => i18n::t(lang, "saved").to_string(),
        Some(_) => i18n::t(lang, "error_social_worker_id").to_string(),
    };
    Ok(Flash::success(Redirect::to(format!("/children/{id}")), msg))
}

#[derive(FromForm)]
pub struct PhotoForm<'r> {
    photo: TempFile<'r>,
}

#[rocket::post("/children/<id>/photo", data = "<form>")]
pub async fn post_child_photo(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
    form: Form<PhotoForm<'_>>,
) -> Result<Flash<Redirect>, PageError> {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let lang = v.lang;
    let mut bytes = Vec::new();
    if let Ok(mut f) = form.into_inner().photo.open().await {
        use rocket::tokio::io::AsyncReadExt;
        let _ = (&mut f).take(PHOTO_LIMIT_BYTES + 1).read_to_end(&mut bytes).await;
    }
    let now = st.clock.now();
    let u = user.clone();
    match st.db.run(move |c| app::children::upload_photo(c, &u, ChildId(id), &bytes, now)).await {
        Ok(()) => Ok(Flash::success(Redirect::to(format!("/children/{id}")), i18n::t(lang, "saved"))),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::PayloadTooLarge) => {
            Ok(Flash::error(Redirect::to(format!("/children/{id}")), i18n::t(lang, "upload_photo")))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/children/new")]
pub async fn get_child_new(mut v: Visit<'_>) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::SocialWorker])?;
    v.flash = None;
    let f = serde_json::to_value(ChildForm { sex: Some("unknown".into()), ..Default::default() }).unwrap_or_default();
    let page = NewChildPage::load(st, &user, v.lang, f).await?;
    v.show_form("/children/new", "pages/child_new.html", &page, &FieldErrors::new())
}

/// The registration page's view model; `f` is what the form shows.
#[derive(Serialize)]
struct NewChildPage {
    accommodations: Vec<Accommodation>,
    places: Vec<org::CountyMunicipalities>,
    sexes: Vec<Choice>,
    /// every nationality by its name, and the language names the languages field suggests
    countries: Vec<(String, String)>,
    language_names: Vec<String>,
    /// the two languages of this service, for the guardian's emails
    ui_languages: Vec<Choice>,
    f: Value,
}

impl NewChildPage {
    /// The municipality's accommodations and every municipality for the assigning-municipality picker.
    async fn load(st: &AppState, user: &AuthUser, lang: &'static str, f: Value) -> Result<Self, PageError> {
        let muni = user.workplace.municipality_code.clone();
        let (accommodations, places) = st
            .db
            .run(move |c| {
                Ok::<_, AppError>((
                    org::list_accommodations(c, muni.as_deref(), None)?,
                    org::municipalities_by_county(c)?,
                ))
            })
            .await?;
        Ok(NewChildPage {
            accommodations,
            places,
            sexes: choices(lang, "sex_", &crate::app::children::SEXES),
            countries: i18n::names::countries(lang),
            language_names: i18n::names::languages(lang).into_iter().map(|(_, n)| n).collect(),
            ui_languages: choices(lang, "language_", &i18n::LANGUAGES),
            f,
        })
    }
}

/// The registration form's fields as the template names them; shown back as typed when refused.
#[derive(serde::Serialize, Default)]
pub struct ChildForm {
    given_name: Option<String>,
    family_name: Option<String>,
    aliases: Option<String>,
    date_of_birth: Option<String>,
    date_of_birth_estimated: Option<bool>,
    sex: Option<String>,
    nationality: Option<String>,
    languages: Option<String>,
    dossier_number: Option<String>,
    assigning_municipality_code: Option<String>,
    accommodation_id: Option<i64>,
    guardian_name: Option<String>,
    guardian_email: Option<String>,
    guardian_phone: Option<String>,
    guardian_language: Option<String>,
}

#[rocket::post("/children/new", data = "<form>")]
pub async fn post_child_new(_csrf: CsrfChecked, mut v: Visit<'_>, form: FormFields) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::SocialWorker])?;
    let mut f = form.shown::<ChildForm>();
    if let Some(a) = f.get("accommodation_id").and_then(Value::as_str).and_then(|a| a.parse::<i64>().ok()) {
        f["accommodation_id"] = json!(a);
    }
    let input = form
        .split("aliases")
        .split_mapped("languages", |l| i18n::names::language_code(l).unwrap_or_else(|| l.to_string()))
        .flag("date_of_birth_estimated")
        .renamed("guardian_name", "guardian.name")
        .renamed("guardian_email", "guardian.email")
        .renamed("guardian_phone", "guardian.phone")
        .renamed("guardian_language", "guardian.language")
        .command::<ChildCommand>()
        .input;
    let now = st.clock.now();
    let u = user.clone();
    let created = st.db.run(move |c| app::children::register(c, &u, input, now)).await;
    match created {
        Ok(child) => redirect(format!("/children/{}", child.id)),
        Err(e) => {
            // The form names the guardian's fields guardian_*, the shared rules guardian.*.
            let errors: FieldErrors =
                e.into_fields()?.into_iter().map(|(k, v)| (k.replace("guardian.", "guardian_"), v)).collect();
            v.flash = None;
            let page = NewChildPage::load(st, &user, v.lang, f).await?;
            v.show_form("/children/new", "pages/child_new.html", &page, &errors)
        }
    }
}

/// The report form, pre-filled from the preparedness sheet and the current time.
#[rocket::get("/children/<id>/report")]
pub async fn get_report(mut v: Visit<'_>, id: i64) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let child = load_child(st, &user, id).await?;
    if let Some(open) = child.open_case_id {
        return redirect(format!("/cases/{open}"));
    }
    v.flash = None;
    let lang = v.lang;
    let now = crate::domain::calendar::to_local(st.clock.now()).format("%Y-%m-%dT%H:%M").to_string();
    let sheet =
        |k: &str| preparedness::as_text(child.preparedness.get(k), lang).unwrap_or_default().replace('\n', ", ");
    let whereabouts: Vec<String> =
        [sheet("known_places"), sheet("known_contacts")].into_iter().filter(|s| !s.is_empty()).collect();
    let f = json!({"discovered_at": now, "last_seen_at": now, "last_seen_place": "", "last_seen_by": "", "clothing": "",
                   "belongings": "", "circumstances": "", "search_actions": "", "possible_whereabouts": whereabouts.join("; "),
                   "whereabouts_known": false, "risk_indicators": [], "police_reference": ""});
    let page = ReportPage { f, indicators: choices(lang, "indicator_", &REPORTED), child: &child };
    v.show_form("/children", "pages/report.html", &page, &FieldErrors::new())
}

/// The report page's view model; `f` is what the form shows (pre-filled, or as typed when refused).
#[derive(Serialize)]
struct ReportPage<'a> {
    f: Value,
    indicators: Vec<Choice>,
    child: &'a ChildView,
}

/// `datetime-local` values are Stockholm wall-clock times; the API takes RFC 3339.
/// A `datetime-local` field is Stockholm time; anything else is passed on for the command to refuse.
pub(super) fn local_input(s: &str) -> String {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok();
    match naive {
        Some(n) => crate::domain::calendar::from_local(n).to_rfc3339(),
        None => s.to_string(),
    }
}

#[rocket::post("/children/<id>/report", data = "<form>")]
pub async fn post_report(_csrf: CsrfChecked, mut v: Visit<'_>, id: i64, form: FormFields) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let f = form.shown::<ReportCase>();
    let form = form
        .map_text("discovered_at", local_input)
        .map_text("last_seen_at", local_input)
        .flag("whereabouts_known")
        .with("child_id", json!(id))
        .command::<ReportCase>();
    let now = st.clock.now();
    let secret = st.settings.jwt_secret.clone().into_bytes();
    let u = user.clone();
    let result = st
        .db
        .run(move |c| {
            let (cmd, ck) = crate::app::cases::check_report(form.input, now);
            let kept = cmd.clone();
            Ok::<_, AppError>(match crate::app::cases::accepted_report(cmd, ck) {
                Err(e) => Err((e, None)),
                Ok(report) => write_tx(c, |c| crate::app::cases::report(c, &u, &secret, &report, now))
                    .map_err(|e| (e, Some(kept))),
            })
        })
        .await?;
    let (result, second) = match result {
        Ok(case) => (Ok(case), None),
        Err((e, kept)) => (Err(e), kept),
    };
    match result {
        Ok(case) => {
            st.outbox.poke();
            let lang = v.lang;
            let _ = lang;
            redirect(format!("/cases/{case}/reported"))
        }
        // Someone else reported the child a moment ago: what this reporter wrote is added to that
        // episode, never dropped.
        Err(e) if e.kind == crate::app::ErrorKind::Conflict => {
            let child = load_child(st, &user, id).await?;
            let Some(open) = child.open_case_id else { return Err(e.into()) };
            let (u, now) = (user.clone(), st.clock.now());
            let second = second.unwrap_or_default();
            let added =
                st.db.run(move |c| crate::app::cases::add_second_report(c, &u, EpisodeId(open), &second, now)).await?;
            let to = format!("/cases/{open}");
            match added {
                0 => redirect(to),
                _ => super::flash(to, i18n::t(v.lang, "second_report_added")),
            }
        }
        Err(e) => {
            let errors = e.into_fields()?;
            let child = load_child(st, &user, id).await?;
            v.flash = None;
            v.show_form(
                "/children",
                "pages/report.html",
                &ReportPage { f, indicators: choices(v.lang, "indicator_", &REPORTED), child: &child },
                &errors,
            )
        }
    }
}
