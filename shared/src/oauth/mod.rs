//! The OAuth 2.0 authorisation server apps use (SMART Backend Services): client
//! credentials for a clinic's API, on the clinic's own host.
//!
//! - `POST /oauth/token` (RFC 6749 §4.4, `client_credentials`): the client authenticates
//!   with its secret (`client_secret_basic`) or a signed assertion (`private_key_jwt`,
//!   RFC 7523, RS384 or ES384) and receives an EdDSA access token of at most
//!   [`ACCESS_TOKEN_TTL_SECS`] for the scopes the clinic granted its app.
//! - `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009), for the
//!   client's own tokens.
//! - `GET /.well-known/smart-configuration` (also under the FHIR bases) and
//!   `GET /.well-known/jwks.json`: what a client reads before it asks.
//!
//! The edge checks what it can without a call (method, media type, size, the clinic) and
//! sends the form, untouched, to the clinic's home region in one call ([`OAuthRequest`]):
//! only the home region holds what answers it — the client's keys and secret hash, the
//! clinic's installation of the app, the assertion ids already seen, the issuer's signing
//! key. Its answer ([`OAuthReply`]) is relayed as is. Verifying the access tokens this
//! issues costs no call: the edge holds the issuer's public keys; only whether the token
//! still stands (app installed, not revoked) is checked by the region, in the transaction
//! of the call the token is used for.

pub mod discovery;
mod edge;
pub mod error;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use self::{
    edge::{handle, is_oauth_path},
    error::{OAuthError, OAuthErrorCode},
};
pub use crate::auth::ACCESS_TOKEN_TTL_SECS;

/// The form parameter value of a client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest an assertion may live (SMART Backend Services: `exp` at most five minutes
/// ahead).
pub const MAX_ASSERTION_TTL_SECS: u64 = 300;
/// The signing algorithms accepted for client assertions.
pub const ASSERTION_ALGORITHMS: [&str; 2] = ["RS384", "ES384"];
/// The largest form the endpoints read: an RS384 assertion with a 4096-bit key is ~1.5 KB.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// The three endpoints, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Token,
    Introspect,
    Revoke,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Self::Token, Self::Introspect, Self::Revoke];

    pub fn path(self) -> &'static str {
        match self {
            Self::Token => "/oauth/token",
            Self::Introspect => "/oauth/introspect",
            Self::Revoke => "/oauth/revoke",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Introspect => "introspect",
            Self::Revoke => "revoke",
        }
    }
}

/// What the edge sends the clinic's home region ([`crate::dataplane::wire::OAUTH_PATH`]);
/// the clinic is the edge token's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthRequest {
    pub endpoint: Endpoint,
    /// The request body as received (`application/x-www-form-urlencoded`).
    pub form: String,
    /// The `Authorization` header, if any (`client_secret_basic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The URL the client called, as the edge saw it: an assertion's `aud` must be it.
    pub endpoint_url: String,
}

/// The region's answer, for the edge to relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthReply {
    pub status: u16,
    /// The JSON body; `None` for an empty 200 (a revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// `WWW-Authenticate`, on a 401 to a client that authenticated with the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

impl OAuthReply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: Some(body),
            challenge: None,
        }
    }

    pub fn empty() -> Self {
        Self {
            status: 200,
            body: None,
            challenge: None,
        }
    }
}

impl From<OAuthError> for OAuthReply {
    fn from(e: OAuthError) -> Self {
        Self {
            status: e.status(),
            challenge: e.challenge().map(str::to_owned),
            body: Some(e.body()),
        }
    }
}

/// The parameters of a form, refusing one named twice (RFC 6749 §3.2: parameters "MUST
/// NOT be included more than once").
pub fn parse_form(form: &str) -> Result<Vec<(String, String)>, OAuthError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(form.as_bytes()) {
        if params.iter().any(|(n, _)| *n == name) {
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidRequest,
                format!("the parameter {name} is given more than once"),
            ));
        }
        params.push((name.into_owned(), value.into_owned()));
    }
    Ok(params)
}

/// A form parameter's value, if present and not empty.
pub fn param<'f>(params: &'f [(String, String)], name: &str) -> Option<&'f str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The scopes a client asks for, in SMART v2 form (v1 names mapped: `.read` → `.rs`,
/// `.write` → `.cud`, `.*` → `.cruds`), or `invalid_scope` naming the first that is not a
/// scope we grant. Non-data scopes (`openid`, `offline_access`…) have no meaning for a
/// backend service and are refused too, rather than silently dropped.
pub fn requested_scopes(scope: &str) -> Result<Vec<crate::auth::Scope>, OAuthError> {
    let scopes = scope
        .split_ascii_whitespace()
        .map(|s| {
            s.parse::<crate::auth::Scope>().map_err(|()| {
                OAuthError::new(
                    OAuthErrorCode::InvalidScope,
                    format!("{s} is not a scope this server grants (SMART v2: system/Type.cruds)"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if scopes.is_empty() {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "scope is required: the SMART scopes the app needs, e.g. system/Observation.crs",
        ));
    }
    Ok(scopes)
}

/// What a token may carry: every requested scope must be covered by one the clinic granted
/// its app; the first that is not is named in `invalid_scope`. Returns the token's `scope`
/// (the requested ones, in v2 form, deduplicated, in the order asked).
pub fn grant(requested: &[crate::auth::Scope], granted: &str) -> Result<String, OAuthError> {
    let granted: Vec<crate::auth::Scope> = granted
        .split_ascii_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for scope in requested {
        if !granted.iter().any(|g| g.covers(scope)) {
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidScope,
                format!("{scope} was not granted to this app by the clinic"),
            ));
        }
        let s = scope.to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_refuse_repeated_parameters() {
        let p = parse_form("grant_type=client_credentials&scope=system%2FPatient.rs").unwrap();
        assert_eq!(param(&p, "scope"), Some("system/Patient.rs"));
        assert_eq!(param(&p, "missing"), None);
        let e = parse_form("scope=a&scope=b").unwrap_err();
        assert_eq!(e.code, OAuthErrorCode::InvalidRequest);
        assert!(e.description.contains("scope"), "{}", e.description);
        assert_eq!(param(&parse_form("scope=").unwrap(), "scope"), None);
    }

    #[test]
    fn scopes_are_granted_only_within_the_installation() {
        let granted = "system/Observation.crs system/Patient.r";
        let ask = |s: &str| requested_scopes(s).and_then(|r| grant(&r, granted));
        assert_eq!(
            ask("system/Observation.read system/Patient.r").unwrap(),
            "system/Observation.rs system/Patient.r"
        );
        assert_eq!(
            ask("system/Observation.c system/Observation.c").unwrap(),
            "system/Observation.c"
        );
        for (refused, named) in [
            ("system/Patient.rs", "system/Patient.rs"),
            (
                "system/Observation.crs system/Appointment.r",
                "system/Appointment.r",
            ),
            ("system/*.r", "system/*.r"),
            ("user/Observation.r", "user/Observation.r"),
            ("system/Observation.write", "system/Observation.cud"),
        ] {
            let e = ask(refused).unwrap_err();
            assert_eq!(e.code, OAuthErrorCode::InvalidScope, "{refused}");
            assert!(
                e.description.contains(named),
                "{refused}: {}",
                e.description
            );
        }
        for unknown in [
            "",
            "   ",
            "openid",
            "system/Patient.x",
            "system/Patient.rs?category=x",
        ] {
            assert_eq!(
                ask(unknown).unwrap_err().code,
                OAuthErrorCode::InvalidScope,
                "{unknown:?}"
            );
        }
        // A wildcard grant covers any type, a type grant only its own.
        assert!(
            grant(
                &requested_scopes("system/Patient.r").unwrap(),
                "system/*.rs"
            )
            .is_ok()
        );
    }
}
