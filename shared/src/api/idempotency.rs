//! Idempotent writes: the client's `Idempotency-Key` (the IETF httpapi draft's header),
//! namespaced by its caller, and the fingerprint that binds a key to one request (see
//! [`super`]'s documentation for the one retry rule).

use http::Request;

use super::error::ApiError;
use crate::{
    auth::ApiPrincipal,
    ctx::Ctx,
    dataplane::wire::Idempotency,
    fhir::{Issue, IssueCode},
};

/// The request header that makes a write safe to retry, and its longest accepted value.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// Set on a response that repeats the stored answer to an earlier request with the same key.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";

/// The client's `Idempotency-Key`, if it sent one: a single value of 1 to
/// [`MAX_IDEMPOTENCY_KEY_LEN`] visible ASCII characters.
pub fn client_key(req: &Request<Vec<u8>>) -> Result<Option<String>, ApiError> {
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
pub fn of<H: crate::host::Host>(
    ctx: &Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    principal: &ApiPrincipal,
    client_key: Option<&str>,
) -> Idempotency {
    for_caller(ctx, req, &principal.tenant, &principal.subject, client_key)
}

/// [`of`] for any caller of a clinic: an API principal, or a page's actor (whose forms
/// carry their own key).
pub fn for_caller<H: crate::host::Host>(
    ctx: &Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    tenant: &crate::tenant::TenantSlug,
    subject: &str,
    client_key: Option<&str>,
) -> Idempotency {
    let key = match client_key {
        Some(k) => format!("{}:{k}", hex(&hmac_sha256::Hash::hash(subject.as_bytes()))),
        None => {
            let mut r = [0u8; 16];
            ctx.host.fill_random(&mut r);
            format!("edge:{}", hex(&r))
        }
    };
    let mut h = hmac_sha256::Hash::new();
    for part in [
        tenant.as_str().as_bytes(),
        subject.as_bytes(),
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
