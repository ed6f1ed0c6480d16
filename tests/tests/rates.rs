//! Exchange rates on the stack: `regional-db jobs run rates`, run on the control plane
//! against a feed in the ECB's exact format (the stack's stand-in serves a real publication
//! over HTTP), stores the rates as dated data, and logical replication brings them to every
//! other region, as it brings the directory.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use telemed_e2e::{psql, region_metric, stack};

#[test]
fn rates_stored_on_the_control_plane_reach_every_region() {
    let info = stack();
    let control = &info.region("eu-west").unwrap().database_url;
    let out = Command::new(&info.regional_db_bin)
        .args(["jobs", "run", "rates", "--feed", &info.rates_feed_url])
        .args(["--today", "2026-10-05"])
        .env("REGION", "eu-west")
        .env("DATABASE_URL", control)
        .output()
        .expect("regional-db runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("rates of 2026-10-02 stored"), "{said}");

    let usd = "SELECT per_eur::text || ' ' || as_of || ' ' || source FROM control.exchange_rates \
               WHERE currency = 'USD' AND as_of = '2026-10-02'";
    assert_eq!(psql(control, usd), "1.1225 2026-10-02 ecb");
    for region in ["us-east", "af-south"] {
        let db = &info.region(region).unwrap().database_url;
        let deadline = Instant::now() + Duration::from_secs(15);
        while psql(db, usd).is_empty() {
            assert!(
                Instant::now() < deadline,
                "{region}: the rates never arrived"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(psql(db, usd), "1.1225 2026-10-02 ecb", "{region}");
        assert_eq!(
            psql(
                db,
                "SELECT per_eur::text FROM control.exchange_rates WHERE currency = 'XOF'"
            ),
            "655.957",
            "{region}: the CFA franc's parity"
        );
    }
}

/// The Workers cron trigger (`wrangler dev --test-scheduled`): the edge asks the control
/// plane's region to refresh the rates, which fetches the stack's feed (the ECB format)
/// and stores them; the region counts the job.
#[test]
fn the_cron_trigger_has_the_control_plane_refresh_the_rates() {
    let info = stack();
    let ok = || region_metric("eu-west", "regional_jobs_total", Some(("outcome", "ok")));
    let before = ok();
    let r = reqwest::blocking::get(format!(
        "{}/__scheduled?cron=0+16+*+*+1-5",
        info.workers_url
    ))
    .expect("wrangler dev answers");
    assert!(r.status().is_success(), "{}", r.status());
    let deadline = Instant::now() + Duration::from_secs(15);
    while ok() == before {
        assert!(
            Instant::now() < deadline,
            "the control plane never ran the refresh"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let control = &info.region("eu-west").unwrap().database_url;
    assert_eq!(
        psql(
            control,
            "SELECT per_eur::text FROM control.exchange_rates \
             WHERE currency = 'GBP' AND as_of = '2026-10-02'"
        ),
        "0.85033"
    );
    // A region that does not hold the control plane refuses the job.
    let failed = region_metric(
        "us-east",
        "regional_jobs_total",
        Some(("outcome", "failed")),
    );
    assert_eq!(failed, 0, "us-east was never asked");
}
