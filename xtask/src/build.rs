//! Builds the two edge functions, offline: worker-build gets local wasm-bindgen, esbuild
//! and wasm-opt through its `*_BIN` variables (it would download them otherwise), and the
//! Spin component is a plain `cargo build` for `wasm32-wasip2`. Run [`crate::tools`]'s
//! installers first.

use std::{env, fs, io::Write as _, path::PathBuf, process::Command};

use anyhow::{Context, Result, bail};
use flate2::{Compression, write::GzEncoder};

use crate::{tools, workspace_root as root};

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// `functions/cloudflare`, whose `build/` wrangler serves (`build/worker/shim.mjs`).
pub fn workers_crate_dir() -> PathBuf {
    root().join("functions/cloudflare")
}

/// The Spin component `build_spin` produces.
pub fn spin_wasm(release: bool) -> PathBuf {
    target_dir()
        .join("wasm32-wasip2")
        .join(if release { "release" } else { "debug" })
        .join("telemed_spin.wasm")
}

/// The Workers module after wasm-bindgen and wasm-opt.
pub fn workers_wasm() -> PathBuf {
    workers_crate_dir().join("build/index_bg.wasm")
}

/// npm's esbuild binary for this machine (installed with wrangler).
fn esbuild_bin() -> Result<PathBuf> {
    let platform = match (env::consts::OS, env::consts::ARCH) {
        ("linux", "x86_64") => "linux-x64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-x64",
        ("macos", "aarch64") => "darwin-arm64",
        (os, arch) => bail!("no esbuild package known for {os}/{arch}"),
    };
    Ok(tools::node_modules()
        .join("@esbuild")
        .join(platform)
        .join("bin/esbuild"))
}

fn must_exist(path: PathBuf, what: &str) -> Result<PathBuf> {
    if !path.is_file() {
        // worker-build would fall back to downloading it, which fails offline and late.
        bail!(
            "{what} is missing at {}: run the xtask installers (tools::ensure_all)",
            path.display()
        );
    }
    Ok(path)
}

/// Runs worker-build in `functions/cloudflare`; returns its output directory (`build/`).
/// Release builds go through npm binaryen's `wasm-opt` (Cargo.toml holds the flags).
pub fn build_workers(release: bool) -> Result<PathBuf> {
    let dir = workers_crate_dir();
    let mut cmd = Command::new(must_exist(tools::worker_build_bin(), "worker-build")?);
    cmd.arg(if release { "--release" } else { "--dev" })
        .current_dir(&dir)
        .env(
            "WASM_BINDGEN_BIN",
            must_exist(tools::wasm_bindgen_bin(), "wasm-bindgen")?,
        )
        .env("ESBUILD_BIN", must_exist(esbuild_bin()?, "esbuild (npm)")?)
        .env(
            "WASM_OPT_BIN",
            must_exist(
                tools::node_modules().join(".bin/wasm-opt"),
                "wasm-opt (npm binaryen)",
            )?,
        );
    eprintln!(
        "build: worker-build {} (functions/cloudflare)",
        if release { "--release" } else { "--dev" }
    );
    let status = cmd.status().context("starting worker-build")?;
    if !status.success() {
        bail!("worker-build failed ({status})");
    }
    let shim = dir.join("build/worker/shim.mjs");
    if !shim.is_file() {
        bail!("worker-build succeeded but {} is missing", shim.display());
    }
    Ok(dir.join("build"))
}

/// `cargo build -p telemed-spin --target wasm32-wasip2 [--release]`; returns the component.
pub fn build_spin(release: bool) -> Result<PathBuf> {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(["build", "-p", "telemed-spin", "--target", "wasm32-wasip2"])
        .current_dir(root());
    if release {
        cmd.arg("--release");
    }
    eprintln!(
        "build: cargo build -p telemed-spin --target wasm32-wasip2{}",
        if release { " --release" } else { "" }
    );
    let status = cmd.status().context("starting cargo build")?;
    if !status.success() {
        bail!("building telemed-spin failed ({status})");
    }
    must_exist(spin_wasm(release), "the Spin component")
}

/// (name, raw bytes, gzip bytes) of each release edge function that has been built: what a
/// cold start has to fetch and compile. Fails if neither is built.
pub fn wasm_sizes() -> Result<Vec<(String, u64, u64)>> {
    let mut sizes = Vec::new();
    for (name, path) in [
        ("cloudflare index_bg.wasm", workers_wasm()),
        ("spin telemed_spin.wasm", spin_wasm(true)),
    ] {
        let Ok(bytes) = fs::read(&path) else { continue };
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&bytes)?;
        sizes.push((
            name.to_owned(),
            bytes.len() as u64,
            gz.finish()?.len() as u64,
        ));
    }
    if sizes.is_empty() {
        bail!("no edge function is built yet: run build_workers(true) / build_spin(true)");
    }
    Ok(sizes)
}
