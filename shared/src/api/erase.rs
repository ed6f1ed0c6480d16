//! `POST /v1/patients/{id}/$erase` (and `/fhir/R4/Patient/{id}/$erase`): a patient's
//! request for erasure (GDPR art. 17), in one edge→region call.
//!
//! What goes and what stays is decided by the one retention engine
//! ([`crate::compliance::retention`]) from the clinic's country's policy:
//! - the **medical record** stays while the law keeps it (FR: 20 years from the last visit,
//!   R1112-7; DE: 10 years after treatment; US: 6 years…) — the answer says until when and
//!   cites the policy's source, or says the rule is not confirmed; past that date the
//!   record is purged whole, at once, as the retention job would;
//! - what is **not the record** goes now: contact details
//!   ([`retention::CONTACT_ELEMENTS`]), appointments that never held care (future
//!   bookings, their slots freed; cancellations), cached copies of answers about the
//!   patient, the patient's events in the webhook outbox (with their deliveries and
//!   attempts);
//! - a patient under a **legal hold** keeps everything, and the answer says why.
//!
//! The statement holds every country's rule ([`retention::rules_by_country`]) and the
//! clinic's schema applies its own country's (a cold edge does not know the clinic's
//! country), all in one statement (`retention_erase`,
//! `regional_db/migrations/tenant/0011_retention.sql`) under the patient's row lock: all of
//! it or nothing. The edge then recomputes the date
//! from the facts the statement returns, with the same engine, for the answer.
//!
//! Needs `system/Patient.d` (erasure deletes). The body is empty or a `Parameters` without
//! parameters. An id that is not a patient of this clinic — unknown, malformed, or another
//! clinic's — is the same 404. The answer is a FHIR `Parameters`: `outcome` (`erased`,
//! `partial`, `held`), then one `erased` and one `kept` part per kind of data, each with
//! its code, a label in the caller's language (`?locale=`, `Accept-Language`, the clinic's
//! default) and, for what is kept, until when and on what ground.

use chrono::{NaiveDate, SecondsFormat};
use http::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    Caller,
    error::{ApiError, malformed_answer},
    fhir_response, idempotency, parse_uuid,
    resources::patient::Patient,
    rest::{json_body, not_found, write_headers},
    run,
};
use crate::{
    auth::Perms,
    compliance::{
        policy_for,
        retention::{
            self, CONTACT_ELEMENTS, Data, Facts, LEGAL_HOLD_GROUND, Rule, rules_by_country,
        },
    },
    ctx::Ctx,
    dataplane::{
        statement::{Access, Audit, Param, ParamType, SchemaScope, Statement, p},
        wire::Call,
    },
    fhir::{Issue, IssueCode},
    host::{Host, LogLevel},
    i18n::{locale::negotiate, message_plain},
};

/// The statement's name.
pub const ERASE: &str = "patient.erase";

/// The scope `$erase` needs.
pub const SCOPE: &str = "system/Patient.d";

/// `$erase`'s statement, in the catalog ([`crate::dataplane::catalog::all`]): one row when
/// the clinic has the patient, none otherwise; audited as `erase` of the patient.
///
/// Every country's rule ([`rules_by_country`]) and the contact elements are literals of its
/// SQL, built from the policies when the catalog is assembled: they are part of the
/// catalog's version, so an edge and a region built with different policies refuse each
/// other (409) instead of erasing by different rules, and no caller can send other rules.
pub fn statements() -> Vec<Statement> {
    const PARAMS: &[Param] = &[p("id", ParamType::Uuid), p("now", ParamType::Timestamptz)];
    let literal = |v: Value| v.to_string().replace('\'', "''");
    // The outbox forgets the patient in the same statement (webhook_forget_patient,
    // regional_db/migrations/tenant/0020_webhooks_erasure.sql): its webhook events, their
    // deliveries and attempts, unless a legal hold kept everything.
    let sql = format!(
        "SELECT e.*, webhook_forget_patient(e.id, e.outcome) AS webhook_events \
         FROM retention_erase($1, '{}'::jsonb, '{}'::jsonb, $2) e",
        literal(rules_by_country()),
        literal(json!(CONTACT_ELEMENTS)),
    );
    vec![Statement {
        name: ERASE,
        // Built once per process, with the catalog.
        sql: Box::leak(sql.into_boxed_str()),
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: PARAMS,
        audit: Some(Audit {
            action: "erase",
            resource_type: "Patient",
        }),
    }]
}

/// The call `$erase` sends for patient `id` at `now_millis`.
pub fn call(id: &str, now_millis: u64) -> Call {
    let now = chrono::DateTime::from_timestamp_millis(i64::try_from(now_millis).unwrap_or(0))
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    Call {
        name: ERASE.into(),
        params: vec![json!(id), json!(now)],
    }
}

/// Checks the body: none, or a `Parameters` with no parameter (`$erase` takes none).
fn check_body(req: &Request<Vec<u8>>) -> Result<(), ApiError> {
    if req.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let body = json_body(req)?;
    let parameters =
        super::operation::parameters(&body, "$erase takes no body, or a FHIR Parameters resource")?;
    if parameters
        .get("parameter")
        .is_some_and(|p| p.as_array().is_none_or(|a| !a.is_empty()))
    {
        return Err(ApiError::Unprocessable(vec![
            Issue::new(IssueCode::NotSupported, "$erase takes no parameters")
                .at("Parameters.parameter"),
        ]));
    }
    Ok(())
}

pub(super) async fn invoke<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    id: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    if !caller.principal.scopes.allows("Patient", Perms::DELETE) {
        return Err(ApiError::InsufficientScope(SCOPE.into()));
    }
    let id = parse_uuid(id).ok_or_else(|| not_found(&Patient, id))?;
    check_body(req)?;
    let client_key = idempotency::client_key(req)?;
    let idempotency = idempotency::of(ctx, req, &caller.principal, client_key.as_deref());
    let now_millis = ctx.host.now_millis();
    let response = run(
        ctx,
        caller,
        vec![call(&id, now_millis)],
        Some(idempotency),
        None,
    )
    .await?;
    let row = response
        .results
        .first()
        .ok_or_else(|| malformed_answer(ERASE))?
        .rows
        .first()
        .ok_or_else(|| not_found(&Patient, &id))?;
    let erased = Erased::from_row(row).ok_or_else(|| malformed_answer(ERASE))?;
    if let Some(disagreement) = erased.disagreement() {
        ctx.host.log(LogLevel::Error, &disagreement);
    }
    let query = req.uri().query().unwrap_or("");
    let asked = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "locale")
        .map(|(_, v)| v.into_owned());
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    let default = caller.entry.as_ref().map(|e| e.default_locale.as_str());
    let (locale, _) = negotiate(asked.as_deref(), None, accept, default);
    let label = |d: Data| message_plain(locale, &format!("erase-{}", d.code()), &[]);
    let mut out = fhir_response(StatusCode::OK, &erased.parameters(&label));
    if let Ok(v) = locale.tag().parse() {
        out.headers_mut().insert("content-language", v);
    }
    write_headers(&mut out, &response, client_key.is_some());
    Ok(out)
}

/// What the clinic's schema did, as its row says.
#[derive(Debug, Clone, PartialEq)]
pub struct Erased {
    pub country: crate::country::CountryCode,
    pub outcome: ErasedOutcome,
    /// The facts, for a record still here (kept or held).
    pub facts: Option<Facts>,
    /// The schema's date (kept or held).
    pub keep_until: Option<NaiveDate>,
    pub contact_erased: bool,
    pub appointments: i64,
    pub slots_freed: i64,
    pub observations: i64,
    pub consents: i64,
    pub cached: i64,
    /// Events about the patient the webhook outbox forgot (`webhook_forget_patient`).
    pub webhook_events: i64,
}

/// The schema's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasedOutcome {
    /// The record was past its retention: everything went.
    Purged,
    /// The record is kept; what is not the record went.
    Kept,
    /// A legal hold: nothing changed.
    Held,
}

impl Erased {
    /// Reads the statement's row; `None` when it is not shaped as `retention_erase` returns.
    pub fn from_row(row: &Map<String, Value>) -> Option<Erased> {
        let date = |k: &str| -> Option<Option<NaiveDate>> {
            match row.get(k)? {
                Value::Null => Some(None),
                Value::String(s) => s.parse().ok().map(Some),
                _ => None,
            }
        };
        let int = |k: &str| row.get(k).and_then(Value::as_i64).unwrap_or(0);
        let outcome = match row.get("outcome")?.as_str()? {
            "purged" => ErasedOutcome::Purged,
            "kept" => ErasedOutcome::Kept,
            "held" => ErasedOutcome::Held,
            _ => return None,
        };
        let facts = match outcome {
            ErasedOutcome::Purged => None,
            _ => Some(Facts {
                birth: date("birth")?,
                death: date("death")?,
                last_visit: date("last_visit")?,
                last_reading: date("last_reading")?,
                last_entry: date("last_entry")??,
            }),
        };
        Some(Erased {
            country: row.get("country")?.as_str()?.parse().ok()?,
            outcome,
            facts,
            keep_until: date("keep_until")?,
            contact_erased: row
                .get("contact_erased")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            appointments: int("appointments"),
            slots_freed: int("slots_freed"),
            observations: int("observations"),
            consents: int("consents"),
            cached: int("cached"),
            webhook_events: int("webhook_events"),
        })
    }

    fn rule(&self) -> Rule {
        Rule::of_policy(&policy_for(&self.country))
    }

    /// The engine's decision for a record still here.
    pub fn decision(&self) -> Option<retention::Decision> {
        self.facts.map(|f| self.rule().decide(&f))
    }

    /// A message when the schema's date is not the engine's: a bug in one of them.
    pub fn disagreement(&self) -> Option<String> {
        let engine = self.decision()?.keep_until;
        (self.keep_until != Some(engine)).then(|| {
            format!(
                "$erase: the rule engine keeps the record until {engine}, the clinic's schema until {:?} ({})",
                self.keep_until,
                self.country.as_str()
            )
        })
    }

    /// The FHIR `Parameters` answer; `label` names a kind of data in the caller's language.
    pub fn parameters(&self, label: &dyn Fn(Data) -> String) -> Value {
        let policy = policy_for(&self.country);
        let (citation, confirmed) = retention::citation(&policy);
        let part = |d: Data, extra: Vec<Value>| {
            let mut parts = vec![
                json!({"name": "data", "valueCode": d.code()}),
                json!({"name": "label", "valueString": label(d)}),
            ];
            parts.extend(extra);
            parts
        };
        let count = |name: &str, n: i64| json!({"name": name, "valueInteger": n});
        let mut erased = Vec::new();
        let mut kept = Vec::new();
        let outcome = match self.outcome {
            ErasedOutcome::Held => {
                for d in Data::ALL {
                    kept.push(part(
                        d,
                        vec![json!({"name": "ground", "valueString": LEGAL_HOLD_GROUND})],
                    ));
                }
                "held"
            }
            ErasedOutcome::Purged => {
                erased.push(part(
                    Data::MedicalRecord,
                    vec![
                        count("appointments", self.appointments),
                        count("observations", self.observations),
                        count("consents", self.consents),
                        json!({"name": "ground", "valueString": citation}),
                        json!({"name": "confirmed", "valueBoolean": confirmed}),
                    ],
                ));
                erased.push(part(Data::ContactDetails, vec![]));
                erased.push(part(
                    Data::UnheldAppointments,
                    vec![count("slotsFreed", self.slots_freed)],
                ));
                erased.push(part(
                    Data::CachedResponses,
                    vec![count("count", self.cached)],
                ));
                erased.push(part(
                    Data::WebhookEvents,
                    vec![count("count", self.webhook_events)],
                ));
                "erased"
            }
            ErasedOutcome::Kept => {
                let mut record = Vec::new();
                if let Some(d) = self.decision() {
                    record
                        .push(json!({"name": "until", "valueDate": retention::iso(d.keep_until)}));
                    record.push(json!({"name": "clause", "valueCode": d.clause.code()}));
                }
                record.push(json!({"name": "citation", "valueString": citation}));
                record.push(json!({"name": "confirmed", "valueBoolean": confirmed}));
                kept.push(part(Data::MedicalRecord, record));
                erased.push(part(
                    Data::ContactDetails,
                    vec![count("count", i64::from(self.contact_erased))],
                ));
                erased.push(part(
                    Data::UnheldAppointments,
                    vec![
                        count("count", self.appointments),
                        count("slotsFreed", self.slots_freed),
                    ],
                ));
                erased.push(part(
                    Data::CachedResponses,
                    vec![count("count", self.cached)],
                ));
                erased.push(part(
                    Data::WebhookEvents,
                    vec![count("count", self.webhook_events)],
                ));
                "partial"
            }
        };
        let mut parameter = vec![
            json!({"name": "outcome", "valueCode": outcome}),
            json!({"name": "country", "valueCode": self.country.as_str()}),
        ];
        parameter.extend(
            erased
                .into_iter()
                .map(|p| json!({"name": "erased", "part": p})),
        );
        parameter.extend(kept.into_iter().map(|p| json!({"name": "kept", "part": p})));
        json!({"resourceType": "Parameters", "parameter": parameter})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn kept_fr() -> Value {
        json!({"id": "x", "country": "FR", "outcome": "kept", "birth": "1950-01-01", "death": null,
               "last_visit": "2030-06-01", "last_reading": "2031-01-01", "last_entry": "2031-01-01",
               "keep_until": "2050-06-01", "contact_erased": true, "appointments": 1,
               "slots_freed": 1, "observations": 0, "consents": 0, "cached": 2,
               "webhook_events": 3})
    }

    fn part<'a>(p: &'a Value, name: &str, data: &str) -> Option<&'a Value> {
        p["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name && x["part"].as_array().unwrap()[0]["valueCode"] == data)
    }

    fn value<'a>(part: &'a Value, name: &str) -> &'a Value {
        part["part"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .map(|x| {
                x.as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k.starts_with("value"))
                    .unwrap()
                    .1
            })
            .unwrap_or(&Value::Null)
    }

    #[test]
    fn a_kept_record_is_listed_with_its_date_and_citation() {
        let e = Erased::from_row(&row(kept_fr())).unwrap();
        assert_eq!(e.disagreement(), None);
        let p = e.parameters(&|d| format!("L:{}", d.code()));
        assert_eq!(p["parameter"][0]["valueCode"], "partial");
        let record = part(&p, "kept", "medical-record").unwrap();
        assert_eq!(value(record, "until"), "2050-06-01");
        assert!(
            value(record, "citation")
                .as_str()
                .unwrap()
                .contains("R1112-7")
        );
        assert_eq!(value(record, "confirmed"), true);
        assert_eq!(value(record, "label"), "L:medical-record");
        for d in [
            "contact-details",
            "unheld-appointments",
            "cached-responses",
            "webhook-events",
        ] {
            assert!(part(&p, "erased", d).is_some(), "{d}");
            assert!(part(&p, "kept", d).is_none(), "{d}");
        }
        assert_eq!(
            value(part(&p, "erased", "cached-responses").unwrap(), "count"),
            2
        );
        assert_eq!(
            value(part(&p, "erased", "webhook-events").unwrap(), "count"),
            3
        );
    }

    #[test]
    fn a_purge_lists_everything_as_erased_and_a_hold_everything_as_kept() {
        let purged = row(
            json!({"id": "x", "country": "DE", "outcome": "purged", "birth": null,
            "death": null, "last_visit": null, "last_reading": null, "last_entry": null,
            "keep_until": null, "contact_erased": true, "appointments": 2, "slots_freed": 1,
            "observations": 1, "consents": 1, "cached": 1}),
        );
        let e = Erased::from_row(&purged).unwrap();
        let p = e.parameters(&|d| d.code().to_owned());
        assert_eq!(p["parameter"][0]["valueCode"], "erased");
        assert!(
            value(part(&p, "erased", "medical-record").unwrap(), "ground")
                .as_str()
                .unwrap()
                .contains("630f")
        );
        assert!(
            p["parameter"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["name"] != "kept")
        );

        let mut held = kept_fr();
        held["outcome"] = json!("held");
        let p = Erased::from_row(&row(held))
            .unwrap()
            .parameters(&|d| d.code().to_owned());
        assert_eq!(p["parameter"][0]["valueCode"], "held");
        for d in Data::ALL {
            let k = part(&p, "kept", d.code()).unwrap();
            assert!(value(k, "ground").as_str().unwrap().contains("17(3)(e)"));
        }
    }

    #[test]
    fn an_unconfirmed_rule_says_so_and_a_disagreement_is_caught() {
        let mut sn = kept_fr();
        sn["country"] = json!("SN");
        sn["keep_until"] = json!("2040-06-01"); // baseline: 10 years from the last visit
        let e = Erased::from_row(&row(sn)).unwrap();
        assert_eq!(e.disagreement(), None);
        let p = e.parameters(&|d| d.code().to_owned());
        assert_eq!(
            value(part(&p, "kept", "medical-record").unwrap(), "confirmed"),
            false
        );
        let mut wrong = kept_fr();
        wrong["keep_until"] = json!("2049-06-01");
        assert!(
            Erased::from_row(&row(wrong))
                .unwrap()
                .disagreement()
                .is_some()
        );
    }

    #[test]
    fn malformed_rows_are_refused() {
        for bad in [
            json!({"country": "FR", "outcome": "gone"}),
            json!({"country": "France", "outcome": "kept"}),
            {
                let mut r = kept_fr();
                r["last_entry"] = json!(null);
                r
            },
            {
                let mut r = kept_fr();
                r["keep_until"] = json!(3);
                r
            },
        ] {
            assert_eq!(Erased::from_row(&row(bad.clone())), None, "{bad}");
        }
    }

    #[test]
    fn the_statement_holds_every_countrys_rule_and_the_call_the_id_and_time() {
        let c = call("5b0c1a2e-1111-4222-8333-444455556666", 2_366_020_800_000);
        assert_eq!(c.name, ERASE);
        assert_eq!(c.params[1], "2044-12-22T12:00:00.000Z");
        let s = crate::dataplane::catalog::lookup(ERASE).expect("in the catalog");
        assert_eq!(s.params.len(), c.params.len());
        let rules = s.sql.split('\'').nth(1).unwrap();
        let rules: Value = serde_json::from_str(rules).unwrap();
        assert_eq!(rules, rules_by_country());
        assert_eq!(rules["FR"]["years"], 20);
        assert!(s.sql.contains(&json!(CONTACT_ELEMENTS).to_string()));
    }

    fn req(body: &str) -> Request<Vec<u8>> {
        Request::builder()
            .uri("https://x.localhost/v1/patients/1/$erase")
            .header("content-type", "application/fhir+json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn the_body_is_empty_or_an_empty_parameters() {
        assert!(check_body(&req("")).is_ok());
        assert!(check_body(&req(r#"{"resourceType": "Parameters"}"#)).is_ok());
        assert!(check_body(&req(r#"{"resourceType": "Parameters", "parameter": []}"#)).is_ok());
        for (bad, status) in [
            ("{", 400),
            (r#"{"resourceType": "Patient"}"#, 400),
            (
                r#"{"resourceType": "Parameters", "parameter": [{"name": "x"}]}"#,
                422,
            ),
            (r#"{"resourceType": "Parameters", "parameter": 3}"#, 422),
        ] {
            assert_eq!(
                check_body(&req(bad)).unwrap_err().status().as_u16(),
                status,
                "{bad}"
            );
        }
    }
}
