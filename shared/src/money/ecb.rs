//! A pure parser of the ECB's euro reference rates (`eurofxref-daily.xml`, and the
//! `eurofxref-hist*.xml` files of the same shape) into [`Rate`]s.
//!
//! The format (stable since 2002): a `gesmes:Envelope` holding one outer `<Cube>`, holding one
//! `<Cube time='YYYY-MM-DD'>` per day, each holding `<Cube currency='USD' rate='1.1225'/>`:
//! units of the currency per 1 EUR. Rates are published around 16:00 CET on TARGET working
//! days. The CFA francs are not in it (their rate is the peg, see [`super::convert`]).
//!
//! Only what the rates need is read: the `Cube` elements and their `time`, `currency` and
//! `rate` attributes, in either quote style. The rest of the envelope is ignored, so a
//! namespace prefix or a new header element does not break the refresh; but a document with
//! no dated rate at all (an HTML error page, a truncated body) is an error, never "no rates
//! today". Currencies we do not bill in are skipped; a malformed rate or date is an error
//! (one bad figure casts doubt on the file). Fetching and storing is the regional job's
//! business: nothing here does I/O.

use chrono::NaiveDate;

use super::{
    Currency,
    amount::parse_decimal,
    convert::{ConvertError, Rate, RateSource},
};

/// Why an ECB document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EcbError {
    /// No `<Cube time=…>` with rates: not a reference-rate document, or a truncated one.
    #[error("no dated rates in the document")]
    NoRates,
    /// A rate outside any dated `Cube`.
    #[error("rate for {0} outside a dated Cube")]
    Undated(String),
    /// A `time` attribute that is not a `YYYY-MM-DD` date.
    #[error("bad date {0:?}")]
    BadDate(String),
    /// A `rate` that is not a positive decimal.
    #[error("bad rate {rate:?} for {currency}")]
    BadRate { currency: String, rate: String },
    /// A `<Cube` tag that never closes.
    #[error("unterminated Cube element")]
    Unterminated,
}

/// The rates of every currency we bill in, from each dated `Cube` of `xml`, in document order.
pub fn parse(xml: &str) -> Result<Vec<Rate>, EcbError> {
    let mut rates = Vec::new();
    let mut date: Option<NaiveDate> = None;
    let mut saw_rate = false;
    let mut rest = xml;
    while let Some(start) = rest.find("<Cube") {
        let after = &rest[start + "<Cube".len()..];
        // `<Cube>` and `<Cube …>`, not `<CubeX`.
        if !after.starts_with(['>', '/', ' ', '\t', '\r', '\n']) {
            rest = after;
            continue;
        }
        let end = after.find('>').ok_or(EcbError::Unterminated)?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if let Some(time) = attribute(tag, "time") {
            let d = NaiveDate::parse_from_str(time, "%Y-%m-%d")
                .map_err(|_| EcbError::BadDate(time.to_owned()))?;
            date = Some(d);
        }
        let (Some(code), Some(rate)) = (attribute(tag, "currency"), attribute(tag, "rate")) else {
            continue;
        };
        let as_of = date.ok_or_else(|| EcbError::Undated(code.to_owned()))?;
        let bad = || EcbError::BadRate {
            currency: code.to_owned(),
            rate: rate.to_owned(),
        };
        let per_eur = parse_decimal(rate).map_err(|_| bad())?;
        saw_rate = true;
        let Ok(currency) = code.parse::<Currency>() else {
            continue;
        };
        match Rate::new(currency, per_eur, as_of, RateSource::Ecb) {
            Ok(r) => rates.push(r),
            // Not published today, but a feed that one day lists a pegged currency or EUR
            // must not override the parity: skip it.
            Err(ConvertError::Pegged(_) | ConvertError::EuroRate) => {}
            Err(_) => return Err(bad()),
        }
    }
    if saw_rate {
        Ok(rates)
    } else {
        Err(EcbError::NoRates)
    }
}

/// The value of `name='…'` or `name="…"` in a tag's attribute text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before_ok = i == 0 || rest[..i].ends_with([' ', '\t', '\r', '\n']);
        let after = rest[i + name.len()..].trim_start();
        rest = &rest[i + name.len()..];
        let Some(after) = after.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let quote = after.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let value = &after[1..];
        return value.find(quote).map(|j| &value[..j]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Money, Rates};

    /// `eurofxref-daily.xml` of 2 October 2026, in the exact format the ECB serves
    /// (https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml; source: European
    /// Central Bank, reproduced with acknowledgement as its reuse policy allows). The figures
    /// were taken from a public copy of that day's file, not re-fetched (no internet here).
    const DAILY: &str = include_str!("testdata/eurofxref-daily-2026-10-02.xml");

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_daily_file() {
        let rates = parse(DAILY).unwrap();
        let got: Vec<_> = rates
            .iter()
            .map(|r| (r.currency().code(), r.per_eur().to_string(), r.as_of()))
            .collect();
        let d = date("2026-10-02");
        // Document order; the other 25 published currencies are not ones we bill in.
        assert_eq!(
            got,
            [
                ("USD", "1.1225".to_owned(), d),
                ("GBP", "0.85033".to_owned(), d),
                ("CHF", "0.9279".to_owned(), d),
                ("CAD", "1.5984".to_owned(), d),
                ("ZAR", "18.7839".to_owned(), d),
            ]
        );
        assert!(rates.iter().all(|r| r.source() == RateSource::Ecb));
        // And they convert: 100 EUR → 112.25 USD, as of the file's date.
        let c = Rates::with(rates)
            .convert(&"100.00 EUR".parse::<Money>().unwrap(), Currency::Usd, d)
            .unwrap();
        assert_eq!(c.money.to_string(), "112.25 USD");
        assert_eq!(c.as_of, Some(d));
    }

    #[test]
    fn parses_several_days_and_double_quotes() {
        let hist = r#"<gesmes:Envelope><Cube>
            <Cube time="2026-10-02"><Cube currency="USD" rate="1.1225"/></Cube>
            <Cube time="2026-10-01"><Cube rate="1.1200" currency="USD" /></Cube>
        </Cube></gesmes:Envelope>"#;
        let rates = parse(hist).unwrap();
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[1].as_of(), date("2026-10-01"));
        assert_eq!(rates[1].per_eur().to_string(), "1.12");
        // The newest wins whatever the order.
        let r = Rates::with(rates).get(Currency::Usd).unwrap();
        assert_eq!(r.as_of(), date("2026-10-02"));
    }

    #[test]
    fn refuses_what_is_not_a_rate_document() {
        assert_eq!(parse(""), Err(EcbError::NoRates));
        assert_eq!(
            parse("<html><body>503 Service Unavailable</body></html>"),
            Err(EcbError::NoRates)
        );
        assert_eq!(
            parse("<Cube><Cube time='2026-10-02'></Cube></Cube>"),
            Err(EcbError::NoRates)
        );
        assert_eq!(
            parse("<Cube currency='USD' rate='1.1'/>"),
            Err(EcbError::Undated("USD".into()))
        );
        assert_eq!(
            parse("<Cube time='02/10/2026'><Cube currency='USD' rate='1.1'/></Cube>"),
            Err(EcbError::BadDate("02/10/2026".into()))
        );
        for bad in ["1,1225", "", "-1.1", "0", "1e3", "NaN"] {
            let xml = format!("<Cube time='2026-10-02'><Cube currency='USD' rate='{bad}'/>");
            assert_eq!(
                parse(&xml),
                Err(EcbError::BadRate {
                    currency: "USD".into(),
                    rate: bad.into()
                }),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse("<Cube time='2026-10-02'><Cube currency='USD' rate='1.1'"),
            Err(EcbError::Unterminated)
        );
        // Truncated after the date: still no rate.
        let cut = &DAILY[..DAILY.find("<Cube currency").unwrap()];
        assert_eq!(parse(cut), Err(EcbError::NoRates));
        // A peg is never overridden by a feed.
        let xof = "<Cube time='2026-10-02'><Cube currency='XOF' rate='650'/></Cube>";
        assert_eq!(parse(xof), Ok(vec![]));
    }
}
