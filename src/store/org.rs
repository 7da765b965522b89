//! Counties, municipalities, accommodations and their contact directories.

use crate::db::schema::{accommodations, counties, municipalities};
use crate::db::AnyConnection;
use crate::domain::code::Code;
use crate::domain::delivery::Mode;
use crate::domain::recipients::RecipientKind;
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
    /// `full` or `notice` (SPEC §7); unset is the default: `full`
    pub police_delivery: Option<String>,
    /// `full` or `notice`; unset is `full`
    pub social_services_delivery: Option<String>,
    /// `full` or `notice`; unset is `full`
    pub on_call_delivery: Option<String>,
    /// `full` or `notice`; unset is `notice`
    pub guardian_delivery: Option<String>,
    /// `full` or `notice`; unset is `full`
    pub migrationsverket_delivery: Option<String>,
    /// `full` or `notice`; unset is `full`
    pub assigning_municipality_delivery: Option<String>,
    /// `full` or `notice`; unset is `notice`
    pub trafficking_coordinator_delivery: Option<String>,
}

impl CountyContacts {
    /// The configured mode for `kind`, if the county chose one.
    pub fn delivery(&self, kind: RecipientKind) -> Option<Mode> {
        use RecipientKind as K;
        let v = match kind {
            K::Police => &self.police_delivery,
            K::SocialServices => &self.social_services_delivery,
            K::OnCall => &self.on_call_delivery,
            K::Guardian => &self.guardian_delivery,
            K::Migrationsverket => &self.migrationsverket_delivery,
            K::AssigningMunicipality => &self.assigning_municipality_delivery,
            K::TraffickingCoordinator => &self.trafficking_coordinator_delivery,
            K::County | K::Reminder => return None,
        };
        v.as_deref().and_then(Mode::parse)
    }

    /// The modes as fields (`police_delivery`, …), unset ones filled with the default, for forms and `GET`.
    pub fn with_defaults(mut self) -> Self {
        for (kind, v) in crate::domain::delivery::CONFIGURABLE.into_iter().zip(self.deliveries_mut()) {
            if v.as_deref().and_then(Mode::parse).is_none() {
                *v = Some(crate::domain::delivery::default_for(kind).as_str().to_string());
            }
        }
        self
    }

    pub fn deliveries_mut(&mut self) -> [&mut Option<String>; 7] {
        let c = self;
        [
            &mut c.police_delivery,
            &mut c.social_services_delivery,
            &mut c.on_call_delivery,
            &mut c.guardian_delivery,
            &mut c.migrationsverket_delivery,
            &mut c.assigning_municipality_delivery,
            &mut c.trafficking_coordinator_delivery,
        ]
    }
}

/// The field of a recipient kind's mode (`guardian_delivery`), in `CONFIGURABLE` order.
pub const DELIVERY_FIELDS: [&str; 7] = [
    "police_delivery",
    "social_services_delivery",
    "on_call_delivery",
    "guardian_delivery",
    "migrationsverket_delivery",
    "assigning_municipality_delivery",
    "trafficking_coordinator_delivery",
];

/// A directory of mailboxes (a county's, a municipality's): every address is an email address, some must be
/// given. The API's rules, the page's form and the required markers all read this one list.
pub trait Mailboxes {
    const NAMES: &'static [&'static str];
    const REQUIRED: &'static [&'static str];
    fn mailboxes_mut(&mut self) -> Vec<&mut Option<String>>;
    /// The directory's other fields' rules, beside its addresses.
    fn check_more(&mut self, _ck: &mut crate::app::command::Check) {}
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
    fn check_more(&mut self, ck: &mut crate::app::command::Check) {
        let codes: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
        for (key, v) in DELIVERY_FIELDS.iter().zip(self.deliveries_mut()) {
            ck.one_of(key, v, &codes);
        }
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

/// Every county's mailbox that is set: (county code, address).
pub fn county_mailboxes(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>)> =
        counties::table.order(counties::code).select((counties::code, counties::county_email)).load(conn)?;
    Ok(rows.into_iter().filter_map(|(c, e)| e.filter(|e| !e.trim().is_empty()).map(|e| (c, e))).collect())
}

/// The email domains the county's directory addresses and accounts must be in (empty: not configured).
pub fn allowed_domains(conn: &mut AnyConnection, code: &str) -> QueryResult<Vec<String>> {
    let raw: Option<String> =
        counties::table.find(code).select(counties::allowed_email_domains).first(conn).optional()?;
    Ok(raw.map(|r| super::children::json_list(&r)).unwrap_or_default())
}

pub fn set_allowed_domains(conn: &mut AnyConnection, code: &str, domains: &[String]) -> QueryResult<usize> {
    let json = serde_json::to_string(domains).unwrap_or_else(|_| "[]".into());
    diesel::update(counties::table.find(code)).set(counties::allowed_email_domains.eq(json)).execute(conn)
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
