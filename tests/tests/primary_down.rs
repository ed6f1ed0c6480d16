//! eu-west's primary crashes (`pg_ctl stop -m immediate`): through both edges, writes get
//! a 503 `OperationOutcome` with `Retry-After` and change nothing; reads keep being served
//! by the replica, their audit trail spooled on the regional-db's disk; pages keep
//! rendering (the directory falls back to the replica). The primary comes back: writes
//! succeed again and the spooled trail lands in the clinic's `audit_events`. Restarts what
//! it crashes, so later tests see the whole stack.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use telemed_e2e::{
    EDGES, Edge, new_clinic, post_patient, psql, region_metric, schema_of, stack, token,
};

/// Starts the primary again even when an assertion fails.
struct Revive;

impl Drop for Revive {
    fn drop(&mut self) {
        stack()
            .start_primary("eu-west")
            .expect("restarting eu-west's primary");
    }
}

/// A gauge summed over eu-west's instances.
fn spooled() -> u64 {
    region_metric("eu-west", "regional_audit_spooled_events", None)
}

#[test]
fn with_the_primary_down_writes_are_refused_clearly_and_reads_and_pages_continue() {
    let eu = stack().region("eu-west").unwrap();
    let replica = eu
        .replica_database_url
        .clone()
        .expect("eu-west has a streaming replica (infra/regions.toml)");
    let slug = new_clinic("pd", "Clinique Panne", "FR");
    let schema = schema_of(&slug);
    let auth = format!("Bearer {}", token(&slug, "system/Patient.cruds"));

    let r = post_patient(Edge::Workers, &slug, &auth, "Avant");
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Acknowledged means flushed on the synchronous standby; wait until it is replayed too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while psql(
        &replica,
        &format!("SELECT count(*) FROM {schema}.patients WHERE id = '{id}'"),
    ) != "1"
    {
        assert!(
            Instant::now() < deadline,
            "the write never reached the replica"
        );
        thread::sleep(Duration::from_millis(50));
    }
    let patients_before = psql(
        &eu.database_url,
        &format!("SELECT count(*) FROM {schema}.patients"),
    );
    let fallbacks_before = region_metric(
        "eu-west",
        "regional_directory_fallbacks_total",
        Some(("source", "replica")),
    );

    stack().crash_primary("eu-west").unwrap();
    let revive = Revive;

    // Each edge reads the patient once and lists it once (finding it alone): one audit event
    // each. Nothing else is read in eu-west meanwhile (the end-to-end binaries run one at a
    // time, and this one has one test), so the spool holds exactly these.
    let reads = 2 * EDGES.len() as u64;
    for edge in EDGES {
        let r = post_patient(edge, &slug, &auth, "Pendant");
        assert_eq!(r.status(), 503, "{edge:?}: a write without a primary");
        assert_eq!(r.headers()["retry-after"], "1", "{edge:?}");
        let body: Value = r.json().unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome", "{edge:?}");
        assert_eq!(body["issue"][0]["code"], "transient", "{edge:?}: {body}");

        let r = edge.get(
            &edge.host_for(&slug),
            &format!("/v1/patients/{id}"),
            &[("authorization", &auth)],
        );
        assert_eq!(r.status(), 200, "{edge:?}: reads continue from the replica");
        assert_eq!(r.json::<Value>().unwrap()["name"][0]["family"], "Avant");
        let r = edge.get(
            &edge.host_for(&slug),
            "/v1/patients",
            &[("authorization", &auth)],
        );
        assert_eq!(r.status(), 200, "{edge:?}: searches too");
        assert_eq!(r.json::<Value>().unwrap()["total"], 1, "{edge:?}");
    }
    assert_eq!(
        spooled(),
        reads,
        "the audit events of the reads wait in the spool"
    );

    // A page for a clinic no cache knows: its directory entry comes from the replica.
    let page = Edge::Spin.get(
        &Edge::Spin.host_for(&slug),
        "/",
        &[
            ("x-dev-geo-country", "FR"),
            ("x-dev-geo-continent", "EU"),
            ("accept-language", "fr"),
        ],
    );
    assert_eq!(page.status(), 200, "pages keep rendering");
    assert!(page.text().unwrap().contains("Clinique Panne"));
    // A lower bound only: which instance serves what, and whether its cached entry of this
    // clinic had expired during the reads above (each then read the replica too), is timing.
    assert!(
        region_metric(
            "eu-west",
            "regional_directory_fallbacks_total",
            Some(("source", "replica")),
        ) > fallbacks_before,
        "the directory was read from the replica"
    );

    drop(revive);
    // Back: the standby reconnects within seconds, then writes are acknowledged again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = post_patient(Edge::Workers, &slug, &auth, "Apres");
        if r.status() == 201 {
            break;
        }
        assert_eq!(
            r.status(),
            503,
            "while the primary recovers, only 503: {}",
            r.text().unwrap()
        );
        assert!(Instant::now() < deadline, "writes never came back");
        thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        psql(
            &eu.database_url,
            &format!("SELECT count(*) FROM {schema}.patients WHERE family <> 'Apres'"),
        ),
        patients_before,
        "the refused writes changed nothing"
    );
    // The spooled trail lands in the clinic's audit_events, with the reads' ids.
    let deadline = Instant::now() + Duration::from_secs(30);
    while spooled() > 0 {
        assert!(
            Instant::now() < deadline,
            "the audit spool was never drained"
        );
        thread::sleep(Duration::from_millis(200));
    }
    let drained = psql(
        &eu.database_url,
        &format!(
            "SELECT count(*) FROM {schema}.audit_events WHERE spool_id IS NOT NULL AND resource_id = '{id}'"
        ),
    );
    // Each once: a drain repeated after a failure inserts nothing twice (`spool_id`).
    assert_eq!(
        drained.parse::<u64>().unwrap(),
        reads,
        "the spooled reads of {id} are in the trail"
    );
}
