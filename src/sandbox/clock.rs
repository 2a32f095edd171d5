//! The sandbox clock (wall time plus an offset that tests advance) and the date formats of the
//! wire: `YYYY-MM-DDThh:mm:ssZ` out, ISO-8601 `changes-since` values in (REFERENCE §1.3).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Sandbox "now": real time shifted by `offset_ms` (persisted with the store).
pub(crate) fn now_with_offset(offset_ms: i64) -> DateTime<Utc> {
    Utc::now() + Duration::milliseconds(offset_ms)
}

/// Compute/Glance output format, seconds precision, always `Z`.
pub(crate) fn fmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Identity `expires` format: milliseconds and `Z`.
pub(crate) fn fmt_millis(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Keystone v3 `expires_at` format: microseconds and `Z`.
pub(crate) fn fmt_micros(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses a `changes-since` value: `2011-01-24T17:08Z`, `2011-01-24T17:08:00Z`,
/// fractional seconds, a `+hh:mm`/`+hhmm` offset, no zone (UTC), or a bare date.
/// Anything else (`22-02-2013`, `T12:13Z`) is `None`, which callers turn into a 400.
pub(crate) fn parse_iso(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if v.is_empty() || !v.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    let (naive_part, offset) = split_zone(v)?;
    let naive = parse_naive(naive_part)?;
    let t = offset.from_local_datetime(&naive).single()?;
    Some(t.with_timezone(&Utc))
}

fn split_zone(v: &str) -> Option<(&str, FixedOffset)> {
    let utc = FixedOffset::east_opt(0)?;
    if let Some(rest) = v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
        return Some((rest, utc));
    }
    // An offset can only follow the time part, i.e. after the 'T'.
    let Some(tpos) = v.find(['T', 't']) else {
        return Some((v, utc));
    };
    let time = &v[tpos..];
    if let Some(idx) = time.rfind(['+', '-']) {
        let zone = &time[idx..];
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 && digits.len() != 2 {
            return None;
        }
        let hours: i32 = digits.get(0..2)?.parse().ok()?;
        let minutes: i32 = if digits.len() == 4 {
            digits.get(2..4)?.parse().ok()?
        } else {
            0
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        let off = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?;
        return Some((&v[..tpos + idx], off));
    }
    Some((v, utc))
}

fn parse_naive(v: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 3] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ];
    for f in FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t);
        }
    }
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    date.and_hms_opt(0, 0, 0)
}

/// Utc from a naive literal used by fixtures; falls back to the epoch on a typo.
pub(crate) fn at(literal: &str) -> DateTime<Utc> {
    parse_iso(literal).unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_documented_forms() {
        let want = at("2011-01-24T17:08:00Z");
        assert_eq!(parse_iso("2011-01-24T17:08Z"), Some(want));
        assert_eq!(parse_iso("2011-01-24T17:08:00Z"), Some(want));
        assert_eq!(parse_iso("2011-01-24T17:08:00"), Some(want));
        assert_eq!(parse_iso("2011-01-24T17:08:00.000Z"), Some(want));
        assert_eq!(parse_iso("2011-01-24T12:08:00-05:00"), Some(want));
        assert_eq!(parse_iso("2011-01-24T18:08+0100"), Some(want));
        assert!(parse_iso("2011-01-24").is_some());
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "22-02-2013",
            "T12:13Z",
            "",
            "yesterday",
            "2011-13-45T00:00Z",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats() {
        let t = at("2015-06-05T16:24:57.637Z");
        assert_eq!(fmt(t), "2015-06-05T16:24:57Z");
        assert_eq!(fmt_millis(t), "2015-06-05T16:24:57.637Z");
    }
}
