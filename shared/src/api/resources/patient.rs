//! FHIR R4 `Patient`: validation of what clients send, and the resource we return.
//!
//! The whole resource is stored as sent (minus server-owned `id`/`meta`), so what a client
//! sends is what others read back. That is only safe because every element, at every depth,
//! is checked against [`PATIENT`] and the datatype tables of [`crate::fhir::datatypes`]: what is
//! not R4 `Patient` is refused, never stored unchecked. On top of the structure come the
//! rules of this API: no birth in the future, and the fields the clinic's country requires.

use serde_json::{Map, Value, json};

use crate::{
    api::{
        resource::{Column, Indexed, Meta, Operation, Resource, Rules},
        sealed,
        search::{Match, SearchParam, blind_identifier_tokens},
    },
    compliance::{PatientField, identifiers::NationalId},
    fhir::{
        Issue, IssueCode,
        datatypes::{
            ADDRESS, ADMINISTRATIVE_GENDER, ATTACHMENT, BOOLEAN, Base, CODEABLE_CONCEPT,
            CONTACT_POINT, Choice, Codes, DATE, DATE_TIME, HUMAN_NAME, IDENTIFIER, INTEGER,
            Invariant, Kind, PERIOD, REFERENCE, Type, ValueSet, is_fhir_date, many, opt, req,
        },
    },
};

/// R4 `Patient` (<https://hl7.org/fhir/R4/patient.html>): every element it may hold, at
/// every depth; anything else is refused.
pub static PATIENT: Type = Type {
    name: "Patient",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        opt("active", BOOLEAN),
        many("name", Kind::Type(&HUMAN_NAME)),
        many("telecom", Kind::Type(&CONTACT_POINT)),
        opt("gender", Kind::Code(&ADMINISTRATIVE_GENDER)),
        opt("birthDate", DATE),
        opt(
            "deceased",
            Kind::Choice(&Choice {
                types: &[BOOLEAN, DATE_TIME],
                refused: &[],
            }),
        ),
        many("address", Kind::Type(&ADDRESS)),
        opt("maritalStatus", Kind::Type(&CODEABLE_CONCEPT)),
        opt(
            "multipleBirth",
            Kind::Choice(&Choice {
                types: &[BOOLEAN, INTEGER],
                refused: &[],
            }),
        ),
        many("photo", Kind::Type(&ATTACHMENT)),
        many("contact", Kind::Type(&CONTACT)),
        many("communication", Kind::Type(&COMMUNICATION)),
        many("generalPractitioner", Kind::Type(&REFERENCE)),
        opt("managingOrganization", Kind::Type(&REFERENCE)),
        many("link", Kind::Type(&LINK)),
    ],
    invariants: &[],
};

static CONTACT: Type = Type {
    name: "Patient.contact",
    base: Base::Backbone,
    elements: &[
        many("relationship", Kind::Type(&CODEABLE_CONCEPT)),
        opt("name", Kind::Type(&HUMAN_NAME)),
        many("telecom", Kind::Type(&CONTACT_POINT)),
        opt("address", Kind::Type(&ADDRESS)),
        opt("gender", Kind::Code(&ADMINISTRATIVE_GENDER)),
        opt("organization", Kind::Type(&REFERENCE)),
        opt("period", Kind::Type(&PERIOD)),
    ],
    invariants: &[Invariant {
        key: "pat-1",
        human: "a contact must hold a name, telecom, address or organization",
        holds: |o| {
            ["name", "telecom", "address", "organization"]
                .iter()
                .any(|k| o.contains_key(*k))
        },
    }],
};

static COMMUNICATION: Type = Type {
    name: "Patient.communication",
    base: Base::Backbone,
    elements: &[
        req("language", Kind::Type(&CODEABLE_CONCEPT)),
        opt("preferred", BOOLEAN),
    ],
    invariants: &[],
};

static LINK: Type = Type {
    name: "Patient.link",
    base: Base::Backbone,
    elements: &[
        req("other", Kind::Type(&REFERENCE)),
        req("type", Kind::Code(&LINK_TYPE)),
    ],
    invariants: &[],
};

static LINK_TYPE: ValueSet = ValueSet {
    name: "LinkType",
    codes: Codes::Listed("replaced-by replaces refer seealso"),
};

/// The `Patient` resource type.
pub struct Patient;

/// The policy's required fields are enforced here and, for a clinic the edge does not know
/// yet, by its schema's constraints ([`PatientField::constraint_name`]).
///
/// National identifiers are sealed (`sealed`: encrypted by the region with the clinic's
/// data key, out of the stored resource) where the policy says so, and every identifier is
/// searchable through its blind index (`identifiers`) only.
static COLUMNS: &[Column] = &[
    Column::text("family"),
    Column::text("given"),
    Column::text("birth_date"),
    Column::text("gender"),
    Column::sealed(),
    Column::blind_tokens("identifiers"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "name",
        kind: Match::Prefix(&["family", "given"]),
        documentation: "Start of the first family or given name, any case.",
    },
    SearchParam {
        name: "birthdate",
        kind: Match::DateExact("birth_date"),
        documentation: "The birth date, exactly as recorded (YYYY, YYYY-MM or YYYY-MM-DD).",
    },
    SearchParam {
        name: "gender",
        kind: Match::Code {
            column: "gender",
            codes: &ADMINISTRATIVE_GENDER,
        },
        documentation: "male | female | other | unknown",
    },
    SearchParam {
        name: "identifier",
        kind: Match::BlindIdentifier("identifiers"),
        documentation: "An identifier, `system|value`, `|value` or `value`; exact. National \
                        identifiers are stored encrypted and found through a keyed blind index.",
    },
];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    operations: &[super::audit_event::ACCESS_LOG, Operation::Erase],
    compartment_root: true,
    ..Meta::new("Patient", "patients", "patients", &PATIENT)
};

impl Resource for Patient {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// No birth in the future, and the fields the clinic's country requires.
    fn index(&self, obj: &Map<String, Value>, rules: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let gender = obj
            .get("gender")
            .and_then(Value::as_str)
            .filter(|g| ADMINISTRATIVE_GENDER.contains(g))
            .map(str::to_owned);
        let birth_date = match obj.get("birthDate").and_then(Value::as_str) {
            Some(d) if is_fhir_date(d) && d <= rules.today => Some(d.to_owned()),
            Some(d) if is_fhir_date(d) => {
                issues.push(
                    Issue::new(IssueCode::Value, "birthDate is in the future")
                        .at("Patient.birthDate"),
                );
                None
            }
            _ => None,
        };
        let (family, given) = first_names(obj.get("name"));
        // National identifiers are checked wherever they are supplied.
        let identifiers = obj
            .get("identifier")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (i, identifier) in identifiers.iter().enumerate() {
            let system = identifier.get("system").and_then(Value::as_str);
            let (Some(scheme), Some(value)) = (
                system.and_then(NationalId::of_system),
                identifier.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            if let Err(fault) = scheme.check(value, birth_date.as_deref()) {
                issues.push(
                    Issue::new(
                        IssueCode::Value,
                        format!(
                            "Patient.identifier[{i}] is not a valid {}: {fault}",
                            scheme.name()
                        ),
                    )
                    .at(format!("Patient.identifier[{i}].value")),
                );
            }
        }
        let policy = rules.policy;
        if let Some(rule) = policy.national_identifier.value
            && rule.required
            && !identifiers.iter().any(|i| {
                i.get("system").and_then(Value::as_str) == Some(rule.scheme.system())
                    && i.get("value").and_then(Value::as_str).is_some()
            })
        {
            issues.push(
                Issue::new(
                    IssueCode::Required,
                    format!(
                        "a {} ({}) is required under {}",
                        rule.scheme.name(),
                        rule.scheme.system(),
                        policy.regulation.value
                    ),
                )
                .at("Patient.identifier"),
            );
        }
        let national: Vec<(usize, Value)> = if policy.encrypt_identifiers.value {
            identifiers
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    i.get("system")
                        .and_then(Value::as_str)
                        .and_then(NationalId::of_system)
                        .is_some()
                })
                .map(|(at, i)| (at, i.clone()))
                .collect()
        } else {
            Vec::new()
        };
        for field in policy.required_patient_fields.value {
            let present = match field {
                PatientField::Family => family.is_some(),
                PatientField::Given => given.is_some(),
                PatientField::BirthDate => birth_date.is_some() || obj.contains_key("birthDate"),
                PatientField::Gender => gender.is_some() || obj.contains_key("gender"),
            };
            if !present {
                issues.push(
                    Issue::new(
                        IssueCode::Required,
                        format!(
                            "{} is required under {}",
                            field.fhir_path(),
                            policy.regulation.value
                        ),
                    )
                    .at(field.fhir_path()),
                );
            }
        }
        Indexed {
            columns: vec![
                json!(family),
                json!(given),
                json!(birth_date),
                json!(gender),
                sealed::payload("identifier", national),
                blind_identifier_tokens(obj.get("identifier")),
            ],
            issues,
        }
    }
}

fn non_blank(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The first family name and the first given name across `name` (HumanName[]), for the
/// columns search uses; whether they are valid is [`PATIENT`]'s to say.
pub(crate) fn first_names(names: Option<&Value>) -> (Option<String>, Option<String>) {
    let names = names
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let family = names
        .iter()
        .find_map(|n| n.get("family").and_then(non_blank));
    let given = names.iter().find_map(|n| {
        n.get("given")
            .and_then(Value::as_array)
            .and_then(|g| g.iter().find_map(non_blank))
    });
    (family.map(str::to_owned), given.map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        api::resource::{Invalid, from_row, validate},
        compliance::{Policy, policy_for},
        fhir::datatypes::civil_date,
    };

    /// What the generic validation gives for a Patient, with its columns named.
    #[derive(Debug, PartialEq)]
    struct NewPatient {
        resource: Value,
        family: Option<String>,
        given: Option<String>,
        birth_date: Option<String>,
        gender: Option<String>,
    }

    fn validate_new(body: Value, policy: &Policy, today: &str) -> Result<NewPatient, Invalid> {
        let v = validate(
            &Patient,
            body,
            &Rules {
                policy,
                today,
                currency: None,
            },
        )?;
        let column = |i: usize| v.columns[i].as_str().map(str::to_owned);
        Ok(NewPatient {
            family: column(0),
            given: column(1),
            birth_date: column(2),
            gender: column(3),
            resource: v.resource,
        })
    }

    fn fr() -> Policy {
        policy_for(&"FR".parse().unwrap())
    }
    fn sn() -> Policy {
        policy_for(&"SN".parse().unwrap())
    }
    const TODAY: &str = "2026-11-24";

    fn ok_patient() -> Value {
        json!({"resourceType": "Patient", "id": "client-chosen", "meta": {"versionId": "9"},
               "name": [{"family": "Diallo", "given": ["Awa", "Marie"], "use": "official"}],
               "gender": "female", "birthDate": "1990-02-28", "telecom": [{"system": "phone", "value": "+221"}]})
    }

    #[test]
    fn a_valid_patient_is_accepted_and_server_elements_dropped() {
        let p = validate_new(ok_patient(), &fr(), TODAY).unwrap();
        assert_eq!(p.family.as_deref(), Some("Diallo"));
        assert_eq!(p.given.as_deref(), Some("Awa"));
        assert_eq!(p.birth_date.as_deref(), Some("1990-02-28"));
        assert!(p.resource.get("id").is_none() && p.resource.get("meta").is_none());
        assert_eq!(
            p.resource["telecom"][0]["value"], "+221",
            "uninterpreted elements round-trip"
        );
    }

    fn issues(v: Value, policy: &Policy) -> Vec<Issue> {
        match validate_new(v, policy, TODAY) {
            Err(Invalid::Issues(i)) => i,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_unknown_elements_and_bad_values_are_refused() {
        assert_eq!(
            validate_new(json!([1]), &fr(), TODAY),
            Err(Invalid::NotAResource)
        );
        let i = issues(json!({"resourceType": "Observation"}), &fr());
        assert!(i[0].diagnostics.contains("Observation"));
        assert_eq!(
            issues(json!({"name": []}), &sn())[0].code,
            IssueCode::Required
        );
        let mut p = ok_patient();
        p["colour"] = json!("blue");
        p["gender"] = json!("F");
        p["birthDate"] = json!("1990-02-30");
        let i = issues(p, &fr());
        let at: Vec<_> = i.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert!(
            at.contains(&"Patient.colour")
                && at.contains(&"Patient.gender")
                && at.contains(&"Patient.birthDate"),
            "{at:?}"
        );
        let mut p = ok_patient();
        p["birthDate"] = json!("2030-01-01");
        assert!(issues(p, &fr())[0].diagnostics.contains("future"));
        let mut p = ok_patient();
        p["name"] = json!([{"family": "  ", "given": "Awa"}]);
        assert_eq!(
            issues(p, &fr()).len(),
            4,
            "blank family, given not an array, then required family and given"
        );
    }

    #[test]
    fn country_policy_decides_required_fields() {
        let minimal =
            json!({"resourceType": "Patient", "name": [{"family": "Ndiaye"}], "birthDate": "1985"});
        assert!(validate_new(minimal.clone(), &sn(), TODAY).is_ok());
        let i = issues(minimal, &fr());
        let missing: Vec<_> = i.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert_eq!(missing, ["Patient.name.given", "Patient.gender"]);
        assert!(i[0].diagnostics.contains("GDPR/HDS"));
    }

    #[test]
    fn a_national_identifier_is_required_only_where_the_policy_says() {
        use crate::compliance::{
            Cited, IdentifierRule, Source,
            identifiers::{FR_INS_NIR, NationalId},
        };
        let body = json!({"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Léa"]}],
                          "gender": "female", "birthDate": "2006-12-01"});
        // France names the INS but does not require it to create a record.
        assert!(validate_new(body.clone(), &fr(), TODAY).is_ok());
        let strict = Policy {
            national_identifier: Cited {
                value: Some(IdentifierRule {
                    scheme: NationalId::FrNir,
                    required: true,
                }),
                source: Source::Law("a test rule"),
            },
            ..fr()
        };
        let i = issues(body.clone(), &strict);
        assert_eq!(i.len(), 1, "{i:?}");
        assert_eq!(i[0].expression.as_deref(), Some("Patient.identifier"));
        assert!(
            i[0].diagnostics.contains("French NIR (INS)") && i[0].diagnostics.contains(FR_INS_NIR),
            "{}",
            i[0].diagnostics
        );
        let mut with = body;
        with["identifier"] = json!([{"system": FR_INS_NIR, "value": "206127511100564"}]);
        assert!(validate_new(with, &strict, TODAY).is_ok());
    }

    #[test]
    fn national_identifiers_leave_the_stored_resource_for_the_sealed_column() {
        let body = json!({"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Léa"]}],
                          "gender": "female", "birthDate": "2006-12-01",
                          "identifier": [{"system": "urn:mrn", "value": "7"},
                                         {"system": crate::compliance::identifiers::FR_INS_NIR,
                                          "value": "206127511100564"}]});
        let v = validate(
            &Patient,
            body.clone(),
            &Rules {
                policy: &fr(),
                today: TODAY,
                currency: None,
            },
        )
        .unwrap();
        assert_eq!(
            v.resource["identifier"],
            json!([{"system": "urn:mrn", "value": "7"}])
        );
        let sealed = &v.columns[4];
        assert_eq!(sealed["identifier"][0][0], 1);
        assert_eq!(sealed["identifier"][0][1]["value"], "206127511100564");
        assert_eq!(
            v.columns[5],
            json!([
                "=urn:mrn|7",
                "*7",
                format!(
                    "={}|206127511100564",
                    crate::compliance::identifiers::FR_INS_NIR
                ),
                "*206127511100564"
            ])
        );
        // Read back: the row's sealed column (opened by the region) restores it in place.
        let row = json!({"id": "p", "version_id": 1, "last_updated": "t",
                         "resource": v.resource, "sealed": sealed});
        let read = from_row(row.as_object().unwrap()).unwrap();
        assert_eq!(read["identifier"], body["identifier"]);
    }

    #[test]
    fn fhir_dates() {
        for ok in ["2000", "2000-02", "2000-02-29", "1999-12-31"] {
            assert!(is_fhir_date(ok), "{ok}");
        }
        for bad in [
            "",
            "99",
            "2000-2",
            "2000-13",
            "1900-02-29",
            "2001-04-31",
            "2000-01-01T00:00",
            "2000/01/01",
            "２０００",
        ] {
            assert!(!is_fhir_date(bad), "{bad}");
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400_000), "2000-02-29");
        assert_eq!(civil_date(1_795_478_400_000), "2026-11-24");
    }

    #[test]
    fn rows_become_resources() {
        let row: Map<String, Value> = serde_json::from_value(json!({
            "id": "5b0c…", "version_id": 1, "last_updated": "2026-11-24T07:00:00+00:00",
            "resource": {"resourceType": "Patient"}}))
        .unwrap();
        let r = from_row(&row).unwrap();
        assert_eq!(r["meta"]["versionId"], "1");
        assert_eq!(r["id"], "5b0c…");
        assert!(from_row(&Map::new()).is_none());
    }

    use crate::compliance::SHAPE_ONLY;

    /// The issues of `v` under `policy` as (code, expression), sorted by expression: the
    /// order of a JSON object's keys is not what these tests are about.
    fn faults(v: Value, policy: &Policy) -> Vec<(IssueCode, String)> {
        let mut f: Vec<_> = issues(v, policy)
            .into_iter()
            .map(|i| (i.code, i.expression.unwrap_or_default()))
            .collect();
        f.sort_by(|a, b| a.1.cmp(&b.1));
        f
    }

    /// `ok_patient()` with top-level elements `set` replaced or added.
    fn with(set: Value) -> Value {
        let mut p = ok_patient();
        if let (Value::Object(p), Value::Object(set)) = (&mut p, set) {
            p.extend(set);
        }
        p
    }

    fn fault(code: IssueCode, at: &str) -> Vec<(IssueCode, String)> {
        vec![(code, at.to_owned())]
    }

    #[test]
    fn dstu2_identifier_label_is_refused_where_it_is() {
        let p = with(
            json!({"identifier": [{"system": "urn:oid:1.2.3", "value": "12345", "label": "MRN"}]}),
        );
        let i = issues(p, &fr());
        assert_eq!(i.len(), 1, "{i:?}");
        assert_eq!(i[0].code, IssueCode::Structure);
        assert_eq!(
            i[0].expression.as_deref(),
            Some("Patient.identifier[0].label")
        );
        assert!(
            i[0].diagnostics.contains("\"label\""),
            "{}",
            i[0].diagnostics
        );
        assert!(
            i[0].diagnostics.contains("Identifier"),
            "{}",
            i[0].diagnostics
        );
    }

    #[test]
    fn unknown_elements_are_refused_at_every_depth() {
        let p = with(json!({
            "name": [{"family": "Diallo", "given": ["Awa"]},
                     {"family": "Windsor", "period": {"start": "2001", "foo": 1}}],
            "address": [{"city": "Dakar", "town": "Plateau"}],
            "telecom": [{"system": "phone", "value": "+221", "type": "mobile"}],
            "contact": [{"name": {"family": "Ba", "bar": true}}],
            "communication": [{"language": {"text": "Wolof"}, "fluency": "good"}],
            "link": [{"other": {"reference": "Patient/1"}, "type": "seealso", "assurance": "level1"}],
            "meta": {"versionId": "9", "colour": "red"},
            "extension": [{"url": "http://example.org/e", "valueString": "x", "note": "n"}],
            "identifier": [{"value": "1", "period": {"start": "2001", "x": 1}}],
            "maritalStatus": {"coding": [{"code": "M", "colour": 1}]},
            "managingOrganization": {"reference": "Organization/1", "extra": 1},
            "photo": [{"contentType": "image/png", "url": "https://example.org/p.png", "width": 10}],
            "text": {"status": "generated", "lang": "fr",
                     "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Awa</div>"},
        }));
        let want: Vec<_> = [
            "Patient.address[0].town",
            "Patient.communication[0].fluency",
            "Patient.contact[0].name.bar",
            "Patient.extension[0].note",
            "Patient.identifier[0].period.x",
            "Patient.link[0].assurance",
            "Patient.managingOrganization.extra",
            "Patient.maritalStatus.coding[0].colour",
            "Patient.meta.colour",
            "Patient.name[1].period.foo",
            "Patient.photo[0].width",
            "Patient.telecom[0].type",
            "Patient.text.lang",
        ]
        .into_iter()
        .map(|at| (IssueCode::Structure, at.to_owned()))
        .collect();
        assert_eq!(faults(p, &fr()), want);
    }

    #[test]
    fn primitive_extensions_only_where_a_primitive_is() {
        let ext = json!({"extension": [{"url": "http://example.org/e", "valueString": "x"}]});
        let named = |name: Value| with(json!({ "name": [name] }));
        assert!(
            validate_new(
                named(
                    json!({"family": "Diallo", "_family": ext, "given": ["Awa"], "_given": [ext]})
                ),
                &fr(),
                TODAY
            )
            .is_ok()
        );
        let cases = [
            (
                with(json!({"_colour": ext})),
                fault(IssueCode::Structure, "Patient._colour"),
            ),
            (
                with(json!({"_telecom": [ext]})),
                fault(IssueCode::Structure, "Patient._telecom"),
            ),
            (
                named(json!({"family": "Diallo", "given": ["Awa"], "_foo": ext})),
                fault(IssueCode::Structure, "Patient.name[0]._foo"),
            ),
            (
                named(json!({"family": "Diallo", "given": ["Awa"], "_family": {"foo": 1}})),
                fault(IssueCode::Structure, "Patient.name[0]._family.foo"),
            ),
            (
                named(json!({"family": "Diallo", "given": ["Awa", "Marie"], "_given": [ext]})),
                fault(IssueCode::Structure, "Patient.name[0]._given"),
            ),
            (
                named(json!({"family": "Diallo", "given": ["Awa"], "_family": [ext]})),
                fault(IssueCode::Structure, "Patient.name[0]._family"),
            ),
            (
                named(json!({"family": "Diallo", "given": ["Awa", null]})),
                fault(IssueCode::Structure, "Patient.name[0].given[1]"),
            ),
            (
                with(json!({"_birthDate": {"extension": [
                        {"url": "http://example.org/e", "valueDateTime": "1990-02-28T10:00"}]}})),
                fault(
                    IssueCode::Value,
                    "Patient._birthDate.extension[0].value.ofType(dateTime)",
                ),
            ),
        ];
        for (p, want) in cases {
            assert_eq!(faults(p.clone(), &fr()), want, "{p}");
        }
    }

    #[test]
    fn primitive_values_are_held_to_their_r4_format() {
        let cases = [
            (
                json!({"deceasedDateTime": "2020-01-01T10:00:00"}),
                "Patient.deceased.ofType(dateTime)",
            ),
            (
                json!({"meta": {"lastUpdated": "2020-01-01T10:00Z"}}),
                "Patient.meta.lastUpdated",
            ),
            (json!({"id": "a_b"}), "Patient.id"),
            (
                json!({"name": [{"family": "Diallo", "given": ["Awa"], "text": ""}]}),
                "Patient.name[0].text",
            ),
            (
                json!({"maritalStatus": {"coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M  S"}]}}),
                "Patient.maritalStatus.coding[0].code",
            ),
            (
                json!({"multipleBirthInteger": 2147483648_i64}),
                "Patient.multipleBirth.ofType(integer)",
            ),
            (
                json!({"extension": [
                    {"url": "http://example.org/w", "valueQuantity": {"value": "72.5", "unit": "kg"}}]}),
                "Patient.extension[0].value.ofType(Quantity).value",
            ),
            (
                json!({"extension": [{"url": "http://example.org/s", "valueInstant": "2020-01-01T10:00Z"}]}),
                "Patient.extension[0].value.ofType(instant)",
            ),
            (
                json!({"extension": [
                    {"url": "http://example.org/m", "valueMoney": {"value": 10, "currency": "euro"}}]}),
                "Patient.extension[0].value.ofType(Money).currency",
            ),
            (
                json!({"telecom": [{"system": "phone", "value": "+221", "rank": 0}]}),
                "Patient.telecom[0].rank",
            ),
            (
                json!({"telecom": [{"system": "pigeon", "value": "+221"}]}),
                "Patient.telecom[0].system",
            ),
            (json!({"active": "yes"}), "Patient.active"),
            (json!({"gender": 1}), "Patient.gender"),
            (
                json!({"name": [{"family": "Diallo", "given": ["Awa"], "use": "nick"}]}),
                "Patient.name[0].use",
            ),
            (
                json!({"photo": [{"contentType": "image/png", "data": "abc"}]}),
                "Patient.photo[0].data",
            ),
            (
                json!({"link": [{"other": {"reference": "Patient/1"}, "type": "same"}]}),
                "Patient.link[0].type",
            ),
            (
                json!({"text": {"status": "generated",
                    "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}}),
                "Patient.text.div",
            ),
        ];
        for (set, at) in cases {
            assert_eq!(
                faults(with(set.clone()), &fr()),
                fault(IssueCode::Value, at),
                "{set}"
            );
        }
        // Blank family: a Value issue at the family, then the policy's own.
        let p = with(json!({"name": [{"family": " ", "given": ["Awa"]}]}));
        assert_eq!(
            faults(p, &fr()),
            [
                (IssueCode::Required, "Patient.name.family".to_owned()),
                (IssueCode::Value, "Patient.name[0].family".to_owned()),
            ]
        );
    }

    #[test]
    fn cardinality_choices_and_required_parts() {
        let cases = [
            (
                json!({"gender": ["female"]}),
                fault(IssueCode::Structure, "Patient.gender"),
            ),
            (
                json!({"telecom": {"system": "phone", "value": "+221"}}),
                fault(IssueCode::Structure, "Patient.telecom"),
            ),
            (
                json!({"identifier": []}),
                fault(IssueCode::Structure, "Patient.identifier"),
            ),
            (
                json!({"identifier": [{}]}),
                fault(IssueCode::Structure, "Patient.identifier[0]"),
            ),
            (
                json!({"identifier": [null]}),
                fault(IssueCode::Structure, "Patient.identifier[0]"),
            ),
            (
                json!({"identifier": ["12345"]}),
                fault(IssueCode::Structure, "Patient.identifier[0]"),
            ),
            (
                json!({"deceasedBoolean": false, "deceasedDateTime": "2020"}),
                fault(IssueCode::Structure, "Patient.deceased"),
            ),
            (
                json!({"deceasedString": "no"}),
                fault(IssueCode::Structure, "Patient.deceasedString"),
            ),
            (
                json!({"extension": [{"valueString": "x"}]}),
                fault(IssueCode::Required, "Patient.extension[0].url"),
            ),
            (
                json!({"extension": [{"url": "http://example.org/e"}]}),
                fault(IssueCode::Invariant, "Patient.extension[0]"),
            ),
            (
                json!({"extension": [{"url": "http://example.org/e", "valueString": "x",
                                      "extension": [{"url": "a", "valueBoolean": true}]}]}),
                fault(IssueCode::Invariant, "Patient.extension[0]"),
            ),
            (
                json!({"telecom": [{"value": "+221"}]}),
                fault(IssueCode::Invariant, "Patient.telecom[0]"),
            ),
            (
                json!({"contact": [{"relationship": [{"text": "aunt"}]}]}),
                fault(IssueCode::Invariant, "Patient.contact[0]"),
            ),
            (
                json!({"communication": [{"preferred": true}]}),
                fault(IssueCode::Required, "Patient.communication[0].language"),
            ),
            (
                json!({"link": [{"other": {"reference": "Patient/1"}}]}),
                fault(IssueCode::Required, "Patient.link[0].type"),
            ),
            (
                json!({"text": {"status": "generated"}}),
                fault(IssueCode::Required, "Patient.text.div"),
            ),
        ];
        for (set, want) in cases {
            assert_eq!(faults(with(set.clone()), &fr()), want, "{set}");
        }
    }

    #[test]
    fn what_we_cannot_understand_is_refused_not_stored() {
        let modifier = json!([{"url": "http://example.org/m", "valueBoolean": true}]);
        let cases = [
            (
                json!({"modifierExtension": modifier}),
                fault(IssueCode::NotSupported, "Patient.modifierExtension"),
            ),
            (
                json!({"contact": [{"name": {"family": "Ba"}, "modifierExtension": modifier}]}),
                fault(
                    IssueCode::NotSupported,
                    "Patient.contact[0].modifierExtension",
                ),
            ),
            (
                json!({"extension": [{"url": "http://example.org/t",
                                      "valueTiming": {"modifierExtension": modifier, "code": {"text": "daily"}}}]}),
                fault(
                    IssueCode::NotSupported,
                    "Patient.extension[0].value.ofType(Timing).modifierExtension",
                ),
            ),
            // HumanName is no BackboneElement: there it is not even an element.
            (
                json!({"name": [{"family": "Diallo", "given": ["Awa"], "modifierExtension": modifier}]}),
                fault(IssueCode::Structure, "Patient.name[0].modifierExtension"),
            ),
            (
                json!({"implicitRules": "http://example.org/rules"}),
                fault(IssueCode::NotSupported, "Patient.implicitRules"),
            ),
            (
                json!({"contained": [{"resourceType": "Organization", "id": "o1", "name": "Acme"}]}),
                fault(IssueCode::NotSupported, "Patient.contained"),
            ),
            (
                json!({"extension": [{"url": "http://example.org/d", "valueDosage": {"text": "1 a day"}}]}),
                fault(
                    IssueCode::NotSupported,
                    "Patient.extension[0].value.ofType(Dosage)",
                ),
            ),
        ];
        for (set, want) in cases {
            assert_eq!(faults(with(set.clone()), &fr()), want, "{set}");
        }
    }

    /// Every datatype of the module, used as R4 allows, primitive extensions included.
    fn rich_patient() -> Value {
        let ext = |url: &str, v: Value| {
            let mut e = json!({ "url": url });
            if let (Value::Object(e), Value::Object(v)) = (&mut e, v) {
                e.extend(v);
            }
            e
        };
        let ucum = "http://unitsofmeasure.org";
        json!({
            "resourceType": "Patient",
            "id": "rich-1",
            "meta": {"versionId": "3", "lastUpdated": "2026-01-02T03:04:05.678+01:00",
                     "source": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
                     "profile": ["http://hl7.org/fhir/StructureDefinition/Patient"],
                     "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                   "code": "R"}],
                     "tag": [{"code": "vip", "userSelected": false}]},
            "language": "fr-SN",
            "text": {"status": "generated",
                     "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Awa <b>Diallo</b></p><br/></div>"},
            "extension": [
                {"url": "http://example.org/fhir/StructureDefinition/clinical-profile", "extension": [
                    ext("condition", json!({"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                        "version": "http://snomed.info/sct/900000000000207008", "code": "44054006",
                        "display": "Diabetes mellitus type 2", "userSelected": true}], "text": "T2D"}})),
                    ext("episode", json!({"valuePeriod": {"start": "2020-03-01", "end": "2021-04-01T10:00:00Z"}})),
                    ext("weight", json!({"valueQuantity": {"value": 72.5, "comparator": "<", "unit": "kg",
                                                           "system": ucum, "code": "kg"}})),
                ]},
                ext("http://example.org/age",
                    json!({"valueAge": {"value": 36, "unit": "a", "system": ucum, "code": "a"}})),
                ext("http://example.org/count", json!({"valueCount": {"value": 2, "system": ucum, "code": "1"}})),
                ext("http://example.org/distance",
                    json!({"valueDistance": {"value": 12.5, "unit": "km", "system": ucum, "code": "km"}})),
                ext("http://example.org/duration",
                    json!({"valueDuration": {"value": 30, "unit": "min", "system": ucum, "code": "min"}})),
                ext("http://example.org/range", json!({"valueRange": {"low": {"value": 4, "unit": "mmol/L"},
                                                                      "high": {"value": 7, "unit": "mmol/L"}}})),
                ext("http://example.org/ratio",
                    json!({"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 128}}})),
                ext("http://example.org/note", json!({"valueAnnotation": {"authorReference": {"reference": "Practitioner/p1"},
                    "time": "2026-01-02T09:00:00Z", "text": "Prefers **morning** calls"}})),
                ext("http://example.org/note2", json!({"valueAnnotation": {"authorString": "Awa", "text": "ok"}})),
                ext("http://example.org/fee", json!({"valueMoney": {"value": 15000, "currency": "XOF"}})),
                ext("http://example.org/ecg", json!({"valueSampledData": {"origin": {"value": 0}, "period": 10, "factor": 1.5,
                    "lowerLimit": -300, "upperLimit": 300, "dimensions": 1, "data": "2 4 8 E U L"}})),
                ext("http://example.org/signature", json!({"valueSignature": {"type": [{"system": "urn:iso-astm:E1762-95:2013",
                    "code": "1.2.840.10065.1.12.1.1"}], "when": "2026-01-02T09:00:00Z", "who": {"reference": "Practitioner/p1"},
                    "onBehalfOf": {"reference": "Organization/1"}, "targetFormat": "application/fhir+json",
                    "sigFormat": "application/jose", "data": "ZXlK"}})),
                ext("http://example.org/visits", json!({"valueTiming": {"event": ["2026-02-01T09:00:00Z"],
                    "repeat": {"boundsPeriod": {"start": "2026-02-01"}, "count": 10, "countMax": 12,
                               "duration": 30, "durationMax": 45, "durationUnit": "min", "frequency": 1, "frequencyMax": 2,
                               "period": 1, "periodMax": 2, "periodUnit": "wk", "dayOfWeek": ["mon", "thu"],
                               "timeOfDay": ["09:00:00"], "offset": 0},
                    "code": {"text": "weekly"}}})),
                ext("http://example.org/meals", json!({"valueTiming": {"repeat": {"boundsDuration": {"value": 2, "unit": "wk",
                    "system": ucum, "code": "wk"}, "when": ["ACM", "PCV"], "offset": 15}}})),
                ext("http://example.org/misc", json!({"extension": [
                    ext("b64", json!({"valueBase64Binary": "SGVsbG8="})),
                    ext("bool", json!({"valueBoolean": true})),
                    ext("canon", json!({"valueCanonical": "http://example.org/Questionnaire/q|1"})),
                    ext("code", json!({"valueCode": "x"})),
                    ext("date", json!({"valueDate": "2026-01"})),
                    ext("dec", json!({"valueDecimal": -0.25})),
                    ext("id", json!({"valueId": "abc.1"})),
                    ext("instant", json!({"valueInstant": "2026-01-02T03:04:05Z"})),
                    ext("int", json!({"valueInteger": -7})),
                    ext("md", json!({"valueMarkdown": "# Title"})),
                    ext("oid", json!({"valueOid": "urn:oid:2.16.840.1"})),
                    ext("pos", json!({"valuePositiveInt": 3})),
                    ext("str", json!({"valueString": "x", "_valueString": {"id": "s1",
                        "extension": [ext("http://example.org/lang", json!({"valueCode": "fr"}))]}})),
                    ext("time", json!({"valueTime": "08:30:00"})),
                    ext("uint", json!({"valueUnsignedInt": 0})),
                    ext("uri", json!({"valueUri": "urn:isbn:0451450523"})),
                    ext("url", json!({"valueUrl": "https://example.org"})),
                    ext("uuid", json!({"valueUuid": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"})),
                    ext("addr", json!({"valueAddress": {"city": "Thiès"}})),
                    ext("cp", json!({"valueContactPoint": {"system": "email", "value": "awa@example.org"}})),
                    ext("hn", json!({"valueHumanName": {"text": "Awa"}})),
                    ext("ident", json!({"valueIdentifier": {"value": "X"}})),
                    ext("meta", json!({"valueMeta": {"tag": [{"code": "t"}]}})),
                    ext("ref", json!({"valueReference": {"display": "Dr Ba", "type": "Practitioner"}})),
                    ext("coding", json!({"valueCoding": {"system": "http://example.org/flags", "code": "a"}})),
                    ext("att", json!({"valueAttachment": {"contentType": "text/plain; charset=utf-8",
                        "language": "fr", "data": "SGVsbG8=", "size": 5, "hash": "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
                        "title": "hello", "creation": "2026"}})),
                ]})),
            ],
            "identifier": [{"use": "official",
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                            "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345",
                            "period": {"start": "2001-05-06"},
                            "assigner": {"display": "Acme Healthcare", "identifier": {"value": "ACME"}}}],
            "active": true,
            "_active": {"id": "a1", "extension": [ext("http://example.org/why", json!({"valueString": "intake"}))]},
            "name": [{"id": "n1", "use": "official", "family": "Diallo",
                      "_family": {"extension": [ext("http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
                                                    json!({"valueString": "Ndeye"}))]},
                      "given": ["Awa", null],
                      "_given": [null, {"extension": [ext("http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier",
                                                          json!({"valueCode": "IN"}))]}],
                      "prefix": ["Mme"], "suffix": ["PhD"], "period": {"start": "2010"}},
                     {"use": "maiden", "text": "Awa Ndiaye", "period": {"end": "2010"}}],
            "telecom": [{"system": "phone", "value": "+221 33 000 00 00", "use": "mobile", "rank": 1,
                         "period": {"start": "2020-01-01T00:00:00+00:00"}}],
            "gender": "female",
            "birthDate": "1990-02-28",
            "_birthDate": {"extension": [ext("http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                             json!({"valueDateTime": "1990-02-28T14:35:45+00:00"}))]},
            "deceasedBoolean": false,
            "address": [{"use": "home", "type": "both", "text": "12 rue X, Dakar", "line": ["12 rue X"],
                         "city": "Dakar", "district": "Plateau", "state": "Dakar", "postalCode": "10200",
                         "country": "SN", "period": {"start": "2015"}}],
            "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}],
                              "text": "Mariée"},
            "multipleBirthInteger": 2,
            "photo": [{"contentType": "image/png", "url": "https://example.org/p.png", "size": 1024,
                       "hash": "2jmj7l5rSw0yVb/vlWAYkK/YBwk="}],
            "contact": [{"id": "c1", "extension": [ext("http://example.org/c", json!({"valueBoolean": true}))],
                         "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}],
                         "name": {"family": "Ba"}, "telecom": [{"system": "email", "value": "ba@example.org"}],
                         "address": {"city": "Dakar"}, "gender": "male",
                         "organization": {"reference": "Organization/1"}, "period": {"start": "2012"}}],
            "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "wo"}]},
                               "preferred": true}],
            "generalPractitioner": [{"reference": "Practitioner/p1", "type": "Practitioner"}],
            "managingOrganization": {"reference": "Organization/1"},
            "link": [{"other": {"reference": "Patient/old-1"}, "type": "replaces"}],
        })
    }

    #[test]
    fn a_rich_patient_is_accepted_and_round_trips() {
        let sent = rich_patient();
        let p = validate_new(sent.clone(), &fr(), TODAY).unwrap();
        let mut want = sent;
        if let Value::Object(w) = &mut want {
            w.remove("id");
            w.remove("meta");
        }
        assert_eq!(p.resource, want);
        assert_eq!(
            (p.family.as_deref(), p.given.as_deref()),
            (Some("Diallo"), Some("Awa"))
        );
        assert_eq!(p.birth_date.as_deref(), Some("1990-02-28"));
        assert_eq!(p.gender.as_deref(), Some("female"));
    }

    /// The R4 example Patient, <https://hl7.org/fhir/R4/patient-example.json> (FHIR v4.0.1).
    /// HL7 FHIR is published under CC0 ("no rights reserved").
    const R4_EXAMPLE: &str = r##"{
      "resourceType": "Patient",
      "id": "example",
      "text": {
        "status": "generated",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n\t\t\t<table>\n\t\t\t\t<tbody>\n\t\t\t\t\t<tr>\n\t\t\t\t\t\t<td>Name</td>\n\t\t\t\t\t\t<td>Peter James \n              <b>Chalmers</b> (&quot;Jim&quot;)\n            </td>\n\t\t\t\t\t</tr>\n\t\t\t\t\t<tr>\n\t\t\t\t\t\t<td>Address</td>\n\t\t\t\t\t\t<td>534 Erewhon, Pleasantville, Vic, 3999</td>\n\t\t\t\t\t</tr>\n\t\t\t\t\t<tr>\n\t\t\t\t\t\t<td>Contacts</td>\n\t\t\t\t\t\t<td>Home: unknown. Work: (03) 5555 6473</td>\n\t\t\t\t\t</tr>\n\t\t\t\t\t<tr>\n\t\t\t\t\t\t<td>Id</td>\n\t\t\t\t\t\t<td>MRN: 12345 (Acme Healthcare)</td>\n\t\t\t\t\t</tr>\n\t\t\t\t</tbody>\n\t\t\t</table>\n\t\t</div>"
      },
      "identifier": [
        {
          "use": "usual",
          "type": {
            "coding": [
              {
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                "code": "MR"
              }
            ]
          },
          "system": "urn:oid:1.2.36.146.595.217.0.1",
          "value": "12345",
          "period": {
            "start": "2001-05-06"
          },
          "assigner": {
            "display": "Acme Healthcare"
          }
        }
      ],
      "active": true,
      "name": [
        {
          "use": "official",
          "family": "Chalmers",
          "given": [
            "Peter",
            "James"
          ]
        },
        {
          "use": "usual",
          "given": [
            "Jim"
          ]
        },
        {
          "use": "maiden",
          "family": "Windsor",
          "given": [
            "Peter",
            "James"
          ],
          "period": {
            "end": "2002"
          }
        }
      ],
      "telecom": [
        {
          "use": "home"
        },
        {
          "system": "phone",
          "value": "(03) 5555 6473",
          "use": "work",
          "rank": 1
        },
        {
          "system": "phone",
          "value": "(03) 3410 5613",
          "use": "mobile",
          "rank": 2
        },
        {
          "system": "phone",
          "value": "(03) 5555 8834",
          "use": "old",
          "period": {
            "end": "2014"
          }
        }
      ],
      "gender": "male",
      "birthDate": "1974-12-25",
      "_birthDate": {
        "extension": [
          {
            "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
            "valueDateTime": "1974-12-25T14:35:45-05:00"
          }
        ]
      },
      "deceasedBoolean": false,
      "address": [
        {
          "use": "home",
          "type": "both",
          "text": "534 Erewhon St PeasantVille, Rainbow, Vic  3999",
          "line": [
            "534 Erewhon St"
          ],
          "city": "PleasantVille",
          "district": "Rainbow",
          "state": "Vic",
          "postalCode": "3999",
          "period": {
            "start": "1974-12-25"
          }
        }
      ],
      "contact": [
        {
          "relationship": [
            {
              "coding": [
                {
                  "system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                  "code": "N"
                }
              ]
            }
          ],
          "name": {
            "family": "du Marché",
            "_family": {
              "extension": [
                {
                  "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
                  "valueString": "VV"
                }
              ]
            },
            "given": [
              "Bénédicte"
            ]
          },
          "telecom": [
            {
              "system": "phone",
              "value": "+33 (237) 998327"
            }
          ],
          "address": {
            "use": "home",
            "type": "both",
            "line": [
              "534 Erewhon St"
            ],
            "city": "PleasantVille",
            "district": "Rainbow",
            "state": "Vic",
            "postalCode": "3999",
            "period": {
              "start": "1974-12-25"
            }
          },
          "gender": "female",
          "period": {
            "start": "2012"
          }
        }
      ],
      "managingOrganization": {
        "reference": "Organization/1"
      }
    }"##;

    fn r4_example() -> Value {
        serde_json::from_str(R4_EXAMPLE).unwrap()
    }

    #[test]
    fn the_r4_example_patient_is_accepted_as_published() {
        let p = validate_new(r4_example(), &fr(), TODAY).unwrap();
        let mut want = r4_example();
        if let Value::Object(w) = &mut want {
            w.remove("id");
        }
        assert_eq!(p.resource, want);
        assert_eq!(p.family.as_deref(), Some("Chalmers"));
        assert_eq!(p.given.as_deref(), Some("Peter"));
        assert_eq!(p.birth_date.as_deref(), Some("1974-12-25"));
        assert_eq!(p.gender.as_deref(), Some("male"));
    }

    #[test]
    fn the_r4_example_patient_with_faults_added() {
        let mut dstu2 = r4_example();
        dstu2["identifier"][0]["label"] = json!("MRN");
        assert_eq!(
            faults(dstu2, &fr()),
            fault(IssueCode::Structure, "Patient.identifier[0].label")
        );

        let mut blank_prefix = r4_example();
        blank_prefix["contact"][0]["name"]["_family"]["extension"][0]["valueString"] = json!("");
        assert_eq!(
            faults(blank_prefix, &fr()),
            fault(
                IssueCode::Value,
                "Patient.contact[0].name._family.extension[0].value.ofType(string)"
            )
        );

        let mut anonymous_contact = r4_example();
        if let Some(c) = anonymous_contact["contact"][0].as_object_mut() {
            for k in ["name", "telecom", "address"] {
                c.remove(k);
            }
        }
        assert_eq!(
            faults(anonymous_contact, &fr()),
            fault(IssueCode::Invariant, "Patient.contact[0]")
        );

        let mut local_birth_time = r4_example();
        local_birth_time["_birthDate"]["extension"][0]["valueDateTime"] =
            json!("1974-12-25T14:35:45");
        local_birth_time["name"][2]["period"]["end"] = json!("2002-02-30");
        assert_eq!(
            faults(local_birth_time, &fr()),
            [
                (
                    IssueCode::Value,
                    "Patient._birthDate.extension[0].value.ofType(dateTime)".to_owned()
                ),
                (IssueCode::Value, "Patient.name[2].period.end".to_owned()),
            ]
        );
    }

    #[test]
    fn national_identifiers_are_checked_where_supplied() {
        let with = |system: &str, value: &str, birth: &str| {
            let mut p = ok_patient();
            p["birthDate"] = json!(birth);
            p["identifier"] = json!([{"system": "urn:local", "value": "anything"},
                                     {"system": system, "value": value}]);
            p
        };
        use crate::compliance::identifiers::{FR_INS_NIR, US_SSN, ZA_ID};
        assert!(
            validate_new(
                with(FR_INS_NIR, "206127511100564", "2006-12-01"),
                &fr(),
                TODAY
            )
            .is_ok()
        );
        assert!(validate_new(with(ZA_ID, "8001015009087", "1980-01-01"), &fr(), TODAY).is_ok());
        assert!(validate_new(with(US_SSN, "123-45-6789", "1980-01-01"), &fr(), TODAY).is_ok());
        for (system, value, birth) in [
            (FR_INS_NIR, "206127511100599", "2006-12-01"),
            (ZA_ID, "8001015009087", "1981-01-01"),
            (US_SSN, "666-45-6789", "1980-01-01"),
        ] {
            let i = issues(with(system, value, birth), &fr());
            assert_eq!(i.len(), 1, "{system}: {i:?}");
            assert_eq!(
                i[0].expression.as_deref(),
                Some("Patient.identifier[1].value")
            );
            assert!(!i[0].diagnostics.contains(value), "the value is not echoed");
        }
    }

    #[test]
    fn policy_and_structure_issues_come_together() {
        let p = json!({"resourceType": "Patient", "name": [{"given": ["Awa"], "nickname": "A"}]});
        assert_eq!(
            faults(p.clone(), &fr()),
            [
                (IssueCode::Required, "Patient.birthDate".to_owned()),
                (IssueCode::Required, "Patient.gender".to_owned()),
                (IssueCode::Required, "Patient.name.family".to_owned()),
                (IssueCode::Structure, "Patient.name[0].nickname".to_owned()),
            ]
        );
        assert_eq!(
            faults(p, &SHAPE_ONLY),
            fault(IssueCode::Structure, "Patient.name[0].nickname")
        );
    }
}
