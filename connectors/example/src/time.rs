//! Timestamps as the simulated API writes and reads them.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 in UTC with a `Z`, without a fraction when the instant is a whole second
/// (`2025-01-01T00:01:40Z`), as most REST APIs print them.
pub(crate) fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp with any offset.
pub(crate) fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|ts| ts.with_timezone(&Utc))
}

/// The current time at microsecond precision: the precision of the Arrow timestamps the
/// records land in, so a cursor never carries digits the destination cannot hold.
pub(crate) fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_whole_and_fractional_seconds() {
        let whole = parse_ts("2025-01-01T00:01:40Z").unwrap();
        assert_eq!(format_ts(whole), "2025-01-01T00:01:40Z");
        let frac = parse_ts("2025-01-01T01:01:40.123456+01:00").unwrap();
        assert_eq!(format_ts(frac), "2025-01-01T00:01:40.123456Z");
        assert!(parse_ts("yesterday").is_none());
        assert_eq!(now_micros().timestamp_subsec_nanos() % 1000, 0);
    }
}
