//! Prevention: what staff and the social worker are prompted to do before a child goes missing (SPEC §7).
//!
//! Policy (issue #16, the counties' routines):
//! - the preparedness sheet is gone through with the child at least every 90 days (from registration when it
//!   never was);
//! - the photo is at most six months old, and there is one;
//! - after a move to a new accommodation, after an asylum decision and in the 30 days before the 18th birthday
//!   — the moments children most often leave — the sheet is gone through again.
//!
//! Going through the sheet (or saving it) answers every prompt but the photo's, which a new photo answers.
//! Pure: the facts and `now` come in, the prompts go out.

use chrono::{DateTime, Duration, NaiveDate, Utc};

pub const SHEET_REVIEW_DAYS: i64 = 90;
pub const PHOTO_MAX_DAYS: i64 = 183;
pub const BEFORE_18_DAYS: i64 = 30;

/// Outcomes of an asylum decision, as recorded on the child.
pub const ASYLUM_OUTCOMES: [&str; 4] = ["granted", "rejected", "dublin_transfer", "other"];
/// A rejection this recent is the push factor `asylum_rejected_recently`.
pub const REJECTION_RECENT_DAYS: i64 = 90;

/// What is known of a child, for its prompts.
#[derive(Debug, Clone, Default)]
pub struct ChildFacts {
    pub registered_at: DateTime<Utc>,
    pub sheet_reviewed_at: Option<DateTime<Utc>>,
    pub photo_uploaded_at: Option<DateTime<Utc>>,
    /// the start of the current placement when it is not the child's first
    pub moved_at: Option<DateTime<Utc>>,
    /// when the asylum decision became known: its day, or when it was recorded if later
    pub asylum_decision: Option<DateTime<Utc>>,
    pub eighteenth_birthday: NaiveDate,
}

/// One thing to do for one child, and since when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: &'static str,
    pub since: DateTime<Utc>,
}

pub const KINDS: [&str; 6] =
    ["sheet_not_reviewed", "photo_missing", "photo_old", "placement_changed", "asylum_decision", "turning_18"];

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    super::calendar::start_of_local_day(d)
}

/// The prompts of one child at `now`, the oldest first.
pub fn prompts(f: &ChildFacts, now: DateTime<Utc>) -> Vec<Prompt> {
    let mut out = Vec::new();
    let reviewed = f.sheet_reviewed_at;
    // A prompt that a review of the sheet answers is open while the sheet was not gone through since.
    let mut sheet = |kind: &'static str, since: DateTime<Utc>| {
        if since <= now && reviewed.is_none_or(|r| r < since) {
            out.push(Prompt { kind, since });
        }
    };
    sheet("sheet_not_reviewed", reviewed.unwrap_or(f.registered_at) + Duration::days(SHEET_REVIEW_DAYS));
    if let Some(m) = f.moved_at {
        sheet("placement_changed", m);
    }
    if let Some(d) = f.asylum_decision {
        sheet("asylum_decision", d);
    }
    let turning = start_of(f.eighteenth_birthday);
    if now < turning {
        sheet("turning_18", turning - Duration::days(BEFORE_18_DAYS));
    }
    match f.photo_uploaded_at {
        None => out.push(Prompt { kind: "photo_missing", since: f.registered_at }),
        Some(p) if now - p > Duration::days(PHOTO_MAX_DAYS) => {
            out.push(Prompt { kind: "photo_old", since: p + Duration::days(PHOTO_MAX_DAYS) })
        }
        Some(_) => {}
    }
    out.sort_by_key(|p| p.since);
    out
}

/// Whether a recorded decision makes the push factor `asylum_rejected_recently` hold on `day`.
pub fn rejected_recently(decision: Option<(NaiveDate, &str)>, day: NaiveDate) -> bool {
    matches!(decision, Some((d, "rejected")) if d <= day && day - d <= Duration::days(REJECTION_RECENT_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().unwrap_or_default()
    }

    fn kinds(f: &ChildFacts, now: DateTime<Utc>) -> Vec<&'static str> {
        prompts(f, now).into_iter().map(|p| p.kind).collect()
    }

    fn child() -> ChildFacts {
        ChildFacts {
            registered_at: at(2026, 1, 1),
            sheet_reviewed_at: None,
            photo_uploaded_at: Some(at(2026, 1, 1)),
            moved_at: None,
            asylum_decision: None,
            eighteenth_birthday: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default(),
        }
    }

    #[test]
    fn the_sheet_is_due_ninety_days_after_registration_or_its_last_review() {
        let mut f = child();
        assert!(kinds(&f, at(2026, 3, 31)).is_empty(), "89 days");
        assert_eq!(kinds(&f, at(2026, 4, 2)), ["sheet_not_reviewed"]);
        f.sheet_reviewed_at = Some(at(2026, 3, 15));
        assert!(kinds(&f, at(2026, 6, 1)).is_empty());
        assert_eq!(prompts(&f, at(2026, 6, 20))[0].since, at(2026, 6, 13));
    }

    #[test]
    fn an_old_or_missing_photo_is_prompted_and_a_review_does_not_answer_it() {
        let mut f = child();
        f.sheet_reviewed_at = Some(at(2026, 7, 10));
        assert!(kinds(&f, at(2026, 7, 1)).is_empty(), "181 days");
        assert_eq!(kinds(&f, at(2026, 7, 5)), ["photo_old"]);
        f.photo_uploaded_at = None;
        assert_eq!(kinds(&f, at(2026, 7, 11)), ["photo_missing"]);
    }

    #[test]
    fn a_move_a_decision_and_the_month_before_18_ask_for_a_review_until_one_is_made() {
        let mut f = child();
        f.sheet_reviewed_at = Some(at(2026, 5, 1));
        f.photo_uploaded_at = Some(at(2026, 5, 1));
        f.moved_at = Some(at(2026, 5, 10));
        f.asylum_decision = Some(at(2026, 5, 12));
        assert_eq!(kinds(&f, at(2026, 5, 13)), ["placement_changed", "asylum_decision"]);
        f.sheet_reviewed_at = Some(at(2026, 5, 13));
        assert!(kinds(&f, at(2026, 5, 14)).is_empty(), "one review answers both");
        f.eighteenth_birthday = NaiveDate::from_ymd_opt(2026, 6, 20).unwrap_or_default();
        assert!(kinds(&f, at(2026, 5, 20)).is_empty(), "31 days before");
        assert_eq!(kinds(&f, at(2026, 5, 23)), ["turning_18"]);
        assert!(kinds(&f, at(2026, 6, 21)).is_empty(), "not after the birthday");
    }

    #[test]
    fn a_rejection_is_recent_for_ninety_days() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let day = |n: i64| d + Duration::days(n);
        assert!(rejected_recently(Some((d, "rejected")), day(90)));
        assert!(!rejected_recently(Some((d, "rejected")), day(91)));
        assert!(!rejected_recently(Some((d, "rejected")), day(-1)), "not before it was made");
        assert!(!rejected_recently(Some((d, "granted")), day(1)));
        assert!(!rejected_recently(None, day(1)));
    }
}
