//! A signed-in person's session: a JWT (HS256 under `SESSION_KEYS`) in a host-only
//! `HttpOnly; Secure; SameSite=Lax` cookie, verified at the edge with no region call.
//!
//! The token names the clinic it was issued for, so a cookie copied to another clinic's
//! host is refused there (and a browser never sends it there: the cookie has no `Domain`).
//! It also names the clinic's home region, so a signed-in page calls that region directly
//! without a directory look-up, and carries the session's CSRF secret ([`super::form`]).
//!
//! Signing out removes the cookie. The token stays valid until it expires
//! ([`SESSION_TTL_SECS`]) if someone copied it before: sessions are not revocable one by one
//! without a region call per page, which is the trade this design makes (short lifetime,
//! `HttpOnly` so no script can read it).

use std::time::Duration as StdDuration;

use jwt_simple::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{accounts::Role, auth::AuthError, geo::RegionId, tenant::TenantSlug};

/// The cookie's name.
pub const COOKIE: &str = "session";
/// A session's lifetime from sign-in: a working day.
pub const SESSION_TTL_SECS: u64 = 8 * 3600;

const ISSUER: &str = "telemed-edge/web";
const AUDIENCE: &str = "telemed-edge/session";

/// Who is signed in, for which clinic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The clinic the session was opened at: any other clinic refuses it.
    pub tenant: TenantSlug,
    /// The clinic's home region, called directly by signed-in pages.
    pub region: RegionId,
    /// The account's id (a UUID), the actor of the audit trail.
    pub account: String,
    pub role: Role,
    /// The person's name as the account holds it, for the page header.
    pub name: String,
    /// The Patient resource of a patient's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// The Practitioner resource of a practitioner's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<String>,
    /// The secret every form of this session carries ([`super::form`]).
    pub csrf: String,
}

impl Session {
    /// The actor the regions record for what this session does.
    pub fn actor(&self) -> String {
        format!("account/{}", self.account)
    }
}

/// The keys that sign and verify sessions: the first signs, all verify (rotation: add a
/// new key first, remove the old one a session lifetime later).
pub struct SessionKeys(Vec<HS256Key>);

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKeys({} key(s), redacted)", self.0.len())
    }
}

/// A key shorter than this is refused: HS256 wants at least the hash's size.
const MIN_KEY_BYTES: usize = 32;

impl SessionKeys {
    /// Reads a comma-separated list of base64 secrets of at least 32 bytes each.
    pub fn from_base64_list(list: &str) -> Result<Self, AuthError> {
        use base64::Engine as _;
        let mut keys = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(item)
                .map_err(|_| AuthError::Invalid("a session key is not base64".into()))?;
            if raw.len() < MIN_KEY_BYTES {
                return Err(AuthError::Invalid(format!(
                    "a session key has {} bytes, at least {MIN_KEY_BYTES} are needed",
                    raw.len()
                )));
            }
            keys.push(HS256Key::from_bytes(&raw));
        }
        if keys.is_empty() {
            return Err(AuthError::Invalid("no session key".into()));
        }
        Ok(Self(keys))
    }

    /// Signs a session opened now.
    pub fn sign(&self, session: &Session, now_secs: u64) -> Result<String, AuthError> {
        let now = UnixTimeStamp::from_secs(now_secs);
        let claims = JWTClaims {
            issued_at: Some(now),
            expires_at: Some(now + Duration::from_secs(SESSION_TTL_SECS)),
            invalid_before: Some(now),
            issuer: Some(ISSUER.to_owned()),
            subject: None,
            audiences: Some(Audiences::AsString(AUDIENCE.to_owned())),
            jwt_id: None,
            nonce: None,
            custom: session.clone(),
        };
        self.0[0]
            .authenticate(claims)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// The session of a cookie's token, if a key of ours signed it and it has not expired.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<Session, AuthError> {
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from_strings(&[ISSUER])),
            allowed_audiences: Some(HashSet::from_strings(&[AUDIENCE])),
            time_tolerance: Some(Duration::from_secs(0)),
            max_validity: Some(Duration::from_secs(SESSION_TTL_SECS)),
            artificial_time: Some(UnixTimeStamp::from_secs(now_secs)),
            ..Default::default()
        };
        let mut last = AuthError::Invalid("no session key".into());
        for key in &self.0 {
            match key.verify_token::<Session>(token, Some(options.clone())) {
                Ok(claims) => return Ok(claims.custom),
                Err(e) => last = AuthError::Invalid(e.to_string()),
            }
        }
        Err(last)
    }
}

/// `Set-Cookie` for a new session. `Secure` always: browsers honour it on `localhost`.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        StdDuration::from_secs(SESSION_TTL_SECS).as_secs()
    )
}

/// `Set-Cookie` that removes the session.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn keys(seed: u8) -> SessionKeys {
        SessionKeys::from_base64_list(&base64::engine::general_purpose::STANDARD.encode([seed; 32]))
            .unwrap()
    }

    fn session() -> Session {
        Session {
            tenant: "hopital-paris".parse().unwrap(),
            region: "eu-west".parse().unwrap(),
            account: "5b0c1a2e-1111-4222-8333-444455556666".into(),
            role: Role::Practitioner,
            name: "Dr Claire Martin".into(),
            patient: None,
            practitioner: Some("6b0c1a2e-1111-4222-8333-444455556666".into()),
            csrf: "c".repeat(22),
        }
    }

    #[test]
    fn a_session_round_trips_and_expires() {
        let k = keys(1);
        let token = k.sign(&session(), 1_000_000).unwrap();
        assert_eq!(k.verify(&token, 1_000_100).unwrap(), session());
        assert!(k.verify(&token, 1_000_000 + SESSION_TTL_SECS + 1).is_err());
    }

    #[test]
    fn forged_and_foreign_tokens_are_refused() {
        let token = keys(1).sign(&session(), 1_000_000).unwrap();
        assert!(keys(2).verify(&token, 1_000_100).is_err(), "another key");
        // Any change to the claims breaks the signature.
        let (head, rest) = token.split_once('.').unwrap();
        let (body, sig) = rest.split_once('.').unwrap();
        let mut claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .unwrap(),
        )
        .unwrap();
        claims["role"] = "admin".into();
        let forged = format!(
            "{head}.{}.{sig}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&claims).unwrap())
        );
        assert!(keys(1).verify(&forged, 1_000_100).is_err());
        assert!(keys(1).verify("not a token", 1_000_100).is_err());
        // An API or edge token (EdDSA, another audience) is no session.
        let api = crate::auth::SigningKey::from_seed([1; 32])
            .sign_api(
                "hopital-paris".parse().unwrap(),
                "x",
                "system/*.rs",
                1_000_000,
                300,
            )
            .unwrap();
        assert!(keys(1).verify(&api, 1_000_100).is_err());
    }

    #[test]
    fn rotation_verifies_old_and_signs_with_the_first() {
        let b64 = |s: u8| base64::engine::general_purpose::STANDARD.encode([s; 32]);
        let old = keys(1).sign(&session(), 1_000_000).unwrap();
        let both = SessionKeys::from_base64_list(&format!("{},{}", b64(2), b64(1))).unwrap();
        assert!(both.verify(&old, 1_000_100).is_ok());
        let new = both.sign(&session(), 1_000_000).unwrap();
        assert!(keys(2).verify(&new, 1_000_100).is_ok());
        assert!(
            SessionKeys::from_base64_list(
                &base64::engine::general_purpose::STANDARD.encode([1; 16])
            )
            .is_err()
        );
        assert!(SessionKeys::from_base64_list("").is_err());
        assert!(!format!("{both:?}").contains(&b64(2)));
    }

    #[test]
    fn the_cookie_is_http_only_secure_and_lax() {
        let c = set_cookie("t");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!c.contains("Domain"), "host-only: {c}");
        assert!(clear_cookie().contains("Max-Age=0"));
    }
}
