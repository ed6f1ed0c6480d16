//! What the integration test binaries of regional-db share: a server on an ephemeral port.
// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

pub mod browser;
pub mod edge;
pub mod one_region;

use regional_db::Config;
use telemed_shared::geo::RegionId;
use xtask::pg::{PgCluster, PgOptions};

/// The test binary's own Postgres cluster (`name`, under its target's temporary folder),
/// stopped when the binary exits, with `databases` made afresh.
pub fn cluster(name: &str, databases: &[&str]) -> PgCluster {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut cluster = PgCluster::start(
        &dir,
        PgOptions {
            port: None,
            reuse_existing: true,
        },
    )
    .expect("postgres starts");
    cluster.stop_when_process_exits().expect("watchdog");
    for db in databases {
        cluster.drop_database(db).unwrap();
        cluster.create_database(db).unwrap();
    }
    cluster
}

/// A `regional-db` serving on 127.0.0.1:0 for the rest of the test process.
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn spawn(config: Config) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(regional_db::run(listener, config, std::future::pending()));
        Server {
            base,
            http: reqwest::Client::new(),
        }
    }
}

pub fn region(s: &str) -> RegionId {
    s.parse().unwrap()
}

/// Migrates two regions' databases of a test cluster: `eu` (eu-west, which also holds the
/// control schema) and `us` (us-east, whose control database is eu-west's).
pub async fn migrate_two_regions(eu: &deadpool_postgres::Pool, us: &deadpool_postgres::Pool) {
    regional_db::migrate::run(&region("eu-west"), eu, eu, false)
        .await
        .unwrap();
    regional_db::migrate::run(&region("us-east"), us, eu, false)
        .await
        .unwrap();
}

/// A connection to `url` whose session stays pinned to `slug`'s schema: tests that seed or
/// read a clinic's tables directly, as the administrator or as the service's role.
pub async fn pinned(url: &str, slug: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let schema = slug.parse::<telemed_shared::tenant::TenantSlug>().unwrap();
    client
        .execute(
            "SELECT set_config('search_path', $1, false)",
            &[&regional_db::db::search_path_for(&schema)],
        )
        .await
        .unwrap();
    client
}

/// Creates clinic `slug` of `country` (billing in `currency`, else the country's) in the
/// eu-west database at `url`, which also holds the control schema, as `regional-db tenant
/// create` does.
pub async fn create_clinic_in_eu(url: &str, slug: &str, country: &str, currency: Option<&str>) {
    let pool = regional_db::db::pool(url, 2, std::time::Duration::from_secs(10)).unwrap();
    regional_db::provision::create(
        &regional_db::provision::NewTenant {
            slug: slug.into(),
            name: format!("Clinic {slug}"),
            country: country.into(),
            region: None,
            domains: vec![],
            currency: currency.map(str::to_owned),
        },
        &regional_db::provision::Target {
            region: &region("eu-west"),
            pool: &pool,
            control: &pool,
            control_is_local: true,
        },
    )
    .await
    .expect("clinic created");
}

/// Creates (or re-passwords) `login`, a LOGIN member of the service role, in `cluster`: the
/// role `regional-db serve` connects as, for tests that must hold only the service's grants.
pub fn service_login(cluster: &PgCluster, db: &str, login: &str, password: &str) {
    cluster
        .psql(
            db,
            &format!(
                "DO $$ BEGIN \
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN \
                     CREATE ROLE {login} LOGIN IN ROLE {}; \
                   END IF; \
                   ALTER ROLE {login} PASSWORD '{password}'; \
                 END $$",
                regional_db::grants::SERVICE_ROLE
            ),
        )
        .unwrap();
}
