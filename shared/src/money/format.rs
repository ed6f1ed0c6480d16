//! Money for people: CLDR currency formatting per locale, with ICU4X.
//!
//! `1 234,56 €` (fr), `$1,234.56` (en), `12.345,67 €` (es), `‏1,234.56 US$` (ar): the
//! separators, the symbol, its side and the spaces around it are CLDR's (data version 49,
//! baked into `icu_experimental_data` 0.7), character for character: U+202F NARROW NO-BREAK
//! SPACE groups thousands in French, U+00A0 NO-BREAK SPACE sits before `€`, and Arabic
//! patterns begin with U+200F RIGHT-TO-LEFT MARK so the amount reads correctly inside
//! right-to-left text. Callers must not "clean up" these characters; HTML escaping leaves
//! them alone.
//!
//! The amount is already at the currency's minor units ([`Money`] guarantees it), so ICU4X's
//! own rounding (half away from zero to CLDR's digits, the same rule as ours) never changes
//! what we pass; the tests check that CLDR's digits agree with our table.
//!
//! Fluent's `NUMBER()` is not locale-aware: pages format money here and hand the string to
//! Fluent as an argument.

use fixed_decimal::Decimal as FixedDecimal;
use icu_experimental::dimension::currency::{
    CurrencyType,
    formatter::{CurrencyFormatter, CurrencyFormatterPreferences},
};
use icu_locale_core::{Locale as IcuLocale, subtags::Region};

use super::Money;
use crate::{country::CountryCode, i18n::locale::Locale};

/// Why an amount could not be formatted. None of these happens for the locales of `locales/`
/// and the currencies of the table (the tests format every pair); they exist so that a
/// missing CLDR entry is an error to report rather than a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The locale's tag is not a valid BCP 47 tag for ICU4X.
    #[error("locale {0:?} is not usable for CLDR formatting")]
    Locale(&'static str),
    /// ICU4X has no formatting data for this locale and currency.
    #[error("no CLDR currency data for {currency} in {locale}: {detail}")]
    Data {
        locale: &'static str,
        currency: &'static str,
        detail: String,
    },
    /// The amount could not be handed to ICU4X (cannot happen for a valid `Decimal`).
    #[error("amount {0} cannot be formatted")]
    Amount(String),
}

impl Money {
    /// This amount as people of `locale` write it, with the currency's CLDR symbol (`€`,
    /// `$`, `£`, `F CFA`, `US$` in Arabic…): `1 234,56 €` in `fr`.
    ///
    /// The formatter is built per call: it only points into static baked data, so there is
    /// nothing worth caching behind a lock.
    pub fn format(&self, locale: Locale) -> Result<String, FormatError> {
        format_with(self, locale, None)
    }

    /// Like [`Money::format`], with the conventions of the clinic's country where CLDR has
    /// them: a South African clinic in `en` shows `R1 234,56` (en-ZA) rather than
    /// `ZAR 1,234.56` (en), a Canadian one in `fr` shows `1 234,56 $` (fr-CA), a Moroccan one
    /// in `ar` shows `1.234,56 د.م.` (ar-MA). Where CLDR has no such variant (`es` in
    /// Senegal), the language's own format applies (CLDR locale fallback).
    pub fn format_in_country(
        &self,
        locale: Locale,
        country: &CountryCode,
    ) -> Result<String, FormatError> {
        format_with(self, locale, Some(country))
    }
}

fn format_with(
    money: &Money,
    locale: Locale,
    country: Option<&CountryCode>,
) -> Result<String, FormatError> {
    let tag = locale.tag();
    let code = money.currency().code();
    let data_err = |detail: String| FormatError::Data {
        locale: tag,
        currency: code,
        detail,
    };
    let mut icu_locale = IcuLocale::try_from_str(tag).map_err(|_| FormatError::Locale(tag))?;
    if let Some(country) = country
        && icu_locale.id.region.is_none()
    {
        // A valid `CountryCode` is always a valid region subtag; if not, keep the language.
        icu_locale.id.region = Region::try_from_str(country.as_str()).ok();
    }
    let currency = CurrencyType::try_from_str(code).map_err(|e| data_err(format!("{e:?}")))?;
    let prefs = CurrencyFormatterPreferences::from(&icu_locale);
    let formatter = CurrencyFormatter::try_new_symbol(prefs, currency, Default::default())
        .map_err(|e| data_err(e.to_string()))?;
    let amount = money.amount().to_string();
    let value = FixedDecimal::try_from_str(&amount).map_err(|_| FormatError::Amount(amount))?;
    Ok(formatter.format_fixed_decimal(&value).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    /// One expected output: locale, amount, currency, exact CLDR text, and where it comes from.
    struct Vector {
        locale: &'static str,
        amount: &'static str,
        currency: &'static str,
        expected: &'static str,
        source: &'static str,
    }

    const fn v(
        locale: &'static str,
        amount: &'static str,
        currency: &'static str,
        expected: &'static str,
        source: &'static str,
    ) -> Vector {
        Vector {
            locale,
            amount,
            currency,
            expected,
            source,
        }
    }

    // Sources: CLDR 49 (`common/main/<locale>.xml`, © Unicode, Inc., Unicode-3.0 licence),
    // as baked into icu_experimental_data 0.7.0 / icu_decimal_data 2.4.0:
    // - fr: decimal `,`, group U+202F, currencyFormat `#,##0.00 ¤` with U+00A0 before ¤;
    //   symbols EUR `€`, USD `$US`, GBP `£GB`, XOF `F CFA` (U+202F inside the symbol),
    //   ZAR: no fr symbol, so the ISO code.
    // - en: decimal `.`, group `,`, `¤#,##0.00`; EUR `€`, USD `$`, GBP `£`, XOF `F CFA`
    //   and ZAR `ZAR` end with a letter, so CLDR's currencySpacing (UTS #35 §3.6.3 / the
    //   `[[:^S:]&[:^Z:]]` rule) inserts U+00A0 between symbol and digits.
    // - es: decimal `,`, group `.`, minimumGroupingDigits 2 (no separator below 10 000),
    //   `#,##0.00 ¤` with U+00A0; EUR `€`, USD `US$`, GBP `£`, XOF `F CFA`, ZAR `ZAR`.
    // - ar: `latn` digits for bare `ar` (`arab` only in regional locales such as ar-EG),
    //   decimal `.`, group `,`, currencyFormat U+200F `#,##0.00 ¤` with U+00A0; EUR `€`,
    //   USD `US$`, GBP `UK£`, XOF `F CFA`, ZAR `ZAR`.
    // Entries not marked REFERENCE were read from ICU4X's output and checked against the baked
    // CLDR 49 data (`icu_experimental_data` 0.7.0 `currency_symbols_v1`, `icu_decimal_data`
    // 2.4.0), not against an independent CLDR checkout (none is reachable offline).
    // Minor units: CLDR supplementalData `<fractions>` (XOF digits 0, default 2).
    // Entries marked "REFERENCE" were checked independently (REFERENCE.md "Money").
    const VECTORS: &[Vector] = &[
        // French
        v(
            "fr",
            "1234.56",
            "EUR",
            "1\u{202f}234,56\u{a0}€",
            "REFERENCE; CLDR fr",
        ),
        v(
            "fr",
            "1234.56",
            "USD",
            "1\u{202f}234,56\u{a0}$US",
            "CLDR fr symbol USD",
        ),
        v(
            "fr",
            "1234.56",
            "GBP",
            "1\u{202f}234,56\u{a0}£GB",
            "CLDR fr symbol GBP",
        ),
        v(
            "fr",
            "1235",
            "XOF",
            "1\u{202f}235\u{a0}F\u{202f}CFA",
            "REFERENCE; CLDR fr XOF",
        ),
        v(
            "fr",
            "1234.56",
            "ZAR",
            "1\u{202f}234,56\u{a0}ZAR",
            "CLDR fr: no ZAR symbol",
        ),
        v("fr", "-0.50", "EUR", "-0,50\u{a0}€", "CLDR fr minusSign"),
        // English
        v("en", "1234.56", "USD", "$1,234.56", "REFERENCE; CLDR en"),
        v("en", "1234.56", "EUR", "€1,234.56", "CLDR en"),
        v("en", "1234.56", "GBP", "£1,234.56", "CLDR en"),
        v(
            "en",
            "1235",
            "XOF",
            "F\u{202f}CFA\u{a0}1,235",
            "CLDR en XOF, currencySpacing",
        ),
        v(
            "en",
            "1234.56",
            "ZAR",
            "ZAR\u{a0}1,234.56",
            "CLDR en: ZAR symbol is the code",
        ),
        v("en", "-1234.56", "USD", "-$1,234.56", "CLDR en minusSign"),
        // Spanish
        v(
            "es",
            "1234.56",
            "EUR",
            "1234,56\u{a0}€",
            "REFERENCE; minimumGroupingDigits 2",
        ),
        v(
            "es",
            "12345.67",
            "EUR",
            "12.345,67\u{a0}€",
            "REFERENCE; CLDR es",
        ),
        v(
            "es",
            "1234.56",
            "USD",
            "1234,56\u{a0}US$",
            "CLDR es symbol USD",
        ),
        v(
            "es",
            "12345.67",
            "GBP",
            "12.345,67\u{a0}£",
            "CLDR 49 es symbol GBP (older CLDR: GBP)",
        ),
        v("es", "1235", "XOF", "1235\u{a0}F\u{202f}CFA", "CLDR es XOF"),
        v("es", "12345.67", "ZAR", "12.345,67\u{a0}ZAR", "CLDR es"),
        // Arabic
        v(
            "ar",
            "1234.56",
            "USD",
            "\u{200f}1,234.56\u{a0}US$",
            "REFERENCE; CLDR ar",
        ),
        v("ar", "1234.56", "EUR", "\u{200f}1,234.56\u{a0}€", "CLDR ar"),
        v(
            "ar",
            "1234.56",
            "GBP",
            "\u{200f}1,234.56\u{a0}UK£",
            "CLDR ar symbol GBP",
        ),
        v(
            "ar",
            "1235",
            "XOF",
            "\u{200f}1,235\u{a0}F\u{202f}CFA",
            "CLDR ar XOF",
        ),
        v(
            "ar",
            "1234.56",
            "ZAR",
            "\u{200f}1,234.56\u{a0}ZAR",
            "CLDR ar",
        ),
        v(
            "ar",
            "-1234.56",
            "EUR",
            "\u{200f}\u{200e}-1,234.56\u{a0}€",
            "CLDR ar minusSign LRM+-",
        ),
    ];

    /// With the clinic's country (CLDR regional locales; same sources and caveat as above):
    /// (locale, country, amount, currency, expected, source).
    const COUNTRY_VECTORS: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "en",
            "ZA",
            "1234.56",
            "ZAR",
            "R1\u{a0}234,56",
            "CLDR en_ZA: symbol R, group U+00A0, decimal ,",
        ),
        (
            "en",
            "ZA",
            "12345.67",
            "ZAR",
            "R12\u{a0}345,67",
            "CLDR en_ZA",
        ),
        (
            "fr",
            "CA",
            "1234.56",
            "CAD",
            "1\u{a0}234,56\u{a0}$",
            "CLDR fr_CA: group U+00A0, symbol $",
        ),
        ("en", "CA", "1234.56", "CAD", "$1,234.56", "CLDR en_CA"),
        (
            "fr",
            "SN",
            "1235",
            "XOF",
            "1\u{202f}235\u{a0}F\u{202f}CFA",
            "CLDR fr_SN = fr",
        ),
        (
            "ar",
            "MA",
            "1234.56",
            "MAD",
            "\u{200f}1.234,56\u{a0}د.م.\u{200f}",
            "CLDR ar_MA: latn, decimal ,",
        ),
        ("en", "GB", "1234.56", "GBP", "£1,234.56", "CLDR en_GB"),
        (
            "en",
            "KE",
            "1234.56",
            "KES",
            "Ksh\u{a0}1,234.56",
            "CLDR en_KE: symbol Ksh",
        ),
        (
            "es",
            "SN",
            "1235",
            "XOF",
            "1235\u{a0}F\u{202f}CFA",
            "no es_SN: falls back to es",
        ),
        (
            "fr",
            "FR",
            "1234.56",
            "EUR",
            "1\u{202f}234,56\u{a0}€",
            "CLDR fr_FR = fr",
        ),
    ];

    fn money(amount: &str, currency: &str) -> Money {
        format!("{amount} {currency}").parse().unwrap()
    }

    fn escaped(s: &str) -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{{{:x}}}", c as u32)
                }
            })
            .collect()
    }

    #[test]
    fn cldr_vectors() {
        let mut failures = Vec::new();
        for t in VECTORS {
            let locale = Locale::from_tag(t.locale).unwrap();
            let got = money(t.amount, t.currency).format(locale).unwrap();
            if got != t.expected {
                failures.push(format!(
                    "{} {} {}: got \"{}\", want \"{}\" ({})",
                    t.locale,
                    t.amount,
                    t.currency,
                    escaped(&got),
                    escaped(t.expected),
                    t.source
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Every locale of `locales/` formats every currency of the table, and shows exactly the
    /// currency's minor units: one minor unit (0.01 EUR, 1 XOF) keeps all its digits, so
    /// CLDR's fraction digits agree with our ISO 4217 table (ICU4X would otherwise round or
    /// pad).
    #[test]
    fn every_locale_and_currency_formats_with_the_minor_units() {
        for locale in Locale::all() {
            for c in Currency::all() {
                let s = Money::from_minor(1, c).format(locale).unwrap();
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                let want = format!("{:0>w$}", 1, w = c.minor_units() as usize + 1);
                assert_eq!(digits, want, "{locale:?} {c}: {}", escaped(&s));
                let big = Money::from_minor(123_456_789, c).format(locale).unwrap();
                let digits: String = big.chars().filter(char::is_ascii_digit).collect();
                assert_eq!(digits, "123456789", "{locale:?} {c}: {}", escaped(&big));
            }
        }
    }

    #[test]
    fn country_vectors() {
        let mut failures = Vec::new();
        for (tag, cc, amount, currency, expected, source) in COUNTRY_VECTORS {
            let locale = Locale::from_tag(tag).unwrap();
            let country: CountryCode = cc.parse().unwrap();
            let got = money(amount, currency)
                .format_in_country(locale, &country)
                .unwrap();
            if got != *expected {
                failures.push(format!(
                    "{tag}-{cc} {amount} {currency}: got \"{}\", want \"{}\" ({source})",
                    escaped(&got),
                    escaped(expected)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn zero_and_rounding_agree_with_icu() {
        let fr = Locale::from_tag("fr").unwrap();
        assert_eq!(
            Money::zero(Currency::Eur).format(fr).unwrap(),
            "0,00\u{a0}€"
        );
        let neg_zero = Money::round("-0.001".parse().unwrap(), Currency::Eur).unwrap();
        assert_eq!(neg_zero.format(fr).unwrap(), "0,00\u{a0}€");
        // Our rounding and ICU's agree at the half: 1234.5 XOF is shown as 1 235.
        let half = Money::round("1234.5".parse().unwrap(), Currency::Xof).unwrap();
        assert_eq!(half.format(fr).unwrap(), "1\u{202f}235\u{a0}F\u{202f}CFA");
    }
}
