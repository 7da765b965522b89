//! Counties, municipalities, accommodations and their contact directories.

use crate::db::schema::{accommodations, counties, municipalities};
use crate::db::AnyConnection;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = counties)]
pub struct County {
    pub code: String,
    pub letter: String,
    pub name: String,
}

/// Also the body of its `PUT` (a typed command: `app::org`).
#[derive(Debug, Clone, Default, Queryable, Selectable, AsChangeset, Serialize, Deserialize, utoipa::ToSchema)]
#[diesel(table_name = counties, treat_none_as_null = true)]
#[serde(default)]
pub struct CountyContacts {
    #[schema(required = true)]
    pub police_email: Option<String>,
    pub police_fallback_email: Option<String>,
    pub migrationsverket_email: Option<String>,
    pub trafficking_coordinator_email: Option<String>,
    #[schema(required = true)]
    pub county_email: Option<String>,
}

/// A directory of mailboxes (a county's, a municipality's): every address is an email address, some must be
/// given. The API's rules, the page's form and the required markers all read this one list.
pub trait Mailboxes {
    const NAMES: &'static [&'static str];
    const REQUIRED: &'static [&'static str];
    fn mailboxes_mut(&mut self) -> Vec<&mut Option<String>>;
}

impl Mailboxes for CountyContacts {
    const NAMES: &'static [&'static str] = &[
        "police_email",
        "police_fallback_email",
        "migrationsverket_email",
        "trafficking_coordinator_email",
        "county_email",
    ];
    const REQUIRED: &'static [&'static str] = &["police_email", "county_email"];
    fn mailboxes_mut(&mut self) -> Vec<&mut Option<String>> {
        let c = self;
        vec![
            &mut c.police_email,
            &mut c.police_fallback_email,
            &mut c.migrationsverket_email,
            &mut c.trafficking_coordinator_email,
            &mut c.county_email,
        ]
    }
}

impl Mailboxes for MunicipalityContacts {
    const NAMES: &'static [&'static str] = &["social_services_email", "on_call_email"];
    const REQUIRED: &'static [&'static str] = &["social_services_email"];
    fn mailboxes_mut(&mut self) -> Vec<&mut Option<String>> {
        vec![&mut self.social_services_email, &mut self.on_call_email]
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = municipalities)]
pub struct Municipality {
    pub code: String,
    pub name: String,
}

/// Also the body of its `PUT` (a typed command: `app::org`).
#[derive(Debug, Clone, Default, Queryable, Selectable, AsChangeset, Serialize, Deserialize, utoipa::ToSchema)]
#[diesel(table_name = municipalities, treat_none_as_null = true)]
#[serde(default)]
pub struct MunicipalityContacts {
    #[schema(required = true)]
    pub social_services_email: Option<String>,
    pub on_call_email: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = accommodations)]
pub struct Accommodation {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub municipality_code: String,
    pub phone: String,
    pub email: String,
    pub active: bool,
}

pub const ACCOMMODATION_KINDS: [&str; 5] = ["hvb", "stodboende", "familjehem", "jourhem", "other"];

pub fn list_counties(conn: &mut AnyConnection) -> QueryResult<Vec<County>> {
    counties::table.order(counties::code.asc()).select(County::as_select()).load(conn)
}

pub fn county_exists(conn: &mut AnyConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(counties::table.filter(counties::code.eq(code)))).get_result(conn)
}

pub fn county(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<County>> {
    counties::table.find(code).select(County::as_select()).first(conn).optional()
}

pub fn municipalities_of(conn: &mut AnyConnection, county: &str) -> QueryResult<Vec<Municipality>> {
    municipalities::table
        .filter(municipalities::county_code.eq(county))
        .order(municipalities::code.asc())
        .select(Municipality::as_select())
        .load(conn)
}

/// A county with its municipalities, for the pickers that name a municipality.
#[derive(Debug, Clone, Serialize)]
pub struct CountyMunicipalities {
    pub code: String,
    pub name: String,
    pub municipalities: Vec<Municipality>,
}

/// Every county with its municipalities, counties and municipalities by code (two queries).
pub fn municipalities_by_county(conn: &mut AnyConnection) -> QueryResult<Vec<CountyMunicipalities>> {
    let all: Vec<(String, Municipality)> = municipalities::table
        .order(municipalities::code.asc())
        .select((municipalities::county_code, Municipality::as_select()))
        .load(conn)?;
    Ok(list_counties(conn)?
        .into_iter()
        .map(|c| CountyMunicipalities {
            municipalities: all.iter().filter(|(k, _)| *k == c.code).map(|(_, m)| m.clone()).collect(),
            code: c.code,
            name: c.name,
        })
        .collect())
}

pub fn municipality(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<Municipality>> {
    municipalities::table.find(code).select(Municipality::as_select()).first(conn).optional()
}

pub fn municipality_county(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<String>> {
    municipalities::table.find(code).select(municipalities::county_code).first(conn).optional()
}

pub fn county_contacts(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<CountyContacts>> {
    counties::table.find(code).select(CountyContacts::as_select()).first(conn).optional()
}

pub fn set_county_contacts(conn: &mut AnyConnection, code: &str, c: &CountyContacts) -> QueryResult<usize> {
    diesel::update(counties::table.find(code)).set(c).execute(conn)
}

pub fn municipality_contacts(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<MunicipalityContacts>> {
    municipalities::table.find(code).select(MunicipalityContacts::as_select()).first(conn).optional()
}

pub fn set_municipality_contacts(conn: &mut AnyConnection, code: &str, c: &MunicipalityContacts) -> QueryResult<usize> {
    diesel::update(municipalities::table.find(code)).set(c).execute(conn)
}

pub struct NewAccommodation {
    pub name: String,
    pub kind: String,
    pub municipality_code: String,
    pub phone: String,
    pub email: String,
}

pub fn insert_accommodation(
    conn: &mut AnyConnection,
    a: &NewAccommodation,
    now: DateTime<Utc>,
) -> QueryResult<Accommodation> {
    diesel::insert_into(accommodations::table)
        .values((
            accommodations::name.eq(&a.name),
            accommodations::kind.eq(&a.kind),
            accommodations::municipality_code.eq(&a.municipality_code),
            accommodations::phone.eq(&a.phone),
            accommodations::email.eq(&a.email),
            accommodations::active.eq(true),
            accommodations::created_at.eq(now.naive_utc()),
        ))
        .returning(accommodations::id)
        .get_result::<i64>(conn)
        .and_then(|id| accommodations::table.find(id).select(Accommodation::as_select()).first(conn))
}

pub fn accommodation(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Accommodation>> {
    accommodations::table.find(id).select(Accommodation::as_select()).first(conn).optional()
}

/// Accommodations, optionally only those in one municipality or county.
pub fn list_accommodations(
    conn: &mut AnyConnection,
    municipality: Option<&str>,
    county: Option<&str>,
) -> QueryResult<Vec<Accommodation>> {
    let mut q = accommodations::table
        .inner_join(municipalities::table)
        .select(Accommodation::as_select())
        .order(accommodations::id.asc())
        .into_boxed();
    if let Some(m) = municipality {
        q = q.filter(accommodations::municipality_code.eq(m.to_string()));
    }
    if let Some(c) = county {
        q = q.filter(municipalities::county_code.eq(c.to_string()));
    }
    q.load(conn)
}
