//! Retention and erasure against a real Postgres cluster of their own (started once for this
//! binary by `xtask::pg`): the retention job on aged data with a controllable clock in FR,
//! DE and US clinics, its dry run, legal holds, the agreement of the clinic's schema with
//! the rule engine, and `patient.erase` (the statement of `Patient/$erase`) through a batch.
//!
//! Two databases stand for two regions: `region_eu` (eu-west, with the control schema) and
//! `region_us` (us-east). Each test uses its own clinics.

mod common;

use std::{process::Command, sync::OnceLock, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use common::{Server, region};
use regional_db::{
    Config, db,
    jobs::{
        JobError, holds,
        retention::{self, Outcome, RetentionJob},
    },
    provision,
};
use serde_json::{Value, json};
use telemed_shared::{
    auth::{EdgeClaims, SigningKey, VerifyingKeys},
    compliance::{
        REVIEWED, policy_for,
        retention::{CONTACT_ELEMENTS, Facts, Rule},
    },
    dataplane::{catalog, wire::BATCH_PATH},
};
use uuid::Uuid;
use xtask::pg::PgCluster;

const EU: &str = "region_eu";
const US: &str = "region_us";

struct Stack {
    cluster: PgCluster,
    edge_key: Vec<u8>,
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let cluster = common::cluster("regional-db-pg-retention", &[EU, US]);
        let (eu, us) = (cluster.url(EU), cluster.url(US));
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let eu = db::pool(&eu, 1, Duration::from_secs(10)).unwrap();
                let us = db::pool(&us, 1, Duration::from_secs(10)).unwrap();
                common::migrate_two_regions(&eu, &us).await;
            })
        })
        .join()
        .unwrap();
        let edge_key = jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes();
        Stack { cluster, edge_key }
    })
}

fn url(db: &str) -> String {
    stack().cluster.url(db)
}

fn psql(db: &str, sql: &str) -> String {
    stack().cluster.psql(db, sql).unwrap().trim().to_owned()
}

/// The region of a country's clinics here, its database and the control database.
fn home(country: &str) -> (&'static str, &'static str) {
    if country == "US" {
        ("us-east", US)
    } else {
        ("eu-west", EU)
    }
}

fn pools(country: &str) -> (deadpool_postgres::Pool, deadpool_postgres::Pool) {
    let (_, own) = home(country);
    let pool = db::pool(&url(own), 2, Duration::from_secs(10)).unwrap();
    let control = db::pool(&url(EU), 2, Duration::from_secs(10)).unwrap();
    (pool, control)
}

async fn create_clinic(slug: &str, country: &str) {
    let (r, own) = home(country);
    let (pool, control) = pools(country);
    let r = region(r);
    provision::create(
        &provision::NewTenant {
            slug: slug.into(),
            name: format!("Clinic {slug}"),
            country: country.into(),
            region: None,
            domains: vec![],
            currency: None,
        },
        &provision::Target {
            region: &r,
            pool: &pool,
            control: &control,
            control_is_local: own == EU,
        },
    )
    .await
    .expect("clinic created");
}

/// SQL in a clinic's schema.
fn in_clinic(slug: &str, country: &str, sql: &str) -> String {
    let schema = format!("tenant_{}", slug.replace('-', "_"));
    psql(
        home(country).1,
        &format!("SET search_path TO {schema}; {sql}"),
    )
}

fn count(slug: &str, country: &str, what: &str) -> i64 {
    in_clinic(slug, country, &format!("SELECT count(*) FROM {what}"))
        .parse()
        .unwrap()
}

fn uuid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// Aged data written directly in a clinic's schema, with the dates it would have had.
/// Ids are numbered per clinic (its slug's hash in the high bits): no two clinics share one,
/// so a clinic's token on another's id is a real cross-clinic probe.
struct Seed<'a> {
    slug: &'a str,
    country: &'a str,
    next: std::cell::Cell<u64>,
}

impl<'a> Seed<'a> {
    fn new(slug: &'a str, country: &'a str) -> Self {
        let prefix = slug.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        }) & 0xffff_ff00_0000;
        let s = Seed {
            slug,
            country,
            next: std::cell::Cell::new(prefix | 0x100),
        };
        let (practitioner, schedule) = (s.id(), s.id());
        s.sql(&format!(
            "INSERT INTO practitioners (id, resource) VALUES ('{practitioner}', '{{\"resourceType\": \"Practitioner\"}}');
             INSERT INTO schedules (id, resource, practitioner) VALUES ('{schedule}', '{{\"resourceType\": \"Schedule\"}}', '{practitioner}');",
        ));
        s
    }

    fn schedule(&self) -> String {
        self.sql("SELECT id FROM schedules LIMIT 1")
    }

    fn sql(&self, sql: &str) -> String {
        in_clinic(self.slug, self.country, sql)
    }

    fn id(&self) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        uuid(n)
    }

    /// A patient whose record was opened on `created`, with contact details.
    fn patient(&self, birth: &str, created: &str, deceased: Option<&str>) -> String {
        let id = self.id();
        let mut resource = json!({"resourceType": "Patient", "name": [{"family": "Aged", "given": ["Ann"]}],
            "gender": "female", "birthDate": birth,
            "telecom": [{"system": "phone", "value": "+33 1 23 45 67 89"}],
            "address": [{"city": "Lyon"}]});
        if let Some(d) = deceased {
            resource["deceasedDateTime"] = json!(d);
        }
        self.sql(&format!(
            "INSERT INTO patients (id, resource, family, given, birth_date, gender, created_at, last_updated) \
             VALUES ('{id}', '{resource}', 'Aged', 'Ann', '{birth}', 'female', '{created}', '{created}')"
        ));
        id
    }

    /// An appointment at `at` (30 minutes), booked, then moved to each of `then`;
    /// last written at `written`. Returns (appointment, slot).
    fn appointment(
        &self,
        patient: &str,
        at: &str,
        then: &[&str],
        written: &str,
    ) -> (String, String) {
        let (slot, appointment) = (self.id(), self.id());
        // History is seeded as it stands, without the consent gate of today's bookings
        // (the consents of then are not what these tests count).
        let mut sql = format!(
            "INSERT INTO slots (id, resource, schedule, status, starts_at, ends_at) \
             VALUES ('{slot}', '{{\"resourceType\": \"Slot\"}}', '{}', 'free', '{at}', timestamptz '{at}' + interval '30 minutes');
             ALTER TABLE appointments DISABLE TRIGGER appointment_consent_gate;
             INSERT INTO appointments (id, resource, slot, patient, status) \
             VALUES ('{appointment}', '{{\"resourceType\": \"Appointment\", \"status\": \"booked\"}}', '{slot}', '{patient}', 'booked');
             ALTER TABLE appointments ENABLE TRIGGER appointment_consent_gate;",
            self.schedule()
        );
        for status in then {
            sql.push_str(&format!(
                "UPDATE appointments SET status = '{status}', resource = resource || '{{\"status\": \"{status}\"}}' WHERE id = '{appointment}';"
            ));
        }
        sql.push_str(&format!(
            "UPDATE appointments SET last_updated = '{written}' WHERE id = '{appointment}';"
        ));
        self.sql(&sql);
        (appointment, slot)
    }

    /// A visit that took place at `at`.
    fn visit(&self, patient: &str, at: &str) -> String {
        self.appointment(patient, at, &["arrived", "fulfilled"], at)
            .0
    }

    fn reading(&self, patient: &str, at: &str) {
        let id = self.id();
        self.sql(&format!(
            "INSERT INTO observations (id, resource, patient, status, effective, last_updated) \
             VALUES ('{id}', '{{\"resourceType\": \"Observation\"}}', '{patient}', 'final', '{at}', '{at}')"
        ));
    }

    fn consent(&self, patient: &str, at: &str) {
        let id = self.id();
        self.sql(&format!(
            "INSERT INTO consents (id, resource, patient, status, last_updated) \
             VALUES ('{id}', '{{\"resourceType\": \"Consent\"}}', '{patient}', 'active', '{at}')"
        ));
    }

    /// A cached answer of a write about `patient`, as an idempotency key stores it.
    fn cached(&self, patient: &str, created: &str) {
        let key = self.id();
        self.sql(&format!(
            "INSERT INTO idempotency_keys (key, fingerprint, results, created_at) \
             VALUES ('k-{key}', 'f', '[{{\"rows\": [{{\"id\": \"{patient}\"}}]}}]', '{created}')"
        ));
    }

    fn exists(&self, table: &str, id: &str) -> bool {
        self.sql(&format!("SELECT count(*) FROM {table} WHERE id = '{id}'")) == "1"
    }
}

/// The same aged patients in every clinic, so the countries' rules are what differs:
/// - `old`: seen 2030-06-01, a reading 2031-01-01 (last entry), a consent, a booking for
///   2046 (written in 2031);
/// - `recent`: seen 2040-01-01;
/// - `held`: like `old`, under a legal hold;
/// - `dead`: seen 2020-01-01, died 2022-01-01.
struct Aged {
    old: String,
    old_visit: String,
    old_future: (String, String),
    recent: String,
    held: String,
    dead: String,
}

fn aged(seed: &Seed<'_>) -> Aged {
    let old = seed.patient("1950-01-01", "2020-01-01T00:00:00Z", None);
    let old_visit = seed.visit(&old, "2030-06-01T09:00:00Z");
    seed.reading(&old, "2031-01-01T08:00:00Z");
    seed.consent(&old, "2030-06-01T09:00:00Z");
    let old_future = seed.appointment(&old, "2046-02-01T09:00:00Z", &[], "2031-01-01T00:00:00Z");
    seed.cached(&old, "2031-01-01T00:00:00Z");
    let recent = seed.patient("1960-05-05", "2020-01-01T00:00:00Z", None);
    seed.visit(&recent, "2040-01-01T10:00:00Z");
    let held = seed.patient("1950-01-01", "2020-01-01T00:00:00Z", None);
    seed.visit(&held, "2030-06-02T09:00:00Z");
    seed.reading(&held, "2031-01-01T08:00:00Z");
    let dead = seed.patient("1950-01-01", "2019-01-01T00:00:00Z", Some("2022-01-01"));
    seed.visit(&dead, "2020-01-01T09:00:00Z");
    Aged {
        old,
        old_visit,
        old_future,
        recent,
        held,
        dead,
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn run(country: &str, slug: &str, now: &str, dry_run: bool) -> Vec<retention::ClinicReport> {
    let (r, _) = home(country);
    let (pool, control) = pools(country);
    retention::run(
        &RetentionJob {
            now: at(now),
            dry_run,
            only: Some(slug.parse().unwrap()),
        },
        &region(r),
        &pool,
        &control,
    )
    .await
    .expect("retention runs")
}

async fn hold(country: &str, slug: &str, patient: &str) {
    let (r, _) = home(country);
    let (pool, control) = pools(country);
    let placed = holds::place(
        &pool,
        &control,
        &region(r),
        &slug.parse().unwrap(),
        patient.parse().unwrap(),
        "litigation 2044-17",
        "legal-team",
    )
    .await
    .unwrap();
    assert_eq!(placed, holds::Placed::New);
}

/// The patients a report purged (or would have), and those it kept under a hold.
fn acted(report: &retention::ClinicReport) -> (Vec<String>, Vec<String>) {
    let mut purged = Vec::new();
    let mut held = Vec::new();
    for a in &report.actions {
        match a.outcome {
            Outcome::Purged(_) | Outcome::WouldPurge => purged.push(a.patient.clone()),
            Outcome::Held { .. } => held.push(a.patient.clone()),
            Outcome::KeptMeanwhile => panic!("nothing changes meanwhile here"),
        }
    }
    purged.sort();
    (purged, held)
}

fn sorted(mut v: Vec<&String>) -> Vec<String> {
    v.sort();
    v.into_iter().cloned().collect()
}

/// Everything a clinic holds, to tell that a dry run wrote nothing.
fn snapshot(slug: &str, country: &str) -> Vec<i64> {
    [
        "patients",
        "appointments",
        "observations",
        "consents",
        "idempotency_keys",
        "audit_events",
        "legal_holds",
        "slots WHERE status = 'free'",
    ]
    .iter()
    .map(|t| count(slug, country, t))
    .collect()
}

const NOW: &str = "2045-01-01T12:00:00Z";

/// The same aged data in France, Germany and the United States, the job run in 2045.
#[tokio::test]
async fn the_job_purges_what_each_country_lets_go_and_skips_held_patients() {
    stack();
    for (country, slug) in [("FR", "ret-fr"), ("DE", "ret-de"), ("US", "ret-us")] {
        create_clinic(slug, country).await;
        let seed = Seed::new(slug, country);
        let p = aged(&seed);
        hold(country, slug, &p.held).await;

        // A dry run reports and writes nothing.
        let before = snapshot(slug, country);
        let dry = run(country, slug, NOW, true).await;
        assert_eq!(
            snapshot(slug, country),
            before,
            "{country}: the dry run wrote"
        );
        let (would, held) = acted(&dry[0]);

        // The real run, at the same instant, does what the dry run said.
        let done = run(country, slug, NOW, false).await;
        let (purged, held_now) = acted(&done[0]);
        assert_eq!((&purged, &held_now), (&would, &held), "{country}");
        assert_eq!(done[0].patients, 4, "{country}");
        assert_eq!(
            done[0].expired_keys, 1,
            "{country}: the 2031 cached answer is past 24 hours"
        );

        match country {
            // FR: 20 years from the last visit (2050 for old and held); the patient who
            // died within 10 years of the last visit goes 10 years after the death (2032).
            "FR" => {
                assert_eq!(purged, vec![p.dead.clone()], "FR");
                assert!(held.is_empty(), "FR: the held patient is not due yet");
                assert!(
                    seed.exists("patients", &p.old) && seed.exists("appointments", &p.old_visit)
                );
                assert_eq!(count(slug, country, "observations"), 2);
            }
            // DE: 10 years after the treatment ends (the 2031 reading): old goes in 2041,
            // held too but for its hold; dead (no death rule in DE) in 2030.
            "DE" => {
                assert_eq!(purged, sorted(vec![&p.old, &p.dead]), "DE");
                assert_eq!(held, vec![p.held.clone()], "DE");
            }
            // US: 6 years from the last entry (old: 2031 → 2037; dead: 2020 → 2026).
            "US" => {
                assert_eq!(purged, sorted(vec![&p.old, &p.dead]), "US");
                assert_eq!(held, vec![p.held.clone()], "US");
            }
            _ => unreachable!(),
        }
        // Whatever the country: the recent patient and the held one are all there.
        for id in [&p.recent, &p.held] {
            assert!(seed.exists("patients", id), "{country}: {id} kept");
        }
        assert_eq!(
            seed.sql(&format!(
                "SELECT count(*) FROM observations WHERE patient = '{}'",
                p.held
            )),
            "1",
            "{country}: the held patient's reading is kept"
        );
        for id in &purged {
            assert!(!seed.exists("patients", id), "{country}: {id} purged");
            for table in ["appointments", "observations", "consents"] {
                assert_eq!(
                    seed.sql(&format!(
                        "SELECT count(*) FROM {table} WHERE patient = '{id}'"
                    )),
                    "0",
                    "{country}: {table} of {id}"
                );
            }
        }
        // The old patient's 2046 booking is gone with the record, and its slot free again.
        if purged.contains(&p.old) {
            assert!(!seed.exists("appointments", &p.old_future.0));
            assert_eq!(
                seed.sql(&format!(
                    "SELECT status FROM slots WHERE id = '{}'",
                    p.old_future.1
                )),
                "free",
                "{country}"
            );
            assert_eq!(
                seed.sql(&format!(
                    "SELECT count(*) FROM idempotency_keys WHERE results::text LIKE '%{}%'",
                    p.old
                )),
                "0"
            );
        }
        // One audit event per purge, by the job, naming the patient; none for the dry run.
        let audited = seed.sql(
            "SELECT coalesce(string_agg(resource_id, ',' ORDER BY resource_id), '') FROM audit_events \
             WHERE action = 'purge' AND actor = 'retention-job' AND statement = 'retention.purge'",
        );
        assert_eq!(audited, purged.join(","), "{country}");
        // Running again purges nothing more.
        let again = run(country, slug, NOW, false).await;
        assert_eq!(acted(&again[0]).0, Vec::<String>::new(), "{country}");
        // Lifting the hold lets the next run purge the held patient where it is due.
        let (r, _) = home(country);
        let (pool, control) = pools(country);
        let slug_t = slug.parse().unwrap();
        holds::lift(
            &pool,
            &control,
            &region(r),
            &slug_t,
            p.held.parse().unwrap(),
            "legal-team",
        )
        .await
        .unwrap();
        let after = run(country, slug, NOW, false).await;
        let expect: Vec<String> = if country == "FR" {
            vec![]
        } else {
            vec![p.held.clone()]
        };
        assert_eq!(
            acted(&after[0]).0,
            expect,
            "{country} after the hold is lifted"
        );
        assert_eq!(
            seed.sql("SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE statement LIKE 'holds.%'"),
            "hold,release",
            "{country}"
        );
    }
}

#[tokio::test]
async fn holds_are_refused_for_unknown_patients_clinics_and_reasons() {
    stack();
    create_clinic("ret-holds", "FR").await;
    let (pool, control) = pools("FR");
    let eu = region("eu-west");
    let slug = "ret-holds".parse().unwrap();
    let unknown: Uuid = uuid(0xdead).parse().unwrap();
    let e = holds::place(&pool, &control, &eu, &slug, unknown, "why", "me")
        .await
        .unwrap_err();
    assert!(matches!(e, JobError::UnknownPatient { .. }), "{e}");
    let e = holds::place(&pool, &control, &eu, &slug, unknown, "  ", "me")
        .await
        .unwrap_err();
    assert!(matches!(e, JobError::NoReason), "{e}");
    let e = holds::lift(&pool, &control, &eu, &slug, unknown, "me")
        .await
        .unwrap_err();
    assert!(matches!(e, JobError::NotHeld { .. }), "{e}");
    // Not homed in us-east.
    let e = holds::list(&pool, &control, &region("us-east"), &slug)
        .await
        .unwrap_err();
    assert!(matches!(e, JobError::UnknownClinic { .. }), "{e}");
    let seed = Seed::new("ret-holds", "FR");
    let p = seed.patient("1970-01-01", "2020-01-01T00:00:00Z", None);
    holds::place(
        &pool,
        &control,
        &eu,
        &slug,
        p.parse().unwrap(),
        "court order",
        "me",
    )
    .await
    .unwrap();
    assert_eq!(
        holds::place(
            &pool,
            &control,
            &eu,
            &slug,
            p.parse().unwrap(),
            "again",
            "me"
        )
        .await
        .unwrap(),
        holds::Placed::AlreadyHeld
    );
    let listed = holds::list(&pool, &control, &eu, &slug).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].reason.as_str(), listed[0].placed_by.as_str()),
        ("court order", "me")
    );
    // The hold's foreign key: even SQL of our own cannot delete a held patient.
    let err = stack()
        .cluster
        .psql(
            EU,
            &format!("DELETE FROM tenant_ret_holds.patients WHERE id = '{p}'"),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("legal_holds_patient_fkey"),
        "{err}"
    );
}

/// The CLI: `jobs run retention --dry-run --now …` prints what it would do, writes nothing.
#[tokio::test]
async fn the_command_line_runs_the_job_with_its_clock() {
    stack();
    create_clinic("ret-cli", "US").await;
    let seed = Seed::new("ret-cli", "US");
    let p = aged(&seed);
    let before = snapshot("ret-cli", "US");
    let cli = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_regional-db"))
            .args(["jobs", "run", "retention", "--region", "us-east"])
            .args([
                "--database-url",
                &url(US),
                "--control-database-url",
                &url(EU),
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = cli(&["--tenant", "ret-cli", "--dry-run", "--now", NOW]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("dry run"), "{stdout}");
    assert!(
        stdout.contains(&format!("would purge Patient/{}", p.old)),
        "{stdout}"
    );
    assert!(stdout.contains("45 CFR 164.316"), "the citation: {stdout}");
    assert_eq!(snapshot("ret-cli", "US"), before);
    // Bad input is refused before anything runs.
    for bad in [
        &["--tenant", "ret-cli", "--now", "next tuesday"][..],
        &["--now", NOW][..],
        &["--tenant", "no-such-clinic"][..],
    ] {
        let out = cli(bad);
        assert!(!out.status.success(), "{bad:?}");
    }
    assert_eq!(snapshot("ret-cli", "US"), before);
    // Every clinic of the region, dry: the other tests' clinics are only read.
    let out = cli(&["--all", "--dry-run", "--now", NOW]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("clinic ret-cli (US)"));
    assert_eq!(snapshot("ret-cli", "US"), before);
    let out = cli(&["--tenant", "ret-cli", "--now", NOW]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("purged Patient/{}", p.old)),
        "{stdout}"
    );
    assert!(!seed.exists("patients", &p.old));
}

/// The clinic's schema computes the rule engine's date, for every country's rule, over a
/// grid of facts (leap days, partial birth dates, deaths, missing visits).
#[tokio::test]
async fn the_schema_and_the_rule_engine_agree() {
    stack();
    create_clinic("ret-agree", "FR").await;
    let days = [
        None,
        Some("2000-02-29"),
        Some("2001-02-28"),
        Some("2010-07-15"),
        Some("2019-12-31"),
    ];
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let mut cases = Vec::new();
    for birth in [None, Some("1990-02-28"), Some("2004-02-29")] {
        for death in [None, Some("2003-03-01"), Some("2024-02-29")] {
            for visit in days {
                for reading in [None, Some("2011-01-01")] {
                    cases.push(Facts {
                        birth: birth.map(d),
                        death: death.map(d),
                        last_visit: visit.map(d),
                        last_reading: reading.map(d),
                        last_entry: d("2012-02-29"),
                    });
                }
            }
        }
    }
    let lit = |x: Option<NaiveDate>| x.map_or("NULL::date".to_owned(), |d| format!("date '{d}'"));
    let mut countries: Vec<&str> = REVIEWED.to_vec();
    countries.push("JP");
    for c in countries {
        let rule = Rule::of_policy(&policy_for(&c.parse().unwrap()));
        let values: Vec<String> = cases
            .iter()
            .map(|f| {
                format!(
                    "retention_keep_until('{0}', {1}, {2}, retention_anchor('{0}', {3}, {4}, {5}))",
                    rule.to_json(),
                    lit(f.birth),
                    lit(f.death),
                    lit(f.last_visit),
                    lit(f.last_reading),
                    lit(Some(f.last_entry))
                )
            })
            .collect();
        let got = in_clinic(
            "ret-agree",
            "FR",
            &format!(
                "SELECT string_agg(d::text, ',' ORDER BY n) FROM unnest(ARRAY[{}]) WITH ORDINALITY AS t(d, n)",
                values.join(", ")
            ),
        );
        let want: Vec<String> = cases
            .iter()
            .map(|f| rule.decide(f).keep_until.to_string())
            .collect();
        assert_eq!(got, want.join(","), "{c}");
    }
    // Partial FHIR dates mean their latest day.
    assert_eq!(
        in_clinic(
            "ret-agree",
            "FR",
            "SELECT concat_ws(',', fhir_date_latest('1980'), fhir_date_latest('2000-02'), \
             fhir_date_latest('2001-02'), fhir_date_latest('1999-12-31'), \
             fhir_date_latest('2010-05-01T23:30:00-05:00'), fhir_date_latest(NULL))"
        ),
        "1980-12-31,2000-02-29,2001-02-28,1999-12-31,2010-05-02"
    );
}

// ----- patient.erase, the statement of Patient/$erase, through a real batch -----

fn signer() -> SigningKey {
    SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap()
}

fn token(tenant: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    signer()
        .sign_edge(
            EdgeClaims {
                tenant: Some(tenant.parse().unwrap()),
                actor: Some("app-erase".into()),
                ..Default::default()
            },
            now,
        )
        .unwrap()
}

async fn serve(r: &str, own: &str) -> Server {
    let keys = VerifyingKeys::from_base64_list(&signer().public_base64()).unwrap();
    let mut config = Config::new(region(r), url(own), keys);
    config.control_database_url = Some(url(EU));
    Server::spawn(config).await
}

async fn erase(s: &Server, tenant: &str, patient: &str, now: &str) -> (u16, Value) {
    let body = json!({"statements": [{"name": "patient.erase", "params": [patient, now]}]});
    let resp = s
        .http
        .post(format!("{}{BATCH_PATH}", s.base))
        .bearer_auth(token(tenant))
        .header(
            telemed_shared::dataplane::wire::CATALOG_HEADER,
            catalog::version(),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The same aged patient asks for erasure in 2045 in FR and in DE: France keeps the medical
/// record (20 years, R1112-7) and erases the contact details, the 2046 booking (its slot
/// freed) and the cached answers; Germany's 10 years are over: everything goes.
#[tokio::test]
async fn erasure_keeps_what_the_law_keeps_and_takes_the_rest() {
    stack();
    let s = serve("eu-west", EU).await;
    for (country, slug) in [("FR", "erase-fr"), ("DE", "erase-de")] {
        create_clinic(slug, country).await;
        let seed = Seed::new(slug, country);
        let p = aged(&seed);
        seed.cached(&p.old, "2044-12-31T23:00:00Z");
        let (status, body) = erase(&s, slug, &p.old, NOW).await;
        assert_eq!(status, 200, "{body}");
        let row = &body["results"][0]["rows"][0];
        assert_eq!(row["id"], p.old.as_str());
        assert_eq!(row["country"], country);
        match country {
            "FR" => {
                assert_eq!(row["outcome"], "kept", "{row}");
                assert_eq!(row["keep_until"], "2050-06-01", "{row}");
                assert_eq!(row["contact_erased"], true);
                assert_eq!(
                    (row["appointments"].as_i64(), row["slots_freed"].as_i64()),
                    (Some(1), Some(1))
                );
                assert_eq!(row["cached"], 2, "the 2031 key and the recent one: {row}");
                let resource: Value = serde_json::from_str(&seed.sql(&format!(
                    "SELECT resource FROM patients WHERE id = '{}'",
                    p.old
                )))
                .unwrap();
                for e in CONTACT_ELEMENTS {
                    assert!(resource.get(e).is_none(), "{e} erased: {resource}");
                }
                assert_eq!(resource["name"][0]["family"], "Aged", "identity kept");
                assert_eq!(resource["birthDate"], "1950-01-01");
                assert!(
                    seed.exists("appointments", &p.old_visit),
                    "the visit is record"
                );
                assert!(!seed.exists("appointments", &p.old_future.0));
                assert_eq!(
                    seed.sql(&format!(
                        "SELECT status FROM slots WHERE id = '{}'",
                        p.old_future.1
                    )),
                    "free"
                );
                assert_eq!(
                    seed.sql(&format!(
                        "SELECT count(*) FROM observations WHERE patient = '{}'",
                        p.old
                    )),
                    "1"
                );
                // Erasing again finds nothing more to erase.
                let (_, again) = erase(&s, slug, &p.old, NOW).await;
                let again = &again["results"][0]["rows"][0];
                assert_eq!(
                    (
                        again["contact_erased"].as_bool(),
                        again["appointments"].as_i64()
                    ),
                    (Some(false), Some(0))
                );
            }
            "DE" => {
                assert_eq!(row["outcome"], "purged", "{row}");
                assert_eq!(row["keep_until"], Value::Null);
                assert_eq!(row["birth"], Value::Null, "a purge's answer holds no facts");
                assert_eq!(row["observations"], 1);
                assert!(!seed.exists("patients", &p.old));
            }
            _ => unreachable!(),
        }
        // Held: nothing changes.
        hold(country, slug, &p.held).await;
        let (status, body) = erase(&s, slug, &p.held, NOW).await;
        assert_eq!(status, 200);
        assert_eq!(body["results"][0]["rows"][0]["outcome"], "held");
        assert!(
            seed.sql(&format!(
                "SELECT resource->'telecom' FROM patients WHERE id = '{}'",
                p.held
            ))
            .contains("+33")
        );
        // Audited as an erasure of the patient, by the caller.
        assert_eq!(
            seed.sql("SELECT string_agg(actor || ':' || resource_id, ',' ORDER BY id) FROM audit_events WHERE action = 'erase'"),
            if country == "FR" {
                format!("app-erase:{0},app-erase:{0},app-erase:{1}", p.old, p.held)
            } else {
                format!("app-erase:{},app-erase:{}", p.old, p.held)
            }
        );
        // Unknown, and another clinic's patient: no row, nothing changed there.
        let (status, body) = erase(&s, slug, &uuid(0xbeef), NOW).await;
        assert_eq!((status, &body["results"][0]["rows"]), (200, &json!([])));
    }
    // FR's token on DE's recent patient: not found in FR's schema, untouched in DE's.
    let recent = in_clinic(
        "erase-de",
        "DE",
        "SELECT id FROM patients WHERE birth_date = '1960-05-05'",
    );
    let (status, body) = erase(&s, "erase-fr", &recent, NOW).await;
    assert_eq!((status, &body["results"][0]["rows"]), (200, &json!([])));
    assert!(
        in_clinic(
            "erase-de",
            "DE",
            &format!("SELECT resource FROM patients WHERE id = '{recent}'")
        )
        .contains("telecom")
    );
}

// ----- Patient/$erase through the edge's core (the code both adapters run), natively -----

/// The API issuer's key of these tests.
fn api_key() -> SigningKey {
    SigningKey::from_seed([7; 32])
}

fn api_token(slug: &str, scope: &str) -> String {
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    api_key()
        .sign_api(slug.parse().unwrap(), "native-app", scope, now, 300)
        .unwrap()
}

/// The part of a `Parameters` answer named `name` about `data`.
fn answer_part<'a>(answer: &'a Value, name: &str, data: &str) -> &'a Value {
    answer["parameter"]
        .as_array()
        .and_then(|ps| {
            ps.iter()
                .find(|p| p["name"] == name && p["part"][0]["valueCode"] == data)
        })
        .unwrap_or_else(|| panic!("no {name} {data} in {answer}"))
}

/// Today's patients, seen in 2010: France keeps the record to 2030 and says why (R1112-7);
/// Germany's 10 years after the 2011 reading are over: the record goes. Through the edge's
/// core, one call to the region each; another clinic gets the unknown id's 404.
#[tokio::test]
async fn the_edge_answers_erase_with_what_went_and_what_the_law_keeps() {
    stack();
    let s = serve("eu-west", EU).await;
    let edge = common::edge::NativeEdge::new(&s.base, &signer(), &api_key());
    let scope = "system/Patient.cruds";
    for (country, slug) in [("FR", "edge-erase-fr"), ("DE", "edge-erase-de")] {
        create_clinic(slug, country).await;
        let seed = Seed::new(slug, country);
        let p = seed.patient("1950-01-01", "2009-01-01T00:00:00Z", None);
        seed.visit(&p, "2010-06-01T09:00:00Z");
        seed.reading(&p, "2011-01-01T08:00:00Z");
        let path = format!("/v1/patients/{p}/$erase");

        // Refused before anything runs: no delete scope, a body with parameters.
        let (st, body, _) = edge
            .post(slug, &path, &api_token(slug, "system/Patient.rs"), "")
            .await;
        assert_eq!(st, 403, "{body}");
        assert!(body.to_string().contains("system/Patient.d"), "{body}");
        let (st, _, _) = edge
            .post(
                slug,
                &path,
                &api_token(slug, scope),
                r#"{"resourceType": "Parameters", "parameter": [{"name": "all"}]}"#,
            )
            .await;
        assert_eq!(st, 422);
        assert!(seed.exists("patients", &p));

        let before = edge.host.calls.get();
        let (st, answer, language) = edge.post(slug, &path, &api_token(slug, scope), "").await;
        assert_eq!(st, 200, "{country}: {answer}");
        assert_eq!(edge.host.calls.get() - before, 1, "a cold edge: one call");
        assert_eq!(language, "fr");
        assert_eq!(answer["resourceType"], "Parameters");
        match country {
            "FR" => {
                assert_eq!(answer["parameter"][0]["valueCode"], "partial", "{answer}");
                let record = answer_part(&answer, "kept", "medical-record");
                let text = record.to_string();
                assert!(text.contains("2030-06-01"), "{text}");
                assert!(text.contains("R1112-7"), "{text}");
                assert!(text.contains("Dossier médical"), "{text}");
                answer_part(&answer, "erased", "contact-details");
                assert!(seed.exists("patients", &p));
                assert_eq!(
                    seed.sql(&format!(
                        "SELECT resource ? 'telecom' FROM patients WHERE id = '{p}'"
                    )),
                    "f"
                );
            }
            "DE" => {
                assert_eq!(answer["parameter"][0]["valueCode"], "erased", "{answer}");
                let record = answer_part(&answer, "erased", "medical-record");
                assert!(record.to_string().contains("630f"), "{record}");
                assert!(!seed.exists("patients", &p));
            }
            _ => unreachable!(),
        }
    }
    // Another clinic's token and host, on FR's patient: the 404 of an id that exists nowhere.
    let fr_patient = in_clinic("edge-erase-fr", "FR", "SELECT id FROM patients LIMIT 1");
    let unknown = uuid(0xfeed);
    let token = api_token("edge-erase-de", scope);
    let (st_theirs, theirs, _) = edge
        .post(
            "edge-erase-de",
            &format!("/v1/patients/{fr_patient}/$erase"),
            &token,
            "",
        )
        .await;
    let (st_none, none, _) = edge
        .post(
            "edge-erase-de",
            &format!("/fhir/R4/Patient/{unknown}/$erase"),
            &token,
            "",
        )
        .await;
    assert_eq!((st_theirs, st_none), (404, 404), "{theirs} {none}");
    assert_eq!(
        theirs.to_string().replace(&fr_patient, "ID"),
        none.to_string().replace(&unknown, "ID")
    );
    // DE's token on FR's host: refused at the edge.
    let (st, _, _) = edge
        .post(
            "edge-erase-fr",
            &format!("/v1/patients/{fr_patient}/$erase"),
            &token,
            "",
        )
        .await;
    assert_eq!(st, 403);
}

/// The scheduled job (what `serve --retention-every-hours` spawns) purges on its own.
#[tokio::test]
async fn the_scheduled_job_purges_on_its_own() {
    stack();
    create_clinic("ret-every", "US").await;
    let seed = Seed::new("ret-every", "US");
    let p = seed.patient("1950-01-01", "2001-01-01T00:00:00Z", None);
    seed.visit(&p, "2001-06-01T09:00:00Z");
    let (pool, control) = pools("US");
    // Scoped to its clinic: the other tests' aged clinics run with clocks of their own.
    let task = tokio::spawn(retention::every(
        Duration::from_millis(200),
        Some("ret-every".parse().unwrap()),
        region("us-east"),
        pool,
        control,
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seed.exists("patients", &p) {
        assert!(std::time::Instant::now() < deadline, "not purged in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    task.abort();
    assert_eq!(
        seed.sql("SELECT count(*) FROM audit_events WHERE action = 'purge'"),
        "1"
    );
}

/// A clinic another run holds is skipped, and said so; a dry run reads it all the same.
#[tokio::test]
async fn a_clinic_another_run_holds_is_skipped() {
    stack();
    create_clinic("ret-busy", "DE").await;
    let seed = Seed::new("ret-busy", "DE");
    let p = seed.patient("1950-01-01", "2001-01-01T00:00:00Z", None);
    let (pool, _) = pools("DE");
    let other = pool.get().await.unwrap();
    other
        .execute(
            "SELECT pg_advisory_lock(hashtextextended('retention:tenant_ret_busy', 0))",
            &[],
        )
        .await
        .unwrap();
    let report = &run("DE", "ret-busy", NOW, false).await[0];
    assert!(report.skipped);
    assert!(
        report.lines(false)[0].contains("skipped"),
        "{:?}",
        report.lines(false)
    );
    assert!(seed.exists("patients", &p));
    let dry = &run("DE", "ret-busy", NOW, true).await[0];
    assert_eq!((dry.skipped, acted(dry).0), (false, vec![p.clone()]));
    // A pooled session keeps its advisory locks: released explicitly, as the job does.
    other
        .execute(
            "SELECT pg_advisory_unlock(hashtextextended('retention:tenant_ret_busy', 0))",
            &[],
        )
        .await
        .unwrap();
    let done = &run("DE", "ret-busy", NOW, false).await[0];
    assert_eq!(acted(done).0, vec![p.clone()]);
    assert!(!seed.exists("patients", &p));
}
