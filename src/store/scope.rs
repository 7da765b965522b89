//! What part of the data a user may see (SPEC §1), applied inside every query that touches children or
//! episodes, so that an out-of-scope record is indistinguishable from a missing one.

use crate::domain::role::Role;
use crate::store::users::Workplace;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Staff: children placed at, and episodes reported from, one accommodation.
    Accommodation(i64),
    /// Social worker: children the municipality is responsible for, and episodes it is responsible for or
    /// that happen at its accommodations.
    Municipality(String),
    /// Socialjour: the episodes of children some municipality it serves is responsible for; no children.
    OnCall(Vec<String>),
    /// County officer: the county's episodes, pseudonymised; never children.
    County(String),
    /// Admin, national analyst, or a user whose scope field is missing: nothing personal.
    Nothing,
}

impl Scope {
    pub fn new(role: Role, at: &Workplace) -> Scope {
        match (role, at.county_code.as_deref(), at.municipality_code.as_deref(), at.accommodation_id) {
            (Role::Staff, _, _, Some(a)) => Scope::Accommodation(a),
            (Role::SocialWorker, _, Some(m), _) => Scope::Municipality(m.to_string()),
            (Role::OnCall, _, _, _) if !at.codes().is_empty() => Scope::OnCall(at.codes()),
            (Role::CountyOfficer, Some(c), _, _) => Scope::County(c.to_string()),
            _ => Scope::Nothing,
        }
    }

    /// County officers see pseudonymised records only.
    pub fn pseudonymised(&self) -> bool {
        matches!(self, Scope::County(_))
    }
}
