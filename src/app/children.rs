//! Children: registration, changes, the preparedness sheet and its photo (SPEC §2). Who may: the social
//! worker of the responsible municipality registers and changes children; staff of the child's current
//! accommodation read the child and change only the preparedness sheet and photo. Every change and every
//! read is written to the access log.

use super::input::Input;
use super::{AppError, AppResult};
use crate::auth::AuthUser;
use crate::db::{write_tx, AnyConnection};
use crate::domain::preparedness;
use crate::domain::role::Role;
use crate::domain::validate::is_municipality_code;
use crate::store::audit::{self, Event};
use crate::store::children::{self, ChildFields, ChildView};
use crate::store::org;
use crate::store::scope::Scope;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub const PHOTO_LIMIT_BYTES: u64 = 5 * 1024 * 1024;
pub const SEXES: [&str; 4] = ["male", "female", "other", "unknown"];

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_language(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// An optional field that may be cleared with `null`: absent → None, null → Some(None).
fn clearable(inp: &mut Input, key: &str, max: usize) -> Option<Option<String>> {
    if !inp.has(key) {
        return None;
    }
    Some(inp.opt_str(key, max))
}

/// Reads the child fields; `creating` makes the identity fields required.
pub fn read_fields(inp: &mut Input, creating: bool, today: chrono::NaiveDate) -> ChildFields {
    let mut f = ChildFields::default();
    let text = |inp: &mut Input, key: &str, max: usize| {
        if creating {
            Some(inp.req_str(key, max))
        } else {
            inp.opt_str(key, max)
        }
    };
    f.given_name = text(inp, "given_name", 100);
    f.family_name = text(inp, "family_name", 100);
    if inp.has("aliases") || creating {
        f.aliases = Some(inp.str_list("aliases", 20, 100));
    }
    f.date_of_birth = if creating { Some(inp.req_date("date_of_birth")) } else { inp.opt_date("date_of_birth") };
    if let Some(d) = f.date_of_birth {
        if d > today {
            inp.error("date_of_birth", "may not be in the future");
        } else if children::age_on(d, today) >= 18 {
            inp.error("date_of_birth", "the child must be under 18");
        }
    }
    f.date_of_birth_estimated = inp.opt_bool("date_of_birth_estimated");
    f.sex = if creating { Some(inp.req_enum("sex", &SEXES)) } else { inp.opt_enum("sex", &SEXES) };
    f.nationality = clearable(inp, "nationality", 2).map(|o| o.map(|s| s.to_uppercase()));
    if let Some(Some(n)) = &f.nationality {
        if !is_country(n) {
            inp.error("nationality", "must be an ISO 3166-1 alpha-2 code such as AF");
        }
    }
    if inp.has("languages") || creating {
        let langs: Vec<String> = inp.str_list("languages", 10, 3).into_iter().map(|l| l.to_lowercase()).collect();
        if !langs.iter().all(|l| is_language(l)) {
            inp.error("languages", "must be ISO 639 codes such as sv, ps, prs");
        }
        f.languages = Some(langs);
    }
    f.dossier_number = clearable(inp, "dossier_number", 40);
    f.asylum_status = clearable(inp, "asylum_status", 100);
    f.assigning_municipality_code = clearable(inp, "assigning_municipality_code", 4);
    if let Some(Some(m)) = &f.assigning_municipality_code {
        if !is_municipality_code(m) {
            inp.error("assigning_municipality_code", "must be a 4-digit municipality code");
        }
    }
    if let Some(mut g) = inp.opt_object("guardian") {
        f.guardian_name = clearable(&mut g, "name", 200);
        f.guardian_email = if g.has("email") { Some(g.opt_email("email")) } else { None };
        f.guardian_phone = clearable(&mut g, "phone", 40);
        f.guardian_language = clearable(&mut g, "language", 3).map(|o| o.map(|s| s.to_lowercase()));
        if let Some(Some(l)) = &f.guardian_language {
            if !is_language(l) {
                g.error("language", "must be an ISO 639 code such as sv or en");
            }
        }
        inp.absorb(g);
    }
    f
}

/// Reads a change to the preparedness sheet with the rules of [`preparedness`]; errors go to `inp`.
pub fn read_preparedness(inp: &mut Input) -> Option<Map<String, Value>> {
    let raw = inp.raw("preparedness")?;
    match preparedness::check_change(raw) {
        Ok(m) => Some(m.clone()),
        Err(errors) => {
            for (k, v) in errors {
                inp.error(&k, &v);
            }
            None
        }
    }
}

/// Merges a checked change into a stored sheet; a sheet that would grow past the limit is a 422.
fn merge(into: &mut Map<String, Value>, changes: &Map<String, Value>) -> Result<(), AppError> {
    preparedness::merge(into, changes).map_err(AppError::validation)
}

fn check_municipality(
    c: &mut crate::db::AnyConnection,
    inp: &mut Input,
    key: &str,
    code: Option<&String>,
) -> Result<(), AppError> {
    if let Some(m) = code {
        if inp.ok() && org::municipality_county(c, m)?.is_none() {
            inp.error(key, "no such municipality");
        }
    }
    Ok(())
}

/// The checks that need the database, once the formats are fine: the assigning municipality and the
/// accommodation exist.
fn check_references(
    c: &mut AnyConnection,
    inp: &mut Input,
    fields: &ChildFields,
    accommodation: Option<i64>,
) -> AppResult<()> {
    check_municipality(
        c,
        inp,
        "assigning_municipality_code",
        fields.assigning_municipality_code.as_ref().and_then(|o| o.as_ref()),
    )?;
    if let Some(a) = accommodation {
        if inp.ok() && org::accommodation(c, a)?.is_none() {
            inp.error("accommodation_id", "no such accommodation");
        }
    }
    Ok(())
}

/// Registers a child; the registering social worker's municipality is responsible for it.
pub fn register(c: &mut AnyConnection, user: &AuthUser, mut inp: Input, now: DateTime<Utc>) -> AppResult<ChildView> {
    user.require(&[Role::SocialWorker])?;
    let today = crate::domain::calendar::local_date(now);
    let fields = read_fields(&mut inp, true, today);
    let own = user.municipality_code.clone().unwrap_or_default();
    let responsible = inp.opt_str("responsible_municipality_code", 4).unwrap_or_else(|| own.clone());
    if responsible != own {
        inp.error("responsible_municipality_code", "must be your own municipality");
    }
    let accommodation = inp.opt_id("accommodation_id");
    let mut prep = Map::new();
    if let Some(changes) = read_preparedness(&mut inp) {
        if let Err(e) = preparedness::merge(&mut prep, &changes) {
            inp.errors.extend(e);
        }
    }
    check_references(c, &mut inp, &fields, accommodation)?;
    inp.finish()?;
    write_tx(c, |c| {
        let id = children::insert(c, &fields, &responsible, Some(user.id), &prep, now)?;
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
    id: i64,
    body: Map<String, Value>,
    now: DateTime<Utc>,
) -> AppResult<ChildView> {
    user.require(&[Role::Staff, Role::SocialWorker])?;
    let today = crate::domain::calendar::local_date(now);
    let staff_only_sheet = user.is(Role::Staff) && body.keys().any(|k| k != "preparedness");
    let mut inp = Input::new(body);
    let fields = read_fields(&mut inp, false, today);
    let accommodation = inp.opt_id("accommodation_id");
    let prep = read_preparedness(&mut inp);
    if inp.has("responsible_municipality_code") {
        inp.error("responsible_municipality_code", "cannot be changed; transfer the child instead");
    }
    // Scope first: an out-of-scope child is 404 whatever the body says.
    let row = children::find(c, &Scope::from(user), id)?.ok_or_else(AppError::not_found)?;
    if staff_only_sheet {
        return Err(AppError::forbidden());
    }
    check_references(c, &mut inp, &fields, accommodation)?;
    inp.finish()?;
    write_tx(c, |c| {
        children::update(c, id, &fields, now)?;
        if let Some(changes) = &prep {
            let mut sheet = children::json_object(&row.preparedness);
            merge(&mut sheet, changes)?;
            children::set_preparedness(c, id, &sheet, now)?;
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

/// Uploads or replaces the photo (JPEG or PNG, recognised by content).
pub fn upload_photo(
    c: &mut AnyConnection,
    user: &AuthUser,
    id: i64,
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
