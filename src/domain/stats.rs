//! Statistics rules (SPEC §5): medians, percentiles, age bands, small-cell suppression and CSV.
//!
//! Policy: breakdown cells of 1 or 2 are suppressed (`null` with `"suppressed": true`, `<3` in CSV) so
//! that no child can be singled out; top-level counters are never suppressed. Nothing personal — no name,
//! free text or date of birth — ever enters the figures.

use chrono::NaiveDate;
use serde::Serialize;

/// The first and last day a statistics period may name (API.md, second edition).
pub const FIRST_DAY: (i32, u32, u32) = (2000, 1, 1);
pub const LAST_DAY: (i32, u32, u32) = (2100, 12, 31);

/// Whether `d` lies within the days a statistics period may name.
pub fn in_range(d: NaiveDate) -> bool {
    let day = |(y, m, dd): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, dd);
    match (day(FIRST_DAY), day(LAST_DAY)) {
        (Some(first), Some(last)) => first <= d && d <= last,
        _ => false,
    }
}

/// The median; the mean of the two middle values for an even count.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

/// The nearest-rank percentile (`p` in 0–100): the smallest value with at least p % of values at or below it.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1])
}

pub fn age_band(age: i32) -> &'static str {
    match age {
        i32::MIN..=12 => "0-12",
        13..=15 => "13-15",
        _ => "16-17",
    }
}

pub const AGE_BANDS: [&str; 3] = ["0-12", "13-15", "16-17"];

/// One breakdown cell.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub key: String,
    pub label: String,
    pub episodes: Option<i64>,
    pub suppressed: bool,
}

pub fn cell(key: impl Into<String>, label: impl Into<String>, n: i64) -> Cell {
    let suppressed = n == 1 || n == 2;
    Cell { key: key.into(), label: label.into(), episodes: (!suppressed).then_some(n), suppressed }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_period_may_span_the_whole_century() {
        let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert!(in_range(d(2000, 1, 1)));
        assert!(in_range(d(2100, 12, 31)));
        assert!(!in_range(d(1999, 12, 31)));
        assert!(!in_range(d(2101, 1, 1)));
    }
    use super::*;

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5.0]), Some(5.0));
        assert_eq!(median(&mut [40.0, 10.0, 30.0, 20.0]), Some(25.0));
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 90.0), Some(9.0));
        assert_eq!(percentile(&mut [7.0], 90.0), Some(7.0));
        let mut v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 90.0), Some(18.0));
    }

    #[test]
    fn suppression_at_one_two_and_three() {
        assert_eq!(cell("a", "A", 0).episodes, Some(0));
        assert!(cell("a", "A", 1).suppressed && cell("a", "A", 1).episodes.is_none());
        assert!(cell("a", "A", 2).suppressed);
        assert_eq!(
            cell("a", "A", 3),
            Cell { key: "a".into(), label: "A".into(), episodes: Some(3), suppressed: false }
        );
    }

    #[test]
    fn bands_and_csv() {
        assert_eq!(
            (age_band(12), age_band(13), age_band(15), age_band(16), age_band(17)),
            ("0-12", "13-15", "13-15", "16-17", "16-17")
        );
        assert_eq!(csv_field("Stockholm"), "Stockholm");
        assert_eq!(csv_field("Malung-Sälen, del"), "\"Malung-Sälen, del\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
