//! Organisation: accommodations (admin). Every change is written to the access log.

use super::input::Input;
use crate::app::AppResult;
use crate::db::write_tx;
use crate::domain::validate::{is_municipality_code, is_phone};
use crate::store::audit::{self, Event};
use crate::store::org::{self, Accommodation, NewAccommodation, ACCOMMODATION_KINDS};

/// The fields of a new accommodation with their format rules; shared by the API and the admin page.
pub fn read_accommodation(inp: &mut Input) -> NewAccommodation {
    let name = inp.req_str("name", 200);
    let kind = inp.req_enum("kind", &ACCOMMODATION_KINDS);
    let municipality_code = inp.req_str("municipality_code", 4);
    if !municipality_code.is_empty() && !is_municipality_code(&municipality_code) {
        inp.error("municipality_code", "must be a 4-digit municipality code");
    }
    let phone = inp.req_str("phone", 40);
    if !phone.is_empty() && !is_phone(&phone) {
        inp.error("phone", "not a valid phone number");
    }
    let email = inp.req_email("email");
    NewAccommodation { name, kind, municipality_code, phone, email }
}

/// Checks the municipality exists, then stores the accommodation and its access-log entry together.
pub fn create_accommodation(
    c: &mut crate::db::AnyConnection,
    mut inp: Input,
    new: NewAccommodation,
    actor: &crate::store::audit::Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Accommodation> {
    let county = if inp.ok() { org::municipality_county(c, &new.municipality_code)? } else { None };
    if inp.ok() && county.is_none() {
        inp.error("municipality_code", "no such municipality");
    }
    inp.finish()?;
    write_tx(c, |c| {
        let a = org::insert_accommodation(c, &new, now)?;
        audit::append(c, actor, &Event::new("accommodation_created").on("accommodation", a.id).county(county), now)?;
        Ok(a)
    })
}
