//! Which locale a page is rendered in, and why.
//!
//! The supported locales are exactly the folders of `locales/` embedded by `build.rs`
//! (adding a locale is adding a folder); a [`Locale`] can only name one of them, so past
//! [`negotiate`] nothing re-checks a tag. Each folder declares its own writing direction and
//! autonym in its Fluent files (`locale-direction`, `locale-name`).
//!
//! Order of precedence ([`negotiate`]): `?locale=` > `locale` cookie > `Accept-Language` >
//! the tenant's default > [`Locale::fallback`] (`fr`).
//!
//! `Accept-Language` is parsed here ([`parse_accept_language`], RFC 9110 §12.4.2) rather than
//! with `fluent-langneg`, which ignores q-values (`en;q=0` would still pick `en`).
//!
//! # Accept-Language matching rules
//! Ranges are walked by descending quality; at equal quality a specific range is tried before
//! `*` (RFC 4647 §3.3.1: `*` stands for "every tag no other range names").
//! For a range with q > 0:
//! 1. a supported tag equal to the range (`es`);
//! 2. a supported tag the range matches by basic filtering (`pt` → a `pt-BR` folder);
//! 3. RFC 4647 §3.4 lookup truncation of the range (`es-MX` → `es`, `zh-Hant-TW` →
//!    `zh-Hant` → `zh`), dropping a single-letter subtag left at the end;
//! 4. for `*`: the tenant default, then `fr`, then the other locales in embedded order —
//!    only those that no specific range names (a locale named with a lower q waits for its
//!    own range, one named with q=0 is excluded).
//!
//! A candidate is *excluded* when the most specific range matching its tag (basic filtering,
//! `*` least specific, ties broken by the highest q) has q=0. Consequences, chosen on purpose:
//! - `en;q=0, en-GB` does **not** give `en`: what we would serve is the tag `en`, and the
//!   range naming that exact tag refuses it. `en-GB;q=0, en` does give `en`.
//! - `fr-CA;q=0, fr-BE` gives `fr`: refusing Canadian French says nothing about generic `fr`.
//! - `*;q=0` excludes only languages the header does not name: `en-GB, *;q=0` still falls
//!   back to `en` (the fallback stands for the named `en-GB`), so for truncation (step 3) only
//!   a non-wildcard range can exclude.
//! - `en, en;q=0` (contradictory duplicates): the highest q wins, `en` is acceptable.
//!
//! When no range yields a locale: the tenant default if not excluded, else `fr` if not
//! excluded, else the first embedded locale not excluded, else `fr` anyway — a page must be
//! rendered, and RFC 9110 allows disregarding the header rather than answering 406.

use std::cmp::Reverse;
use std::fmt;

use crate::embedded::EMBEDDED_LOCALES;

/// Tag of the locale used when nothing else applies.
const FALLBACK_TAG: &str = "fr";

/// Longest `Accept-Language` value looked at, in bytes; the rest is ignored (cut at the last
/// comma before the limit, so no range is truncated into a different one).
pub const MAX_ACCEPT_LANGUAGE_LEN: usize = 2048;

/// Most entries kept from one `Accept-Language` value (browsers send a handful).
pub const MAX_LANGUAGE_RANGES: usize = 32;

/// Longest language range or tag accepted, in bytes (RFC 5646 §4.4.1 asks for at least 35).
const MAX_RANGE_LEN: usize = 64;

/// A supported locale: one of the folders of `locales/` embedded at build time.
///
/// Ordered and iterated in the embedded order (sorted by tag).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(usize);

/// Writing direction of a locale, for `<html dir="…">`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left (Arabic).
    Rtl,
}

impl Direction {
    /// The HTML `dir` attribute value: `"ltr"` or `"rtl"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Locale {
    /// The supported locale with exactly this tag, compared case-insensitively
    /// (`"FR"` → `fr`; `"fr-CA"` → `None`, see [`Locale::from_tag_lenient`]).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        EMBEDDED_LOCALES
            .iter()
            .position(|(t, _)| t.eq_ignore_ascii_case(tag))
            .map(Locale)
    }

    /// Like [`Locale::from_tag`], but also accepts a more specific tag of a supported locale
    /// (RFC 4647 lookup: `es-MX` → `es`, `zh-Hant-TW` → `zh-Hant` → `zh`), `_` as a separator
    /// (`es_MX`) and surrounding whitespace or double quotes. For values a user or a tenant
    /// chose: `?locale=`, the `locale` cookie, the tenant's default. Garbage → `None`.
    pub fn from_tag_lenient(value: &str) -> Option<Locale> {
        let value = value.trim().trim_matches('"').trim();
        if value.len() > MAX_RANGE_LEN {
            return None;
        }
        let normalized = value.replace('_', "-");
        if !is_basic_range(&normalized) {
            return None;
        }
        lookup_chain(&normalized).find_map(Locale::from_tag)
    }

    /// Every supported locale, in the embedded order (sorted by tag).
    pub fn all() -> impl ExactSizeIterator<Item = Locale> + Clone {
        (0..EMBEDDED_LOCALES.len()).map(Locale)
    }

    /// The locale used when nothing else applies: `fr`.
    pub fn fallback() -> Locale {
        // The `fr` folder's presence is checked by a test; index 0 keeps this panic-free.
        Locale::from_tag(FALLBACK_TAG).unwrap_or(Locale(0))
    }

    /// The BCP 47 tag, spelled as the folder is (`"fr"`, `"ar"`): for `<html lang>` and
    /// `Content-Language`, and as the edge cache key's locale part.
    pub fn tag(&self) -> &'static str {
        EMBEDDED_LOCALES[self.0].0
    }

    /// Writing direction, declared by the locale's own `locale-direction` message
    /// (`ltr`/`rtl`); if that is missing or invalid, derived from the tag's script.
    pub fn dir(&self) -> Direction {
        super::messages::direction(*self)
    }

    /// The locale's name in its own language (`locale-name`: "Français", "العربية"), for the
    /// language switcher.
    pub fn autonym(&self) -> String {
        super::messages::autonym(*self).to_owned()
    }

    /// Position in the embedded table (for per-locale tables built at run time).
    pub(crate) fn index(self) -> usize {
        self.0
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Locale").field(&self.tag()).finish()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Where the negotiated locale came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LocaleSource {
    /// The `?locale=` query parameter.
    Query,
    /// The `locale` cookie.
    Cookie,
    /// The `Accept-Language` header.
    AcceptLanguage,
    /// The tenant's default locale.
    Tenant,
    /// The platform fallback ([`Locale::fallback`]), or the header refused everything else.
    Default,
}

impl LocaleSource {
    /// True when the visitor chose the locale explicitly (query or cookie): such a page
    /// depends on more than the shared cache key and must be `Cache-Control: private`.
    pub fn is_user_choice(self) -> bool {
        matches!(self, LocaleSource::Query | LocaleSource::Cookie)
    }
}

/// Picks the locale of a request: `?locale=` > `locale` cookie > `Accept-Language` > tenant
/// default > `fr`. See the module documentation for the matching rules.
///
/// `query` and `cookie` are the already-decoded values; an unsupported or malformed value is
/// ignored (falls through), and a region variant of a supported locale is accepted
/// ([`Locale::from_tag_lenient`]). `tenant_default` is the tenant's configured tag.
pub fn negotiate(
    query: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
    tenant_default: Option<&str>,
) -> (Locale, LocaleSource) {
    let ranges = accept_language
        .map(parse_accept_language)
        .unwrap_or_default();
    negotiate_parsed(
        query,
        cookie,
        &ranges,
        tenant_default.and_then(Locale::from_tag_lenient),
    )
}

/// [`negotiate`] with `Accept-Language` already parsed and the tenant default resolved.
fn negotiate_parsed(
    query: Option<&str>,
    cookie: Option<&str>,
    ranges: &[LanguageRange],
    tenant: Option<Locale>,
) -> (Locale, LocaleSource) {
    if let Some(locale) = query.and_then(Locale::from_tag_lenient) {
        return (locale, LocaleSource::Query);
    }
    if let Some(locale) = cookie.and_then(Locale::from_tag_lenient) {
        return (locale, LocaleSource::Cookie);
    }
    if let Some(locale) = best_match(ranges, tenant) {
        return (locale, LocaleSource::AcceptLanguage);
    }
    if let Some(locale) = tenant.filter(|l| !excluded(ranges, l.tag())) {
        return (locale, LocaleSource::Tenant);
    }
    let fallback = Locale::fallback();
    let locale = std::iter::once(fallback)
        .chain(Locale::all())
        .find(|l| !excluded(ranges, l.tag()))
        .unwrap_or(fallback);
    (locale, LocaleSource::Default)
}

/// The locale of a request whose clinic is not known yet (before its directory entry is
/// read), or `None` when the clinic's default could change it: `*` stands first for the
/// clinic's default, and a header that accepts nothing supported falls back to it.
///
/// Exact by construction rather than by a second set of rules: the answer is the one
/// [`negotiate`] gives for every possible default (none, or any supported locale — an
/// unsupported default behaves as none), so the edge can pick a cached page under this
/// locale without ever serving one another clinic default would not have chosen. The
/// header is parsed once (this runs on every cached page).
pub fn negotiate_before_tenant(
    query: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
) -> Option<(Locale, LocaleSource)> {
    let ranges = accept_language
        .map(parse_accept_language)
        .unwrap_or_default();
    let without = negotiate_parsed(query, cookie, &ranges, None);
    Locale::all()
        .all(|default| negotiate_parsed(query, cookie, &ranges, Some(default)) == without)
        .then_some(without)
}

/// One entry of an `Accept-Language` value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LanguageRange {
    range: String,
    quality: u16,
}

impl LanguageRange {
    /// The range, lowercased: `*` or a basic language range such as `en-gb`.
    pub fn range(&self) -> &str {
        &self.range
    }

    /// The weight in thousandths: 1000 is `q=1` (the default), 0 means "not acceptable".
    pub fn quality(&self) -> u16 {
        self.quality
    }

    /// True for `*`.
    pub fn is_wildcard(&self) -> bool {
        self.range == "*"
    }

    /// False for `q=0`.
    pub fn is_acceptable(&self) -> bool {
        self.quality > 0
    }

    /// How specifically this range matches `tag` under RFC 4647 basic filtering: `None` if it
    /// does not match, 0 for `*`, else the range's length (longer = more specific).
    fn specificity_for(&self, tag: &str) -> Option<usize> {
        if self.is_wildcard() {
            return Some(0);
        }
        let r = self.range.as_str();
        let matches = tag.len() >= r.len()
            && tag.as_bytes()[..r.len()].eq_ignore_ascii_case(r.as_bytes())
            && (tag.len() == r.len() || tag.as_bytes()[r.len()] == b'-');
        matches.then_some(r.len())
    }
}

/// Parses an `Accept-Language` value (RFC 9110 §12.4.2):
/// `#( language-range [ OWS ";" OWS "q=" qvalue ] )`.
///
/// Returns the valid entries, lowercased, stably sorted by descending quality; `q=0` entries
/// are kept (they exclude). Never fails: an entry that is not a valid language range
/// (`1*8ALPHA *("-" 1*8alphanum)` or `*`) or has an invalid weight (`q=2`, `q=0.1234`,
/// `q=abc`, `q=`, a bare `q`, two `q`s) is skipped, the others are kept.
///
/// Lenient where that costs nothing: whitespace around `=`, `Q=`, an empty parameter
/// (`en;`), other parameters (`en;foo="a,b";q=0.5`, quoted commas and semicolons respected).
/// Bounded: at most [`MAX_ACCEPT_LANGUAGE_LEN`] bytes are read and [`MAX_LANGUAGE_RANGES`]
/// entries kept.
pub fn parse_accept_language(header: &str) -> Vec<LanguageRange> {
    let header = truncate_at_comma(header, MAX_ACCEPT_LANGUAGE_LEN);
    let mut ranges = Vec::new();
    for entry in split_unquoted(header, b',') {
        if ranges.len() == MAX_LANGUAGE_RANGES {
            break;
        }
        if let Some(range) = parse_entry(entry) {
            ranges.push(range);
        }
    }
    ranges.sort_by_key(|r| Reverse(r.quality));
    ranges
}

/// The best supported locale for already-parsed ranges, or `None` if the ranges name
/// nothing acceptable. `wildcard_preference` (the tenant default) is what `*` gives first.
pub fn best_match(ranges: &[LanguageRange], wildcard_preference: Option<Locale>) -> Option<Locale> {
    let mut walk: Vec<&LanguageRange> = ranges.iter().filter(|r| r.is_acceptable()).collect();
    // Stable: header order is kept among equals; a specific range goes before `*`.
    walk.sort_by_key(|r| (Reverse(r.quality), r.is_wildcard()));
    for range in walk {
        let found = if range.is_wildcard() {
            wildcard_preference
                .into_iter()
                .chain(std::iter::once(Locale::fallback()))
                .chain(Locale::all())
                .find(|l| named_only_by_wildcard(ranges, l.tag()))
        } else {
            match_range(ranges, &range.range)
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Steps 1–3 of the module documentation for one specific range.
fn match_range(ranges: &[LanguageRange], range: &str) -> Option<Locale> {
    if let Some(l) = Locale::from_tag(range).filter(|l| !excluded(ranges, l.tag())) {
        return Some(l);
    }
    let prefix_of = |tag: &str| {
        tag.len() > range.len()
            && tag.as_bytes()[..range.len()].eq_ignore_ascii_case(range.as_bytes())
            && tag.as_bytes()[range.len()] == b'-'
    };
    if let Some(l) = Locale::all().find(|l| prefix_of(l.tag()) && !excluded(ranges, l.tag())) {
        return Some(l);
    }
    lookup_chain(range)
        .skip(1)
        .filter_map(Locale::from_tag)
        .find(|l| !explicitly_excluded(ranges, l.tag()))
}

/// The most specific range matching `tag` (ties: highest q), optionally ignoring `*`.
fn governing_quality(
    ranges: &[LanguageRange],
    tag: &str,
    with_wildcard: bool,
) -> Option<(usize, u16)> {
    ranges
        .iter()
        .filter(|r| with_wildcard || !r.is_wildcard())
        .filter_map(|r| r.specificity_for(tag).map(|s| (s, r.quality)))
        .max()
}

/// The most specific range naming `tag` (`*` included) refuses it with q=0.
fn excluded(ranges: &[LanguageRange], tag: &str) -> bool {
    matches!(governing_quality(ranges, tag, true), Some((_, 0)))
}

/// The most specific non-wildcard range naming `tag` refuses it with q=0.
fn explicitly_excluded(ranges: &[LanguageRange], tag: &str) -> bool {
    matches!(governing_quality(ranges, tag, false), Some((_, 0)))
}

/// `tag` is acceptable through `*` alone: no specific range names it, and `*` has q > 0.
fn named_only_by_wildcard(ranges: &[LanguageRange], tag: &str) -> bool {
    matches!(governing_quality(ranges, tag, true), Some((0, q)) if q > 0)
}

/// `tag`, then its RFC 4647 §3.4 lookup truncations: `zh-hant-tw`, `zh-hant`, `zh`; a
/// single-letter subtag left at the end is dropped too (`en-a-bbb-x-y` → `en`).
fn lookup_chain(tag: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(tag), |t| {
        let mut t = &t[..t.rfind('-')?];
        while let Some(i) = t.rfind('-') {
            if t.len() - i - 1 == 1 {
                t = &t[..i];
            } else {
                break;
            }
        }
        Some(t)
    })
}

/// `1*8ALPHA *("-" 1*8alphanum)`, at most [`MAX_RANGE_LEN`] bytes.
fn is_basic_range(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_RANGE_LEN {
        return false;
    }
    s.split('-').enumerate().all(|(i, sub)| {
        (1..=8).contains(&sub.len())
            && sub.bytes().all(|b| {
                if i == 0 {
                    b.is_ascii_alphabetic()
                } else {
                    b.is_ascii_alphanumeric()
                }
            })
    })
}

/// One `language-range [ weight ]` entry, or `None` if it is not valid.
fn parse_entry(entry: &str) -> Option<LanguageRange> {
    let mut parts = split_unquoted(entry, b';');
    let range = parts.next()?.trim_matches(is_ows);
    if range != "*" && !is_basic_range(range) {
        return None;
    }
    let mut quality = None;
    for param in parts {
        let param = param.trim_matches(is_ows);
        if param.is_empty() {
            continue;
        }
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim_matches(is_ows), Some(v.trim_matches(is_ows))),
            None => (param, None),
        };
        if name.eq_ignore_ascii_case("q") {
            if quality.is_some() {
                return None;
            }
            quality = Some(parse_qvalue(value?)?);
        }
    }
    Some(LanguageRange {
        range: range.to_ascii_lowercase(),
        quality: quality.unwrap_or(1000),
    })
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_qvalue(s: &str) -> Option<u16> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// At most `max` bytes of `s`, cut after the last complete entry (at a comma).
fn truncate_at_comma(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    // A comma is ASCII, so its index is a char boundary.
    match s.as_bytes()[..max].iter().rposition(|&b| b == b',') {
        Some(i) => &s[..i],
        None => "",
    }
}

/// Splits `s` at `sep` outside double-quoted strings (with `\` escapes inside quotes), so
/// that a quoted parameter value cannot split an entry.
fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut pos = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let (mut quoted, mut escaped) = (false, false);
        while pos < bytes.len() {
            let b = bytes[pos];
            if escaped {
                escaped = false;
            } else if quoted && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
            } else if !quoted && b == sep {
                // `sep` is ASCII, so `start..pos` are char boundaries.
                let piece = &s[start..pos];
                pos += 1;
                start = pos;
                return Some(piece);
            }
            pos += 1;
        }
        done = true;
        Some(&s[start..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(header: &str) -> Vec<(String, u16)> {
        parse_accept_language(header)
            .into_iter()
            .map(|r| (r.range, r.quality))
            .collect()
    }

    fn t(list: &[(&str, u16)]) -> Vec<(String, u16)> {
        list.iter().map(|&(r, q)| (r.to_owned(), q)).collect()
    }

    fn negotiated(header: &str, tenant: Option<&str>) -> (&'static str, LocaleSource) {
        let (l, s) = negotiate(None, None, Some(header), tenant);
        (l.tag(), s)
    }

    // ---- Locale -------------------------------------------------------------------------

    #[test]
    fn embedded_locales_are_the_four_folders_and_valid_tags() {
        let all: Vec<_> = Locale::all().map(|l| l.tag()).collect();
        for tag in ["ar", "en", "es", "fr"] {
            assert!(all.contains(&tag), "{tag} missing from {all:?}");
        }
        for l in Locale::all() {
            assert!(
                l.tag().parse::<unic_langid::LanguageIdentifier>().is_ok(),
                "{l:?}"
            );
            assert!(is_basic_range(l.tag()), "{l:?}");
            assert_eq!(Locale::from_tag(l.tag()), Some(l));
        }
        assert_eq!(Locale::fallback().tag(), "fr");
        let mut sorted = all.clone();
        sorted.sort_unstable();
        assert_eq!(all, sorted, "embedded order is sorted by tag");
    }

    #[test]
    fn from_tag_is_exact_and_case_insensitive() {
        assert_eq!(Locale::from_tag("FR").map(|l| l.tag()), Some("fr"));
        assert_eq!(Locale::from_tag("Ar").map(|l| l.tag()), Some("ar"));
        for bad in ["fr-CA", "", " fr", "de", "*", "f", "fra"] {
            assert_eq!(Locale::from_tag(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn from_tag_lenient_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("es", Some("es")),
            ("ES", Some("es")),
            ("es-MX", Some("es")),
            ("es_mx", Some("es")),
            ("es-419", Some("es")),
            ("ar-MA", Some("ar")),
            ("en-Latn-GB-x-private", Some("en")),
            (" \"en\" ", Some("en")),
            ("zh-Hant-TW", None),
            ("de", None),
            ("", None),
            ("*", None),
            ("es-", None),
            ("-es", None),
            ("es--MX", None),
            ("espagnol-MX", None),
            ("1es", None),
            ("es;q=1", None),
            ("é", None),
            ("../fr", None),
        ];
        for &(input, expected) in cases {
            assert_eq!(
                Locale::from_tag_lenient(input).map(|l| l.tag()),
                expected,
                "{input:?}"
            );
        }
        assert_eq!(
            Locale::from_tag_lenient(&format!("fr-{}", "abcdefgh-".repeat(10))),
            None
        );
    }

    #[test]
    fn direction_and_autonym() {
        for l in Locale::all() {
            let expected = if l.tag() == "ar" {
                Direction::Rtl
            } else {
                Direction::Ltr
            };
            assert_eq!(l.dir(), expected, "{l:?}");
        }
        assert_eq!(Direction::Rtl.as_str(), "rtl");
        assert_eq!(Direction::Ltr.to_string(), "ltr");
        let names: Vec<_> = ["fr", "en", "es", "ar"]
            .iter()
            .map(|t| Locale::from_tag(t).unwrap().autonym())
            .collect();
        assert_eq!(names, ["Français", "English", "Español", "العربية"]);
    }

    #[test]
    fn debug_and_display_show_the_tag() {
        let es = Locale::from_tag("es").unwrap();
        assert_eq!(format!("{es:?}"), "Locale(\"es\")");
        assert_eq!(es.to_string(), "es");
    }

    // ---- parse_accept_language ----------------------------------------------------------

    #[test]
    fn parse_orders_by_q_stably_and_lowercases() {
        assert_eq!(
            tags("en-US, fr;q=0.8, DE;q=0.9, es;q=0.8, *;q=0.1"),
            t(&[
                ("en-us", 1000),
                ("de", 900),
                ("fr", 800),
                ("es", 800),
                ("*", 100)
            ])
        );
        assert_eq!(
            tags("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5").len(),
            5
        );
    }

    #[test]
    fn parse_qvalue_grammar() {
        let cases: &[(&str, Option<u16>)] = &[
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.0", Some(0)),
            ("0.000", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.001", Some(1)),
            ("0.999", Some(999)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("1.5", None),
            ("2", None),
            ("0.1234", None),
            ("abc", None),
            ("", None),
            (".5", None),
            ("-0.5", None),
            ("+0.5", None),
            ("0,5", None),
            ("00.5", None),
            ("0.5 0", None),
            ("1e0", None),
            ("0x1", None),
        ];
        for &(q, expected) in cases {
            assert_eq!(parse_qvalue(q), expected, "q={q:?}");
        }
    }

    #[test]
    fn parse_drops_entries_with_invalid_q_and_keeps_the_rest() {
        for bad in [
            "q=2",
            "q=0.1234",
            "q=abc",
            "q",
            "q=",
            "q=.",
            "q=1.5",
            "q=0.5;q=0.4",
            "q=-1",
        ] {
            assert_eq!(
                tags(&format!("de;{bad}, es;q=0.5")),
                t(&[("es", 500)]),
                "{bad}"
            );
        }
    }

    #[test]
    fn parse_whitespace_case_and_parameters() {
        assert_eq!(tags(" \t en \t ; \t q=0.5 \t "), t(&[("en", 500)]));
        assert_eq!(tags("en;Q=0.5"), t(&[("en", 500)]));
        assert_eq!(tags("en ; q = 0.5"), t(&[("en", 500)]));
        assert_eq!(tags("EN-gb"), t(&[("en-gb", 1000)]));
        assert_eq!(tags("en;"), t(&[("en", 1000)]));
        assert_eq!(tags("en;;q=0.3;"), t(&[("en", 300)]));
        assert_eq!(tags("en;level=1;q=0.4"), t(&[("en", 400)]));
        assert_eq!(
            tags("en;foo=\"a,b;q=0.9\";q=0.2, es"),
            t(&[("es", 1000), ("en", 200)])
        );
        assert_eq!(tags("en;quality=0.1"), t(&[("en", 1000)]));
    }

    #[test]
    fn parse_garbage_is_skipped() {
        let empty: &[&str] = &[
            "",
            " ",
            ",",
            ";;;,,",
            ";",
            "en;q",
            "$",
            "e;q=",
            "123",
            "-",
            "en-",
            "en--gb",
            "*-us",
            "**",
            "en_US",
            "fr.FR",
            "abcdefghi",
            "en-abcdefghi",
            "\u{0}\u{1}\u{7f}",
            "ﬀ",
            "é",
            "en=1",
            "\"en\"",
            "en q=0.5",
        ];
        for h in empty {
            assert_eq!(tags(h), vec![], "{h:?}");
        }
        assert_eq!(
            tags("\u{0}garbage\u{1b}, fr ;q=0.7, ;;;, x-\u{fffd}, es"),
            t(&[("es", 1000), ("fr", 700)])
        );
        // Unbalanced quote: the rest of the header is that parameter's value.
        assert_eq!(
            tags("fr, en;x=\"oops, es"),
            t(&[("fr", 1000), ("en", 1000)])
        );
    }

    #[test]
    fn parse_is_bounded() {
        let many = vec!["en"; 1000].join(",");
        assert_eq!(parse_accept_language(&many).len(), MAX_LANGUAGE_RANGES);

        // Very long: only the first MAX_ACCEPT_LANGUAGE_LEN bytes, cut at a comma.
        let long = format!("es;q=0.5,{},fr", "9;q=0.1,".repeat(10_000));
        assert_eq!(tags(&long), t(&[("es", 500)]));
        let one_huge = "a".repeat(1_000_000);
        assert_eq!(tags(&one_huge), vec![]);
        // Cut exactly at the limit does not turn `en-gb` into `en-g`.
        let padding = " ".repeat(MAX_ACCEPT_LANGUAGE_LEN - 4);
        assert_eq!(tags(&format!("{padding}fr,en-gb")), t(&[("fr", 1000)]));
        // golang/text TestParseAcceptLanguageTooBig: "en-x-a-" × 333 is one invalid range.
        assert_eq!(tags(&"en-x-a-".repeat(333)), vec![]);
        // Multi-byte characters around the limit do not panic.
        let _ = parse_accept_language(&"é,".repeat(MAX_ACCEPT_LANGUAGE_LEN));
        let _ = parse_accept_language(&"日本".repeat(MAX_ACCEPT_LANGUAGE_LEN));
    }

    /// Header → parsed ranges, equivalent to golang/text `language/parse_test.go`
    /// `TestParseAcceptLanguage` (BSD-3-Clause, © The Go Authors), rewritten for our stricter
    /// grammar. Differences, on purpose: we do not map `english`/`deutsch` to tags (they parse
    /// as ranges that match nothing), we do not canonicalize (`i-klingon` stays, Go gives
    /// `tlh`), `q=.1` is invalid per RFC 9110 (Go accepts it), an invalid entry drops only
    /// itself (Go fails the whole header), and `q=0` entries are kept (Go drops them) because
    /// they exclude.
    #[test]
    fn parse_table_from_golang_text() {
        type Case = (&'static str, &'static [(&'static str, u16)]);
        let cases: &[Case] = &[
            ("en", &[("en", 1000)]),
            ("   en", &[("en", 1000)]),
            ("en   ", &[("en", 1000)]),
            ("  en  ", &[("en", 1000)]),
            ("en,", &[("en", 1000)]),
            (",en", &[("en", 1000)]),
            (",,,en,,,", &[("en", 1000)]),
            (",en;q=1", &[("en", 1000)]),
            ("", &[]),
            ("aa;", &[("aa", 1000)]),
            (";", &[]),
            ("$", &[]),
            ("e;", &[("e", 1000)]),
            ("aa;q", &[]),
            ("aa;q=", &[]),
            ("aa;q=.", &[]),
            ("00-t-0o", &[]),
            (" english ;q=.1", &[]),
            (" english ;q=0.1", &[("english", 100)]),
            ("en;q=.1", &[]),
            ("en;q=0.1", &[("en", 100)]),
            ("*", &[("*", 1000)]),
            ("en,de", &[("en", 1000), ("de", 1000)]),
            ("en,de;q=0.5", &[("en", 1000), ("de", 500)]),
            (
                "  en ;   q    =   0.5    ,  , de;q=0.8",
                &[("de", 800), ("en", 500)],
            ),
            (
                "en,de,fr,i-klingon",
                &[
                    ("en", 1000),
                    ("de", 1000),
                    ("fr", 1000),
                    ("i-klingon", 1000),
                ],
            ),
            (
                "en;q=0.1,de;q=0.2,fr;q=0.2,i-klingon;q=0.4",
                &[("i-klingon", 400), ("de", 200), ("fr", 200), ("en", 100)],
            ),
            (
                "en;q=0.1,de;q=0,fr;q=0.2,i-klingon;q=0.0",
                &[("fr", 200), ("en", 100), ("de", 0), ("i-klingon", 0)],
            ),
        ];
        for &(header, expected) in cases {
            assert_eq!(tags(header), t(expected), "{header:?}");
        }
    }

    // ---- negotiation --------------------------------------------------------------------

    /// Header → negotiated tag with no tenant default (so `*` gives `fr`).
    ///
    /// Cases derived from jshttp/negotiator `test/language.js` (MIT, © Federico Romero,
    /// Isaac Z. Schlueter, Douglas Christopher Wilson), projected onto our four locales: where
    /// negotiator's provided list was `[en, es]` or similar, the expected answer is the same
    /// language here; where negotiator returns nothing, we fall back (`fr`, unless excluded).
    #[test]
    fn negotiation_table_from_negotiator() {
        let cases: &[(&str, &str)] = &[
            ("*", "fr"),
            ("*, en", "en"),
            ("*, en;q=0", "fr"),
            ("*, fr;q=0", "ar"),
            ("*;q=0.8, en, es", "en"),
            ("en", "en"),
            ("en;q=0", "fr"),
            ("en;q=0.8, es", "es"),
            ("en;q=0.9, es;q=0.8, en;q=0.7", "en"),
            ("en-US, en;q=0.8", "en"),
            ("en-US, en-GB", "en"),
            ("en-US;q=0.8, es", "es"),
            ("nl;q=0.5, fr, de, en, it, es, pt, no, se, fi, ro", "fr"),
            ("nl;q=0.5, de, en, it, es, pt, no, se, fi, ro", "en"),
            ("en-US;foo=bar;q=1, es;q=1", "en"),
            ("en-US;foo=\"bar,baz\", es", "en"),
        ];
        for &(header, expected) in cases {
            assert_eq!(negotiated(header, None).0, expected, "{header:?}");
        }
    }

    /// Header → (tenant default, expected tag, source): the cases this module's rules decide.
    #[test]
    fn negotiation_table_edge_cases() {
        use LocaleSource::{AcceptLanguage as A, Default as D, Tenant as T};
        let cases: &[(&str, Option<&str>, &str, LocaleSource)] = &[
            // q ordering
            ("fr;q=0.5, ar;q=0.9, en;q=0.7", None, "ar", A),
            ("es;q=0.001, de", None, "es", A),
            ("de, ES;Q=0.3", None, "es", A),
            // region / script fallback
            ("es-MX", None, "es", A),
            ("es-MX,es;q=0.9,en;q=0.8", None, "es", A),
            ("ar-MA, fr;q=0.9", None, "ar", A),
            ("zh-Hant-TW, en;q=0.5", None, "en", A),
            ("en-GB, fr;q=0.9", None, "en", A),
            ("pt-BR, pt;q=0.9", Some("es"), "es", T),
            ("en-Latn-US-x-twain", None, "en", A),
            // wildcard
            ("*", Some("ar"), "ar", A),
            ("*", Some("es-MX"), "es", A),
            ("*", Some("de"), "fr", A),
            ("de, *;q=0.5", Some("en"), "en", A),
            ("*, es", Some("ar"), "es", A),
            ("*;q=0.5, es;q=0.5", Some("ar"), "es", A),
            ("*;q=0.8, en;q=0.5", Some("en"), "fr", A),
            ("fr;q=0.1, *", Some("fr"), "ar", A),
            ("ar;q=0, *", Some("ar"), "fr", A),
            ("ar;q=0, fr;q=0, *", Some("ar"), "en", A),
            ("*, *;q=0", Some("es"), "es", A),
            // q=0 exclusion
            ("fr;q=0", None, "ar", D),
            ("fr;q=0", Some("es"), "es", T),
            ("es;q=0", Some("es"), "fr", D),
            ("es;q=0, es-MX", Some("en"), "en", T),
            ("en;q=0, en-GB", None, "fr", D),
            ("en-GB;q=0, en", None, "en", A),
            ("en-GB;q=0, en-US", None, "en", A),
            ("fr-CA;q=0, fr-BE", None, "fr", A),
            ("en, en;q=0", None, "en", A),
            ("en-GB, *;q=0", None, "en", A),
            ("de, *;q=0", Some("es"), "fr", D),
            ("*;q=0", Some("es"), "fr", D),
            ("ar;q=0, en;q=0, es;q=0, fr;q=0", None, "fr", D),
            // nothing acceptable / absent
            ("de, it", Some("ar"), "ar", T),
            ("de, it", None, "fr", D),
            ("", Some("en"), "en", T),
            ("", None, "fr", D),
            (";;;,,", Some("es"), "es", T),
            ("de", Some("xx-garbage!"), "fr", D),
        ];
        for &(header, tenant, tag, source) in cases {
            assert_eq!(
                negotiated(header, tenant),
                (tag, source),
                "{header:?} tenant {tenant:?}"
            );
        }
    }

    /// Before the clinic is known, only what no clinic default can change is decided: the
    /// visitor's explicit choice and specific ranges; `*` and "nothing acceptable" wait.
    #[test]
    fn negotiation_before_the_clinic_is_known() {
        use LocaleSource::*;
        let before = |q, c, a| negotiate_before_tenant(q, c, a).map(|(l, s)| (l.tag(), s));
        for (q, c, a, tag, source) in [
            (Some("es"), None, Some("*"), "es", Query),
            (None, Some("ar"), Some("*"), "ar", Cookie),
            (None, None, Some("en-GB, *;q=0.1"), "en", AcceptLanguage),
            (
                None,
                None,
                Some("de, es;q=0.5, *;q=0.1"),
                "es",
                AcceptLanguage,
            ),
            (None, None, Some("ar-MA,ar;q=0.9"), "ar", AcceptLanguage),
        ] {
            assert_eq!(before(q, c, a), Some((tag, source)), "{q:?} {c:?} {a:?}");
        }
        for header in [
            "*",
            "*;q=0.5",
            "de, *;q=0.1",
            "*, fr;q=0.5",
            "de, it",
            "",
            "fr;q=0",
        ] {
            assert_eq!(before(None, None, Some(header)), None, "{header:?}");
            // …and what it waits for does differ from one clinic to another.
            let answers: std::collections::HashSet<_> = Locale::all()
                .map(|l| negotiate(None, None, Some(header), Some(l.tag())).0)
                .collect();
            assert!(answers.len() > 1, "{header:?}");
        }
        assert_eq!(
            before(None, None, None),
            None,
            "no header: the clinic decides"
        );
    }

    #[test]
    fn negotiation_precedence() {
        use LocaleSource::*;
        let n = |q, c, a, t| {
            let (l, s) = negotiate(q, c, a, t);
            (l.tag(), s)
        };
        assert_eq!(
            n(Some("es"), Some("en"), Some("ar"), Some("fr")),
            ("es", Query)
        );
        assert_eq!(n(Some("ES-mx"), None, None, None), ("es", Query));
        assert_eq!(
            n(Some("de"), Some("en"), Some("ar"), Some("fr")),
            ("en", Cookie)
        );
        assert_eq!(
            n(Some(""), Some("\"AR\""), Some("es"), None),
            ("ar", Cookie)
        );
        assert_eq!(
            n(Some("<script>"), Some("zz"), Some("es"), Some("fr")),
            ("es", AcceptLanguage)
        );
        assert_eq!(n(None, None, None, Some("ar")), ("ar", Tenant));
        assert_eq!(n(None, None, None, None), ("fr", Default));
        assert_eq!(n(None, None, Some("en;q=0"), Some("en")), ("fr", Default));
        assert!(Query.is_user_choice() && Cookie.is_user_choice());
        assert!(
            !AcceptLanguage.is_user_choice()
                && !Tenant.is_user_choice()
                && !Default.is_user_choice()
        );
    }

    /// Deterministic pseudo-random headers over an alphabet of the characters that matter:
    /// parsing and negotiation never panic, and the bounds hold.
    #[test]
    fn random_headers_never_panic() {
        const ALPHABET: &[&str] = &[
            "en", "fr", "es", "ar", "-", ",", ";", "q", "=", "0", "1", ".", "5", "*", " ", "\t",
            "\"", "\\", "é", "\u{0}", "\u{2068}", "x", "GB", "419", "Q=0.5", ";q=0",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5_000 {
            let len = (next() % 40) as usize;
            let header: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let ranges = parse_accept_language(&header);
            assert!(ranges.len() <= MAX_LANGUAGE_RANGES);
            assert!(
                ranges.windows(2).all(|w| w[0].quality >= w[1].quality),
                "{header:?}"
            );
            assert!(
                ranges
                    .iter()
                    .all(|r| r.quality <= 1000 && (r.is_wildcard() || is_basic_range(&r.range)))
            );
            let (l, _) = negotiate(Some(&header), Some(&header), Some(&header), Some(&header));
            assert!(Locale::all().any(|x| x == l));
        }
    }

    #[test]
    fn lookup_chain_truncates_per_rfc4647() {
        let chain = |t| lookup_chain(t).collect::<Vec<_>>();
        assert_eq!(chain("zh-hant-tw"), ["zh-hant-tw", "zh-hant", "zh"]);
        assert_eq!(chain("en-a-bbb-x-y"), ["en-a-bbb-x-y", "en-a-bbb", "en"]);
        assert_eq!(chain("es"), ["es"]);
    }
}
