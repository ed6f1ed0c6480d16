//! The public REST API v1: FHIR R4 JSON behind bearer JWTs with SMART v2 scopes.
//!
//! Every request costs at most one edge→region call: the token is verified at the edge,
//! the tenant comes from the host (no lookup for subdomains and `X-Tenant-Slug`), and the
//! statements of a request travel as one batch — to the clinic's home region when the edge
//! has its directory entry, else to the nearest region, which forwards it and returns the
//! entry for the edge to cache.
//!
//! Writes are idempotent: `POST` accepts an `Idempotency-Key` (the IETF httpapi draft's
//! header). The key, namespaced by the caller, and a fingerprint of the request travel with
//! the batch; the clinic's home region stores them with the write, so the same key and body
//! again replay the first answer (`Idempotent-Replayed: true`) and the same key with another
//! request is refused (422). A write without a key gets one the edge draws, so the edge may
//! retry it once when the region's answer is lost or the region asks for a retry.
//!
//! Read-your-writes: reads may be served by the home region's streaming replica, which can
//! lag. A successful write answers `X-Telemed-Lsn: <region>:<lsn>` (the region that ran it,
//! and its commit's WAL position). A client that must see its own write on its next reads
//! echoes that value back as `X-Telemed-Min-Lsn`; a read then is served by the replica only
//! once it has replayed that position, else by the primary. A value naming another region
//! than the clinic's home is ignored (a position only means something in its own region);
//! a malformed one is refused (400). Browser sessions (a cookie) are not covered: API
//! clients are apps.

use http::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::{
    auth::{ApiPrincipal, AuthError, Perms, bearer},
    cache,
    compliance::policy_for,
    dataplane::{
        catalog::names,
        client::DataError,
        wire::{BatchRequest, BatchResponse, Call, ErrorCode, Idempotency, format_lsn, parse_lsn},
    },
    ctx::Ctx,
    fhir::{
        self, CONTENT_TYPE, Issue, IssueCode,
        patient::{self, PatientError},
    },
    geo::RegionId,
    host::LogLevel,
    tenant::{ResolveError, TenantEntry, TenantSelector, TenantStatus},
};

/// Largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Page size when `_count` is absent, and the most a page may hold.
pub const DEFAULT_COUNT: u32 = 20;
pub const MAX_COUNT: u32 = 100;
/// The request header that makes a write safe to retry, and its longest accepted value.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// Set on a response that repeats the stored answer to an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";
/// Response header of a successful write: `<region>:<lsn>`, see the module documentation.
pub const LSN_HEADER: &str = "x-telemed-lsn";
/// Request header of a read: the `X-Telemed-Lsn` of the caller's last write, echoed back.
pub const MIN_LSN_HEADER: &str = "x-telemed-min-lsn";

/// The position of a client's last write: the region that ran it and its WAL position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLsn {
    pub region: RegionId,
    /// `X/Y` as Postgres prints it (validated).
    pub lsn: String,
}

impl ClientLsn {
    /// `eu-west:0/16B3740`; `None` when malformed.
    pub fn parse(value: &str) -> Option<Self> {
        let (region, lsn) = value.trim().split_once(':')?;
        let region: RegionId = region.parse().ok()?;
        let lsn = format_lsn(parse_lsn(lsn)?);
        Some(Self { region, lsn })
    }

    /// The header value, the inverse of [`ClientLsn::parse`].
    pub fn header_value(&self) -> String {
        format!("{}:{}", self.region, self.lsn)
    }
}

/// The client's `X-Telemed-Min-Lsn`, if it sent one; a malformed or repeated one is 400.
fn client_min_lsn(req: &Request<Vec<u8>>) -> Result<Option<ClientLsn>, ApiError> {
    let mut values = req.headers().get_all(MIN_LSN_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let parsed = value.to_str().ok().and_then(ClientLsn::parse);
    match parsed {
        Some(lsn) if values.next().is_none() => Ok(Some(lsn)),
        _ => Err(ApiError::BadRequest(vec![
            Issue::new(
                IssueCode::Value,
                "X-Telemed-Min-Lsn must be one value <region>:<lsn>, as X-Telemed-Lsn gave it",
            )
            .at("X-Telemed-Min-Lsn"),
        ])),
    }
}

/// Everything the API can answer besides success, each with one status.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    Auth(AuthError),
    /// Valid token, but for another clinic.
    WrongTenant,
    /// Valid token without the scope the operation needs.
    InsufficientScope(String),
    NoClinic,
    ClinicSuspended,
    NotFound(String),
    MethodNotAllowed(&'static str),
    UnsupportedMediaType,
    TooLarge,
    /// Not parseable as what was asked (malformed JSON, bad search parameter).
    BadRequest(Vec<Issue>),
    /// Parseable, but refused (wrong resource type, invalid content, policy).
    Unprocessable(Vec<Issue>),
    Conflict(String),
    /// The region is unreachable, overloaded or being deployed: retry later.
    Unavailable(&'static str),
    /// The region refused what this edge sent as malformed (its token, a statement, the
    /// parameters, the size): a fault of this edge or of the deployment, never the
    /// caller's. The detail is logged, never sent.
    Internal(String),
    /// The region failed, or answered outside what this edge expects: our fault, not the
    /// caller's. The detail is logged, never sent.
    Upstream(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Auth(AuthError::BadKey(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
            Self::WrongTenant | Self::InsufficientScope(_) | Self::ClinicSuspended => {
                StatusCode::FORBIDDEN
            }
            Self::NoClinic | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn issues(&self) -> Vec<Issue> {
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
            Self::TooLarge => vec![Issue::new(
                C::TooLong,
                format!("the body exceeds {MAX_BODY_BYTES} bytes"),
            )],
            Self::BadRequest(i) | Self::Unprocessable(i) => i.clone(),
            Self::Conflict(m) => vec![Issue::new(C::Conflict, m.clone())],
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
    fn detail_for_log(&self) -> Option<String> {
        match self {
            Self::Auth(AuthError::BadKey(e)) => Some(format!("API token keys: {e}")),
            Self::Internal(detail) => Some(format!("internal: {detail}")),
            Self::Upstream(detail) => Some(format!("upstream: {detail}")),
            _ => None,
        }
    }

    fn into_response(self) -> Response<Vec<u8>> {
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

/// A 400 `OperationOutcome` with these issues: for a request the API cannot read at all.
pub fn bad_request(issues: Vec<Issue>) -> Response<Vec<u8>> {
    ApiError::BadRequest(issues).into_response()
}

fn fhir_response(status: StatusCode, body: &Value) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", CONTENT_TYPE)
        .header("cache-control", cache::NO_STORE)
        .header("x-content-type-options", "nosniff")
        .body(serde_json::to_vec(body).expect("JSON values serialise"))
        .expect("static header names")
}

/// A single resource, with its version as a weak `ETag` (FHIR versioning).
fn resource_response(status: StatusCode, resource: &Value) -> Response<Vec<u8>> {
    let mut r = fhir_response(status, resource);
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    if let Ok(v) = format!("W/\"{version}\"").parse() {
        r.headers_mut().insert("etag", v);
    }
    r
}

/// Every region error code maps here on purpose: no catch-all, so a new code cannot
/// silently become "upstream" — it does not compile until it is given its meaning.
fn from_data_error(e: DataError) -> ApiError {
    match e.code() {
        ErrorCode::UnknownTenant => ApiError::NoClinic,
        ErrorCode::TenantSuspended => ApiError::ClinicSuspended,
        ErrorCode::Conflict => ApiError::Conflict("the write conflicts with existing data".into()),
        ErrorCode::IdempotencyMismatch => ApiError::Unprocessable(vec![
            Issue::new(
                IssueCode::Conflict,
                "this Idempotency-Key was already used for a different request; \
                 use a new key for a new request",
            )
            .at("Idempotency-Key"),
        ]),
        ErrorCode::ConstraintViolation => {
            let message = match &e {
                DataError::Region { error, .. } => error.message.clone(),
                DataError::Unreachable { .. } | DataError::Protocol { .. } => String::new(),
            };
            ApiError::Unprocessable(vec![constraint_issue(&message)])
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

/// A region's answer without the rows its statement promises.
fn malformed_answer(statement: &str) -> ApiError {
    ApiError::Upstream(format!(
        "{statement}: the region's answer is not shaped as the catalog promises"
    ))
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

/// The request's origin (`scheme://authority`), for absolute URLs in Bundles.
fn base_url(req: &Request<Vec<u8>>) -> String {
    let scheme = req.uri().scheme_str().unwrap_or("https");
    let authority = req
        .uri()
        .authority()
        .map(|a| a.as_str())
        .unwrap_or("localhost");
    format!("{scheme}://{authority}")
}

/// Serves `/v1/...`.
pub async fn handle<H: crate::host::Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: Result<TenantSelector, ResolveError>,
) -> Response<Vec<u8>> {
    match serve(ctx, req, selector).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(detail) = e.detail_for_log() {
                // The path names the resource (ids are ours, not health data); the query,
                // which may hold a patient's name, is left out.
                ctx.host.log(
                    LogLevel::Error,
                    &format!("{} {}: {detail}", req.method(), req.uri().path()),
                );
            }
            e.into_response()
        }
    }
}

async fn serve<H: crate::host::Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: Result<TenantSelector, ResolveError>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let selector = match selector {
        Ok(s) => s,
        Err(ResolveError::BadSlug(e)) => {
            return Err(ApiError::BadRequest(vec![
                Issue::new(IssueCode::Value, e.to_string()).at("X-Tenant-Slug"),
            ]));
        }
        Err(ResolveError::BadHost) => {
            return Err(ApiError::BadRequest(vec![
                Issue::new(
                    IssueCode::Value,
                    "the request must name one host: a single Host of letters, digits, \
                     hyphens and dots, with an optional numeric port and no user information",
                )
                .at("Host"),
            ]));
        }
        Err(ResolveError::NoTenant) => return Err(ApiError::NoClinic),
    };
    // Authenticate before anything else, so an anonymous caller learns nothing.
    let auth = req
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap_or(""));
    let principal = ctx
        .config
        .api_keys
        .verify_api(bearer(auth).map_err(ApiError::Auth)?, ctx.now_secs())
        .map_err(ApiError::Auth)?;
    // The clinic: known from the host for subdomains; custom domains need the directory.
    let entry = match &selector {
        TenantSelector::Slug(slug) => {
            if *slug != principal.tenant {
                return Err(ApiError::WrongTenant);
            }
            ctx.cached_tenant(&selector).await.flatten()
        }
        TenantSelector::Domain(_) => {
            let e = ctx
                .tenant(&selector)
                .await
                .map_err(from_data_error)?
                .ok_or(ApiError::NoClinic)?;
            if e.slug != principal.tenant {
                return Err(ApiError::WrongTenant);
            }
            Some(e)
        }
    };
    if entry
        .as_ref()
        .is_some_and(|e| e.status == TenantStatus::Suspended)
    {
        return Err(ApiError::ClinicSuspended);
    }
    let segments: Vec<&str> = req
        .uri()
        .path()
        .trim_end_matches('/')
        .split('/')
        .skip(2)
        .collect();
    match segments.as_slice() {
        ["patients"] => match *req.method() {
            Method::POST => create_patient(ctx, req, &principal, entry).await,
            Method::GET | Method::HEAD => search_patients(ctx, req, &principal, entry).await,
            _ => Err(ApiError::MethodNotAllowed("GET, HEAD, POST")),
        },
        ["patients", id] => match *req.method() {
            Method::GET | Method::HEAD => read_patient(ctx, req, &principal, entry, id).await,
            _ => Err(ApiError::MethodNotAllowed("GET, HEAD")),
        },
        _ => Err(ApiError::NotFound(format!(
            "no API resource at {}",
            req.uri().path()
        ))),
    }
}

fn require(
    principal: &ApiPrincipal,
    resource: &str,
    perm: Perms,
    scope: &str,
) -> Result<(), ApiError> {
    if principal.scopes.allows(resource, perm) {
        Ok(())
    } else {
        Err(ApiError::InsufficientScope(scope.into()))
    }
}

/// The client's `Idempotency-Key`, if it sent one: a single value of 1 to
/// [`MAX_IDEMPOTENCY_KEY_LEN`] visible ASCII characters.
fn client_idempotency_key(req: &Request<Vec<u8>>) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadRequest(vec![
            Issue::new(
                IssueCode::Value,
                format!(
                    "Idempotency-Key must be one value of 1 to {MAX_IDEMPOTENCY_KEY_LEN} \
                     visible ASCII characters"
                ),
            )
            .at("Idempotency-Key"),
        ])
    };
    let bytes = value.as_bytes();
    if values.next().is_some()
        || bytes.is_empty()
        || bytes.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !bytes.iter().all(u8::is_ascii_graphic)
    {
        return Err(bad());
    }
    value
        .to_str()
        .map(|k| Some(k.to_owned()))
        .map_err(|_| bad())
}

/// Lowercase hex, as fingerprints and namespaced keys are sent.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The idempotency of a write: the client's key namespaced by its caller (two apps of one
/// clinic never share a key space), else a random key of the edge's own; the fingerprint
/// binds the key to the clinic, the caller, the method, the path and the exact body, each
/// length-prefixed so that no two requests feed the hash the same bytes.
fn idempotency<H: crate::host::Host>(
    ctx: &Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    principal: &ApiPrincipal,
    client_key: Option<&str>,
) -> Idempotency {
    let key = match client_key {
        Some(k) => format!(
            "{}:{k}",
            hex(&hmac_sha256::Hash::hash(principal.subject.as_bytes()))
        ),
        None => {
            let mut r = [0u8; 16];
            ctx.host.fill_random(&mut r);
            format!("edge:{}", hex(&r))
        }
    };
    let mut h = hmac_sha256::Hash::new();
    for part in [
        principal.tenant.as_str().as_bytes(),
        principal.subject.as_bytes(),
        req.method().as_str().as_bytes(),
        req.uri().path().as_bytes(),
        req.body(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    Idempotency {
        key,
        fingerprint: hex(&h.finalize()),
    }
}

/// Sends the request's one batch and caches the directory entry if the region returned it.
///
/// A write (one with `idempotency`) whose answer was lost, or that the region asked to
/// retry, is sent once more with the same key: if the first attempt did commit, the region
/// replays its results instead of writing again. Reads and writes that succeed cost one call.
///
/// `min_lsn` (a read's `X-Telemed-Min-Lsn`) travels with the batch when it names the
/// clinic's home region, or when the edge does not know the home yet (then the worst case
/// is a read the primary serves that the replica could have).
async fn run<H: crate::host::Host>(
    ctx: &mut Ctx<'_, H>,
    principal: &ApiPrincipal,
    entry: Option<TenantEntry>,
    statements: Vec<Call>,
    idempotency: Option<Idempotency>,
    min_lsn: Option<ClientLsn>,
) -> Result<BatchResponse, ApiError> {
    let (region, want_directory) = match &entry {
        Some(e) => (e.home_region.clone(), false),
        None => (ctx.nearest_region(), true),
    };
    let min_lsn = min_lsn
        .filter(|m| entry.as_ref().is_none_or(|e| e.home_region == m.region))
        .map(|m| m.lsn);
    let batch = BatchRequest {
        statements,
        want_directory,
        idempotency,
        min_lsn,
    };
    let send = || {
        ctx.region
            .batch(&region, &principal.tenant, Some(&principal.subject), &batch)
    };
    let mut result = send().await;
    if batch.idempotency.is_some() && result.as_ref().is_err_and(|e| e.code().retryable()) {
        result = send().await;
    }
    let response = result.map_err(from_data_error)?;
    if let Some(dir) = &response.directory {
        ctx.remember_tenant(&TenantSelector::Slug(dir.slug.clone()), Some(dir));
    }
    Ok(response)
}

async fn create_patient<H: crate::host::Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    principal: &ApiPrincipal,
    entry: Option<TenantEntry>,
) -> Result<Response<Vec<u8>>, ApiError> {
    require(principal, "Patient", Perms::CREATE, "system/Patient.c")?;
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
    if req.body().len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge);
    }
    let client_key = client_idempotency_key(req)?;
    let body: Value = serde_json::from_slice(req.body()).map_err(|e| {
        ApiError::BadRequest(vec![Issue::new(
            IssueCode::Structure,
            format!("the body is not valid JSON: {e}"),
        )])
    })?;
    // The country's policy applies when the edge knows the clinic; on a cold edge the
    // clinic's own schema enforces the same rule (constraints installed at creation).
    let policy = entry.as_ref().map(|e| policy_for(&e.country));
    let today = patient::civil_date(ctx.host.now_millis());
    let new = patient::validate_new(
        body,
        policy.as_ref().unwrap_or(&crate::compliance::SHAPE_ONLY),
        &today,
    )
    .map_err(|e| match e {
        PatientError::NotAResource => ApiError::BadRequest(vec![Issue::new(
            IssueCode::Structure,
            "the body must be a JSON object (a FHIR resource)",
        )]),
        PatientError::Invalid(issues) => ApiError::Unprocessable(issues),
    })?;
    let call = Call {
        name: names::PATIENT_CREATE.into(),
        params: vec![
            new.resource,
            json!(new.family),
            json!(new.given),
            json!(new.birth_date),
            json!(new.gender),
        ],
    };
    let idempotency = idempotency(ctx, req, principal, client_key.as_deref());
    let response = run(ctx, principal, entry, vec![call], Some(idempotency), None).await?;
    let row = response
        .results
        .first()
        .and_then(|r| r.rows.first())
        .ok_or_else(|| malformed_answer(names::PATIENT_CREATE))?;
    let resource = patient::from_row(row).ok_or_else(|| malformed_answer(names::PATIENT_CREATE))?;
    let id = resource["id"].as_str().unwrap_or_default().to_owned();
    let mut r = resource_response(StatusCode::CREATED, &resource);
    let location = format!("{}/v1/patients/{id}", base_url(req));
    if let Ok(v) = location.parse() {
        r.headers_mut().insert("location", v);
    }
    // Only the client's own key is news to the client: a replay of the edge's retry is the
    // answer to this very request.
    if response.replayed && client_key.is_some() {
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
    Ok(r)
}

/// A FHIR id of ours is a UUID; anything else cannot exist, so it is 404 with no call.
fn parse_uuid(id: &str) -> Option<String> {
    let b = id.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    ok.then(|| id.to_ascii_lowercase())
}

async fn read_patient<H: crate::host::Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    principal: &ApiPrincipal,
    entry: Option<TenantEntry>,
    id: &str,
) -> Result<Response<Vec<u8>>, ApiError> {
    require(principal, "Patient", Perms::READ, "system/Patient.r")?;
    let min_lsn = client_min_lsn(req)?;
    let not_found = || ApiError::NotFound(format!("Patient/{id} is not known"));
    let id = parse_uuid(id).ok_or_else(not_found)?;
    let call = Call {
        name: names::PATIENT_READ.into(),
        params: vec![json!(id)],
    };
    let response = run(ctx, principal, entry, vec![call], None, min_lsn).await?;
    let row = response
        .results
        .first()
        .ok_or_else(|| malformed_answer(names::PATIENT_READ))?
        .rows
        .first()
        .ok_or_else(not_found)?;
    let resource = patient::from_row(row).ok_or_else(|| malformed_answer(names::PATIENT_READ))?;
    Ok(resource_response(StatusCode::OK, &resource))
}

/// Search parameters we understand, validated.
#[derive(Debug, Default, PartialEq)]
struct Search {
    count: u32,
    after_seq: Option<i64>,
    name: Option<String>,
    birth_date: Option<String>,
    gender: Option<String>,
}

const CURSOR_ENGINE: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn encode_cursor(seq: i64) -> String {
    use base64::Engine as _;
    CURSOR_ENGINE.encode(format!("seq:{seq}"))
}

fn decode_cursor(c: &str) -> Option<i64> {
    use base64::Engine as _;
    let raw = CURSOR_ENGINE.decode(c).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("seq:")?
        .parse()
        .ok()
        .filter(|s: &i64| *s >= 0)
}

fn parse_search(query: Option<&str>) -> Result<Search, ApiError> {
    let bad = |p: &str, m: &str| {
        ApiError::BadRequest(vec![
            Issue::new(IssueCode::Value, m.to_owned()).at(p.to_owned()),
        ])
    };
    let mut s = Search {
        count: DEFAULT_COUNT,
        ..Default::default()
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "_count" => {
                let n: u32 = v
                    .parse()
                    .map_err(|_| bad("_count", "_count must be a non-negative integer"))?;
                s.count = n.min(MAX_COUNT);
            }
            "_cursor" => {
                s.after_seq =
                    Some(decode_cursor(&v).ok_or_else(|| {
                        bad("_cursor", "_cursor is not a cursor this server issued")
                    })?)
            }
            "name" => {
                let v = v.trim().to_lowercase();
                if v.is_empty() || v.len() > 100 {
                    return Err(bad("name", "name must hold 1 to 100 characters"));
                }
                // LIKE metacharacters are matched literally.
                s.name = Some(
                    v.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_"),
                );
            }
            "birthdate" => {
                if !patient::is_fhir_date(&v) {
                    return Err(bad(
                        "birthdate",
                        "birthdate must be a date (YYYY, YYYY-MM or YYYY-MM-DD); prefixes are not supported",
                    ));
                }
                s.birth_date = Some(v.into_owned());
            }
            "gender" => {
                if !["male", "female", "other", "unknown"].contains(&v.as_ref()) {
                    return Err(bad(
                        "gender",
                        "gender must be male, female, other or unknown",
                    ));
                }
                s.gender = Some(v.into_owned());
            }
            // FHIR: servers ignore parameters they do not support (lenient handling); the
            // self link tells the client which ones were applied.
            _ => {}
        }
    }
    Ok(s)
}

fn search_query(s: &Search, cursor: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("_count", &s.count.to_string());
    if let Some(n) = &s.name {
        q.append_pair(
            "name",
            &n.replace("\\%", "%")
                .replace("\\_", "_")
                .replace("\\\\", "\\"),
        );
    }
    if let Some(b) = &s.birth_date {
        q.append_pair("birthdate", b);
    }
    if let Some(g) = &s.gender {
        q.append_pair("gender", g);
    }
    if let Some(c) = cursor {
        q.append_pair("_cursor", c);
    }
    q.finish()
}

async fn search_patients<H: crate::host::Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    principal: &ApiPrincipal,
    entry: Option<TenantEntry>,
) -> Result<Response<Vec<u8>>, ApiError> {
    require(principal, "Patient", Perms::SEARCH, "system/Patient.s")?;
    let s = parse_search(req.uri().query())?;
    let filters = [json!(s.name), json!(s.birth_date), json!(s.gender)];
    let statements = vec![
        Call {
            name: names::PATIENT_SEARCH.into(),
            params: vec![
                json!(s.after_seq),
                filters[0].clone(),
                filters[1].clone(),
                filters[2].clone(),
                json!(s.count + 1),
            ],
        },
        Call {
            name: names::PATIENT_COUNT.into(),
            params: filters.to_vec(),
        },
    ];
    let min_lsn = client_min_lsn(req)?;
    let response = run(ctx, principal, entry, statements, None, min_lsn).await?;
    let [page, count] = response.results.as_slice() else {
        return Err(malformed_answer(names::PATIENT_SEARCH));
    };
    let total = count
        .rows
        .first()
        .and_then(|r| r.get("total"))
        .and_then(Value::as_u64);
    let base = base_url(req);
    let rows = &page.rows[..page.rows.len().min(s.count as usize)];
    let entries = rows
        .iter()
        .map(|row| {
            let r =
                patient::from_row(row).ok_or_else(|| malformed_answer(names::PATIENT_SEARCH))?;
            Ok((
                format!(
                    "{base}/v1/patients/{}",
                    r["id"].as_str().unwrap_or_default()
                ),
                r,
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let next = if page.rows.len() > s.count as usize && s.count > 0 {
        let last_seq = rows
            .last()
            .and_then(|r| r.get("seq"))
            .and_then(Value::as_i64)
            .ok_or_else(|| malformed_answer(names::PATIENT_SEARCH))?;
        Some(format!(
            "{base}/v1/patients?{}",
            search_query(&s, Some(&encode_cursor(last_seq)))
        ))
    } else {
        None
    };
    let self_url = format!(
        "{base}/v1/patients?{}",
        search_query(&s, s.after_seq.map(encode_cursor).as_deref())
    );
    Ok(fhir_response(
        StatusCode::OK,
        &fhir::searchset(&self_url, next.as_deref(), total, entries),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_parameters() {
        assert_eq!(parse_search(None).unwrap().count, DEFAULT_COUNT);
        assert_eq!(parse_search(Some("_count=1000")).unwrap().count, MAX_COUNT);
        assert_eq!(parse_search(Some("_count=0")).unwrap().count, 0);
        for bad in [
            "_count=-1",
            "_count=x",
            "_cursor=zzz",
            "gender=F",
            "birthdate=ge2000",
            "name=",
        ] {
            assert!(
                matches!(parse_search(Some(bad)), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
        }
        let s = parse_search(Some("name=50%25_off&unknown=1")).unwrap();
        assert_eq!(s.name.as_deref(), Some("50\\%\\_off"));
        assert_eq!(search_query(&s, None), "_count=20&name=50%25_off");
        let c = encode_cursor(42);
        assert_eq!(decode_cursor(&c), Some(42));
        assert_eq!(
            parse_search(Some(&format!("_cursor={c}")))
                .unwrap()
                .after_seq,
            Some(42)
        );
    }

    #[test]
    fn client_lsns() {
        let l = ClientLsn::parse("eu-west:16/b374d848").unwrap();
        assert_eq!(l.region.as_str(), "eu-west");
        assert_eq!(l.lsn, "16/B374D848");
        assert_eq!(l.header_value(), "eu-west:16/B374D848");
        assert_eq!(ClientLsn::parse(&l.header_value()), Some(l));
        for bad in [
            "",
            "eu-west",
            "eu-west:",
            ":0/1",
            "EU:0/1",
            "eu-west:0/1/2",
            "eu-west:x/1",
        ] {
            assert_eq!(ClientLsn::parse(bad), None, "{bad:?}");
        }
        let req = |values: &[&str]| {
            let mut b = Request::builder().uri("https://x.localhost/v1/patients");
            for v in values {
                b = b.header(MIN_LSN_HEADER, *v);
            }
            b.body(Vec::new()).unwrap()
        };
        assert_eq!(client_min_lsn(&req(&[])).unwrap(), None);
        assert_eq!(
            client_min_lsn(&req(&["us-east:0/1"])).unwrap().unwrap().lsn,
            "0/1"
        );
        for bad in [
            &["0/1"][..],
            &["eu-west:zz"],
            &["eu-west:0/1", "eu-west:0/2"],
        ] {
            let e = client_min_lsn(&req(bad)).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn ids_and_constraints() {
        assert!(parse_uuid("5B0C1A2E-1111-4222-8333-444455556666").is_some());
        for bad in [
            "1",
            "../x",
            "5b0c1a2e-1111-4222-8333-44445555666",
            "5b0c1a2e11114222833344445555666600",
        ] {
            assert!(parse_uuid(bad).is_none(), "{bad}");
        }
        let i = constraint_issue("new row violates check constraint \"policy_requires_gender\"");
        assert_eq!(i.expression.as_deref(), Some("Patient.gender"));
        assert_eq!(constraint_issue("other").code, IssueCode::Invalid);
    }

    /// Each region error code has its own meaning at the API; the ones that are our
    /// fault are 5xx, logged, and say nothing of the detail to the client.
    #[test]
    fn every_region_error_code_is_mapped_on_purpose() {
        use ErrorCode as E;
        let expected = |code: ErrorCode| -> (u16, &str, bool) {
            match code {
                E::UnknownTenant => (404, "not-found", false),
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
