//! FHIR R4 `Schedule`: a practitioner's bookable time, the container of their Slots.
//! Its one actor is a Practitioner of this clinic (the API serves no Location or
//! HealthcareService actors yet). Search by `actor` and `active`.

use serde_json::{Map, Value, json};

use super::slot::Slot;
use crate::{
    api::{
        error::{ApiError, malformed_answer},
        resource::{
            Column, DbRule, Indexed, Interaction, Meta, Operation, Procedure, Resource, Rules,
            reference_to,
        },
        search::{Match, SearchParam},
    },
    dataplane::{
        statement::{Access, Audit, ParamType, SchemaScope, Statement, p},
        wire::{Call, StatementResult},
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{
            BOOLEAN, Base, CODEABLE_CONCEPT, DAYS_OF_WEEK, IDENTIFIER, Kind, PERIOD, REFERENCE,
            STRING, Type, is_fhir_date, many, opt, req_many,
        },
        dates,
    },
};

/// The `Schedule` resource type.
pub struct Schedule;

/// R4 `Schedule` (<https://hl7.org/fhir/R4/schedule.html>).
pub static SCHEDULE: Type = Type {
    name: "Schedule",
    base: Base::DomainResource,
    elements: &[
        many("identifier", Kind::Type(&IDENTIFIER)),
        opt("active", BOOLEAN),
        many("serviceCategory", Kind::Type(&CODEABLE_CONCEPT)),
        many("serviceType", Kind::Type(&CODEABLE_CONCEPT)),
        many("specialty", Kind::Type(&CODEABLE_CONCEPT)),
        req_many("actor", Kind::Type(&REFERENCE)),
        opt("planningHorizon", Kind::Type(&PERIOD)),
        opt("comment", STRING),
    ],
    invariants: &[],
};

static COLUMNS: &[Column] = &[Column::uuid("practitioner"), Column::boolean("active")];

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "actor",
        kind: Match::Reference {
            column: "practitioner",
            target: "Practitioner",
        },
        documentation: "The practitioner whose schedule it is (Practitioner/<id>).",
    },
    SearchParam {
        name: "active",
        kind: Match::Boolean("active"),
        documentation: "true or false.",
    },
];

static RULES: &[DbRule] = &[DbRule::reference(
    "schedules_practitioner_fkey",
    "Schedule.actor",
    "Schedule.actor refers to a Practitioner this clinic does not have",
)];

static META: Meta = Meta {
    columns: COLUMNS,
    search: SEARCH,
    db_rules: RULES,
    operations: &OPERATIONS,
    extra_statements: STATEMENTS,
    ..Meta::new("Schedule", "schedules", "schedules", &SCHEDULE)
};

impl Resource for Schedule {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// Exactly one actor, a Practitioner of this clinic.
    fn index(&self, obj: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        let actors = obj
            .get("actor")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut issues = Vec::new();
        let practitioner = match actors {
            [actor] => reference_to(Some(actor), "Practitioner", "Schedule.actor[0]")
                .map_err(|i| issues.push(i))
                .ok(),
            [] => None, // the structure reports the missing actor
            _ => {
                issues.push(
                    Issue::new(
                        IssueCode::NotSupported,
                        "a Schedule has exactly one actor, its Practitioner",
                    )
                    .at("Schedule.actor"),
                );
                None
            }
        };
        Indexed {
            columns: vec![
                json!(practitioner),
                json!(obj.get("active").and_then(Value::as_bool)),
            ],
            issues,
        }
    }
}

/// `POST /v1/schedules/{id}/$generate-slots`: free Slots from weekly availability, in the
/// clinic's time zone. Parameters (FHIR `Parameters`): `start` and `end` (`valueDate`,
/// inclusive, at most 92 days apart), `day` (`valueCode` mon…sun, repeated), `from` and
/// `to` (`valueTime`, local), `slotMinutes` (`valuePositiveInt`, 5–480) and `timeZone`
/// (`valueCode`, an IANA zone such as `Europe/Paris`). Postgres's time-zone database does
/// the arithmetic: a local time a DST change skips has no slot, and each slot lasts its
/// minutes in real time. Slots already there (same schedule and start) are kept, not
/// doubled: running it again over the same weeks adds nothing. Needs `system/Slot.c`;
/// answers a `collection` Bundle of the Slots made.
pub static GENERATE_SLOTS: Procedure = Procedure {
    name: "generate-slots",
    needs: (&Slot, Interaction::Create),
    calls: generate_calls,
    check: generate_check,
};

static OPERATIONS: [Operation; 1] = [Operation::Procedure(&GENERATE_SLOTS)];

/// The most slots one call may make, and the longest span of days.
pub const MAX_SLOTS: i64 = 5_000;
pub const MAX_DAYS: i64 = 92;

static STATEMENTS: &[Statement] = &[
    Statement {
        name: "schedule.generate-slots",
        // One INSERT (the region runs it inside a CTE, so no WITH of its own): the local
        // times of each chosen day, turned into instants in the zone; a local time that
        // does not come back the same (a DST gap) does not exist and is dropped. Each slot
        // offers the schedule's consultation types (`serviceType`), which bookings take.
        sql: "INSERT INTO slots (resource, schedule, status, starts_at, ends_at) \
              SELECT jsonb_build_object('resourceType', 'Slot', \
                         'schedule', jsonb_build_object('reference', 'Schedule/' || g.schedule), \
                         'status', 'free', 'start', fhir_instant(g.s), \
                         'end', fhir_instant(g.s + make_interval(mins => $7::int))) \
                     || jsonb_strip_nulls(jsonb_build_object('serviceType', g.service_type)), \
                     g.schedule, 'free', g.s, g.s + make_interval(mins => $7::int) \
              FROM (SELECT sc.id AS schedule, sc.resource->'serviceType' AS service_type, \
                           l.ts, l.ts AT TIME ZONE z.name AS s \
                    FROM schedules sc \
                    JOIN pg_timezone_names z ON z.name = $8 \
                    CROSS JOIN LATERAL ( \
                        SELECT ts FROM generate_series($2::date::timestamp, $3::date::timestamp, interval '1 day') d \
                        CROSS JOIN LATERAL generate_series(d + $5::time, \
                            d + $6::time - make_interval(mins => $7::int), make_interval(mins => $7::int)) ts \
                        WHERE extract(isodow FROM d)::int IN (SELECT jsonb_array_elements_text($4)::int)) l \
                    WHERE sc.id = $1) g \
              WHERE (g.s AT TIME ZONE $8) = g.ts \
              ORDER BY g.s \
              ON CONFLICT (schedule, starts_at) DO NOTHING \
              RETURNING id, version_id, last_updated, resource",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[
            p("schedule", ParamType::Uuid),
            p("start", ParamType::Text),
            p("end", ParamType::Text),
            p("days", ParamType::Jsonb),
            p("from", ParamType::Text),
            p("to", ParamType::Text),
            p("minutes", ParamType::Int8),
            p("time_zone", ParamType::Text),
        ],
        audit: Some(Audit {
            action: "create",
            resource_type: "Slot",
        }),
    },
    Statement {
        name: "schedule.generate-check",
        sql: "SELECT EXISTS (SELECT 1 FROM schedules WHERE id = $1) AS schedule_known, \
                     EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $2) AS zone_known",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[
            p("schedule", ParamType::Uuid),
            p("time_zone", ParamType::Text),
        ],
        audit: None,
    },
];

/// The FHIRPath of a parameter's value.
fn at(name: &str, value: &str) -> String {
    format!("Parameters.parameter.where(name='{name}').{value}")
}

fn generate_calls(id: &str, parameters: &Map<String, Value>) -> Result<Vec<Call>, Vec<Issue>> {
    let list = parameters
        .get("parameter")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let values = |name: &str, value: &str| -> Vec<&Value> {
        list.iter()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .filter_map(|p| p.get(value))
            .collect()
    };
    let mut issues = Vec::new();
    let mut one =
        |name: &str, value: &str, valid: &dyn Fn(&Value) -> bool, what: &str| match values(
            name, value,
        )
        .as_slice()
        {
            [v] if valid(v) => Some((*v).clone()),
            _ => {
                issues.push(
                    Issue::new(
                        IssueCode::Value,
                        format!("{name} must be one {value}: {what}"),
                    )
                    .at(at(name, value)),
                );
                None
            }
        };
    let date = |v: &Value| v.as_str().is_some_and(|d| d.len() == 10 && is_fhir_date(d));
    let start = one("start", "valueDate", &date, "the first day, YYYY-MM-DD");
    let end = one("end", "valueDate", &date, "the last day, YYYY-MM-DD");
    let time = |v: &Value| v.as_str().and_then(minutes_of_day).is_some();
    let from = one(
        "from",
        "valueTime",
        &time,
        "local start of availability, hh:mm:ss",
    );
    let to = one(
        "to",
        "valueTime",
        &time,
        "local end of availability, hh:mm:ss",
    );
    let length = one(
        "slotMinutes",
        "valuePositiveInt",
        &|v: &Value| v.as_i64().is_some_and(|m| (5..=480).contains(&m)),
        "minutes per slot, 5 to 480",
    );
    let zone = one(
        "timeZone",
        "valueCode",
        &|v: &Value| {
            v.as_str().is_some_and(|z| {
                !z.is_empty()
                    && z.len() <= 64
                    && z.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
            })
        },
        "an IANA time zone such as Europe/Paris",
    );
    let mut days = Vec::new();
    for (i, d) in values("day", "valueCode").iter().enumerate() {
        match d.as_str().and_then(|d| DAYS_OF_WEEK.position(d)) {
            Some(n) => days.push(n as i64 + 1),
            None => issues.push(
                Issue::new(
                    IssueCode::Value,
                    "day must be mon, tue, wed, thu, fri, sat or sun",
                )
                .at(format!("{}[{i}]", at("day", "valueCode"))),
            ),
        }
    }
    if days.is_empty() && issues.is_empty() {
        issues.push(
            Issue::new(
                IssueCode::Required,
                "give at least one day (valueCode mon…sun)",
            )
            .at(at("day", "valueCode")),
        );
    }
    days.sort_unstable();
    days.dedup();
    let (Some(start), Some(end), Some(from), Some(to), Some(length), Some(zone)) =
        (start, end, from, to, length, zone)
    else {
        return Err(issues);
    };
    let span = dates::range(start.as_str().unwrap_or_default())
        .zip(dates::range(end.as_str().unwrap_or_default()))
        .map(|((s, _), (e, _))| (e - s).num_days() + 1)
        .unwrap_or(0);
    if !(1..=MAX_DAYS).contains(&span) {
        issues.push(
            Issue::new(
                IssueCode::Value,
                format!("end must be on or after start, at most {MAX_DAYS} days later"),
            )
            .at(at("end", "valueDate")),
        );
    }
    let (from_m, to_m) = (
        from.as_str().and_then(minutes_of_day).unwrap_or(0),
        to.as_str().and_then(minutes_of_day).unwrap_or(0),
    );
    let minutes = length.as_i64().unwrap_or(1);
    if from_m + minutes > to_m {
        issues.push(
            Issue::new(IssueCode::Value, "to must leave room for a slot after from")
                .at(at("to", "valueTime")),
        );
    } else if span * (to_m - from_m) / minutes > MAX_SLOTS {
        issues.push(
            Issue::new(
                IssueCode::TooLong,
                format!("at most {MAX_SLOTS} slots at once: generate fewer weeks"),
            )
            .at(at("end", "valueDate")),
        );
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(vec![
        Call {
            name: "schedule.generate-slots".into(),
            params: vec![
                json!(id),
                start,
                end,
                json!(days),
                from,
                to,
                json!(minutes),
                zone.clone(),
            ],
        },
        Call {
            name: "schedule.generate-check".into(),
            params: vec![json!(id), zone],
        },
    ])
}

/// `hh:mm[:ss]` as minutes after midnight (seconds must be 0: slots start on minutes).
fn minutes_of_day(t: &str) -> Option<i64> {
    let mut parts = t.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s = parts.next().unwrap_or("00");
    (parts.next().is_none() && (0..24).contains(&h) && (0..60).contains(&m) && s == "00")
        .then_some(h * 60 + m)
}

fn generate_check(results: &[StatementResult]) -> Result<(), ApiError> {
    let row = results
        .get(1)
        .and_then(|r| r.rows.first())
        .ok_or_else(|| malformed_answer("schedule.generate-check"))?;
    let known = |k: &str| row.get(k).and_then(Value::as_bool);
    match (known("schedule_known"), known("zone_known")) {
        (Some(false), _) => Err(ApiError::NotFound("the Schedule is not known".into())),
        (_, Some(false)) => Err(ApiError::Unprocessable(vec![
            Issue::new(
                IssueCode::Value,
                "timeZone is not a time zone the clinic's region knows (IANA names, such as Europe/Paris)",
            )
            .at(at("timeZone", "valueCode")),
        ])),
        (Some(true), Some(true)) => Ok(()),
        _ => Err(malformed_answer("schedule.generate-check")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters(v: Value) -> Map<String, Value> {
        json!({"resourceType": "Parameters", "parameter": v})
            .as_object()
            .unwrap()
            .clone()
    }

    fn weekdays() -> Value {
        json!([
            {"name": "start", "valueDate": "2026-12-01"},
            {"name": "end", "valueDate": "2026-12-14"},
            {"name": "day", "valueCode": "mon"}, {"name": "day", "valueCode": "wed"},
            {"name": "day", "valueCode": "mon"},
            {"name": "from", "valueTime": "09:00:00"}, {"name": "to", "valueTime": "12:00:00"},
            {"name": "slotMinutes", "valuePositiveInt": 30},
            {"name": "timeZone", "valueCode": "Europe/Paris"}
        ])
    }

    #[test]
    fn availability_becomes_one_generation_call() {
        let id = "5b0c1a2e-1111-4222-8333-444455556666";
        let calls = generate_calls(id, &parameters(weekdays())).unwrap();
        assert_eq!(calls[0].name, "schedule.generate-slots");
        assert_eq!(
            calls[0].params,
            vec![
                json!(id),
                json!("2026-12-01"),
                json!("2026-12-14"),
                json!([1, 3]),
                json!("09:00:00"),
                json!("12:00:00"),
                json!(30),
                json!("Europe/Paris")
            ]
        );
        assert_eq!(calls[1].params, vec![json!(id), json!("Europe/Paris")]);
    }

    #[test]
    fn bad_availability_is_named_parameter_by_parameter() {
        let mut p = weekdays();
        p[0]["valueDate"] = json!("2026-12-20");
        p[6]["valueTime"] = json!("09:10:00");
        p[7]["valuePositiveInt"] = json!(3);
        p[8]["valueCode"] = json!("Europe/Paris; DROP");
        p[2]["valueCode"] = json!("monday");
        let issues = generate_calls("x", &parameters(p)).unwrap_err();
        let at: Vec<_> = issues.iter().filter_map(|i| i.expression.clone()).collect();
        assert!(at.iter().any(|a| a.contains("slotMinutes")), "{at:?}");
        assert!(at.iter().any(|a| a.contains("timeZone")), "{at:?}");
        assert!(at.iter().any(|a| a.contains("day")), "{at:?}");
        let mut p = weekdays();
        p[0]["valueDate"] = json!("2026-12-20");
        let issues = generate_calls("x", &parameters(p)).unwrap_err();
        assert!(
            issues[0].diagnostics.contains("on or after start"),
            "{issues:?}"
        );
        let mut p = weekdays();
        p[6]["valueTime"] = json!("09:20:00");
        assert!(
            generate_calls("x", &parameters(p)).unwrap_err()[0]
                .diagnostics
                .contains("room for a slot")
        );
        assert_eq!(minutes_of_day("09:30"), Some(570));
        assert_eq!(minutes_of_day("09:30:15"), None);
        assert_eq!(minutes_of_day("24:00:00"), None);
    }
}
