//! Everything the API answers besides success: [`ApiError`], one variant per kind of
//! failure, each with one HTTP status and one `OperationOutcome`; and the mapping of the
//! region's error codes onto it.

use http::{Response, StatusCode};

use super::{fhir_response, resource::DbRule};
use crate::{
    auth::AuthError,
    dataplane::{client::DataError, wire::ErrorCode},
    fhir::{self, Issue, IssueCode},
};

/// A failure of an API request. The `Display` text is for logs and tests; what the client
/// reads is [`ApiError::issues`], which never carries a detail of ours (5xx).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 401 (500 for a key misconfiguration): no valid bearer token.
    #[error("authentication: {0}")]
    Auth(AuthError),
    /// 403: a valid token, but for another clinic.
    #[error("the token is for another clinic")]
    WrongTenant,
    /// 403: a valid token without the scope the operation needs (named).
    #[error("missing scope {0}")]
    InsufficientScope(String),
    /// 403: the clinic's policy gates this processing with a consent the patient has not
    /// given (or has revoked): which one, and the rule it rests on.
    #[error("consent required: {kind} for {processing}")]
    ConsentRequired {
        processing: String,
        kind: String,
        citation: String,
    },
    /// 404: no clinic at this host.
    #[error("no clinic")]
    NoClinic,
    /// 403: the clinic is suspended.
    #[error("the clinic is suspended")]
    ClinicSuspended,
    /// 404: no such resource or route (what, in words).
    #[error("not found: {0}")]
    NotFound(String),
    /// 405, with the methods allowed there.
    #[error("method not allowed; allowed: {0}")]
    MethodNotAllowed(&'static str),
    /// 415: the body is not FHIR JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 413: the body exceeds the route's limit ([`super::MAX_BODY_BYTES`] for a resource).
    #[error("body too large")]
    TooLarge(usize),
    /// 400: not parseable as what was asked (malformed JSON, bad search parameter, a
    /// header of ours with a bad value).
    #[error("bad request: {0:?}")]
    BadRequest(Vec<Issue>),
    /// 422: parseable, but refused (wrong resource type, invalid content, policy).
    #[error("unprocessable: {0:?}")]
    Unprocessable(Vec<Issue>),
    /// 409: the write conflicts with the clinic's data as it is now.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: a precondition of the request (`If-Match`) does not hold.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 503 with `Retry-After`: the region is unreachable, overloaded or being deployed.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// 500: the region refused what this edge sent as malformed (its token, a statement,
    /// the parameters, the size): a fault of this edge or of the deployment, never the
    /// caller's. The detail is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
    /// 502: the region failed, or answered outside what this edge expects: our fault, not
    /// the caller's. The detail is logged, never sent.
    #[error("upstream: {0}")]
    Upstream(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Auth(AuthError::BadKey(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
            Self::WrongTenant
            | Self::InsufficientScope(_)
            | Self::ClinicSuspended
            | Self::ConsentRequired { .. } => StatusCode::FORBIDDEN,
            Self::NoClinic | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn issues(&self) -> Vec<Issue> {
        use IssueCode as C;
        match self {
            Self::Auth(AuthError::BadKey(_)) => {
                vec![Issue::new(C::Exception, "the service is misconfigured")]
            }
            Self::Auth(e) => vec![Issue::new(C::Login, e.to_string())],
            Self::WrongTenant => vec![Issue::new(
                C::Forbidden,
                "this token was not issued for this clinic",
            )],
            Self::InsufficientScope(s) => vec![Issue::new(
                C::Forbidden,
                format!("the token lacks the scope {s}"),
            )],
            Self::ConsentRequired {
                processing,
                kind,
                citation,
            } => vec![Issue::new(
                C::Forbidden,
                format!(
                    "{processing} needs the patient's consent \"{kind}\" ({} code {kind}), \
                     active and in force; none is ({citation})",
                    crate::compliance::CONSENT_KIND_SYSTEM
                ),
            )],
            Self::NoClinic => vec![Issue::new(C::NotFound, "no clinic at this address")],
            Self::ClinicSuspended => vec![Issue::new(C::Forbidden, "this clinic is suspended")],
            Self::NotFound(what) => vec![Issue::new(C::NotFound, what.clone())],
            Self::MethodNotAllowed(allow) => vec![Issue::new(
                C::NotSupported,
                format!("method not allowed here; allowed: {allow}"),
            )],
            Self::UnsupportedMediaType => {
                vec![Issue::new(
                    C::NotSupported,
                    "send the resource as application/fhir+json or application/json",
                )]
            }
            Self::TooLarge(limit) => vec![Issue::new(
                C::TooLong,
                format!("the body exceeds {limit} bytes"),
            )],
            Self::BadRequest(i) | Self::Unprocessable(i) => i.clone(),
            Self::Conflict(m) => vec![Issue::new(C::Conflict, m.clone())],
            Self::PreconditionFailed(m) => vec![Issue::new(C::Conflict, m.clone())],
            Self::Unavailable(m) => vec![Issue::new(C::Transient, *m)],
            Self::Internal(_) => vec![Issue::new(
                C::Exception,
                "the service failed to handle this request",
            )],
            Self::Upstream(_) => vec![Issue::new(
                C::Exception,
                "the clinic's region answered unexpectedly",
            )],
        }
    }

    /// What the operator must see of a failure that is ours (5xx), for the log: the
    /// client gets only a generic `OperationOutcome`. `None` for the caller's own errors
    /// and for retryable unavailability (counted by the regions' metrics instead).
    pub fn detail_for_log(&self) -> Option<String> {
        match self {
            Self::Auth(AuthError::BadKey(e)) => Some(format!("API token keys: {e}")),
            Self::Internal(detail) => Some(format!("internal: {detail}")),
            Self::Upstream(detail) => Some(format!("upstream: {detail}")),
            _ => None,
        }
    }

    pub fn into_response(self) -> Response<Vec<u8>> {
        let mut r = fhir_response(self.status(), &fhir::operation_outcome(&self.issues()));
        let h = r.headers_mut();
        match &self {
            Self::Auth(e) if !matches!(e, AuthError::BadKey(_)) => {
                let v = match e {
                    AuthError::Missing => r#"Bearer realm="telemed""#.to_owned(),
                    e => format!(
                        r#"Bearer realm="telemed", error="invalid_token", error_description="{e}""#
                    )
                    .replace(['\r', '\n'], " "),
                };
                if let Ok(v) = v.parse() {
                    h.insert("www-authenticate", v);
                }
            }
            Self::InsufficientScope(s) => {
                if let Ok(v) =
                    format!(r#"Bearer realm="telemed", error="insufficient_scope", scope="{s}""#)
                        .parse()
                {
                    h.insert("www-authenticate", v);
                }
            }
            Self::MethodNotAllowed(allow) => {
                h.insert("allow", http::HeaderValue::from_static(allow));
            }
            Self::Unavailable(_) => {
                h.insert("retry-after", http::HeaderValue::from_static("1"));
            }
            _ => {}
        }
        r
    }
}

/// Every region error code maps here on purpose: no catch-all, so a new code cannot
/// silently become "upstream" — it does not compile until it is given its meaning.
pub fn from_data_error(e: DataError) -> ApiError {
    match e.code() {
        ErrorCode::UnknownTenant => ApiError::NoClinic,
        ErrorCode::TokenRevoked => ApiError::Auth(crate::auth::AuthError::Revoked),
        ErrorCode::TenantSuspended => ApiError::ClinicSuspended,
        ErrorCode::Conflict => match db_rule(region_message(&e).as_deref().unwrap_or("")) {
            Some((rule, detail)) => ApiError::Conflict(with_detail(rule.human, detail)),
            None => ApiError::Conflict("the write conflicts with existing data".into()),
        },
        ErrorCode::IdempotencyMismatch => ApiError::Unprocessable(vec![
            Issue::new(
                IssueCode::Conflict,
                "this Idempotency-Key was already used for a different request; \
                 use a new key for a new request",
            )
            .at("Idempotency-Key"),
        ]),
        ErrorCode::ConstraintViolation => {
            let message = region_message(&e).unwrap_or_default();
            if let Some(refusal) = consent_refusal(&message) {
                return refusal;
            }
            if message.contains(&format!("\"{}\"", crate::api::resource::AMBIGUOUS_RULE)) {
                return ApiError::PreconditionFailed(
                    "If-None-Exist matches several resources: nothing was written".into(),
                );
            }
            match db_rule(&message) {
                Some((rule, detail)) if rule.conflict => {
                    ApiError::Conflict(with_detail(rule.human, detail))
                }
                Some((rule, detail)) => ApiError::Unprocessable(vec![
                    Issue::new(IssueCode::Invalid, with_detail(rule.human, detail)).at(rule.path),
                ]),
                None => ApiError::Unprocessable(vec![constraint_issue(&message)]),
            }
        }
        // The edge checks every value it sends; one the database still refuses is the
        // client's to mend, without echoing what the database said of it.
        ErrorCode::InvalidValue => ApiError::Unprocessable(vec![Issue::new(
            IssueCode::Value,
            "a value of the resource does not fit what the clinic's records can hold",
        )]),
        ErrorCode::Overloaded => {
            ApiError::Unavailable("the clinic's region is busy; retry shortly")
        }
        ErrorCode::Unavailable => {
            ApiError::Unavailable("the clinic's region cannot be reached; retry shortly")
        }
        ErrorCode::CatalogMismatch => {
            ApiError::Unavailable("a deployment is in progress; retry shortly")
        }
        // The edge signs its own token, names statements from the catalog it shares with
        // the region (the catalog hash catches a skew first), types the parameters itself
        // and bounds client bodies (64 KiB) far below a batch (1 MiB): a refusal of any of
        // these is a fault of this edge or of the deployment.
        ErrorCode::Unauthorized
        | ErrorCode::UnknownStatement
        | ErrorCode::BadRequest
        | ErrorCode::TooLarge => ApiError::Internal(e.to_string()),
        ErrorCode::Internal => ApiError::Upstream(e.to_string()),
    }
}

/// A consent gate's refusal (`"consent_required": <processing>|<kind>|<citation>`, raised by
/// the clinic's schema: see [`crate::compliance::CONSENT_RULE`]).
fn consent_refusal(message: &str) -> Option<ApiError> {
    let quoted = format!("\"{}\":", crate::compliance::CONSENT_RULE);
    let detail = message[message.find(&quoted)? + quoted.len()..].trim();
    let mut parts = detail.splitn(3, '|');
    let (processing, kind, citation) = (parts.next()?, parts.next()?, parts.next()?);
    Some(ApiError::ConsentRequired {
        processing: processing.to_owned(),
        kind: kind.to_owned(),
        citation: citation.to_owned(),
    })
}

/// A region's answer without the rows its statement promises.
pub fn malformed_answer(statement: &str) -> ApiError {
    ApiError::Upstream(format!(
        "{statement}: the region's answer is not shaped as the catalog promises"
    ))
}

/// What the region said of a refused write, if it said anything.
fn region_message(e: &DataError) -> Option<String> {
    match e {
        DataError::Region { error, .. } => Some(error.message.clone()),
        DataError::Unreachable { .. } | DataError::Protocol { .. } => None,
    }
}

/// The registered resources' database rule a refusal names (`"<name>"` in the message),
/// and the detail a trigger added after it (`"<name>": booked -> noshow`).
fn db_rule(message: &str) -> Option<(&'static DbRule, &str)> {
    crate::api::resources::REGISTRY
        .iter()
        .flat_map(|r| r.db_rules())
        .find_map(|rule| {
            let quoted = format!("\"{}\"", rule.name);
            let at = message.find(&quoted)?;
            let rest = &message[at + quoted.len()..];
            let detail = rest.strip_prefix(':').map_or("", str::trim);
            Some((rule, detail))
        })
}

fn with_detail(human: &str, detail: &str) -> String {
    if detail.is_empty() {
        human.to_owned()
    } else {
        format!("{human}: {detail}")
    }
}

/// A constraint a clinic's policy installed ([`crate::compliance::PatientField::constraint_name`])
/// becomes the same issue the edge raises when it knows the policy itself.
fn constraint_issue(message: &str) -> Issue {
    match crate::compliance::PatientField::ALL
        .into_iter()
        .find(|f| message.contains(&format!("\"{}\"", f.constraint_name())))
    {
        Some(f) => Issue::new(
            IssueCode::Required,
            format!("{} is required by this clinic's regulation", f.fhir_path()),
        )
        .at(f.fhir_path()),
        None => Issue::new(
            IssueCode::Invalid,
            "the resource violates a rule of this clinic",
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::geo::RegionId;

    #[test]
    fn constraints_become_the_policy_issue() {
        let i = constraint_issue("new row violates check constraint \"policy_requires_gender\"");
        assert_eq!(i.expression.as_deref(), Some("Patient.gender"));
        assert_eq!(constraint_issue("other").code, IssueCode::Invalid);
    }

    #[test]
    fn a_consent_gate_refusal_is_403_naming_the_consent_and_its_source() {
        let e = consent_refusal(
            "\"consent_required\": teleconsultation|telemedicine|CSP R6316-2 | text",
        )
        .unwrap();
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        let text = &e.issues()[0].diagnostics;
        assert!(
            text.contains("\"telemedicine\"")
                && text.contains("teleconsultation")
                && text.contains("CSP R6316-2 | text")
                && text.contains(crate::compliance::CONSENT_KIND_SYSTEM),
            "{text}"
        );
        assert_eq!(consent_refusal("\"appointments_slot_free\""), None);
        assert_eq!(consent_refusal("\"consent_required\": truncated"), None);
    }

    /// Each region error code has its own meaning at the API; the ones that are our
    /// fault are 5xx, logged, and say nothing of the detail to the client.
    #[test]
    fn every_region_error_code_is_mapped_on_purpose() {
        use ErrorCode as E;
        let expected = |code: ErrorCode| -> (u16, &str, bool) {
            match code {
                E::UnknownTenant => (404, "not-found", false),
                E::TokenRevoked => (401, "login", false),
                E::TenantSuspended => (403, "forbidden", false),
                E::Conflict => (409, "conflict", false),
                E::IdempotencyMismatch => (422, "conflict", false),
                E::ConstraintViolation => (422, "invalid", false),
                E::InvalidValue => (422, "value", false),
                E::Overloaded | E::Unavailable | E::CatalogMismatch => (503, "transient", false),
                E::Unauthorized | E::UnknownStatement | E::BadRequest | E::TooLarge => {
                    (500, "exception", true)
                }
                E::Internal => (502, "exception", true),
            }
        };
        let region: RegionId = "eu-west".parse().unwrap();
        let secret = "relation \"tenant_x\".\"patients\" detail";
        for code in ErrorCode::ALL {
            let e = from_data_error(DataError::Region {
                region: region.clone(),
                error: crate::dataplane::wire::RegionError::new(code, secret),
            });
            let (status, issue, logged) = expected(code);
            let detail = e.detail_for_log();
            assert_eq!(detail.is_some(), logged, "{code:?}");
            if let Some(d) = detail {
                assert!(
                    d.contains(secret),
                    "{code:?}: the log keeps the detail: {d}"
                );
            }
            let r = e.into_response();
            assert_eq!(r.status(), status, "{code:?}");
            let body: Value = serde_json::from_slice(r.body()).unwrap();
            assert_eq!(body["issue"][0]["code"], issue, "{code:?}");
            assert!(
                !body.to_string().contains("tenant_x"),
                "{code:?}: no detail reaches the client: {body}"
            );
        }
        let protocol = from_data_error(DataError::Protocol {
            region: region.clone(),
            message: "not JSON".into(),
        });
        assert_eq!(protocol.status(), 502);
        assert!(protocol.detail_for_log().unwrap().contains("not JSON"));
        let unreachable = from_data_error(DataError::Unreachable {
            region,
            message: "refused".into(),
        });
        assert_eq!(unreachable.status(), 503);
        assert_eq!(unreachable.detail_for_log(), None);
    }

    #[test]
    fn errors_are_operation_outcomes_with_their_status() {
        let r = ApiError::Auth(AuthError::Expired).into_response();
        assert_eq!(r.status(), 401);
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome");
        assert_eq!(ApiError::WrongTenant.into_response().status(), 403);
        assert_eq!(
            ApiError::Unavailable("x").into_response().headers()["retry-after"],
            "1"
        );
        assert_eq!(
            from_data_error(DataError::Unreachable {
                region: "eu-west".parse().unwrap(),
                message: String::new()
            })
            .status(),
            503
        );
        let mismatch = from_data_error(DataError::Region {
            region: "eu-west".parse().unwrap(),
            error: crate::dataplane::wire::RegionError::new(ErrorCode::IdempotencyMismatch, "m"),
        })
        .into_response();
        assert_eq!(mismatch.status(), 422);
        let body: Value = serde_json::from_slice(mismatch.body()).unwrap();
        assert_eq!(body["issue"][0]["expression"][0], "Idempotency-Key");
        assert!(
            body["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("already used for a different request"),
            "{body}"
        );
    }
}
