//! The service's database role: what `regional-db serve` may do in Postgres, granted by
//! the commands that create and migrate schemas.
//!
//! Two kinds of connection, two kinds of role:
//! - **Operators** (`regional-db migrate`, `tenant create`, `audit verify`) connect as an
//!   administrator that owns the schemas: they create tables, and the grants below.
//! - **The service** (`regional-db serve`) connects as a LOGIN role that is a member of
//!   [`SERVICE_ROLE`] (NOLOGIN, created here when missing), e.g.
//!   `CREATE ROLE regional_db_eu LOGIN PASSWORD … IN ROLE telemed_service`. That role holds
//!   exactly what the service needs, per schema:
//!   - every clinic table: `SELECT, INSERT, UPDATE, DELETE` — except the append-only ones
//!     ([`APPEND_ONLY`], the audit trail and data keys: `SELECT, INSERT` only, never `UPDATE`, `DELETE`
//!     or `TRUNCATE`; the webhook outbox and attempt log too), the webhook deliveries
//!     ([`NO_DELETE`]: `SELECT, INSERT, UPDATE`), the migration history (`SELECT`), and the tables with secret
//!     columns ([`SECRET_COLUMNS`]: `SELECT` of every other column only, so the service
//!     may write a password hash but no statement of it can read one back); views: `SELECT`;
//!   - the functions the service's own code calls ([`SERVICE_FUNCTIONS`]: `EXECUTE`;
//!     `account_credentials` is how sign-in reads one hash);
//!   - the control schema (the directory): `SELECT`; the exchange rates: `SELECT, INSERT,
//!     UPDATE`; operators and their failed sign-ins ([`CONTROL_PRIVATE`]): nothing.
//!
//! The grants are applied again after every migration of a schema ([`grant_tenant`], from
//! `migrate` and `tenant create`): a table a later migration adds is covered, a clinic
//! created later too, and a grant someone added by hand on an append-only table is taken
//! back. A superuser bypasses grants (and can step around the audit trail's triggers): the
//! service must never connect as one; the hash chain is what shows what a superuser did.

use deadpool_postgres::GenericClient;
use telemed_shared::tenant::TenantSlug;

use crate::{db::quote_ident, error::Error};

/// The NOLOGIN role whose members the service connects as.
pub const SERVICE_ROLE: &str = "telemed_service";

/// Clinic tables the service may read and append to, never change: the audit trail, and
/// the clinic's wrapped data key (made by the service on first use; only `keys rotate`,
/// an operator command, rewrites it — a service that could would be one statement away
/// from making every sealed identifier unreadable).
///
/// Invoices too: issued by the clinic's schema when an appointment is fulfilled, never
/// rewritten by the service (a correction will be a credit note, another invoice).
///
/// The webhook outbox and delivery log too (`0017_webhooks.sql`): an event or an attempt,
/// once written, is what happened.
pub const APPEND_ONLY: &[&str] = &[
    "audit_events",
    "data_keys",
    "invoices",
    "outbox_events",
    "webhook_attempts",
];

/// Clinic tables the service may read, add to and update, never delete from: webhook
/// deliveries (their state moves on; the log of a delivery stays).
pub const NO_DELETE: &[&str] = &["webhook_deliveries"];

/// Clinic tables the service may only read: the migration history, the consent gates the
/// policy installs and the clinic's billing currency (written by `migrate` and `tenant
/// create`).
const READ_ONLY: &[&str] = &[
    "schema_migrations",
    "policy_consent_gates",
    "clinic_billing",
];

/// Columns the service may write but never select, by table: password hashes. The
/// service reads them only through [`SERVICE_FUNCTIONS`].
/// And the webhook endpoints' signing secrets (sealed besides), read by the delivery job
/// through `webhook_endpoint_secret`.
pub const SECRET_COLUMNS: &[(&str, &str)] = &[
    ("accounts", "password_hash"),
    ("webhook_endpoints", "secret_sealed"),
];

/// Functions of a clinic schema the service may execute (their migrations revoke them
/// from `PUBLIC`): `account_credentials` runs as the schema's owner and returns one
/// account's hash, for sign-in (`crate::sign_in`).
/// `webhook_endpoint_secret` returns one endpoint's sealed secret to the delivery job
/// (`crate::jobs::webhooks`); `webhook_forget_patient` deletes an erased patient's events
/// from the append-only outbox, in the erasure's transaction (`0020_webhooks_erasure.sql`).
pub const SERVICE_FUNCTIONS: &[&str] = &[
    "account_credentials(text)",
    "webhook_endpoint_secret(uuid)",
    "webhook_forget_patient(uuid, text)",
];

/// Control tables the service may not even read: operators (their password hashes) and
/// their failed sign-ins. Operator requests use the operator connection
/// (`OPERATOR_DATABASE_URL`), never the service's role.
pub const CONTROL_PRIVATE: &[&str] = &["control.operators", "control.sign_in_failures"];

/// Creates [`SERVICE_ROLE`] unless it exists (roles are per cluster: the first schema
/// migrated in a cluster creates it). Safe when two migrators race for it.
pub async fn ensure_service_role(tx: &impl GenericClient) -> Result<(), Error> {
    let exists = tx
        .query_opt(
            "SELECT 1 FROM pg_roles WHERE rolname = $1",
            &[&SERVICE_ROLE],
        )
        .await?
        .is_some();
    if !exists {
        tx.batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {} NOLOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
            quote_ident(SERVICE_ROLE)
        ))
        .await?;
    }
    Ok(())
}

/// Logs an error when `pool` connects as a superuser (or a role that bypasses row
/// security): no grant binds it, so the trail is append-only for the service no more.
/// A warning at start-up rather than a refusal: local tools may knowingly serve so. Gives
/// up silently after a second (a database down at start-up must not delay serving).
pub async fn warn_if_superuser(pool: &deadpool_postgres::Pool) {
    let check = async {
        let client = pool.get().await.ok()?;
        client
            .query_one(
                "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles \
             WHERE rolname = current_user",
                &[],
            )
            .await
            .ok()
    };
    if let Ok(Some(row)) = tokio::time::timeout(std::time::Duration::from_secs(1), check).await
        && row.get::<_, bool>(1)
    {
        tracing::error!(
            role = row.get::<_, String>(0),
            "regional-db connects as a superuser: grants do not bind it, the audit trail is not \
             append-only for it; connect as a member of {SERVICE_ROLE}"
        );
    }
}

/// Columns of the control schema the service may never select, by table: an app's webhook
/// key (`0005_app_webhook_secrets.sql`), which the region reads only through
/// [`CONTROL_FUNCTIONS`] when an install seals it with the clinic's key.
pub const CONTROL_SECRET_COLUMNS: &[(&str, &str)] = &[("apps", "webhook_secret")];

/// Functions of the control schema the service may execute: `app_webhook_secret` returns
/// an approved app's webhook key to the region's install path (`server.rs`,
/// `ParamType::AppWebhookSecret`); no catalog statement calls it.
pub const CONTROL_FUNCTIONS: &[&str] = &["app_webhook_secret(uuid)"];

/// The grants of the control schema: the directory, read only; the exchange rates, which
/// the service stores when the edge's cron trigger asks (`POST /v1/jobs/rates`), read and
/// written, never deleted; the marketplace's apps, read but for their secrets
/// ([`CONTROL_SECRET_COLUMNS`]).
pub async fn grant_control(tx: &impl GenericClient) -> Result<(), Error> {
    ensure_service_role(tx).await?;
    let role = quote_ident(SERVICE_ROLE);
    let mut sql = format!(
        "GRANT USAGE ON SCHEMA control TO {role};
         REVOKE ALL ON ALL TABLES IN SCHEMA control FROM {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA control TO {role};
         GRANT INSERT, UPDATE ON control.exchange_rates TO {role};\n"
    );
    for (table, column) in CONTROL_SECRET_COLUMNS {
        let readable = tx
            .query(
                "SELECT a.attname::text FROM pg_attribute a \
                 JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'control' AND c.relname = $1 AND a.attnum > 0 \
                   AND NOT a.attisdropped AND a.attname <> $2 ORDER BY a.attnum",
                &[table, column],
            )
            .await?
            .iter()
            .map(|r| r.try_get::<_, String>(0).map(|c| quote_ident(&c)))
            .collect::<Result<Vec<_>, _>>()?;
        if readable.is_empty() {
            continue;
        }
        let t = format!("control.{}", quote_ident(table));
        sql.push_str(&format!(
            "REVOKE SELECT ON {t} FROM {role}; GRANT SELECT ({}) ON {t} TO {role};\n",
            readable.join(", ")
        ));
    }
    for function in CONTROL_FUNCTIONS {
        let name = function.split('(').next().unwrap_or(function);
        let exists = tx
            .query_opt(
                "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname = 'control' AND p.proname = $1",
                &[&name],
            )
            .await?
            .is_some();
        if exists {
            sql.push_str(&format!(
                "REVOKE ALL ON FUNCTION control.{function} FROM PUBLIC; \
                 GRANT EXECUTE ON FUNCTION control.{function} TO {role};\n"
            ));
        }
    }
    tx.batch_execute(&sql).await?;
    // Operators' credentials and throttling are the operator connection's alone.
    for table in CONTROL_PRIVATE {
        let exists = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[table])
            .await?
            .get::<_, bool>(0);
        if exists {
            tx.batch_execute(&format!("REVOKE ALL ON {table} FROM {role}"))
                .await?;
        }
    }
    Ok(())
}

/// The grants of `slug`'s schema, as the module documentation lists them, for every table
/// and view it has now.
pub async fn grant_tenant(tx: &impl GenericClient, slug: &TenantSlug) -> Result<(), Error> {
    ensure_service_role(tx).await?;
    let schema = slug.schema_name();
    let role = quote_ident(SERVICE_ROLE);
    let q = quote_ident(&schema);
    let mut sql = format!(
        "GRANT USAGE ON SCHEMA {q} TO {role};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q} TO {role};\n"
    );
    let relations = tx
        .query(
            "SELECT c.relname, c.relkind::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname",
            &[&schema],
        )
        .await?;
    for row in relations {
        let (name, kind): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let privileges = privileges(&name, &kind);
        let table = format!("{q}.{}", quote_ident(&name));
        // Revoking a table's privileges revokes its column privileges too.
        sql.push_str(&format!("REVOKE ALL ON {table} FROM {role}; "));
        let secret: Vec<&str> = SECRET_COLUMNS
            .iter()
            .filter(|(t, _)| *t == name)
            .map(|(_, c)| *c)
            .collect();
        if secret.is_empty() {
            sql.push_str(&format!("GRANT {privileges} ON {table} TO {role};\n"));
        } else {
            let readable = tx
                .query(
                    "SELECT a.attname::text FROM pg_attribute a \
                     JOIN pg_class c ON c.oid = a.attrelid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 \
                       AND NOT a.attisdropped ORDER BY a.attnum",
                    &[&schema, &name],
                )
                .await?
                .iter()
                .map(|r| r.try_get::<_, String>(0))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|c| !secret.contains(&c.as_str()))
                .map(|c| quote_ident(&c))
                .collect::<Vec<_>>()
                .join(", ");
            let writes = privileges.strip_prefix("SELECT, ").unwrap_or("");
            sql.push_str(&format!("GRANT SELECT ({readable}) ON {table} TO {role}; "));
            if !writes.is_empty() {
                sql.push_str(&format!("GRANT {writes} ON {table} TO {role};\n"));
            }
        }
    }
    for function in SERVICE_FUNCTIONS {
        let name = function.split('(').next().unwrap_or(function);
        let exists = tx
            .query_opt(
                "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname = $1 AND p.proname = $2",
                &[&schema, &name],
            )
            .await?
            .is_some();
        if exists {
            sql.push_str(&format!(
                "REVOKE ALL ON FUNCTION {q}.{function} FROM PUBLIC; \
                 GRANT EXECUTE ON FUNCTION {q}.{function} TO {role};\n"
            ));
        }
    }
    tx.batch_execute(&sql).await?;
    Ok(())
}

/// What the service may do on one relation of a clinic schema (`relkind` as Postgres spells it).
fn privileges(name: &str, relkind: &str) -> &'static str {
    if relkind == "v" || relkind == "m" || READ_ONLY.contains(&name) {
        "SELECT"
    } else if APPEND_ONLY.contains(&name) {
        "SELECT, INSERT"
    } else if NO_DELETE.contains(&name) {
        "SELECT, INSERT, UPDATE"
    } else {
        "SELECT, INSERT, UPDATE, DELETE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trail_is_append_only_and_views_are_read_only() {
        assert_eq!(privileges("audit_events", "r"), "SELECT, INSERT");
        assert_eq!(privileges("schema_migrations", "r"), "SELECT");
        assert_eq!(privileges("outbox_events", "r"), "SELECT, INSERT");
        assert_eq!(
            privileges("webhook_deliveries", "r"),
            "SELECT, INSERT, UPDATE"
        );
        assert_eq!(privileges("audit_event_resources", "v"), "SELECT");
        assert_eq!(
            privileges("patients", "r"),
            "SELECT, INSERT, UPDATE, DELETE"
        );
    }
}
