use super::{choices, flash, local, Choice, PageError, PageResult, Visit};
use crate::app::cases::{self as actions, AssessRisk, CloseCase, CompleteStep, RecordFound, WithReason};
use crate::auth::AuthUser;
use crate::domain::episode::CLOSURE_REASONS;
use crate::domain::episode::{Status as CaseStatus, StepStatus};
use crate::domain::ids::{ChildId, EpisodeId};
use crate::domain::permission::Act;
use crate::domain::risk::{self, RiskLevel};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::i18n;
use crate::store::audit::Event;
use crate::store::episodes::{self as store, create, CaseView, StatusFilter};
use crate::store::scope::Scope;
use crate::store::worklist;
use crate::web::form::{CommandForm, FormFields};
use crate::web::session::CsrfChecked;
use rocket::form::FromForm;
use rocket::http::Status;
use serde::Serialize;

fn status_label(l: &str, s: &str) -> &'static str {
    i18n::t(l, &format!("status_{s}"))
}

/// The episode page: notifications and acknowledgements (never reloaded by itself: a Refresh link), steps with
/// their actions, risk, found and close forms, timeline. County officers see the pseudonymised form.
#[rocket::get("/cases/<id>")]
pub async fn get_case_page(v: Visit<'_>, id: i64) -> PageResult {
    case_page(v, id, None).await
}

/// A refused form of the case page: which form (its inputs' id prefix), what was typed, why.
struct RefusedForm {
    prefix: String,
    values: serde_json::Map<String, serde_json::Value>,
    errors: crate::error::FieldErrors,
}

async fn case_page(mut v: Visit<'_>, id: i64, refused: Option<RefusedForm>) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall, Role::CountyOfficer])?;
    let now = st.clock.now();
    let (scope, lang_code) = (Scope::from(&user), user.language.clone());
    let (county, view, suggested, routine) = st
        .db
        .run(move |c| {
            let row = store::find(c, &scope, id)?.ok_or_else(AppError::not_found)?;
            // The guidance of each step, from the routine version the episode follows.
            let routine = crate::store::routines::by_id(c, row.routine_version_id)?.routine();
            let view = store::views(c, std::slice::from_ref(&row), &scope, &lang_code, now, true)?
                .pop()
                .ok_or_else(AppError::internal)?;
            let suggested = if scope.pseudonymised() {
                None
            } else {
                let child = crate::store::episodes::writes::child_of(c, &row)?;
                let d = create::derive(c, &child, crate::store::children::utc(row.discovered_at))?;
                Some(risk::suggest(&row.indicators(), &d))
            };
            Ok::<_, AppError>((row.county_code.clone(), view, suggested, routine))
        })
        .await?;
    st.audit.log(user.actor(), Event::new("case_read").on("case", id).county(Some(county)), now).await?;
    let l = v.lang;
    let open = view.status != CaseStatus::Closed;
    // What this reader may do follows their relation to the episode (domain::permission), as in the API.
    let relation = crate::domain::permission::Relation::of(
        user.role,
        user.workplace.municipality_code.as_deref(),
        &user.workplace.codes(),
        view.personal.as_ref().map(|p| p.responsible_municipality_code.as_str()).unwrap_or_default(),
    );
    let may = |act: Act| crate::domain::permission::may(relation, act);
    let (prefix, fv, errors) = match refused {
        Some(r) => (r.prefix, r.values, r.errors),
        None => (String::new(), Default::default(), Default::default()),
    };
    let prefix = prefix.as_str();
    let steps = view
        .steps
        .iter()
        .map(|s| {
            let pending = open && s.status == StepStatus::Pending;
            let guidance = routine.steps.iter().find(|d| d.key == s.key).map(|d| {
                if l == "en" {
                    d.guidance_en.as_str()
                } else {
                    d.guidance_sv.as_str()
                }
            });
            StepRowView {
                guidance: guidance.filter(|g| !g.trim().is_empty()),
                open: prefix == format!("done-{}-", s.key) || prefix == format!("skip-{}-", s.key),
                status: s.status.as_str(),
                key: &s.key,
                title: &s.title,
                required: s.required,
                due: local(s.due_at),
                overdue: s.overdue,
                status_label: i18n::t(l, &format!("step_{}", s.status.as_str())),
                note: s.note.as_deref().map(|n| i18n::note(l, n)),
                responsible_label: i18n::t(l, &format!("resp_{}", s.responsible)),
                can_complete: pending && may(Act::CompleteStep { staff_step: s.responsible == "staff" }),
                can_skip: pending && may(Act::SkipStep),
            }
        })
        .collect();
    let notes = note_rows(l, &view, true);
    let events = view.personal.as_ref().and_then(|p| p.timeline.as_deref()).unwrap_or_default();
    let timeline = events
        .iter()
        .map(|e| TimelineRowView {
            at: local(e.at),
            kind: &e.kind,
            label: i18n::t(l, &format!("event_{}", e.kind)),
            actor: e.actor_name.as_deref(),
        })
        .collect();
    let report_lines = match view.personal.as_ref() {
        Some(p) => {
            let r = &p.report;
            let given = [
                ("last_seen_at_time", Some(local(view.last_seen_at))),
                ("last_seen_place", r.last_seen_place.clone()),
                ("last_seen_by", r.last_seen_by.clone()),
                ("clothing", r.clothing.clone()),
                ("belongings", r.belongings.clone()),
                ("circumstances", r.circumstances.clone()),
                ("search_actions", r.search_actions.clone()),
                ("possible_whereabouts", r.possible_whereabouts.clone()),
            ];
            given
                .into_iter()
                .map(|(label, value)| Line {
                    label: i18n::t(l, label),
                    value: value.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| i18n::t(l, "not_given").into()),
                })
                .collect()
        }
        None => Vec::new(),
    };
    let additions = view
        .personal
        .as_ref()
        .and_then(|p| p.additions.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|a| AdditionView {
            label: i18n::t(l, &format!("addition_{}", a.field)),
            text: &a.text,
            at: local(a.at),
            by: a.by.as_deref(),
        })
        .collect();
    let can_add = open && view.personal.is_some() && may(Act::AddToReport);
    let talk_open = match view.status {
        CaseStatus::Found => true,
        CaseStatus::Closed => view.closed_at.is_some_and(|c| {
            now - c < chrono::Duration::days(actions::RETURN_CONVERSATION_DAYS) && view.found_at.is_some()
        }),
        CaseStatus::Missing => false,
    };
    let can_talk = talk_open && view.personal.is_some() && may(Act::ReturnConversation);
    let talk = view.return_conversation.as_ref().map(|r| TalkView {
        outcome: i18n::t(l, &format!("rc_outcome_{}", r.outcome)),
        held_at: r.held_at.map(local),
        conducted_by: r.conducted_by.as_deref().map(|b| i18n::t(l, &format!("rc_by_{b}"))),
        interpreter: i18n::t(l, if r.interpreter_used { "yes" } else { "no" }),
        reasons: r.reasons.iter().map(|x| i18n::t(l, &format!("rc_reason_{x}"))).collect::<Vec<_>>().join(", "),
        signs: r
            .exploitation_indicators
            .iter()
            .flatten()
            .map(|x| i18n::t(l, &format!("indicator_{x}")))
            .collect::<Vec<_>>()
            .join(", "),
        stayed_with: r.stayed_with.as_deref(),
        actions: r.actions.as_deref(),
    });
    let page = CasePage {
        talk,
        can_talk,
        outcomes: choices(l, "rc_outcome_", &actions::RETURN_OUTCOMES),
        conducted: choices(l, "rc_by_", &actions::CONDUCTED_BY),
        leaving_reasons: choices(l, "rc_reason_", &actions::LEAVING_REASONS),
        additions,
        can_add,
        addition_fields: choices(l, "addition_", &actions::ADDITION_FIELDS),
        open_form: prefix.trim_end_matches('-').to_string(),
        fv,
        report_lines,
        c: &view,
        steps,
        notes,
        timeline,
        risk_label: i18n::t(l, &format!("risk_{}", view.risk_level)),
        status_label: status_label(l, view.status.as_str()),
        discovered: local(view.discovered_at),
        can_found: view.status == CaseStatus::Missing && view.personal.is_some() && may(Act::Found),
        can_assess: open && view.personal.is_some() && may(Act::AssessRisk),
        can_close: open && view.personal.is_some() && may(Act::Close),
        suggested_label: suggested.map(|s| i18n::t(l, &format!("risk_{}", s.as_str()))),
        levels: choices(l, "risk_", &RiskLevel::NAMES),
        indicators: choices(l, "indicator_", &risk::REPORTED),
        reasons: choices(l, "reason_", &CLOSURE_REASONS),
    };
    let current = if user.is(Role::Staff) { "/" } else { "/cases" };
    v.show_form_in(current, "pages/case.html", &page, prefix, &errors)
}

/// The case page's view model.
#[derive(Serialize)]
struct CasePage<'a> {
    c: &'a CaseView,
    /// the return conversation's record in words, and its form for the responsible social worker
    talk: Option<TalkView<'a>>,
    can_talk: bool,
    outcomes: Vec<Choice>,
    conducted: Vec<Choice>,
    leaving_reasons: Vec<Choice>,
    /// what was added to the report later, and whether this reader may add
    additions: Vec<AdditionView<'a>>,
    can_add: bool,
    addition_fields: Vec<Choice>,
    /// the refused form (its id prefix without the dash) and what was typed in it, by input id
    open_form: String,
    fv: serde_json::Map<String, serde_json::Value>,
    /// what was reported, for the people who may read it (absent in the pseudonymised form)
    report_lines: Vec<Line>,
    steps: Vec<StepRowView<'a>>,
    notes: Vec<NoteRowView<'a>>,
    timeline: Vec<TimelineRowView<'a>>,
    risk_label: &'static str,
    status_label: &'static str,
    discovered: String,
    can_found: bool,
    can_assess: bool,
    can_close: bool,
    suggested_label: Option<&'static str>,
    levels: Vec<Choice>,
    indicators: Vec<Choice>,
    reasons: Vec<Choice>,
}

#[derive(Serialize)]
struct TalkView<'a> {
    outcome: &'static str,
    held_at: Option<String>,
    conducted_by: Option<&'static str>,
    interpreter: &'static str,
    reasons: String,
    signs: String,
    stayed_with: Option<&'a str>,
    actions: Option<&'a str>,
}

#[derive(Serialize)]
struct AdditionView<'a> {
    label: &'static str,
    text: &'a str,
    at: String,
    by: Option<&'a str>,
}

/// A step as its row shows it, with what the reader may do to it.
#[derive(Serialize)]
struct StepRowView<'a> {
    /// what the routine tells the step's owner to do, in the reader's language
    guidance: Option<&'a str>,
    /// its status as a tag's class, and whether its form was just refused (shown open)
    status: &'a str,
    open: bool,
    key: &'a str,
    title: &'a str,
    required: bool,
    due: String,
    overdue: bool,
    status_label: &'static str,
    note: Option<String>,
    responsible_label: &'static str,
    can_complete: bool,
    can_skip: bool,
}

/// A notification as its row shows it.
#[derive(Serialize)]
struct NoteRowView<'a> {
    recipient: &'static str,
    address: Option<&'a str>,
    kind: &'a str,
    kind_label: &'static str,
    status: &'a str,
    status_label: &'static str,
    sent_at: Option<String>,
    ack_required: bool,
    acknowledged_at: Option<String>,
    acknowledged_by: Option<&'a str>,
}

#[derive(Serialize)]
struct TimelineRowView<'a> {
    at: String,
    kind: &'a str,
    label: &'static str,
    actor: Option<&'a str>,
}

/// The staff member's page right after reporting: call the police now (`tel:` links), read out the report in
/// the order the police ask, record the police reference; then who has been told and what happens next.
#[rocket::get("/cases/<id>/reported")]
pub async fn get_reported_page(mut v: Visit<'_>, id: i64) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let now = st.clock.now();
    let (scope, lang_code) = (Scope::from(&user), user.language.clone());
    let view = st
        .db
        .run(move |c| {
            let row = store::find(c, &scope, id)?.ok_or_else(AppError::not_found)?;
            store::views(c, std::slice::from_ref(&row), &scope, &lang_code, now, false)?
                .pop()
                .ok_or_else(AppError::internal)
        })
        .await?;
    st.audit
        .log(user.actor(), Event::new("case_read").on("case", id).county(Some(view.county_code.clone())), now)
        .await?;
    let Some(personal) = view.personal.as_ref() else { return Err(AppError::not_found().into()) };
    let (u, child_id) = (user.clone(), personal.child_id);
    let read = st.db.run(move |c| crate::app::children::read(c, &u, ChildId(child_id), now)).await?;
    let child = st.disclose(user.actor(), read, now).await?;
    let l = v.lang;
    let sheet = |k: &str| crate::domain::preparedness::as_text(child.preparedness.get(k), l);
    let sheet_lines = |keys: &[&'static str]| keys.iter().map(|k| (*k, sheet(k))).collect::<Vec<_>>();
    let r = &personal.report;
    let section = |heading: &str, lines: Vec<(&str, Option<String>)>| ReadAloud {
        heading: i18n::t(l, heading),
        lines: lines
            .into_iter()
            .map(|(label, value)| Line {
                label: i18n::t(l, label),
                value: value.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| i18n::t(l, "not_given").to_string()),
            })
            .collect(),
    };
    let indicators: Vec<&str> =
        personal.risk_indicators.iter().map(|i| i18n::t(l, &format!("indicator_{i}"))).collect();
    let read_aloud = vec![
        section(
            "identity",
            vec![
                ("full_name", Some(format!("{} {}", child.given_name, child.family_name))),
                ("aliases", Some(child.aliases.join(", "))),
                ("date_of_birth", Some(format!("{} ({} {})", child.date_of_birth, child.age, i18n::t(l, "years")))),
                ("sex", Some(i18n::t(l, &format!("sex_{}", child.sex)).to_string())),
                ("nationality", child.nationality.as_deref().map(|c| i18n::names::country(l, c))),
                ("languages", Some(i18n::names::language_list(l, &child.languages))),
            ],
        ),
        section("description", sheet_lines(&["height", "build", "hair", "eyes", "distinguishing_marks"])),
        section("clothing", vec![("clothing", r.clothing.clone()), ("belongings", r.belongings.clone())]),
        section(
            "last_seen",
            vec![
                ("last_seen_at_time", Some(local(view.last_seen_at))),
                ("last_seen_place", r.last_seen_place.clone()),
                ("last_seen_by", r.last_seen_by.clone()),
                ("circumstances", r.circumstances.clone()),
            ],
        ),
        section(
            "risk_heading",
            vec![
                ("indicators", Some(indicators.join(", "))),
                ("health", sheet("health_and_medication")),
                ("vulnerabilities", sheet("vulnerabilities")),
            ],
        ),
        section(
            "contacts",
            [
                sheet_lines(&["phone_numbers", "social_media", "known_contacts", "known_places"]),
                vec![("possible_whereabouts", r.possible_whereabouts.clone())],
            ]
            .concat(),
        ),
    ];
    let told = note_rows(l, &view, false);
    let next = view
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending && s.key != "police_report")
        .map(|s| NextStep {
            title: &s.title,
            responsible: i18n::t(l, &format!("resp_{}", s.responsible)),
            due: local(s.due_at),
        })
        .collect();
    let police_step_open = view.steps.iter().any(|s| s.key == "police_report" && s.status == StepStatus::Pending);
    let page = ReportedPage {
        id: view.id,
        reference: &view.reference,
        police_reference: personal.police_reference.as_deref(),
        police_step_open,
        read_aloud,
        notes: told,
        next,
    };
    v.show(Status::Ok, "/", "pages/reported.html", &page)
}

#[derive(Serialize)]
struct ReportedPage<'a> {
    id: i64,
    reference: &'a str,
    police_reference: Option<&'a str>,
    police_step_open: bool,
    read_aloud: Vec<ReadAloud>,
    notes: Vec<NoteRowView<'a>>,
    next: Vec<NextStep<'a>>,
}

/// One part of the read-aloud sheet, in the order the police ask.
#[derive(Serialize)]
struct ReadAloud {
    heading: &'static str,
    lines: Vec<Line>,
}

#[derive(Serialize)]
struct Line {
    label: &'static str,
    value: String,
}

#[derive(Serialize)]
struct NextStep<'a> {
    title: &'a str,
    responsible: &'static str,
    due: String,
}

/// The notifications of an episode as rows (reminders left out), with the addresses or without.
fn note_rows<'a>(l: &str, view: &'a CaseView, with_address: bool) -> Vec<NoteRowView<'a>> {
    view.notifications
        .iter()
        .filter(|n| n.kind != "reminder")
        .map(|n| NoteRowView {
            recipient: i18n::t(l, &format!("recipient_{}", n.recipient_kind.as_str())),
            address: n.address.as_deref().filter(|_| with_address),
            kind: &n.kind,
            kind_label: i18n::t(l, &format!("kind_{}", n.kind)),
            status: &n.status,
            status_label: note_status(l, &n.status),
            sent_at: n.sent_at.map(local),
            ack_required: n.ack_required,
            acknowledged_at: n.acknowledged_at.map(local),
            acknowledged_by: n.acknowledged_by.as_deref(),
        })
        .collect()
}

fn note_status(l: &str, status: &str) -> &'static str {
    match status {
        "sent" => i18n::t(l, "sent"),
        "failed" => i18n::t(l, "failed"),
        _ => i18n::t(l, "queued"),
    }
}

#[derive(FromForm, Default, Serialize)]
pub struct CaseFilter {
    municipality: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Social workers: open episodes, overdue steps first. County officers: the county's episodes,
/// pseudonymised, filterable by municipality, state and period.
#[rocket::get("/cases?<filter..>")]
pub async fn get_cases_page(mut v: Visit<'_>, filter: CaseFilter) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::SocialWorker, Role::OnCall, Role::CountyOfficer, Role::Staff])?;
    let now = st.clock.now();
    let scope = Scope::from(&user);
    let pseudo = scope.pseudonymised();
    let status = match filter.status.as_deref() {
        Some("missing") => StatusFilter::Is("missing"),
        Some("found") => StatusFilter::Is("found"),
        Some("closed") => StatusFilter::Is("closed"),
        _ if pseudo => StatusFilter::All,
        _ => StatusFilter::Open,
    };
    let (u, county) = (user.clone(), user.workplace.county_code.clone());
    let (read, munis) = st
        .db
        .run(move |c| {
            let read = actions::list(c, &u, status, now)?;
            let munis = match &county {
                Some(cc) if pseudo => crate::store::org::municipalities_of(c, cc)?,
                _ => Vec::new(),
            };
            Ok::<_, AppError>((read, munis))
        })
        .await?;
    let views = st.disclose(user.actor(), read, now).await?;
    let l = v.lang;
    let from = filter.from.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let to = filter.to.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let mut cases: Vec<CaseRowView> = views
        .iter()
        .filter(|c| filter.municipality.as_deref().is_none_or(|m| m.is_empty() || c.municipality_code == m))
        .filter(|c| {
            let d = crate::domain::calendar::local_date(c.discovered_at);
            from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
        })
        .map(|c| CaseRowView {
            id: c.id,
            reference: &c.reference,
            child: c
                .personal
                .as_ref()
                .and_then(|p| p.child.as_ref())
                .map(|k| format!("{} {}", k.given_name, k.family_name)),
            municipality: munis
                .iter()
                .find(|m| m.code == c.municipality_code)
                .map_or(&c.municipality_code, |m| &m.name),
            status: status_label(l, c.status.as_str()),
            risk_level: &c.risk_level,
            risk_label: i18n::t(l, &format!("risk_{}", c.risk_level)),
            overdue: c.steps.iter().filter(|s| s.overdue).count(),
            next_due: c.steps.iter().filter(|s| s.status == StepStatus::Pending).map(|s| s.due_at).min().map(local),
        })
        .collect();
    // Overdue first, then high risk, then the rest in report order.
    cases.sort_by(|a, b| {
        (b.overdue > 0).cmp(&(a.overdue > 0)).then((b.risk_level == "high").cmp(&(a.risk_level == "high")))
    });
    let page = CasesPage {
        cases,
        pseudonymised: pseudo,
        municipalities: &munis,
        heading: i18n::t(l, if pseudo { "nav_cases" } else { "open_cases" }),
        filter: &filter,
    };
    v.show(Status::Ok, "/cases", "pages/cases_list.html", &page)
}

/// The case list's view model.
#[derive(Serialize)]
struct CasesPage<'a> {
    cases: Vec<CaseRowView<'a>>,
    pseudonymised: bool,
    municipalities: &'a [crate::store::org::Municipality],
    heading: &'static str,
    filter: &'a CaseFilter,
}

#[derive(Serialize)]
struct CaseRowView<'a> {
    id: i64,
    reference: &'a str,
    child: Option<String>,
    municipality: &'a str,
    status: &'static str,
    risk_level: &'a str,
    risk_label: &'static str,
    overdue: usize,
    next_due: Option<String>,
}

#[rocket::get("/worklist")]
pub async fn get_worklist_page(mut v: Visit<'_>) -> PageResult {
    let (st, user) = (v.st, v.user.clone());
    user.require(&[Role::Staff, Role::SocialWorker, Role::OnCall])?;
    let responsible: &'static [&'static str] =
        if user.is(Role::Staff) { &["staff"] } else { &["social_worker", "system"] };
    let now = st.clock.now();
    let (scope, lang_code) = (Scope::from(&user), user.language.clone());
    let items =
        st.db.run(move |c| worklist::worklist(c, &scope, responsible, &lang_code, now).map_err(AppError::from)).await?;
    st.audit.log(user.actor(), Event::new("worklist_read").county(user.workplace.county_code.clone()), now).await?;
    let items: Vec<WorkRowView> = items
        .iter()
        .map(|i| WorkRowView {
            case_id: i.case_id,
            reference: &i.reference,
            title: &i.title,
            due: local(i.due_at),
            overdue: i.overdue,
        })
        .collect();
    // Prevention: staff and the social worker see what to do before a child goes missing.
    let prompts = if user.is(Role::OnCall) {
        Vec::new()
    } else {
        let (u, lang) = (user.clone(), v.lang);
        let read = st.db.run(move |c| crate::app::children::prompts(c, &u, lang, now)).await?;
        st.disclose(user.actor(), read, now).await?
    };
    let prompts = prompts
        .into_iter()
        .map(|p| PromptRowView { child_id: p.child_id, child: p.child_name, label: p.label, since: local_day(p.since) })
        .collect();
    v.show(Status::Ok, "/worklist", "pages/worklist.html", &WorklistPage { items, prompts })
}

#[derive(Serialize)]
struct WorklistPage<'a> {
    items: Vec<WorkRowView<'a>>,
    prompts: Vec<PromptRowView>,
}

#[derive(Serialize)]
struct PromptRowView {
    child_id: i64,
    child: String,
    label: &'static str,
    since: String,
}

fn local_day(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::domain::calendar::local_date(t).to_string()
}

#[derive(Serialize)]
struct WorkRowView<'a> {
    case_id: i64,
    reference: &'a str,
    title: &'a str,
    due: String,
    overdue: bool,
}

/// Runs an episode action and returns to the episode page with its outcome as a message. A refusal of
/// fields shows the page again with each error at its input in the form `prefix` names, what was typed
/// kept; a refusal of the action (a conflict) is the error summary at the top.
async fn act<F>(v: Visit<'_>, id: i64, prefix: String, shown: serde_json::Value, action: F) -> PageResult
where
    F: FnOnce(&mut crate::db::AnyConnection, &AuthUser, &[u8], chrono::DateTime<chrono::Utc>) -> Result<(), AppError>
        + Send
        + 'static,
{
    let (now, l, user) = (v.now(), v.lang, v.user.clone());
    let secret = v.st.settings.jwt_secret.clone().into_bytes();
    let result = v.st.db.run(move |c| action(c, &user, &secret, now)).await;
    v.st.outbox.poke();
    match result {
        Ok(()) => flash(format!("/cases/{id}"), i18n::t(l, "saved")),
        Err(e) if e.kind == crate::app::ErrorKind::Validation && e.fields.is_some() => {
            let errors = e.fields.unwrap_or_default();
            let values = match shown {
                serde_json::Value::Object(m) => m.into_iter().map(|(k, v)| (format!("{prefix}{k}"), v)).collect(),
                _ => Default::default(),
            };
            case_page(Visit { flash: None, ..v }, id, Some(RefusedForm { prefix, values, errors })).await
        }
        Err(e) if matches!(e.kind, crate::app::ErrorKind::Conflict | crate::app::ErrorKind::Validation) => {
            let detail = match &e.fields {
                Some(f) if e.code == "required_steps_pending" => {
                    let steps: Vec<String> = f.keys().map(|k| super::step_title(l, k)).collect();
                    format!("{} {}", i18n::reason(l, &e.message), steps.join(", "))
                }
                _ => i18n::reason(l, &e.message),
            };
            Ok(super::Out::Flash(rocket::response::Flash::error(
                rocket::response::Redirect::to(format!("/cases/{id}")),
                detail,
            )))
        }
        Err(e) => Err(PageError(e)),
    }
}

/// A step's two actions from its form: `complete` (with a note) and `skip` (with a reason).
#[rocket::post("/cases/<id>/steps/<key>/<what>", data = "<form>")]
pub async fn post_step_page(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
    key: &str,
    what: &str,
    form: FormFields,
) -> PageResult {
    let key = key.to_string();
    match what {
        "complete" => {
            let shown = form.shown::<CompleteStep>();
            let input = form.command::<CompleteStep>().input;
            act(v, id, format!("done-{key}-"), shown, move |c, u, _, now| {
                actions::complete_step(c, u, EpisodeId(id), &key, input, now).map(|_| ())
            })
            .await
        }
        "skip" => {
            let shown = form.shown::<WithReason>();
            let input = form.command::<WithReason>().input;
            act(v, id, format!("skip-{key}-"), shown, move |c, u, _, now| {
                actions::skip_step(c, u, EpisodeId(id), &key, input, now).map(|_| ())
            })
            .await
        }
        _ => Err(AppError::not_found().into()),
    }
}

#[rocket::post("/cases/<id>/found", data = "<form>")]
pub async fn post_found_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: CommandForm<RecordFound>) -> PageResult {
    let shown = form.shown();
    act(v, id, "found-".into(), shown, move |c, u, secret, now| {
        actions::found(c, u, secret, EpisodeId(id), form.input, now)
    })
    .await
}

#[rocket::post("/cases/<id>/risk", data = "<form>")]
pub async fn post_risk_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: CommandForm<AssessRisk>) -> PageResult {
    let shown = form.shown();
    act(v, id, "risk-".into(), shown, move |c, u, secret, now| {
        actions::assess_risk(c, u, secret, EpisodeId(id), form.input, now).map(|_| ())
    })
    .await
}

#[rocket::post("/cases/<id>/close", data = "<form>")]
pub async fn post_close_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: FormFields) -> PageResult {
    let shown = form.shown::<CloseCase>();
    let form = form.renamed("close_note", "note").command::<CloseCase>();
    // The note's input is `close_note` on the page.
    let shown = match shown {
        serde_json::Value::Object(mut m) => {
            if let Some(n) = m.remove("note") {
                m.insert("close_note".into(), n);
            }
            serde_json::Value::Object(m)
        }
        other => other,
    };
    act(v, id, "close-".into(), shown, move |c, u, secret, now| {
        actions::close(c, u, secret, EpisodeId(id), form.input, now).map_err(|mut e| {
            if let Some(f) = e.fields.as_mut().filter(|_| e.kind == crate::app::ErrorKind::Validation) {
                if let Some(why) = f.remove("note") {
                    f.insert("close_note".into(), why);
                }
            }
            e
        })
    })
    .await
}

/// The return conversation's record (the responsible social worker).
#[rocket::post("/cases/<id>/return-conversation", data = "<form>")]
pub async fn post_return_page(_csrf: CsrfChecked, v: Visit<'_>, id: i64, form: FormFields) -> PageResult {
    let shown = form.shown::<actions::RecordReturnConversation>();
    let form = form
        .map_text("held_at", super::children::local_input)
        .flag("interpreter_used")
        .command::<actions::RecordReturnConversation>();
    act(v, id, "talk-".into(), shown, move |c, u, _, now| {
        actions::record_return_conversation(c, u, EpisodeId(id), form.input, now)
    })
    .await
}

/// What was learnt after the report, added to it (staff of the accommodation, the social worker).
#[rocket::post("/cases/<id>/additions", data = "<form>")]
pub async fn post_addition_page(
    _csrf: CsrfChecked,
    v: Visit<'_>,
    id: i64,
    form: CommandForm<actions::AddToReport>,
) -> PageResult {
    let shown = form.shown();
    act(v, id, "add-".into(), shown, move |c, u, _, now| actions::add_to_report(c, u, EpisodeId(id), form.input, now))
        .await
}
