//! The per-request context: the ports, the configuration, the region client and the work
//! deferred past the response. Both the page flow ([`crate::edge`]) and the API
//! ([`crate::api`]) take it; it knows neither, so neither knows the other through it.

use crate::{
    config::EdgeConfig,
    dataplane::client::{DataError, RegionClient},
    directory,
    geo::{GeoHint, RegionId},
    host::{Background, Host},
    tenant::{TenantEntry, TenantSelector},
};

/// Per-request state: the ports, the region client and the work deferred past the response.
pub struct Ctx<'a, H: Host> {
    pub host: &'a H,
    pub config: &'a EdgeConfig,
    pub geo: GeoHint,
    pub region: RegionClient<'a, H>,
    background: Vec<Background>,
}

impl<'a, H: Host> Ctx<'a, H> {
    pub fn new(host: &'a H, config: &'a EdgeConfig, geo: GeoHint) -> Self {
        let edge = edge_location(config, &geo);
        Self {
            host,
            config,
            geo,
            region: RegionClient::new(host, config).at(edge),
            background: Vec::new(),
        }
    }

    /// Work to run after the response is sent (cache writes, timing beacons).
    pub fn defer(&mut self, work: Background) {
        self.background.push(work);
    }

    /// The deferred work, for [`crate::host::Handled`].
    pub fn into_background(self) -> Vec<Background> {
        self.background
    }

    pub fn now_secs(&self) -> u64 {
        self.host.now_millis() / 1000
    }

    /// The region this edge calls when it does not know a clinic's home.
    pub fn nearest_region(&self) -> RegionId {
        self.config.regions.nearest(&self.geo).id.clone()
    }

    /// The directory entry from the edge cache only: `Some(None)` is a remembered miss.
    pub async fn cached_tenant(&self, selector: &TenantSelector) -> Option<Option<TenantEntry>> {
        directory::cached(self.host, selector).await
    }

    /// The directory entry: edge cache, else one call to the nearest region.
    pub async fn tenant(
        &mut self,
        selector: &TenantSelector,
    ) -> Result<Option<TenantEntry>, DataError> {
        if let Some(hit) = self.cached_tenant(selector).await {
            return Ok(hit);
        }
        let entry = self
            .region
            .directory(&self.nearest_region(), selector)
            .await?;
        self.remember_tenant(selector, entry.as_ref());
        Ok(entry)
    }

    /// Caches what a region said about a clinic, after the response.
    pub fn remember_tenant(&mut self, selector: &TenantSelector, entry: Option<&TenantEntry>) {
        self.background.extend(directory::remember(selector, entry));
    }
}

/// Where an edge runs, as the audit trail records it: the region nearest to its PoP, then
/// the PoP's colo when the platform names one (`eu-west/CDG`; a generic wasi:http host
/// names none: `eu-west`).
pub fn edge_location(config: &EdgeConfig, geo: &GeoHint) -> String {
    let region = &config.regions.nearest(geo).id;
    match &geo.colo {
        Some(colo) => format!("{region}/{colo}"),
        None => region.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::auth::SigningKey;

    #[test]
    fn the_edge_names_its_nearest_region_and_its_colo() {
        let vars: HashMap<&str, String> = HashMap::from([
            ("APEX_DOMAIN", "localhost".into()),
            ("REGION_URLS", "eu-west=http://eu.test".into()),
            ("EDGE_TOKEN_KEY", SigningKey::from_seed([2; 32]).to_base64()),
            ("SESSION_KEYS", crate::config::TEST_SESSION_KEYS.into()),
            (
                "API_TOKEN_PUBLIC_KEYS",
                SigningKey::from_seed([1; 32]).public_base64(),
            ),
        ]);
        let config = EdgeConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
        let jnb = GeoHint::from_parts(Some("ZA"), Some("AF"), None, None, Some("JNB"));
        assert_eq!(edge_location(&config, &jnb), "af-south/JNB");
        // A host that says nothing of where it runs: the default region alone.
        assert_eq!(edge_location(&config, &GeoHint::default()), "eu-west");
    }
}
