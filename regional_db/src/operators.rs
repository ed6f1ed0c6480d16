//! Operators: the platform's super-admins, on the control plane (`control.operators`,
//! control/0006_operators.sql), apart from every clinic's accounts.
//!
//! - `regional-db operators create|disable` ([`create`], [`disable`]) run on the control
//!   plane's database, as the schemas' owner; passwords are hashed here as clinics' are
//!   ([`crate::passwords`]: argon2id, OWASP parameters).
//! - `POST /v1/ops/sign-in` ([`attempt`]) runs in the control plane's region, on the
//!   operator connection, with the guarantees of clinics' sign-in ([`crate::sign_in`]): the
//!   same answer and the same work for an unknown email, a wrong password and a disabled
//!   operator; failures counted per email and per client address and locked
//!   ([`crate::sign_in::THROTTLE`]) in `control.sign_in_failures`; every attempt recorded in
//!   `control.operator_events` (action `sign-in`), naming the operator only when the email
//!   is one (never an email that matches nobody).
//! - [`ensure_enabled`]: every operator request checks, on the control plane, that its
//!   operator still exists and is enabled — an hour-long credential of a disabled operator
//!   does nothing.

use deadpool_postgres::{GenericClient, Pool, Transaction};
use serde_json::json;
use telemed_shared::{
    accounts::{Password, PasswordError, normalize_email},
    dataplane::wire::{RegionError, SignInRequest},
    ops::wire::{OperatorIdentity, OperatorSignIn},
};
use tokio_postgres::{error::SqlState, types::Type};
use uuid::Uuid;

use crate::{
    error::{self, Error},
    migrate::pool_error,
    passwords::{self, HashError},
    sign_in::{self, Decision, Found, Verdict},
};

/// Why an operator was not created or changed. Never carries the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// Not an email address.
    #[error("{0:?} is not an email address")]
    Email(String),
    /// A name has 1 to 200 characters.
    #[error("an operator's name has 1 to 200 characters")]
    Name,
    /// The password breaks the rule.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Another operator has this email (in any case).
    #[error("an operator with the email {0} already exists")]
    EmailTaken(String),
    /// No operator has this email.
    #[error("no operator has the email {0}")]
    Unknown(String),
    #[error("hashing the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Region(#[from] Error),
}

impl From<tokio_postgres::Error> for OperatorError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Region(Error::Postgres(e))
    }
}

/// Records an operator event without a clinic (`slug` may be `None`).
pub async fn record(
    client: &impl GenericClient,
    actor: &str,
    region: &str,
    action: &str,
    slug: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO control.operator_events (actor, region, action, slug, detail) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&actor, &region, &action, &slug, &detail],
        )
        .await?;
    Ok(())
}

/// `regional-db operators create`: an enabled operator. Its id.
pub async fn create(
    control: &Pool,
    region: &str,
    email: &str,
    name: &str,
    password: Password,
    actor: &str,
) -> Result<Uuid, OperatorError> {
    let email = email.trim();
    let normalized = normalize_email(email).ok_or_else(|| OperatorError::Email(email.into()))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(OperatorError::Name);
    }
    let hash = passwords::hash(password).await.map_err(|e| match e {
        HashError::Rule(rule) => OperatorError::Password(rule),
        other => OperatorError::Hash(other.to_string()),
    })?;
    let mut client = control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let inserted = tx
        .query_one(
            "INSERT INTO control.operators (email, display_name, password_hash) \
             VALUES ($1, $2, $3) RETURNING id",
            &[&normalized, &name, &hash],
        )
        .await;
    let id: Uuid = match inserted {
        Ok(row) => row.try_get(0)?,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(OperatorError::EmailTaken(normalized));
        }
        Err(e) => return Err(e.into()),
    };
    record(
        &tx,
        actor,
        region,
        "operator_create",
        None,
        json!({ "operator": normalized }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// `regional-db operators disable`: the operator can no longer sign in, and the
/// credentials they hold are refused at their next request. `false` if already disabled.
pub async fn disable(
    control: &Pool,
    region: &str,
    email: &str,
    actor: &str,
) -> Result<bool, OperatorError> {
    let normalized =
        normalize_email(email).ok_or_else(|| OperatorError::Email(email.trim().into()))?;
    let mut client = control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT disabled FROM control.operators WHERE lower(email) = $1 FOR UPDATE",
            &[&normalized],
        )
        .await?
        .ok_or_else(|| OperatorError::Unknown(normalized.clone()))?;
    if row.get::<_, bool>(0) {
        return Ok(false);
    }
    tx.execute(
        "UPDATE control.operators SET disabled = true WHERE lower(email) = $1",
        &[&normalized],
    )
    .await?;
    record(
        &tx,
        actor,
        region,
        "operator_disable",
        None,
        json!({ "operator": normalized }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Whether `email` is an enabled operator (checked on the control plane).
pub async fn ensure_enabled(client: &impl GenericClient, email: &str) -> Result<bool, RegionError> {
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
    let row = client
        .query_opt(
            "SELECT NOT disabled FROM control.operators WHERE lower(email) = lower($1)",
            &[&email],
        )
        .await
        .map_err(pg)?;
    Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
}

/// The platform's operators, in `control` (the operator connection); attempts in
/// `control.operator_events`.
struct Operators<'a> {
    region: &'a str,
    edge: Option<&'a str>,
}

impl sign_in::Realm for Operators<'_> {
    type Identity = OperatorIdentity;

    /// The throttle's statements name `sign_in_failures`: control's own.
    async fn pin(&self, tx: &Transaction<'_>) -> Result<(), RegionError> {
        tx.execute("SELECT set_config('search_path', 'control', true)", &[])
            .await
            .map_err(|e| error::from_postgres(&e))?;
        Ok(())
    }

    async fn credentials(
        &self,
        tx: &Transaction<'_>,
        email: &str,
    ) -> Result<Option<Found<OperatorIdentity>>, RegionError> {
        let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
        let stmt = tx
            .prepare_typed_cached(
                "SELECT id::text, email, display_name, disabled, password_hash \
                 FROM control.operator_credentials($1)",
                &[Type::TEXT],
            )
            .await
            .map_err(pg)?;
        Ok(tx
            .query_opt(&stmt, &[&email])
            .await
            .map_err(pg)?
            .map(|row| Found {
                identity: OperatorIdentity {
                    id: row.get(0),
                    email: row.get(1),
                    name: row.get(2),
                },
                disabled: row.get(3),
                hash: row.get(4),
            }))
    }

    async fn signed_in(
        &self,
        tx: &Transaction<'_>,
        who: &OperatorIdentity,
    ) -> Result<bool, RegionError> {
        let id: Uuid = who.id.parse().map_err(|_| error::internal())?;
        let still_enabled = tx
            .execute(
                "UPDATE control.operators SET last_sign_in_at = now() WHERE id = $1 AND NOT disabled",
                &[&id],
            )
            .await
            .map_err(|e| error::from_postgres(&e))?;
        Ok(still_enabled == 1)
    }

    async fn record(
        &self,
        tx: &Transaction<'_>,
        client: &str,
        who: Option<&OperatorIdentity>,
        matched: bool,
        verdict: Verdict,
    ) -> Result<(), RegionError> {
        // The operator's act once their password matched; the client's otherwise.
        let actor = match who {
            Some(w) if matched => format!("operator:{}", w.email),
            _ => client.to_owned(),
        };
        let note = json!({
            "outcome": verdict.label(),
            "operator": who.map(|w| w.email.as_str()),
            "edge": self.edge,
        });
        record(tx, &actor, self.region, "sign-in", None, note)
            .await
            .map_err(|e| error::from_postgres(&e))
    }
}

/// One operator sign-in attempt, on the control plane's `control` pool (the operator
/// connection), through the clinics' flow ([`sign_in::attempt_in`]). Errors are faults,
/// never a refusal.
pub async fn attempt(
    control: &Pool,
    region: &str,
    request: &SignInRequest,
    edge: Option<&str>,
) -> Result<(OperatorSignIn, Verdict), RegionError> {
    let (decision, verdict) =
        sign_in::attempt_in(control, &Operators { region, edge }, request).await?;
    Ok((
        match decision {
            Decision::SignedIn(identity) => OperatorSignIn::SignedIn(identity),
            Decision::Refused { retry_after_secs } => OperatorSignIn::Refused { retry_after_secs },
        },
        verdict,
    ))
}
