//! Operators' credentials at the edge: a session cookie for the console and a bearer token
//! for the JSON API, both EdDSA JWTs the edge mints after one successful sign-in on the
//! control plane, and verifies alone (no region call).
//!
//! Never interchangeable with anything else: their issuer is [`ISSUER`] and their audiences
//! are [`SESSION_AUDIENCE`] and [`API_AUDIENCE`], which no clinic session (HS256, audience
//! `telemed-edge/session`), API token (`telemed-api`) or edge token (`regional-db`) has; a
//! console session is no API token and an API token no console session.
//!
//! They are signed with the edge's own key (`EDGE_TOKEN_KEY`) and verified with its public
//! half: the edge key already speaks for every clinic's data to the regions, so it widens
//! nothing; the audiences keep the kinds apart. Rotating that key signs operators out.
//! They live an hour ([`OPERATOR_TTL_SECS`]); a disabled operator's token is refused at the
//! first region call, which checks the operator is still enabled.

use serde::{Deserialize, Serialize};

use crate::auth::{AuthError, Envelope, SigningKey, VerifyingKeys};

pub const ISSUER: &str = "telemed-edge/ops";
/// The console's session cookie.
pub const SESSION_AUDIENCE: &str = "telemed-ops/session";
/// The JSON API's bearer token.
pub const API_AUDIENCE: &str = "telemed-ops/api";
/// An operator's credential lives an hour.
pub const OPERATOR_TTL_SECS: u64 = 3600;
/// The console's session cookie, scoped to `/ops` on the apex host.
pub const SESSION_COOKIE: &str = "ops_session";

/// Which credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Api,
}

impl Kind {
    fn audience(self) -> &'static str {
        match self {
            Self::Session => SESSION_AUDIENCE,
            Self::Api => API_AUDIENCE,
        }
    }
}

/// Who an operator credential speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub email: String,
    pub name: String,
    /// The console session's CSRF secret (forms carry it); none in API tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

impl Operator {
    /// The actor the regions record.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.email)
    }
}

/// Mints a credential of `kind` for `operator`, valid [`OPERATOR_TTL_SECS`] from `now`.
pub fn sign(
    key: &SigningKey,
    kind: Kind,
    operator: &Operator,
    now_secs: u64,
) -> Result<String, AuthError> {
    key.sign(
        operator.clone(),
        Envelope {
            issuer: ISSUER,
            audience: kind.audience(),
            subject: Some(operator.email.clone()),
            jwt_id: None,
            ttl_secs: OPERATOR_TTL_SECS,
        },
        now_secs,
    )
}

/// The operator of a credential of `kind` signed by the edge key.
pub fn verify(
    key: &SigningKey,
    kind: Kind,
    token: &str,
    now_secs: u64,
) -> Result<Operator, AuthError> {
    let keys = VerifyingKeys::from_base64_list(&key.public_base64())?;
    let claims =
        keys.verify::<Operator>(token, ISSUER, kind.audience(), now_secs, OPERATOR_TTL_SECS)?;
    let operator = claims.custom;
    if kind == Kind::Session && operator.csrf.as_deref().is_none_or(str::is_empty) {
        return Err(AuthError::Invalid(
            "an operator session carries its CSRF secret".into(),
        ));
    }
    Ok(operator)
}

/// `Set-Cookie` of a console session: host-only, `/ops` only, never sent cross-site.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/ops; Max-Age={OPERATOR_TTL_SECS}; HttpOnly; Secure; SameSite=Strict"
    )
}

/// `Set-Cookie` that ends a console session.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/ops; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{accounts::Role, web::session};

    const NOW: u64 = 1_800_000_000;

    fn op(csrf: Option<&str>) -> Operator {
        Operator {
            email: "ops@telemed.example".into(),
            name: "Ops".into(),
            csrf: csrf.map(Into::into),
        }
    }

    #[test]
    fn credentials_round_trip_expire_and_keep_their_kind() {
        let k = SigningKey::from_seed([9; 32]);
        let s = sign(&k, Kind::Session, &op(Some("c".repeat(22).as_str())), NOW).unwrap();
        let a = sign(&k, Kind::Api, &op(None), NOW).unwrap();
        assert_eq!(
            verify(&k, Kind::Session, &s, NOW + 10).unwrap().email,
            "ops@telemed.example"
        );
        assert!(verify(&k, Kind::Api, &a, NOW + 10).is_ok());
        assert!(
            verify(&k, Kind::Api, &s, NOW).is_err(),
            "a session is no API token"
        );
        assert!(
            verify(&k, Kind::Session, &a, NOW).is_err(),
            "an API token is no session"
        );
        assert!(
            verify(&k, Kind::Api, &a, NOW + OPERATOR_TTL_SECS + 31).is_err(),
            "an hour, no more"
        );
        assert!(verify(&SigningKey::from_seed([8; 32]), Kind::Api, &a, NOW).is_err());
        // Neither an edge token nor an API token of a clinic, signed by the same key.
        let edge = k.sign_edge(Default::default(), NOW).unwrap();
        let api = k
            .sign_api("clinique-a".parse().unwrap(), "x", "system/*.*", NOW, 300)
            .unwrap();
        for t in [&edge, &api] {
            assert!(verify(&k, Kind::Api, t, NOW).is_err());
            assert!(verify(&k, Kind::Session, t, NOW).is_err());
        }
        // And an operator's credential is none of those.
        let keys = VerifyingKeys::from_base64_list(&k.public_base64()).unwrap();
        assert!(keys.verify_api(&a, NOW).is_err());
        assert!(keys.verify_edge(&a, NOW).is_err());
    }

    #[test]
    fn clinic_sessions_and_operator_sessions_never_pass_for_each_other() {
        use base64::Engine as _;
        let k = SigningKey::from_seed([9; 32]);
        let clinic_keys = session::SessionKeys::from_base64_list(
            &base64::engine::general_purpose::STANDARD.encode([1; 32]),
        )
        .unwrap();
        let clinic = clinic_keys
            .sign(
                &session::Session {
                    tenant: "clinique-a".parse().unwrap(),
                    region: "eu-west".parse().unwrap(),
                    account: "5b0c1a2e-1111-4222-8333-444455556666".into(),
                    role: Role::Admin,
                    name: "A".into(),
                    patient: None,
                    practitioner: None,
                    csrf: "c".repeat(22),
                },
                NOW,
            )
            .unwrap();
        assert!(verify(&k, Kind::Session, &clinic, NOW).is_err());
        assert!(verify(&k, Kind::Api, &clinic, NOW).is_err());
        let ops = sign(&k, Kind::Session, &op(Some("c".repeat(22).as_str())), NOW).unwrap();
        assert!(clinic_keys.verify(&ops, NOW).is_err());
        // A session without its CSRF secret is refused.
        let bare = sign(&k, Kind::Session, &op(None), NOW).unwrap();
        assert!(verify(&k, Kind::Session, &bare, NOW).is_err());
    }

    #[test]
    fn the_cookie_is_strict_http_only_and_scoped_to_ops() {
        let c = set_cookie("t");
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/ops",
            "Max-Age=3600",
        ] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!c.contains("Domain"));
        assert!(clear_cookie().contains("Max-Age=0"));
    }
}
