//! FHIR R4 `Patient`: validation of what clients send, and the resource we return.
//!
//! The whole resource is stored as sent (minus server-owned `id`/`meta`), so elements we do
//! not interpret still round-trip; the elements we do interpret are checked strictly, and
//! elements that are not part of R4 `Patient` are refused rather than silently dropped.

use serde_json::{Map, Value, json};

use super::{Issue, IssueCode};
use crate::compliance::{PatientField, Policy};

/// Every element of R4 `Patient` (https://hl7.org/fhir/R4/patient.html).
const ELEMENTS: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "identifier",
    "active",
    "name",
    "telecom",
    "gender",
    "birthDate",
    "deceasedBoolean",
    "deceasedDateTime",
    "address",
    "maritalStatus",
    "multipleBirthBoolean",
    "multipleBirthInteger",
    "photo",
    "contact",
    "communication",
    "generalPractitioner",
    "managingOrganization",
    "link",
];
const GENDERS: &[&str] = &["male", "female", "other", "unknown"];
const NAME_USES: &[&str] = &[
    "usual",
    "official",
    "temp",
    "nickname",
    "anonymous",
    "old",
    "maiden",
];
const ARRAYS: &[&str] = &[
    "identifier",
    "name",
    "telecom",
    "address",
    "contained",
    "extension",
    "modifierExtension",
    "photo",
    "contact",
    "communication",
    "generalPractitioner",
    "link",
];

/// A validated patient, ready for `patient.create`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPatient {
    /// The resource to store, without `id` and `meta`.
    pub resource: Value,
    pub family: Option<String>,
    pub given: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
}

/// Why a body is not an acceptable Patient: 400 when it is not a resource at all, 422 when
/// it is a resource we refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum PatientError {
    /// Not a JSON object: no resource to speak of.
    NotAResource,
    /// A resource, but invalid or of another type; one issue per fault.
    Invalid(Vec<Issue>),
}

/// Validates a `Patient` for creation under the clinic's `policy`. `today` (`YYYY-MM-DD`)
/// bounds `birthDate`.
pub fn validate_new(body: Value, policy: &Policy, today: &str) -> Result<NewPatient, PatientError> {
    let Value::Object(mut obj) = body else {
        return Err(PatientError::NotAResource);
    };
    let mut issues = Vec::new();
    match obj.get("resourceType") {
        Some(Value::String(t)) if t == "Patient" => {}
        Some(Value::String(t)) => {
            return Err(PatientError::Invalid(vec![
                Issue::new(
                    IssueCode::Invalid,
                    format!("expected a Patient resource, got {t}"),
                )
                .at("resourceType"),
            ]));
        }
        _ => {
            return Err(PatientError::Invalid(vec![
                Issue::new(IssueCode::Required, "resourceType \"Patient\" is required")
                    .at("resourceType"),
            ]));
        }
    }
    for key in obj.keys() {
        if !ELEMENTS.contains(&key.as_str()) && !key.starts_with('_') {
            issues.push(
                Issue::new(IssueCode::Structure, format!("unknown element {key:?}"))
                    .at(format!("Patient.{key}")),
            );
        }
    }
    for key in ARRAYS {
        if obj.get(*key).is_some_and(|v| !v.is_array()) {
            issues.push(
                Issue::new(IssueCode::Structure, format!("{key} must be an array"))
                    .at(format!("Patient.{key}")),
            );
        }
    }
    if obj.get("active").is_some_and(|v| !v.is_boolean()) {
        issues.push(
            Issue::new(IssueCode::Value, "active must be true or false").at("Patient.active"),
        );
    }
    let gender = match obj.get("gender") {
        None => None,
        Some(Value::String(g)) if GENDERS.contains(&g.as_str()) => Some(g.clone()),
        Some(_) => {
            issues.push(
                Issue::new(
                    IssueCode::Value,
                    "gender must be one of male, female, other, unknown",
                )
                .at("Patient.gender"),
            );
            None
        }
    };
    let birth_date = match obj.get("birthDate") {
        None => None,
        Some(Value::String(d)) if is_fhir_date(d) && d.as_str() <= today => Some(d.clone()),
        Some(Value::String(d)) if is_fhir_date(d) => {
            issues.push(
                Issue::new(IssueCode::Value, "birthDate is in the future").at("Patient.birthDate"),
            );
            None
        }
        Some(_) => {
            issues.push(
                Issue::new(
                    IssueCode::Value,
                    "birthDate must be a date: YYYY, YYYY-MM or YYYY-MM-DD",
                )
                .at("Patient.birthDate"),
            );
            None
        }
    };
    let (family, given) = check_names(obj.get("name"), &mut issues);
    for field in policy.required_patient_fields {
        let present = match field {
            PatientField::Family => family.is_some(),
            PatientField::Given => given.is_some(),
            PatientField::BirthDate => birth_date.is_some() || obj.contains_key("birthDate"),
            PatientField::Gender => gender.is_some() || obj.contains_key("gender"),
        };
        if !present {
            issues.push(
                Issue::new(
                    IssueCode::Required,
                    format!(
                        "{} is required under {}",
                        field.fhir_path(),
                        policy.regulation
                    ),
                )
                .at(field.fhir_path()),
            );
        }
    }
    if !issues.is_empty() {
        return Err(PatientError::Invalid(issues));
    }
    // Server-owned elements: a create assigns them.
    obj.remove("id");
    obj.remove("meta");
    Ok(NewPatient {
        resource: Value::Object(obj),
        family,
        given,
        birth_date,
        gender,
    })
}

fn non_blank(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.trim().is_empty())
}

/// Checks `name` (HumanName[]) and returns the first family and first given name.
fn check_names(names: Option<&Value>, issues: &mut Vec<Issue>) -> (Option<String>, Option<String>) {
    let Some(Value::Array(names)) = names else {
        return (None, None);
    };
    let (mut family, mut given) = (None, None);
    for (i, n) in names.iter().enumerate() {
        let at = |e: &str| format!("Patient.name[{i}]{e}");
        let Value::Object(n) = n else {
            issues.push(Issue::new(IssueCode::Structure, "a name must be an object").at(at("")));
            continue;
        };
        match n.get("family") {
            None => {}
            Some(f) => match non_blank(f) {
                Some(f) => {
                    family.get_or_insert_with(|| f.trim().to_owned());
                }
                None => issues.push(
                    Issue::new(IssueCode::Value, "family must be a non-empty string")
                        .at(at(".family")),
                ),
            },
        }
        match n.get("given") {
            None => {}
            Some(Value::Array(g)) if g.iter().all(|x| non_blank(x).is_some()) => {
                if let Some(first) = g.first().and_then(non_blank) {
                    given.get_or_insert_with(|| first.trim().to_owned());
                }
            }
            Some(_) => issues.push(
                Issue::new(
                    IssueCode::Value,
                    "given must be an array of non-empty strings",
                )
                .at(at(".given")),
            ),
        }
        if let Some(u) = n.get("use")
            && !u.as_str().is_some_and(|u| NAME_USES.contains(&u))
        {
            issues.push(Issue::new(IssueCode::Value, "unknown name use").at(at(".use")));
        }
    }
    (family, given)
}

/// A FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and a real calendar day.
pub fn is_fhir_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => num(y, 4).is_some(),
        [y, m] => num(y, 4).is_some() && num(m, 2).is_some_and(|m| (1..=12).contains(&m)),
        [y, m, d] => match (num(y, 4), num(m, 2), num(d, 2)) {
            (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) => {
                d >= 1 && d <= days_in_month(y, m)
            }
            _ => false,
        },
        _ => false,
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time in milliseconds.
pub fn civil_date(unix_millis: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = (unix_millis / 86_400_000) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Builds the resource to return from a stored row (`id`, `version_id`, `last_updated`,
/// `resource`). `None` if the row is not shaped as the catalog promises.
pub fn from_row(row: &Map<String, Value>) -> Option<Value> {
    let id = row.get("id")?.as_str()?;
    let version = row.get("version_id")?.as_i64()?;
    let last_updated = row.get("last_updated")?.as_str()?;
    let mut resource = row.get("resource")?.clone();
    let obj = resource.as_object_mut()?;
    obj.insert("id".into(), json!(id));
    obj.insert(
        "meta".into(),
        json!({ "versionId": version.to_string(), "lastUpdated": last_updated }),
    );
    Some(resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::policy_for;

    fn fr() -> Policy {
        policy_for(&"FR".parse().unwrap())
    }
    fn sn() -> Policy {
        policy_for(&"SN".parse().unwrap())
    }
    const TODAY: &str = "2026-11-24";

    fn ok_patient() -> Value {
        json!({"resourceType": "Patient", "id": "client-chosen", "meta": {"versionId": "9"},
               "name": [{"family": "Diallo", "given": ["Awa", "Marie"], "use": "official"}],
               "gender": "female", "birthDate": "1990-02-28", "telecom": [{"system": "phone", "value": "+221"}]})
    }

    #[test]
    fn a_valid_patient_is_accepted_and_server_elements_dropped() {
        let p = validate_new(ok_patient(), &fr(), TODAY).unwrap();
        assert_eq!(p.family.as_deref(), Some("Diallo"));
        assert_eq!(p.given.as_deref(), Some("Awa"));
        assert_eq!(p.birth_date.as_deref(), Some("1990-02-28"));
        assert!(p.resource.get("id").is_none() && p.resource.get("meta").is_none());
        assert_eq!(
            p.resource["telecom"][0]["value"], "+221",
            "uninterpreted elements round-trip"
        );
    }

    fn issues(v: Value, policy: &Policy) -> Vec<Issue> {
        match validate_new(v, policy, TODAY) {
            Err(PatientError::Invalid(i)) => i,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_unknown_elements_and_bad_values_are_refused() {
        assert_eq!(
            validate_new(json!([1]), &fr(), TODAY),
            Err(PatientError::NotAResource)
        );
        let i = issues(json!({"resourceType": "Observation"}), &fr());
        assert!(i[0].diagnostics.contains("Observation"));
        assert_eq!(
            issues(json!({"name": []}), &sn())[0].code,
            IssueCode::Required
        );
        let mut p = ok_patient();
        p["colour"] = json!("blue");
        p["gender"] = json!("F");
        p["birthDate"] = json!("1990-02-30");
        let i = issues(p, &fr());
        let at: Vec<_> = i.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert!(
            at.contains(&"Patient.colour")
                && at.contains(&"Patient.gender")
                && at.contains(&"Patient.birthDate"),
            "{at:?}"
        );
        let mut p = ok_patient();
        p["birthDate"] = json!("2030-01-01");
        assert!(issues(p, &fr())[0].diagnostics.contains("future"));
        let mut p = ok_patient();
        p["name"] = json!([{"family": "  ", "given": "Awa"}]);
        assert_eq!(
            issues(p, &fr()).len(),
            4,
            "blank family, given not an array, then required family and given"
        );
    }

    #[test]
    fn country_policy_decides_required_fields() {
        let minimal =
            json!({"resourceType": "Patient", "name": [{"family": "Ndiaye"}], "birthDate": "1985"});
        assert!(validate_new(minimal.clone(), &sn(), TODAY).is_ok());
        let i = issues(minimal, &fr());
        let missing: Vec<_> = i.iter().filter_map(|i| i.expression.as_deref()).collect();
        assert_eq!(missing, ["Patient.name.given", "Patient.gender"]);
        assert!(i[0].diagnostics.contains("GDPR/HDS"));
    }

    #[test]
    fn fhir_dates() {
        for ok in ["2000", "2000-02", "2000-02-29", "1999-12-31"] {
            assert!(is_fhir_date(ok), "{ok}");
        }
        for bad in [
            "",
            "99",
            "2000-2",
            "2000-13",
            "1900-02-29",
            "2001-04-31",
            "2000-01-01T00:00",
            "2000/01/01",
            "２０００",
        ] {
            assert!(!is_fhir_date(bad), "{bad}");
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400_000), "2000-02-29");
        assert_eq!(civil_date(1_795_478_400_000), "2026-11-24");
    }

    #[test]
    fn rows_become_resources() {
        let row: Map<String, Value> = serde_json::from_value(json!({
            "id": "5b0c…", "version_id": 1, "last_updated": "2026-11-24T07:00:00+00:00",
            "resource": {"resourceType": "Patient"}}))
        .unwrap();
        let r = from_row(&row).unwrap();
        assert_eq!(r["meta"]["versionId"], "1");
        assert_eq!(r["id"], "5b0c…");
        assert!(from_row(&Map::new()).is_none());
    }
}
