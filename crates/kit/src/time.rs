//! Instants as REST APIs write them (RFC 3339, whole seconds), and the read horizon.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// RFC 3339 in UTC with a `Z`, without a fraction for whole seconds (`2024-05-01T10:00:00Z`).
pub fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp with any offset.
pub fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|ts| ts.with_timezone(&Utc))
}

/// One second: the timestamp resolution the strategies assume.
pub const SECOND: TimeDelta = TimeDelta::seconds(1);

/// The newest instant a connector built at `init` reads: the last second that had fully elapsed
/// when it was built.
///
/// An API that stamps changes with whole seconds gives a record changed later in the second the
/// connector was built the same timestamp as one changed earlier in that second. Reading that
/// second now and storing it as done could lose the later change; leaving it to the next run
/// cannot.
pub fn horizon(init: DateTime<Utc>) -> DateTime<Utc> {
    floor_second(init) - SECOND
}

/// `at` rounded down to a whole second.
pub fn floor_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parses_and_floors() {
        let whole = parse_ts("2024-05-01T10:00:00Z").unwrap();
        assert_eq!(format_ts(whole), "2024-05-01T10:00:00Z");
        let shifted = parse_ts("2024-05-01T12:00:00.250+02:00").unwrap();
        assert_eq!(format_ts(shifted), "2024-05-01T10:00:00.250Z");
        assert_eq!(floor_second(shifted), whole);
        assert_eq!(format_ts(horizon(shifted)), "2024-05-01T09:59:59Z");
        assert_eq!(format_ts(horizon(whole)), "2024-05-01T09:59:59Z");
        assert!(parse_ts("last tuesday").is_none());
    }
}
