//! Running catalog statements: pools, schema pinning, the batch transaction, the audit trail,
//! idempotency keys.

use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::{Map, Value};
pub use telemed_shared::dataplane::catalog::envelope::{quote_ident, search_path_for};
use telemed_shared::{
    api::resources::audit_event::AUDIT_EVENT,
    auth::AppToken,
    dataplane::{
        catalog::{
            Statement,
            envelope::{AUDIT_SQL, PIN_SCHEMA_SQL, json_rows},
        },
        wire::{ErrorCode, Idempotency, RegionError, StatementResult},
    },
    tenant::TenantSlug,
};
use tokio_postgres::{NoTls, types::Type};

use crate::{
    error::{self, Error},
    params::{self, SqlParam},
};

/// A statement of the catalog with its converted parameters, ready to run.
pub struct Call {
    pub statement: &'static Statement,
    pub params: Vec<SqlParam>,
    /// The resource the call names (its `id` parameter, as sent), if any: what the audit
    /// record is about when the statement returned nothing (an unknown id), or when its
    /// batch was refused (nothing it returned survives the rollback).
    pub subject: Option<String>,
}

/// Who asked for a batch, as its audit records say: from the edge token.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The API caller (user, app or device client id); `edge` when the token names none.
    pub actor: &'a str,
    /// Where the edge that sent the batch runs ([`telemed_shared::auth::EdgeClaims::edge`]).
    pub edge: Option<&'a str>,
    /// The app's access token the call was made with, checked in the batch's transaction.
    pub app: Option<&'a AppToken>,
}

/// Whether an app's access token still stands in the pinned clinic schema: its app is
/// approved and installed here, installed no later than the token was issued (a token of
/// an earlier installation does not survive an uninstall and reinstall), and the token is
/// not revoked. One indexed query in the batch's own transaction: no extra round trip.
const APP_TOKEN_STANDS_SQL: &str = "\
    SELECT EXISTS ( \
        SELECT 1 FROM app_installations i \
        JOIN control.oauth_clients c ON c.client_id = i.client_id \
        JOIN control.apps a ON a.id = c.app AND a.status = 'approved' \
        WHERE i.client_id = $1 AND i.status = 'installed' \
          AND date_trunc('second', i.installed_at) <= to_timestamp($3::double precision) \
    ) AND NOT EXISTS (SELECT 1 FROM oauth_revoked_tokens WHERE jti = $2)";

/// Refuses the batch (`token_revoked`) when the app's token no longer stands.
pub async fn check_app_token(
    client: &impl GenericClient,
    app: &AppToken,
) -> Result<(), RegionError> {
    let row = client
        .query_one(
            APP_TOKEN_STANDS_SQL,
            &[&app.client_id, &app.token_id, &(app.issued_at as f64)],
        )
        .await
        .map_err(|e| error::from_postgres(&e))?;
    if row.get::<_, bool>(0) {
        Ok(())
    } else {
        Err(RegionError::new(
            ErrorCode::TokenRevoked,
            "the app's token was revoked, or the app is not installed in this clinic",
        ))
    }
}

/// A bounded pool (also used, with one connection, by operator commands). A checkout
/// waits at most `wait`, then the caller answers `overloaded` rather than queueing.
pub fn pool(url: &str, size: usize, wait: Duration) -> Result<Pool, Error> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| Error::Config(format!("database URL: {e}")))?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|e| Error::Config(format!("database pool: {e}")))
}

/// Pins the current transaction to the clinic's schema ([`PIN_SCHEMA_SQL`]: undone at
/// commit or rollback, so a pooled connection never keeps it).
pub async fn pin_schema(
    client: &impl GenericClient,
    slug: &TenantSlug,
) -> Result<(), tokio_postgres::Error> {
    let path = search_path_for(slug);
    client.execute(PIN_SCHEMA_SQL, &[&path]).await?;
    Ok(())
}

/// Runs one statement and returns its rows as JSON objects keyed by column name.
pub async fn query_rows(
    client: &impl GenericClient,
    stmt: &Statement,
    params: &[SqlParam],
) -> Result<Vec<Map<String, Value>>, tokio_postgres::Error> {
    let sql = json_rows(stmt.sql);
    let prepared = client
        .prepare_typed_cached(&sql, &params::pg_types(stmt))
        .await?;
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let rows = client.query(&prepared, &refs).await?;
    rows.iter()
        .map(|row| match row.try_get::<_, Value>(0)? {
            Value::Object(map) => Ok(map),
            // to_jsonb of a row is always an object.
            other => Ok(Map::from_iter([("value".to_owned(), other)])),
        })
        .collect()
}

/// What a batch gave back.
#[derive(Debug)]
pub struct Ran {
    pub results: Vec<StatementResult>,
    /// The results are those an earlier batch with the same idempotency key committed:
    /// nothing ran this time.
    pub replayed: bool,
    /// For a batch that writes: the primary's WAL position right after the commit (`X/Y`),
    /// which covers the commit record. `None` for reads (and if it could not be read).
    pub lsn: Option<String>,
    /// Audit events not written yet ([`AuditMode::Deferred`]): append them on the primary
    /// with [`append_deferred_audit`] before answering.
    pub deferred_audit: Vec<AuditEntry>,
}

/// Where a batch's audit events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditMode {
    /// In the batch's own transaction (the primary): data and trail commit together.
    InTransaction,
    /// Collected in [`Ran::deferred_audit`]: the batch runs on a read-only replica.
    Deferred,
}

/// How the request an audit record is about ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// It ran and committed (or, for a read, answered).
    #[default]
    Ok,
    /// It was refused and rolled back, with this wire code (`conflict`, `constraint_violation`…).
    Refused(ErrorCode),
    /// It was denied for a reason that is no wire code: a sign-in's `refused` (wrong
    /// password, unknown email, disabled account) or `locked` (too many failures).
    Denied(&'static str),
}

impl Outcome {
    /// As stored in `audit_events.outcome`: `ok`, or the wire code.
    pub fn label(self) -> String {
        match self {
            Self::Ok => "ok".to_owned(),
            Self::Refused(code) => crate::metrics::code_label(code),
            Self::Denied(why) => why.to_owned(),
        }
    }
}

/// The audit events of one statement: what [`append_audit`] writes, one event per id.
/// The one way records enter the trail; build it with [`AuditEntry::new`] and the `with_`
/// methods, so fields added later need no change of yours.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The verb: `create`, `read`, `search`, `update`, `delete`, `export`.
    pub action: &'static str,
    /// The statement (or job) that touched the data.
    pub statement: &'static str,
    pub resource_type: &'static str,
    /// One event per id; `None` for a statement that returned nothing and named no id.
    pub ids: Vec<Option<String>>,
    pub outcome: Outcome,
    /// Where the edge that asked runs; `None` for the region's own jobs and old edges.
    pub edge: Option<String>,
}

impl AuditEntry {
    /// Events that succeeded, asked for by no edge (set those with the `with_` methods).
    pub fn new(
        action: &'static str,
        statement: &'static str,
        resource_type: &'static str,
        ids: Vec<Option<String>>,
    ) -> Self {
        Self {
            action,
            statement,
            resource_type,
            ids,
            outcome: Outcome::Ok,
            edge: None,
        }
    }

    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn with_edge(mut self, edge: Option<&str>) -> Self {
        self.edge = edge.map(str::to_owned);
        self
    }
}

/// Runs a batch for `slug` in one transaction pinned to its schema, appending audit events
/// for statements over health data in the same transaction: either everything (data and
/// trail) commits, or nothing does.
///
/// With `idempotency`, the key is claimed first in the same transaction and the results are
/// stored with it before the commit: a batch whose key an earlier batch committed is not
/// run (nor audited) again, its stored results are returned; a batch whose key is held by
/// a transaction still running waits for it to end.
pub async fn run_batch(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    who: &Requester<'_>,
    calls: &[Call],
    idempotency: Option<&Idempotency>,
    on_statement: impl FnMut(&Statement, Duration, Result<(), &RegionError>),
) -> Result<Ran, RegionError> {
    run_batch_with(
        client,
        slug,
        who,
        calls,
        idempotency,
        AuditMode::InTransaction,
        on_statement,
    )
    .await
}

/// [`run_batch`], with the audit events either in the transaction or deferred (a read-only
/// batch on a replica: the transaction is then `READ ONLY`).
///
/// A batch refused on the primary (a conflict, a constraint, a fault) leaves no data and
/// none of its audit events: its rollback takes them too. So its audited statements are
/// recorded again after the rollback, in a short transaction of their own, with the
/// refusal as outcome and only what the caller sent (the `id` it named, if any): nothing
/// the rolled-back statements read or wrote. On a replica the primary runs the batch
/// again, and records it there.
pub async fn run_batch_with(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    who: &Requester<'_>,
    calls: &[Call],
    idempotency: Option<&Idempotency>,
    audit_mode: AuditMode,
    on_statement: impl FnMut(&Statement, Duration, Result<(), &RegionError>),
) -> Result<Ran, RegionError> {
    let ran = run_transaction(
        client,
        slug,
        who,
        calls,
        idempotency,
        audit_mode,
        on_statement,
    )
    .await;
    if let Err(refusal) = &ran
        && audit_mode == AuditMode::InTransaction
    {
        audit_refusal(client, slug, who, calls, refusal).await;
    }
    ran
}

/// The audit events of a refused batch (see [`run_batch_with`]). A failure to write them is
/// logged, never answered: the caller gets the refusal it caused, unchanged.
async fn audit_refusal(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    who: &Requester<'_>,
    calls: &[Call],
    refusal: &RegionError,
) {
    let entries: Vec<AuditEntry> = calls
        .iter()
        .filter_map(|call| {
            let audit = call.statement.audit?;
            Some(
                AuditEntry::new(
                    audit.action,
                    call.statement.name,
                    audit.resource_type,
                    vec![call.subject.clone()],
                )
                .with_outcome(Outcome::Refused(refusal.code))
                .with_edge(who.edge),
            )
        })
        .collect();
    if entries.is_empty() {
        return;
    }
    if let Err(e) = append_deferred_audit(client, slug, who.actor, &entries).await {
        tracing::error!(tenant = %slug, error = %e, "the audit events of a refused batch were not written");
    }
}

async fn run_transaction(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    who: &Requester<'_>,
    calls: &[Call],
    idempotency: Option<&Idempotency>,
    audit_mode: AuditMode,
    mut on_statement: impl FnMut(&Statement, Duration, Result<(), &RegionError>),
) -> Result<Ran, RegionError> {
    let writes = calls
        .iter()
        .any(|c| c.statement.access == telemed_shared::dataplane::catalog::Access::Write);
    let tx = client
        .build_transaction()
        .read_only(audit_mode == AuditMode::Deferred)
        .start()
        .await
        .map_err(|e| error::from_postgres(&e))?;
    pin_schema(&tx, slug)
        .await
        .map_err(|e| error::from_postgres(&e))?;
    if let Some(app) = who.app {
        check_app_token(&tx, app).await?;
    }
    if let Some(idem) = idempotency
        && let Some(results) = claim_key(&tx, idem).await?
    {
        // Nothing was written: committing ends the transaction as well as a rollback.
        tx.commit().await.map_err(|e| error::from_postgres(&e))?;
        // The write it replays committed earlier: the current position covers it too.
        let lsn = current_lsn(client).await;
        return Ok(Ran {
            results,
            replayed: true,
            lsn,
            deferred_audit: Vec::new(),
        });
    }
    let mut results = Vec::with_capacity(calls.len());
    // Appended after the last statement, just before COMMIT: the first record inserted
    // takes the clinic's chain lock (0010_audit_chain.sql), held until the commit.
    let mut audit_entries = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let started = std::time::Instant::now();
        let outcome = query_rows(&tx, call.statement, &call.params).await;
        let rows = match outcome {
            Ok(rows) => {
                on_statement(call.statement, started.elapsed(), Ok(()));
                rows
            }
            Err(e) => {
                let err = error::from_postgres(&e).at(i);
                on_statement(call.statement, started.elapsed(), Err(&err));
                return Err(err);
            }
        };
        if let Some(audit) = call.statement.audit {
            // A read or update of an id that found nothing still names what was asked for.
            let ids = match (&call.subject, rows.is_empty()) {
                (Some(id), true) => vec![Some(id.clone())],
                _ => audit_ids(audit.resource_type, &rows),
            };
            let entry =
                AuditEntry::new(audit.action, call.statement.name, audit.resource_type, ids)
                    .with_edge(who.edge);
            // The patients the rows are about (`audit_patient`), each audited too.
            let patients = audit_patients(&rows).map(|ids| AuditEntry {
                resource_type: "Patient",
                ids,
                ..entry.clone()
            });
            audit_entries.extend(std::iter::once(entry).chain(patients));
        }
        results.push(StatementResult { rows });
    }
    if let Some(idem) = idempotency {
        store_results(&tx, idem, &results).await?;
    }
    let deferred_audit = match audit_mode {
        AuditMode::InTransaction => {
            for entry in &audit_entries {
                append_audit(&tx, who.actor, entry)
                    .await
                    .map_err(|e| error::from_postgres(&e))?;
            }
            Vec::new()
        }
        AuditMode::Deferred => audit_entries,
    };
    tx.commit().await.map_err(|e| error::from_postgres(&e))?;
    let lsn = if writes {
        current_lsn(client).await
    } else {
        None
    };
    Ok(Ran {
        results,
        replayed: false,
        lsn,
        deferred_audit,
    })
}

/// The primary's WAL position now (`pg_current_wal_lsn()`), on the connection that just
/// committed: at or past the end of its commit record. `None` (logged) if it fails: the
/// write is committed all the same, the caller only loses read-your-writes routing.
async fn current_lsn(client: &deadpool_postgres::Client) -> Option<String> {
    match client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
    {
        Ok(row) => row.try_get(0).ok(),
        Err(e) => {
            tracing::warn!(error = %error::describe(&e), "reading the commit LSN");
            None
        }
    }
}

/// Whether this server (a replica) has replayed the WAL up to `min_lsn` (`X/Y`, already
/// validated). `false` on a server that is not in recovery (no replay position).
pub async fn replayed(
    client: &impl GenericClient,
    min_lsn: &str,
) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
            &[&min_lsn],
        )
        .await?;
    row.try_get(0)
}

/// Appends the audit events of a batch that ran on the replica, in one short transaction on
/// the primary pinned to the clinic's schema.
pub async fn append_deferred_audit(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    actor: &str,
    entries: &[AuditEntry],
) -> Result<(), RegionError> {
    if entries.is_empty() {
        return Ok(());
    }
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
    let tx = client.transaction().await.map_err(pg)?;
    pin_schema(&tx, slug).await.map_err(pg)?;
    for entry in entries {
        append_audit(&tx, actor, entry).await.map_err(pg)?;
    }
    tx.commit().await.map_err(pg)
}

/// Claims `idem.key` for the current transaction: `None` when it is ours now (run the
/// batch), the stored results when an earlier batch with the same fingerprint committed it.
///
/// `ON CONFLICT DO NOTHING` waits while another transaction holds an uncommitted row with
/// the key; once that one commits, the insert does nothing and the next statement (a new
/// snapshot, under read committed) sees the row; had it rolled back, the insert claims it.
async fn claim_key(
    tx: &impl GenericClient,
    idem: &Idempotency,
) -> Result<Option<Vec<StatementResult>>, RegionError> {
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
    let insert = tx
        .prepare_typed_cached(
            "INSERT INTO idempotency_keys (key, fingerprint) VALUES ($1, $2) \
             ON CONFLICT (key) DO NOTHING RETURNING 1",
            &[Type::TEXT, Type::TEXT],
        )
        .await
        .map_err(pg)?;
    if tx
        .query_opt(&insert, &[&idem.key, &idem.fingerprint])
        .await
        .map_err(pg)?
        .is_some()
    {
        return Ok(None);
    }
    let select = tx
        .prepare_typed_cached(
            "SELECT fingerprint, results FROM idempotency_keys WHERE key = $1",
            &[Type::TEXT],
        )
        .await
        .map_err(pg)?;
    let Some(row) = tx.query_opt(&select, &[&idem.key]).await.map_err(pg)? else {
        // Purged between the two statements: the next attempt claims it.
        return Err(RegionError::new(
            ErrorCode::Unavailable,
            "the idempotency key changed hands; retry",
        ));
    };
    let fingerprint: String = row.try_get(0).map_err(pg)?;
    if fingerprint != idem.fingerprint {
        return Err(RegionError::new(
            ErrorCode::IdempotencyMismatch,
            "this idempotency key was already used for a different request",
        ));
    }
    let stored: Option<Value> = row.try_get(1).map_err(pg)?;
    let results = stored.and_then(|v| serde_json::from_value(v).ok());
    match results {
        Some(results) => Ok(Some(results)),
        None => {
            tracing::error!(key = %idem.key, "a committed idempotency key without results");
            Err(error::internal())
        }
    }
}

/// Stores a batch's results with its key, in the batch's transaction.
async fn store_results(
    tx: &impl GenericClient,
    idem: &Idempotency,
    results: &[StatementResult],
) -> Result<(), RegionError> {
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
    let value = serde_json::to_value(results).map_err(|_| error::internal())?;
    let update = tx
        .prepare_typed_cached(
            "UPDATE idempotency_keys SET results = $2 WHERE key = $1",
            &[Type::TEXT, Type::JSONB],
        )
        .await
        .map_err(pg)?;
    tx.execute(&update, &[&idem.key, &value])
        .await
        .map_err(pg)?;
    Ok(())
}

/// The resources a statement returned (their `id`s), or one `None` when nothing was
/// returned (a search that found nothing is still a search).
///
/// Reads of the trail itself ([`AUDIT_EVENT`]) are one event per statement — naming the
/// record read when exactly one was — rather than one per record: otherwise a reader paging
/// through the trail in order would chase its own tail, each page adding as many records
/// as it read. They are not about any patient, so they never show in an access log.
fn audit_ids(resource_type: &str, rows: &[Map<String, Value>]) -> Vec<Option<String>> {
    if resource_type == AUDIT_EVENT && rows.len() != 1 {
        return vec![None];
    }
    let mut ids: Vec<Option<String>> = rows
        .iter()
        .map(|r| match r.get("id") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        ids.push(None);
    }
    ids
}

/// The distinct patients a statement's rows are about (their `audit_patient` column, which
/// the statements over a patient's resources return); `None` when none is.
fn audit_patients(rows: &[Map<String, Value>]) -> Option<Vec<Option<String>>> {
    let mut ids: Vec<Option<String>> = rows
        .iter()
        .filter_map(|r| r.get("audit_patient")?.as_str().map(|s| Some(s.to_owned())))
        .collect();
    ids.sort();
    ids.dedup();
    (!ids.is_empty()).then_some(ids)
}

/// Appends one audit event per id of `entry`, by `actor`, in a single statement
/// ([`AUDIT_SQL`]), in the transaction `tx` (pinned to the clinic's schema). The clinic's
/// chain lock is taken by the first record a transaction inserts and held until it ends:
/// call this last, just before the commit.
/// The one way anything of the region writes the audit trail (batches, the retention job,
/// legal holds).
pub async fn append_audit(
    tx: &impl GenericClient,
    actor: &str,
    entry: &AuditEntry,
) -> Result<(), tokio_postgres::Error> {
    let prepared = tx
        .prepare_typed_cached(
            AUDIT_SQL,
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT_ARRAY,
                Type::TEXT,
                Type::TEXT,
            ],
        )
        .await?;
    tx.execute(
        &prepared,
        &[
            &actor,
            &entry.action,
            &entry.statement,
            &entry.resource_type,
            &entry.ids,
            &entry.edge,
            &entry.outcome.label(),
        ],
    )
    .await?;
    Ok(())
}
