//! The endpoints at the edge: what can be refused without a call is refused here; the rest
//! is one call to the clinic's home region, whose answer is relayed.

use http::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::{
    Endpoint, MAX_FORM_BYTES, OAuthError, OAuthErrorCode, OAuthReply, OAuthRequest,
    discovery::{self, JWKS_PATH, SMART_CONFIGURATION_PATH},
};
use crate::{
    api::{Space, Urls},
    cache,
    ctx::Ctx,
    dataplane::{client::DataError, wire::ErrorCode},
    host::{Host, LogLevel},
    tenant::{ResolveError, TenantSelector, TenantStatus},
};

/// Whether the path is the authorisation server's.
pub fn is_oauth_path(path: &str) -> bool {
    path == JWKS_PATH
        || path == SMART_CONFIGURATION_PATH
        || Endpoint::ALL.iter().any(|e| e.path() == path)
}

/// Serves [`is_oauth_path`]'s paths.
pub async fn handle<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: Result<TenantSelector, ResolveError>,
) -> Response<Vec<u8>> {
    let path = req.uri().path();
    let is_get = matches!(*req.method(), Method::GET | Method::HEAD);
    if path == JWKS_PATH || path == SMART_CONFIGURATION_PATH {
        if !is_get {
            return method_not_allowed("GET, HEAD");
        }
        if path == JWKS_PATH {
            return discovery::jwks_response(&ctx.config.api_keys);
        }
        return match selector {
            Ok(_) => discovery::smart_configuration_response(Urls::of(req, Space::V1).origin()),
            Err(_) => reply(not_found()),
        };
    }
    let Some(endpoint) = Endpoint::ALL.into_iter().find(|e| e.path() == path) else {
        return reply(not_found());
    };
    if *req.method() != Method::POST {
        return method_not_allowed("POST");
    }
    reply(match exchange(ctx, req, selector, endpoint).await {
        Ok(r) => r,
        Err(e) => e.into(),
    })
}

async fn exchange<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: Result<TenantSelector, ResolveError>,
    endpoint: Endpoint,
) -> Result<OAuthReply, OAuthError> {
    let invalid = |m: &str| OAuthError::new(OAuthErrorCode::InvalidRequest, m);
    let selector = match selector {
        Ok(s) => s,
        Err(ResolveError::NoTenant) => return Ok(not_found()),
        Err(e) => return Err(invalid(&e.to_string())),
    };
    let form_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if form_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(invalid(
            "the request must be a form: Content-Type application/x-www-form-urlencoded",
        ));
    }
    if req.body().len() > MAX_FORM_BYTES {
        return Err(invalid(&format!(
            "the form is larger than {MAX_FORM_BYTES} bytes"
        )));
    }
    let form = std::str::from_utf8(req.body())
        .map_err(|_| invalid("the form is not UTF-8"))?
        .to_owned();
    // Refused here when it can be, without a call; the region parses it again, for itself.
    super::parse_form(&form)?;
    let authorization = match req
        .headers()
        .get_all("authorization")
        .iter()
        .collect::<Vec<_>>()[..]
    {
        [] => None,
        [one] => Some(
            one.to_str()
                .map_err(|_| invalid("the Authorization header is not visible ASCII"))?
                .to_owned(),
        ),
        _ => return Err(invalid("more than one Authorization header")),
    };
    let (slug, region) = match &selector {
        TenantSelector::Slug(slug) => {
            let home = ctx.cached_tenant(&selector).await.flatten();
            if home
                .as_ref()
                .is_some_and(|e| e.status == TenantStatus::Suspended)
            {
                return Err(suspended());
            }
            let region = home.map_or_else(|| ctx.nearest_region(), |e| e.home_region);
            (slug.clone(), region)
        }
        TenantSelector::Domain(_) => match ctx.tenant(&selector).await {
            Ok(Some(e)) if e.status == TenantStatus::Suspended => return Err(suspended()),
            Ok(Some(e)) => (e.slug, e.home_region),
            Ok(None) => return Ok(not_found()),
            Err(e) => return Err(fault(ctx, &e)),
        },
    };
    let request = OAuthRequest {
        endpoint,
        form,
        authorization,
        endpoint_url: format!("{}{}", Urls::of(req, Space::V1).origin(), endpoint.path()),
    };
    match ctx.region.oauth(&region, &slug, &request).await {
        Ok(reply) => Ok(reply),
        Err(e) if e.code() == ErrorCode::UnknownTenant => Ok(not_found()),
        Err(e) if e.code() == ErrorCode::TenantSuspended => Err(suspended()),
        Err(e) => Err(fault(ctx, &e)),
    }
}

fn suspended() -> OAuthError {
    OAuthError::new(
        OAuthErrorCode::UnauthorizedClient,
        "this clinic is suspended: no token is issued for it",
    )
}

fn fault<H: Host>(ctx: &Ctx<'_, H>, e: &DataError) -> OAuthError {
    if !e.code().retryable() {
        ctx.host.log(LogLevel::Error, &format!("oauth: {e}"));
    }
    OAuthError::new(
        OAuthErrorCode::TemporarilyUnavailable,
        "the clinic's region cannot answer now; try again shortly",
    )
}

/// No clinic at this host: said in the endpoints' own shape.
fn not_found() -> OAuthReply {
    OAuthReply {
        status: 404,
        body: Some(json!({
            "error": "invalid_request",
            "error_description": "no clinic at this address",
        })),
        challenge: None,
    }
}

fn method_not_allowed(allow: &'static str) -> Response<Vec<u8>> {
    let mut r = reply(
        OAuthError::new(
            OAuthErrorCode::InvalidRequest,
            format!("this endpoint answers {allow} only"),
        )
        .into(),
    );
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r.headers_mut()
        .insert("allow", http::HeaderValue::from_static(allow));
    r
}

/// The reply as a response: JSON, never stored (RFC 6749 §5.1: `Cache-Control: no-store`
/// and `Pragma: no-cache` on anything carrying or refusing a token).
fn reply(r: OAuthReply) -> Response<Vec<u8>> {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut b = Response::builder()
        .status(status)
        .header("cache-control", cache::NO_STORE)
        .header("pragma", "no-cache")
        .header("x-content-type-options", "nosniff");
    if status == StatusCode::SERVICE_UNAVAILABLE {
        b = b.header("retry-after", "5");
    }
    if let Some(c) = r
        .challenge
        .as_deref()
        .and_then(|c| http::HeaderValue::from_str(c).ok())
    {
        b = b.header("www-authenticate", c);
    }
    let body = match r.body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            serde_json::to_vec(&v).expect("JSON values serialise")
        }
        None => Vec::new(),
    };
    b.body(body).expect("static header names")
}
