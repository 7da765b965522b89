//! Who may act on an episode: the one place that decides it, for the API, the pages and the CLI alike.
//!
//! Policy (SPEC §1, §7 and API.md "Host municipality"): reading is decided by the scope inside the query
//! (out of scope is 404, never 403). Among those who can see an episode:
//! - the responsible municipality's social worker may do everything;
//! - a social worker of the municipality where the accommodation lies, but not responsible for the child,
//!   has acute responsibility only: read and record `found`, nothing else (403);
//! - staff of the accommodation record `found` and complete the steps whose owner is `staff`;
//! - county officers see the pseudonymised episode and change nothing.

use super::role::Role;

/// How the user stands to one episode they can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Social worker of the responsible municipality.
    Responsible,
    /// Social worker of the municipality where the accommodation lies, not responsible for the child.
    Host,
    /// Staff of the accommodation the episode was reported from.
    Accommodation,
    /// Socialjour serving the responsible municipality: the social worker's work on the open episode until
    /// the morning, but not closing it nor extending its review.
    OnCall,
    /// Anyone else who can see it (a county officer's pseudonymised view).
    Observer,
}

impl Relation {
    /// The relation of a user with `role` and `municipality` to an episode whose child the
    /// `responsible` municipality is in charge of. Staff only ever see their own accommodation's episodes.
    /// `serves` is the municipalities an on-call user serves.
    pub fn of(role: Role, municipality: Option<&str>, serves: &[String], responsible: &str) -> Relation {
        match role {
            Role::SocialWorker if municipality == Some(responsible) => Relation::Responsible,
            Role::SocialWorker => Relation::Host,
            Role::OnCall if serves.iter().any(|m| m == responsible) => Relation::OnCall,
            Role::Staff => Relation::Accommodation,
            _ => Relation::Observer,
        }
    }
}

/// What someone wants to do to an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Complete a step; `staff_step` when the step's owner is `staff`.
    CompleteStep {
        staff_step: bool,
    },
    SkipStep,
    AssessRisk,
    Found,
    Close,
    ExtendReview,
    /// Add to the report what was learnt later (staff of the accommodation too: they know most).
    AddToReport,
    /// Record the return conversation: the responsible municipality's.
    ReturnConversation,
}

/// Whether `relation` may do `act`.
pub fn may(relation: Relation, act: Act) -> bool {
    match relation {
        Relation::Responsible => true,
        Relation::Host => act == Act::Found,
        Relation::OnCall => !matches!(act, Act::Close | Act::ExtendReview),
        Relation::Accommodation => {
            matches!(act, Act::Found | Act::CompleteStep { staff_step: true } | Act::AddToReport)
        }
        Relation::Observer => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTS: [Act; 7] = [
        Act::CompleteStep { staff_step: true },
        Act::CompleteStep { staff_step: false },
        Act::SkipStep,
        Act::AssessRisk,
        Act::Found,
        Act::Close,
        Act::ExtendReview,
    ];

    #[test]
    fn the_host_municipality_may_only_record_found() {
        for act in ACTS {
            assert_eq!(may(Relation::Host, act), act == Act::Found, "{act:?}");
        }
    }

    #[test]
    fn the_responsible_social_worker_may_do_everything_and_observers_nothing() {
        assert!(ACTS.iter().all(|a| may(Relation::Responsible, *a)));
        assert!(ACTS.iter().all(|a| !may(Relation::Observer, *a)));
    }

    #[test]
    fn staff_record_found_and_their_own_steps() {
        let allowed: Vec<Act> = ACTS.into_iter().filter(|a| may(Relation::Accommodation, *a)).collect();
        assert_eq!(allowed, [Act::CompleteStep { staff_step: true }, Act::Found]);
    }

    #[test]
    fn relation_follows_the_responsible_municipality() {
        let none: &[String] = &[];
        assert_eq!(Relation::of(Role::SocialWorker, Some("0180"), none, "0180"), Relation::Responsible);
        assert_eq!(Relation::of(Role::SocialWorker, Some("0184"), none, "0180"), Relation::Host);
        assert_eq!(Relation::of(Role::Staff, None, none, "0180"), Relation::Accommodation);
        assert_eq!(Relation::of(Role::CountyOfficer, None, none, "0180"), Relation::Observer);
        let serves = ["0180".to_string(), "0184".to_string()];
        assert_eq!(Relation::of(Role::OnCall, None, &serves, "0184"), Relation::OnCall);
        assert_eq!(Relation::of(Role::OnCall, None, &serves, "0114"), Relation::Observer);
        assert!(may(Relation::OnCall, Act::AssessRisk) && may(Relation::OnCall, Act::SkipStep));
        assert!(may(Relation::OnCall, Act::Found) && may(Relation::OnCall, Act::ReturnConversation));
        assert!(!may(Relation::OnCall, Act::Close) && !may(Relation::OnCall, Act::ExtendReview));
    }
}
