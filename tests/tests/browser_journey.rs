//! The product in a real browser (Debian's Chromium through playwright-core,
//! `tests/browser/journey.mjs`): a patient books a consultation, the practitioner signs in
//! and marks it fulfilled, the patient finds the invoice with its amount formatted as their
//! language writes money. In French (left to right) and Arabic (right to left), on both
//! edges, the French Workers run with the keyboard alone.
//!
//! Every step leaves its HTML and a screenshot under `target/screenshots/`; this test
//! then checks that no page shows a raw message id or an amount left unformatted, and that
//! each page's HTML (with its inline CSS) is under 50 KB. The weights are written to
//! `target/screenshots/page-weights.md`.

use std::{collections::BTreeSet, path::PathBuf, process::Command};

use serde_json::{Value, json};
use telemed_e2e::{EDGES, Edge, new_clinic, stack, token};
use telemed_shared::{
    api::resources::charge_item_definition::CONSULTATION_TYPE_SYSTEM,
    i18n::{locale::Locale, message},
    money::{Currency, Money, parse_decimal},
};
use xtask::demo::DemoAccount;

/// The largest page (HTML with its inline CSS) the product may send.
const MAX_PAGE_BYTES: usize = 50 * 1024;

struct Run {
    edge: Edge,
    locale: &'static str,
    accept_language: &'static str,
    dir: &'static str,
    keyboard: bool,
    country: &'static str,
    price: &'static str,
    currency: Currency,
}

fn screenshots() -> PathBuf {
    let dir = stack()
        .logs_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .expect("the stack lives under target/")
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A clinic with one practitioner (and their account), a price, and free slots in the
/// coming hours: (slug, practitioner's name, account).
fn clinic(run: &Run) -> (String, String, DemoAccount) {
    let slug = new_clinic("journey", "Clinique du Parcours", run.country);
    let api = telemed_e2e::Session::new(run.edge, &slug, &token(&slug, "system/*.cruds"));
    let (given, family) = ("Claire", format!("Martin-{}", &random_hex(2)));
    let (s, practitioner) = api.post(
        "/v1/practitioners",
        &json!({"resourceType": "Practitioner", "active": true,
                "name": [{"given": [given], "family": family}]}),
    );
    assert_eq!(s, 201, "{practitioner}");
    let practitioner = practitioner["id"].as_str().unwrap().to_owned();
    let video = json!([{"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": "video",
                                    "display": "Téléconsultation"}]}]);
    let (s, schedule) = api.post(
        "/v1/schedules",
        &json!({"resourceType": "Schedule", "active": true, "serviceType": video,
                "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
    );
    assert_eq!(s, 201, "{schedule}");
    // Slots from the next hour to the end of today (UTC: the practitioner's day).
    let now = chrono::Utc::now();
    let from = (now + chrono::Duration::hours(1))
        .format("%H:00:00")
        .to_string();
    let today = now.format("%Y-%m-%d").to_string();
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [chrono::Datelike::weekday(&now).num_days_from_monday() as usize];
    let (s, made) = api.post(
        &format!("/v1/schedules/{}/$generate-slots", schedule["id"].as_str().unwrap()),
        &json!({"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": today}, {"name": "end", "valueDate": today},
            {"name": "day", "valueCode": day},
            {"name": "from", "valueTime": from}, {"name": "to", "valueTime": "23:59:00"},
            {"name": "slotMinutes", "valuePositiveInt": 20}, {"name": "timeZone", "valueCode": "UTC"}]}),
    );
    assert_eq!(s, 200, "{made}");
    let (s, price) = api.post(
        "/v1/charge-item-definitions",
        &serde_json::from_str::<Value>(&format!(
            r#"{{"resourceType": "ChargeItemDefinition", "status": "active",
                 "url": "https://{slug}.example/fhir/ChargeItemDefinition/video",
                 "code": {{"coding": [{{"system": "{CONSULTATION_TYPE_SYSTEM}", "code": "video",
                                      "display": "Téléconsultation"}}]}},
                 "propertyGroup": [{{"priceComponent": [{{"type": "base",
                     "amount": {{"value": {}, "currency": "{}"}}}}]}}]}}"#,
            run.price,
            run.currency.code()
        ))
        .unwrap(),
    );
    assert_eq!(s, 201, "{price}");
    let account = DemoAccount {
        tenant: slug.clone(),
        role: "practitioner".into(),
        email: format!("claire@{slug}.example"),
        password: format!("pw-{}", random_hex(8)),
    };
    let out = stack()
        .create_account(
            &slug,
            run.country,
            &account,
            &format!("{given} {family}"),
            Some(&practitioner),
        )
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (slug, format!("{given} {family}"), account)
}

fn journey(run: &Run) {
    let l = Locale::from_tag(run.locale).unwrap();
    let t = |id: &str| message(l, id, &[]);
    let (slug, practitioner_name, practitioner) = clinic(run);
    let name = format!(
        "{}-{:?}-{}",
        run.locale,
        run.edge,
        if run.keyboard { "keyboard" } else { "pointer" }
    )
    .to_lowercase();
    let patient_email = format!("awa-{}@{slug}.example", random_hex(3));
    let patient_password = format!("patient-{}", random_hex(8));
    let invoice = Money::new(parse_decimal(run.price).unwrap(), run.currency)
        .unwrap()
        .format_in_country(l, &run.country.parse().unwrap())
        .unwrap();
    let shots = screenshots();
    let plan = json!({
        "name": name,
        "base": format!("http://{}", run.edge.host_for(&slug)),
        "accept_language": run.accept_language,
        "dir": run.dir,
        "keyboard": run.keyboard,
        "shots": shots,
        "practitioner_name": practitioner_name,
        "slot_selector": "ul.slots a",
        "patient_fields": [
            {"label": t("booking-given"), "value": "Awa"},
            {"label": t("booking-family"), "value": "Diop"},
            {"label": t("booking-birth-date"), "kind": "date", "value": "1988-08-08",
             // Keyboard-only runs are French: Chromium's date field reads dd/mm/yyyy there.
             "typed": "08081988"},
            {"label": t("booking-gender"), "kind": "select", "value": "female",
             "option_label": t("booking-gender-female")},
            {"label": t("booking-email"), "value": patient_email},
            {"label": t("booking-password"), "value": patient_password},
            {"label": t("booking-consent-telemedicine"), "kind": "checkbox"},
        ],
        "labels": {
            "book": t("booking-submit"),
            "calendar": t("booking-add-to-calendar"),
            "email": t("sign-in-email"),
            "password": t("sign-in-password"),
            "sign_in": t("sign-in-submit"),
            "sign_out": t("web-sign-out"),
            "arrived": t("spaces-mark-arrived"),
            "fulfilled": t("spaces-mark-fulfilled"),
        },
        "practitioner_email": practitioner.email,
        "practitioner_password": practitioner.password,
        "patient_email": patient_email,
        "patient_password": patient_password,
        "invoice_amount": invoice,
    });
    let out = Command::new("node")
        .current_dir(xtask::workspace_root())
        .arg("tests/browser/journey.mjs")
        .env("JOURNEY", plan.to_string())
        .output()
        .expect("node runs (installed by cargo xtask test)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name}: the journey failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(steps.len() >= 8, "{name}: {stdout}");
    let ids = message_ids();
    let mut weights = String::new();
    for s in &steps {
        let step = s["step"].as_str().unwrap();
        let html = std::fs::read_to_string(s["html"].as_str().unwrap()).unwrap();
        let text = visible_text(&html);
        for id in &ids {
            assert!(
                !contains_word(&text, id),
                "{name} {step}: the raw message id `{id}` is on the page"
            );
        }
        assert_no_raw_amount(&text, &format!("{name} {step}"));
        let bytes = s["bytes"].as_u64().unwrap() as usize;
        assert!(bytes < MAX_PAGE_BYTES, "{name} {step}: {bytes} bytes");
        weights.push_str(&format!(
            "| {name} | {step} | {} | {bytes} |\n",
            s["url"].as_str().unwrap()
        ));
    }
    let report = shots.join("page-weights.md");
    let mut all = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        "| run | step | URL | HTML + CSS bytes |\n|---|---|---|---|\n".to_owned()
    });
    all.push_str(&weights);
    std::fs::write(&report, &all).unwrap();
    println!("{weights}");
}

/// Every message id of every locale's Fluent files.
fn message_ids() -> BTreeSet<String> {
    let dir = xtask::workspace_root().join("locales/en");
    let mut ids = BTreeSet::new();
    for f in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for line in text.lines() {
            if let Some((id, _)) = line.split_once(" =")
                && !id.starts_with([' ', '#', '-'])
                && id.contains('-')
            {
                ids.insert(id.trim().to_owned());
            }
        }
    }
    assert!(ids.len() > 50, "{ids:?}");
    ids
}

/// The text a reader sees: tags, styles and attribute values left out.
fn visible_text(html: &str) -> String {
    let body = html.split("</style>").last().unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let joins = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-');
        !joins(before) && !joins(after)
    })
}

/// An amount as code writes it, not people: `35.00 EUR`, `EUR 35`, `15000 XOF`.
fn assert_no_raw_amount(text: &str, what: &str) {
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        let code = |s: &str| ["EUR", "USD", "GBP", "XOF", "ZAR", "MAD"].contains(&s);
        let number = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
        assert!(
            !((number(w[0]) && code(w[1])) || (code(w[0]) && number(w[1]))),
            "{what}: an unformatted amount `{} {}`",
            w[0],
            w[1]
        );
    }
}

#[test]
fn a_consultation_is_booked_fulfilled_and_invoiced_in_french_and_arabic_on_both_edges() {
    let _ = std::fs::remove_file(screenshots().join("page-weights.md"));
    for edge in EDGES {
        for (locale, accept_language, dir, country, price, currency) in [
            ("fr", "fr-FR,fr", "ltr", "FR", "35.00", Currency::Eur),
            ("ar", "ar", "rtl", "SN", "15000", Currency::Xof),
        ] {
            journey(&Run {
                edge,
                locale,
                accept_language,
                dir,
                keyboard: edge == Edge::Workers && locale == "fr",
                country,
                price,
                currency,
            });
        }
    }
}
