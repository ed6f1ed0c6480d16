//! The built Workers edge in Miniflare (workerd) as a child process: `node
//! tests/miniflare/<script>` configured like the stack's edges. The end-to-end tests drive
//! `dispatch.mjs` (per-request `cf`); the bench serves `serve.mjs` on a port of its own.

use std::{
    process::{Child, ChildStdin, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};

use crate::{stack::StackInfo, workspace_root};

/// `node tests/miniflare/<script>` with the edge's configuration for `info`'s stack (plus
/// `extra` variables), its input and output piped, its errors to `stderr`.
pub fn spawn(
    info: &StackInfo,
    script: &str,
    extra: &[(&str, &str)],
    stderr: Stdio,
) -> Result<Child> {
    let keys = info.keys()?;
    Command::new("node")
        .current_dir(workspace_root())
        .arg(format!("tests/miniflare/{script}"))
        .env("APEX_DOMAIN", "localhost")
        .env("REGION_URLS", &info.region_urls)
        .env("EDGE_TOKEN_KEY", &keys.edge)
        .env("SESSION_KEYS", &keys.session)
        .env("API_TOKEN_PUBLIC_KEYS", keys.api_public()?)
        .envs(extra.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("running node tests/miniflare/{script}"))
}

/// Stops a child of [`spawn`]: closing its input ends the script, which disposes of
/// Miniflare and so stops its workerd (a kill would orphan it); killed only if it has not
/// finished within 10 s.
pub fn stop(child: &mut Child, stdin: Option<ChildStdin>) {
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
