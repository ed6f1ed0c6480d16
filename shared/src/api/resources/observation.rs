//! FHIR R4 `Observation`, as devices send them: vital signs and glucose readings, checked
//! against the LOINC codes and UCUM units of the vital-signs profile (a unit that does not
//! fit the code, or a value no body can have, is refused naming the element). A reading's
//! first identifier is its identity, unique in the clinic: resends — one by one with
//! `If-None-Exist`, or as `batch`/`transaction` Bundles of up to 1,000 readings — never
//! duplicate it. Search by `patient`, `code`, `category`, `date` (with prefixes),
//! `identifier` and `status`, newest first with `_sort=-date`.

use serde_json::{Map, Value, json};

use crate::{
    api::{
        resource::{Column, DbRule, Indexed, Meta, Resource, Rules, Sort, reference_to},
        search::{Match, SearchParam, coding_tokens, identifier_tokens},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            ANNOTATION, BOOLEAN, Base, CODEABLE_CONCEPT, Choice, Codes, DATE_TIME, IDENTIFIER,
            INSTANT, INTEGER, Invariant, Kind, PERIOD, QUANTITY, RANGE, RATIO, REFERENCE,
            SAMPLED_DATA, SIMPLE_QUANTITY, STRING, TIME, TIMING, Type, ValueSet, many, opt, req,
        },
        dates,
    },
};

/// The `Observation` resource type.
pub struct Observation;

/// R4 `ObservationStatus` (required binding).
pub static OBSERVATION_STATUS: ValueSet = ValueSet {
    name: "ObservationStatus",
    codes: Codes::Listed(
        "registered preliminary final amended corrected cancelled entered-in-error unknown",
    ),
};

static VALUE: Choice = Choice {
    types: &[
        Kind::Type(&QUANTITY),
        Kind::Type(&CODEABLE_CONCEPT),
        STRING,
        BOOLEAN,
        INTEGER,
        Kind::Type(&RANGE),
        Kind::Type(&RATIO),
        Kind::Type(&SAMPLED_DATA),
        TIME,
        DATE_TIME,
        Kind::Type(&PERIOD),
    ],
    refused: &[],
};

/// obs-6, at the top and in each component.
const OBS_6: Invariant = Invariant {
    key: "obs-6",
    human: "dataAbsentReason only when there is no value",
    holds: |o| !o.contains_key("dataAbsentReason") || !o.keys().any(|k| k.starts_with("value")),
};

/// R4 `Observation` (<https://hl7.org/fhir/R4/observation.html>).
pub static OBSERVATION: Type = Type {
    name: "Observation",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        many("basedOn", Kind::Type(&REFERENCE)),
        many("partOf", Kind::Type(&REFERENCE)),
        req("status", Kind::Code(&OBSERVATION_STATUS)),
        many("category", Kind::Type(&CODEABLE_CONCEPT)),
        req("code", Kind::Type(&CODEABLE_CONCEPT)),
        opt("subject", Kind::Type(&REFERENCE)),
        many("focus", Kind::Type(&REFERENCE)),
        opt("encounter", Kind::Type(&REFERENCE)),
        opt(
            "effective",
            Kind::Choice(&Choice {
                types: &[DATE_TIME, Kind::Type(&PERIOD), Kind::Type(&TIMING), INSTANT],
                refused: &[],
            }),
        ),
        opt("issued", INSTANT),
        many("performer", Kind::Type(&REFERENCE)),
        opt("value", Kind::Choice(&VALUE)),
        opt("dataAbsentReason", Kind::Type(&CODEABLE_CONCEPT)),
        many("interpretation", Kind::Type(&CODEABLE_CONCEPT)),
        many("note", Kind::Type(&ANNOTATION)),
        opt("bodySite", Kind::Type(&CODEABLE_CONCEPT)),
        opt("method", Kind::Type(&CODEABLE_CONCEPT)),
        opt("specimen", Kind::Type(&REFERENCE)),
        opt("device", Kind::Type(&REFERENCE)),
        many("referenceRange", Kind::Type(&REFERENCE_RANGE)),
        many("hasMember", Kind::Type(&REFERENCE)),
        many("derivedFrom", Kind::Type(&REFERENCE)),
        many("component", Kind::Type(&COMPONENT)),
    ],
    invariants: &[OBS_6],
};

static REFERENCE_RANGE: Type = Type {
    name: "Observation.referenceRange",
    base: Base::Backbone,
    elements: &[
        opt("low", Kind::Type(&SIMPLE_QUANTITY)),
        opt("high", Kind::Type(&SIMPLE_QUANTITY)),
        opt("type", Kind::Type(&CODEABLE_CONCEPT)),
        many("appliesTo", Kind::Type(&CODEABLE_CONCEPT)),
        opt("age", Kind::Type(&RANGE)),
        opt("text", STRING),
    ],
    invariants: &[Invariant {
        key: "obs-3",
        human: "a reference range has a low, a high or a text",
        holds: |o| o.contains_key("low") || o.contains_key("high") || o.contains_key("text"),
    }],
};

static COMPONENT: Type = Type {
    name: "Observation.component",
    base: Base::Backbone,
    elements: &[
        req("code", Kind::Type(&CODEABLE_CONCEPT)),
        opt("value", Kind::Choice(&VALUE)),
        opt("dataAbsentReason", Kind::Type(&CODEABLE_CONCEPT)),
        many("interpretation", Kind::Type(&CODEABLE_CONCEPT)),
        many("referenceRange", Kind::Type(&REFERENCE_RANGE)),
    ],
    invariants: &[OBS_6],
};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

/// A UCUM unit a measure may come in, with the values a living body can show in it.
struct Unit {
    code: &'static str,
    min: f64,
    max: f64,
}

const fn unit(code: &'static str, min: f64, max: f64) -> Unit {
    Unit { code, min, max }
}

/// What the API checks of a LOINC-coded measure (REFERENCE.md, "vital signs").
struct Measure {
    loinc: &'static str,
    name: &'static str,
    units: &'static [Unit],
}

/// Blood pressure: a panel without a value of its own, holding these two components.
const BP_PANEL: &str = "85354-9";
const BP_COMPONENTS: [&str; 2] = ["8480-6", "8462-4"];

static MEASURES: &[Measure] = &[
    Measure {
        loinc: "8480-6",
        name: "systolic blood pressure",
        units: &[unit("mm[Hg]", 1.0, 400.0)],
    },
    Measure {
        loinc: "8462-4",
        name: "diastolic blood pressure",
        units: &[unit("mm[Hg]", 1.0, 400.0)],
    },
    Measure {
        loinc: "8867-4",
        name: "heart rate",
        units: &[unit("/min", 0.0, 400.0)],
    },
    Measure {
        loinc: "2708-6",
        name: "oxygen saturation",
        units: &[unit("%", 0.0, 100.0)],
    },
    Measure {
        loinc: "59408-5",
        name: "oxygen saturation by pulse oximetry",
        units: &[unit("%", 0.0, 100.0)],
    },
    Measure {
        loinc: "29463-7",
        name: "body weight",
        units: &[
            unit("kg", 0.1, 700.0),
            unit("g", 100.0, 700_000.0),
            unit("[lb_av]", 0.2, 1550.0),
        ],
    },
    Measure {
        loinc: "8310-5",
        name: "body temperature",
        units: &[unit("Cel", 10.0, 50.0), unit("[degF]", 50.0, 122.0)],
    },
    Measure {
        loinc: "2339-0",
        name: "glucose (mass concentration)",
        units: &[unit("mg/dL", 0.0, 3000.0)],
    },
    Measure {
        loinc: "15074-8",
        name: "glucose (molar concentration)",
        units: &[unit("mmol/L", 0.0, 170.0)],
    },
];

/// The LOINC codes of a CodeableConcept.
fn loinc_codes(concept: Option<&Value>) -> Vec<&str> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter(|c| c.get("system").and_then(Value::as_str) == Some(LOINC))
        .filter_map(|c| c.get("code").and_then(Value::as_str))
        .collect()
}

/// Checks the value of a known measure at `path` (`Observation` or
/// `Observation.component[1]`) of `element`.
fn check_measure(
    measure: &Measure,
    element: &Map<String, Value>,
    path: &str,
    issues: &mut Vec<Issue>,
) {
    let Some(q) = element.get("valueQuantity").and_then(Value::as_object) else {
        if !element.contains_key("dataAbsentReason") {
            issues.push(
                Issue::new(
                    IssueCode::Required,
                    format!(
                        "a {} needs a valueQuantity, or a dataAbsentReason",
                        measure.name
                    ),
                )
                .at(format!("{path}.valueQuantity")),
            );
        }
        return;
    };
    let units: Vec<&str> = measure.units.iter().map(|u| u.code).collect();
    let code = q.get("code").and_then(Value::as_str);
    let system = q.get("system").and_then(Value::as_str);
    let Some(unit) = measure.units.iter().find(|u| Some(u.code) == code) else {
        issues.push(
            Issue::new(
                IssueCode::Value,
                format!(
                    "a {} ({}) is measured in UCUM {}, not {}",
                    measure.name,
                    measure.loinc,
                    units.join(" or "),
                    code.unwrap_or("(no code)")
                ),
            )
            .at(format!("{path}.valueQuantity.code")),
        );
        return;
    };
    if system != Some(UCUM) {
        issues.push(
            Issue::new(
                IssueCode::Value,
                format!("the unit's system must be {UCUM}"),
            )
            .at(format!("{path}.valueQuantity.system")),
        );
    }
    if let Some(v) = q.get("value").and_then(Value::as_f64)
        && !(unit.min..=unit.max).contains(&v)
    {
        issues.push(
            Issue::new(
                IssueCode::Value,
                format!(
                    "{v} {} is not a possible {}: expected {} to {}",
                    unit.code, measure.name, unit.min, unit.max
                ),
            )
            .at(format!("{path}.valueQuantity.value")),
        );
    }
}

/// The vital-signs rules of this API over a structurally valid Observation.
fn check_vital_signs(obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let codes = loinc_codes(obj.get("code"));
    let components = obj
        .get("component")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if codes.contains(&BP_PANEL) {
        if obj.keys().any(|k| k.starts_with("value")) {
            issues.push(
                Issue::new(
                    IssueCode::Value,
                    "a blood pressure panel has no value of its own: its systolic and diastolic \
                     pressures are components",
                )
                .at("Observation.value[x]"),
            );
        }
        for wanted in BP_COMPONENTS {
            if !components
                .iter()
                .any(|c| loinc_codes(c.get("code")).contains(&wanted))
            {
                issues.push(
                    Issue::new(
                        IssueCode::Required,
                        format!("a blood pressure panel needs its {wanted} component"),
                    )
                    .at("Observation.component"),
                );
            }
        }
    } else if let Some(measure) = MEASURES.iter().find(|m| codes.contains(&m.loinc)) {
        check_measure(measure, obj, "Observation", issues);
    }
    for (i, c) in components.iter().enumerate() {
        let Some(c) = c.as_object() else { continue };
        let codes = loinc_codes(c.get("code"));
        if let Some(measure) = MEASURES.iter().find(|m| codes.contains(&m.loinc)) {
            check_measure(measure, c, &format!("Observation.component[{i}]"), issues);
        }
    }
}

/// When the reading was taken: the start of `effectiveDateTime`, `effectiveInstant` or
/// `effectivePeriod.start`.
fn effective(obj: &Map<String, Value>) -> Option<dates::Instant> {
    let at = obj
        .get("effectiveDateTime")
        .or_else(|| obj.get("effectiveInstant"))
        .or_else(|| obj.get("effectivePeriod").and_then(|p| p.get("start")))?;
    dates::range(at.as_str()?).map(|(start, _)| start)
}

static COLUMNS: &[Column] = &[
    Column::reference("patient", "patients"),
    Column::text("status"),
    Column::jsonb("codes"),
    Column::jsonb("categories"),
    Column::instant("effective"),
    Column::jsonb("identifiers"),
    Column::text("identity"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "patient",
        kind: Match::Reference {
            column: "patient",
            target: "Patient",
        },
        documentation: "The patient the reading is about (Patient/<id>).",
    },
    SearchParam {
        name: "code",
        kind: Match::Identifier("codes"),
        documentation: "system|code (http://loinc.org|8867-4) or a code alone.",
    },
    SearchParam {
        name: "category",
        kind: Match::Identifier("categories"),
        documentation: "system|code or a code alone (vital-signs, laboratory).",
    },
    SearchParam {
        name: "date",
        kind: Match::DateRange("effective"),
        documentation: "When the reading was taken: eq (default), ge, gt, le, lt; repeatable.",
    },
    SearchParam {
        name: "identifier",
        kind: Match::Identifier("identifiers"),
        documentation: "system|value, |value or value: the device's id of the reading.",
    },
    SearchParam {
        name: "status",
        kind: Match::Code {
            column: "status",
            codes: &OBSERVATION_STATUS,
        },
        documentation: "The reading's status.",
    },
];

static RULES: &[DbRule] = &[
    DbRule::reference(
        "observations_patient_fkey",
        "Observation.subject",
        "Observation.subject refers to a Patient this clinic does not have",
    ),
    DbRule {
        name: "observations_identity_key",
        conflict: true,
        path: "Observation.identifier",
        human: "an Observation with this identifier exists; resend with If-None-Exist to get it",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    db_rules: RULES,
    identity: Some("identity"),
    patient_column: Some("patient"),
    sorts: &[Sort {
        name: "date",
        column: "effective",
    }],
    ..Meta::new("Observation", "observations", "observations", &OBSERVATION)
};

impl Resource for Observation {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// A Patient subject, a time taken, and the vital-signs rules.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let patient = reference_to(obj.get("subject"), "Patient", "Observation.subject")
            .map_err(|i| issues.push(i))
            .ok();
        let taken = effective(obj);
        if taken.is_none() {
            issues.push(
                Issue::new(
                    IssueCode::Required,
                    "a reading needs the time it was taken: effectiveDateTime, effectiveInstant \
                     or effectivePeriod.start",
                )
                .at("Observation.effective[x]"),
            );
        }
        check_vital_signs(obj, &mut issues);
        let identifiers = identifier_tokens(obj.get("identifier"));
        let identity = identifiers.get(0).cloned().unwrap_or(Value::Null);
        Indexed {
            columns: vec![
                json!(patient),
                json!(obj.get("status").and_then(Value::as_str)),
                coding_tokens(obj.get("code")),
                coding_tokens(obj.get("category")),
                json!(taken.map(dates::to_rfc3339)),
                identifiers,
                identity,
            ],
            issues,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::{Invalid, TEST_RULES as RULES, validate};

    fn reading(code: &str, value: f64, unit: &str) -> Value {
        json!({"resourceType": "Observation", "status": "final",
               "identifier": [{"system": "urn:dev:meter-7", "value": "r-1"}],
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
               "code": {"coding": [{"system": LOINC, "code": code}]},
               "subject": {"reference": "Patient/5b0c1a2e-1111-4222-8333-444455556666"},
               "effectiveDateTime": "2026-11-30T08:15:00+01:00",
               "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}})
    }

    fn faults(v: Value) -> Vec<String> {
        match validate(&Observation, v, &RULES) {
            Err(Invalid::Issues(i)) => i.into_iter().filter_map(|i| i.expression).collect(),
            other => panic!("expected faults, got {other:?}"),
        }
    }

    #[test]
    fn readings_are_indexed() {
        let v = validate(&Observation, reading("8867-4", 72.0, "/min"), &RULES).unwrap();
        assert_eq!(v.columns[0], json!("5b0c1a2e-1111-4222-8333-444455556666"));
        assert_eq!(v.columns[2], json!(["http://loinc.org|8867-4"]));
        assert_eq!(
            v.columns[3],
            json!(["http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"])
        );
        assert_eq!(v.columns[4], json!("2026-11-30T07:15:00Z"));
        assert_eq!(v.columns[6], json!("urn:dev:meter-7|r-1"));
        for (code, value, unit) in [
            ("2708-6", 97.0, "%"),
            ("29463-7", 71.5, "kg"),
            ("29463-7", 158.0, "[lb_av]"),
            ("8310-5", 37.2, "Cel"),
            ("8310-5", 99.1, "[degF]"),
            ("2339-0", 105.0, "mg/dL"),
            ("15074-8", 5.8, "mmol/L"),
        ] {
            assert!(
                validate(&Observation, reading(code, value, unit), &RULES).is_ok(),
                "{code} {value} {unit}"
            );
        }
    }

    #[test]
    fn units_values_and_panels_are_checked() {
        assert_eq!(
            faults(reading("2339-0", 5.8, "mmol/L")),
            ["Observation.valueQuantity.code"],
            "glucose by mass in a molar unit"
        );
        assert_eq!(
            faults(reading("29463-7", -3.0, "kg")),
            ["Observation.valueQuantity.value"]
        );
        assert_eq!(
            faults(reading("2708-6", 101.0, "%")),
            ["Observation.valueQuantity.value"]
        );
        let mut no_time = reading("8867-4", 60.0, "/min");
        no_time.as_object_mut().unwrap().remove("effectiveDateTime");
        assert_eq!(faults(no_time), ["Observation.effective[x]"]);
        let mut bp = reading(BP_PANEL, 0.0, "mm[Hg]");
        bp.as_object_mut().unwrap().remove("valueQuantity");
        bp["component"] = json!([
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
             "valueQuantity": {"value": 128, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
             "valueQuantity": {"value": 82, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}
        ]);
        assert!(validate(&Observation, bp.clone(), &RULES).is_ok());
        bp["component"][1]["valueQuantity"]["value"] = json!(-5);
        bp["component"][0]["valueQuantity"]["code"] = json!("kPa");
        assert_eq!(
            faults(bp.clone()),
            [
                "Observation.component[0].valueQuantity.code",
                "Observation.component[1].valueQuantity.value"
            ]
        );
        bp["component"] = json!([bp["component"][0].clone()]);
        assert!(faults(bp).contains(&"Observation.component".to_owned()));
    }
}
