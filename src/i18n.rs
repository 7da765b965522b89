//! The one translation mechanism: a key table per language (Swedish first, English second). Every
//! user-facing text — emails now, pages later — comes from here, so a page or message is never mixed.

use std::collections::BTreeMap;

pub const LANGUAGES: [&str; 2] = ["sv", "en"];

/// `sv` for Swedish, `en` for everything else (a recipient whose language is not Swedish gets English).
pub fn lang_of(code: Option<&str>) -> &'static str {
    match code.map(|c| c.trim().to_ascii_lowercase()) {
        None => "sv",
        Some(c) if c.is_empty() || c == "sv" || c == "swe" => "sv",
        Some(_) => "en",
    }
}

const TABLE: &[(&str, &str, &str)] = &[
    ("app_name", "Saknad", "Saknad"),
    ("subject_case_reported", "Anmälan: barn försvunnet från boende", "Report: child missing from care"),
    ("subject_case_found", "Barnet är återfunnet", "The child has been found"),
    ("subject_case_closed", "Ärendet är avslutat", "The case is closed"),
    ("subject_escalation", "Ej kvitterat – eskalering", "Not acknowledged – escalation"),
    ("subject_reminder", "Påminnelse: försenade steg", "Reminder: overdue steps"),
    ("subject_delivery_failed", "Meddelande kunde inte levereras", "Message could not be delivered"),
    (
        "intro_case_reported",
        "Ett ensamkommande barn har avvikit från sitt boende. Nedan följer anmälan.",
        "An unaccompanied child has gone missing from their accommodation. The report follows.",
    ),
    ("intro_case_found", "Barnet som anmäldes försvunnet är återfunnet.", "The child reported missing has been found."),
    ("intro_case_closed", "Ärendet om det försvunna barnet är avslutat.", "The case of the missing child is closed."),
    (
        "intro_escalation",
        "Ett meddelande om ett försvunnet barn har inte kvitterats i tid och skickas därför till er.",
        "A message about a missing child was not acknowledged in time and is therefore sent to you.",
    ),
    (
        "intro_delivery_failed",
        "Ett meddelande i ärendet kunde inte levereras trots upprepade försök i 48 timmar.",
        "A message in the case could not be delivered despite repeated attempts for 48 hours.",
    ),
    (
        "intro_coordinator",
        "Socialtjänsten har bedömt att barnet kan vara utsatt för människohandel eller har hög risk.",
        "Social services consider that the child may be exposed to trafficking or is at high risk.",
    ),
    ("reference", "Ärendenummer", "Case reference"),
    ("police_reference", "Polisens diarienummer", "Police reference"),
    ("child", "Barnet", "The child"),
    ("name", "Namn", "Name"),
    ("aliases", "Andra namn", "Other names"),
    ("date_of_birth", "Födelsedatum", "Date of birth"),
    ("estimated", "uppskattat", "estimated"),
    ("age", "Ålder", "Age"),
    ("years", "år", "years"),
    ("sex", "Kön", "Sex"),
    ("sex_male", "pojke", "boy"),
    ("sex_female", "flicka", "girl"),
    ("sex_other", "annat", "other"),
    ("sex_unknown", "okänt", "unknown"),
    ("nationality", "Medborgarskap", "Nationality"),
    ("languages", "Språk", "Languages"),
    ("dossier_number", "Migrationsverkets dossiernummer", "Migrationsverket dossier number"),
    ("description", "Signalement", "Description"),
    ("clothing", "Klädsel", "Clothing"),
    ("belongings", "Medtaget", "Belongings taken"),
    ("phone_numbers", "Telefonnummer", "Phone numbers"),
    ("social_media", "Sociala medier", "Social media"),
    ("known_contacts", "Kända kontakter", "Known contacts"),
    ("known_places", "Kända platser", "Known places"),
    ("last_seen", "Senast sedd", "Last seen"),
    ("last_seen_place", "Plats", "Place"),
    ("last_seen_by", "Sedd av", "Seen by"),
    ("discovered_at", "Upptäckt försvunnen", "Discovered missing"),
    ("circumstances", "Omständigheter", "Circumstances"),
    ("search_actions", "Sökåtgärder hittills", "Search done so far"),
    ("possible_whereabouts", "Möjlig vistelseort", "Possible whereabouts"),
    ("whereabouts_known", "Vistelseorten är känd (avviker utan lov)", "Whereabouts known (away without permission)"),
    ("risk", "Risknivå", "Risk level"),
    ("risk_none", "ingen", "none"),
    ("risk_low", "låg", "low"),
    ("risk_medium", "medel", "medium"),
    ("risk_high", "hög", "high"),
    ("indicators", "Riskindikatorer", "Risk indicators"),
    ("health", "Hälsa och medicinering", "Health and medication"),
    ("vulnerabilities", "Sårbarheter", "Vulnerabilities"),
    ("accommodation", "Boende", "Accommodation"),
    ("phone_247", "Telefon dygnet runt", "24/7 phone"),
    ("social_worker", "Ansvarig socialsekreterare", "Responsible social worker"),
    ("municipality", "Kommun", "Municipality"),
    ("found_at", "Återfunnen", "Found"),
    ("found_place", "Plats", "Place"),
    ("closed_at", "Avslutat", "Closed"),
    ("closure_reason", "Skäl", "Reason"),
    ("ack_heading", "Kvittera mottagandet", "Acknowledge receipt"),
    (
        "ack_text",
        "Bekräfta att ni har tagit emot anmälan genom att öppna länken:",
        "Please confirm that you have received this report by opening the link:",
    ),
    (
        "ack_police_text",
        "Öppna länken för att kvittera och ange polisens diarienummer:",
        "Open the link to acknowledge and give the police reference number:",
    ),
    (
        "escalated_because",
        "Eskalerat eftersom mottagaren inte kvitterat",
        "Escalated because the recipient did not acknowledge",
    ),
    ("failed_recipient", "Mottagare som inte nåtts", "Recipient not reached"),
    ("photo_attached", "Foto bifogas.", "Photo attached."),
    ("nmt_line", "NMT:s stödtelefon mot människohandel: 020-390 000", "NMT anti-trafficking support line: 020-390 000"),
    (
        "footer",
        "Detta meddelande innehåller sekretessbelagda uppgifter om ett barn. Vidarebefordra inte.",
        "This message contains confidential information about a child. Do not forward.",
    ),
    ("ack_page_title", "Kvittera meddelande", "Acknowledge message"),
    (
        "ack_page_intro",
        "Bekräfta att ni har tagit emot meddelandet om det försvunna barnet.",
        "Confirm that you have received the message about the missing child.",
    ),
    ("ack_name", "Ert namn", "Your name"),
    (
        "ack_reference_hint",
        "Polisens diarienummer för anmälan, om det finns.",
        "The police reference number of the report, if there is one.",
    ),
    ("ack_submit", "Kvittera", "Acknowledge"),
    ("ack_done_title", "Tack – mottagandet är kvitterat", "Thank you – receipt acknowledged"),
    ("ack_done_text", "Kvittensen är registrerad i ärendet.", "The acknowledgement has been recorded in the case."),
    ("ack_gone_title", "Länken kan inte användas", "This link cannot be used"),
    (
        "ack_gone_text",
        "Länken har redan använts eller har gått ut. Kontakta socialtjänsten om ni behöver mer information.",
        "The link has already been used or has expired. Contact social services if you need more information.",
    ),
    ("not_found_title", "Sidan finns inte", "Page not found"),
    ("not_found_text", "Det finns ingen sida på den här adressen.", "There is no page at this address."),
    ("form_errors", "Rätta följande:", "Please correct the following:"),
    ("required_name", "Ange ert namn.", "Enter your name."),
    ("subject_digest", "Daglig sammanställning: försenade steg", "Daily digest: overdue steps"),
    (
        "intro_reminder",
        "Ett steg i rutinen för ett försvunnet barn är försenat och väntar på er.",
        "A step of the routine for a missing child is overdue and waiting for you.",
    ),
    (
        "intro_digest",
        "Följande steg i rutinen för försvunna barn är fortfarande försenade.",
        "The following steps of the routine for missing children are still overdue.",
    ),
    ("footer_reminder", "Logga in i Saknad för att se ärendet.", "Sign in to Saknad to see the case."),
    ("overdue_by", "försenat", "overdue by"),
    ("step", "Steg", "Step"),
    ("hours_short", "tim", "h"),
    ("minutes_short", "min", "min"),
    ("days_short", "d", "d"),
    ("overdue_steps", "Försenade steg", "Overdue steps"),
    ("due", "Skulle vara klart", "Due"),
    ("recipient_police", "polisen", "the police"),
    ("recipient_guardian", "god man", "the guardian"),
    ("recipient_social_services", "socialtjänsten", "social services"),
    ("recipient_on_call", "socialjouren", "the social services on-call"),
    ("recipient_migrationsverket", "Migrationsverket", "Migrationsverket"),
    ("recipient_assigning_municipality", "anvisningskommunen", "the assigning municipality"),
    ("recipient_trafficking_coordinator", "regionkoordinatorn", "the regional coordinator"),
    ("recipient_county", "länsstyrelsen", "the county administrative board"),
    ("reason_returned", "återvänt", "returned"),
    ("reason_turned_18", "fyllt 18 år", "turned 18"),
    ("reason_left_sweden", "lämnat Sverige", "left Sweden"),
    ("reason_transferred", "överfört till annan kommun", "transferred to another municipality"),
    ("reason_review_period_ended", "utredningstiden har löpt ut", "review period ended"),
    ("reason_deceased", "avlidit", "deceased"),
    ("reason_withdrawn", "anmälan återkallad", "report withdrawn"),
];

/// The whole table for one language, for templates (`t.reference`).
pub fn table(lang: &str) -> BTreeMap<&'static str, &'static str> {
    TABLE.iter().map(|(k, sv, en)| (*k, if lang == "en" { *en } else { *sv })).collect()
}

pub fn t(lang: &str, key: &str) -> &'static str {
    TABLE.iter().find(|(k, _, _)| *k == key).map(|(_, sv, en)| if lang == "en" { *en } else { *sv }).unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_unique_and_every_text_exists_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, sv, en) in super::TABLE {
            assert!(seen.insert(k), "duplicate key {k}");
            assert!(!sv.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(super::lang_of(Some("SV")), "sv");
        assert_eq!(super::lang_of(Some("ar")), "en");
        assert_eq!(super::lang_of(None), "sv");
    }
}
