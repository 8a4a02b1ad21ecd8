//! Dates and timestamps: a hand-written scanner for the accepted text forms (no allocation, no
//! format-string interpretation), and epoch numbers.
//!
//! Accepted date forms: `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY`, `DD-MM-YYYY`. A date-time is a
//! date, a `T`, `t` or space, then `HH:MM[:SS[.fraction]]`, then optionally (after an optional
//! space) a zone: `Z`, `z`, `UTC`, `±HH:MM`, `±HHMM` or `±HH`. Without a zone it is UTC.
//! Fractions beyond nanoseconds are truncated.

use arrow_schema::TimeUnit;
use chrono::NaiveDate;

/// A UTC instant: whole seconds since the epoch (floored) and the nanoseconds past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instant {
    pub secs: i64,
    pub nanos: u32,
}

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date, if the date exists.
pub(crate) fn days_from_ymd(year: i64, month: u32, day: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some(date.signed_duration_since(epoch).num_days())
}

/// The value of an all-digit slice.
fn number(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// The days since the epoch of a leading 10-byte date in one of the four accepted forms.
fn date_prefix(b: &[u8]) -> Option<i64> {
    let b = b.get(..10)?;
    let (y, m, d) = match (b[2], b[4], b[5], b[7]) {
        (_, b'-', _, b'-') | (_, b'/', _, b'/') => {
            (number(&b[..4])?, number(&b[5..7])?, number(&b[8..10])?)
        }
        (b'/', _, b'/', _) => (number(&b[6..])?, number(&b[..2])?, number(&b[3..5])?),
        (b'-', _, b'-', _) => (number(&b[6..])?, number(&b[3..5])?, number(&b[..2])?),
        _ => return None,
    };
    days_from_ymd(i64::from(y), m, d)
}

/// A date-time (or a bare date, at midnight) in one of the accepted forms, as a UTC instant.
pub(crate) fn parse_datetime(s: &str) -> Option<Instant> {
    let b = s.trim().as_bytes();
    let days = date_prefix(b)?;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(Instant {
            secs: days * SECS_PER_DAY,
            nanos: 0,
        });
    }
    if !matches!(rest[0], b'T' | b't' | b' ') {
        return None;
    }
    let (secs_of_day, nanos, rest) = time_of_day(&rest[1..])?;
    let offset = zone(rest)?;
    Some(Instant {
        secs: days * SECS_PER_DAY + secs_of_day - offset,
        nanos,
    })
}

/// `HH:MM[:SS[.fraction]]`, returning the seconds of the day, nanoseconds and what follows.
fn time_of_day(b: &[u8]) -> Option<(i64, u32, &[u8])> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (hour, minute) = (number(&b[..2])?, number(&b[3..5])?);
    let mut rest = &b[5..];
    let mut second = 0;
    let mut nanos = 0;
    if rest.first() == Some(&b':') {
        second = number(rest.get(1..3)?)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if len == 0 {
                return None;
            }
            let frac = &rest[1..=len];
            let mut scale = 1_000_000_000;
            for &c in frac.iter().take(9) {
                scale /= 10;
                nanos += u32::from(c - b'0') * scale;
            }
            rest = &rest[1 + len..];
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let secs = i64::from(hour * 3600 + minute * 60 + second);
    Some((secs, nanos, rest))
}

/// The zone suffix as seconds east of UTC (`0` when absent).
fn zone(b: &[u8]) -> Option<i64> {
    let b = b.strip_prefix(b" ").unwrap_or(b);
    let (sign, rest) = match b {
        [] | [b'Z' | b'z'] | [b'U', b'T', b'C'] => return Some(0),
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match rest.len() {
        2 => (number(rest)?, 0),
        4 => (number(&rest[..2])?, number(&rest[2..])?),
        5 if rest[2] == b':' => (number(&rest[..2])?, number(&rest[3..])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// A date in one of the accepted date forms, or the date of an accepted date-time's UTC instant,
/// as days since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<i32> {
    let t = s.trim().as_bytes();
    let days = if t.len() == 10 {
        date_prefix(t)?
    } else {
        parse_datetime(s)?.secs.div_euclid(SECS_PER_DAY)
    };
    i32::try_from(days).ok()
}

fn units_per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// An instant in `unit` since the epoch (finer digits truncated), if it fits an `i64`.
pub(crate) fn instant_in(i: Instant, unit: TimeUnit) -> Option<i64> {
    let per_sec = units_per_second(unit);
    let nanos_per_unit = 1_000_000_000 / per_sec;
    i.secs
        .checked_mul(per_sec)?
        .checked_add(i64::from(i.nanos) / nanos_per_unit)
}

/// Whole epoch seconds in `unit`, if they fit.
pub(crate) fn epoch_int(secs: i64, unit: TimeUnit) -> Option<i64> {
    secs.checked_mul(units_per_second(unit))
}

/// How many decimal digits of a second `unit` keeps (0, 3, 6 or 9).
pub(crate) fn fraction_digits(unit: TimeUnit) -> i8 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(s: &str) -> Option<i64> {
        instant_in(parse_datetime(s)?, TimeUnit::Microsecond)
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_ymd(1970, 1, 1), Some(0));
        assert_eq!(days_from_ymd(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_ymd(1969, 12, 31), Some(-1));
        assert_eq!(days_from_ymd(2024, 2, 29), Some(19_782));
        assert_eq!(days_from_ymd(2023, 2, 29), None);
        assert_eq!(days_from_ymd(2023, 13, 1), None);
    }

    #[test]
    fn datetimes() {
        assert_eq!(micros("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(micros("1970-01-01T00:00:01.5+00:00"), Some(1_500_000));
        assert_eq!(micros("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(micros("1970-01-01T00:00:00-0130"), Some(5_400_000_000));
        assert_eq!(micros("1970-01-01 00:00:00.0000019"), Some(1));
        assert_eq!(micros("1970/01/01 00:01"), Some(60_000_000));
        assert_eq!(micros("01/02/1970"), Some(86_400_000_000));
        assert_eq!(micros("1969-12-31T23:59:59.999999Z"), Some(-1));
        assert_eq!(micros("1970-01-01T24:00:00Z"), None);
        assert_eq!(micros("1970-01-01T00:00:00."), None);
        assert_eq!(micros("1970-01-01X00:00:00"), None);
        assert_eq!(micros("1970-01-01T00:00:00+2"), None);
        assert_eq!(micros("yesterday"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1970/01/02"), Some(1));
        assert_eq!(parse_date("01/02/1970"), Some(1));
        assert_eq!(parse_date("02-01-1970"), Some(1));
        assert_eq!(parse_date("1970-01-02T23:30:00-01:00"), Some(2));
        assert_eq!(parse_date("1970-13-02"), None);
    }

    #[test]
    fn epochs() {
        assert_eq!(epoch_int(2, TimeUnit::Millisecond), Some(2_000));
        assert_eq!(epoch_int(i64::MAX, TimeUnit::Second), Some(i64::MAX));
        assert_eq!(epoch_int(i64::MAX, TimeUnit::Millisecond), None);
    }
}
