//! `xtask`: the developer tasks of Telemed Edge, as a library so that the end-to-end tests
//! and `regional-db`'s integration tests share the same stack and Postgres harness.
//!
//! - [`tools`]: idempotent installers of what the build and the stack need.
//! - [`build`]: builds of both edge functions, sizes.
//! - [`deploy`]: the deployment manifests checked (wrangler dry-run bundle, spin.toml).
//! - [`pg`]: a real Postgres cluster under `target/`.
//! - [`keys`]: the local stack's signing keys.
//! - [`ports`]: the stacks' fixed ports, checked before anything starts.
//! - [`stack`]: the whole local stack (regions, edges), started and stopped together.
//! - [`bench`]: `cargo xtask bench`, latency and throughput through the real stack.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

pub mod bench;
pub mod build;
pub mod demo;
pub mod deploy;
pub mod keys;
pub mod miniflare;
pub mod pg;
pub mod ports;
pub mod stack;
pub mod tools;

/// The repository root (this crate lives in `<root>/xtask`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}
