//! Children, their placements, preparedness sheet and photo. Every function that reads a child takes the
//! caller's scope and filters in SQL.

use super::scope::Scope;
use crate::db::schema::{accommodations, child_photos, children, episodes, placements, users};
use crate::db::AnyConnection;
use crate::domain::episode::Status;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = children)]
pub struct ChildRow {
    pub id: i64,
    pub given_name: String,
    pub family_name: String,
    pub aliases: String,
    pub date_of_birth: NaiveDate,
    pub date_of_birth_estimated: bool,
    pub sex: String,
    pub nationality: Option<String>,
    pub languages: String,
    pub dossier_number: Option<String>,
    pub asylum_status: Option<String>,
    pub responsible_municipality_code: String,
    pub assigning_municipality_code: Option<String>,
    pub social_worker_id: Option<i64>,
    pub guardian_name: Option<String>,
    pub guardian_email: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_language: Option<String>,
    pub preparedness: String,
    pub pseudonymised_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub preparedness_reviewed_at: Option<NaiveDateTime>,
    pub asylum_decision_date: Option<NaiveDate>,
    pub asylum_decision_outcome: Option<String>,
    pub asylum_decision_recorded_at: Option<NaiveDateTime>,
}

impl ChildRow {
    /// The recorded asylum decision: its date and outcome.
    pub fn asylum_decision(&self) -> Option<(NaiveDate, &str)> {
        self.asylum_decision_date.zip(self.asylum_decision_outcome.as_deref())
    }
}

pub fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

pub fn json_object(s: &str) -> Map<String, Value> {
    serde_json::from_str(s).unwrap_or_default()
}

/// Whole years between two dates.
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age.max(0)
}

/// The 18th birthday (29 February births turn 18 on 1 March in a non-leap year).
pub fn eighteenth_birthday(dob: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(dob.year() + 18, dob.month(), dob.day())
        .or_else(|| NaiveDate::from_ymd_opt(dob.year() + 18, 3, 1))
        .unwrap_or(dob)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Guardian {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
}

/// The asylum decision as recorded: a date and an outcome (`granted`, `rejected`, `dublin_transfer`, `other`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AsylumDecision {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlacementView {
    pub accommodation_id: i64,
    pub accommodation_name: String,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SocialWorkerView {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// The child as GET returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChildView {
    pub id: i64,
    pub given_name: String,
    pub family_name: String,
    pub aliases: Vec<String>,
    pub date_of_birth: NaiveDate,
    pub date_of_birth_estimated: bool,
    pub age: i32,
    pub turns_18_on: NaiveDate,
    pub sex: String,
    pub nationality: Option<String>,
    pub languages: Vec<String>,
    pub dossier_number: Option<String>,
    pub asylum_status: Option<String>,
    pub responsible_municipality_code: String,
    pub assigning_municipality_code: Option<String>,
    pub accommodation_id: Option<i64>,
    pub social_worker: Option<SocialWorkerView>,
    pub guardian: Guardian,
    #[schema(schema_with = crate::domain::preparedness::sheet_schema_out)]
    pub preparedness: Map<String, Value>,
    pub has_photo: bool,
    /// when the preparedness sheet was last gone through (saved or confirmed as it is)
    pub preparedness_reviewed_at: Option<DateTime<Utc>>,
    pub asylum_decision: Option<AsylumDecision>,
    pub previous_episodes: i64,
    pub open_case_id: Option<i64>,
    pub placements: Vec<PlacementView>,
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// The id filter of the children a scope may see, as a boxed query.
fn visible(scope: &Scope) -> children::BoxedQuery<'static, crate::db::MultiBackend> {
    let q = children::table.into_boxed();
    match scope {
        // Correlated, so SQLite probes the child's current placement instead of listing the whole
        // accommodation first (measured: 1.2 ms → µs for a home with 12,000 placements).
        Scope::Accommodation(a) => q.filter(diesel::dsl::exists(
            placements::table
                .filter(placements::child_id.eq(children::id))
                .filter(placements::accommodation_id.eq(*a))
                .filter(placements::to_at.is_null()),
        )),
        Scope::Municipality(m) => q.filter(children::responsible_municipality_code.eq(m.clone())),
        // Socialjour acts on episodes, not on the children's records (API.md second edition).
        Scope::County(_) | Scope::OnCall(_) | Scope::Nothing => q.filter(children::id.eq(-1)),
    }
}

pub fn find(conn: &mut AnyConnection, scope: &Scope, id: i64) -> QueryResult<Option<ChildRow>> {
    visible(scope).filter(children::id.eq(id)).select(ChildRow::as_select()).first(conn).optional()
}

pub fn list(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<ChildRow>> {
    visible(scope)
        .filter(children::pseudonymised_at.is_null())
        .order((children::family_name.asc(), children::given_name.asc()))
        .select(ChildRow::as_select())
        .load(conn)
}

pub fn current_accommodation(conn: &mut AnyConnection, child: i64) -> QueryResult<Option<i64>> {
    placements::table
        .filter(placements::child_id.eq(child))
        .filter(placements::to_at.is_null())
        .select(placements::accommodation_id)
        .first(conn)
        .optional()
}

pub fn view(conn: &mut AnyConnection, c: &ChildRow, today: NaiveDate) -> QueryResult<ChildView> {
    let placements: Vec<(i64, String, NaiveDateTime, Option<NaiveDateTime>)> = placements::table
        .inner_join(accommodations::table)
        .filter(placements::child_id.eq(c.id))
        .order(placements::from_at.desc())
        .select((placements::accommodation_id, accommodations::name, placements::from_at, placements::to_at))
        .load(conn)?;
    let social_worker = match c.social_worker_id {
        Some(id) => users::table
            .find(id)
            .select((users::id, users::name, users::email))
            .first::<(i64, String, String)>(conn)
            .optional()?
            .map(|(id, name, email)| SocialWorkerView { id, name, email }),
        None => None,
    };
    let has_photo: bool =
        diesel::select(diesel::dsl::exists(child_photos::table.filter(child_photos::child_id.eq(c.id))))
            .get_result(conn)?;
    let episodes: Vec<(i64, String)> =
        episodes::table.filter(episodes::child_id.eq(c.id)).select((episodes::id, episodes::status)).load(conn)?;
    let open_case_id = episodes.iter().find(|(_, s)| s != Status::Closed.as_str()).map(|(id, _)| *id);
    Ok(ChildView {
        id: c.id,
        given_name: c.given_name.clone(),
        family_name: c.family_name.clone(),
        aliases: json_list(&c.aliases),
        date_of_birth: c.date_of_birth,
        date_of_birth_estimated: c.date_of_birth_estimated,
        age: age_on(c.date_of_birth, today),
        turns_18_on: eighteenth_birthday(c.date_of_birth),
        sex: c.sex.clone(),
        nationality: c.nationality.clone(),
        languages: json_list(&c.languages),
        dossier_number: c.dossier_number.clone(),
        asylum_status: c.asylum_status.clone(),
        responsible_municipality_code: c.responsible_municipality_code.clone(),
        assigning_municipality_code: c.assigning_municipality_code.clone(),
        accommodation_id: placements.iter().find(|p| p.3.is_none()).map(|p| p.0),
        social_worker,
        guardian: Guardian {
            name: c.guardian_name.clone(),
            email: c.guardian_email.clone(),
            phone: c.guardian_phone.clone(),
            language: c.guardian_language.clone(),
        },
        preparedness: json_object(&c.preparedness),
        has_photo,
        preparedness_reviewed_at: c.preparedness_reviewed_at.map(utc),
        asylum_decision: c
            .asylum_decision()
            .map(|(date, outcome)| AsylumDecision { date, outcome: outcome.to_string() }),
        previous_episodes: episodes.iter().filter(|(_, s)| s == Status::Closed.as_str()).count() as i64,
        open_case_id,
        placements: placements
            .into_iter()
            .map(|(id, name, from, to)| PlacementView {
                accommodation_id: id,
                accommodation_name: name,
                from: utc(from),
                to: to.map(utc),
            })
            .collect(),
    })
}

/// All fields of a child that a social worker sets; `None` in an update means "unchanged", `Some(None)`
/// clears. The lists are stored as JSON text and written apart.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = children)]
pub struct ChildFields {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    #[diesel(skip_update)]
    pub aliases: Option<Vec<String>>,
    pub date_of_birth: Option<NaiveDate>,
    pub date_of_birth_estimated: Option<bool>,
    pub sex: Option<String>,
    pub nationality: Option<Option<String>>,
    #[diesel(skip_update)]
    pub languages: Option<Vec<String>>,
    pub dossier_number: Option<Option<String>>,
    pub asylum_status: Option<Option<String>>,
    pub assigning_municipality_code: Option<Option<String>>,
    pub guardian_name: Option<Option<String>>,
    pub guardian_email: Option<Option<String>>,
    pub guardian_phone: Option<Option<String>>,
    pub guardian_language: Option<Option<String>>,
}

pub fn insert(
    conn: &mut AnyConnection,
    f: &ChildFields,
    responsible: &str,
    social_worker: Option<i64>,
    preparedness: &Map<String, Value>,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let now = now.naive_utc();
    let list = |v: &Option<Vec<String>>| serde_json::to_string(&v.clone().unwrap_or_default()).unwrap_or_default();
    diesel::insert_into(children::table)
        .values((
            children::given_name.eq(f.given_name.clone().unwrap_or_default()),
            children::family_name.eq(f.family_name.clone().unwrap_or_default()),
            children::aliases.eq(list(&f.aliases)),
            children::date_of_birth.eq(f.date_of_birth.unwrap_or_default()),
            children::date_of_birth_estimated.eq(f.date_of_birth_estimated.unwrap_or(false)),
            children::sex.eq(f.sex.clone().unwrap_or_else(|| "unknown".into())),
            children::nationality.eq(f.nationality.clone().flatten()),
            children::languages.eq(list(&f.languages)),
            children::dossier_number.eq(f.dossier_number.clone().flatten()),
            children::asylum_status.eq(f.asylum_status.clone().flatten()),
            children::responsible_municipality_code.eq(responsible),
            children::assigning_municipality_code.eq(f.assigning_municipality_code.clone().flatten()),
            children::social_worker_id.eq(social_worker),
            children::guardian_name.eq(f.guardian_name.clone().flatten()),
            children::guardian_email.eq(f.guardian_email.clone().flatten()),
            children::guardian_phone.eq(f.guardian_phone.clone().flatten()),
            children::guardian_language.eq(f.guardian_language.clone().flatten()),
            children::preparedness.eq(Value::Object(preparedness.clone()).to_string()),
            children::created_at.eq(now),
            children::updated_at.eq(now),
        ))
        .returning(children::id)
        .get_result(conn)
}

/// Whether `user` is an active social worker of `municipality`.
pub fn is_social_worker_of(conn: &mut AnyConnection, user: i64, municipality: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .find(user)
            .filter(users::role.eq(crate::domain::role::Role::SocialWorker.as_str()))
            .filter(users::active.eq(true))
            .filter(users::municipality_code.eq(municipality)),
    ))
    .get_result(conn)
}

pub fn set_social_worker(conn: &mut AnyConnection, child: i64, user: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(children::table.find(child))
        .set((children::social_worker_id.eq(user), children::updated_at.eq(now.naive_utc())))
        .execute(conn)
        .map(|_| ())
}

/// The active social workers of a municipality, by name: (id, name).
pub fn social_workers_of(conn: &mut AnyConnection, municipality: &str) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(users::role.eq(crate::domain::role::Role::SocialWorker.as_str()))
        .filter(users::active.eq(true))
        .filter(users::municipality_code.eq(municipality))
        .order(users::name.asc())
        .select((users::id, users::name))
        .load(conn)
}

/// Records that the preparedness sheet was gone through now.
pub fn mark_reviewed(conn: &mut AnyConnection, child: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(children::table.find(child))
        .set(children::preparedness_reviewed_at.eq(now.naive_utc()))
        .execute(conn)
        .map(|_| ())
}

/// Sets or clears the asylum decision.
pub fn set_asylum_decision(
    conn: &mut AnyConnection,
    child: i64,
    d: Option<&AsylumDecision>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(children::table.find(child))
        .set((
            children::asylum_decision_date.eq(d.map(|d| d.date)),
            children::asylum_decision_outcome.eq(d.map(|d| d.outcome.clone())),
            children::asylum_decision_recorded_at.eq(d.map(|_| now.naive_utc())),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The facts the prevention prompts are judged on, for every child in scope with a current placement:
/// (child, facts).
pub fn prevention_facts(
    conn: &mut AnyConnection,
    scope: &Scope,
) -> QueryResult<Vec<(ChildRow, crate::domain::prevention::ChildFacts)>> {
    let rows = list(conn, scope)?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let photos: std::collections::HashMap<i64, NaiveDateTime> = child_photos::table
        .filter(child_photos::child_id.eq_any(&ids))
        .select((child_photos::child_id, child_photos::uploaded_at))
        .load(conn)?
        .into_iter()
        .collect();
    let placed: Vec<(i64, NaiveDateTime, Option<NaiveDateTime>)> = placements::table
        .filter(placements::child_id.eq_any(&ids))
        .select((placements::child_id, placements::from_at, placements::to_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|c| {
            let mine: Vec<_> = placed.iter().filter(|p| p.0 == c.id).collect();
            let current = mine.iter().find(|p| p.2.is_none())?;
            let facts = crate::domain::prevention::ChildFacts {
                registered_at: utc(c.created_at),
                sheet_reviewed_at: c.preparedness_reviewed_at.map(utc),
                photo_uploaded_at: photos.get(&c.id).copied().map(utc),
                moved_at: (mine.len() > 1).then(|| utc(current.1)),
                asylum_decision: c.asylum_decision_date.map(|d| {
                    let day = crate::domain::calendar::start_of_local_day(d);
                    c.asylum_decision_recorded_at.map(utc).map_or(day, |r| r.max(day))
                }),
                eighteenth_birthday: eighteenth_birthday(c.date_of_birth),
            };
            Some((c, facts))
        })
        .collect())
}

/// Changes a child in one statement: the given fields, and the whole preparedness sheet when given.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    f: &ChildFields,
    sheet: Option<&Map<String, Value>>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let json = |l: &Option<Vec<String>>| l.as_ref().map(|l| serde_json::to_string(l).unwrap_or_default());
    diesel::update(children::table.find(id))
        .set((
            f,
            json(&f.aliases).map(|a| children::aliases.eq(a)),
            json(&f.languages).map(|l| children::languages.eq(l)),
            sheet.map(|p| children::preparedness.eq(Value::Object(p.clone()).to_string())),
            children::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Moves the child: closes the current placement (if any, and if different) and opens a new one.
pub fn place(
    conn: &mut AnyConnection,
    child: i64,
    accommodation: i64,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if current_accommodation(conn, child)? == Some(accommodation) {
        return Ok(false);
    }
    diesel::update(placements::table.filter(placements::child_id.eq(child)).filter(placements::to_at.is_null()))
        .set(placements::to_at.eq(now.naive_utc()))
        .execute(conn)?;
    diesel::insert_into(placements::table)
        .values((
            placements::child_id.eq(child),
            placements::accommodation_id.eq(accommodation),
            placements::from_at.eq(now.naive_utc()),
            placements::created_by.eq(by),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn photo(conn: &mut AnyConnection, child: i64) -> QueryResult<Option<(String, Vec<u8>)>> {
    child_photos::table.find(child).select((child_photos::content_type, child_photos::data)).first(conn).optional()
}

pub fn set_photo(
    conn: &mut AnyConnection,
    child: i64,
    ct: &str,
    data: &[u8],
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(child_photos::table.find(child)).execute(conn)?;
    diesel::insert_into(child_photos::table)
        .values((
            child_photos::child_id.eq(child),
            child_photos::content_type.eq(ct),
            child_photos::data.eq(data),
            child_photos::uploaded_at.eq(now.naive_utc()),
            child_photos::uploaded_by.eq(by),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn delete_photo(conn: &mut AnyConnection, child: i64) -> QueryResult<usize> {
    diesel::delete(child_photos::table.find(child)).execute(conn)
}

/// The content type of an image recognised by its first bytes, whatever the client called it.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}
