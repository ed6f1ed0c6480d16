//! The public booking journey: a practitioner's page with their next free slots
//! (`/practitioners/{id}`), the booking form of one slot (`/book/{slot}`: the patient's
//! details the clinic's country requires, the consents its gates need, and the new
//! patient's account), the confirmation (`/patient/appointments/{id}`) and its calendar
//! file (`….ics`).
//!
//! Every page here is dynamic (`private, no-store`): free slots change by the minute, so the
//! practitioner's page is not cached at the edge either. Each costs one read batch; a
//! booking is one idempotent write batch — the Patient, their Consent(s), the Appointment
//! taking the slot, and the patient's account — all or nothing. The resources go through
//! the API's own validation ([`resource::validate`] under the clinic's policy) and
//! statements; the clinic's schema has the last word (the slot still free, the consent
//! gate, the policy's required fields), and its refusals come back next to the field they
//! concern, never as an error page.
//!
//! Times are shown in UTC, said so on the page: the clinic's time zone is not modelled yet.

use http::{Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    Page, PageError,
    form::{self, Field, FieldErrors, Form},
    ics,
    layout::escape,
    session::{self, Session},
};
use crate::{
    accounts::Role,
    api::{
        self, ApiError,
        error::from_data_error,
        resource::{
            self, BulkMode, Interaction, Invalid, Resource, Rules, bulk_name, statement_name,
        },
        resources::{appointment::Appointment, consent::Consent, patient::Patient},
    },
    compliance::{CONSENT_KIND_SYSTEM, PatientField, Policy, Processing, policy_for},
    dataplane::{
        client::DataError,
        statement::{Access, Audit, ParamType, SchemaScope, Statement, opt, p},
        wire::{Call, ErrorCode},
    },
    fhir::{
        Issue,
        datatypes::civil_date,
        dates::{self, Instant},
    },
    host::Host,
    i18n::{Arg, locale::Locale, message, message_plain},
};

/// The statements of these pages.
pub mod names {
    /// The clinic's active practitioners, by name (`$1` limit): `id, resource`.
    pub const PRACTITIONERS: &str = "booking.practitioners";
    /// One practitioner (`$1` id): `id, active, resource`.
    pub const PRACTITIONER: &str = "booking.practitioner";
    /// Free future slots, soonest first, of a practitioner (`$1`) or of the practitioner of
    /// a slot (`$2`, which is left out), `$3` limit: `id, start, end`.
    pub const FREE_SLOTS: &str = "booking.free-slots";
    /// One slot with its practitioner (`$1` id): `id, status, start, end, upcoming,
    /// practitioner, practitioner_resource`.
    pub const SLOT: &str = "booking.slot";
    /// One appointment of one patient (`$1` id, `$2` patient): `id, status, start, end,
    /// practitioner, practitioner_resource` — audited as a read of the patient's data.
    pub const APPOINTMENT: &str = "booking.appointment";
}

/// How many free slots a page offers.
pub const SLOTS_SHOWN: i64 = 12;
/// How many practitioners the home page lists.
pub const PRACTITIONERS_SHOWN: i64 = 100;

/// The statements these pages run besides the resources' own: the practitioners' public
/// directory and free slots (not patient data: not audited), and the patient's own
/// appointment (audited, with the patient it is about).
pub fn statements() -> Vec<Statement> {
    STATEMENTS.to_vec()
}

static STATEMENTS: &[Statement] = &[
    Statement {
        name: names::PRACTITIONERS,
        sql: "SELECT id, resource FROM practitioners WHERE active IS NOT FALSE \
                  ORDER BY family NULLS LAST, given NULLS LAST, seq LIMIT $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("limit", ParamType::Int8)],
        audit: None,
    },
    Statement {
        name: names::PRACTITIONER,
        sql: "SELECT id, active IS NOT FALSE AS active, resource FROM practitioners WHERE id = $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid)],
        audit: None,
    },
    Statement {
        name: names::FREE_SLOTS,
        sql: "SELECT s.id, fhir_instant(s.starts_at) AS start, fhir_instant(s.ends_at) AS \"end\" \
                  FROM slots s JOIN schedules sc ON sc.id = s.schedule \
                  WHERE sc.practitioner = coalesce($1, (SELECT sc2.practitioner FROM slots s2 \
                        JOIN schedules sc2 ON sc2.id = s2.schedule WHERE s2.id = $2)) \
                    AND s.id IS DISTINCT FROM $2 AND s.status = 'free' AND s.starts_at > now() \
                    AND sc.active IS NOT FALSE \
                  ORDER BY s.starts_at, s.seq LIMIT $3",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[
            opt("practitioner", ParamType::Uuid),
            opt("slot", ParamType::Uuid),
            p("limit", ParamType::Int8),
        ],
        audit: None,
    },
    Statement {
        name: names::SLOT,
        sql: "SELECT s.id, s.status, fhir_instant(s.starts_at) AS start, \
                         fhir_instant(s.ends_at) AS \"end\", s.starts_at > now() AS upcoming, \
                         sc.practitioner, pr.resource AS practitioner_resource \
                  FROM slots s JOIN schedules sc ON sc.id = s.schedule \
                  JOIN practitioners pr ON pr.id = sc.practitioner WHERE s.id = $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid)],
        audit: None,
    },
    Statement {
        name: names::APPOINTMENT,
        sql: "SELECT a.id, a.status, fhir_instant(a.starts_at) AS start, \
                         fhir_instant(a.ends_at) AS \"end\", a.practitioner, \
                         pr.resource AS practitioner_resource, a.patient AS audit_patient \
                  FROM appointments a LEFT JOIN practitioners pr ON pr.id = a.practitioner \
                  WHERE a.id = $1 AND a.patient = $2",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid), p("patient", ParamType::Uuid)],
        audit: Some(Audit {
            action: "read",
            resource_type: "Appointment",
        }),
    },
];

// ---------------------------------------------------------------------------------------
// What pages show of practitioners and times.

/// A practitioner as pages show them.
#[derive(Debug, Clone, PartialEq)]
pub struct PractitionerView {
    pub id: String,
    /// `Dr Claire Durand`, from the first `name` (its `text` when given).
    pub name: String,
    /// What `qualification[].code` says (its text, else its first coding's display).
    pub specialties: Vec<String>,
}

impl PractitionerView {
    /// From a practitioner's id and FHIR resource.
    pub fn of(id: &str, resource: &Value) -> Self {
        let name = resource
            .get("name")
            .and_then(Value::as_array)
            .and_then(|names| names.first())
            .map(|n| {
                if let Some(text) = n.get("text").and_then(Value::as_str) {
                    return text.trim().to_owned();
                }
                let words = |k: &str| -> Vec<&str> {
                    n.get(k)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default()
                };
                let mut parts = words("prefix");
                parts.extend(words("given"));
                parts.extend(n.get("family").and_then(Value::as_str));
                parts.extend(words("suffix"));
                parts
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "—".to_owned());
        let specialties = resource
            .get("qualification")
            .and_then(Value::as_array)
            .map(|qs| {
                qs.iter()
                    .filter_map(|q| {
                        let code = q.get("code")?;
                        code.get("text")
                            .and_then(Value::as_str)
                            .or_else(|| {
                                code.get("coding")?
                                    .as_array()?
                                    .iter()
                                    .find_map(|c| c.get("display")?.as_str())
                            })
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            id: id.to_owned(),
            name,
            specialties,
        }
    }

    /// From a row with `id` and `resource` (or `practitioner`, `practitioner_resource`).
    fn of_row(row: &Map<String, Value>, id: &str, resource: &str) -> Option<Self> {
        Some(Self::of(row.get(id)?.as_str()?, row.get(resource)?))
    }
}

/// A slot as pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotView {
    pub id: String,
    pub start: Instant,
    pub end: Instant,
}

impl SlotView {
    fn of_row(row: &Map<String, Value>) -> Option<Self> {
        let at = |k: &str| row.get(k)?.as_str().and_then(dates::instant);
        Some(Self {
            id: row.get("id")?.as_str()?.to_owned(),
            start: at("start")?,
            end: at("end")?,
        })
    }
}

/// An instant as the page's locale writes an appointment's day and time, in UTC (said so).
pub fn when(locale: Locale, t: Instant) -> String {
    super::when::weekday_date_time(locale, t.timestamp())
}

/// The list of slots as buttons to book each (HTML).
fn slot_list(locale: Locale, slots: &[SlotView]) -> String {
    if slots.is_empty() {
        return format!(
            "<p>{}</p>",
            escape(&message(locale, "booking-no-slots", &[]))
        );
    }
    let items: String = slots
        .iter()
        .map(|s| {
            format!(
                r#"<li><a class="button" href="/book/{id}">{when}</a></li>"#,
                id = escape(&s.id),
                when = escape(&when(locale, s.start)),
            )
        })
        .collect();
    format!(r#"<ul class="slots">{items}</ul>"#)
}

fn rows(response: &crate::dataplane::wire::BatchResponse, at: usize) -> &[Map<String, Value>] {
    response
        .results
        .get(at)
        .map_or(&[][..], |r| r.rows.as_slice())
}

fn slots_of(rows: &[Map<String, Value>]) -> Vec<SlotView> {
    rows.iter().filter_map(SlotView::of_row).collect()
}

// ---------------------------------------------------------------------------------------
// `/practitioners/{id}`

/// The practitioner's page: who they are and their next free times.
pub async fn practitioner<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    let id = api::parse_uuid(id).ok_or(PageError::NotFound)?;
    let response = page
        .read(vec![
            Call {
                name: names::PRACTITIONER.into(),
                params: vec![json!(id)],
            },
            Call {
                name: names::FREE_SLOTS.into(),
                params: vec![json!(id), Value::Null, json!(SLOTS_SHOWN)],
            },
        ])
        .await?;
    let row = rows(&response, 0).first().ok_or(PageError::NotFound)?;
    if row.get("active") == Some(&Value::Bool(false)) {
        return Err(PageError::NotFound);
    }
    let who = PractitionerView::of_row(row, "id", "resource")
        .ok_or_else(|| PageError::Internal(format!("{}: malformed row", names::PRACTITIONER)))?;
    let slots = slots_of(rows(&response, 1));
    let specialties = if who.specialties.is_empty() {
        String::new()
    } else {
        format!(r#"<p>{}</p>"#, escape(&who.specialties.join(", ")))
    };
    let title = escape(&who.name);
    let body = format!(
        r#"<main>
<h1>{title}</h1>
{specialties}
<h2>{next}</h2>
<p>{utc}</p>
{list}
<p><a href="/">{back}</a></p>
</main>"#,
        next = page.t("booking-next-slots"),
        utc = page.t("booking-times-in-utc"),
        list = slot_list(page.locale, &slots),
        back = page.t("booking-back-home"),
    );
    Ok(page.render(StatusCode::OK, &title, &body))
}

// ---------------------------------------------------------------------------------------
// `/book/{slot}`

/// The slot being booked, as read with its practitioner.
struct Booking {
    slot: SlotView,
    bookable: bool,
    practitioner: PractitionerView,
}

/// Reads the slot and the practitioner's other free slots: one batch.
async fn load_slot<H: Host>(
    page: &mut Page<'_, '_, H>,
    slot: &str,
) -> Result<(Booking, Vec<SlotView>), PageError> {
    let response = page
        .read(vec![
            Call {
                name: names::SLOT.into(),
                params: vec![json!(slot)],
            },
            Call {
                name: names::FREE_SLOTS.into(),
                params: vec![Value::Null, json!(slot), json!(SLOTS_SHOWN)],
            },
        ])
        .await?;
    let row = rows(&response, 0).first().ok_or(PageError::NotFound)?;
    let malformed = || PageError::Internal(format!("{}: malformed row", names::SLOT));
    let booking = Booking {
        slot: SlotView::of_row(row).ok_or_else(malformed)?,
        bookable: row.get("status").and_then(Value::as_str) == Some("free")
            && row.get("upcoming") == Some(&Value::Bool(true)),
        practitioner: PractitionerView::of_row(row, "practitioner", "practitioner_resource")
            .ok_or_else(malformed)?,
    };
    Ok((booking, slots_of(rows(&response, 1))))
}

/// The consents a booking needs in the clinic's country: those gating teleconsultation.
pub fn booking_consents(policy: &Policy) -> Vec<&'static str> {
    policy
        .consents
        .iter()
        .filter(|c| c.gates.contains(&Processing::Teleconsultation))
        .map(|c| c.kind)
        .collect()
}

/// The patient-details fields of the form, in order, and whether the country requires each.
/// The family and given names are always asked (the account's display name); the birth
/// date and sex when the policy requires them, or as optional otherwise.
fn required(policy: &Policy, field: PatientField) -> bool {
    matches!(field, PatientField::Family) || policy.required_patient_fields.value.contains(&field)
}

/// What the visitor typed, to show again (never the password).
#[derive(Debug, Default)]
struct Typed<'f> {
    family: Option<&'f str>,
    given: Option<&'f str>,
    birth_date: Option<&'f str>,
    gender: Option<&'f str>,
    national_id: Option<&'f str>,
    email: Option<&'f str>,
    consents: Vec<&'f str>,
}

impl<'f> Typed<'f> {
    fn of(f: &'f Form) -> Self {
        Self {
            family: f.get("family"),
            given: f.get("given"),
            birth_date: f.get("birth_date"),
            gender: f.get("gender"),
            national_id: f.get("national_id"),
            email: f.get("email"),
            consents: f.all("consent"),
        }
    }
}

/// What a form page says besides its fields: a refusal of the whole post.
enum Alert {
    None,
    /// The slot went to someone else: the other slots follow.
    Taken,
    /// Something the visitor must fix (already localized).
    Fix(String),
}

pub async fn book<H: Host>(
    page: &mut Page<'_, '_, H>,
    slot: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let slot = api::parse_uuid(slot).ok_or(PageError::NotFound)?;
    // A practitioner or an admin does not book as a patient here.
    if page
        .session
        .as_ref()
        .is_some_and(|s| s.role != Role::Patient || s.patient.is_none())
    {
        return Err(PageError::Forbidden);
    }
    if page.req.method() != Method::POST {
        let (booking, others) = load_slot(page, &slot).await?;
        if !booking.bookable {
            return Ok(form_page(
                page,
                StatusCode::CONFLICT,
                &booking,
                &others,
                &Typed::default(),
                &FieldErrors::default(),
                Alert::Taken,
            ));
        }
        return Ok(form_page(
            page,
            StatusCode::OK,
            &booking,
            &others,
            &Typed::default(),
            &FieldErrors::default(),
            Alert::None,
        ));
    }
    let posted = page.posted()?.clone();
    let typed = Typed::of(&posted);
    let policy = policy_for(&page.entry.country);
    let today = civil_date(page.ctx.host.now_millis());
    let rules = Rules {
        policy: &policy,
        today: &today,
        currency: page.entry.billing_currency().ok(),
    };
    let mut errors = FieldErrors::default();
    let consents = booking_consents(&policy);
    for kind in &consents {
        if !typed.consents.contains(kind) {
            errors.add("consent", page.text("booking-consent-missing"));
            break;
        }
    }
    let signed_in = page.session.as_ref().and_then(|s| s.patient.clone());
    let new_patient = match &signed_in {
        Some(_) => None,
        None => Some(new_patient(
            page,
            &posted,
            &typed,
            &policy,
            &rules,
            &mut errors,
        )),
    };
    if !errors.is_empty() {
        let (booking, others) = load_slot(page, &slot).await?;
        return Ok(form_page(
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            &booking,
            &others,
            &typed,
            &errors,
            Alert::None,
        ));
    }
    let patient_id = match (&signed_in, &new_patient) {
        (Some(id), _) => id.clone(),
        (None, Some(Ok(p))) => p.id.clone(),
        _ => return Err(PageError::Internal("booking: no patient".into())),
    };
    let mut calls = Vec::new();
    let mut account_at = None;
    if let Some(Ok(p)) = &new_patient {
        calls.push(p.call.clone());
    }
    let now = dates::to_rfc3339(
        chrono::DateTime::from_timestamp_millis(
            i64::try_from(page.ctx.host.now_millis()).unwrap_or(0),
        )
        .unwrap_or_default(),
    );
    for kind in &consents {
        calls.push(create_call(
            &Consent,
            consent_resource(&patient_id, kind, &now),
            &rules,
        )?);
    }
    let appointment_at = calls.len();
    calls.push(create_call(
        &Appointment,
        json!({
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": format!("Slot/{slot}")}],
            "participant": [{"actor": {"reference": format!("Patient/{patient_id}")},
                             "required": "required", "status": "accepted"}]
        }),
        &rules,
    )?);
    if let Some(Ok(p)) = &new_patient {
        account_at = Some(calls.len());
        calls.push(p.account.clone());
    }
    match page.write(calls).await {
        Ok(response) => {
            let appointment = rows(&response, appointment_at)
                .first()
                .and_then(|r| r.get("id")?.as_str().map(str::to_owned))
                .ok_or_else(|| PageError::Internal("appointment.create: no row".into()))?;
            if let (Some(at), Some(Ok(p))) = (account_at, &new_patient) {
                let account = rows(&response, at)
                    .first()
                    .and_then(|r| r.get("id")?.as_str().map(str::to_owned))
                    .ok_or_else(|| PageError::Internal("account.create: no row".into()))?;
                open_session(page, account, p.display_name.clone(), patient_id.clone())?;
            }
            Ok(page.redirect(&format!("/patient/appointments/{appointment}")))
        }
        Err(e) => refused(page, e, &slot, &typed, account_at, appointment_at).await,
    }
}

/// A refused booking, as the visitor should read it: next to the field, or the slot taken
/// with the other free times. Never an error page for what the visitor can mend.
async fn refused<H: Host>(
    page: &mut Page<'_, '_, H>,
    e: DataError,
    slot: &str,
    typed: &Typed<'_>,
    account_at: Option<usize>,
    appointment_at: usize,
) -> Result<Response<Vec<u8>>, PageError> {
    if e.code().retryable() {
        return Err(PageError::Unavailable);
    }
    let at = match &e {
        DataError::Region { error, .. } => error.statement,
        _ => None,
    };
    let mut errors = FieldErrors::default();
    let (status, alert) = match (e.code(), at) {
        (ErrorCode::Conflict, Some(i)) if Some(i) == account_at => {
            errors.add("email", page.text("booking-email-taken"));
            (StatusCode::CONFLICT, Alert::None)
        }
        _ => match from_data_error(e) {
            ApiError::Conflict(_) => (StatusCode::CONFLICT, Alert::Taken),
            ApiError::ConsentRequired { .. } => {
                errors.add("consent", page.text("booking-consent-missing"));
                (StatusCode::FORBIDDEN, Alert::None)
            }
            ApiError::Unprocessable(issues) => {
                for i in &issues {
                    add_issue(page, &mut errors, i);
                }
                let alert = if errors.is_empty() || at == Some(appointment_at) {
                    Alert::Fix(page.text("booking-refused"))
                } else {
                    Alert::None
                };
                (StatusCode::UNPROCESSABLE_ENTITY, alert)
            }
            other => return Err(PageError::Internal(other.to_string())),
        },
    };
    let (booking, others) = load_slot(page, slot).await?;
    Ok(form_page(
        page, status, &booking, &others, typed, &errors, alert,
    ))
}

/// A new patient's part of the batch: the Patient (its id drawn here, so the Consent, the
/// Appointment and the account can name it) and the account.
struct NewPatient {
    id: String,
    call: Call,
    account: Call,
    display_name: String,
}

/// Checks a new patient's details — the Patient through the API's own validation under the
/// clinic's policy, the email and the password by the accounts' rules — adding each fault
/// next to its field.
fn new_patient<H: Host>(
    page: &Page<'_, '_, H>,
    posted: &Form,
    typed: &Typed<'_>,
    policy: &Policy,
    rules: &Rules<'_>,
    errors: &mut FieldErrors,
) -> Result<NewPatient, ()> {
    let email = match typed.email.map(crate::accounts::normalize_email) {
        Some(Some(e)) => Some(e),
        Some(None) => {
            errors.add("email", page.text("booking-email-invalid"));
            None
        }
        None => {
            errors.add("email", page.text("booking-email-missing"));
            None
        }
    };
    let password = posted.raw("password");
    match password.map(crate::accounts::check_password) {
        None => errors.add("password", page.text("booking-password-missing")),
        Some(Err(_)) => errors.add("password", page.text("booking-password-rule")),
        Some(Ok(())) => {}
    }
    // The form's own requirements before the resource's: the family name is always asked.
    for (field, name, value) in [
        (PatientField::Family, "family", typed.family),
        (PatientField::Given, "given", typed.given),
        (PatientField::BirthDate, "birth_date", typed.birth_date),
        (PatientField::Gender, "gender", typed.gender),
    ] {
        if value.is_none() && required(policy, field) {
            errors.add(
                name,
                page.text(&format!("booking-{}-missing", name.replace('_', "-"))),
            );
        }
    }
    let mut patient = Map::new();
    patient.insert("resourceType".into(), json!("Patient"));
    let mut name = Map::new();
    if let Some(f) = typed.family {
        name.insert("family".into(), json!(f));
    }
    if let Some(g) = typed.given {
        name.insert("given".into(), json!([g]));
    }
    if !name.is_empty() {
        patient.insert("name".into(), json!([name]));
    }
    if let Some(d) = typed.birth_date {
        patient.insert("birthDate".into(), json!(d));
    }
    if let Some(g) = typed.gender {
        patient.insert("gender".into(), json!(g));
    }
    if let (Some(v), Some(rule)) = (typed.national_id, policy.national_identifier.value) {
        patient.insert(
            "identifier".into(),
            json!([{"system": rule.scheme.system(), "value": v}]),
        );
    }
    if let Some(e) = &email {
        patient.insert("telecom".into(), json!([{"system": "email", "value": e}]));
    }
    let valid = match resource::validate(&Patient, Value::Object(patient), rules) {
        Ok(v) => Some(v),
        Err(Invalid::Issues(issues)) => {
            for i in &issues {
                add_issue(page, errors, i);
            }
            None
        }
        Err(Invalid::NotAResource) => None,
    };
    let (Some(valid), Some(email), Some(password)) = (valid, email, password) else {
        return Err(());
    };
    if !errors.is_empty() {
        return Err(());
    }
    let id = new_id(page);
    let mut row = Map::new();
    row.insert("id".into(), json!(id));
    row.insert("resource".into(), valid.resource);
    for (c, v) in Patient.columns().iter().zip(valid.columns) {
        row.insert(c.name.into(), v);
    }
    let display_name = [typed.given, typed.family]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(NewPatient {
        call: Call {
            name: bulk_name(&Patient, BulkMode::Strict),
            params: vec![json!([Value::Object(row)])],
        },
        account: Call {
            name: crate::accounts::names::ACCOUNT_CREATE.into(),
            params: vec![
                json!(email),
                json!("patient"),
                json!(display_name),
                json!(id),
                Value::Null,
                json!(password),
            ],
        },
        id,
        display_name,
    })
}

/// Which form field an issue of the Patient's validation (or the clinic's schema) is about.
fn field_of(issue: &Issue) -> Option<&'static str> {
    let path = issue.expression.as_deref()?;
    if path.starts_with("Patient.birthDate") {
        Some("birth_date")
    } else if path.starts_with("Patient.gender") {
        Some("gender")
    } else if path.starts_with("Patient.identifier") {
        Some("national_id")
    } else if path.starts_with("Patient.telecom") {
        Some("email")
    } else if path.starts_with("Patient.name") && path.contains("given") {
        Some("given")
    } else if path.starts_with("Patient.name") {
        Some("family")
    } else {
        None
    }
}

/// Adds an issue next to its field, in the page's words (the API's diagnostics are
/// English): one message per field.
fn add_issue<H: Host>(page: &Page<'_, '_, H>, errors: &mut FieldErrors, issue: &Issue) {
    let Some(field) = field_of(issue) else {
        return;
    };
    if errors.of(field).is_some() {
        return;
    }
    let id = match (field, issue.code) {
        (_, crate::fhir::IssueCode::Required) => {
            format!("booking-{}-missing", field.replace('_', "-"))
        }
        _ => format!("booking-{}-invalid", field.replace('_', "-")),
    };
    errors.add(field, page.text(&id));
}

/// A create statement's call for a resource checked by the API's validation: the same
/// statement `POST /v1/<plural>` (and `Slot/$book`) runs.
fn create_call(r: &dyn Resource, body: Value, rules: &Rules<'_>) -> Result<Call, PageError> {
    let valid = resource::validate(r, body, rules).map_err(|e| {
        PageError::Internal(format!(
            "{} built by the booking page is invalid: {e:?}",
            r.name()
        ))
    })?;
    Ok(Call {
        name: statement_name(r, Interaction::Create.verb()),
        params: std::iter::once(valid.resource)
            .chain(valid.columns)
            .collect(),
    })
}

/// The consent a ticked box records: active from now, of the platform's consent kind (the
/// gate's), the patient's own.
pub fn consent_resource(patient: &str, kind: &str, now: &str) -> Value {
    json!({
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "treatment"}]},
        "category": [{"coding": [{"system": CONSENT_KIND_SYSTEM, "code": kind}]}],
        "patient": {"reference": format!("Patient/{patient}")},
        "dateTime": now,
        "performer": [{"reference": format!("Patient/{patient}")}],
        "policyRule": {"text": format!("consent to {kind}, given while booking online")},
        "provision": {"type": "permit", "period": {"start": now}}
    })
}

/// A fresh UUID v4 from the host's randomness (as the Bundle writer draws them).
fn new_id<H: Host>(page: &Page<'_, '_, H>) -> String {
    let mut b = [0u8; 16];
    page.ctx.host.fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = api::idempotency::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Signs the new patient in, as `/sign-in` does after a sign-in.
fn open_session<H: Host>(
    page: &mut Page<'_, '_, H>,
    account: String,
    name: String,
    patient: String,
) -> Result<(), PageError> {
    let session = Session {
        tenant: page.entry.slug.clone(),
        region: page.entry.home_region.clone(),
        account,
        role: Role::Patient,
        name,
        patient: Some(patient),
        practitioner: None,
        csrf: form::random_token(|b| page.ctx.host.fill_random(b)),
    };
    let token = page
        .ctx
        .config
        .session_keys
        .sign(&session, page.ctx.now_secs())
        .map_err(|e| PageError::Internal(format!("signing a session: {e}")))?;
    page.set_cookie(session::set_cookie(&token));
    Ok(())
}

/// The booking page: the slot, then the form (or, the slot taken, the other free times).
fn form_page<H: Host>(
    page: &Page<'_, '_, H>,
    status: StatusCode,
    booking: &Booking,
    others: &[SlotView],
    typed: &Typed<'_>,
    errors: &FieldErrors,
    alert: Alert,
) -> Response<Vec<u8>> {
    let locale = page.locale;
    let title = page.t("booking-title");
    let when = escape(&when(locale, booking.slot.start));
    let with = page.tr(
        "booking-with",
        &[("practitioner", Arg::Str(&booking.practitioner.name))],
    );
    let summary = format!(
        r#"<p class="notice"><strong>{when}</strong><br>{with}</p><p>{utc}</p>"#,
        utc = page.t("booking-times-in-utc"),
    );
    let taken = matches!(alert, Alert::Taken) || !booking.bookable;
    if taken {
        let body = format!(
            r#"<main>
<h1>{title}</h1>
<p class="alert" role="alert">{taken}</p>
{summary}
<h2>{other}</h2>
{list}
<p><a href="/practitioners/{pid}">{back}</a></p>
</main>"#,
            taken = page.t("booking-slot-taken"),
            other = page.t("booking-other-slots"),
            list = slot_list(locale, others),
            pid = escape(&booking.practitioner.id),
            back = page.tr(
                "booking-see-practitioner",
                &[("practitioner", Arg::Str(&booking.practitioner.name))]
            ),
        );
        let _ = status;
        return page.render(StatusCode::CONFLICT, &title, &body);
    }
    let alert = match alert {
        Alert::Fix(m) => format!(r#"<p class="alert" role="alert">{}</p>"#, escape(&m)),
        _ if !errors.is_empty() => format!(
            r#"<p class="alert" role="alert">{}</p>"#,
            page.t("booking-fix-errors")
        ),
        _ => String::new(),
    };
    let policy = policy_for(&page.entry.country);
    let details = if page.session.is_some() {
        format!(
            "<p>{}</p>",
            page.tr(
                "booking-as",
                &[(
                    "name",
                    Arg::Str(page.session.as_ref().map_or("", |s| &s.name))
                )]
            )
        )
    } else {
        details_fields(page, &policy, typed, errors)
    };
    let consents = consent_fields(page, &policy, typed, errors);
    let body = format!(
        r#"<main>
<h1>{title}</h1>
{summary}
{alert}
<form method="post" action="/book/{slot}" novalidate>
{hidden}
{details}
{consents}
<button type="submit">{submit}</button>
</form>
<p><a href="/practitioners/{pid}">{other}</a></p>
</main>"#,
        slot = escape(&booking.slot.id),
        hidden = page.hidden(true),
        submit = page.t("booking-submit"),
        pid = escape(&booking.practitioner.id),
        other = page.t("booking-choose-another"),
    );
    page.render(status, &title, &body)
}

/// The new patient's fields: identity as the country requires it, then the account.
fn details_fields<H: Host>(
    page: &Page<'_, '_, H>,
    policy: &Policy,
    typed: &Typed<'_>,
    errors: &FieldErrors,
) -> String {
    let label = |id: &str, required: bool| {
        let text = page.text(id);
        if required {
            text
        } else {
            format!("{text} {}", page.text("booking-optional"))
        }
    };
    let given_required = required(policy, PatientField::Given);
    let birth_required = required(policy, PatientField::BirthDate);
    let gender_required = required(policy, PatientField::Gender);
    let given_label = label("booking-given", given_required);
    let family_label = label("booking-family", true);
    let birth_label = label("booking-birth-date", birth_required);
    let mut html = String::new();
    html.push_str(&format!(
        "<fieldset><legend>{}</legend>",
        page.t("booking-details")
    ));
    html.push_str(
        &Field {
            name: "given",
            label: &given_label,
            kind: "text",
            value: typed.given,
            required: given_required,
            autocomplete: Some("given-name"),
        }
        .html(errors),
    );
    html.push_str(
        &Field {
            name: "family",
            label: &family_label,
            kind: "text",
            value: typed.family,
            required: true,
            autocomplete: Some("family-name"),
        }
        .html(errors),
    );
    html.push_str(
        &Field {
            name: "birth_date",
            label: &birth_label,
            kind: "date",
            value: typed.birth_date,
            required: birth_required,
            autocomplete: Some("bday"),
        }
        .html(errors),
    );
    html.push_str(&gender_field(
        page,
        &label("booking-gender", gender_required),
        gender_required,
        typed.gender,
        errors,
    ));
    if let Some(rule) = policy.national_identifier.value {
        let id_label = label(
            &format!("booking-national-id-{}", scheme_key(rule.scheme)),
            rule.required,
        );
        html.push_str(
            &Field {
                name: "national_id",
                label: &id_label,
                kind: "text",
                value: typed.national_id,
                required: rule.required,
                autocomplete: Some("off"),
            }
            .html(errors),
        );
    }
    html.push_str("</fieldset>");
    let email_label = page.text("booking-email");
    let password_label = page.text("booking-password");
    html.push_str(&format!(
        "<fieldset><legend>{}</legend><p>{}</p>",
        page.t("booking-account"),
        page.t("booking-account-intro")
    ));
    html.push_str(
        &Field {
            name: "email",
            label: &email_label,
            kind: "email",
            value: typed.email,
            required: true,
            autocomplete: Some("email"),
        }
        .html(errors),
    );
    html.push_str(
        &Field {
            name: "password",
            label: &password_label,
            kind: "password",
            value: None,
            required: true,
            autocomplete: Some("new-password"),
        }
        .html(errors),
    );
    html.push_str(&format!(
        r#"<p id="f-password-rule">{}</p></fieldset>"#,
        page.t("booking-password-hint")
    ));
    html
}

/// The short key of a national identifier scheme in message ids.
fn scheme_key(s: crate::compliance::identifiers::NationalId) -> &'static str {
    use crate::compliance::identifiers::NationalId;
    match s {
        NationalId::FrNir => "fr-nir",
        NationalId::ZaId => "za-id",
        NationalId::UsSsn => "us-ssn",
    }
}

/// The administrative sex as FHIR codes it, in the page's words.
fn gender_field<H: Host>(
    page: &Page<'_, '_, H>,
    label: &str,
    required: bool,
    value: Option<&str>,
    errors: &FieldErrors,
) -> String {
    let mut attrs = String::new();
    if required {
        attrs.push_str(" required");
    }
    let error = errors.of("gender").map(|m| {
        attrs.push_str(r#" aria-invalid="true" aria-describedby="f-gender-error""#);
        format!(
            r#"<p class="field-error" id="f-gender-error">{}</p>"#,
            escape(m)
        )
    });
    let mut options = format!(
        r#"<option value="">{}</option>"#,
        page.t("booking-gender-choose")
    );
    for code in ["female", "male", "other", "unknown"] {
        let selected = if value == Some(code) { " selected" } else { "" };
        options.push_str(&format!(
            r#"<option value="{code}"{selected}>{}</option>"#,
            page.t(&format!("booking-gender-{code}"))
        ));
    }
    format!(
        r#"<div class="field"><label for="f-gender">{label}</label><select id="f-gender" name="gender" autocomplete="sex"{attrs}>{options}</select>{error}</div>"#,
        label = escape(label),
        error = error.unwrap_or_default(),
    )
}

/// The consents the booking needs, as required checkboxes in the policy's words (and its
/// source, as the law or what applies instead).
fn consent_fields<H: Host>(
    page: &Page<'_, '_, H>,
    policy: &Policy,
    typed: &Typed<'_>,
    errors: &FieldErrors,
) -> String {
    let kinds = booking_consents(policy);
    if kinds.is_empty() {
        return String::new();
    }
    let error = errors.of("consent");
    let mut html = format!("<fieldset><legend>{}</legend>", page.t("booking-consents"));
    for (i, rule) in policy
        .consents
        .iter()
        .filter(|c| c.gates.contains(&Processing::Teleconsultation))
        .enumerate()
    {
        let id = format!("f-consent-{i}");
        let checked = if typed.consents.contains(&rule.kind) {
            " checked"
        } else {
            ""
        };
        let invalid = if error.is_some() {
            r#" aria-invalid="true" aria-describedby="f-consent-error""#
        } else {
            ""
        };
        let text = match rule.kind {
            "telemedicine" => page.t("booking-consent-telemedicine"),
            other => page.tr("booking-consent-other", &[("kind", Arg::Str(other))]),
        };
        html.push_str(&format!(
            r#"<div class="field"><label for="{id}"><input type="checkbox" id="{id}" name="consent" value="{kind}" required{checked}{invalid}> {text}</label><small>{source}</small></div>"#,
            kind = escape(rule.kind),
            source = page.tr(
                "booking-consent-source",
                &[("source", Arg::Str(&rule.source.citation()))]
            ),
        ));
    }
    if let Some(m) = error {
        html.push_str(&format!(
            r#"<p class="field-error" id="f-consent-error">{}</p>"#,
            escape(m)
        ));
    }
    html.push_str("</fieldset>");
    html
}

// ---------------------------------------------------------------------------------------
// `/patient/appointments/{id}` and its `.ics`

/// The appointment, if it is the signed-in patient's.
struct Booked {
    id: String,
    start: Instant,
    end: Instant,
    status: String,
    practitioner: Option<PractitionerView>,
}

async fn load_appointment<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Booked, PageError> {
    let session = page.require(&[Role::Patient])?;
    let patient = session.patient.clone().ok_or(PageError::Forbidden)?;
    let id = api::parse_uuid(id).ok_or(PageError::NotFound)?;
    let response = page
        .read(vec![Call {
            name: names::APPOINTMENT.into(),
            params: vec![json!(id), json!(patient)],
        }])
        .await?;
    // Another patient's appointment reads as no appointment at all.
    let row = rows(&response, 0).first().ok_or(PageError::NotFound)?;
    let at = |k: &str| row.get(k).and_then(Value::as_str).and_then(dates::instant);
    let malformed = || PageError::Internal(format!("{}: malformed row", names::APPOINTMENT));
    Ok(Booked {
        id,
        start: at("start").ok_or_else(malformed)?,
        end: at("end").ok_or_else(malformed)?,
        status: row
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        practitioner: PractitionerView::of_row(row, "practitioner", "practitioner_resource"),
    })
}

/// The confirmation: when, with whom, and the calendar file.
pub async fn appointment<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    let a = load_appointment(page, id).await?;
    let title = if a.status == "booked" {
        page.t("booking-confirmed-title")
    } else {
        page.t("booking-appointment-title")
    };
    let practitioner = a.practitioner.as_ref().map_or(String::new(), |p| {
        format!(
            r#"<dt>{}</dt><dd><a href="/practitioners/{}">{}</a></dd>"#,
            page.t("booking-practitioner"),
            escape(&p.id),
            escape(&p.name)
        )
    });
    let body = format!(
        r#"<main>
<h1>{title}</h1>
<dl>
<dt>{date_label}</dt><dd>{when}</dd>
{practitioner}
<dt>{status_label}</dt><dd>{status}</dd>
</dl>
<p>{utc}</p>
<p><a class="button" href="/patient/appointments/{id}.ics" download>{ics}</a></p>
<p><a href="/patient">{space}</a></p>
</main>"#,
        date_label = page.t("booking-date"),
        when = escape(&when(page.locale, a.start)),
        status_label = page.t("booking-status"),
        status = page.t(&format!("booking-status-{}", status_key(&a.status))),
        utc = page.t("booking-times-in-utc"),
        id = escape(&a.id),
        ics = page.t("booking-add-to-calendar"),
        space = page.t("web-my-space"),
    );
    Ok(page.render(StatusCode::OK, &title, &body))
}

fn status_key(status: &str) -> &'static str {
    match status {
        "booked" => "booked",
        "arrived" => "arrived",
        "fulfilled" => "fulfilled",
        "cancelled" => "cancelled",
        "noshow" => "noshow",
        _ => "other",
    }
}

/// The appointment as an iCalendar file.
pub async fn appointment_ics<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    let a = load_appointment(page, id).await?;
    let clinic = &page.entry.name;
    let summary = match &a.practitioner {
        Some(p) => message_plain(
            page.locale,
            "booking-ics-summary-with",
            &[
                ("clinic", Arg::Str(clinic)),
                ("practitioner", Arg::Str(&p.name)),
            ],
        ),
        None => message_plain(
            page.locale,
            "booking-ics-summary",
            &[("clinic", Arg::Str(clinic))],
        ),
    };
    let host = page
        .req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .or(page.req.uri().host())
        .unwrap_or("localhost")
        .to_owned();
    let uid = format!("{}@{host}", a.id);
    let url = format!("https://{host}/patient/appointments/{}", a.id);
    let stamp = chrono::DateTime::from_timestamp_millis(
        i64::try_from(page.ctx.host.now_millis()).unwrap_or(0),
    )
    .unwrap_or_default();
    let body = ics::calendar(&ics::Event {
        uid: &uid,
        stamp,
        start: a.start,
        end: a.end,
        summary: &summary,
        description: None,
        location: None,
        url: Some(&url),
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", ics::CONTENT_TYPE)
        .header(
            "content-disposition",
            format!("attachment; filename=\"appointment-{}.ics\"", &a.id[..8]),
        )
        .header("content-language", page.locale.tag())
        .header("x-content-type-options", "nosniff")
        .body(body.into_bytes())
        .map_err(|e| PageError::Internal(format!("ics response: {e}")))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::country::CountryCode;

    fn policy(c: &str) -> Policy {
        policy_for(&c.parse::<CountryCode>().unwrap())
    }

    #[test]
    fn practitioners_read_as_fhir_gives_them() {
        let p = PractitionerView::of(
            "x",
            &json!({"name": [{"family": "Durand", "given": ["Claire"], "prefix": ["Dr"]}],
                    "qualification": [{"code": {"text": "Médecine générale"}},
                                      {"code": {"coding": [{"display": "Cardiologie"}]}},
                                      {"code": {"coding": [{"code": "x"}]}}]}),
        );
        assert_eq!(p.name, "Dr Claire Durand");
        assert_eq!(p.specialties, ["Médecine générale", "Cardiologie"]);
        let t = PractitionerView::of("y", &json!({"name": [{"text": " Awa Ba "}]}));
        assert_eq!(t.name, "Awa Ba");
        assert_eq!(PractitionerView::of("z", &json!({})).name, "—");
    }

    #[test]
    fn times_are_written_in_the_locale_and_say_utc() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 8, 5, 0).unwrap();
        let plain =
            |l: &str| when(Locale::from_tag(l).unwrap(), t).replace(['\u{2068}', '\u{2069}'], "");
        assert_eq!(plain("fr"), "mardi 1 déc. 2026 à 08:05 UTC");
        assert_eq!(plain("en"), "Tuesday, Dec 1, 2026, 08:05 UTC");
        assert!(plain("es").starts_with("martes, 1 dic"), "{}", plain("es"));
        assert!(plain("ar").starts_with("الثلاثاء"), "{}", plain("ar"));
    }

    #[test]
    fn required_fields_and_consents_follow_the_country() {
        // France: the INS traits, and the teleconsultation consent.
        let fr = policy("FR");
        for f in PatientField::ALL {
            assert!(required(&fr, f), "FR {f:?}");
        }
        assert_eq!(booking_consents(&fr), ["telemedicine"]);
        // United States: names and birth date; no teleconsultation gate.
        let us = policy("US");
        assert!(required(&us, PatientField::BirthDate));
        assert!(!required(&us, PatientField::Gender));
        assert!(booking_consents(&us).is_empty());
        // Senegal: family name and birth date; the baseline's teleconsultation consent.
        let sn = policy("SN");
        assert!(required(&sn, PatientField::BirthDate));
        assert!(!required(&sn, PatientField::Given));
        assert_eq!(booking_consents(&sn), ["telemedicine"]);
    }

    #[test]
    fn the_consent_written_is_a_valid_consent_of_the_gates_kind() {
        let rules = Rules {
            policy: &policy("FR"),
            today: "2026-11-30",
            currency: None,
        };
        let c = consent_resource(
            "5b0c1a2e-1111-4222-8333-444455556666",
            "telemedicine",
            "2026-11-30T10:00:00Z",
        );
        let call = create_call(&Consent, c, &rules).unwrap();
        assert_eq!(call.name, "consent.create");
        assert!(call.params.iter().any(|v| {
            v.to_string()
                .contains(&format!("{CONSENT_KIND_SYSTEM}|telemedicine"))
        }));
    }

    #[test]
    fn issues_land_next_to_their_field() {
        let at = |p: &str| field_of(&Issue::new(crate::fhir::IssueCode::Value, "x").at(p));
        assert_eq!(at("Patient.birthDate"), Some("birth_date"));
        assert_eq!(at("Patient.name.given"), Some("given"));
        assert_eq!(at("Patient.name[0].family"), Some("family"));
        assert_eq!(at("Patient.identifier[0].value"), Some("national_id"));
        assert_eq!(at("Patient.gender"), Some("gender"));
        assert_eq!(at("Appointment.slot"), None);
    }
}
