//! [`Money`]: an exact decimal amount in one currency, always at that currency's minor units.
//!
//! # The rounding rule
//! Whenever an amount has more decimals than its currency's minor units (a percentage of a
//! fee, a converted amount), it is rounded to the minor units **half away from zero**:
//! 12.345 EUR → 12.35 EUR, −12.345 EUR → −12.35 EUR, 1234.5 XOF → 1235 XOF
//! ([`ROUNDING`]). Why this rule and not banker's rounding (half to even, `rust_decimal`'s
//! `round_dp` default):
//! - it is the rule of Council Regulation (EC) No 1103/97, art. 5, for amounts converted to
//!   or from the euro ("rounded up or down to the nearest cent… if the result is exactly
//!   half-way, the sum shall be rounded up"), and the rule patients and clinics know from
//!   receipts;
//! - it is the rule ICU/CLDR formatting applies (`HalfExpand`), so an amount shown is the
//!   amount stored, even when a caller formats an unrounded value;
//! - half-even's advantage (no drift when summing many rounded values) does not apply: we
//!   round once, at the end of a computation, never sums of rounded values.
//!
//! Rounding happens only where a method says so ([`Money::round`], [`Money::mul_round`],
//! conversion). Constructing [`Money`] from an amount that does not fit the minor units
//! ([`Money::new`], parsing) is refused, not rounded: 12.345 EUR typed by someone is a
//! mistake to report, not a value to guess.
//!
//! # Arithmetic
//! There are no `+`/`-` operators: adding two currencies has no answer and overflow must not
//! panic, so every operation is a `checked_*` method returning [`MoneyError`].

use std::{cmp::Ordering, fmt, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::currency::{Currency, UnknownCurrency};

/// The one rounding rule of the platform: half away from zero (see the module docs).
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Why a money operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Two amounts in different currencies were combined or compared; convert one first.
    #[error("cannot combine {left} and {right}: convert one of them first")]
    CurrencyMismatch { left: Currency, right: Currency },
    /// The result does not fit a 96-bit decimal (about 7.9 × 10²⁸).
    #[error("amount out of range")]
    Overflow,
    /// An amount has more decimals than its currency's minor units (12.345 EUR, 10.5 XOF).
    #[error("{amount} has more decimals than {currency} allows ({minor_units})")]
    TooPrecise {
        amount: Decimal,
        currency: Currency,
        minor_units: u32,
    },
    /// Text that is not a plain decimal number (`1,50`, `1e3`, `NaN`, empty).
    #[error("{0:?} is not a decimal amount (digits, an optional sign and '.' decimal point)")]
    BadAmount(String),
    /// The currency code is not one we bill in.
    #[error(transparent)]
    UnknownCurrency(#[from] UnknownCurrency),
    /// An amount was to be split into zero parts.
    #[error("cannot split into zero parts")]
    ZeroParts,
}

/// An amount of one currency, exact, at that currency's minor units (`12.50` EUR, `1235` XOF).
///
/// The amount's scale is always the currency's minor units, so `Display` and the database
/// (NUMERIC) see `12.50`, never `12.5` or `12.500`. Equality and hashing include the currency:
/// 10.00 EUR ≠ 10.00 USD. There is no `PartialOrd`: compare with [`Money::checked_cmp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// The amount, exactly; refused ([`MoneyError::TooPrecise`]) when it has more significant
    /// decimals than the currency allows (`12.50` and `12.500` EUR are fine, `12.505` is not).
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let units = currency.minor_units();
        let mut at_scale = amount.round_dp_with_strategy(units, ROUNDING);
        if at_scale != amount {
            return Err(MoneyError::TooPrecise {
                amount,
                currency,
                minor_units: units,
            });
        }
        // `rescale` only adds zeros here (the amount fits), except for amounts so large that
        // the extra digits do not fit 96 bits, where it quietly keeps a smaller scale.
        at_scale.rescale(units);
        if at_scale.scale() != units {
            return Err(MoneyError::Overflow);
        }
        Ok(Money {
            amount: normalise_zero(at_scale),
            currency,
        })
    }

    /// The amount rounded to the currency's minor units with [`ROUNDING`] (half away from
    /// zero): for the result of a computation, never for input (see [`Money::new`]).
    pub fn round(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let rounded = amount.round_dp_with_strategy(currency.minor_units(), ROUNDING);
        Money::new(rounded, currency)
    }

    /// An amount given in minor units (cents; francs for XOF): `from_minor(1250, EUR)` is
    /// 12.50 EUR.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money {
            amount: Decimal::new(minor, currency.minor_units()),
            currency,
        }
    }

    /// Zero in this currency.
    pub fn zero(currency: Currency) -> Money {
        Money::from_minor(0, currency)
    }

    /// The exact amount, at the currency's scale.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units (12.50 EUR → 1250), or `None` beyond `i64`.
    pub fn to_minor(&self) -> Option<i64> {
        let m = self.amount.mantissa();
        i64::try_from(m).ok()
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`, exact; refused across currencies or on overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Money::new(sum, self.currency)
    }

    /// `self − other`, exact; refused across currencies or on overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let diff = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Money::new(diff, self.currency)
    }

    /// `−self`.
    pub fn neg(&self) -> Money {
        Money {
            amount: normalise_zero(-self.amount),
            currency: self.currency,
        }
    }

    /// `self × factor` (a quantity, a tax or discount rate), rounded once with [`ROUNDING`].
    pub fn mul_round(&self, factor: Decimal) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow)?;
        Money::round(product, self.currency)
    }

    /// The sum of `items`, all in `currency` (zero when empty); refused on the first amount in
    /// another currency.
    pub fn checked_sum<'a>(
        currency: Currency,
        items: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// Compares two amounts of the same currency; refused across currencies.
    pub fn checked_cmp(&self, other: &Money) -> Result<Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// Splits into `parts` amounts that differ by at most one minor unit and add up to
    /// exactly `self` (100.00 EUR in 3 → 33.34 + 33.33 + 33.33): shares of a bill, instalments.
    /// The larger shares come first.
    pub fn split(&self, parts: u32) -> Result<Vec<Money>, MoneyError> {
        if parts == 0 {
            return Err(MoneyError::ZeroParts);
        }
        let minor = self.amount.mantissa();
        let n = i128::from(parts);
        let (base, rem) = (minor / n, minor % n);
        let scale = self.currency.minor_units();
        (0..n)
            .map(|i| {
                let share = if i < rem.abs() {
                    base + rem.signum()
                } else {
                    base
                };
                let amount = Decimal::try_from_i128_with_scale(share, scale)
                    .map_err(|_| MoneyError::Overflow)?;
                Ok(Money {
                    amount: normalise_zero(amount),
                    currency: self.currency,
                })
            })
            .collect()
    }
}

/// `-0.00` and `0.00` are the same amount; keep one spelling (Display, formatting, storage).
fn normalise_zero(mut d: Decimal) -> Decimal {
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

/// Parses a plain decimal string exactly: an optional sign, digits, optionally `.` and
/// digits. Refuses exponents, grouping, spaces, more than 28 significant decimals (where
/// `rust_decimal`'s `from_str` would round silently) — amounts arrive as text, never floats.
pub fn parse_decimal(s: &str) -> Result<Decimal, MoneyError> {
    let bad = || MoneyError::BadAmount(s.to_owned());
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !plain(int) || !plain(frac) || (digits.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    Decimal::from_str_exact(s).map_err(|_| bad())
}

impl FromStr for Money {
    type Err = MoneyError;

    /// `"12.50 EUR"` (amount, one space, code): the spelling of [`Money`]'s `Display`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (amount, code) = s
            .split_once(' ')
            .ok_or_else(|| MoneyError::BadAmount(s.to_owned()))?;
        Money::new(parse_decimal(amount)?, code.parse()?)
    }
}

/// `12.50 EUR`: unambiguous and locale-free, for logs and machine text. Pages and documents
/// for people use [`Money::format`] (CLDR, per locale).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// The JSON shape: `{"amount": "12.50", "currency": "EUR"}`. The amount is a string (as in
/// Stripe's and FHIR-adjacent APIs that care about exactness): a JSON number would be read as
/// a binary float by most clients. Deserialisation refuses numbers and amounts finer than the
/// currency's minor units.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyJson<'a> {
    #[serde(borrow)]
    amount: std::borrow::Cow<'a, str>,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyJson {
            amount: self.amount.to_string().into(),
            currency: self.currency,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let j = MoneyJson::deserialize(d)?;
        let amount = parse_decimal(&j.amount).map_err(serde::de::Error::custom)?;
        Money::new(amount, j.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::*;

    fn d(s: &str) -> Decimal {
        parse_decimal(s).unwrap()
    }

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    /// Rounding at the half, away from zero, in both signs and for 0- and 2-digit currencies;
    /// and the cases where half-even (banker's) would differ, to show the rule is deliberate.
    #[test]
    fn rounding_at_the_half() {
        let cases: &[(&str, Currency, &str)] = &[
            ("12.345", Eur, "12.35"),
            ("12.355", Eur, "12.36"),
            ("-12.345", Eur, "-12.35"),
            ("0.005", Usd, "0.01"),
            ("-0.005", Usd, "-0.01"),
            ("0.0049999", Gbp, "0.00"),
            ("2.675", Zar, "2.68"),
            ("1234.5", Xof, "1235"),
            ("1235.5", Xof, "1236"),
            ("-1234.5", Xof, "-1235"),
            ("0.5", Xof, "1"),
            ("1234.49", Xof, "1234"),
            ("-0.004", Eur, "0.00"),
        ];
        for (input, cur, want) in cases {
            let got = Money::round(d(input), *cur).unwrap();
            assert_eq!(got.amount().to_string(), *want, "{input} {cur}");
        }
        // Half-even would give 12.34 and 1234: the rule is not rust_decimal's default.
        assert_eq!(d("12.345").round_dp(2).to_string(), "12.34");
        assert_eq!(d("1234.5").round_dp(0).to_string(), "1234");
    }

    #[test]
    fn construction_keeps_the_scale_and_refuses_extra_precision() {
        assert_eq!(Money::new(d("12.5"), Eur).unwrap().to_string(), "12.50 EUR");
        assert_eq!(
            Money::new(d("12.500"), Eur).unwrap().to_string(),
            "12.50 EUR"
        );
        assert_eq!(Money::new(d("1235"), Xof).unwrap().to_string(), "1235 XOF");
        assert_eq!(
            Money::new(d("1235.00"), Xof).unwrap().to_string(),
            "1235 XOF"
        );
        assert_eq!(
            Money::new(d("12.345"), Eur),
            Err(MoneyError::TooPrecise {
                amount: d("12.345"),
                currency: Eur,
                minor_units: 2
            })
        );
        assert!(matches!(
            Money::new(d("10.5"), Xof),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert_eq!(Money::from_minor(1250, Eur), m("12.50 EUR"));
        assert_eq!(Money::from_minor(1235, Xof).to_string(), "1235 XOF");
        assert_eq!(m("12.50 EUR").to_minor(), Some(1250));
        assert_eq!(Money::new(d("-0.00"), Eur).unwrap().to_string(), "0.00 EUR");
        // The largest 96-bit mantissa cannot gain two decimals: refused, not wrapped.
        assert_eq!(Money::new(Decimal::MAX, Eur), Err(MoneyError::Overflow));
    }

    #[test]
    fn mixing_currencies_is_refused() {
        let (eur, usd) = (m("10.00 EUR"), m("10.00 USD"));
        let mismatch = Err(MoneyError::CurrencyMismatch {
            left: Eur,
            right: Usd,
        });
        assert_eq!(eur.checked_add(&usd), mismatch);
        assert_eq!(eur.checked_sub(&usd), mismatch);
        assert_eq!(
            eur.checked_cmp(&usd),
            Err(MoneyError::CurrencyMismatch {
                left: Eur,
                right: Usd
            })
        );
        assert_ne!(eur, usd);
        assert_eq!(
            Money::checked_sum(Eur, &[eur, usd]),
            Err(MoneyError::CurrencyMismatch {
                left: Eur,
                right: Usd
            })
        );
        assert!(
            MoneyError::CurrencyMismatch {
                left: Eur,
                right: Usd
            }
            .to_string()
            .contains("EUR and USD")
        );
    }

    #[test]
    fn arithmetic_is_exact_and_checked() {
        // 0.1 + 0.2 is 0.3, unlike binary floating point.
        assert_eq!(
            m("0.10 EUR").checked_add(&m("0.20 EUR")).unwrap(),
            m("0.30 EUR")
        );
        assert_eq!(
            m("5.00 EUR").checked_sub(&m("7.50 EUR")).unwrap(),
            m("-2.50 EUR")
        );
        assert_eq!(m("2.50 EUR").neg(), m("-2.50 EUR"));
        assert_eq!(m("0.00 EUR").neg().to_string(), "0.00 EUR");
        assert_eq!(
            m("19.99 EUR").checked_cmp(&m("20.00 EUR")),
            Ok(Ordering::Less)
        );
        assert_eq!(
            Money::checked_sum(Xof, &[m("1000 XOF"), m("235 XOF")]).unwrap(),
            m("1235 XOF")
        );
        assert_eq!(Money::checked_sum(Usd, &[]).unwrap(), m("0.00 USD"));
        // VAT 20 % of 12.345-ish amounts: one rounding at the end.
        assert_eq!(m("61.73 EUR").mul_round(d("0.2")).unwrap(), m("12.35 EUR"));
        assert_eq!(m("2500 XOF").mul_round(d("0.18")).unwrap(), m("450 XOF"));
        let huge = Money::new(d("792281625142643375935439503.35"), Eur).unwrap();
        assert_eq!(huge.checked_add(&huge), Err(MoneyError::Overflow));
        assert_eq!(huge.mul_round(d("10")), Err(MoneyError::Overflow));
        assert_eq!(huge.to_minor(), None);
    }

    #[test]
    fn split_adds_up() {
        let parts = m("100.00 EUR").split(3).unwrap();
        assert_eq!(parts, [m("33.34 EUR"), m("33.33 EUR"), m("33.33 EUR")]);
        let parts = m("-0.05 USD").split(2).unwrap();
        assert_eq!(parts, [m("-0.03 USD"), m("-0.02 USD")]);
        let parts = m("1235 XOF").split(4).unwrap();
        assert_eq!(
            parts,
            [m("309 XOF"), m("309 XOF"), m("309 XOF"), m("308 XOF")]
        );
        for (total, n) in [("0.01 EUR", 3), ("99.99 GBP", 7), ("-1000 XOF", 6)] {
            let parts = m(total).split(n).unwrap();
            let c = m(total).currency();
            assert_eq!(Money::checked_sum(c, &parts).unwrap(), m(total));
        }
        assert_eq!(m("1.00 EUR").split(0), Err(MoneyError::ZeroParts));
    }

    #[test]
    fn parsing_is_strict() {
        for good in ["0", "0.1", "-12.50", "+3", "12345678901234.56"] {
            assert!(parse_decimal(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-",
            ".5",
            "5.",
            "1,50",
            "1 000",
            "1e3",
            "NaN",
            "inf",
            "0x10",
            " 1",
            "1.2.3",
            "1.00000000000000000000000000001",
        ] {
            assert_eq!(
                parse_decimal(bad),
                Err(MoneyError::BadAmount(bad.into())),
                "{bad:?}"
            );
        }
        assert!(matches!(
            "12.50 BTC".parse::<Money>(),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!("12.50EUR".parse::<Money>().is_err());
    }

    #[test]
    fn json_amount_is_a_string() {
        let json = serde_json::to_string(&m("1234.50 EUR")).unwrap();
        assert_eq!(json, r#"{"amount":"1234.50","currency":"EUR"}"#);
        assert_eq!(
            serde_json::from_str::<Money>(&json).unwrap(),
            m("1234.50 EUR")
        );
        assert_eq!(
            serde_json::from_str::<Money>(r#"{"amount":"1235","currency":"XOF"}"#).unwrap(),
            m("1235 XOF")
        );
        for bad in [
            r#"{"amount":12.5,"currency":"EUR"}"#,
            r#"{"amount":"12.345","currency":"EUR"}"#,
            r#"{"amount":"10.5","currency":"XOF"}"#,
            r#"{"amount":"1e2","currency":"EUR"}"#,
            r#"{"amount":"1","currency":"JPY"}"#,
            r#"{"amount":"1","currency":"EUR","rate":"2"}"#,
        ] {
            assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad}");
        }
    }
}
