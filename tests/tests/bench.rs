//! `cargo xtask bench`'s measurements, with tiny counts, against the test stack: every
//! scenario runs (oha through the Workers edge, booking, the booking race and Observation
//! ingestion through the Workers edge, PgBouncer started by the bench beside the us-east
//! cluster) and gives sane numbers. Not a benchmark: a check that the bench works — and
//! that the booking race gives exactly one 201 per slot.

use telemed_e2e::{new_clinic, stack};
use xtask::bench::{self, Counts, Fixture, Scenario};

fn assert_sane(s: &Scenario, expected_requests: u64) {
    assert_eq!(s.requests, expected_requests, "{}: requests sent", s.name);
    assert_eq!(s.errors, 0, "{}: {:?}", s.name, s.error_kinds);
    let l = s
        .latency
        .unwrap_or_else(|| panic!("{}: no latency measured", s.name));
    assert!(l.p50 > 0.0, "{}: p50 {}", s.name, l.p50);
    assert!(
        l.p50 <= l.p95 && l.p95 <= l.p99,
        "{}: p50 {} p95 {} p99 {}",
        s.name,
        l.p50,
        l.p95,
        l.p99
    );
    assert!(s.requests_per_sec > 0.0, "{}: req/s", s.name);
}

#[test]
fn the_bench_measures_every_scenario_with_sane_numbers() {
    let info = stack();
    let slug = new_clinic("bench", "Bench Clinic", bench::BENCH_COUNTRY);
    let fixture = Fixture::prepare(info, &slug).expect("preparing the bench clinic");
    assert_eq!(fixture.region, "us-east");
    let counts = Counts::SMOKE;
    let report = bench::run(info, &fixture, &counts).expect("running the bench");
    let markdown = report.to_markdown();
    println!("{markdown}");

    let [
        page,
        read,
        write,
        app_token,
        booking,
        race_row,
        ingestion,
        connections,
    ] = &report.edge[..]
    else {
        panic!("eight edge scenarios: {:?}", report.edge);
    };
    assert_sane(page, counts.page.requests);
    assert_sane(read, counts.api_read.requests);
    assert_sane(write, counts.api_write.requests);
    assert_sane(app_token, counts.app_token.requests);
    assert_sane(booking, counts.booking.requests);
    assert_sane(ingestion, counts.ingestion.requests);
    assert_sane(connections, counts.connections.requests);

    // The race: every client answered 201 or 409, and exactly one 201 per slot.
    let race = &report.race;
    assert_sane(race_row, counts.race.clients);
    assert_eq!(
        (race.slots, race.clients),
        (counts.race.slots, counts.race.clients)
    );
    assert_eq!(
        race.winners_per_slot,
        vec![1; counts.race.slots as usize],
        "one 201 per slot: {race:?}"
    );
    assert_eq!(
        (race.won, race.refused),
        (counts.race.slots, counts.race.clients - counts.race.slots),
        "{race:?}"
    );
    assert!(race.one_winner_per_slot() && report.fatal_failures().is_empty());
    let race_line = format!(
        "{} winners, {} refused (409)",
        counts.race.slots,
        counts.race.clients - counts.race.slots
    );
    assert!(
        markdown.contains(&race_line),
        "{race_line:?} missing from:\n{markdown}"
    );
    let readings = counts.ingestion.requests * bench::READINGS_PER_BUNDLE as u64;
    assert!(
        ingestion
            .notes
            .iter()
            .any(|n| n.contains(&format!("{readings} readings created of {readings} sent"))),
        "every reading created: {:?}",
        ingestion.notes
    );
    assert!(
        page.notes
            .iter()
            .any(|n| n.starts_with("edge cache hit ratio 100.0%")),
        "a warmed page is all hits: {:?}",
        page.notes
    );

    let c = &report.comparison;
    assert_eq!(c.region, "us-east");
    assert_sane(&c.regional_db, counts.batch.requests);
    assert_sane(&c.pgbouncer, counts.batch.requests);
    // Both sides measured (p50 > 0 above), so ratios exist and are positive: what can still
    // go wrong is the report not stating them. (`report.failures()` needs no check either:
    // the report's scenarios are all asserted error-free above, and the race right.)
    let (p50, p95) = (
        c.ratio_p50().expect("p50 ratio"),
        c.ratio_p95().expect("p95 ratio"),
    );
    let added = c.added_ms_p50().expect("added latency");
    for line in [
        format!("| latency ratio | {p50:.2}× | {p95:.2}× |"),
        format!("Added latency per batch (p50 difference): **{added:.2} ms**."),
    ] {
        assert!(
            markdown.contains(&line),
            "{line:?} missing from:\n{markdown}"
        );
    }
    for line in [
        "| scenario | requests | concurrency | p50 ms | p95 ms | p99 ms | req/s | errors |",
        "| cached page `GET /` |",
        "| API read `GET /v1/patients?_count=10` |",
        "| API write `POST /v1/patients` |",
        "| booking `POST /v1/appointments`, a free slot each |",
        "| booking race: 50 clients, 10 free slots, all at once |",
        "| Observation ingestion `POST /v1`, batch Bundles of 100 (requests = Bundles) |",
        "| 50 concurrent connections, cached page (workerd, no proxy) |",
    ] {
        assert!(
            markdown.contains(line),
            "{line:?} missing from:\n{markdown}"
        );
    }
}
