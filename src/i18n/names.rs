//! Countries and languages by their names, from CLDR (ICU4X's compiled data), never as ISO codes.
//!
//! Records keep codes (ISO 3166-1 alpha-2 for nationality, ISO 639 for languages: the API's contract);
//! a person reads and types names. The tables are built once from CLDR: every two-letter region CLDR
//! names, less the groupings that are no nationality; every two- and three-letter language CLDR names,
//! plus the ISO 639-3 codes CLDR knows only as an alias (`prs` is `fa-AF`, "dari"), which are common among
//! children seeking asylum in Sweden and must read as their own names.

use icu_experimental::displaynames::multi::{LanguageDisplayNames, LocaleDisplayNamesFormatter, RegionDisplayNames};
use icu_experimental::displaynames::DisplayNamesOptions;
use icu_locale::LocaleCanonicalizer;
use icu_locale_core::subtags::{Language, Region};
use icu_locale_core::{locale, Locale};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Regions CLDR names that are no one's nationality: unions, test codes, "unknown".
const NOT_A_NATIONALITY: [&str; 7] = ["EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"];

/// ISO 639-3's current codes where CLDR files a retired code as the same alias: Dari is `prs` (CLDR maps
/// both `prs` and the retired `drw` to `fa-AF`). Taken first, so the name means the current code.
const CURRENT_BEFORE_RETIRED: [&str; 1] = ["prs"];

/// One code with its Swedish and English names.
#[derive(Debug, Clone)]
pub struct Named {
    pub code: String,
    pub sv: String,
    pub en: String,
}

impl Named {
    pub fn name(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.en
        } else {
            &self.sv
        }
    }
}

struct Tables {
    countries: Vec<Named>,
    languages: Vec<Named>,
    /// lower-case name (either language) or code → code
    language_by_name: HashMap<String, String>,
    /// every code CLDR knows only as an alias, with the names of what it stands for (`drw` → dari)
    alias_names: HashMap<String, (String, String)>,
    country_by_name: HashMap<String, String>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(build);

fn letters(n: usize, upper: bool) -> Vec<String> {
    let alphabet: Vec<char> = if upper { ('A'..='Z').collect() } else { ('a'..='z').collect() };
    let mut out: Vec<String> = alphabet.iter().map(|c| c.to_string()).collect();
    for _ in 1..n {
        out = out.iter().flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}"))).collect();
    }
    out
}

fn build() -> Tables {
    let opts = DisplayNamesOptions::default;
    // Compiled data for sv and en is part of the binary: failing to load it is a build defect.
    let region = |l: Locale| RegionDisplayNames::try_new(l.into(), opts()).expect("CLDR region names compiled in");
    let language =
        |l: Locale| LanguageDisplayNames::try_new(l.into(), opts()).expect("CLDR language names compiled in");
    let formatter =
        |l: Locale| LocaleDisplayNamesFormatter::try_new(l.into(), opts()).expect("CLDR locale names compiled in");
    let (rsv, ren) = (region(locale!("sv")), region(locale!("en")));
    let (lsv, len) = (language(locale!("sv")), language(locale!("en")));
    let (fsv, fen) = (formatter(locale!("sv")), formatter(locale!("en")));
    let canon = LocaleCanonicalizer::new_extended();

    let mut countries = Vec::new();
    for code in letters(2, true) {
        let Ok(r) = code.parse::<Region>() else { continue };
        if NOT_A_NATIONALITY.contains(&code.as_str()) {
            continue;
        }
        if let (Some(sv), Some(en)) = (rsv.of(r), ren.of(r)) {
            countries.push(Named { code, sv: sv.to_string(), en: en.to_string() });
        }
    }
    let mut languages = Vec::new();
    let mut seen_names = std::collections::HashSet::new();
    let mut aliases = Vec::new();
    for code in letters(2, false).into_iter().chain(letters(3, false)) {
        let Ok(l) = code.parse::<Language>() else { continue };
        if code == "und" || code == "zxx" || code == "mul" {
            continue;
        }
        match (lsv.of(l), len.of(l)) {
            (Some(sv), Some(en)) => {
                seen_names.insert(sv.to_lowercase());
                languages.push(Named { code, sv: sv.to_string(), en: en.to_string() });
            }
            _ => aliases.push(code),
        }
    }
    // An alias keeps its own entry only when its name is one no direct code has ("dari", not a second
    // "kurdiska" for `kmr`), so that a name typed in a form means one code.
    aliases.sort_by_key(|c| !CURRENT_BEFORE_RETIRED.contains(&c.as_str()));
    let mut alias_names = HashMap::new();
    for code in aliases {
        let Ok(mut loc) = code.parse::<Locale>() else { continue };
        canon.canonicalize(&mut loc);
        if loc.to_string() == code {
            continue;
        }
        let (sv, en) = (fsv.of(&loc).to_string(), fen.of(&loc).to_string());
        if sv == loc.to_string() {
            continue;
        }
        alias_names.insert(code.clone(), (sv.clone(), en.clone()));
        if seen_names.insert(sv.to_lowercase()) {
            languages.push(Named { code, sv, en });
        }
    }
    let index = |list: &[Named]| {
        let mut m = HashMap::new();
        for n in list {
            m.entry(n.code.to_lowercase()).or_insert_with(|| n.code.clone());
            m.entry(n.sv.to_lowercase()).or_insert_with(|| n.code.clone());
            m.entry(n.en.to_lowercase()).or_insert_with(|| n.code.clone());
        }
        m
    };
    Tables {
        language_by_name: index(&languages),
        alias_names,
        country_by_name: index(&countries),
        countries,
        languages,
    }
}

/// Swedish alphabetical order: å, ä, ö after z, accents as their base letter.
fn sort_key(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'å' => '{',
            'ä' | 'æ' => '|',
            'ö' | 'ø' => '}',
            'é' | 'è' | 'ê' => 'e',
            'ü' => 'y',
            'ô' | 'ó' => 'o',
            'ç' => 'c',
            'í' => 'i',
            'á' | 'à' | 'ã' => 'a',
            c => c,
        })
        .collect()
}

fn sorted(list: &[Named], lang: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list.iter().map(|n| (n.code.clone(), n.name(lang).to_string())).collect();
    v.sort_by_cached_key(|(_, name)| sort_key(name));
    v
}

/// Every nationality as (code, name) in the page's language, in alphabetical order.
pub fn countries(lang: &str) -> Vec<(String, String)> {
    sorted(&TABLES.countries, lang)
}

/// Every language as (code, name), in alphabetical order.
pub fn languages(lang: &str) -> Vec<(String, String)> {
    sorted(&TABLES.languages, lang)
}

/// A nationality's name; a code CLDR does not know is shown as stored.
pub fn country(lang: &str, code: &str) -> String {
    let code = code.trim().to_ascii_uppercase();
    TABLES.countries.iter().find(|n| n.code == code).map(|n| n.name(lang).to_string()).unwrap_or(code)
}

/// A language's name; a code CLDR does not know is shown as stored.
pub fn language(lang: &str, code: &str) -> String {
    let code = code.trim().to_ascii_lowercase();
    if let Some(n) = TABLES.languages.iter().find(|n| n.code == code) {
        return n.name(lang).to_string();
    }
    match TABLES.alias_names.get(&code) {
        Some((sv, en)) => {
            if lang == "en" {
                en.clone()
            } else {
                sv.clone()
            }
        }
        None => code,
    }
}

/// Several languages' names, joined for reading.
pub fn language_list(lang: &str, codes: &[String]) -> String {
    codes.iter().map(|c| language(lang, c)).collect::<Vec<_>>().join(", ")
}

/// The code of a language typed by its name (Swedish or English, any case) or by its code.
pub fn language_code(typed: &str) -> Option<String> {
    TABLES.language_by_name.get(&typed.trim().to_lowercase()).cloned()
}

/// The code of a nationality typed by its name or code.
pub fn country_code(typed: &str) -> Option<String> {
    TABLES.country_by_name.get(&typed.trim().to_lowercase()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_names_in_both_languages() {
        assert_eq!(country("sv", "AF"), "Afghanistan");
        assert_eq!(country("sv", "SO"), "Somalia");
        assert_eq!(country("sv", "ER"), "Eritrea");
        assert_eq!(country("en", "DE"), "Germany");
        assert_eq!(country("sv", "DE"), "Tyskland");
        assert_eq!(language("sv", "prs"), "dari");
        assert_eq!(language("en", "prs"), "Dari");
        assert_eq!(language("sv", "ps"), "afghanska");
        assert_eq!(language("sv", "ti"), "tigrinja");
        assert_eq!(language("en", "ar"), "Arabic");
        assert_eq!(language_list("sv", &["prs".into(), "ps".into()]), "dari, afghanska");
        assert_eq!(language("sv", "drw"), "dari", "a retired code still reads as its name");
        assert_eq!(language("sv", "kmr"), "kurdiska");
        assert_eq!(language("sv", "qqq"), "qqq", "a code CLDR does not know is shown as stored");
    }

    #[test]
    fn a_name_typed_in_a_form_finds_its_code() {
        assert_eq!(language_code("Dari").as_deref(), Some("prs"));
        assert_eq!(language_code("persiska").as_deref(), Some("fa"));
        assert_eq!(language_code(" Pashto ").as_deref(), Some("ps"));
        assert_eq!(language_code("prs").as_deref(), Some("prs"));
        assert_eq!(language_code("klingonska länge"), None);
        assert_eq!(country_code("Eritrea").as_deref(), Some("ER"));
        assert_eq!(country_code("tyskland").as_deref(), Some("DE"));
        assert_eq!(country_code("Europeiska unionen"), None);
    }

    #[test]
    fn the_lists_are_whole_and_in_swedish_order() {
        let c = countries("sv");
        assert!(c.len() > 240, "{}", c.len());
        let names: Vec<&str> = c.iter().map(|(_, n)| n.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap_or(usize::MAX);
        assert!(pos("Zimbabwe") < pos("Åland") && pos("Åland") < pos("Österrike"), "å ä ö after z");
        assert!(languages("sv").len() > 600);
        let codes: std::collections::HashSet<String> = languages("en").into_iter().map(|(c, _)| c).collect();
        assert!(codes.contains("prs") && codes.contains("so") && !codes.contains("kmr"));
    }
}
