//! The FHIR RESTful interactions, once for every resource type: create, read, update
//! (with `If-Match`) and search. Each is one batch, one edge→region call.

use http::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{
    Caller, MAX_BODY_BYTES,
    error::{ApiError, malformed_answer},
    fhir_response,
    idempotency::{self, IDEMPOTENT_REPLAYED_HEADER},
    lsn::{ClientLsn, LSN_HEADER, client_min_lsn},
    parse_uuid,
    resource::{self, Interaction, Invalid, Resource, Rules, VERSION, Valid, statement_name},
    run, search,
};
use crate::{
    compliance::{SHAPE_ONLY, policy_for},
    ctx::Ctx,
    dataplane::wire::{BatchResponse, Call},
    fhir::{self, Issue, IssueCode, datatypes::civil_date},
    host::Host,
};

/// A single resource, with its version as a weak `ETag` (FHIR versioning).
fn resource_response(status: StatusCode, resource: &Value) -> Response<Vec<u8>> {
    let mut r = fhir_response(status, resource);
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    if let Ok(v) = format!("W/\"{version}\"").parse() {
        r.headers_mut().insert("etag", v);
    }
    r
}

pub(super) fn not_found(r: &dyn Resource, id: &str) -> ApiError {
    ApiError::NotFound(format!("{}/{id} is not known", r.name()))
}

/// The first row of the statement at `index` of a batch's answer, as a resource; `None`
/// when the statement returned no row.
fn resource_at(
    response: &BatchResponse,
    index: usize,
    statement: &str,
) -> Result<Option<Value>, ApiError> {
    let result = response
        .results
        .get(index)
        .ok_or_else(|| malformed_answer(statement))?;
    result
        .rows
        .first()
        .map(|row| resource::from_row(row).ok_or_else(|| malformed_answer(statement)))
        .transpose()
}

/// The request's body as JSON: FHIR JSON media type, within [`MAX_BODY_BYTES`].
pub(super) fn json_body(req: &Request<Vec<u8>>) -> Result<Value, ApiError> {
    json_body_within(req, MAX_BODY_BYTES)
}

/// [`json_body`] within `limit` bytes.
pub(super) fn json_body_within(req: &Request<Vec<u8>>, limit: usize) -> Result<Value, ApiError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/fhir+json" && mime != "application/json" {
        return Err(ApiError::UnsupportedMediaType);
    }
    if req.body().len() > limit {
        return Err(ApiError::TooLarge(limit));
    }
    serde_json::from_slice(req.body()).map_err(|e| {
        ApiError::BadRequest(vec![Issue::new(
            IssueCode::Structure,
            format!("the body is not valid JSON: {e}"),
        )])
    })
}

/// An element a create sets from the URL (`$book`: the slot), with its value.
pub(super) type Preset = (&'static str, Value);

/// The body of a create or update, checked as a resource of type `r` under the clinic's
/// policy (when the edge knows the clinic; else its schema's constraints enforce it).
fn valid_body<H: Host>(
    ctx: &Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &dyn Resource,
    preset: Option<Preset>,
) -> Result<(Map<String, Value>, Valid), ApiError> {
    let mut body = json_body(req)?;
    if let (Some((element, value)), Some(obj)) = (preset, body.as_object_mut()) {
        match obj.get(element) {
            Some(given) if *given != value => {
                return Err(ApiError::Unprocessable(vec![
                    Issue::new(
                        IssueCode::Value,
                        format!("{}.{element} is given by the URL: leave it out", r.name()),
                    )
                    .at(format!("{}.{element}", r.name())),
                ]));
            }
            _ => {
                obj.insert(element.to_owned(), value);
            }
        }
    }
    let sent = body.as_object().cloned().unwrap_or_default();
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
    let valid = resource::validate(r, body, &rules).map_err(|e| match e {
        Invalid::NotAResource => ApiError::BadRequest(vec![Issue::new(
            IssueCode::Structure,
            "the body must be a JSON object (a FHIR resource)",
        )]),
        Invalid::Issues(issues) => ApiError::Unprocessable(issues),
    })?;
    Ok((sent, valid))
}

/// What every successful write answers besides the resource: the caller's replayed key,
/// and the write's position for read-your-writes.
pub(super) fn write_headers(r: &mut Response<Vec<u8>>, response: &BatchResponse, client_key: bool) {
    // Only the client's own key is news to the client: a replay of the edge's retry is the
    // answer to this very request.
    if response.replayed && client_key {
        r.headers_mut().insert(
            IDEMPOTENT_REPLAYED_HEADER,
            http::HeaderValue::from_static("true"),
        );
    }
    if let Some(lsn) = &response.lsn
        && let Some(lsn) = ClientLsn::parse(&format!("{}:{lsn}", response.region))
        && let Ok(v) = lsn.header_value().parse()
    {
        r.headers_mut().insert(LSN_HEADER, v);
    }
}

/// Create; `preset` sets an element from the URL (an operation's).
pub(super) async fn create<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &'static dyn Resource,
    preset: Option<Preset>,
) -> Result<Response<Vec<u8>>, ApiError> {
    caller.require(r, Interaction::Create)?;
    let (_, valid) = valid_body(ctx, req, caller, r, preset)?;
    let mut conditions = req.headers().get_all("if-none-exist").iter();
    if let Some(condition) = conditions.next() {
        let condition = match (condition.to_str(), conditions.next()) {
            (Ok(c), None) => c,
            _ => {
                return Err(ApiError::BadRequest(vec![
                    Issue::new(IssueCode::Value, "If-None-Exist must be one search query")
                        .at("If-None-Exist"),
                ]));
            }
        };
        return super::bundle::conditional_create(ctx, req, caller, r, valid, condition).await;
    }
    let client_key = idempotency::client_key(req)?;
    let call = resource::create_call(r, valid);
    let name = call.name.clone();
    let idempotency = idempotency::of(ctx, req, &caller.principal, client_key.as_deref());
    let response = run(ctx, caller, vec![call], Some(idempotency), None).await?;
    let resource = resource_at(&response, 0, &name)?.ok_or_else(|| malformed_answer(&name))?;
    let id = resource["id"].as_str().unwrap_or_default().to_owned();
    let mut out = resource_response(StatusCode::CREATED, &resource);
    if let Ok(v) = caller.urls.resource(r, &id).parse() {
        out.headers_mut().insert("location", v);
    }
    write_headers(&mut out, &response, client_key.is_some());
    Ok(out)
}

/// The version an `If-Match` names (`W/"3"`, or `"3"`); `None` without the header.
fn if_match(req: &Request<Vec<u8>>) -> Result<Option<i64>, ApiError> {
    let mut values = req.headers().get_all("if-match").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let version = value
        .to_str()
        .ok()
        .map(str::trim)
        .map(|v| v.strip_prefix("W/").unwrap_or(v))
        .and_then(|v| v.strip_prefix('"')?.strip_suffix('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0);
    match version {
        Some(v) if values.next().is_none() => Ok(Some(v)),
        _ => Err(ApiError::BadRequest(vec![
            Issue::new(
                IssueCode::Value,
                "If-Match must be one ETag this server gave, as W/\"<versionId>\"",
            )
            .at("If-Match"),
        ])),
    }
}

pub(super) async fn update<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &dyn Resource,
    id: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    caller.require(r, Interaction::Update)?;
    let id = parse_uuid(id).ok_or_else(|| not_found(r, id))?;
    let expected = if_match(req)?;
    let (sent, valid) = valid_body(ctx, req, caller, r, None)?;
    // FHIR update: the body's id must be the URL's (R4 3.1.0.4).
    if sent
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        != Some(id.clone())
    {
        return Err(ApiError::BadRequest(vec![
            Issue::new(
                IssueCode::Value,
                format!("the resource's id must be the one in the URL, {id}"),
            )
            .at(format!("{}.id", r.name())),
        ]));
    }
    let client_key = idempotency::client_key(req)?;
    let name = statement_name(r, Interaction::Update.verb());
    let calls = vec![
        Call {
            name: name.clone(),
            params: [json!(id), json!(expected), valid.resource]
                .into_iter()
                .chain(valid.columns)
                .collect(),
        },
        Call {
            name: statement_name(r, VERSION),
            params: vec![json!(id)],
        },
    ];
    let idempotency = idempotency::of(ctx, req, &caller.principal, client_key.as_deref());
    let response = run(ctx, caller, calls, Some(idempotency), None).await?;
    let Some(resource) = resource_at(&response, 0, &name)? else {
        let current = response
            .results
            .get(1)
            .ok_or_else(|| malformed_answer(&name))?
            .rows
            .first()
            .and_then(|row| row.get("version_id"))
            .and_then(Value::as_i64);
        return Err(match current {
            // Another clinic's id is no different from an unknown one: it is not here.
            None => not_found(r, &id),
            Some(v) => ApiError::PreconditionFailed(format!(
                "{}/{id} is at version {v}, not the If-Match version {}; read it again",
                r.name(),
                expected.unwrap_or_default()
            )),
        });
    };
    let mut out = resource_response(StatusCode::OK, &resource);
    write_headers(&mut out, &response, client_key.is_some());
    Ok(out)
}

pub(super) async fn read<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &dyn Resource,
    id: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    caller.require(r, Interaction::Read)?;
    let min_lsn = client_min_lsn(req)?;
    let id = parse_uuid(id).ok_or_else(|| not_found(r, id))?;
    let name = statement_name(r, Interaction::Read.verb());
    let call = Call {
        name: name.clone(),
        params: vec![json!(id)],
    };
    let response = run(ctx, caller, vec![call], None, min_lsn).await?;
    let resource = resource_at(&response, 0, &name)?.ok_or_else(|| not_found(r, &id))?;
    Ok(resource_response(StatusCode::OK, &resource))
}

pub(super) async fn search<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &dyn Resource,
) -> Result<Response<Vec<u8>>, ApiError> {
    caller.require(r, Interaction::SearchType)?;
    let s = search::parse(r, req.uri().query())?;
    search_at(ctx, req, caller, r, &s, &caller.urls.collection(r)).await
}

/// Runs the parsed search `s` of `r` (its scope already checked), its Bundle's links under
/// `collection`: the type's collection, or an operation's URL that is a search
/// ([`super::resource::Operation::SearchOf`]).
pub(super) async fn search_at<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &dyn Resource,
    s: &search::Search,
    collection: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    let min_lsn = client_min_lsn(req)?;
    let self_url = format!("{collection}?{}", s.query(s.after.as_ref()));
    if s.matches_nothing {
        return Ok(fhir_response(
            StatusCode::OK,
            &fhir::searchset(&self_url, None, Some(0), Vec::new()),
        ));
    }
    let after_seq = s.after.as_ref().map(|c| c.seq);
    let (name, position) = match &s.sort {
        None => (
            statement_name(r, Interaction::SearchType.verb()),
            vec![json!(after_seq)],
        ),
        Some((sort, desc)) => (
            resource::sorted_search_name(r, sort, *desc),
            vec![
                json!(s.after.as_ref().and_then(|c| c.key.clone())),
                json!(after_seq),
            ],
        ),
    };
    let statements = vec![
        Call {
            name: name.clone(),
            params: position
                .into_iter()
                .chain(s.filters.iter().cloned())
                // One row more tells whether a next page exists; `_count=0` (the total
                // alone) reads no row, so none is audited as read.
                .chain(std::iter::once(json!(if s.count == 0 {
                    0
                } else {
                    s.count + 1
                })))
                .collect(),
        },
        Call {
            name: statement_name(r, resource::COUNT),
            params: s.filters.clone(),
        },
    ];
    let response = run(ctx, caller, statements, None, min_lsn).await?;
    let [page, count] = response.results.as_slice() else {
        return Err(malformed_answer(&name));
    };
    let total = count
        .rows
        .first()
        .and_then(|r| r.get("total"))
        .and_then(Value::as_u64);
    let rows = &page.rows[..page.rows.len().min(s.count as usize)];
    let entries = rows
        .iter()
        .map(|row| {
            let resource = resource::from_row(row).ok_or_else(|| malformed_answer(&name))?;
            let url = caller
                .urls
                .resource(r, resource["id"].as_str().unwrap_or_default());
            Ok((url, resource))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let next = if page.rows.len() > s.count as usize && s.count > 0 {
        let last = rows.last();
        let seq = last
            .and_then(|r| r.get("seq"))
            .and_then(Value::as_i64)
            .ok_or_else(|| malformed_answer(&name))?;
        let key = match s.sort {
            None => None,
            Some(_) => Some(
                last.and_then(|r| r.get("sort_key"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed_answer(&name))?
                    .to_owned(),
            ),
        };
        let cursor = search::Cursor { key, seq };
        Some(format!("{collection}?{}", s.query(Some(&cursor))))
    } else {
        None
    };
    Ok(fhir_response(
        StatusCode::OK,
        &fhir::searchset(&self_url, next.as_deref(), total, entries),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_our_etags_only() {
        let req = |values: &[&str]| {
            let mut b = Request::builder().uri("https://x.localhost/v1/patients/1");
            for v in values {
                b = b.header("if-match", *v);
            }
            b.body(Vec::new()).unwrap()
        };
        assert_eq!(if_match(&req(&[])).unwrap(), None);
        assert_eq!(if_match(&req(&["W/\"3\""])).unwrap(), Some(3));
        assert_eq!(if_match(&req(&["\"12\""])).unwrap(), Some(12));
        for bad in [
            &["3"][..],
            &["W/\"x\""],
            &["W/\"0\""],
            &["*"],
            &["W/\"1\"", "W/\"2\""],
        ] {
            assert_eq!(
                if_match(&req(bad)).unwrap_err().status(),
                StatusCode::BAD_REQUEST,
                "{bad:?}"
            );
        }
    }
}
