//! The routine as data (SPEC §3): an ordered list of step definitions per county and version, the national
//! default, and the rules that turn a definition into a step with a due time.

use super::deadline::{Deadline, IsoDuration};
use super::risk::RiskLevel;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

pub const RESPONSIBLE: [&str; 3] = ["staff", "social_worker", "system"];
pub const PHASES: [&str; 2] = ["missing", "found"];
pub const ANCHORS: [&str; 2] = ["discovered", "found"];
pub const CONDITIONS: [&str; 6] = [
    "always",
    "high_risk",
    "trafficking_suspected",
    "assigning_municipality_differs",
    "repeated_missing",
    "long_term_missing",
];
/// Three disappearances within this many days make the third a repeated one (`repeated_missing`).
pub const REPEATED_WITHIN_DAYS: i64 = 30;
pub const REPEATED_COUNT: usize = 3;
/// Steps the system itself relies on (acknowledgements complete them, closing checks them).
pub const SYSTEM_NEEDS: [&str; 5] =
    ["police_report", "notify_social_services", "notify_guardian", "notify_found", "risk_assessment"];

/// Also a step of the routine a county officer sends: every field has a default so that a missing one is
/// reported as "required" at its path (`app::routines`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepDef {
    pub key: String,
    pub title_sv: String,
    pub title_en: String,
    #[serde(default)]
    pub guidance_sv: String,
    #[serde(default)]
    pub guidance_en: String,
    pub responsible: String,
    pub phase: String,
    pub anchor: String,
    /// ISO 8601 duration, `working_days:N` or `monthly_by:N`.
    pub deadline: String,
    #[serde(default)]
    pub high_risk_deadline: Option<String>,
    pub condition: String,
    pub required: bool,
    /// For notification steps: how long the recipient has to acknowledge before escalation.
    #[serde(default)]
    pub ack_window: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Routine {
    /// ISO 8601 duration after which a long-running episode is due for review (default three months).
    pub review_period: String,
    pub steps: Vec<StepDef>,
}

/// The facts a step's condition is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub risk: RiskLevel,
    pub trafficking_suspected: bool,
    pub assigning_municipality_differs: bool,
    /// The third (or later) disappearance within 30 days.
    pub repeated_missing: bool,
    /// Still missing at the end of the review period (three months in the national default): the clock
    /// adds these steps then, never the report.
    pub long_term_missing: bool,
}

/// Whether a disappearance discovered at `at` is the third within 30 days, given when the child's other
/// episodes were discovered.
pub fn is_repeated(at: DateTime<Utc>, earlier: &[DateTime<Utc>]) -> bool {
    let from = at - chrono::Duration::days(REPEATED_WITHIN_DAYS);
    earlier.iter().filter(|t| **t >= from && **t < at).count() + 1 >= REPEATED_COUNT
}

impl StepDef {
    pub fn applies(&self, f: &Facts) -> bool {
        match self.condition.as_str() {
            "always" => true,
            "high_risk" => f.risk == RiskLevel::High,
            "trafficking_suspected" => f.trafficking_suspected,
            "assigning_municipality_differs" => f.assigning_municipality_differs,
            "repeated_missing" => f.repeated_missing,
            "long_term_missing" => f.long_term_missing,
            _ => false,
        }
    }

    /// The deadline in force at `risk`; a template that was validated always parses.
    pub fn deadline_at(&self, risk: RiskLevel) -> Option<Deadline> {
        let chosen = match (&self.high_risk_deadline, risk) {
            (Some(h), RiskLevel::High) => h.as_str(),
            _ => self.deadline.as_str(),
        };
        Deadline::parse(chosen)
    }

    pub fn due(&self, anchor: DateTime<Utc>, risk: RiskLevel) -> DateTime<Utc> {
        self.deadline_at(risk).map(|d| d.due(anchor)).unwrap_or(anchor)
    }

    pub fn ack_window_duration(&self) -> Option<IsoDuration> {
        self.ack_window.as_deref().and_then(IsoDuration::parse)
    }

    pub fn title(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.title_en
        } else {
            &self.title_sv
        }
    }
}

/// The national default of SPEC §3, given to every county on a new installation. It is kept as data, in the
/// body format of `PUT /api/v1/counties/{code}/routine`, so that it reads as the routine it is.
const NATIONAL_DEFAULT: &str = include_str!("national_default.json");

static PARSED_DEFAULT: std::sync::LazyLock<Routine> = std::sync::LazyLock::new(|| {
    // Embedded at build time and checked by `the_national_default_is_valid`: not input from outside.
    serde_json::from_str(NATIONAL_DEFAULT).expect("the embedded national default routine parses")
});

pub fn national_default() -> Routine {
    PARSED_DEFAULT.clone()
}

const ONE_YEAR_SECONDS: i64 = 366 * 86_400;

/// Every problem of a routine, keyed by field path (`steps[3].deadline`), for a `422`.
pub fn validate(r: &Routine) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    match IsoDuration::parse(&r.review_period) {
        Some(d) if d.max_seconds() > 0 => {}
        _ => {
            errors.insert("review_period".into(), "must be an ISO 8601 duration such as P3M".into());
        }
    }
    if r.steps.is_empty() {
        errors.insert("steps".into(), "must list at least one step".into());
    }
    let mut keys = HashSet::new();
    for (i, s) in r.steps.iter().enumerate() {
        let mut err = |field: &str, reason: &str| {
            errors.entry(format!("steps[{i}].{field}")).or_insert_with(|| reason.to_string());
        };
        let key_ok = !s.key.is_empty()
            && s.key.len() <= 64
            && s.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            err("key", "must be 1–64 characters of a–z, 0–9 and _");
        } else if !keys.insert(s.key.clone()) {
            err("key", "duplicate key");
        }
        if s.title_sv.trim().is_empty() || s.title_sv.len() > 200 {
            err("title_sv", "required, at most 200 characters");
        }
        if s.title_en.trim().is_empty() || s.title_en.len() > 200 {
            err("title_en", "required, at most 200 characters");
        }
        if s.guidance_sv.len() > 4000 || s.guidance_en.len() > 4000 {
            err("guidance", "at most 4000 characters");
        }
        if !RESPONSIBLE.contains(&s.responsible.as_str()) {
            err("responsible", "must be one of: staff, social_worker, system");
        }
        if !PHASES.contains(&s.phase.as_str()) {
            err("phase", "must be missing or found");
        }
        if !ANCHORS.contains(&s.anchor.as_str()) {
            err("anchor", "must be discovered or found");
        } else if s.phase == "missing" && s.anchor == "found" {
            err("anchor", "a missing-phase step cannot be anchored on found");
        }
        if !CONDITIONS.contains(&s.condition.as_str()) {
            err(
                "condition",
                "must be one of: always, high_risk, trafficking_suspected, assigning_municipality_differs",
            );
        }
        for (field, value) in [("deadline", Some(&s.deadline)), ("high_risk_deadline", s.high_risk_deadline.as_ref())] {
            if let Some(v) = value {
                match Deadline::parse(v) {
                    None => err(field, "must be an ISO 8601 duration, working_days:N or monthly_by:N"),
                    Some(d) if d.max_seconds() > ONE_YEAR_SECONDS => err(field, "must be at most a year"),
                    Some(_) => {}
                }
            }
        }
        if let Some(w) = &s.ack_window {
            match IsoDuration::parse(w) {
                None => err("ack_window", "must be an ISO 8601 duration"),
                Some(d) if d.max_seconds() > ONE_YEAR_SECONDS => err("ack_window", "must be at most a year"),
                Some(d) if d.max_seconds() < 60 => err("ack_window", "must be at least one minute"),
                Some(_) => {}
            }
        }
    }
    for needed in SYSTEM_NEEDS {
        if !r.steps.iter().any(|s| s.key == needed) {
            errors.insert("steps".into(), format!("the step {needed} is needed by the system and cannot be removed"));
        }
    }
    errors
}

/// One difference between two versions of a routine, for the version history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Change {
    ReviewPeriod {
        from: String,
        to: String,
    },
    Added {
        key: String,
    },
    Removed {
        key: String,
    },
    /// a field of a step kept by key; `from` and `to` as stored (durations as written, `true`/`false`)
    Changed {
        key: String,
        field: &'static str,
        from: String,
        to: String,
    },
    Reordered,
}

/// What changed from `old` to `new`: steps matched by key, each field compared.
pub fn changes(old: &Routine, new: &Routine) -> Vec<Change> {
    let mut out = Vec::new();
    if old.review_period != new.review_period {
        out.push(Change::ReviewPeriod { from: old.review_period.clone(), to: new.review_period.clone() });
    }
    let fields = |s: &StepDef| -> [(&'static str, String); 11] {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            ("title_sv", s.title_sv.clone()),
            ("title_en", s.title_en.clone()),
            ("guidance_sv", s.guidance_sv.clone()),
            ("guidance_en", s.guidance_en.clone()),
            ("responsible", s.responsible.clone()),
            ("phase", s.phase.clone()),
            ("deadline", s.deadline.clone()),
            ("high_risk_deadline", opt(&s.high_risk_deadline)),
            ("condition", s.condition.clone()),
            ("required", s.required.to_string()),
            ("ack_window", opt(&s.ack_window)),
        ]
    };
    for n in &new.steps {
        match old.steps.iter().find(|o| o.key == n.key) {
            None => out.push(Change::Added { key: n.key.clone() }),
            Some(o) => {
                for ((field, a), (_, b)) in fields(o).into_iter().zip(fields(n)) {
                    if a != b {
                        out.push(Change::Changed { key: n.key.clone(), field, from: a, to: b });
                    }
                }
            }
        }
    }
    for o in old.steps.iter().filter(|o| !new.steps.iter().any(|n| n.key == o.key)) {
        out.push(Change::Removed { key: o.key.clone() });
    }
    let kept = |a: &Routine, b: &Routine| -> Vec<String> {
        a.steps.iter().filter(|s| b.steps.iter().any(|t| t.key == s.key)).map(|s| s.key.clone()).collect()
    };
    if kept(old, new) != kept(new, old) {
        out.push(Change::Reordered);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_third_disappearance_within_thirty_days_is_repeated() {
        let at = |d: i64| DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(d);
        assert!(!is_repeated(at(40), &[at(20)]), "the second is not");
        assert!(is_repeated(at(40), &[at(20), at(10)]), "first on day 10, third on day 40");
        assert!(!is_repeated(at(40), &[at(20), at(9)]), "31 days span three");
        assert!(!is_repeated(at(40), &[at(40), at(20)]), "the episode itself does not count");
        assert!(!is_repeated(at(10), &[at(20), at(30)]), "later episodes do not count");
    }

    #[test]
    fn the_changes_between_two_versions_are_named_step_by_step() {
        let old = national_default();
        assert_eq!(changes(&old, &old), Vec::new());
        let mut new = old.clone();
        new.review_period = "P6M".into();
        new.steps[1].deadline = "PT45M".into();
        new.steps[1].required = false;
        let removed = new.steps.remove(new.steps.len() - 1);
        let mut added = new.steps[0].clone();
        added.key = "call_the_school".into();
        new.steps.push(added);
        new.steps.swap(2, 3);
        let c = changes(&old, &new);
        assert_eq!(
            c,
            vec![
                Change::ReviewPeriod { from: "P3M".into(), to: "P6M".into() },
                Change::Changed {
                    key: "police_report".into(),
                    field: "deadline",
                    from: "PT1H".into(),
                    to: "PT45M".into()
                },
                Change::Changed {
                    key: "police_report".into(),
                    field: "required",
                    from: "true".into(),
                    to: "false".into()
                },
                Change::Added { key: "call_the_school".into() },
                Change::Removed { key: removed.key },
                Change::Reordered,
            ]
        );
    }

    #[test]
    fn the_national_default_is_valid() {
        let r = national_default();
        assert_eq!(validate(&r), BTreeMap::new());
        assert_eq!(r.steps.len(), 21);
    }

    #[test]
    fn every_kind_of_bad_template_is_named() {
        let mut r = national_default();
        r.steps[0].responsible = "police".into();
        r.steps[1].condition = "sometimes".into();
        r.steps[2].deadline = "one hour".into();
        r.steps[3].key = r.steps[4].key.clone();
        r.steps[5].ack_window = Some("P2Y".into());
        r.steps[6].high_risk_deadline = Some("P400D".into());
        let e = validate(&r);
        assert_eq!(
            e.get("steps[0].responsible").map(String::as_str),
            Some("must be one of: staff, social_worker, system")
        );
        assert!(e.contains_key("steps[1].condition"));
        assert!(e.contains_key("steps[2].deadline"));
        assert_eq!(e.get("steps[4].key").map(String::as_str), Some("duplicate key"));
        assert_eq!(e.get("steps[5].ack_window").map(String::as_str), Some("must be at most a year"));
        assert_eq!(e.get("steps[6].high_risk_deadline").map(String::as_str), Some("must be at most a year"));
        let mut r = national_default();
        r.steps.retain(|s| s.key != "police_report");
        assert!(validate(&r).get("steps").is_some_and(|m| m.contains("police_report")));
    }
}
