//! `GET /v1/policy`: the clinic's country policy as the code holds it — every rule with its
//! source (the legal text, or "not confirmed" and what applies instead) and a label in the
//! caller's language (`?locale=`, then `Accept-Language`, then the clinic's default). Any
//! authenticated caller of the clinic may read it: it is the clinic's law, not patient data.

use serde_json::{Value, json};

use crate::{
    compliance::{BreachNotice, Policy, Source, policy_for},
    geo::RegionMap,
    i18n::{
        locale::{Locale, negotiate},
        message_plain,
    },
    tenant::TenantEntry,
};

fn source(s: Source) -> Value {
    match s {
        Source::Law(text) => json!({ "kind": "law", "text": text }),
        Source::Unconfirmed(why) => json!({ "kind": "not-confirmed", "text": why }),
    }
}

/// The policy document of `entry`'s clinic, labelled in `locale`.
pub fn document(entry: &TenantEntry, locale: Locale) -> Value {
    let p: Policy = policy_for(&entry.country);
    let label = |rule: &str| message_plain(locale, &format!("policy-{rule}"), &[]);
    let rule = |rule: &str, value: Value, from: Source| json!({ "rule": rule, "label": label(rule), "value": value, "source": source(from) });
    let consents: Vec<Value> = p
        .consents
        .iter()
        .map(|c| {
            json!({
                "kind": c.kind,
                "system": crate::compliance::CONSENT_KIND_SYSTEM,
                "gates": c.gates.iter().map(|g| g.code()).collect::<Vec<_>>(),
                "source": source(c.source),
            })
        })
        .collect();
    let r = p.retention.value;
    let breach = match p.breach_notice.value {
        Some(BreachNotice::Hours(h)) => json!({ "hours": h }),
        Some(BreachNotice::Days(d)) => json!({ "days": d }),
        Some(BreachNotice::AsSoonAsReasonablyPossible) => json!("as-soon-as-reasonably-possible"),
        None => Value::Null,
    };
    let map = RegionMap::embedded();
    let home = &map.home_for_country(&entry.country).id;
    let hosting: Vec<String> = p
        .hosting
        .value
        .allowed(home)
        .iter()
        .map(ToString::to_string)
        .collect();
    json!({
        "country": entry.country.as_str(),
        "locale": locale.tag(),
        "rules": [
            rule("regulation", json!(p.regulation.value), p.regulation.source),
            rule(
                "required-patient-fields",
                json!(p.required_patient_fields.value.iter().map(|f| f.fhir_path()).collect::<Vec<_>>()),
                p.required_patient_fields.source,
            ),
            json!({ "rule": "consents", "label": label("consents"), "value": consents }),
            rule(
                "retention",
                json!({
                    "years": r.years,
                    "from": r.from.code(),
                    "minors": r.minors,
                    "at_least_to_age": r.at_least_to_age,
                    "after_death": r.after_death,
                }),
                p.retention.source,
            ),
            rule(
                "national-identifier",
                p.national_identifier.value.map_or(Value::Null, |i| json!({
                    "system": i.scheme.system(),
                    "name": i.scheme.name(),
                    "required": i.required,
                })),
                p.national_identifier.source,
            ),
            rule("encrypt-identifiers", json!(p.encrypt_identifiers.value), p.encrypt_identifiers.source),
            rule("breach-notice", breach, p.breach_notice.source),
            rule("hosting", json!(hosting), p.hosting.source),
        ],
    })
}

/// The locale of the answer: `?locale=`, `Accept-Language`, the clinic's default, `fr`.
pub fn locale_of(
    query: Option<&str>,
    accept_language: Option<&str>,
    entry: &TenantEntry,
) -> Locale {
    let asked = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "locale")
        .map(|(_, v)| v.into_owned());
    negotiate(
        asked.as_deref(),
        None,
        accept_language,
        Some(&entry.default_locale),
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(country: &str) -> TenantEntry {
        serde_json::from_value(json!({
            "slug": "clinic-x", "name": "X", "country": country, "home_region": "eu-west",
            "default_locale": "fr", "currency": "EUR", "plan": "basic", "status": "active",
            "domains": []
        }))
        .unwrap()
    }

    #[test]
    fn every_rule_has_its_source_and_a_label_in_each_locale() {
        for country in [
            "FR", "US", "ZA", "SN", "MA", "DE", "ES", "GB", "CA", "CI", "BJ", "JP",
        ] {
            for locale in Locale::all() {
                let d = document(&entry(country), locale);
                for r in d["rules"].as_array().unwrap() {
                    let label = r["label"].as_str().unwrap();
                    assert!(!label.starts_with("policy-"), "{country} {locale:?}: {r}");
                    if r["rule"] != "consents" {
                        assert!(
                            ["law", "not-confirmed"]
                                .contains(&r["source"]["kind"].as_str().unwrap()),
                            "{country}: {r}"
                        );
                    }
                }
            }
        }
        let fr = document(&entry("FR"), Locale::fallback());
        assert_eq!(fr["rules"][3]["value"]["years"], 20);
        assert_eq!(fr["rules"][3]["value"]["at_least_to_age"], 28);
        assert_eq!(fr["rules"][3]["value"]["after_death"], 10);
        assert!(
            fr["rules"][3]["source"]["text"]
                .as_str()
                .unwrap()
                .contains("R1112-7")
        );
        let sn = document(&entry("SN"), Locale::fallback());
        assert_eq!(sn["rules"][3]["source"]["kind"], "not-confirmed");
        let jp = document(&entry("JP"), Locale::fallback());
        assert_eq!(jp["rules"][0]["source"]["kind"], "not-confirmed");
    }
}
