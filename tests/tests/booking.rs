//! Booking through both edges: schedules, slots generated from weekly availability
//! (DST-correct), appointments that take their slot in one transaction, concurrent
//! bookings with exactly one winner, the status transition table, and one clinic never
//! reaching another's schedules, slots or appointments.

use std::{sync::Barrier, thread};

use serde_json::{Value, json};
use telemed_e2e::{ApiAnswer, EDGES, Edge, Session, assert_outcome, fhir, new_clinic, token};

const SCOPES: &str = "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
                      system/Slot.cruds system/Appointment.cruds system/Consent.cruds";

/// One clinic on one edge, with a token for everything booking touches.
#[derive(Clone)]
struct Clinic {
    edge: Edge,
    slug: String,
    session: Session,
}

impl Clinic {
    fn new(edge: Edge, country: &str) -> Self {
        let slug = new_clinic("book", "Booking Clinic", country);
        let session = Session::new(edge, &slug, &token(&slug, SCOPES));
        Self {
            edge,
            slug,
            session,
        }
    }

    fn on(&self, edge: Edge) -> Self {
        Self {
            edge,
            slug: self.slug.clone(),
            session: self.session.on(edge),
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> ApiAnswer {
        self.session.send(method, path, body, extra)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (s, b, _) = self.call("GET", path, None, &[]);
        (s, b)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (s, b, _) = self.call("POST", path, Some(body), &[]);
        (s, b)
    }

    /// Creates and returns the id, asserting 201.
    fn create(&self, collection: &str, body: Value) -> String {
        let (s, b) = self.post(collection, &body);
        assert_eq!(s, 201, "{:?} POST {collection}: {b}", self.edge);
        b["id"].as_str().unwrap().to_owned()
    }

    /// A patient who agreed to teleconsultation (the consent booking needs here).
    fn patient(&self) -> String {
        let id = self.patient_without_consent();
        self.create(
            "/v1/consents",
            xtask::demo::consent_body(&id, "telemedicine", "2026-01-01"),
        );
        id
    }

    fn patient_without_consent(&self) -> String {
        self.create(
            "/v1/patients",
            json!({"resourceType": "Patient", "name": [{"family": "Booker", "given": ["Ana"]}],
                   "gender": "female", "birthDate": "1988-08-08"}),
        )
    }

    /// `n` free slots of a new practitioner on Monday 2026-12-14, 20 minutes each.
    fn free_slots(&self, n: usize) -> Vec<String> {
        let schedule = self.schedule(&self.practitioner());
        let (s, made) = self.generate(
            &schedule,
            availability(
                "2026-12-14",
                "2026-12-14",
                &["mon"],
                "09:00:00",
                "17:00:00",
                20,
                "UTC",
            ),
        );
        assert_eq!(s, 200, "{made}");
        ids(&made).into_iter().take(n).collect()
    }

    fn practitioner(&self) -> String {
        self.create(
            "/v1/practitioners",
            json!({"resourceType": "Practitioner", "name": [{"family": "Slotter"}]}),
        )
    }

    fn schedule(&self, practitioner: &str) -> String {
        self.create(
            "/fhir/R4/Schedule",
            json!({"resourceType": "Schedule", "active": true,
                   "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
        )
    }

    fn generate(&self, schedule: &str, availability: Value) -> (u16, Value) {
        self.post(
            &format!("/v1/schedules/{schedule}/$generate-slots"),
            &json!({"resourceType": "Parameters", "parameter": availability}),
        )
    }

    fn appointment(&self, slot: &str, patient: &str) -> Value {
        json!({"resourceType": "Appointment", "status": "booked",
               "slot": [{"reference": format!("Slot/{slot}")}],
               "participant": [{"actor": {"reference": format!("Patient/{patient}")},
                                "status": "accepted"}]})
    }

    fn book(&self, slot: &str, patient: &str) -> (u16, Value) {
        self.post("/v1/appointments", &self.appointment(slot, patient))
    }

    /// PUT of `appointment` with its status changed, `If-Match` its version.
    fn set_status(&self, appointment: &Value, status: &str) -> (u16, Value) {
        let mut changed = appointment.clone();
        changed["status"] = json!(status);
        let version = format!(
            "W/\"{}\"",
            appointment["meta"]["versionId"].as_str().unwrap()
        );
        let (s, b, _) = self.call(
            "PUT",
            &format!("/v1/appointments/{}", appointment["id"].as_str().unwrap()),
            Some(&changed),
            &[("if-match", &version)],
        );
        (s, b)
    }
}

fn availability(
    start: &str,
    end: &str,
    days: &[&str],
    from: &str,
    to: &str,
    minutes: u32,
    zone: &str,
) -> Value {
    let mut p = vec![
        json!({"name": "start", "valueDate": start}),
        json!({"name": "end", "valueDate": end}),
        json!({"name": "from", "valueTime": from}),
        json!({"name": "to", "valueTime": to}),
        json!({"name": "slotMinutes", "valuePositiveInt": minutes}),
        json!({"name": "timeZone", "valueCode": zone}),
    ];
    p.extend(days.iter().map(|d| json!({"name": "day", "valueCode": d})));
    Value::Array(p)
}

fn starts(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|e| e["resource"]["start"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The consent gate, end to end: where the policy gates teleconsultation with a consent,
/// booking is refused (403 naming the consent and its source, the slot left free) until
/// the patient's consent is recorded and in force, and again once it is revoked.
#[test]
fn booking_a_teleconsultation_needs_the_consent_the_policy_names() {
    for edge in EDGES {
        let c = Clinic::new(edge, "FR");
        let patient = c.patient_without_consent();
        let slots = c.free_slots(4);
        let refused = |slot: &str, why: &str| {
            let (s, b) = c.book(slot, &patient);
            assert_eq!(s, 403, "{edge:?} {why}: {b}");
            assert_outcome(&b, "forbidden");
            let text = b["issue"][0]["diagnostics"].as_str().unwrap();
            assert!(
                text.contains("\"telemedicine\"") && text.contains("R6316-2"),
                "{edge:?} {why}: names the consent and its source: {text}"
            );
            let (_, slot) = c.get(&format!("/v1/slots/{slot}"));
            assert_eq!(slot["status"], "free", "{edge:?} {why}: nothing taken");
        };
        refused(&slots[0], "no consent");
        // A consent that does not count: another code system, a refusal, not yet in force.
        let mut other_system = xtask::demo::consent_body(&patient, "telemedicine", "2026-01-01");
        other_system["category"][0]["coding"][0]["system"] = json!("urn:other:consents");
        let mut deny = xtask::demo::consent_body(&patient, "telemedicine", "2026-01-01");
        deny["provision"]["type"] = json!("deny");
        let future = xtask::demo::consent_body(&patient, "telemedicine", "2099-01-01");
        for body in [other_system, deny, future] {
            c.create("/v1/consents", body);
        }
        refused(&slots[0], "no consent in force");

        let consent = c.create(
            "/v1/consents",
            xtask::demo::consent_body(&patient, "telemedicine", "2026-01-01"),
        );
        let (s, booked) = c.book(&slots[0], &patient);
        assert_eq!(s, 201, "{edge:?} with the consent: {booked}");

        // Revoked: the next booking is refused.
        let (_, mut revoked) = c.get(&format!("/v1/consents/{consent}"));
        revoked["status"] = json!("inactive");
        let (s, b, _) = c.call(
            "PUT",
            &format!("/v1/consents/{consent}"),
            Some(&revoked),
            &[("if-match", "W/\"1\"")],
        );
        assert_eq!(s, 200, "{b}");
        refused(&slots[1], "revoked");
    }
    // Where the law gates no booking with a consent (HIPAA: treatment needs none), none is
    // asked; where the policy is the baseline, the refusal says the rule is not confirmed.
    let us = Clinic::new(EDGES[0], "US");
    let (patient, slots) = (us.patient_without_consent(), us.free_slots(1));
    let (s, b) = us.book(&slots[0], &patient);
    assert_eq!(s, 201, "US: {b}");
    let za = Clinic::new(EDGES[1], "ZA");
    let (patient, slots) = (za.patient_without_consent(), za.free_slots(1));
    let (s, b) = za.book(&slots[0], &patient);
    assert_eq!(s, 403, "ZA: {b}");
    assert!(
        b["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("not confirmed"),
        "{b}"
    );
}

#[test]
fn slots_from_availability_then_booking_on_both_edges() {
    for edge in EDGES {
        let c = Clinic::new(edge, "FR");
        let (patient, practitioner) = (c.patient(), c.practitioner());
        let schedule = c.schedule(&practitioner);
        // Two weeks of Monday and Wednesday mornings, 09:00–12:00 Paris time (UTC+1 in
        // December), 30-minute slots: 4 days × 6 slots.
        let week = availability(
            "2026-12-07",
            "2026-12-20",
            &["mon", "wed"],
            "09:00:00",
            "12:00:00",
            30,
            "Europe/Paris",
        );
        let (s, made) = c.generate(&schedule, week.clone());
        assert_eq!(s, 200, "{edge:?}: {made}");
        assert_eq!(made["type"], "collection");
        let made_starts = starts(&made);
        assert_eq!(made_starts.len(), 24, "{edge:?}: {made_starts:?}");
        assert_eq!(made_starts[0], "2026-12-07T08:00:00Z");
        assert_eq!(made_starts[5], "2026-12-07T10:30:00Z");
        assert_eq!(made_starts[6], "2026-12-09T08:00:00Z");
        assert_eq!(made["entry"][0]["resource"]["end"], "2026-12-07T08:30:00Z");
        assert_eq!(made["entry"][0]["resource"]["status"], "free");
        // Again over the same weeks: nothing new.
        let (s, again) = c.generate(&schedule, week);
        assert_eq!((s, starts(&again).len()), (200, 0), "{again}");

        // Search slots: by schedule, the schedule's practitioner, start range and status.
        let (s, b) = c.get(&format!(
            "/v1/slots?schedule=Schedule/{schedule}&_count=100"
        ));
        assert_eq!((s, b["total"].as_u64()), (200, Some(24)), "{b}");
        let (_, b) = c.get(&format!("/fhir/R4/Slot?practitioner={practitioner}&start=ge2026-12-09&start=lt2026-12-10&_count=100"));
        assert_eq!(b["total"], 6, "{b}");
        assert!(
            starts(&b).iter().all(|t| t.starts_with("2026-12-09")),
            "{b}"
        );
        let (_, b) = c.get("/v1/slots?start=2026-12-07T09:30:00%2B01:00");
        assert_eq!(starts(&b), ["2026-12-07T08:30:00Z"], "eq an instant: {b}");
        let (s, b) = c.get("/v1/slots?start=sa2026-12-07");
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["issue"][0]["expression"][0], "start");

        // Book the first slot: the appointment takes the slot's times, the slot is busy.
        let slot = made["entry"][0]["resource"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (s, appt) = c.book(&slot, &patient);
        assert_eq!(s, 201, "{edge:?}: {appt}");
        assert_eq!(
            (&appt["start"], &appt["end"], &appt["status"]),
            (
                &json!("2026-12-07T08:00:00Z"),
                &json!("2026-12-07T08:30:00Z"),
                &json!("booked")
            )
        );
        let (_, read_slot) = c.get(&format!("/v1/slots/{slot}"));
        assert_eq!(read_slot["status"], "busy", "{read_slot}");
        let (_, b) = c.get(&format!(
            "/v1/slots?schedule={schedule}&status=free&_count=100"
        ));
        assert_eq!(b["total"], 23);

        // The same slot again, through $book: 409, and nothing written.
        let (s, b) = c.post(
            &format!("/fhir/R4/Slot/{slot}/$book"),
            &json!({"resourceType": "Appointment", "status": "booked",
                    "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}]}),
        );
        assert_eq!(s, 409, "{edge:?}: {b}");
        assert_outcome(&b, "slot taken");
        assert!(
            b["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("no longer available"),
            "{b}"
        );
        let (_, b) = c.get(&format!("/v1/appointments?slot={slot}"));
        assert_eq!(b["total"], 1);

        // $book on a free slot works and names the slot from the URL.
        let second = made["entry"][1]["resource"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (s, booked) = c.post(
            &format!("/v1/slots/{second}/$book"),
            &json!({"resourceType": "Appointment", "status": "booked",
                    "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"},
                                    {"actor": {"reference": format!("Practitioner/{practitioner}")}, "status": "accepted"}]}),
        );
        assert_eq!(s, 201, "{booked}");
        assert_eq!(booked["slot"][0]["reference"], format!("Slot/{second}"));

        // Appointment search: patient, practitioner, date, status.
        for query in [
            format!("patient=Patient/{patient}"),
            format!("practitioner={practitioner}"),
            "date=2026-12-07".to_owned(),
            "date=ge2026-12-07T08:00:00Z&date=lt2026-12-07T09:00:00Z".to_owned(),
            "status=booked".to_owned(),
        ] {
            let (s, b) = c.get(&format!("/v1/appointments?{query}"));
            assert_eq!(
                (s, b["total"].as_u64()),
                (200, Some(2)),
                "{edge:?} {query}: {b}"
            );
        }
        let (_, b) = c.get("/v1/appointments?date=2026-12-08");
        assert_eq!(b["total"], 0);
    }
}

/// The table of status transitions, each answered as it should be, on both edges.
#[test]
fn status_transitions_are_enforced() {
    for edge in EDGES {
        let c = Clinic::new(edge, "SN");
        let (patient, practitioner) = (c.patient(), c.practitioner());
        let schedule = c.schedule(&practitioner);
        let (_, made) = c.generate(
            &schedule,
            availability(
                "2026-12-07",
                "2026-12-07",
                &["mon"],
                "08:00:00",
                "12:00:00",
                60,
                "Africa/Dakar",
            ),
        );
        let slots = ids(&made);
        assert_eq!(slots.len(), 4, "{made}");
        let book = |slot: &str| {
            let (s, b) = c.book(slot, &patient);
            assert_eq!(s, 201, "{b}");
            b
        };
        // booked → arrived → fulfilled; nothing after fulfilled; no way back.
        let a = book(&slots[0]);
        let (s, a) = c.set_status(&a, "arrived");
        assert_eq!(s, 200, "{a}");
        let (s, b) = c.set_status(&a, "booked");
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["issue"][0]["expression"][0], "Appointment.status");
        assert!(
            b["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("arrived -> booked"),
            "{b}"
        );
        let (s, a) = c.set_status(&a, "fulfilled");
        assert_eq!(s, 200, "{a}");
        for next in ["cancelled", "noshow", "arrived", "booked"] {
            let (s, b) = c.set_status(&a, next);
            assert_eq!(s, 422, "fulfilled -> {next}: {b}");
            assert!(
                b["issue"][0]["diagnostics"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("fulfilled -> {next}")),
                "{b}"
            );
        }
        // booked → noshow; the slot stays busy.
        let n = book(&slots[1]);
        let (s, n) = c.set_status(&n, "noshow");
        assert_eq!((s, &n["status"]), (200, &json!("noshow")), "{n}");
        let (_, slot) = c.get(&format!("/v1/slots/{}", slots[1]));
        assert_eq!(slot["status"], "busy");
        // booked → cancelled frees the slot, which can be booked again.
        let x = book(&slots[2]);
        let (s, x) = c.set_status(&x, "cancelled");
        assert_eq!(s, 200, "{x}");
        let (_, slot) = c.get(&format!("/v1/slots/{}", slots[2]));
        assert_eq!(slot["status"], "free", "{slot}");
        let again = book(&slots[2]);
        assert_eq!(again["status"], "booked");
        let (s, b) = c.set_status(&x, "booked");
        assert_eq!(s, 422, "cancelled -> booked: {b}");
        // A slot an appointment holds cannot be freed by hand.
        let mut freed = slot.clone();
        freed["status"] = json!("free");
        let (_, held) = c.get(&format!("/v1/slots/{}", slots[2]));
        freed["meta"] = held["meta"].clone();
        let (s, b, _) = c.call("PUT", &format!("/v1/slots/{}", slots[2]), Some(&freed), &[]);
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["issue"][0]["expression"][0], "Slot.status");
        // Created other than booked, or with a cancelationReason while booked: 422.
        let mut proposed = c.appointment(&slots[3], &patient);
        proposed["status"] = json!("proposed");
        let (s, b) = c.post("/v1/appointments", &proposed);
        assert_eq!(s, 422, "{b}");
        let mut reason = c.appointment(&slots[3], &patient);
        reason["cancelationReason"] = json!({"text": "x"});
        let (s, b) = c.post("/v1/appointments", &reason);
        assert_eq!(s, 422, "app-4: {b}");
        let (_, slot) = c.get(&format!("/v1/slots/{}", slots[3]));
        assert_eq!(slot["status"], "free", "refusals change nothing");
    }
}

/// N clients race for one slot: exactly one 201, N−1 409 OperationOutcomes — across both
/// edges at once. Then two overlapping slots of one practitioner (two schedules): once
/// one is booked, the other cannot be.
#[test]
fn concurrent_bookings_have_exactly_one_winner() {
    const N: usize = 16;
    let c = Clinic::new(Edge::Workers, "FR");
    let patient = c.patient();
    let practitioner = c.practitioner();
    let schedule = c.schedule(&practitioner);
    let (_, made) = c.generate(
        &schedule,
        availability(
            "2026-12-08",
            "2026-12-08",
            &["tue"],
            "14:00:00",
            "16:00:00",
            30,
            "Europe/Paris",
        ),
    );
    let slots = ids(&made);
    assert_eq!(slots.len(), 4);
    for slot in &slots[..2] {
        let barrier = Barrier::new(N);
        let statuses: Vec<(u16, Value)> = thread::scope(|s| {
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    let c = c.on(EDGES[i % 2]);
                    let (barrier, patient) = (&barrier, &patient);
                    s.spawn(move || {
                        barrier.wait();
                        c.book(slot, patient)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = statuses.iter().filter(|(s, _)| *s == 201).count();
        let lost: Vec<_> = statuses.iter().filter(|(s, _)| *s == 409).collect();
        assert_eq!((won, lost.len()), (1, N - 1), "{statuses:?}");
        for (_, b) in lost {
            assert_eq!(b["issue"][0]["code"], "conflict", "{b}");
        }
        let (_, b) = c.get(&format!("/v1/appointments?slot={slot}"));
        assert_eq!(b["total"], 1, "one appointment for the slot: {b}");
    }
    // A second schedule of the same practitioner, with a slot overlapping a booked one.
    let other = c.schedule(&practitioner);
    let (_, made) = c.generate(
        &other,
        availability(
            "2026-12-08",
            "2026-12-08",
            &["tue"],
            "14:15:00",
            "14:45:00",
            30,
            "Europe/Paris",
        ),
    );
    let overlapping = ids(&made);
    assert_eq!(overlapping.len(), 1);
    let (s, b) = c.book(&overlapping[0], &patient);
    assert_eq!(s, 409, "{b}");
    assert!(
        b["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("already has an appointment"),
        "{b}"
    );
}

#[test]
fn slot_generation_follows_daylight_saving_time() {
    for edge in EDGES {
        let c = Clinic::new(edge, "FR");
        let schedule = c.schedule(&c.practitioner());
        // 28 March 2027: Paris skips 02:00–03:00 (UTC+1 → UTC+2). 01:00–04:00 in 30 minutes
        // has no 02:00 nor 02:30 slot that day.
        let (s, b) = c.generate(
            &schedule,
            availability(
                "2027-03-28",
                "2027-03-28",
                &["sun"],
                "01:00:00",
                "04:00:00",
                30,
                "Europe/Paris",
            ),
        );
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            starts(&b),
            [
                "2027-03-28T00:00:00Z",
                "2027-03-28T00:30:00Z",
                "2027-03-28T01:00:00Z",
                "2027-03-28T01:30:00Z"
            ],
            "{edge:?}"
        );
        // 25 October 2026: 02:00–03:00 happens twice (UTC+2 → UTC+1). Six local times,
        // six distinct instants, each slot 30 real minutes.
        let (_, b) = c.generate(
            &schedule,
            availability(
                "2026-10-25",
                "2026-10-25",
                &["sun"],
                "01:00:00",
                "04:00:00",
                30,
                "Europe/Paris",
            ),
        );
        let got = starts(&b);
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(got[0], "2026-10-24T23:00:00Z");
        assert_eq!(got[5], "2026-10-25T02:30:00Z");
        // New York, same rules of its own: 8 March 2026 skips 02:00 local.
        let (_, b) = c.generate(
            &schedule,
            availability(
                "2026-03-08",
                "2026-03-08",
                &["sun"],
                "01:00:00",
                "04:00:00",
                60,
                "America/New_York",
            ),
        );
        assert_eq!(
            starts(&b),
            ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"],
            "{b}"
        );
        // Refusals, each named.
        let (s, b) = c.generate(
            &schedule,
            availability(
                "2026-12-07",
                "2026-12-07",
                &["mon"],
                "09:00:00",
                "10:00:00",
                30,
                "Mars/Olympus_Mons",
            ),
        );
        assert_eq!(s, 422, "{b}");
        assert!(
            b["issue"][0]["expression"][0]
                .as_str()
                .unwrap()
                .contains("timeZone"),
            "{b}"
        );
        let (s, b) = c.generate(
            "00000000-0000-4000-8000-000000000000",
            availability(
                "2026-12-07",
                "2026-12-07",
                &["mon"],
                "09:00:00",
                "10:00:00",
                30,
                "Europe/Paris",
            ),
        );
        assert_eq!(s, 404, "{b}");
        let (s, b) = c.generate(
            &schedule,
            availability(
                "2026-12-07",
                "2027-06-07",
                &["mon"],
                "09:00:00",
                "10:00:00",
                30,
                "Europe/Paris",
            ),
        );
        assert_eq!(s, 422, "more than 92 days: {b}");
        let (s, b) = c.post(
            &format!("/v1/schedules/{schedule}/$generate-slots"),
            &json!({"resourceType": "Patient"}),
        );
        assert_eq!(s, 400, "{b}");
        let (s, b) = c.post(&format!("/v1/schedules/{schedule}/$nothing"), &json!({}));
        assert_eq!(s, 404, "{b}");
        // Scopes: generating slots creates Slots.
        let narrow = token(&c.slug, "system/Schedule.cruds");
        let (s, b, _) = fhir(
            edge,
            "POST",
            &c.slug,
            &format!("/v1/schedules/{schedule}/$generate-slots"),
            Some(&narrow),
            Some(&json!({"resourceType": "Parameters", "parameter": availability("2026-12-07", "2026-12-07", &["mon"], "09:00:00", "10:00:00", 30, "Europe/Paris")}).to_string()),
            &[],
        );
        assert_eq!(s, 403, "{b}");
    }
}

/// Every booking resource and parameter, tried from another clinic: the answers are those
/// of ids that do not exist, and nothing of clinic A changes.
#[test]
fn one_clinic_never_reaches_anothers_booking() {
    for edge in EDGES {
        let a = Clinic::new(edge, "FR");
        let b = Clinic::new(edge, "FR");
        let (pa, dra) = (a.patient(), a.practitioner());
        let sched_a = a.schedule(&dra);
        let (_, made) = a.generate(
            &sched_a,
            availability(
                "2026-12-07",
                "2026-12-07",
                &["mon"],
                "09:00:00",
                "10:00:00",
                30,
                "Europe/Paris",
            ),
        );
        let slots_a = ids(&made);
        let (_, appt_a) = a.book(&slots_a[0], &pa);
        let appt_a = appt_a["id"].as_str().unwrap().to_owned();
        let pb = b.patient();
        let unknown = "00000000-0000-4000-8000-000000000000";

        // Reads and searches from B see nothing of A.
        for path in [
            format!("/v1/schedules/{sched_a}"),
            format!("/v1/slots/{}", slots_a[1]),
            format!("/v1/appointments/{appt_a}"),
        ] {
            assert_eq!(b.get(&path).0, 404, "{edge:?} {path}");
        }
        for query in [
            format!("/v1/slots?schedule={sched_a}"),
            format!("/v1/slots?practitioner={dra}"),
            format!("/v1/slots?_id={}", slots_a[1]),
            format!("/v1/schedules?actor=Practitioner/{dra}"),
            format!("/v1/appointments?patient={pa}"),
            format!("/v1/appointments?slot={}", slots_a[0]),
            "/v1/appointments?date=2026-12-07".to_owned(),
        ] {
            let (s, body) = b.get(&query);
            assert_eq!(
                (s, body["total"].as_u64()),
                (200, Some(0)),
                "{edge:?} {query}: {body}"
            );
        }
        // Writes from B naming A's resources answer like unknown ids.
        let same = |x: (u16, Value), y: (u16, Value), what: &str| {
            assert_eq!(x.0, y.0, "{edge:?} {what}: {} / {}", x.1, y.1);
            assert_eq!(
                x.1["issue"][0]["diagnostics"], y.1["issue"][0]["diagnostics"],
                "{what}"
            );
        };
        same(
            b.book(&slots_a[1], &pb),
            b.book(unknown, &pb),
            "book A's slot",
        );
        same(
            b.post(&format!("/v1/slots/{}/$book", slots_a[1]), &json!({"resourceType": "Appointment", "status": "booked", "participant": [{"actor": {"reference": format!("Patient/{pb}")}, "status": "accepted"}]})),
            b.post(&format!("/v1/slots/{unknown}/$book"), &json!({"resourceType": "Appointment", "status": "booked", "participant": [{"actor": {"reference": format!("Patient/{pb}")}, "status": "accepted"}]})),
            "$book A's slot",
        );
        let week = availability(
            "2026-12-14",
            "2026-12-14",
            &["mon"],
            "09:00:00",
            "10:00:00",
            30,
            "Europe/Paris",
        );
        same(
            b.generate(&sched_a, week.clone()),
            b.generate(unknown, week),
            "generate on A's schedule",
        );
        same(
            b.post("/v1/schedules", &json!({"resourceType": "Schedule", "actor": [{"reference": format!("Practitioner/{dra}")}]})),
            b.post("/v1/schedules", &json!({"resourceType": "Schedule", "actor": [{"reference": format!("Practitioner/{unknown}")}]})),
            "schedule for A's practitioner",
        );
        let slot_for = |schedule: &str| json!({"resourceType": "Slot", "schedule": {"reference": format!("Schedule/{schedule}")}, "status": "free", "start": "2026-12-21T09:00:00Z", "end": "2026-12-21T09:30:00Z"});
        same(
            b.post("/v1/slots", &slot_for(&sched_a)),
            b.post("/v1/slots", &slot_for(unknown)),
            "slot on A's schedule",
        );
        // B books its own slot for A's patient: refused like an unknown patient.
        let sched_b = b.schedule(&b.practitioner());
        let (_, made_b) = b.generate(
            &sched_b,
            availability(
                "2026-12-07",
                "2026-12-07",
                &["mon"],
                "09:00:00",
                "10:00:00",
                30,
                "Europe/Paris",
            ),
        );
        let slots_b = ids(&made_b);
        same(
            b.book(&slots_b[0], &pa),
            b.book(&slots_b[0], unknown),
            "A's patient",
        );
        // A versioned update of A's appointment from B.
        let mut over = a.appointment(&slots_a[0], &pa);
        over["id"] = json!(appt_a);
        over["status"] = json!("cancelled");
        let (s, body, _) = b.call(
            "PUT",
            &format!("/v1/appointments/{appt_a}"),
            Some(&over),
            &[("if-match", "W/\"1\"")],
        );
        assert_eq!(s, 404, "{body}");
        // A's data is as it was.
        let (_, still) = a.get(&format!("/v1/appointments/{appt_a}"));
        assert_eq!(
            (&still["status"], &still["meta"]["versionId"]),
            (&json!("booked"), &json!("1"))
        );
        let (_, slot) = a.get(&format!("/v1/slots/{}", slots_a[1]));
        assert_eq!(slot["status"], "free");
    }
}
