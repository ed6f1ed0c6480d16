//! Failover without losing an acknowledged write. eu-west's primary has its replica as
//! synchronous standby (a commit is acknowledged once the standby has flushed it). Writers
//! POST patients in a loop through both edges; the primary crashes; the replica is
//! promoted; the writers go on. Afterwards every write that got a 2xx must be there, on
//! the new primary and through the API; every other answer must be a 503 with
//! `Retry-After`.
//!
//! Destructive: the stack has no replica afterwards. `cargo xtask test` runs it last, alone
//! (`--skip destructive_` for the other suites, then this binary), with
//! `TELEMED_DESTRUCTIVE=1`; it refuses to run without it, so a `cargo test` against a
//! `cargo xtask up` stack does not silently wreck it.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use telemed_e2e::{EDGES, new_clinic, post_patient, psql, schema_of, stack, token};

#[derive(Default)]
struct Outcomes {
    /// (family, id, when the answer came) of every write answered 2xx, in order.
    acknowledged: Vec<(String, String, Instant)>,
    /// (status, Retry-After, body) of every other answer.
    refused: Vec<(u16, Option<String>, String)>,
}

fn wait_for(what: &str, timeout: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn destructive_promoting_the_replica_loses_no_acknowledged_write() {
    assert_eq!(
        std::env::var("TELEMED_DESTRUCTIVE").as_deref(),
        Ok("1"),
        "this test promotes eu-west's replica and leaves the stack without one: \
         `cargo xtask test` runs it with TELEMED_DESTRUCTIVE=1 at the end"
    );
    let eu = stack().region("eu-west").unwrap();
    assert!(eu.replica_pg.is_some(), "eu-west has a streaming replica");
    let slug = new_clinic("bascule", "Clinique Bascule", "FR");
    let auth = format!("Bearer {}", token(&slug, "system/Patient.cruds"));

    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = EDGES
        .into_iter()
        .map(|edge| {
            let (outcomes, stop, counter) = (outcomes.clone(), stop.clone(), counter.clone());
            let (slug, auth) = (slug.clone(), auth.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let family = format!("Bascule{}", counter.fetch_add(1, Ordering::Relaxed));
                    let r = post_patient(edge, &slug, &auth, &family);
                    let status = r.status().as_u16();
                    let retry_after = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let text = r.text().unwrap_or_default();
                    let mut o = outcomes.lock().unwrap();
                    if (200..300).contains(&status) {
                        let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
                            .as_str()
                            .expect("a created patient has an id")
                            .to_owned();
                        o.acknowledged.push((family, id, Instant::now()));
                    } else {
                        o.refused.push((status, retry_after, text));
                    }
                    drop(o);
                    thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();
    let acknowledged = || outcomes.lock().unwrap().acknowledged.len();

    wait_for("writes before the crash", Duration::from_secs(60), || {
        acknowledged() >= 40
    });
    let crashing = Instant::now();
    stack().crash_primary("eu-west").unwrap();
    let crashed = Instant::now();
    // The region has no primary for a while: writers get 503s.
    thread::sleep(Duration::from_secs(2));
    let promoting = Instant::now();
    stack().promote_replica("eu-west").unwrap();
    let at_promotion = acknowledged();
    wait_for(
        "writes on the promoted replica",
        Duration::from_secs(60),
        || acknowledged() >= at_promotion + 40,
    );
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("a writer panicked");
    }
    let outcomes = Arc::try_unwrap(outcomes)
        .ok()
        .expect("writers are done")
        .into_inner()
        .unwrap();

    // Every refusal was the clear, retryable kind.
    for (status, retry_after, body) in &outcomes.refused {
        assert_eq!(*status, 503, "only 503s during the failover: {body}");
        assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
        assert!(body.contains("OperationOutcome"), "{body}");
    }
    // How many is timing (the writers loop through the 2 s without a primary): at least one.
    assert!(
        !outcomes.refused.is_empty(),
        "writes were refused while there was no primary"
    );

    // Every acknowledged write is on the new primary…
    let schema = schema_of(&slug);
    let stored: std::collections::HashSet<String> = psql(
        &eu.database_url,
        &format!("SELECT id::text || ' ' || family FROM {schema}.patients"),
    )
    .lines()
    .map(str::to_owned)
    .collect();
    let lost: Vec<_> = outcomes
        .acknowledged
        .iter()
        .filter(|(family, id, _)| !stored.contains(&format!("{id} {family}")))
        .collect();
    // …and readable through the API.
    let unreadable: Vec<_> = outcomes
        .acknowledged
        .iter()
        .filter(|(family, id, _)| {
            let edge = EDGES[family.len() % 2];
            let r = edge.get(
                &edge.host_for(&slug),
                &format!("/v1/patients/{id}"),
                &[("authorization", &auth)],
            );
            r.status() != 200
                || r.json::<Value>().unwrap()["name"][0]["family"].as_str() != Some(family)
        })
        .collect();
    let acked_between = |from: Instant, to: Instant| {
        outcomes
            .acknowledged
            .iter()
            .filter(|(_, _, at)| (from..to).contains(at))
            .count()
    };
    let end = Instant::now();
    // Answers of writes already committed when the crash began can arrive during it.
    let during = acked_between(crashed, promoting);
    assert!(
        during <= EDGES.len(),
        "{during} writes acknowledged with no primary: more than the writers had in flight"
    );
    eprintln!(
        "failover: {} writes acknowledged ({} before the crash, {} while it happened, {during} in \
         flight, {} once the replica was promoted), {} refused with 503 while eu-west had no \
         primary; {} acknowledged writes lost, {} unreadable",
        outcomes.acknowledged.len(),
        acked_between(outcomes.acknowledged[0].2, crashing),
        acked_between(crashing, crashed),
        acked_between(promoting, end),
        outcomes.refused.len(),
        lost.len(),
        unreadable.len()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        unreadable.is_empty(),
        "acknowledged writes unreadable: {unreadable:?}"
    );
}
