//! `GET /v1/policy` through both edges: the clinic's country policy with each rule's
//! source, labelled in the caller's language; only for the clinic's own callers.

use telemed_e2e::{EDGES, fhir, new_clinic, token};

#[test]
fn a_clinic_reads_its_policy_with_sources_in_its_language() {
    for edge in EDGES {
        let fr = new_clinic("pol", "Policy Clinic", "FR");
        let sn = new_clinic("pol", "Policy Clinic", "SN");
        let tok = token(&fr, "system/Patient.r");
        let (s, p, h) = fhir(
            edge,
            "GET",
            &fr,
            "/v1/policy",
            Some(&tok),
            None,
            &[("accept-language", "ar")],
        );
        assert_eq!(s, 200, "{edge:?}: {p}");
        assert_eq!(h["content-language"], "ar");
        assert_eq!(p["country"], "FR");
        let rule = |p: &serde_json::Value, name: &str| {
            p["rules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["rule"] == name)
                .unwrap()
                .clone()
        };
        let retention = rule(&p, "retention");
        assert_eq!(retention["value"]["years"], 20);
        assert_eq!(retention["value"]["from"], "last-visit");
        assert!(
            retention["source"]["text"]
                .as_str()
                .unwrap()
                .contains("R1112-7"),
            "{retention}"
        );
        assert_eq!(retention["label"], "مدة الاحتفاظ بالملفات الطبية");
        assert_eq!(rule(&p, "breach-notice")["value"]["hours"], 72);
        assert_eq!(rule(&p, "hosting")["value"], serde_json::json!(["eu-west"]));
        let nir = rule(&p, "national-identifier");
        assert_eq!(nir["value"]["system"], "urn:oid:1.2.250.1.213.1.4.8");
        assert_eq!(nir["value"]["required"], false);
        assert_eq!(nir["label"], "رقم الهوية الوطنية للمريض");
        let consents = &rule(&p, "consents")["value"];
        assert_eq!(consents[0]["kind"], "telemedicine");
        assert_eq!(
            consents[0]["gates"],
            serde_json::json!(["teleconsultation"])
        );
        assert_eq!(
            consents[0]["system"],
            telemed_shared::compliance::CONSENT_KIND_SYSTEM
        );
        let (_, p, _) = fhir(
            edge,
            "GET",
            &fr,
            "/v1/policy?locale=es",
            Some(&tok),
            None,
            &[],
        );
        assert_eq!(rule(&p, "regulation")["label"], "Normativa");
        // Senegal: what could not be confirmed says so.
        let (s, p, _) = fhir(
            edge,
            "GET",
            &sn,
            "/v1/policy",
            Some(&token(&sn, "system/Patient.r")),
            None,
            &[],
        );
        assert_eq!(s, 200, "{p}");
        assert_eq!(rule(&p, "retention")["source"]["kind"], "not-confirmed");
        assert_eq!(rule(&p, "regulation")["value"], "CDP (loi 2008-12)");
        // Only the clinic's own callers.
        let (s, _, _) = fhir(edge, "GET", &fr, "/v1/policy", None, None, &[]);
        assert_eq!(s, 401);
        let (s, _, _) = fhir(edge, "GET", &sn, "/v1/policy", Some(&tok), None, &[]);
        assert_eq!(s, 403);
        let (s, _, _) = fhir(edge, "POST", &fr, "/v1/policy", Some(&tok), Some("{}"), &[]);
        assert_eq!(s, 405);
    }
}
