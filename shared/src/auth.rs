//! Authentication and authorisation: EdDSA JWTs (`jwt-simple`) for the public API and for
//! the edge→region call, and SMART on FHIR v2 scopes.
//!
//! Two token kinds, two audiences, never interchangeable:
//! - **API tokens** (`aud = telemed-api`), presented by apps and devices, carry the clinic
//!   (`tenant`) and the granted `scope`. The edge verifies them with a public key.
//! - **Edge tokens** (`aud = regional-db`), minted by the edge for each data call, live a
//!   minute and carry the clinic the edge resolved. The region trusts the tenant only from
//!   here, never from the request body.

use std::{collections::HashSet, fmt, str::FromStr};

use base64::{Engine as _, engine::general_purpose::STANDARD as B64};
use jwt_simple::{
    algorithms::{Ed25519KeyPair, Ed25519PublicKey, EdDSAKeyPairLike, EdDSAPublicKeyLike},
    claims::{Audiences, JWTClaims},
    common::VerificationOptions,
    prelude::{Duration, UnixTimeStamp},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::tenant::TenantSlug;

pub const API_ISSUER: &str = "telemed-auth";
pub const API_AUDIENCE: &str = "telemed-api";
pub const EDGE_ISSUER: &str = "telemed-edge";
pub const EDGE_AUDIENCE: &str = "regional-db";
/// Edge tokens are minted per call: a minute covers clock skew and a retry, no more.
pub const EDGE_TOKEN_TTL_SECS: u64 = 60;
/// API tokens may not claim a longer life than this, whatever their issuer wrote.
pub const API_TOKEN_MAX_TTL_SECS: u64 = 24 * 3600;
/// The life of an access token the authorisation server issues to an app (`/oauth/token`):
/// short enough that a leaked one is soon worthless; apps ask again, it costs one call.
pub const ACCESS_TOKEN_TTL_SECS: u64 = 300;
const CLOCK_SKEW_SECS: u64 = 30;

/// Why a token or key was refused. Each maps to 401 (the caller must authenticate again)
/// except where noted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token")]
    Missing,
    /// `Authorization` is present but not a bearer token.
    #[error("the Authorization header must be `Bearer <token>`")]
    NotBearer,
    /// Past its `exp` (with 30 s tolerance).
    #[error("the token has expired")]
    Expired,
    /// Bad signature, wrong issuer or audience, malformed, or otherwise unverifiable.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// A key in the configuration is not valid base64 Ed25519 material (a server fault).
    #[error("invalid key material: {0}")]
    BadKey(String),
    /// Verified, but its app was uninstalled or the token revoked since (the region says so
    /// when the token is used).
    #[error("the token was revoked, or its app is no longer installed in this clinic")]
    Revoked,
}

/// Permissions of a SMART v2 scope, `c r u d s` (v1 `read` = `rs`, `write` = `cud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Perms(u8);

impl Perms {
    pub const CREATE: Perms = Perms(1);
    pub const READ: Perms = Perms(2);
    pub const UPDATE: Perms = Perms(4);
    pub const DELETE: Perms = Perms(8);
    pub const SEARCH: Perms = Perms(16);

    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    /// The letters of these permissions, in `cruds` order (`rs`).
    pub fn letters(self) -> String {
        "cruds"
            .chars()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect()
    }

    fn parse(s: &str) -> Option<Perms> {
        match s {
            "read" => return Some(Perms(Self::READ.0 | Self::SEARCH.0)),
            "write" => return Some(Perms(Self::CREATE.0 | Self::UPDATE.0 | Self::DELETE.0)),
            "*" => return Some(Perms(31)),
            _ => {}
        }
        // v2 requires the letters in `cruds` order, each at most once.
        let mut bits = 0u8;
        let mut last = 0usize;
        for ch in s.chars() {
            let pos = "cruds".find(ch)? + 1;
            if pos <= last {
                return None;
            }
            last = pos;
            bits |= 1 << (pos - 1);
        }
        (bits != 0).then_some(Perms(bits))
    }
}

/// Whose data a scope speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeContext {
    /// A backend service acting for the clinic.
    System,
    /// A practitioner or staff user.
    User,
    /// A patient (own record only).
    Patient,
}

/// One SMART scope such as `system/Patient.cruds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub context: ScopeContext,
    /// A FHIR resource type, or `*`.
    pub resource: String,
    pub perms: Perms,
}

impl Scope {
    /// Whether this scope grants everything `other` asks: same context, the same type (or
    /// `*`), and every permission. `system/*.rs` covers `system/Patient.r`; the reverse
    /// does not hold.
    pub fn covers(&self, other: &Scope) -> bool {
        self.context == other.context
            && (self.resource == "*" || self.resource == other.resource)
            && self.perms.contains(other.perms)
    }
}

impl FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        // Granular v2 scopes (`…?category=…`) narrow the grant by a filter we do not
        // enforce yet, so they grant nothing rather than everything.
        if s.contains('?') {
            return Err(());
        }
        let (ctx, rest) = s.split_once('/').ok_or(())?;
        let context = match ctx {
            "system" => ScopeContext::System,
            "user" => ScopeContext::User,
            "patient" => ScopeContext::Patient,
            _ => return Err(()),
        };
        let (resource, perms) = rest.split_once('.').ok_or(())?;
        let resource_ok = resource == "*"
            || (resource.starts_with(|c: char| c.is_ascii_uppercase())
                && resource.chars().all(|c| c.is_ascii_alphanumeric()));
        if !resource_ok {
            return Err(());
        }
        Ok(Scope {
            context,
            resource: resource.to_owned(),
            perms: Perms::parse(perms).ok_or(())?,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ctx = match self.context {
            ScopeContext::System => "system",
            ScopeContext::User => "user",
            ScopeContext::Patient => "patient",
        };
        write!(f, "{ctx}/{}.{}", self.resource, self.perms.letters())
    }
}

/// The scopes granted by a token; unknown entries (`openid`, `offline_access`…) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn parse(space_separated: &str) -> Scopes {
        Scopes(
            space_separated
                .split_ascii_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
        )
    }

    /// Whether `perm` on `resource` is granted. `patient/` scopes are not honoured by the
    /// API yet (they need the patient's compartment), so they grant nothing here.
    pub fn allows(&self, resource: &str, perm: Perms) -> bool {
        self.grants(resource, perm, true)
    }

    /// [`Scopes::allows`], counting only scopes that name `resource`: `system/*.rs` does not
    /// reach a type that must be granted by name (the audit trail).
    pub fn allows_explicitly(&self, resource: &str, perm: Perms) -> bool {
        self.grants(resource, perm, false)
    }

    fn grants(&self, resource: &str, perm: Perms, wildcard: bool) -> bool {
        self.0.iter().any(|s| {
            matches!(s.context, ScopeContext::System | ScopeContext::User)
                && ((wildcard && s.resource == "*") || s.resource == resource)
                && s.perms.contains(perm)
        })
    }
}

/// The custom claims of an API token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiClaims {
    /// The clinic the token is for.
    pub tenant: TenantSlug,
    /// Space-separated SMART scopes.
    pub scope: String,
    /// The app's OAuth client, on tokens the authorisation server issued to an app (RFC
    /// 9068's claim); absent on operators' tokens (`xtask token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// What identifies an app's access token for the region, which refuses it once the app is
/// uninstalled or the token revoked: the edge cannot know that without asking, the region
/// checks it in the same transaction as the call's statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppToken {
    pub client_id: String,
    /// The token's `jti`.
    pub token_id: String,
    /// The token's `iat` (seconds): a token issued before the app's latest installation
    /// belongs to an earlier one.
    pub issued_at: u64,
}

/// A verified API caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiPrincipal {
    pub tenant: TenantSlug,
    /// `sub`: the user, device or app client id, recorded in the audit trail.
    pub subject: String,
    pub scopes: Scopes,
    /// Set when an app's access token authenticated the call.
    pub app: Option<AppToken>,
}

/// The custom claims of an edge→region token. Build them with `..Default::default()`
/// for the claims a call does not need: fields are added over time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EdgeClaims {
    /// The clinic whose schema the batch may touch; absent for directory look-ups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantSlug>,
    /// Who asked (the API token's subject), for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Where the edge that asked runs (`<nearest region>/<colo>`, e.g. `eu-west/CDG`; the
    /// region alone where the platform names no colo), for the audit trail: the edge knows
    /// it, the region cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<String>,
    /// The app's token the call was made with, for the region to check it still stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<AppToken>,
    /// The operator (email) the edge verified an operator token or session of
    /// ([`crate::ops`]): only the regions' operator endpoints read it, and only with no
    /// `tenant`; they check the operator is still enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

/// The longest [`EdgeClaims::edge`] the region records; longer ones are cut.
pub const MAX_EDGE_LOCATION_CHARS: usize = 64;

/// The registered claims a token kind fixes (its issuer, audience, life) and those a
/// token carries (subject, id).
pub(crate) struct Envelope {
    pub issuer: &'static str,
    pub audience: &'static str,
    pub subject: Option<String>,
    pub jwt_id: Option<String>,
    pub ttl_secs: u64,
}

/// An Ed25519 signing key, configured as base64 of the 64-byte key pair. Its tokens name
/// it in their header (`kid`: the key's RFC 7638 thumbprint), so verifiers holding several
/// keys during a rotation pick the right one, and JWKS readers find it.
pub struct SigningKey(Ed25519KeyPair);

impl SigningKey {
    fn new(pair: Ed25519KeyPair) -> Self {
        let kid = pair.jwk_thumbprint();
        Self(pair.with_key_id(&kid))
    }

    pub fn from_base64(b64: &str) -> Result<Self, AuthError> {
        let raw = B64
            .decode(b64.trim())
            .map_err(|e| AuthError::BadKey(e.to_string()))?;
        Self::from_key_pair_bytes(&raw)
    }

    /// The `kid` of this key's tokens.
    pub fn key_id(&self) -> String {
        self.0.jwk_thumbprint()
    }

    /// Base64 of the public half, for the verifier's configuration.
    pub fn public_base64(&self) -> String {
        B64.encode(self.0.public_key().to_bytes())
    }

    /// Base64 of the whole key pair (for tooling that generates keys).
    pub fn to_base64(&self) -> String {
        B64.encode(self.0.to_bytes())
    }

    /// The key pair derived from a 32-byte seed. The core has no randomness of its own:
    /// tooling draws the seed (natively) and hands it in.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let kp = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
        Self::new(Ed25519KeyPair::from_bytes(&kp[..]).expect("a derived key pair is valid"))
    }

    pub fn from_key_pair_bytes(raw: &[u8]) -> Result<Self, AuthError> {
        Ed25519KeyPair::from_bytes(raw)
            .map(Self::new)
            .map_err(|e| AuthError::BadKey(e.to_string()))
    }

    pub(crate) fn sign<C: Serialize + DeserializeOwned>(
        &self,
        claims: C,
        envelope: Envelope,
        now_secs: u64,
    ) -> Result<String, AuthError> {
        let now = UnixTimeStamp::from_secs(now_secs);
        let claims = JWTClaims {
            issued_at: Some(now),
            expires_at: Some(now + Duration::from_secs(envelope.ttl_secs)),
            invalid_before: Some(now),
            issuer: Some(envelope.issuer.to_owned()),
            subject: envelope.subject,
            audiences: Some(Audiences::AsString(envelope.audience.to_owned())),
            jwt_id: envelope.jwt_id,
            nonce: None,
            custom: claims,
        };
        self.0
            .sign(claims)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// Mints an edge→region token.
    pub fn sign_edge(&self, claims: EdgeClaims, now_secs: u64) -> Result<String, AuthError> {
        self.sign(
            claims,
            Envelope {
                issuer: EDGE_ISSUER,
                audience: EDGE_AUDIENCE,
                subject: None,
                jwt_id: None,
                ttl_secs: EDGE_TOKEN_TTL_SECS,
            },
            now_secs,
        )
    }

    /// Mints an API token (the job of the authorisation server; used by `xtask token`).
    pub fn sign_api(
        &self,
        tenant: TenantSlug,
        subject: &str,
        scope: &str,
        now_secs: u64,
        ttl_secs: u64,
    ) -> Result<String, AuthError> {
        let claims = ApiClaims {
            tenant,
            scope: scope.to_owned(),
            client_id: None,
        };
        self.sign(
            claims,
            Envelope {
                issuer: API_ISSUER,
                audience: API_AUDIENCE,
                subject: Some(subject.to_owned()),
                jwt_id: None,
                ttl_secs,
            },
            now_secs,
        )
    }

    /// Mints an app's access token (the authorisation server, in the clinic's home region):
    /// `sub` and `client_id` are the app's client, `jti` is drawn by the caller.
    pub fn sign_access_token(
        &self,
        tenant: TenantSlug,
        client_id: &str,
        scope: &str,
        token_id: &str,
        now_secs: u64,
    ) -> Result<String, AuthError> {
        let claims = ApiClaims {
            tenant,
            scope: scope.to_owned(),
            client_id: Some(client_id.to_owned()),
        };
        self.sign(
            claims,
            Envelope {
                issuer: API_ISSUER,
                audience: API_AUDIENCE,
                subject: Some(client_id.to_owned()),
                jwt_id: Some(token_id.to_owned()),
                ttl_secs: ACCESS_TOKEN_TTL_SECS,
            },
            now_secs,
        )
    }

    /// The public half, for the region's own verification (introspection, revocation).
    pub fn verifying_key(&self) -> (String, Ed25519PublicKey) {
        (self.key_id(), self.0.public_key())
    }
}

/// One or more Ed25519 public keys (comma-separated base64), so keys can be rotated:
/// publish the new key, then switch the signer, then drop the old key once the last token
/// it signed has expired. Each key is known by its `kid` (RFC 7638 thumbprint): a token
/// naming a `kid` is checked against that key only, and an unknown `kid` is refused.
pub struct VerifyingKeys(Vec<(String, Ed25519PublicKey)>);

impl VerifyingKeys {
    /// The verifying halves of signing keys (the region, which signs and introspects).
    pub fn of_signing_keys(keys: &[SigningKey]) -> Result<Self, AuthError> {
        if keys.is_empty() {
            return Err(AuthError::BadKey("no key configured".into()));
        }
        Ok(Self(keys.iter().map(SigningKey::verifying_key).collect()))
    }

    /// The keys as a JSON Web Key Set (RFC 7517), for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .0
            .iter()
            .map(|(kid, key)| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_bytes()),
                    "kid": kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    pub fn from_base64_list(list: &str) -> Result<Self, AuthError> {
        let keys = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|b64| {
                let raw = B64
                    .decode(b64)
                    .map_err(|e| AuthError::BadKey(e.to_string()))?;
                let key = Ed25519PublicKey::from_bytes(&raw)
                    .map_err(|e| AuthError::BadKey(e.to_string()))?;
                Ok((key.jwk_thumbprint(), key))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(AuthError::BadKey("no public key configured".into()));
        }
        Ok(Self(keys))
    }

    pub(crate) fn verify<C: Serialize + DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now_secs: u64,
        max_ttl_secs: u64,
    ) -> Result<JWTClaims<C>, AuthError> {
        let options = || VerificationOptions {
            allowed_issuers: Some(HashSet::from([issuer.to_owned()])),
            allowed_audiences: Some(HashSet::from([audience.to_owned()])),
            artificial_time: Some(UnixTimeStamp::from_secs(now_secs)),
            time_tolerance: Some(Duration::from_secs(CLOCK_SKEW_SECS)),
            max_validity: Some(Duration::from_secs(max_ttl_secs)),
            max_token_length: Some(8 * 1024),
            ..Default::default()
        };
        let kid = jwt_simple::token::Token::decode_metadata(token)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .key_id()
            .map(str::to_owned);
        let candidates: Vec<&Ed25519PublicKey> = match &kid {
            Some(kid) => self
                .0
                .iter()
                .filter(|(k, _)| k == kid)
                .map(|(_, key)| key)
                .collect(),
            None => self.0.iter().map(|(_, key)| key).collect(),
        };
        if candidates.is_empty() {
            return Err(AuthError::Invalid(
                "the token's key id (kid) names no key of ours".into(),
            ));
        }
        let mut last = AuthError::Invalid("no key".into());
        for key in candidates {
            match key.verify_token::<C>(token, Some(options())) {
                Ok(claims) => {
                    // jwt-simple accepts tokens without `exp`; we never do.
                    let (Some(iat), Some(exp)) = (claims.issued_at, claims.expires_at) else {
                        return Err(AuthError::Invalid(
                            "the token must carry iat and exp".into(),
                        ));
                    };
                    if exp.as_secs().saturating_sub(iat.as_secs()) > max_ttl_secs {
                        return Err(AuthError::Invalid(
                            "the token's lifetime is too long".into(),
                        ));
                    }
                    return Ok(claims);
                }
                Err(e) => {
                    last = match e.downcast_ref::<jwt_simple::JWTError>() {
                        Some(jwt_simple::JWTError::TokenHasExpired) => AuthError::Expired,
                        _ => AuthError::Invalid(e.to_string()),
                    };
                    if last == AuthError::Expired {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    /// Verifies an API token: signature, issuer, audience, expiry, bounded lifetime.
    pub fn verify_api(&self, token: &str, now_secs: u64) -> Result<ApiPrincipal, AuthError> {
        self.verify_api_claims(token, now_secs).map(|(p, _)| p)
    }

    /// [`VerifyingKeys::verify_api`], with the token's claims (introspection reports them).
    pub fn verify_api_claims(
        &self,
        token: &str,
        now_secs: u64,
    ) -> Result<(ApiPrincipal, JWTClaims<ApiClaims>), AuthError> {
        let claims = self.verify::<ApiClaims>(
            token,
            API_ISSUER,
            API_AUDIENCE,
            now_secs,
            API_TOKEN_MAX_TTL_SECS,
        )?;
        let app = match (&claims.custom.client_id, &claims.jwt_id) {
            (Some(client_id), Some(token_id)) => Some(AppToken {
                client_id: client_id.clone(),
                token_id: token_id.clone(),
                issued_at: claims.issued_at.map_or(0, |t| t.as_secs()),
            }),
            (Some(_), None) => {
                return Err(AuthError::Invalid(
                    "an app's token must carry its jti".into(),
                ));
            }
            (None, _) => None,
        };
        let principal = ApiPrincipal {
            subject: claims.subject.clone().unwrap_or_else(|| "unknown".into()),
            scopes: Scopes::parse(&claims.custom.scope),
            tenant: claims.custom.tenant.clone(),
            app,
        };
        Ok((principal, claims))
    }

    /// Verifies an edge→region token.
    pub fn verify_edge(&self, token: &str, now_secs: u64) -> Result<EdgeClaims, AuthError> {
        Ok(self
            .verify::<EdgeClaims>(
                token,
                EDGE_ISSUER,
                EDGE_AUDIENCE,
                now_secs,
                EDGE_TOKEN_TTL_SECS,
            )?
            .custom)
    }
}

/// Extracts the token of an `Authorization: Bearer` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let h = header.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = h.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(token.trim())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh random key pair (tests run natively, where randomness is at hand).
    pub(crate) fn test_key() -> SigningKey {
        SigningKey::new(Ed25519KeyPair::generate())
    }

    #[test]
    fn seeded_keys_are_deterministic_and_usable() {
        let a = SigningKey::from_seed([7; 32]);
        assert_eq!(
            a.public_base64(),
            SigningKey::from_seed([7; 32]).public_base64()
        );
        assert_ne!(
            a.public_base64(),
            SigningKey::from_seed([8; 32]).public_base64()
        );
        let t = a
            .sign_edge(
                EdgeClaims {
                    tenant: None,
                    actor: None,
                    ..Default::default()
                },
                NOW,
            )
            .unwrap();
        assert!(verifier(&a).verify_edge(&t, NOW).is_ok());
        assert!(SigningKey::from_base64(&a.to_base64()).is_ok());
    }

    fn verifier(k: &SigningKey) -> VerifyingKeys {
        VerifyingKeys::from_base64_list(&k.public_base64()).unwrap()
    }

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn api_token_round_trip_and_scope_checks() {
        let k = test_key();
        let t = k
            .sign_api(
                "hopital-paris".parse().unwrap(),
                "app-1",
                "openid system/Patient.cruds",
                NOW,
                600,
            )
            .unwrap();
        let p = verifier(&k).verify_api(&t, NOW + 10).unwrap();
        assert_eq!(p.tenant.as_str(), "hopital-paris");
        assert_eq!(p.subject, "app-1");
        assert!(p.scopes.allows("Patient", Perms::CREATE));
        assert!(p.scopes.allows("Patient", Perms::SEARCH));
        assert!(!p.scopes.allows("Observation", Perms::READ));
    }

    #[test]
    fn expired_forged_and_wrong_audience_tokens_are_refused() {
        let k = test_key();
        let other = test_key();
        let t = k
            .sign_api(
                "hopital-paris".parse().unwrap(),
                "a",
                "system/Patient.r",
                NOW,
                600,
            )
            .unwrap();
        assert_eq!(
            verifier(&k).verify_api(&t, NOW + 600 + 31),
            Err(AuthError::Expired)
        );
        assert!(matches!(
            verifier(&other).verify_api(&t, NOW),
            Err(AuthError::Invalid(_))
        ));
        // An edge token is not an API token, and vice versa.
        let e = k
            .sign_edge(
                EdgeClaims {
                    tenant: None,
                    actor: None,
                    ..Default::default()
                },
                NOW,
            )
            .unwrap();
        assert!(matches!(
            verifier(&k).verify_api(&e, NOW),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            verifier(&k).verify_edge(&t, NOW),
            Err(AuthError::Invalid(_))
        ));
        // Tampered payload.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged_payload = B64.encode(br#"{"tenant":"clinique-dakar","scope":"system/*.*"}"#);
        parts[1] = &forged_payload;
        assert!(verifier(&k).verify_api(&parts.join("."), NOW).is_err());
        assert!(verifier(&k).verify_api("not a jwt", NOW).is_err());
        // A lifetime beyond the maximum is refused even if signed.
        let long = k
            .sign_api(
                "hopital-paris".parse().unwrap(),
                "a",
                "system/Patient.r",
                NOW,
                API_TOKEN_MAX_TTL_SECS * 2,
            )
            .unwrap();
        assert!(verifier(&k).verify_api(&long, NOW).is_err());
    }

    #[test]
    fn rotation_accepts_any_listed_key() {
        let (a, b) = (test_key(), test_key());
        let keys = VerifyingKeys::from_base64_list(&format!(
            "{}, {}",
            a.public_base64(),
            b.public_base64()
        ))
        .unwrap();
        let t = b
            .sign_edge(
                EdgeClaims {
                    tenant: Some("ab".parse().unwrap()),
                    actor: None,
                    ..Default::default()
                },
                NOW,
            )
            .unwrap();
        assert_eq!(
            keys.verify_edge(&t, NOW).unwrap().tenant.unwrap().as_str(),
            "ab"
        );
        assert!(VerifyingKeys::from_base64_list(" , ").is_err());
        assert!(VerifyingKeys::from_base64_list("!!!").is_err());
    }

    #[test]
    fn tokens_name_their_key_and_an_unknown_kid_is_refused() {
        let (a, b) = (test_key(), test_key());
        let keys = VerifyingKeys::from_base64_list(&a.public_base64()).unwrap();
        let t = a
            .sign_access_token(
                "ab".parse().unwrap(),
                "app_1",
                "system/Patient.r",
                "t-1",
                NOW,
            )
            .unwrap();
        let meta = jwt_simple::token::Token::decode_metadata(&t).unwrap();
        assert_eq!(meta.key_id(), Some(a.key_id().as_str()));
        let p = keys.verify_api(&t, NOW).unwrap();
        assert_eq!(
            p.app,
            Some(AppToken {
                client_id: "app_1".into(),
                token_id: "t-1".into(),
                issued_at: NOW
            })
        );
        assert_eq!(p.subject, "app_1");
        let other = b
            .sign_access_token(
                "ab".parse().unwrap(),
                "app_1",
                "system/Patient.r",
                "t-2",
                NOW,
            )
            .unwrap();
        assert!(
            matches!(keys.verify_api(&other, NOW), Err(AuthError::Invalid(m)) if m.contains("kid"))
        );
        // Operators' tokens carry no client: no app to check.
        let op = a
            .sign_api("ab".parse().unwrap(), "ops", "system/*.rs", NOW, 60)
            .unwrap();
        assert_eq!(keys.verify_api(&op, NOW).unwrap().app, None);
        // Access tokens live five minutes at most.
        assert_eq!(
            keys.verify_api(&t, NOW + ACCESS_TOKEN_TTL_SECS + 31),
            Err(AuthError::Expired)
        );
        // The JWKS lists each key under its kid, public half only.
        let jwks = VerifyingKeys::of_signing_keys(&[a, b]).unwrap().jwks();
        let listed = jwks["keys"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(
            listed
                .iter()
                .all(|k| k["kty"] == "OKP" && k.get("d").is_none())
        );
    }

    #[test]
    fn smart_scopes() {
        let s = |x: &str| x.parse::<Scope>();
        assert_eq!(
            s("system/Patient.cruds").unwrap().to_string(),
            "system/Patient.cruds"
        );
        assert_eq!(s("user/*.read").unwrap().to_string(), "user/*.rs");
        assert_eq!(
            s("system/Patient.write").unwrap().to_string(),
            "system/Patient.cud"
        );
        for bad in [
            "system/Patient.srd",
            "system/Patient.cc",
            "system/Patient.x",
            "Patient.r",
            "admin/Patient.r",
            "system/patient.r",
            "system/Patient.",
            "system/Patient.rs?category=x",
        ] {
            assert!(s(bad).is_err(), "{bad}");
        }
        let scopes = Scopes::parse("patient/Patient.rs user/Observation.r");
        assert!(
            !scopes.allows("Patient", Perms::READ),
            "patient/ scopes are not honoured yet"
        );
        assert!(scopes.allows("Observation", Perms::READ));
        assert!(!scopes.allows("Observation", Perms::SEARCH));
        let wide = Scopes::parse("system/*.rs user/AuditEvent.r");
        assert!(wide.allows("AuditEvent", Perms::SEARCH));
        assert!(
            !wide.allows_explicitly("AuditEvent", Perms::SEARCH),
            "a wildcard is not a grant by name"
        );
        assert!(wide.allows_explicitly("AuditEvent", Perms::READ));
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer(None), Err(AuthError::Missing));
        assert_eq!(bearer(Some("Basic abc")), Err(AuthError::NotBearer));
        assert_eq!(bearer(Some("Bearer ")), Err(AuthError::NotBearer));
    }
}
