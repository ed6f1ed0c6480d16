//! The marketplace on the control plane: operators' `regional-db apps add | list | show |
//! approve | reject | rotate-secret`, and the region's part of an install (sealing the app's
//! webhook key with the clinic's data key: [`seal_webhook_secret`]).
//!
//! Apps and their OAuth clients live in `control.apps` / `control.oauth_clients`
//! (`migrations/control/0004_apps.sql`), written here on the control plane and replicated to
//! every region. Every change is written with its record in `control.operator_events`, in
//! the same transaction (`slug` holds the app's slug, `action` starts with `app.`).
//!
//! Secrets are shown once and kept so that nothing can show them again:
//! - the client secret (`client_secret_basic`): 32 random bytes as base64url (no padding);
//!   only the SHA-256 of that string is stored;
//! - the webhook key (`whsec_…`, when the app has a webhook URL): in `control.apps`'s
//!   `webhook_secret`, a column the service's role may not select
//!   (`migrations/control/0005_app_webhook_secrets.sql`, [`crate::grants`]); the region reads it
//!   only through `control.app_webhook_secret` when a clinic installs the app, and stores it
//!   in that clinic's schema sealed with the clinic's data key, like the clinic's own
//!   endpoints' secrets.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD},
};
use deadpool_postgres::{GenericClient, Pool};
use serde_json::{Value, json};
use telemed_shared::{
    apps::{AppError, AppSpec, ClientAuth},
    dataplane::wire::{ErrorCode, RegionError},
    geo::RegionId,
};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::{error, jobs::webhooks::Secret, migrate::pool_error, vault::DataKey};

/// Why an `apps` command was refused or failed. Nothing is written when it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppsError {
    /// The spec file could not be read.
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
    /// The spec file is not JSON.
    #[error("{path} is not JSON: {message}")]
    NotJson { path: String, message: String },
    /// The spec is refused (a field named in the message).
    #[error("app spec refused: {0}")]
    Spec(#[from] AppError),
    /// Another app has this slug.
    #[error("an app with slug {0:?} exists already")]
    SlugTaken(String),
    /// No app has this slug.
    #[error("no app {0:?} in the marketplace")]
    UnknownApp(String),
    /// A command's arguments are refused: an unknown `--status`, a rejection without a
    /// note, a note too long.
    #[error("{0}")]
    Usage(String),
    /// The app's client signs assertions: it has no secret to rotate.
    #[error("app {0:?} authenticates with private_key_jwt: it has no client secret to rotate")]
    NoSecret(String),
    /// The control plane's database failed (or refused something a check above missed).
    #[error("database: {0}")]
    Db(String),
}

impl From<tokio_postgres::Error> for AppsError {
    fn from(e: tokio_postgres::Error) -> Self {
        AppsError::Db(error::describe(&e))
    }
}

impl From<crate::error::Error> for AppsError {
    fn from(e: crate::error::Error) -> Self {
        AppsError::Db(e.to_string())
    }
}

/// The review states of an app (`control.apps.status`).
pub const STATUSES: [&str; 3] = ["pending", "approved", "rejected"];

/// Who runs a command, and where: for `control.operator_events`.
#[derive(Debug, Clone, Copy)]
pub struct Operator<'a> {
    pub control: &'a Pool,
    pub region: &'a RegionId,
    pub actor: &'a str,
}

/// What `apps add` prints (once): the ids and the secrets nothing shows again.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Added {
    pub app_id: Uuid,
    pub slug: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

fn random(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source");
    b
}

/// A new client secret: 32 random bytes as base64url, and the SHA-256 of that text.
fn client_secret() -> (String, Vec<u8>) {
    let secret = URL_SAFE_NO_PAD.encode(random(32));
    let sha = hmac_sha256::Hash::hash(secret.as_bytes()).to_vec();
    (secret, sha)
}

/// Reads and checks `path` (an app spec), without touching any database.
pub fn read_spec(path: &std::path::Path) -> Result<AppSpec, AppsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AppsError::File {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| AppsError::NotJson {
        path: shown,
        message: e.to_string(),
    })?;
    Ok(AppSpec::parse(&v)?)
}

/// Registers `spec` (status `pending`) with its OAuth client, in one transaction.
pub async fn add(op: &Operator<'_>, spec: &AppSpec) -> Result<Added, AppsError> {
    let client_id = format!("app_{}", URL_SAFE_NO_PAD.encode(random(18)));
    let (client_secret, secret_sha256) = match &spec.client {
        ClientAuth::SecretBasic => {
            let (s, sha) = client_secret();
            (Some(s), Some(sha))
        }
        _ => (None, None),
    };
    let webhook = spec.webhook_url.as_ref().map(|_| Secret::generate());
    let (jwks, jwks_url) = match &spec.client {
        ClientAuth::Jwks(j) => (Some(j.clone()), None),
        ClientAuth::JwksUrl(u) => (None, Some(u.clone())),
        ClientAuth::SecretBasic => (None, None),
    };
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let names = serde_json::to_value(&spec.names).unwrap_or_default();
    let descriptions = serde_json::to_value(&spec.descriptions).unwrap_or_default();
    let inserted = tx
        .query_one(
            "INSERT INTO control.apps (slug, names, descriptions, developer, developer_url, icon_url, \
             category, pricing, requested_scopes, webhook_url, webhook_events, webhook_secret) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            &[
                &spec.slug,
                &names,
                &descriptions,
                &spec.developer,
                &spec.developer_url,
                &spec.icon_url,
                &spec.category.as_str(),
                &spec.pricing.to_json(),
                &spec.requested_scopes,
                &spec.webhook_url,
                &spec.webhook_events,
                &webhook.as_ref().map(|s| s.as_bytes().to_vec()),
            ],
        )
        .await;
    let app_id: Uuid = match inserted {
        Ok(row) => row.get(0),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(AppsError::SlugTaken(spec.slug.clone()));
        }
        Err(e) => return Err(e.into()),
    };
    tx.execute(
        "INSERT INTO control.oauth_clients (client_id, app, secret_sha256, jwks, jwks_url) \
         VALUES ($1, $2, $3, $4, $5)",
        &[&client_id, &app_id, &secret_sha256, &jwks, &jwks_url],
    )
    .await?;
    let auth = match &spec.client {
        ClientAuth::SecretBasic => "client_secret_basic",
        _ => "private_key_jwt",
    };
    record(
        &tx,
        op,
        "app.add",
        &spec.slug,
        json!({"app": app_id, "client_id": client_id, "auth": auth,
               "requested_scopes": spec.requested_scopes}),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(app = %spec.slug, %client_id, "app registered (pending review)");
    Ok(Added {
        app_id,
        slug: spec.slug.clone(),
        client_id,
        client_secret,
        webhook_secret: webhook.map(|s| s.expose()),
    })
}

/// One app as `list` and `show` print it: everything but its secrets.
const APP_COLUMNS: &str = "a.id, a.slug, a.names, a.descriptions, a.developer, a.developer_url, \
     a.icon_url, a.category, a.pricing, a.requested_scopes, a.webhook_url, a.webhook_events, \
     a.status, a.review_note, a.reviewed_by, to_char(a.reviewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS reviewed_at, \
     to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, \
     c.client_id, CASE WHEN c.secret_sha256 IS NOT NULL THEN 'client_secret_basic' ELSE 'private_key_jwt' END AS auth, \
     c.jwks_url";

/// Apps, by slug; only those of `status` when given.
pub async fn list(control: &Pool, status: Option<&str>) -> Result<Vec<Value>, AppsError> {
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(AppsError::Usage(format!(
            "unknown status {s:?}: one of {}",
            STATUSES.join(", ")
        )));
    }
    let client = control.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            &format!(
                "SELECT row_to_json(x)::jsonb FROM (SELECT {APP_COLUMNS} FROM control.apps a \
                 LEFT JOIN control.oauth_clients c ON c.app = a.id \
                 WHERE $1::text IS NULL OR a.status = $1 ORDER BY a.slug) x"
            ),
            &[&status],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// One app, by slug.
pub async fn show(control: &Pool, slug: &str) -> Result<Value, AppsError> {
    let client = control.get().await.map_err(pool_error)?;
    client
        .query_opt(
            &format!(
                "SELECT row_to_json(x)::jsonb FROM (SELECT {APP_COLUMNS} FROM control.apps a \
                 LEFT JOIN control.oauth_clients c ON c.app = a.id WHERE a.slug = $1) x"
            ),
            &[&slug],
        )
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| AppsError::UnknownApp(slug.to_owned()))
}

/// Approves or rejects an app (any state may be reviewed again), recording who and when.
/// A rejection needs a note (what the developer must change). Returns the previous status.
pub async fn review(
    op: &Operator<'_>,
    slug: &str,
    approve: bool,
    note: Option<&str>,
) -> Result<String, AppsError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if !approve && note.is_none() {
        return Err(AppsError::Usage(
            "a rejection says why: --note \"…\"".into(),
        ));
    }
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppsError::Usage(
            "a note has at most 1000 characters".into(),
        ));
    }
    let status = if approve { "approved" } else { "rejected" };
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "WITH old AS (SELECT id, status FROM control.apps WHERE slug = $1 FOR UPDATE) \
             UPDATE control.apps a SET status = $2, review_note = $3, reviewed_by = $4, reviewed_at = now() \
             FROM old WHERE a.id = old.id RETURNING a.id, old.status",
            &[&slug, &status, &note, &op.actor],
        )
        .await?
        .ok_or_else(|| AppsError::UnknownApp(slug.to_owned()))?;
    let (id, before): (Uuid, String) = (row.get(0), row.get(1));
    record(
        &tx,
        op,
        if approve { "app.approve" } else { "app.reject" },
        slug,
        json!({"app": id, "from": before, "note": note}),
    )
    .await?;
    tx.commit().await?;
    Ok(before)
}

/// A new client secret for a `client_secret_basic` app; the old one stops working at once
/// (the token endpoint compares hashes). Returns (client_id, secret), shown once.
pub async fn rotate_secret(op: &Operator<'_>, slug: &str) -> Result<(String, String), AppsError> {
    let (secret, sha) = client_secret();
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT c.client_id, c.secret_sha256 IS NOT NULL, a.id FROM control.apps a \
             JOIN control.oauth_clients c ON c.app = a.id WHERE a.slug = $1 FOR UPDATE OF c",
            &[&slug],
        )
        .await?
        .ok_or_else(|| AppsError::UnknownApp(slug.to_owned()))?;
    let (client_id, has_secret, id): (String, bool, Uuid) = (row.get(0), row.get(1), row.get(2));
    if !has_secret {
        return Err(AppsError::NoSecret(slug.to_owned()));
    }
    tx.execute(
        "UPDATE control.oauth_clients SET secret_sha256 = $2 WHERE client_id = $1",
        &[&client_id, &sha],
    )
    .await?;
    record(
        &tx,
        op,
        "app.rotate-secret",
        slug,
        json!({"app": id, "client_id": client_id}),
    )
    .await?;
    tx.commit().await?;
    Ok((client_id, secret))
}

async fn record(
    tx: &impl GenericClient,
    op: &Operator<'_>,
    action: &str,
    slug: &str,
    detail: Value,
) -> Result<(), AppsError> {
    tx.execute(
        "INSERT INTO control.operator_events (actor, region, action, slug, detail) \
         VALUES ($1, $2, $3, $4, $5)",
        &[&op.actor, &op.region.as_str(), &action, &slug, &detail],
    )
    .await?;
    Ok(())
}

/// Replaces a [`telemed_shared::dataplane::catalog::ParamType::AppWebhookSecret`] value (an
/// app's id) by the app's webhook key sealed with the clinic's `key`, as base64 — or `null`
/// when the app is not approved or has no webhook. Reads the key on `pool` (this region's
/// primary, whose control schema is the control plane's replicated copy) through
/// `control.app_webhook_secret`, the one reader of that column.
pub async fn seal_webhook_secret(
    pool: &Pool,
    key: Option<&DataKey>,
    value: &mut Value,
) -> Result<(), RegionError> {
    if value.is_null() {
        return Ok(());
    }
    let app = value
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| RegionError::new(ErrorCode::InvalidValue, "secret: an app id"))?;
    let client = pool.get().await.map_err(|e| error::from_pool(&e))?;
    let secret: Option<Vec<u8>> = client
        .query_one("SELECT control.app_webhook_secret($1)", &[&app])
        .await
        .map_err(|e| error::from_postgres(&e))?
        .get(0);
    *value = match secret {
        None => Value::Null,
        Some(secret) => {
            let key = key.ok_or_else(|| {
                RegionError::new(
                    ErrorCode::Unavailable,
                    "this region cannot seal the clinic's data now",
                )
            })?;
            let sealed = key.seal(&secret).map_err(|e| {
                tracing::error!(error = %e, "sealing an app's webhook key");
                RegionError::new(
                    ErrorCode::Unavailable,
                    "this region cannot seal the clinic's data now",
                )
            })?;
            Value::String(B64.encode(sealed))
        }
    };
    Ok(())
}
