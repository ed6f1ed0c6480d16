//! The signed-in spaces: `/patient` (upcoming appointments with a cancel button, past
//! visits, invoices, charts of the patient's readings) and `/practitioner` (today's schedule with
//! arrived / fulfilled / no-show buttons, and the record of a patient who has an
//! appointment with them).
//!
//! Reads reuse the resources' catalog statements where they fit (`appointment.search`,
//! `observation.search-by-date-desc`, `patient.read`), audited as the signed-in person.
//! Appointments come through statements of these pages ([`statements`]) because what
//! pages show and check is not in the stored resource alone: the practitioner (set by the
//! booking from the slot, in a column) and the other person's name, in the same call. A status change is the API's own
//! Appointment update: the appointment is read, its status set, the whole resource checked
//! by [`resource::validate`] and written by `appointment.update` at the version read; the
//! clinic's schema decides which transitions are allowed (`appointments_status_transition`),
//! frees the slot of a cancelled appointment and (with billing) invoices a fulfilled one.
//!
//! Times are shown in UTC, and say so: clinics have no time zone yet, so "today" is the UTC
//! day.

use std::collections::HashMap;

use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    Page, PageError,
    chart::{self, Chart, Reading, Series},
    escape, price, when,
};
use crate::{
    accounts::Role,
    api::{
        parse_uuid,
        resource::{self, Interaction, Rules, sorted_search_name, statement_name},
        resources::{appointment::Appointment, observation::Observation},
        search,
    },
    billing,
    compliance::policy_for,
    dataplane::{
        client::DataError,
        statement::{Access, Audit, Param, ParamType, SchemaScope, Statement},
        wire::{Call, StatementResult},
    },
    fhir::datatypes::civil_date,
    host::{Host, LogLevel},
    i18n::Arg,
};

/// The practitioner's appointments in a time range, with each patient's name.
const PRACTITIONER_DAY: &str = "web.practitioner-day";

/// A patient's appointments, with each practitioner's name.
const PATIENT_APPOINTMENTS: &str = "web.patient-appointments";
/// One appointment, with its practitioner (the booking sets the column from the slot; the
/// resource names the practitioner only if the client did).
const APPOINTMENT: &str = "web.appointment";

/// The columns of an appointment row: what [`resource::from_row`] reads, the patient for the
/// audit trail, and the practitioner.
const APPOINTMENT_ROW: &str = "a.id, a.version_id, a.last_updated, a.resource, \
                               a.patient AS audit_patient, a.practitioner AS practitioner_id";

const fn param(name: &'static str, ty: ParamType) -> Param {
    Param {
        name,
        ty,
        nullable: false,
    }
}

/// The statements of these pages beyond the resources' own; audited like the API's
/// searches and reads of appointments (each row's patient too).
pub fn statements() -> Vec<Statement> {
    const DAY: &[Param] = &[
        param("practitioner", ParamType::Uuid),
        param("from", ParamType::Timestamptz),
        param("to", ParamType::Timestamptz),
    ];
    const ONE: &[Param] = &[param("id", ParamType::Uuid)];
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let audit = |action| {
        Some(Audit {
            action,
            resource_type: "Appointment",
        })
    };
    vec![
        Statement {
            name: PRACTITIONER_DAY,
            sql: leak(format!(
                "SELECT {APPOINTMENT_ROW}, p.resource->'name' AS patient_name \
                 FROM appointments a JOIN patients p ON p.id = a.patient \
                 WHERE a.practitioner = $1 AND a.starts_at >= $2 AND a.starts_at < $3 \
                 ORDER BY a.starts_at, a.seq LIMIT 200"
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: DAY,
            audit: audit("search"),
        },
        Statement {
            name: PATIENT_APPOINTMENTS,
            sql: leak(format!(
                "SELECT {APPOINTMENT_ROW}, pr.resource->'name' AS practitioner_name \
                 FROM appointments a LEFT JOIN practitioners pr ON pr.id = a.practitioner \
                 WHERE a.patient = $1 ORDER BY a.starts_at, a.seq LIMIT 500"
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: ONE,
            audit: audit("search"),
        },
        Statement {
            name: APPOINTMENT,
            sql: leak(format!(
                "SELECT {APPOINTMENT_ROW} FROM appointments a WHERE a.id = $1"
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: ONE,
            audit: audit("read"),
        },
    ]
}

/// The LOINC codes charted (REFERENCE.md, vital signs; `observation.rs`).
const BP_PANEL: &str = "85354-9";
const SYSTOLIC: &str = "8480-6";
const DIASTOLIC: &str = "8462-4";
const GLUCOSE_MASS: &str = "2339-0";
const GLUCOSE_MOLAR: &str = "15074-8";
const WEIGHT: &str = "29463-7";
/// The codes read, in the order of their calls.
const CHARTED: [&str; 4] = [BP_PANEL, GLUCOSE_MASS, GLUCOSE_MOLAR, WEIGHT];

/// An appointment as these pages show it.
#[derive(Debug, Clone, PartialEq)]
struct Appt {
    id: String,
    version: i64,
    status: String,
    start: Option<i64>,
    patient: Option<String>,
    practitioner: Option<String>,
    resource: Value,
}

/// The id of the participant of type `target`.
fn participant(resource: &Value, target: &str) -> Option<String> {
    resource["participant"]
        .as_array()?
        .iter()
        .filter_map(|p| p["actor"]["reference"].as_str())
        .find_map(|r| search::reference_id(r, target).filter(|_| r.starts_with(target)))
}

impl Appt {
    fn of(row: &Map<String, Value>) -> Option<Self> {
        let resource = resource::from_row(row)?;
        Some(Self {
            id: resource["id"].as_str()?.to_owned(),
            version: row.get("version_id")?.as_i64()?,
            status: resource["status"].as_str().unwrap_or_default().to_owned(),
            start: resource["start"].as_str().and_then(when::parse_instant),
            patient: participant(&resource, "Patient"),
            practitioner: row
                .get("practitioner_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| participant(&resource, "Practitioner")),
            resource,
        })
    }
}

/// A person's name from a FHIR `HumanName` array: its text, else prefix, given and family.
fn human_name(names: &Value) -> String {
    let Some(n) = names.as_array().and_then(|a| a.first()) else {
        return String::new();
    };
    if let Some(t) = n["text"].as_str() {
        return t.to_owned();
    }
    let words = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut parts = words(&n["prefix"]);
    parts.extend(words(&n["given"]));
    if let Some(f) = n["family"].as_str() {
        parts.push(f.to_owned());
    }
    parts.join(" ")
}

fn rows_of(results: &[StatementResult], i: usize) -> &[Map<String, Value>] {
    results.get(i).map_or(&[][..], |r| r.rows.as_slice())
}

/// A search of `r` by a FHIR query, as one call: in creation order, or by `_sort`.
fn search_call(r: &dyn resource::Resource, query: &str, limit: usize) -> Result<Call, PageError> {
    let s = search::parse(r, Some(query))
        .map_err(|e| PageError::Internal(format!("{query}: {e:?}")))?;
    let (name, position) = match &s.sort {
        None => (
            statement_name(r, Interaction::SearchType.verb()),
            vec![Value::Null],
        ),
        Some((sort, desc)) => (
            sorted_search_name(r, sort, *desc),
            vec![Value::Null, Value::Null],
        ),
    };
    Ok(Call {
        name,
        params: position
            .into_iter()
            .chain(s.filters)
            .chain(std::iter::once(json!(limit)))
            .collect(),
    })
}

/// The calls reading a patient's charted readings, newest first: one per code, one more
/// than a chart draws (so the chart knows it was capped).
fn reading_calls(patient: &str) -> Result<Vec<Call>, PageError> {
    CHARTED
        .iter()
        .map(|code| {
            search_call(
                &Observation,
                &format!("patient=Patient/{patient}&code=http://loinc.org|{code}&_sort=-date"),
                chart::MAX_POINTS + 1,
            )
        })
        .collect()
}

/// The value, unit and time of an element with a `valueQuantity`.
fn quantity(element: &Value, at: i64) -> Option<(String, Reading)> {
    let q = &element["valueQuantity"];
    let unit = q["unit"]
        .as_str()
        .or_else(|| q["code"].as_str())?
        .to_owned();
    Some((unit, Reading::from_json(at, &q["value"])?))
}

/// When a reading was taken.
fn taken(obs: &Value) -> Option<i64> {
    obs["effectiveDateTime"]
        .as_str()
        .or_else(|| obs["effectiveInstant"].as_str())
        .or_else(|| obs["effectivePeriod"]["start"].as_str())
        .and_then(when::parse_instant)
}

fn component<'a>(obs: &'a Value, code: &str) -> Option<&'a Value> {
    obs["component"].as_array()?.iter().find(|c| {
        c["code"]["coding"]
            .as_array()
            .is_some_and(|cs| cs.iter().any(|x| x["code"] == code))
    })
}

/// Charts of one kind: one per unit the readings come in (a chart has one value axis),
/// or one empty chart saying there is nothing yet.
fn kind_charts(
    id: &str,
    title: String,
    labels: &[String],
    readings: Vec<(usize, String, Reading)>,
) -> Vec<Chart> {
    let mut units: Vec<String> = Vec::new();
    for (_, u, _) in &readings {
        if !units.contains(u) {
            units.push(u.clone());
        }
    }
    if units.is_empty() {
        units.push(String::new());
    }
    units
        .iter()
        .enumerate()
        .map(|(k, unit)| Chart {
            id: format!("{id}-{k}"),
            title: title.clone(),
            unit: unit.clone(),
            series: labels
                .iter()
                .enumerate()
                .map(|(i, label)| Series {
                    label: label.clone(),
                    readings: readings
                        .iter()
                        .filter(|(s, u, _)| *s == i && u == unit)
                        .map(|(_, _, r)| r.clone())
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// The charts of the readings the calls of [`reading_calls`] returned (from `first`).
fn charts_html<H: Host>(
    page: &Page<'_, '_, H>,
    results: &[StatementResult],
    first: usize,
) -> String {
    let obs = |i: usize| -> Vec<Value> {
        rows_of(results, first + i)
            .iter()
            .filter_map(resource::from_row)
            .collect()
    };
    let mut bp = Vec::new();
    for o in obs(0) {
        let Some(at) = taken(&o) else { continue };
        for (i, code) in [SYSTOLIC, DIASTOLIC].into_iter().enumerate() {
            if let Some((u, r)) = component(&o, code).and_then(|c| quantity(c, at)) {
                bp.push((i, u, r));
            }
        }
    }
    let single = |i: usize| -> Vec<(usize, String, Reading)> {
        obs(i)
            .iter()
            .filter_map(|o| quantity(o, taken(o)?))
            .map(|(u, r)| (0, u, r))
            .collect()
    };
    let mut glucose = single(1);
    glucose.extend(single(2));
    let mut charts = kind_charts(
        "bp",
        page.text("spaces-bp"),
        &[page.text("spaces-systolic"), page.text("spaces-diastolic")],
        bp,
    );
    charts.extend(kind_charts(
        "glucose",
        page.text("spaces-glucose"),
        &[page.text("spaces-glucose")],
        glucose,
    ));
    charts.extend(kind_charts(
        "weight",
        page.text("spaces-weight"),
        &[page.text("spaces-weight")],
        single(3),
    ));
    charts.iter().map(|c| c.html(page.locale)).collect()
}

/// A status, in words.
fn status_text<H: Host>(page: &Page<'_, '_, H>, status: &str) -> String {
    let id = match status {
        "booked" => "spaces-status-booked",
        "arrived" => "spaces-status-arrived",
        "fulfilled" => "spaces-status-fulfilled",
        "cancelled" => "spaces-status-cancelled",
        "noshow" => "spaces-status-noshow",
        _ => "spaces-status-other",
    };
    page.text(id)
}

fn when_text<H: Host>(page: &Page<'_, '_, H>, a: &Appt) -> String {
    a.start
        .map(|t| when::date_time(page.locale, t))
        .unwrap_or_default()
}

/// The notice of a done post (`?done=<what>`), after its redirect.
fn done_notice<H: Host>(page: &Page<'_, '_, H>) -> String {
    let done = form_urlencoded::parse(page.req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned());
    let text = match done.as_deref() {
        Some("cancelled") => page.t("spaces-cancelled"),
        Some(s @ ("arrived" | "fulfilled" | "noshow")) => {
            let status = status_text(page, s);
            page.tr("spaces-marked", &[("status", Arg::Str(&status))])
        }
        _ => return String::new(),
    };
    format!(r#"<p class="notice" role="status">{text}</p>"#)
}

fn alert_html(alert: Option<&str>) -> String {
    alert
        .map(|a| format!(r#"<p class="alert" role="alert">{a}</p>"#))
        .unwrap_or_default()
}

fn now_secs<H: Host>(page: &Page<'_, '_, H>) -> i64 {
    i64::try_from(page.ctx.host.now_millis() / 1000).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------
// The patient's space

/// `GET /patient`.
pub async fn patient_home<H: Host>(
    page: &mut Page<'_, '_, H>,
) -> Result<Response<Vec<u8>>, PageError> {
    page.require(&[Role::Patient])?;
    patient_page(page, StatusCode::OK, None).await
}

/// The patient's page, with an alert (a refused cancellation) if any.
async fn patient_page<H: Host>(
    page: &mut Page<'_, '_, H>,
    status: StatusCode,
    alert: Option<String>,
) -> Result<Response<Vec<u8>>, PageError> {
    let session = page.require(&[Role::Patient])?;
    let patient = session
        .patient
        .clone()
        .and_then(|p| parse_uuid(&p))
        .ok_or(PageError::Forbidden)?;
    let mut calls = vec![Call {
        name: PATIENT_APPOINTMENTS.to_owned(),
        params: vec![json!(patient)],
    }];
    calls.extend(reading_calls(&patient)?);
    calls.push(Call {
        name: billing::names::PATIENT_INVOICES.to_owned(),
        params: vec![json!(patient), json!(MAX_INVOICES)],
    });
    // The rates ride along (same batch, no extra call) for an estimate in the currency the
    // patient thinks in.
    calls.push(Call {
        name: billing::names::LATEST_RATES.to_owned(),
        params: vec![],
    });
    let results = page.read(calls).await?.results;
    let rates = billing::rates_from_rows(rows_of(&results, 2 + CHARTED.len()));
    let invoices_html = invoices_html(page, rows_of(&results, 1 + CHARTED.len()), &rates);
    let names: HashMap<String, String> = rows_of(&results, 0)
        .iter()
        .filter_map(|row| {
            Some((
                row.get("practitioner_id")?.as_str()?.to_owned(),
                human_name(row.get("practitioner_name")?),
            ))
        })
        .collect();
    let now = now_secs(page);
    let mut appts: Vec<Appt> = rows_of(&results, 0).iter().filter_map(Appt::of).collect();
    appts.sort_by_key(|a| a.start);
    // Cancelled appointments are neither to come nor visits.
    let (upcoming, past): (Vec<&Appt>, Vec<&Appt>) = appts
        .iter()
        .filter(|a| a.status != "cancelled")
        .partition(|a| a.start.is_some_and(|s| s >= now));
    let who = |a: &Appt| {
        a.practitioner
            .as_ref()
            .and_then(|p| names.get(p))
            .cloned()
            .unwrap_or_default()
    };
    let head = format!(
        r#"<thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead>"#,
        page.t("spaces-when"),
        page.t("spaces-with"),
        page.t("spaces-status"),
        page.t("spaces-actions")
    );
    let mut up = String::new();
    for a in &upcoming {
        let date = when_text(page, a);
        let cancel = if a.status == "booked" {
            format!(
                r#"<form method="post" action="/patient/appointments/{id}/cancel">{hidden}<button type="submit" class="secondary" aria-label="{label}">{text}</button></form>"#,
                id = a.id,
                hidden = page.hidden(true),
                label = page.tr("spaces-cancel-label", &[("date", Arg::Str(&date))]),
                text = page.t("spaces-cancel"),
            )
        } else {
            String::new()
        };
        up.push_str(&format!(
            r#"<tr><th scope="row">{date}</th><td>{who}</td><td>{status}</td><td><a href="/patient/appointments/{id}">{details}</a> {cancel}</td></tr>"#,
            date = escape(&date),
            who = escape(&who(a)),
            status = escape(&status_text(page, &a.status)),
            id = a.id,
            details = page.t("spaces-details"),
        ));
    }
    let upcoming_html = if upcoming.is_empty() {
        format!("<p>{}</p>", page.t("spaces-upcoming-none"))
    } else {
        format!("<table>{head}<tbody>{up}</tbody></table>")
    };
    let mut past_rows = String::new();
    for a in past.iter().rev() {
        past_rows.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td><a href="/patient/appointments/{}">{}</a></td></tr>"#,
            escape(&when_text(page, a)),
            escape(&who(a)),
            escape(&status_text(page, &a.status)),
            a.id,
            page.t("spaces-details"),
        ));
    }
    let past_html = if past.is_empty() {
        format!("<p>{}</p>", page.t("spaces-past-none"))
    } else {
        format!("<table>{head}<tbody>{past_rows}</tbody></table>")
    };
    let title = page.t("spaces-patient-title");
    let body = format!(
        r#"<main>
<h1>{title}</h1>
{alert}{notice}
<p>{utc}</p>
<section aria-labelledby="upcoming"><h2 id="upcoming">{upcoming_h}</h2>{upcoming_html}</section>
<section aria-labelledby="past"><h2 id="past">{past_h}</h2>{past_html}</section>
<section aria-labelledby="invoices"><h2 id="invoices">{invoices_h}</h2>{invoices_html}</section>
<section aria-labelledby="readings"><h2 id="readings">{readings_h}</h2>{charts}</section>
</main>"#,
        alert = alert_html(alert.as_deref()),
        notice = done_notice(page),
        utc = page.t("spaces-times-utc"),
        upcoming_h = page.t("spaces-upcoming"),
        past_h = page.t("spaces-past"),
        invoices_h = page.t("spaces-invoices"),
        readings_h = page.t("spaces-readings"),
        charts = charts_html(page, &results, 1),
    );
    Ok(page.render(status, &title, &body))
}

/// The most invoices the patient's page lists: the latest.
const MAX_INVOICES: usize = 50;

/// The patient's invoices (`billing.patient-invoices` rows), amounts in CLDR's format for
/// the page's locale and the clinic's country.
///
/// A patient who thinks in another currency (`?currency=`, else their country's) also sees
/// an estimate in it, dated ([`super::price`]).
fn invoices_html<H: Host>(
    page: &Page<'_, '_, H>,
    rows: &[Map<String, Value>],
    rates: &crate::money::Rates,
) -> String {
    let today = chrono::DateTime::from_timestamp(now_secs(page), 0)
        .unwrap_or_default()
        .date_naive();
    if rows.is_empty() {
        return format!("<p>{}</p>", page.t("spaces-invoices-none"));
    }
    let mut body = String::new();
    for row in rows {
        let line = match billing::invoice_from_row(row) {
            Ok(l) => l,
            Err(e) => {
                page.ctx
                    .host
                    .log(LogLevel::Error, &format!("an invoice row: {e}"));
                continue;
            }
        };
        let Some(amount) = price::format(&line.amount, page.locale, &page.entry.country) else {
            page.ctx
                .host
                .log(LogLevel::Error, &format!("formatting invoice {}", line.id));
            continue;
        };
        let estimate = price::visitor_currency(
            page.req.uri().query(),
            page.ctx.geo.country.as_ref(),
            line.amount.currency(),
        )
        .and_then(|to| price::estimate_html(&line.amount, to, rates, today, page.locale))
        .map(|e| format!("<br>{e}"))
        .unwrap_or_default();
        let date = when::parse_instant(&line.date)
            .map(|t| when::date(page.locale, t))
            .unwrap_or(line.date.clone());
        let status = match line.status.as_str() {
            "issued" => page.text("spaces-invoice-issued"),
            "balanced" => page.text("spaces-invoice-paid"),
            "cancelled" => page.text("spaces-status-cancelled"),
            _ => page.text("spaces-status-other"),
        };
        body.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td>{}</td><td class="amount">{}{estimate}</td><td>{}</td></tr>"#,
            escape(&date),
            escape(&line.display),
            escape(&amount),
            escape(&status),
        ));
    }
    format!(
        r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{body}</tbody></table>"#,
        page.t("spaces-invoice-date"),
        page.t("spaces-invoice-what"),
        page.t("spaces-invoice-amount"),
        page.t("spaces-status"),
    )
}

/// Reads one appointment by id (`None`: no such appointment in this clinic).
async fn read_appointment<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Option<Appt>, PageError> {
    let results = page
        .read(vec![Call {
            name: APPOINTMENT.to_owned(),
            params: vec![json!(id)],
        }])
        .await?
        .results;
    Ok(rows_of(&results, 0).first().and_then(Appt::of))
}

/// How a status change ended.
enum Changed {
    Done,
    /// Refused, with what the person should read, and the page's status.
    Refused(StatusCode, String),
}

/// Sets `appt`'s status the way the API's update does: the whole resource checked, written
/// at the version read; the clinic's schema refuses transitions it does not allow.
async fn change_status<H: Host>(
    page: &mut Page<'_, '_, H>,
    appt: &Appt,
    status: &str,
) -> Result<Changed, PageError> {
    let mut body = appt.resource.clone();
    body["status"] = json!(status);
    let policy = policy_for(&page.entry.country);
    let today = civil_date(page.ctx.host.now_millis());
    let rules = Rules {
        policy: &policy,
        today: &today,
        currency: page.entry.billing_currency().ok(),
    };
    // A stored appointment with another status is valid unless ours is not: a fault of ours.
    let valid = resource::validate(&Appointment, body, &rules)
        .map_err(|e| PageError::Internal(format!("appointment {}: {e:?}", appt.id)))?;
    let name = statement_name(&Appointment, Interaction::Update.verb());
    let call = Call {
        name,
        params: [json!(appt.id), json!(appt.version), valid.resource]
            .into_iter()
            .chain(valid.columns)
            .collect(),
    };
    match page.write(vec![call]).await {
        Ok(r) if rows_of(&r.results, 0).is_empty() => Ok(Changed::Refused(
            StatusCode::CONFLICT,
            page.t("spaces-changed-meanwhile"),
        )),
        Ok(_) => Ok(Changed::Done),
        Err(e) => refusal(page, &e, &appt.status).map(|(s, m)| Changed::Refused(s, m)),
    }
}

/// The words for a region's refusal of a status change; other errors stay errors.
fn refusal<H: Host>(
    page: &Page<'_, '_, H>,
    e: &DataError,
    from: &str,
) -> Result<(StatusCode, String), PageError> {
    let message = match e {
        DataError::Region { error, .. } => error.message.as_str(),
        _ => "",
    };
    if message.contains("\"appointments_status_transition\"") {
        let from = status_text(page, from);
        return Ok((
            StatusCode::CONFLICT,
            page.tr("spaces-transition-refused", &[("status", Arg::Str(&from))]),
        ));
    }
    // The billing branch's trigger: no price for the consultation, so no invoice.
    if message.contains("\"appointments_priced\"") {
        return Ok((StatusCode::CONFLICT, page.t("spaces-unpriced")));
    }
    Err(PageError::from(e.clone()))
}

/// `POST /patient/appointments/{id}/cancel`.
pub async fn patient_cancel<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    page.posted()?;
    let session = page.require(&[Role::Patient])?;
    let own = session.patient.clone().and_then(|p| parse_uuid(&p));
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    let appt = read_appointment(page, &id)
        .await?
        .filter(|a| a.patient.is_some() && a.patient == own)
        .ok_or(PageError::NotFound)?;
    if appt.status != "booked" {
        let status = status_text(page, &appt.status);
        let alert = page.tr("spaces-cancel-not-booked", &[("status", Arg::Str(&status))]);
        return patient_page(page, StatusCode::CONFLICT, Some(alert)).await;
    }
    if appt.start.is_none_or(|s| s <= now_secs(page)) {
        let alert = page.t("spaces-cancel-past");
        return patient_page(page, StatusCode::CONFLICT, Some(alert)).await;
    }
    match change_status(page, &appt, "cancelled").await? {
        Changed::Done => Ok(page.redirect("/patient?done=cancelled")),
        Changed::Refused(status, alert) => patient_page(page, status, Some(alert)).await,
    }
}

// ---------------------------------------------------------------------------------------
// The practitioner's space

fn practitioner_id<H: Host>(page: &Page<'_, '_, H>) -> Result<String, PageError> {
    page.require(&[Role::Practitioner])?
        .practitioner
        .clone()
        .and_then(|p| parse_uuid(&p))
        .ok_or(PageError::Forbidden)
}

/// `GET /practitioner`.
pub async fn practitioner_home<H: Host>(
    page: &mut Page<'_, '_, H>,
) -> Result<Response<Vec<u8>>, PageError> {
    practitioner_page(page, StatusCode::OK, None).await
}

async fn practitioner_page<H: Host>(
    page: &mut Page<'_, '_, H>,
    status: StatusCode,
    alert: Option<String>,
) -> Result<Response<Vec<u8>>, PageError> {
    let me = practitioner_id(page)?;
    let now = now_secs(page);
    let day_start = now - now.rem_euclid(86_400);
    let iso = |t: i64| format!("{}T{}:00Z", when::iso_day(t), when::time(t));
    let results = page
        .read(vec![Call {
            name: PRACTITIONER_DAY.to_owned(),
            params: vec![
                json!(me),
                json!(iso(day_start)),
                json!(iso(day_start + 86_400)),
            ],
        }])
        .await?
        .results;
    let mut rows = String::new();
    for row in rows_of(&results, 0) {
        let Some(a) = Appt::of(row) else { continue };
        let name = row.get("patient_name").map(human_name).unwrap_or_default();
        let patient_link = match &a.patient {
            Some(p) => format!(
                r#"<a href="/practitioner/patients/{p}">{}</a>"#,
                escape(&name)
            ),
            None => escape(&name),
        };
        let mut buttons = String::new();
        for (to, label) in [
            ("arrived", "spaces-mark-arrived"),
            ("fulfilled", "spaces-mark-fulfilled"),
            ("noshow", "spaces-mark-noshow"),
        ] {
            buttons.push_str(&format!(
                r#"<form method="post" action="/practitioner/appointments/{id}/status" class="inline">{hidden}<input type="hidden" name="status" value="{to}"><button type="submit">{label}</button></form> "#,
                id = a.id,
                hidden = page.hidden(true),
                label = page.t(label),
            ));
        }
        rows.push_str(&format!(
            r#"<tr><th scope="row">{time}</th><td>{patient_link}</td><td>{status}</td><td>{buttons}</td></tr>"#,
            time = escape(&a.start.map(when::time).unwrap_or_default()),
            status = escape(&status_text(page, &a.status)),
        ));
    }
    let schedule = if rows.is_empty() {
        format!("<p>{}</p>", page.t("spaces-today-none"))
    } else {
        format!(
            r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{rows}</tbody></table>"#,
            page.t("spaces-time-utc"),
            page.t("spaces-patient"),
            page.t("spaces-status"),
            page.t("spaces-actions"),
        )
    };
    let today = when::date(page.locale, now);
    let title = page.t("spaces-practitioner-title");
    let body = format!(
        r#"<main>
<h1>{title}</h1>
{alert}{notice}
<section aria-labelledby="today"><h2 id="today">{today_h}</h2>{schedule}</section>
</main>"#,
        alert = alert_html(alert.as_deref()),
        notice = done_notice(page),
        today_h = page.tr("spaces-today", &[("date", Arg::Str(&today))]),
    );
    Ok(page.render(status, &title, &body))
}

/// `GET /practitioner/patients/{id}`: only a patient who has an appointment with this
/// practitioner; anyone else is "no such page" (a practitioner does not browse records).
pub async fn practitioner_patient<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let me = practitioner_id(page)?;
    let patient = parse_uuid(id).ok_or(PageError::NotFound)?;
    // First whether they have appointments together; only then the record (so that the
    // audit trail shows no read of a record this practitioner may not see).
    let results = page
        .read(vec![search_call(
            &Appointment,
            &format!("patient=Patient/{patient}&practitioner=Practitioner/{me}"),
            500,
        )?])
        .await?
        .results;
    let mut appts: Vec<Appt> = rows_of(&results, 0).iter().filter_map(Appt::of).collect();
    if appts.is_empty() {
        return Err(PageError::NotFound);
    }
    appts.sort_by_key(|a| std::cmp::Reverse(a.start));
    let mut calls = vec![Call {
        name: statement_name(
            &crate::api::resources::patient::Patient,
            Interaction::Read.verb(),
        ),
        params: vec![json!(patient)],
    }];
    calls.extend(reading_calls(&patient)?);
    let results = page.read(calls).await?.results;
    let record = rows_of(&results, 0)
        .first()
        .and_then(resource::from_row)
        .ok_or(PageError::NotFound)?;
    let name = human_name(&record["name"]);
    let birth = record["birthDate"].as_str().unwrap_or_default();
    let birth = when::parse_instant(&format!("{birth}T00:00:00Z"))
        .map(|t| when::date(page.locale, t))
        .unwrap_or_else(|| birth.to_owned());
    let gender = match record["gender"].as_str() {
        Some("male") => page.text("spaces-gender-male"),
        Some("female") => page.text("spaces-gender-female"),
        Some("other") => page.text("spaces-gender-other"),
        _ => page.text("spaces-gender-unknown"),
    };
    let mut rows = String::new();
    for a in &appts {
        rows.push_str(&format!(
            r#"<tr><th scope="row">{}</th><td>{}</td></tr>"#,
            escape(&when_text(page, a)),
            escape(&status_text(page, &a.status))
        ));
    }
    let title = escape(&name);
    let body = format!(
        r#"<main>
<h1>{title}</h1>
<p><a href="/practitioner">{back}</a></p>
<section aria-labelledby="details"><h2 id="details">{details_h}</h2>
<dl><dt>{birth_l}</dt><dd>{birth}</dd><dt>{gender_l}</dt><dd>{gender}</dd></dl></section>
<section aria-labelledby="visits"><h2 id="visits">{visits_h}</h2>
<table><thead><tr><th scope="col">{when_l}</th><th scope="col">{status_l}</th></tr></thead><tbody>{rows}</tbody></table></section>
<section aria-labelledby="readings"><h2 id="readings">{readings_h}</h2>{charts}</section>
</main>"#,
        back = page.t("spaces-back-to-schedule"),
        details_h = page.t("spaces-demographics"),
        birth_l = page.t("spaces-birth-date"),
        birth = escape(&birth),
        gender_l = page.t("spaces-gender"),
        gender = escape(&gender),
        visits_h = page.t("spaces-appointments-with-you"),
        when_l = page.t("spaces-when"),
        status_l = page.t("spaces-status"),
        readings_h = page.t("spaces-patient-readings"),
        charts = charts_html(page, &results, 1),
    );
    Ok(page.render(StatusCode::OK, &title, &body))
}

/// `POST /practitioner/appointments/{id}/status` with `status` = arrived|fulfilled|noshow.
pub async fn practitioner_status<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let form = page.posted()?.clone();
    let me = practitioner_id(page)?;
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    let Some(to) = form
        .get("status")
        .filter(|s| ["arrived", "fulfilled", "noshow"].contains(s))
    else {
        let alert = page.t("spaces-status-invalid");
        return practitioner_page(page, StatusCode::UNPROCESSABLE_ENTITY, Some(alert)).await;
    };
    let appt = read_appointment(page, &id)
        .await?
        .filter(|a| a.practitioner.as_deref() == Some(me.as_str()))
        .ok_or(PageError::NotFound)?;
    if appt.status == to {
        return Ok(page.redirect(&format!("/practitioner?done={to}")));
    }
    match change_status(page, &appt, to).await? {
        Changed::Done => Ok(page.redirect(&format!("/practitioner?done={to}"))),
        Changed::Refused(status, alert) => practitioner_page(page, status, Some(alert)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_participants_are_read_from_fhir() {
        assert_eq!(
            human_name(&json!([{"prefix": ["Dr"], "given": ["Claire"], "family": "Martin"}])),
            "Dr Claire Martin"
        );
        assert_eq!(human_name(&json!([{"text": "A B"}])), "A B");
        assert_eq!(human_name(&json!(null)), "");
        let a = json!({"participant": [
            {"actor": {"reference": "Patient/5b0c1a2e-1111-4222-8333-444455556666"}},
            {"actor": {"reference": "Practitioner/6b0c1a2e-1111-4222-8333-444455556666"}}]});
        assert_eq!(
            participant(&a, "Patient").as_deref(),
            Some("5b0c1a2e-1111-4222-8333-444455556666")
        );
        assert_eq!(
            participant(&a, "Practitioner").as_deref(),
            Some("6b0c1a2e-1111-4222-8333-444455556666")
        );
    }

    #[test]
    fn readings_become_one_chart_per_unit() {
        let r = |at, v: f64| Reading {
            at,
            value: v,
            digits: v.to_string(),
        };
        let charts = kind_charts(
            "g",
            "Glucose".into(),
            &["Glucose".into()],
            vec![
                (0, "mg/dL".into(), r(1, 100.0)),
                (0, "mmol/L".into(), r(2, 5.5)),
                (0, "mg/dL".into(), r(3, 110.0)),
            ],
        );
        assert_eq!(charts.len(), 2);
        assert_eq!(charts[0].unit, "mg/dL");
        assert_eq!(charts[0].series[0].readings.len(), 2);
        assert_eq!(charts[1].id, "g-1");
        let empty = kind_charts("w", "Weight".into(), &["Weight".into()], vec![]);
        assert_eq!(empty.len(), 1);
        assert!(empty[0].series[0].readings.is_empty());
    }

    #[test]
    fn readings_calls_are_catalog_searches() {
        let calls = reading_calls("5b0c1a2e-1111-4222-8333-444455556666").unwrap();
        assert_eq!(calls.len(), 4);
        let names: Vec<&str> = crate::dataplane::catalog::all()
            .iter()
            .map(|s| s.name)
            .collect();
        for c in &calls {
            assert!(names.contains(&c.name.as_str()), "{}", c.name);
        }
        for s in [PRACTITIONER_DAY, PATIENT_APPOINTMENTS, APPOINTMENT] {
            assert!(names.contains(&s), "{s}");
        }
    }
}
