//! The one translation mechanism: a key table per language (Swedish first, English second). Every
//! user-facing text — emails and pages — comes from `i18n/texts.tsv` (key, Swedish, English), so a page or
//! message is never mixed and translators edit a table, not code.

pub mod names;

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

pub const LANGUAGES: [&str; 2] = ["sv", "en"];

/// `sv` for Swedish, `en` for everything else (a recipient whose language is not Swedish gets English).
pub fn lang_of(code: Option<&str>) -> &'static str {
    match code.map(|c| c.trim().to_ascii_lowercase()) {
        None => "sv",
        Some(c) if c.is_empty() || c == "sv" || c == "swe" => "sv",
        Some(_) => "en",
    }
}

/// The table as shipped in the binary: (key, Swedish, English) in file order.
const SOURCE: &str = include_str!("i18n/texts.tsv");

fn rows() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    SOURCE.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).filter_map(|l| {
        let mut cols = l.split('\t');
        Some((cols.next()?, cols.next()?, cols.next()?))
    })
}

static TABLE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| rows().map(|(k, sv, en)| (k, (sv, en))).collect());

/// The whole table for one language, for templates (`t.reference`).
pub fn table(lang: &str) -> BTreeMap<&'static str, &'static str> {
    TABLE.iter().map(|(k, (sv, en))| (*k, if lang == "en" { *en } else { *sv })).collect()
}

pub fn t(lang: &str, key: &str) -> &'static str {
    TABLE.get(key).map(|(sv, en)| if lang == "en" { *en } else { *sv }).unwrap_or("")
}

/// Why a field was refused, in the page's language. The API's reasons are English (API.md); a person reads
/// them in Swedish too: fixed reasons come from the table (`why:` keys), the few with a number or a list are
/// composed here. A reason the table does not know is shown as it is.
pub fn reason(lang: &str, why: &str) -> String {
    if let Some((sv, en)) = TABLE.get(format!("why:{why}").as_str()) {
        return if lang == "en" { (*en).to_string() } else { (*sv).to_string() };
    }
    if lang == "en" {
        return why.to_string();
    }
    let number = |prefix: &str, suffix: &str| {
        why.strip_prefix(prefix)?
            .strip_suffix(suffix)
            .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_string)
    };
    if let Some(n) = number("at most ", " characters") {
        return format!("Högst {n} tecken");
    }
    if let Some(n) = number("at least ", " characters") {
        return format!("Minst {n} tecken");
    }
    if let Some(n) = number("at most ", " items").or_else(|| number("at most ", " fields")) {
        return format!("Högst {n} val");
    }
    if let Some(n) = number("at most ", " steps") {
        return format!("Högst {n} steg");
    }
    if why.starts_with("must be one of") || why.starts_with("must be some of") || why.starts_with("unknown ") {
        return "Välj ett av alternativen".to_string();
    }
    if let Some(d) = why.strip_prefix("not a mail domain: ") {
        return format!("Inte en e-postdomän: {d}");
    }
    if why.starts_with("the step ") && why.ends_with("cannot be removed") {
        return "Steget behövs av systemet och kan inte tas bort".to_string();
    }
    why.to_string()
}

/// A deadline as a person says it: "1 timme", "3 arbetsdagar", "senast den 7 nästa månad", "genast".
/// A text that is no deadline is shown as it is.
pub fn duration(lang: &str, s: &str) -> String {
    match crate::domain::deadline::pick(s) {
        None => s.to_string(),
        Some((0, "minutes")) => t(lang, "at_once").to_string(),
        Some((n, "monthly_by")) => t(lang, "by_day_next_month").replace("{n}", &n.to_string()),
        Some((1, unit)) => format!("1 {}", t(lang, &format!("unit_{unit}_one"))),
        Some((n, unit)) => format!("{n} {}", t(lang, &format!("unit_{unit}"))),
    }
}

/// A month as people write it: `2026-03` is "mars 2026" / "March 2026".
pub fn month(lang: &str, ym: &str) -> String {
    let Some((y, m)) = ym.split_once('-') else { return ym.to_string() };
    match m.parse::<u32>().ok().filter(|m| (1..=12).contains(m)) {
        Some(m) => format!("{} {y}", t(lang, &format!("month_{m}"))),
        None => ym.to_string(),
    }
}

/// A step by its title in the reader's language: the national default's; a county's own step by its key.
pub fn step_title(lang: &str, key: &str) -> String {
    let titles = crate::domain::routine::national_default().steps;
    titles.iter().find(|d| d.key == key).map_or(key.to_string(), |d| d.title(lang).to_string())
}

/// A note as a person reads it: the notes the system writes (`note:` keys, and "cancelled: episode closed
/// (reason)") in the page's language; a note a person wrote, as written.
pub fn note(lang: &str, note: &str) -> String {
    if let Some((sv, en)) = TABLE.get(format!("note:{note}").as_str()) {
        return if lang == "en" { (*en).to_string() } else { (*sv).to_string() };
    }
    if let Some(reason) = note.strip_prefix("cancelled: episode closed (").and_then(|r| r.strip_suffix(')')) {
        return format!("{} ({})", t(lang, "note_cancelled"), t(lang, &format!("reason_{reason}")));
    }
    note.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_unique_and_every_text_exists_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for line in super::SOURCE.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "{line}");
            assert!(seen.insert(cols[0]), "duplicate key {}", cols[0]);
            assert!(cols.iter().all(|c| !c.trim().is_empty()), "{line}");
        }
        assert!(seen.len() > 200);
        assert_eq!(super::t("en", "save"), "Save");
        assert_eq!(super::t("sv", "save"), "Spara");
        assert_eq!(super::lang_of(Some("SV")), "sv");
        assert_eq!(super::lang_of(Some("ar")), "en");
        assert_eq!(super::lang_of(None), "sv");
    }

    /// Every kind of timeline event the code writes (`event(conn, episode, now, "kind", …)`) has a label: the
    /// case page shows the label, and an empty one hid what happened.
    #[test]
    fn every_timeline_event_and_access_log_action_written_has_a_label() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut sources = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut sources);
        let mut kinds = std::collections::BTreeSet::new();
        for src in
            sources.iter().filter(|s| !s.contains("fn every_timeline_event_and_access_log_action_written_has_a_label"))
        {
            for (at, _) in src.match_indices("event(") {
                let before = src[..at].chars().last().unwrap_or(' ');
                if before.is_alphanumeric() || before == '_' {
                    continue;
                }
                let call = &src[at + 6..];
                let args: Vec<&str> = call.split(',').take(4).map(str::trim).collect();
                if let Some(k) = args.get(3).and_then(|a| a.strip_prefix('"')).and_then(|a| a.strip_suffix('"')) {
                    assert!(k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()), "{k}");
                    kinds.insert(k.to_string());
                }
            }
        }
        kinds.extend(["notification_failed".to_string(), "notification_gave_up".to_string()]);
        assert!(kinds.len() > 15, "{kinds:?}");
        let missing: Vec<&String> = kinds.iter().filter(|k| super::t("sv", &format!("event_{k}")).is_empty()).collect();
        assert!(missing.is_empty(), "timeline events without a label: {missing:?}");
        // And every access-log action (`Event::new("action")`), which the access-log review shows by name.
        let mut actions = std::collections::BTreeSet::new();
        for src in
            sources.iter().filter(|s| !s.contains("fn every_timeline_event_and_access_log_action_written_has_a_label"))
        {
            for part in src.split("Event::new(\"").skip(1) {
                if let Some(a) =
                    part.split('"').next().filter(|a| a.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                {
                    actions.insert(a.to_string());
                }
            }
        }
        assert!(actions.len() > 20, "{actions:?}");
        let missing: Vec<&String> =
            actions.iter().filter(|a| super::t("sv", &format!("action_{a}")).is_empty()).collect();
        assert!(missing.is_empty(), "access-log actions without a label: {missing:?}");
    }

    #[test]
    fn a_month_reads_as_a_name() {
        assert_eq!(super::month("sv", "2026-03"), "mars 2026");
        assert_eq!(super::month("en", "2026-12"), "December 2026");
        assert_eq!(super::month("sv", "2026-13"), "2026-13");
    }

    #[test]
    fn a_deadline_reads_as_people_say_it() {
        assert_eq!(super::duration("sv", "PT1H"), "1 timme");
        assert_eq!(super::duration("sv", "PT15M"), "15 minuter");
        assert_eq!(super::duration("en", "working_days:1"), "1 working day");
        assert_eq!(super::duration("sv", "monthly_by:7"), "senast den 7 nästa månad");
        assert_eq!(super::duration("sv", "PT0S"), "genast");
        assert_eq!(super::duration("en", "P3M"), "3 months");
    }

    #[test]
    fn a_refusal_reads_in_the_pages_language() {
        assert_eq!(super::reason("sv", "required"), "Fyll i fältet");
        assert_eq!(super::reason("en", "required"), "Required");
        assert_eq!(super::reason("sv", "at most 200 characters"), "Högst 200 tecken");
        assert_eq!(super::reason("sv", "at least 12 characters"), "Minst 12 tecken");
        assert_eq!(super::reason("sv", "must be one of: staff, social_worker"), "Välj ett av alternativen");
        assert_eq!(super::reason("en", "at most 200 characters"), "at most 200 characters");
        assert_eq!(super::note("sv", "delivered"), "meddelandet levererat");
        assert_eq!(
            super::note("sv", "cancelled: episode closed (transferred)"),
            "avbrutet: ärendet avslutat (överfört till annan kommun)"
        );
        assert_eq!(super::note("sv", "ringde kuratorn"), "ringde kuratorn");
    }
}
