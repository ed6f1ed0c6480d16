//! `cargo xtask …`: the local stack, the tests, tokens, benchmarks.

use std::{
    path::PathBuf,
    process::{Command, ExitCode},
    sync::{atomic::Ordering, mpsc},
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use xtask::{bench, build, deploy, keys::StackKeys, stack, tools, workspace_root};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Telemed Edge developer tasks")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install what is missing, start the whole local stack, stay in the foreground.
    Up,
    /// Install what is missing and run every test: lint, unit, integration, end to end.
    Test {
        /// Skip `cargo fmt --check` and `cargo clippy`.
        #[arg(long)]
        no_lint: bool,
    },
    /// Print an API token signed with the local stack's key (last line of output).
    Token {
        #[arg(long)]
        tenant: String,
        /// Space-separated SMART scopes, e.g. "system/Patient.cruds".
        #[arg(long, default_value = "system/Patient.cruds")]
        scope: String,
        #[arg(long, default_value = "xtask")]
        subject: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Build both edge functions (release) and print their sizes.
    Build,
    /// Measure latency and throughput on a stack of its own (release builds): the Workers
    /// edge (cached page, API read, API write), regional-db against PgBouncer, and 10,000
    /// concurrent connections. Prints a Markdown table and writes it to `--out`.
    Bench {
        /// Small counts (1,000 connections instead of 10,000): a quick look, not a result.
        #[arg(long)]
        quick: bool,
        /// Where the report goes (relative paths: from the repository root).
        #[arg(long, default_value = "target/bench/bench.md")]
        out: PathBuf,
        /// Concurrent connections of the connections scenario (default 10,000; 1,000 with
        /// --quick); it sends twice as many requests.
        #[arg(long)]
        connections: Option<u64>,
    },
}

/// A failure is printed as one chain of causes on one line (`{:#}`): never the backtrace
/// `anyhow` adds to its `Debug` form when `RUST_BACKTRACE` is set — it is the message a
/// developer needs (which port, held by what), not where in xtask it was noticed.
fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Cmd) -> Result<()> {
    match command {
        Cmd::Up => up(),
        Cmd::Test { no_lint } => test(no_lint),
        Cmd::Token {
            tenant,
            scope,
            subject,
            ttl,
        } => token(&tenant, &scope, &subject, ttl),
        Cmd::Build => {
            tools::ensure_all()?;
            build_everything()?;
            print_sizes()
        }
        Cmd::Bench {
            quick,
            out,
            connections,
        } => run_bench(quick, &out, connections),
    }
}

fn cargo(args: &[&str]) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

/// Builds `regional-db` and both edge functions; returns (workers dir, spin wasm).
fn build_everything() -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    cargo(&["build", "-p", "regional-db"])?;
    let workers = build::build_workers(true)?;
    let spin = build::build_spin(true)?;
    Ok((workers, spin))
}

fn run_bench(quick: bool, out: &std::path::Path, connections: Option<u64>) -> Result<()> {
    let mut counts = if quick {
        bench::Counts::QUICK
    } else {
        bench::Counts::FULL
    };
    if let Some(c) = connections {
        counts.connections = bench::Load {
            requests: 2 * c.max(1),
            concurrency: c.max(1),
        };
    }
    // Ctrl-C: the bench stops at its next checkpoint, and stops what it started on the way
    // out (the stack's processes live in their own process groups: a Ctrl-C misses them).
    ctrlc::set_handler(|| bench::INTERRUPTED.store(true, Ordering::Relaxed))
        .context("installing the Ctrl-C handler")?;
    tools::ensure_all()?;
    // A benchmark of a debug build measures the debug build: regional-db in release.
    cargo(&["build", "--release", "-p", "regional-db"])?;
    build::build_workers(true)?;
    let spin = build::build_spin(true)?;
    let report = bench::run_own_stack(&spin, &counts)?;
    let out = workspace_root().join(out);
    report.write(&out)?;
    println!("{}", report.to_markdown());
    eprintln!("bench: report written to {}", out.display());
    for failure in report.failures() {
        eprintln!("bench: {failure}");
    }
    // A stress scenario that fails entirely is its result (said loudly above and in the
    // report); a baseline scenario that does means the bench measured nothing.
    let fatal = report.fatal_failures();
    if !fatal.is_empty() {
        bail!("{}", fatal.join("; "));
    }
    Ok(())
}

fn print_sizes() -> Result<()> {
    for (name, raw, gz) in build::wasm_sizes()? {
        println!("{name:<28} {raw:>10} bytes raw  {gz:>10} bytes gzip");
    }
    Ok(())
}

fn up() -> Result<()> {
    tools::ensure_all()?;
    let (_, spin) = build_everything()?;
    let running = stack::Stack::start(stack::DEV, &spin, true)?;
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("installing the Ctrl-C handler")?;
    let info = &running.info;
    println!("\nTelemed Edge is up. Demo clinics:");
    for (slug, name, country) in stack::DEMO_CLINICS {
        println!("  {name} ({country})");
        println!(
            "    Workers edge  http://{slug}.localhost:{}/",
            stack::DEV.workers_port
        );
        println!(
            "    Spin edge     http://{slug}.localhost:{}/",
            stack::DEV.spin_port
        );
    }
    println!("\nRegions:");
    for r in &info.regions {
        println!(
            "  {:<10} regional-db {}  (metrics {}/metrics)",
            r.id, r.url, r.url
        );
    }
    println!("\nAPI token: cargo xtask token --tenant hopital-paris --scope system/Patient.cruds");
    println!("Logs: {}", info.logs_dir.display());
    println!("Press Ctrl-C to stop everything.");
    let _ = rx.recv();
    println!("\nStopping…");
    drop(running);
    Ok(())
}

fn test(no_lint: bool) -> Result<()> {
    tools::ensure_all()?;
    if !no_lint {
        cargo(&["fmt", "--all", "--", "--check"])?;
        // Natively everything but the adapters, which compile for their wasm targets only.
        let clippy = |scope: &[&str]| {
            let args: Vec<&str> = ["clippy"]
                .iter()
                .chain(scope)
                .chain(&["--", "-D", "warnings"])
                .copied()
                .collect();
            cargo(&args)
        };
        clippy(&[
            "--workspace",
            "--exclude",
            "telemed-cloudflare",
            "--exclude",
            "telemed-spin",
            "--all-targets",
        ])?;
        clippy(&[
            "-p",
            "telemed-cloudflare",
            "--target",
            "wasm32-unknown-unknown",
        ])?;
        clippy(&["-p", "telemed-spin", "--target", "wasm32-wasip2"])?;
    }
    // Unit tests and the integration tests of regional-db (against real Postgres).
    cargo(&[
        "test",
        "--workspace",
        "--exclude",
        "telemed-cloudflare",
        "--exclude",
        "telemed-spin",
        "--exclude",
        "telemed-e2e",
    ])?;
    // The core must keep compiling for both edge targets.
    cargo(&[
        "check",
        "-p",
        "telemed-shared",
        "--target",
        "wasm32-unknown-unknown",
    ])?;
    cargo(&["check", "-p", "telemed-shared", "--target", "wasm32-wasip2"])?;
    let (_, spin) = build_everything()?;
    print_sizes()?;
    let bundle = deploy::check_wrangler()?;
    eprintln!(
        "deploy: wrangler.toml bundles offline: {} bytes, {} gzip (budget {})",
        bundle.upload_bytes,
        bundle.gzip_bytes,
        deploy::MAX_WORKER_GZIP_BYTES
    );
    // From empty clusters: failure tests leave the last run's crashed or promoted.
    stack::Stack::wipe(stack::TEST)?;
    let running = stack::Stack::start(stack::TEST, &spin, true)?;
    let manifest = deploy::check_spin_manifest(
        &workspace_root().join("spin.toml"),
        &running.info.region_urls,
    )?;
    eprintln!(
        "deploy: spin.toml: {} source(s) built, {} environment key(s) the edge reads, \
         outbound hosts cover the {} region URL(s)",
        manifest.sources.len(),
        manifest.environment_keys,
        manifest.region_urls
    );
    let e2e = |args: &[&str], destructive: bool| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["test", "-p", "telemed-e2e"])
            .args(args)
            .env("TELEMED_STACK", &running.info_path)
            .current_dir(workspace_root());
        if destructive {
            cmd.env("TELEMED_DESTRUCTIVE", "1");
        }
        cmd.status()
    };
    // Every suite but the destructive ones, then those alone, last: the promotion test
    // leaves eu-west without a replica (its report is printed: `--nocapture`).
    let status = e2e(&["--no-fail-fast", "--", "--skip", "destructive_"], false)?;
    let destructive = if status.success() {
        e2e(&["--test", "promotion", "--", "--nocapture"], true)?
    } else {
        status
    };
    drop(running);
    if !status.success() || !destructive.success() {
        bail!("end-to-end tests failed");
    }
    Ok(())
}

fn token(tenant: &str, scope: &str, subject: &str, ttl: u64) -> Result<()> {
    let slug = tenant
        .parse()
        .map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    let keys = StackKeys::load_or_create(&workspace_root().join("target/stack-keys.json"))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let token = keys
        .api_signing_key()?
        .sign_api(slug, subject, scope, now, ttl)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "API token for {tenant} ({scope}), valid {ttl} s, signed with the local stack's key:"
    );
    println!("{token}");
    Ok(())
}
