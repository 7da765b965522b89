//! Swedish time: Europe/Stockholm local time, public holidays, working days and office hours.
//!
//! Policy: everything is stored in UTC; local time is used only to decide calendar questions (which day,
//! whether it is a working day, office hours). A local time that does not exist (the spring DST gap) is
//! moved forward by the gap; an ambiguous one (the autumn repeat) takes the earlier instant.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Stockholm;

pub fn to_local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&Stockholm).naive_local()
}

pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    to_local(t).date()
}

/// The UTC instant of a Stockholm wall-clock time.
pub fn from_local(local: NaiveDateTime) -> DateTime<Utc> {
    match Stockholm.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => {
            // In the spring gap: the same wall clock one hour later exists.
            let later = local + Duration::hours(1);
            match Stockholm.from_local_datetime(&later) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                LocalResult::None => Utc.from_utc_datetime(&local),
            }
        }
    }
}

/// Start of a local day (00:00 Stockholm) as UTC.
pub fn start_of_local_day(d: NaiveDate) -> DateTime<Utc> {
    from_local(d.and_time(NaiveTime::MIN))
}

/// Easter Sunday (anonymous Gregorian algorithm).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// The holidays that are not working days (issue #3's list), with their names.
pub fn holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let e = easter(year);
    // Midsummer Eve: the Friday between 19 and 25 June.
    let midsummer_eve = (19..=25).map(|d| ymd(year, 6, d)).find(|d| d.weekday() == Weekday::Fri).unwrap_or_default();
    vec![
        (ymd(year, 1, 1), "new_year"),
        (ymd(year, 1, 6), "epiphany"),
        (e - Duration::days(2), "good_friday"),
        (e + Duration::days(1), "easter_monday"),
        (ymd(year, 5, 1), "may_day"),
        (e + Duration::days(39), "ascension"),
        (ymd(year, 6, 6), "national_day"),
        (midsummer_eve, "midsummer_eve"),
        (ymd(year, 12, 24), "christmas_eve"),
        (ymd(year, 12, 25), "christmas_day"),
        (ymd(year, 12, 26), "boxing_day"),
        (ymd(year, 12, 31), "new_years_eve"),
    ]
}

pub fn is_holiday(d: NaiveDate) -> bool {
    holidays(d.year()).iter().any(|(h, _)| *h == d)
}

pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(d)
}

/// The same local wall-clock time on the `n`th working day after the anchor's local date.
pub fn add_working_days(anchor: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    let local = to_local(anchor);
    let mut d = local.date();
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap_or(d);
        if is_working_day(d) {
            left -= 1;
        }
    }
    from_local(d.and_time(local.time()))
}

/// Office hours of social services: working days 08:00–17:00 Stockholm time.
pub fn is_office_hours(t: DateTime<Utc>) -> bool {
    let local = to_local(t);
    let h = local.time();
    is_working_day(local.date())
        && h >= NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default()
        && h < NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), ymd(2024, 3, 31));
        assert_eq!(easter(2025), ymd(2025, 4, 20));
        assert_eq!(easter(2026), ymd(2026, 4, 5));
        assert_eq!(easter(2027), ymd(2027, 3, 28));
    }

    #[test]
    fn holidays_2026_are_not_working_days() {
        // (month, day) of every public holiday and of the eves treated as holidays, in date order.
        let dates =
            [(1, 1), (1, 6), (4, 3), (4, 6), (5, 1), (5, 14), (6, 6), (6, 19), (12, 24), (12, 25), (12, 26), (12, 31)];
        let expected: Vec<NaiveDate> = dates.iter().map(|&(m, d)| ymd(2026, m, d)).collect();
        let got: Vec<NaiveDate> = holidays(2026).into_iter().map(|(d, _)| d).collect();
        assert_eq!(got, expected);
        for &d in &expected {
            assert!(!is_working_day(d), "{d}");
        }
        assert!(is_working_day(ymd(2026, 6, 18)));
        assert!(!is_working_day(ymd(2026, 11, 28)), "Saturday");
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // Thursday 2 April 2026 16:00 local; Good Friday and Easter Monday are holidays.
        let t = from_local(ymd(2026, 4, 2).and_hms_opt(16, 0, 0).unwrap_or_default());
        assert_eq!(to_local(add_working_days(t, 1)), ymd(2026, 4, 7).and_hms_opt(16, 0, 0).unwrap_or_default());
        // Christmas: Wed 23 Dec 2026 + 1 working day → Mon 28 Dec.
        let t = from_local(ymd(2026, 12, 23).and_hms_opt(9, 0, 0).unwrap_or_default());
        assert_eq!(local_date(add_working_days(t, 1)), ymd(2026, 12, 28));
        // Sunday anchor → Monday.
        let t = from_local(ymd(2026, 11, 29).and_hms_opt(3, 0, 0).unwrap_or_default());
        assert_eq!(local_date(add_working_days(t, 1)), ymd(2026, 11, 30));
        assert_eq!(add_working_days(t, 0), t);
    }

    #[test]
    fn dst_gap_and_repeat() {
        // 29 March 2026 02:30 does not exist in Stockholm; it becomes 03:30 CEST = 01:30 UTC.
        let t = from_local(ymd(2026, 3, 29).and_hms_opt(2, 30, 0).unwrap_or_default());
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap());
        // 25 October 2026 02:30 happens twice; the earlier (CEST, 00:30 UTC) is taken.
        let t = from_local(ymd(2026, 10, 25).and_hms_opt(2, 30, 0).unwrap_or_default());
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap());
    }

    #[test]
    fn office_hours() {
        let at = |d: NaiveDate, h| from_local(d.and_hms_opt(h, 0, 0).unwrap_or_default());
        assert!(is_office_hours(at(ymd(2026, 11, 30), 8)));
        assert!(!is_office_hours(at(ymd(2026, 11, 30), 17)));
        assert!(!is_office_hours(at(ymd(2026, 11, 30), 7)));
        assert!(!is_office_hours(at(ymd(2026, 11, 29), 10)), "Sunday");
        assert!(!is_office_hours(at(ymd(2026, 12, 24), 10)), "Christmas Eve");
    }
}
