//! The tenant directory as this region sees it: the catalog's control statements over the
//! control database, with a short in-memory cache.
//!
//! Every batch needs its clinic's entry (home region, status), so entries are cached for a
//! few seconds: a suspension or a move takes effect within that time, and the control
//! database — possibly on another continent — is not asked on every request.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use deadpool_postgres::Pool;
use serde_json::Value;
use telemed_shared::{
    dataplane::{
        catalog::{self, names},
        wire::RegionError,
    },
    tenant::{TenantEntry, TenantSlug},
};

use crate::{db, error, params};

/// The directory over the control database.
pub struct Directory {
    pool: Pool,
    ttl: Duration,
    cache: Mutex<HashMap<TenantSlug, (Instant, TenantEntry)>>,
}

impl Directory {
    pub fn new(pool: Pool, ttl: Duration) -> Self {
        Self {
            pool,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The entry of `slug` (cached), or `None` if no such clinic.
    pub async fn by_slug(&self, slug: &TenantSlug) -> Result<Option<TenantEntry>, RegionError> {
        if let Some((at, entry)) = self.cache.lock().expect("directory cache").get(slug)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(entry.clone()));
        }
        let entry = self.query(names::DIRECTORY_BY_SLUG, slug.as_str()).await?;
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

    async fn query(&self, name: &str, key: &str) -> Result<Option<TenantEntry>, RegionError> {
        let stmt = catalog::lookup(name).expect("directory statements are in the catalog");
        let params = params::convert(stmt, 0, &[Value::String(key.to_owned())])?;
        let client = self.pool.get().await.map_err(|e| error::from_pool(&e))?;
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
