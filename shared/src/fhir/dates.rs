//! FHIR dates and instants as time ranges: what a search value or a partial `dateTime`
//! covers (`2026` is the whole year, `2026-12-01` the whole day in UTC,
//! `2026-12-01T09:00:00+01:00` that second), and the `date` search prefixes over them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

/// An instant, in UTC.
pub type Instant = DateTime<Utc>;

/// The range `[start, end)` a FHIR `date`, `dateTime` or `instant` value covers; `None`
/// when it is none of those. A time must carry its zone (FHIR requires one with a time).
pub fn range(value: &str) -> Option<(Instant, Instant)> {
    let date = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let midnight =
        |d: NaiveDate| -> Option<Instant> { Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?)) };
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|s| s.iter().all(u8::is_ascii_digit))
            .and_then(|_| value.get(r)?.parse::<u32>().ok())
    };
    match b.len() {
        4 => {
            let y = digits(0..4)? as i32;
            Some((midnight(date(y, 1, 1)?)?, midnight(date(y + 1, 1, 1)?)?))
        }
        7 if b[4] == b'-' => {
            let (y, m) = (digits(0..4)? as i32, digits(5..7)?);
            let start = date(y, m, 1)?;
            let next = if m == 12 {
                date(y + 1, 1, 1)?
            } else {
                date(y, m + 1, 1)?
            };
            Some((midnight(start)?, midnight(next)?))
        }
        10 if b[4] == b'-' && b[7] == b'-' => {
            let d = date(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
            Some((midnight(d)?, midnight(d.succ_opt()?)?))
        }
        _ => {
            let t = instant(value)?;
            // A second, or a millisecond when fractions were given.
            let width = if value.contains('.') {
                Duration::milliseconds(1)
            } else {
                Duration::seconds(1)
            };
            Some((t, t + width))
        }
    }
}

/// A `dateTime` with a time and a zone (seconds optional, as FHIR `date` search values
/// write them): `2026-12-01T09:00Z`, `2026-12-01T09:00:00.250+01:00`.
pub fn instant(value: &str) -> Option<Instant> {
    if value.len() < 16 || value.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    // `hh:mm` followed by the zone: add the seconds RFC 3339 requires.
    let with_seconds = if value.as_bytes().get(16).is_some_and(|c| *c != b':') {
        format!("{}:00{}", &value[..16], &value[16..])
    } else {
        value.to_owned()
    };
    let t = DateTime::parse_from_rfc3339(&with_seconds).ok()?;
    (t.year() >= 1).then(|| t.with_timezone(&Utc))
}

/// The bounds (`>= lo`, `< hi`) a `date` search value selects, with its prefix.
pub fn bounds(value: &str) -> Result<(Option<Instant>, Option<Instant>), String> {
    let (prefix, rest) = match value.get(..2) {
        Some(p) if p.bytes().all(|b| b.is_ascii_lowercase()) => (p, &value[2..]),
        _ => ("eq", value),
    };
    let (start, end) = range(rest).ok_or_else(|| {
        "must be a date (YYYY, YYYY-MM, YYYY-MM-DD) or a dateTime with its zone, \
         after an optional prefix eq, ge, gt, le or lt"
            .to_owned()
    })?;
    match prefix {
        "eq" => Ok((Some(start), Some(end))),
        "ge" => Ok((Some(start), None)),
        "gt" => Ok((Some(end), None)),
        "le" => Ok((None, Some(end))),
        "lt" => Ok((None, Some(start))),
        other => Err(format!(
            "the prefix {other} is not supported; use eq, ge, gt, le or lt"
        )),
    }
}

/// RFC 3339 in UTC, as statements bind instants.
pub fn to_rfc3339(t: Instant) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ranges_of_partial_values() {
        assert_eq!(
            range("2026"),
            Some((at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")))
        );
        assert_eq!(
            range("2026-12"),
            Some((at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z")))
        );
        assert_eq!(
            range("2024-02-29"),
            Some((at("2024-02-29T00:00:00Z"), at("2024-03-01T00:00:00Z")))
        );
        assert_eq!(
            range("2026-12-01T09:00+01:00"),
            Some((at("2026-12-01T08:00:00Z"), at("2026-12-01T08:00:01Z")))
        );
        assert_eq!(
            range("2026-12-01T09:00:00.250Z").map(|r| r.1 - r.0),
            Some(Duration::milliseconds(1))
        );
        for bad in [
            "",
            "26",
            "2026-13",
            "2023-02-29",
            "2026-12-01T09:00",
            "2026-12-01 09:00Z",
            "2026-1-01",
            "-001",
            "２０２６",
        ] {
            assert_eq!(range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn prefixes_select_bounds() {
        let day = ("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z");
        assert_eq!(
            bounds("2026-12-01").unwrap(),
            (Some(at(day.0)), Some(at(day.1)))
        );
        assert_eq!(bounds("ge2026-12-01").unwrap(), (Some(at(day.0)), None));
        assert_eq!(bounds("gt2026-12-01").unwrap(), (Some(at(day.1)), None));
        assert_eq!(bounds("le2026-12-01").unwrap(), (None, Some(at(day.1))));
        assert_eq!(bounds("lt2026-12-01").unwrap(), (None, Some(at(day.0))));
        assert!(bounds("ne2026-12-01").unwrap_err().contains("ne"));
        assert!(bounds("ge").is_err());
        assert!(bounds("tomorrow").is_err());
        assert_eq!(
            to_rfc3339(at("2026-12-01T09:00:00+01:00")),
            "2026-12-01T08:00:00Z"
        );
    }
}
