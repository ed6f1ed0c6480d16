//! `Patient/{id}/$erase` through both edges: in France the medical record is kept (20
//! years, R1112-7, cited) and the rest goes; in Spain (5 years from discharge) the same
//! aged patient goes whole; a legal hold keeps everything; another clinic can neither erase
//! nor detect the patient; bad requests change nothing.
//!
//! Aged data: the patient is created through the API, then its dates are moved back in the
//! clinic's schema (the clock of a running stack cannot be moved).

use serde_json::{Value, json};
use telemed_e2e::{
    ApiAnswer, EDGES, Edge, Session, assert_outcome, new_clinic, now_secs, psql, schema_of, stack,
    token,
};
use telemed_shared::fhir::datatypes::civil_date;

const SCOPES: &str = "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
                      system/Slot.cruds system/Appointment.cruds system/Observation.cruds \
                      system/Consent.cruds";

/// The database of a region of the stack.
fn db(region: &str) -> &'static str {
    &stack().region(region).unwrap().database_url
}

fn eu() -> &'static str {
    db("eu-west")
}

/// A patient with contact details, a reading taken on 2018-03-04 and a booking for next
/// month written on the same day (so the record's last entry is 2018-03-04), and the
/// patient's record opened in 2015, in the clinic's home database `home`. Returns
/// (patient, reading, appointment, slot).
fn aged_patient(s: &Session, home: &str) -> (String, String, String, String) {
    let ok = |(st, b): (u16, Value), what: &str| {
        assert!(st == 200 || st == 201, "{:?} {what}: {st} {b}", s.edge);
        b
    };
    let patient = ok(
        s.post(
            "/v1/patients",
            &json!({"resourceType": "Patient", "name": [{"family": "Effacé", "given": ["Ana"]}],
                    "gender": "female", "birthDate": "1961-04-05",
                    "telecom": [{"system": "phone", "value": "+33 6 00 00 00 00"}],
                    "address": [{"city": "Lyon"}]}),
        ),
        "patient",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let practitioner = ok(
        s.post(
            "/v1/practitioners",
            &json!({"resourceType": "Practitioner", "name": [{"family": "Doc"}]}),
        ),
        "practitioner",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let schedule = ok(
        s.post(
            "/v1/schedules",
            &json!({"resourceType": "Schedule", "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
        ),
        "schedule",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let day = civil_date((now_secs() + 35 * 86_400) * 1000);
    let days: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"name": "day", "valueCode": d}))
        .collect();
    let mut parameter = vec![
        json!({"name": "start", "valueDate": day}),
        json!({"name": "end", "valueDate": day}),
        json!({"name": "from", "valueTime": "09:00:00"}),
        json!({"name": "to", "valueTime": "10:00:00"}),
        json!({"name": "slotMinutes", "valuePositiveInt": 30}),
        json!({"name": "timeZone", "valueCode": "UTC"}),
    ];
    parameter.extend(days);
    let slots = ok(
        s.post(
            &format!("/v1/schedules/{schedule}/$generate-slots"),
            &json!({"resourceType": "Parameters", "parameter": parameter}),
        ),
        "slots",
    );
    let slot = slots["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Booking a teleconsultation needs the patient's consent (FR, and ES's baseline rule).
    let consent = ok(
        s.post(
            "/v1/consents",
            &xtask::demo::consent_body(&patient, "telemedicine", "2018-03-04"),
        ),
        "consent",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let appointment = ok(
        s.post(
            "/v1/appointments",
            &json!({"resourceType": "Appointment", "status": "booked",
                    "slot": [{"reference": format!("Slot/{slot}")}],
                    "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}]}),
        ),
        "appointment",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reading = ok(
        s.post(
            "/v1/observations",
            &json!({"resourceType": "Observation", "status": "final",
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": format!("Patient/{patient}")},
                    "effectiveDateTime": "2018-03-04T10:00:00Z",
                    "valueQuantity": {"value": 70, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}),
        ),
        "reading",
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let schema = schema_of(&s.slug);
    psql(
        home,
        &format!(
            "SET search_path TO {schema};
             UPDATE {schema}.patients SET created_at = '2015-01-01' WHERE id = '{patient}';
             UPDATE {schema}.observations SET last_updated = '2018-03-04T10:00:00Z' WHERE id = '{reading}';
             UPDATE {schema}.consents SET last_updated = '2018-03-04T10:00:00Z' WHERE id = '{consent}';
             UPDATE {schema}.appointments SET last_updated = '2018-03-04T10:00:00Z' WHERE id = '{appointment}';"
        ),
    );
    (patient, reading, appointment, slot)
}

fn erase(s: &Session, patient: &str, extra: &[(&str, &str)]) -> ApiAnswer {
    s.send(
        "POST",
        &format!("/v1/patients/{patient}/$erase"),
        None,
        extra,
    )
}

/// The `erased` or `kept` part about `data`, if the answer has one.
fn part<'a>(answer: &'a Value, name: &str, data: &str) -> Option<&'a Value> {
    answer["parameter"].as_array()?.iter().find(|p| {
        p["name"] == name
            && p["part"].as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x["name"] == "data" && x["valueCode"] == data)
            })
    })
}

/// The value of the part named `name` of `p`.
fn value<'a>(p: &'a Value, name: &str) -> &'a Value {
    p["part"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name))
        .and_then(|x| {
            x.as_object()?
                .iter()
                .find(|(k, _)| k.starts_with("value"))
                .map(|(_, v)| v)
        })
        .unwrap_or(&Value::Null)
}

#[test]
fn france_keeps_the_record_with_its_citation_spain_lets_it_go() {
    for edge in EDGES {
        // France: 20 years from the last visit (none: the last entry, 2018-03-04).
        let slug = new_clinic("erfr", "Erasure FR", "FR");
        let s = Session::new(edge, &slug, &token(&slug, SCOPES));
        let (patient, reading, appointment, slot) = aged_patient(&s, eu());
        let (st, answer, headers) = erase(&s, &patient, &[("accept-language", "fr")]);
        assert_eq!(st, 200, "{edge:?}: {answer}");
        assert_eq!(answer["resourceType"], "Parameters");
        assert_eq!(answer["parameter"][0]["valueCode"], "partial", "{answer}");
        assert_eq!(headers["content-language"], "fr");
        let record = part(&answer, "kept", "medical-record").expect("the record is kept");
        assert_eq!(value(record, "until"), "2038-03-04", "{answer}");
        assert!(
            value(record, "citation")
                .as_str()
                .unwrap()
                .contains("R1112-7"),
            "{answer}"
        );
        assert_eq!(value(record, "confirmed"), true);
        assert_eq!(value(record, "label"), "Dossier médical");
        let contact = part(&answer, "erased", "contact-details").unwrap();
        assert_eq!(value(contact, "count"), 1);
        let unheld = part(&answer, "erased", "unheld-appointments").unwrap();
        assert_eq!(
            (value(unheld, "count"), value(unheld, "slotsFreed")),
            (&json!(1), &json!(1))
        );
        // What is kept is there, what went is gone.
        let (st, p) = s.get(&format!("/v1/patients/{patient}"));
        assert_eq!(st, 200);
        assert!(
            p.get("telecom").is_none() && p.get("address").is_none(),
            "{p}"
        );
        assert_eq!(p["name"][0]["family"], "Effacé");
        assert_eq!(s.get(&format!("/v1/observations/{reading}")).0, 200);
        assert_eq!(s.get(&format!("/v1/appointments/{appointment}")).0, 404);
        assert_eq!(s.get(&format!("/v1/slots/{slot}")).1["status"], "free");

        // Spain: 5 years from discharge (the 2018 reading): the same patient goes whole.
        let slug = new_clinic("eres", "Erasure ES", "ES");
        let s = Session::new(edge, &slug, &token(&slug, SCOPES));
        let (patient, reading, appointment, slot) = aged_patient(&s, eu());
        let (st, answer, _) = erase(&s, &patient, &[("accept-language", "es")]);
        assert_eq!(st, 200, "{edge:?}: {answer}");
        assert_eq!(answer["parameter"][0]["valueCode"], "erased", "{answer}");
        let record = part(&answer, "erased", "medical-record").expect("the record went");
        assert!(
            value(record, "ground")
                .as_str()
                .unwrap()
                .contains("Ley 41/2002"),
            "{answer}"
        );
        assert!(part(&answer, "kept", "medical-record").is_none());
        for path in [
            format!("/v1/patients/{patient}"),
            format!("/v1/observations/{reading}"),
            format!("/v1/appointments/{appointment}"),
        ] {
            assert_eq!(s.get(&path).0, 404, "{edge:?} {path}");
        }
        assert_eq!(s.get(&format!("/v1/slots/{slot}")).1["status"], "free");
        // Erasing again: the patient is not known any more.
        assert_eq!(erase(&s, &patient, &[]).0, 404);
        // Audited: the erasure, and the second request, which found nothing (an attempt
        // on an id is in the trail whatever it found).
        assert_eq!(
            psql(
                eu(),
                &format!(
                    "SELECT count(*) FROM {}.audit_events WHERE action = 'erase' AND resource_id = '{patient}'",
                    schema_of(&slug)
                )
            ),
            "2"
        );
    }
}

#[test]
fn a_legal_hold_keeps_everything_and_says_why() {
    let edge = Edge::Workers;
    let slug = new_clinic("erhold", "Erasure hold", "ES");
    let s = Session::new(edge, &slug, &token(&slug, SCOPES));
    let (patient, _, _, _) = aged_patient(&s, eu());
    let region = stack().region("eu-west").unwrap();
    let out = std::process::Command::new(&stack().regional_db_bin)
        .args(["holds", "place", "--tenant", &slug, "--patient", &patient])
        .args(["--reason", "litigation", "--by", "e2e"])
        .args([
            "--region",
            "eu-west",
            "--database-url",
            &region.database_url,
        ])
        .args(["--control-database-url", &region.control_database_url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, answer, _) = erase(&s, &patient, &[]);
    assert_eq!(
        (st, &answer["parameter"][0]["valueCode"]),
        (200, &json!("held")),
        "{answer}"
    );
    let record = part(&answer, "kept", "medical-record").unwrap();
    assert!(
        value(record, "ground")
            .as_str()
            .unwrap()
            .contains("17(3)(e)")
    );
    assert!(part(&answer, "erased", "contact-details").is_none());
    assert!(
        s.get(&format!("/v1/patients/{patient}"))
            .1
            .get("telecom")
            .is_some()
    );
}

#[test]
fn another_clinic_can_neither_erase_nor_detect_a_patient() {
    for edge in EDGES {
        let a = new_clinic("erxa", "Erasure A", "FR");
        let b = new_clinic("erxb", "Erasure B", "FR");
        let sa = Session::new(edge, &a, &token(&a, SCOPES));
        let sb = Session::new(edge, &b, &token(&b, SCOPES));
        let (patient, _, _, _) = aged_patient(&sa, eu());
        let unknown = "00000000-0000-4000-8000-0000000000ee";
        let (st_theirs, theirs, _) = erase(&sb, &patient, &[]);
        let (st_none, none, _) = erase(&sb, unknown, &[]);
        assert_eq!(
            (st_theirs, st_none),
            (404, 404),
            "{edge:?}: {theirs} {none}"
        );
        assert_eq!(
            theirs.to_string().replace(&patient, "ID"),
            none.to_string().replace(unknown, "ID"),
            "{edge:?}: the same answer as for an id that exists nowhere"
        );
        // B's token on A's host: refused before anything runs.
        let (st, _, _) = sa.with_token(&token(&b, SCOPES)).send(
            "POST",
            &format!("/v1/patients/{patient}/$erase"),
            None,
            &[],
        );
        assert_eq!(st, 403);
        // Nothing of A's patient changed.
        let (st, p) = sa.get(&format!("/v1/patients/{patient}"));
        assert_eq!(st, 200);
        assert!(p.get("telecom").is_some(), "{edge:?}: {p}");
    }
}

#[test]
fn bad_erasure_requests_are_refused_and_change_nothing() {
    let edge = Edge::Spin;
    let slug = new_clinic("erbad", "Erasure bad", "US");
    let s = Session::new(edge, &slug, &token(&slug, SCOPES));
    let (patient, _, _, _) = aged_patient(&s, db("us-east"));
    let path = format!("/v1/patients/{patient}/$erase");
    // Without the delete scope.
    let reader = s.with_token(&token(&slug, "system/Patient.rs"));
    let (st, b, _) = reader.send("POST", &path, None, &[]);
    assert_eq!(st, 403, "{b}");
    assert!(b.to_string().contains("system/Patient.d"), "{b}");
    for (body, want) in [
        ("{", 400),
        (r#"{"resourceType": "Patient"}"#, 400),
        (
            r#"{"resourceType": "Parameters", "parameter": [{"name": "everything", "valueBoolean": true}]}"#,
            422,
        ),
    ] {
        let (st, b, _) = s.send_text("POST", &path, Some(body), &[]);
        assert_eq!(st, want, "{body}: {b}");
        assert_outcome(&b, body);
    }
    assert_eq!(s.send("GET", &path, None, &[]).0, 405);
    assert_eq!(erase(&s, "not-a-uuid", &[]).0, 404);
    let (_, p) = s.get(&format!("/v1/patients/{patient}"));
    assert!(p.get("telecom").is_some(), "nothing was erased: {p}");
    // The same key twice: one erasure, the first answer replayed.
    let key = [("idempotency-key", "erase-once-1")];
    let (st1, first, _) = erase(&s, &patient, &key);
    let (st2, second, h2) = erase(&s, &patient, &key);
    assert_eq!((st1, st2), (200, 200), "{first} {second}");
    assert_eq!(first, second);
    assert_eq!(h2["idempotent-replayed"], "true");
    // US: 6 years from the last entry (2018-03-04): the record went.
    assert_eq!(first["parameter"][0]["valueCode"], "erased", "{first}");
}
