//! The public booking journey through both edges: the home page lists the practitioner,
//! their page offers the free slots, the booking form refuses a missing detail next to the
//! field (422, nothing written), a valid booking creates the patient, their consent, the
//! appointment and their account in one batch and signs them in (303), the confirmation
//! and its calendar file follow, and someone else posting the same slot gets the other
//! slots (409) — never an error page.

use reqwest::blocking::Response;
use serde_json::{Value, json};
use telemed_e2e::{EDGES, Edge, Session, headers, new_clinic, now_secs, token};
use telemed_shared::fhir::datatypes::civil_date;

const SCOPES: &str = "system/Practitioner.c system/Schedule.c system/Slot.c";

/// The value a `Set-Cookie` of `r` gives `name`.
fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            let (k, v) = c.split(';').next()?.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// The value of a hidden input of a page's form.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        + marker.len();
    body[at..].split('"').next().unwrap().to_owned()
}

fn get(edge: Edge, host: &str, path: &str, cookie: &str) -> Response {
    let mut h = vec![("accept-language", "fr")];
    if !cookie.is_empty() {
        h.push(("cookie", cookie));
    }
    edge.get(host, path, &h)
}

fn post_form(
    edge: Edge,
    host: &str,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    edge.request(
        "POST",
        host,
        path,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", cookie),
            ("accept-language", "fr"),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(&body),
    )
}

/// The booking form of `path`: its CSRF token, idempotency key and the cookie to send.
fn form(edge: Edge, host: &str, path: &str) -> (String, String, String) {
    let r = get(edge, host, path, "");
    assert_eq!(r.status(), 200, "{edge:?} GET {path}");
    let cookie = format!("csrf={}", set_cookie(&r, "csrf").expect("a csrf cookie"));
    let body = r.text().unwrap();
    (hidden(&body, "csrf"), hidden(&body, "idem"), cookie)
}

fn create(api: &Session, collection: &str, body: Value) -> String {
    let (s, b) = api.post(collection, &body);
    assert_eq!(s, 201, "POST {collection}: {b}");
    b["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_patient_books_online_and_a_second_visitor_gets_the_other_slots() {
    for edge in EDGES {
        let slug = new_clinic("webbook", "Clinique Réservation", "FR");
        let host = edge.host_for(&slug);
        let api = Session::new(edge, &slug, &token(&slug, SCOPES));
        let practitioner = create(
            &api,
            "/v1/practitioners",
            json!({"resourceType": "Practitioner", "active": true,
                   "name": [{"family": "Durand", "given": ["Claire"], "prefix": ["Dr"]}],
                   "qualification": [{"code": {"text": "Médecine générale"}}]}),
        );
        let schedule = create(
            &api,
            "/v1/schedules",
            json!({"resourceType": "Schedule", "active": true,
                   "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
        );
        let day = civil_date((now_secs() + 2 * 86_400) * 1000);
        let slots: Vec<String> = (0..3)
            .map(|i| {
                create(
                    &api,
                    "/v1/slots",
                    json!({"resourceType": "Slot", "status": "free",
                           "schedule": {"reference": format!("Schedule/{schedule}")},
                           "start": format!("{day}T{:02}:00:00Z", 9 + i),
                           "end": format!("{day}T{:02}:30:00Z", 9 + i)}),
                )
            })
            .collect();

        let home = get(edge, &host, "/", "");
        assert_eq!(home.status(), 200, "{edge:?}");
        let body = home.text().unwrap();
        assert!(body.contains("Dr Claire Durand"), "{edge:?}: {body}");
        assert!(body.contains(&format!("/practitioners/{practitioner}")));

        let p = get(edge, &host, &format!("/practitioners/{practitioner}"), "");
        assert_eq!(p.status(), 200, "{edge:?}");
        assert_eq!(headers(&p)["cache-control"], "no-store");
        let body = p.text().unwrap();
        for s in &slots {
            assert!(body.contains(&format!("/book/{s}")), "{edge:?}: {body}");
        }
        assert_eq!(
            get(edge, &host, "/practitioners/not-an-id", "").status(),
            404
        );

        let path = format!("/book/{}", slots[0]);
        let (csrf, idem, cookie) = form(edge, &host, &path);
        let (csrf2, idem2, cookie2) = form(edge, &host, &path);
        let email = format!("lea.martin+{slug}@example.fr");
        let full: Vec<(&str, &str)> = vec![
            ("csrf", &csrf),
            ("idem", &idem),
            ("given", "Léa"),
            ("family", "Martin"),
            ("birth_date", "1991-04-02"),
            ("gender", "female"),
            ("email", &email),
            ("password", "correct horse battery"),
            ("consent", "telemedicine"),
        ];
        let missing: Vec<(&str, &str)> = full
            .iter()
            .copied()
            .filter(|(k, _)| *k != "family")
            .collect();
        let r = post_form(edge, &host, &path, &cookie, &missing);
        assert_eq!(r.status(), 422, "{edge:?}");
        assert!(r.text().unwrap().contains(r#"id="f-family-error""#));
        let unconsented: Vec<(&str, &str)> = full
            .iter()
            .copied()
            .filter(|(k, _)| *k != "consent")
            .collect();
        let r = post_form(edge, &host, &path, &cookie, &unconsented);
        assert_eq!(r.status(), 422, "{edge:?}");
        assert!(r.text().unwrap().contains(r#"id="f-consent-error""#));

        let r = post_form(edge, &host, &path, &cookie, &full);
        assert_eq!(
            r.status(),
            303,
            "{edge:?}: {}",
            r.text().unwrap_or_default()
        );
        let location = headers(&r)["location"].clone();
        assert!(location.starts_with("/patient/appointments/"), "{location}");
        let session = format!("session={}", set_cookie(&r, "session").expect("signed in"));

        let c = get(edge, &host, &location, &session);
        assert_eq!(c.status(), 200, "{edge:?}");
        assert!(c.text().unwrap().contains("Dr Claire Durand"));
        let ics = get(edge, &host, &format!("{location}.ics"), &session);
        assert_eq!(ics.status(), 200, "{edge:?}");
        assert_eq!(
            headers(&ics)["content-type"],
            "text/calendar; charset=utf-8"
        );
        let text = ics.text().unwrap();
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{edge:?}");
        assert!(text.split("\r\n").all(|l| l.len() <= 75));
        assert!(
            text.contains(&format!("DTSTART:{}T090000Z\r\n", day.replace('-', ""))),
            "{text}"
        );

        let other_email = format!("hugo.bernard+{slug}@example.fr");
        let other: Vec<(&str, &str)> = full
            .iter()
            .map(|&(k, v)| match k {
                "csrf" => (k, csrf2.as_str()),
                "idem" => (k, idem2.as_str()),
                "email" => (k, other_email.as_str()),
                _ => (k, v),
            })
            .collect();
        let r = post_form(edge, &host, &path, &cookie2, &other);
        assert_eq!(r.status(), 409, "{edge:?}");
        let body = r.text().unwrap();
        assert!(
            body.contains(&format!("/book/{}", slots[1])),
            "{edge:?}: {body}"
        );
        assert!(body.contains(&format!("/book/{}", slots[2])));
    }
}
