//! The read/write split of `regional-db` against a real primary and its streaming replica
//! (`xtask::pg`: `PgCluster::start_replica`, a `pg_basebackup -R` clone, for this test
//! binary): reads go to the replica, writes to the primary and answer with their commit
//! LSN; a read carrying that LSN (`min_lsn`) is never served by a replica that has not
//! replayed it (replay paused with `pg_wal_replay_pause()`); audit events of replica reads
//! land on the primary; a stopped replica costs no error, the primary serves the reads.

mod common;

use common::Server;

use std::{
    path::Path,
    sync::{Mutex, OnceLock},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use regional_db::{Config, db, migrate, provision};
use reqwest::StatusCode;
use serde_json::{Value, json};
use telemed_shared::{
    auth::{EdgeClaims, SigningKey, VerifyingKeys},
    dataplane::{
        catalog::{self, names},
        wire::{BATCH_PATH, CATALOG_HEADER, parse_lsn},
    },
    geo::RegionId,
};
use xtask::pg::{self, PgCluster, PgOptions};

const DB: &str = "rep_eu";
const SLUG: &str = "rep-paris";
const SCHEMA: &str = "tenant_rep_paris";

struct Stack {
    primary: PgCluster,
    /// Behind a lock: one test stops it.
    replica: Mutex<PgCluster>,
    edge_key: Vec<u8>,
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let mut primary = PgCluster::start(
            tmp.join("regional-db-pg-replica-primary"),
            PgOptions {
                port: None,
                reuse_existing: true,
            },
        )
        .expect("postgres starts");
        primary.stop_when_process_exits().expect("watchdog");
        primary.drop_database(DB).unwrap();
        primary.create_database(DB).unwrap();
        let url = primary.url(DB);
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let pool = db::pool(&url, 2, Duration::from_secs(10)).unwrap();
                migrate::run(&region(), &pool, &pool, false).await.unwrap();
                let req = provision::NewTenant {
                    slug: SLUG.into(),
                    name: "Replica clinic".into(),
                    country: "FR".into(),
                    region: None,
                    domains: Vec::new(),
                    currency: None,
                };
                let r = region();
                let target = provision::Target {
                    region: &r,
                    pool: &pool,
                    control: &pool,
                    control_is_local: true,
                };
                provision::create(&req, &target).await.unwrap();
            })
        })
        .join()
        .unwrap();
        // A fresh clone each run: a replica of an earlier primary could not follow this one.
        let replica_dir = tmp.join("regional-db-pg-replica-standby");
        if replica_dir.exists() {
            pg::remove_data_dir(&replica_dir).expect("old replica removed");
        }
        let mut replica = PgCluster::start_replica_named(
            &primary,
            &replica_dir,
            PgOptions {
                port: None,
                reuse_existing: false,
            },
            "regional_db_test",
        )
        .expect("replica starts");
        replica.stop_when_process_exits().expect("watchdog");
        let edge_key = jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes();
        Stack {
            primary,
            replica: Mutex::new(replica),
            edge_key,
        }
    })
}

fn region() -> RegionId {
    "eu-west".parse().unwrap()
}

fn signer() -> SigningKey {
    SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap()
}

fn token() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = EdgeClaims {
        tenant: Some(SLUG.parse().unwrap()),
        actor: Some("dr-replica".into()),
        ..Default::default()
    };
    signer().sign_edge(claims, now).unwrap()
}

fn primary_psql(sql: &str) -> String {
    stack().primary.psql(DB, sql).unwrap().trim().to_owned()
}

fn replica_psql(sql: &str) -> String {
    let replica = stack().replica.lock().unwrap();
    replica.psql(DB, sql).unwrap().trim().to_owned()
}

async fn serve() -> Server {
    let s = stack();
    let replica_url = s.replica.lock().unwrap().url(DB);
    let keys = VerifyingKeys::from_base64_list(&signer().public_base64()).unwrap();
    let mut config = Config::new(region(), s.primary.url(DB), keys);
    config.replica_database_url = Some(replica_url);
    config.pool_size = 4;
    Server::spawn(config).await
}

impl Server {
    async fn batch(&self, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}{BATCH_PATH}", self.base))
            .bearer_auth(token())
            .header(CATALOG_HEADER, catalog::version())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    /// Creates a patient; its id and the write's LSN.
    async fn create(&self, family: &str) -> (String, String) {
        let (status, body) = self
            .batch(json!({"statements": [{
                "name": names::PATIENT_CREATE,
                "params": [{"resourceType": "Patient", "name": [{"family": family}]}, family, "Test", "1980-02-03", "female", null, []]
            }]}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["served_by"], "primary", "{body}");
        let lsn = body["lsn"].as_str().expect("a write answers its LSN");
        assert!(parse_lsn(lsn).is_some(), "{lsn}");
        let id = body["results"][0]["rows"][0]["id"].as_str().unwrap();
        (id.to_owned(), lsn.to_owned())
    }

    /// Reads a patient (with the caller's last write's LSN, if given): whether it was found,
    /// and who served it.
    async fn read(&self, id: &str, min_lsn: Option<&str>) -> (bool, String) {
        let mut body = json!({"statements": [{"name": names::PATIENT_READ, "params": [id]}]});
        if let Some(lsn) = min_lsn {
            body["min_lsn"] = json!(lsn);
        }
        let (status, body) = self.batch(body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("lsn").is_none(), "a read has no LSN: {body}");
        let found = !body["results"][0]["rows"].as_array().unwrap().is_empty();
        (found, body["served_by"].as_str().unwrap().to_owned())
    }

    async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }
}

/// Reads `id` with `min_lsn` until the replica serves it (it has replayed the write); how
/// many of those reads the primary served first (a number the timing decides).
async fn until_replica_serves(s: &Server, id: &str, lsn: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut on_primary = 0;
    loop {
        let (found, by) = s.read(id, Some(lsn)).await;
        assert!(found, "a read with the write's LSN always sees it");
        if by == "replica" {
            return on_primary;
        }
        assert_eq!(by, "primary");
        on_primary += 1;
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `regional_reads_total{target}`: read-only batches `s` ran on `target`.
async fn reads(s: &Server, target: &str) -> f64 {
    s.metric(&format!("regional_reads_total{{target=\"{target}\"}}"))
        .await
}

fn audited_reads(id: &str) -> i64 {
    primary_psql(&format!(
        "SELECT count(*) FROM {SCHEMA}.audit_events WHERE action = 'read' AND resource_id = '{id}'"
    ))
    .parse()
    .unwrap()
}

/// One test, in order, since its last step stops the replica.
#[tokio::test]
async fn reads_on_the_replica_writes_on_the_primary_with_read_your_writes() {
    stack();
    assert!(stack().replica.lock().unwrap().is_in_recovery().unwrap());
    assert!(!stack().primary.is_in_recovery().unwrap());
    assert_eq!(
        primary_psql(
            "SELECT application_name || ':' || state FROM pg_stat_replication \
             WHERE application_name = 'regional_db_test'"
        ),
        "regional_db_test:streaming"
    );
    let s = serve().await;

    // Every read below is counted by who served it, as `regional_reads_total` must be (this
    // server's own registry; only the waits for the replica vary in length).
    let (mut on_replica, mut on_primary) = (0, 0);

    // (a) Writes on the primary, with their LSN; reads on the replica.
    let (id, lsn) = s.create("Replique").await;
    let waited = until_replica_serves(&s, &id, &lsn).await;
    on_primary += waited;
    on_replica += 1;
    let (found, by) = s.read(&id, None).await;
    assert!(found);
    assert_eq!(by, "replica");
    on_replica += 1;
    assert_eq!(reads(&s, "replica").await, f64::from(on_replica));
    assert_eq!(reads(&s, "primary").await, f64::from(on_primary));
    assert_eq!(
        s.metric("regional_pool_max_size{pool=\"replica\"}").await,
        4.0
    );

    // (d) The audit events of replica reads are on the primary, as many as reads: so far,
    // every read of `id`, wherever it was served.
    let before = audited_reads(&id);
    assert_eq!(before, i64::from(on_primary + on_replica));
    let (_, by) = s.read(&id, None).await;
    assert_eq!(by, "replica");
    on_replica += 1;
    assert_eq!(audited_reads(&id), before + 1);
    // A replica cannot write them: a replica read left its trail there only by replication.
    let actor = primary_psql(&format!(
        "SELECT DISTINCT actor FROM {SCHEMA}.audit_events WHERE resource_id = '{id}' AND action = 'read'"
    ));
    assert_eq!(actor, "dr-replica");

    // (b) Replay paused: the writer's read (with its LSN) goes to the primary and sees its
    // write; a read without it is served, stale, by the replica.
    replica_psql("SELECT pg_wal_replay_pause()");
    let (paused_id, paused_lsn) = s.create("Pause").await;
    let lagging = || s.metric("regional_replica_fallbacks_total{reason=\"lagging\"}");
    let lagging_before = lagging().await;
    let (found, by) = s.read(&paused_id, Some(&paused_lsn)).await;
    assert!(found, "read-your-writes");
    assert_eq!(by, "primary");
    on_primary += 1;
    assert_eq!(
        lagging().await,
        lagging_before + 1.0,
        "that read fell back because the replica lags"
    );
    // Without it (a client that sends none, as generic FHIR clients): the paused replica
    // has not replayed the write, and a look-up by id it misses is the primary's to answer.
    let missed = || s.metric("regional_replica_fallbacks_total{reason=\"missed\"}");
    let missed_before = missed().await;
    let (found, by) = s.read(&paused_id, None).await;
    assert!(found, "a miss on the replica is confirmed by the primary");
    assert_eq!(by, "primary");
    on_primary += 1;
    assert_eq!(missed().await, missed_before + 1.0);
    // A search the replica answers stays the replica's, stale as it is.
    let (status, body) = s
        .batch(json!({"statements": [{"name": names::PATIENT_SEARCH,
                                       "params": [null, "pause", null, null, null, null, 10]}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["served_by"], "replica");
    assert_eq!(body["results"][0]["rows"], json!([]), "not replayed yet");
    on_replica += 1;
    // An LSN the replica has already replayed is served there even while paused.
    let (found, by) = s.read(&id, Some(&lsn)).await;
    assert!(found);
    assert_eq!(by, "replica");
    on_replica += 1;
    replica_psql("SELECT pg_wal_replay_resume()");
    let waited = until_replica_serves(&s, &paused_id, &paused_lsn).await;
    on_primary += waited;
    on_replica += 1;

    // A malformed LSN is refused.
    let (status, body) = s
        .batch(json!({"statements": [{"name": names::PATIENT_READ, "params": [id]}], "min_lsn": "nope"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "bad_request");

    // (c) Replica down: reads are served by the primary, without an error.
    stack().replica.lock().unwrap().stop().unwrap();
    let down_reads_of_id = 3;
    for _ in 0..down_reads_of_id {
        let (found, by) = s.read(&id, None).await;
        assert!(found);
        assert_eq!(by, "primary");
        let (found, by) = s.read(&paused_id, Some(&paused_lsn)).await;
        assert!(found);
        assert_eq!(by, "primary");
        on_primary += 2;
    }
    let (_, lsn2) = s.create("Sans replique").await;
    assert!(parse_lsn(&lsn2) > parse_lsn(&paused_lsn));
    assert_eq!(reads(&s, "primary").await, f64::from(on_primary));
    assert_eq!(reads(&s, "replica").await, f64::from(on_replica));
    // Reads the primary served are audited too: since `before`, the replica read of (d),
    // the paused-replica read with `lsn`, and those with the replica down.
    assert_eq!(audited_reads(&id), before + 2 + down_reads_of_id);
}
