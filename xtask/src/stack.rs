//! The local stack: what production spreads across the world, on one machine.
//!
//! For each region of `infra/regions.toml`: a Postgres cluster and a `regional-db`. Then the
//! Workers edge in workerd (`wrangler dev`) and the Spin edge in a wasi:http host
//! (`wasmtime serve`). Everything listens on 127.0.0.1; everything stops when the [`Stack`]
//! is dropped. `cargo xtask up` runs the `dev` stack; `cargo xtask test` a `test` stack on
//! other ports, so both can run at once.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use telemed_shared::geo::RegionMap;

use crate::{
    keys::StackKeys,
    pg::{PgCluster, PgOptions},
    ports::{self, Claim},
    workspace_root,
};

/// Ports and folders of one stack. Every fixed port lies below the kernel's ephemeral
/// range (32768–60999 by default; see [`crate::ports`]), and the three stacks never share
/// one, so `up`, `test` and `bench` can run at once. (What the bench starts beside its
/// stack, PgBouncer and a second workerd, takes a port the kernel says is free just then.)
#[derive(Debug, Clone, Copy)]
pub struct StackSpec {
    pub name: &'static str,
    /// Region `i`'s Postgres primary listens on `pg_port_base + i`, its replica on `+ 10`.
    pub pg_port_base: u16,
    /// Instance `k` of region `i`'s `regional-db` listens on `region_port_base + i + 10 k`.
    pub region_port_base: u16,
    pub workers_port: u16,
    pub spin_port: u16,
    /// The cargo profile whose `regional-db` binary the stack runs (`target/<profile>/`).
    pub regional_db_profile: &'static str,
}

pub const DEV: StackSpec = StackSpec {
    name: "dev",
    pg_port_base: 25430,
    region_port_base: 7100,
    workers_port: 8787,
    spin_port: 8788,
    regional_db_profile: "debug",
};
pub const TEST: StackSpec = StackSpec {
    name: "test",
    pg_port_base: 26430,
    region_port_base: 17100,
    workers_port: 18787,
    spin_port: 18788,
    regional_db_profile: "debug",
};
/// `cargo xtask bench`: its own ports, and `regional-db` built in release (a benchmark of
/// a debug build measures the debug build).
pub const BENCH: StackSpec = StackSpec {
    name: "bench",
    pg_port_base: 27430,
    region_port_base: 27100,
    workers_port: 28787,
    spin_port: 28788,
    regional_db_profile: "release",
};

/// The file under a stack's folder that records the ports its databases were made for.
const LAYOUT_FILE: &str = "ports";

fn layout(spec: StackSpec) -> String {
    format!(
        "pg_port_base={} region_port_base={}\n",
        spec.pg_port_base, spec.region_port_base
    )
}

fn record_layout(spec: StackSpec, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join(LAYOUT_FILE), layout(spec))
        .with_context(|| format!("writing {}", dir.join(LAYOUT_FILE).display()))
}

/// Every port `spec`'s stack listens on, with what listens there.
pub fn fixed_ports(spec: &StackSpec) -> Vec<Claim> {
    planned_ports(spec, Path::new(""))
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

/// [`fixed_ports`], each Postgres port with the data directory (under `pg_dir`) whose
/// server listens there.
fn planned_ports(spec: &StackSpec, pg_dir: &Path) -> Vec<(Claim, Option<PathBuf>)> {
    let mut claims = Vec::new();
    for (i, region) in (0u16..).zip(RegionMap::embedded().regions()) {
        let id = &region.id;
        claims.push((
            Claim::new(spec.pg_port_base + i, format!("{id} Postgres")),
            Some(pg_dir.join(id.as_str())),
        ));
        if region.replica {
            claims.push((
                Claim::new(spec.pg_port_base + i + 10, format!("{id} Postgres replica")),
                Some(pg_dir.join(format!("{id}-replica"))),
            ));
        }
        for k in 0..region.instances.max(1) {
            claims.push((
                Claim::new(
                    spec.region_port_base + i + 10 * k,
                    format!("{id} regional-db instance {k}"),
                ),
                None,
            ));
        }
    }
    claims.push((
        Claim::new(spec.workers_port, "the Workers edge, wrangler dev"),
        None,
    ));
    claims.push((
        Claim::new(spec.spin_port, "the Spin edge, wasmtime serve"),
        None,
    ));
    claims.push((
        Claim::new(rates_feed_port(spec), "the exchange-rates feed stand-in"),
        None,
    ));
    claims
}

/// Where a stack serves its exchange-rates feed: beside its regional-db instances.
fn rates_feed_port(spec: &StackSpec) -> u16 {
    spec.region_port_base + 90
}

/// A publication of the ECB's euro reference rates, in its exact format.
const RATES_FIXTURE: &str =
    include_str!("../../shared/src/money/testdata/eurofxref-daily-2026-10-02.xml");

/// Serves [`RATES_FIXTURE`] on `port` for the rest of this process, as the ECB serves
/// `eurofxref-daily.xml` (the stand-in for a service on the internet that cannot be reached
/// from here: its real format, over HTTP). Returns the feed's URL.
fn serve_rates_feed(port: u16) -> Result<String> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("binding the rates feed on 127.0.0.1:{port}"))?;
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/xml; charset=utf-8\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{RATES_FIXTURE}",
                RATES_FIXTURE.len()
            );
        }
    });
    Ok(format!("http://127.0.0.1:{port}/eurofxref-daily.xml"))
}

/// The demo clinics `cargo xtask up` creates: (slug, name, country).
pub const DEMO_CLINICS: &[(&str, &str, &str)] = &[
    ("hopital-paris", "Hôpital Paris Santé", "FR"),
    ("clinique-dakar", "Clinique de Dakar", "SN"),
    ("boston-telehealth", "Boston Telehealth", "US"),
    ("sandton-care", "Sandton Care", "ZA"),
    ("casablanca-sante", "Casablanca Santé", "MA"),
];

/// What a running stack offers, written to `target/stack-<name>/stack.json` for the
/// end-to-end tests (`TELEMED_STACK` points at it). Holds local database passwords: the
/// file is private to its owner and lives under `target/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackInfo {
    pub workers_url: String,
    /// `REGION_URLS` as the edges are configured with it.
    pub region_urls: String,
    /// `PEER_URLS` as the regions are configured with it (first instance of each region).
    pub peer_urls: String,
    pub spin_url: String,
    pub regions: Vec<RegionInfo>,
    pub keys_file: PathBuf,
    pub regional_db_bin: PathBuf,
    pub logs_dir: PathBuf,
    /// The exchange-rates feed the regions fetch ([`serve_rates_feed`]): the ECB is out of
    /// reach here, so the stack serves a real publication in the ECB's exact format.
    #[serde(default)]
    pub rates_feed_url: String,
    /// The demo clinics' people who sign in with a password: each clinic's admin and its
    /// practitioners ([`crate::demo::DemoAccount`]), with passwords drawn once per stack.
    #[serde(default)]
    pub demo_accounts: Vec<crate::demo::DemoAccount>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegionInfo {
    pub id: String,
    /// Base URL of the region's first `regional-db` instance.
    pub url: String,
    /// Base URLs of all its instances (`url` first).
    pub urls: Vec<String>,
    /// Process (group) ids of those instances, as started.
    pub pids: Vec<u32>,
    pub database_url: String,
    /// The region's streaming replica, when it has one (reads go there).
    #[serde(default)]
    pub replica_database_url: Option<String>,
    pub control_database_url: String,
    /// `database_url` and `replica_database_url` as the service's own LOGIN role (a member
    /// of `telemed_service`, never a superuser): what `regional-db serve` connects with.
    /// The URLs above are the administrator's, for migrations, clinics and tests.
    #[serde(default)]
    pub service_database_url: Option<String>,
    #[serde(default)]
    pub service_replica_database_url: Option<String>,
    /// The region's Postgres primary, and its streaming replica if it has one, for failure
    /// tests ([`StackInfo::crash_primary`], [`StackInfo::promote_replica`]).
    pub primary_pg: PgServer,
    #[serde(default)]
    pub replica_pg: Option<PgServer>,
}

/// Where one Postgres server of the stack lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PgServer {
    pub data_dir: PathBuf,
    pub port: u16,
}

impl PgServer {
    /// A handle on the server: adopted if it runs (and then left running when dropped),
    /// started if it does not (and then detached, for the stack to stop with the rest).
    fn handle(&self) -> Result<PgCluster> {
        PgCluster::start(
            &self.data_dir,
            PgOptions {
                port: Some(self.port),
                reuse_existing: true,
            },
        )
    }
}

impl StackInfo {
    pub fn load(path: &Path) -> Result<Self> {
        serde_json::from_slice(
            &fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )
        .context("parsing stack.json")
    }

    pub fn region(&self, id: &str) -> Option<&RegionInfo> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn keys(&self) -> Result<StackKeys> {
        StackKeys::load_or_create(&self.keys_file)
    }

    /// The `regional-db serve` command of instance `k` of `region`: one definition for the
    /// stack and for tests that restart an instance.
    pub fn regional_db_serve(&self, region: &str, k: usize) -> Result<Command> {
        let r = self
            .region(region)
            .with_context(|| format!("no region {region}"))?;
        let url = r
            .urls
            .get(k)
            .with_context(|| format!("{region} has no instance {k}"))?;
        let mut cmd = Command::new(&self.regional_db_bin);
        // Directory reads come from the region's own (replicated) control schema.
        cmd.args([
            "serve",
            "--region",
            region,
            "--listen",
            url.trim_start_matches("http://"),
        ])
        .env(
            "DATABASE_URL",
            r.service_database_url.as_ref().unwrap_or(&r.database_url),
        )
        .env(
            "CONTROL_DATABASE_URL",
            r.service_database_url.as_ref().unwrap_or(&r.database_url),
        )
        .env("EDGE_TOKEN_PUBLIC_KEYS", self.keys()?.edge_public()?)
        .env("API_SIGNING_KEYS", self.keys()?.api_signing_keys())
        // Apps' key sets in the tests are served from this machine.
        .env("ALLOW_LOCAL_URLS", "true")
        .env("MASTER_KEYS", self.keys()?.master_keys(region)?)
        .env("RATES_FEED_URL", &self.rates_feed_url)
        .env("PEER_URLS", &self.peer_urls)
        // One spool per instance: each owns what it spooled until the primary is back.
        .env(
            "AUDIT_SPOOL_DIR",
            self.logs_dir
                .parent()
                .unwrap_or(&self.logs_dir)
                .join("audit-spool")
                .join(format!("{region}-{k}")),
        )
        // Operators' requests (`POST /v1/ops`) run as the schemas' owner: the
        // administrator's URLs, this region's and the control plane's.
        .env("OPERATOR_DATABASE_URL", &r.database_url)
        .env("OPERATOR_CONTROL_DATABASE_URL", &r.control_database_url)
        .env(
            "OPERATOR_EXPORT_DIR",
            self.logs_dir
                .parent()
                .unwrap_or(&self.logs_dir)
                .join("exports")
                .join(region),
        )
        .env("RUST_LOG", "info");
        if let Some(replica) = r
            .service_replica_database_url
            .as_ref()
            .or(r.replica_database_url.as_ref())
        {
            cmd.env("REPLICA_DATABASE_URL", replica);
        }
        Ok(cmd)
    }

    /// Kills instance `k` of `region` (a failure test). Restart it with
    /// [`Self::restart_instance`].
    pub fn kill_instance(&self, region: &str, k: usize) -> Result<()> {
        let r = self
            .region(region)
            .with_context(|| format!("no region {region}"))?;
        // The latest process of the instance: restarted ones are in the respawn record.
        let respawned = fs::read_to_string(respawned_pids(&self.logs_dir)).unwrap_or_default();
        let restarted = respawned.lines().rev().find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(region) && f.next() == Some(&k.to_string()))
                .then(|| f.next()?.parse::<u32>().ok())?
        });
        let pid = restarted
            .or_else(|| r.pids.get(k).copied())
            .with_context(|| format!("{region} has no instance {k}"))?;
        Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status()?;
        // Dead means its port refuses connections: a test must not rely on a kill that missed.
        let url = r
            .urls
            .get(k)
            .with_context(|| format!("{region} has no instance {k}"))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while reqwest::blocking::get(format!("{url}/healthz")).is_ok() {
            if Instant::now() > deadline {
                bail!("instance {k} of {region} (process group {pid}) still answers after kill");
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Starts instance `k` of `region` again and waits until it is healthy. The stack
    /// stops it with everything else.
    pub fn restart_instance(&self, region: &str, k: usize) -> Result<()> {
        use std::{io::Write as _, os::unix::process::CommandExt};
        let name = format!("regional-db-{region}-{k}");
        let log_path = self.logs_dir.join(format!("{name}.log"));
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let child = self
            .regional_db_serve(region, k)?
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("restarting {name}"))?;
        let mut pids = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(respawned_pids(&self.logs_dir))?;
        writeln!(pids, "{region} {k} {}", child.id())?;
        let url = &self.region(region).expect("checked above").urls[k];
        wait_http(
            &format!("{url}/healthz"),
            &name,
            &log_path,
            Duration::from_secs(30),
        )
    }

    /// Crashes `region`'s primary (`pg_ctl stop -m immediate`). [`Self::start_primary`]
    /// brings it back; [`Self::promote_replica`] fails over instead.
    pub fn crash_primary(&self, region: &str) -> Result<()> {
        let r = self
            .region(region)
            .with_context(|| format!("no region {region}"))?;
        r.primary_pg.handle()?.crash()
    }

    /// Starts `region`'s primary again (after [`Self::crash_primary`]); it recovers from
    /// its WAL and its standby reconnects by itself.
    pub fn start_primary(&self, region: &str) -> Result<()> {
        let r = self
            .region(region)
            .with_context(|| format!("no region {region}"))?;
        r.primary_pg.handle()?.detach();
        Ok(())
    }

    /// Promotes `region`'s streaming replica to primary, as an HA manager would once the
    /// primary is lost (see [`PgCluster::promote`]). The stack has no replica afterwards.
    pub fn promote_replica(&self, region: &str) -> Result<()> {
        let r = self
            .region(region)
            .with_context(|| format!("no region {region}"))?;
        let replica = r
            .replica_pg
            .as_ref()
            .with_context(|| format!("{region} has no replica"))?;
        replica.handle()?.promote()
    }

    /// `regional-db tenant create`, run in the clinic's home region (as an operator would),
    /// then waits until every region's directory serves the new clinic: logical replication
    /// is asynchronous, and a clinic is usable everywhere only once it has arrived.
    pub fn create_tenant(
        &self,
        slug: &str,
        name: &str,
        country: &str,
    ) -> Result<std::process::Output> {
        let out = self.create_tenant_unreplicated(slug, name, country)?;
        if out.status.success() {
            self.wait_replicated(slug)?;
        }
        Ok(out)
    }

    /// Polls every region's `/v1/directory` for `slug`, for up to 15 s.
    pub fn wait_replicated(&self, slug: &str) -> Result<()> {
        use telemed_shared::{
            auth::{EdgeClaims, SigningKey},
            dataplane::{catalog, wire::CATALOG_HEADER},
        };
        let edge =
            SigningKey::from_base64(&self.keys()?.edge).map_err(|e| anyhow::anyhow!("{e}"))?;
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(15);
        for r in &self.regions {
            loop {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_secs();
                let claims = EdgeClaims {
                    tenant: None,
                    actor: None,
                    ..Default::default()
                };
                let token = edge
                    .sign_edge(claims, now)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let status = client
                    .get(format!("{}/v1/directory?slug={slug}", r.url))
                    .bearer_auth(token)
                    .header(CATALOG_HEADER, catalog::version())
                    .send()
                    .map(|r| r.status().as_u16());
                if matches!(status, Ok(200)) {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "clinic {slug} did not reach {}'s directory within 15 s (last: {status:?})",
                        r.id
                    );
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// `regional-db accounts create` in the home region of a clinic of `country`, as an
    /// operator would; the password goes through the environment (`ACCOUNT_PASSWORD`),
    /// never the command line.
    pub fn create_account(
        &self,
        slug: &str,
        country: &str,
        account: &crate::demo::DemoAccount,
        name: &str,
        practitioner: Option<&str>,
    ) -> Result<std::process::Output> {
        let home = RegionMap::embedded()
            .home_for_country(&country.parse().map_err(|e| anyhow::anyhow!("{e}"))?)
            .id
            .to_string();
        let r = self
            .region(&home)
            .with_context(|| format!("region {home} is not in the stack"))?;
        let mut cmd = Command::new(&self.regional_db_bin);
        cmd.args([
            "accounts",
            "create",
            "--tenant",
            slug,
            "--role",
            &account.role,
            "--email",
            &account.email,
            "--name",
            name,
            "--by",
            "xtask-demo",
        ]);
        if let Some(id) = practitioner {
            cmd.args(["--practitioner", id]);
        }
        cmd.env("ACCOUNT_PASSWORD", &account.password)
            .env("DATABASE_URL", &r.database_url)
            .env("CONTROL_DATABASE_URL", &r.control_database_url)
            .env("REGION", &home)
            .stdin(std::process::Stdio::null())
            .output()
            .context("running regional-db accounts create")
    }

    fn create_tenant_unreplicated(
        &self,
        slug: &str,
        name: &str,
        country: &str,
    ) -> Result<std::process::Output> {
        let home = RegionMap::embedded()
            .home_for_country(&country.parse().map_err(|e| anyhow::anyhow!("{e}"))?)
            .id
            .to_string();
        let r = self
            .region(&home)
            .with_context(|| format!("region {home} is not in the stack"))?;
        Command::new(&self.regional_db_bin)
            .args([
                "tenant",
                "create",
                "--slug",
                slug,
                "--name",
                name,
                "--country",
                country,
                "--region",
                &home,
            ])
            .env("DATABASE_URL", &r.database_url)
            .env("CONTROL_DATABASE_URL", &r.control_database_url)
            .env("REGION", &home)
            .output()
            .context("running regional-db tenant create")
    }
}

/// A child process in its own process group, killed with its descendants on drop.
struct Proc {
    child: Child,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command, logs: &Path) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        let log = fs::File::create(logs.join(format!("{name}.log")))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Self { child })
    }

    fn stop(&mut self) {
        stop_process_group(&mut self.child);
    }
}

/// Stops `child`, the leader of its own process group, and its descendants (wrangler →
/// workerd): TERM to the group, up to 5 s to exit, then KILL to the group either way, since
/// descendants may outlive the leader.
pub fn stop_process_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let signal = |sig: &str| {
        let _ = Command::new("kill")
            .args([sig, "--", &group])
            .stderr(Stdio::null())
            .status();
    };
    signal("-TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    signal("-KILL");
    let _ = child.wait();
}

/// A running stack. Dropping it stops every process and cluster it started.
pub struct Stack {
    pub info: StackInfo,
    pub info_path: PathBuf,
    procs: Vec<Proc>,
    clusters: Vec<PgCluster>,
    /// Streaming replicas, stopped before their primaries.
    replicas: Vec<PgCluster>,
}

/// Instances restarted by tests ([`StackInfo::restart_instance`]), a line each:
/// `<region> <instance> <process group>`, so that stopping the stack stops them too and a
/// test can kill an instance another test restarted.
fn respawned_pids(logs: &Path) -> PathBuf {
    logs.join("respawned.pids")
}

impl Drop for Stack {
    fn drop(&mut self) {
        let respawned = respawned_pids(&self.info.logs_dir);
        for line in fs::read_to_string(&respawned).unwrap_or_default().lines() {
            let Some(pid) = line.split_whitespace().nth(2) else {
                continue;
            };
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_file(respawned);
        for p in self.procs.iter_mut().rev() {
            p.stop();
        }
        for c in self.replicas.iter_mut().chain(self.clusters.iter_mut()) {
            let _ = c.stop();
        }
    }
}

/// Waits until `url` answers any HTTP status, or fails with the log's tail.
fn wait_http(url: &str, what: &str, log: &Path, timeout: Duration) -> Result<()> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if client.get(url).send().is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(250));
    }
    let tail = fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = tail.lines().rev().take(30).collect();
    bail!(
        "{what} did not answer at {url} within {timeout:?}; log tail:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
}

/// The LOGIN role `regional-db serve` connects as: a member of the service role that
/// `regional-db migrate` created and granted (regional_db/src/grants.rs), with a password
/// drawn anew at each start (it lives in `stack.json`, private to its owner). Returns the
/// role and its password. The replica has it too: roles are streamed with the rest.
fn service_login(cluster: &PgCluster) -> Result<(String, String)> {
    const LOGIN: &str = "regional_db";
    const SERVICE_ROLE: &str = "telemed_service";
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("random password: {e}"))?;
    let password: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    cluster.psql(
        "telemed",
        &format!(
            "DO $$ BEGIN \
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{LOGIN}') THEN \
                 CREATE ROLE {LOGIN} LOGIN NOSUPERUSER IN ROLE {SERVICE_ROLE}; \
               END IF; \
               ALTER ROLE {LOGIN} PASSWORD '{password}'; \
             END $$"
        ),
    )?;
    Ok((LOGIN.to_owned(), password))
}

/// The publication every region subscribes to: the directory tables of the control schema.
const DIRECTORY_PUBLICATION: &str = "control_directory";

/// What every region reads from the control plane: the directory, the exchange rates, and
/// the marketplace's apps with their OAuth clients (a clinic's home region answers its
/// token requests).
const REPLICATED_TABLES: [&str; 5] = [
    "control.tenants",
    "control.tenant_domains",
    "control.exchange_rates",
    "control.apps",
    "control.oauth_clients",
];

/// Logical replication of the directory: the control plane publishes it, every other
/// region subscribes (idempotent, so `cargo xtask up` can restart on existing clusters).
fn replicate_directory(
    cluster: &PgCluster,
    region: &str,
    is_control_plane: bool,
    control_url: &str,
) -> Result<()> {
    let exists = |catalog: &str, column: &str, name: &str| -> Result<bool> {
        let sql = format!("SELECT count(*) FROM {catalog} WHERE {column} = '{name}'");
        Ok(cluster.psql("telemed", &sql)?.trim() != "0")
    };
    // Each subscription owns a replication slot on the publisher, named after it: one per region.
    let subscription = format!("{DIRECTORY_PUBLICATION}_{}", region.replace('-', "_"));
    if is_control_plane {
        if !exists("pg_publication", "pubname", DIRECTORY_PUBLICATION)? {
            cluster.psql(
                "telemed",
                &format!(
                    "CREATE PUBLICATION {DIRECTORY_PUBLICATION} FOR TABLE {}",
                    REPLICATED_TABLES.join(", ")
                ),
            )?;
        }
        // A publication made before a table joined the list (an existing local stack).
        for table in REPLICATED_TABLES {
            let name = table.rsplit('.').next().unwrap_or(table);
            let published = cluster.psql(
                "telemed",
                &format!(
                    "SELECT count(*) FROM pg_publication_tables \
                     WHERE pubname = '{DIRECTORY_PUBLICATION}' AND tablename = '{name}'"
                ),
            )?;
            if published.trim() == "0" {
                cluster.psql(
                    "telemed",
                    &format!("ALTER PUBLICATION {DIRECTORY_PUBLICATION} ADD TABLE {table}"),
                )?;
            }
        }
    } else if exists("pg_subscription", "subname", &subscription)? {
        // A subscription made before a table joined the publication copies it once refreshed.
        let copied = cluster.psql("telemed", "SELECT count(*) FROM pg_subscription_rel")?;
        if copied.trim().parse::<usize>().unwrap_or(0) < REPLICATED_TABLES.len() {
            cluster.psql(
                "telemed",
                &format!("ALTER SUBSCRIPTION {subscription} REFRESH PUBLICATION"),
            )?;
        }
    } else {
        // The connection string holds the primary's local password: it stays inside this
        // machine's catalogs (pg_subscription is readable by superusers only).
        cluster.psql(
            "telemed",
            &format!(
                "CREATE SUBSCRIPTION {subscription} CONNECTION '{}' PUBLICATION {DIRECTORY_PUBLICATION}",
                control_url.replace('\'', "''")
            ),
        )?;
    }
    Ok(())
}

impl Stack {
    /// Deletes a stack's databases and audit spools (stopping servers still running), so
    /// that its next start begins from empty clusters: the test stack's, which failure
    /// tests leave crashed or promoted.
    pub fn wipe(spec: StackSpec) -> Result<()> {
        let dir = workspace_root()
            .join("target")
            .join(format!("stack-{}", spec.name));
        for region in RegionMap::embedded().regions() {
            for name in [region.id.to_string(), format!("{}-replica", region.id)] {
                let data = dir.join("pg").join(name);
                // A replica first would be fine too: each is stopped before it is removed.
                crate::pg::remove_data_dir(&data)
                    .or_else(|e| if data.exists() { Err(e) } else { Ok(()) })?;
            }
        }
        let spool = dir.join("audit-spool");
        if spool.exists() {
            fs::remove_dir_all(&spool).with_context(|| format!("removing {}", spool.display()))?;
        }
        // Empty clusters are made for whatever ports come next.
        record_layout(spec, &dir)
    }

    /// The stack's databases remember the ports they were made for (a replica's
    /// `primary_conninfo`, the directory subscriptions): when `spec` moved its ports since,
    /// they are wiped, once, instead of failing later in a way that names no cause.
    fn check_layout(spec: StackSpec, dir: &Path) -> Result<()> {
        let layout = layout(spec);
        let recorded = fs::read_to_string(dir.join(LAYOUT_FILE)).ok();
        if dir.join("pg").exists() && recorded.as_deref() != Some(layout.as_str()) {
            eprintln!(
                "· the {} stack's databases were made for other ports ({}): starting afresh",
                spec.name,
                recorded
                    .as_deref()
                    .map_or("before ports were recorded", str::trim)
            );
            Self::wipe(spec)?;
        }
        record_layout(spec, dir)
    }

    /// Every fixed port is outside the ephemeral range and free, or held by the Postgres
    /// server of an earlier run on the data directory the stack adopts: a conflict is one
    /// clear error before anything starts.
    fn check_ports(spec: StackSpec, dir: &Path) -> Result<()> {
        let mut claims = Vec::new();
        for (claim, data_dir) in planned_ports(&spec, &dir.join("pg")) {
            let adopted = match data_dir {
                Some(d) => crate::pg::running_port(&d)? == Some(claim.port),
                None => false,
            };
            if !adopted {
                claims.push(claim);
            }
        }
        ports::check(&claims).with_context(|| format!("starting the {} stack", spec.name))
    }

    /// Starts the whole stack. `workers_build` and `spin_wasm` are the built edge artefacts;
    /// `demo` creates the demo clinics, with their data ([`crate::demo`]).
    pub fn start(spec: StackSpec, spin_wasm: &Path, demo: bool) -> Result<Stack> {
        let root = workspace_root();
        let dir = root.join("target").join(format!("stack-{}", spec.name));
        Self::check_layout(spec, &dir)?;
        Self::check_ports(spec, &dir)?;
        let logs = dir.join("logs");
        fs::create_dir_all(&logs)?;
        let keys_file = root.join("target").join("stack-keys.json");
        let keys = StackKeys::load_or_create(&keys_file)?;
        // Where `cargo build` put it: a run with `CARGO_TARGET_DIR` set must not start a
        // stale binary from the workspace's `target/`.
        let regional_db_bin = crate::build::target_dir()
            .join(spec.regional_db_profile)
            .join("regional-db");
        if !regional_db_bin.exists() {
            bail!(
                "{} is missing: build it with `cargo build{} -p regional-db`",
                regional_db_bin.display(),
                if spec.regional_db_profile == "release" {
                    " --release"
                } else {
                    ""
                }
            );
        }
        let map = RegionMap::embedded();
        let control = map.control_plane().id.to_string();
        // Control plane first: the other regions' migrations read its directory.
        let mut order: Vec<_> = map.regions().iter().collect();
        order.sort_by_key(|r| r.id.to_string() != control);

        let mut stack = Stack {
            info: StackInfo {
                workers_url: format!("http://127.0.0.1:{}", spec.workers_port),
                region_urls: String::new(),
                peer_urls: String::new(),
                spin_url: format!("http://127.0.0.1:{}", spec.spin_port),
                regions: Vec::new(),
                keys_file: keys_file.clone(),
                regional_db_bin: regional_db_bin.clone(),
                logs_dir: logs.clone(),
                rates_feed_url: serve_rates_feed(rates_feed_port(&spec))?,
                demo_accounts: Vec::new(),
            },
            info_path: dir.join("stack.json"),
            procs: Vec::new(),
            clusters: Vec::new(),
            replicas: Vec::new(),
        };
        let region_index = |id: &str| {
            map.regions()
                .iter()
                .position(|r| r.id.as_str() == id)
                .expect("region") as u16
        };
        let mut control_url = String::new();
        for region in &order {
            let id = region.id.to_string();
            let i = region_index(&id);
            eprintln!("· {id}: Postgres on 127.0.0.1:{}", spec.pg_port_base + i);
            let cluster = PgCluster::start(
                dir.join("pg").join(&id),
                PgOptions {
                    port: Some(spec.pg_port_base + i),
                    reuse_existing: true,
                },
            )?;
            cluster.create_database("telemed")?;
            let primary_pg = PgServer {
                data_dir: dir.join("pg").join(&id),
                port: cluster.port(),
            };
            // A streaming replica (`pg_basebackup -R`) on pg_port_base + i + 10, and the
            // primary's synchronous standby: a commit is acknowledged once both have it.
            let (database_url, replica_database_url, replica_pg) = if region.replica {
                eprintln!(
                    "· {id}: synchronous streaming replica on 127.0.0.1:{}",
                    spec.pg_port_base + i + 10
                );
                let name = format!("{}_replica", id.replace('-', "_"));
                let replica_dir = dir.join("pg").join(format!("{id}-replica"));
                let replica = PgCluster::start_replica_named(
                    &cluster,
                    &replica_dir,
                    PgOptions {
                        port: Some(spec.pg_port_base + i + 10),
                        reuse_existing: true,
                    },
                    &name,
                )?;
                cluster.require_synchronous_standby(&name)?;
                // Both URLs name both servers: `read-write` finds the primary, whichever it
                // is after a failover; `read-only` a standby.
                let urls = (
                    cluster.url_across(&[&replica], "telemed", "read-write"),
                    Some(replica.url_across(&[&cluster], "telemed", "read-only")),
                    Some(PgServer {
                        data_dir: replica_dir,
                        port: replica.port(),
                    }),
                );
                stack.replicas.push(replica);
                urls
            } else {
                (cluster.url("telemed"), None, None)
            };
            if id == control {
                control_url = database_url.clone();
            }
            stack.clusters.push(cluster);
            // Instance k of region i listens on region_port_base + i + 10 k.
            let urls: Vec<String> = (0..region.instances.max(1))
                .map(|k| format!("http://127.0.0.1:{}", spec.region_port_base + i + 10 * k))
                .collect();
            stack.info.regions.push(RegionInfo {
                url: urls[0].clone(),
                urls,
                pids: Vec::new(),
                id,
                database_url,
                replica_database_url,
                control_database_url: control_url.clone(),
                service_database_url: None,
                service_replica_database_url: None,
                primary_pg,
                replica_pg,
            });
        }
        let peers: Vec<String> = stack
            .info
            .regions
            .iter()
            .map(|r| format!("{}={}", r.id, r.url))
            .collect();
        let peers = peers.join(",");
        stack.info.peer_urls = peers.clone();
        let _ = fs::remove_file(respawned_pids(&logs));
        for (r, cluster) in stack.info.regions.clone().iter().zip(&stack.clusters) {
            // Clinics are listed by (and versions recorded in) the control-plane primary;
            // the control schema's tables are created locally in every region.
            let status = Command::new(&regional_db_bin)
                .args(["migrate", "--region", &r.id])
                .env("DATABASE_URL", &r.database_url)
                .env("CONTROL_DATABASE_URL", &r.control_database_url)
                .stdout(Stdio::null())
                .status()?;
            if !status.success() {
                bail!("regional-db migrate failed in {}", r.id);
            }
            replicate_directory(cluster, &r.id, r.id == control, &control_url)?;
            let (login, password) = service_login(cluster)?;
            if let Some(info) = stack.info.regions.iter_mut().find(|x| x.id == r.id) {
                info.service_database_url =
                    Some(cluster.url_as(&info.database_url, &login, &password));
                info.service_replica_database_url = info
                    .replica_database_url
                    .as_ref()
                    .map(|u| cluster.url_as(u, &login, &password));
            }
            for k in 0..r.urls.len() {
                let name = format!("regional-db-{}-{k}", r.id);
                let mut cmd = stack.info.regional_db_serve(&r.id, k)?;
                let proc = Proc::spawn(&name, &mut cmd, &logs)?;
                let pid = proc.child.id();
                stack.procs.push(proc);
                if let Some(info) = stack.info.regions.iter_mut().find(|x| x.id == r.id) {
                    info.pids.push(pid);
                }
                wait_http(
                    &format!("{}/healthz", r.urls[k]),
                    &name,
                    &logs.join(format!("{name}.log")),
                    Duration::from_secs(30),
                )?;
            }
        }
        if demo {
            for (slug, name, country) in DEMO_CLINICS {
                let out = stack.info.create_tenant(slug, name, country)?;
                let text = String::from_utf8_lossy(&out.stderr).to_string()
                    + &String::from_utf8_lossy(&out.stdout);
                if !out.status.success() && !text.contains("already exists") {
                    bail!("creating {slug}: {text}");
                }
            }
        }

        // The edges know every instance of every region (`|`-separated) and fail over.
        let region_urls = stack
            .info
            .regions
            .iter()
            .map(|r| format!("{}={}", r.id, r.urls.join("|")))
            .collect::<Vec<_>>()
            .join(",");
        stack.info.region_urls = region_urls.clone();
        let edge_env = [
            ("REGION_URLS", region_urls.clone()),
            ("EDGE_TOKEN_KEY", keys.edge.clone()),
            ("SESSION_KEYS", keys.session.clone()),
            ("API_TOKEN_PUBLIC_KEYS", keys.api_public()?),
            ("APEX_DOMAIN", "localhost".to_owned()),
            // Local stacks only: the Spin edge honours `x-dev-geo-*` headers, so tests can
            // place a request anywhere (spin.toml, the production manifest, keeps it off).
            ("DEV_GEO_HEADERS", "1".to_owned()),
        ];
        // Workers: secrets through .dev.vars (never on a command line), the rest as vars.
        let dev_vars = root.join(".dev.vars");
        fs::write(
            &dev_vars,
            format!(
                "EDGE_TOKEN_KEY={}\nSESSION_KEYS={}\nAPI_TOKEN_PUBLIC_KEYS={}\n",
                keys.edge,
                keys.session,
                keys.api_public()?
            ),
        )?;
        crate::keys::set_private(&dev_vars)?;
        let wrangler = root.join("node_modules/.bin/wrangler");
        let mut cmd = Command::new(&wrangler);
        cmd.current_dir(&root)
            .args([
                "dev",
                "--ip",
                "127.0.0.1",
                "--port",
                &spec.workers_port.to_string(),
                // `GET /__scheduled?cron=…` runs the cron trigger (the rates' refresh).
                "--test-scheduled",
            ])
            .arg("--var")
            .arg(format!("REGION_URLS:{region_urls}"))
            .arg("--persist-to")
            .arg(dir.join("wrangler-state"))
            .args([
                "--log-level",
                "warn",
                "--show-interactive-dev-session=false",
            ])
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true");
        stack.procs.push(Proc::spawn("workers", &mut cmd, &logs)?);

        let mut cmd = Command::new(crate::tools::wasmtime_bin());
        cmd.args([
            "serve",
            "-Scli",
            "-Shttp",
            "--addr",
            &format!("127.0.0.1:{}", spec.spin_port),
        ]);
        for (k, v) in &edge_env {
            // `--env NAME` passes the variable from wasmtime's own environment.
            cmd.args(["--env", k]).env(k, v);
        }
        cmd.arg(spin_wasm);
        stack.procs.push(Proc::spawn("spin", &mut cmd, &logs)?);

        wait_http(
            &stack.info.workers_url,
            "wrangler dev (workerd)",
            &logs.join("workers.log"),
            Duration::from_secs(120),
        )?;
        wait_http(
            &stack.info.spin_url,
            "wasmtime serve",
            &logs.join("spin.log"),
            Duration::from_secs(30),
        )?;
        fs::write(&stack.info_path, serde_json::to_vec_pretty(&stack.info)?)?;
        crate::keys::set_private(&stack.info_path)?;
        if demo {
            stack.info.demo_accounts = crate::demo::seed(&stack.info)?;
            fs::write(&stack.info_path, serde_json::to_vec_pretty(&stack.info)?)?;
        }
        Ok(stack)
    }
}
