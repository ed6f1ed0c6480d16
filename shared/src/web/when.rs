//! Dates, times and plain numbers for pages, in the page's locale.
//!
//! Numbers are CLDR's (ICU4X `icu_decimal`: `1 234,5` in French, `1,234.5` in English).
//! Dates follow each locale's CLDR medium date pattern (`30 nov. 2026`, `Nov 30, 2026`,
//! `30 nov 2026`; Arabic takes CLDR's long `30 نوفمبر 2026`), written as Fluent messages in `locales/<tag>/when.ftl`
//! (month abbreviations from CLDR 49's `abbreviated` format names) rather than with
//! `icu_datetime`, whose baked data for every locale would weigh on the Workers bundle for
//! four patterns. Times are 24-hour `HH:MM` and always in UTC, and say so: clinics have no
//! time zone of their own yet, and a time without its zone would be a lie for half of them.

use chrono::{DateTime, Datelike, Timelike, Utc};
use fixed_decimal::Decimal as FixedDecimal;
use icu_decimal::{DecimalFormatter, DecimalFormatterPreferences};
use icu_locale_core::Locale as IcuLocale;

use crate::i18n::{Arg, locale::Locale, message};

/// An RFC 3339 instant (`2026-11-30T08:00:00Z`, any offset) as seconds since the epoch.
pub fn parse_instant(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp())
}

fn utc(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The UTC day of `secs`, as `YYYY-MM-DD`.
pub fn iso_day(secs: i64) -> String {
    utc(secs).format("%Y-%m-%d").to_string()
}

/// The date of `secs` (UTC) in `locale` (plain text: the caller escapes).
pub fn date(locale: Locale, secs: i64) -> String {
    let d = utc(secs);
    let month = i64::from(d.month());
    let month_name = message(locale, "when-month", &[("month", Arg::Num(month))]);
    let day = d.day().to_string();
    let year = d.year().to_string();
    message(
        locale,
        "when-date",
        &[
            ("day", Arg::Str(&day)),
            ("month", Arg::Str(&month_name)),
            ("year", Arg::Str(&year)),
        ],
    )
}

/// `HH:MM` of `secs` in UTC.
pub fn time(secs: i64) -> String {
    let d = utc(secs);
    format!("{:02}:{:02}", d.hour(), d.minute())
}

/// The date and time of `secs` in `locale`, naming UTC (plain text).
pub fn date_time(locale: Locale, secs: i64) -> String {
    let date = date(locale, secs);
    let time = time(secs);
    message(
        locale,
        "when-date-time",
        &[("date", Arg::Str(&date)), ("time", Arg::Str(&time))],
    )
}

/// An appointment's date and time (UTC, said so), with its weekday: `mardi 1 déc. 2026 à
/// 08:05 UTC`.
pub fn weekday_date_time(locale: Locale, secs: i64) -> String {
    let weekday = i64::from(utc(secs).weekday().number_from_monday());
    let weekday = message(locale, "when-weekday", &[("weekday", Arg::Num(weekday))]);
    let datetime = date_time(locale, secs);
    message(
        locale,
        "when-weekday-date-time",
        &[
            ("weekday", Arg::Str(&weekday)),
            ("datetime", Arg::Str(&datetime)),
        ],
    )
}

/// An instant the region gave (RFC 3339, any offset) as HTML: `<time datetime>` for
/// machines, [`date_time`] for people; the text itself (escaped) if it is no instant.
pub fn time_element(locale: Locale, instant: &str) -> String {
    let escape = super::escape;
    match parse_instant(instant) {
        Some(secs) => format!(
            r#"<time datetime="{}">{}</time>"#,
            escape(instant),
            escape(&date_time(locale, secs))
        ),
        None => escape(instant),
    }
}

/// A decimal number written as digits (`71.5`, `-3`, `1234`) as people of `locale` write
/// it; the text itself when it is not a plain decimal.
pub fn number(locale: Locale, digits: &str) -> String {
    let Ok(value) = FixedDecimal::try_from_str(digits) else {
        return digits.to_owned();
    };
    let Ok(icu) = IcuLocale::try_from_str(locale.tag()) else {
        return digits.to_owned();
    };
    match DecimalFormatter::try_new(DecimalFormatterPreferences::from(&icu), Default::default()) {
        Ok(f) => f.format(&value).to_string(),
        Err(_) => digits.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(tag: &str) -> Locale {
        Locale::from_tag(tag).unwrap()
    }

    #[test]
    fn numbers_follow_cldr() {
        assert_eq!(number(l("en"), "1234.5"), "1,234.5");
        assert_eq!(number(l("fr"), "1234.5"), "1\u{202f}234,5");
        assert_eq!(number(l("es"), "71.5"), "71,5");
        assert_eq!(number(l("en"), "not a number"), "not a number");
    }

    #[test]
    fn dates_are_localized_and_times_say_utc() {
        let t = parse_instant("2026-11-30T08:05:00+01:00").unwrap();
        assert_eq!(iso_day(t), "2026-11-30");
        assert_eq!(time(t), "07:05");
        assert_eq!(message_free(&date(l("en"), t)), "Nov 30, 2026");
        assert_eq!(message_free(&date(l("fr"), t)), "30 nov. 2026");
        assert!(message_free(&date_time(l("fr"), t)).contains("07:05 UTC"));
        assert!(message_free(&date(l("ar"), t)).contains("2026"));
    }

    /// Without Fluent's isolation marks.
    fn message_free(s: &str) -> String {
        s.replace(['\u{2068}', '\u{2069}'], "")
    }
}
