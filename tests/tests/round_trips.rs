//! Each request costs exactly one edge→region call, even on a cold edge; a cached page
//! costs none. Counted on the regions' side, in a binary of its own so no other test's
//! traffic is counted.

use serde_json::json;
use telemed_e2e::{EDGES, Edge, edge_calls_received, new_clinic, region_metric, token};

/// The counters are global: the tests of this binary must not run at the same time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn forwarded(region: &str) -> u64 {
    region_metric(
        region,
        "regional_batch_requests_total",
        Some(("origin", "forwarded")),
    )
}

fn calls_of(f: impl FnOnce() -> u16) -> (u16, u64) {
    let before = edge_calls_received();
    let status = f();
    (status, edge_calls_received() - before)
}

#[test]
fn one_region_call_per_request_cold_or_warm() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for edge in EDGES {
        for country in ["FR", "ZA", "US"] {
            // A clinic no edge has ever seen: its directory entry is cached nowhere.
            let slug = new_clinic("rt", "Round Trip Clinic", country);
            let tok = format!("Bearer {}", token(&slug, "system/Patient.cruds"));
            let host = edge.host_for(&slug);
            let body =
                json!({"resourceType": "Patient", "name": [{"family": "Trip", "given": ["One"]}],
                              "gender": "other", "birthDate": "1980-01-01"})
                .to_string();
            let (s, n) = calls_of(|| {
                edge.request(
                    "POST",
                    &host,
                    "/v1/patients",
                    &[
                        ("authorization", &tok),
                        ("content-type", "application/fhir+json"),
                    ],
                    Some(&body),
                )
                .status()
                .as_u16()
            });
            assert_eq!((s, n), (201, 1), "{edge:?} {country}: cold POST");
            let (s, n) = calls_of(|| {
                edge.get(&host, "/v1/patients", &[("authorization", &tok)])
                    .status()
                    .as_u16()
            });
            assert_eq!((s, n), (200, 1), "{edge:?} {country}: GET list");
            let (s, n) = calls_of(|| {
                edge.get(
                    &host,
                    "/v1/patients/00000000-0000-4000-8000-000000000000",
                    &[("authorization", &tok)],
                )
                .status()
                .as_u16()
            });
            assert_eq!((s, n), (404, 1), "{edge:?} {country}: GET unknown id");
            every_practitioner_interaction_is_one_call(edge, &slug, country);
            booking_is_one_call_each(edge, &slug, country);
            // The clinic's policy: its directory entry at most (none once the edge has it).
            let (s, n) = calls_of(|| {
                edge.get(&host, "/v1/policy", &[("authorization", &tok)])
                    .status()
                    .as_u16()
            });
            assert_eq!(s, 200, "{edge:?} {country}: policy");
            assert!(n <= 1, "{edge:?} {country}: policy cost {n} calls");
        }
    }
    // Pages: a cold Workers edge makes one directory call, then serves from its cache.
    let slug = new_clinic("rtpage", "Round Trip Page", "MA");
    let edge = Edge::Workers;
    let (s, n) = calls_of(|| {
        edge.get(&edge.host_for(&slug), "/", &[("accept-language", "ar")])
            .status()
            .as_u16()
    });
    assert_eq!((s, n), (200, 1), "cold page");
    let mut last = (0, u64::MAX);
    for _ in 0..50 {
        last = calls_of(|| {
            edge.get(&edge.host_for(&slug), "/", &[("accept-language", "ar")])
                .status()
                .as_u16()
        });
        if last.1 == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(last, (200, 0), "a cached page costs no region call");
    // The marketplace is a public page too: cold, one call (catalog and directory entry in
    // one batch); then from the cache, per category.
    let marketplace = |edge: Edge| {
        calls_of(|| {
            edge.get(
                &edge.host_for(&slug),
                "/marketplace?category=iot",
                &[("accept-language", "fr")],
            )
            .status()
            .as_u16()
        })
    };
    assert_eq!(marketplace(edge), (200, 1), "cold marketplace");
    let mut last = (0, u64::MAX);
    for _ in 0..50 {
        last = marketplace(edge);
        if last.1 == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(last, (200, 0), "a cached marketplace costs no region call");
    // The admin's apps page, once the edge knows the clinic: one read batch.
    let admin = telemed_e2e::session_cookie(
        &slug,
        "MA",
        telemed_shared::accounts::Role::Admin,
        "Round Trip Admin",
        None,
        telemed_e2e::now_secs(),
    );
    let (s, n) = calls_of(|| {
        edge.get(&edge.host_for(&slug), "/admin/apps", &[("cookie", &admin)])
            .status()
            .as_u16()
    });
    assert_eq!((s, n), (200, 1), "admin apps page");
    // Spin keeps nothing between requests: every page is one directory call.
    let edge = Edge::Spin;
    for _ in 0..2 {
        let (s, n) = calls_of(|| edge.get(&edge.host_for(&slug), "/", &[]).status().as_u16());
        assert_eq!((s, n), (200, 1), "spin page");
        assert_eq!(marketplace(edge), (200, 1), "spin marketplace");
    }
}

/// Create, read, versioned update and search of a Practitioner, in both URL spaces: one
/// call each, whatever the outcome (a stale `If-Match` included).
fn every_practitioner_interaction_is_one_call(edge: Edge, slug: &str, country: &str) {
    let tok = format!("Bearer {}", token(slug, "system/Practitioner.cruds"));
    let host = edge.host_for(slug);
    let send = |method: &str, path: &str, body: Option<&str>, extra: &[(&str, &str)]| {
        let mut h = vec![
            ("authorization", tok.as_str()),
            ("content-type", "application/fhir+json"),
        ];
        h.extend_from_slice(extra);
        let r = edge.request(method, &host, path, &h, body);
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap())
    };
    let body = json!({"resourceType": "Practitioner", "name": [{"family": "Trip"}]}).to_string();
    let mut created = None;
    let (s, n) = calls_of(|| {
        let (s, p) = send("POST", "/fhir/R4/Practitioner", Some(&body), &[]);
        created = Some(p);
        s
    });
    assert_eq!((s, n), (201, 1), "{edge:?} {country}: create");
    let id = created.unwrap()["id"].as_str().unwrap().to_owned();
    let mut update: serde_json::Value = serde_json::from_str(&body).unwrap();
    update["id"] = json!(id);
    let update = update.to_string();
    for (what, method, path, body, extra, want) in [
        (
            "read",
            "GET",
            format!("/v1/practitioners/{id}"),
            None,
            &[][..],
            200,
        ),
        (
            "search",
            "GET",
            "/fhir/R4/Practitioner?name=trip".to_owned(),
            None,
            &[],
            200,
        ),
        (
            "update",
            "PUT",
            format!("/v1/practitioners/{id}"),
            Some(update.as_str()),
            &[("if-match", "W/\"1\"")],
            200,
        ),
        (
            "stale update",
            "PUT",
            format!("/fhir/R4/Practitioner/{id}"),
            Some(update.as_str()),
            &[("if-match", "W/\"1\"")],
            412,
        ),
    ] {
        let (s, n) = calls_of(|| send(method, &path, body, extra).0);
        assert_eq!((s, n), (want, 1), "{edge:?} {country}: {what}");
    }
}

/// Schedule, `$generate-slots`, booking (won and lost), `$book`, a status change, an
/// appointment search, readings and `$erase`: one call each.
fn booking_is_one_call_each(edge: Edge, slug: &str, country: &str) {
    let tok = format!(
        "Bearer {}",
        token(
            slug,
            "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
             system/Slot.cruds system/Appointment.cruds system/Observation.cruds \
             system/Consent.cruds system/AuditEvent.rs"
        )
    );
    let host = edge.host_for(slug);
    let send = |method: &str, path: &str, body: Option<&serde_json::Value>| {
        let body = body.map(serde_json::Value::to_string);
        let r = edge.request(
            method,
            &host,
            path,
            &[
                ("authorization", tok.as_str()),
                ("content-type", "application/fhir+json"),
            ],
            body.as_deref(),
        );
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap())
    };
    let counted =
        |what: &str, want: u16, method: &str, path: &str, body: Option<serde_json::Value>| {
            let mut answer = serde_json::Value::Null;
            let (s, n) = calls_of(|| {
                let (s, b) = send(method, path, body.as_ref());
                answer = b;
                s
            });
            assert_eq!((s, n), (want, 1), "{edge:?} {country}: {what}: {answer}");
            answer
        };
    let patient = send(
        "POST",
        "/v1/patients",
        Some(
            &json!({"resourceType": "Patient", "name": [{"family": "Trip", "given": ["B"]}],
                     "gender": "other", "birthDate": "1980-01-01"}),
        ),
    )
    .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let practitioner = send(
        "POST",
        "/v1/practitioners",
        Some(&json!({"resourceType": "Practitioner", "name": [{"family": "Trip"}]})),
    )
    .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let schedule = counted(
        "schedule",
        201,
        "POST",
        "/v1/schedules",
        Some(json!({"resourceType": "Schedule", "actor": [{"reference": format!("Practitioner/{practitioner}")}]})),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = counted(
        "$generate-slots",
        200,
        "POST",
        &format!("/v1/schedules/{schedule}/$generate-slots"),
        Some(json!({"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": "2026-12-07"}, {"name": "end", "valueDate": "2026-12-07"},
            {"name": "day", "valueCode": "mon"}, {"name": "from", "valueTime": "09:00:00"},
            {"name": "to", "valueTime": "10:00:00"}, {"name": "slotMinutes", "valuePositiveInt": 30},
            {"name": "timeZone", "valueCode": "UTC"}]})),
    );
    let slot = |i: usize| {
        made["entry"][i]["resource"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let appointment = |slot: &str| {
        json!({"resourceType": "Appointment", "status": "booked",
               "slot": [{"reference": format!("Slot/{slot}")}],
               "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}]})
    };
    if country != "US" {
        // Without the patient's telemedicine consent the schema refuses: one call, 403.
        counted(
            "book without consent",
            403,
            "POST",
            "/v1/appointments",
            Some(appointment(&slot(0))),
        );
    }
    counted(
        "consent",
        201,
        "POST",
        "/v1/consents",
        Some(xtask::demo::consent_body(
            &patient,
            "telemedicine",
            "2026-01-01",
        )),
    );
    let booked = counted(
        "book",
        201,
        "POST",
        "/v1/appointments",
        Some(appointment(&slot(0))),
    );
    counted(
        "book a taken slot",
        409,
        "POST",
        "/fhir/R4/Appointment",
        Some(appointment(&slot(0))),
    );
    let mut by_op = appointment(&slot(1));
    by_op.as_object_mut().unwrap().remove("slot");
    counted(
        "$book",
        201,
        "POST",
        &format!("/v1/slots/{}/$book", slot(1)),
        Some(by_op),
    );
    let mut arrived = booked.clone();
    arrived["status"] = json!("arrived");
    counted(
        "status change",
        200,
        "PUT",
        &format!("/v1/appointments/{}", booked["id"].as_str().unwrap()),
        Some(arrived),
    );
    counted(
        "appointment search",
        200,
        "GET",
        &format!("/v1/appointments?patient={patient}&date=ge2026-12-07"),
        None,
    );
    // The patient's whole record, a page: one call, whatever the number of types.
    counted(
        "$everything",
        200,
        "GET",
        &format!("/v1/patients/{patient}/$everything?_count=3"),
        None,
    );
    // Readings: a conditional create (created, then found), and 1,000 in one Bundle.
    let reading = |i: usize| {
        json!({"resourceType": "Observation", "status": "final",
               "identifier": [{"system": "urn:dev:rt", "value": format!("r{i}")}],
               "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
               "subject": {"reference": format!("Patient/{patient}")},
               "effectiveDateTime": "2026-11-30T08:00:00Z",
               "valueQuantity": {"value": 70, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}})
    };
    for want in [201, 200] {
        let (s, n) = calls_of(|| {
            edge.request(
                "POST",
                &host,
                "/v1/observations",
                &[
                    ("authorization", tok.as_str()),
                    ("content-type", "application/fhir+json"),
                    ("if-none-exist", "identifier=urn:dev:rt|r-cond"),
                ],
                Some(&{
                    let mut r = reading(0);
                    r["identifier"][0]["value"] = json!("r-cond");
                    r.to_string()
                }),
            )
            .status()
            .as_u16()
        });
        assert_eq!((s, n), (want, 1), "{edge:?} {country}: conditional create");
    }
    let entries: Vec<serde_json::Value> = (1..=1000)
        .map(|i| json!({"resource": reading(i), "request": {"method": "POST", "url": "Observation"}}))
        .collect();
    let answer = counted(
        "a Bundle of 1,000 readings",
        200,
        "POST",
        "/fhir/R4",
        Some(json!({"resourceType": "Bundle", "type": "batch", "entry": entries})),
    );
    assert_eq!(answer["entry"].as_array().map(Vec::len), Some(1000));
    // The audit trail: a search, a read, a patient's access log.
    let events = counted(
        "AuditEvent search",
        200,
        "GET",
        &format!("/fhir/R4/AuditEvent?patient={patient}&action=C&_sort=-date"),
        None,
    );
    let event = events["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{edge:?} {country}: no AuditEvent in {events}"))
        .to_owned();
    counted(
        "AuditEvent read",
        200,
        "GET",
        &format!("/v1/audit-events/{event}"),
        None,
    );
    counted(
        "$access-log",
        200,
        "GET",
        &format!("/v1/patients/{patient}/$access-log?_count=5"),
        None,
    );
    // Erasure: one call, whether the patient is there (the record is kept, its booking and
    // contact details go) or not.
    let erased = counted(
        "$erase",
        200,
        "POST",
        &format!("/v1/patients/{patient}/$erase"),
        None,
    );
    assert_eq!(erased["parameter"][0]["valueCode"], "partial", "{erased}");
    counted(
        "$erase of an unknown patient",
        404,
        "POST",
        "/fhir/R4/Patient/00000000-0000-4000-8000-000000000000/$erase",
        None,
    );
}

#[test]
fn the_nearest_region_forwards_to_the_home_region() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Spin has no geo data: its nearest region is the default (eu-west). A South African
    // clinic's batch must be forwarded from eu-west to af-south, never run in eu-west.
    let slug = new_clinic("fwd", "Forwarded Clinic", "ZA");
    let tok = format!("Bearer {}", token(&slug, "system/Patient.cruds"));
    let before = forwarded("af-south");
    let r = Edge::Spin.get(
        &Edge::Spin.host_for(&slug),
        "/v1/patients",
        &[("authorization", &tok)],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        forwarded("af-south") - before,
        1,
        "af-south received the batch forwarded by eu-west"
    );
}

/// Calls to `/v1/oauth` answered or forwarded, per region (the handler's timing count).
fn oauth_calls() -> Vec<u64> {
    telemed_e2e::stack()
        .regions
        .iter()
        .map(|r| {
            region_metric(
                &r.id,
                "regional_request_duration_seconds_count",
                Some(("route", "oauth")),
            )
        })
        .collect()
}

fn delta(after: &[u64], before: &[u64]) -> Vec<u64> {
    after.iter().zip(before).map(|(a, b)| a - b).collect()
}

#[test]
fn an_apps_token_is_one_call_its_api_calls_one_and_discovery_none() {
    use telemed_e2e::apps::{self, ClientAuth, secret_token};
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for edge in EDGES {
        for country in ["FR", "US"] {
            let slug = new_clinic("rt-oauth", "Round Trip Apps", country);
            let app = apps::register(ClientAuth::Secret, "system/Patient.crs");
            apps::install(&slug, &app, "system/Patient.crs");
            let host = edge.host_for(&slug);
            // The edge learns the clinic's home with a first request (cold: see above).
            let warm = token(&slug, "system/Patient.rs");
            let s = edge
                .get(
                    &host,
                    "/v1/patients",
                    &[("authorization", &format!("Bearer {warm}"))],
                )
                .status();
            assert_eq!(s, 200);
            for path in ["/.well-known/smart-configuration", "/.well-known/jwks.json"] {
                let (before, oauth_before) = (edge_calls_received(), oauth_calls());
                assert_eq!(edge.get(&host, path, &[]).status(), 200);
                assert_eq!(
                    edge_calls_received() - before,
                    0,
                    "{edge:?} {country}: {path}"
                );
                assert!(
                    delta(&oauth_calls(), &oauth_before).iter().all(|n| *n == 0),
                    "{edge:?} {country}: {path} costs no call"
                );
            }
            let home = match country {
                "FR" => "eu-west",
                _ => "us-east",
            };
            let regions: Vec<&str> = telemed_e2e::stack()
                .regions
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            // One call from the edge: to the home region, or to the nearest (Spin has no
            // edge cache of the directory), which forwards it there once.
            let one_call = |what: &str, f: &dyn Fn() -> (u16, serde_json::Value)| {
                let (before, oauth_before) = (edge_calls_received(), oauth_calls());
                let (status, body) = f();
                assert_eq!(status, 200, "{edge:?} {country} {what}: {body}");
                assert_eq!(
                    edge_calls_received() - before,
                    0,
                    "{edge:?} {country} {what}: no directory call"
                );
                let calls = delta(&oauth_calls(), &oauth_before);
                for (region, n) in regions.iter().zip(&calls) {
                    let expected = if *region == home { 1..=1 } else { 0..=1 };
                    assert!(
                        expected.contains(n),
                        "{edge:?} {country} {what}: {region} saw {n} call(s): {calls:?}"
                    );
                }
                assert!(
                    calls.iter().sum::<u64>() <= 2,
                    "{edge:?} {country} {what}: {calls:?}"
                );
                body
            };
            let body = one_call("token", &|| {
                let (s, b, _) = secret_token(edge, &slug, &app, "system/Patient.rs");
                (s, b)
            });
            let basic = apps::basic(&app.client_id, app.secret.as_deref().unwrap());
            for path in ["/oauth/introspect", "/oauth/revoke"] {
                let throwaway =
                    secret_token(edge, &slug, &app, "system/Patient.rs").1["access_token"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                one_call(path, &|| {
                    let (s, b, _) =
                        apps::post_form(edge, &slug, path, &[("token", &throwaway)], Some(&basic));
                    (s, b)
                });
            }
            let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
            let (s, n) = calls_of(|| {
                edge.get(&host, "/v1/patients", &[("authorization", &bearer)])
                    .status()
                    .as_u16()
            });
            assert_eq!((s, n), (200, 1), "{edge:?} {country}: an app's API call");
        }
    }
}

/// Requests to an operator route (`ops`, `ops_sign_in`) that `region` answered.
fn operator_calls(region: &str) -> u64 {
    ["ops", "ops_sign_in"]
        .iter()
        .map(|route| {
            region_metric(
                region,
                "regional_request_duration_seconds_count",
                Some(("route", route)),
            )
        })
        .sum()
}

/// Operators' requests: one call each, to the control plane's region; a delete of a clinic
/// homed elsewhere is forwarded there once (region to region), never a second edge call.
#[test]
fn every_operator_request_is_one_call_to_the_control_plane() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let control = telemed_shared::geo::RegionMap::embedded()
        .control_plane()
        .id
        .to_string();
    let (email, password) = telemed_e2e::new_operator("round-trips");
    for edge in EDGES {
        let slug = new_clinic("rt-ops", "Round Trip Ops", "US");
        let counted = |f: &dyn Fn() -> (u16, serde_json::Value)| {
            let (cp, us) = (operator_calls(&control), operator_calls("us-east"));
            let (s, b) = f();
            (
                s,
                b,
                operator_calls(&control) - cp,
                operator_calls("us-east") - us,
            )
        };
        let call = |method: &str, path: &str, bearer: Option<&str>, body: Option<&str>| {
            let auth = bearer.map(|t| format!("Bearer {t}"));
            let mut h = vec![("content-type", "application/json")];
            if let Some(a) = &auth {
                h.push(("authorization", a));
            }
            let r = edge.request(
                method,
                &edge.apex_host(),
                &format!("/ops/v1{path}"),
                &h,
                body,
            );
            (
                r.status().as_u16(),
                r.json().unwrap_or(serde_json::Value::Null),
            )
        };
        let creds = json!({"email": email, "password": password}).to_string();
        let (s, b, n, _) = counted(&|| call("POST", "/token", None, Some(&creds)));
        assert_eq!((s, n), (200, 1), "{edge:?} sign-in: {b}");
        let t = b["access_token"].as_str().unwrap().to_owned();
        for (method, path, expected) in [
            ("GET", "/tenants?limit=2".to_owned(), 200),
            ("GET", format!("/tenants/{slug}"), 200),
            ("POST", format!("/tenants/{slug}/suspend"), 200),
            ("DELETE", format!("/tenants/{slug}?confirm={slug}"), 200),
        ] {
            let (s, b, n, forwarded) = counted(&|| call(method, &path, Some(&t), None));
            assert_eq!((s, n), (expected, 1), "{edge:?} {method} {path}: {b}");
            let homed_elsewhere = method == "DELETE" && control != "us-east";
            assert_eq!(
                forwarded,
                u64::from(homed_elsewhere),
                "{edge:?} {method} {path}: forwarded to the home region once"
            );
        }
    }
}
