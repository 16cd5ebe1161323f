//! RFC 3339 times as the envelopes carry them: whole seconds (spec §2.2), UTC `Z`
//! when we write, any offset and fractional seconds accepted when we read.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Formats Unix seconds as `2006-01-02T15:04:05Z`.
pub fn format_rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Parses an RFC 3339 time into Unix seconds (fractions are dropped).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_offsets() {
        assert_eq!(format_rfc3339(1_661_321_924), "2022-08-24T06:18:44Z");
        assert_eq!(parse_rfc3339("2022-08-24T06:18:44Z"), Some(1_661_321_924));
        assert_eq!(
            parse_rfc3339("2023-06-27T13:30:33+08:00"),
            parse_rfc3339("2023-06-27T05:30:33Z")
        );
        assert_eq!(parse_rfc3339("2022-08-24T06:18:44.5Z"), Some(1_661_321_924));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
