//! The public REST API: FHIR R4 JSON behind bearer JWTs with SMART v2 scopes, generic
//! over the resource types of [`resources::REGISTRY`].
//!
//! Two URL spaces, one implementation: `/v1/<plural>` (`/v1/patients`) and the standard
//! FHIR base `/fhir/R4/<Type>` (`/fhir/R4/Patient`, with `GET /fhir/R4/metadata`). Every
//! URL the API writes (`Location`, `fullUrl`, Bundle links) is in the space of the request.
//!
//! Layout: [`resource`] (the trait and what derives from it), [`resources`] (one module per
//! type), `rest` (the interactions), [`search`], [`error`], [`idempotency`], [`lsn`],
//! [`metadata`], [`erase`] (`Patient/{id}/$erase`).
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

pub mod bundle;
pub mod erase;
pub mod error;
mod everything;
pub mod idempotency;
pub mod lsn;
pub mod metadata;
mod operation;
pub mod policy;
pub mod resource;
pub mod resources;
mod rest;
pub mod sealed;
pub mod search;

use http::{Method, Request, Response, StatusCode};
use serde_json::Value;

pub use self::error::ApiError;
use self::{
    error::from_data_error,
    lsn::ClientLsn,
    resource::{Interaction, Resource},
};
use crate::{
    auth::{ApiPrincipal, bearer},
    cache,
    ctx::Ctx,
    dataplane::wire::{BatchRequest, BatchResponse, Call, Idempotency},
    fhir::{CONTENT_TYPE, Issue, IssueCode},
    host::{Host, LogLevel},
    tenant::{ResolveError, TenantEntry, TenantSelector, TenantStatus},
};

/// Largest request body the API accepts for one resource.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest Bundle the API accepts (up to [`bundle::MAX_ENTRIES`] device readings).
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;

/// The API's two URL spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// `/v1/<plural>`: the product's own paths.
    V1,
    /// `/fhir/R4/<Type>`: a standard FHIR base, for off-the-shelf FHIR clients.
    FhirR4,
}

impl Space {
    pub const ALL: [Space; 2] = [Space::V1, Space::FhirR4];

    /// The base path.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::V1 => "/v1",
            Self::FhirR4 => "/fhir/R4",
        }
    }

    /// The space a path is in, and the segments below its base (none for the base).
    pub fn of(path: &str) -> Option<(Space, Vec<&str>)> {
        Self::ALL.into_iter().find_map(|space| {
            let rest = path.strip_prefix(space.prefix())?;
            if !rest.is_empty() && !rest.starts_with('/') {
                return None;
            }
            let segments = rest
                .trim_end_matches('/')
                .split('/')
                .skip(1)
                .collect::<Vec<_>>();
            Some((space, segments))
        })
    }

    /// A collection's path segment in this space: `patients` or `Patient`.
    fn collection(self, r: &dyn Resource) -> &'static str {
        match self {
            Self::V1 => r.plural(),
            Self::FhirR4 => r.name(),
        }
    }

    /// The resource type a collection segment names in this space.
    fn resource(self, segment: &str) -> Option<&'static dyn Resource> {
        match self {
            Self::V1 => resources::by_plural(segment),
            Self::FhirR4 => resources::by_name(segment),
        }
    }
}

/// Whether a path is the API's (answered in FHIR) rather than a page's.
pub fn is_api_path(path: &str) -> bool {
    Space::of(path).is_some()
}

/// Where the request's URLs point: origin and URL space.
#[derive(Debug, Clone)]
pub struct Urls {
    origin: String,
    space: Space,
}

impl Urls {
    pub fn of(req: &Request<Vec<u8>>, space: Space) -> Self {
        let scheme = req.uri().scheme_str().unwrap_or("https");
        let authority = req
            .uri()
            .authority()
            .map(|a| a.as_str())
            .unwrap_or("localhost");
        Self {
            origin: format!("{scheme}://{authority}"),
            space,
        }
    }

    /// `scheme://authority` of the request.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The API's base URL in this space.
    pub fn base(&self) -> String {
        format!("{}{}", self.origin, self.space.prefix())
    }

    /// A collection's URL.
    pub fn collection(&self, r: &dyn Resource) -> String {
        format!("{}/{}", self.base(), self.space.collection(r))
    }

    /// A resource's URL.
    pub fn resource(&self, r: &dyn Resource, id: &str) -> String {
        format!("{}/{id}", self.collection(r))
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

/// A FHIR id of ours is a UUID; anything else cannot exist, so it is 404 with no call.
pub fn parse_uuid(id: &str) -> Option<String> {
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

/// Serves the API's paths ([`is_api_path`]).
pub async fn handle<H: Host>(
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

/// A request past authentication: who calls, for which clinic, in which URL space.
pub(crate) struct Caller {
    pub principal: ApiPrincipal,
    /// The clinic's directory entry when the edge has it (else the region returns it).
    pub entry: Option<TenantEntry>,
    pub urls: Urls,
}

impl Caller {
    /// Refuses an interaction the token's scopes do not grant, naming the scope.
    fn require(&self, r: &dyn Resource, interaction: Interaction) -> Result<(), ApiError> {
        let (scopes, perm) = (&self.principal.scopes, interaction.perm().0);
        let granted = if r.explicit_scope() {
            scopes.allows_explicitly(r.name(), perm)
        } else {
            scopes.allows(r.name(), perm)
        };
        if granted {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(resource::scope(r, interaction)))
        }
    }
}

async fn serve<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: Result<TenantSelector, ResolveError>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let (space, segments) = Space::of(req.uri().path())
        .ok_or_else(|| ApiError::NotFound(format!("no API at {}", req.uri().path())))?;
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
    let urls = Urls::of(req, space);
    // What the server can do is the same for every clinic and host: public, as FHIR
    // clients read it before they authenticate.
    if segments.as_slice() == ["metadata"] {
        return match *req.method() {
            Method::GET | Method::HEAD => Ok(fhir_response(
                StatusCode::OK,
                &metadata::capability_statement(&urls, ctx.host.now_millis()),
            )),
            _ => Err(ApiError::MethodNotAllowed("GET, HEAD")),
        };
    }
    // SMART discovery lives under each FHIR base too (`[base]/.well-known/…`).
    if segments.as_slice() == [".well-known", "smart-configuration"] {
        return match *req.method() {
            Method::GET | Method::HEAD => Ok(
                crate::oauth::discovery::smart_configuration_response(urls.origin()),
            ),
            _ => Err(ApiError::MethodNotAllowed("GET, HEAD")),
        };
    }
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
    let caller = Caller {
        principal,
        entry,
        urls,
    };
    let not_found = || ApiError::NotFound(format!("no API resource at {}", req.uri().path()));
    if space == Space::V1 && segments.as_slice() == ["policy"] {
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            return Err(ApiError::MethodNotAllowed("GET, HEAD"));
        }
        // The clinic's country: from the directory (the edge's cache, else one call).
        let entry = match caller.entry.clone() {
            Some(e) => e,
            None => ctx
                .tenant(&selector)
                .await
                .map_err(from_data_error)?
                .ok_or(ApiError::NoClinic)?,
        };
        let accept = req
            .headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok());
        let locale = policy::locale_of(req.uri().query(), accept, &entry);
        let mut r = fhir_response(StatusCode::OK, &policy::document(&entry, locale));
        r.headers_mut().insert(
            "content-type",
            http::HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Ok(v) = locale.tag().parse() {
            r.headers_mut().insert("content-language", v);
        }
        return Ok(r);
    }
    let (collection, id) = match segments.as_slice() {
        [] => {
            return match *req.method() {
                Method::POST => bundle::post(ctx, req, &caller).await,
                _ => Err(ApiError::MethodNotAllowed("POST")),
            };
        }
        [collection] => (*collection, None),
        [collection, id] => (*collection, Some(*id)),
        [collection, id, "$everything"] => {
            let r = space.resource(collection).ok_or_else(not_found)?;
            if !r.meta().compartment_root {
                return Err(not_found());
            }
            return match *req.method() {
                Method::GET | Method::HEAD => {
                    everything::everything(ctx, req, &caller, r, id).await
                }
                _ => Err(ApiError::MethodNotAllowed("GET, HEAD")),
            };
        }
        [collection, id, op] if op.starts_with('$') => {
            let r = space.resource(collection).ok_or_else(not_found)?;
            let op = r
                .operations()
                .iter()
                .find(|o| o.name() == &op[1..])
                .ok_or_else(not_found)?;
            return match (req.method().clone(), op.is_read()) {
                (Method::POST, false) | (Method::GET | Method::HEAD, true) => {
                    operation::invoke(ctx, req, &caller, r, id, op).await
                }
                (_, false) => Err(ApiError::MethodNotAllowed("POST")),
                (_, true) => Err(ApiError::MethodNotAllowed("GET, HEAD")),
            };
        }
        _ => return Err(not_found()),
    };
    let r = space.resource(collection).ok_or_else(not_found)?;
    let offers = |i: Interaction| r.interactions().contains(&i);
    let allow = |is: &[(Interaction, &'static str)]| {
        let allowed: Vec<&str> = is
            .iter()
            .filter(|(i, _)| offers(*i))
            .map(|(_, m)| *m)
            .collect();
        ApiError::MethodNotAllowed(allow_header(&allowed))
    };
    match (id, req.method().clone()) {
        (None, Method::POST) if offers(Interaction::Create) => {
            rest::create(ctx, req, &caller, r, None).await
        }
        (None, Method::GET | Method::HEAD) if offers(Interaction::SearchType) => {
            rest::search(ctx, req, &caller, r).await
        }
        (None, _) => Err(allow(&[
            (Interaction::SearchType, "GET, HEAD"),
            (Interaction::Create, "POST"),
        ])),
        (Some(id), Method::GET | Method::HEAD) if offers(Interaction::Read) => {
            rest::read(ctx, req, &caller, r, id).await
        }
        (Some(id), Method::PUT) if offers(Interaction::Update) => {
            rest::update(ctx, req, &caller, r, id).await
        }
        (Some(_), _) => Err(allow(&[
            (Interaction::Read, "GET, HEAD"),
            (Interaction::Update, "PUT"),
        ])),
    }
}

/// The `Allow` value of a list of methods (static: every combination is spelled here).
fn allow_header(methods: &[&str]) -> &'static str {
    match methods {
        ["GET, HEAD", "POST"] => "GET, HEAD, POST",
        ["GET, HEAD", "PUT"] => "GET, HEAD, PUT",
        ["GET, HEAD"] => "GET, HEAD",
        ["POST"] => "POST",
        ["PUT"] => "PUT",
        _ => "",
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
pub(crate) async fn run<H: Host>(
    ctx: &mut Ctx<'_, H>,
    caller: &Caller,
    statements: Vec<Call>,
    idempotency: Option<Idempotency>,
    min_lsn: Option<ClientLsn>,
) -> Result<BatchResponse, ApiError> {
    let (principal, entry) = (&caller.principal, &caller.entry);
    let (region, want_directory) = match entry {
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
        ctx.region.batch_by(
            &region,
            &principal.tenant,
            Some(&principal.subject),
            principal.app.as_ref(),
            &batch,
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(parse_uuid("5B0C1A2E-1111-4222-8333-444455556666").is_some());
        for bad in [
            "1",
            "../x",
            "5b0c1a2e-1111-4222-8333-44445555666",
            "5b0c1a2e11114222833344445555666600",
        ] {
            assert!(parse_uuid(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn url_spaces() {
        assert_eq!(Space::of("/v1"), Some((Space::V1, vec![])));
        assert_eq!(Space::of("/v1/"), Some((Space::V1, vec![])));
        assert_eq!(
            Space::of("/v1/patients/x"),
            Some((Space::V1, vec!["patients", "x"]))
        );
        assert_eq!(
            Space::of("/fhir/R4/Patient"),
            Some((Space::FhirR4, vec!["Patient"]))
        );
        for page in [
            "/",
            "/v10",
            "/fhir",
            "/fhir/R5/Patient",
            "/fhir/R4x",
            "/book",
        ] {
            assert_eq!(Space::of(page), None, "{page}");
            assert!(!is_api_path(page), "{page}");
        }
        assert_eq!(Space::V1.resource("patients").unwrap().name(), "Patient");
        assert!(Space::V1.resource("Patient").is_none());
        assert_eq!(
            Space::FhirR4.resource("Patient").unwrap().plural(),
            "patients"
        );
        assert!(Space::FhirR4.resource("patients").is_none());
    }
}
