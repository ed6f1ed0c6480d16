//! `/admin/practitioners/{id}/availability`: the admin enters, for each weekday, up to two
//! time ranges, the length of a consultation and how many weeks ahead to open; the post
//! creates or updates the practitioner's Schedule and generates its free Slots, in one
//! write batch, through the API's `Schedule/$generate-slots` procedure
//! ([`GENERATE_SLOTS`]: its statements, its checks, its limits).
//!
//! Times are UTC: the clinic's time zone is not modelled yet, and the page says so next
//! to the form and wherever it shows a time. Slots start tomorrow (UTC) and run for the
//! weeks asked. Generating again over the same weeks adds only the slots not there yet.
//!
//! The form is checked before anything is written: a time that is not one, a range whose
//! end is not after its start, two ranges of a day that overlap, a range that is not a
//! whole number of consultations, too many slots at once — each is a message next to its
//! field, with status 422.

use chrono::{Duration, NaiveDate};
use http::{Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{SCHEDULE_UPSERT, SLOT_SUMMARY, int, rows, utc_time};
use crate::{
    api::{
        ApiError, parse_uuid,
        resource::{self, Interaction, Rules, statement_name},
        resources::{
            charge_item_definition::CONSULTATION_TYPE_SYSTEM,
            practitioner::Practitioner,
            schedule::{GENERATE_SLOTS, MAX_DAYS, MAX_SLOTS, Schedule},
        },
    },
    compliance::policy_for,
    dataplane::wire::Call,
    fhir::datatypes::civil_date,
    host::Host,
    i18n::Arg,
    web::{
        Page, PageError, escape,
        form::{Field, FieldErrors, Form},
    },
};

/// The days of the week, as FHIR codes them (`DaysOfWeek`), Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The form's fields of each day's two ranges: `(from, to)`.
static FIELDS: [[(&str, &str); 2]; 7] = [
    [("mon-from-1", "mon-to-1"), ("mon-from-2", "mon-to-2")],
    [("tue-from-1", "tue-to-1"), ("tue-from-2", "tue-to-2")],
    [("wed-from-1", "wed-to-1"), ("wed-from-2", "wed-to-2")],
    [("thu-from-1", "thu-to-1"), ("thu-from-2", "thu-to-2")],
    [("fri-from-1", "fri-to-1"), ("fri-from-2", "fri-to-2")],
    [("sat-from-1", "sat-to-1"), ("sat-from-2", "sat-to-2")],
    [("sun-from-1", "sun-to-1"), ("sun-from-2", "sun-to-2")],
];

/// The procedure's bounds on a consultation's length, in minutes.
const SLOT_MINUTES: std::ops::RangeInclusive<i64> = 5..=480;
/// The most weeks one post opens: the procedure's longest span, in whole weeks.
const MAX_WEEKS: i64 = MAX_DAYS / 7;

/// One range of a day, in minutes after midnight UTC, `from < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

/// A checked form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// Each day's ranges, Monday first, in the order typed.
    pub days: [Vec<Range>; 7],
    pub slot_minutes: i64,
    pub weeks: i64,
    /// The consultation type the slots offer (a code of the clinic's prices), which
    /// bookings take and invoices charge; `None`: no type.
    pub service: Option<String>,
}

/// A fault of the form: the field, the message id and its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub field: &'static str,
    pub id: &'static str,
    pub args: Vec<(&'static str, i64)>,
}

fn fault(field: &'static str, id: &'static str) -> Fault {
    Fault {
        field,
        id,
        args: Vec::new(),
    }
}

/// `hh:mm` (or `hh:mm:ss` with no seconds, as some browsers send) as minutes after midnight.
pub fn minutes_of_day(t: &str) -> Option<i64> {
    let mut parts = t.split(':');
    let (h, m) = (parts.next()?, parts.next()?);
    let s = parts.next().unwrap_or("00");
    let two = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !two(h) || m.len() != 2 || !two(m) || s != "00" {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

fn hh_mm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl Availability {
    /// Reads and checks the form; every fault at once.
    pub fn parse(form: &Form) -> Result<Self, Vec<Fault>> {
        let mut faults = Vec::new();
        let number = |name, range: std::ops::RangeInclusive<i64>| {
            form.get(name)
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|n| range.contains(n))
        };
        let slot = number("slot", SLOT_MINUTES);
        if slot.is_none() {
            faults.push(fault("slot", "admin-slot-invalid"));
        }
        let weeks = number("weeks", 1..=MAX_WEEKS);
        if weeks.is_none() {
            faults.push(Fault {
                field: "weeks",
                id: "admin-weeks-invalid",
                args: vec![("max", MAX_WEEKS)],
            });
        }
        let service = form.get("service").map(str::to_owned);
        if service
            .as_deref()
            .is_some_and(|c| !super::prices::valid_code(c))
        {
            faults.push(fault("service", "admin-service-invalid"));
        }
        let mut days: [Vec<Range>; 7] = Default::default();
        for (d, fields) in FIELDS.iter().enumerate() {
            let mut day: Vec<Range> = Vec::new();
            for &(from_f, to_f) in fields {
                let (from, to) = match (form.get(from_f), form.get(to_f)) {
                    (None, None) => continue,
                    (Some(_), None) => {
                        faults.push(fault(to_f, "admin-time-pair"));
                        continue;
                    }
                    (None, Some(_)) => {
                        faults.push(fault(from_f, "admin-time-pair"));
                        continue;
                    }
                    (Some(a), Some(b)) => (minutes_of_day(a), minutes_of_day(b)),
                };
                if from.is_none() {
                    faults.push(fault(from_f, "admin-time-invalid"));
                }
                if to.is_none() {
                    faults.push(fault(to_f, "admin-time-invalid"));
                }
                let (Some(from), Some(to)) = (from, to) else {
                    continue;
                };
                if to <= from {
                    faults.push(fault(to_f, "admin-end-before-start"));
                    continue;
                }
                if let Some(slot) = slot
                    && (to - from) % slot != 0
                {
                    faults.push(Fault {
                        field: to_f,
                        id: "admin-not-divisible",
                        args: vec![("minutes", slot)],
                    });
                    continue;
                }
                if day.iter().any(|r| r.from < to && from < r.to) {
                    faults.push(fault(from_f, "admin-overlap"));
                    continue;
                }
                day.push(Range { from, to });
            }
            days[d] = day;
        }
        let has_range = days.iter().any(|d| !d.is_empty());
        if !has_range
            && faults
                .iter()
                .all(|f| f.field == "slot" || f.field == "weeks")
        {
            faults.push(fault("ranges", "admin-no-range"));
        }
        let (Some(slot_minutes), Some(weeks)) = (slot, weeks) else {
            return Err(faults);
        };
        if !faults.is_empty() {
            return Err(faults);
        }
        let a = Self {
            days,
            slot_minutes,
            weeks,
            service,
        };
        // The real count, and the procedure's own bound on each call (it counts every
        // day of the span, chosen or not): either over the limit is refused here, before
        // anything is written.
        let span = weeks * 7;
        if a.slot_count() > MAX_SLOTS
            || a.groups()
                .iter()
                .any(|(r, _)| span * (r.to - r.from) / slot_minutes > MAX_SLOTS)
        {
            return Err(vec![Fault {
                field: "weeks",
                id: "admin-too-many-slots",
                args: vec![("max", MAX_SLOTS)],
            }]);
        }
        Ok(a)
    }

    /// How many slots the weeks hold.
    pub fn slot_count(&self) -> i64 {
        self.weeks
            * self
                .days
                .iter()
                .flatten()
                .map(|r| (r.to - r.from) / self.slot_minutes)
                .sum::<i64>()
    }

    /// The distinct ranges, each with the days it applies to: one `$generate-slots` call
    /// each.
    pub fn groups(&self) -> Vec<(Range, Vec<&'static str>)> {
        let mut groups: Vec<(Range, Vec<&'static str>)> = Vec::new();
        for (d, ranges) in self.days.iter().enumerate() {
            for r in ranges {
                match groups.iter_mut().find(|(g, _)| g == r) {
                    Some((_, days)) => days.push(DAYS[d]),
                    None => groups.push((*r, vec![DAYS[d]])),
                }
            }
        }
        groups
    }

    /// The `$generate-slots` Parameters of each range, from `start` for the weeks asked.
    pub fn parameters(&self, start: NaiveDate) -> Vec<Map<String, Value>> {
        let end = start + Duration::days(self.weeks * 7 - 1);
        self.groups()
            .into_iter()
            .map(|(r, days)| {
                let mut p = vec![
                    json!({"name": "start", "valueDate": start.to_string()}),
                    json!({"name": "end", "valueDate": end.to_string()}),
                ];
                p.extend(days.iter().map(|d| json!({"name": "day", "valueCode": d})));
                p.extend([
                    json!({"name": "from", "valueTime": format!("{}:00", hh_mm(r.from))}),
                    json!({"name": "to", "valueTime": format!("{}:00", hh_mm(r.to))}),
                    json!({"name": "slotMinutes", "valuePositiveInt": self.slot_minutes}),
                    json!({"name": "timeZone", "valueCode": "UTC"}),
                ]);
                let mut m = Map::new();
                m.insert("resourceType".into(), json!("Parameters"));
                m.insert("parameter".into(), Value::Array(p));
                m
            })
            .collect()
    }
}

/// The id of the schedule these pages keep for a practitioner, derived from the
/// practitioner's (a name-based UUID, version 8): the post that sets availability names
/// it without reading first, and two admins posting at once update one schedule.
pub fn schedule_id(practitioner: &str) -> String {
    let h =
        hmac_sha256::Hash::hash(format!("telemed-edge/admin-schedule/{practitioner}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The write batch of a post: the schedule (validated as the API validates a Schedule),
/// then each range's `$generate-slots` statements, as the procedure builds them.
pub fn calls(
    practitioner: &str,
    a: &Availability,
    start: NaiveDate,
    rules: &Rules<'_>,
) -> Result<Vec<Call>, String> {
    let schedule = schedule_id(practitioner);
    let end = start + Duration::days(a.weeks * 7 - 1);
    let mut resource = json!({
        "resourceType": "Schedule",
        "active": true,
        "actor": [{"reference": format!("Practitioner/{practitioner}")}],
        "planningHorizon": {"start": start.to_string(), "end": end.to_string()},
        "comment": "Weekly availability set by the clinic's admin; times in UTC.",
    });
    if let Some(code) = &a.service {
        resource["serviceType"] =
            json!([{"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": code}]}]);
    }
    let valid = resource::validate(&Schedule, resource, rules)
        .map_err(|e| format!("the schedule is refused: {e:?}"))?;
    let mut out = vec![Call {
        name: SCHEDULE_UPSERT.into(),
        params: [json!(schedule), valid.resource]
            .into_iter()
            .chain(valid.columns)
            .collect(),
    }];
    for p in a.parameters(start) {
        out.extend(
            (GENERATE_SLOTS.calls)(&schedule, &p)
                .map_err(|issues| format!("$generate-slots refused: {issues:?}"))?,
        );
    }
    Ok(out)
}

/// The GET's query after a post: what was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Generated {
    count: i64,
    first: Option<String>,
    last: Option<String>,
}

fn instant_like(s: &str) -> bool {
    s.len() == 20
        && s.ends_with('Z')
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b"-:TZ".contains(&b))
}

impl Generated {
    fn from_query(query: Option<&str>) -> Option<Self> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let count = get("generated")?.parse().ok().filter(|n: &i64| *n >= 0)?;
        Some(Self {
            count,
            first: get("first").filter(|s| instant_like(s)),
            last: get("last").filter(|s| instant_like(s)),
        })
    }

    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("generated", &self.count.to_string());
        if let (Some(f), Some(l)) = (&self.first, &self.last) {
            q.append_pair("first", f);
            q.append_pair("last", l);
        }
        q.finish()
    }
}

/// `/admin/practitioners/{id}/availability`.
pub async fn availability<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    if page.req.method() != Method::POST {
        let notice = notice_of(page);
        return render(
            page,
            &id,
            StatusCode::OK,
            None,
            &FieldErrors::default(),
            notice,
        )
        .await;
    }
    let form = page.posted()?.clone();
    let a = match Availability::parse(&form) {
        Ok(a) => a,
        Err(faults) => {
            let mut errors = FieldErrors::default();
            for f in faults {
                let args: Vec<(&str, Arg<'_>)> =
                    f.args.iter().map(|(k, v)| (*k, Arg::Num(*v))).collect();
                errors.add(f.field, crate::i18n::message(page.locale, f.id, &args));
            }
            return render(
                page,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&form),
                &errors,
                None,
            )
            .await;
        }
    };
    let today = civil_date(page.ctx.host.now_millis());
    let start = NaiveDate::parse_from_str(&today, "%Y-%m-%d")
        .map_err(|e| PageError::Internal(format!("today {today}: {e}")))?
        + Duration::days(1);
    let policy = policy_for(&page.entry.country);
    let rules = Rules {
        policy: &policy,
        today: &today,
        currency: page.entry.billing_currency().ok(),
    };
    let calls = calls(&id, &a, start, &rules).map_err(PageError::Internal)?;
    let groups = (calls.len() - 1) / 2;
    let answer = match page.write(calls).await {
        Ok(a) => a,
        // The practitioner is not this clinic's: the schedule's foreign key says so.
        Err(e) if e.code() == crate::dataplane::wire::ErrorCode::ConstraintViolation => {
            return Err(PageError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    let mut generated = Generated {
        count: 0,
        first: None,
        last: None,
    };
    for g in 0..groups {
        let at = 1 + 2 * g;
        (GENERATE_SLOTS.check)(answer.results.get(at..).unwrap_or_default()).map_err(
            |e| match e {
                ApiError::NotFound(_) => PageError::NotFound,
                e => PageError::Internal(format!("$generate-slots: {e}")),
            },
        )?;
        for row in rows(&answer, at)? {
            let Some(start) = row
                .get("resource")
                .and_then(|r| r.get("start"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            generated.count += 1;
            if generated.first.as_deref().is_none_or(|f| start < f) {
                generated.first = Some(start.to_owned());
            }
            if generated.last.as_deref().is_none_or(|l| start > l) {
                generated.last = Some(start.to_owned());
            }
        }
    }
    Ok(page.redirect(&format!(
        "/admin/practitioners/{id}/availability?{}",
        generated.query()
    )))
}

/// The notice a GET shows: after a post, what it generated; after adding the
/// practitioner, the invitation to set their availability.
fn notice_of<H: Host>(page: &Page<'_, '_, H>) -> Option<String> {
    let query = page.req.uri().query();
    if let Some(g) = Generated::from_query(query) {
        return Some(match (g.count, &g.first, &g.last) {
            (0, _, _) | (_, None, _) | (_, _, None) => page.t("admin-generated-none"),
            (n, Some(first), Some(last)) => {
                // The times are markup (<time>); the sentence around them is escaped.
                let text = page.tr(
                    "admin-generated",
                    &[
                        ("count", Arg::Num(n)),
                        ("first", Arg::Str("\u{1}")),
                        ("last", Arg::Str("\u{2}")),
                    ],
                );
                text.replacen('\u{1}', &utc_time(page.locale, first), 1)
                    .replacen('\u{2}', &utc_time(page.locale, last), 1)
            }
        });
    }
    let added = form_urlencoded::parse(query.unwrap_or("").as_bytes()).any(|(k, _)| k == "added");
    added.then(|| page.t("admin-added"))
}

/// The practitioner's name as the list shows it.
fn display_name(resource: &Value) -> String {
    let name = &resource["name"][0];
    let given = name["given"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    [given.as_str(), name["family"].as_str().unwrap_or("")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn render<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
    status: StatusCode,
    form: Option<&Form>,
    errors: &FieldErrors,
    notice: Option<String>,
) -> Result<Response<Vec<u8>>, PageError> {
    let answer = page
        .read(vec![
            Call {
                name: statement_name(&Practitioner, Interaction::Read.verb()),
                params: vec![json!(id)],
            },
            Call {
                name: SLOT_SUMMARY.into(),
                params: vec![json!(id)],
            },
            Call {
                name: crate::billing::names::PRICES.into(),
                params: vec![json!("active")],
            },
            Call {
                name: statement_name(&Schedule, Interaction::Read.verb()),
                params: vec![json!(schedule_id(id))],
            },
        ])
        .await?;
    // The type offered: as posted, else the schedule's current one.
    let current = rows(&answer, 3)?
        .first()
        .and_then(resource::from_row)
        .and_then(|s| {
            s["serviceType"][0]["coding"][0]["code"]
                .as_str()
                .map(str::to_owned)
        });
    let chosen = match form {
        Some(f) => f.get("service").map(str::to_owned),
        None => current,
    };
    let mut service_options = format!(
        r#"<option value="">{}</option>"#,
        page.t("admin-service-none")
    );
    for row in rows(&answer, 2)? {
        let (Some(code), Some(display)) = (
            row.get("code").and_then(Value::as_str),
            row.get("display").and_then(Value::as_str),
        ) else {
            continue;
        };
        let selected = if chosen.as_deref() == Some(code) {
            " selected"
        } else {
            ""
        };
        service_options.push_str(&format!(
            r#"<option value="{}"{selected}>{}</option>"#,
            escape(code),
            escape(display)
        ));
    }
    let service = {
        let (attrs, message) = match errors.of("service") {
            Some(m) => (
                r#" aria-invalid="true" aria-describedby="f-service-error""#,
                format!(
                    r#"<p class="field-error" id="f-service-error">{}</p>"#,
                    escape(m)
                ),
            ),
            None => ("", String::new()),
        };
        format!(
            r#"<div class="field"><label for="f-service">{label}</label><select id="f-service" name="service"{attrs}>{service_options}</select>{message}</div>"#,
            label = page.t("admin-service"),
        )
    };
    let practitioner = rows(&answer, 0)?
        .first()
        .and_then(resource::from_row)
        .ok_or(PageError::NotFound)?;
    let summary = rows(&answer, 1)?.first().cloned().unwrap_or_default();
    let upcoming = match (
        int(&summary, "free"),
        summary.get("first").and_then(Value::as_str),
        summary.get("last").and_then(Value::as_str),
    ) {
        (n, Some(first), Some(last)) if n > 0 => page
            .tr(
                "admin-upcoming",
                &[
                    ("count", Arg::Num(n)),
                    ("first", Arg::Str("\u{1}")),
                    ("last", Arg::Str("\u{2}")),
                ],
            )
            .replacen('\u{1}', &utc_time(page.locale, first), 1)
            .replacen('\u{2}', &utc_time(page.locale, last), 1),
        _ => page.t("admin-upcoming-none"),
    };
    let name = display_name(&practitioner);
    let title = page.tr("admin-availability-title", &[("name", Arg::Str(&name))]);
    let value = |field: &'static str, default: &'static str| -> Option<String> {
        match form {
            Some(f) => f.get(field).map(str::to_owned),
            None => (!default.is_empty()).then(|| default.to_owned()),
        }
    };
    let (from_l, to_l, from2_l, to2_l) = (
        page.text("admin-from"),
        page.text("admin-to"),
        page.text("admin-from-2"),
        page.text("admin-to-2"),
    );
    let mut days = String::new();
    for (d, fields) in FIELDS.iter().enumerate() {
        let mut inputs = String::new();
        for (k, &(from_f, to_f)) in fields.iter().enumerate() {
            let (fl, tl) = if k == 0 {
                (&from_l, &to_l)
            } else {
                (&from2_l, &to2_l)
            };
            for (field, label) in [(from_f, fl), (to_f, tl)] {
                let v = value(field, "");
                inputs.push_str(
                    &Field {
                        name: field,
                        label,
                        kind: "time",
                        value: v.as_deref(),
                        required: false,
                        autocomplete: None,
                    }
                    .html(errors),
                );
            }
        }
        days.push_str(&format!(
            r#"<fieldset><legend>{day}</legend><div style="display:flex;flex-wrap:wrap;column-gap:1rem">{inputs}</div></fieldset>"#,
            day = page.t(&format!("admin-day-{}", DAYS[d])),
        ));
    }
    let ranges_error = errors
        .of("ranges")
        .map(|m| {
            format!(
                r#"<p class="alert" role="alert" id="f-ranges-error">{}</p>"#,
                escape(m)
            )
        })
        .unwrap_or_default();
    let (slot_l, weeks_l) = (page.text("admin-slot-minutes"), page.text("admin-weeks"));
    let (slot_v, weeks_v) = (value("slot", "20"), value("weeks", "4"));
    let number = |name, label: &str, v: Option<&str>| {
        Field {
            name,
            label,
            kind: "number",
            value: v,
            required: true,
            autocomplete: None,
        }
        .html(errors)
    };
    let notice = notice
        .map(|n| format!(r#"<p class="notice" role="status">{n}</p>"#))
        .unwrap_or_default();
    let alert = if errors.is_empty() {
        String::new()
    } else {
        format!(
            r#"<p class="alert" role="alert">{}</p>"#,
            page.t("admin-form-faults")
        )
    };
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
{notice}
<p>{upcoming}</p>
<h2 id="weekly">{weekly}</h2>
<p>{intro}</p>
{alert}
<form method="post" action="/admin/practitioners/{id}/availability" novalidate aria-labelledby="weekly">
{hidden}
{ranges_error}
{days}
{slot}
{weeks}
{service}
<button type="submit">{submit}</button>
</form>
</main>"#,
        back = super::back(page, "/admin/practitioners", "admin-back-practitioners"),
        weekly = page.t("admin-weekly-title"),
        intro = page.t("admin-availability-intro"),
        hidden = page.hidden(true),
        slot = number("slot", &slot_l, slot_v.as_deref()),
        weeks = number("weeks", &weeks_l, weeks_v.as_deref()),
        submit = page.t("admin-availability-submit"),
    );
    Ok(page.render(status, &title, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::TEST_RULES;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    fn faults(pairs: &[(&str, &str)]) -> Vec<(&'static str, &'static str)> {
        Availability::parse(&form(pairs))
            .unwrap_err()
            .into_iter()
            .map(|f| (f.field, f.id))
            .collect()
    }

    #[test]
    fn times_are_hours_and_minutes() {
        assert_eq!(minutes_of_day("09:00"), Some(540));
        assert_eq!(minutes_of_day("9:05"), Some(545));
        assert_eq!(minutes_of_day("23:59:00"), Some(1439));
        for bad in [
            "24:00",
            "09:60",
            "09:5",
            "09:00:30",
            "9h",
            "",
            "09:00:00:00",
            "-1:00",
        ] {
            assert_eq!(minutes_of_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_week_of_ranges_is_read_and_grouped() {
        let a = Availability::parse(&form(&[
            ("mon-from-1", "09:00"),
            ("mon-to-1", "12:00"),
            ("mon-from-2", "14:00"),
            ("mon-to-2", "15:00"),
            ("wed-from-1", "09:00"),
            ("wed-to-1", "12:00"),
            ("slot", "20"),
            ("weeks", "2"),
            ("service", "teleconsultation"),
        ]))
        .unwrap();
        assert_eq!(a.slot_count(), 2 * (9 + 3 + 9));
        let groups = a.groups();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1, ["mon", "wed"]);
        assert_eq!(groups[1], (Range { from: 840, to: 900 }, vec!["mon"]));
        let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let p = a.parameters(start);
        assert_eq!(p[0]["parameter"][1]["valueDate"], "2026-12-14");
        assert_eq!(p[0]["parameter"][4]["valueTime"], "09:00:00");
        let calls = calls(
            "5b0c1a2e-1111-4222-8333-444455556666",
            &a,
            start,
            &TEST_RULES,
        )
        .unwrap();
        let names: Vec<_> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                SCHEDULE_UPSERT,
                "schedule.generate-slots",
                "schedule.generate-check",
                "schedule.generate-slots",
                "schedule.generate-check"
            ]
        );
        let schedule = schedule_id("5b0c1a2e-1111-4222-8333-444455556666");
        assert_eq!(calls[0].params[0], json!(schedule));
        assert_eq!(calls[1].params[0], json!(schedule));
        assert_eq!(calls[1].params[3], json!([1, 3]));
        assert_eq!(calls[1].params[7], json!("UTC"));
        assert_eq!(
            calls[0].params[1]["serviceType"][0]["coding"][0]["code"],
            "teleconsultation"
        );
        assert_eq!(
            calls[0].params[2],
            json!("5b0c1a2e-1111-4222-8333-444455556666")
        );
    }

    #[test]
    fn schedule_ids_are_stable_uuids() {
        let a = schedule_id("5b0c1a2e-1111-4222-8333-444455556666");
        assert_eq!(a, schedule_id("5b0c1a2e-1111-4222-8333-444455556666"));
        assert_ne!(a, schedule_id("5b0c1a2e-1111-4222-8333-444455556667"));
        assert_eq!(parse_uuid(&a), Some(a.clone()));
        assert_eq!(&a[14..15], "8");
    }

    #[test]
    fn faults_are_named_next_to_their_field() {
        let ok = [("slot", "20"), ("weeks", "4")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = ok.to_vec();
            v.extend_from_slice(extra);
            faults(&v)
        };
        assert_eq!(with(&[]), [("ranges", "admin-no-range")]);
        assert_eq!(
            with(&[("mon-from-1", "12:00"), ("mon-to-1", "09:00")]),
            [("mon-to-1", "admin-end-before-start")]
        );
        assert_eq!(
            with(&[("tue-from-1", "09:00"), ("tue-to-1", "09:50")]),
            [("tue-to-1", "admin-not-divisible")]
        );
        assert_eq!(
            with(&[
                ("thu-from-1", "09:00"),
                ("thu-to-1", "12:00"),
                ("thu-from-2", "11:00"),
                ("thu-to-2", "13:00")
            ]),
            [("thu-from-2", "admin-overlap")]
        );
        assert_eq!(
            with(&[("fri-from-1", "9h"), ("fri-to-1", "10:00")]),
            [("fri-from-1", "admin-time-invalid")]
        );
        assert_eq!(
            with(&[("sat-from-1", "09:00")]),
            [("sat-to-1", "admin-time-pair")]
        );
        assert_eq!(
            with(&[
                ("mon-from-1", "09:00"),
                ("mon-to-1", "10:00"),
                ("service", "a b")
            ]),
            [("service", "admin-service-invalid")]
        );
        assert_eq!(
            faults(&[
                ("mon-from-1", "09:00"),
                ("mon-to-1", "10:00"),
                ("slot", "3"),
                ("weeks", "14")
            ]),
            [
                ("slot", "admin-slot-invalid"),
                ("weeks", "admin-weeks-invalid")
            ]
        );
        // Every day 08:00–20:00 in 5 minutes, 13 weeks: 13 104 slots.
        let mut all: Vec<(&str, &str)> = vec![("slot", "5"), ("weeks", "13")];
        for f in &FIELDS {
            all.push((f[0].0, "08:00"));
            all.push((f[0].1, "20:00"));
        }
        assert_eq!(faults(&all), [("weeks", "admin-too-many-slots")]);
    }

    #[test]
    fn the_query_after_a_post_is_read_back_safely() {
        let g = Generated {
            count: 18,
            first: Some("2026-12-02T09:00:00Z".into()),
            last: Some("2026-12-09T11:40:00Z".into()),
        };
        assert_eq!(Generated::from_query(Some(&g.query())), Some(g));
        let forged = Generated::from_query(Some("generated=2&first=<script>&last=x")).unwrap();
        assert_eq!(forged.first, None);
        assert_eq!(Generated::from_query(Some("generated=-1")), None);
        assert_eq!(Generated::from_query(None), None);
    }
}
