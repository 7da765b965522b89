//! How a step's execution compares with its deadline (issue #5): done on time, done late by how much,
//! skipped, still pending, or overdue.

use super::episode::StepStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    OnTime,
    Late,
    Skipped,
    Pending,
    Overdue,
}

/// The outcome and, for late or overdue steps, the minutes past the deadline.
pub fn judge(
    status: StepStatus,
    due: DateTime<Utc>,
    completed: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (Outcome, Option<i64>) {
    match (status, completed) {
        (StepStatus::Skipped, _) => (Outcome::Skipped, None),
        // Within the minute counts as on time: "at report" steps are recorded a moment after the report.
        (StepStatus::Done, Some(at)) if at - due < chrono::Duration::minutes(1) => (Outcome::OnTime, None),
        (StepStatus::Done, Some(at)) => (Outcome::Late, Some((at - due).num_minutes())),
        _ if now > due => (Outcome::Overdue, Some((now - due).num_minutes())),
        _ => (Outcome::Pending, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn outcomes() {
        let due = Utc::now();
        let now = due + Duration::hours(2);
        assert_eq!(judge(StepStatus::Done, due, Some(due), now), (Outcome::OnTime, None));
        assert_eq!(judge(StepStatus::Done, due, Some(due + Duration::seconds(59)), now), (Outcome::OnTime, None));
        assert_eq!(judge(StepStatus::Done, due, Some(due + Duration::minutes(90)), now), (Outcome::Late, Some(90)));
        assert_eq!(judge(StepStatus::Skipped, due, Some(due + Duration::hours(5)), now), (Outcome::Skipped, None));
        assert_eq!(judge(StepStatus::Pending, due, None, now), (Outcome::Overdue, Some(120)));
        assert_eq!(judge(StepStatus::Pending, due, None, due - Duration::minutes(1)), (Outcome::Pending, None));
    }
}
