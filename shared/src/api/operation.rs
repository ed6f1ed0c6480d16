//! Instance operations (`POST …/<Type>/<id>/$<name>`, or `GET` for those that only read),
//! as each resource declares them ([`Resource::operations`]): one batch, one edge→region
//! call, like every interaction.

use http::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Caller,
    error::{ApiError, malformed_answer},
    fhir_response, idempotency, parse_uuid,
    resource::{self, Interaction, Operation, Resource},
    rest::{self, json_body, not_found, write_headers},
    run, search,
};
use crate::{ctx::Ctx, fhir::Issue, fhir::IssueCode, host::Host};

pub(super) async fn invoke<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    caller: &Caller,
    r: &dyn Resource,
    id: &str,
    op: &Operation,
) -> Result<Response<Vec<u8>>, ApiError> {
    match op {
        Operation::CreateFor {
            target, element, ..
        } => {
            let id = parse_uuid(id).ok_or_else(|| not_found(r, id))?;
            let reference = json!({ "reference": format!("{}/{id}", r.name()) });
            let value = if target
                .structure()
                .elements
                .iter()
                .any(|e| e.name == *element && e.repeats)
            {
                json!([reference])
            } else {
                reference
            };
            rest::create(ctx, req, caller, *target, Some((element, value))).await
        }
        Operation::SearchOf {
            name,
            target,
            param,
            sort,
        } => {
            caller.require(*target, Interaction::SearchType)?;
            let id = parse_uuid(id).ok_or_else(|| not_found(r, id))?;
            let query = instance_search(req.uri().query(), r, &id, param, sort);
            let s = search::parse(*target, Some(&query))?;
            let at = format!("{}/${name}", caller.urls.resource(r, &id));
            rest::search_at(ctx, req, caller, *target, &s, &at).await
        }
        Operation::Erase => super::erase::invoke(ctx, req, caller, id).await,
        Operation::Procedure(p) => {
            let (produces, interaction) = p.needs;
            caller.require(produces, interaction)?;
            let id = parse_uuid(id).ok_or_else(|| not_found(r, id))?;
            let body = json_body(req)?;
            let parameters = parameters(
                &body,
                &format!("${} takes a FHIR Parameters resource", p.name),
            )?;
            let calls = (p.calls)(&id, parameters).map_err(ApiError::Unprocessable)?;
            let first = calls.first().map(|c| c.name.clone()).unwrap_or_default();
            let client_key = idempotency::client_key(req)?;
            let idempotency = idempotency::of(ctx, req, &caller.principal, client_key.as_deref());
            let response = run(ctx, caller, calls, Some(idempotency), None).await?;
            (p.check)(&response.results)?;
            let rows = &response
                .results
                .first()
                .ok_or_else(|| malformed_answer(&first))?
                .rows;
            let entries = rows
                .iter()
                .map(|row| {
                    let resource =
                        resource::from_row(row).ok_or_else(|| malformed_answer(&first))?;
                    let url = caller
                        .urls
                        .resource(produces, resource["id"].as_str().unwrap_or_default());
                    Ok(json!({ "fullUrl": url, "resource": resource }))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let bundle =
                json!({ "resourceType": "Bundle", "type": "collection", "entry": entries });
            let mut out = fhir_response(StatusCode::OK, &bundle);
            write_headers(&mut out, &response, client_key.is_some());
            Ok(out)
        }
    }
}

/// The query of a [`Operation::SearchOf`] on instance `id` of `r`: the client's, without its
/// own `param` and `_sort` (the operation fixes both), then `param=<Type>/<id>` and
/// `_sort=-<sort>`. The links repeat them, so following a link asks the same again.
fn instance_search(
    client: Option<&str>,
    r: &dyn Resource,
    id: &str,
    param: &str,
    sort: &str,
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(client.unwrap_or("").as_bytes()) {
        if k != param && k != "_sort" {
            q.append_pair(&k, &v);
        }
    }
    q.append_pair(param, &format!("{}/{id}", r.name()));
    q.append_pair("_sort", &format!("-{sort}"));
    q.finish()
}

/// `body` as a FHIR `Parameters` resource; otherwise 400 with `takes` (what the operation
/// accepts).
pub(super) fn parameters<'a>(
    body: &'a Value,
    takes: &str,
) -> Result<&'a serde_json::Map<String, Value>, ApiError> {
    body.as_object()
        .filter(|o| o.get("resourceType").and_then(Value::as_str) == Some("Parameters"))
        .ok_or_else(|| ApiError::BadRequest(vec![Issue::new(IssueCode::Structure, takes)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::patient::Patient;

    #[test]
    fn an_instance_search_fixes_the_instance_and_the_order() {
        let id = "5b0c1a2e-1111-4222-8333-444455556666";
        assert_eq!(
            instance_search(
                Some("_count=5&patient=Patient/other&_sort=date&agent=app-1"),
                &Patient,
                id,
                "patient",
                "date"
            ),
            format!("_count=5&agent=app-1&patient=Patient%2F{id}&_sort=-date")
        );
        assert_eq!(
            instance_search(None, &Patient, id, "patient", "date"),
            format!("patient=Patient%2F{id}&_sort=-date")
        );
    }
}
