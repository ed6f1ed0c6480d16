//! The clinical API beyond Patient, through both edge runtimes and both URL spaces
//! (`/v1/<plural>` and `/fhir/R4/<Type>`): Practitioner create, read, search and versioned
//! update, the CapabilityStatement, and one clinic never reaching another's resources.

use serde_json::{Value, json};
use telemed_e2e::{EDGES, Edge, Session, assert_outcome, fhir, new_clinic, token};

const SCOPES: &str = "system/Practitioner.cruds system/Patient.cruds";

fn practitioner(family: &str, rpps: &str) -> String {
    json!({"resourceType": "Practitioner", "active": true,
           "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": rpps}],
           "name": [{"family": family, "given": ["Claire"], "prefix": ["Dr"]}],
           "qualification": [{"code": {"text": "Médecin généraliste"}}]})
    .to_string()
}

/// The families of a search's entries.
fn families(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|e| {
            e["resource"]["name"][0]["family"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn practitioners_in_both_url_spaces_on_both_edges() {
    for edge in EDGES {
        let slug = new_clinic("prac", "Cabinet Practitioners", "FR");
        let tok = token(&slug, SCOPES);
        let session = Session::new(edge, &slug, &tok);
        for (space, collection) in [
            ("/v1", "/v1/practitioners"),
            ("/fhir/R4", "/fhir/R4/Practitioner"),
        ] {
            let family = format!("Durand{}", &space[1..3]);
            let rpps = format!("1000{}", space.len());
            let (s, created, h) =
                session.send_text("POST", collection, Some(&practitioner(&family, &rpps)), &[]);
            assert_eq!(s, 201, "{edge:?} {space}: {created}");
            let id = created["id"].as_str().unwrap().to_owned();
            assert_eq!(created["meta"]["versionId"], "1");
            assert_eq!(h["etag"], "W/\"1\"");
            let location = h["location"].to_str().unwrap();
            assert!(
                location.ends_with(&format!("{collection}/{id}")),
                "{edge:?}: Location in the request's space: {location}"
            );
            // Read back in the other space: one implementation.
            let other = if space == "/v1" {
                format!("/fhir/R4/Practitioner/{id}")
            } else {
                format!("/v1/practitioners/{id}")
            };
            let (s, read, _) = session.send_text("GET", &other, None, &[]);
            assert_eq!((s, &read["name"][0]["family"]), (200, &json!(family)));

            // Search: name prefix (any case), identifier with and without system, active.
            for query in [
                format!("name={}", family.to_lowercase()),
                format!("identifier=urn:oid:1.2.250.1.71.4.2.1|{rpps}"),
                format!("identifier={rpps}"),
                format!("_id={id}"),
            ] {
                let (s, b, _) =
                    session.send_text("GET", &format!("{collection}?{query}"), None, &[]);
                assert_eq!(s, 200, "{edge:?} {query}: {b}");
                assert_eq!(
                    families(&b),
                    std::slice::from_ref(&family),
                    "{edge:?} {space} {query}"
                );
                assert!(
                    b["entry"][0]["fullUrl"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("{collection}/{id}")),
                    "{edge:?}: fullUrl in the request's space: {b}"
                );
                assert!(
                    b["link"][0]["url"].as_str().unwrap().contains(collection),
                    "{b}"
                );
            }
            for query in [
                format!("identifier=urn:other|{rpps}"),
                format!("identifier=|{rpps}"),
                "active=false".to_owned(),
            ] {
                let (s, b, _) = session.send_text(
                    "GET",
                    &format!("{collection}?{query}&name={family}"),
                    None,
                    &[],
                );
                assert_eq!((s, b["total"].as_u64()), (200, Some(0)), "{query}: {b}");
            }
            let (s, b, _) =
                session.send_text("GET", &format!("{collection}?active=maybe"), None, &[]);
            assert_eq!(s, 400, "{b}");
            assert_eq!(b["issue"][0]["expression"][0], "active");

            // Versioned update: If-Match current → 200 version 2; stale → 412; no id → 400.
            let mut changed: Value = serde_json::from_str(&practitioner(&family, &rpps)).unwrap();
            changed["id"] = json!(id);
            changed["active"] = json!(false);
            let body = changed.to_string();
            let path = format!("{collection}/{id}");
            let (s, updated, h) =
                session.send_text("PUT", &path, Some(&body), &[("if-match", "W/\"1\"")]);
            assert_eq!(s, 200, "{edge:?}: {updated}");
            assert_eq!(
                (&updated["meta"]["versionId"], &updated["active"]),
                (&json!("2"), &json!(false))
            );
            assert_eq!(h["etag"], "W/\"2\"");
            let (s, b, _) =
                session.send_text("PUT", &path, Some(&body), &[("if-match", "W/\"1\"")]);
            assert_eq!(s, 412, "{edge:?}: stale If-Match: {b}");
            assert_outcome(&b, "stale If-Match");
            let (s, b, _) =
                session.send_text("PUT", &path, Some(&practitioner(&family, &rpps)), &[]);
            assert_eq!(s, 400, "{edge:?}: an update names its id: {b}");
            let (s, b, _) = session.send_text(
                "GET",
                &format!("{collection}?active=false&_id={id}"),
                None,
                &[],
            );
            assert_eq!((s, families(&b)), (200, vec![family.clone()]), "{b}");
        }
        // Refusals: structure faults named, scopes per resource type.
        let (s, b, _) = session.send_text(
            "POST",
            "/v1/practitioners",
            Some(r#"{"resourceType":"Practitioner","qualification":[{}],"speciality":"x"}"#),
            &[],
        );
        assert_eq!(s, 422, "{b}");
        let at: Vec<&str> = b["issue"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["expression"][0].as_str())
            .collect();
        assert!(
            at.contains(&"Practitioner.speciality")
                && at.contains(&"Practitioner.qualification[0].code"),
            "{at:?}"
        );
        let patients_only = token(&slug, "system/Patient.cruds");
        let (s, b, h) = fhir(
            edge,
            "GET",
            &slug,
            "/fhir/R4/Practitioner",
            Some(&patients_only),
            None,
            &[],
        );
        assert_eq!(s, 403, "{b}");
        assert!(
            h["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("system/Practitioner.s"),
            "{h:?}"
        );
        let (s, b, h) = session.send_text("DELETE", "/fhir/R4/Practitioner", None, &[]);
        assert_eq!(
            (s, h["allow"].to_str().unwrap()),
            (405, "GET, HEAD, POST"),
            "{b}"
        );
        let (s, _, _) = session.send_text("GET", "/fhir/R4/Nothing", None, &[]);
        assert_eq!(s, 404);
    }
}

#[test]
fn the_capability_statement_lists_what_is_served() {
    for edge in EDGES {
        let slug = new_clinic("meta", "Capability Clinic", "US");
        let (s, c, h) = fhir(edge, "GET", &slug, "/fhir/R4/metadata", None, None, &[]);
        assert_eq!(s, 200, "{edge:?}: public, no token: {c}");
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json")
        );
        assert_eq!(c["resourceType"], "CapabilityStatement");
        assert_eq!(c["fhirVersion"], "4.0.1");
        assert!(
            c["implementation"]["url"]
                .as_str()
                .unwrap()
                .ends_with("/fhir/R4"),
            "{c}"
        );
        let resources = c["rest"][0]["resource"].as_array().unwrap();
        let practitioner = resources
            .iter()
            .find(|r| r["type"] == "Practitioner")
            .expect("Practitioner is listed");
        let params: Vec<&str> = practitioner["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, ["name", "identifier", "active", "_id"]);
        let interactions: Vec<&str> = practitioner["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(interactions, ["read", "search-type", "create", "update"]);
        let find = |t: &str| resources.iter().find(|r| r["type"] == t).unwrap();
        assert_eq!(find("Schedule")["operation"][0]["name"], "generate-slots");
        assert_eq!(find("Slot")["operation"][0]["name"], "book");
        assert_eq!(find("Observation")["conditionalCreate"], true);
        assert_eq!(find("Patient")["conditionalCreate"], false);
        assert_eq!(c["rest"][0]["interaction"][1]["code"], "transaction");
        // Every listed type answers at its URL (authentication aside).
        for r in resources {
            let (s, _, _) = fhir(
                edge,
                "GET",
                &slug,
                &format!("/fhir/R4/{}", r["type"].as_str().unwrap()),
                None,
                None,
                &[],
            );
            assert_eq!(s, 401, "{edge:?} {}", r["type"]);
        }
    }
}

/// HAPI's multi-tenant leaks (REFERENCE.md), tried on every new resource: `_id` search,
/// identifier search, read, versioned update of another clinic's id, and paging links
/// replayed on another clinic's host all behave as if the resource did not exist.
#[test]
fn one_clinic_never_reaches_anothers_practitioners() {
    for edge in EDGES {
        let a = new_clinic("praca", "Clinic A", "FR");
        let b = new_clinic("pracb", "Clinic B", "FR");
        let (ta, tb) = (token(&a, SCOPES), token(&b, SCOPES));
        let mut ids = Vec::new();
        for i in 0..3 {
            let (s, p, _) = fhir(
                edge,
                "POST",
                &a,
                "/v1/practitioners",
                Some(&ta),
                Some(&practitioner(&format!("Secret{i}"), &format!("77{i}"))),
                &[],
            );
            assert_eq!(s, 201, "{p}");
            ids.push(p["id"].as_str().unwrap().to_owned());
        }
        let id = &ids[0];
        let tb = Some(tb.as_str());
        let (s, body, _) = fhir(
            edge,
            "GET",
            &b,
            &format!("/v1/practitioners/{id}"),
            tb,
            None,
            &[],
        );
        assert_eq!(s, 404, "{body}");
        let unknown = "00000000-0000-4000-8000-000000000000";
        let (_, unknown_body, _) = fhir(
            edge,
            "GET",
            &b,
            &format!("/v1/practitioners/{unknown}"),
            tb,
            None,
            &[],
        );
        assert_eq!(
            body["issue"][0]["code"], unknown_body["issue"][0]["code"],
            "another clinic's id answers like an unknown one"
        );
        for query in [
            format!("_id={id}"),
            "identifier=770".into(),
            "name=secret".into(),
        ] {
            let (s, body, _) = fhir(
                edge,
                "GET",
                &b,
                &format!("/fhir/R4/Practitioner?{query}"),
                tb,
                None,
                &[],
            );
            assert_eq!(
                (s, body["total"].as_u64()),
                (200, Some(0)),
                "{query}: {body}"
            );
        }
        let mut overwrite: Value = serde_json::from_str(&practitioner("Mallory", "1")).unwrap();
        overwrite["id"] = json!(id);
        for if_match in [&[("if-match", "W/\"1\"")][..], &[]] {
            let (s, body, _) = fhir(
                edge,
                "PUT",
                &b,
                &format!("/v1/practitioners/{id}"),
                tb,
                Some(&overwrite.to_string()),
                if_match,
            );
            assert_eq!(s, 404, "{edge:?} PUT {if_match:?}: {body}");
        }
        let (_, still, _) = fhir(
            edge,
            "GET",
            &a,
            &format!("/v1/practitioners/{id}"),
            Some(&ta),
            None,
            &[],
        );
        assert_eq!(
            (&still["name"][0]["family"], &still["meta"]["versionId"]),
            (&json!("Secret0"), &json!("1")),
            "A's practitioner is untouched"
        );
        // A's next-page link, replayed on B's host with B's token, pages B's (empty) data.
        let (_, page, _) = fhir(
            edge,
            "GET",
            &a,
            "/v1/practitioners?_count=1",
            Some(&ta),
            None,
            &[],
        );
        let next = page["link"][1]["url"].as_str().expect("a next link");
        let path = &next[next.find("/v1/").unwrap()..];
        let (s, body, _) = fhir(edge, "GET", &b, path, tb, None, &[]);
        assert_eq!((s, body["total"].as_u64()), (200, Some(0)), "{body}");
        let (s, _, _) = fhir(edge, "GET", &b, path, Some(&ta), None, &[]);
        assert_eq!(s, 403, "A's token on B's host");
    }
}

#[test]
fn written_through_one_edge_read_through_the_other() {
    // Both edges share one regional data plane: a practitioner created through one is read
    // through the other.
    let slug = new_clinic("pracx", "Cross Edge", "SN");
    let workers = Session::new(Edge::Workers, &slug, &token(&slug, SCOPES));
    let body = practitioner("Diop", "42");
    let (s, p, _) = workers.send_text("POST", "/fhir/R4/Practitioner", Some(&body), &[]);
    assert_eq!(s, 201, "{p}");
    let (s, read) = workers.on(Edge::Spin).get(&format!(
        "/fhir/R4/Practitioner/{}",
        p["id"].as_str().unwrap()
    ));
    assert_eq!((s, &read["name"][0]["family"]), (200, &json!("Diop")));
}
