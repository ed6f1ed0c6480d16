//! Consent through both edges: recorded, found, revoked by a versioned status change, and
//! never reachable from another clinic.

use serde_json::{Value, json};
use telemed_e2e::{EDGES, Session, new_clinic, token};

const SCOPES: &str = "system/Patient.cruds system/Consent.cruds";

fn consent(patient: &str, category: &str) -> Value {
    json!({"resourceType": "Consent", "status": "active",
           "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]},
           "category": [{"coding": [{"system": "urn:telemed:consent", "code": category}]}],
           "patient": {"reference": format!("Patient/{patient}")},
           "dateTime": "2026-11-30T09:00:00Z",
           "policyRule": {"text": "R1111-46"},
           "provision": {"type": "permit", "period": {"start": "2026-11-30"}}})
}

fn patient(s: &Session) -> String {
    let (st, p) = s.post(
        "/v1/patients",
        &json!({"resourceType": "Patient", "name": [{"family": "Consenting", "given": ["Ann"]}],
                "gender": "female", "birthDate": "1980-02-02"}),
    );
    assert_eq!(st, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

#[test]
fn consents_are_recorded_found_and_revoked_on_both_edges() {
    for edge in EDGES {
        let slug = new_clinic("cons", "Consent Clinic", "FR");
        let s = Session::new(edge, &slug, &token(&slug, SCOPES));
        let p = patient(&s);
        let (st, c) = s.post("/fhir/R4/Consent", &consent(&p, "telemedicine"));
        assert_eq!(st, 201, "{edge:?}: {c}");
        let id = c["id"].as_str().unwrap().to_owned();
        let (st, _) = s.post("/v1/consents", &consent(&p, "data-sharing"));
        assert_eq!(st, 201);
        for (query, n) in [
            (format!("patient={p}"), 2),
            (format!("patient={p}&category=telemedicine"), 1),
            ("status=active&date=2026-11-30".to_owned(), 2),
        ] {
            let (st, b) = s.get(&format!("/v1/consents?{query}"));
            assert_eq!(
                (st, b["total"].as_u64()),
                (200, Some(n)),
                "{edge:?} {query}: {b}"
            );
        }
        // Revoked: a versioned status change; the next search sees it.
        let mut revoked = c.clone();
        revoked["status"] = json!("inactive");
        let (st, b, _) = s.send(
            "PUT",
            &format!("/v1/consents/{id}"),
            Some(&revoked),
            &[("if-match", "W/\"1\"")],
        );
        assert_eq!((st, &b["status"]), (200, &json!("inactive")), "{b}");
        let (_, b) = s.get(&format!(
            "/v1/consents?patient={p}&category=telemedicine&status=active"
        ));
        assert_eq!(b["total"], 0);
        // Refusals: ppc-1, an unknown patient.
        let mut no_policy = consent(&p, "telemedicine");
        no_policy.as_object_mut().unwrap().remove("policyRule");
        assert_eq!(s.post("/v1/consents", &no_policy).0, 422);
        let (st, b) = s.post(
            "/v1/consents",
            &consent("00000000-0000-4000-8000-000000000000", "telemedicine"),
        );
        assert_eq!(st, 422, "{b}");
        assert_eq!(b["issue"][0]["expression"][0], "Consent.patient");
        // Another clinic: nothing of A's, and A's patient is like nobody.
        let other = new_clinic("cons", "Other Clinic", "FR");
        let o = Session::new(edge, &other, &token(&other, SCOPES));
        assert_eq!(o.get(&format!("/v1/consents/{id}")).0, 404);
        let (_, b) = o.get(&format!("/v1/consents?patient={p}"));
        assert_eq!(b["total"], 0);
        let (st, theirs) = o.post("/v1/consents", &consent(&p, "telemedicine"));
        assert_eq!(
            (st, &theirs["issue"][0]["diagnostics"]),
            (422, &b_unknown(&o)),
            "{theirs}"
        );
    }
}

/// What a clinic answers to a consent for a patient it does not have.
fn b_unknown(s: &Session) -> Value {
    let (_, b) = s.post(
        "/v1/consents",
        &consent("00000000-0000-4000-8000-000000000000", "telemedicine"),
    );
    b["issue"][0]["diagnostics"].clone()
}
