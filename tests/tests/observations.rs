//! Device readings through both edges: vital-signs codes and units checked, exactly-once
//! ingestion (conditional create and Bundles, resent in parallel), batch and transaction
//! semantics, search newest first with paging, and clinics kept apart.

use std::{sync::Barrier, thread};

use serde_json::{Value, json};
use telemed_e2e::{
    EDGES, Edge, Session, assert_outcome, new_clinic, psql, schema_of, stack, token,
};

const SCOPES: &str = "system/Patient.cruds system/Observation.cruds";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

#[derive(Clone)]
struct Clinic {
    session: Session,
}

impl Clinic {
    fn new(edge: Edge) -> Self {
        let slug = new_clinic("obs", "Readings Clinic", "FR");
        Self {
            session: Session::new(edge, &slug, &token(&slug, SCOPES)),
        }
    }

    fn on(&self, edge: Edge) -> Self {
        Self {
            session: self.session.on(edge),
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let (s, b, _) = self.session.send(method, path, body, extra);
        (s, b)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, &[])
    }

    fn patient(&self) -> String {
        let (s, b) = self.send(
            "POST",
            "/v1/patients",
            Some(
                &json!({"resourceType": "Patient", "name": [{"family": "Reader", "given": ["Io"]}],
                         "gender": "male", "birthDate": "1970-07-07"}),
            ),
            &[],
        );
        assert_eq!(s, 201, "{b}");
        b["id"].as_str().unwrap().to_owned()
    }

    fn total(&self, query: &str) -> u64 {
        let (s, b) = self.get(&format!("/v1/observations?{query}&_count=0"));
        assert_eq!(s, 200, "{query}: {b}");
        b["total"].as_u64().unwrap()
    }
}

/// A reading of `code` in `unit`, taken at `at`, identified by the device as `id`.
fn reading(patient: &str, id: &str, code: &str, value: f64, unit: &str, at: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final",
           "identifier": [{"system": "urn:dev:glucometer-42", "value": id}],
           "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                     "code": if code == "2339-0" || code == "15074-8" { "laboratory" } else { "vital-signs" }}]}],
           "code": {"coding": [{"system": LOINC, "code": code}]},
           "subject": {"reference": format!("Patient/{patient}")},
           "effectiveDateTime": at,
           "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}})
}

fn bundle(kind: &str, entries: Vec<(Value, Option<String>)>) -> Value {
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(resource, condition)| {
            let mut request = json!({"method": "POST", "url": "Observation"});
            if let Some(c) = condition {
                request["ifNoneExist"] = json!(c);
            }
            json!({"resource": resource, "request": request})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

fn statuses(response: &Value) -> Vec<String> {
    response["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn vital_signs_are_checked_on_both_edges() {
    for edge in EDGES {
        let c = Clinic::new(edge);
        let p = c.patient();
        let mut bp = reading(
            &p,
            "bp-1",
            "85354-9",
            0.0,
            "mm[Hg]",
            "2026-11-30T08:00:00+01:00",
        );
        bp.as_object_mut().unwrap().remove("valueQuantity");
        bp["component"] = json!([
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
             "valueQuantity": {"value": 131, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
             "valueQuantity": {"value": 84, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}]);
        let accepted = [
            bp,
            reading(&p, "hr-1", "8867-4", 64.0, "/min", "2026-11-30T08:01:00Z"),
            reading(&p, "sp-1", "2708-6", 98.0, "%", "2026-11-30T08:02:00Z"),
            reading(&p, "wt-1", "29463-7", 81.3, "kg", "2026-11-30"),
            reading(&p, "tp-1", "8310-5", 37.4, "Cel", "2026-11-30T08:03:00Z"),
            reading(&p, "gl-1", "2339-0", 112.0, "mg/dL", "2026-11-30T08:04:00Z"),
            reading(&p, "gl-2", "15074-8", 6.2, "mmol/L", "2026-11-30T08:05:00Z"),
        ];
        for r in &accepted {
            let (s, b) = c.send("POST", "/fhir/R4/Observation", Some(r), &[]);
            assert_eq!(s, 201, "{edge:?}: {b}");
        }
        for (what, r, at) in [
            (
                "glucose by mass in mmol/L",
                reading(&p, "x1", "2339-0", 6.2, "mmol/L", "2026-11-30T09:00:00Z"),
                "Observation.valueQuantity.code",
            ),
            (
                "negative weight",
                reading(&p, "x2", "29463-7", -70.0, "kg", "2026-11-30T09:00:00Z"),
                "Observation.valueQuantity.value",
            ),
            (
                "SpO2 over 100 %",
                reading(&p, "x3", "2708-6", 101.0, "%", "2026-11-30T09:00:00Z"),
                "Observation.valueQuantity.value",
            ),
            (
                "heart rate in kg",
                reading(&p, "x4", "8867-4", 70.0, "kg", "2026-11-30T09:00:00Z"),
                "Observation.valueQuantity.code",
            ),
            (
                "a time without zone",
                reading(&p, "x5", "8867-4", 70.0, "/min", "2026-11-30T09:00:00"),
                "Observation.effective.ofType(dateTime)",
            ),
        ] {
            let (s, b) = c.send("POST", "/v1/observations", Some(&r), &[]);
            assert_eq!(s, 422, "{edge:?} {what}: {b}");
            assert_outcome(&b, what);
            assert_eq!(b["issue"][0]["expression"][0], at, "{edge:?} {what}: {b}");
        }
        assert_eq!(
            c.total(&format!("patient={p}")),
            7,
            "refusals wrote nothing"
        );
    }
}

#[test]
fn conditional_create_is_exactly_once() {
    for edge in EDGES {
        let c = Clinic::new(edge);
        let p = c.patient();
        let r = reading(&p, "once-1", "8867-4", 70.0, "/min", "2026-11-29T10:00:00Z");
        let cond = [("if-none-exist", "identifier=urn:dev:glucometer-42|once-1")];
        let (s, first) = c.send("POST", "/v1/observations", Some(&r), &cond);
        assert_eq!(s, 201, "{first}");
        let (s, again) = c.send("POST", "/fhir/R4/Observation", Some(&r), &cond);
        assert_eq!(s, 200, "{again}");
        assert_eq!(again["id"], first["id"], "the existing reading is answered");
        // Without a condition, a duplicate identity is a conflict.
        let (s, b) = c.send("POST", "/v1/observations", Some(&r), &[]);
        assert_eq!(s, 409, "{b}");
        assert_eq!(c.total("identifier=urn:dev:glucometer-42|once-1"), 1);
        // A condition that is not the reading's identity, or not an identifier.
        let (s, b) = c.send(
            "POST",
            "/v1/observations",
            Some(&r),
            &[("if-none-exist", "identifier=urn:dev:glucometer-42|other")],
        );
        assert_eq!(s, 422, "{b}");
        let (s, b) = c.send(
            "POST",
            "/v1/observations",
            Some(&r),
            &[("if-none-exist", "patient=x")],
        );
        assert_eq!(s, 400, "{b}");
        let (s, b) = c.send("POST", "/v1/patients", Some(&json!({"resourceType": "Patient", "gender": "male", "birthDate": "1990", "name": [{"family": "X", "given": ["Y"]}]})), &cond);
        assert_eq!(s, 400, "Patient has no conditional create: {b}");
        // Several matches: two readings that both carry token T (not as their identity).
        for (own, shared) in [("a", "T"), ("b", "T")] {
            let mut x = reading(&p, own, "8867-4", 60.0, "/min", "2026-11-29T11:00:00Z");
            x["identifier"] = json!([{"system": "urn:dev:glucometer-42", "value": own},
                                     {"system": "urn:shared", "value": shared}]);
            let (s, b) = c.send("POST", "/v1/observations", Some(&x), &[]);
            assert_eq!(s, 201, "{b}");
        }
        let mut t = reading(
            &p,
            "ignored",
            "8867-4",
            61.0,
            "/min",
            "2026-11-29T12:00:00Z",
        );
        t["identifier"] = json!([{"system": "urn:shared", "value": "T"}]);
        let (s, b) = c.send(
            "POST",
            "/v1/observations",
            Some(&t),
            &[("if-none-exist", "identifier=urn:shared|T")],
        );
        assert_eq!(s, 412, "{b}");
        assert_eq!(c.total("identifier=urn:shared|T"), 2, "nothing written");
    }
}

/// Devices resend when an answer is lost: the same readings, in parallel, through both
/// edges, one by one and as Bundles, end up stored once.
#[test]
fn parallel_resends_never_duplicate() {
    let c = Clinic::new(Edge::Workers);
    let p = c.patient();
    const N: usize = 12;
    let r = reading(&p, "par-1", "2708-6", 96.0, "%", "2026-11-28T07:00:00Z");
    let barrier = Barrier::new(N);
    let answers: Vec<(u16, Value)> = thread::scope(|s| {
        (0..N)
            .map(|i| {
                let c = c.on(EDGES[i % 2]);
                let (r, barrier) = (&r, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    c.send(
                        "POST",
                        "/v1/observations",
                        Some(r),
                        &[("if-none-exist", "identifier=urn:dev:glucometer-42|par-1")],
                    )
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let existing = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, existing), (1, N - 1), "{answers:?}");
    let ids: std::collections::BTreeSet<&str> = answers
        .iter()
        .map(|(_, b)| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "every answer is the one reading");
    assert_eq!(c.total("identifier=urn:dev:glucometer-42|par-1"), 1);

    // The same Bundle of 100 readings, sent 6 times at once as batch and as transaction.
    let readings: Vec<(Value, Option<String>)> = (0..100)
        .map(|i| {
            let id = format!("bulk-{i}");
            (
                reading(
                    &p,
                    &id,
                    "8867-4",
                    60.0 + f64::from(i % 40),
                    "/min",
                    &format!("2026-11-27T{:02}:{:02}:00Z", i / 60, i % 60),
                ),
                Some(format!("identifier=urn:dev:glucometer-42|{id}")),
            )
        })
        .collect();
    let barrier = Barrier::new(6);
    let answers: Vec<(u16, Value)> = thread::scope(|s| {
        (0..6)
            .map(|i| {
                let c = c.on(EDGES[i % 2]);
                let b = bundle(
                    if i % 3 == 0 { "transaction" } else { "batch" },
                    readings.clone(),
                );
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    c.send("POST", "/v1", Some(&b), &[])
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    let mut created = 0;
    for (s, b) in &answers {
        assert_eq!(*s, 200, "{b}");
        for st in statuses(b) {
            assert!(st == "201 Created" || st == "200 OK", "{st}");
            created += usize::from(st == "201 Created");
        }
    }
    assert_eq!(created, 100, "each reading created once across all resends");
    assert_eq!(c.total(&format!("patient={p}&date=2026-11-27")), 100);
}

#[test]
fn batch_entries_stand_alone_and_transactions_are_all_or_nothing() {
    for edge in EDGES {
        let c = Clinic::new(edge);
        let p = c.patient();
        let existing = reading(&p, "old-1", "8867-4", 66.0, "/min", "2026-11-26T06:00:00Z");
        assert_eq!(
            c.send("POST", "/v1/observations", Some(&existing), &[]).0,
            201
        );
        let ghost = "00000000-0000-4000-8000-000000000000";
        let mut entries = vec![
            (
                reading(&p, "b-1", "8867-4", 70.0, "/min", "2026-11-26T07:00:00Z"),
                None,
            ),
            (
                reading(&p, "b-2", "2708-6", 140.0, "%", "2026-11-26T07:01:00Z"),
                None,
            ),
            (
                reading(ghost, "b-3", "8867-4", 70.0, "/min", "2026-11-26T07:02:00Z"),
                None,
            ),
            (existing.clone(), None),
            (
                existing.clone(),
                Some("identifier=urn:dev:glucometer-42|old-1".to_owned()),
            ),
            (
                reading(&p, "b-6", "29463-7", 80.0, "kg", "2026-11-26T07:03:00Z"),
                None,
            ),
        ];
        let mut batch = bundle("batch", entries.clone());
        batch["entry"]
            .as_array_mut()
            .unwrap()
            .push(json!({"request": {"method": "GET", "url": "Observation"}}));
        let (s, b) = c.send("POST", "/fhir/R4", Some(&batch), &[]);
        assert_eq!(s, 200, "{edge:?}: {b}");
        assert_eq!(b["type"], "batch-response");
        assert_eq!(
            statuses(&b),
            [
                "201 Created",
                "422 Unprocessable Entity",
                "422 Unprocessable Entity",
                "409 Conflict",
                "200 OK",
                "201 Created",
                "405 Method Not Allowed"
            ],
            "{edge:?}: {b}"
        );
        assert_eq!(
            b["entry"][1]["response"]["outcome"]["issue"][0]["expression"][0],
            "Bundle.entry[1].resource.valueQuantity.value"
        );
        assert_eq!(
            b["entry"][2]["response"]["outcome"]["issue"][0]["expression"][0],
            "Observation.subject"
        );
        assert!(
            b["entry"][0]["response"]["location"]
                .as_str()
                .unwrap()
                .starts_with("Observation/")
        );
        assert!(
            b["entry"][0]["fullUrl"]
                .as_str()
                .unwrap()
                .contains("/fhir/R4/Observation/")
        );
        assert_eq!(c.total(&format!("patient={p}")), 3);

        // A transaction with one faulty entry writes nothing; with an unknown patient
        // neither; whole, it writes every entry.
        entries.truncate(2);
        entries[0].0["identifier"][0]["value"] = json!("t-1");
        let (s, b) = c.send(
            "POST",
            "/v1",
            Some(&bundle("transaction", entries.clone())),
            &[],
        );
        assert_eq!(s, 422, "{b}");
        assert_eq!(
            b["issue"][0]["expression"][0],
            "Bundle.entry[1].resource.valueQuantity.value"
        );
        let ghostly = vec![
            (
                reading(&p, "t-2", "8867-4", 70.0, "/min", "2026-11-26T08:00:00Z"),
                None,
            ),
            (
                reading(ghost, "t-3", "8867-4", 70.0, "/min", "2026-11-26T08:01:00Z"),
                None,
            ),
        ];
        let (s, b) = c.send("POST", "/v1", Some(&bundle("transaction", ghostly)), &[]);
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["issue"][0]["expression"][0], "Observation.subject");
        assert_eq!(
            c.total(&format!("patient={p}")),
            3,
            "nothing of either transaction"
        );
        entries[1].0["valueQuantity"]["value"] = json!(99);
        let (s, b) = c.send("POST", "/v1", Some(&bundle("transaction", entries)), &[]);
        assert_eq!(
            (s, statuses(&b)),
            (200, vec!["201 Created".to_owned(); 2]),
            "{b}"
        );
        assert_eq!(b["type"], "transaction-response");
        assert_eq!(c.total(&format!("patient={p}")), 5);
        // Refusals of the Bundle itself.
        let (s, _) = c.send(
            "POST",
            "/v1",
            Some(&json!({"resourceType": "Bundle", "type": "collection"})),
            &[],
        );
        assert_eq!(s, 422);
        let (s, _) = c.send(
            "POST",
            "/v1",
            Some(&json!({"resourceType": "Patient"})),
            &[],
        );
        assert_eq!(s, 400);
        let too_many: Vec<_> = (0..1001)
            .map(|i| {
                (
                    reading(
                        &p,
                        &format!("m{i}"),
                        "8867-4",
                        60.0,
                        "/min",
                        "2026-11-26T09:00:00Z",
                    ),
                    None,
                )
            })
            .collect();
        let (s, _) = c.send("POST", "/v1", Some(&bundle("batch", too_many)), &[]);
        assert_eq!(s, 422, "1,001 entries");
    }
}

#[test]
fn a_thousand_readings_in_one_bundle_then_newest_first() {
    for edge in EDGES {
        let c = Clinic::new(edge);
        let p = c.patient();
        let readings: Vec<(Value, Option<String>)> = (0..1000)
            .map(|i| {
                let at = format!(
                    "2026-11-{:02}T{:02}:{:02}:00Z",
                    1 + i / 100,
                    (i % 100) / 10,
                    (i % 10) * 5
                );
                let code = if i % 2 == 0 {
                    ("8867-4", 70.0, "/min")
                } else {
                    ("2339-0", 100.0, "mg/dL")
                };
                (
                    reading(&p, &format!("k-{i}"), code.0, code.1, code.2, &at),
                    None,
                )
            })
            .collect();
        let (s, b) = c.send("POST", "/v1", Some(&bundle("batch", readings)), &[]);
        assert_eq!(s, 200, "{edge:?}");
        assert!(statuses(&b).iter().all(|s| s == "201 Created"), "{edge:?}");
        assert_eq!(c.total(&format!("patient={p}")), 1000);
        assert_eq!(c.total(&format!("patient={p}&code={LOINC}|8867-4")), 500);
        assert_eq!(
            c.total(&format!("patient={p}&code=2339-0&category=laboratory")),
            500
        );
        assert_eq!(
            c.total(&format!("patient={p}&date=ge2026-11-02&date=lt2026-11-04")),
            200
        );
        // Newest first, paged by the server's links, each reading once.
        let mut seen = Vec::new();
        let mut path =
            format!("/v1/observations?patient={p}&_sort=-date&_count=100&date=ge2026-11-09");
        loop {
            let (s, page) = c.get(&path);
            assert_eq!(s, 200, "{page}");
            for e in page["entry"].as_array().unwrap() {
                seen.push(
                    e["resource"]["effectiveDateTime"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            match page["link"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["relation"] == "next")
            {
                Some(next) => {
                    let url = next["url"].as_str().unwrap();
                    path = url[url.find("/v1/").unwrap()..].to_owned();
                }
                None => break,
            }
        }
        assert_eq!(seen.len(), 200, "two days of readings");
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first across pages");
        let (s, b) = c.get("/v1/observations?_sort=-name");
        assert_eq!(s, 400, "{b}");
    }
}

#[test]
fn one_clinic_never_reaches_anothers_readings() {
    for edge in EDGES {
        let a = Clinic::new(edge);
        let b = Clinic::new(edge);
        let pa = a.patient();
        let r = reading(
            &pa,
            "secret-1",
            "8867-4",
            70.0,
            "/min",
            "2026-11-25T10:00:00Z",
        );
        let (_, made) = a.send("POST", "/v1/observations", Some(&r), &[]);
        let id = made["id"].as_str().unwrap();
        assert_eq!(b.get(&format!("/v1/observations/{id}")).0, 404);
        for query in [
            format!("patient={pa}"),
            format!("_id={id}"),
            "identifier=urn:dev:glucometer-42|secret-1".to_owned(),
            "code=8867-4&date=2026-11-25".to_owned(),
        ] {
            assert_eq!(b.total(&query), 0, "{edge:?} {query}");
        }
        // B's own reading with the same device identifier: its own, created (201) — the
        // identity is unique per clinic, so B learns nothing of A.
        let pb = b.patient();
        let mine = reading(
            &pb,
            "secret-1",
            "8867-4",
            70.0,
            "/min",
            "2026-11-25T10:00:00Z",
        );
        let (s, x) = b.send(
            "POST",
            "/v1/observations",
            Some(&mine),
            &[("if-none-exist", "identifier=urn:dev:glucometer-42|secret-1")],
        );
        assert_eq!(s, 201, "{x}");
        // A reading in B about A's patient: refused like one about nobody, in a single
        // create and in a batch entry.
        let ghost = "00000000-0000-4000-8000-000000000000";
        let theirs = reading(&pa, "x-1", "8867-4", 70.0, "/min", "2026-11-25T10:00:00Z");
        let nobody = reading(ghost, "x-1", "8867-4", 70.0, "/min", "2026-11-25T10:00:00Z");
        let (s1, b1) = b.send("POST", "/v1/observations", Some(&theirs), &[]);
        let (s2, b2) = b.send("POST", "/v1/observations", Some(&nobody), &[]);
        assert_eq!((s1, &b1["issue"]), (s2, &b2["issue"]), "{b1} / {b2}");
        let (_, r1) = b.send(
            "POST",
            "/v1",
            Some(&bundle("batch", vec![(theirs, None), (nobody, None)])),
            &[],
        );
        assert_eq!(r1["entry"][0]["response"], r1["entry"][1]["response"]);
        assert_eq!(
            a.total(&format!("patient={pa}")),
            1,
            "A has its one reading"
        );
        // A's trail names the patient the reading is about, for its creation and for the
        // search that returned it; B's trail never names A's patient.
        let (s, found) = a.session.get(&format!("/v1/observations?patient={pa}"));
        assert_eq!((s, found["total"].as_u64()), (200, Some(1)));
        let eu = &stack().region("eu-west").unwrap().database_url;
        let trail = |slug: &str, statement: &str| {
            psql(
                eu,
                &format!(
                    "SELECT count(*) FROM {}.audit_events WHERE resource_type = 'Patient' \
                     AND resource_id = '{pa}' AND statement = '{statement}'",
                    schema_of(slug)
                ),
            )
        };
        assert_eq!(trail(&a.session.slug, "observation.create"), "1");
        assert_eq!(trail(&a.session.slug, "observation.search"), "1");
        assert_eq!(trail(&b.session.slug, "observation.search"), "0");
    }
}
