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
pub const CONDITIONS: [&str; 4] = ["always", "high_risk", "trafficking_suspected", "assigning_municipality_differs"];
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
}

impl StepDef {
    pub fn applies(&self, f: &Facts) -> bool {
        match self.condition.as_str() {
            "always" => true,
            "high_risk" => f.risk == RiskLevel::High,
            "trafficking_suspected" => f.trafficking_suspected,
            "assigning_municipality_differs" => f.assigning_municipality_differs,
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

#[allow(clippy::too_many_arguments)]
fn step(
    key: &str,
    title_sv: &str,
    title_en: &str,
    guidance_sv: &str,
    guidance_en: &str,
    responsible: &str,
    phase: &str,
    deadline: &str,
    high_risk: Option<&str>,
    condition: &str,
    required: bool,
    ack_window: Option<&str>,
) -> StepDef {
    StepDef {
        key: key.into(),
        title_sv: title_sv.into(),
        title_en: title_en.into(),
        guidance_sv: guidance_sv.into(),
        guidance_en: guidance_en.into(),
        responsible: responsible.into(),
        phase: phase.into(),
        anchor: if phase == "found" { "found".into() } else { "discovered".into() },
        deadline: deadline.into(),
        high_risk_deadline: high_risk.map(Into::into),
        condition: condition.into(),
        required,
        ack_window: ack_window.map(Into::into),
    }
}

/// The national default of SPEC §3, given to every county on a new installation.
pub fn national_default() -> Routine {
    let steps = vec![
        step(
            "search_and_contact",
            "Sök i lokalerna och försök nå barnet",
            "Search the premises and try to reach the child",
            "Sök igenom boendet, ring barnet, fråga kamrater och andra boende.",
            "Search the premises, call the child, ask friends and residents.",
            "staff",
            "missing",
            "PT0S",
            None,
            "always",
            true,
            None,
        ),
        step(
            "police_report",
            "Anmäl till polisen och notera polisens diarienummer",
            "Report to the police and record the police reference",
            "Ring 114 14 (112 vid akut fara). Anteckna polisens diarienummer.",
            "Call 114 14 (112 when in acute danger). Record the police reference number.",
            "staff",
            "missing",
            "PT1H",
            Some("PT15M"),
            "always",
            true,
            Some("PT30M"),
        ),
        step(
            "notify_social_services",
            "Underrätta socialtjänsten",
            "Notify social services",
            "Placerande socialsekreterare, eller socialjouren utanför kontorstid. Kvitteras inom en timme.",
            "The placing social worker, or the on-call service outside office hours. Acknowledged within one hour.",
            "system",
            "missing",
            "PT1H",
            None,
            "always",
            true,
            Some("PT1H"),
        ),
        step(
            "notify_guardian",
            "Underrätta god man",
            "Notify the guardian",
            "Den gode mannen underrättas direkt och kvitterar inom ett dygn.",
            "The guardian is informed at once and acknowledges within 24 hours.",
            "system",
            "missing",
            "PT24H",
            None,
            "always",
            true,
            Some("PT24H"),
        ),
        step(
            "notify_migrationsverket",
            "Underrätta Migrationsverket",
            "Notify Migrationsverket",
            "Mottagningsenheten underrättas om avvikandet (identitet och datum).",
            "The reception unit is informed of the disappearance (identity and dates).",
            "system",
            "missing",
            "working_days:1",
            None,
            "always",
            true,
            None,
        ),
        step(
            "notify_assigning_municipality",
            "Underrätta anvisningskommunen",
            "Notify the assigning municipality",
            "När anvisningskommunen är en annan än den ansvariga kommunen.",
            "When the assigning municipality differs from the responsible one.",
            "system",
            "missing",
            "working_days:1",
            None,
            "assigning_municipality_differs",
            true,
            None,
        ),
        step(
            "risk_assessment",
            "Gör en riskbedömning, inklusive indikatorer på människohandel",
            "Assess the risk, including trafficking indicators",
            "Bedöm risknivån med indikatorlistan och motivera bedömningen.",
            "Assess the risk level with the indicator list and give reasons.",
            "social_worker",
            "missing",
            "PT24H",
            Some("PT4H"),
            "always",
            true,
            None,
        ),
        step(
            "contact_trafficking_coordinator",
            "Kontakta regionkoordinatorn mot människohandel",
            "Contact the regional anti-trafficking coordinator",
            "Regionkoordinatorn eller NMT:s stödtelefon 020-390 000.",
            "The regional coordinator or the NMT support line 020-390 000.",
            "social_worker",
            "missing",
            "PT24H",
            None,
            "trafficking_suspected",
            true,
            None,
        ),
        step(
            "lvu_assessment",
            "Bedöm och dokumentera om LVU behövs",
            "Assess and document whether LVU is needed",
            "Bedöm om förutsättningar för vård enligt LVU föreligger.",
            "Assess whether care under the LVU act is needed.",
            "social_worker",
            "missing",
            "P3D",
            Some("PT24H"),
            "always",
            true,
            None,
        ),
        step(
            "review_72h",
            "Uppföljning efter 72 timmar",
            "Review after 72 hours",
            "Kontakta polisen, uppdatera riskbedömningen, dokumentera.",
            "Contact the police, update the risk assessment, document.",
            "social_worker",
            "missing",
            "PT72H",
            None,
            "always",
            false,
            None,
        ),
        step(
            "review_7d",
            "Uppföljning efter 7 dagar",
            "Review after 7 days",
            "Kontakta polisen, uppdatera riskbedömningen, dokumentera.",
            "Contact the police, update the risk assessment, document.",
            "social_worker",
            "missing",
            "P7D",
            None,
            "always",
            false,
            None,
        ),
        step(
            "review_3w",
            "Uppföljning efter 3 veckor",
            "Review after 3 weeks",
            "Kontakta polisen, uppdatera riskbedömningen, dokumentera.",
            "Contact the police, update the risk assessment, document.",
            "social_worker",
            "missing",
            "P21D",
            None,
            "always",
            false,
            None,
        ),
        step(
            "migrationsverket_eservice",
            "Anmäl upphört ansvar i Migrationsverkets e-tjänst",
            "Report end of responsibility in Migrationsverket's e-service",
            "Senast den 7:e i månaden efter avvikandet.",
            "By the 7th of the month after the disappearance.",
            "social_worker",
            "missing",
            "monthly_by:7",
            None,
            "always",
            false,
            None,
        ),
        step(
            "notify_found",
            "Underrätta alla om att barnet är återfunnet, polisen först",
            "Notify everyone that the child is found, police first",
            "Alla som underrättats om avvikandet får besked.",
            "Everyone notified of the disappearance is informed.",
            "system",
            "found",
            "PT0S",
            None,
            "always",
            true,
            None,
        ),
        step(
            "safe_and_well_check",
            "Kontrollera att barnet är i säkerhet och mår bra",
            "Safe and well check",
            "Samtala med barnet och kontrollera hälsa och behov.",
            "Talk with the child and check health and needs.",
            "staff",
            "found",
            "PT24H",
            None,
            "always",
            true,
            None,
        ),
        step(
            "return_conversation",
            "Återkomstsamtal",
            "Return conversation",
            "Genomförs av någon som är oberoende av placeringen.",
            "Held by someone independent of the placement.",
            "social_worker",
            "found",
            "PT72H",
            None,
            "always",
            true,
            None,
        ),
        step(
            "post_return_risk_assessment",
            "Riskbedömning efter återkomst",
            "Risk assessment after return",
            "Bedöm risken för nytt avvikande och behov av skydd.",
            "Assess the risk of another disappearance and the need for protection.",
            "social_worker",
            "found",
            "P7D",
            None,
            "always",
            true,
            None,
        ),
        step(
            "update_care_plan",
            "Uppdatera vårdplanen",
            "Update the care plan",
            "Uppdatera vård- och genomförandeplanen utifrån det som framkommit.",
            "Update the care plan with what has come to light.",
            "social_worker",
            "found",
            "P14D",
            None,
            "always",
            false,
            None,
        ),
    ];
    Routine { review_period: "P3M".into(), steps }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_national_default_is_valid() {
        let r = national_default();
        assert_eq!(validate(&r), BTreeMap::new());
        assert_eq!(r.steps.len(), 18);
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
