//! The roles of SPEC §1 and the scope field each one needs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    SocialWorker,
    /// socialjour: the social worker's work on open episodes, at night, for several municipalities
    OnCall,
    CountyOfficer,
    NationalAnalyst,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Staff, Role::SocialWorker, Role::OnCall, Role::CountyOfficer, Role::NationalAnalyst, Role::Admin];
    pub const NAMES: [&'static str; 6] =
        ["staff", "social_worker", "on_call", "county_officer", "national_analyst", "admin"];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::SocialWorker => "social_worker",
            Role::OnCall => "on_call",
            Role::CountyOfficer => "county_officer",
            Role::NationalAnalyst => "national_analyst",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role reaches personal data: children's (staff, social workers, socialjour), pseudonymised
    /// episodes and the access log's names (county officers), or the accounts and directory of everyone
    /// (admin). These need a second factor when `SAKNAD_REQUIRE_MFA` is on; the national analyst sees only
    /// aggregates.
    pub fn reaches_personal_data(self) -> bool {
        !matches!(self, Role::NationalAnalyst)
    }

    /// Whether an account of this role sees children's personal data: creating one, or giving one access
    /// again, is told to the county mailbox (separation of duties, issue #18).
    pub fn sees_children(self) -> bool {
        matches!(self, Role::Staff | Role::SocialWorker | Role::OnCall)
    }

    /// The scope field this role must have (API.md "Organisation").
    pub fn scope_field(self) -> Option<&'static str> {
        match self {
            Role::Staff => Some("accommodation_id"),
            Role::SocialWorker => Some("municipality_code"),
            Role::OnCall => Some("municipality_codes"),
            Role::CountyOfficer => Some("county_code"),
            Role::NationalAnalyst | Role::Admin => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (r, n) in Role::ALL.iter().zip(Role::NAMES) {
            assert_eq!(r.as_str(), n);
            assert_eq!(Role::parse(n), Some(*r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
