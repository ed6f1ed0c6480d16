//! `POST /v1/oauth`: the authorisation server's work for the clinic's home region — client
//! authentication, the clinic's grant, access tokens, introspection and revocation (the
//! edge's half and the protocol are in [`telemed_shared::oauth`]).
//!
//! What must hold:
//! - **A client is who it proves to be**: its secret's SHA-256 matches (constant-time), or
//!   its assertion is signed by a key of its registered or published JWKS (RS384/ES384,
//!   `kid` and `typ: JWT` required), with `iss` = `sub` = its id, `aud` = the URL it
//!   called, `exp` at most five minutes ahead, and a `jti` it has not used at this clinic
//!   before (RFC 7523 §3; stored until the assertion would have expired).
//! - **A token only for a clinic that installed the app, within what the clinic granted**:
//!   the app approved, its installation here current; every requested scope covered by the
//!   grant (`invalid_scope` names the first that is not).
//! - **Everything about a client is said to the client only**: introspecting or revoking
//!   another client's token is `{"active": false}` / a silent 200 (RFC 7662 §2.2, RFC
//!   7009 §2.2), and nothing reveals another clinic's installations.
//! - **Audited**: every token issued or refused to a known client is in the clinic's trail
//!   (`oauth-token`, resource type `OAuthClient`, actor `client:<id>`).

pub mod jwks;

use deadpool_postgres::{GenericClient, Pool};
use jwt_simple::{
    algorithms::{ECDSAP384PublicKeyLike, ES384PublicKey, RS384PublicKey, RSAPublicKeyLike},
    claims::{JWTClaims, NoCustomClaims},
    common::VerificationOptions,
    prelude::{Duration as JwtDuration, UnixTimeStamp},
    token::Token,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use telemed_shared::{
    auth::{ApiClaims, AppToken, SigningKey, VerifyingKeys},
    dataplane::wire::RegionError,
    oauth::{
        self, ASSERTION_ALGORITHMS, Endpoint, JWT_BEARER_ASSERTION, MAX_ASSERTION_TTL_SECS,
        OAuthError, OAuthErrorCode, OAuthReply, OAuthRequest, param,
    },
    tenant::TenantSlug,
};

use self::jwks::{JwksCache, find_key};
use crate::{
    db::{self, AuditEntry, Outcome},
    error,
    outbound::OutboundPolicy,
};

/// Clock skew tolerated on assertions' times.
const SKEW_SECS: u64 = 30;
/// The resource type of the trail's OAuth records.
const OAUTH_CLIENT: &str = "OAuthClient";

/// The issuer: its signing keys (the first signs; all verify, for introspection and
/// revocation of tokens signed before a rotation), and the apps' key sets it fetched.
pub struct Issuer {
    signing: Vec<SigningKey>,
    verifying: VerifyingKeys,
    jwks: JwksCache,
}

impl Issuer {
    /// `None` without keys: such a region issues no tokens (`/v1/oauth` answers 503).
    pub fn new(
        signing: Vec<SigningKey>,
        http: reqwest::Client,
        policy: OutboundPolicy,
    ) -> Option<Self> {
        let verifying = VerifyingKeys::of_signing_keys(&signing).ok()?;
        Some(Self {
            signing,
            verifying,
            jwks: JwksCache::new(http, policy),
        })
    }
}

/// Why a request ends: a refusal in the protocol's terms, or a fault of ours.
enum Stop {
    Refused(OAuthError),
    Fault(RegionError),
}

impl From<OAuthError> for Stop {
    fn from(e: OAuthError) -> Self {
        Self::Refused(e)
    }
}

impl From<RegionError> for Stop {
    fn from(e: RegionError) -> Self {
        Self::Fault(e)
    }
}

fn pg(e: tokio_postgres::Error) -> Stop {
    Stop::Fault(error::from_postgres(&e))
}

fn refused(code: OAuthErrorCode, description: impl Into<String>) -> Stop {
    Stop::Refused(OAuthError::new(code, description))
}

/// A registered client, as this clinic's home region sees it.
struct Client {
    id: String,
    secret_sha256: Option<Vec<u8>>,
    jwks: Option<Value>,
    jwks_url: Option<String>,
    app_approved: bool,
    /// The clinic's grant, when the app is installed here now.
    granted: Option<String>,
}

/// Answers one request for clinic `slug` (homed here). `Ok` carries refusals too; `Err`
/// is a fault (database down…). The label is the outcome for the metrics.
pub async fn answer(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    request: &OAuthRequest,
    now: u64,
) -> Result<(OAuthReply, &'static str), RegionError> {
    let result = match request.endpoint {
        Endpoint::Token => token(pool, issuer, slug, request, now).await,
        Endpoint::Introspect => introspect(pool, issuer, slug, request, now).await,
        Endpoint::Revoke => revoke(pool, issuer, slug, request, now).await,
    };
    match result {
        Ok(reply) => Ok((reply, "ok")),
        Err(Stop::Refused(e)) => Ok((OAuthReply::from(e.clone()), e.code.as_str())),
        Err(Stop::Fault(e)) => Err(e),
    }
}

async fn token(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    request: &OAuthRequest,
    now: u64,
) -> Result<OAuthReply, Stop> {
    let params = oauth::parse_form(&request.form)?;
    match param(&params, "grant_type") {
        None => {
            return Err(refused(
                OAuthErrorCode::InvalidRequest,
                "grant_type is required (client_credentials)",
            ));
        }
        Some("client_credentials") => {}
        Some(other) => {
            return Err(refused(
                OAuthErrorCode::UnsupportedGrantType,
                format!("{other}: this server issues tokens for client_credentials only"),
            ));
        }
    }
    let client = authenticate(pool, issuer, slug, &params, request, now).await?;
    let outcome = issue(issuer, slug, &client, &params, now);
    let (entry, reply) = match outcome {
        Ok((reply, token_id)) => (
            AuditEntry::new(
                "oauth-token",
                "oauth-token",
                OAUTH_CLIENT,
                vec![Some(token_id)],
            ),
            Ok(reply),
        ),
        Err(e) => (
            AuditEntry::new("oauth-token", "oauth-token", OAUTH_CLIENT, vec![None])
                .with_outcome(Outcome::Denied(e.code.as_str())),
            Err(Stop::Refused(e)),
        ),
    };
    audit(pool, slug, &client.id, &entry).await?;
    reply
}

/// The token for an authenticated client: the clinic's grant decides.
fn issue(
    issuer: &Issuer,
    slug: &TenantSlug,
    client: &Client,
    params: &[(String, String)],
    now: u64,
) -> Result<(OAuthReply, String), OAuthError> {
    let (true, Some(granted)) = (client.app_approved, &client.granted) else {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            "this app is not installed in this clinic",
        ));
    };
    let requested = oauth::requested_scopes(param(params, "scope").unwrap_or(""))?;
    let scope = oauth::grant(&requested, granted)?;
    let token_id = uuid::Uuid::new_v4().to_string();
    let key = issuer.signing.first().expect("an issuer has a key");
    let token = key
        .sign_access_token(slug.clone(), &client.id, &scope, &token_id, now)
        .map_err(|e| OAuthError::new(OAuthErrorCode::TemporarilyUnavailable, e.to_string()))?;
    Ok((
        OAuthReply::ok(json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": oauth::ACCESS_TOKEN_TTL_SECS,
            "scope": scope,
        })),
        token_id,
    ))
}

/// The authenticated client of an introspection or a revocation, and the token it names
/// when that token is one of its own for this clinic (signature and expiry checked by the
/// region's keys): anything else is reported as nothing, to the client's face.
async fn own_token(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    request: &OAuthRequest,
    now: u64,
) -> Result<(Client, Option<(AppToken, JWTClaims<ApiClaims>)>), Stop> {
    let params = oauth::parse_form(&request.form)?;
    let client = authenticate(pool, issuer, slug, &params, request, now).await?;
    let token = param(&params, "token")
        .ok_or_else(|| refused(OAuthErrorCode::InvalidRequest, "token is required"))?;
    let own = issuer
        .verifying
        .verify_api_claims(token, now)
        .ok()
        .filter(|(principal, _)| principal.tenant == *slug)
        .and_then(|(principal, claims)| {
            principal
                .app
                .filter(|a| a.client_id == client.id)
                .map(|app| (app, claims))
        });
    Ok((client, own))
}

async fn introspect(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    request: &OAuthRequest,
    now: u64,
) -> Result<OAuthReply, Stop> {
    let inactive = || OAuthReply::ok(json!({ "active": false }));
    let (_, Some((app, claims))) = own_token(pool, issuer, slug, request, now).await? else {
        return Ok(inactive());
    };
    if !stands(pool, slug, &app).await? {
        return Ok(inactive());
    }
    Ok(OAuthReply::ok(json!({
        "active": true,
        "scope": claims.custom.scope,
        "client_id": app.client_id,
        "sub": claims.subject,
        "token_type": "Bearer",
        "exp": claims.expires_at.map(|t| t.as_secs()),
        "iat": claims.issued_at.map(|t| t.as_secs()),
        "iss": claims.issuer,
        "aud": telemed_shared::auth::API_AUDIENCE,
        "jti": app.token_id,
        "tenant": slug.as_str(),
    })))
}

async fn revoke(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    request: &OAuthRequest,
    now: u64,
) -> Result<OAuthReply, Stop> {
    // An expired, foreign or unreadable token needs no revoking: 200 all the same.
    let (client, Some((app, claims))) = own_token(pool, issuer, slug, request, now).await? else {
        return Ok(OAuthReply::empty());
    };
    let expires = claims.expires_at.map_or(now, |t| t.as_secs()) as f64;
    let mut conn = pool
        .get()
        .await
        .map_err(|e| Stop::Fault(error::from_pool(&e)))?;
    let tx = conn.transaction().await.map_err(pg)?;
    db::pin_schema(&tx, slug).await.map_err(pg)?;
    tx.execute(
        "INSERT INTO oauth_revoked_tokens (jti, client_id, expires_at) \
         VALUES ($1, $2, to_timestamp($3::double precision)) ON CONFLICT (jti) DO NOTHING",
        &[&app.token_id, &client.id, &expires],
    )
    .await
    .map_err(pg)?;
    tx.execute(
        "DELETE FROM oauth_revoked_tokens WHERE expires_at < now() - interval '1 minute'",
        &[],
    )
    .await
    .map_err(pg)?;
    let entry = AuditEntry::new(
        "oauth-revoke",
        "oauth-revoke",
        OAUTH_CLIENT,
        vec![Some(app.token_id)],
    );
    db::append_audit(&tx, &format!("client:{}", client.id), &entry)
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(OAuthReply::empty())
}

/// Whether an app's token still stands here (see [`db::check_app_token`]).
async fn stands(pool: &Pool, slug: &TenantSlug, app: &AppToken) -> Result<bool, Stop> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| Stop::Fault(error::from_pool(&e)))?;
    let tx = conn.transaction().await.map_err(pg)?;
    db::pin_schema(&tx, slug).await.map_err(pg)?;
    let ok = match db::check_app_token(&tx, app).await {
        Ok(()) => true,
        Err(e) if e.code == telemed_shared::dataplane::wire::ErrorCode::TokenRevoked => false,
        Err(e) => return Err(Stop::Fault(e)),
    };
    tx.commit().await.map_err(pg)?;
    Ok(ok)
}

async fn audit(
    pool: &Pool,
    slug: &TenantSlug,
    client_id: &str,
    entry: &AuditEntry,
) -> Result<(), Stop> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| Stop::Fault(error::from_pool(&e)))?;
    let tx = conn.transaction().await.map_err(pg)?;
    db::pin_schema(&tx, slug).await.map_err(pg)?;
    db::append_audit(&tx, &format!("client:{client_id}"), entry)
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)
}

/// The client a request authenticates as, by exactly one method (RFC 6749 §2.3).
async fn authenticate(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    params: &[(String, String)],
    request: &OAuthRequest,
    now: u64,
) -> Result<Client, Stop> {
    let assertion_type = param(params, "client_assertion_type");
    let assertion = param(params, "client_assertion");
    if params.iter().any(|(n, _)| n == "client_secret") {
        return Err(refused(
            OAuthErrorCode::InvalidRequest,
            "a client secret goes in the Authorization header (client_secret_basic), never in the form",
        ));
    }
    let client = match (&request.authorization, assertion_type.or(assertion)) {
        (Some(_), Some(_)) => {
            return Err(refused(
                OAuthErrorCode::InvalidRequest,
                "authenticate one way only: the Authorization header or a client assertion",
            ));
        }
        (Some(header), None) => basic(pool, slug, header).await?,
        (None, Some(_)) => {
            if assertion_type != Some(JWT_BEARER_ASSERTION) {
                return Err(refused(
                    OAuthErrorCode::InvalidClient,
                    format!("client_assertion_type must be {JWT_BEARER_ASSERTION}"),
                ));
            }
            let assertion = assertion.ok_or_else(|| {
                refused(
                    OAuthErrorCode::InvalidClient,
                    "client_assertion is required",
                )
            })?;
            signed(pool, issuer, slug, assertion, &request.endpoint_url, now).await?
        }
        (None, None) => {
            return Err(refused(
                OAuthErrorCode::InvalidClient,
                "client authentication is required: client_secret_basic or private_key_jwt",
            ));
        }
    };
    if param(params, "client_id").is_some_and(|id| id != client.id) {
        return Err(refused(
            OAuthErrorCode::InvalidRequest,
            "client_id does not match the client that authenticated",
        ));
    }
    Ok(client)
}

/// `client_secret_basic` (RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic).
async fn basic(pool: &Pool, slug: &TenantSlug, header: &str) -> Result<Client, Stop> {
    let bad =
        |m: &str| Stop::Refused(OAuthError::new(OAuthErrorCode::InvalidClient, m).with_basic(true));
    let (scheme, encoded) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad("the Authorization header must be Basic"))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad(
            "the Authorization header must be Basic (client_secret_basic)",
        ));
    }
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad("the Basic credentials are not base64 of id:secret"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| bad("the Basic credentials are not base64 of id:secret"))?;
    let decode = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (decode(id), decode(secret));
    let wrong = || bad("unknown client or wrong secret");
    let client = lookup(pool, slug, &id).await?.ok_or_else(wrong)?;
    let Some(expected) = &client.secret_sha256 else {
        return Err(bad(
            "this client authenticates with a signed assertion (private_key_jwt)",
        ));
    };
    let actual = hmac_sha256::Hash::hash(secret.as_bytes());
    if !constant_time_eq(expected, &actual) {
        return Err(wrong());
    }
    Ok(client)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `private_key_jwt` (RFC 7523 §2.2, SMART Backend Services).
async fn signed(
    pool: &Pool,
    issuer: &Issuer,
    slug: &TenantSlug,
    assertion: &str,
    endpoint_url: &str,
    now: u64,
) -> Result<Client, Stop> {
    let bad = |m: String| Stop::Refused(OAuthError::new(OAuthErrorCode::InvalidClient, m));
    let meta = Token::decode_metadata(assertion)
        .map_err(|_| bad("client_assertion is not a JWT".into()))?;
    let alg = meta.algorithm().to_owned();
    if !ASSERTION_ALGORITHMS.contains(&alg.as_str()) {
        return Err(bad(format!(
            "the assertion's alg must be RS384 or ES384, not {alg}"
        )));
    }
    if meta.signature_type() != Some("JWT") {
        return Err(bad("the assertion's header must have typ JWT".into()));
    }
    let kid = meta
        .key_id()
        .ok_or_else(|| bad("the assertion's header must name its key (kid)".into()))?
        .to_owned();
    // Which client claims to have signed: read before verifying, to find its keys.
    let iss = unverified_issuer(assertion).ok_or_else(|| bad("the assertion has no iss".into()))?;
    let client = lookup(pool, slug, &iss)
        .await?
        .ok_or_else(|| bad("unknown client".into()))?;
    let keys = match (&client.jwks, &client.jwks_url) {
        (Some(keys), _) => keys.clone(),
        (None, Some(url)) => issuer.jwks.get(url, &kid).await.map_err(bad)?,
        (None, None) => {
            return Err(bad(
                "this client authenticates with its secret (client_secret_basic)".into(),
            ));
        }
    };
    let jwk = find_key(&keys, &kid)
        .ok_or_else(|| bad(format!("the client's key set has no key {kid}")))?
        .to_string();
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([client.id.clone()])),
        required_subject: Some(client.id.clone()),
        allowed_audiences: Some(HashSet::from([endpoint_url.to_owned()])),
        artificial_time: Some(UnixTimeStamp::from_secs(now)),
        time_tolerance: Some(JwtDuration::from_secs(SKEW_SECS)),
        max_token_length: Some(oauth::MAX_FORM_BYTES),
        ..Default::default()
    };
    let verified = match alg.as_str() {
        "RS384" => RS384PublicKey::from_jwk(&jwk)
            .map_err(|e| bad(format!("key {kid} is not an RS384 key: {e}")))?
            .verify_token::<NoCustomClaims>(assertion, Some(options)),
        _ => ES384PublicKey::from_jwk(&jwk)
            .map_err(|e| bad(format!("key {kid} is not an ES384 key: {e}")))?
            .verify_token::<NoCustomClaims>(assertion, Some(options)),
    };
    let claims = verified.map_err(|e| {
        bad(match e.downcast_ref::<jwt_simple::JWTError>() {
            Some(jwt_simple::JWTError::TokenHasExpired) => "the assertion has expired".into(),
            Some(
                jwt_simple::JWTError::RequiredAudienceMismatch
                | jwt_simple::JWTError::RequiredAudienceMissing,
            ) => {
                format!("the assertion's aud must be {endpoint_url}")
            }
            Some(
                jwt_simple::JWTError::RequiredIssuerMismatch
                | jwt_simple::JWTError::RequiredIssuerMissing
                | jwt_simple::JWTError::RequiredSubjectMismatch
                | jwt_simple::JWTError::RequiredSubjectMissing,
            ) => "the assertion's iss and sub must both be the client id".into(),
            _ => format!("the assertion does not verify: {e}"),
        })
    })?;
    let exp = claims
        .expires_at
        .ok_or_else(|| bad("the assertion must carry exp".into()))?
        .as_secs();
    if exp > now + MAX_ASSERTION_TTL_SECS + SKEW_SECS {
        return Err(bad(format!(
            "the assertion's exp is more than {MAX_ASSERTION_TTL_SECS} seconds ahead"
        )));
    }
    let jti = claims
        .jwt_id
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| bad("the assertion must carry a jti (at most 256 characters)".into()))?;
    // Replay: a jti once; kept until the assertion would have expired anyway.
    let mut conn = pool
        .get()
        .await
        .map_err(|e| Stop::Fault(error::from_pool(&e)))?;
    let tx = conn.transaction().await.map_err(pg)?;
    db::pin_schema(&tx, slug).await.map_err(pg)?;
    tx.execute(
        "DELETE FROM oauth_assertion_jtis WHERE expires_at < now() - interval '1 minute'",
        &[],
    )
    .await
    .map_err(pg)?;
    let fresh = tx
        .execute(
            "INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at) \
             VALUES ($1, $2, to_timestamp($3::double precision)) ON CONFLICT DO NOTHING",
            &[&client.id, &jti, &((exp + SKEW_SECS) as f64)],
        )
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    if fresh == 0 {
        return Err(bad(
            "this assertion's jti was already used: sign a new assertion".into(),
        ));
    }
    Ok(client)
}

/// The `iss` of a JWT, unverified.
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["iss"]
        .as_str()
        .filter(|s| s.len() <= 64)
        .map(str::to_owned)
}

/// A client by id, with its app's status and this clinic's installation (one query).
async fn lookup(pool: &Pool, slug: &TenantSlug, id: &str) -> Result<Option<Client>, Stop> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    let conn = pool
        .get()
        .await
        .map_err(|e| Stop::Fault(error::from_pool(&e)))?;
    let mut conn = conn;
    let tx = conn.transaction().await.map_err(pg)?;
    db::pin_schema(&tx, slug).await.map_err(pg)?;
    let row = tx
        .query_opt(
            "SELECT c.client_id, c.secret_sha256, c.jwks, c.jwks_url, a.status = 'approved' AS approved, \
                    CASE WHEN i.status = 'installed' THEN i.granted_scopes END AS granted \
             FROM control.oauth_clients c JOIN control.apps a ON a.id = c.app \
             LEFT JOIN app_installations i ON i.client_id = c.client_id \
             WHERE c.client_id = $1",
            &[&id],
        )
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(row.map(|r| Client {
        id: r.get(0),
        secret_sha256: r.get(1),
        jwks: r.get(2),
        jwks_url: r.get(3),
        app_approved: r.get(4),
        granted: r.get(5),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn the_issuer_is_read_without_trusting_it() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let t = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"ES384"}"#),
            b64(r#"{"iss":"app_x"}"#)
        );
        assert_eq!(unverified_issuer(&t).as_deref(), Some("app_x"));
        assert_eq!(unverified_issuer("garbage"), None);
        let long = format!(
            "{}.{}.s",
            b64("{}"),
            b64(&format!(r#"{{"iss":"{}"}}"#, "a".repeat(65)))
        );
        assert_eq!(unverified_issuer(&long), None);
    }
}
