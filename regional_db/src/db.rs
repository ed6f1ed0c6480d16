//! Running catalog statements: pools, schema pinning, the batch transaction, the audit trail,
//! idempotency keys.

use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::{Map, Value};
use telemed_shared::{
    dataplane::{
        catalog::Statement,
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

/// `ident` as a quoted SQL identifier: `"` doubled, the whole in double quotes. Schema
/// names come from validated slugs, but are quoted everywhere all the same.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The `search_path` value that pins a transaction to `slug`'s schema, and only it
/// (`pg_catalog` is always searched first by Postgres; `public` is not searched at all).
pub fn search_path_for(slug: &TenantSlug) -> String {
    quote_ident(&slug.schema_name())
}

/// Pins the current transaction to the clinic's schema. A bound parameter of
/// `set_config(…, is_local = true)`: the same as `SET LOCAL search_path`, without building
/// SQL text, and undone at commit or rollback so a pooled connection never keeps it.
pub async fn pin_schema(
    client: &impl GenericClient,
    slug: &TenantSlug,
) -> Result<(), tokio_postgres::Error> {
    let path = search_path_for(slug);
    client
        .execute("SELECT set_config('search_path', $1, true)", &[&path])
        .await?;
    Ok(())
}

/// Runs one statement and returns its rows as JSON objects keyed by column name.
pub async fn query_rows(
    client: &impl GenericClient,
    stmt: &Statement,
    params: &[SqlParam],
) -> Result<Vec<Map<String, Value>>, tokio_postgres::Error> {
    let sql = format!("WITH t AS ({}) SELECT to_jsonb(t) FROM t", stmt.sql);
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
    actor: &str,
    calls: &[Call],
    idempotency: Option<&Idempotency>,
    mut on_statement: impl FnMut(&Statement, Duration, Result<(), &RegionError>),
) -> Result<Ran, RegionError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| error::from_postgres(&e))?;
    pin_schema(&tx, slug)
        .await
        .map_err(|e| error::from_postgres(&e))?;
    if let Some(idem) = idempotency
        && let Some(results) = claim_key(&tx, idem).await?
    {
        // Nothing was written: committing ends the transaction as well as a rollback.
        tx.commit().await.map_err(|e| error::from_postgres(&e))?;
        return Ok(Ran {
            results,
            replayed: true,
        });
    }
    let mut results = Vec::with_capacity(calls.len());
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
            append_audit(
                &tx,
                actor,
                audit.action,
                call.statement.name,
                audit.resource_type,
                &rows,
            )
            .await
            .map_err(|e| error::from_postgres(&e).at(i))?;
        }
        results.push(StatementResult { rows });
    }
    if let Some(idem) = idempotency {
        store_results(&tx, idem, &results).await?;
    }
    tx.commit().await.map_err(|e| error::from_postgres(&e))?;
    Ok(Ran {
        results,
        replayed: false,
    })
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

/// One audit event per returned row (its `id`), or one with no resource when nothing was
/// returned (a search that found nothing is still a search), in a single statement.
async fn append_audit(
    tx: &impl GenericClient,
    actor: &str,
    action: &str,
    statement: &str,
    resource_type: &str,
    rows: &[Map<String, Value>],
) -> Result<(), tokio_postgres::Error> {
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
    let sql = "INSERT INTO audit_events (actor, action, statement, resource_type, resource_id) \
               SELECT $1, $2, $3, $4, unnest($5::text[])";
    let prepared = tx
        .prepare_typed_cached(
            sql,
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT_ARRAY,
            ],
        )
        .await?;
    tx.execute(
        &prepared,
        &[&actor, &action, &statement, &resource_type, &ids],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(
            quote_ident("tenant_hopital_paris"),
            "\"tenant_hopital_paris\""
        );
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            quote_ident("x\"; DROP SCHEMA control; --"),
            "\"x\"\"; DROP SCHEMA control; --\""
        );
        let slug: TenantSlug = "hopital-paris".parse().unwrap();
        assert_eq!(search_path_for(&slug), "\"tenant_hopital_paris\"");
    }
}
