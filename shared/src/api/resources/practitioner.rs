//! FHIR R4 `Practitioner`: the doctors, nurses and therapists of a clinic, whom patients
//! book. Stored as sent after the R4 structure check; search by `name`, `identifier`
//! (e.g. the French RPPS, `urn:oid:1.2.250.1.71.4.2.1`) and `active`.

use serde_json::{Map, Value, json};

use super::patient::first_names;
use crate::{
    api::{
        resource::{Column, Indexed, Meta, Resource, Rules, future_date},
        search::{Match, SearchParam, identifier_tokens},
    },
    fhir::datatypes::{
        ADDRESS, ADMINISTRATIVE_GENDER, ATTACHMENT, BOOLEAN, Base, CODEABLE_CONCEPT, CONTACT_POINT,
        DATE, HUMAN_NAME, IDENTIFIER, Kind, PERIOD, REFERENCE, Type, many, opt, req,
    },
};

/// The `Practitioner` resource type.
pub struct Practitioner;

/// R4 `Practitioner` (<https://hl7.org/fhir/R4/practitioner.html>).
pub static PRACTITIONER: Type = Type {
    name: "Practitioner",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        opt("active", BOOLEAN),
        many("name", Kind::Type(&HUMAN_NAME)),
        many("telecom", Kind::Type(&CONTACT_POINT)),
        many("address", Kind::Type(&ADDRESS)),
        opt("gender", Kind::Code(&ADMINISTRATIVE_GENDER)),
        opt("birthDate", DATE),
        many("photo", Kind::Type(&ATTACHMENT)),
        many("qualification", Kind::Type(&QUALIFICATION)),
        many("communication", Kind::Type(&CODEABLE_CONCEPT)),
    ],
    invariants: &[],
};

static QUALIFICATION: Type = Type {
    name: "Practitioner.qualification",
    base: Base::Backbone,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        req("code", Kind::Type(&CODEABLE_CONCEPT)),
        opt("period", Kind::Type(&PERIOD)),
        opt("issuer", Kind::Type(&REFERENCE)),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[
    Column::text("family"),
    Column::text("given"),
    Column::boolean("active"),
    Column::jsonb("identifiers"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "name",
        kind: Match::Prefix(&["family", "given"]),
        documentation: "Start of the first family or given name, any case.",
    },
    SearchParam {
        name: "identifier",
        kind: Match::Identifier("identifiers"),
        documentation: "system|value, |value (no system) or value (any system).",
    },
    SearchParam {
        name: "active",
        kind: Match::Boolean("active"),
        documentation: "true or false.",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    ..Meta::new(
        "Practitioner",
        "practitioners",
        "practitioners",
        &PRACTITIONER,
    )
};

impl Resource for Practitioner {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// No birth in the future; the rest is the structure's.
    fn index(&self, obj: &Map<String, Value>, rules: &Rules<'_>) -> Indexed {
        let issues = future_date(obj.get("birthDate"), rules, "Practitioner.birthDate")
            .into_iter()
            .collect();
        let (family, given) = first_names(obj.get("name"));
        Indexed {
            columns: vec![
                json!(family),
                json!(given),
                json!(obj.get("active").and_then(Value::as_bool)),
                identifier_tokens(obj.get("identifier")),
            ],
            issues,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::{Invalid, TEST_RULES as RULES, validate};

    #[test]
    fn a_practitioner_is_indexed_for_search() {
        let v = validate(
            &Practitioner,
            json!({"resourceType": "Practitioner", "active": true,
                   "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "10003456789"}],
                   "name": [{"family": "Durand", "given": ["Claire"], "prefix": ["Dr"]}],
                   "qualification": [{"code": {"text": "Médecin généraliste"}}]}),
            &RULES,
        )
        .unwrap();
        assert_eq!(
            v.columns,
            vec![
                json!("Durand"),
                json!("Claire"),
                json!(true),
                json!(["urn:oid:1.2.250.1.71.4.2.1|10003456789"])
            ]
        );
    }

    #[test]
    fn faults_are_named_where_they_are() {
        let Err(Invalid::Issues(issues)) = validate(
            &Practitioner,
            json!({"resourceType": "Practitioner", "active": "yes", "birthDate": "2999-01-01",
                   "qualification": [{"period": {"start": "2020"}}], "specialty": "x"}),
            &RULES,
        ) else {
            panic!("refused")
        };
        let at: Vec<_> = issues
            .iter()
            .filter_map(|i| i.expression.as_deref())
            .collect();
        for path in [
            "Practitioner.active",
            "Practitioner.birthDate",
            "Practitioner.qualification[0].code",
            "Practitioner.specialty",
        ] {
            assert!(at.contains(&path), "{path} in {at:?}");
        }
    }
}
