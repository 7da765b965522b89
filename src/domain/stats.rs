//! Statistics rules (SPEC §5): medians, percentiles, age bands, small-cell suppression and CSV.
//!
//! Policy: breakdown cells of 1 or 2 are suppressed (`null` with `"suppressed": true`, `<3` in CSV) so
//! that no child can be singled out; top-level counters are never suppressed. Nothing personal — no name,
//! free text or date of birth — ever enters the figures.
//!
//! Secondary suppression (API.md, second edition): in a breakdown that divides the episodes, either no cell
//! is suppressed or at least two are, holding at least 3 episodes together and more episodes than cells, so
//! that no suppressed value follows from the total and the visible cells. More cells are suppressed, the
//! smallest first, until that holds.

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

/// The cells of a breakdown that divides the episodes, with primary and secondary suppression.
pub fn breakdown(raw: Vec<(String, String, i64)>) -> Vec<Cell> {
    let mut hidden: Vec<bool> = raw.iter().map(|c| c.2 == 1 || c.2 == 2).collect();
    loop {
        let count = hidden.iter().filter(|h| **h).count();
        let sum: i64 = raw.iter().zip(&hidden).filter(|(_, h)| **h).map(|(c, _)| c.2).sum();
        // More episodes than cells: some cell holds two or more, so every suppressed cell has another value
        // that fits the same total (move one episode to it, or from it).
        if count == 0 || (count >= 2 && sum >= 3 && sum > count as i64) {
            break;
        }
        // The smallest visible cell that holds episodes; an empty cell only when there is no other.
        let next = (0..raw.len()).filter(|i| !hidden[*i]).min_by_key(|i| (raw[*i].2 == 0, raw[*i].2));
        match next {
            Some(i) => hidden[i] = true,
            None => break,
        }
    }
    raw.into_iter()
        .zip(hidden)
        .map(|((key, label, n), h)| Cell { key, label, episodes: (!h).then_some(n), suppressed: h })
        .collect()
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
    use super::*;
    use proptest::prelude::*;

    /// The values the suppressed cells could have, knowing the total, the visible cells and that a suppressed
    /// cell holds at least one episode (or none, when empty cells had to be suppressed too).
    fn consistent(k: usize, rest: i64, min: i64) -> Vec<Vec<i64>> {
        if k == 0 {
            return if rest == 0 { vec![vec![]] } else { vec![] };
        }
        let mut out = Vec::new();
        for v in min..=rest {
            for mut tail in consistent(k - 1, rest - v, min) {
                tail.insert(0, v);
                out.push(tail);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn no_suppressed_cell_can_be_worked_out_from_the_total_and_the_visible_cells(
            counts in proptest::collection::vec(0i64..12, 1..7)
        ) {
            let raw: Vec<(String, String, i64)> =
                counts.iter().enumerate().map(|(i, n)| (i.to_string(), i.to_string(), *n)).collect();
            let cells = breakdown(raw);
            let total: i64 = counts.iter().sum();
            let visible: i64 = cells.iter().filter_map(|c| c.episodes).sum();
            let hidden: Vec<usize> = (0..cells.len()).filter(|i| cells[*i].suppressed).collect();
            for (c, n) in cells.iter().zip(&counts) {
                prop_assert!(!(*n == 1 || *n == 2) || c.suppressed, "a small cell is always suppressed");
                prop_assert!(c.suppressed || c.episodes == Some(*n), "a visible cell shows its value");
            }
            prop_assert!(hidden.is_empty() || hidden.len() >= 2 || counts.len() == 1);
            // Every suppressed cell can hold at least two values — unless every cell is suppressed, when the
            // breakdown says no more than its total (fewer than 3 episodes, or one episode a cell), which is
            // published anyway.
            if !hidden.is_empty() && !cells.iter().all(|c| c.suppressed) {
                let min = if hidden.iter().any(|i| counts[*i] == 0) { 0 } else { 1 };
                let options = consistent(hidden.len(), total - visible, min);
                for (pos, i) in hidden.iter().enumerate() {
                    let values: std::collections::BTreeSet<i64> = options.iter().map(|o| o[pos]).collect();
                    prop_assert!(values.len() >= 2, "cell {i} of {counts:?} is derivable: {values:?}");
                }
            }
            if total < 3 && !hidden.is_empty() {
                prop_assert!(cells.iter().all(|c| c.suppressed), "{counts:?}");
            }
        }
    }

    #[test]
    fn the_girl_among_three_boys_is_not_singled_out() {
        let cells = breakdown(vec![("male".into(), "m".into(), 3), ("female".into(), "f".into(), 1)]);
        assert!(cells.iter().all(|c| c.suppressed), "4 episodes, 3 boys shown would give the girl away");
        let cells =
            breakdown(vec![("a".into(), "a".into(), 7), ("b".into(), "b".into(), 2), ("c".into(), "c".into(), 4)]);
        assert_eq!(cells.iter().map(|c| c.episodes).collect::<Vec<_>>(), [Some(7), None, None]);
        let ones =
            breakdown(vec![("a".into(), "a".into(), 1), ("b".into(), "b".into(), 1), ("c".into(), "c".into(), 5)]);
        assert!(ones.iter().all(|c| c.suppressed), "1 + 1 = 2 would give both away: the 5 is suppressed too");
        let none = breakdown(vec![("a".into(), "a".into(), 5), ("b".into(), "b".into(), 0)]);
        assert!(none.iter().all(|c| !c.suppressed));
    }

    #[test]
    fn a_period_may_span_the_whole_century() {
        let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert!(in_range(d(2000, 1, 1)));
        assert!(in_range(d(2100, 12, 31)));
        assert!(!in_range(d(1999, 12, 31)));
        assert!(!in_range(d(2101, 1, 1)));
    }

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
