//! FHIR R4 `Invoice`: what a fulfilled consultation is charged. Issued by the clinic's schema
//! when an appointment becomes `fulfilled` (`regional_db/migrations/tenant/0015_billing.sql`),
//! in the same transaction, once per appointment; never created nor changed through the API
//! (read and search only).
//!
//! Shape: `status: issued`, `subject` the patient, `date`, `participant[0].actor` the
//! practitioner, `lineItem[0]` with `chargeItemCodeableConcept` the price's consultation type
//! and `priceComponent[0] {type: base, amount}`, `totalNet` = `totalGross` = that amount, in
//! the clinic's currency, its digits copied from the NUMERIC price (never a float).
//!
//! The appointment it bills is [`APPOINTMENT_EXTENSION`] (`valueReference:
//! Appointment/<id>`): R4 Invoice has no element pointing to what it bills other than
//! `lineItem.chargeItemReference` (a ChargeItem), and an `identifier` is the invoice's own
//! business identifier, not a link — a reference in an extension stays a resolvable
//! reference that FHIR clients recognise as such. The API also searches by it
//! (`appointment`).

use serde_json::{Map, Value, json};

use super::charge_item_definition::PRICE_COMPONENT;
use crate::{
    api::{
        resource::{Column, Indexed, Interaction, Meta, Resource, Rules, reference_to},
        search::{Match, SearchParam},
    },
    fhir::datatypes::{
        ANNOTATION, Base, CODEABLE_CONCEPT, Choice, Codes, DATE_TIME, IDENTIFIER, Kind, MARKDOWN,
        MONEY, POSITIVE_INT, REFERENCE, STRING, Type, ValueSet, many, opt, req,
    },
};

/// The extension linking an Invoice to the Appointment it bills (a `valueReference`).
pub const APPOINTMENT_EXTENSION: &str =
    "https://telemed-edge.health/fhir/StructureDefinition/invoice-appointment";

/// The `Invoice` resource type.
pub struct Invoice;

/// R4 `InvoiceStatus` (required binding).
pub static INVOICE_STATUS: ValueSet = ValueSet {
    name: "InvoiceStatus",
    codes: Codes::Listed("draft issued balanced cancelled entered-in-error"),
};

static PARTICIPANT: Type = Type {
    name: "Invoice.participant",
    base: Base::Backbone,
    elements: &[
        opt("role", Kind::Type(&CODEABLE_CONCEPT)),
        req("actor", Kind::Type(&REFERENCE)),
    ],
    invariants: &[],
};

static LINE_ITEM: Type = Type {
    name: "Invoice.lineItem",
    base: Base::Backbone,
    elements: &[
        opt("sequence", POSITIVE_INT),
        req(
            "chargeItem",
            Kind::Choice(&Choice {
                types: &[Kind::Type(&REFERENCE), Kind::Type(&CODEABLE_CONCEPT)],
                refused: &[],
            }),
        ),
        many("priceComponent", Kind::Type(&PRICE_COMPONENT)),
    ],
    invariants: &[],
};

/// R4 `Invoice` (<https://hl7.org/fhir/R4/invoice.html>).
pub static INVOICE: Type = Type {
    name: "Invoice",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        req("status", Kind::Code(&INVOICE_STATUS)),
        opt("cancelledReason", STRING),
        opt("type", Kind::Type(&CODEABLE_CONCEPT)),
        opt("subject", Kind::Type(&REFERENCE)),
        opt("recipient", Kind::Type(&REFERENCE)),
        opt("date", DATE_TIME),
        many("participant", Kind::Type(&PARTICIPANT)),
        opt("issuer", Kind::Type(&REFERENCE)),
        opt("account", Kind::Type(&REFERENCE)),
        many("lineItem", Kind::Type(&LINE_ITEM)),
        many("totalPriceComponent", Kind::Type(&PRICE_COMPONENT)),
        opt("totalNet", Kind::Type(&MONEY)),
        opt("totalGross", Kind::Type(&MONEY)),
        opt("paymentTerms", MARKDOWN),
        many("note", Kind::Type(&ANNOTATION)),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[
    Column::reference("patient", "patients"),
    Column::text("status"),
    Column::reference("appointment", "appointments"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "patient",
        kind: Match::Reference {
            column: "patient",
            target: "Patient",
        },
        documentation: "The patient billed (Patient/<id>).",
    },
    SearchParam {
        name: "subject",
        kind: Match::Reference {
            column: "patient",
            target: "Patient",
        },
        documentation: "The patient billed (Patient/<id>): the same as patient.",
    },
    SearchParam {
        name: "status",
        kind: Match::Code {
            column: "status",
            codes: &INVOICE_STATUS,
        },
        documentation: "draft | issued | balanced | cancelled | entered-in-error",
    },
    SearchParam {
        name: "appointment",
        kind: Match::Reference {
            column: "appointment",
            target: "Appointment",
        },
        documentation: "The appointment billed (Appointment/<id>), from the \
                        invoice-appointment extension.",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    interactions: &[Interaction::Read, Interaction::SearchType],
    patient_column: Some("patient"),
    ..Meta::new("Invoice", "invoices", "invoices", &INVOICE)
};

impl Resource for Invoice {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// Never called for a write (the API offers none); the columns as the schema fills them.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let patient = reference_to(obj.get("subject"), "Patient", "Invoice.subject")
            .map_err(|i| issues.push(i))
            .ok();
        let appointment = obj
            .get("extension")
            .and_then(Value::as_array)
            .and_then(|e| {
                e.iter()
                    .find(|x| x.get("url").and_then(Value::as_str) == Some(APPOINTMENT_EXTENSION))
            })
            .and_then(|x| {
                reference_to(x.get("valueReference"), "Appointment", "Invoice.extension")
                    .map_err(|i| issues.push(i))
                    .ok()
            });
        Indexed {
            columns: vec![
                json!(patient),
                json!(obj.get("status").and_then(Value::as_str)),
                json!(appointment),
            ],
            issues,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::{TEST_RULES, statements, validate};

    /// What the schema's trigger writes is a valid R4 Invoice of ours.
    #[test]
    fn the_issued_shape_is_valid() {
        let body: Value = serde_json::from_str(&format!(
            r#"{{"resourceType": "Invoice",
                 "extension": [{{"url": "{APPOINTMENT_EXTENSION}",
                                "valueReference": {{"reference": "Appointment/5b0c1a2e-1111-4222-8333-444455556666"}}}}],
                 "status": "issued",
                 "subject": {{"reference": "Patient/6b0c1a2e-1111-4222-8333-444455556666"}},
                 "date": "2026-11-30T09:30:00Z",
                 "participant": [{{"actor": {{"reference": "Practitioner/7b0c1a2e-1111-4222-8333-444455556666"}}}}],
                 "lineItem": [{{"sequence": 1,
                     "chargeItemCodeableConcept": {{"coding": [{{"system": "https://telemed-edge.health/fhir/CodeSystem/consultation-type", "code": "tc", "display": "Téléconsultation"}}]}},
                     "priceComponent": [{{"type": "base", "amount": {{"value": 1234.50, "currency": "EUR"}}}}]}}],
                 "totalNet": {{"value": 1234.50, "currency": "EUR"}},
                 "totalGross": {{"value": 1234.50, "currency": "EUR"}}}}"#
        ))
        .unwrap();
        let v = validate(&Invoice, body, &TEST_RULES).unwrap();
        assert_eq!(
            v.columns,
            [
                json!("6b0c1a2e-1111-4222-8333-444455556666"),
                json!("issued"),
                json!("5b0c1a2e-1111-4222-8333-444455556666")
            ]
        );
        assert_eq!(v.resource["totalGross"]["value"].to_string(), "1234.50");
    }

    #[test]
    fn invoices_are_read_and_searched_never_written_through_the_api() {
        let names: Vec<&str> = statements(&Invoice).iter().map(|s| s.name).collect();
        assert!(names.contains(&"invoice.read") && names.contains(&"invoice.search"));
        assert!(
            !names
                .iter()
                .any(|n| n.contains("create") || n.contains("update")),
            "{names:?}"
        );
    }
}
