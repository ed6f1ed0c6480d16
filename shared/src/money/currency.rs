//! ISO 4217 currencies the platform bills in, with their minor units.
//!
//! The table holds the currencies of the countries we serve (see [`crate::country`] and
//! `infra/regions.toml`), not all of ISO 4217: a [`Currency`] can only name a row of it, so
//! past [`Currency::from_str`] nothing re-checks a code, and every currency we can hold has
//! CLDR formatting data checked by the tests of [`mod@super::format`]. Adding a currency is adding
//! a row to [`TABLE`] (and a formatting vector).
//!
//! Minor units are ISO 4217's "E" column (List One, published by SIX on behalf of ISO). For
//! every row here they agree with CLDR's `supplementalData.xml` `<currencyData><fractions>`,
//! which ICU4X uses when formatting (a test checks that the two agree).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A currency of [`TABLE`]: its ISO 4217 alphabetic code, numeric code and minor units.
///
/// Ordered by code, so that sorted lists of currencies read alphabetically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Currency {
    /// Canadian dollar (CA).
    Cad,
    /// Swiss franc (CH, LI).
    Chf,
    /// Euro (euro area, MC, SM, VA, AD, ME…).
    Eur,
    /// Algerian dinar (DZ).
    Dzd,
    /// Pound sterling (GB).
    Gbp,
    /// Kenyan shilling (KE).
    Kes,
    /// Moroccan dirham (MA).
    Mad,
    /// Nigerian naira (NG).
    Ngn,
    /// Tunisian dinar (TN): three minor units (millimes).
    Tnd,
    /// US dollar (US).
    Usd,
    /// CFA franc BEAC, Central Africa (CM, CF, TD, CG, GQ, GA); pegged to the euro.
    Xaf,
    /// CFA franc BCEAO, West Africa (SN, CI, BJ, BF, ML, NE, TG, GW); pegged to the euro.
    Xof,
    /// South African rand (ZA).
    Zar,
}

/// One row of the ISO 4217 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyInfo {
    /// The currency this row describes.
    pub currency: Currency,
    /// Alphabetic code, upper case (`EUR`).
    pub code: &'static str,
    /// Numeric code (`978`).
    pub numeric: u16,
    /// Digits after the decimal separator of the minor unit (EUR 2: cents; XOF 0).
    pub minor_units: u32,
}

const fn row(
    currency: Currency,
    code: &'static str,
    numeric: u16,
    minor_units: u32,
) -> CurrencyInfo {
    CurrencyInfo {
        currency,
        code,
        numeric,
        minor_units,
    }
}

/// The currencies we bill in, in [`Currency`] order (ISO 4217 List One, 2026 edition).
pub const TABLE: &[CurrencyInfo] = &[
    row(Currency::Cad, "CAD", 124, 2),
    row(Currency::Chf, "CHF", 756, 2),
    row(Currency::Eur, "EUR", 978, 2),
    row(Currency::Dzd, "DZD", 12, 2),
    row(Currency::Gbp, "GBP", 826, 2),
    row(Currency::Kes, "KES", 404, 2),
    row(Currency::Mad, "MAD", 504, 2),
    row(Currency::Ngn, "NGN", 566, 2),
    row(Currency::Tnd, "TND", 788, 3),
    row(Currency::Usd, "USD", 840, 2),
    row(Currency::Xaf, "XAF", 950, 0),
    row(Currency::Xof, "XOF", 952, 0),
    row(Currency::Zar, "ZAR", 710, 2),
];

/// A string that is not the code of a currency we bill in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency {0:?}: expected an ISO 4217 code the platform bills in (EUR, USD, XOF…)")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// Every currency of the table, in code order.
    pub fn all() -> impl ExactSizeIterator<Item = Currency> + Clone {
        TABLE.iter().map(|r| r.currency)
    }

    /// This currency's row of [`TABLE`].
    pub fn info(self) -> &'static CurrencyInfo {
        // `TABLE` lists the variants in declaration order; a test checks it.
        &TABLE[self as usize]
    }

    /// The ISO 4217 alphabetic code (`"EUR"`).
    pub fn code(self) -> &'static str {
        self.info().code
    }

    /// The ISO 4217 numeric code (`978` for EUR).
    pub fn numeric(self) -> u16 {
        self.info().numeric
    }

    /// Digits of the minor unit: amounts in this currency are rounded to this many decimals
    /// (EUR 2, XOF 0).
    pub fn minor_units(self) -> u32 {
        self.info().minor_units
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;

    /// Accepts the alphabetic code in any ASCII case (`eur` → EUR), surrounding whitespace
    /// excluded: codes come from people typing them as often as from data.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TABLE
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(s))
            .map(|r| r.currency)
            .ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_variant_order_and_codes_are_unique() {
        for (i, r) in TABLE.iter().enumerate() {
            assert_eq!(r.currency as usize, i, "{} out of order", r.code);
            assert_eq!(r.currency.code(), r.code);
            assert_eq!(r.code.len(), 3);
            assert!(r.code.bytes().all(|b| b.is_ascii_uppercase()));
        }
        let mut codes: Vec<_> = TABLE.iter().map(|r| r.code).collect();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "sorted and unique");
        let mut numerics: Vec<_> = TABLE.iter().map(|r| r.numeric).collect();
        numerics.sort();
        numerics.dedup();
        assert_eq!(numerics.len(), TABLE.len());
    }

    #[test]
    fn minor_units_of_the_issue() {
        let m = |c: &str| c.parse::<Currency>().unwrap().minor_units();
        assert_eq!(
            [
                m("EUR"),
                m("USD"),
                m("GBP"),
                m("XOF"),
                m("ZAR"),
                m("CAD"),
                m("XAF")
            ],
            [2, 2, 2, 0, 2, 2, 0]
        );
    }

    #[test]
    fn parses_only_known_codes() {
        assert_eq!("eur".parse::<Currency>(), Ok(Currency::Eur));
        assert_eq!("XOF".parse::<Currency>(), Ok(Currency::Xof));
        for bad in ["", "EU", "EURO", " EUR", "JPY", "XXX", "€", "ÉUR"] {
            assert_eq!(
                bad.parse::<Currency>(),
                Err(UnknownCurrency(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_as_the_code() {
        assert_eq!(serde_json::to_string(&Currency::Zar).unwrap(), r#""ZAR""#);
        assert_eq!(
            serde_json::from_str::<Currency>(r#""GBP""#).unwrap(),
            Currency::Gbp
        );
        assert!(serde_json::from_str::<Currency>(r#""BTC""#).is_err());
        assert!(serde_json::from_str::<Currency>("978").is_err());
    }
}
