//! Writes of many resources at once, and conditional create: FHIR `batch` and
//! `transaction` Bundles posted to the base (`POST /v1`, `POST /fhir/R4`), and a single
//! `POST` with `If-None-Exist`. Up to [`MAX_ENTRIES`] entries, one edge→region call: the
//! entries of each type go as one bulk statement (ids drawn by the edge, so each entry's
//! outcome is known by id), with the look-up of what their conditions match.
//!
//! - `transaction`: all or nothing. A fault found at the edge refuses the Bundle (400/422,
//!   naming the entry); in the region, a conflict or unknown reference fails the whole
//!   batch, and a condition matching several resources refuses it before anything is
//!   written (412).
//! - `batch`: each entry on its own, each with its `response.status`: a faulty entry is
//!   answered 4xx while the others are written.
//!
//! Exactly-once ingestion: a resource with an identity ([`Resource::identity`], its first
//! identifier) is unique by it in the clinic's schema. Resends of the same readings, even
//! in parallel, find it there: `If-None-Exist: identifier=<system>|<value>` (or
//! `entry.request.ifNoneExist`) answers 200 with the existing resource; without a
//! condition a duplicate is 409. Only POST (create) entries are served.

use std::collections::HashMap;

use http::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    Caller, MAX_BUNDLE_BYTES,
    error::{ApiError, malformed_answer},
    fhir_response, idempotency,
    resource::{
        self, BulkMode, Interaction, Resource, Rules, Valid, bulk_name, match_name,
        refuse_ambiguous_name,
    },
    resources,
    rest::{json_body_within, write_headers},
    run,
};
use crate::{
    compliance::{SHAPE_ONLY, policy_for},
    ctx::Ctx,
    dataplane::wire::{BatchResponse, Call},
    fhir::{Issue, IssueCode, datatypes::civil_date, operation_outcome},
    host::Host,
};

/// The most entries a Bundle may hold.
pub const MAX_ENTRIES: usize = 1000;

/// All or nothing, or each entry on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transaction,
    Batch,
}

/// An entry ready to write.
struct Entry {
    index: usize,
    r: &'static dyn Resource,
    id: String,
    valid: Valid,
    /// The `system|value` its `If-None-Exist` names.
    condition: Option<String>,
    /// Its identity, if its type has one.
    identity: Option<String>,
}

/// What became of an entry.
enum Outcome {
    Created(Value),
    Existing(Value),
    Refused(StatusCode, Vec<Issue>),
}

/// A fresh UUID v4 from the host's randomness: the id of a resource an entry creates.
fn new_id<H: Host>(ctx: &Ctx<'_, H>) -> String {
    let mut b = [0u8; 16];
    ctx.host.fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = super::idempotency::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The `system|value` an `If-None-Exist` value names: only `identifier=<system>|<value>`
/// is served (the one condition a unique constraint can make exactly-once).
fn condition_of(r: &dyn Resource, value: &str) -> Result<String, Issue> {
    let unsupported = || {
        Issue::new(
            IssueCode::NotSupported,
            format!(
                "conditional create of {} is not supported{}",
                r.name(),
                if r.identity().is_some() {
                    "; use If-None-Exist: identifier=<system>|<value>"
                } else {
                    ""
                }
            ),
        )
        .at("If-None-Exist")
    };
    r.identity().ok_or_else(unsupported)?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(value.trim().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match pairs.as_slice() {
        [(k, v)] if k == "identifier" && v.contains('|') && !v.ends_with('|') => Ok(v.clone()),
        _ => Err(unsupported()),
    }
}

/// The identity `valid` carries (the value of its identity column).
fn identity_of(r: &dyn Resource, valid: &Valid) -> Option<String> {
    let column = r.identity()?;
    let at = r.columns().iter().position(|c| c.name == column)?;
    valid.columns.get(at)?.as_str().map(str::to_owned)
}

/// Checks a conditional entry: its condition must be its identity, so that the unique
/// identity makes it exactly-once.
fn check_condition(entry: &Entry) -> Result<(), Issue> {
    match (&entry.condition, &entry.identity) {
        (Some(c), Some(i)) if c == i => Ok(()),
        (Some(c), _) => Err(Issue::new(
            IssueCode::Invalid,
            format!(
                "If-None-Exist names identifier {c}: it must be the resource's first identifier"
            ),
        )
        .at(format!("{}.identifier[0]", entry.r.name()))),
        (None, _) => Ok(()),
    }
}

/// `POST` of one resource with `If-None-Exist`: 201 created, 200 with the one that
/// exists, 412 when several match.
pub(super) async fn conditional_create<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &'static dyn Resource,
    valid: Valid,
    condition: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    let condition = condition_of(r, condition).map_err(|i| ApiError::BadRequest(vec![i]))?;
    let identity = identity_of(r, &valid);
    let entry = Entry {
        index: 0,
        r,
        id: new_id(ctx),
        valid,
        condition: Some(condition),
        identity,
    };
    check_condition(&entry).map_err(|i| ApiError::Unprocessable(vec![i]))?;
    let (response, outcomes) = write(ctx, req, caller, Kind::Transaction, vec![entry]).await?;
    let (status, resource) = match outcomes.into_iter().next() {
        Some(Outcome::Created(v)) => (StatusCode::CREATED, v),
        Some(Outcome::Existing(v)) => (StatusCode::OK, v),
        Some(Outcome::Refused(status, issues)) => {
            return Err(match status {
                StatusCode::PRECONDITION_FAILED => ApiError::PreconditionFailed(
                    issues
                        .first()
                        .map(|i| i.diagnostics.clone())
                        .unwrap_or_default(),
                ),
                StatusCode::CONFLICT => ApiError::Conflict(
                    issues
                        .first()
                        .map(|i| i.diagnostics.clone())
                        .unwrap_or_default(),
                ),
                _ => ApiError::Unprocessable(issues),
            });
        }
        None => return Err(malformed_answer(&bulk_name(r, BulkMode::IfNoneExist))),
    };
    let mut out = fhir_response(status, &resource);
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    if let Ok(v) = format!("W/\"{version}\"").parse() {
        out.headers_mut().insert("etag", v);
    }
    let id = resource["id"].as_str().unwrap_or_default();
    if let Ok(v) = caller.urls.resource(r, id).parse() {
        out.headers_mut().insert("location", v);
    }
    write_headers(&mut out, &response, idempotency::client_key(req)?.is_some());
    Ok(out)
}

/// `POST /v1` (or `/fhir/R4`) of a `batch` or `transaction` Bundle.
pub(super) async fn post<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
) -> Result<Response<Vec<u8>>, ApiError> {
    let body = json_body_within(req, MAX_BUNDLE_BYTES)?;
    let bad = |issue: Issue| ApiError::BadRequest(vec![issue]);
    let bundle = body
        .as_object()
        .filter(|b| b.get("resourceType").and_then(Value::as_str) == Some("Bundle"))
        .ok_or_else(|| {
            bad(Issue::new(
                IssueCode::Structure,
                "POST to the base takes a FHIR Bundle of type batch or transaction",
            ))
        })?;
    let kind = match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => Kind::Transaction,
        Some("batch") => Kind::Batch,
        _ => {
            return Err(ApiError::Unprocessable(vec![
                Issue::new(IssueCode::Value, "Bundle.type must be batch or transaction")
                    .at("Bundle.type"),
            ]));
        }
    };
    let raw = bundle
        .get("entry")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if raw.len() > MAX_ENTRIES {
        return Err(ApiError::Unprocessable(vec![
            Issue::new(
                IssueCode::TooLong,
                format!(
                    "a Bundle holds at most {MAX_ENTRIES} entries, this one {}",
                    raw.len()
                ),
            )
            .at("Bundle.entry"),
        ]));
    }
    let policy = caller.entry.as_ref().map(|e| policy_for(&e.country));
    let today = civil_date(ctx.host.now_millis());
    let rules = Rules {
        policy: policy.as_ref().unwrap_or(&SHAPE_ONLY),
        today: &today,
        currency: caller
            .entry
            .as_ref()
            .and_then(|e| e.billing_currency().ok()),
    };
    let mut entries = Vec::new();
    let mut refused: HashMap<usize, Outcome> = HashMap::new();
    for (index, e) in raw.iter().enumerate() {
        match read_entry(ctx, caller, index, e, &rules) {
            Ok(entry) => entries.push(entry),
            Err((status, issues)) => {
                if kind == Kind::Transaction {
                    return Err(match status {
                        StatusCode::FORBIDDEN => ApiError::InsufficientScope(
                            issues
                                .first()
                                .map(|i| i.diagnostics.clone())
                                .unwrap_or_default(),
                        ),
                        StatusCode::BAD_REQUEST => ApiError::BadRequest(issues),
                        _ => ApiError::Unprocessable(issues),
                    });
                }
                refused.insert(index, Outcome::Refused(status, issues));
            }
        }
    }
    let (response, written) = if entries.is_empty() {
        (None, Vec::new())
    } else {
        let indexes: Vec<usize> = entries.iter().map(|e| e.index).collect();
        let (response, outcomes) = write(ctx, req, caller, kind, entries).await?;
        (Some(response), indexes.into_iter().zip(outcomes).collect())
    };
    refused.extend(written);
    let response_type = match kind {
        Kind::Transaction => "transaction-response",
        Kind::Batch => "batch-response",
    };
    // Every entry has its outcome: refused at the edge, or one per written entry.
    let answers: Vec<Value> = (0..raw.len())
        .map(|i| {
            refused
                .remove(&i)
                .map(|outcome| answer(caller, outcome))
                .ok_or_else(|| malformed_answer("bundle"))
        })
        .collect::<Result<_, _>>()?;
    let mut out = fhir_response(
        StatusCode::OK,
        &json!({ "resourceType": "Bundle", "type": response_type, "entry": answers }),
    );
    if let Some(response) = &response {
        write_headers(&mut out, response, idempotency::client_key(req)?.is_some());
    }
    Ok(out)
}

/// One Bundle entry, checked: a POST of a registered type the caller may create, valid,
/// with a condition it can honour.
fn read_entry<H: Host>(
    ctx: &Ctx<'_, H>,
    caller: &Caller,
    index: usize,
    e: &Value,
    rules: &Rules<'_>,
) -> Result<Entry, (StatusCode, Vec<Issue>)> {
    let at = |path: &str| format!("Bundle.entry[{index}].{path}");
    let one = |status: StatusCode, code: IssueCode, message: String, path: &str| {
        (status, vec![Issue::new(code, message).at(at(path))])
    };
    let request = e.get("request").and_then(Value::as_object);
    let method = request
        .and_then(|r| r.get("method"))
        .and_then(Value::as_str);
    if method != Some("POST") {
        return Err(one(
            StatusCode::METHOD_NOT_ALLOWED,
            IssueCode::NotSupported,
            "only POST (create) entries are served in a Bundle".into(),
            "request.method",
        ));
    }
    let url = request
        .and_then(|r| r.get("url"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_matches('/');
    let r = resources::by_name(url)
        .or_else(|| resources::by_plural(url))
        .ok_or_else(|| {
            one(
                StatusCode::NOT_FOUND,
                IssueCode::NotFound,
                format!(
                    "no resource type at {url:?}: request.url names a type, such as Observation"
                ),
                "request.url",
            )
        })?;
    if !r.interactions().contains(&Interaction::Create) {
        return Err(one(
            StatusCode::METHOD_NOT_ALLOWED,
            IssueCode::NotSupported,
            format!("{} cannot be created", r.name()),
            "request.url",
        ));
    }
    if let Err(ApiError::InsufficientScope(scope)) = caller.require(r, Interaction::Create) {
        return Err(one(
            StatusCode::FORBIDDEN,
            IssueCode::Forbidden,
            scope,
            "request",
        ));
    }
    let body = e.get("resource").cloned().unwrap_or(Value::Null);
    let valid = resource::validate(r, body, rules).map_err(|invalid| match invalid {
        resource::Invalid::NotAResource => one(
            StatusCode::BAD_REQUEST,
            IssueCode::Structure,
            "entry.resource must be a FHIR resource".into(),
            "resource",
        ),
        resource::Invalid::Issues(issues) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            issues
                .into_iter()
                .map(|mut i| {
                    i.expression = Some(match i.expression.take() {
                        Some(path) => {
                            let rest = path.strip_prefix(r.name()).unwrap_or(&path);
                            at(&format!("resource{rest}"))
                        }
                        None => at("resource"),
                    });
                    i
                })
                .collect(),
        ),
    })?;
    let condition = request
        .and_then(|r| r.get("ifNoneExist"))
        .and_then(Value::as_str)
        .map(|c| condition_of(r, c))
        .transpose()
        .map_err(|mut i| {
            i.expression = Some(at("request.ifNoneExist"));
            (StatusCode::BAD_REQUEST, vec![i])
        })?;
    let identity = identity_of(r, &valid);
    let entry = Entry {
        index,
        r,
        id: new_id(ctx),
        valid,
        condition,
        identity,
    };
    check_condition(&entry).map_err(|i| (StatusCode::UNPROCESSABLE_ENTITY, vec![i]))?;
    Ok(entry)
}

/// The Bundle entry answering an outcome.
fn answer(caller: &Caller, outcome: Outcome) -> Value {
    let located = |status: &str, resource: &Value| {
        let r = resource["resourceType"].as_str().unwrap_or_default();
        let id = resource["id"].as_str().unwrap_or_default();
        let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
        let full_url = resources::by_name(r)
            .map(|t| caller.urls.resource(t, id))
            .unwrap_or_default();
        json!({
            "fullUrl": full_url,
            "response": {
                "status": status,
                "location": format!("{r}/{id}/_history/{version}"),
                "etag": format!("W/\"{version}\""),
                "lastModified": resource["meta"]["lastUpdated"],
            }
        })
    };
    match outcome {
        Outcome::Created(resource) => located("201 Created", &resource),
        Outcome::Existing(resource) => located("200 OK", &resource),
        Outcome::Refused(status, issues) => json!({
            "response": {
                "status": format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
                "outcome": operation_outcome(&issues),
            }
        }),
    }
}

/// A type's statements in a batch: its inserts (name, index) and its look-up's index.
type Planned = (&'static dyn Resource, Vec<(String, usize)>, Option<usize>);

/// Writes `entries` in one batch and tells what became of each, in order.
async fn write<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    kind: Kind,
    entries: Vec<Entry>,
) -> Result<(BatchResponse, Vec<Outcome>), ApiError> {
    // Per type, in registry order: [refuse-ambiguous], inserts, [match].
    let mut calls = Vec::new();
    let mut plan: Vec<Planned> = Vec::new();
    for r in resources::REGISTRY.iter().copied() {
        let mine: Vec<&Entry> = entries.iter().filter(|e| e.r.name() == r.name()).collect();
        if mine.is_empty() {
            continue;
        }
        let conditions: Vec<&String> = mine.iter().filter_map(|e| e.condition.as_ref()).collect();
        if kind == Kind::Transaction && !conditions.is_empty() {
            calls.push(Call {
                name: refuse_ambiguous_name(r),
                params: vec![json!(conditions)],
            });
        }
        let groups: Vec<(BulkMode, Vec<&Entry>)> = match kind {
            Kind::Batch => vec![(BulkMode::Lenient, mine.clone())],
            Kind::Transaction => vec![
                (
                    BulkMode::Strict,
                    mine.iter()
                        .copied()
                        .filter(|e| e.condition.is_none())
                        .collect(),
                ),
                (
                    BulkMode::IfNoneExist,
                    mine.iter()
                        .copied()
                        .filter(|e| e.condition.is_some())
                        .collect(),
                ),
            ],
        };
        let mut inserts = Vec::new();
        for (mode, group) in groups {
            if group.is_empty() {
                continue;
            }
            let rows: Vec<Value> = group
                .iter()
                .map(|e| {
                    let mut row = Map::new();
                    row.insert("id".into(), json!(e.id));
                    row.insert("resource".into(), e.valid.resource.clone());
                    for (c, v) in r.columns().iter().zip(&e.valid.columns) {
                        row.insert(c.name.into(), v.clone());
                    }
                    Value::Object(row)
                })
                .collect();
            let name = bulk_name(r, mode);
            inserts.push((name.clone(), calls.len()));
            calls.push(Call {
                name,
                params: vec![Value::Array(rows)],
            });
        }
        let tokens: Vec<&String> = mine
            .iter()
            .filter_map(|e| e.condition.as_ref().or(e.identity.as_ref()))
            .collect();
        let matched = (r.identity().is_some() && !tokens.is_empty()).then(|| {
            calls.push(Call {
                name: match_name(r),
                params: vec![json!(tokens)],
            });
            calls.len() - 1
        });
        plan.push((r, inserts, matched));
    }
    let client_key = idempotency::client_key(req)?;
    let idempotency = idempotency::of(ctx, req, &caller.principal, client_key.as_deref());
    let response = run(ctx, caller, calls, Some(idempotency), None).await?;
    // What was created, by id, and what each type's look-up found.
    let mut created: HashMap<String, Value> = HashMap::new();
    let mut matches: HashMap<&str, Vec<(Value, Vec<String>)>> = HashMap::new();
    for (r, inserts, matched) in &plan {
        for (name, at) in inserts {
            let rows = &response
                .results
                .get(*at)
                .ok_or_else(|| malformed_answer(name))?
                .rows;
            for row in rows {
                let resource = resource::from_row(row).ok_or_else(|| malformed_answer(name))?;
                let id = resource["id"].as_str().unwrap_or_default().to_owned();
                created.insert(id, resource);
            }
        }
        if let Some(at) = matched {
            let name = match_name(*r);
            let rows = &response
                .results
                .get(*at)
                .ok_or_else(|| malformed_answer(&name))?
                .rows;
            let found = rows
                .iter()
                .map(|row| {
                    let resource =
                        resource::from_row(row).ok_or_else(|| malformed_answer(&name))?;
                    let tokens = row
                        .get("tokens")
                        .and_then(Value::as_array)
                        .map(|t| {
                            t.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    Ok((resource, tokens))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            matches.insert(r.name(), found);
        }
    }
    let outcomes = entries
        .into_iter()
        .map(|e| {
            if let Some(resource) = created.remove(&e.id) {
                return Outcome::Created(resource);
            }
            let token = e.condition.as_ref().or(e.identity.as_ref());
            let found: Vec<&Value> = token
                .map(|t| {
                    matches
                        .get(e.r.name())
                        .map_or(&[][..], Vec::as_slice)
                        .iter()
                        .filter(|(_, tokens)| tokens.contains(t))
                        .map(|(resource, _)| resource)
                        .collect()
                })
                .unwrap_or_default();
            let name = e.r.name();
            match (e.condition.is_some(), found.as_slice()) {
                (true, [one]) => Outcome::Existing((*one).clone()),
                (true, [_, _, ..]) => Outcome::Refused(
                    StatusCode::PRECONDITION_FAILED,
                    vec![Issue::new(
                        IssueCode::Conflict,
                        "If-None-Exist matches several resources: nothing was written",
                    )],
                ),
                (false, [_, ..]) => Outcome::Refused(
                    StatusCode::CONFLICT,
                    vec![Issue::new(
                        IssueCode::Conflict,
                        format!("a {name} with this identifier exists; resend with If-None-Exist to get it"),
                    )
                    .at(format!("{name}.identifier[0]"))],
                ),
                // Not written, nothing in its way: a reference that resolves to nothing in
                // this clinic (the lenient statement skipped it).
                (_, []) => Outcome::Refused(StatusCode::UNPROCESSABLE_ENTITY, unresolved(e.r)),
            }
        })
        .collect();
    Ok((response, outcomes))
}

/// The issue of an entry skipped for a reference to nothing: its type's (first) reference
/// rule.
fn unresolved(r: &dyn Resource) -> Vec<Issue> {
    let rule = r
        .columns()
        .iter()
        .filter(|c| c.refers_to.is_some())
        .find_map(|c| {
            let fkey = format!("{}_{}_fkey", r.table(), c.name);
            r.db_rules().iter().find(|rule| rule.name == fkey)
        });
    vec![match rule {
        Some(rule) => Issue::new(IssueCode::Invalid, rule.human).at(rule.path),
        None => Issue::new(
            IssueCode::Invalid,
            format!(
                "the {} refers to something this clinic does not have",
                r.name()
            ),
        ),
    }]
}
