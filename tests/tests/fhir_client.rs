//! A FHIR client library we did not write — `fhir-kit-client` from npm, installed by the
//! test command from `package-lock.json` — talks to the API through both edges: it reads
//! `/fhir/R4/metadata`, creates, reads, updates (`If-Match`) and searches Patients and
//! Practitioners, follows paging links, generates slots (an operation), books an
//! Appointment, sends readings (conditional create, a transaction) and searches them newest
//! first; every response must parse as what it expects.
//! What it reports is then checked here against the API itself.

use std::{path::Path, process::Command};

use serde_json::Value;
use telemed_e2e::{EDGES, fhir, new_clinic, token};

#[test]
fn fhir_kit_client_works_through_both_edges() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for edge in EDGES {
        let slug = new_clinic("kit", "Client Library Clinic", "FR");
        let tok = token(
            &slug,
            "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
             system/Slot.cruds system/Appointment.cruds system/Observation.cruds \
             system/Consent.cruds",
        );
        let out = Command::new("node")
            .arg(root.join("tests/fhir-client/conformance.mjs"))
            .args([
                &format!("{}/fhir/R4", edge.base()),
                &slug,
                &tok,
                telemed_shared::compliance::CONSENT_KIND_SYSTEM,
            ])
            .current_dir(&root)
            .output()
            .expect("node runs");
        assert!(
            out.status.success(),
            "{edge:?}: fhir-kit-client failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{edge:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(seen["fhirVersion"], "4.0.1", "{seen}");
        let types: Vec<&str> = seen["types"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            types.contains(&"Patient") && types.contains(&"Practitioner"),
            "{types:?}"
        );
        let patient = seen["patientId"].as_str().unwrap();
        assert_eq!(seen["patientFamily"], "Kit");
        assert_eq!(seen["patientMatches"], serde_json::json!([patient]));
        let ids: Vec<&str> = seen["practitionerIds"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(seen["byIdentifier"], serde_json::json!([ids[0]]));
        assert_eq!(seen["updatedVersion"], "2");
        assert_eq!(
            (&seen["withoutConsent"], &seen["withoutConsentIssue"]),
            (&serde_json::json!(403), &serde_json::json!("forbidden")),
            "{edge:?}: booking without the consent"
        );
        assert_eq!(
            (&seen["staleUpdate"], &seen["staleOutcome"]),
            (
                &serde_json::json!(412),
                &serde_json::json!("OperationOutcome")
            )
        );
        assert_eq!(seen["total"], 3);
        assert_eq!(
            seen["paged"],
            serde_json::json!(ids),
            "every page, in order, once"
        );

        // What the client did is really there, read by the test itself.
        let t = Some(tok.as_str());
        let (s, p, _) = fhir(
            edge,
            "GET",
            &slug,
            &format!("/v1/patients/{patient}"),
            t,
            None,
            &[],
        );
        assert_eq!(
            (s, &p["name"][0]["given"][0]),
            (200, &serde_json::json!("Client"))
        );
        let (s, p, _) = fhir(
            edge,
            "GET",
            &slug,
            &format!("/v1/practitioners/{}", ids[0]),
            t,
            None,
            &[],
        );
        assert_eq!(
            (s, &p["active"], &p["meta"]["versionId"]),
            (200, &serde_json::json!(false), &serde_json::json!("2"))
        );
    }
}
