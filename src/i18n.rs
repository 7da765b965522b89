//! The one translation mechanism: a key table per language (Swedish first, English second). Every
//! user-facing text — emails and pages — comes from `i18n/texts.tsv` (key, Swedish, English), so a page or
//! message is never mixed and translators edit a table, not code.

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
}
