//! `stale-if-error` at the edge: a cached page past its freshness is rendered anew when it
//! can be, and served stale (`X-Cache: STALE`) when the region it needs cannot answer. On
//! the Workers edge in Miniflare, placed in France (eu-west is nearest) with pages fresh for
//! one second (`PAGE_MAX_AGE=1`); eu-west's two `regional-db` instances are killed to make
//! the directory unreachable, then restarted. The Spin edge has no cache: nothing to test.

use std::{thread, time::Duration};

use serde_json::{Value, json};
use telemed_e2e::{KilledInstances, Miniflare, new_clinic};
use telemed_shared::cache::DIRECTORY_TTL_SECS;

#[test]
fn a_cached_page_keeps_serving_when_its_region_fails() {
    let slug = new_clinic("stale", "Clinique Ancienne", "FR");
    let mut workers = Miniflare::start(&[("PAGE_MAX_AGE", "1")]);
    let request = json!({
        "url": format!("http://{slug}.localhost/"),
        "headers": {"accept-language": "fr"},
        "cf": {"country": "FR", "continent": "EU", "colo": "CDG", "latitude": "48.9", "longitude": "2.4"},
    });
    let mut get = || workers.send(&request);
    let x_cache = |r: &Value| r["headers"]["x-cache"].as_str().unwrap_or("").to_owned();

    let first = get();
    assert_eq!(first["status"], 200);
    assert_eq!(x_cache(&first), "MISS");
    assert!(
        first["body"]
            .as_str()
            .unwrap()
            .contains("Clinique Ancienne")
    );
    // The cache is filled after the response (waitUntil): wait for the hit.
    let mut hit = get();
    for _ in 0..20 {
        if x_cache(&hit) == "HIT" {
            break;
        }
        thread::sleep(Duration::from_millis(50));
        hit = get();
    }
    assert_eq!(x_cache(&hit), "HIT");

    let mut killed = KilledInstances::new("eu-west");
    killed.kill(0);
    killed.kill(1);
    // Past the page's freshness and the edge's directory entry: the page needs a region.
    thread::sleep(Duration::from_secs(DIRECTORY_TTL_SECS + 2));
    let stale = get();
    assert_eq!(stale["status"], 200, "{stale}");
    assert_eq!(x_cache(&stale), "STALE");
    assert_eq!(
        stale["body"], first["body"],
        "the copy served is the cached page"
    );
    let age: u64 = stale["headers"]["age"].as_str().unwrap().parse().unwrap();
    assert!(age > DIRECTORY_TTL_SECS, "age {age}");
    assert!(
        stale["headers"]["cache-control"]
            .as_str()
            .unwrap()
            .contains("stale-if-error="),
        "{stale}"
    );

    drop(killed);
    let fresh = get();
    assert_eq!(fresh["status"], 200);
    assert_eq!(
        x_cache(&fresh),
        "MISS",
        "rendered anew once the region is back"
    );
}
