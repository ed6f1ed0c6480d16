//! High availability inside a region: with one of eu-west's two `regional-db` instances
//! killed, both edges keep answering through the other; with both down, a clear 503 with
//! `Retry-After`; restarted, service resumes. Restores what it kills, so later tests see
//! the whole stack.

use telemed_e2e::{EDGES, KilledInstances, metric_sum, new_clinic, stack, token};
use telemed_shared::geo::RegionMap;

fn batches_at(url: &str) -> u64 {
    let text = reqwest::blocking::get(format!("{url}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    metric_sum(
        &text,
        "regional_batch_requests_total",
        Some(("origin", "edge")),
    )
}

#[test]
fn a_region_serves_through_its_other_instance_and_fails_clearly_without_any() {
    let eu = stack().region("eu-west").unwrap();
    let shape = RegionMap::embedded().get("eu-west").unwrap().instances;
    assert_eq!(
        eu.urls.len(),
        usize::from(shape),
        "the stack runs eu-west's instances of infra/regions.toml"
    );
    assert_eq!(
        eu.urls.len(),
        2,
        "this test kills instance 0, then 1, and then expects none left"
    );
    let slug = new_clinic("ha", "Clinique Haute Dispo", "FR");
    let auth = format!("Bearer {}", token(&slug, "system/Patient.cruds"));
    let list = |edge: telemed_e2e::Edge| {
        edge.get(
            &edge.host_for(&slug),
            "/v1/patients",
            &[("authorization", &auth)],
        )
    };
    // Warm both edges' directory so their API calls go straight to the home region.
    for edge in EDGES {
        assert_eq!(list(edge).status(), 200);
    }

    let mut killed = KilledInstances::new("eu-west");
    killed.kill(0);
    let survivor = eu.urls[1].clone();
    for edge in EDGES {
        let before = batches_at(&survivor);
        for _ in 0..6 {
            let r = list(edge);
            assert_eq!(
                r.status(),
                200,
                "{edge:?}: one instance down must not be an error"
            );
        }
        assert_eq!(
            batches_at(&survivor) - before,
            6,
            "{edge:?}: all served by the other instance"
        );
    }

    killed.kill(1);
    for edge in EDGES {
        let r = list(edge);
        assert_eq!(r.status(), 503, "{edge:?}: no instance left");
        assert_eq!(r.headers()["retry-after"], "1");
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome");
    }

    drop(killed);
    for edge in EDGES {
        assert_eq!(list(edge).status(), 200, "{edge:?}: back after the restart");
    }
}
