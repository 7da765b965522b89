//! Who is told of a report (SPEC §1, §4), as a pure function of the facts.
//!
//! Social services: in office hours the responsible social worker and the municipality mailbox, otherwise
//! the on-call (socialjour) mailbox (the municipality mailbox when no on-call address is set). The police,
//! guardian and social services acknowledge; Migrationsverket, the assigning municipality and the
//! trafficking coordinator are informed only. One address gets one message.

crate::code_enum! {
    /// Who a notification is for.
    pub enum RecipientKind {
        Police = "police",
        Guardian = "guardian",
        SocialServices = "social_services",
        OnCall = "on_call",
        Migrationsverket = "migrationsverket",
        AssigningMunicipality = "assigning_municipality",
        TraffickingCoordinator = "trafficking_coordinator",
        County = "county",
        /// A reminder to the person who owns a step.
        Reminder = "reminder",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub kind: RecipientKind,
    pub address: String,
    pub language: String,
    pub ack: bool,
    /// The routine step this message serves.
    pub step_key: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub police: Option<String>,
    pub migrationsverket: Option<String>,
    pub trafficking_coordinator: Option<String>,
    pub guardian: Option<String>,
    pub guardian_language: Option<String>,
    pub social_worker: Option<String>,
    pub social_services: Option<String>,
    pub on_call: Option<String>,
    /// The assigning municipality's social-services mailbox, only when it differs from the responsible one.
    pub assigning_municipality: Option<String>,
}

pub struct Situation {
    pub office_hours: bool,
    pub high_risk: bool,
    pub trafficking_suspected: bool,
}

/// The recipients of a report, police first, and the kinds for which no address is known.
pub fn for_report(d: &Directory, s: &Situation) -> (Vec<Recipient>, Vec<RecipientKind>) {
    let mut out: Vec<Recipient> = Vec::new();
    let mut missing = Vec::new();
    let mut add = |kind: RecipientKind, address: &Option<String>, lang: Option<&str>, ack: bool, step: &'static str| {
        match address.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => {
                if !out.iter().any(|r| r.address.eq_ignore_ascii_case(a)) {
                    out.push(Recipient {
                        kind,
                        address: a.to_string(),
                        language: lang.unwrap_or("sv").to_string(),
                        ack,
                        step_key: step,
                    });
                }
            }
            None => missing.push(kind),
        }
    };
    add(RecipientKind::Police, &d.police, None, true, "police_report");
    add(RecipientKind::Guardian, &d.guardian, d.guardian_language.as_deref(), true, "notify_guardian");
    if s.office_hours {
        if d.social_worker.is_some() {
            add(RecipientKind::SocialServices, &d.social_worker, None, true, "notify_social_services");
        }
        add(RecipientKind::SocialServices, &d.social_services, None, true, "notify_social_services");
    } else {
        let on_call = d.on_call.clone().or_else(|| d.social_services.clone());
        add(RecipientKind::OnCall, &on_call, None, true, "notify_social_services");
    }
    add(RecipientKind::Migrationsverket, &d.migrationsverket, None, false, "notify_migrationsverket");
    if d.assigning_municipality.is_some() {
        add(
            RecipientKind::AssigningMunicipality,
            &d.assigning_municipality,
            None,
            false,
            "notify_assigning_municipality",
        );
    }
    // Only trafficking brings the coordinator in: a child who is high-risk for other reasons is not
    // disclosed to them (SPEC §7).
    if s.trafficking_suspected {
        add(
            RecipientKind::TraffickingCoordinator,
            &d.trafficking_coordinator,
            None,
            false,
            "contact_trafficking_coordinator",
        );
    }
    (out, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        Directory {
            police: Some("polis@x.se".into()),
            migrationsverket: Some("mv@x.se".into()),
            trafficking_coordinator: Some("nmt@x.se".into()),
            guardian: Some("godman@x.se".into()),
            guardian_language: Some("en".into()),
            social_worker: Some("sw@x.se".into()),
            social_services: Some("soc@x.se".into()),
            on_call: Some("jour@x.se".into()),
            assigning_municipality: None,
        }
    }

    fn kinds(r: &[Recipient]) -> Vec<(&str, &str)> {
        r.iter().map(|x| (x.kind.as_str(), x.address.as_str())).collect()
    }

    #[test]
    fn office_hours_low_risk() {
        let (r, missing) =
            for_report(&dir(), &Situation { office_hours: true, high_risk: false, trafficking_suspected: false });
        assert_eq!(
            kinds(&r),
            [
                ("police", "polis@x.se"),
                ("guardian", "godman@x.se"),
                ("social_services", "sw@x.se"),
                ("social_services", "soc@x.se"),
                ("migrationsverket", "mv@x.se")
            ]
        );
        assert!(missing.is_empty());
        assert_eq!(r[1].language, "en");
        assert!(r[0].ack && r[1].ack && r[2].ack && !r[4].ack);
    }

    #[test]
    fn night_high_risk_with_assigning_municipality() {
        let mut d = dir();
        d.assigning_municipality = Some("annan@kommun.se".into());
        d.guardian = None;
        let (r, missing) =
            for_report(&d, &Situation { office_hours: false, high_risk: true, trafficking_suspected: true });
        assert_eq!(
            kinds(&r),
            [
                ("police", "polis@x.se"),
                ("on_call", "jour@x.se"),
                ("migrationsverket", "mv@x.se"),
                ("assigning_municipality", "annan@kommun.se"),
                ("trafficking_coordinator", "nmt@x.se")
            ]
        );
        assert_eq!(missing, [RecipientKind::Guardian]);
    }

    #[test]
    fn a_high_risk_without_trafficking_is_not_disclosed_to_the_coordinator() {
        let (r, _) =
            for_report(&dir(), &Situation { office_hours: true, high_risk: true, trafficking_suspected: false });
        assert!(!r.iter().any(|x| x.kind == RecipientKind::TraffickingCoordinator), "{:?}", kinds(&r));
    }
}
