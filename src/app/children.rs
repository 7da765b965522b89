//! Children: registration, changes, the preparedness sheet and its photo (SPEC §2). Who may: the social
//! worker of the responsible municipality registers and changes children; staff of the child's current
//! accommodation read the child and change only the preparedness sheet and photo. Every change and every
//! read is written to the access log.

use super::command::{de, Check, Submitted};
use super::{AppError, AppResult, Disclosed};
use crate::auth::AuthUser;
use crate::db::{read_tx, write_tx, AnyConnection};
use crate::domain::ids::ChildId;
use crate::domain::preparedness;
use crate::domain::role::Role;
use crate::domain::validate::is_municipality_code;
use crate::store::audit::{self, Event};
use crate::store::children::{self, ChildFields, ChildView};
use crate::store::org;
use crate::store::scope::Scope;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const PHOTO_LIMIT_BYTES: u64 = 5 * 1024 * 1024;

/// The children in the reader's scope: placed at the staff member's accommodation, or the social worker's
/// municipality's.
pub fn list(c: &mut AnyConnection, user: &AuthUser, now: DateTime<Utc>) -> AppResult<Disclosed<Vec<ChildView>>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    read_tx(c, |c| {
        let rows = children::list(c, &Scope::from(user))?;
        let today = crate::domain::calendar::local_date(now);
        let value = rows.iter().map(|r| children::view(c, r, today)).collect::<Result<Vec<_>, _>>()?;
        let entry = Event::new("child_list")
            .county(user.workplace.county_code.clone())
            .detail(format!("{} children", value.len()));
        let records = rows
            .iter()
            .map(|r| Event::new("child_listed").on("child", r.id).county(user.workplace.county_code.clone()))
            .collect();
        Ok(Disclosed { value, entry, records })
    })
}

/// One child in scope with the preparedness sheet.
pub fn read(
    c: &mut AnyConnection,
    user: &AuthUser,
    ChildId(id): ChildId,
    now: DateTime<Utc>,
) -> AppResult<Disclosed<ChildView>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    read_tx(c, |c| {
        let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
        let county = org::municipality_county(c, &row.responsible_municipality_code)?;
        let value = children::view(c, &row, crate::domain::calendar::local_date(now))?;
        Ok(Disclosed { value, entry: Event::new("child_read").on("child", id).county(county), records: Vec::new() })
    })
}

/// The photo of a child in scope: (content type, bytes).
pub fn photo(c: &mut AnyConnection, user: &AuthUser, ChildId(id): ChildId) -> AppResult<Disclosed<(String, Vec<u8>)>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    read_tx(c, |c| {
        let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
        let value = children::photo(c, id)?.ok_or_else(AppError::not_found)?;
        let county = org::municipality_county(c, &row.responsible_municipality_code)?;
        Ok(Disclosed { value, entry: Event::new("photo_viewed").on("child", id).county(county), records: Vec::new() })
    })
}
pub const SEXES: [&str; 4] = ["male", "female", "other", "unknown"];

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_language(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// `POST /api/v1/children` (register) and `PATCH /api/v1/children/{id}` (change), and the pages' child
/// forms. For a change, an absent field is left as it is and `null` clears an optional one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ChildCommand {
    /// required to register
    pub given_name: Option<String>,
    /// required to register
    pub family_name: Option<String>,
    pub aliases: Option<Vec<String>>,
    /// required to register
    #[serde(deserialize_with = "de::date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<NaiveDate>,
    pub date_of_birth_estimated: Option<bool>,
    /// male, female, other or unknown; required to register
    pub sex: Option<String>,
    /// ISO 3166-1 alpha-2
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub nationality: Option<Option<String>>,
    /// ISO 639 codes
    pub languages: Option<Vec<String>>,
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub dossier_number: Option<Option<String>>,
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub asylum_status: Option<Option<String>>,
    /// defaults to the social worker's municipality, and must be it; cannot be changed
    pub responsible_municipality_code: Option<String>,
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub assigning_municipality_code: Option<Option<String>>,
    /// the current accommodation (a placement starts now; a change moves the child)
    #[serde(deserialize_with = "de::id")]
    pub accommodation_id: Option<i64>,
    /// the child's own social worker (an active social worker of the responsible municipality): reminders
    /// go to them; registering makes it the registering social worker, a change is a reassignment
    #[serde(deserialize_with = "de::id")]
    pub social_worker_id: Option<i64>,
    pub guardian: Option<GuardianCommand>,
    /// the latest asylum decision, `{"date","outcome"}` with outcome `granted`, `rejected`,
    /// `dublin_transfer` or `other`; `null` clears it. A rejection in the last 90 days is the push factor
    /// `asylum_rejected_recently` of the next report; a new decision prompts a review of the sheet.
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<AsylumDecisionCommand>)]
    pub asylum_decision: Option<Option<AsylumDecisionCommand>>,
    /// description fields of the preparedness sheet (height, build, hair, eyes, distinguishing_marks,
    /// phone_numbers, social_media, known_contacts, known_places, health_and_medication,
    /// vulnerabilities, …): text, numbers, booleans or lists of text; `null` removes a field
    #[schema(schema_with = crate::domain::preparedness::sheet_input_schema)]
    pub preparedness: Option<Value>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AsylumDecisionCommand {
    #[serde(deserialize_with = "de::date")]
    #[schema(value_type = String, format = Date)]
    pub date: Option<NaiveDate>,
    pub outcome: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct GuardianCommand {
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// ISO 639-1, e.g. sv, en, ar, prs
    #[serde(deserialize_with = "de::change")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
}

impl ChildCommand {
    /// The format rules; `creating` makes the identity fields required.
    fn validate(&mut self, ck: &mut Check, creating: bool, today: NaiveDate) {
        let text = |ck: &mut Check, key: &str, v: &mut Option<String>, max: usize| {
            if creating {
                ck.req_text(key, v, max)
            } else {
                ck.text(key, v, max)
            }
        };
        text(ck, "given_name", &mut self.given_name, 100);
        text(ck, "family_name", &mut self.family_name, 100);
        if creating && self.aliases.is_none() {
            self.aliases = Some(Vec::new());
        }
        if let Some(a) = self.aliases.as_mut() {
            ck.list("aliases", a, 20, 100);
        }
        if creating {
            ck.required("date_of_birth", &self.date_of_birth);
        }
        if let Some(d) = self.date_of_birth {
            if d > today {
                ck.error("date_of_birth", "may not be in the future");
            } else if children::age_on(d, today) >= 18 {
                ck.error("date_of_birth", "the child must be under 18");
            }
        }
        ck.one_of("sex", &mut self.sex, &SEXES);
        if creating {
            ck.required("sex", &self.sex);
        }
        ck.clearable("nationality", &mut self.nationality, 2);
        if let Some(Some(n)) = self.nationality.as_mut() {
            *n = n.to_uppercase();
            if !is_country(n) {
                ck.error("nationality", "must be an ISO 3166-1 alpha-2 code such as AF");
            }
        }
        if creating && self.languages.is_none() {
            self.languages = Some(Vec::new());
        }
        if let Some(langs) = self.languages.as_mut() {
            ck.list("languages", langs, 10, 3);
            langs.iter_mut().for_each(|l| *l = l.to_lowercase());
            if !langs.iter().all(|l| is_language(l)) {
                ck.error("languages", "must be ISO 639 codes such as sv, ps, prs");
            }
        }
        ck.clearable("dossier_number", &mut self.dossier_number, 40);
        ck.clearable("asylum_status", &mut self.asylum_status, 100);
        ck.text("responsible_municipality_code", &mut self.responsible_municipality_code, 4);
        ck.clearable("assigning_municipality_code", &mut self.assigning_municipality_code, 4);
        if let Some(Some(m)) = &self.assigning_municipality_code {
            if !is_municipality_code(m) {
                ck.error("assigning_municipality_code", "must be a 4-digit municipality code");
            }
        }
        if let Some(g) = self.guardian.as_mut() {
            ck.clearable("guardian.name", &mut g.name, 200);
            if let Some(email) = g.email.as_mut() {
                ck.email("guardian.email", email);
            }
            ck.clearable("guardian.phone", &mut g.phone, 40);
            ck.clearable("guardian.language", &mut g.language, 3);
            if let Some(Some(l)) = g.language.as_mut() {
                *l = l.to_lowercase();
                if !is_language(l) {
                    ck.error("guardian.language", "must be an ISO 639 code such as sv or en");
                }
            }
        }
        if let Some(Some(d)) = self.asylum_decision.as_mut() {
            ck.required("asylum_decision.date", &d.date);
            if d.date.is_some_and(|d| d > today) {
                ck.error("asylum_decision.date", "may not be in the future");
            }
            ck.required("asylum_decision.outcome", &d.outcome);
            ck.one_of("asylum_decision.outcome", &mut d.outcome, &crate::domain::prevention::ASYLUM_OUTCOMES);
        }
        if let Some(raw) = &self.preparedness {
            if let Err(errors) = preparedness::check_change(raw) {
                for (k, v) in errors {
                    ck.error(&k, v);
                }
                self.preparedness = None;
            }
        }
    }

    /// Whether the change reaches beyond the preparedness sheet (all that staff may change).
    fn beyond_sheet(&self) -> bool {
        self.given_name.is_some()
            || self.family_name.is_some()
            || self.aliases.is_some()
            || self.date_of_birth.is_some()
            || self.date_of_birth_estimated.is_some()
            || self.sex.is_some()
            || self.nationality.is_some()
            || self.languages.is_some()
            || self.dossier_number.is_some()
            || self.asylum_status.is_some()
            || self.responsible_municipality_code.is_some()
            || self.assigning_municipality_code.is_some()
            || self.accommodation_id.is_some()
            || self.social_worker_id.is_some()
            || self.asylum_decision.is_some()
            || self.guardian.is_some()
    }

    fn fields(&self) -> ChildFields {
        let g = self.guardian.as_ref();
        ChildFields {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            aliases: self.aliases.clone(),
            date_of_birth: self.date_of_birth,
            date_of_birth_estimated: self.date_of_birth_estimated,
            sex: self.sex.clone(),
            nationality: self.nationality.clone(),
            languages: self.languages.clone(),
            dossier_number: self.dossier_number.clone(),
            asylum_status: self.asylum_status.clone(),
            assigning_municipality_code: self.assigning_municipality_code.clone(),
            guardian_name: g.and_then(|g| g.name.clone()),
            guardian_email: g.and_then(|g| g.email.clone()),
            guardian_phone: g.and_then(|g| g.phone.clone()),
            guardian_language: g.and_then(|g| g.language.clone()),
        }
    }

    /// The checked asylum decision change: `Some(None)` clears it.
    fn decision(&self) -> Option<Option<children::AsylumDecision>> {
        self.asylum_decision.as_ref().map(|d| {
            d.as_ref().and_then(|d| Some(children::AsylumDecision { date: d.date?, outcome: d.outcome.clone()? }))
        })
    }

    /// The checked sheet change, if one was given.
    fn sheet_change(&self) -> Option<&Map<String, Value>> {
        self.preparedness.as_ref().and_then(Value::as_object)
    }
}

/// Merges a checked change into a stored sheet; a sheet that would grow past the limit is a 422.
fn merge(into: &mut Map<String, Value>, changes: &Map<String, Value>) -> Result<(), AppError> {
    preparedness::merge(into, changes).map_err(AppError::validation)
}

fn check_municipality(
    c: &mut crate::db::AnyConnection,
    ck: &mut Check,
    key: &str,
    code: Option<&String>,
) -> Result<(), AppError> {
    if let Some(m) = code {
        if ck.ok() && org::municipality_county(c, m)?.is_none() {
            ck.error(key, "no such municipality");
        }
    }
    Ok(())
}

/// The checks that need the database, once the formats are fine: the assigning municipality and the
/// accommodation exist.
fn check_references(
    c: &mut AnyConnection,
    ck: &mut Check,
    fields: &ChildFields,
    accommodation: Option<i64>,
) -> AppResult<()> {
    check_municipality(
        c,
        ck,
        "assigning_municipality_code",
        fields.assigning_municipality_code.as_ref().and_then(|o| o.as_ref()),
    )?;
    if let Some(a) = accommodation {
        if ck.ok() && org::accommodation(c, a)?.is_none() {
            ck.error("accommodation_id", "no such accommodation");
        }
    }
    Ok(())
}

/// Registers a child; the registering social worker's municipality is responsible for it.
pub fn register(
    c: &mut AnyConnection,
    user: &AuthUser,
    input: Submitted<ChildCommand>,
    now: DateTime<Utc>,
) -> AppResult<ChildView> {
    user.require(&[Role::SocialWorker])?;
    let today = crate::domain::calendar::local_date(now);
    let (cmd, mut ck) = input.checked(|k, ck| k.validate(ck, true, today));
    let fields = cmd.fields();
    let own = user.workplace.municipality_code.clone().unwrap_or_default();
    let responsible = cmd.responsible_municipality_code.clone().unwrap_or_else(|| own.clone());
    if responsible != own {
        ck.error("responsible_municipality_code", "must be your own municipality");
    }
    let accommodation = cmd.accommodation_id;
    let mut prep = Map::new();
    if let Some(changes) = cmd.sheet_change() {
        if let Err(e) = preparedness::merge(&mut prep, changes) {
            e.into_iter().for_each(|(k, v)| ck.error(&k, v));
        }
    }
    check_references(c, &mut ck, &fields, accommodation)?;
    ck.finish()?;
    write_tx(c, |c| {
        let id = children::insert(c, &fields, &responsible, Some(user.id), &prep, now)?;
        if let Some(Some(d)) = cmd.decision() {
            children::set_asylum_decision(c, id, Some(&d), now)?;
        }
        if cmd.sheet_change().is_some() {
            children::mark_reviewed(c, id, now)?;
        }
        if let Some(a) = accommodation {
            children::place(c, id, a, user.id, now)?;
        }
        let county = org::municipality_county(c, &responsible)?;
        audit::append(c, &user.actor(), &Event::new("child_created").on("child", id).county(county), now)?;
        let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::internal)?;
        Ok(children::view(c, &row, today)?)
    })
}

/// Changes a child. Staff of the current accommodation may change only `preparedness`; the social worker
/// may change everything, including moving the child (`accommodation_id` closes the old placement).
pub fn change(
    c: &mut AnyConnection,
    user: &AuthUser,
    ChildId(id): ChildId,
    input: Submitted<ChildCommand>,
    now: DateTime<Utc>,
) -> AppResult<ChildView> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let today = crate::domain::calendar::local_date(now);
    let staff_only_sheet = user.is(Role::Staff) && input.cmd.beyond_sheet();
    let (cmd, mut ck) = input.checked(|k, ck| k.validate(ck, false, today));
    let fields = cmd.fields();
    let accommodation = cmd.accommodation_id;
    let prep = cmd.sheet_change();
    if cmd.responsible_municipality_code.is_some() || ck.has("responsible_municipality_code") {
        ck.errors
            .insert("responsible_municipality_code".into(), "cannot be changed; transfer the child instead".into());
    }
    // Scope first: an out-of-scope child is 404 whatever the body says.
    let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
    if staff_only_sheet {
        return Err(AppError::forbidden());
    }
    check_references(c, &mut ck, &fields, accommodation)?;
    if let Some(sw) = cmd.social_worker_id {
        if ck.ok() && !children::is_social_worker_of(c, sw, &row.responsible_municipality_code)? {
            ck.error("social_worker_id", "must be an active social worker of the responsible municipality");
        }
    }
    ck.finish()?;
    write_tx(c, |c| {
        if let Some(sw) = cmd.social_worker_id.filter(|sw| row.social_worker_id != Some(*sw)) {
            reassign(c, user, &row, sw, now)?;
        }
        let sheet = match prep {
            Some(changes) => {
                let mut sheet = children::json_object(&row.preparedness);
                merge(&mut sheet, changes)?;
                Some(sheet)
            }
            None => None,
        };
        children::update(c, id, &fields, sheet.as_ref(), now)?;
        if sheet.is_some() {
            children::mark_reviewed(c, id, now)?;
        }
        if let Some(d) = cmd.decision() {
            children::set_asylum_decision(c, id, d.as_ref(), now)?;
        }
        let mut moved = false;
        if let Some(a) = accommodation {
            moved = children::place(c, id, a, user.id, now)?;
        }
        let county = org::municipality_county(c, &row.responsible_municipality_code)?;
        let what = if moved {
            "child_moved"
        } else if prep.is_some() && user.is(Role::Staff) {
            "preparedness_changed"
        } else {
            "child_changed"
        };
        audit::append(c, &user.actor(), &Event::new(what).on("child", id).county(county), now)?;
        // After a move the staff of the old accommodation no longer see the child: read as the social worker.
        let row = children::find(c, &Scope::Municipality(row.responsible_municipality_code.clone()), id)?
            .ok_or_else(AppError::not_found)?;
        Ok(children::view(c, &row, today)?)
    })
}

/// A reassignment: the child's social worker changes, and the open episode's timeline says so (reminders
/// follow the child's own social worker).
fn reassign(
    c: &mut AnyConnection,
    user: &AuthUser,
    row: &children::ChildRow,
    to: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    children::set_social_worker(c, row.id, to, now)?;
    if let Some(episode) = crate::store::episodes::create::open_episode(c, row.id)? {
        let name = crate::store::users::names(c, &[to])?.remove(&to);
        crate::store::episodes::event(
            c,
            episode,
            now,
            "social_worker_assigned",
            &crate::store::episodes::TimelineActor::from(user),
            serde_json::json!({"name": name}),
        )?;
    }
    let county = org::municipality_county(c, &row.responsible_municipality_code)?;
    audit::append(c, &user.actor(), &Event::new("social_worker_assigned").on("child", row.id).county(county), now)?;
    Ok(())
}

/// Records that the preparedness sheet was gone through with the child and is right as it is (staff of the
/// current accommodation or the social worker): it answers the prompts that ask for a review.
pub fn confirm_sheet(
    c: &mut AnyConnection,
    user: &AuthUser,
    ChildId(id): ChildId,
    now: DateTime<Utc>,
) -> AppResult<ChildView> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    write_tx(c, |c| {
        let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
        children::mark_reviewed(c, id, now)?;
        let county = org::municipality_county(c, &row.responsible_municipality_code)?;
        audit::append(c, &user.actor(), &Event::new("preparedness_reviewed").on("child", id).county(county), now)?;
        let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
        Ok(children::view(c, &row, crate::domain::calendar::local_date(now))?)
    })
}

/// One prevention prompt: a child in the reader's scope, what to do and since when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PromptView {
    pub child_id: i64,
    /// `sheet_not_reviewed`, `photo_missing`, `photo_old`, `placement_changed`, `asylum_decision`, `turning_18`
    pub kind: &'static str,
    /// what to do, in the reader's language
    pub label: &'static str,
    pub since: DateTime<Utc>,
    #[serde(skip)]
    pub child_name: String,
}

/// The prevention prompts of the children in the reader's scope (staff: placed at their accommodation;
/// social worker: their municipality's), oldest first. Each child listed is in the access-log entry.
pub fn prompts(
    c: &mut AnyConnection,
    user: &AuthUser,
    lang: &str,
    now: DateTime<Utc>,
) -> AppResult<Disclosed<Vec<PromptView>>> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    read_tx(c, |c| {
        let mut out = Vec::new();
        for (row, facts) in children::prevention_facts(c, &Scope::from(user))? {
            for p in crate::domain::prevention::prompts(&facts, now) {
                out.push(PromptView {
                    child_id: row.id,
                    kind: p.kind,
                    label: crate::i18n::t(lang, &format!("prompt_{}", p.kind)),
                    since: p.since,
                    child_name: format!("{} {}", row.given_name, row.family_name),
                });
            }
        }
        out.sort_by_key(|p| p.since);
        let ids: std::collections::BTreeSet<i64> = out.iter().map(|p| p.child_id).collect();
        let entry = Event::new("prevention_prompts_listed")
            .county(user.workplace.county_code.clone())
            .detail(format!("{} children", ids.len()));
        let records = ids
            .iter()
            .map(|id| Event::new("child_listed").on("child", id).county(user.workplace.county_code.clone()))
            .collect();
        Ok(Disclosed { value: out, entry, records })
    })
}

/// Uploads or replaces the photo (JPEG or PNG, recognised by content).
pub fn upload_photo(
    c: &mut AnyConnection,
    user: &AuthUser,
    ChildId(id): ChildId,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> AppResult<()> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
    if bytes.len() as u64 > PHOTO_LIMIT_BYTES {
        return Err(AppError::payload_too_large());
    }
    let ct = children::sniff_image(bytes).ok_or_else(|| AppError::field("photo", "must be a JPEG or PNG image"))?;
    write_tx(c, |c| {
        children::set_photo(c, id, ct, bytes, user.id, now)?;
        let county = org::municipality_county(c, &row.responsible_municipality_code)?;
        audit::append(c, &user.actor(), &Event::new("photo_uploaded").on("child", id).county(county), now)?;
        Ok(())
    })
}
