//! The region's background jobs, each runnable once by hand (`regional-db jobs run <name>`),
//! and what operators manage for them.
//!
//! - [`retention`]: purges the medical records past their country's retention period.
//! - [`holds`]: legal holds, which keep a patient's data out of every purge and erasure.
//! - [`rates`]: the euro reference rates, stored as dated data on the control plane.
//! - [`webhooks`]: delivers the clinics' outbox events to their endpoints, signed, retried.

pub mod holds;
pub mod rates;
pub mod retention;
pub mod webhooks;

use deadpool_postgres::{GenericClient, Pool};
use telemed_shared::{country::CountryCode, geo::RegionId, tenant::TenantSlug};

use crate::{error::describe, migrate::pool_error};

/// Why a job or an operator command on a clinic's data failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The region's own failure (configuration, connection).
    #[error(transparent)]
    Region(#[from] crate::Error),
    /// The database refused or failed a statement.
    #[error("database: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No clinic of that slug is homed in this region.
    #[error("no clinic {slug} is homed in {region}")]
    UnknownClinic { slug: TenantSlug, region: RegionId },
    /// The clinic has no patient with that id.
    #[error("clinic {slug} has no patient {patient}")]
    UnknownPatient { slug: TenantSlug, patient: String },
    /// The patient is under no legal hold (lifting one).
    #[error("patient {patient} of clinic {slug} is under no legal hold")]
    NotHeld { slug: TenantSlug, patient: String },
    /// A legal hold needs its reason.
    #[error("a legal hold needs a reason")]
    NoReason,
    /// A webhook endpoint or delivery could not be set up (bad URL, unknown event type…).
    #[error("webhooks: {0}")]
    Webhook(String),
    /// A clinic's data key or a sealed value could not be used.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// The exchange-rate feed could not be fetched or is not a reference-rate document.
    #[error("rates feed {0}")]
    Feed(String),
    /// The rule engine and the clinic's schema computed different dates for a patient: a
    /// bug in one of them. Nothing of that clinic is purged.
    #[error(
        "clinic {slug}: the rule engine keeps patient {patient} until {engine}, the database until {database}; nothing purged"
    )]
    Disagree {
        slug: TenantSlug,
        patient: String,
        engine: String,
        database: String,
    },
}

/// A clinic homed in this region, as the directory lists it.
#[derive(Debug, Clone)]
pub struct Clinic {
    pub slug: TenantSlug,
    pub country: CountryCode,
}

/// The clinics homed in `region` (all, or the one named), from the directory.
pub async fn clinics(
    control: &Pool,
    region: &RegionId,
    only: Option<&TenantSlug>,
) -> Result<Vec<Clinic>, JobError> {
    let client = control.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            "SELECT slug, country FROM control.tenants \
             WHERE home_region = $1 AND ($2::text IS NULL OR slug = $2) ORDER BY slug",
            &[&region.as_str(), &only.map(TenantSlug::as_str)],
        )
        .await?;
    let clinics = rows
        .iter()
        .map(|r| {
            Ok(Clinic {
                slug: r.get::<_, String>(0).parse().map_err(crate::Error::Slug)?,
                country: r
                    .get::<_, String>(1)
                    .parse()
                    .map_err(crate::Error::Country)?,
            })
        })
        .collect::<Result<Vec<_>, JobError>>()?;
    if let (Some(slug), true) = (only, clinics.is_empty()) {
        return Err(JobError::UnknownClinic {
            slug: slug.clone(),
            region: region.clone(),
        });
    }
    Ok(clinics)
}

/// Records the clinic's country in its schema (the `clinic` row of migration 0011), where
/// `Patient/$erase` picks the clinic's retention rule. The transaction must be pinned to
/// the clinic's schema.
pub async fn record_country(
    tx: &impl GenericClient,
    country: &CountryCode,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO clinic (country) VALUES ($1) \
         ON CONFLICT (one) DO UPDATE SET country = EXCLUDED.country \
         WHERE clinic.country IS DISTINCT FROM EXCLUDED.country",
        &[&country.as_str()],
    )
    .await?;
    Ok(())
}
