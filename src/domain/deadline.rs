//! Step deadlines as written in a routine: an ISO 8601 duration (`PT1H`, `P3D`), `working_days:N` or
//! `monthly_by:N` ("by the Nth of the following month").
//!
//! Policy: calendar parts of a duration (years, months, weeks, days) move the Stockholm wall clock, so
//! "P3D" from 22:00 is 22:00 three days later even across a DST change; time parts (hours, minutes,
//! seconds) are elapsed time. `monthly_by:N` is due at the end of the Nth (23:59:59 local) of the month
//! after the anchor; a day past the month's end means its last day.

use super::calendar::{add_working_days, from_local, to_local};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Utc};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsoDuration {
    pub years: u32,
    pub months: u32,
    pub weeks: u32,
    pub days: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
}

impl IsoDuration {
    pub fn parse(s: &str) -> Option<IsoDuration> {
        let rest = s.strip_prefix('P')?;
        if rest.is_empty() {
            return None;
        }
        let mut d = IsoDuration::default();
        let mut in_time = false;
        let mut num = String::new();
        let mut seen_any = false;
        let mut last_rank = 0u8;
        for ch in rest.chars() {
            if ch.is_ascii_digit() {
                num.push(ch);
                if num.len() > 6 {
                    return None;
                }
                continue;
            }
            if ch == 'T' {
                if in_time || !num.is_empty() {
                    return None;
                }
                in_time = true;
                last_rank = 4;
                continue;
            }
            let n: u32 = num.parse().ok()?;
            num.clear();
            let rank = match (in_time, ch) {
                (false, 'Y') => 1,
                (false, 'M') => 2,
                (false, 'W') => 3,
                (false, 'D') => 4,
                (true, 'H') => 5,
                (true, 'M') => 6,
                (true, 'S') => 7,
                _ => return None,
            };
            if rank <= last_rank {
                return None;
            }
            last_rank = rank;
            match rank {
                1 => d.years = n,
                2 => d.months = n,
                3 => d.weeks = n,
                4 => d.days = n,
                5 => d.hours = n,
                6 => d.minutes = n,
                _ => d.seconds = n,
            }
            seen_any = true;
        }
        if !num.is_empty() || !seen_any || (in_time && last_rank <= 4) {
            return None;
        }
        Some(d)
    }

    /// An upper bound in seconds (months as 31 days, years as 366), for limits such as "at most a year".
    pub fn max_seconds(&self) -> i64 {
        let days = i64::from(self.years) * 366
            + i64::from(self.months) * 31
            + i64::from(self.weeks) * 7
            + i64::from(self.days);
        days * 86_400 + i64::from(self.hours) * 3600 + i64::from(self.minutes) * 60 + i64::from(self.seconds)
    }

    pub fn add_to(&self, anchor: DateTime<Utc>) -> DateTime<Utc> {
        let mut t = anchor;
        if self.years + self.months + self.weeks + self.days > 0 {
            let local = to_local(anchor);
            let date =
                local.date().checked_add_months(Months::new(self.years * 12 + self.months)).unwrap_or(local.date())
                    + Duration::days(i64::from(self.weeks) * 7 + i64::from(self.days));
            t = from_local(date.and_time(local.time()));
        }
        t + Duration::hours(i64::from(self.hours))
            + Duration::minutes(i64::from(self.minutes))
            + Duration::seconds(i64::from(self.seconds))
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P")?;
        for (n, u) in [(self.years, 'Y'), (self.months, 'M'), (self.weeks, 'W'), (self.days, 'D')] {
            if n > 0 {
                write!(f, "{n}{u}")?;
            }
        }
        if self.hours + self.minutes + self.seconds > 0 {
            write!(f, "T")?;
            for (n, u) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
                if n > 0 {
                    write!(f, "{n}{u}")?;
                }
            }
        } else if self.years + self.months + self.weeks + self.days == 0 {
            write!(f, "T0S")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    After(IsoDuration),
    WorkingDays(u32),
    MonthlyBy(u32),
}

impl Deadline {
    pub fn parse(s: &str) -> Option<Deadline> {
        let s = s.trim();
        if let Some(n) = s.strip_prefix("working_days:") {
            return n.parse().ok().filter(|n| (1..=365).contains(n)).map(Deadline::WorkingDays);
        }
        if let Some(n) = s.strip_prefix("monthly_by:") {
            return n.parse().ok().filter(|n| (1..=31).contains(n)).map(Deadline::MonthlyBy);
        }
        IsoDuration::parse(s).map(Deadline::After)
    }

    pub fn due(&self, anchor: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Deadline::After(d) => d.add_to(anchor),
            Deadline::WorkingDays(n) => add_working_days(anchor, *n),
            Deadline::MonthlyBy(day) => {
                let local = to_local(anchor).date();
                let first_next = local.with_day(1).and_then(|d| d.checked_add_months(Months::new(1))).unwrap_or(local);
                let last_day = first_next
                    .checked_add_months(Months::new(1))
                    .and_then(|d| d.pred_opt())
                    .map(|d| d.day())
                    .unwrap_or(28);
                let date = NaiveDate::from_ymd_opt(first_next.year(), first_next.month(), (*day).min(last_day))
                    .unwrap_or(first_next);
                from_local(date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default()))
            }
        }
    }

    /// An upper bound of the time it allows, in seconds.
    pub fn max_seconds(&self) -> i64 {
        match self {
            Deadline::After(d) => d.max_seconds(),
            // Long holiday stretches stay well inside twice the calendar length plus a week.
            Deadline::WorkingDays(n) => (i64::from(*n) * 2 + 7) * 86_400,
            Deadline::MonthlyBy(_) => 62 * 86_400,
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deadline::After(d) => write!(f, "{d}"),
            Deadline::WorkingDays(n) => write!(f, "working_days:{n}"),
            Deadline::MonthlyBy(n) => write!(f, "monthly_by:{n}"),
        }
    }
}

/// The units a person picks a deadline in: a number and one of these, never a code typed by hand.
pub const UNITS: [&str; 6] = ["minutes", "hours", "days", "working_days", "months", "monthly_by"];

/// A deadline as a number and a unit, for the routine editor. A duration of several parts is shown in
/// the largest unit that keeps it exact (`P2W` as 14 days, `PT1H30M` as 90 minutes); one that mixes days
/// and time (`P1DT2H`, written through the API) is shown in hours or minutes, which saving from the editor
/// then stores as elapsed time.
pub fn pick(s: &str) -> Option<(u32, &'static str)> {
    match Deadline::parse(s)? {
        Deadline::WorkingDays(n) => Some((n, "working_days")),
        Deadline::MonthlyBy(n) => Some((n, "monthly_by")),
        Deadline::After(d) => {
            let months = d.years * 12 + d.months;
            let days = d.weeks * 7 + d.days;
            let minutes = d.hours * 60 + d.minutes + d.seconds.div_ceil(60);
            Some(match (months, days, minutes) {
                (0, 0, 0) => (0, "minutes"),
                (m, 0, 0) => (m, "months"),
                (0, d, 0) => (d, "days"),
                (0, d, m) if m % 60 == 0 => (d * 24 + m / 60, "hours"),
                (0, d, m) => (d * 24 * 60 + m, "minutes"),
                // Months with days or time: a month as 30 days, the one place where the editor rounds.
                (mo, d, m) => (mo * 30 + d + m.div_ceil(24 * 60), "days"),
            })
        }
    }
}

/// The deadline a number and a unit say; `None` for a unit that is not one of [`UNITS`].
pub fn compose(n: u32, unit: &str) -> Option<String> {
    Some(match unit {
        "minutes" if n == 0 => "PT0S".to_string(),
        "minutes" => format!("PT{n}M"),
        "hours" => format!("PT{n}H"),
        "days" => format!("P{n}D"),
        "working_days" => format!("working_days:{n}"),
        "months" => format!("P{n}M"),
        "monthly_by" => format!("monthly_by:{n}"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_deadline_of_the_national_default_is_picked_and_composed_back() {
        for s in crate::domain::routine::national_default().steps {
            for d in [Some(&s.deadline), s.high_risk_deadline.as_ref(), s.ack_window.as_ref()].into_iter().flatten() {
                let (n, unit) = pick(d).unwrap_or((999, "none"));
                assert_eq!(compose(n, unit).as_deref(), Some(d.as_str()), "{}", s.key);
            }
        }
        assert_eq!(pick("P1DT2H"), Some((26, "hours")));
        assert_eq!(pick("PT72H"), Some((72, "hours")));
        assert_eq!(pick("P3M"), Some((3, "months")));
        assert_eq!(pick("PT1H30M"), Some((90, "minutes")));
        assert_eq!(pick("P2W"), Some((14, "days")));
        assert_eq!(pick("soon"), None);
        assert_eq!(compose(3, "fortnights"), None);
    }
    use proptest::prelude::*;

    fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        from_local(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default().and_hms_opt(h, mi, 0).unwrap_or_default())
    }

    #[test]
    fn parses_and_prints() {
        for s in ["PT1H", "PT15M", "P3D", "P1W", "P3M", "P1Y2M3DT4H5M6S", "PT0S", "P21D"] {
            let d = Deadline::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(Deadline::parse(&d.to_string()), Some(d), "{s}");
        }
        assert_eq!(Deadline::parse("working_days:1"), Some(Deadline::WorkingDays(1)));
        assert_eq!(Deadline::parse("monthly_by:7"), Some(Deadline::MonthlyBy(7)));
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "PT1D",
            "P1H",
            "P1M1Y",
            "PT1H1H",
            "P-1D",
            "working_days:0",
            "monthly_by:32",
            "PT1.5H",
            "P1DT",
        ] {
            assert_eq!(Deadline::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hours_are_elapsed_time_across_dst() {
        // 28 March 2026 23:30 local (CET) + 3 h = 29 March 03:30 CEST: 3 real hours.
        let t = local(2026, 3, 28, 23, 30);
        let due = Deadline::parse("PT3H").map(|d| d.due(t));
        assert_eq!(due, Some(t + Duration::hours(3)));
        assert_eq!(to_local(t + Duration::hours(3)).format("%H:%M").to_string(), "03:30");
    }

    #[test]
    fn days_keep_the_wall_clock_across_dst() {
        // Autumn change: 24 Oct 2026 22:00 CEST + P1D = 25 Oct 22:00 CET, 25 real hours.
        let t = local(2026, 10, 24, 22, 0);
        let due = Deadline::parse("P1D").map(|d| d.due(t)).unwrap_or(t);
        assert_eq!(to_local(due).format("%d %H:%M").to_string(), "25 22:00");
        assert_eq!(due - t, Duration::hours(25));
    }

    #[test]
    fn monthly_by_seventh_of_next_month() {
        let d = Deadline::MonthlyBy(7);
        assert_eq!(to_local(d.due(local(2026, 1, 31, 10, 0))).to_string(), "2026-02-07 23:59:59");
        assert_eq!(to_local(d.due(local(2026, 12, 1, 0, 5))).to_string(), "2027-01-07 23:59:59");
        assert_eq!(to_local(Deadline::MonthlyBy(31).due(local(2026, 1, 15, 9, 0))).to_string(), "2026-02-28 23:59:59");
        // The first minutes of 1 March local are still February in UTC: the local month counts.
        let t = Utc.with_ymd_and_hms(2026, 2, 28, 23, 30, 0).unwrap();
        assert_eq!(to_local(d.due(t)).to_string(), "2026-04-07 23:59:59");
    }

    proptest! {
        #[test]
        fn due_is_never_before_the_anchor(secs in 1_700_000_000i64..1_900_000_000, h in 0u32..200, days in 0u32..60, wd in 1u32..30, m in 1u32..31) {
            let t = Utc.timestamp_opt(secs, 0).single().unwrap_or_default();
            let after = IsoDuration { hours: h, days, ..Default::default() };
            for d in [Deadline::After(after), Deadline::WorkingDays(wd), Deadline::MonthlyBy(m)] {
                let due = d.due(t);
                prop_assert!(due >= t, "{d} from {t} gave {due}");
                prop_assert!((due - t).num_seconds() <= d.max_seconds() + 3600, "{d} from {t} gave {due}");
            }
        }

        #[test]
        fn working_days_land_on_working_days(secs in 1_700_000_000i64..1_900_000_000, n in 1u32..40) {
            let t = Utc.timestamp_opt(secs, 0).single().unwrap_or_default();
            let due = add_working_days(t, n);
            prop_assert!(super::super::calendar::is_working_day(super::super::calendar::local_date(due)));
            let mut count = 0;
            let mut d = super::super::calendar::local_date(t);
            while d < super::super::calendar::local_date(due) {
                d = d.succ_opt().unwrap_or(d);
                if super::super::calendar::is_working_day(d) { count += 1; }
            }
            prop_assert_eq!(count, n);
        }

        #[test]
        fn iso_round_trip(y in 0u32..3, mo in 0u32..12, w in 0u32..5, d in 0u32..40, h in 0u32..48, mi in 0u32..90, s in 0u32..90) {
            let x = IsoDuration { years: y, months: mo, weeks: w, days: d, hours: h, minutes: mi, seconds: s };
            let parsed = IsoDuration::parse(&x.to_string());
            prop_assert_eq!(parsed, Some(x));
        }
    }
}
