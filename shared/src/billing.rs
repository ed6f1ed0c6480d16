//! Billing for pages: the named statements a server-rendered page runs (in the same batch as
//! the rest of the page: one round trip), and what turns their rows into [`Money`].
//!
//! The resources themselves are `ChargeItemDefinition` (prices, one per consultation type:
//! [`crate::api::resources::charge_item_definition`]) and `Invoice` (issued by the clinic's
//! schema when an appointment is fulfilled: [`crate::api::resources::invoice`]).
//!
//! # Statements
//! - [`PRICES`] `billing.prices` (`$1` status, nullable = every status): the clinic's prices,
//!   by display name — `id, code, display, amount, currency, status`.
//! - [`PATIENT_INVOICES`] `billing.patient-invoices` (`$1` patient, `$2` limit): one patient's
//!   invoices, newest first — `id, date, code, display, amount, currency, status,
//!   appointment` (audited as a search of Invoices about that patient).
//! - [`LATEST_RATES`] `billing.latest-rates` (no parameter): the latest exchange rate of each
//!   currency (`control.exchange_rates`, replicated to every region) — `currency, per_eur,
//!   as_of, source`; read with [`rates_from_rows`] and convert with [`estimate`].
//!
//! # Exactness
//! Amounts are NUMERIC in the database and leave it as text (`amount::text`, `per_eur::text`)
//! in these statements, parsed with [`crate::money::parse_decimal`]: no float anywhere. In
//! the FHIR resources, amounts are JSON numbers; the workspace builds `serde_json` with
//! `arbitrary_precision`, so a number keeps its digits from the client's body through jsonb
//! and back (`1234.50` stays `1234.50`: FHIR says a decimal's precision is significant).

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::{
    api::resources::charge_item_definition::CONSULTATION_TYPE_SYSTEM,
    dataplane::statement::{Access, Audit, ParamType, SchemaScope, Statement, opt, p},
    money::{ConvertError, Converted, Currency, Money, MoneyError, Rate, Rates, parse_decimal},
};

/// The statement names pages call.
pub mod names {
    pub const PRICES: &str = "billing.prices";
    pub const PATIENT_INVOICES: &str = "billing.patient-invoices";
    pub const LATEST_RATES: &str = "billing.latest-rates";
}

/// The clinic's prices (see the module documentation).
pub static PRICES: Statement = Statement {
    name: names::PRICES,
    sql: "SELECT d.id, split_part(d.code, '|', 2) AS code, \
                 coalesce((SELECT c->>'display' FROM jsonb_array_elements(d.resource->'code'->'coding') c \
                           WHERE c->>'system' = 'https://telemed-edge.health/fhir/CodeSystem/consultation-type' \
                           LIMIT 1), split_part(d.code, '|', 2)) AS display, \
                 d.amount::text AS amount, d.currency, d.status \
          FROM charge_item_definitions d WHERE ($1::text IS NULL OR d.status = $1) \
          ORDER BY display, d.seq",
    access: Access::Read,
    scope: SchemaScope::Tenant,
    params: &[opt("status", ParamType::Text)],
    audit: None,
};

/// One patient's invoices (see the module documentation).
pub static PATIENT_INVOICES: Statement = Statement {
    name: names::PATIENT_INVOICES,
    sql: "SELECT i.id, fhir_instant(i.issued) AS date, split_part(i.code, '|', 2) AS code, \
                 coalesce((SELECT c->>'display' FROM \
                           jsonb_array_elements(i.resource->'lineItem'->0->'chargeItemCodeableConcept'->'coding') c \
                           WHERE c->>'system' = 'https://telemed-edge.health/fhir/CodeSystem/consultation-type' \
                           LIMIT 1), split_part(i.code, '|', 2)) AS display, \
                 i.amount::text AS amount, i.currency, i.status, i.appointment, \
                 i.patient AS audit_patient \
          FROM invoices i WHERE i.patient = $1 ORDER BY i.issued DESC, i.seq DESC LIMIT $2",
    access: Access::Read,
    scope: SchemaScope::Tenant,
    params: &[p("patient", ParamType::Uuid), p("limit", ParamType::Int8)],
    audit: Some(Audit {
        action: "search",
        resource_type: "Invoice",
    }),
};

/// The latest rate of each currency (see the module documentation). Tenant-scoped so that a
/// page's batch carries it; the table is the control plane's (the service may read it).
pub static LATEST_RATES: Statement = Statement {
    name: names::LATEST_RATES,
    sql: "SELECT DISTINCT ON (r.currency) r.currency, r.per_eur::text AS per_eur, \
                 r.as_of::text AS as_of, r.source \
          FROM control.exchange_rates r ORDER BY r.currency, r.as_of DESC",
    access: Access::Read,
    scope: SchemaScope::Tenant,
    params: &[],
    audit: None,
};

/// The billing statements, for the catalog ([`crate::dataplane::catalog::all`]).
pub fn statements() -> [Statement; 3] {
    [PRICES, PATIENT_INVOICES, LATEST_RATES]
}

/// Why a row of these statements could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BillingError {
    /// A row lacks a column the statement promises.
    #[error("a billing row has no {0}")]
    Missing(&'static str),
    /// An amount or currency the money module refuses (a currency this edge does not know).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// No conversion to the currency asked for.
    #[error(transparent)]
    Convert(#[from] ConvertError),
}

/// A price as the clinic's home page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub id: String,
    /// The consultation type's code (of [`CONSULTATION_TYPE_SYSTEM`]).
    pub code: String,
    pub display: String,
    pub amount: Money,
    pub status: String,
}

/// An invoice as the patient's space lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub id: String,
    /// When it was issued (a FHIR instant, UTC).
    pub date: String,
    pub code: String,
    pub display: String,
    pub amount: Money,
    pub status: String,
    pub appointment: String,
}

fn text<'a>(row: &'a Map<String, Value>, column: &'static str) -> Result<&'a str, BillingError> {
    row.get(column)
        .and_then(Value::as_str)
        .ok_or(BillingError::Missing(column))
}

/// The amount of a row: `amount` (NUMERIC as text) in `currency`.
fn money_of(row: &Map<String, Value>) -> Result<Money, BillingError> {
    let amount = parse_decimal(text(row, "amount")?)?;
    let currency: Currency = text(row, "currency")?.parse().map_err(MoneyError::from)?;
    Ok(Money::new(amount, currency)?)
}

/// A row of [`PRICES`].
pub fn price_from_row(row: &Map<String, Value>) -> Result<Price, BillingError> {
    Ok(Price {
        id: text(row, "id")?.to_owned(),
        code: text(row, "code")?.to_owned(),
        display: text(row, "display")?.to_owned(),
        amount: money_of(row)?,
        status: text(row, "status")?.to_owned(),
    })
}

/// A row of [`PATIENT_INVOICES`].
pub fn invoice_from_row(row: &Map<String, Value>) -> Result<InvoiceLine, BillingError> {
    Ok(InvoiceLine {
        id: text(row, "id")?.to_owned(),
        date: text(row, "date")?.to_owned(),
        code: text(row, "code")?.to_owned(),
        display: text(row, "display")?.to_owned(),
        amount: money_of(row)?,
        status: text(row, "status")?.to_owned(),
        appointment: text(row, "appointment")?.to_owned(),
    })
}

/// The rates of [`LATEST_RATES`]' rows, with the pegs built in. A row this edge cannot use
/// (a currency it does not know, a rate [`Rate::new`] refuses) is left out: an estimate in
/// another currency then says "no rate", the page still renders.
pub fn rates_from_rows(rows: &[Map<String, Value>]) -> Rates {
    Rates::with(
        rows.iter()
            .filter_map(|r| serde_json::from_value::<Rate>(Value::Object(r.clone())).ok()),
    )
}

/// An estimate of `price` in `to` for a patient who thinks in another currency: through EUR
/// at the latest rates, rounded to `to`'s minor units. The page shows it with "≈" when
/// [`Converted::approximate`], with [`Converted::as_of`] (the rate's date), and flags it when
/// [`Converted::stale`] (a rate older than [`crate::money::convert::STALE_AFTER_DAYS`] days
/// on `today`, the clock port's UTC date).
pub fn estimate(
    price: &Money,
    to: Currency,
    rates: &Rates,
    today: NaiveDate,
) -> Result<Converted, BillingError> {
    Ok(rates.convert(price, to, today)?)
}

/// The bare code a [`CONSULTATION_TYPE_SYSTEM`] token (`system|code`) holds.
pub fn consultation_code(token: &str) -> Option<&str> {
    token
        .strip_prefix(CONSULTATION_TYPE_SYSTEM)?
        .strip_prefix('|')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn rows_become_exact_money() {
        let p = price_from_row(&row(
            json!({"id": "x", "code": "tc", "display": "Téléconsultation",
            "amount": "999999999999.99", "currency": "EUR", "status": "active"}),
        ))
        .unwrap();
        assert_eq!(p.amount.to_string(), "999999999999.99 EUR");
        let i = invoice_from_row(&row(json!({"id": "y", "date": "2026-11-30T09:30:00Z",
            "code": "tc", "display": "Téléconsultation", "amount": "25000", "currency": "XOF",
            "status": "issued", "appointment": "z"})))
        .unwrap();
        assert_eq!(i.amount, Money::from_minor(25000, Currency::Xof));
        assert!(matches!(
            price_from_row(&row(json!({"id": "x", "code": "tc", "display": "d",
                "amount": "0.1e1", "currency": "EUR", "status": "active"}))),
            Err(BillingError::Money(_))
        ));
        assert_eq!(
            price_from_row(&row(json!({"id": "x"}))),
            Err(BillingError::Missing("code"))
        );
    }

    #[test]
    fn an_estimate_carries_its_rate_date_and_staleness() {
        let rows = [
            row(
                json!({"currency": "USD", "per_eur": "1.1225", "as_of": "2026-11-27", "source": "ecb"}),
            ),
            // A currency this edge does not know is skipped, not an error.
            row(
                json!({"currency": "JPY", "per_eur": "160.1", "as_of": "2026-11-27", "source": "ecb"}),
            ),
        ];
        let rates = rates_from_rows(&rows);
        let price = Money::new(parse_decimal("50.00").unwrap(), Currency::Eur).unwrap();
        let e = estimate(&price, Currency::Usd, &rates, day("2026-11-30")).unwrap();
        assert_eq!(e.money.to_string(), "56.13 USD");
        assert!(e.approximate && !e.stale);
        assert_eq!(e.as_of, Some(day("2026-11-27")));
        let e = estimate(&price, Currency::Usd, &rates, day("2026-12-02")).unwrap();
        assert!(e.stale, "older than four days");
        // The CFA franc follows its parity: exact, never stale.
        let xof = Money::from_minor(25000, Currency::Xof);
        let e = estimate(&xof, Currency::Eur, &rates, day("2030-01-01")).unwrap();
        assert_eq!(e.money.to_string(), "38.11 EUR");
        assert!(!e.approximate && !e.stale);
        assert!(matches!(
            estimate(&price, Currency::Zar, &rates, day("2026-11-30")),
            Err(BillingError::Convert(ConvertError::NoRate(Currency::Zar)))
        ));
    }

    #[test]
    fn statements_are_in_the_catalog() {
        for name in [names::PRICES, names::PATIENT_INVOICES, names::LATEST_RATES] {
            assert!(crate::dataplane::catalog::lookup(name).is_some(), "{name}");
        }
        assert_eq!(
            consultation_code(&format!("{CONSULTATION_TYPE_SYSTEM}|tc")),
            Some("tc")
        );
    }
}
