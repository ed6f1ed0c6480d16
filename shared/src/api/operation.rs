//! Instance operations (`POST …/<Type>/<id>/$<name>`), as each resource declares them
//! ([`Resource::operations`]): one batch, one edge→region call, like every interaction.

use http::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Caller,
    error::{ApiError, malformed_answer},
    fhir_response, idempotency, parse_uuid,
    resource::{self, Operation, Resource},
    rest::{self, json_body, not_found, write_headers},
    run,
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
        Operation::Erase => super::erase::invoke(ctx, req, caller, id).await,
        Operation::Procedure(p) => {
            let (produces, interaction) = p.needs;
            caller.require(produces, interaction)?;
            let id = parse_uuid(id).ok_or_else(|| not_found(r, id))?;
            let body = json_body(req)?;
            let parameters = body
                .as_object()
                .filter(|o| o.get("resourceType").and_then(Value::as_str) == Some("Parameters"))
                .ok_or_else(|| {
                    ApiError::BadRequest(vec![Issue::new(
                        IssueCode::Structure,
                        format!("${} takes a FHIR Parameters resource", p.name),
                    )])
                })?;
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
