//! The tenant directory as this region sees it: the catalog's control statements over the
//! control database, with a short in-memory cache.
//!
//! Every batch needs its clinic's entry (home region, status), so entries are cached for a
//! few seconds: a suspension or a move takes effect within that time, and the control
//! database — possibly on another continent — is not asked on every request.
//!
//! When the control database cannot answer (its primary is down or saturated), the
//! region's replica is asked instead, and failing that an expired entry is served for up to
//! [`STALE_FOR`]: a clinic keeps being found through a primary failure, and pages keep
//! rendering. Each fallback is counted in `regional_directory_fallbacks_total{source}`.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use deadpool_postgres::Pool;
use prometheus::IntCounterVec;
use serde_json::Value;
use telemed_shared::{
    dataplane::{
        catalog::{self, names},
        wire::RegionError,
    },
    tenant::{TenantEntry, TenantSlug},
};

use crate::{db, error, params};

/// How long an expired entry may still be served when no database can answer.
pub const STALE_FOR: Duration = Duration::from_secs(600);

/// The directory over the control database.
pub struct Directory {
    pool: Pool,
    /// The control database's replica, asked when its primary cannot answer.
    replica: Option<Pool>,
    fallbacks: Option<IntCounterVec>,
    ttl: Duration,
    cache: Mutex<HashMap<TenantSlug, (Instant, TenantEntry)>>,
}

impl Directory {
    pub fn new(pool: Pool, ttl: Duration) -> Self {
        Self {
            pool,
            replica: None,
            fallbacks: None,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Asks `replica` when the primary cannot answer, and counts fallbacks in `fallbacks`
    /// (label `source`: `replica` or `cache`).
    pub fn with_fallback(mut self, replica: Option<Pool>, fallbacks: IntCounterVec) -> Self {
        self.replica = replica;
        self.fallbacks = Some(fallbacks);
        self
    }

    /// The entry of `slug` (cached), or `None` if no such clinic.
    pub async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<TenantEntry>, RegionError> {
        let cached = self
            .cache
            .lock()
            .expect("directory cache")
            .get(slug)
            .cloned();
        if let Some((at, entry)) = &cached
            && at.elapsed() < self.ttl
        {
            return Ok(Some(entry.clone()));
        }
        let entry = match self.query(names::DIRECTORY_BY_SLUG, slug.as_str()).await {
            // A failure of the database rather than of the question: another source may answer.
            Err(e) if e.code.retryable() => match cached {
                Some((at, entry)) if at.elapsed() < STALE_FOR => {
                    tracing::warn!(tenant = %slug, error = %e, "directory unavailable; serving a stale entry");
                    self.count("cache");
                    return Ok(Some(entry));
                }
                _ => return Err(e),
            },
            other => other?,
        };
        if let Some(e) = &entry {
            let mut cache = self.cache.lock().expect("directory cache");
            // Bounded by the number of clinics; stale entries are replaced on their next use.
            cache.insert(slug.clone(), (Instant::now(), e.clone()));
        }
        Ok(entry)
    }

    /// The entry of the clinic that registered `domain`, or `None`.
    pub async fn by_domain(&self, domain: &str) -> Result<Option<TenantEntry>, RegionError> {
        self.query(names::DIRECTORY_BY_DOMAIN, domain).await
    }

    fn count(&self, source: &str) {
        if let Some(c) = &self.fallbacks {
            c.with_label_values(&[source]).inc();
        }
    }

    /// The primary's answer, or the replica's when the primary cannot give one.
    async fn query(&self, name: &str, key: &str) -> Result<Option<TenantEntry>, RegionError> {
        match (self.query_on(&self.pool, name, key).await, &self.replica) {
            (Err(e), Some(replica)) if e.code.retryable() => {
                let answer = self.query_on(replica, name, key).await;
                if answer.is_ok() {
                    self.count("replica");
                }
                answer
            }
            (answer, _) => answer,
        }
    }

    async fn query_on(
        &self,
        pool: &Pool,
        name: &str,
        key: &str,
    ) -> Result<Option<TenantEntry>, RegionError> {
        let stmt = catalog::lookup(name).expect("directory statements are in the catalog");
        let params = params::convert(stmt, 0, &[Value::String(key.to_owned())])?;
        let client = pool.get().await.map_err(|e| error::from_pool(&e))?;
        let rows = db::query_rows(&client, stmt, &params)
            .await
            .map_err(|e| error::from_postgres(&e))?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        serde_json::from_value(Value::Object(row)).map(Some).map_err(|e| {
            tracing::error!(error = %e, directory = name, "a directory row does not match TenantEntry");
            error::internal()
        })
    }
}
