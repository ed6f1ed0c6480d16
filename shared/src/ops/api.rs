//! The operators' JSON API on the apex host, `/ops/v1/…`. Every answer is JSON and
//! `Cache-Control: no-store`; a refusal is an RFC 9457 problem (`application/problem+json`:
//! `type`, `title`, `status`, `detail`, and `code`, stable for programs).
//!
//! ```text
//! POST   /ops/v1/token                              {email, password} → {access_token, token_type, expires_in, operator}
//! GET    /ops/v1/tenants?status=&after=&limit=      → {result: "clinics", clinics: […], next}
//! POST   /ops/v1/tenants                            {slug, name, country, region?, domains?, currency?} → 201 clinic
//! GET    /ops/v1/tenants/{slug}                     → clinic
//! PATCH  /ops/v1/tenants/{slug}                     {plan?, name?} → clinic
//! POST   /ops/v1/tenants/{slug}/suspend | /resume   → clinic (changed: false if it already was)
//! POST   /ops/v1/tenants/{slug}/domains             {domain} → 201 domain, with the TXT record to publish
//! POST   /ops/v1/tenants/{slug}/domains/{d}/verify  → domain (409 domain_not_verified until the record is seen)
//! DELETE /ops/v1/tenants/{slug}/domains/{d}         → clinic
//! DELETE /ops/v1/tenants/{slug}?confirm={slug}      → {result: "deleted", export: {directory, tables, rows}}
//! ```
//!
//! Everything but `token` needs `Authorization: Bearer <operator token>` ([`super::token`],
//! audience `telemed-ops/api`), verified here without a region call: 401 without one, or
//! with any other token (a clinic's API token, a session). Each operation is then one call
//! to the control plane's region, which refuses a disabled operator (403).

use http::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    token::{self, Kind, Operator},
    wire::{OperatorSignIn, OpsAnswer, OpsRequest, OpsResult},
};
use crate::{
    accounts::{Password, normalize_email},
    auth::{self, AuthError},
    cache,
    ctx::Ctx,
    dataplane::{
        client::DataError,
        wire::{ErrorCode, SignInRequest},
    },
    host::{Host, LogLevel},
};

/// The problem types' prefix: `urn:telemed:ops:<code>`.
const PROBLEM_PREFIX: &str = "urn:telemed:ops:";

/// A JSON answer, never stored.
fn json(status: StatusCode, body: &Value) -> Response<Vec<u8>> {
    let mut r = Response::new(serde_json::to_vec(body).unwrap_or_default());
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        "cache-control",
        http::HeaderValue::from_static(cache::NO_STORE),
    );
    r
}

/// An RFC 9457 problem.
pub fn problem(status: u16, code: &str, detail: &str) -> Response<Vec<u8>> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json(
        status,
        &json!({
            "type": format!("{PROBLEM_PREFIX}{code}"),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": detail,
            "code": code,
        }),
    );
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            "www-authenticate",
            http::HeaderValue::from_static(r#"Bearer realm="telemed-ops""#),
        );
    }
    r
}

/// [`problem`], boxed for an `Err`.
fn refusal(status: u16, code: &str, detail: &str) -> Box<Response<Vec<u8>>> {
    Box::new(problem(status, code, detail))
}

/// The operator of the request's bearer token, or the 401 to answer.
fn authenticate<H: Host>(
    ctx: &Ctx<'_, H>,
    req: &Request<Vec<u8>>,
) -> Result<Operator, Box<Response<Vec<u8>>>> {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let token =
        auth::bearer(header).map_err(|e| Box::new(problem(401, "unauthorized", &e.to_string())))?;
    token::verify(&ctx.config.edge_key, Kind::Api, token, ctx.now_secs()).map_err(|e| {
        let detail = match e {
            AuthError::Expired => {
                "the operator token has expired: ask POST /ops/v1/token for another".to_owned()
            }
            _ => "not an operator token: sign in with POST /ops/v1/token".to_owned(),
        };
        Box::new(problem(401, "invalid_token", &detail))
    })
}

/// Serves `/ops/v1/…`.
pub async fn handle<H: Host>(ctx: &mut Ctx<'_, H>, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let path = req.uri().path().trim_end_matches('/');
    let segments: Vec<&str> = path
        .trim_start_matches("/ops/v1")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = req.method().clone();
    if segments == ["token"] {
        return if method == Method::POST {
            sign_in(ctx, req).await
        } else {
            problem(405, "method_not_allowed", "POST /ops/v1/token")
        };
    }
    let operator = match authenticate(ctx, req) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let apex = ctx.config.apex.as_str().to_owned();
    let request = match operation(&method, &segments, req, &apex) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let created = matches!(
        request,
        OpsRequest::Create { .. } | OpsRequest::DomainAdd { .. }
    );
    match ctx.region.ops(&operator.email, &request).await {
        Ok(OpsAnswer::Ok(result)) => {
            let changed = match &*result {
                OpsResult::Domain { changed, .. } => *changed,
                _ => true,
            };
            let status = if created && changed {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            json(
                status,
                &serde_json::to_value(&result).unwrap_or(Value::Null),
            )
        }
        Ok(OpsAnswer::Refused(r)) => problem(r.status, &r.code, &r.detail),
        Err(e) => fault(ctx, &e),
    }
}

/// A region fault, as the operator reads it.
pub(crate) fn fault<H: Host>(ctx: &Ctx<'_, H>, e: &DataError) -> Response<Vec<u8>> {
    if e.code().retryable() {
        let mut r = problem(
            503,
            "unavailable",
            "the control plane cannot be reached now: retry shortly",
        );
        r.headers_mut()
            .insert("retry-after", http::HeaderValue::from_static("1"));
        return r;
    }
    ctx.host
        .log(LogLevel::Error, &format!("operator request: {e}"));
    if e.code() == ErrorCode::TooLarge {
        return problem(413, "too_large", "the request is too large");
    }
    problem(
        500,
        "internal",
        "the operation failed on our side; it has been logged",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClinic {
    slug: String,
    name: String,
    country: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDomain {
    domain: String,
}

/// The body as `T`, or a 400 that says what is wrong with it.
fn body<T: serde::de::DeserializeOwned>(
    req: &Request<Vec<u8>>,
) -> Result<T, Box<Response<Vec<u8>>>> {
    if req.body().len() > super::wire::MAX_OPS_BYTES {
        return Err(refusal(
            413,
            "too_large",
            "an operator request body is at most 8 KiB",
        ));
    }
    serde_json::from_slice(req.body()).map_err(|e| {
        refusal(
            400,
            "bad_request",
            &format!("the body is not the expected JSON: {e}"),
        )
    })
}

fn query(req: &Request<Vec<u8>>, name: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The operation a method and path name, with its input; a 400/404/405 otherwise.
fn operation(
    method: &Method,
    segments: &[&str],
    req: &Request<Vec<u8>>,
    apex: &str,
) -> Result<OpsRequest, Box<Response<Vec<u8>>>> {
    let slug = |s: &str| s.to_owned();
    let not_allowed = || {
        Err(refusal(
            405,
            "method_not_allowed",
            "this method is not allowed here",
        ))
    };
    Ok(match segments {
        ["tenants"] => match *method {
            Method::GET => {
                let limit = query(req, "limit")
                    .map(|l| {
                        l.parse::<u32>()
                            .ok()
                            .filter(|n| (1..=super::wire::MAX_PAGE).contains(n))
                            .ok_or_else(|| {
                                refusal(
                                    400,
                                    "bad_request",
                                    &format!(
                                        "limit is a number from 1 to {}",
                                        super::wire::MAX_PAGE
                                    ),
                                )
                            })
                    })
                    .transpose()?;
                OpsRequest::List {
                    status: query(req, "status"),
                    after: query(req, "after"),
                    limit,
                }
            }
            Method::POST => {
                let n: NewClinic = body(req)?;
                OpsRequest::Create {
                    slug: n.slug,
                    name: n.name,
                    country: n.country,
                    region: n.region,
                    domains: n.domains,
                    currency: n.currency,
                    apex: apex.to_owned(),
                }
            }
            _ => return not_allowed(),
        },
        ["tenants", s] => match *method {
            Method::GET => OpsRequest::Show { slug: slug(s) },
            Method::PATCH => {
                let c: Change = body(req)?;
                OpsRequest::Update {
                    slug: slug(s),
                    plan: c.plan,
                    name: c.name,
                }
            }
            Method::DELETE => OpsRequest::Delete {
                slug: slug(s),
                confirm: query(req, "confirm").ok_or_else(|| {
                    refusal(
                        400,
                        "confirmation_required",
                        "deleting a clinic needs ?confirm=<its slug>",
                    )
                })?,
            },
            _ => return not_allowed(),
        },
        ["tenants", s, "suspend"] if method == Method::POST => {
            OpsRequest::Suspend { slug: slug(s) }
        }
        ["tenants", s, "resume"] if method == Method::POST => OpsRequest::Resume { slug: slug(s) },
        ["tenants", s, "domains"] if method == Method::POST => {
            let d: NewDomain = body(req)?;
            OpsRequest::DomainAdd {
                slug: slug(s),
                domain: d.domain,
                apex: apex.to_owned(),
            }
        }
        ["tenants", s, "domains", d, "verify"] if method == Method::POST => {
            OpsRequest::DomainVerify {
                slug: slug(s),
                domain: (*d).to_owned(),
            }
        }
        ["tenants", s, "domains", d] if method == Method::DELETE => OpsRequest::DomainRemove {
            slug: slug(s),
            domain: (*d).to_owned(),
        },
        ["tenants", _, "suspend" | "resume" | "domains"]
        | ["tenants", _, "domains", _, "verify"]
        | ["tenants", _, "domains", _] => {
            return not_allowed();
        }
        _ => return Err(refusal(404, "not_found", "no such operator endpoint")),
    })
}

/// `POST /ops/v1/token`: an operator's email and password → an operator bearer token.
async fn sign_in<H: Host>(ctx: &mut Ctx<'_, H>, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let creds: Credentials = match body(req) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let refused = || problem(401, "invalid_credentials", "wrong email or password");
    let Some(email) = normalize_email(&creds.email) else {
        return refused();
    };
    if creds.password.is_empty() {
        return refused();
    }
    let request = SignInRequest {
        email,
        password: Password::new(creds.password),
        client: super::client_address(req),
    };
    match ctx.region.ops_sign_in(&request).await {
        Ok(OperatorSignIn::SignedIn(who)) => {
            let operator = Operator {
                email: who.email,
                name: who.name,
                csrf: None,
            };
            match token::sign(&ctx.config.edge_key, Kind::Api, &operator, ctx.now_secs()) {
                Ok(t) => json(
                    StatusCode::OK,
                    &json!({
                        "access_token": t,
                        "token_type": "Bearer",
                        "expires_in": token::OPERATOR_TTL_SECS,
                        "operator": {"email": operator.email, "name": operator.name},
                    }),
                ),
                Err(e) => {
                    ctx.host
                        .log(LogLevel::Error, &format!("signing an operator token: {e}"));
                    problem(500, "internal", "the token could not be signed")
                }
            }
        }
        Ok(OperatorSignIn::Refused {
            retry_after_secs: Some(wait),
        }) => {
            let mut r = problem(
                429,
                "too_many_attempts",
                &format!("too many failed sign-ins: retry in {wait} s"),
            );
            if let Ok(v) = http::HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        Ok(OperatorSignIn::Refused { .. }) => refused(),
        Err(e) => fault(ctx, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: &str, path: &str, body: &str) -> Result<OpsRequest, u16> {
        let req = Request::builder()
            .method(method)
            .uri(format!("http://localhost/ops/v1{path}"))
            .body(body.as_bytes().to_vec())
            .unwrap();
        let segments: Vec<&str> = req
            .uri()
            .path()
            .trim_start_matches("/ops/v1")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        operation(req.method(), &segments, &req, "telemed.example").map_err(|r| r.status().as_u16())
    }

    #[test]
    fn methods_and_paths_name_one_operation_each() {
        assert_eq!(
            op("GET", "/tenants?status=suspended&limit=10", ""),
            Ok(OpsRequest::List {
                status: Some("suspended".into()),
                after: None,
                limit: Some(10)
            })
        );
        assert_eq!(op("GET", "/tenants?limit=0", ""), Err(400));
        assert_eq!(
            op(
                "POST",
                "/tenants/c-a/domains",
                r#"{"domain": "www.c.example"}"#
            ),
            Ok(OpsRequest::DomainAdd {
                slug: "c-a".into(),
                domain: "www.c.example".into(),
                apex: "telemed.example".into()
            })
        );
        assert_eq!(
            op("DELETE", "/tenants/c-a?confirm=c-a", ""),
            Ok(OpsRequest::Delete {
                slug: "c-a".into(),
                confirm: "c-a".into()
            })
        );
        assert_eq!(op("DELETE", "/tenants/c-a", ""), Err(400));
        assert_eq!(
            op("PATCH", "/tenants/c-a", r#"{"plan": "basic", "x": 1}"#),
            Err(400)
        );
        assert_eq!(op("PATCH", "/tenants/c-a", "not json"), Err(400));
        assert_eq!(op("GET", "/tenants/c-a/suspend", ""), Err(405));
        assert_eq!(op("PUT", "/tenants", ""), Err(405));
        assert_eq!(op("GET", "/nothing", ""), Err(404));
        let big = format!(
            r#"{{"domain": "{}"}}"#,
            "a".repeat(super::super::wire::MAX_OPS_BYTES)
        );
        assert_eq!(op("POST", "/tenants/c-a/domains", &big), Err(413));
    }

    #[test]
    fn problems_are_rfc_9457_and_a_401_names_its_scheme() {
        let r = problem(409, "not_suspended", "suspend it first");
        assert_eq!(r.status(), 409);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let v: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(v["type"], "urn:telemed:ops:not_suspended");
        assert_eq!(v["title"], "Conflict");
        assert_eq!(v["status"], 409);
        assert!(
            problem(401, "invalid_token", "x").headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
}
