//! Conversion between currencies through the euro, at dated rates.
//!
//! Rates are data, never constants in code (except the legal pegs): a [`Rate`] says how many
//! units of a currency one euro buys on a date, and where that figure comes from (the ECB's
//! daily reference rates, a fixed legal parity, or an operator). Every conversion goes
//! through EUR — `amount × per_eur(to) ÷ per_eur(from)`, computed exactly in decimal and
//! rounded once at the end with the one rule ([`super::ROUNDING`]) — because the ECB
//! publishes rates against the euro only, and because the CFA francs are defined by their
//! euro parity.
//!
//! A converted amount is **approximate** (a reference rate is not what a bank charges) and
//! carries the date of the rate it used, for the page to show ("≈ 19,53 $ au taux du
//! 2 octobre"). A market rate older than [`STALE_AFTER_DAYS`] is still used — refusing to
//! show a price is worse — but the result is flagged [`Converted::stale`], never silently
//! passed off as current. The ECB publishes on TARGET working days only, so four days covers
//! an ordinary weekend and a one-day holiday; after the Easter closure (Good Friday to Easter
//! Monday) Thursday's rates are five days old on Tuesday morning and are flagged until the
//! afternoon's publication, which is the honest answer.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Currency, Money, MoneyError};

/// A market rate older than this many days (relative to the caller's today) is stale.
pub const STALE_AFTER_DAYS: i64 = 4;

/// 1 EUR = 655.957 XOF (and XAF): the parity fixed since 1 January 1999 (the former
/// 1 FRF = 100 F CFA carried over at 6.55957 FRF per euro), guaranteed by the French
/// Treasury under the monetary cooperation agreements with the BCEAO and the BEAC.
pub const CFA_FRANCS_PER_EUR: Decimal = Decimal::from_parts(655_957, 0, 0, false, 3);

/// The date the CFA franc pegs have held since (the euro's introduction).
pub fn cfa_peg_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1999, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Where a rate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RateSource {
    /// The ECB's euro foreign exchange reference rates (`eurofxref-daily.xml`).
    Ecb,
    /// A fixed legal parity (the CFA francs): exact, never stale.
    Peg,
    /// Entered by an operator, for a currency no feed publishes.
    Manual,
}

impl RateSource {
    /// The source as stored and sent (`ecb`, `peg`, `manual`): its serde name.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ecb => "ecb",
            Self::Peg => "peg",
            Self::Manual => "manual",
        }
    }
}

/// Units of `currency` one euro buys, as of a date, from a source.
///
/// JSON: `{"currency": "USD", "per_eur": "1.1225", "as_of": "2026-10-02", "source": "ecb"}`,
/// the rate as a string (exact); deserialising applies [`Rate::new`]'s checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    currency: Currency,
    per_eur: Decimal,
    as_of: NaiveDate,
    source: RateSource,
}

/// Why a conversion or a rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// No rate is known for this currency.
    #[error("no exchange rate for {0}")]
    NoRate(Currency),
    /// A rate must be a positive number of units per euro.
    #[error("rate {per_eur} for {currency} is not a positive number of units per euro")]
    NotPositive {
        currency: Currency,
        per_eur: Decimal,
    },
    /// The euro's rate against itself is 1 by definition and is never stored.
    #[error("EUR has no rate against itself")]
    EuroRate,
    /// A market rate for a pegged currency (XOF, XAF): the legal parity is the rate.
    #[error("{0} is pegged to the euro: its rate is the legal parity, not a market rate")]
    Pegged(Currency),
    /// A rate claims to be a legal parity for a currency that has none.
    #[error("{0} has no fixed parity with the euro")]
    NotPegged(Currency),
    /// A rate dated after the caller's today: a clock or feed error, not a rate to trust.
    #[error("rate for {currency} is dated {as_of}, after today ({today})")]
    FromTheFuture {
        currency: Currency,
        as_of: NaiveDate,
        today: NaiveDate,
    },
    /// The amount arithmetic failed (overflow).
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Rate {
    /// A rate of `per_eur` units of `currency` per euro. Refused for EUR itself, for
    /// non-positive rates, and for a non-peg rate of a pegged currency.
    pub fn new(
        currency: Currency,
        per_eur: Decimal,
        as_of: NaiveDate,
        source: RateSource,
    ) -> Result<Rate, ConvertError> {
        if currency == Currency::Eur {
            return Err(ConvertError::EuroRate);
        }
        if per_eur <= Decimal::ZERO {
            return Err(ConvertError::NotPositive { currency, per_eur });
        }
        match (Rate::peg(currency), source) {
            (Some(_), RateSource::Peg) | (None, RateSource::Ecb | RateSource::Manual) => {}
            (Some(_), _) => return Err(ConvertError::Pegged(currency)),
            (None, RateSource::Peg) => return Err(ConvertError::NotPegged(currency)),
        }
        Ok(Rate {
            currency,
            per_eur: per_eur.normalize(),
            as_of,
            source,
        })
    }

    /// The legal parity of a pegged currency (XOF, XAF: 655.957 per euro), `None` for others.
    pub fn peg(currency: Currency) -> Option<Rate> {
        matches!(currency, Currency::Xof | Currency::Xaf).then(|| Rate {
            currency,
            per_eur: CFA_FRANCS_PER_EUR,
            as_of: cfa_peg_date(),
            source: RateSource::Peg,
        })
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Units of the currency one euro buys.
    pub fn per_eur(&self) -> Decimal {
        self.per_eur
    }

    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    pub fn source(&self) -> RateSource {
        self.source
    }

    /// Whether this rate is too old to pass for today's (pegs never are).
    pub fn is_stale(&self, today: NaiveDate) -> bool {
        self.source != RateSource::Peg && (today - self.as_of).num_days() > STALE_AFTER_DAYS
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateJson {
    currency: Currency,
    per_eur: String,
    as_of: NaiveDate,
    source: RateSource,
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RateJson {
            currency: self.currency,
            per_eur: self.per_eur.to_string(),
            as_of: self.as_of,
            source: self.source,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let j = RateJson::deserialize(d)?;
        let per_eur = super::parse_decimal(&j.per_eur).map_err(serde::de::Error::custom)?;
        Rate::new(j.currency, per_eur, j.as_of, j.source).map_err(serde::de::Error::custom)
    }
}

/// The latest known rate of each currency, with the pegs built in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rates {
    rates: Vec<Rate>,
}

/// An amount converted to another currency.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a converted amount must be shown with its rate date, and flagged when stale"]
pub struct Converted {
    /// The amount in the target currency, rounded to its minor units.
    pub money: Money,
    /// Whether a market rate was used (shown as "≈"). A conversion through pegs alone (EUR ↔
    /// XOF, XOF ↔ XAF) follows the legal parity and is exact up to rounding; a conversion to
    /// the same currency is the identity.
    pub approximate: bool,
    /// The date of the oldest market rate used (of the peg when only pegs were used); `None`
    /// when no rate was needed.
    pub as_of: Option<NaiveDate>,
    /// Whether a rate used is older than [`STALE_AFTER_DAYS`].
    pub stale: bool,
}

impl Rates {
    /// Only the pegs (XOF, XAF).
    pub fn new() -> Rates {
        Rates::default()
    }

    /// Rates with `rates` added (see [`Rates::insert`]).
    pub fn with(rates: impl IntoIterator<Item = Rate>) -> Rates {
        let mut r = Rates::new();
        for rate in rates {
            r.insert(rate);
        }
        r
    }

    /// Keeps `rate` if it is at least as recent as the one held for its currency.
    pub fn insert(&mut self, rate: Rate) {
        match self.rates.iter_mut().find(|r| r.currency == rate.currency) {
            Some(held) if held.as_of <= rate.as_of => *held = rate,
            Some(_) => {}
            None => self.rates.push(rate),
        }
    }

    /// The rate used for `currency`: its peg, else the latest held; `None` for EUR.
    pub fn get(&self, currency: Currency) -> Option<Rate> {
        Rate::peg(currency).or_else(|| self.rates.iter().find(|r| r.currency == currency).cloned())
    }

    /// `money` in `to`, through EUR, rounded half away from zero to `to`'s minor units.
    /// `today` is the caller's date (UTC, from the clock port), for staleness.
    pub fn convert(
        &self,
        money: &Money,
        to: Currency,
        today: NaiveDate,
    ) -> Result<Converted, ConvertError> {
        let from = money.currency();
        if from == to {
            return Ok(Converted {
                money: *money,
                approximate: false,
                as_of: None,
                stale: false,
            });
        }
        let rate = |c: Currency| -> Result<Option<Rate>, ConvertError> {
            if c == Currency::Eur {
                return Ok(None);
            }
            let r = self.get(c).ok_or(ConvertError::NoRate(c))?;
            if r.as_of > today {
                return Err(ConvertError::FromTheFuture {
                    currency: c,
                    as_of: r.as_of,
                    today,
                });
            }
            Ok(Some(r))
        };
        let (r_from, r_to) = (rate(from)?, rate(to)?);
        let used = || r_from.iter().chain(r_to.iter());
        let units = |r: &Option<Rate>| r.as_ref().map_or(Decimal::ONE, |r| r.per_eur);
        // Multiply before dividing: one inexact step (the division), then one rounding.
        let amount = money
            .amount()
            .checked_mul(units(&r_to))
            .and_then(|x| x.checked_div(units(&r_from)))
            .ok_or(MoneyError::Overflow)?;
        Ok(Converted {
            money: Money::round(amount, to)?,
            approximate: used().any(|r| r.source != RateSource::Peg),
            // The market rate's date is the one that matters; a peg's only when alone.
            as_of: used()
                .filter(|r| r.source != RateSource::Peg)
                .map(|r| r.as_of)
                .min()
                .or_else(|| used().map(|r| r.as_of).min()),
            stale: used().any(|r| r.is_stale(today)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::parse_decimal;
    use Currency::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn ecb(c: Currency, per_eur: &str, as_of: &str) -> Rate {
        Rate::new(
            c,
            parse_decimal(per_eur).unwrap(),
            date(as_of),
            RateSource::Ecb,
        )
        .unwrap()
    }

    /// ECB reference rates of 2 October 2026 (USD 1.1225, GBP 0.85033, ZAR 18.7839,
    /// CAD 1.5984), as in the `ecb` fixture.
    fn rates() -> Rates {
        Rates::with([
            ecb(Usd, "1.1225", "2026-10-02"),
            ecb(Gbp, "0.85033", "2026-10-02"),
            ecb(Zar, "18.7839", "2026-10-02"),
            ecb(Cad, "1.5984", "2026-10-02"),
        ])
    }

    #[test]
    fn conversion_through_eur() {
        let today = date("2026-10-05"); // Monday: Friday's rates are current.
        let r = rates();
        let c = r.convert(&m("100.00 EUR"), Usd, today).unwrap();
        assert_eq!(
            c,
            Converted {
                money: m("112.25 USD"),
                approximate: true,
                as_of: Some(date("2026-10-02")),
                stale: false
            }
        );
        // 112.25 USD → EUR: exactly back.
        assert_eq!(
            r.convert(&m("112.25 USD"), Eur, today).unwrap().money,
            m("100.00 EUR")
        );
        // Cross rate through EUR: 50 GBP × 1.1225 / 0.85033 = 66.0038... → 66.00 USD.
        assert_eq!(
            r.convert(&m("50.00 GBP"), Usd, today).unwrap().money,
            m("66.00 USD")
        );
        // 1000 ZAR / 18.7839 × 655.957 = 34921.19... → 34921 XOF.
        let c = r.convert(&m("1000.00 ZAR"), Xof, today).unwrap();
        assert_eq!(c.money, m("34921 XOF"));
        assert!(c.approximate);
        assert_eq!(c.as_of, Some(date("2026-10-02")), "the market rate's date");
    }

    #[test]
    fn cfa_francs_follow_the_peg() {
        let r = Rates::new();
        let today = date("2026-11-30");
        // 1 EUR = 655.957 XOF, whatever the date: exact, never stale.
        let c = r.convert(&m("1.00 EUR"), Xof, today).unwrap();
        assert_eq!(c.money, m("656 XOF"));
        assert!(!c.approximate && !c.stale);
        assert_eq!(c.as_of, Some(date("1999-01-01")));
        assert_eq!(
            r.convert(&m("100.00 EUR"), Xof, today).unwrap().money,
            m("65596 XOF")
        );
        assert_eq!(
            r.convert(&m("655957 XOF"), Eur, today).unwrap().money,
            m("1000.00 EUR")
        );
        // 1235 XOF = 1.8827... EUR → 1.88 EUR.
        assert_eq!(
            r.convert(&m("1235 XOF"), Eur, today).unwrap().money,
            m("1.88 EUR")
        );
        // XOF and XAF share the parity: one for one.
        assert_eq!(
            r.convert(&m("1235 XOF"), Xaf, today).unwrap().money,
            m("1235 XAF")
        );
        // A market rate for a pegged currency is refused.
        assert_eq!(
            Rate::new(Xof, Decimal::from(650), today, RateSource::Ecb),
            Err(ConvertError::Pegged(Xof))
        );
    }

    #[test]
    fn stale_rates_are_flagged() {
        let r = rates();
        // Friday's rates: fine on Tuesday (4 days), stale on Wednesday (5 days).
        let c = r.convert(&m("10.00 EUR"), Gbp, date("2026-10-06")).unwrap();
        assert!(!c.stale);
        let c = r.convert(&m("10.00 EUR"), Gbp, date("2026-10-07")).unwrap();
        assert!(c.stale, "older than {STALE_AFTER_DAYS} days");
        assert_eq!(c.as_of, Some(date("2026-10-02")));
        assert_eq!(c.money, m("8.50 GBP"));
        // A newer rate replaces an older one, not the reverse.
        let mut r = rates();
        r.insert(ecb(Gbp, "0.86000", "2026-10-07"));
        r.insert(ecb(Gbp, "0.80000", "2026-09-01"));
        let c = r.convert(&m("10.00 EUR"), Gbp, date("2026-10-07")).unwrap();
        assert_eq!((c.money, c.stale), (m("8.60 GBP"), false));
        // A cross conversion is as old as its oldest rate.
        let c = r.convert(&m("10.00 GBP"), Usd, date("2026-10-07")).unwrap();
        assert_eq!(c.as_of, Some(date("2026-10-02")));
        assert!(c.stale);
    }

    #[test]
    fn rate_json() {
        let r = ecb(Usd, "1.1225", "2026-10-02");
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"currency":"USD","per_eur":"1.1225","as_of":"2026-10-02","source":"ecb"}"#
        );
        assert_eq!(serde_json::from_str::<Rate>(&json).unwrap(), r);
        for bad in [
            r#"{"currency":"USD","per_eur":1.1225,"as_of":"2026-10-02","source":"ecb"}"#,
            r#"{"currency":"USD","per_eur":"-1","as_of":"2026-10-02","source":"ecb"}"#,
            r#"{"currency":"XOF","per_eur":"650","as_of":"2026-10-02","source":"ecb"}"#,
        ] {
            assert!(serde_json::from_str::<Rate>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals() {
        let r = rates();
        let today = date("2026-10-05");
        assert_eq!(
            r.convert(&m("1.00 EUR"), Mad, today),
            Err(ConvertError::NoRate(Mad))
        );
        assert_eq!(
            r.convert(&m("1.00 EUR"), Usd, date("2026-10-01")),
            Err(ConvertError::FromTheFuture {
                currency: Usd,
                as_of: date("2026-10-02"),
                today: date("2026-10-01")
            })
        );
        assert_eq!(
            Rate::new(Eur, Decimal::ONE, today, RateSource::Manual),
            Err(ConvertError::EuroRate)
        );
        assert!(matches!(
            Rate::new(Usd, Decimal::ZERO, today, RateSource::Ecb),
            Err(ConvertError::NotPositive { .. })
        ));
        assert_eq!(
            Rate::new(Usd, Decimal::ONE, today, RateSource::Peg),
            Err(ConvertError::NotPegged(Usd))
        );
        // Same currency: the identity, not approximate.
        let c = r.convert(&m("12.34 USD"), Usd, today).unwrap();
        assert_eq!(
            (c.money, c.approximate, c.as_of),
            (m("12.34 USD"), false, None)
        );
        // Overflow is an error, not a panic.
        let huge = Money::new(
            parse_decimal("792281625142643375935439503.35").unwrap(),
            Eur,
        );
        assert!(matches!(
            r.convert(&huge.unwrap(), Zar, today),
            Err(ConvertError::Money(MoneyError::Overflow))
        ));
    }
}
