//! National identifiers through both edges: a per-country creation matrix (FR INS-NIR, ZA
//! identity number, US SSN), valid ones stored, invalid ones a 422 naming the identifier —
//! with nothing stored and the value never echoed.

use serde_json::json;
use telemed_e2e::{EDGES, Session, new_clinic, token};

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
