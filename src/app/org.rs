//! Organisation: accommodations (admin) and the contact directories that say where each notification
//! goes (county: admin or the county's own officer; municipality: admin or the municipality's own social
//! worker). Every change is written to the access log.

use super::command::{Check, Submitted};
use crate::app::{AppError, AppResult};
use crate::auth::AuthUser;
use crate::db::{write_tx, AnyConnection};
use crate::domain::role::Role;
use crate::domain::validate::{is_municipality_code, is_phone};
use crate::store::audit::{self, Event};
use crate::store::org::{
    self, Accommodation, CountyContacts, Mailboxes, MunicipalityContacts, NewAccommodation, ACCOMMODATION_KINDS,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/accommodations` and the admin's accommodation form.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CreateAccommodation {
    #[schema(required = true)]
    pub name: Option<String>,
    /// hvb, stodboende, familjehem, jourhem or other
    #[schema(required = true)]
    pub kind: Option<String>,
    #[schema(required = true)]
    pub municipality_code: Option<String>,
    /// the 24/7 phone
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
}

impl CreateAccommodation {
    pub fn validate(&mut self, ck: &mut Check) {
        ck.req_text("name", &mut self.name, 200);
        ck.one_of("kind", &mut self.kind, &ACCOMMODATION_KINDS);
        ck.required("kind", &self.kind);
        ck.req_text("municipality_code", &mut self.municipality_code, 4);
        if self.municipality_code.as_deref().is_some_and(|m| !is_municipality_code(m)) {
            ck.error("municipality_code", "must be a 4-digit municipality code");
        }
        ck.req_text("phone", &mut self.phone, 40);
        if self.phone.as_deref().is_some_and(|p| !is_phone(p)) {
            ck.error("phone", "not a valid phone number");
        }
        ck.email("email", &mut self.email);
        ck.required("email", &self.email);
    }
}

/// Checks the municipality exists, then stores the accommodation and its access-log entry together.
pub fn create_accommodation(
    c: &mut AnyConnection,
    user: &AuthUser,
    input: Submitted<CreateAccommodation>,
    now: DateTime<Utc>,
) -> AppResult<Accommodation> {
    user.require(&[Role::Admin])?;
    let (a, mut ck) = input.checked(CreateAccommodation::validate);
    let county = match (&a.municipality_code, ck.ok()) {
        (Some(m), true) => org::municipality_county(c, m)?,
        _ => None,
    };
    if ck.ok() && county.is_none() {
        ck.error("municipality_code", "no such municipality");
    }
    ck.finish()?;
    let (Some(name), Some(kind), Some(municipality_code), Some(phone), Some(email)) =
        (a.name, a.kind, a.municipality_code, a.phone, a.email)
    else {
        return Err(AppError::internal());
    };
    let new = NewAccommodation { name, kind, municipality_code, phone, email };
    write_tx(c, |c| {
        let a = org::insert_accommodation(c, &new, now)?;
        audit::append(
            c,
            &user.actor(),
            &Event::new("accommodation_created").on("accommodation", a.id).county(county),
            now,
        )?;
        Ok(a)
    })
}

/// Each mailbox of a directory as the API's rules want it: an email address, given where required.
fn check_mailboxes<T: Mailboxes>(d: &mut T, ck: &mut Check) {
    for (key, v) in T::NAMES.iter().zip(d.mailboxes_mut()) {
        ck.email(key, v);
        if T::REQUIRED.contains(key) {
            ck.required(key, v);
        }
    }
    d.check_more(ck);
}

/// Replaces a directory when the user may (`mine`; otherwise it is "not found"): the rules, then `write`
/// and its access-log entry in one transaction.
fn replace<T: Mailboxes>(
    c: &mut AnyConnection,
    user: &AuthUser,
    mine: bool,
    input: Submitted<T>,
    now: DateTime<Utc>,
    write: impl FnOnce(&mut AnyConnection, &T) -> AppResult<Event>,
) -> AppResult<T> {
    if !mine {
        return Err(AppError::not_found());
    }
    let (contacts, ck) = input.checked(check_mailboxes);
    ck.finish()?;
    write_tx(c, |c| {
        let ev = write(c, &contacts)?;
        audit::append(c, &user.actor(), &ev, now)?;
        Ok(contacts)
    })
}

/// Replaces a county's directory (admin, or a county officer of that county).
pub fn set_county_contacts(
    c: &mut AnyConnection,
    user: &AuthUser,
    county: &str,
    input: Submitted<CountyContacts>,
    now: DateTime<Utc>,
) -> AppResult<CountyContacts> {
    user.require(&[Role::Admin, Role::CountyOfficer])?;
    let mine = !user.is(Role::CountyOfficer) || user.workplace.county_code.as_deref() == Some(county);
    replace(c, user, mine, input, now, |c, k| {
        if org::set_county_contacts(c, county, k)? == 0 {
            return Err(AppError::not_found());
        }
        Ok(Event::new("county_contacts_changed").on("county", county).county(Some(county.to_string())))
    })
}

/// Replaces a municipality's mailboxes (admin, or a social worker of that municipality).
pub fn set_municipality_contacts(
    c: &mut AnyConnection,
    user: &AuthUser,
    code: &str,
    input: Submitted<MunicipalityContacts>,
    now: DateTime<Utc>,
) -> AppResult<MunicipalityContacts> {
    user.require(&[Role::Admin, Role::SocialWorker])?;
    let mine = !user.is(Role::SocialWorker) || user.workplace.municipality_code.as_deref() == Some(code);
    replace(c, user, mine, input, now, |c, k| {
        let county = org::municipality_county(c, code)?.ok_or_else(AppError::not_found)?;
        org::set_municipality_contacts(c, code, k)?;
        Ok(Event::new("municipality_contacts_changed").on("municipality", code).county(Some(county)))
    })
}
