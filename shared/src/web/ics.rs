//! iCalendar files (RFC 5545) for a booked appointment: one `VEVENT` in a `VCALENDAR`,
//! times in UTC (`…Z`: the clinic's time zone is not modelled, and UTC needs no
//! `VTIMEZONE`), lines ended by CRLF and folded at 75 octets (§3.1) without splitting a
//! UTF-8 character, text escaped per §3.3.11.

use std::fmt::Write as _;

use crate::fhir::dates::Instant;

/// The media type of the file (RFC 5545 §8.1), UTF-8 being its only charset.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// The product identifier every file names (`PRODID`, §3.7.3).
const PRODID: &str = "-//Telemed Edge//Booking//EN";

/// An event to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Globally unique and stable for the appointment (§3.8.4.7): a client that imports
    /// the file twice updates one event.
    pub uid: &'a str,
    /// When the file was made (`DTSTAMP`).
    pub stamp: Instant,
    pub start: Instant,
    pub end: Instant,
    /// Already localized.
    pub summary: &'a str,
    pub description: Option<&'a str>,
    pub location: Option<&'a str>,
    /// A link back to the appointment's page.
    pub url: Option<&'a str>,
}

/// A `DATE-TIME` in UTC form (§3.3.5, form #2).
fn utc(t: Instant) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a `TEXT` value (§3.3.11): backslash, semicolon, comma, and newlines as `\n`.
/// Other control characters are not allowed in TEXT: they are dropped.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded (§3.1): no line longer than 75 octets before its CRLF, each
/// continuation starting with a space, never inside a UTF-8 sequence.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            // The leading space counts toward the continuation line's 75 octets.
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// The calendar file of one event.
pub fn calendar(e: &Event<'_>) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", escape_text(e.uid)),
        format!("DTSTAMP:{}", utc(e.stamp)),
        format!("DTSTART:{}", utc(e.start)),
        format!("DTEND:{}", utc(e.end)),
        format!("SUMMARY:{}", escape_text(e.summary)),
    ];
    if let Some(d) = e.description {
        lines.push(format!("DESCRIPTION:{}", escape_text(d)));
    }
    if let Some(l) = e.location {
        lines.push(format!("LOCATION:{}", escape_text(l)));
    }
    if let Some(u) = e.url {
        // A URI value is not TEXT: no escaping, but it must not break the line.
        if !u.contains(['\r', '\n']) {
            lines.push(format!("URL:{u}"));
        }
    }
    lines.push("STATUS:CONFIRMED".to_owned());
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for l in &lines {
        let _ = write!(out, "{}", fold(l));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    /// Undoes folding (§3.1: a CRLF followed by one space or tab is removed).
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "").replace("\r\n\t", "")
    }

    /// Reads TEXT back (§3.3.11).
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n' | 'N') => out.push('\n'),
                    Some(o) => out.push(o),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// A minimal reader of what RFC 5545 says a calendar stream is: CRLF lines of at most
    /// 75 octets, unfolded into `NAME:VALUE` content lines, BEGIN/END properly nested.
    fn parse(s: &str) -> Vec<(String, String)> {
        assert!(s.ends_with("\r\n"), "a stream ends with CRLF");
        for physical in s.split("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical:?}",
                physical.len()
            );
            assert!(!physical.contains('\n') && !physical.contains('\r'));
        }
        let mut stack = Vec::new();
        let mut props = Vec::new();
        for line in unfold(s).split("\r\n").filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').expect("NAME:VALUE");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'-' || b.is_ascii_digit()),
                "{name}"
            );
            match name {
                "BEGIN" => stack.push(value.to_owned()),
                "END" => assert_eq!(stack.pop().as_deref(), Some(value)),
                _ => {}
            }
            props.push((name.to_owned(), value.to_owned()));
        }
        assert!(stack.is_empty());
        props
    }

    fn event<'a>(summary: &'a str, description: Option<&'a str>) -> Event<'a> {
        Event {
            uid: "5b0c1a2e-1111-4222-8333-444455556666@clinic.example",
            stamp: Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap(),
            start: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0).unwrap(),
            summary,
            description,
            location: None,
            url: Some("https://clinic.example/patient/appointments/5b0c1a2e"),
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape_text("a\\b;c,d\ne\r\nf\u{7}"),
            "a\\\\b\\;c\\,d\\ne\\nf"
        );
        assert_eq!(unescape(&escape_text("x;y,z\\\nw")), "x;y,z\\\nw");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let line = format!("SUMMARY:{}", "é".repeat(100));
        let folded = fold(&line);
        for l in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(l.len() <= 75, "{}", l.len());
        }
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
        assert_eq!(fold("SHORT:x"), "SHORT:x\r\n");
        // Exactly 75 octets: no fold.
        let exact = "X".repeat(75);
        assert_eq!(fold(&exact), format!("{exact}\r\n"));
        assert!(fold(&"X".repeat(76)).contains("\r\n X"));
    }

    #[test]
    fn a_calendar_has_what_rfc_5545_requires() {
        let summary =
            "Consultation, Dr Benali; cardiologie — موعد طبي مع الدكتور كريم بن علي في العيادة";
        let s = calendar(&event(summary, Some("Ligne 1\nLigne 2")));
        let props = parse(&s);
        let get = |n: &str| {
            props
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {n}"))
        };
        assert_eq!(get("VERSION"), "2.0");
        assert!(!get("PRODID").is_empty());
        assert_eq!(get("DTSTART"), "20261201T080000Z");
        assert_eq!(get("DTEND"), "20261201T083000Z");
        assert_eq!(get("DTSTAMP"), "20261130T160000Z");
        assert!(get("UID").contains('@'));
        assert_eq!(unescape(get("SUMMARY")), summary);
        assert_eq!(unescape(get("DESCRIPTION")), "Ligne 1\nLigne 2");
        assert_eq!(
            props.iter().filter(|(k, _)| k == "BEGIN").count(),
            2,
            "one VCALENDAR, one VEVENT"
        );
        assert!(s.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(s.ends_with("END:VCALENDAR\r\n"));
        // No bare LF anywhere.
        assert_eq!(s.matches('\n').count(), s.matches("\r\n").count());
    }
}
