//! `GET …/Patient/{id}/$everything`: the right of access and to portability (GDPR art. 15
//! and 20; HIPAA 45 CFR 164.524): a Bundle of everything the clinic holds in the patient's
//! compartment — the Patient, then every registered type with a patient column
//! ([`resource::compartment_column`]), in registry order, each in creation order.
//!
//! One edge→region call per page: the page's batch holds each remaining type's `everything`
//! statement (audited as an `export` of every row it returns), each asking for one row
//! more than the page has room for, so the next page's cursor (type, last seq) is known
//! from the answer alone. Only types the caller's scopes may read are exported; `_type`
//! narrows them further. National identifiers come back opened, as on a read.
//!
//! Referenced resources outside the compartment (practitioners, slots) are not included.

use http::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Caller,
    error::{ApiError, malformed_answer},
    fhir_response,
    lsn::client_min_lsn,
    parse_uuid,
    resource::{self, EVERYTHING, Interaction, Resource, statement_name},
    resources::REGISTRY,
    rest::not_found,
    run,
};
use crate::{
    ctx::Ctx,
    dataplane::wire::Call,
    fhir::{self, Issue, IssueCode},
    host::Host,
};

/// Entries per page: `_count`'s default and its ceiling.
pub const DEFAULT_COUNT: usize = 500;
pub const MAX_COUNT: usize = 1000;

/// Where a page starts: the type (index in [`compartment`]) and the last seq sent of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    kind: usize,
    after_seq: Option<i64>,
}

/// The types of a patient's compartment, the Patient first.
fn compartment() -> impl Iterator<Item = &'static dyn Resource> {
    REGISTRY
        .iter()
        .copied()
        .filter(|r| resource::compartment_column(*r).is_some())
}

/// What the query asks: the page size, the types, where to start.
#[derive(Debug, PartialEq)]
struct Query {
    count: usize,
    types: Option<Vec<String>>,
    start: Position,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(vec![Issue::new(IssueCode::Invalid, msg)])
}

fn parse(query: Option<&str>) -> Result<Query, ApiError> {
    let mut q = Query {
        count: DEFAULT_COUNT,
        types: None,
        start: Position {
            kind: 0,
            after_seq: None,
        },
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "_count" => {
                q.count = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| bad(format!("_count is 1 to {MAX_COUNT}")))?;
            }
            "_type" => {
                let types: Vec<String> = v.split(',').map(|t| t.trim().to_owned()).collect();
                if let Some(unknown) = types
                    .iter()
                    .find(|t| !compartment().any(|r| r.name() == t.as_str()))
                {
                    return Err(bad(format!(
                        "_type: {unknown} is not a type of the patient compartment ({})",
                        compartment()
                            .map(|r| r.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                q.types = Some(types);
            }
            "_cursor" => {
                q.start = decode(&v).ok_or_else(|| bad("_cursor is not one this server gave"))?;
            }
            other => {
                return Err(bad(format!(
                    "$everything takes _count, _type and _cursor, not {other}"
                )));
            }
        }
    }
    Ok(q)
}

const CURSOR: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn encode(p: Position) -> String {
    use base64::Engine as _;
    let name = compartment().nth(p.kind).map_or("", |r| r.name());
    CURSOR.encode(format!("{name}|{}", p.after_seq.unwrap_or(0)))
}

fn decode(c: &str) -> Option<Position> {
    use base64::Engine as _;
    let raw = String::from_utf8(CURSOR.decode(c).ok()?).ok()?;
    let (name, seq) = raw.split_once('|')?;
    let kind = compartment().position(|r| r.name() == name)?;
    let seq: i64 = seq.parse().ok().filter(|s| *s >= 0)?;
    Some(Position {
        kind,
        after_seq: Some(seq),
    })
}

pub(super) async fn everything<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    patient: &dyn Resource,
    id: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    caller.require(patient, Interaction::Read)?;
    let q = parse(req.uri().query())?;
    let min_lsn = client_min_lsn(req)?;
    let id = parse_uuid(id).ok_or_else(|| not_found(patient, id))?;
    // The Patient's own row is always read (it says whether the patient exists here);
    // the other types from the page's start on, those the caller may read and asked for.
    let wanted = |r: &dyn Resource| {
        caller
            .principal
            .scopes
            .allows(r.name(), Interaction::Read.perm().0)
            && q.types
                .as_ref()
                .is_none_or(|t| t.iter().any(|t| t == r.name()))
    };
    let kinds: Vec<(usize, &'static dyn Resource)> = compartment()
        .enumerate()
        .filter(|(i, r)| *i == 0 || (*i >= q.start.kind && wanted(*r)))
        .collect();
    let calls: Vec<Call> = kinds
        .iter()
        .map(|(i, r)| {
            let after = if *i > 0 && *i == q.start.kind {
                q.start.after_seq
            } else {
                None
            };
            Call {
                name: statement_name(*r, EVERYTHING),
                params: vec![json!(id), json!(after), json!(q.count + 1)],
            }
        })
        .collect();
    let response = run(ctx, caller, calls, None, min_lsn).await?;
    let results = &response.results;
    if results.len() != kinds.len() {
        return Err(malformed_answer(&statement_name(patient, EVERYTHING)));
    }
    if results[0].rows.is_empty() {
        return Err(not_found(patient, &id));
    }
    // The Patient itself opens the first page, if the caller asked for it.
    let first_page = q.start.kind == 0 && q.start.after_seq.is_none();
    let mut entries: Vec<(usize, Value, i64)> = Vec::new();
    let mut more = false;
    'kinds: for ((i, r), result) in kinds.iter().zip(results) {
        if *i == 0 && !(first_page && wanted(*r)) {
            continue;
        }
        let name = statement_name(*r, EVERYTHING);
        for row in &result.rows {
            if entries.len() == q.count {
                more = true;
                break 'kinds;
            }
            let resource = resource::from_row(row).ok_or_else(|| malformed_answer(&name))?;
            let seq = row
                .get("seq")
                .and_then(Value::as_i64)
                .ok_or_else(|| malformed_answer(&name))?;
            entries.push((*i, resource, seq));
        }
    }
    let next_url = entries.last().filter(|_| more).map(|(kind, _, seq)| {
        page_url(
            caller,
            patient,
            &id,
            &q,
            Some(Position {
                kind: *kind,
                after_seq: Some(*seq),
            }),
        )
    });
    let self_url = page_url(caller, patient, &id, &q, q.start.after_seq.map(|_| q.start));
    let entries = entries
        .into_iter()
        .map(|(kind, resource, _)| {
            let r = compartment()
                .nth(kind)
                .expect("entries come from the compartment");
            let url = caller
                .urls
                .resource(r, resource["id"].as_str().unwrap_or_default());
            (url, resource)
        })
        .collect();
    Ok(fhir_response(
        StatusCode::OK,
        &fhir::searchset(&self_url, next_url.as_deref(), None, entries),
    ))
}

/// The URL of a page of `$everything` in the request's URL space.
fn page_url(
    caller: &Caller,
    patient: &dyn Resource,
    id: &str,
    q: &Query,
    at: Option<Position>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("_count", &q.count.to_string());
    if let Some(types) = &q.types {
        query.append_pair("_type", &types.join(","));
    }
    if let Some(at) = at {
        query.append_pair("_cursor", &encode(at));
    }
    format!(
        "{}/$everything?{}",
        caller.urls.resource(patient, id),
        query.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compartment_starts_with_the_patient_and_holds_every_patient_linked_type() {
        let names: Vec<&str> = compartment().map(|r| r.name()).collect();
        assert_eq!(names[0], "Patient");
        for t in ["Appointment", "Observation", "Consent"] {
            assert!(names.contains(&t), "{names:?}");
        }
        assert!(!names.contains(&"Practitioner"), "{names:?}");
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let p = Position {
            kind: 2,
            after_seq: Some(41),
        };
        assert_eq!(decode(&encode(p)), Some(p));
        for bad in ["", "!!", "Tm9wZXw0MQ", &unknown_type_cursor()] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    /// A cursor naming a type outside the compartment.
    fn unknown_type_cursor() -> String {
        use base64::Engine as _;
        CURSOR.encode("Practitioner|3")
    }

    #[test]
    fn parameters_are_checked() {
        let q = parse(Some("_count=2&_type=Observation,Consent")).unwrap();
        assert_eq!(q.count, 2);
        assert_eq!(
            q.types,
            Some(vec!["Observation".to_owned(), "Consent".to_owned()])
        );
        for bad in [
            "_count=0",
            "_count=1001",
            "_count=x",
            "_type=Practitioner",
            "_cursor=nope",
            "_since=2020",
        ] {
            assert!(
                matches!(parse(Some(bad)), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
