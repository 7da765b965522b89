//! The episode state machine (SPEC §2): `missing → found → closed` or `missing → closed`.
//!
//! Policy: every other transition is a conflict. `found_at` may not precede `last_seen_at` nor lie in the
//! future; `withdrawn` needs a note; `returned` needs the child found and no required step pending; any
//! other closure cancels the pending steps with the closure reason.

use chrono::{DateTime, Utc};

pub use super::code::Code;

crate::code_enum! {
    /// An episode's status.
    pub enum Status {
        Missing = "missing",
        Found = "found",
        Closed = "closed",
    }
}

crate::code_enum! {
    /// A routine step's status in an episode: pending until it is done or skipped (closing skips the rest).
    pub enum StepStatus {
        Pending = "pending",
        Done = "done",
        Skipped = "skipped",
    }
}

pub const CLOSURE_REASONS: [&str; 7] =
    ["returned", "turned_18", "left_sweden", "transferred", "review_period_ended", "deceased", "withdrawn"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 409: the transition is not allowed from this state.
    Conflict(&'static str),
    /// 409 `required_steps_pending` with these keys.
    RequiredStepsPending(Vec<String>),
    /// 422 on one field.
    Invalid(&'static str, &'static str),
}

pub fn check_found(
    status: Status,
    last_seen_at: DateTime<Utc>,
    found_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if status != Status::Missing {
        return Err(Refusal::Conflict("the child is not missing"));
    }
    if found_at > now {
        return Err(Refusal::Invalid("found_at", "may not be in the future"));
    }
    if found_at < last_seen_at {
        return Err(Refusal::Invalid("found_at", "may not be before last_seen_at"));
    }
    Ok(())
}

/// What closing does to the steps still pending.
#[derive(Debug, PartialEq, Eq)]
pub enum Closing {
    /// Nothing pending is required; pending optional steps are cancelled too.
    CancelPending,
}

pub fn check_close(
    status: Status,
    reason: &str,
    note: Option<&str>,
    pending_required: &[String],
) -> Result<Closing, Refusal> {
    if !CLOSURE_REASONS.contains(&reason) {
        return Err(Refusal::Invalid("reason", "unknown closure reason"));
    }
    if reason == "withdrawn" && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(Refusal::Invalid("note", "required when the report is withdrawn"));
    }
    match status {
        Status::Closed => Err(Refusal::Conflict("the episode is already closed")),
        Status::Missing if reason == "returned" => {
            Err(Refusal::Conflict("a missing child must be found before closing as returned"))
        }
        Status::Found if reason == "returned" && !pending_required.is_empty() => {
            Err(Refusal::RequiredStepsPending(pending_required.to_vec()))
        }
        _ => Ok(Closing::CancelPending),
    }
}

/// The return conversation (API.md second edition): its outcomes, who held it, why the child left.
pub const RETURN_OUTCOMES: [&str; 3] = ["held", "declined", "not_reached"];
pub const CONDUCTED_BY: [&str; 4] = ["social_worker", "independent", "accommodation_staff", "other"];
pub const LEAVING_REASONS: [&str; 8] = [
    "fear_of_deportation",
    "asylum_decision",
    "turning_18",
    "friends_or_family",
    "placement_conditions",
    "exploited",
    "wants_to_leave_sweden",
    "other",
];
/// How long after the closure the conversation may still be recorded.
pub const RETURN_CONVERSATION_DAYS: i64 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_round_trip<T: Code + PartialEq + std::fmt::Debug + serde::Serialize>() {
        for c in T::ALL {
            assert_eq!(T::parse(c.as_str()), Some(*c));
            // The JSON name and the stored code are one and the same.
            assert_eq!(serde_json::to_value(c).ok(), Some(serde_json::Value::String(c.as_str().into())));
        }
        assert_eq!(T::parse("Pending"), None);
        assert_eq!(T::parse(""), None);
    }

    #[test]
    fn status_codes_round_trip_and_match_their_json_names() {
        codes_round_trip::<Status>();
        codes_round_trip::<StepStatus>();
        codes_round_trip::<crate::domain::recipients::RecipientKind>();
    }
    use chrono::Duration;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = Status> {
        prop_oneof![Just(Status::Missing), Just(Status::Found), Just(Status::Closed)]
    }

    #[test]
    fn found_rules() {
        let now = Utc::now();
        let seen = now - Duration::hours(5);
        assert_eq!(check_found(Status::Missing, seen, now - Duration::hours(1), now), Ok(()));
        assert_eq!(check_found(Status::Found, seen, now, now), Err(Refusal::Conflict("the child is not missing")));
        assert!(matches!(
            check_found(Status::Missing, seen, seen - Duration::seconds(1), now),
            Err(Refusal::Invalid("found_at", _))
        ));
        assert!(matches!(
            check_found(Status::Missing, seen, now + Duration::seconds(1), now),
            Err(Refusal::Invalid("found_at", _))
        ));
    }

    #[test]
    fn close_rules() {
        assert!(check_close(Status::Missing, "returned", None, &[]).is_err());
        assert_eq!(check_close(Status::Found, "returned", None, &[]), Ok(Closing::CancelPending));
        assert_eq!(
            check_close(Status::Found, "returned", None, &["return_conversation".into()]),
            Err(Refusal::RequiredStepsPending(vec!["return_conversation".into()]))
        );
        assert_eq!(
            check_close(Status::Missing, "withdrawn", None, &[]),
            Err(Refusal::Invalid("note", "required when the report is withdrawn"))
        );
        assert_eq!(check_close(Status::Missing, "withdrawn", Some("wrong child"), &[]), Ok(Closing::CancelPending));
        assert_eq!(check_close(Status::Missing, "turned_18", None, &["x".into()]), Ok(Closing::CancelPending));
        assert!(matches!(check_close(Status::Missing, "bored", None, &[]), Err(Refusal::Invalid("reason", _))));
    }

    proptest! {
        /// Walking any sequence of found/close events never leaves the three legal paths.
        #[test]
        fn only_legal_paths(events in proptest::collection::vec((any::<bool>(), 0usize..7, any::<bool>()), 0..8), start in status()) {
            let now = Utc::now();
            let mut s = start;
            let mut path = vec![s];
            for (is_found, reason_idx, pending) in events {
                let next = if is_found {
                    check_found(s, now - Duration::hours(1), now, now).map(|_| Status::Found)
                } else {
                    let p: Vec<String> = if pending { vec!["k".into()] } else { vec![] };
                    check_close(s, CLOSURE_REASONS[reason_idx], Some("note"), &p).map(|_| Status::Closed)
                };
                if let Ok(n) = next {
                    prop_assert!(matches!((s, n), (Status::Missing, Status::Found) | (Status::Missing, Status::Closed) | (Status::Found, Status::Closed)));
                    s = n;
                    path.push(s);
                }
            }
            prop_assert!(path.windows(2).all(|w| w[0] != Status::Closed));
        }
    }
}
