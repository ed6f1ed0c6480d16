//! The demo clinics' data, so a new user of `cargo xtask up` sees a living clinic: two
//! practitioners each with a schedule of free slots for the coming two weeks (weekday
//! mornings and afternoons, in the clinic's time zone), three patients, a few booked
//! appointments and a week of one patient's readings.
//!
//! Written through the public API of the Spin edge, as any client would: every value goes
//! through the validation, the statements and the audit trail users' data goes through.
//! Running it again (every `up`) only extends the slots to the coming two weeks: the
//! rest is written once per clinic.
//!
//! People who sign in: each clinic gets an admin (`admin@<slug>.example`) and an account
//! per practitioner (`dr.<family>@<slug>.example`), made with `regional-db accounts
//! create` as an operator would. Their passwords are drawn once per stack, kept in
//! `target/stack-<name>/demo-accounts.json` (private, wiped with the stack's databases)
//! and listed in `stack.json` (`demo_accounts`) for the tests.

use std::{collections::BTreeMap, fs, path::Path};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use telemed_shared::fhir::datatypes::civil_date;

use crate::stack::{DEMO_CLINICS, StackInfo};

const SCOPES: &str = "system/Patient.cruds system/Practitioner.cruds system/Schedule.cruds \
                      system/Slot.cruds system/Appointment.cruds system/Observation.cruds \
                      system/Consent.cruds";

/// A FHIR Consent of `patient` of the policy's `kind` (`telemedicine`, `data-sharing`…),
/// active from `since` (a FHIR date) with no end: what a clinic records when a patient
/// agrees, and what the consent gates look for (`compliance::CONSENT_KIND_SYSTEM`). One
/// builder for the demo, the benchmark and the tests.
pub fn consent_body(patient: &str, kind: &str, since: &str) -> Value {
    json!({"resourceType": "Consent", "status": "active",
           "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                 "code": "treatment"}]},
           "category": [{"coding": [{"system": telemed_shared::compliance::CONSENT_KIND_SYSTEM,
                                     "code": kind}]}],
           "patient": {"reference": format!("Patient/{patient}")},
           "dateTime": format!("{since}T00:00:00Z"),
           "policyRule": {"text": format!("consent to {kind}")},
           "provision": {"type": "permit", "period": {"start": since}}})
}

/// Per country: the clinic's time zone, two practitioners (family, given, specialty) and
/// three patients (family, given, gender, birth date).
struct People {
    zone: &'static str,
    practitioners: [(&'static str, &'static str, &'static str); 2],
    patients: [(&'static str, &'static str, &'static str, &'static str); 3],
}

fn people(country: &str) -> People {
    match country {
        "FR" => People {
            zone: "Europe/Paris",
            practitioners: [
                ("Durand", "Claire", "Médecine générale"),
                ("Benali", "Karim", "Cardiologie"),
            ],
            patients: [
                ("Martin", "Léa", "female", "1991-04-02"),
                ("Bernard", "Hugo", "male", "1958-11-23"),
                ("Petit", "Chloé", "female", "2012-06-09"),
            ],
        },
        "SN" => People {
            zone: "Africa/Dakar",
            practitioners: [
                ("Diop", "Aminata", "Médecine générale"),
                ("Ndiaye", "Moussa", "Pédiatrie"),
            ],
            patients: [
                ("Fall", "Awa", "female", "1987-02-14"),
                ("Sow", "Ibrahima", "male", "1964-09-30"),
                ("Ba", "Mariama", "female", "2016-12-01"),
            ],
        },
        "US" => People {
            zone: "America/New_York",
            practitioners: [
                ("Carter", "Emily", "Family medicine"),
                ("Lee", "James", "Endocrinology"),
            ],
            patients: [
                ("Johnson", "Olivia", "female", "1979-03-17"),
                ("Williams", "Noah", "male", "1952-07-04"),
                ("Garcia", "Sofia", "female", "2001-10-21"),
            ],
        },
        "ZA" => People {
            zone: "Africa/Johannesburg",
            practitioners: [
                ("Nkosi", "Thandi", "General practice"),
                ("van Wyk", "Pieter", "Internal medicine"),
            ],
            patients: [
                ("Dlamini", "Sipho", "male", "1983-05-11"),
                ("Naidoo", "Priya", "female", "1995-08-26"),
                ("Botha", "Anika", "female", "1949-01-30"),
            ],
        },
        _ => People {
            zone: "Africa/Casablanca",
            practitioners: [
                ("El Amrani", "Yasmine", "Médecine générale"),
                ("Tazi", "Omar", "Diabétologie"),
            ],
            patients: [
                ("Benjelloun", "Salma", "female", "1990-01-19"),
                ("Alaoui", "Youssef", "male", "1961-04-08"),
                ("Chraibi", "Nour", "female", "2008-02-27"),
            ],
        },
    }
}

/// One clinic's API on the Spin edge.
struct Api<'a> {
    http: &'a reqwest::blocking::Client,
    base: &'a str,
    host: String,
    auth: String,
}

impl Api<'_> {
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let mut r = self
            .http
            .request(method.parse()?, format!("{}{path}", self.base))
            .header("host", &self.host)
            .header("authorization", &self.auth)
            .header("content-type", "application/fhir+json");
        if let Some(b) = body {
            r = r.body(b.to_string());
        }
        let response = r.send().with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        let text = response.text()?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok((status, json))
    }

    /// A request that must answer `want`; its body.
    fn expect(&self, want: u16, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let (status, json) = self.send(method, path, body)?;
        if status != want {
            bail!("{method} {path} on {}: {status} {json}", self.host);
        }
        Ok(json)
    }

    fn create(&self, path: &str, body: Value) -> Result<String> {
        let made = self.expect(201, "POST", path, Some(body))?;
        made["id"]
            .as_str()
            .map(str::to_owned)
            .context("a created resource has an id")
    }
}

/// A demo person who signs in to a clinic's pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    /// The clinic's slug.
    pub tenant: String,
    /// `admin` or `practitioner`.
    pub role: String,
    pub email: String,
    pub password: String,
}

/// `local@<slug>.example`, the local part reduced to ASCII letters, digits and dots.
fn demo_email(local: &str, slug: &str) -> String {
    let local: String = local
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    format!("{local}@{slug}.example")
}

/// The stack's demo passwords by email: read from `path`, new ones drawn (18 random
/// bytes, base64url: 24 characters) and the file rewritten (private) when any was added.
fn passwords(path: &Path, emails: &[String]) -> Result<BTreeMap<String, String>> {
    use base64::Engine;
    let mut known: BTreeMap<String, String> = match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?,
        Err(_) => BTreeMap::new(),
    };
    let mut added = false;
    for email in emails {
        if !known.contains_key(email) {
            let mut raw = [0u8; 18];
            getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            known.insert(
                email.clone(),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
            );
            added = true;
        }
    }
    if added {
        fs::write(path, serde_json::to_vec_pretty(&known)?)?;
        crate::keys::set_private(path)?;
    }
    Ok(known)
}

/// The clinic's admin and practitioners' accounts (made unless they exist).
fn seed_accounts(
    info: &StackInfo,
    api: &Api<'_>,
    (slug, name, country): (&str, &str, &str),
    store: &Path,
) -> Result<Vec<DemoAccount>> {
    let listed = api.expect(200, "GET", "/v1/practitioners?_count=10", None)?;
    let practitioners: Vec<(String, String, String)> = listed["entry"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|e| {
            let r = &e["resource"];
            let family = r["name"][0]["family"].as_str()?.to_owned();
            let given = r["name"][0]["given"][0].as_str().unwrap_or_default();
            Some((
                r["id"].as_str()?.to_owned(),
                family.clone(),
                format!("Dr {given} {family}"),
            ))
        })
        .collect();
    let mut people = vec![(
        "admin",
        demo_email("admin", slug),
        format!("Admin, {name}"),
        None,
    )];
    for (id, family, display) in &practitioners {
        people.push((
            "practitioner",
            demo_email(&format!("dr.{family}"), slug),
            display.clone(),
            Some(id.as_str()),
        ));
    }
    let emails: Vec<String> = people.iter().map(|p| p.1.clone()).collect();
    let known = passwords(store, &emails)?;
    let mut made = Vec::new();
    for (role, email, display, practitioner) in people {
        let account = DemoAccount {
            tenant: slug.to_owned(),
            role: role.to_owned(),
            password: known.get(&email).cloned().context("a drawn password")?,
            email,
        };
        let out = info.create_account(slug, country, &account, &display, practitioner)?;
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        if !out.status.success() && !text.contains("already has an account") {
            bail!("creating the account {} of {slug}: {text}", account.email);
        }
        made.push(account);
    }
    Ok(made)
}

/// Seeds every demo clinic of a running stack; the demo accounts, with their passwords.
pub fn seed(info: &StackInfo) -> Result<Vec<DemoAccount>> {
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let keys = info.keys()?;
    let signing = keys.api_signing_key()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let port = info.spin_url.rsplit(':').next().unwrap_or_default();
    let store = info
        .logs_dir
        .parent()
        .unwrap_or(&info.logs_dir)
        .join("demo-accounts.json");
    let mut accounts = Vec::new();
    for (slug, name, country) in DEMO_CLINICS {
        let token = signing.sign_api(slug.parse()?, "xtask-demo", SCOPES, now.as_secs(), 600)?;
        let api = Api {
            http: &http,
            base: &info.spin_url,
            host: format!("{slug}.localhost:{port}"),
            auth: format!("Bearer {token}"),
        };
        seed_clinic(&api, country, now.as_millis() as u64)
            .with_context(|| format!("demo data of {slug}"))?;
        accounts.extend(
            seed_accounts(info, &api, (slug, name, country), &store)
                .with_context(|| format!("demo accounts of {slug}"))?,
        );
    }
    Ok(accounts)
}

fn seed_clinic(api: &Api<'_>, country: &str, now_millis: u64) -> Result<()> {
    let p = people(country);
    let today = civil_date(now_millis);
    let in_two_weeks = civil_date(now_millis + 13 * 86_400_000);
    let existing = api.expect(200, "GET", "/v1/schedules?_count=10", None)?;
    let first_run = existing["total"].as_u64() == Some(0);
    let schedules: Vec<String> = if first_run {
        p.practitioners
            .iter()
            .map(|(family, given, specialty)| {
                let practitioner = api.create(
                    "/v1/practitioners",
                    json!({"resourceType": "Practitioner", "active": true,
                           "name": [{"family": family, "given": [given], "prefix": ["Dr"]}],
                           "qualification": [{"code": {"text": specialty}}]}),
                )?;
                api.create(
                    "/v1/schedules",
                    json!({"resourceType": "Schedule", "active": true,
                           "actor": [{"reference": format!("Practitioner/{practitioner}")}],
                           "comment": specialty}),
                )
            })
            .collect::<Result<_>>()?
    } else {
        existing["entry"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
            .collect()
    };
    // Slots for the coming two weeks, mornings and afternoons: existing ones are kept.
    let mut free = Vec::new();
    for schedule in &schedules {
        for (from, to) in [("09:00:00", "12:00:00"), ("14:00:00", "17:00:00")] {
            let made = api.expect(
                200,
                "POST",
                &format!("/v1/schedules/{schedule}/$generate-slots"),
                Some(json!({"resourceType": "Parameters", "parameter": [
                    {"name": "start", "valueDate": today}, {"name": "end", "valueDate": in_two_weeks},
                    {"name": "day", "valueCode": "mon"}, {"name": "day", "valueCode": "tue"},
                    {"name": "day", "valueCode": "wed"}, {"name": "day", "valueCode": "thu"},
                    {"name": "day", "valueCode": "fri"},
                    {"name": "from", "valueTime": from}, {"name": "to", "valueTime": to},
                    {"name": "slotMinutes", "valuePositiveInt": 30},
                    {"name": "timeZone", "valueCode": p.zone}]})),
            )?;
            free.extend(
                made["entry"]
                    .as_array()
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned)),
            );
        }
    }
    if !first_run {
        return Ok(());
    }
    let patients: Vec<String> = p
        .patients
        .iter()
        .map(|(family, given, gender, birth)| {
            api.create(
                "/v1/patients",
                json!({"resourceType": "Patient", "name": [{"family": family, "given": [given]}],
                       "gender": gender, "birthDate": birth}),
            )
        })
        .collect::<Result<_>>()?;
    // Each patient agreed to teleconsultation, as the clinics' policies require to book.
    for patient in &patients {
        api.create(
            "/v1/consents",
            consent_body(patient, "telemedicine", "2026-01-01"),
        )?;
    }
    // A few appointments: each patient books one of the first free slots.
    for (patient, slot) in patients.iter().zip(free.iter().step_by(3)) {
        api.create(
            "/v1/appointments",
            json!({"resourceType": "Appointment", "status": "booked",
                   "slot": [{"reference": format!("Slot/{slot}")}],
                   "participant": [{"actor": {"reference": format!("Patient/{patient}")},
                                    "status": "accepted"}]}),
        )?;
    }
    // A week of the first patient's readings, sent as a device would: one batch Bundle.
    let entries: Vec<Value> = (1..=7u64)
        .flat_map(|day| {
            let date = civil_date(now_millis.saturating_sub(day * 86_400_000));
            let at = format!("{date}T07:30:00Z");
            let n = day as f64;
            let quantity = |value: f64, unit: &str| {
                json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
            };
            let vital = |code: &str, value: Value| {
                json!({"resourceType": "Observation", "status": "final",
                       "identifier": [{"system": "urn:demo:home-monitor", "value": format!("{date}-{code}")}],
                       "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                                 "code": if code == "2339-0" { "laboratory" } else { "vital-signs" }}]}],
                       "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                       "subject": {"reference": format!("Patient/{}", patients[0])},
                       "effectiveDateTime": at,
                       "valueQuantity": value})
            };
            let mut bp = vital("85354-9", Value::Null);
            if let Some(o) = bp.as_object_mut() {
                o.remove("valueQuantity");
            }
            bp["component"] = json!([
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                 "valueQuantity": quantity(118.0 + n * 2.0, "mm[Hg]")},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                 "valueQuantity": quantity(76.0 + n, "mm[Hg]")}]);
            [
                bp,
                vital("8867-4", quantity(64.0 + n, "/min")),
                vital("29463-7", quantity(71.0 - n * 0.1, "kg")),
                vital("2339-0", quantity(95.0 + n * 3.0, "mg/dL")),
            ]
        })
        .map(|r| {
            let token = format!(
                "identifier=urn:demo:home-monitor|{}",
                r["identifier"][0]["value"].as_str().unwrap_or_default()
            );
            json!({"resource": r, "request": {"method": "POST", "url": "Observation", "ifNoneExist": token}})
        })
        .collect();
    let answer = api.expect(
        200,
        "POST",
        "/v1",
        Some(json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})),
    )?;
    let written = answer["entry"].as_array().map_or(0, |e| e.len());
    if written != 28 {
        bail!("the readings Bundle answered {written} entries: {answer}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_emails_are_ascii() {
        assert_eq!(
            demo_email("dr.Lefèvre", "hopital-paris"),
            "dr.lefevre@hopital-paris.example"
        );
        assert_eq!(demo_email("admin", "x"), "admin@x.example");
    }

    #[test]
    fn passwords_are_drawn_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("demo-pw-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("demo-accounts.json");
        let first = passwords(&path, &["a@x.example".into()]).unwrap();
        assert_eq!(first["a@x.example"].len(), 24);
        let again = passwords(&path, &["a@x.example".into(), "b@x.example".into()]).unwrap();
        assert_eq!(again["a@x.example"], first["a@x.example"]);
        assert_ne!(again["b@x.example"], first["a@x.example"]);
        assert!(telemed_shared::accounts::check_password(&again["b@x.example"]).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }
}
