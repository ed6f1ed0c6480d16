//! The tenant directory as the edge sees it: entries cached at the edge for seconds
//! (misses too, so a flood of invented subdomains does not reach the regions), filled
//! from the nearest region or from the directory piggy-backed on a batch.

use http::Response;
use serde::{Deserialize, Serialize};

use crate::{
    cache::{DIRECTORY_MISS_TTL_SECS, DIRECTORY_TTL_SECS, directory_key},
    host::{Background, Host},
    tenant::{TenantEntry, TenantSelector},
};

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    Found { entry: TenantEntry },
    Missing,
}

fn key(selector: &TenantSelector) -> String {
    match selector {
        TenantSelector::Slug(s) => directory_key("slug", s.as_str()),
        TenantSelector::Domain(d) => directory_key("domain", d),
    }
}

/// What the edge cache knows: `None` if nothing, `Some(None)` for a remembered miss.
pub async fn cached<H: Host>(host: &H, selector: &TenantSelector) -> Option<Option<TenantEntry>> {
    let response = host.cache_get(&key(selector)).await?;
    match serde_json::from_slice::<Record>(response.body()).ok()? {
        Record::Found { entry } => Some(Some(entry)),
        Record::Missing => Some(None),
    }
}

/// A cache fill for what a region said about `selector` (an entry, or that none exists).
/// A found entry is also remembered under its slug, so a custom-domain visit warms both.
pub fn remember(selector: &TenantSelector, entry: Option<&TenantEntry>) -> Vec<Background> {
    let put = |key: String, record: &Record, ttl: u64| Background::CachePut {
        key,
        response: Response::builder()
            .header("content-type", "application/json")
            .header("cache-control", format!("max-age={ttl}"))
            .body(serde_json::to_vec(record).expect("directory record serialises"))
            .expect("static response parts"),
    };
    match entry {
        Some(e) => {
            let record = Record::Found { entry: e.clone() };
            let mut fills = vec![put(key(selector), &record, DIRECTORY_TTL_SECS)];
            let by_slug = TenantSelector::Slug(e.slug.clone());
            if &by_slug != selector {
                fills.push(put(key(&by_slug), &record, DIRECTORY_TTL_SECS));
            }
            fills
        }
        None => vec![put(
            key(selector),
            &Record::Missing,
            DIRECTORY_MISS_TTL_SECS,
        )],
    }
}
