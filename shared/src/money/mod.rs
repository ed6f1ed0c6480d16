//! Money: exact amounts in ISO 4217 currencies, one rounding rule, CLDR formatting and
//! conversion through the euro at dated rates.
//!
//! # Layout
//! - [`currency`]: the ISO 4217 table we bill in ([`Currency`]: code, minor units).
//! - [`amount`]: [`Money`] (a `rust_decimal::Decimal` at the currency's minor units), the one
//!   rounding rule ([`ROUNDING`], half away from zero — why is documented there), checked
//!   arithmetic that refuses mixing currencies ([`MoneyError`]).
//! - [`mod@format`]: CLDR formatting per locale with ICU4X ([`Money::format`]: `1 234,56 €`).
//! - [`convert`]: dated exchange rates ([`Rate`]: units per euro, as-of date, source), the
//!   XOF/XAF pegs, conversion through EUR marked approximate with its rate date, staleness.
//! - [`ecb`]: a pure parser of the ECB's `eurofxref-daily.xml` into [`Rate`]s (fetching and
//!   storing them is the regional job's business).
//!
//! # No floating point
//! Nothing here takes, returns or computes a binary floating-point number: none can hold 0.10
//! exactly.
//! `clippy.toml` bans `rust_decimal`'s float conversions workspace-wide, and a test of this
//! module fails if any of its files mentions a float type.

pub mod amount;
pub mod convert;
pub mod currency;
pub mod ecb;
pub mod format;

pub use amount::{Money, MoneyError, ROUNDING, parse_decimal};
pub use convert::{ConvertError, Converted, Rate, RateSource, Rates};
pub use currency::{Currency, UnknownCurrency};
pub use format::FormatError;

#[cfg(test)]
mod tests {
    /// The files of this module, checked for float types: no binary float comes near money.
    const SOURCES: &[(&str, &str)] = &[
        ("mod.rs", include_str!("mod.rs")),
        ("amount.rs", include_str!("amount.rs")),
        ("convert.rs", include_str!("convert.rs")),
        ("currency.rs", include_str!("currency.rs")),
        ("ecb.rs", include_str!("ecb.rs")),
        ("format.rs", include_str!("format.rs")),
    ];

    #[test]
    fn no_floats_near_money() {
        let (f32_, f64_) = (concat!("f", "32"), concat!("f", "64"));
        for (name, text) in SOURCES {
            for (i, line) in text.lines().enumerate() {
                let words = line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
                for w in words {
                    assert!(
                        w != f32_ && w != f64_ && !w.ends_with(concat!("_f", "64")),
                        "{name}:{}: a float near money: {line}",
                        i + 1
                    );
                }
            }
        }
    }
}
