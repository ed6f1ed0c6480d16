//! National identifiers through both edges: a per-country creation matrix (FR INS-NIR, ZA
//! identity number, US SSN), valid ones stored, invalid ones a 422 naming the identifier —
//! with nothing stored and the value never echoed.

use serde_json::json;
use telemed_e2e::{EDGES, Session, new_clinic, psql, schema_of, stack, token};

const FR_INS_NIR: &str = "urn:oid:1.2.250.1.213.1.4.8";
const ZA_ID: &str = "https://telemed-edge.health/fhir/sid/za-id";
const US_SSN: &str = "http://hl7.org/fhir/sid/us-ssn";

#[test]
fn national_identifiers_per_country_on_both_edges() {
    // (country, system, valid value, invalid values, birth date the valid one agrees with)
    let matrix = [
        (
            "FR",
            FR_INS_NIR,
            "206127511100564",
            ["206127511100565", "2061275111005"],
            "2006-12-01",
        ),
        (
            "ZA",
            ZA_ID,
            "8001015009087",
            ["8001015009088", "8001015009287"],
            "1980-01-01",
        ),
        (
            "US",
            US_SSN,
            "123-45-6789",
            ["666-45-6789", "123-00-6789"],
            "1980-01-01",
        ),
    ];
    for edge in EDGES {
        for (country, system, valid, invalid, birth) in matrix {
            let slug = new_clinic("nid", "National Id Clinic", country);
            let s = Session::new(edge, &slug, &token(&slug, "system/Patient.cruds"));
            let patient = |family: &str, value: &str, birth: &str| {
                json!({"resourceType": "Patient",
                       "identifier": [{"system": system, "value": value}],
                       "name": [{"family": family, "given": ["Id"]}],
                       "gender": "female", "birthDate": birth})
            };
            let (st, b) = s.post("/v1/patients", &patient("Valid", valid, birth));
            assert_eq!(st, 201, "{edge:?} {country}: {b}");
            assert_eq!(b["identifier"][0]["value"], valid);
            for value in invalid {
                let (st, b) = s.post("/fhir/R4/Patient", &patient("Invalid", value, birth));
                assert_eq!(st, 422, "{edge:?} {country} {value}: {b}");
                assert_eq!(
                    b["issue"][0]["expression"][0], "Patient.identifier[0].value",
                    "{b}"
                );
                assert!(
                    !b.to_string().contains(value),
                    "{edge:?} {country}: the value is not echoed: {b}"
                );
            }
            if country == "ZA" {
                // The identity number's date must be the patient's birthDate.
                let (st, b) = s.post("/v1/patients", &patient("Invalid", valid, "1980-01-02"));
                assert_eq!(st, 422, "{b}");
                assert!(
                    b["issue"][0]["diagnostics"]
                        .as_str()
                        .unwrap()
                        .contains("birthDate"),
                    "{b}"
                );
            }
            let (_, found) = s.get("/v1/patients?name=invalid&_count=0");
            assert_eq!(found["total"], 0, "{edge:?} {country}: nothing stored");
        }
    }
}

/// Encryption at rest, end to end: a French patient's INS-NIR is stored sealed (the table
/// read with psql holds no identifier in clear), read back whole on both edges, found by an
/// exact identifier search through the blind index, and never by another clinic.
#[test]
fn national_identifiers_are_encrypted_at_rest_and_still_found() {
    let slug = new_clinic("sealed", "Clinique Scellée", "FR");
    let other = new_clinic("sealed-other", "Autre Clinique", "FR");
    let scopes = "system/Patient.cruds";
    let nir = "206127511100564";
    let mrn = "MRN-77-4410";
    let body = json!({"resourceType": "Patient",
        "identifier": [{"system": "urn:example:mrn", "value": mrn},
                       {"system": FR_INS_NIR, "value": nir, "use": "official"}],
        "name": [{"family": "Scellé", "given": ["Inès"]}],
        "gender": "female", "birthDate": "2006-12-01"});
    let workers = Session::new(EDGES[0], &slug, &token(&slug, scopes));
    let (st, created) = workers.post("/v1/patients", &body);
    assert_eq!(st, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["identifier"], body["identifier"],
        "answered as sent"
    );

    // What the database holds: neither the NIR nor any token of it, anywhere in the row.
    let eu = &stack().region("eu-west").unwrap().database_url;
    let row = psql(
        eu,
        &format!(
            "SELECT p::text FROM {}.patients p WHERE id = '{id}'",
            schema_of(&slug)
        ),
    );
    assert!(row.contains("Scellé"), "the row is there: {row}");
    assert!(!row.contains(nir), "no NIR in clear: {row}");
    assert!(!row.contains(&nir[..13]), "not even its 13 digits: {row}");
    assert!(
        !row.contains(&format!("|{mrn}")),
        "tokens are blind indexes: {row}"
    );
    let sealed = psql(
        eu,
        &format!(
            "SELECT length(sealed) > 28 FROM {}.patients WHERE id = '{id}'",
            schema_of(&slug)
        ),
    );
    assert_eq!(sealed, "t", "a sealed value is stored");

    for edge in EDGES {
        let s = workers.on(edge);
        let (st, read) = s.get(&format!("/v1/patients/{id}"));
        assert_eq!(st, 200, "{edge:?}: {read}");
        assert_eq!(
            read["identifier"], body["identifier"],
            "{edge:?}: in order, whole"
        );
        for query in [
            format!("{FR_INS_NIR}|{nir}"),
            nir.to_owned(),
            format!("urn:example:mrn|{mrn}"),
        ] {
            let (st, found) = s.get(&format!("/fhir/R4/Patient?identifier={}", percent(&query)));
            assert_eq!(st, 200, "{found}");
            assert_eq!(found["total"], 1, "{edge:?} {query}: {found}");
            assert_eq!(found["entry"][0]["resource"]["id"], json!(id));
            assert_eq!(
                found["entry"][0]["resource"]["identifier"][1]["value"], nir,
                "{edge:?}"
            );
        }
        for miss in [format!("{FR_INS_NIR}|206127511100565"), format!("|{nir}")] {
            let (_, found) = s.get(&format!("/v1/patients?identifier={}", percent(&miss)));
            assert_eq!(found["total"], 0, "{edge:?} {miss}: {found}");
        }
        // Another clinic, same identifier: nothing, as for an identifier no one has.
        let o = Session::new(edge, &other, &token(&other, scopes));
        let (st, found) = o.get(&format!("/v1/patients?identifier={nir}"));
        assert_eq!((st, found["total"].as_u64()), (200, Some(0)), "{found}");
    }

    // An update that drops the NIR drops its ciphertext too.
    let mut without = body.clone();
    without["identifier"] = json!([{"system": "urn:example:mrn", "value": mrn}]);
    without["id"] = json!(id);
    let (st, updated, _) = workers.send(
        "PUT",
        &format!("/v1/patients/{id}"),
        Some(&without),
        &[("if-match", "W/\"1\"")],
    );
    assert_eq!(st, 200, "{updated}");
    assert_eq!(updated["identifier"], without["identifier"]);
    let (_, found) = workers.get(&format!("/v1/patients?identifier={nir}"));
    assert_eq!(found["total"], 0, "{found}");
    let sealed = psql(
        eu,
        &format!(
            "SELECT sealed IS NULL FROM {}.patients WHERE id = '{id}'",
            schema_of(&slug)
        ),
    );
    assert_eq!(sealed, "t");
}

fn percent(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
