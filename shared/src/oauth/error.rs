//! The token endpoint's errors, exactly as RFC 6749 §5.2 spells them (and RFC 7523 §3.2
//! for a bad assertion: `invalid_client`).

use serde_json::{Value, json};

/// RFC 6749 §5.2's error codes, plus the one an unreachable region needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// A parameter missing, repeated or malformed, or two ways of authenticating.
    InvalidRequest,
    /// Client authentication failed: unknown client, wrong secret, bad assertion
    /// (signature, `aud`, `exp`, replayed `jti`, unknown `kid`…).
    InvalidClient,
    /// The grant is invalid (not used by `client_credentials`, kept for completeness).
    InvalidGrant,
    /// The client may not use this grant here: its app is not installed in this clinic,
    /// not approved, or the clinic is suspended.
    UnauthorizedClient,
    /// A `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
    /// A scope that is not one, or not granted to the app.
    InvalidScope,
    /// The clinic's region cannot answer now (RFC 6749 §4.1.2.1's code, with a 503).
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// One refusal: its code, a description for the app's developer (never a secret, never
/// whether another clinic installed the app), and whether the client authenticated with
/// the `Authorization` header (then `invalid_client` is a 401 with a challenge).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    pub used_basic: bool,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            used_basic: false,
        }
    }

    /// The same refusal to a client that authenticated with HTTP Basic.
    pub fn with_basic(mut self, used_basic: bool) -> Self {
        self.used_basic = used_basic;
        self
    }

    pub fn status(&self) -> u16 {
        match self.code {
            OAuthErrorCode::InvalidClient if self.used_basic => 401,
            OAuthErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }

    /// `WWW-Authenticate` for a 401 (RFC 6749 §5.2: the scheme the client used).
    pub fn challenge(&self) -> Option<&'static str> {
        (self.status() == 401).then_some("Basic realm=\"telemed\", charset=\"UTF-8\"")
    }

    pub fn body(&self) -> Value {
        json!({ "error": self.code.as_str(), "error_description": self.description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc_6749() {
        let e = OAuthError::new(OAuthErrorCode::InvalidClient, "no");
        assert_eq!((e.status(), e.challenge()), (400, None));
        let e = e.with_basic(true);
        assert_eq!(e.status(), 401);
        assert!(e.challenge().unwrap().starts_with("Basic "));
        for code in [
            OAuthErrorCode::InvalidRequest,
            OAuthErrorCode::InvalidGrant,
            OAuthErrorCode::UnauthorizedClient,
            OAuthErrorCode::UnsupportedGrantType,
            OAuthErrorCode::InvalidScope,
        ] {
            let e = OAuthError::new(code, "x").with_basic(true);
            assert_eq!(e.status(), 400, "{code:?}");
            assert_eq!(e.body()["error"], code.as_str());
        }
    }
}
