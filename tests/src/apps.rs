//! Third-party apps in the end-to-end tests: registered in the control plane and installed
//! in a clinic the way the operator CLI and the admin page leave them (rows), their key
//! pairs and client assertions made by `jose` (tests/oauth-client/sign.mjs), and their
//! requests to the token endpoint.

use std::{io::Write, process::Command, time::Duration};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{Edge, psql, schema_of, stack};

/// How an app's client authenticates.
pub enum ClientAuth {
    /// `client_secret_basic` with a secret drawn here.
    Secret,
    /// `private_key_jwt` with a registered key set.
    Jwks(Value),
    /// `private_key_jwt` with a key set the app publishes at this URL.
    JwksUrl(String),
}

/// A registered, approved app.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub client_id: String,
    pub secret: Option<String>,
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).expect("randomness");
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The control plane's database (where apps are registered).
pub fn control_db() -> &'static str {
    let id = telemed_shared::geo::RegionMap::embedded()
        .control_plane()
        .id
        .to_string();
    &stack()
        .region(&id)
        .expect("control plane region")
        .database_url
}

/// The database of the region clinic `slug` is homed in.
pub fn home_db(slug: &str) -> &'static str {
    let home = psql(
        control_db(),
        &format!(
            "SELECT home_region FROM control.tenants WHERE slug = {}",
            sql_str(slug)
        ),
    );
    &stack().region(&home).expect("home region").database_url
}

/// Registers an approved app asking for `scopes`, and waits until every region's copy of
/// the control plane has it (logical replication).
pub fn register(auth: ClientAuth, scopes: &str) -> App {
    let slug = format!("e2e-app-{}", random_hex(4));
    let client_id = format!("app_{}", random_hex(12));
    let (secret, columns) = match &auth {
        ClientAuth::Secret => {
            let secret = random_hex(32);
            let digest = hmac_sha256::Hash::hash(secret.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (Some(secret), format!("decode('{hex}', 'hex'), NULL, NULL"))
        }
        ClientAuth::Jwks(keys) => (
            None,
            format!("NULL, {}::jsonb, NULL", sql_str(&keys.to_string())),
        ),
        ClientAuth::JwksUrl(url) => (None, format!("NULL, NULL, {}", sql_str(url))),
    };
    let id = psql(
        control_db(),
        &format!(
            "WITH a AS (INSERT INTO control.apps (slug, names, descriptions, developer, category, \
               requested_scopes, status, reviewed_by, reviewed_at) \
             VALUES ({s}, '{{\"en\": \"E2E app\"}}', '{{\"en\": \"Made by a test\"}}', 'E2E Labs', \
               'analytics', {scopes}, 'approved', 'e2e', now()) RETURNING id) \
             INSERT INTO control.oauth_clients (client_id, app, secret_sha256, jwks, jwks_url) \
             SELECT {c}, a.id, {columns} FROM a RETURNING app",
            s = sql_str(&slug),
            scopes = sql_str(scopes),
            c = sql_str(&client_id),
        ),
    );
    for region in &stack().regions {
        let mut waited = 0;
        while psql(
            &region.database_url,
            &format!(
                "SELECT count(*) FROM control.oauth_clients WHERE client_id = {}",
                sql_str(&client_id)
            ),
        ) != "1"
        {
            assert!(waited < 100, "{client_id} never reached {}", region.id);
            std::thread::sleep(Duration::from_millis(100));
            waited += 1;
        }
    }
    App {
        id: id.lines().next().unwrap_or_default().to_owned(),
        client_id,
        secret,
    }
}

/// Installs `app` in clinic `slug`, granting `scopes` (or moves an uninstalled app's
/// installation to now, as reinstalling does).
pub fn install(slug: &str, app: &App, scopes: &str) {
    psql(
        home_db(slug),
        &format!(
            "INSERT INTO {schema}.app_installations (app, client_id, granted_scopes, installed_by) \
             VALUES ('{app}', {client}, {scopes}, 'e2e-admin') \
             ON CONFLICT (app) DO UPDATE SET status = 'installed', granted_scopes = EXCLUDED.granted_scopes, \
               installed_at = now(), uninstalled_at = NULL, uninstalled_by = NULL",
            schema = schema_of(slug),
            app = app.id,
            client = sql_str(&app.client_id),
            scopes = sql_str(scopes),
        ),
    );
}

/// Uninstalls `app` from clinic `slug`.
pub fn uninstall(slug: &str, app: &App) {
    psql(
        home_db(slug),
        &format!(
            "UPDATE {}.app_installations SET status = 'uninstalled', uninstalled_at = now(), \
             uninstalled_by = 'e2e-admin' WHERE app = '{}'",
            schema_of(slug),
            app.id
        ),
    );
}

/// `Authorization: Basic …` of an app's id and secret (RFC 6749 §2.3.1).
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(client_id),
            enc(secret)
        ))
    )
}

/// A token endpoint's answer: status, JSON body (`Null` if empty), headers.
pub type OAuthAnswer = (u16, Value, reqwest::header::HeaderMap);

/// `POST` of `form` to `path` on clinic `slug`'s host, with `authorization` if given.
pub fn post_form(
    edge: Edge,
    slug: &str,
    path: &str,
    form: &[(&str, &str)],
    authorization: Option<&str>,
) -> OAuthAnswer {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(a) = authorization {
        headers.push(("authorization", a));
    }
    let r = edge.request("POST", &edge.host_for(slug), path, &headers, Some(&body));
    let status = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().unwrap_or_default();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"))
    };
    (status, json, h)
}

/// The token URL of clinic `slug` on `edge`, as its SMART configuration says (what an
/// assertion's `aud` must be).
pub fn token_url(edge: Edge, slug: &str) -> String {
    let r = edge.get(
        &edge.host_for(slug),
        "/.well-known/smart-configuration",
        &[],
    );
    assert_eq!(r.status(), 200, "{edge:?}: smart-configuration");
    let v: Value = r.json().expect("smart-configuration is JSON");
    v["token_endpoint"]
        .as_str()
        .expect("token_endpoint")
        .to_owned()
}

/// A token for a secret app, for `scope`.
pub fn secret_token(edge: Edge, slug: &str, app: &App, scope: &str) -> OAuthAnswer {
    post_form(
        edge,
        slug,
        "/oauth/token",
        &[("grant_type", "client_credentials"), ("scope", scope)],
        Some(&basic(
            &app.client_id,
            app.secret.as_deref().expect("a secret app"),
        )),
    )
}

fn node_sign(request: &Value) -> Value {
    let root = xtask::workspace_root();
    let mut child = Command::new("node")
        .arg(root.join("tests/oauth-client/sign.mjs"))
        .env("NODE_PATH", root.join("node_modules"))
        .current_dir(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("writing to node");
    let out = child.wait_with_output().expect("node runs");
    assert!(
        out.status.success(),
        "sign.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("sign.mjs answers JSON")
}

/// A key pair made by `jose`: (private JWK, public JWK with `kid`).
pub fn key_pair(alg: &str, kid: &str) -> (Value, Value) {
    let v = node_sign(&json!({"op": "keys", "alg": alg, "kid": kid}));
    (v["private"].clone(), v["public"].clone())
}

/// A JWS signed by `jose` with `jwk`, `header` and `claims` exactly as given.
pub fn sign(jwk: &Value, header: Value, claims: Value) -> String {
    node_sign(&json!({"op": "sign", "jwk": jwk, "header": header, "claims": claims}))["jwt"]
        .as_str()
        .expect("jwt")
        .to_owned()
}

/// A well-formed client assertion of `client_id` for `aud`, signed with `jwk`.
pub fn assertion(jwk: &Value, client_id: &str, aud: &str) -> String {
    sign(
        jwk,
        json!({"alg": jwk["alg"], "kid": jwk["kid"], "typ": "JWT"}),
        json!({"iss": client_id, "sub": client_id, "aud": aud,
               "exp": crate::now_secs() + 240, "jti": random_hex(16)}),
    )
}

/// A token request with a client assertion.
pub fn assertion_token(edge: Edge, slug: &str, assertion: &str, scope: &str) -> OAuthAnswer {
    post_form(
        edge,
        slug,
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ],
        None,
    )
}
