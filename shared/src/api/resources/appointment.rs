//! FHIR R4 `Appointment`, and booking: creating an Appointment for a free Slot books it —
//! the Appointment `booked` and the Slot `busy` in one transaction, one edge→region call.
//! What makes double booking impossible lives in the clinic's schema
//! (`regional_db/migrations/tenant/0005_booking.sql`): the slot is taken under its row
//! lock, one holding appointment per slot (unique index), no overlapping appointments for a
//! practitioner (exclusion constraint); N concurrent bookings of a slot give one 201 and
//! N−1 409s. Status changes follow booked → arrived → fulfilled, booked → cancelled (which
//! frees the slot) and booked → noshow; any other is 422 naming the transition. The start
//! and end are the slot's.

use serde_json::{Map, Value, json};

use crate::{
    api::{
        resource::{Column, DbRule, Indexed, Meta, Resource, Rules, reference_to},
        search::{Match, SearchParam},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            Base, CODEABLE_CONCEPT, Codes, DATE_TIME, IDENTIFIER, INSTANT, Invariant, Kind, PERIOD,
            POSITIVE_INT, REFERENCE, STRING, Type, UNSIGNED_INT, ValueSet, many, opt, req,
            req_many,
        },
    },
};

/// The `Appointment` resource type.
pub struct Appointment;

/// R4 `AppointmentStatus` (required binding).
pub static APPOINTMENT_STATUS: ValueSet = ValueSet {
    name: "AppointmentStatus",
    codes: Codes::Listed(
        "proposed pending booked arrived fulfilled cancelled noshow entered-in-error \
         checked-in waitlist",
    ),
};

static PARTICIPANT_REQUIRED: ValueSet = ValueSet {
    name: "ParticipantRequired",
    codes: Codes::Listed("required optional information-only"),
};

static PARTICIPATION_STATUS: ValueSet = ValueSet {
    name: "ParticipationStatus",
    codes: Codes::Listed("accepted declined tentative needs-action"),
};

/// R4 `Appointment` (<https://hl7.org/fhir/R4/appointment.html>), with its invariants
/// app-2 and app-4 (app-3, times unless proposed/cancelled/waitlist, holds for what is
/// stored: a booking takes its slot's times).
pub static APPOINTMENT: Type = Type {
    name: "Appointment",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        req("status", Kind::Code(&APPOINTMENT_STATUS)),
        opt("cancelationReason", Kind::Type(&CODEABLE_CONCEPT)),
        many("serviceCategory", Kind::Type(&CODEABLE_CONCEPT)),
        many("serviceType", Kind::Type(&CODEABLE_CONCEPT)),
        many("specialty", Kind::Type(&CODEABLE_CONCEPT)),
        opt("appointmentType", Kind::Type(&CODEABLE_CONCEPT)),
        many("reasonCode", Kind::Type(&CODEABLE_CONCEPT)),
        many("reasonReference", Kind::Type(&REFERENCE)),
        opt("priority", UNSIGNED_INT),
        opt("description", STRING),
        many("supportingInformation", Kind::Type(&REFERENCE)),
        opt("start", INSTANT),
        opt("end", INSTANT),
        opt("minutesDuration", POSITIVE_INT),
        many("slot", Kind::Type(&REFERENCE)),
        opt("created", DATE_TIME),
        opt("comment", STRING),
        opt("patientInstruction", STRING),
        many("basedOn", Kind::Type(&REFERENCE)),
        req_many("participant", Kind::Type(&PARTICIPANT)),
        many("requestedPeriod", Kind::Type(&PERIOD)),
    ],
    invariants: &[
        Invariant {
            key: "app-2",
            human: "either start and end are both given, or neither",
            holds: |o| o.contains_key("start") == o.contains_key("end"),
        },
        // R4 writes this one with 'no-show' where the code is `noshow`: the code is meant.
        Invariant {
            key: "app-4",
            human: "cancelationReason is only for cancelled or noshow appointments",
            holds: |o| {
                !o.contains_key("cancelationReason")
                    || matches!(
                        o.get("status").and_then(Value::as_str),
                        Some("cancelled" | "noshow")
                    )
            },
        },
    ],
};

static PARTICIPANT: Type = Type {
    name: "Appointment.participant",
    base: Base::Backbone,
    elements: &[
        many("type", Kind::Type(&CODEABLE_CONCEPT)),
        opt("actor", Kind::Type(&REFERENCE)),
        opt("required", Kind::Code(&PARTICIPANT_REQUIRED)),
        req("status", Kind::Code(&PARTICIPATION_STATUS)),
        opt("period", Kind::Type(&PERIOD)),
    ],
    invariants: &[Invariant {
        key: "app-1",
        human: "a participant has a type or an actor",
        holds: |o| o.contains_key("type") || o.contains_key("actor"),
    }],
};

static COLUMNS: &[Column] = &[
    Column::uuid("slot"),
    Column::uuid("patient"),
    Column::uuid("practitioner"),
    Column::text("status"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "date",
        kind: Match::DateRange("starts_at"),
        documentation: "When the appointment starts: eq (default), ge, gt, le, lt; repeatable.",
    },
    SearchParam {
        name: "patient",
        kind: Match::Reference {
            column: "patient",
            target: "Patient",
        },
        documentation: "The patient (Patient/<id>).",
    },
    SearchParam {
        name: "practitioner",
        kind: Match::Reference {
            column: "practitioner",
            target: "Practitioner",
        },
        documentation: "The practitioner (Practitioner/<id>).",
    },
    SearchParam {
        name: "status",
        kind: Match::Code {
            column: "status",
            codes: &APPOINTMENT_STATUS,
        },
        documentation: "The appointment's status.",
    },
    SearchParam {
        name: "slot",
        kind: Match::Reference {
            column: "slot",
            target: "Slot",
        },
        documentation: "The booked slot (Slot/<id>).",
    },
];

static RULES: &[DbRule] = &[
    DbRule::reference(
        "appointments_slot_fkey",
        "Appointment.slot",
        "Appointment.slot refers to a Slot this clinic does not have",
    ),
    DbRule::reference(
        "appointments_patient_fkey",
        "Appointment.participant",
        "the Patient participant is not a patient of this clinic",
    ),
    DbRule::reference(
        "appointments_practitioner_fkey",
        "Appointment.participant",
        "the Practitioner participant is not a practitioner of this clinic",
    ),
    DbRule {
        name: "appointments_slot_free",
        conflict: true,
        path: "Appointment.slot",
        human: "the slot is no longer available; choose another",
    },
    DbRule {
        name: "appointments_one_per_slot",
        conflict: true,
        path: "Appointment.slot",
        human: "the slot is no longer available; choose another",
    },
    DbRule {
        name: "appointments_no_double_booking",
        conflict: true,
        path: "Appointment.slot",
        human: "the practitioner already has an appointment at this time",
    },
    DbRule {
        name: "appointments_created_booked",
        conflict: false,
        path: "Appointment.status",
        human: "an appointment is created booked, for a free slot; its status was",
    },
    DbRule {
        name: "appointments_slot_practitioner",
        conflict: false,
        path: "Appointment.participant",
        human: "the Practitioner participant is not the practitioner of the slot",
    },
    DbRule {
        name: "appointments_fixed",
        conflict: false,
        path: "Appointment",
        human: "an appointment's slot, patient and practitioner do not change; cancel it and book again",
    },
    DbRule {
        name: "appointments_status_transition",
        conflict: false,
        path: "Appointment.status",
        human: "this status change is not allowed (booked → arrived → fulfilled, booked → \
                cancelled, booked → noshow)",
    },
    // Raised when an appointment becomes `fulfilled` in a clinic that bills (it has a price):
    // its invoice needs one consultation type with an active price (0015_billing.sql).
    DbRule {
        name: "appointments_priced",
        conflict: false,
        path: "Appointment.serviceType",
        human: "a fulfilled consultation is invoiced: the appointment needs one serviceType \
                coding of https://telemed-edge.health/fhir/CodeSystem/consultation-type with \
                an active price (ChargeItemDefinition)",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    db_rules: RULES,
    patient_column: Some("patient"),
    ..Meta::new("Appointment", "appointments", "appointments", &APPOINTMENT)
};

impl Resource for Appointment {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// One slot; one Patient participant; at most one Practitioner participant.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let slots = obj
            .get("slot")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let slot = match slots {
            [slot] => reference_to(Some(slot), "Slot", "Appointment.slot[0]")
                .map_err(|i| issues.push(i))
                .ok(),
            _ => {
                issues.push(
                    Issue::new(
                        IssueCode::Required,
                        "an appointment books exactly one slot: Appointment.slot [Slot/<id>]",
                    )
                    .at("Appointment.slot"),
                );
                None
            }
        };
        let participants = obj
            .get("participant")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut actors = |target: &str| -> Vec<Option<String>> {
            participants
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let actor = p.get("actor")?;
                    let reference = actor.get("reference")?.as_str()?;
                    reference.starts_with(&format!("{target}/")).then(|| {
                        reference_to(
                            Some(actor),
                            target,
                            &format!("Appointment.participant[{i}].actor"),
                        )
                        .map_err(|e| issues.push(e))
                        .ok()
                    })
                })
                .collect()
        };
        let patients = actors("Patient");
        let practitioners = actors("Practitioner");
        let patient = match patients.as_slice() {
            [p] => p.clone(),
            _ => {
                issues.push(
                    Issue::new(
                        IssueCode::Required,
                        "an appointment has exactly one Patient participant",
                    )
                    .at("Appointment.participant"),
                );
                None
            }
        };
        let practitioner = match practitioners.as_slice() {
            [] => None,
            [p] => p.clone(),
            _ => {
                issues.push(
                    Issue::new(
                        IssueCode::NotSupported,
                        "an appointment has at most one Practitioner participant",
                    )
                    .at("Appointment.participant"),
                );
                None
            }
        };
        Indexed {
            columns: vec![
                json!(slot),
                json!(patient),
                json!(practitioner),
                json!(obj.get("status").and_then(Value::as_str)),
            ],
            issues,
        }
    }
}
