//! Schema migrations, embedded at build time from `migrations/{control,tenant}/*.sql`.
//!
//! - The control schema (the directory) is migrated only by the region whose own database
//!   holds it; applied versions are in `control.schema_migrations`.
//! - Every clinic homed in this region has its own schema; applied versions are in that
//!   schema's `schema_migrations` table (so a schema carries its own history wherever it is
//!   copied), mirrored in `control.tenants.schema_version` for operators.
//!
//! Pending migrations of one schema are applied in one transaction under an advisory lock,
//! so two concurrent `migrate` runs serialise and a failure leaves the schema as it was.
//! Running `migrate` twice changes nothing.

use deadpool_postgres::{GenericClient, Pool, Transaction};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use telemed_shared::{country::CountryCode, geo::RegionId, tenant::TenantSlug};

use crate::{
    db::{self, quote_ident},
    error::Error,
};

/// One embedded migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The number its file name starts with (`0001_…` → 1): the schema version it brings.
    pub number: u32,
    /// The file name without `.sql`.
    pub name: &'static str,
    pub sql: &'static str,
}

mod embedded {
    use super::Migration;
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

/// The control schema's migrations, in order.
pub fn control_migrations() -> &'static [Migration] {
    embedded::CONTROL
}

/// A clinic schema's migrations, in order.
pub fn tenant_migrations() -> &'static [Migration] {
    embedded::TENANT
}

/// The schema version a fully migrated clinic schema has.
pub fn tenant_schema_version() -> u32 {
    tenant_migrations().last().map_or(0, |m| m.number)
}

/// What a `migrate` run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Control migrations applied (0 when up to date or not this region's database).
    pub control_applied: usize,
    /// Clinic schemas looked at.
    pub tenants: usize,
    /// Tenant migrations applied, over all schemas.
    pub tenant_applied: usize,
}

/// Advisory lock keys, so concurrent migrators of the same schema wait for each other.
const CONTROL_LOCK: i64 = 0x7465_6c65_6d65_6401;

/// Applies pending control migrations to the control database.
pub async fn migrate_control(pool: &Pool) -> Result<usize, Error> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CONTROL_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS control;
         CREATE TABLE IF NOT EXISTS control.schema_migrations (
             version     integer PRIMARY KEY,
             name        text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    let applied = apply_pending(
        &tx,
        "control",
        "control.schema_migrations",
        control_migrations(),
    )
    .await?;
    crate::grants::grant_control(&tx).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Brings the clinic schema of `slug` up to date inside `tx` (which the caller commits),
/// creating its version table if needed. Returns how many migrations were applied.
pub async fn migrate_tenant_in(tx: &Transaction<'_>, slug: &TenantSlug) -> Result<usize, Error> {
    let schema = slug.schema_name();
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&schema],
    )
    .await?;
    db::pin_schema(tx, slug).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version     integer PRIMARY KEY,
             name        text NOT NULL,
             applied_at  timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    let applied = apply_pending(tx, &schema, "schema_migrations", tenant_migrations()).await?;
    // After every migration: tables it added are covered, grants added by hand undone.
    crate::grants::grant_tenant(tx, slug).await?;
    Ok(applied)
}

async fn apply_pending(
    tx: &Transaction<'_>,
    schema: &str,
    table: &str,
    migrations: &'static [Migration],
) -> Result<usize, Error> {
    let done: Vec<i32> = tx
        .query(&format!("SELECT version FROM {table}"), &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut applied = 0;
    for m in migrations {
        let version = i32::try_from(m.number)
            .map_err(|_| Error::Config(format!("migration number {}", m.number)))?;
        if done.contains(&version) {
            continue;
        }
        let fail = |source| Error::Migration {
            schema: schema.to_owned(),
            name: m.name,
            source,
        };
        tx.batch_execute(m.sql).await.map_err(fail)?;
        tx.execute(
            &format!("INSERT INTO {table} (version, name) VALUES ($1, $2)"),
            &[&version, &m.name],
        )
        .await
        .map_err(fail)?;
        applied += 1;
    }
    Ok(applied)
}

/// `regional-db migrate`: the control schema in this region's database, then every clinic
/// homed in `region` (listed by the control-plane primary, `control`), with a progress bar on
/// stderr (hidden when stderr is not a terminal, or when `progress` is false).
///
/// Every region holds the control schema: the control plane's is the primary, the others'
/// are logical-replication subscribers of it (so every region can serve the directory), and
/// a subscriber's tables must exist before it subscribes.
pub async fn run(
    region: &RegionId,
    pool: &Pool,
    control: &Pool,
    progress: bool,
) -> Result<Report, Error> {
    let mut report = Report {
        control_applied: migrate_control(pool).await?,
        ..Report::default()
    };
    let homed = homed_in(region, control).await?;
    report.tenants = homed.len();

    let bar = ProgressBar::with_draw_target(
        Some(homed.len() as u64),
        if progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} clinic schemas {pos}/{len} {wide_bar} {msg}")
            .expect("a valid template"),
    );
    let currencies = currencies_of(region, control).await?;
    let mut client = pool.get().await.map_err(pool_error)?;
    for (slug, country) in &homed {
        bar.set_message(slug.to_string());
        let tx = client.transaction().await?;
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&slug.schema_name()],
            )
            .await?
            .get(0);
        if !exists {
            return Err(Error::Config(format!(
                "clinic {slug} is registered as homed in {region} but schema {} is missing from this database",
                quote_ident(&slug.schema_name())
            )));
        }
        report.tenant_applied += migrate_tenant_in(&tx, slug).await?;
        crate::provision::sync_policy(&tx, &quote_ident(&slug.schema_name()), country).await?;
        if let Some(currency) = currencies.get(slug.as_str()) {
            crate::provision::sync_billing(&tx, &quote_ident(&slug.schema_name()), currency)
                .await?;
        }
        // Clinics created before the schema recorded its country (0011) get it here.
        crate::jobs::record_country(&tx, country).await?;
        tx.commit().await?;
        bar.inc(1);
    }
    // Connections are taken one at a time: the control pool may be this very pool.
    drop(client);
    let version = i32::try_from(tenant_schema_version()).unwrap_or(i32::MAX);
    let names: Vec<&str> = homed.iter().map(|(slug, _)| slug.as_str()).collect();
    control
        .get()
        .await
        .map_err(pool_error)?
        .execute(
            "UPDATE control.tenants SET schema_version = $2 WHERE slug = ANY($1) AND schema_version <> $2",
            &[&names, &version],
        )
        .await?;
    bar.finish_and_clear();
    Ok(report)
}

/// The billing currency of each clinic the directory homes in `region`, by slug.
async fn currencies_of(
    region: &RegionId,
    control: &Pool,
) -> Result<std::collections::HashMap<String, String>, Error> {
    let client = control.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            "SELECT slug, currency FROM control.tenants WHERE home_region = $1",
            &[&region.as_str()],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The clinics the directory homes in `region`, with their countries, by slug: what the
/// region's operator commands (migrations, key rotation, jobs) go over.
pub async fn homed_in(
    region: &RegionId,
    control: &Pool,
) -> Result<Vec<(TenantSlug, CountryCode)>, Error> {
    let client = control.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            "SELECT slug, country FROM control.tenants WHERE home_region = $1 ORDER BY slug",
            &[&region.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let slug = r.get::<_, String>(0).parse().map_err(Error::Slug)?;
            let country = r.get::<_, String>(1).parse()?;
            Ok((slug, country))
        })
        .collect()
}

/// Operator commands hold one connection and wait as long as it takes.
pub(crate) fn pool_error(e: deadpool_postgres::PoolError) -> Error {
    match e {
        deadpool_postgres::PoolError::Backend(pg) => Error::Postgres(pg),
        other => Error::Config(format!("cannot connect to the database: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::{fs, path::Path};

    use super::*;

    /// The `.sql` files of `migrations/<set>` as (number, file stem, contents), sorted by
    /// name: the source of truth, read again at test time rather than through `build.rs`.
    fn on_disk(set: &str) -> Vec<(u32, String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(set);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let stem = p.file_stem().unwrap().to_str().unwrap().to_owned();
                let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
                (
                    digits.parse().unwrap(),
                    stem,
                    fs::read_to_string(p).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn migrations_are_embedded_in_order_with_unique_numbers() {
        for (set, embedded) in [
            ("control", control_migrations()),
            ("tenant", tenant_migrations()),
        ] {
            let files = on_disk(set);
            assert!(!files.is_empty(), "migrations/{set} has no .sql file");
            // Every file, in file-name order, with its number and its text: no more, no less.
            assert_eq!(
                embedded
                    .iter()
                    .map(|m| (m.number, m.name))
                    .collect::<Vec<_>>(),
                files
                    .iter()
                    .map(|(n, name, _)| (*n, name.as_str()))
                    .collect::<Vec<_>>(),
                "migrations/{set}"
            );
            for (m, (_, _, sql)) in embedded.iter().zip(&files) {
                assert!(m.sql == sql, "{} is not its file's text", m.name);
            }
            assert!(
                embedded.windows(2).all(|w| w[0].number < w[1].number),
                "numbers must increase"
            );
        }
        assert_eq!(control_migrations()[0].name, "0001_directory");
        assert!(tenant_migrations()[0].sql.contains("CREATE TABLE patients"));
        // Tenant migrations run with search_path pinned: they must not name a schema.
        for m in tenant_migrations() {
            assert!(
                !m.sql.contains("control."),
                "{} names the control schema",
                m.name
            );
        }
        // A migrated clinic is at the number of the last tenant file.
        let last = on_disk("tenant").last().map(|(n, _, _)| *n);
        assert_eq!(Some(tenant_schema_version()), last);
    }
}
