//! A real PostgreSQL cluster for the local stack and for integration tests.
//!
//! Production runs Postgres per region; locally each region gets its own cluster, initdb'd
//! into a data directory under `target/`, listening on 127.0.0.1 only, with
//! scram-sha-256 authentication and a random superuser password that is stored in the data
//! directory (mode 0600) and never printed. `wal_level = logical`, so logical replication
//! can be set up between regions later.
//!
//! The server binaries come from `/usr/lib/postgresql/<version>/bin` (or `PG_BIN_DIR`);
//! where they are missing, install them with `apt-get install -y postgresql`.
//!
//! Postgres refuses to run as root. When this process is root, `initdb`, `pg_ctl` and the
//! server run as the `postgres` user (`runuser -u postgres --`) on a data directory it
//! owns; if that user cannot reach the requested directory (a parent is not traversable),
//! the cluster lives under `/tmp/telemed-pg/` instead.
//!
//! A cluster is stopped when its [`PgCluster`] is dropped, unless [`PgCluster::detach`]ed
//! (`cargo xtask up` leaves clusters running). A cluster kept in a `static` is never dropped:
//! [`PgCluster::stop_when_process_exits`] ties it to the life of the process instead.

use std::{
    fmt,
    fs::{self, File},
    io::{Read, Write},
    net::TcpListener,
    os::unix::{
        fs::{OpenOptionsExt, PermissionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Output, Stdio},
};

use anyhow::{Context, Result, bail};

/// The superuser the harness connects as.
pub const SUPERUSER: &str = "postgres";
/// Where the generated superuser password is kept, inside the data directory.
const PASSWORD_FILE: &str = "telemed-superuser.password";
const LOG_FILE: &str = "server.log";
/// Unix socket paths are limited to 107 bytes; longer data dirs get no socket (TCP only).
const MAX_SOCKET_DIR_LEN: usize = 90;

/// How to start a cluster.
#[derive(Debug, Clone, Default)]
pub struct PgOptions {
    /// The TCP port on 127.0.0.1; a free one is picked when `None`.
    pub port: Option<u16>,
    /// Start an already initialised data directory instead of refusing it (restarts of
    /// `cargo xtask up`, repeated test runs). Its password file must be there.
    pub reuse_existing: bool,
}

/// A running Postgres cluster. See the module documentation.
pub struct PgCluster {
    data_dir: PathBuf,
    port: u16,
    password: String,
    bin_dir: PathBuf,
    /// `Some("postgres")` when this process is root.
    run_as: Option<String>,
    /// Whether this handle started the server (an adopted, already running one is left alone).
    owned: bool,
    detached: bool,
    stopped: bool,
    /// The write end of the watchdog's stdin: closing it (process exit) stops the server.
    watchdog: Option<(Child, ChildStdin)>,
}

impl fmt::Debug for PgCluster {
    // Hand-written so that the password never reaches a log or a panic message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCluster")
            .field("data_dir", &self.data_dir)
            .field("port", &self.port)
            .field("run_as", &self.run_as)
            .field("owned", &self.owned)
            .finish_non_exhaustive()
    }
}

impl PgCluster {
    /// A handle on `data_dir` (moved under /tmp when the postgres user cannot reach it),
    /// not yet started: the one place a `PgCluster` is built.
    fn handle(data_dir: &Path, password: String) -> Result<Self> {
        let run_as = is_root()?.then(|| SUPERUSER.to_owned());
        Ok(PgCluster {
            data_dir: prepare_data_dir(data_dir, run_as.as_deref())?,
            port: 0,
            password,
            bin_dir: find_bin_dir()?,
            run_as,
            owned: false,
            detached: false,
            stopped: false,
            watchdog: None,
        })
    }

    /// Whether the data directory is already initialised; an error if it is and the
    /// caller did not ask to reuse it.
    fn initialised(&self, options: &PgOptions) -> Result<bool> {
        let exists = self.data_dir.join("PG_VERSION").exists();
        if exists && !options.reuse_existing {
            bail!(
                "{} is already an initialised Postgres data directory (ask to reuse it, or remove it)",
                self.data_dir.display()
            );
        }
        Ok(exists)
    }

    /// Initialises `data_dir` if needed and starts the server, waiting until it accepts
    /// connections. On failure the error carries the tail of the server log.
    pub fn start(data_dir: impl AsRef<Path>, options: PgOptions) -> Result<Self> {
        let mut cluster = PgCluster::handle(data_dir.as_ref(), String::new())?;

        if cluster.initialised(&options)? {
            cluster.password = fs::read_to_string(cluster.data_dir.join(PASSWORD_FILE))
                .with_context(|| {
                    format!(
                        "reading the superuser password of {}",
                        cluster.data_dir.display()
                    )
                })?
                .trim()
                .to_owned();
        } else {
            cluster.initdb()?;
        }

        cluster.boot(&options)?;
        Ok(cluster)
    }

    /// Starts a streaming replica of `primary` in `data_dir`: `pg_basebackup -R -X stream`
    /// over a replication connection (the primary's `pg_hba.conf` gets a
    /// `host replication all 127.0.0.1/32 scram-sha-256` line if it has none), then a hot
    /// standby on its own port, waiting until it accepts (read-only) connections. Its
    /// superuser password is the primary's (the password file comes with the base backup).
    /// With `reuse_existing`, an existing replica directory is started (or adopted) as is.
    /// The replica's `application_name` is its directory's name; see
    /// [`PgCluster::start_replica_named`].
    pub fn start_replica(
        primary: &PgCluster,
        data_dir: impl AsRef<Path>,
        options: PgOptions,
    ) -> Result<Self> {
        let name = data_dir
            .as_ref()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("replica")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>();
        Self::start_replica_named(primary, data_dir, options, &name)
    }

    /// [`PgCluster::start_replica`] with the `application_name` the replica connects to its
    /// primary with (what the primary's `synchronous_standby_names` would list; the primary's
    /// setting is left untouched here). Names are `[A-Za-z0-9_]`.
    pub fn start_replica_named(
        primary: &PgCluster,
        data_dir: impl AsRef<Path>,
        options: PgOptions,
        application_name: &str,
    ) -> Result<Self> {
        if application_name.is_empty()
            || !application_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            bail!("application_name {application_name:?} must be [A-Za-z0-9_]+");
        }
        let mut cluster = PgCluster::handle(data_dir.as_ref(), primary.password.clone())?;
        if cluster.initialised(&options)? {
            if !cluster.data_dir.join("standby.signal").exists() {
                bail!(
                    "{} is not a replica's data directory (no standby.signal)",
                    cluster.data_dir.display()
                );
            }
        } else {
            primary.allow_local_replication()?;
            cluster.base_backup(primary, application_name)?;
        }
        cluster.boot(&options)?;
        Ok(cluster)
    }

    /// Whether the server is a standby (`pg_is_in_recovery()`).
    pub fn is_in_recovery(&self) -> Result<bool> {
        Ok(self.psql("postgres", "SELECT pg_is_in_recovery()")?.trim() == "t")
    }

    /// Makes sure `pg_hba.conf` lets the superuser open replication connections from
    /// 127.0.0.1 with a password (initdb's default file has the line; a hand-edited one may
    /// not), reloading the server if it had to be added.
    fn allow_local_replication(&self) -> Result<()> {
        let hba = self.data_dir.join("pg_hba.conf");
        let text =
            fs::read_to_string(&hba).with_context(|| format!("reading {}", hba.display()))?;
        let present = text.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 5
                && f[0] == "host"
                && f[1] == "replication"
                && (f[2] == "all" || f[2] == SUPERUSER)
                && f[3] == "127.0.0.1/32"
                && f[4] == "scram-sha-256"
        });
        if present {
            return Ok(());
        }
        fs::OpenOptions::new()
            .append(true)
            .open(&hba)
            .and_then(|mut f| {
                f.write_all(b"\n# Added by xtask::pg: streaming replicas.\nhost replication all 127.0.0.1/32 scram-sha-256\n")
            })
            .context("configuring pg_hba.conf")?;
        self.psql("postgres", "SELECT pg_reload_conf()")?;
        Ok(())
    }

    /// `pg_basebackup -R -X stream` of `primary` into this (empty) data directory, then the
    /// replica's own settings: its socket directory, `hot_standby`, and a `primary_conninfo`
    /// naming it `application_name`.
    fn base_backup(&mut self, primary: &PgCluster, application_name: &str) -> Result<()> {
        let out = self
            .pg_cmd("pg_basebackup")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
                "-h",
                "127.0.0.1",
            ])
            .args(["-p", &primary.port.to_string(), "-U", SUPERUSER, "-w"])
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .context("running pg_basebackup")?;
        check(&out, "pg_basebackup")?;
        // The primary's log came with the backup.
        let _ = fs::write(self.data_dir.join(LOG_FILE), "");
        let sockets = self.socket_dir_setting();
        let conf = format!(
            "\n# Added by xtask::pg: a streaming replica.\n\
             unix_socket_directories = '{sockets}'\n\
             hot_standby = on\n"
        );
        // postgresql.auto.conf is read last, and its last primary_conninfo wins over the
        // one `-R` wrote. It holds the password, like the password file beside it (0600).
        let conninfo = format!(
            "host=127.0.0.1 port={} user={SUPERUSER} password={} application_name={application_name}",
            primary.port, self.password
        );
        let auto = format!(
            "# Added by xtask::pg: this replica's name on its primary.\n\
             primary_conninfo = '{}'\n",
            conninfo.replace('\'', "''")
        );
        fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .context("configuring the replica's postgresql.conf")?;
        fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir.join("postgresql.auto.conf"))
            .and_then(|mut f| f.write_all(auto.as_bytes()))
            .context("configuring the replica's postgresql.auto.conf")?;
        if !self.data_dir.join(PASSWORD_FILE).exists() {
            write_private(
                &self.data_dir.join(PASSWORD_FILE),
                &self.password,
                self.run_as.as_deref(),
            )?;
        }
        Ok(())
    }

    /// Adopts a server already running on the data directory, or starts one (on
    /// `options.port`, or a free port), and waits until it accepts connections.
    fn boot(&mut self, options: &PgOptions) -> Result<()> {
        if let Some(port) = self.running_port() {
            // A server of an earlier run is still up on this data directory: use it as is.
            self.port = port;
            self.wait_ready()?;
            return Ok(());
        }

        let mut attempts = 0;
        loop {
            self.port = match options.port {
                Some(p) => p,
                None => free_port()?,
            };
            match self.pg_ctl_start() {
                Ok(()) => break,
                // A picked port can be taken between our probe and the server's bind.
                Err(e)
                    if options.port.is_none()
                        && attempts < 3
                        && self.log_tail(5).contains("could not bind") =>
                {
                    attempts += 1;
                    note(&format!("retrying on another port: {e:#}"));
                }
                Err(e) => return Err(e),
            }
        }
        self.owned = true;
        self.wait_ready()
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/<db>`. Holds the password: hand it to
    /// a process's environment, never print it.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// A URL naming this server, then `others` (a primary and its replicas share a
    /// password), with `target_session_attrs`: `read-write` connects to whichever of them
    /// is the primary — after a failover, the promoted replica — and `read-only` to a
    /// standby. Both libpq and tokio-postgres understand it. Holds the password.
    pub fn url_across(
        &self,
        others: &[&PgCluster],
        db: &str,
        target_session_attrs: &str,
    ) -> String {
        let hosts: Vec<String> = std::iter::once(self)
            .chain(others.iter().copied())
            .map(|c| format!("127.0.0.1:{}", c.port))
            .collect();
        format!(
            "postgres://{SUPERUSER}:{}@{}/{db}?target_session_attrs={target_session_attrs}&connect_timeout=2",
            self.password,
            hosts.join(",")
        )
    }

    /// `url` (one of this cluster's [`Self::url`] or [`Self::url_across`]) for another role
    /// than the superuser. `password` must need no escaping in a URL (hex, say).
    pub fn url_as(&self, url: &str, user: &str, password: &str) -> String {
        url.replacen(
            &format!("{SUPERUSER}:{}@", self.password),
            &format!("{user}:{password}@"),
            1,
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Makes `standby` (an `application_name`) this primary's synchronous standby: a commit
    /// is acknowledged only once the standby has flushed it, so promoting the standby loses
    /// no acknowledged write. Waits until the standby streams in `sync` state. `ALTER
    /// SYSTEM`, so the setting survives restarts; [`PgCluster::promote`] clears it on the
    /// promoted server, which has no standby of its own.
    pub fn require_synchronous_standby(&self, standby: &str) -> Result<()> {
        if standby.is_empty()
            || !standby
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            bail!("standby name {standby:?} must be [A-Za-z0-9_]+");
        }
        self.psql(
            "postgres",
            &format!("ALTER SYSTEM SET synchronous_standby_names = '{standby}'"),
        )?;
        self.psql("postgres", "SELECT pg_reload_conf()")?;
        let sql = format!(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = '{standby}'"
        );
        for _ in 0..300 {
            if self.psql("postgres", &sql)?.trim() == "sync" {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        bail!("{standby} did not become a synchronous standby within 30 s")
    }

    /// A crash: `pg_ctl stop -m immediate` (no shutdown checkpoint; sessions cut), as a
    /// failure test wants it. Start it again with [`PgCluster::start`].
    pub fn crash(&mut self) -> Result<()> {
        self.stopped = true;
        self.pg_ctl_stop("immediate")
    }

    /// `pg_ctl stop -m <mode>`, waiting up to a minute.
    fn pg_ctl_stop(&self, mode: &str) -> Result<()> {
        let out = self
            .pg_cmd("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", mode, "-w", "-t", "60"])
            .output()
            .context("running pg_ctl stop")?;
        check(&out, &format!("pg_ctl stop -m {mode}"))
    }

    /// Promotes this standby to primary (`pg_promote`, waiting for it) and clears its
    /// `synchronous_standby_names` (inherited with the base backup): until a new standby
    /// joins, commits are acknowledged by this server alone — what an HA manager does when
    /// the synchronous standby has become the primary.
    pub fn promote(&self) -> Result<()> {
        let promoted = self.psql("postgres", "SELECT pg_promote(true, 60)")?;
        if promoted.trim() != "t" {
            bail!("pg_promote did not complete:\n{}", self.log_tail(20));
        }
        self.psql("postgres", "ALTER SYSTEM RESET synchronous_standby_names")?;
        self.psql("postgres", "SELECT pg_reload_conf()")?;
        if self.is_in_recovery()? {
            bail!("still in recovery after pg_promote");
        }
        Ok(())
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Creates database `name` unless it exists. Names are plain identifiers
    /// (`[a-z_][a-z0-9_]*`), so they are safe to quote into SQL.
    pub fn create_database(&self, name: &str) -> Result<()> {
        check_db_name(name)?;
        let exists = self.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        )?;
        if exists.trim().is_empty() {
            self.psql("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        }
        Ok(())
    }

    /// Drops database `name` if it exists, disconnecting its sessions.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        check_db_name(name)?;
        self.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )?;
        Ok(())
    }

    /// Runs `sql` with `psql` as the superuser and returns its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let out = Command::new(self.bin_dir.join("psql"))
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                SUPERUSER,
            ])
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stops the server (fast shutdown: sessions are disconnected, data is kept).
    pub fn stop(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        self.pg_ctl_stop("fast")
    }

    /// Leaves the server running after this handle is gone.
    pub fn detach(mut self) {
        self.detached = true;
    }

    /// Stops the server when this process exits, however it exits (even if this handle is
    /// never dropped, as in a test binary's `static`): a small watchdog shell waits on a
    /// pipe from this process and runs `pg_ctl stop` when the pipe closes. It runs in its own
    /// process group so that a Ctrl-C aimed at the tests does not kill it first.
    pub fn stop_when_process_exits(&mut self) -> Result<()> {
        if self.watchdog.is_some() || !self.owned {
            return Ok(());
        }
        let script =
            r#"trap '' INT HUP; read _ignored; exec "$0" stop -D "$1" -m fast -w >/dev/null 2>&1"#;
        let mut child = self
            .as_server_user(Command::new("sh"))
            .args(["-c", script])
            .arg(self.bin_dir.join("pg_ctl"))
            .arg(&self.data_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("starting the Postgres watchdog")?;
        let stdin = child.stdin.take().context("watchdog stdin")?;
        self.watchdog = Some((child, stdin));
        Ok(())
    }

    /// The last `lines` lines of the server log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(self.data_dir.join(LOG_FILE)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn initdb(&mut self) -> Result<()> {
        self.password = random_hex(24)?;
        // initdb wants an empty directory, so the password file sits beside it, briefly.
        let pwfile = self.data_dir.with_file_name(format!(
            ".{}.initdb-pw",
            self.data_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("pg")
        ));
        write_private(&pwfile, &self.password, self.run_as.as_deref())?;
        let out = self
            .pg_cmd("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .context("running initdb");
        let _ = fs::remove_file(&pwfile);
        check(&out?, "initdb")?;

        let sockets = self.socket_dir_setting();
        let conf = format!(
            "\n# Added by xtask::pg: local only, logical replication ready.\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{sockets}'\n\
             wal_level = logical\n\
             max_wal_senders = 10\n\
             max_replication_slots = 10\n"
        );
        fs::OpenOptions::new()
            .append(true)
            .open(self.data_dir.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .context("configuring postgresql.conf")?;
        write_private(
            &self.data_dir.join(PASSWORD_FILE),
            &self.password,
            self.run_as.as_deref(),
        )
    }

    /// `unix_socket_directories` for this cluster (quoted for postgresql.conf): its data
    /// directory, or none (TCP only) when the path is too long for a socket.
    fn socket_dir_setting(&self) -> String {
        let dir = self.data_dir.to_string_lossy().replace('\'', "''");
        if dir.len() <= MAX_SOCKET_DIR_LEN {
            dir
        } else {
            String::new()
        }
    }

    fn pg_ctl_start(&self) -> Result<()> {
        let out = self
            .pg_cmd("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(self.data_dir.join(LOG_FILE))
            // Crash recovery of a primary a failure test killed took over a minute on a
            // loaded two-core machine: waiting is cheaper than a spurious failure.
            .args(["-w", "-t", "180", "-o", &format!("-p {}", self.port)])
            .stdin(Stdio::null())
            .output()
            .context("running pg_ctl start")?;
        check(&out, "pg_ctl start").with_context(|| format!("server log:\n{}", self.log_tail(20)))
    }

    /// The port of a server already running on this data directory, if any.
    fn running_port(&self) -> Option<u16> {
        let status = self
            .pg_cmd("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.data_dir)
            .output()
            .ok()?;
        if !status.status.success() {
            return None;
        }
        // postmaster.pid: pid, data dir, start time, port, …
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    fn wait_ready(&self) -> Result<()> {
        let out = Command::new(self.bin_dir.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "30"])
            .output()
            .context("running pg_isready")?;
        check(&out, "pg_isready").with_context(|| format!("server log:\n{}", self.log_tail(20)))
    }

    fn pg_cmd(&self, program: &str) -> Command {
        self.as_server_user(Command::new(self.bin_dir.join(program)))
    }

    /// `cmd` as is, or wrapped in `runuser -u postgres --` when this process is root.
    fn as_server_user(&self, cmd: Command) -> Command {
        let mut out = match &self.run_as {
            Some(user) => {
                let mut r = Command::new("runuser");
                r.args(["-u", user, "--"])
                    .arg(cmd.get_program())
                    .args(cmd.get_args());
                r
            }
            None => cmd,
        };
        // The server user may not be able to enter our working directory.
        out.current_dir("/");
        out
    }
}

/// The port of the server running on the data directory `data_dir` stands for (as
/// [`PgCluster::start`] resolves it), if one runs: a server a stack will adopt.
pub fn running_port(data_dir: impl AsRef<Path>) -> Result<Option<u16>> {
    let mut cluster = PgCluster::handle(data_dir.as_ref(), String::new())?;
    // A look only: dropping this handle must do nothing.
    cluster.detached = true;
    cluster.stopped = true;
    Ok(cluster.running_port())
}

/// Stops a server running on the data directory `data_dir` stands for (as [`PgCluster::start`]
/// resolves it: possibly under `/tmp/telemed-pg/`) and deletes the directory — a replica
/// to be re-cloned from its primary, a cluster to start afresh.
pub fn remove_data_dir(data_dir: impl AsRef<Path>) -> Result<()> {
    let mut cluster = PgCluster::handle(data_dir.as_ref(), String::new())?;
    // Only stopped below, explicitly: dropping this handle must do nothing.
    cluster.detached = true;
    cluster.stopped = true;
    if cluster.running_port().is_some() {
        cluster.pg_ctl_stop("immediate")?;
    }
    fs::remove_dir_all(&cluster.data_dir)
        .with_context(|| format!("removing {}", cluster.data_dir.display()))
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.owned
            && !self.detached
            && !self.stopped
            && let Err(e) = self.stop()
        {
            eprintln!("xtask::pg: stopping {}: {e:#}", self.data_dir.display());
        }
    }
}

/// Harness notes go to stderr: the harness runs before any logging is set up.
fn note(msg: &str) {
    eprintln!("xtask::pg: {msg}");
}

fn check(out: &Output, what: &str) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

fn check_db_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        bail!("database name {name:?} must match [a-z_][a-z0-9_]* (63 bytes at most)");
    }
    Ok(())
}

/// The newest installed server's binaries, or `PG_BIN_DIR`.
fn find_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install them with \
             `apt-get install -y postgresql`, or set PG_BIN_DIR"
        ),
    }
}

fn is_root() -> Result<bool> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("running id -u")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Creates the data directory (absolute), owned by the server user, and returns where the
/// cluster will actually live.
fn prepare_data_dir(requested: &Path, run_as: Option<&str>) -> Result<PathBuf> {
    let dir = std::path::absolute(requested).context("resolving the data directory")?;
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let Some(user) = run_as else { return Ok(dir) };
    if server_user_can_use(&dir, user)? {
        return Ok(dir);
    }
    // Some parent is closed to the server user: keep a stable, per-path place under /tmp.
    let name: String = dir
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let fallback = Path::new("/tmp/telemed-pg").join(name.trim_start_matches('_'));
    fs::create_dir_all(&fallback).with_context(|| format!("creating {}", fallback.display()))?;
    fs::set_permissions("/tmp/telemed-pg", fs::Permissions::from_mode(0o755))?;
    if !server_user_can_use(&fallback, user)? {
        bail!(
            "the {user} user cannot use {} nor {}",
            dir.display(),
            fallback.display()
        );
    }
    note(&format!(
        "{user} cannot reach {}; using {}",
        dir.display(),
        fallback.display()
    ));
    Ok(fallback)
}

/// Hands `dir` to `user` (mode 0700, as Postgres requires) and checks that it can enter it.
fn server_user_can_use(dir: &Path, user: &str) -> Result<bool> {
    let uid = user_id(user)?;
    std::os::unix::fs::chown(dir, Some(uid), None)
        .with_context(|| format!("chown {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let ok = Command::new("runuser")
        .args(["-u", user, "--", "test", "-w"])
        .arg(dir)
        .current_dir("/")
        .status()
        .context("running runuser")?
        .success();
    Ok(ok)
}

fn user_id(user: &str) -> Result<u32> {
    let out = Command::new("id")
        .args(["-u", user])
        .output()
        .context("running id")?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .with_context(|| {
            format!("no {user} user: install postgresql (apt-get install -y postgresql)")
        })
}

/// Writes a secret readable only by its owner (`owner` when this process is root).
fn write_private(path: &Path, secret: &str, owner: Option<&str>) -> Result<()> {
    let _ = fs::remove_file(path);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(secret.as_bytes())?;
    if let Some(user) = owner {
        std::os::unix::fs::chown(path, Some(user_id(user)?), None)?;
    }
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .context("probing for a free port")?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_plain_identifiers() {
        assert!(check_db_name("region_eu_west").is_ok());
        assert!(check_db_name("_x1").is_ok());
        for bad in ["", "1a", "a-b", "A", "a\"b", "a;drop", &"a".repeat(64)] {
            assert!(check_db_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_random_hex() {
        let a = random_hex(24).unwrap();
        assert_eq!(a.len(), 48);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(24).unwrap());
    }
}
