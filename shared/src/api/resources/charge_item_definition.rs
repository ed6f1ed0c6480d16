//! FHIR R4 `ChargeItemDefinition`: the price a clinic charges for one consultation type.
//!
//! The consultation type is `code`, a coding of [`CONSULTATION_TYPE_SYSTEM`] whose codes the
//! clinic defines (with their display names); the price is the one base component of the
//! one property group, `propertyGroup[0].priceComponent[0] {type: base, amount}`, in the
//! clinic's billing currency, positive, with no more decimals than the currency's minor
//! units (EUR 2, XOF none). An appointment whose `serviceType` carries that coding is
//! charged that price when it is fulfilled (an `Invoice`, issued by the clinic's schema:
//! `regional_db/migrations/tenant/0015_billing.sql`).
//!
//! The amount is read from the JSON number's own digits (`serde_json`'s
//! `arbitrary_precision`), never through a float: `1234.50` is stored and returned as
//! `1234.50`. The schema checks the currency and the decimals again (a cold edge does not
//! know the clinic's currency) and holds at most one `active` price per consultation type.

use serde_json::{Map, Value, json};

use crate::{
    api::{
        resource::{Column, DbRule, Indexed, Meta, Resource, Rules},
        search::{Match, SearchParam},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            BOOLEAN, Base, CANONICAL, CODEABLE_CONCEPT, Codes, DATE, DATE_TIME, DECIMAL,
            IDENTIFIER, Kind, MARKDOWN, MONEY, PERIOD, REFERENCE, STRING, Type, URI, ValueSet,
            many, opt, req,
        },
    },
    money::{Currency, Money, parse_decimal},
};

/// The code system of consultation types: each clinic defines its own codes (and their
/// display names) in it; an Appointment's `serviceType` and a price's `code` meet there.
/// A coding of another system never selects a price, however it is spelled.
pub const CONSULTATION_TYPE_SYSTEM: &str =
    "https://telemed-edge.health/fhir/CodeSystem/consultation-type";

/// The `ChargeItemDefinition` resource type.
pub struct ChargeItemDefinition;

/// R4 `PublicationStatus` (required binding).
pub static PUBLICATION_STATUS: ValueSet = ValueSet {
    name: "PublicationStatus",
    codes: Codes::Listed("draft active retired unknown"),
};

/// R4 `InvoicePriceComponentType` (required binding), shared with `Invoice`.
pub static PRICE_COMPONENT_TYPE: ValueSet = ValueSet {
    name: "InvoicePriceComponentType",
    codes: Codes::Listed("base surcharge deduction discount tax informational"),
};

/// A price component (`ChargeItemDefinition.propertyGroup.priceComponent`,
/// `Invoice.lineItem.priceComponent`, `Invoice.totalPriceComponent`: the same shape).
pub static PRICE_COMPONENT: Type = Type {
    name: "PriceComponent",
    base: Base::Backbone,
    elements: &[
        req("type", Kind::Code(&PRICE_COMPONENT_TYPE)),
        opt("code", Kind::Type(&CODEABLE_CONCEPT)),
        opt("factor", DECIMAL),
        opt("amount", Kind::Type(&MONEY)),
    ],
    invariants: &[],
};

static APPLICABILITY: Type = Type {
    name: "ChargeItemDefinition.applicability",
    base: Base::Backbone,
    elements: &[
        opt("description", STRING),
        opt("language", STRING),
        opt("expression", STRING),
    ],
    invariants: &[],
};

static PROPERTY_GROUP: Type = Type {
    name: "ChargeItemDefinition.propertyGroup",
    base: Base::Backbone,
    elements: &[
        many("applicability", Kind::Type(&APPLICABILITY)),
        many("priceComponent", Kind::Type(&PRICE_COMPONENT)),
    ],
    invariants: &[],
};

/// R4 `ChargeItemDefinition` (<https://hl7.org/fhir/R4/chargeitemdefinition.html>).
/// `contact` and `useContext` (metadata types the platform does not model) are refused.
pub static CHARGE_ITEM_DEFINITION: Type = Type {
    name: "ChargeItemDefinition",
    base: Base::DomainResource,
    elements: &[
        req("url", URI),
        many("identifier", Kind::Type(&IDENTIFIER)),
        opt("version", STRING),
        opt("title", STRING),
        many("derivedFromUri", URI),
        many("partOf", CANONICAL),
        many("replaces", CANONICAL),
        req("status", Kind::Code(&PUBLICATION_STATUS)),
        opt("experimental", BOOLEAN),
        opt("date", DATE_TIME),
        opt("publisher", STRING),
        many(
            "contact",
            Kind::Refused("ContactDetail is not supported on a price"),
        ),
        opt("description", MARKDOWN),
        many(
            "useContext",
            Kind::Refused("UsageContext is not supported on a price"),
        ),
        many("jurisdiction", Kind::Type(&CODEABLE_CONCEPT)),
        opt("copyright", MARKDOWN),
        opt("approvalDate", DATE),
        opt("lastReviewDate", DATE),
        opt("effectivePeriod", Kind::Type(&PERIOD)),
        opt("code", Kind::Type(&CODEABLE_CONCEPT)),
        many("instance", Kind::Type(&REFERENCE)),
        many("applicability", Kind::Type(&APPLICABILITY)),
        many("propertyGroup", Kind::Type(&PROPERTY_GROUP)),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[Column::text("code"), Column::text("status")];

static SEARCH: &[SearchParam] = &[SearchParam {
    name: "status",
    kind: Match::Code {
        column: "status",
        codes: &PUBLICATION_STATUS,
    },
    documentation: "draft | active | retired | unknown",
}];

static RULES: &[DbRule] = &[
    DbRule {
        name: "charge_item_definitions_one_active_price",
        conflict: true,
        path: "ChargeItemDefinition.status",
        human: "this consultation type already has an active price; retire it first",
    },
    DbRule {
        name: "charge_item_definitions_currency",
        conflict: false,
        path: "ChargeItemDefinition.propertyGroup[0].priceComponent[0].amount.currency",
        human: "a price is in the clinic's billing currency",
    },
    DbRule {
        name: "charge_item_definitions_minor_units",
        conflict: false,
        path: "ChargeItemDefinition.propertyGroup[0].priceComponent[0].amount.value",
        human: "the amount has more decimals than the currency allows",
    },
    DbRule {
        name: "charge_item_definitions_amount_positive",
        conflict: false,
        path: "ChargeItemDefinition.propertyGroup[0].priceComponent[0].amount.value",
        human: "a price is greater than zero",
    },
    DbRule {
        name: "charge_item_definitions_priced",
        conflict: false,
        path: "ChargeItemDefinition",
        human: "a price has a consultation type (code) and a base amount with its currency",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    db_rules: RULES,
    ..Meta::new(
        "ChargeItemDefinition",
        "charge-item-definitions",
        "charge_item_definitions",
        &CHARGE_ITEM_DEFINITION,
    )
};

/// Why a price's amount is refused; each becomes an issue at the amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// No `propertyGroup[0].priceComponent[0]` of type `base` with an amount.
    #[error(
        "a price is one base component with an amount: propertyGroup[0].priceComponent[0] \
         {{\"type\": \"base\", \"amount\": {{\"value\", \"currency\"}}}}"
    )]
    NoBasePrice,
    /// Components besides the one base price (surcharges, taxes…) are not billed yet.
    #[error("a price has exactly one property group with one base component")]
    Composite,
    /// The value is not a plain decimal number (`1e3`, a string).
    #[error("amount.value must be a plain decimal number such as 1234.50")]
    NotADecimal,
    /// The currency is not one the platform bills in.
    #[error("amount.currency {0:?} is not a currency the platform bills in")]
    UnknownCurrency(String),
    /// The clinic bills in another currency.
    #[error("this clinic bills in {clinic}, not {given}")]
    WrongCurrency { given: Currency, clinic: Currency },
    /// More decimals than the currency's minor units (12.345 EUR, 10.5 XOF).
    #[error("{currency} amounts have at most {minor_units} decimals")]
    TooPrecise {
        currency: Currency,
        minor_units: u32,
    },
    /// Zero or negative.
    #[error("a price is greater than zero")]
    NotPositive,
}

impl PriceError {
    fn issue(&self) -> Issue {
        let at = match self {
            Self::NoBasePrice | Self::Composite => "ChargeItemDefinition.propertyGroup",
            Self::UnknownCurrency(_) | Self::WrongCurrency { .. } => {
                "ChargeItemDefinition.propertyGroup[0].priceComponent[0].amount.currency"
            }
            _ => "ChargeItemDefinition.propertyGroup[0].priceComponent[0].amount.value",
        };
        let code = match self {
            Self::NoBasePrice => IssueCode::Required,
            Self::Composite => IssueCode::NotSupported,
            _ => IssueCode::Value,
        };
        Issue::new(code, self.to_string()).at(at)
    }
}

/// The amount of a FHIR `Money` element, exactly: its JSON number's digits, never a float
/// (`serde_json` keeps them: `arbitrary_precision`). `None` when the value is absent or no
/// plain decimal.
pub fn decimal_of(money: &Value) -> Option<rust_decimal::Decimal> {
    match money.get("value")? {
        Value::Number(n) => parse_decimal(&n.to_string()).ok(),
        _ => None,
    }
}

/// The base price of a ChargeItemDefinition, checked against the clinic's currency when it
/// is known (`clinic`).
pub fn base_price(obj: &Map<String, Value>, clinic: Option<Currency>) -> Result<Money, PriceError> {
    let groups = obj
        .get("propertyGroup")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let components = groups
        .first()
        .and_then(|g| g.get("priceComponent"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let base = match components.first() {
        Some(c) if c.get("type").and_then(Value::as_str) == Some("base") => c,
        _ => return Err(PriceError::NoBasePrice),
    };
    if groups.len() > 1 || components.len() > 1 {
        return Err(PriceError::Composite);
    }
    let amount = base.get("amount").ok_or(PriceError::NoBasePrice)?;
    let code = amount
        .get("currency")
        .and_then(Value::as_str)
        .ok_or(PriceError::NoBasePrice)?;
    if amount.get("value").is_none() {
        return Err(PriceError::NoBasePrice);
    }
    let value = decimal_of(amount).ok_or(PriceError::NotADecimal)?;
    let currency: Currency = code
        .parse()
        .map_err(|_| PriceError::UnknownCurrency(code.to_owned()))?;
    if let Some(clinic) = clinic
        && clinic != currency
    {
        return Err(PriceError::WrongCurrency {
            given: currency,
            clinic,
        });
    }
    let money = Money::new(value, currency).map_err(|_| PriceError::TooPrecise {
        currency,
        minor_units: currency.minor_units(),
    })?;
    if money.is_zero() || money.is_negative() {
        return Err(PriceError::NotPositive);
    }
    Ok(money)
}

/// The consultation type a price is for: the one coding of [`CONSULTATION_TYPE_SYSTEM`] in
/// `code`, as `system|code`, with its display name (pages show it).
fn consultation_type(obj: &Map<String, Value>) -> Result<String, Issue> {
    let codings: Vec<&Value> = obj
        .get("code")
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter(|c| c.get("system").and_then(Value::as_str) == Some(CONSULTATION_TYPE_SYSTEM))
        .collect();
    let [coding] = codings.as_slice() else {
        return Err(Issue::new(
            IssueCode::Required,
            format!(
                "a price names one consultation type: code.coding with system \
                 {CONSULTATION_TYPE_SYSTEM}, a code and its display"
            ),
        )
        .at("ChargeItemDefinition.code"));
    };
    let code = coding.get("code").and_then(Value::as_str);
    let display = coding.get("display").and_then(Value::as_str);
    match (code, display) {
        (Some(code), Some(_)) => Ok(format!("{CONSULTATION_TYPE_SYSTEM}|{code}")),
        _ => Err(Issue::new(
            IssueCode::Required,
            "the consultation type's coding has a code and a display name",
        )
        .at("ChargeItemDefinition.code.coding")),
    }
}

impl Resource for ChargeItemDefinition {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// One consultation type; one positive base price in the clinic's currency, at most at
    /// its minor units.
    fn index(&self, obj: &Map<String, Value>, rules: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let code = consultation_type(obj).map_err(|i| issues.push(i)).ok();
        if let Err(e) = base_price(obj, rules.currency) {
            issues.push(e.issue());
        }
        Indexed {
            columns: vec![
                json!(code),
                json!(obj.get("status").and_then(Value::as_str)),
            ],
            issues,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::{Invalid, TEST_RULES, validate};

    fn price(value: &str, currency: &str) -> Value {
        let text = format!(
            r#"{{"resourceType": "ChargeItemDefinition",
                 "url": "https://clinique.example/fhir/ChargeItemDefinition/teleconsultation",
                 "status": "active",
                 "code": {{"coding": [{{"system": "{CONSULTATION_TYPE_SYSTEM}",
                                       "code": "teleconsultation", "display": "Téléconsultation"}}]}},
                 "propertyGroup": [{{"priceComponent": [{{"type": "base",
                     "amount": {{"value": {value}, "currency": "{currency}"}}}}]}}]}}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    fn rules(currency: Currency) -> Rules<'static> {
        Rules {
            currency: Some(currency),
            ..TEST_RULES
        }
    }

    fn refused(body: Value, rules: &Rules<'_>) -> Vec<Issue> {
        match validate(&ChargeItemDefinition, body, rules) {
            Err(Invalid::Issues(i)) => i,
            other => panic!("should be refused: {other:?}"),
        }
    }

    #[test]
    fn amounts_keep_their_digits() {
        for (value, currency) in [
            ("1234.50", Currency::Eur),
            ("0.10", Currency::Eur),
            ("999999999999.99", Currency::Eur),
            ("12345678901234567.89", Currency::Eur),
            ("25000", Currency::Xof),
        ] {
            let body = price(value, currency.code());
            let v = validate(&ChargeItemDefinition, body, &rules(currency)).unwrap();
            let stored = &v.resource["propertyGroup"][0]["priceComponent"][0]["amount"]["value"];
            assert_eq!(stored.to_string(), value, "the JSON number keeps its text");
            assert!(serde_json::to_string(&v.resource).unwrap().contains(value));
            assert_eq!(
                base_price(v.resource.as_object().unwrap(), None)
                    .unwrap()
                    .amount()
                    .to_string(),
                Money::new(parse_decimal(value).unwrap(), currency)
                    .unwrap()
                    .amount()
                    .to_string()
            );
            assert_eq!(
                v.columns,
                [
                    json!(format!("{CONSULTATION_TYPE_SYSTEM}|teleconsultation")),
                    json!("active")
                ]
            );
        }
        // Without the clinic's currency (a cold edge), the schema checks it.
        assert!(validate(&ChargeItemDefinition, price("10.00", "USD"), &TEST_RULES).is_ok());
    }

    #[test]
    fn the_wrong_currency_is_refused() {
        let i = refused(price("1234.50", "USD"), &rules(Currency::Eur));
        assert!(i[0].diagnostics.contains("bills in EUR, not USD"), "{i:?}");
        assert_eq!(
            i[0].expression.as_deref(),
            Some("ChargeItemDefinition.propertyGroup[0].priceComponent[0].amount.currency")
        );
        let i = refused(price("10", "ABC"), &TEST_RULES);
        assert!(i.iter().any(|i| i.diagnostics.contains("\"ABC\"")), "{i:?}");
    }

    #[test]
    fn too_many_decimals_are_refused() {
        let i = refused(price("25000.5", "XOF"), &rules(Currency::Xof));
        assert!(
            i[0].diagnostics
                .contains("XOF amounts have at most 0 decimals"),
            "{i:?}"
        );
        let i = refused(price("12.345", "EUR"), &rules(Currency::Eur));
        assert!(i[0].diagnostics.contains("at most 2"), "{i:?}");
        // Trailing zeros are no extra precision.
        assert!(
            validate(
                &ChargeItemDefinition,
                price("25000.0", "XOF"),
                &rules(Currency::Xof)
            )
            .is_ok()
        );
    }

    #[test]
    fn zero_negative_and_non_numeric_amounts_are_refused() {
        for value in ["0", "-10.00", "0.00"] {
            let i = refused(price(value, "EUR"), &rules(Currency::Eur));
            assert!(
                i[0].diagnostics.contains("greater than zero"),
                "{value}: {i:?}"
            );
        }
        let i = refused(price("1e3", "EUR"), &rules(Currency::Eur));
        assert!(i[0].diagnostics.contains("plain decimal"), "{i:?}");
        // A string is not a FHIR decimal: the structure check says so.
        let i = refused(price("\"12.50\"", "EUR"), &rules(Currency::Eur));
        assert!(
            i.iter().any(|i| i
                .expression
                .as_deref()
                .is_some_and(|e| e.ends_with("amount.value"))),
            "{i:?}"
        );
    }

    #[test]
    fn a_price_names_one_consultation_type_and_one_base_component() {
        let mut body = price("50.00", "EUR");
        body["code"]["coding"][0]["system"] = json!("http://snomed.info/sct");
        body["propertyGroup"][0]["priceComponent"][0]["type"] = json!("tax");
        let i = refused(body, &rules(Currency::Eur));
        assert!(
            i.iter()
                .any(|i| i.expression.as_deref() == Some("ChargeItemDefinition.code"))
        );
        assert!(
            i.iter()
                .any(|i| i.diagnostics.contains("one base component"))
        );
        let mut body = price("50.00", "EUR");
        body["code"]["coding"][0]
            .as_object_mut()
            .unwrap()
            .remove("display");
        let i = refused(body, &rules(Currency::Eur));
        assert!(i[0].diagnostics.contains("display"), "{i:?}");
    }
}
