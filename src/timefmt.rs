//! Timestamps on the hot read path: SQLite's stored text in, RFC 3339 out.
//!
//! Policy: the output is byte for byte what chrono's own `Serialize` writes for a UTC time (RFC 3339,
//! `Z`, fractional seconds of 0, 3, 6 or 9 digits as the value needs), and the input accepts exactly the
//! form diesel writes to SQLite (`YYYY-MM-DD HH:MM:SS[.fffffffff]`). Anything else — another format, a
//! leap second, a year outside 0000–9999 — goes to chrono, so these functions are shortcuts, never a
//! second definition of the format. Why: chrono parses and prints through its generic format machinery,
//! measured at 6–7 % of a case read, which carries about forty timestamps. A property test checks both
//! directions against chrono.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::Serializer;

/// Parses diesel's SQLite text form; `None` for anything else (the caller then asks chrono).
pub fn parse_sqlite(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let nano = match &b[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            let digits = num(20..b.len())?;
            digits * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?.and_hms_nano_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        nano,
    )
}

/// Writes `t` as chrono's serde does (`2026-11-29T10:02:26.123Z`) into `out`.
pub fn write_rfc3339(t: &DateTime<Utc>, out: &mut String) {
    let (year, nano) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        out.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        return;
    }
    let mut buf = [0u8; 32];
    let mut n = 0;
    let mut put = |v: u32, width: u32, then: u8| {
        for i in (0..width).rev() {
            buf[n] = b'0' + ((v / 10u32.pow(i)) % 10) as u8;
            n += 1;
        }
        buf[n] = then;
        n += 1;
    };
    put(year as u32, 4, b'-');
    put(t.month(), 2, b'-');
    put(t.day(), 2, b'T');
    put(t.hour(), 2, b':');
    put(t.minute(), 2, b':');
    match nano {
        0 => put(t.second(), 2, b'Z'),
        _ => {
            put(t.second(), 2, b'.');
            match nano {
                _ if nano % 1_000_000 == 0 => put(nano / 1_000_000, 3, b'Z'),
                _ if nano % 1_000 == 0 => put(nano / 1_000, 6, b'Z'),
                _ => put(nano, 9, b'Z'),
            }
        }
    }
    // Only ASCII digits and separators were written.
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}

fn format(t: &DateTime<Utc>) -> String {
    let mut s = String::with_capacity(30);
    write_rfc3339(t, &mut s);
    s
}

/// `#[serde(serialize_with = "crate::timefmt::utc")]`
pub fn utc<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

/// `#[serde(serialize_with = "crate::timefmt::utc_opt")]`
pub fn utc_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format(t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_time() -> impl Strategy<Value = NaiveDateTime> {
        // Years across the fast path's edge, every kind of fraction, leap seconds included.
        (-63_000_000_000i64..260_000_000_000i64, 0u32..1_000_000_000u32, 0u8..4).prop_map(|(secs, nano, shape)| {
            let nano = match shape {
                0 => 0,
                1 => nano / 1_000_000 * 1_000_000,
                2 => nano / 1_000 * 1_000,
                _ => nano,
            };
            DateTime::from_timestamp(secs, nano).unwrap_or_default().naive_utc()
        })
    }

    proptest! {
        #[test]
        fn prints_as_chrono_serde_does(t in any_time()) {
            let t = t.and_utc();
            let ours = serde_json::to_string(&format(&t)).unwrap_or_default();
            prop_assert_eq!(ours, serde_json::to_string(&t).unwrap_or_default());
        }

        #[test]
        fn reads_what_diesel_writes(t in any_time()) {
            // diesel's SQLite encoding of a NaiveDateTime
            let stored = t.format("%F %T%.f").to_string();
            let parsed = parse_sqlite(&stored);
            if (0..=9999).contains(&t.year()) {
                prop_assert_eq!(parsed, Some(t));
            } else {
                // Left to chrono.
                prop_assert_eq!(parsed, None);
            }
        }

        #[test]
        fn never_accepts_what_chrono_would_read_differently(s in "[0-9 :.T+Z-]{0,32}") {
            if let Some(t) = parse_sqlite(&s) {
                prop_assert_eq!(NaiveDateTime::parse_from_str(&s, "%F %T%.f").ok(), Some(t));
            }
        }
    }

    #[test]
    fn leaves_other_forms_to_chrono() {
        for s in ["2026-11-29T10:00:00", "2026-11-29 10:00", "2026-11-29 10:00:00Z", "2026-11-29 10:00:00.1234567890"] {
            assert_eq!(parse_sqlite(s), None, "{s}");
        }
        assert_eq!(parse_sqlite("2026-02-30 10:00:00"), None);
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000));
        let leap = leap.map(|t| t.and_utc());
        assert_eq!(leap.map(|t| format(&t)), leap.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)));
    }
}
