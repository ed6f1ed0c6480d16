//! Observability of `regional-db` against a real Postgres (its own cluster, started by
//! `xtask::pg` for this test binary): `/metrics` exports every series `infra/` queries, the
//! edge timing beacon (`POST /v1/edge-timings`), `Server-Timing: db` (also relayed from a
//! home region), the samplers — and `promtool` accepts `infra/prometheus/`.

mod common;

use common::{Server, region};

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use regional_db::{Config, db, provision, sampling};
use reqwest::StatusCode;
use serde_json::{Value, json};
use telemed_shared::{
    auth::{EdgeClaims, SigningKey, VerifyingKeys},
    dataplane::{
        catalog::{self, names},
        wire::{BATCH_PATH, CATALOG_HEADER, EDGE_TIMINGS_PATH, MAX_EDGE_TIMING_BYTES},
    },
    geo::RegionMap,
};
use xtask::pg::PgCluster;

const EU: &str = "obs_eu";
const US: &str = "obs_us";

/// The clinics of this binary's cluster, made once by [`stack`]: (slug, country, whether
/// homed in eu-west, else in us-east).
const CLINICS: &[(&str, &str, bool)] = &[
    ("obs-paris", "FR", true),
    ("obs-lyon", "FR", true),
    ("obs-casa", "MA", true),
    ("obs-boston", "US", false),
];

struct Stack {
    cluster: PgCluster,
    edge_key: Vec<u8>,
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let cluster = common::cluster("regional-db-pg-observability", &[EU, US]);
        let (eu, us) = (cluster.url(EU), cluster.url(US));
        // Set up on a runtime of its own: each test has its own runtime.
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let eu = db::pool(&eu, 2, Duration::from_secs(10)).unwrap();
                let us = db::pool(&us, 2, Duration::from_secs(10)).unwrap();
                common::migrate_two_regions(&eu, &us).await;
                for &(slug, country, local) in CLINICS {
                    let own = if local { &eu } else { &us };
                    let req = provision::NewTenant {
                        slug: slug.into(),
                        name: format!("Clinic {slug}"),
                        country: country.into(),
                        region: None,
                        domains: Vec::new(),
                        currency: None,
                    };
                    let home = if local { "eu-west" } else { "us-east" };
                    let r = region(home);
                    let target = provision::Target {
                        region: &r,
                        pool: own,
                        control: &eu,
                        control_is_local: local,
                    };
                    provision::create(&req, &target).await.unwrap();
                }
            })
        })
        .join()
        .unwrap();
        let edge_key = jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes();
        Stack { cluster, edge_key }
    })
}

fn signer() -> SigningKey {
    SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap()
}

fn token(tenant: Option<&str>) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = EdgeClaims {
        tenant: tenant.map(|t| t.parse().unwrap()),
        actor: None,
        ..Default::default()
    };
    signer().sign_edge(claims, now).unwrap()
}

async fn serve(r: &str, peers: &[(&str, &str)]) -> Server {
    let own = if r == "eu-west" { EU } else { US };
    let keys = VerifyingKeys::from_base64_list(&signer().public_base64()).unwrap();
    let mut config = Config::new(region(r), stack().cluster.url(own), keys);
    config.control_database_url = Some(stack().cluster.url(EU));
    config.peers = peers
        .iter()
        .map(|(r, url)| (region(r), url.to_string()))
        .collect();
    Server::spawn(config).await
}

/// One sample of the text exposition.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples and the `# TYPE` of every metric family.
struct Exposition {
    samples: Vec<Sample>,
    types: BTreeMap<String, String>,
    text: String,
}

impl Exposition {
    fn parse(text: String) -> Self {
        let mut types = BTreeMap::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, ty) = rest.split_once(' ').unwrap();
                types.insert(name.to_owned(), ty.to_owned());
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap(),
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').unwrap();
                    let labels = body
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once("=\"").unwrap();
                            (k.to_owned(), v.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), BTreeMap::new()),
            };
            samples.push(Sample {
                name,
                labels,
                value,
            });
        }
        Self {
            samples,
            types,
            text,
        }
    }

    /// The sum of `name`'s samples whose labels include all of `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .sum()
    }

    /// Every series name a query may use: each family, and a histogram's `_bucket`,
    /// `_sum` and `_count`.
    fn queryable_names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for (name, ty) in &self.types {
            names.insert(name.clone());
            if ty == "histogram" || ty == "summary" {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
        }
        names
    }
}

impl Server {
    async fn metrics(&self) -> Exposition {
        let resp = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        Exposition::parse(resp.text().await.unwrap())
    }

    async fn timing(&self, token: Option<&str>, body: impl Into<reqwest::Body>) -> StatusCode {
        let mut req = self
            .http
            .post(format!("{}{EDGE_TIMINGS_PATH}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap().status()
    }

    /// A beacon sent with `Transfer-Encoding: chunked` (no length declared); the status.
    async fn chunked_timing(&self, token: &str, body: &[u8]) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req = format!(
            "POST {EDGE_TIMINGS_PATH} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        for chunk in body.chunks(256) {
            req.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
            req.extend(chunk);
            req.extend(b"\r\n");
        }
        req.extend(b"0\r\n\r\n");
        conn.write_all(&req).await.unwrap();
        let mut answer = Vec::new();
        let _ = conn.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {answer:?}"))
    }

    async fn batch(&self, tenant: &str) -> reqwest::Response {
        let body = json!({"statements": [{"name": names::PATIENT_COUNT, "params": [null, null, null, null, null]}]});
        self.http
            .post(format!("{}{BATCH_PATH}", self.base))
            .bearer_auth(token(Some(tenant)))
            .header(CATALOG_HEADER, catalog::version())
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Scrapes until `ready` holds (the samplers run in the background), or panics.
    async fn metrics_until(&self, what: &str, ready: impl Fn(&Exposition) -> bool) -> Exposition {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.metrics().await;
            if ready(&m) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "{what}; last scrape:\n{}",
                m.text
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn root() -> PathBuf {
    xtask::workspace_root()
}

/// The `expr`s of the dashboard (every `expr` key, at any depth) and of the alert rules.
fn queries() -> Vec<(String, String)> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("expr", Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    /// Every element of every `targets` array (a panel's queries), at any depth.
    fn targets(v: &Value) -> usize {
        match v {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("targets", Value::Array(items)) => items.len(),
                    _ => targets(v),
                })
                .sum(),
            Value::Array(items) => items.iter().map(targets).sum(),
            _ => 0,
        }
    }
    let dashboard = root().join("infra/grafana/dashboards/global.json");
    let text = std::fs::read_to_string(&dashboard).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let mut exprs = Vec::new();
    walk(&json, &mut exprs);
    // The dashboard has its panels' queries, and the walk found each: one string `expr` per
    // target, as many as the file spells `"expr":`.
    assert!(!exprs.is_empty(), "the dashboard has no query");
    assert_eq!(
        exprs.len(),
        targets(&json),
        "a target without an `expr` string"
    );
    assert_eq!(exprs.len(), text.matches("\"expr\":").count());
    let mut out: Vec<(String, String)> = exprs
        .into_iter()
        .map(|e| ("global.json".to_owned(), e))
        .collect();

    // alerts.yml: `expr: <one line>` or `expr: |` followed by a more indented block.
    let rules = std::fs::read_to_string(root().join("infra/prometheus/alerts.yml")).unwrap();
    let lines: Vec<&str> = rules.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut n = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        n += 1;
        let rest = rest.trim();
        let expr = if rest == "|" || rest == ">" {
            lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || indent(l) > indent(line))
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            rest.to_owned()
        };
        out.push(("alerts.yml".to_owned(), expr));
    }
    // One `expr` per rule, and one rule per `- alert:` / `- record:` entry.
    let rule_count = lines
        .iter()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("- alert:") || l.starts_with("- record:")
        })
        .count();
    assert!(rule_count > 0, "alerts.yml has no rule");
    assert_eq!(n, rule_count, "alerts.yml: rules against their `expr:`s");
    out
}

/// The metric names a PromQL expression selects: identifiers that are not functions,
/// aggregations, keywords, label names (`by (…)`, `{…}`) or durations (`[…]`).
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Drop string literals, label matchers and ranges.
    let mut plain = String::new();
    let mut depth_brace = 0;
    let mut depth_bracket = 0;
    let (mut in_string, mut escaped) = (false, false);
    for c in expr.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth_brace += 1,
            '[' => depth_bracket += 1,
            '}' | ']' => {
                if c == '}' {
                    depth_brace -= 1;
                } else {
                    depth_bracket -= 1;
                }
                plain.push(' ');
            }
            _ if depth_brace > 0 || depth_bracket > 0 => {}
            c => plain.push(c),
        }
    }
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "Inf",
        "NaN",
        "inf",
        "nan",
    ];
    // Aggregations may be followed by `by (…)` rather than their parenthesis.
    const AGGREGATIONS: &[&str] = &[
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = plain.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c == '.' {
            // A number (`0.95`, `1e3`): skip it whole.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if !(c.is_ascii_alphabetic() || c == '_' || c == ':') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
        {
            i += 1;
        }
        let ident: String = chars[start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        let before_paren = j < chars.len() && chars[j] == '(';
        if LABEL_LISTS.contains(&ident.as_str()) && before_paren {
            // Skip the label list.
            while j < chars.len() && chars[j] != ')' {
                j += 1;
            }
            i = j + 1;
            continue;
        }
        if before_paren
            || KEYWORDS.contains(&ident.as_str())
            || AGGREGATIONS.contains(&ident.as_str())
        {
            continue;
        }
        names.insert(ident);
    }
    names
}

#[test]
fn promql_names_are_parsed_simply() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (region, le) (rate(edge_request_duration_seconds_bucket{cache=~"hit|miss", x="a}b"}[$__rate_interval]))) / on (region) group_left max(regional_pool_size) > 1e3 or up"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "edge_request_duration_seconds_bucket",
            "regional_pool_size",
            "up"
        ]
    );
}

#[tokio::test]
async fn every_metric_the_dashboard_and_alerts_query_is_exported() {
    stack();
    let s = serve("eu-west", &[]).await;
    // Traffic, so that labelled families have series: a batch, a refusal, a beacon.
    assert_eq!(s.batch("obs-paris").await.status(), StatusCode::OK);
    assert_eq!(s.batch("obs-nowhere").await.status(), StatusCode::NOT_FOUND);
    let beacon =
        json!({"colo": "CDG", "route": "page", "cache": "hit", "status": 200, "duration_ms": 12});
    assert_eq!(
        s.timing(Some(&token(None)), beacon.to_string()).await,
        StatusCode::NO_CONTENT
    );
    // Only clinics homed here, by country: of CLINICS, those of eu-west (this binary's
    // databases are made afresh, and no test adds a clinic).
    let mut homed: BTreeMap<&str, f64> = BTreeMap::new();
    for &(_, country, local) in CLINICS {
        if local {
            *homed.entry(country).or_default() += 1.0;
        }
    }
    let m = s
        .metrics_until("regional_tenants is sampled at start", |m| {
            homed.keys().all(|country| {
                m.samples.iter().any(|s| {
                    s.name == "regional_tenants"
                        && s.labels.get("country").map(String::as_str) == Some(*country)
                })
            })
        })
        .await;
    for (country, n) in &homed {
        assert_eq!(
            m.sum("regional_tenants", &[("country", country)]),
            *n,
            "{country}"
        );
    }
    assert_eq!(
        m.sum("regional_tenants", &[]),
        homed.values().sum::<f64>(),
        "the US clinic is not homed here"
    );
    // No replica configured: the lag is 0, and its help says why.
    assert_eq!(m.sum("regional_replica_lag_seconds", &[]), 0.0);
    assert!(m.text.contains("No replica is configured"), "{}", m.text);
    for (name, v) in [
        ("regional_pool_max_size", 16.0),
        ("regional_pool_waiting", 0.0),
    ] {
        assert_eq!(m.sum(name, &[("pool", "primary")]), v, "{name}");
    }
    // Open connections: the batch's, and perhaps one more that the clinic sampler held at
    // the same time (the control pool is this pool here); the requests above ran one at a
    // time and returned theirs. Which of 1 or 2 depends on timing.
    let open = m.sum("regional_pool_size", &[("pool", "primary")]);
    assert!((1.0..=2.0).contains(&open), "{open} connections");
    assert_eq!(
        m.sum("regional_pool_size", &[("pool", "primary")]),
        m.sum("regional_pool_in_use", &[("pool", "primary")])
            + m.sum("regional_pool_idle", &[("pool", "primary")])
    );
    assert_eq!(
        m.sum(
            "regional_statement_duration_seconds_count",
            &[("statement", names::PATIENT_COUNT), ("outcome", "ok")]
        ),
        1.0,
        "the one batch that ran"
    );
    assert_eq!(
        m.sum("regional_errors_total", &[("code", "unknown_tenant")]),
        1.0
    );

    let exported = m.queryable_names();
    // Series Prometheus makes itself, per target.
    let synthetic = ["up"];
    let mut missing = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, expr) in queries() {
        for name in metric_names(&expr) {
            seen.insert(name.clone());
            if !exported.contains(&name) && !synthetic.contains(&name.as_str()) {
                missing.push(format!("{file}: {name} (in {expr})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "queried but not exported by regional-db:\n{}",
        missing.join("\n")
    );
    for must in [
        "edge_request_duration_seconds_bucket",
        "regional_tenants",
        "regional_replica_lag_seconds",
        "regional_pool_in_use",
        "regional_pool_waiting",
    ] {
        assert!(seen.contains(must), "infra/ never queries {must}: {seen:?}");
    }
}

#[tokio::test]
async fn edge_timings_are_counted_apart_from_data_calls() {
    stack();
    let s = serve("eu-west", &[]).await;
    let t = token(None);
    let series = [
        ("region", "eu-west"),
        ("colo", "JNB1X"),
        ("route", "api_patient"),
        ("cache", "none"),
    ];
    let before = s.metrics().await;
    let count = |m: &Exposition| m.sum("edge_request_duration_seconds_count", &series);
    let body = |colo: &str, route: &str, status: u16| {
        json!({"colo": colo, "route": route, "cache": "none", "status": status, "duration_ms": 180})
            .to_string()
    };
    // The colo is bounded to [A-Z0-9]{≤8} by the region.
    assert_eq!(
        s.timing(Some(&t), body("jnb-1\"x", "api_patient", 503))
            .await,
        StatusCode::NO_CONTENT
    );
    // A token for a clinic is an edge token too.
    assert_eq!(
        s.timing(
            Some(&token(Some("obs-paris"))),
            body("JNB1X", "api_patient", 200)
        )
        .await,
        StatusCode::NO_CONTENT
    );
    let after = s.metrics().await;
    assert_eq!(count(&after) - count(&before), 2.0, "{}", after.text);
    let sum = after.sum("edge_request_duration_seconds_sum", &series)
        - before.sum("edge_request_duration_seconds_sum", &series);
    assert!((sum - 0.36).abs() < 1e-9, "{sum}");
    // 180 ms: over the 100 ms budget, within 250 ms.
    let le = |m: &Exposition, le: &str| {
        let mut labels = series.to_vec();
        labels.push(("le", le));
        m.sum("edge_request_duration_seconds_bucket", &labels)
    };
    assert_eq!(le(&after, "0.1") - le(&before, "0.1"), 0.0);
    assert_eq!(le(&after, "0.25") - le(&before, "0.25"), 2.0);
    assert_eq!(
        after.sum(
            "edge_responses_total",
            &[
                ("region", "eu-west"),
                ("route", "api_patient"),
                ("status_class", "5xx")
            ]
        ),
        1.0
    );

    // Refusals: no token, a forged one, oversized, junk labels, unknown fields, bad status.
    let forged = SigningKey::from_key_pair_bytes(
        &jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes(),
    )
    .unwrap()
    .sign_edge(
        EdgeClaims {
            tenant: None,
            actor: None,
            ..Default::default()
        },
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let ok = body("CDG", "page", 200);
    assert_eq!(s.timing(None, ok.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.timing(Some(&forged), ok.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    let huge = body(&"X".repeat(MAX_EDGE_TIMING_BYTES), "page", 200);
    assert_eq!(
        s.timing(Some(&t), huge.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Without a Content-Length (chunked), the limit holds all the same.
    assert_eq!(s.chunked_timing(&t, huge.as_bytes()).await, 413);
    for junk in [
        body("CDG", "/v1/patients/123", 200),
        body("CDG", "PAGE", 200),
        json!({"colo": "CDG", "route": "page", "cache": "warm", "status": 200, "duration_ms": 1})
            .to_string(),
        json!({"colo": "CDG", "route": "page", "cache": "hit", "status": 200, "duration_ms": 1, "path": "/x"})
            .to_string(),
        json!({"colo": "CDG", "route": "page", "cache": "hit", "status": 200, "duration_ms": -1})
            .to_string(),
        body("CDG", "page", 42),
        "not json".to_owned(),
    ] {
        assert_eq!(
            s.timing(Some(&t), junk.clone()).await,
            StatusCode::BAD_REQUEST,
            "{junk}"
        );
    }
    let end = s.metrics().await;
    assert_eq!(count(&end), count(&after), "refusals are not samples");
    assert!(
        !end.text.contains("route=\"PAGE\"") && !end.text.contains("/v1/patients/123"),
        "no junk label reaches the exposition"
    );
    // The end-to-end tests count edge→region data calls with these: beacons are not any.
    for (name, labels) in [
        ("regional_batch_requests_total", &[("origin", "edge")][..]),
        ("regional_directory_requests_total", &[][..]),
    ] {
        assert_eq!(end.sum(name, labels), 0.0, "{name}");
    }
}

#[tokio::test]
async fn batches_answer_their_postgres_time_also_when_forwarded() {
    stack();
    let us = serve("us-east", &[]).await;
    let eu = serve("eu-west", &[("us-east", us.base.as_str())]).await;
    let db_dur = |r: &reqwest::Response| {
        let v = r
            .headers()
            .get("server-timing")
            .unwrap_or_else(|| panic!("no Server-Timing on {}", r.status()))
            .to_str()
            .unwrap()
            .to_owned();
        telemed_shared::dataplane::wire::server_timing_db_millis(&v)
            .unwrap_or_else(|| panic!("no db entry in {v:?}"))
    };
    // How long Postgres takes is not knowable: more than nothing, and (allowing for the
    // header's rounding to 0.1 ms) no more than the whole request as the client timed it.
    let timed = |tenant: &'static str| {
        let eu = &eu;
        async move {
            let started = Instant::now();
            let r = eu.batch(tenant).await;
            (r, started.elapsed().as_secs_f64() * 1000.0)
        }
    };
    let (local, took) = timed("obs-paris").await;
    assert_eq!(local.status(), StatusCode::OK);
    let db = db_dur(&local);
    assert!(db > 0.0 && db <= took + 0.05, "db {db} ms of {took} ms");
    // Run in us-east, relayed by eu-west.
    let (forwarded, took) = timed("obs-boston").await;
    assert_eq!(forwarded.status(), StatusCode::OK);
    let db = db_dur(&forwarded);
    assert!(db > 0.0 && db <= took + 0.05, "db {db} ms of {took} ms");
    let body: Value = forwarded.json().await.unwrap();
    assert_eq!(body["region"], "us-east");
}

#[tokio::test]
async fn replica_lag_query_runs_and_refuses_a_primary() {
    stack();
    // No replica in this harness; pointed at a primary, the sampler says so rather than
    // reporting a lag of 0 from a server that replays nothing.
    let pool = db::pool(&stack().cluster.url(EU), 1, Duration::from_secs(5)).unwrap();
    let err = sampling::replica_lag(&pool).await.unwrap_err();
    assert!(err.contains("not in recovery"), "{err}");
    let counts = sampling::tenants_by_country(&pool, &region("us-east"))
        .await
        .unwrap();
    assert_eq!(counts, BTreeMap::from([("US".to_owned(), 1)]));
}

fn promtool(args: &[&str]) {
    let bin = Path::new(xtask::tools::PROMTOOL_BIN);
    assert!(
        bin.exists(),
        "{} is missing: `cargo xtask test` installs it (Debian package `prometheus`), or apt-get install prometheus",
        bin.display()
    );
    let out = Command::new(bin)
        .args(args)
        .current_dir(root().join("infra/prometheus"))
        .output()
        .expect("running promtool");
    assert!(
        out.status.success(),
        "promtool {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_config_the_rules_and_their_tests() {
    promtool(&["check", "config", "prometheus.yml"]);
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);
}

#[test]
fn prometheus_scrapes_every_region_of_the_local_stack() {
    let config = std::fs::read_to_string(root().join("infra/prometheus/prometheus.yml")).unwrap();
    for (i, r) in RegionMap::embedded().regions().iter().enumerate() {
        let target = format!(
            "\"127.0.0.1:{}\"]",
            xtask::stack::DEV.region_port_base + i as u16
        );
        let block = config
            .split("- targets: [")
            .find(|b| b.starts_with(&target))
            .unwrap_or_else(|| panic!("no scrape target {target} for {}", r.id));
        assert!(
            block.contains(&format!("region: {}", r.id)),
            "target {target} is not labelled region: {}",
            r.id
        );
    }
}
