//! Countries: the ISO 3166-1 code type and the per-country defaults a new clinic gets
//! (language, currency). Regulation lives in [`crate::compliance`].

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// An ISO 3166-1 alpha-2 country code, upper case (`FR`, `SN`). Accepts lower case input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

/// A string that is not a two-letter country code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid country code {0:?}: expected two letters (ISO 3166-1 alpha-2)")]
pub struct BadCountryCode(pub String);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The locale tag a clinic in this country gets by default (before any patient choice).
    /// Countries whose languages we do not serve get `None`, and the platform default applies.
    pub fn default_locale_tag(&self) -> Option<&'static str> {
        Some(match self.as_str() {
            "FR" | "BE" | "CH" | "LU" | "MC" | "SN" | "CI" | "BJ" | "ML" | "BF" | "NE" | "TG"
            | "CM" | "GA" | "CD" | "CG" | "MG" | "HT" => "fr",
            "US" | "CA" | "GB" | "IE" | "ZA" | "NG" | "KE" | "GH" | "AU" | "NZ" | "IN" | "UG"
            | "DE" | "NL" => "en",
            "ES" | "MX" | "AR" | "CO" | "CL" | "PE" | "VE" | "EC" | "GT" | "CU" | "BO" | "DO"
            | "UY" | "PY" => "es",
            "MA" | "DZ" | "TN" | "EG" | "SA" | "AE" | "QA" | "JO" | "LB" | "KW" | "OM" | "BH" => {
                "ar"
            }
            _ => return None,
        })
    }

    /// The currency clinics of this country bill in by default (a clinic may be given
    /// another), or `None` when the country's currency is not one we bill in
    /// ([`crate::money::currency::TABLE`]): better no answer than a wrong one (a Swiss or
    /// Japanese clinic does not bill in euros).
    pub fn default_currency(&self) -> Option<Currency> {
        Some(match self.as_str() {
            // The euro area (Bulgaria since 1 January 2026), the French overseas departments
            // and collectivities that use it, and the microstates with a monetary agreement.
            "AT" | "BE" | "BG" | "CY" | "DE" | "EE" | "ES" | "FI" | "FR" | "GR" | "HR" | "IE"
            | "IT" | "LT" | "LU" | "LV" | "MT" | "NL" | "PT" | "SI" | "SK" | "GP" | "MQ" | "GF"
            | "RE" | "YT" | "PM" | "BL" | "MF" | "MC" | "SM" | "VA" | "AD" | "ME" => Currency::Eur,
            "US" | "PR" | "GU" | "VI" | "AS" | "MP" | "EC" | "SV" => Currency::Usd,
            "GB" => Currency::Gbp,
            "CH" | "LI" => Currency::Chf,
            "CA" => Currency::Cad,
            "ZA" => Currency::Zar,
            "MA" => Currency::Mad,
            "NG" => Currency::Ngn,
            "KE" => Currency::Kes,
            "TN" => Currency::Tnd,
            "DZ" => Currency::Dzd,
            // UEMOA (BCEAO) and CEMAC (BEAC).
            "SN" | "CI" | "BJ" | "BF" | "ML" | "NE" | "TG" | "GW" => Currency::Xof,
            "CM" | "CF" | "TD" | "CG" | "GQ" | "GA" => Currency::Xaf,
            _ => return None,
        })
    }
}

impl FromStr for CountryCode {
    type Err = BadCountryCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
                // User-assigned codes (`XX`, `ZZ`, `AA`, `QM`–`QZ`) are not countries.
                let user_assigned = matches!(&code, b"AA" | b"ZZ" | b"XX")
                    || (code[0] == b'Q' && code[1] >= b'M')
                    || code[0] == b'X';
                if user_assigned {
                    Err(BadCountryCode(s.to_owned()))
                } else {
                    Ok(Self(code))
                }
            }
            _ => Err(BadCountryCode(s.to_owned())),
        }
    }
}

impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!("fr".parse::<CountryCode>().unwrap().as_str(), "FR");
        let json = serde_json::to_string(&"SN".parse::<CountryCode>().unwrap()).unwrap();
        assert_eq!(json, r#""SN""#);
        assert_eq!(
            serde_json::from_str::<CountryCode>(&json).unwrap().as_str(),
            "SN"
        );
        for bad in ["", "F", "FRA", "F1", "XX", "T1", "ZZ", "QZ", "é"] {
            assert!(bad.parse::<CountryCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults() {
        let c = |s: &str| s.parse::<CountryCode>().unwrap();
        assert_eq!(c("SN").default_locale_tag(), Some("fr"));
        assert_eq!(c("SN").default_currency(), Some(Currency::Xof));
        assert_eq!(c("MA").default_locale_tag(), Some("ar"));
        assert_eq!(c("JP").default_locale_tag(), None);
    }

    /// The clinic currencies of issue 10 (and the other countries of the region map).
    #[test]
    fn default_currencies() {
        let cur = |s: &str| s.parse::<CountryCode>().unwrap().default_currency();
        for (countries, want) in [
            ("FR DE ES IT BE IE PT NL AT BG", Some(Currency::Eur)),
            ("US", Some(Currency::Usd)),
            ("GB", Some(Currency::Gbp)),
            ("SN CI BJ", Some(Currency::Xof)),
            ("ZA", Some(Currency::Zar)),
            ("CA", Some(Currency::Cad)),
            ("MA", Some(Currency::Mad)),
            ("CH", Some(Currency::Chf)),
            ("NG", Some(Currency::Ngn)),
            ("KE", Some(Currency::Kes)),
            ("CM GA", Some(Currency::Xaf)),
            ("TN", Some(Currency::Tnd)),
            ("DZ", Some(Currency::Dzd)),
            ("JP MX EG", None),
        ] {
            for country in countries.split(' ') {
                assert_eq!(cur(country), want, "{country}");
            }
        }
        // Every country of the region map bills in a currency we can format.
        for region in crate::geo::RegionMap::embedded().regions() {
            for country in &region.countries {
                assert!(cur(country.as_str()).is_some(), "{country}");
            }
        }
    }
}
