//! Idempotent installers for everything the build and the local stack need, so a fresh
//! clone on a fresh machine works with `cargo xtask …` alone. The machines reach only the
//! package registries (crates.io, npm, Debian), so every tool comes from one of them; see
//! `/work/shared/TOOLCHAIN.md` for why each route was chosen.
//!
//! Each `ensure_*` prints exactly one line (to stderr): what it found or what it is
//! installing. Versions come from the repository, never from here: `Cargo.lock` for
//! worker-build and wasm-bindgen-cli (they must match the crates the worker links),
//! `package-lock.json` for the npm tools. Only Wasmtime ([`WASMTIME_VERSION`]) and oha
//! ([`OHA_VERSION`]) are pinned here, being a host and a load tool, not dependencies.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

/// The wasi:http host for the Spin function. Rust 1.95 builds 48.x; 50.x needs newer Rust.
pub const WASMTIME_VERSION: &str = "48.0.8";
/// Where Debian's `postgresql` package puts the server binaries the stack runs.
pub const POSTGRES_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// Debian's `chromium`, driven by `playwright-core` in the browser tests.
pub const CHROMIUM_BIN: &str = "/usr/bin/chromium";
/// Debian's `prometheus` package ships it: checks `infra/prometheus/` (config, rules, rule tests).
pub const PROMTOOL_BIN: &str = "/usr/bin/promtool";
/// The HTTP load generator of `cargo xtask bench`. Pinned: the bench parses its JSON output.
pub const OHA_VERSION: &str = "1.16.0";
/// Debian's `pgbouncer` (1.18), the reference pooler `cargo xtask bench` compares
/// `regional-db` with.
pub const PGBOUNCER_BIN: &str = "/usr/sbin/pgbouncer";

/// Everything: Rust targets, npm tools, worker-build, wasm-bindgen, Wasmtime, Postgres,
/// Chromium, promtool, and the bench's oha and PgBouncer (its smoke test runs with the
/// end-to-end tests).
pub fn ensure_all() -> Result<()> {
    ensure_rust_targets()?;
    ensure_npm()?;
    ensure_wasm_bindgen()?;
    ensure_worker_build()?;
    ensure_wasmtime()?;
    ensure_postgres()?;
    ensure_chromium()?;
    ensure_promtool()?;
    ensure_oha()?;
    ensure_pgbouncer()?;
    Ok(())
}

fn say(line: &str) {
    eprintln!("tools: {line}");
}

/// Runs `cmd` in the repository root (so `rust-toolchain.toml` picks the toolchain),
/// inheriting stdio; fails with the command line when it fails.
fn run(mut cmd: Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .current_dir(crate::workspace_root())
        .status()
        .with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// The stdout of `program args…`, or `None` when it cannot be run or fails.
fn output(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(crate::workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `$CARGO_HOME/bin`, where `cargo install` puts binaries.
fn cargo_bin_dir() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

/// A binary by name: `$CARGO_HOME/bin` first (where [`cargo_install`] puts it), then `PATH`.
/// Returns the `$CARGO_HOME/bin` path when it is nowhere, for error messages and installs.
fn find_bin(name: &str) -> PathBuf {
    let in_cargo_home = cargo_bin_dir().join(name);
    if in_cargo_home.is_file() {
        return in_cargo_home;
    }
    env::var_os("PATH")
        .and_then(|paths| {
            env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or(in_cargo_home)
}

/// The version a `--version` output states: its first token that starts with a digit
/// (`worker-build 0.8.7`, `wasm-bindgen 0.2.130`, `wasmtime 48.0.8 (abc 2025-…)`).
fn stated_version(bin: &Path) -> Option<String> {
    let out = output(bin, &["--version"])?;
    out.split_whitespace()
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
}

fn cargo_install(krate: &str, version: &str, locked: bool) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["install", krate, "--version", &format!("={version}")]);
    if locked {
        cmd.arg("--locked");
    }
    run(cmd)
}

/// The one version of crate `name` in `Cargo.lock`; fails if absent or ambiguous.
pub fn locked_version(name: &str) -> Result<String> {
    let path = crate::workspace_root().join("Cargo.lock");
    let lock: toml::Table = fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let mut versions: Vec<&str> = lock
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
        .filter_map(|p| p.get("version").and_then(|v| v.as_str()))
        .collect();
    versions.dedup();
    match versions.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => bail!("{name} is not in Cargo.lock"),
        many => bail!("Cargo.lock holds several versions of {name}: {many:?}; pin one"),
    }
}

/// `rustup target add` for the two edge targets when missing (`rust-toolchain.toml`
/// installs them with the toolchain, but not into a toolchain that was already there).
pub fn ensure_rust_targets() -> Result<()> {
    const TARGETS: [&str; 2] = ["wasm32-unknown-unknown", "wasm32-wasip2"];
    let installed = output(Path::new("rustup"), &["target", "list", "--installed"])
        .context("rustup is needed to add the wasm targets (https://rustup.rs)")?;
    let missing: Vec<&str> = TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        say(&format!("rust targets {} present", TARGETS.join(", ")));
        return Ok(());
    }
    say(&format!("adding rust targets {}", missing.join(", ")));
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add"]).args(&missing);
    run(cmd)
}

/// `worker-build` at the version of the `worker` crate in `Cargo.lock` (they ship together).
pub fn ensure_worker_build() -> Result<()> {
    let version = locked_version("worker")?;
    if stated_version(&worker_build_bin()).as_deref() == Some(version.as_str()) {
        say(&format!("worker-build {version} present"));
        return Ok(());
    }
    say(&format!(
        "installing worker-build {version} (cargo install --locked, ~3 min)"
    ));
    cargo_install("worker-build", &version, true)
}

/// `wasm-bindgen-cli` at exactly the `wasm-bindgen` version in `Cargo.lock`: worker-build
/// runs it on the worker, and a different version refuses the module.
pub fn ensure_wasm_bindgen() -> Result<()> {
    let version = locked_version("wasm-bindgen")?;
    if stated_version(&wasm_bindgen_bin()).as_deref() == Some(version.as_str()) {
        say(&format!("wasm-bindgen-cli {version} present"));
        return Ok(());
    }
    say(&format!(
        "installing wasm-bindgen-cli {version} (cargo install, ~2 min)"
    ));
    // Its published lock file can name a dependency release the registry mirror lacks
    // (seen: webpki-roots 1.0.11); then resolve afresh within its semver ranges.
    cargo_install("wasm-bindgen-cli", &version, true)
        .or_else(|_| cargo_install("wasm-bindgen-cli", &version, false))
}

/// Wasmtime ([`WASMTIME_VERSION`]), the wasi:http host (`wasmtime serve`) for the Spin function.
pub fn ensure_wasmtime() -> Result<()> {
    if stated_version(&wasmtime_bin()).as_deref() == Some(WASMTIME_VERSION) {
        say(&format!("wasmtime {WASMTIME_VERSION} present"));
        return Ok(());
    }
    say(&format!(
        "installing wasmtime-cli {WASMTIME_VERSION} (cargo install --locked, ~12 min on 2 cores)"
    ));
    cargo_install("wasmtime-cli", WASMTIME_VERSION, true)
}

/// oha ([`OHA_VERSION`]), the HTTP load generator of `cargo xtask bench`.
pub fn ensure_oha() -> Result<()> {
    if stated_version(&oha_bin()).as_deref() == Some(OHA_VERSION) {
        say(&format!("oha {OHA_VERSION} present"));
        return Ok(());
    }
    say(&format!(
        "installing oha {OHA_VERSION} (cargo install --locked, a few minutes)"
    ));
    cargo_install("oha", OHA_VERSION, true)
}

pub fn oha_bin() -> PathBuf {
    find_bin("oha")
}

pub fn worker_build_bin() -> PathBuf {
    find_bin("worker-build")
}

pub fn wasm_bindgen_bin() -> PathBuf {
    find_bin("wasm-bindgen")
}

pub fn wasmtime_bin() -> PathBuf {
    find_bin("wasmtime")
}

/// `node_modules/`, installed by `npm ci` from the committed `package-lock.json` (wrangler
/// with workerd and esbuild, binaryen's wasm-opt, playwright-core).
pub fn node_modules() -> PathBuf {
    crate::workspace_root().join("node_modules")
}

/// `npm ci` when `node_modules` is missing or does not match `package-lock.json`.
pub fn ensure_npm() -> Result<()> {
    match npm_staleness()? {
        None => {
            say("node_modules matches package-lock.json");
            Ok(())
        }
        Some(why) => {
            say(&format!("npm ci ({why})"));
            let mut cmd = Command::new("npm");
            cmd.args(["ci", "--no-audit", "--no-fund"]);
            run(cmd).context("npm ci (Node.js >= 20.3 and npm are needed)")
        }
    }
}

/// Why `node_modules` needs `npm ci`, or `None`. Stale when npm's own record of the
/// install (`node_modules/.package-lock.json`) is missing or older than the lock file, or
/// when a package of `package-lock.json` is installed at another version or not at all
/// (optional platform packages such as `@esbuild/darwin-arm64` are never installed here).
fn npm_staleness() -> Result<Option<String>> {
    let lock_path = crate::workspace_root().join("package-lock.json");
    let installed_record = node_modules().join(".package-lock.json");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(installed_at) = modified(&installed_record) else {
        return Ok(Some("node_modules is missing".into()));
    };
    if modified(&lock_path).is_some_and(|locked_at| locked_at > installed_at) {
        return Ok(Some("package-lock.json changed".into()));
    }
    let lock: serde_json::Value =
        serde_json::from_slice(&fs::read(&lock_path).context("reading package-lock.json")?)
            .context("parsing package-lock.json")?;
    let packages = lock
        .get("packages")
        .and_then(|p| p.as_object())
        .context("package-lock.json has no packages")?;
    for (path, entry) in packages
        .iter()
        .filter(|(path, _)| path.starts_with("node_modules/"))
    {
        if entry.get("optional").and_then(|o| o.as_bool()) == Some(true) {
            continue;
        }
        let want = entry.get("version").and_then(|v| v.as_str());
        let manifest = crate::workspace_root().join(path).join("package.json");
        let have = fs::read(&manifest)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|m| m.get("version").and_then(|v| v.as_str()).map(str::to_owned));
        if have.as_deref() != want {
            return Ok(Some(format!(
                "{path} is {} but the lock says {}",
                have.as_deref().unwrap_or("missing"),
                want.unwrap_or("?")
            )));
        }
    }
    Ok(None)
}

/// Postgres 15 server binaries (`initdb`, `pg_ctl`, `pg_basebackup`) from Debian.
pub fn ensure_postgres() -> Result<()> {
    ensure_debian_package("postgresql", &Path::new(POSTGRES_BIN_DIR).join("initdb"))
}

/// Chromium from Debian, for the browser tests (`playwright-core` drives it).
pub fn ensure_chromium() -> Result<()> {
    ensure_debian_package("chromium", Path::new(CHROMIUM_BIN))
}

/// `promtool` from Debian's `prometheus`, for the checks of `infra/prometheus/`.
pub fn ensure_promtool() -> Result<()> {
    ensure_debian_package("prometheus", Path::new(PROMTOOL_BIN))
}

/// PgBouncer from Debian, the pooler `cargo xtask bench` compares `regional-db` with.
pub fn ensure_pgbouncer() -> Result<()> {
    ensure_debian_package("pgbouncer", Path::new(PGBOUNCER_BIN))
}

/// `apt-get update && apt-get install -y <package>` when `marker` is missing, through
/// `sudo` when not root.
fn ensure_debian_package(package: &str, marker: &Path) -> Result<()> {
    if marker.exists() {
        say(&format!("{package} present ({})", marker.display()));
        return Ok(());
    }
    say(&format!(
        "installing Debian package {package} (apt-get; {} is missing)",
        marker.display()
    ));
    let is_root = output(Path::new("id"), &["-u"]).as_deref() == Some("0");
    let apt = |args: &[&str]| {
        let mut cmd = if is_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !is_root {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(apt(&["update"]))?;
    run(apt(&["install", "-y", "--no-install-recommends", package]))?;
    if !marker.exists() {
        bail!(
            "installed {package} but {} is still missing",
            marker.display()
        );
    }
    Ok(())
}
