//! `cargo xtask …`: the local stack, the tests, tokens.

use std::{
    process::Command,
    sync::mpsc,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use xtask::{build, keys::StackKeys, stack, tools, workspace_root};

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
}

fn main() -> Result<()> {
    match Cli::parse().command {
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
        cargo(&[
            "clippy",
            "--workspace",
            "--exclude",
            "telemed-cloudflare",
            "--exclude",
            "telemed-spin",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])?;
        cargo(&[
            "clippy",
            "-p",
            "telemed-cloudflare",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ])?;
        cargo(&[
            "clippy",
            "-p",
            "telemed-spin",
            "--target",
            "wasm32-wasip2",
            "--",
            "-D",
            "warnings",
        ])?;
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
    let running = stack::Stack::start(stack::TEST, &spin, true)?;
    let status = Command::new(env!("CARGO"))
        .args(["test", "-p", "telemed-e2e"])
        .env("TELEMED_STACK", &running.info_path)
        .current_dir(workspace_root())
        .status()?;
    drop(running);
    if !status.success() {
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
