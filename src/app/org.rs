//! Organisation: accommodations (admin) and the contact directories that say where each notification
//! goes (county: admin or the county's own officer; municipality: admin or the municipality's own social
//! worker). Every change is written to the access log.
//!
//! Separation of duties (issue #18): a directory address must be in its county's allowed email domains
//! (set by the admin; an empty list is not configured yet), and every change of an address is told to the
//! county mailbox and to the address it replaces, so that nobody can quietly send the police's report
//! elsewhere.

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
use crate::store::users;
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

/// Replaces a directory when the user may (`mine`; otherwise it is "not found"): the rules (every address
/// in `county`'s allowed domains), then `write` and its access-log entry and the notices of each changed
/// address in one transaction.
#[allow(clippy::too_many_arguments)]
fn replace<T: Mailboxes + Clone>(
    c: &mut AnyConnection,
    user: &AuthUser,
    mine: bool,
    county: Option<String>,
    before: Option<T>,
    input: Submitted<T>,
    now: DateTime<Utc>,
    write: impl FnOnce(&mut AnyConnection, &T) -> AppResult<Event>,
) -> AppResult<T> {
    let (Some(county), true) = (county, mine) else {
        return Err(AppError::not_found());
    };
    let (mut contacts, mut ck) = input.checked(check_mailboxes);
    let domains = org::allowed_domains(c, &county)?;
    for (key, v) in T::NAMES.iter().zip(contacts.mailboxes_mut()) {
        if v.as_deref().is_some_and(|a| !crate::domain::validate::email_in_domains(a, &domains)) {
            ck.error(key, "not in the county's allowed email domains");
        }
    }
    ck.finish()?;
    let old: Vec<Option<String>> =
        before.map(|mut b| b.mailboxes_mut().into_iter().map(|v| v.clone()).collect()).unwrap_or_default();
    let new: Vec<Option<String>> = contacts.clone().mailboxes_mut().into_iter().map(|v| v.clone()).collect();
    write_tx(c, |c| {
        let ev = write(c, &contacts)?;
        audit::append(c, &user.actor(), &ev, now)?;
        let by = users::by_id(c, user.id)?.map(|u| super::mail::account_label(&u)).unwrap_or_default();
        for (i, key) in T::NAMES.iter().enumerate() {
            let (was, is) = (old.get(i).cloned().flatten(), new.get(i).cloned().flatten());
            // A first address replaces nothing: the access log has it. A changed or removed one is told.
            let Some(was) = was.filter(|w| Some(w) != is.as_ref()) else { continue };
            let f = super::mail::fields(&[
                ("field", key.to_string()),
                ("old", was.clone()),
                ("new", is.clone().unwrap_or_else(|| "–".into())),
                ("by", by.clone()),
            ]);
            super::mail::to_county_mailboxes(
                c,
                Some(std::slice::from_ref(&county)),
                "contact_changed",
                f.clone(),
                now,
            )?;
            super::mail::notice(c, &was, "sv", "contact_replaced", f, now)?;
        }
        Ok(contacts)
    })
}

/// The addresses of `email`'s account are allowed in each of `counties` (a county without a list allows any).
pub fn in_allowed_domains(c: &mut AnyConnection, email: &str, counties: &[String]) -> AppResult<bool> {
    for county in counties {
        let domains = org::allowed_domains(c, county)?;
        if !crate::domain::validate::email_in_domains(email, &domains) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `PUT /api/v1/counties/{code}/allowed-domains`: the email domains the county's directory addresses and
/// accounts must be in.
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AllowedDomains {
    /// e.g. `["polisen.se", "migrationsverket.se", "lansstyrelsen.se", "stockholm.se"]`; empty: not configured
    #[schema(required = true)]
    pub domains: Vec<String>,
}

pub fn allowed_domains(c: &mut AnyConnection, user: &AuthUser, county: &str) -> AppResult<AllowedDomains> {
    user.require(&[Role::Admin, Role::CountyOfficer])?;
    if user.is(Role::CountyOfficer) && user.workplace.county_code.as_deref() != Some(county) {
        return Err(AppError::not_found());
    }
    if !org::county_exists(c, county)? {
        return Err(AppError::not_found());
    }
    Ok(AllowedDomains { domains: org::allowed_domains(c, county)? })
}

/// The admin sets a county's allowed domains; the change is logged and told to the county mailbox.
pub fn set_allowed_domains(
    c: &mut AnyConnection,
    user: &AuthUser,
    county: &str,
    input: Submitted<AllowedDomains>,
    now: DateTime<Utc>,
) -> AppResult<AllowedDomains> {
    user.require(&[Role::Admin])?;
    let (mut d, mut ck) = input.checked(|_, _| {});
    for x in d.domains.iter_mut() {
        *x = x.trim().trim_start_matches('@').to_ascii_lowercase();
    }
    d.domains.sort();
    d.domains.dedup();
    if d.domains.len() > 50 {
        ck.error("domains", "at most 50 items");
    } else if let Some(bad) = d.domains.iter().find(|x| !crate::domain::validate::is_mail_domain(x)) {
        ck.error("domains", format!("not a mail domain: {bad}"));
    }
    ck.finish()?;
    write_tx(c, |c| {
        let before = org::allowed_domains(c, county)?;
        if org::set_allowed_domains(c, county, &d.domains)? == 0 {
            return Err(AppError::not_found());
        }
        let ev = Event::new("allowed_domains_changed")
            .on("county", county)
            .county(Some(county.to_string()))
            .detail(d.domains.join(","));
        audit::append(c, &user.actor(), &ev, now)?;
        let by = users::by_id(c, user.id)?.map(|u| super::mail::account_label(&u)).unwrap_or_default();
        let f = super::mail::fields(&[
            ("old", if before.is_empty() { "–".into() } else { before.join(", ") }),
            ("new", if d.domains.is_empty() { "–".into() } else { d.domains.join(", ") }),
            ("by", by),
        ]);
        super::mail::to_county_mailboxes(c, Some(&[county.to_string()]), "allowed_domains_changed", f, now)?;
        Ok(d)
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
    let before = org::county_contacts(c, county)?;
    let known = before.is_some().then(|| county.to_string());
    let modes = |k: &CountyContacts| -> Vec<String> {
        k.clone().with_defaults().deliveries_mut().into_iter().map(|v| v.clone().unwrap_or_default()).collect()
    };
    let old_modes = before.as_ref().map(modes);
    replace(c, user, mine, known, before, input, now, |c, k| {
        if org::set_county_contacts(c, county, k)? == 0 {
            return Err(AppError::not_found());
        }
        // How messages travel matters as much as where: full mode puts the child's data in the mail.
        let by = users::by_id(c, user.id)?.map(|u| super::mail::account_label(&u)).unwrap_or_default();
        for ((field, was), is) in org::DELIVERY_FIELDS.iter().zip(old_modes.iter().flatten()).zip(modes(k)) {
            if *was != is {
                let f = super::mail::fields(&[
                    ("field", field.to_string()),
                    ("old", was.clone()),
                    ("new", is),
                    ("by", by.clone()),
                ]);
                let here = [county.to_string()];
                super::mail::to_county_mailboxes(c, Some(&here), "contact_changed", f, now)?;
            }
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
    let county = org::municipality_county(c, code)?;
    let before = org::municipality_contacts(c, code)?;
    replace(c, user, mine, county, before, input, now, |c, k| {
        let county = org::municipality_county(c, code)?.ok_or_else(AppError::not_found)?;
        org::set_municipality_contacts(c, code, k)?;
        Ok(Event::new("municipality_contacts_changed").on("municipality", code).county(Some(county)))
    })
}
