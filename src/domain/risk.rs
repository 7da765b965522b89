//! Risk levels, indicators and the suggested level (SPEC §2).
//!
//! Suggestion: any trafficking-related indicator or health/medication → `high`; under 15, `no_or_false_id`,
//! a previous episode in the last 90 days, and the two main push factors (a recently rejected asylum
//! application, turning 18 soon; SPEC §7) → at least `medium`; otherwise `low`. The social worker's
//! assessment overrides the suggestion; the suggestion only governs until then.
//!
//! Disclosure: the regional trafficking coordinator hears of a child only for a trafficking-related
//! indicator ([`TRAFFICKING`]), never for a high level from other indicators (SPEC §7).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    None,
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub const NAMES: [&'static str; 4] = ["none", "low", "medium", "high"];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::None => "none",
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<RiskLevel> {
        match s {
            "none" => Some(RiskLevel::None),
            "low" => Some(RiskLevel::Low),
            "medium" => Some(RiskLevel::Medium),
            "high" => Some(RiskLevel::High),
            _ => None,
        }
    }
}

pub const DERIVED: [&str; 3] = ["under_15", "previous_episodes", "turning_18_soon"];
pub const REPORTED: [&str; 12] = [
    "trafficking_suspected",
    "controlled_by_others",
    "unexplained_money_or_goods",
    "no_or_false_id",
    "unknown_adult_contacts",
    "involved_in_crime",
    "asylum_rejected_recently",
    "health_or_medication",
    "substance_misuse",
    "mental_health",
    "threats_or_violence",
    "recent_placement_change",
];
pub const TRAFFICKING: [&str; 4] =
    ["trafficking_suspected", "controlled_by_others", "unexplained_money_or_goods", "unknown_adult_contacts"];

pub fn is_indicator(s: &str) -> bool {
    DERIVED.contains(&s) || REPORTED.contains(&s)
}

/// What is derived from the child's record at the time of the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Derived {
    pub under_15: bool,
    pub previous_episodes: bool,
    pub previous_episode_within_90_days: bool,
    pub turning_18_soon: bool,
}

impl Derived {
    pub fn indicators(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.under_15 {
            v.push("under_15");
        }
        if self.previous_episodes {
            v.push("previous_episodes");
        }
        if self.turning_18_soon {
            v.push("turning_18_soon");
        }
        v
    }
}

/// Reported indicators (derived ones given as input are ignored) plus the derived ones, in list order.
pub fn combine(reported: &[String], d: &Derived) -> Vec<String> {
    let mut out: Vec<String> = d.indicators().into_iter().map(String::from).collect();
    for r in REPORTED {
        if reported.iter().any(|x| x == r) {
            out.push(r.to_string());
        }
    }
    out
}

pub fn suggest(indicators: &[String], d: &Derived) -> RiskLevel {
    let has = |k: &str| indicators.iter().any(|i| i == k);
    if TRAFFICKING.iter().any(|k| has(k)) || has("health_or_medication") {
        RiskLevel::High
    } else if d.under_15
        || has("under_15")
        || has("no_or_false_id")
        || d.previous_episode_within_90_days
        || has("asylum_rejected_recently")
        || d.turning_18_soon
        || has("turning_18_soon")
    {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    }
}

/// Whether any trafficking-related indicator is present: what brings in the coordinator and the step
/// `contact_trafficking_coordinator`.
pub fn trafficking_suspected(indicators: &[String]) -> bool {
    indicators.iter().any(|i| TRAFFICKING.contains(&i.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn suggestion_table() {
        let none = Derived::default();
        assert_eq!(suggest(&s(&[]), &none), RiskLevel::Low);
        for t in TRAFFICKING.iter().chain(["health_or_medication"].iter()) {
            assert_eq!(suggest(&s(&[t]), &none), RiskLevel::High, "{t}");
        }
        assert_eq!(suggest(&s(&["no_or_false_id"]), &none), RiskLevel::Medium);
        assert_eq!(suggest(&s(&[]), &Derived { under_15: true, ..none }), RiskLevel::Medium);
        assert_eq!(suggest(&s(&[]), &Derived { previous_episode_within_90_days: true, ..none }), RiskLevel::Medium);
        // An older previous episode is an indicator but does not raise the level by itself.
        assert_eq!(suggest(&s(&[]), &Derived { previous_episodes: true, ..none }), RiskLevel::Low);
        assert_eq!(suggest(&s(&["substance_misuse", "under_15"]), &none), RiskLevel::Medium);
        // The push factors (SPEC §7).
        assert_eq!(suggest(&s(&["asylum_rejected_recently"]), &none), RiskLevel::Medium);
        assert_eq!(suggest(&s(&[]), &Derived { turning_18_soon: true, ..none }), RiskLevel::Medium);
    }

    #[test]
    fn only_trafficking_indicators_bring_in_the_coordinator() {
        for t in TRAFFICKING {
            assert!(trafficking_suspected(&s(&[t])), "{t}");
        }
        for other in REPORTED.iter().chain(DERIVED.iter()).filter(|i| !TRAFFICKING.contains(i)) {
            assert!(!trafficking_suspected(&s(&[other])), "{other}");
        }
    }

    #[test]
    fn derived_inputs_are_ignored_and_recomputed() {
        let d = Derived { turning_18_soon: true, ..Default::default() };
        assert_eq!(combine(&s(&["under_15", "mental_health", "bogus"]), &d), s(&["turning_18_soon", "mental_health"]));
    }
}
