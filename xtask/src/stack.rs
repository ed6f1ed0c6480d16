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
    workspace_root,
};

/// Ports and folders of one stack.
#[derive(Debug, Clone, Copy)]
pub struct StackSpec {
    pub name: &'static str,
    pub pg_port_base: u16,
    pub region_port_base: u16,
    pub workers_port: u16,
    pub spin_port: u16,
}

pub const DEV: StackSpec = StackSpec {
    name: "dev",
    pg_port_base: 54320,
    region_port_base: 7100,
    workers_port: 8787,
    spin_port: 8788,
};
pub const TEST: StackSpec = StackSpec {
    name: "test",
    pg_port_base: 55320,
    region_port_base: 17100,
    workers_port: 18787,
    spin_port: 18788,
};

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
        .env("DATABASE_URL", &r.database_url)
        .env("CONTROL_DATABASE_URL", &r.database_url)
        .env("EDGE_TOKEN_PUBLIC_KEYS", self.keys()?.edge_public()?)
        .env("PEER_URLS", &self.peer_urls)
        .env("RUST_LOG", "info");
        if let Some(replica) = &r.replica_database_url {
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
        let pid = r
            .pids
            .get(k)
            .with_context(|| format!("{region} has no instance {k}"))?;
        Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status()?;
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
        writeln!(pids, "{}", child.id())?;
        let url = &self.region(region).expect("checked above").urls[k];
        wait_http(
            &format!("{url}/healthz"),
            &name,
            &log_path,
            Duration::from_secs(30),
        )
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
        let group = format!("-{}", self.child.id());
        let signal = |sig: &str| {
            let _ = Command::new("kill")
                .args([sig, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        // Signal the whole group (wrangler → workerd), then make sure.
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        // Descendants may outlive the leader: the group gets a KILL either way.
        signal("-KILL");
        let _ = self.child.wait();
    }
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

/// Instances restarted by tests ([`StackInfo::restart_instance`]), one process group a line,
/// so that stopping the stack stops them too.
fn respawned_pids(logs: &Path) -> PathBuf {
    logs.join("respawned.pids")
}

impl Drop for Stack {
    fn drop(&mut self) {
        let respawned = respawned_pids(&self.info.logs_dir);
        for pid in fs::read_to_string(&respawned).unwrap_or_default().lines() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", pid.trim())])
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

/// The publication every region subscribes to: the directory tables of the control schema.
const DIRECTORY_PUBLICATION: &str = "control_directory";

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
                &format!("CREATE PUBLICATION {DIRECTORY_PUBLICATION} FOR TABLE control.tenants, control.tenant_domains"),
            )?;
        }
    } else if !exists("pg_subscription", "subname", &subscription)? {
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
    /// Starts the whole stack. `workers_build` and `spin_wasm` are the built edge artefacts;
    /// `demo` creates the demo clinics.
    pub fn start(spec: StackSpec, spin_wasm: &Path, demo: bool) -> Result<Stack> {
        let root = workspace_root();
        let dir = root.join("target").join(format!("stack-{}", spec.name));
        let logs = dir.join("logs");
        fs::create_dir_all(&logs)?;
        let keys_file = root.join("target").join("stack-keys.json");
        let keys = StackKeys::load_or_create(&keys_file)?;
        let regional_db_bin = root.join("target").join("debug").join("regional-db");
        if !regional_db_bin.exists() {
            bail!(
                "{} is missing: build it with `cargo build -p regional-db`",
                regional_db_bin.display()
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
            let database_url = cluster.url("telemed");
            if id == control {
                control_url = database_url.clone();
            }
            // A streaming replica (`pg_basebackup -R`) on pg_port_base + i + 10.
            let replica_database_url = if region.replica {
                eprintln!(
                    "· {id}: streaming replica on 127.0.0.1:{}",
                    spec.pg_port_base + i + 10
                );
                let replica = PgCluster::start_replica_named(
                    &cluster,
                    dir.join("pg").join(format!("{id}-replica")),
                    PgOptions {
                        port: Some(spec.pg_port_base + i + 10),
                        reuse_existing: true,
                    },
                    &format!("{}_replica", id.replace('-', "_")),
                )?;
                let url = replica.url("telemed");
                stack.replicas.push(replica);
                Some(url)
            } else {
                None
            };
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
                "EDGE_TOKEN_KEY={}\nAPI_TOKEN_PUBLIC_KEYS={}\n",
                keys.edge,
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
        Ok(stack)
    }
}
