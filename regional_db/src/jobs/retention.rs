//! The retention job: in every clinic homed in this region (or one), finds the patients
//! whose medical record is past its country's retention period and purges it, audits each
//! purge, and skips the patients under a legal hold (saying so). `regional-db jobs run
//! retention [--tenant SLUG | --all] [--dry-run] [--now RFC3339]`.
//!
//! The date of each record comes from the one rule engine,
//! [`telemed_shared::compliance::retention`], from the clinic's country's policy; the
//! clinic's schema computes the same date from the same facts (`retention_keep_until`) and
//! the job stops at the first disagreement, purging nothing of that clinic. Each purge is
//! its own transaction: `retention_purge` decides again under the patient's row lock (a
//! visit recorded since the facts were read keeps the record), deletes, and the audit
//! event (`purge`, `retention.purge`, the patient's id, through [`db::append_audit`])
//! commits with it. What a purge deletes and why: see `migrations/tenant/0011_retention.sql`.
//!
//! Besides records, the job deletes the clinic's idempotency keys older than 24 hours
//! (cached copies of answers, kept that long for retries: `0002_idempotency.sql`).
//!
//! `now` is a parameter (the controllable clock of the tests: `--now`); `dry_run` reads
//! and reports, and writes nothing (not even the clinic's country or an audit event).
//! One run per clinic at a time (a session advisory lock per clinic; a clinic another run
//! holds is skipped and said so): every instance of a region may schedule the job
//! ([`every`], `regional-db serve --retention-every-hours N`).

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use telemed_shared::{
    compliance::{
        policy_for,
        retention::{self, Clause, Facts, Rule},
    },
    geo::RegionId,
    tenant::TenantSlug,
};
use uuid::Uuid;

use super::{Clinic, JobError, clinics, record_country};
use crate::{
    db::{self, AuditEntry},
    migrate::pool_error,
};

/// The actor of the audit events the job writes.
pub const ACTOR: &str = "retention-job";
/// The statement name of a purge in the audit trail.
pub const PURGE_STATEMENT: &str = "retention.purge";

/// The advisory lock of one clinic's run: two runs (two instances of the region, or a run
/// by hand beside the scheduled one) never purge the same clinic side by side; the second
/// skips it. Dry runs write nothing and take no lock.
const LOCK_SQL: &str = "SELECT pg_try_advisory_lock(hashtextextended('retention:' || $1, 0))";
const UNLOCK_SQL: &str = "SELECT pg_advisory_unlock(hashtextextended('retention:' || $1, 0))";

/// How long idempotency keys are kept for retries before the job deletes them.
const KEYS_KEPT: &str = "24 hours";

/// What to run over, and as of when.
#[derive(Debug, Clone)]
pub struct RetentionJob {
    /// The instant the periods are measured against (the wall clock in production).
    pub now: DateTime<Utc>,
    /// Report only: nothing is written.
    pub dry_run: bool,
    /// One clinic; every clinic homed in the region when `None`.
    pub only: Option<TenantSlug>,
}

/// What became of one patient whose record is due, or held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Purged: how many rows of each kind went.
    Purged(Purged),
    /// Due, and would be purged (dry run).
    WouldPurge,
    /// Due, but under a legal hold: kept.
    Held { reason: String },
    /// Due when read, no longer when purged (a visit came in): kept.
    KeptMeanwhile,
}

/// The rows a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub appointments: i32,
    pub slots_freed: i32,
    pub observations: i32,
    pub consents: i32,
    pub cached: i32,
}

/// A patient the job acted on (or would have).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub patient: String,
    /// The first day the record could go.
    pub keep_until: NaiveDate,
    pub clause: Clause,
    pub outcome: Outcome,
}

/// One clinic's run.
#[derive(Debug, Clone)]
pub struct ClinicReport {
    pub clinic: Clinic,
    pub rule: Rule,
    /// The policy's source for the period, and whether it is confirmed law.
    pub citation: (&'static str, bool),
    /// Patients looked at.
    pub patients: usize,
    /// The patients whose record is due (or held), in creation order.
    pub actions: Vec<Action>,
    /// Idempotency keys older than 24 hours deleted (or that would be).
    pub expired_keys: i64,
    /// Another run held the clinic: nothing was looked at.
    pub skipped: bool,
}

impl ClinicReport {
    /// The lines `regional-db jobs run retention` prints for this clinic.
    pub fn lines(&self, dry_run: bool) -> Vec<String> {
        if self.skipped {
            return vec![format!(
                "clinic {}: skipped, another retention run holds it",
                self.clinic.slug
            )];
        }
        let (source, confirmed) = self.citation;
        let mut out = vec![format!(
            "clinic {} ({}): {} years from {}{} — {}{}; {} patient(s) looked at",
            self.clinic.slug,
            self.clinic.country.as_str(),
            self.rule.years,
            self.rule.from.code(),
            self.rule
                .at_least_to_age
                .map(|a| format!(", at least to age {a}"))
                .unwrap_or_default(),
            source,
            if confirmed { "" } else { " (not confirmed)" },
            self.patients
        )];
        for a in &self.actions {
            let due = format!(
                "due since {} ({})",
                retention::iso(a.keep_until),
                a.clause.code()
            );
            out.push(match &a.outcome {
                Outcome::Purged(p) => format!(
                    "  purged Patient/{}: {due}; {} appointment(s) ({} future slot(s) freed), {} observation(s), {} consent(s), {} cached answer(s)",
                    a.patient, p.appointments, p.slots_freed, p.observations, p.consents, p.cached
                ),
                Outcome::WouldPurge => format!("  would purge Patient/{}: {due}", a.patient),
                Outcome::Held { reason } => {
                    format!("  held Patient/{}: {due}, kept under legal hold ({reason})", a.patient)
                }
                Outcome::KeptMeanwhile => {
                    format!("  kept Patient/{}: {due} when read, not when purged", a.patient)
                }
            });
        }
        let verb = if dry_run { "would delete" } else { "deleted" };
        out.push(format!(
            "  {verb} {} idempotency key(s) older than {KEYS_KEPT}",
            self.expired_keys
        ));
        out
    }
}

/// Runs the job over the clinics homed in `region`; `pool` is the region's primary,
/// `control` the directory's database.
pub async fn run(
    job: &RetentionJob,
    region: &RegionId,
    pool: &Pool,
    control: &Pool,
) -> Result<Vec<ClinicReport>, JobError> {
    let clinics = clinics(control, region, job.only.as_ref()).await?;
    let mut reports = Vec::with_capacity(clinics.len());
    for clinic in clinics {
        reports.push(run_clinic(job, pool, clinic).await?);
    }
    Ok(reports)
}

/// Runs the job over the clinics of `region` (all, or `only`) each `period` (the first run
/// one period after the start), for as long as the service runs. Each clinic's outcome is
/// logged as counts (the ids are in the audit trail).
pub async fn every(
    period: std::time::Duration,
    only: Option<TenantSlug>,
    region: RegionId,
    pool: Pool,
    control: Pool,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let job = RetentionJob {
            now: Utc::now(),
            dry_run: false,
            only: only.clone(),
        };
        match run(&job, &region, &pool, &control).await {
            Ok(reports) => {
                for r in reports {
                    let count = |f: fn(&Outcome) -> bool| {
                        r.actions.iter().filter(|a| f(&a.outcome)).count()
                    };
                    tracing::info!(
                        clinic = %r.clinic.slug,
                        patients = r.patients,
                        purged = count(|o| matches!(o, Outcome::Purged(_))),
                        held = count(|o| matches!(o, Outcome::Held { .. })),
                        expired_keys = r.expired_keys,
                        skipped = r.skipped,
                        "retention"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "retention run failed"),
        }
    }
}

/// One clinic, under its lock (unless a dry run): skipped when another run holds it.
async fn run_clinic(
    job: &RetentionJob,
    pool: &Pool,
    clinic: Clinic,
) -> Result<ClinicReport, JobError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let schema = clinic.slug.schema_name();
    if job.dry_run {
        return run_locked(job, &mut client, clinic).await;
    }
    let locked: bool = client.query_one(LOCK_SQL, &[&schema]).await?.get(0);
    if !locked {
        let policy = policy_for(&clinic.country);
        return Ok(ClinicReport {
            rule: Rule::of_policy(&policy),
            citation: retention::citation(&policy),
            clinic,
            patients: 0,
            actions: Vec::new(),
            expired_keys: 0,
            skipped: true,
        });
    }
    let result = run_locked(job, &mut client, clinic).await;
    // Released on every path (a pooled session would keep it); the run's own error first.
    let unlocked = client.execute(UNLOCK_SQL, &[&schema]).await;
    let report = result?;
    unlocked?;
    Ok(report)
}

/// One clinic: read every patient's facts, decide, purge what is due and not held.
async fn run_locked(
    job: &RetentionJob,
    client: &mut deadpool_postgres::Client,
    clinic: Clinic,
) -> Result<ClinicReport, JobError> {
    let policy = policy_for(&clinic.country);
    let rule = Rule::of_policy(&policy);
    let rule_json = rule.to_json();
    let today = job.now.date_naive();

    let tx = client.transaction().await?;
    db::pin_schema(&tx, &clinic.slug).await?;
    if !job.dry_run {
        record_country(&tx, &clinic.country).await?;
    }
    let rows = tx
        .query(
            "SELECT p.id, f.birth, f.death, f.last_visit, f.last_reading, f.last_entry, \
                    retention_keep_until($1, f.birth, f.death, \
                        retention_anchor($1, f.last_visit, f.last_reading, f.last_entry)) AS keep_until, \
                    h.reason \
             FROM patients p CROSS JOIN LATERAL retention_facts(p.id, $2) f \
             LEFT JOIN legal_holds h ON h.patient = p.id \
             ORDER BY p.seq",
            &[&rule_json, &job.now],
        )
        .await?;
    let expired_keys: i64 = if job.dry_run {
        tx.query_one(
            &format!(
                "SELECT count(*) FROM idempotency_keys WHERE created_at < $1::timestamptz - interval '{KEYS_KEPT}'"
            ),
            &[&job.now],
        )
        .await?
        .get(0)
    } else {
        let n = tx
            .execute(
                &format!(
                    "DELETE FROM idempotency_keys WHERE created_at < $1::timestamptz - interval '{KEYS_KEPT}'"
                ),
                &[&job.now],
            )
            .await?;
        i64::try_from(n).unwrap_or(i64::MAX)
    };
    tx.commit().await?;

    let mut due = Vec::new();
    for row in &rows {
        let id: Uuid = row.get(0);
        let facts = Facts {
            birth: row.get(1),
            death: row.get(2),
            last_visit: row.get(3),
            last_reading: row.get(4),
            last_entry: row.get(5),
        };
        let database: Option<NaiveDate> = row.get(6);
        let decision = rule.decide(&facts);
        if database != Some(decision.keep_until) {
            return Err(JobError::Disagree {
                slug: clinic.slug.clone(),
                patient: id.to_string(),
                engine: retention::iso(decision.keep_until),
                database: database.map_or("never".to_owned(), retention::iso),
            });
        }
        if decision.due(today) {
            due.push((id, decision, row.get::<_, Option<String>>(7)));
        }
    }

    let mut actions = Vec::with_capacity(due.len());
    for (id, decision, hold) in due {
        let outcome = match hold {
            Some(reason) => Outcome::Held { reason },
            None if job.dry_run => Outcome::WouldPurge,
            None => purge(client, &clinic.slug, id, &rule_json, job.now).await?,
        };
        actions.push(Action {
            patient: id.to_string(),
            keep_until: decision.keep_until,
            clause: decision.clause,
            outcome,
        });
    }
    Ok(ClinicReport {
        citation: retention::citation(&policy),
        clinic,
        rule,
        patients: rows.len(),
        actions,
        expired_keys,
        skipped: false,
    })
}

/// Purges one patient's record in a transaction of its own, with its audit event.
async fn purge(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    id: Uuid,
    rule: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Outcome, JobError> {
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let row = tx
        .query_one(
            "SELECT outcome, appointments, slots_freed, observations, consents, cached \
             FROM retention_purge($1, $2, $3)",
            &[&id, rule, &now],
        )
        .await?;
    let outcome: String = row.get(0);
    let result = match outcome.as_str() {
        "purged" => {
            let count = |i: usize| row.get::<_, Option<i32>>(i).unwrap_or(0);
            db::append_audit(
                &tx,
                ACTOR,
                &AuditEntry::new(
                    "purge",
                    PURGE_STATEMENT,
                    "Patient",
                    vec![Some(id.to_string())],
                ),
            )
            .await?;
            Outcome::Purged(Purged {
                appointments: count(1),
                slots_freed: count(2),
                observations: count(3),
                consents: count(4),
                cached: count(5),
            })
        }
        // Held meanwhile, or a visit came in, or gone: nothing was deleted.
        _ => Outcome::KeptMeanwhile,
    };
    tx.commit().await?;
    Ok(result)
}
