//! The FHIR API through both edge runtimes: tenancy, scopes, errors as OperationOutcomes.

use serde_json::{Value, json};
use telemed_e2e::{
    ApiAnswer, EDGES, Edge, assert_outcome, fhir, headers, new_clinic, now_secs, token, token_at,
};
use telemed_shared::auth::SigningKey;

const ALL: &str = "system/Patient.cruds";

fn unique(prefix: &str) -> String {
    let mut r = [0u8; 4];
    getrandom::fill(&mut r).unwrap();
    format!("{prefix}{:08x}", u32::from_le_bytes(r))
}

fn patient(family: &str) -> String {
    telemed_e2e::patient_body(family)
}

fn call(
    edge: Edge,
    method: &str,
    slug: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> ApiAnswer {
    fhir(edge, method, slug, path, token, body, &[])
}

fn list_families(edge: Edge, slug: &str, tok: &str, family: &str) -> Vec<String> {
    list_families_after(edge, slug, tok, family, None)
}

/// The search, served where the write that answered `written` is visible: searches may
/// be served by a lagging replica unless they echo the write's `X-Telemed-Lsn` (the
/// read-your-writes contract of the API).
fn list_families_after(
    edge: Edge,
    slug: &str,
    tok: &str,
    family: &str,
    written: Option<&reqwest::header::HeaderMap>,
) -> Vec<String> {
    let lsn = written
        .and_then(|h| h.get("x-telemed-lsn"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let extra: Vec<(&str, &str)> = lsn
        .iter()
        .map(|l| ("x-telemed-min-lsn", l.as_str()))
        .collect();
    let (s, b, _) = fhir(
        edge,
        "GET",
        slug,
        &format!("/v1/patients?name={family}&_count=100"),
        Some(tok),
        None,
        &extra,
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["type"], "searchset");
    b["entry"]
        .as_array()
        .unwrap()
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
fn a_patient_belongs_to_its_clinic_only() {
    for edge in EDGES {
        let paris = token("hopital-paris", ALL);
        let dakar = token("clinique-dakar", ALL);
        let family = unique("Iso");
        let (s, created, h) = call(
            edge,
            "POST",
            "hopital-paris",
            "/v1/patients",
            Some(&paris),
            Some(&patient(&family)),
        );
        assert_eq!(s, 201, "{edge:?}: {created}");
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(
            h["location"]
                .to_str()
                .unwrap()
                .ends_with(&format!("/v1/patients/{id}"))
        );
        assert_eq!(created["meta"]["versionId"], "1");

        let (s, read, _) = call(
            edge,
            "GET",
            "hopital-paris",
            &format!("/v1/patients/{id}"),
            Some(&paris),
            None,
        );
        assert_eq!(s, 200, "{edge:?}");
        assert_eq!(read["name"][0]["family"], family.as_str());
        assert_eq!(
            list_families_after(edge, "hopital-paris", &paris, &family, Some(&h)),
            vec![family.clone()]
        );

        // Another clinic cannot see it, not even that it exists.
        let (s, b, _) = call(
            edge,
            "GET",
            "clinique-dakar",
            &format!("/v1/patients/{id}"),
            Some(&dakar),
            None,
        );
        assert_eq!(s, 404, "{edge:?}: {b}");
        assert_outcome(&b, "other clinic by id");
        assert!(list_families(edge, "clinique-dakar", &dakar, &family).is_empty());
        // hopital-paris's token on clinique-dakar's host.
        let (s, b, _) = call(
            edge,
            "GET",
            "clinique-dakar",
            "/v1/patients",
            Some(&paris),
            None,
        );
        assert_eq!(s, 403, "{edge:?}");
        assert_outcome(&b, "token of another clinic");
    }
}

#[test]
fn errors_are_operation_outcomes_with_the_right_status() {
    let stranger = SigningKey::from_seed([42; 32]);
    let forged = stranger
        .sign_api("hopital-paris".parse().unwrap(), "x", ALL, now_secs(), 600)
        .unwrap();
    let expired = token_at("hopital-paris", ALL, now_secs() - 3600, 600);
    let ok = token("hopital-paris", ALL);
    let read_only = token("hopital-paris", "system/Patient.rs");
    let unknown_id = "/v1/patients/00000000-0000-4000-8000-000000000000";
    /// (what, method, token, body, expected status)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<String>, u16);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            "POST",
            Some(&ok),
            Some("{\"resourceType\": ".into()),
            400,
        ),
        ("missing token", "GET", None, None, 401),
        ("expired token", "GET", Some(&expired), None, 401),
        ("forged token", "GET", Some(&forged), None, 401),
        ("garbage token", "GET", Some("abc.def.ghi"), None, 401),
        (
            "missing scope",
            "POST",
            Some(&read_only),
            Some(patient("Scope")),
            403,
        ),
        (
            "wrong resource type",
            "POST",
            Some(&ok),
            Some(json!({"resourceType": "Observation"}).to_string()),
            422,
        ),
        (
            "invalid gender",
            "POST",
            Some(&ok),
            Some(patient("G").replace("female", "F")),
            422,
        ),
        (
            "missing required field (GDPR/HDS)",
            "POST",
            Some(&ok),
            Some(json!({"resourceType": "Patient", "name": [{"family": "X"}]}).to_string()),
            422,
        ),
    ];
    for edge in EDGES {
        for (what, method, tok, body, want) in &cases {
            let (s, b, h) = call(
                edge,
                method,
                "hopital-paris",
                "/v1/patients",
                *tok,
                body.as_deref(),
            );
            assert_eq!(s, *want, "{edge:?} {what}: {b}");
            assert_outcome(&b, what);
            if *want == 401 {
                assert!(h.contains_key("www-authenticate"), "{edge:?} {what}");
            }
        }
        let (s, b, _) = call(edge, "GET", "hopital-paris", unknown_id, Some(&ok), None);
        assert_eq!(s, 404, "{edge:?}");
        assert_outcome(&b, "unknown id");
        let (s, b, _) = call(
            edge,
            "GET",
            "hopital-paris",
            "/v1/patients/not-a-uuid",
            Some(&ok),
            None,
        );
        assert_eq!(s, 404, "{edge:?}");
        assert_outcome(&b, "malformed id");
        let (s, b, _) = call(
            edge,
            "GET",
            "no-such-clinic-x",
            "/v1/patients",
            Some(&ok),
            None,
        );
        assert_eq!(
            s, 403,
            "{edge:?}: a token names its clinic; another host is refused first: {b}"
        );
        let (s, b, _) = call(
            edge,
            "DELETE",
            "hopital-paris",
            "/v1/patients",
            Some(&ok),
            None,
        );
        assert_eq!(s, 405, "{edge:?}");
        assert_outcome(&b, "method");
        let r = edge.request(
            "POST",
            &edge.host_for("hopital-paris"),
            "/v1/patients",
            &[
                ("authorization", &format!("Bearer {ok}")),
                ("content-type", "text/plain"),
            ],
            Some(&patient("T")),
        );
        assert_eq!(r.status(), 415, "{edge:?}");
    }
}

#[test]
fn a_new_clinic_enforces_its_country_policy_even_on_a_cold_edge() {
    // A fresh clinic: no edge has its directory entry, so the edge cannot know its country;
    // the clinic's schema refuses what its regulation requires.
    let slug = new_clinic("policy", "Clinique Politique", "FR");
    let tok = token(&slug, ALL);
    for edge in EDGES {
        let body = json!({"resourceType": "Patient", "name": [{"family": "NoGender", "given": ["A"]}], "birthDate": "2000"}).to_string();
        let (s, b, _) = call(edge, "POST", &slug, "/v1/patients", Some(&tok), Some(&body));
        assert_eq!(s, 422, "{edge:?}: {b}");
        assert_eq!(
            b["issue"][0]["expression"][0], "Patient.gender",
            "{edge:?}: {b}"
        );
    }
}

#[test]
fn search_pages_with_count_and_next_links() {
    let slug = new_clinic("paging", "Clinique Pagination", "SN");
    let tok = token(&slug, ALL);
    let edge = Edge::Spin;
    for i in 0..3 {
        let (s, b, _) = call(
            edge,
            "POST",
            &slug,
            "/v1/patients",
            Some(&tok),
            Some(&patient(&format!("Page{i}"))),
        );
        assert_eq!(s, 201, "{b}");
    }
    for edge in EDGES {
        let (s, first, _) = call(
            edge,
            "GET",
            &slug,
            "/v1/patients?_count=2",
            Some(&tok),
            None,
        );
        assert_eq!(s, 200);
        assert_eq!(first["total"], 3, "{edge:?}");
        assert_eq!(first["entry"].as_array().unwrap().len(), 2);
        let next = first["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .expect("a next link")["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = &next[next.find("/v1/").unwrap()..];
        let (s, second, _) = call(edge, "GET", &slug, path, Some(&tok), None);
        assert_eq!(s, 200);
        let names: Vec<_> = first["entry"]
            .as_array()
            .unwrap()
            .iter()
            .chain(second["entry"].as_array().unwrap())
            .map(|e| {
                e["resource"]["name"][0]["family"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["Page0", "Page1", "Page2"], "{edge:?}");
        assert!(
            second["link"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["relation"] != "next"),
            "{edge:?}: last page"
        );
        let h = headers(&edge.get(
            &edge.host_for(&slug),
            "/v1/patients",
            &[("authorization", &format!("Bearer {tok}"))],
        ));
        assert_eq!(h["cache-control"], "no-store");
        assert!(h["content-type"].starts_with("application/fhir+json"));
    }
}

/// `POST /v1/patients` with an `Idempotency-Key`.
fn post_with_key(
    edge: Edge,
    slug: &str,
    tok: &str,
    key: &str,
    body: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let auth = format!("Bearer {tok}");
    let r = edge.request(
        "POST",
        &edge.host_for(slug),
        "/v1/patients",
        &[
            ("authorization", &auth),
            ("content-type", "application/fhir+json"),
            ("idempotency-key", key),
        ],
        Some(body),
    );
    let status = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().unwrap();
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{edge:?} POST with key: not JSON ({e}): {text}"));
    (status, v, h)
}

#[test]
fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let slug = new_clinic("idem", "Clinique Idempotente", "FR");
    let tok = token(&slug, ALL);
    for edge in EDGES {
        let key = unique("order-");
        let family = unique("Idem");
        let body = patient(&family);
        let (s, first, h) = post_with_key(edge, &slug, &tok, &key, &body);
        assert_eq!(s, 201, "{edge:?}: {first}");
        assert!(!h.contains_key("idempotent-replayed"), "{edge:?}");
        let (s, again, h2) = post_with_key(edge, &slug, &tok, &key, &body);
        assert_eq!(s, 201, "{edge:?}: {again}");
        assert_eq!(h2["idempotent-replayed"], "true", "{edge:?}");
        assert_eq!(again["id"], first["id"], "{edge:?}");
        assert_eq!(again["meta"], first["meta"], "{edge:?}");
        assert_eq!(h2["location"], h["location"], "{edge:?}");
        assert_eq!(
            list_families_after(edge, &slug, &tok, &family, Some(&h)),
            vec![family.clone()],
            "{edge:?}: written once"
        );

        // The same key for another patient is refused; nothing is written.
        let (s, b, _) = post_with_key(edge, &slug, &tok, &key, &patient(&unique("Other")));
        assert_eq!(s, 422, "{edge:?}: {b}");
        assert_outcome(&b, "key reused with another body");
        assert_eq!(
            b["issue"][0]["expression"][0], "Idempotency-Key",
            "{edge:?}"
        );

        let (s, b, _) = post_with_key(edge, &slug, &tok, "two words", &body);
        assert_eq!(s, 400, "{edge:?}: {b}");
        assert_outcome(&b, "malformed key");
    }

    // The key lives in the clinic's region, not in an edge: either edge replays it.
    let key = unique("cross-");
    let family = unique("Cross");
    let (s, first, written) = post_with_key(Edge::Workers, &slug, &tok, &key, &patient(&family));
    assert_eq!(s, 201, "{first}");
    let (s, again, h) = post_with_key(Edge::Spin, &slug, &tok, &key, &patient(&family));
    assert_eq!(s, 201, "{again}");
    assert_eq!(h["idempotent-replayed"], "true");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(
        list_families_after(Edge::Spin, &slug, &tok, &family, Some(&written)),
        vec![family.clone()]
    );

    // Another app of the same clinic has its own keys.
    let other_app = telemed_e2e::stack()
        .keys()
        .expect("stack keys")
        .api_signing_key()
        .expect("api key")
        .sign_api(slug.parse().unwrap(), "another-app", ALL, now_secs(), 600)
        .unwrap();
    let (s, b, h) = post_with_key(Edge::Spin, &slug, &other_app, &key, &patient(&family));
    assert_eq!(s, 201, "{b}");
    assert!(!h.contains_key("idempotent-replayed"));
    assert_ne!(b["id"], first["id"]);
}

/// Unknown elements are refused at every depth, each with its FHIRPath, and nothing is
/// stored: a DSTU2 client's `Identifier.label`, a typo inside `name`, a primitive
/// extension for an element that does not exist.
#[test]
fn unknown_elements_are_refused_at_every_depth_and_nothing_is_stored() {
    let slug = new_clinic("nested", "Clinique Imbriquée", "SN");
    let tok = token(&slug, ALL);
    let family = unique("Nested");
    let with = |extra: Value| {
        let mut body: Value = serde_json::from_str(&patient(&family)).unwrap();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body.to_string()
    };
    let cases = [
        (
            with(
                json!({"identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "206127511100564", "label": "INS"}]}),
            ),
            "Patient.identifier[0].label",
        ),
        (
            with(json!({"name": [{"family": family, "given": ["Awa"], "prefixe": ["Mme"]}]})),
            "Patient.name[0].prefixe",
        ),
        (
            with(
                json!({"telecom": [{"system": "phone", "value": "+221", "period": {"start": "2020", "fin": "2021"}}]}),
            ),
            "Patient.telecom[0].period.fin",
        ),
        (
            with(json!({"address": [{"city": "Dakar", "quartier": "Plateau"}]})),
            "Patient.address[0].quartier",
        ),
        (with(json!({"_colour": {"id": "c"}})), "Patient._colour"),
    ];
    for edge in EDGES {
        for (body, expression) in &cases {
            let (s, b, _) = call(edge, "POST", &slug, "/v1/patients", Some(&tok), Some(body));
            assert_eq!(s, 422, "{edge:?} {expression}: {b}");
            assert_outcome(&b, expression);
            let at: Vec<&str> = b["issue"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|i| i["expression"][0].as_str())
                .collect();
            assert_eq!(at, [*expression], "{edge:?}: {b}");
            assert_eq!(b["issue"][0]["code"], "structure", "{edge:?}: {b}");
        }
        assert!(
            list_families(edge, &slug, &tok, &family).is_empty(),
            "{edge:?}: a refused patient is not stored"
        );
    }
    // The same patient without the faults is accepted: the refusals were for the faults.
    let (s, b, written) = call(
        Edge::Spin,
        "POST",
        &slug,
        "/v1/patients",
        Some(&tok),
        Some(&patient(&family)),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        list_families_after(Edge::Spin, &slug, &tok, &family, Some(&written)),
        [family]
    );
}
