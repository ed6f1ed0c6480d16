//! FHIR R4 `Slot`: one bookable interval of a Schedule. Created one by one or generated
//! from weekly availability (`$generate-slots` on the Schedule); booked by creating an
//! Appointment for it, which makes it `busy` in the same transaction. Search by
//! `schedule`, `practitioner` (the schedule's), `start` (with prefixes) and `status`.

use serde_json::{Map, Value, json};

use super::appointment::Appointment;
use crate::{
    api::{
        resource::{Column, DbRule, Indexed, Meta, Operation, Resource, Rules, reference_to},
        search::{Match, SearchParam},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            BOOLEAN, Base, CODEABLE_CONCEPT, Codes, IDENTIFIER, INSTANT, Kind, REFERENCE, STRING,
            Type, ValueSet, many, opt, req,
        },
        dates::{self, instant},
    },
};

/// The `Slot` resource type.
pub struct Slot;

/// R4 `SlotStatus` (required binding).
pub static SLOT_STATUS: ValueSet = ValueSet {
    name: "SlotStatus",
    codes: Codes::Listed("busy free busy-unavailable busy-tentative entered-in-error"),
};

/// R4 `Slot` (<https://hl7.org/fhir/R4/slot.html>).
pub static SLOT: Type = Type {
    name: "Slot",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        many("serviceCategory", Kind::Type(&CODEABLE_CONCEPT)),
        many("serviceType", Kind::Type(&CODEABLE_CONCEPT)),
        many("specialty", Kind::Type(&CODEABLE_CONCEPT)),
        opt("appointmentType", Kind::Type(&CODEABLE_CONCEPT)),
        req("schedule", Kind::Type(&REFERENCE)),
        req("status", Kind::Code(&SLOT_STATUS)),
        req("start", INSTANT),
        req("end", INSTANT),
        opt("overbooked", BOOLEAN),
        opt("comment", STRING),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[
    Column::uuid("schedule"),
    Column::text("status"),
    Column::instant("starts_at"),
    Column::instant("ends_at"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "schedule",
        kind: Match::Reference {
            column: "schedule",
            target: "Schedule",
        },
        documentation: "The slot's schedule (Schedule/<id>).",
    },
    SearchParam {
        name: "practitioner",
        kind: Match::Via {
            column: "schedule",
            table: "schedules",
            through: "practitioner",
            target: "Practitioner",
        },
        documentation: "The practitioner of the slot's schedule (Practitioner/<id>).",
    },
    SearchParam {
        name: "start",
        kind: Match::DateRange("starts_at"),
        documentation: "When the slot starts: eq (default), ge, gt, le, lt; repeatable.",
    },
    SearchParam {
        name: "status",
        kind: Match::Code {
            column: "status",
            codes: &SLOT_STATUS,
        },
        documentation: "busy | free | busy-unavailable | busy-tentative | entered-in-error",
    },
];

static RULES: &[DbRule] = &[
    DbRule::reference(
        "slots_schedule_fkey",
        "Slot.schedule",
        "Slot.schedule refers to a Schedule this clinic does not have",
    ),
    DbRule {
        name: "slots_one_per_start",
        conflict: true,
        path: "Slot.start",
        human: "the schedule already has a slot starting at this time",
    },
    DbRule {
        name: "slots_held",
        conflict: false,
        path: "Slot.status",
        human: "an appointment holds this slot: it stays busy, at its times, until the \
                appointment is cancelled",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    db_rules: RULES,
    // `POST /v1/slots/{id}/$book`: an Appointment (without `slot`) books this slot.
    operations: &[Operation::CreateFor {
        name: "book",
        target: &Appointment,
        element: "slot",
    }],
    ..Meta::new("Slot", "slots", "slots", &SLOT)
};

impl Resource for Slot {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// A schedule of this clinic, and a start before the end.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let schedule = obj.get("schedule").and_then(|s| {
            reference_to(Some(s), "Schedule", "Slot.schedule")
                .map_err(|i| issues.push(i))
                .ok()
        });
        let at = |k: &str| obj.get(k).and_then(Value::as_str).and_then(instant);
        let (start, end) = (at("start"), at("end"));
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            issues.push(
                Issue::new(IssueCode::Invariant, "a slot must end after it starts").at("Slot.end"),
            );
        }
        Indexed {
            columns: vec![
                json!(schedule),
                json!(obj.get("status").and_then(Value::as_str)),
                json!(start.map(dates::to_rfc3339)),
                json!(end.map(dates::to_rfc3339)),
            ],
            issues,
        }
    }
}
