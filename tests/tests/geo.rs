//! Geo routing: a cold edge asks the NEAREST region for what it does not know (the clinic's
//! directory entry, which a cold home page gets with its data in one batch that the nearest
//! region forwards to the clinic's home). On Workers the geo
//! comes from `request.cf` (set per request through Miniflare, the workerd test harness);
//! on the Spin edge from the `x-dev-geo-*` headers, honoured only because the local stack
//! turns `DEV_GEO_HEADERS` on. Counted on the regions' side, in a binary of its own.

use serde_json::{Value, json};
use telemed_e2e::{Edge, Miniflare, new_clinic, region_metric};

/// What edges asked `region`: directory look-ups and batches (not the batches regions
/// forward to each other).
fn edge_calls(region: &str) -> u64 {
    region_metric(region, "regional_directory_requests_total", None)
        + region_metric(
            region,
            "regional_batch_requests_total",
            Some(("origin", "edge")),
        )
}

/// A placement: Cloudflare's `cf`, the Spin edge's dev headers, the region to be asked.
type Placement = (Value, Vec<(&'static str, &'static str)>, &'static str);

fn placements() -> Vec<Placement> {
    vec![
        (
            json!({"country": "ZA", "continent": "AF", "colo": "JNB", "latitude": "-26.2", "longitude": "28.0"}),
            vec![("x-dev-geo-country", "ZA"), ("x-dev-geo-colo", "JNB")],
            "af-south",
        ),
        (
            json!({"country": "US", "continent": "NA", "colo": "IAD", "latitude": "38.9", "longitude": "-77.0"}),
            vec![("x-dev-geo-country", "US")],
            "us-east",
        ),
        (
            // Unmapped country: the coordinates decide (Nairobi is nearest Johannesburg).
            json!({"country": "UG", "continent": "AF", "colo": "NBO", "latitude": "0.3", "longitude": "32.6"}),
            vec![
                ("x-dev-geo-country", "UG"),
                ("x-dev-geo-lat", "0.3"),
                ("x-dev-geo-lon", "32.6"),
            ],
            "af-south",
        ),
        (
            json!({"country": "FR", "continent": "EU", "colo": "CDG", "latitude": "48.9", "longitude": "2.4"}),
            vec![("x-dev-geo-country", "FR")],
            "eu-west",
        ),
    ]
}

#[test]
fn a_cold_edge_asks_the_nearest_region() {
    let mut workers = Miniflare::start(&[]);
    for (cf, dev_headers, region) in placements() {
        // A clinic homed in eu-west, unseen by any edge: only the placement picks the region.
        let slug = new_clinic("geo", "Clinique Géo", "FR");
        let host = format!("{slug}.localhost");

        let before = edge_calls(region);
        let answer = workers.send(&json!({ "url": format!("http://{host}/"), "cf": cf }));
        assert_eq!(answer["status"], 200, "workers {cf}");
        assert_eq!(
            edge_calls(region) - before,
            1,
            "workers placed at {cf} must ask {region}"
        );

        let before = edge_calls(region);
        let r = Edge::Spin.get(&Edge::Spin.host_for(&slug), "/", &dev_headers);
        assert_eq!(r.status(), 200);
        assert_eq!(
            edge_calls(region) - before,
            1,
            "spin placed by {dev_headers:?} must ask {region}"
        );
    }
}
