//! What a client reads before it asks for a token: the SMART configuration (SMART App
//! Launch 2.x, §"Conformance") and the issuer's keys (RFC 7517). Neither depends on the
//! clinic beyond its host, neither costs a region call.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{ASSERTION_ALGORITHMS, Endpoint};
use crate::{api::resources::REGISTRY, auth::VerifyingKeys};

/// How long clients and caches may keep the documents: a key rotation publishes the new
/// key at least this long before it signs anything.
pub const DISCOVERY_CACHE: &str = "public, max-age=300";

/// `/.well-known/smart-configuration` for the host at `origin`.
pub fn smart_configuration(origin: &str) -> Value {
    let url = |e: Endpoint| format!("{origin}{}", e.path());
    let mut scopes = vec!["system/*.rs".to_owned(), "system/*.cruds".to_owned()];
    for r in REGISTRY {
        scopes.push(format!("system/{}.rs", r.name()));
        scopes.push(format!("system/{}.cruds", r.name()));
    }
    json!({
        "token_endpoint": url(Endpoint::Token),
        "introspection_endpoint": url(Endpoint::Introspect),
        "revocation_endpoint": url(Endpoint::Revoke),
        "jwks_uri": format!("{origin}{JWKS_PATH}"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "introspection_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "scopes_supported": scopes,
        "response_types_supported": ["token"],
        "capabilities": [
            "client-confidential-asymmetric",
            "client-confidential-symmetric",
            "permission-v1",
            "permission-v2"
        ],
    })
}

/// Where the issuer's public keys are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Where SMART clients look first (the FHIR bases answer it too).
pub const SMART_CONFIGURATION_PATH: &str = "/.well-known/smart-configuration";

/// [`smart_configuration`] as a response.
pub fn smart_configuration_response(origin: &str) -> Response<Vec<u8>> {
    json_response(&smart_configuration(origin))
}

/// The issuer's keys: every key an access token may be signed with now, the retiring and
/// the new one side by side during a rotation.
pub fn jwks_response(keys: &VerifyingKeys) -> Response<Vec<u8>> {
    json_response(&keys.jwks())
}

fn json_response(body: &Value) -> Response<Vec<u8>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("cache-control", DISCOVERY_CACHE)
        .header("access-control-allow-origin", "*")
        .header("x-content-type-options", "nosniff")
        .body(serde_json::to_vec(body).expect("JSON values serialise"))
        .expect("static header names")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_names_this_hosts_endpoints() {
        let c = smart_configuration("https://hopital-paris.telemed.example");
        assert_eq!(
            c["token_endpoint"],
            "https://hopital-paris.telemed.example/oauth/token"
        );
        assert_eq!(
            c["jwks_uri"],
            "https://hopital-paris.telemed.example/.well-known/jwks.json"
        );
        assert_eq!(
            c["token_endpoint_auth_signing_alg_values_supported"],
            json!(["RS384", "ES384"])
        );
        let caps = c["capabilities"].as_array().unwrap();
        assert!(caps.contains(&json!("client-confidential-asymmetric")));
        assert!(caps.contains(&json!("permission-v2")));
        assert!(
            c["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!("system/Observation.cruds"))
        );
    }
}
