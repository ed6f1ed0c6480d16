//! Read/write split with read-your-writes, through both edges, against eu-west's real
//! streaming replica: reads go to the replica; a write answers `X-Telemed-Lsn`; with replay
//! paused, a read that carries it (`X-Telemed-Min-Lsn`) bypasses the lagging replica and
//! sees the write, while a search without it is served — stale — by the replica (a read
//! by id the replica misses is confirmed by the primary).

use serde_json::json;
use telemed_e2e::{EDGES, new_clinic, psql, region_metric, schema_of, stack, token};

/// Resumes replay even when an assertion fails, so later tests see a healthy replica.
struct Resume<'a>(&'a str);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        psql(self.0, "SELECT pg_wal_replay_resume()");
    }
}

fn replica_reads() -> u64 {
    region_metric(
        "eu-west",
        "regional_reads_total",
        Some(("target", "replica")),
    )
}

#[test]
fn a_write_is_visible_to_its_writer_even_when_the_replica_lags() {
    let replica = stack()
        .region("eu-west")
        .unwrap()
        .replica_database_url
        .clone()
        .expect("eu-west has a streaming replica (infra/regions.toml)");
    let slug = new_clinic("ryw", "Clinique Lecture", "FR");
    let auth = format!("Bearer {}", token(&slug, "system/Patient.cruds"));
    // The clinic's schema must have reached the replica before it can serve it.
    let schema = schema_of(&slug);
    let on_replica = || {
        psql(
            &replica,
            &format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"),
        ) == "1"
    };
    for _ in 0..100 {
        if on_replica() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        on_replica(),
        "the new clinic's schema never reached the replica"
    );
    for edge in EDGES {
        let host = edge.host_for(&slug);
        let before = replica_reads();
        let r = edge.get(&host, "/v1/patients", &[("authorization", &auth)]);
        assert_eq!(r.status(), 200);
        assert!(
            replica_reads() > before,
            "{edge:?}: reads are served by the replica"
        );

        psql(&replica, "SELECT pg_wal_replay_pause()");
        let resume = Resume(&replica);
        let body =
            json!({"resourceType": "Patient", "name": [{"family": "Lag", "given": ["Read"]}],
                          "gender": "male", "birthDate": "1970-01-01"})
            .to_string();
        let r = edge.request(
            "POST",
            &host,
            "/v1/patients",
            &[
                ("authorization", &auth),
                ("content-type", "application/fhir+json"),
            ],
            Some(&body),
        );
        assert_eq!(r.status(), 201);
        let lsn = r.headers()["x-telemed-lsn"].to_str().unwrap().to_owned();
        assert!(lsn.starts_with("eu-west:"), "{edge:?}: {lsn}");
        let id = r.json::<serde_json::Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/v1/patients/{id}");

        // Without the LSN, a search is the replica's to answer, stale as it is…
        let stale = edge.get(
            &host,
            &format!("/v1/patients?_id={id}"),
            &[("authorization", &auth)],
        );
        assert_eq!(stale.status(), 200);
        assert_eq!(
            stale.json::<serde_json::Value>().unwrap()["total"],
            0,
            "{edge:?}: the paused replica has not seen the write"
        );
        // …but a read by id the replica misses is confirmed by the primary (a generic FHIR
        // client reads back what it created without sending any LSN).
        let unsent = edge.get(&host, &path, &[("authorization", &auth)]);
        assert_eq!(
            unsent.status(),
            200,
            "{edge:?}: a miss is not a 404 to trust"
        );
        let fresh = edge.get(
            &host,
            &path,
            &[("authorization", &auth), ("x-telemed-min-lsn", &lsn)],
        );
        assert_eq!(
            fresh.status(),
            200,
            "{edge:?}: the writer's read bypasses the lagging replica"
        );

        drop(resume);
        let mut caught_up = false;
        for _ in 0..100 {
            let found = edge.get(
                &host,
                &format!("/v1/patients?_id={id}"),
                &[("authorization", &auth)],
            );
            if found.json::<serde_json::Value>().unwrap()["total"] == 1 {
                caught_up = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            caught_up,
            "{edge:?}: the replica catches up once replay resumes"
        );
    }
}
