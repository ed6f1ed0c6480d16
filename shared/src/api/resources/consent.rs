//! FHIR R4 `Consent`: what a patient agreed to (or refused), recorded by the clinic and
//! revoked by a status change (`active` → `inactive`, a versioned update). R4 defines no
//! enforcement algorithm; the API will honour only `active` consents whose provision period
//! covers now (the gates of the country policy's `Processing` come next). Search by
//! `patient`, `status`, `category` and `date`.

use serde_json::{Map, Value, json};

use crate::{
    api::{
        resource::{Column, DbRule, Indexed, Meta, Resource, Rules, reference_to},
        search::{Match, SearchParam, coding_tokens},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            ATTACHMENT, BOOLEAN, Base, CODEABLE_CONCEPT, CODING, Choice, Codes, DATE_TIME,
            IDENTIFIER, Invariant, Kind, PERIOD, REFERENCE, Type, URI, ValueSet, many, opt, req,
            req_many,
        },
        dates,
    },
};

/// The `Consent` resource type.
pub struct Consent;

/// R4 `ConsentState` (required binding).
pub static CONSENT_STATE: ValueSet = ValueSet {
    name: "ConsentState",
    codes: Codes::Listed("draft proposed active rejected inactive entered-in-error"),
};

static PROVISION_TYPE: ValueSet = ValueSet {
    name: "ConsentProvisionType",
    codes: Codes::Listed("deny permit"),
};

static DATA_MEANING: ValueSet = ValueSet {
    name: "ConsentDataMeaning",
    codes: Codes::Listed("instance related dependents authoredby"),
};

/// R4 `Consent` (<https://hl7.org/fhir/R4/consent.html>), with ppc-1: a policy or a
/// policyRule.
pub static CONSENT: Type = Type {
    name: "Consent",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        req("status", Kind::Code(&CONSENT_STATE)),
        req("scope", Kind::Type(&CODEABLE_CONCEPT)),
        req_many("category", Kind::Type(&CODEABLE_CONCEPT)),
        opt("patient", Kind::Type(&REFERENCE)),
        opt("dateTime", DATE_TIME),
        many("performer", Kind::Type(&REFERENCE)),
        many("organization", Kind::Type(&REFERENCE)),
        opt(
            "source",
            Kind::Choice(&Choice {
                types: &[Kind::Type(&ATTACHMENT), Kind::Type(&REFERENCE)],
                refused: &[],
            }),
        ),
        many("policy", Kind::Type(&POLICY)),
        opt("policyRule", Kind::Type(&CODEABLE_CONCEPT)),
        many("verification", Kind::Type(&VERIFICATION)),
        opt("provision", Kind::Type(&PROVISION)),
    ],
    invariants: &[Invariant {
        key: "ppc-1",
        human: "a consent names its policy or its policyRule",
        holds: |o| o.contains_key("policy") || o.contains_key("policyRule"),
    }],
};

static POLICY: Type = Type {
    name: "Consent.policy",
    base: Base::Backbone,
    elements: &[opt("authority", URI), opt("uri", URI)],
    invariants: &[],
};

static VERIFICATION: Type = Type {
    name: "Consent.verification",
    base: Base::Backbone,
    elements: &[
        req("verified", BOOLEAN),
        opt("verifiedWith", Kind::Type(&REFERENCE)),
        opt("verificationDate", DATE_TIME),
    ],
    invariants: &[],
};

static PROVISION: Type = Type {
    name: "Consent.provision",
    base: Base::Backbone,
    elements: &[
        opt("type", Kind::Code(&PROVISION_TYPE)),
        opt("period", Kind::Type(&PERIOD)),
        many("actor", Kind::Type(&ACTOR)),
        many("action", Kind::Type(&CODEABLE_CONCEPT)),
        many("securityLabel", Kind::Type(&CODING)),
        many("purpose", Kind::Type(&CODING)),
        many("class", Kind::Type(&CODING)),
        many("code", Kind::Type(&CODEABLE_CONCEPT)),
        opt("dataPeriod", Kind::Type(&PERIOD)),
        many("data", Kind::Type(&DATA)),
        many("provision", Kind::Type(&PROVISION)),
    ],
    invariants: &[],
};

static ACTOR: Type = Type {
    name: "Consent.provision.actor",
    base: Base::Backbone,
    elements: &[
        req("role", Kind::Type(&CODEABLE_CONCEPT)),
        req("reference", Kind::Type(&REFERENCE)),
    ],
    invariants: &[],
};

static DATA: Type = Type {
    name: "Consent.provision.data",
    base: Base::Backbone,
    elements: &[
        req("meaning", Kind::Code(&DATA_MEANING)),
        req("reference", Kind::Type(&REFERENCE)),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[
    Column::reference("patient", "patients"),
    Column::text("status"),
    Column::jsonb("categories"),
    Column::instant("valid_from"),
    Column::instant("valid_to"),
    Column::instant("recorded"),
];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "patient",
        kind: Match::Reference {
            column: "patient",
            target: "Patient",
        },
        documentation: "The patient who consented (Patient/<id>).",
    },
    SearchParam {
        name: "status",
        kind: Match::Code {
            column: "status",
            codes: &CONSENT_STATE,
        },
        documentation: "draft | proposed | active | rejected | inactive | entered-in-error",
    },
    SearchParam {
        name: "category",
        kind: Match::Identifier("categories"),
        documentation: "system|code or a code alone (telemedicine, data-sharing…).",
    },
    SearchParam {
        name: "date",
        kind: Match::DateRange("recorded"),
        documentation: "When the consent was given (dateTime): eq, ge, gt, le, lt.",
    },
];

static RULES: &[DbRule] = &[DbRule::reference(
    "consents_patient_fkey",
    "Consent.patient",
    "Consent.patient refers to a Patient this clinic does not have",
)];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    db_rules: RULES,
    patient_column: Some("patient"),
    ..Meta::new("Consent", "consents", "consents", &CONSENT)
};

impl Resource for Consent {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// A Patient of this clinic; the provision's period, when given, in order.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let mut issues = Vec::new();
        let patient = reference_to(obj.get("patient"), "Patient", "Consent.patient")
            .map_err(|i| issues.push(i))
            .ok();
        let period = obj.get("provision").and_then(|p| p.get("period"));
        let bound = |k: &str| {
            period
                .and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .and_then(dates::range)
        };
        let (from, to) = (bound("start").map(|r| r.0), bound("end").map(|r| r.1));
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            issues.push(
                Issue::new(
                    IssueCode::Invariant,
                    "the provision's period ends before it starts",
                )
                .at("Consent.provision.period"),
            );
        }
        let recorded = obj
            .get("dateTime")
            .and_then(Value::as_str)
            .and_then(dates::range)
            .map(|r| r.0);
        Indexed {
            columns: vec![
                json!(patient),
                json!(obj.get("status").and_then(Value::as_str)),
                coding_tokens(obj.get("category")),
                json!(from.map(dates::to_rfc3339)),
                json!(to.map(dates::to_rfc3339)),
                json!(recorded.map(dates::to_rfc3339)),
            ],
            issues,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::{Invalid, TEST_RULES as RULES, validate};

    fn consent() -> Value {
        json!({"resourceType": "Consent", "status": "active",
               "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]},
               "category": [{"coding": [{"system": "urn:telemed:consent", "code": "telemedicine"}]}],
               "patient": {"reference": "Patient/5b0c1a2e-1111-4222-8333-444455556666"},
               "dateTime": "2026-11-30T09:00:00Z",
               "policyRule": {"text": "R1111-46"},
               "provision": {"type": "permit", "period": {"start": "2026-11-30", "end": "2027-11-30"}}})
    }

    #[test]
    fn a_consent_is_indexed() {
        let v = validate(&Consent, consent(), &RULES).unwrap();
        assert_eq!(v.columns[2], json!(["urn:telemed:consent|telemedicine"]));
        assert_eq!(v.columns[3], json!("2026-11-30T00:00:00Z"));
        assert_eq!(
            v.columns[4],
            json!("2027-12-01T00:00:00Z"),
            "the end day is included"
        );
    }

    #[test]
    fn ppc_1_and_the_patient_are_required() {
        let mut c = consent();
        c.as_object_mut().unwrap().remove("policyRule");
        c.as_object_mut().unwrap().remove("patient");
        let Err(Invalid::Issues(i)) = validate(&Consent, c, &RULES) else {
            panic!("refused")
        };
        let at: Vec<_> = i.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert!(at.contains(&"Consent.patient"), "{at:?}");
        assert!(i.iter().any(|i| i.diagnostics.contains("policy")), "{i:?}");
    }
}
