//! Sweden's geography: the 21 counties and 290 municipalities, seeded idempotently on every start-up.

use super::schema::{counties, municipalities};
use super::AnyConnection;
use diesel::prelude::*;
use std::collections::{BTreeMap, HashSet};

const ADMIN_AREAS_CSV: &str = include_str!("../../seed/swedish_admin_areas.csv");

/// Numeric county code → the letter code used on registration plates and in case references.
pub const COUNTY_LETTERS: [(&str, &str); 21] = [
    ("01", "AB"),
    ("03", "C"),
    ("04", "D"),
    ("05", "E"),
    ("06", "F"),
    ("07", "G"),
    ("08", "H"),
    ("09", "I"),
    ("10", "K"),
    ("12", "M"),
    ("13", "N"),
    ("14", "O"),
    ("17", "S"),
    ("18", "T"),
    ("19", "U"),
    ("20", "W"),
    ("21", "X"),
    ("22", "Y"),
    ("23", "Z"),
    ("24", "AC"),
    ("25", "BD"),
];

pub struct AdminAreas {
    /// county code → (letter, name)
    pub counties: BTreeMap<String, (String, String)>,
    /// (municipality code, name, county code)
    pub municipalities: Vec<(String, String, String)>,
}

pub fn admin_areas() -> AdminAreas {
    let letters: BTreeMap<&str, &str> = COUNTY_LETTERS.into_iter().collect();
    let mut counties = BTreeMap::new();
    let mut municipalities = Vec::new();
    for line in ADMIN_AREAS_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        // The file is ours and has no quoted fields; a malformed line is a build-time data error.
        let cols: Vec<&str> = line.trim().split(',').collect();
        if cols.len() != 4 {
            continue;
        }
        let letter = letters.get(cols[2]).copied().unwrap_or("?");
        counties.entry(cols[2].to_string()).or_insert_with(|| (letter.to_string(), cols[3].to_string()));
        municipalities.push((cols[0].to_string(), cols[1].to_string(), cols[2].to_string()));
    }
    AdminAreas { counties, municipalities }
}

/// Inserts whatever county or municipality is missing; never touches contacts already set.
pub fn seed_geography(conn: &mut AnyConnection) -> QueryResult<(usize, usize)> {
    let areas = admin_areas();
    super::write_tx(conn, |conn| {
        let have: HashSet<String> = counties::table.select(counties::code).load(conn)?.into_iter().collect();
        let mut added_c = 0;
        for (code, (letter, name)) in &areas.counties {
            if !have.contains(code) {
                diesel::insert_into(counties::table)
                    .values((counties::code.eq(code), counties::letter.eq(letter), counties::name.eq(name)))
                    .execute(conn)?;
                added_c += 1;
            }
        }
        let have: HashSet<String> =
            municipalities::table.select(municipalities::code).load(conn)?.into_iter().collect();
        let mut added_m = 0;
        for (code, name, county) in &areas.municipalities {
            if !have.contains(code) {
                diesel::insert_into(municipalities::table)
                    .values((
                        municipalities::code.eq(code),
                        municipalities::name.eq(name),
                        municipalities::county_code.eq(county),
                    ))
                    .execute(conn)?;
                added_m += 1;
            }
        }
        Ok((added_c, added_m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_every_county_with_a_letter() {
        let a = admin_areas();
        assert_eq!(a.counties.len(), 21);
        assert_eq!(a.municipalities.len(), 290);
        assert!(a.counties.values().all(|(l, _)| l != "?"));
        assert_eq!(a.counties["14"].0, "O");
        assert_eq!(a.municipalities.iter().filter(|m| m.2 == "14").count(), 49);
    }
}
