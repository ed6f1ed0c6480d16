//! Legal holds: a clinic's record that a patient's data must not be purged nor erased
//! (litigation). The retention job and `Patient/$erase` skip held patients and say so;
//! the `legal_holds` row's foreign key keeps a held patient's row from being deleted at
//! all. `regional-db holds place|lift|list --tenant SLUG …`; placing and lifting are
//! audited (`hold` / `release`, through [`db::append_audit`]).

use deadpool_postgres::Pool;
use telemed_shared::{geo::RegionId, tenant::TenantSlug};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::{JobError, clinics};
use crate::{
    db::{self, AuditEntry},
    migrate::pool_error,
};

/// A hold as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub patient: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
}

/// What `place` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    New,
    /// The patient was already held: the first hold (and its reason) stands.
    AlreadyHeld,
}

fn audit(action: &'static str, statement: &'static str, patient: Uuid) -> AuditEntry {
    AuditEntry::new(
        action,
        statement,
        "Patient",
        vec![Some(patient.to_string())],
    )
}

/// Places a hold on `patient` of clinic `slug` (homed in `region`), by `actor`.
pub async fn place(
    pool: &Pool,
    control: &Pool,
    region: &RegionId,
    slug: &TenantSlug,
    patient: Uuid,
    reason: &str,
    actor: &str,
) -> Result<Placed, JobError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(JobError::NoReason);
    }
    clinics(control, region, Some(slug)).await?;
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let inserted = tx
        .execute(
            "INSERT INTO legal_holds (patient, reason, placed_by) VALUES ($1, $2, $3) \
             ON CONFLICT (patient) DO NOTHING",
            &[&patient, &reason, &actor],
        )
        .await;
    let placed = match inserted {
        Ok(0) => Placed::AlreadyHeld,
        Ok(_) => {
            db::append_audit(&tx, actor, &audit("hold", "holds.place", patient)).await?;
            Placed::New
        }
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            return Err(JobError::UnknownPatient {
                slug: slug.clone(),
                patient: patient.to_string(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(placed)
}

/// Lifts the hold on `patient` of clinic `slug`, by `actor`.
pub async fn lift(
    pool: &Pool,
    control: &Pool,
    region: &RegionId,
    slug: &TenantSlug,
    patient: Uuid,
    actor: &str,
) -> Result<(), JobError> {
    clinics(control, region, Some(slug)).await?;
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let lifted = tx
        .execute("DELETE FROM legal_holds WHERE patient = $1", &[&patient])
        .await?;
    if lifted == 0 {
        return Err(JobError::NotHeld {
            slug: slug.clone(),
            patient: patient.to_string(),
        });
    }
    db::append_audit(&tx, actor, &audit("release", "holds.lift", patient)).await?;
    tx.commit().await?;
    Ok(())
}

/// The clinic's holds, oldest first.
pub async fn list(
    pool: &Pool,
    control: &Pool,
    region: &RegionId,
    slug: &TenantSlug,
) -> Result<Vec<Hold>, JobError> {
    clinics(control, region, Some(slug)).await?;
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let rows = tx
        .query(
            "SELECT patient::text, reason, placed_by, \
                    to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM legal_holds ORDER BY placed_at, patient",
            &[],
        )
        .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| Hold {
            patient: r.get(0),
            reason: r.get(1),
            placed_by: r.get(2),
            placed_at: r.get(3),
        })
        .collect())
}
