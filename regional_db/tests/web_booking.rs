//! The booking journey's pages end to end: the edge's core (`common::edge::NativeEdge`, the
//! code both adapters run) against a real `regional-db` and Postgres of this binary's own.
//! A French clinic with a practitioner, a schedule and free slots (seeded through the API):
//! the home page, the practitioner's page, the booking form (refused next to the field when
//! a required detail or the consent is missing, with nothing written), a new patient's
//! booking (303, a session, the confirmation and its calendar file), the same slot posted
//! by someone else (409 with the other slots), a signed-in patient's booking, and another
//! patient's confirmation (404).

mod common;

use std::sync::OnceLock;

use chrono::Utc;
use common::{
    Server,
    edge::NativeEdge,
    one_region::{EU, OneRegion},
    region,
};
use serde_json::{Value, json};
use telemed_shared::{
    accounts::Role,
    api::resources::charge_item_definition::CONSULTATION_TYPE_SYSTEM,
    auth::SigningKey,
    web::session::{Session, SessionKeys},
};

fn stack() -> &'static OneRegion {
    static STACK: OnceLock<OneRegion> = OnceLock::new();
    STACK.get_or_init(|| OneRegion::start("regional-db-pg-web-booking"))
}

fn signer() -> SigningKey {
    stack().signer()
}

fn api_key() -> SigningKey {
    SigningKey::from_seed([9; 32])
}

fn api_token(slug: &str, scope: &str) -> String {
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    api_key()
        .sign_api(slug.parse().unwrap(), "booking-test", scope, now, 300)
        .unwrap()
}

async fn serve() -> Server {
    stack().serve().await
}

async fn create_clinic(slug: &str, country: &str) {
    common::create_clinic_in_eu(&stack().url(), slug, country, None).await;
}

/// SQL in a clinic's schema.
fn in_clinic(slug: &str, sql: &str) -> String {
    let schema = format!("tenant_{}", slug.replace('-', "_"));
    stack()
        .cluster
        .psql(EU, &format!("SET search_path TO {schema}; {sql}"))
        .unwrap()
        .trim()
        .to_owned()
}

fn count(slug: &str, table: &str) -> i64 {
    in_clinic(slug, &format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

/// A page's answer: status, headers, body as text.
struct Page {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    /// The value of a hidden input of the page's form.
    fn hidden(&self, name: &str) -> String {
        let marker = format!(r#"name="{name}" value=""#);
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
            + marker.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }

    /// The value a `Set-Cookie` gives `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                let first = c.split(';').next()?;
                let (k, v) = first.split_once('=')?;
                (k == name).then(|| v.to_owned())
            })
    }
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

async fn page(
    edge: &NativeEdge,
    slug: &str,
    method: &str,
    path: &str,
    cookies: &str,
    form: Option<&[(&str, &str)]>,
) -> Page {
    let mut b = axum::http::Request::builder()
        .method(method)
        .uri(format!("http://{slug}.localhost{path}"))
        .header("accept-language", "fr");
    if !cookies.is_empty() {
        b = b.header("cookie", cookies);
    }
    let body = match form {
        Some(pairs) => {
            b = b
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin");
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        }
        None => Vec::new(),
    };
    let before = edge.host.calls.get();
    let r = edge.request(b.body(body).unwrap()).await.response;
    assert!(
        edge.host.calls.get() - before <= 3,
        "{method} {path}: the directory and at most two batches"
    );
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: String::from_utf8(r.body().clone()).unwrap(),
    }
}

async fn api_create(edge: &NativeEdge, slug: &str, plural: &str, body: Value) -> String {
    let scope = "system/Practitioner.c system/Schedule.c system/Slot.c system/Patient.c system/Consent.c \
         system/ChargeItemDefinition.c";
    let (st, answer, _) = edge
        .post(
            slug,
            &format!("/v1/{plural}"),
            &api_token(slug, scope),
            &body.to_string(),
        )
        .await;
    assert_eq!(st, 201, "{plural}: {answer}");
    answer["id"].as_str().unwrap().to_owned()
}

/// A practitioner with a schedule and `n` free slots, an hour apart from tomorrow.
async fn seed(edge: &NativeEdge, slug: &str, n: usize) -> (String, Vec<String>) {
    let practitioner = api_create(
        edge,
        slug,
        "practitioners",
        json!({"resourceType": "Practitioner", "active": true,
               "name": [{"family": "Durand", "given": ["Claire"], "prefix": ["Dr"]}],
               "qualification": [{"code": {"text": "Médecine générale"}}]}),
    )
    .await;
    let schedule = api_create(
        edge,
        slug,
        "schedules",
        json!({"resourceType": "Schedule", "active": true,
               "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
    )
    .await;
    let tomorrow = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let mut slots = Vec::new();
    for i in 0..n {
        let start = format!("{tomorrow}T{:02}:00:00Z", 8 + i);
        let end = format!("{tomorrow}T{:02}:30:00Z", 8 + i);
        slots.push(
            api_create(
                edge,
                slug,
                "slots",
                json!({"resourceType": "Slot", "status": "free",
                       "schedule": {"reference": format!("Schedule/{schedule}")},
                       "start": start, "end": end}),
            )
            .await,
        );
    }
    (practitioner, slots)
}

/// The booking form of `slot`: its hidden fields, and the cookie that goes with them.
async fn form_of(
    edge: &NativeEdge,
    slug: &str,
    slot: &str,
    cookies: &str,
) -> (String, String, String) {
    let p = page(edge, slug, "GET", &format!("/book/{slot}"), cookies, None).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let cookie = match p.cookie("csrf") {
        Some(c) => format!("csrf={c}"),
        None => cookies.to_owned(),
    };
    (p.hidden("csrf"), p.hidden("idem"), cookie)
}

fn details<'a>(csrf: &'a str, idem: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("idem", idem),
        ("given", "Léa"),
        ("family", "Martin"),
        ("birth_date", "1991-04-02"),
        ("gender", "female"),
        ("email", email),
        ("password", "correct horse battery"),
        ("consent", "telemedicine"),
    ]
}

fn without<'a>(form: &[(&'a str, &'a str)], field: &str) -> Vec<(&'a str, &'a str)> {
    form.iter().copied().filter(|(k, _)| *k != field).collect()
}

/// The public pages: the home lists the practitioner with a link to their page, which
/// offers the free slots soonest first; unknown ids are the localized 404.
#[tokio::test]
async fn the_home_and_the_practitioners_page_lead_to_the_free_slots() {
    stack();
    let s = serve().await;
    let edge = NativeEdge::new(&s.base, &signer(), &api_key());
    let slug = "book-pages-fr";
    create_clinic(slug, "FR").await;
    let (practitioner, slots) = seed(&edge, slug, 3).await;
    api_create(
        &edge,
        slug,
        "charge-item-definitions",
        json!({"resourceType": "ChargeItemDefinition",
               "url": "https://clinic.example/fhir/ChargeItemDefinition/general",
               "status": "active",
               "code": {"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": "general",
                                    "display": "Consultation générale"}]},
               "propertyGroup": [{"priceComponent": [{"type": "base",
                   "amount": {"value": 1234.5, "currency": "EUR"}}]}]}),
    )
    .await;

    let before = edge.host.calls.get();
    let home = page(&edge, slug, "GET", "/", "", None).await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert_eq!(
        edge.host.calls.get() - before,
        1,
        "a miss (no edge cache here): one batch, the region answering the clinic's entry with it"
    );
    assert!(home.body.contains("Dr Claire Durand"), "{}", home.body);
    assert!(home.body.contains("Médecine générale"));
    assert!(
        home.body
            .contains("<th scope=\"row\">Consultation générale</th><td class=\"amount\">1\u{202f}234,50\u{a0}€"),
        "the price in French: {}",
        home.body
    );
    assert!(
        home.body.contains(&format!(
            r#"class="book" href="/practitioners/{practitioner}""#
        )),
        "the booking link leads to the only practitioner"
    );

    let p = page(
        &edge,
        slug,
        "GET",
        &format!("/practitioners/{practitioner}"),
        "",
        None,
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        p.headers["cache-control"], "no-store",
        "dynamic: never cached"
    );
    let at = |id: &str| {
        p.body
            .find(&format!("/book/{id}"))
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert!(
        at(&slots[0]) < at(&slots[1]) && at(&slots[1]) < at(&slots[2]),
        "soonest first"
    );
    assert!(p.body.contains("UTC"));

    for bad in ["not-a-uuid", "00000000-0000-4000-8000-00000000beef"] {
        let p = page(
            &edge,
            slug,
            "GET",
            &format!("/practitioners/{bad}"),
            "",
            None,
        )
        .await;
        assert_eq!(p.status, 404, "{bad}");
        assert!(p.body.contains(r#"lang="fr""#));
        let p = page(&edge, slug, "GET", &format!("/book/{bad}"), "", None).await;
        assert_eq!(p.status, 404, "{bad}");
    }
}

/// A new patient books: refused next to the field (422) when a required detail or the
/// consent is missing, with nothing written; then booked in one batch, signed in, shown the
/// confirmation and given the calendar file. Someone else posting the same slot gets the
/// other slots (409), never an error page; another patient never sees the appointment.
#[tokio::test]
async fn a_new_patient_books_a_slot_once_and_a_second_visitor_gets_the_other_slots() {
    stack();
    let s = serve().await;
    let edge = NativeEdge::new(&s.base, &signer(), &api_key());
    let slug = "book-new-fr";
    create_clinic(slug, "FR").await;
    let (_, slots) = seed(&edge, slug, 3).await;

    let form = page(&edge, slug, "GET", &format!("/book/{}", slots[0]), "", None).await;
    assert_eq!(form.status, 200, "{}", form.body);
    for field in [
        "f-given",
        "f-family",
        "f-birth_date",
        "f-gender",
        "f-national_id",
        "f-email",
        "f-password",
        "f-consent-0",
    ] {
        assert!(form.body.contains(&format!(r#"id="{field}""#)), "{field}");
    }
    let (csrf, idem, cookie) = form_of(&edge, slug, &slots[0], "").await;
    // A second visitor opens the same form now, and posts later.
    let (csrf2, idem2, cookie2) = form_of(&edge, slug, &slots[0], "").await;

    // A required field missing: 422, the message next to it, nothing written.
    let full = details(&csrf, &idem, "lea.martin@example.fr");
    let p = page(
        &edge,
        slug,
        "POST",
        &format!("/book/{}", slots[0]),
        &cookie,
        Some(&without(&full, "family")),
    )
    .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains(r#"id="f-family-error">Saisissez votre nom de naissance."#),
        "{}",
        p.body
    );
    assert!(p.body.contains(r#"aria-describedby="f-family-error""#));
    // The consent not given: refused next to the box.
    let p = page(
        &edge,
        slug,
        "POST",
        &format!("/book/{}", slots[0]),
        &cookie,
        Some(&without(&full, "consent")),
    )
    .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains(r#"id="f-consent-error""#), "{}", p.body);
    assert!(p.body.contains("téléconsultation"));
    // A bad NIR: refused next to its field.
    let mut bad_nir = full.clone();
    bad_nir.push(("national_id", "123"));
    let p = page(
        &edge,
        slug,
        "POST",
        &format!("/book/{}", slots[0]),
        &cookie,
        Some(&bad_nir),
    )
    .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains(r#"id="f-national_id-error""#), "{}", p.body);
    for table in ["patients", "consents", "appointments"] {
        assert_eq!(count(slug, table), 0, "{table}: nothing written");
    }

    // Valid: one batch, 303 to the confirmation, a session.
    let p = page(
        &edge,
        slug,
        "POST",
        &format!("/book/{}", slots[0]),
        &cookie,
        Some(&full),
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let location = p.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/patient/appointments/"), "{location}");
    let session = p.cookie("session").expect("a session for the new patient");
    let signed_in = format!("session={session}");
    assert_eq!(count(slug, "patients"), 1);
    assert_eq!(count(slug, "appointments"), 1);
    assert_eq!(
        in_clinic(
            slug,
            &format!("SELECT status FROM slots WHERE id = '{}'", slots[0])
        ),
        "busy"
    );

    let c = page(&edge, slug, "GET", &location, &signed_in, None).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert!(c.body.contains("Dr Claire Durand"), "{}", c.body);
    assert!(c.body.contains(&format!("{location}.ics")));
    let ics = page(
        &edge,
        slug,
        "GET",
        &format!("{location}.ics"),
        &signed_in,
        None,
    )
    .await;
    assert_eq!(ics.status, 200, "{}", ics.body);
    assert_eq!(ics.headers["content-type"], "text/calendar; charset=utf-8");
    assert!(
        ics.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let unfolded = ics.body.replace("\r\n ", "");
    for line in ics.body.split("\r\n") {
        assert!(line.len() <= 75, "{line}");
    }
    assert!(unfolded.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(unfolded.contains("BEGIN:VEVENT\r\n"));
    let tomorrow = (Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .format("%Y%m%d");
    assert!(
        unfolded.contains(&format!("DTSTART:{tomorrow}T080000Z\r\n")),
        "{unfolded}"
    );
    assert!(unfolded.contains(&format!("DTEND:{tomorrow}T083000Z\r\n")));
    assert!(unfolded.contains("SUMMARY:Téléconsultation avec Dr Claire Durand"));
    assert!(unfolded.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));

    // The second visitor posts the slot that was just taken: 409, the other slots.
    let other = details(&csrf2, &idem2, "hugo.bernard@example.fr");
    let p = page(
        &edge,
        slug,
        "POST",
        &format!("/book/{}", slots[0]),
        &cookie2,
        Some(&other),
    )
    .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("vient d&#39;être réservé"), "{}", p.body);
    assert!(p.body.contains(&format!("/book/{}", slots[1])));
    assert!(p.body.contains(&format!("/book/{}", slots[2])));
    assert_eq!(
        count(slug, "patients"),
        1,
        "nothing of the refused booking stays"
    );

    // Without a session: to the sign-in page. Another patient: the 404 of no appointment.
    let p = page(&edge, slug, "GET", &location, "", None).await;
    assert_eq!(p.status, 303);
    let stranger = patient_session(slug, "00000000-0000-4000-8000-0000000000aa");
    let p = page(&edge, slug, "GET", &location, &stranger, None).await;
    assert_eq!(p.status, 404);
    let p = page(
        &edge,
        slug,
        "GET",
        &format!("{location}.ics"),
        &stranger,
        None,
    )
    .await;
    assert_eq!(p.status, 404);
}

/// A session cookie for a patient of `slug` (the native edge's session keys are known).
fn patient_session(slug: &str, patient: &str) -> String {
    let keys = SessionKeys::from_base64_list(common::edge::SESSION_KEYS).unwrap();
    let session = Session {
        tenant: slug.parse().unwrap(),
        region: region("eu-west"),
        account: "00000000-0000-4000-8000-00000000a11c".into(),
        role: Role::Patient,
        name: "Awa Diallo".into(),
        patient: Some(patient.into()),
        practitioner: None,
        csrf: "a-session-csrf-secret-0123456789".into(),
    };
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    format!("session={}", keys.sign(&session, now).unwrap())
}

/// A signed-in patient books with their own Patient: only the consent is asked, and the
/// write is the Consent and the Appointment.
#[tokio::test]
async fn a_signed_in_patient_books_with_their_patient() {
    stack();
    let s = serve().await;
    let edge = NativeEdge::new(&s.base, &signer(), &api_key());
    let slug = "book-signed-fr";
    create_clinic(slug, "FR").await;
    let (_, slots) = seed(&edge, slug, 2).await;
    let patient = api_create(
        &edge,
        slug,
        "patients",
        json!({"resourceType": "Patient", "name": [{"family": "Diallo", "given": ["Awa"]}],
               "birthDate": "1990-01-01", "gender": "female"}),
    )
    .await;
    let cookie = patient_session(slug, &patient);
    let form = page(
        &edge,
        slug,
        "GET",
        &format!("/book/{}", slots[1]),
        &cookie,
        None,
    )
    .await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        !form.body.contains(r#"id="f-email""#),
        "no details for a signed-in patient"
    );
    assert!(form.body.contains("Awa Diallo"));
    let (csrf, idem) = (form.hidden("csrf"), form.hidden("idem"));
    let path = format!("/book/{}", slots[1]);
    // The consent box not ticked: refused next to it.
    let p = page(
        &edge,
        slug,
        "POST",
        &path,
        &cookie,
        Some(&[("csrf", &csrf), ("idem", &idem)]),
    )
    .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains(r#"id="f-consent-error""#));
    assert_eq!(count(slug, "appointments"), 0);
    let posted = [
        ("csrf", csrf.as_str()),
        ("idem", idem.as_str()),
        ("consent", "telemedicine"),
    ];
    let p = page(&edge, slug, "POST", &path, &cookie, Some(&posted)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    // Posted twice (a double click): written once, the same confirmation.
    let again = page(&edge, slug, "POST", &path, &cookie, Some(&posted)).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(again.headers["location"], p.headers["location"]);
    assert_eq!(count(slug, "appointments"), 1);
    assert_eq!(count(slug, "consents"), 1);
    let c = page(
        &edge,
        slug,
        "GET",
        p.headers["location"].to_str().unwrap(),
        &cookie,
        None,
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert!(c.body.contains("Votre rendez-vous est confirmé"));
}
