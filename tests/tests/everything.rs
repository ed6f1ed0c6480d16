//! `GET /v1/patients/{id}/$everything` through both edges: the patient's whole compartment
//! (national identifiers opened), paged by `_count` with `next` links, narrowed by `_type`
//! and by the caller's scopes, audited as an export, and never another clinic's.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use telemed_e2e::{EDGES, Session, assert_outcome, new_clinic, psql, schema_of, stack, token};

const ALL: &str = "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
                   system/Slot.cruds system/Appointment.cruds system/Observation.cruds \
                   system/Consent.cruds";
const NIR_SYSTEM: &str = "urn:oid:1.2.250.1.213.1.4.8";

fn created(s: &Session, path: &str, body: &Value) -> String {
    let (st, b) = s.post(path, body);
    assert_eq!(st, 201, "POST {path}: {b}");
    b["id"].as_str().unwrap().to_owned()
}

/// A patient with a NIR, a consent, an appointment and three readings: 6 resources.
fn record(s: &Session) -> (String, BTreeSet<String>) {
    let patient = created(
        s,
        "/v1/patients",
        &json!({"resourceType": "Patient",
                "identifier": [{"system": NIR_SYSTEM, "value": "206127511100564"}],
                "name": [{"family": "Portable", "given": ["Ida"]}],
                "gender": "female", "birthDate": "2006-12-01"}),
    );
    let mut ids = BTreeSet::from([patient.clone()]);
    ids.insert(created(
        s,
        "/v1/consents",
        &xtask::demo::consent_body(&patient, "telemedicine", "2026-01-01"),
    ));
    let practitioner = created(
        s,
        "/v1/practitioners",
        &json!({"resourceType": "Practitioner", "name": [{"family": "Everyday"}]}),
    );
    let schedule = created(
        s,
        "/v1/schedules",
        &json!({"resourceType": "Schedule",
                "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
    );
    let (st, slots) = s.post(
        &format!("/v1/schedules/{schedule}/$generate-slots"),
        &json!({"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": "2026-12-14"}, {"name": "end", "valueDate": "2026-12-14"},
            {"name": "day", "valueCode": "mon"}, {"name": "from", "valueTime": "09:00:00"},
            {"name": "to", "valueTime": "10:00:00"}, {"name": "slotMinutes", "valuePositiveInt": 30},
            {"name": "timeZone", "valueCode": "UTC"}]}),
    );
    assert_eq!(st, 200, "{slots}");
    let slot = slots["entry"][0]["resource"]["id"].as_str().unwrap();
    ids.insert(created(
        s,
        &format!("/v1/slots/{slot}/$book"),
        &json!({"resourceType": "Appointment", "status": "booked",
                "participant": [{"actor": {"reference": format!("Patient/{patient}")},
                                 "status": "accepted"}]}),
    ));
    for (i, bpm) in [61, 64, 70].into_iter().enumerate() {
        ids.insert(created(
            s,
            "/v1/observations",
            &json!({"resourceType": "Observation", "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": format!("Patient/{patient}")},
                    "effectiveDateTime": format!("2026-11-2{i}T08:00:00Z"),
                    "valueQuantity": {"value": bpm, "unit": "/min",
                                      "system": "http://unitsofmeasure.org", "code": "/min"}}),
        ));
    }
    (patient, ids)
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"].as_array().map_or(Vec::new(), |e| {
        e.iter().map(|e| e["resource"].clone()).collect()
    })
}

fn next(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .map(str::to_owned)
}

/// The path and query of an absolute link (`Session` takes paths).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme[after_scheme.find('/').unwrap()..].to_owned()
}

#[test]
fn everything_the_clinic_holds_on_a_patient_on_both_edges() {
    let slug = new_clinic("all", "Portability Clinic", "FR");
    let other = new_clinic("all-other", "Other Clinic", "FR");
    let workers = Session::new(EDGES[0], &slug, &token(&slug, ALL));
    let (patient, ids) = record(&workers);
    let everything = format!("/v1/patients/{patient}/$everything");
    for edge in EDGES {
        let s = workers.on(edge);
        let (st, bundle) = s.get(&everything);
        assert_eq!(st, 200, "{edge:?}: {bundle}");
        assert_eq!(bundle["type"], "searchset");
        let got = entries(&bundle);
        assert_eq!(
            got[0]["resourceType"], "Patient",
            "{edge:?}: the patient first"
        );
        assert_eq!(
            got[0]["identifier"][0]["value"], "206127511100564",
            "{edge:?}: the NIR, opened"
        );
        let types: Vec<&str> = got
            .iter()
            .map(|r| r["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "Patient",
                "Appointment",
                "Observation",
                "Observation",
                "Observation",
                "Consent"
            ],
            "{edge:?}"
        );
        let got_ids: BTreeSet<String> = got
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got_ids, ids, "{edge:?}");
        assert_eq!(next(&bundle), None, "{edge:?}: one page");

        // Pages of two, by the `next` links: everything once, in the same order.
        let (mut page, mut paged) = (format!("{everything}?_count=2"), Vec::new());
        loop {
            let (st, b) = s.get(&page);
            assert_eq!(st, 200, "{edge:?} {page}: {b}");
            let e = entries(&b);
            assert!(!e.is_empty() && e.len() <= 2, "{edge:?} {page}: {b}");
            paged.extend(e.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
            match next(&b) {
                Some(url) => page = path_of(&url),
                None => break,
            }
        }
        let all: Vec<String> = got
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(paged, all, "{edge:?}: pages of two");

        // `_type`, and a token that may not read Observations: they are left out.
        let (_, only) = s.get(&format!("{everything}?_type=Observation"));
        assert_eq!(entries(&only).len(), 3, "{only}");
        let narrow = s.with_token(&token(&slug, "system/Patient.r system/Consent.r"));
        let (st, b) = narrow.get(&everything);
        assert_eq!(st, 200, "{b}");
        let types: Vec<Value> = entries(&b)
            .iter()
            .map(|r| r["resourceType"].clone())
            .collect();
        assert_eq!(types, [json!("Patient"), json!("Consent")], "{edge:?}");
        let (st, b) = s
            .with_token(&token(&slug, "system/Observation.r"))
            .get(&everything);
        assert_eq!(st, 403, "{b}");

        // Bad input: 400 / 404, never another clinic's data.
        for bad in [
            "_count=0",
            "_type=Practitioner",
            "_cursor=forged",
            "_since=2026",
        ] {
            let (st, b) = s.get(&format!("{everything}?{bad}"));
            assert_eq!(st, 400, "{bad}: {b}");
            assert_outcome(&b, "invalid");
        }
        let (st, _) = s.get("/v1/patients/00000000-0000-4000-8000-000000000000/$everything");
        assert_eq!(st, 404);
        let (st, _) = s.get(&format!("/v1/practitioners/{patient}/$everything"));
        assert_eq!(st, 404);
        let stranger = Session::new(edge, &other, &token(&other, ALL));
        let (st, b) = stranger.get(&everything);
        assert_eq!(
            st, 404,
            "{edge:?}: another clinic's patient is unknown here: {b}"
        );
        let (st, _) = workers
            .on(edge)
            .with_token(&token(&other, ALL))
            .get(&everything);
        assert_eq!(st, 403, "{edge:?}: another clinic's token");
    }

    // Every export is in the clinic's audit trail, about the patient.
    let eu = &stack().region("eu-west").unwrap().database_url;
    let exports = psql(
        eu,
        &format!(
            "SELECT count(*) FROM {}.audit_events WHERE action = 'export' \
             AND resource_type = 'Patient' AND resource_id = '{patient}'",
            schema_of(&slug)
        ),
    );
    assert!(
        exports.parse::<u32>().unwrap() >= 2,
        "exports audited: {exports}"
    );
    let theirs = psql(
        eu,
        &format!(
            "SELECT count(*) FROM {}.audit_events WHERE resource_id = '{patient}'",
            schema_of(&other)
        ),
    );
    assert_eq!(
        theirs, "0",
        "the other clinic's trail never names the patient"
    );
}
