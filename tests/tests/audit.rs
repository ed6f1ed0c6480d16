//! The audit trail through both edges: every access to a patient's data is recorded with
//! who, what, how, when, its outcome and the edge that asked; clinic admins read it as FHIR
//! AuditEvent and as `Patient/{id}/$access-log`, with the scope naming AuditEvent only; no
//! clinic ever reaches another's; the stack's service role cannot change it; and
//! `regional-db audit verify` finds its chain intact.

use serde_json::{Value, json};
use telemed_e2e::{EDGES, Session, new_clinic, schema_of, stack, token};

const SCOPES: &str = "system/Patient.cruds system/Consent.cruds system/AuditEvent.rs";

fn patient(s: &Session) -> String {
    let (st, p) = s.post(
        "/v1/patients",
        &json!({"resourceType": "Patient", "name": [{"family": "Audited", "given": ["Ann"]}],
                "gender": "female", "birthDate": "1980-02-02"}),
    );
    assert_eq!(st, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

fn resources(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

#[test]
fn every_access_is_in_the_trail_and_only_the_clinic_reads_it() {
    for edge in EDGES {
        let slug = new_clinic("audit", "Audit Clinic", "FR");
        let s = Session::new(edge, &slug, &token(&slug, SCOPES));
        let p = patient(&s);
        assert_eq!(s.get(&format!("/v1/patients/{p}")).0, 200);
        let (st, _) = s.get("/v1/patients?name=audited");
        assert_eq!(st, 200);
        // A refused write: a consent for a patient the clinic does not have.
        let (st, _) = s.post(
            "/v1/consents",
            &json!({"resourceType": "Consent", "status": "active",
                    "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]},
                    "category": [{"coding": [{"system": "urn:telemed:consent", "code": "telemedicine"}]}],
                    "patient": {"reference": "Patient/00000000-0000-4000-8000-000000000000"},
                    "policyRule": {"text": "test"}}),
        );
        assert_eq!(st, 422);

        // Who accessed this patient's record, newest first: the search, the read, the create.
        let (st, log) = s.get(&format!("/v1/patients/{p}/$access-log"));
        assert_eq!(st, 200, "{edge:?}: {log}");
        assert_eq!(log["type"], "searchset");
        let events = resources(&log);
        let actions: Vec<&str> = events
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["E", "R", "C"], "{edge:?}: {log}");
        for e in &events {
            assert_eq!(e["resourceType"], "AuditEvent");
            assert_eq!(e["outcome"], "0");
            assert_eq!(e["agent"][0]["who"]["identifier"]["value"], "e2e-tests");
            assert_eq!(e["entity"][0]["what"]["reference"], format!("Patient/{p}"));
            let observer = e["source"]["observer"]["display"].as_str().unwrap();
            assert!(
                observer.starts_with("Telemed Edge ") && !observer.contains("not reported"),
                "{edge:?}: the edge says where it runs: {observer}"
            );
        }
        let recorded: Vec<&str> = events
            .iter()
            .map(|e| e["recorded"].as_str().unwrap())
            .collect();
        assert!(
            recorded.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {recorded:?}"
        );
        assert!(
            log["link"][0]["url"]
                .as_str()
                .unwrap()
                .contains(&format!("/v1/patients/{p}/$access-log?")),
            "{log}"
        );

        // The same records as AuditEvent searches; the refused write is there, as such.
        let (_, b) = s.get(&format!("/fhir/R4/AuditEvent?patient=Patient/{p}&action=R"));
        assert_eq!(b["total"], 1, "{b}");
        let (_, b) = s.get("/v1/audit-events?action=C&agent=e2e-tests&date=ge2026-01-01");
        let refused: Vec<Value> = resources(&b)
            .into_iter()
            .filter(|e| e["outcome"] == "4")
            .collect();
        assert_eq!(refused.len(), 1, "{edge:?}: {b}");
        assert_eq!(refused[0]["outcomeDesc"], "constraint_violation");
        let event = resources(&b)[0]["id"].as_str().unwrap().to_owned();
        let (st, one) = s.get(&format!("/v1/audit-events/{event}"));
        assert_eq!((st, &one["id"]), (200, &json!(event)));

        // Scopes: the trail needs AuditEvent by name; a wildcard or Patient's is not enough.
        for scope in ["system/*.cruds", "system/Patient.cruds"] {
            let other = s.with_token(&token(&slug, scope));
            assert_eq!(other.get("/v1/audit-events").0, 403, "{scope}");
            assert_eq!(
                other.get(&format!("/v1/patients/{p}/$access-log")).0,
                403,
                "{scope}"
            );
        }
        assert_eq!(
            s.send("POST", &format!("/v1/patients/{p}/$access-log"), None, &[])
                .0,
            405
        );

        // Another clinic, with every scope: nothing of this clinic's trail.
        let other = new_clinic("audit", "Other Audit Clinic", "FR");
        let o = Session::new(edge, &other, &token(&other, SCOPES));
        assert_eq!(o.get(&format!("/v1/audit-events/{event}")).0, 404);
        let (st, b) = o.get(&format!("/v1/patients/{p}/$access-log"));
        assert_eq!((st, &b["total"]), (200, &json!(0)), "{b}");
        let (_, b) = o.get(&format!("/fhir/R4/AuditEvent?patient={p}"));
        assert_eq!(b["total"], 0, "{b}");
        let (_, b) = o.get("/v1/audit-events?_count=100");
        assert!(
            resources(&b).iter().all(|e| !e.to_string().contains(&p)),
            "{b}"
        );

        // The chain holds, as the operator's command checks it.
        let region = stack().region("eu-west").unwrap();
        let out = std::process::Command::new(&stack().regional_db_bin)
            .args(["audit", "verify", "--tenant", &slug])
            .env("REGION", "eu-west")
            .env("DATABASE_URL", &region.database_url)
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert!(out.status.success(), "{edge:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("intact"),
            "{out:?}"
        );
    }
}

/// The stack's regional-db connects as the service's own role, which may append to the
/// trail but never change it.
#[test]
fn the_stack_serves_as_a_role_that_cannot_change_the_trail() {
    let slug = new_clinic("audit", "Audit Role Clinic", "FR");
    let region = stack().region("eu-west").unwrap();
    let url = region
        .service_database_url
        .as_deref()
        .expect("the stack names the service's role");
    let psql = std::path::Path::new(xtask::tools::POSTGRES_BIN_DIR).join("psql");
    let run = |sql: &str| {
        std::process::Command::new(&psql)
            .args([url, "-X", "-q", "-t", "-A", "-c", sql])
            .output()
            .unwrap()
    };
    let out = run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "f", "{out:?}");
    let table = format!("{}.audit_events", schema_of(&slug));
    for sql in [
        format!("UPDATE {table} SET actor = 'x'"),
        format!("DELETE FROM {table}"),
        format!("TRUNCATE {table}"),
    ] {
        let out = run(&sql);
        assert!(!out.status.success(), "{sql}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("permission denied"),
            "{sql}: {out:?}"
        );
    }
}
