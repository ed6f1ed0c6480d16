//! Money on pages: one way to write an amount (CLDR, in the page's language and the
//! clinic's country's conventions) and an estimate in the currency the visitor thinks in.
//!
//! The estimate goes through EUR at the latest stored rates ([`crate::billing::estimate`]),
//! says "≈" and the rate's date, and says plainly when the rate is out of date (older than
//! [`crate::money::convert::STALE_AFTER_DAYS`] days): never passed off as current.

use chrono::NaiveDate;

use super::escape;
use crate::{
    billing,
    country::CountryCode,
    i18n::{Arg, locale::Locale, message},
    money::{Currency, Money, Rates},
};

/// `amount` as people of `locale` write it in a clinic of `country` (plain text). Falls back
/// to the language's own format; never to `35.00 EUR`.
pub fn format(amount: &Money, locale: Locale, country: &CountryCode) -> Option<String> {
    amount
        .format_in_country(locale, country)
        .or_else(|_| amount.format(locale))
        .ok()
}

/// The currency a visitor thinks in: `?currency=` when it names one we know, else their
/// country's (the edge's geo data), if that is not `clinic`'s. `None`: no estimate.
pub fn visitor_currency(
    query: Option<&str>,
    visitor_country: Option<&CountryCode>,
    clinic: Currency,
) -> Option<Currency> {
    let asked = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "currency")
        .and_then(|(_, v)| v.parse::<Currency>().ok());
    asked
        .or_else(|| visitor_country.and_then(CountryCode::default_currency))
        .filter(|c| *c != clinic)
}

/// "≈ 38,12 $US (taux du 2 oct. 2026)" for `amount` in `to` (HTML, escaped), or `None` when
/// no rate reaches `to`.
pub fn estimate_html(
    amount: &Money,
    to: Currency,
    rates: &Rates,
    today: NaiveDate,
    locale: Locale,
) -> Option<String> {
    let converted = billing::estimate(amount, to, rates, today).ok()?;
    let shown = converted.money.format(locale).ok()?;
    let date = converted
        .as_of
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| super::when::date(locale, d.and_utc().timestamp()))
        .unwrap_or_default();
    let id = match (converted.approximate, converted.stale) {
        (false, _) => "price-estimate-fixed",
        (true, false) => "price-estimate",
        (true, true) => "price-estimate-stale",
    };
    let text = message(
        locale,
        id,
        &[("amount", Arg::Str(&shown)), ("date", Arg::Str(&date))],
    );
    let class = if converted.stale {
        "estimate stale"
    } else {
        "estimate"
    };
    Some(format!(
        r#"<small class="{class}">{}</small>"#,
        escape(&text)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Rate, RateSource, parse_decimal};

    fn fr() -> Locale {
        Locale::from_tag("fr").unwrap()
    }

    fn rates(as_of: &str) -> Rates {
        Rates::with([Rate::new(
            Currency::Usd,
            parse_decimal("1.1").unwrap(),
            as_of.parse().unwrap(),
            RateSource::Ecb,
        )
        .unwrap()])
    }

    #[test]
    fn the_visitor_currency_is_asked_or_their_countrys_and_never_the_clinics() {
        let us: CountryCode = "US".parse().unwrap();
        let fr_: CountryCode = "FR".parse().unwrap();
        assert_eq!(
            visitor_currency(None, Some(&us), Currency::Eur),
            Some(Currency::Usd)
        );
        assert_eq!(visitor_currency(None, Some(&fr_), Currency::Eur), None);
        assert_eq!(
            visitor_currency(Some("currency=GBP"), Some(&us), Currency::Eur),
            Some(Currency::Gbp)
        );
        assert_eq!(
            visitor_currency(Some("currency=nope"), None, Currency::Eur),
            None
        );
    }

    #[test]
    fn an_estimate_says_approximately_its_date_and_when_it_is_stale() {
        let price = Money::new(parse_decimal("50.00").unwrap(), Currency::Eur).unwrap();
        let today = "2026-10-05".parse().unwrap();
        let fresh = estimate_html(&price, Currency::Usd, &rates("2026-10-02"), today, fr())
            .unwrap()
            .replace(['\u{2068}', '\u{2069}'], "");
        assert!(
            fresh.starts_with(r#"<small class="estimate">≈ 55,00"#),
            "{fresh}"
        );
        assert!(fresh.contains("2 oct. 2026"), "{fresh}");
        let stale =
            estimate_html(&price, Currency::Usd, &rates("2026-09-20"), today, fr()).unwrap();
        assert!(stale.contains(r#"class="estimate stale""#), "{stale}");
        assert!(stale.contains("périmé"), "{stale}");
        // No rate to that currency: no estimate rather than a wrong one.
        assert!(estimate_html(&price, Currency::Zar, &rates("2026-10-02"), today, fr()).is_none());
        // The CFA franc's legal parity: exact, no "≈".
        let xof = estimate_html(&price, Currency::Xof, &rates("2026-10-02"), today, fr()).unwrap();
        assert!(!xof.contains('≈') && xof.contains("32"), "{xof}");
    }
}
