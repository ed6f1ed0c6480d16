//! Operators' clinic management (`regional-db tenant …`, regional_db/src/tenants.rs) against
//! a real Postgres: two regions' databases of one cluster, `region_eu` (eu-west, which also
//! holds the control schema) and `region_us` (us-east, whose control database is eu-west's).
//! What the edge answers is checked through the edge's core run natively
//! (`common::edge::NativeEdge`) against a `regional-db` of eu-west. Each test has its own
//! clinics.

mod common;

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use common::{Server, region};
use regional_db::{
    Config, db, provision,
    tenants::{self, Added, Operator, TenantError, TxtResolver, Verified},
};
use serde_json::Value;
use telemed_shared::{
    auth::{SigningKey, VerifyingKeys},
    tenant::{TenantSlug, TenantStatus},
};
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
        let cluster = common::cluster("tenants-pg", &[EU, US]);
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
        Stack {
            cluster,
            edge_key: jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes(),
        }
    })
}

fn psql(db: &str, sql: &str) -> String {
    stack().cluster.psql(db, sql).unwrap().trim().to_owned()
}

fn signer() -> SigningKey {
    SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap()
}

fn api_key() -> SigningKey {
    SigningKey::from_seed([7; 32])
}

fn api_token(slug: &str) -> String {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    api_key()
        .sign_api(
            slug.parse().unwrap(),
            "native-app",
            "system/Patient.rs",
            now,
            300,
        )
        .unwrap()
}

/// A region's pools: (its own, the control plane's), and whether they are one database.
struct Region {
    id: telemed_shared::geo::RegionId,
    pool: deadpool_postgres::Pool,
    control: deadpool_postgres::Pool,
    local: bool,
}

impl Region {
    fn of(r: &str) -> Region {
        let s = stack();
        let own = if r == "eu-west" { EU } else { US };
        let pool = db::pool(&s.cluster.url(own), 2, Duration::from_secs(10)).unwrap();
        let control = if own == EU {
            pool.clone()
        } else {
            db::pool(&s.cluster.url(EU), 2, Duration::from_secs(10)).unwrap()
        };
        Region {
            id: region(r),
            pool,
            control,
            local: own == EU,
        }
    }

    fn op(&self) -> Operator<'_> {
        Operator {
            region: &self.id,
            pool: &self.pool,
            control: &self.control,
            control_is_local: self.local,
            actor: "ops-test",
            apex: Some("localhost"),
        }
    }

    async fn create(&self, slug: &str, country: &str, domains: &[&str]) {
        let req = provision::NewTenant {
            slug: slug.into(),
            name: format!("Clinic {slug}"),
            country: country.into(),
            region: None,
            domains: domains.iter().map(|d| d.to_string()).collect(),
            currency: None,
        };
        let target = provision::Target {
            region: &self.id,
            pool: &self.pool,
            control: &self.control,
            control_is_local: self.local,
        };
        provision::create(&req, &target).await.unwrap();
    }
}

fn slug(s: &str) -> TenantSlug {
    s.parse().unwrap()
}

/// A `regional-db` of eu-west whose directory cache expires at once: a change shows on the
/// next request (a deployment's few seconds are the only difference).
async fn serve_eu() -> Server {
    let keys = VerifyingKeys::from_base64_list(&signer().public_base64()).unwrap();
    let url = stack().cluster.url(EU);
    let mut config = Config::new(region("eu-west"), url.clone(), keys);
    config.control_database_url = Some(url);
    config.directory_ttl = Duration::ZERO;
    Server::spawn(config).await
}

fn edge(s: &Server) -> common::edge::NativeEdge {
    common::edge::NativeEdge::new(&s.base, &signer(), &api_key())
}

/// `GET http://<host>/` in French: (status, body).
async fn page(edge: &common::edge::NativeEdge, host: &str) -> (u16, String) {
    let req = axum::http::Request::builder()
        .uri(format!("http://{host}/"))
        .header("accept-language", "fr")
        .body(Vec::new())
        .unwrap();
    let r = edge.request(req).await.response;
    (
        r.status().as_u16(),
        String::from_utf8_lossy(r.body()).into_owned(),
    )
}

/// `GET /v1/patients` of `slug` with an API token: (status, body).
async fn api(edge: &common::edge::NativeEdge, slug: &str) -> (u16, Value) {
    let req = axum::http::Request::builder()
        .uri(format!("http://{slug}.localhost/v1/patients"))
        .header("authorization", format!("Bearer {}", api_token(slug)))
        .header("accept-language", "fr")
        .body(Vec::new())
        .unwrap();
    let r = edge.request(req).await.response;
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

fn events(slug: &str) -> String {
    psql(
        EU,
        &format!(
            "SELECT string_agg(action || ':' || actor || ':' || region, ',' ORDER BY id) \
             FROM control.operator_events WHERE slug = '{slug}'"
        ),
    )
}

#[tokio::test]
async fn list_and_show_with_filters_and_counts_where_the_data_is() {
    stack();
    let (eu, us) = (Region::of("eu-west"), Region::of("us-east"));
    eu.create("ops-list-fr", "FR", &["www.ops-list.example"])
        .await;
    us.create("ops-list-us", "US", &[]).await;

    let all = tenants::list(&eu.control, &tenants::Filter::default())
        .await
        .unwrap();
    let fr = all
        .iter()
        .find(|c| c.slug.as_str() == "ops-list-fr")
        .unwrap();
    assert_eq!(
        (
            fr.country.as_str(),
            fr.home_region.as_str(),
            fr.plan.as_str()
        ),
        ("FR", "eu-west", "standard")
    );
    assert_eq!(fr.status, TenantStatus::Active);
    // A domain given at creation is the operator's word: verified.
    assert_eq!(
        fr.domains,
        [tenants::Domain {
            domain: "www.ops-list.example".into(),
            verified: true,
            token: None,
        }]
    );
    assert!(all.iter().any(|c| c.slug.as_str() == "ops-list-us"));

    let us_only = tenants::list(
        &eu.control,
        &tenants::Filter {
            country: Some("US".parse().unwrap()),
            status: None,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(us_only.iter().all(|c| c.country == "US"));
    assert!(us_only.iter().any(|c| c.slug.as_str() == "ops-list-us"));
    tenants::set_status(&eu.op(), &slug("ops-list-fr"), TenantStatus::Suspended)
        .await
        .unwrap();
    let suspended = tenants::list(
        &eu.control,
        &tenants::Filter {
            country: None,
            status: Some(TenantStatus::Suspended),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(suspended.iter().any(|c| c.slug.as_str() == "ops-list-fr"));
    assert!(
        suspended
            .iter()
            .all(|c| c.status == TenantStatus::Suspended)
    );

    // Counts where the clinic's data is; none from another region.
    let d = tenants::show(&eu.op(), &slug("ops-list-fr")).await.unwrap();
    assert_eq!(
        d.counts,
        Some(tenants::Counts {
            patients: 0,
            appointments: 0
        })
    );
    let d = tenants::show(&eu.op(), &slug("ops-list-us")).await.unwrap();
    assert_eq!(d.counts, None);
    assert_eq!(d.clinic.home_region, "us-east");
    let d = tenants::show(&us.op(), &slug("ops-list-us")).await.unwrap();
    assert!(d.counts.is_some());

    let err = tenants::show(&eu.op(), &slug("ops-no-such"))
        .await
        .unwrap_err();
    assert!(matches!(err, TenantError::UnknownClinic(_)), "{err}");
    assert_eq!(err.to_string(), "no clinic ops-no-such in the directory");
}

#[tokio::test]
async fn update_validates_and_records_what_changed() {
    stack();
    let eu = Region::of("eu-west");
    eu.create("ops-update", "FR", &[]).await;
    let s = slug("ops-update");
    let change = |plan: Option<&str>, name: Option<&str>, locale: Option<&str>| tenants::Update {
        plan: plan.map(Into::into),
        name: name.map(Into::into),
        default_locale: locale.map(Into::into),
    };

    let c = tenants::update(
        &eu.op(),
        &s,
        &change(Some(" Premium "), Some("  Hôpital  "), Some("AR")),
    )
    .await
    .unwrap();
    assert_eq!(
        (c.plan.as_str(), c.name.as_str(), c.default_locale.as_str()),
        ("premium", "Hôpital", "ar")
    );
    let detail = psql(
        EU,
        "SELECT detail::text FROM control.operator_events WHERE slug = 'ops-update' AND action = 'update'",
    );
    assert!(
        detail.contains(r#""plan": {"to": "premium", "from": "standard"}"#),
        "{detail}"
    );

    for (bad, expect) in [
        (
            change(Some("gold"), None, None),
            "one of basic, standard, premium",
        ),
        (change(None, None, Some("de")), "unsupported locale \"de\""),
        (change(None, Some("   "), None), "1 to 200 characters"),
        (change(None, None, None), "nothing to update"),
    ] {
        let err = tenants::update(&eu.op(), &s, &bad).await.unwrap_err();
        assert!(err.to_string().contains(expect), "{err}");
    }
    let err = tenants::update(
        &eu.op(),
        &slug("ops-no-such"),
        &change(Some("basic"), None, None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TenantError::UnknownClinic(_)), "{err}");
    // Refusals changed nothing.
    assert_eq!(
        psql(
            EU,
            "SELECT plan || ' ' || default_locale FROM control.tenants WHERE slug = 'ops-update'"
        ),
        "premium ar"
    );
    assert_eq!(events("ops-update"), "update:ops-test:eu-west");
}

#[tokio::test]
async fn a_suspended_clinic_answers_suspended_pages_and_api_until_resumed() {
    stack();
    let eu = Region::of("eu-west");
    eu.create("ops-suspend", "FR", &[]).await;
    let s = slug("ops-suspend");
    let server = serve_eu().await;
    let edge = edge(&server);
    let host = "ops-suspend.localhost";

    assert_eq!(page(&edge, host).await.0, 200);
    assert_eq!(api(&edge, "ops-suspend").await.0, 200);

    let before = tenants::set_status(&eu.op(), &s, TenantStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(before, TenantStatus::Active);
    let (status, html) = page(&edge, host).await;
    assert_eq!(status, 403, "{html}");
    assert!(
        html.contains("Clinique momentanément indisponible"),
        "{html}"
    );
    let (status, outcome) = api(&edge, "ops-suspend").await;
    assert_eq!(status, 403, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert!(outcome.to_string().contains("suspended"), "{outcome}");

    // Again: nothing changes, nothing is recorded.
    assert_eq!(
        tenants::set_status(&eu.op(), &s, TenantStatus::Suspended)
            .await
            .unwrap(),
        TenantStatus::Suspended
    );
    tenants::set_status(&eu.op(), &s, TenantStatus::Active)
        .await
        .unwrap();
    assert_eq!(page(&edge, host).await.0, 200);
    assert_eq!(api(&edge, "ops-suspend").await.0, 200);
    assert_eq!(
        events("ops-suspend"),
        "suspend:ops-test:eu-west,resume:ops-test:eu-west"
    );

    let err = tenants::set_status(&eu.op(), &slug("ops-no-such"), TenantStatus::Suspended)
        .await
        .unwrap_err();
    assert!(matches!(err, TenantError::UnknownClinic(_)), "{err}");
}

/// DNS answers of a test: TXT records by name; a name listed as failing fails the lookup.
#[derive(Default)]
struct FakeDns {
    records: Mutex<HashMap<String, Vec<String>>>,
    failing: Mutex<Vec<String>>,
}

impl FakeDns {
    fn publish(&self, name: &str, value: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
}

impl TxtResolver for FakeDns {
    async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        if self.failing.lock().unwrap().iter().any(|n| n == name) {
            return Err("SERVFAIL".into());
        }
        Ok(self
            .records
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_default())
    }
}

#[tokio::test]
async fn a_custom_domain_routes_only_once_its_txt_record_is_verified() {
    stack();
    let eu = Region::of("eu-west");
    eu.create("ops-domain", "FR", &[]).await;
    eu.create("ops-domain-other", "FR", &["www.ops-other.example"])
        .await;
    let s = slug("ops-domain");
    let domain = "www.ops-domain.example";
    let record = "_telemed-challenge.www.ops-domain.example";
    let server = serve_eu().await;
    let edge = edge(&server);

    let Added::Pending(p) = tenants::domain_add(&eu.op(), &s, "WWW.ops-domain.example.")
        .await
        .unwrap()
    else {
        panic!("a new domain is pending")
    };
    assert_eq!(p.domain, domain);
    assert!(!p.existing);
    assert_eq!(p.token.len(), "telemed-verify-".len() + 32);
    assert_eq!(p.record(), format!("{record} TXT \"{}\"", p.token));
    // Adding it again gives the same token; another clinic's domain is refused.
    let Added::Pending(again) = tenants::domain_add(&eu.op(), &s, domain).await.unwrap() else {
        panic!("still pending")
    };
    assert_eq!(
        (again.token.as_str(), again.existing),
        (p.token.as_str(), true)
    );
    let err = tenants::domain_add(&eu.op(), &s, "www.ops-other.example")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "domain www.ops-other.example is registered to clinic ops-domain-other"
    );
    assert!(matches!(
        tenants::domain_add(&eu.op(), &s, "10.1.2.3").await,
        Err(TenantError::BadDomain(_))
    ));

    // Pending: not routed, not listed in the clinic's entry.
    assert_eq!(page(&edge, domain).await.0, 404);
    assert_eq!(page(&edge, "www.ops-other.example").await.0, 200);
    let entry = regional_db::directory::Directory::new(eu.control.clone(), Duration::ZERO)
        .by_slug(&s)
        .await
        .unwrap()
        .unwrap();
    assert!(entry.domains.is_empty(), "{:?}", entry.domains);

    // No record, a wrong one, a failing resolver: refused, still not routed.
    let dns = FakeDns::default();
    let err = tenants::domain_verify(&eu.op(), &s, domain, &dns)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TenantError::NotVerified { found, .. } if found.is_empty()),
        "{err}"
    );
    assert!(err.to_string().contains("no TXT record"), "{err}");
    dns.publish(record, "telemed-verify-00000000000000000000000000000000");
    let err = tenants::domain_verify(&eu.op(), &s, domain, &dns)
        .await
        .unwrap_err();
    assert!(matches!(err, TenantError::NotVerified { .. }), "{err}");
    dns.failing.lock().unwrap().push(record.into());
    let err = tenants::domain_verify(&eu.op(), &s, domain, &dns)
        .await
        .unwrap_err();
    assert!(matches!(err, TenantError::Dns { .. }), "{err}");
    dns.failing.lock().unwrap().clear();
    assert_eq!(page(&edge, domain).await.0, 404);

    // The token among other TXT records: verified, routed.
    dns.publish(record, &p.token);
    assert_eq!(
        tenants::domain_verify(&eu.op(), &s, domain, &dns)
            .await
            .unwrap(),
        Verified::Now
    );
    assert_eq!(
        tenants::domain_verify(&eu.op(), &s, domain, &dns)
            .await
            .unwrap(),
        Verified::Already
    );
    let (status, html) = page(&edge, domain).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Clinic ops-domain"), "{html}");
    assert_eq!(
        tenants::domain_add(&eu.op(), &s, domain).await.unwrap(),
        Added::AlreadyVerified
    );

    // Removed: no longer routed; removing it again, or verifying another clinic's, refused.
    tenants::domain_remove(&eu.op(), &s, domain).await.unwrap();
    assert_eq!(page(&edge, domain).await.0, 404);
    assert!(matches!(
        tenants::domain_remove(&eu.op(), &s, domain).await,
        Err(TenantError::UnknownDomain { .. })
    ));
    assert!(matches!(
        tenants::domain_verify(&eu.op(), &s, "www.ops-other.example", &dns).await,
        Err(TenantError::UnknownDomain { .. })
    ));
    assert_eq!(
        events("ops-domain"),
        "domain_add:ops-test:eu-west,domain_verify:ops-test:eu-west,domain_remove:ops-test:eu-west"
    );
}

fn schema_exists(db: &str, slug: &str) -> bool {
    psql(
        db,
        &format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_{}'",
            slug.replace('-', "_")
        ),
    ) == "1"
}

#[tokio::test]
async fn delete_exports_then_purges_in_the_home_region_only() {
    stack();
    let (eu, us) = (Region::of("eu-west"), Region::of("us-east"));
    eu.create("ops-delete-fr", "FR", &["www.ops-delete.example"])
        .await;
    us.create("ops-delete-us", "US", &[]).await;
    let schema = slug("ops-delete-fr").schema_name();
    assert!(schema_exists(EU, "ops-delete-fr"), "{schema}");
    let server = serve_eu().await;
    let edge = edge(&server);
    assert_eq!(page(&edge, "ops-delete-fr.localhost").await.0, 200);
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tenants-export");
    let _ = std::fs::remove_dir_all(&tmp);

    // Elsewhere than the home region: refused, naming it; nothing written.
    let err = tenants::delete(&us.op(), &slug("ops-delete-fr"), &tmp.join("a"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "clinic ops-delete-fr is homed in eu-west: run this on the eu-west instance (regional-db --region eu-west), not on us-east"
    );
    assert!(!tmp.join("a").exists());
    let err = tenants::delete(&eu.op(), &slug("ops-delete-us"), &tmp.join("a"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("homed in us-east"), "{err}");
    assert!(matches!(
        tenants::delete(&eu.op(), &slug("ops-no-such"), &tmp.join("a")).await,
        Err(TenantError::UnknownClinic(_))
    ));
    // An active clinic is not deleted: suspended first.
    let err = tenants::delete(&eu.op(), &slug("ops-delete-fr"), &tmp.join("a"))
        .await
        .unwrap_err();
    assert!(matches!(err, TenantError::NotSuspended(_)), "{err}");
    assert!(err.to_string().contains("suspend it first"), "{err}");
    for (r, s) in [(&eu, "ops-delete-fr"), (&us, "ops-delete-us")] {
        tenants::set_status(&r.op(), &slug(s), TenantStatus::Suspended)
            .await
            .unwrap();
    }
    assert_eq!(page(&edge, "ops-delete-fr.localhost").await.0, 403);

    // An export never overwrites one.
    std::fs::create_dir_all(tmp.join("used")).unwrap();
    std::fs::write(tmp.join("used/old.txt"), "x").unwrap();
    assert!(matches!(
        tenants::delete(&eu.op(), &slug("ops-delete-fr"), &tmp.join("used")).await,
        Err(TenantError::ExportDirNotEmpty(_))
    ));
    assert!(schema_exists(EU, "ops-delete-fr"));

    // Some rows to export: a practitioner, a patient under legal hold.
    psql(
        EU,
        &format!(
            "INSERT INTO \"{schema}\".practitioners (resource) VALUES ('{{\"resourceType\": \"Practitioner\"}}')"
        ),
    );
    let patient = psql(
        EU,
        &format!(
            "INSERT INTO \"{schema}\".patients (resource, family, given, birth_date, gender) \
             VALUES ('{{\"resourceType\": \"Patient\"}}', 'Martin', 'Léa', '1991-04-02', 'female') RETURNING id"
        ),
    );
    let patient = patient.lines().next().unwrap().trim().to_owned();
    let d = tenants::show(&eu.op(), &slug("ops-delete-fr"))
        .await
        .unwrap();
    assert_eq!(d.counts.unwrap().patients, 1);
    let held = uuid::Uuid::parse_str(&patient).unwrap();
    regional_db::jobs::holds::place(
        &eu.pool,
        &eu.control,
        &eu.id,
        &slug("ops-delete-fr"),
        held,
        "litigation",
        "ops-test",
    )
    .await
    .unwrap();
    let err = tenants::delete(&eu.op(), &slug("ops-delete-fr"), &tmp.join("held"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TenantError::LegalHolds { count: 1, .. }),
        "{err}"
    );
    assert!(schema_exists(EU, "ops-delete-fr"));
    regional_db::jobs::holds::lift(
        &eu.pool,
        &eu.control,
        &eu.id,
        &slug("ops-delete-fr"),
        held,
        "ops-test",
    )
    .await
    .unwrap();

    let out = tmp.join("fr");
    let done = tenants::delete(&eu.op(), &slug("ops-delete-fr"), &out)
        .await
        .unwrap();
    assert_eq!(done.tables["practitioners"], 1);
    assert_eq!(done.tables["patients"], 1);
    assert!(done.tables.contains_key("data_keys"));
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["clinic"]["slug"], "ops-delete-fr");
    assert_eq!(
        manifest["clinic"]["domains"][0]["domain"],
        "www.ops-delete.example"
    );
    assert_eq!(manifest["tables"]["practitioners"], 1);
    let lines = std::fs::read_to_string(out.join("practitioners.jsonl")).unwrap();
    let row: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(row["resource"]["resourceType"], "Practitioner");
    for table in done.tables.keys() {
        assert!(out.join(format!("{table}.jsonl")).exists(), "{table}");
    }

    // Gone: the schema from its home cluster, the entry and domains from the directory.
    assert!(!schema_exists(EU, "ops-delete-fr"));
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.tenants WHERE slug = 'ops-delete-fr'"
        ),
        "0"
    );
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.tenant_domains WHERE slug = 'ops-delete-fr'"
        ),
        "0"
    );
    assert_eq!(
        events("ops-delete-fr"),
        "suspend:ops-test:eu-west,delete:ops-test:eu-west"
    );
    assert_eq!(page(&edge, "ops-delete-fr.localhost").await.0, 404);
    assert_eq!(page(&edge, "www.ops-delete.example").await.0, 404);
    assert_eq!(api(&edge, "ops-delete-fr").await.0, 404);

    // A clinic homed where the control plane is not: its own region drops the schema, the
    // control plane loses the entry.
    assert!(schema_exists(US, "ops-delete-us"));
    tenants::delete(&us.op(), &slug("ops-delete-us"), &tmp.join("us"))
        .await
        .unwrap();
    assert!(!schema_exists(US, "ops-delete-us"));
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.tenants WHERE slug = 'ops-delete-us'"
        ),
        "0"
    );
    assert_eq!(
        events("ops-delete-us"),
        "suspend:ops-test:us-east,delete:ops-test:us-east"
    );
}

/// The binary's parsing and output, end to end (list, show, update's refusal).
#[tokio::test]
async fn the_cli_lists_shows_and_refuses_clearly() {
    stack();
    let eu = Region::of("eu-west");
    eu.create("ops-cli", "FR", &[]).await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_regional-db"))
            .args(args)
            .args([
                "--region",
                "eu-west",
                "--database-url",
                &stack().cluster.url(EU),
            ])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["tenant", "list", "--country", "FR", "--status", "active"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("slug "), "{out}");
    let line = out.lines().find(|l| l.starts_with("ops-cli ")).unwrap();
    for cell in ["Clinic ops-cli", "FR", "eu-west", "standard", "active"] {
        assert!(line.contains(cell), "{line}");
    }
    let (ok, out, err) = run(&["tenant", "show", "ops-cli"]);
    assert!(ok, "{err}");
    assert!(out.contains("0 patient(s), 0 appointment(s)"), "{out}");
    let (ok, out, err) = run(&["tenant", "suspend", "ops-cli", "--by", "alice"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("within that time") && out.contains("30 s"),
        "{out}"
    );
    assert_eq!(events("ops-cli"), "suspend:alice:eu-west");
    let (ok, _, err) = run(&["tenant", "update", "ops-cli", "--plan", "gold"]);
    assert!(!ok);
    assert!(err.contains("unknown plan \"gold\""), "{err}");
    let (ok, _, err) = run(&["tenant", "list", "--status", "deleted"]);
    assert!(!ok);
    assert!(err.contains("active or suspended"), "{err}");

    // Custom domains are checked against the platform's apex domain: never it, nor under it.
    let (ok, _, err) = run(&["tenant", "domain", "add", "ops-cli", "www.ops-cli.example"]);
    assert!(!ok);
    assert!(err.contains("set APEX_DOMAIN"), "{err}");
    for under in ["localhost", "www.localhost", "ops-cli.localhost"] {
        let (ok, _, err) = run(&[
            "tenant",
            "domain",
            "add",
            "ops-cli",
            under,
            "--apex-domain",
            "localhost",
        ]);
        assert!(!ok, "{under}");
        assert!(
            err.contains("the platform's domain localhost or under it"),
            "{err}"
        );
    }
    let (ok, _, err) = run(&[
        "tenant",
        "create",
        "--slug",
        "ops-cli-apex",
        "--name",
        "X",
        "--country",
        "FR",
        "--domain",
        "x.localhost",
        "--apex-domain",
        "localhost",
    ]);
    assert!(!ok);
    assert!(err.contains("under it"), "{err}");
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.tenants WHERE slug = 'ops-cli-apex'"
        ),
        "0"
    );
    let (ok, out, err) = run(&[
        "tenant",
        "domain",
        "add",
        "ops-cli",
        "www.ops-cli.example",
        "--apex-domain",
        "localhost",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("_telemed-challenge.www.ops-cli.example TXT \"telemed-verify-"),
        "{out}"
    );
    assert!(out.contains("does not route"), "{out}");

    // Delete asks for the slug to be typed again (here: nothing on standard input).
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tenants-cli-export");
    let _ = std::fs::remove_dir_all(&dir);
    let export = dir.to_str().unwrap();
    let (ok, _, err) = run(&["tenant", "delete", "ops-cli", "--export", export]);
    assert!(!ok);
    assert!(err.contains("not confirmed: nothing was deleted"), "{err}");
    let (ok, out, err) = run(&["tenant", "delete", "ops-cli", "--export", export, "--yes"]);
    assert!(ok, "{err}");
    assert!(out.contains("then deleted"), "{out}");
    assert!(dir.join("manifest.json").exists());
    let (ok, _, err) = run(&["tenant", "show", "ops-cli"]);
    assert!(!ok);
    assert!(err.contains("no clinic ops-cli in the directory"), "{err}");
}
