//! The signed-in spaces end to end: the edge's core (`NativeEdge`, the code both adapters
//! run) against a real regional-db and Postgres of this binary's own. Data is seeded through
//! the API (an API token through the same edge); sessions are minted here with the edge's
//! session keys, which is what sign-in does once it has checked a password.

mod common;

use std::sync::OnceLock;

use chrono::Utc;
use common::{Server, edge::NativeEdge, one_region::OneRegion, region};
use serde_json::{Value, json};
use telemed_shared::{
    accounts::Role,
    api::resources::charge_item_definition::CONSULTATION_TYPE_SYSTEM,
    auth::SigningKey,
    web::session::{Session, SessionKeys},
};

const SCOPES: &str = "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
                      system/Slot.cruds system/Appointment.cruds system/Observation.cruds \
                      system/Consent.cruds system/ChargeItemDefinition.cruds";
const CSRF: &str = "spaces-test-csrf-token-0123";

fn stack() -> &'static OneRegion {
    static STACK: OnceLock<OneRegion> = OnceLock::new();
    STACK.get_or_init(|| OneRegion::start("regional-db-pg-web-spaces"))
}

fn signer() -> SigningKey {
    stack().signer()
}

fn api_key() -> SigningKey {
    SigningKey::from_seed([9; 32])
}

fn api_token(slug: &str) -> String {
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    api_key()
        .sign_api(slug.parse().unwrap(), "spaces-seed", SCOPES, now, 300)
        .unwrap()
}

async fn create_clinic(slug: &str) {
    common::create_clinic_in_eu(&stack().url(), slug, "FR", None).await;
}

async fn serve() -> Server {
    stack().serve().await
}

/// A response, read.
struct Page {
    status: u16,
    location: String,
    cache_control: String,
    body: String,
}

struct Clinic<'e> {
    edge: &'e NativeEdge,
    slug: String,
}

impl Clinic<'_> {
    /// Creates a resource through the API; its id.
    async fn create(&self, path: &str, body: Value) -> String {
        let (status, answer, _) = self
            .edge
            .post(&self.slug, path, &api_token(&self.slug), &body.to_string())
            .await;
        assert_eq!(status, 201, "{path}: {answer}");
        answer["id"].as_str().unwrap().to_owned()
    }

    async fn api(&self, method: &str, path: &str) -> Value {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(format!("http://{}.localhost{path}", self.slug))
            .header("authorization", format!("Bearer {}", api_token(&self.slug)))
            .body(Vec::new())
            .unwrap();
        let r = self.edge.request(req).await.response;
        serde_json::from_slice(r.body()).unwrap()
    }

    async fn patient(&self, family: &str) -> String {
        let id = self
            .create(
                "/v1/patients",
                json!({"resourceType": "Patient", "name": [{"family": family, "given": ["Ana"]}],
                       "gender": "female", "birthDate": "1980-04-05"}),
            )
            .await;
        self.create(
            "/v1/consents",
            xtask::demo::consent_body(&id, "telemedicine", "2020-01-01"),
        )
        .await;
        id
    }

    async fn practitioner(&self, family: &str) -> String {
        self.create(
            "/v1/practitioners",
            json!({"resourceType": "Practitioner", "name": [{"prefix": ["Dr"], "family": family}]}),
        )
        .await
    }

    /// Slots of `practitioner` from yesterday to tomorrow (UTC), 08:00 to 10:00, 20 minutes:
    /// by day, in order.
    async fn slots(&self, practitioner: &str) -> Vec<String> {
        let schedule = self
            .create(
                "/fhir/R4/Schedule",
                json!({"resourceType": "Schedule", "active": true,
                       "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
            )
            .await;
        let day = |d: i64| {
            (Utc::now() + chrono::Duration::days(d))
                .format("%Y-%m-%d")
                .to_string()
        };
        let params = json!({"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": day(-1)}, {"name": "end", "valueDate": day(1)},
            {"name": "from", "valueTime": "08:00:00"}, {"name": "to", "valueTime": "10:00:00"},
            {"name": "slotMinutes", "valuePositiveInt": 20}, {"name": "timeZone", "valueCode": "UTC"},
            {"name": "day", "valueCode": "mon"}, {"name": "day", "valueCode": "tue"},
            {"name": "day", "valueCode": "wed"}, {"name": "day", "valueCode": "thu"},
            {"name": "day", "valueCode": "fri"}, {"name": "day", "valueCode": "sat"},
            {"name": "day", "valueCode": "sun"}]});
        let (status, made, _) = self
            .edge
            .post(
                &self.slug,
                &format!("/v1/schedules/{schedule}/$generate-slots"),
                &api_token(&self.slug),
                &params.to_string(),
            )
            .await;
        assert_eq!(status, 200, "{made}");
        let mut slots: Vec<(String, String)> = made["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["resource"]["start"].as_str().unwrap().to_owned(),
                    e["resource"]["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        slots.sort();
        assert_eq!(slots.len(), 18, "{made}");
        slots.into_iter().map(|(_, id)| id).collect()
    }

    async fn book(&self, slot: &str, patient: &str) -> String {
        self.book_as(slot, patient, "general").await
    }

    /// Books a consultation of type `kind` (the platform's consultation-type system).
    async fn book_as(&self, slot: &str, patient: &str, kind: &str) -> String {
        self.create(
            "/v1/appointments",
            json!({"resourceType": "Appointment", "status": "booked",
                   "serviceType": [{"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": kind}]}],
                   "slot": [{"reference": format!("Slot/{slot}")}],
                   "participant": [{"actor": {"reference": format!("Patient/{patient}")},
                                    "status": "accepted"}]}),
        )
        .await
    }

    /// The price of consultation type `kind`.
    async fn price(&self, kind: &str, value: &str) {
        let body: Value = serde_json::from_str(&format!(
            r#"{{"resourceType": "ChargeItemDefinition",
                 "url": "https://clinic.example/fhir/ChargeItemDefinition/{kind}",
                 "status": "active",
                 "code": {{"coding": [{{"system": "{CONSULTATION_TYPE_SYSTEM}", "code": "{kind}",
                                      "display": "General consultation"}}]}},
                 "propertyGroup": [{{"priceComponent": [{{"type": "base",
                     "amount": {{"value": {value}, "currency": "EUR"}}}}]}}]}}"#
        ))
        .unwrap();
        self.create("/v1/charge-item-definitions", body).await;
    }

    async fn reading(&self, patient: &str, n: u32, code: &str, at: &str, value: Value) {
        let loinc = "http://loinc.org";
        let ucum = "http://unitsofmeasure.org";
        let mut obs = json!({"resourceType": "Observation", "status": "final",
            "identifier": [{"system": "urn:dev:spaces", "value": format!("{patient}-{n}")}],
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": loinc, "code": code}]},
            "subject": {"reference": format!("Patient/{patient}")},
            "effectiveDateTime": at});
        if code == "85354-9" {
            obs["component"] = json!([
                {"code": {"coding": [{"system": loinc, "code": "8480-6"}]},
                 "valueQuantity": {"value": value[0], "unit": "mmHg", "system": ucum, "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": loinc, "code": "8462-4"}]},
                 "valueQuantity": {"value": value[1], "unit": "mmHg", "system": ucum, "code": "mm[Hg]"}}]);
        } else {
            let unit = if code == "29463-7" { "kg" } else { "mg/dL" };
            obs["valueQuantity"] =
                json!({"value": value, "unit": unit, "system": ucum, "code": unit});
        }
        self.create("/v1/observations", obs).await;
    }

    fn session(&self, role: Role, patient: Option<&str>, practitioner: Option<&str>) -> String {
        session_for(&self.slug, role, patient, practitioner)
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Page {
        self.send("GET", path, session, "").await
    }

    async fn post(&self, path: &str, session: &str, fields: &str) -> Page {
        let idem = fresh();
        self.send(
            "POST",
            path,
            Some(session),
            &format!("csrf={CSRF}&idem={idem}&{fields}"),
        )
        .await
    }

    async fn send(&self, method: &str, path: &str, session: Option<&str>, body: &str) -> Page {
        let mut b = axum::http::Request::builder()
            .method(method)
            .uri(format!("http://{}.localhost{path}", self.slug))
            .header("accept-language", "en");
        if let Some(s) = session {
            b = b.header("cookie", format!("session={s}"));
        }
        if method == "POST" {
            b = b.header("content-type", "application/x-www-form-urlencoded");
        }
        let r = self
            .edge
            .request(b.body(body.as_bytes().to_vec()).unwrap())
            .await
            .response;
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let page = Page {
            status: r.status().as_u16(),
            location: header("location"),
            cache_control: header("cache-control"),
            body: String::from_utf8_lossy(r.body()).replace(['\u{2068}', '\u{2069}'], ""),
        };
        assert_eq!(page.cache_control, "no-store", "{method} {path}");
        page
    }
}

/// A number never drawn before in this process (idempotency keys, account ids).
fn fresh() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + u64::try_from(Utc::now().timestamp_micros()).unwrap() * 1000
}

fn session_for(
    slug: &str,
    role: Role,
    patient: Option<&str>,
    practitioner: Option<&str>,
) -> String {
    let keys = SessionKeys::from_base64_list(common::edge::SESSION_KEYS).unwrap();
    let s = Session {
        tenant: slug.parse().unwrap(),
        region: region("eu-west"),
        account: uuid::Uuid::from_u128(u128::from(fresh())).to_string(),
        role,
        name: "Someone".into(),
        patient: patient.map(str::to_owned),
        practitioner: practitioner.map(str::to_owned),
        csrf: CSRF.into(),
    };
    keys.sign(&s, u64::try_from(Utc::now().timestamp()).unwrap())
        .unwrap()
}

#[tokio::test]
async fn patients_and_practitioners_see_and_change_only_their_own() {
    stack();
    let s = serve().await;
    let edge = NativeEdge::new(&s.base, &signer(), &api_key());
    create_clinic("spaces-fr").await;
    create_clinic("spaces-other").await;
    let c = Clinic {
        edge: &edge,
        slug: "spaces-fr".into(),
    };
    let dr = c.practitioner("Martin").await;
    let dr2 = c.practitioner("Other").await;
    let slots = c.slots(&dr).await;
    let (ana, bob, cleo) = (
        c.patient("Ana").await,
        c.patient("Bob").await,
        c.patient("Cleo").await,
    );
    // Yesterday (past), today, tomorrow: six slots a day.
    let past = c.book(&slots[0], &ana).await;
    let today = c.book(&slots[7], &ana).await;
    let upcoming = c.book(&slots[13], &ana).await;
    let bobs = c.book(&slots[14], &bob).await;
    // Bob's consultation today is of a type without a price.
    let unpriced = c.book_as(&slots[8], &bob, "dermatology").await;
    c.price("general", "45.00").await;
    let now = Utc::now();
    let at = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    c.reading(&ana, 1, "85354-9", &at(48), json!([128, 82]))
        .await;
    c.reading(&ana, 2, "85354-9", &at(24), json!([135, 88]))
        .await;
    c.reading(&ana, 3, "29463-7", &at(30), json!(71.5)).await;
    c.reading(&ana, 4, "29463-7", &at(6), json!(72.25)).await;
    c.reading(&ana, 5, "2339-0", &at(5), json!(104)).await;
    c.reading(&bob, 6, "29463-7", &at(5), json!(99.5)).await;

    // No session: to the sign-in form, and back after.
    let p = c.get("/patient", None).await;
    assert_eq!(p.status, 303);
    assert!(
        p.location.starts_with("/sign-in?next=%2Fpatient"),
        "{}",
        p.location
    );
    let p = c.get("/practitioner", None).await;
    assert_eq!(p.status, 303);
    // Another clinic's session is no session here.
    let foreign = session_for("spaces-other", Role::Patient, Some(&ana), None);
    assert_eq!(c.get("/patient", Some(&foreign)).await.status, 303);

    // Ana's space: her appointments and readings, not Bob's.
    let ana_s = c.session(Role::Patient, Some(&ana), None);
    let p = c.get("/patient", Some(&ana_s)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    for id in [&past, &today, &upcoming] {
        assert!(
            p.body.contains(&format!("/patient/appointments/{id}")),
            "{id}"
        );
    }
    assert!(!p.body.contains(&bobs));
    assert!(
        p.body
            .contains(&format!("/patient/appointments/{upcoming}/cancel"))
    );
    assert!(
        !p.body
            .contains(&format!("/patient/appointments/{past}/cancel"))
    );
    assert!(p.body.contains("Dr Martin"), "{}", p.body);
    assert_eq!(p.body.matches("<svg role=\"img\"").count(), 3, "{}", p.body);
    assert!(p.body.contains("latest 135 mmHg"), "{}", p.body);
    assert!(p.body.contains("latest 72.25 kg"), "{}", p.body);
    assert!(!p.body.contains("99.5"), "Bob's weight");
    assert!(p.body.contains("latest 104 mg/dL"), "{}", p.body);
    assert!(p.body.len() < 50_000, "{}", p.body.len());
    // In Arabic: right to left, but the charts' time still runs left to right.
    let p = c.get("/patient?locale=ar", Some(&ana_s)).await;
    assert!(p.body.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(p.body.contains(r#"direction="ltr""#));
    assert!(p.body.contains("ضغط الدم"), "{}", p.body);

    // Cancel: not Bob's (404), not a past one (409, nothing changed), hers once.
    let r = c
        .post(&format!("/patient/appointments/{bobs}/cancel"), &ana_s, "")
        .await;
    assert_eq!(r.status, 404);
    let r = c
        .post(&format!("/patient/appointments/{past}/cancel"), &ana_s, "")
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("can no longer be cancelled"), "{}", r.body);
    assert_eq!(
        c.api("GET", &format!("/v1/appointments/{past}")).await["status"],
        "booked"
    );
    let r = c
        .post(
            &format!("/patient/appointments/{upcoming}/cancel"),
            &ana_s,
            "",
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/patient?done=cancelled");
    assert_eq!(
        c.api("GET", &format!("/v1/appointments/{upcoming}")).await["status"],
        "cancelled"
    );
    assert_eq!(
        c.api("GET", &format!("/v1/slots/{}", slots[13])).await["status"],
        "free",
        "the slot is free again"
    );
    let p = c.get("/patient?done=cancelled", Some(&ana_s)).await;
    assert!(p.body.contains("has been cancelled"));
    let r = c
        .post(
            &format!("/patient/appointments/{upcoming}/cancel"),
            &ana_s,
            "",
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("Cancelled"), "{}", r.body);
    // Not a page of hers: malformed ids are 404, the practitioner's form is 403.
    let r = c
        .post("/patient/appointments/not-a-uuid/cancel", &ana_s, "")
        .await;
    assert_eq!(r.status, 404);
    let r = c
        .post(
            &format!("/practitioner/appointments/{today}/status"),
            &ana_s,
            "status=fulfilled",
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(c.get("/practitioner", Some(&ana_s)).await.status, 403);

    // The practitioner's day: today's appointment, Ana's name to her record.
    let dr_s = c.session(Role::Practitioner, None, Some(&dr));
    let p = c.get("/practitioner", Some(&dr_s)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains(&format!("/practitioner/patients/{ana}")),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains(&format!("/practitioner/appointments/{today}/status"))
    );
    assert!(!p.body.contains(&past), "yesterday's is not today's");
    let p = c
        .get(&format!("/practitioner/patients/{ana}"), Some(&dr_s))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<h1>Ana Ana</h1>"), "{}", p.body);
    assert!(p.body.contains("Apr 5, 1980"), "{}", p.body);
    assert_eq!(p.body.matches("<svg role=\"img\"").count(), 3);
    // Cleo has no appointment with him; Dr Other has none with Ana.
    let p = c
        .get(&format!("/practitioner/patients/{cleo}"), Some(&dr_s))
        .await;
    assert_eq!(p.status, 404);
    let dr2_s = c.session(Role::Practitioner, None, Some(&dr2));
    let p = c
        .get(&format!("/practitioner/patients/{ana}"), Some(&dr2_s))
        .await;
    assert_eq!(p.status, 404);
    let r = c
        .post(
            &format!("/practitioner/appointments/{today}/status"),
            &dr2_s,
            "status=arrived",
        )
        .await;
    assert_eq!(r.status, 404, "not his appointment");

    // Arrived, then fulfilled; then nonsense is refused with words, nothing changed.
    let status_path = format!("/practitioner/appointments/{today}/status");
    let r = c.post(&status_path, &dr_s, "status=bogus").await;
    assert_eq!(r.status, 422);
    let r = c.post(&status_path, &dr_s, "status=arrived").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/practitioner?done=arrived");
    let r = c.post(&status_path, &dr_s, "status=fulfilled").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        c.api("GET", &format!("/v1/appointments/{today}")).await["status"],
        "fulfilled"
    );
    let p = c.get("/practitioner?done=fulfilled", Some(&dr_s)).await;
    assert!(p.body.contains("is now “Fulfilled”"), "{}", p.body);
    // The invoice the fulfilment issued, in Ana's space: CLDR's English for France (en-FR,
    // the clinic's country) writes `45,00 €`.
    let p = c.get("/patient", Some(&ana_s)).await;
    let invoices =
        &p.body[p.body.find("My invoices").unwrap()..p.body.find("My readings").unwrap()];
    assert!(invoices.contains("General consultation"), "{invoices}");
    assert!(invoices.contains("45,00\u{a0}€"), "{invoices}");
    assert!(invoices.contains("To pay"), "{invoices}");
    // An unpriced consultation cannot be fulfilled: the page says why, nothing changes.
    let unpriced_path = format!("/practitioner/appointments/{unpriced}/status");
    assert_eq!(
        c.post(&unpriced_path, &dr_s, "status=arrived").await.status,
        303
    );
    let r = c.post(&unpriced_path, &dr_s, "status=fulfilled").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("has no price yet"), "{}", r.body);
    assert_eq!(
        c.api("GET", &format!("/v1/appointments/{unpriced}")).await["status"],
        "arrived"
    );
    let r = c.post(&status_path, &dr_s, "status=noshow").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("This change is not possible"), "{}", r.body);
    assert_eq!(
        c.api("GET", &format!("/v1/appointments/{today}")).await["status"],
        "fulfilled"
    );
    // A cancelled appointment cannot be fulfilled either.
    let r = c
        .post(
            &format!("/practitioner/appointments/{upcoming}/status"),
            &dr_s,
            "status=fulfilled",
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
}
