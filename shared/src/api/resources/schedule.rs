//! FHIR R4 `Schedule`: a practitioner's bookable time, the container of their Slots.
//! Its one actor is a Practitioner of this clinic (the API serves no Location or
//! HealthcareService actors yet). Search by `actor` and `active`.

use serde_json::{Map, Value, json};

use crate::{
    api::{
        resource::{Column, DbRule, Indexed, Resource, Rules, reference_to},
        search::{Match, SearchParam},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            BOOLEAN, Base, CODEABLE_CONCEPT, IDENTIFIER, Kind, PERIOD, REFERENCE, STRING, Type,
            many, opt, req_many,
        },
    },
};

/// The `Schedule` resource type.
pub struct Schedule;

/// R4 `Schedule` (<https://hl7.org/fhir/R4/schedule.html>).
pub static SCHEDULE: Type = Type {
    name: "Schedule",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        opt("active", BOOLEAN),
        many("serviceCategory", Kind::Type(&CODEABLE_CONCEPT)),
        many("serviceType", Kind::Type(&CODEABLE_CONCEPT)),
        many("specialty", Kind::Type(&CODEABLE_CONCEPT)),
        req_many("actor", Kind::Type(&REFERENCE)),
        opt("planningHorizon", Kind::Type(&PERIOD)),
        opt("comment", STRING),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[Column::uuid("practitioner"), Column::boolean("active")];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "actor",
        kind: Match::Reference {
            column: "practitioner",
            target: "Practitioner",
        },
        documentation: "The practitioner whose schedule it is (Practitioner/<id>).",
    },
    SearchParam {
        name: "active",
        kind: Match::Boolean("active"),
        documentation: "true or false.",
    },
];

static RULES: &[DbRule] = &[DbRule::reference(
    "schedules_practitioner_fkey",
    "Schedule.actor",
    "Schedule.actor refers to a Practitioner this clinic does not have",
)];

impl Resource for Schedule {
    fn name(&self) -> &'static str {
        "Schedule"
    }
    fn plural(&self) -> &'static str {
        "schedules"
    }
    fn table(&self) -> &'static str {
        "schedules"
    }
    fn structure(&self) -> &'static Type {
        &SCHEDULE
    }
    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
    fn search_params(&self) -> &'static [SearchParam] {
        SEARCH
    }
    fn db_rules(&self) -> &'static [DbRule] {
        RULES
    }

    /// Exactly one actor, a Practitioner of this clinic.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let actors = obj
            .get("actor")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut issues = Vec::new();
        let practitioner = match actors {
            [actor] => reference_to(Some(actor), "Practitioner", "Schedule.actor[0]")
                .map_err(|i| issues.push(i))
                .ok(),
            [] => None, // the structure reports the missing actor
            _ => {
                issues.push(
                    Issue::new(
                        IssueCode::NotSupported,
                        "a Schedule has exactly one actor, its Practitioner",
                    )
                    .at("Schedule.actor"),
                );
                None
            }
        };
        Indexed {
            columns: vec![
                json!(practitioner),
                json!(obj.get("active").and_then(Value::as_bool)),
            ],
            issues,
        }
    }
}
