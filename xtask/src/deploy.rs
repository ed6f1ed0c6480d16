//! The two deployment manifests, checked rather than assumed (`cargo xtask test`):
//!
//! - `wrangler.toml`: `wrangler deploy --dry-run` bundles the built worker offline, as a
//!   deploy would, and its gzip upload size must stay under [`MAX_WORKER_GZIP_BYTES`]; its
//!   `[vars]` are variables the edge reads, none of them a secret.
//! - `spin.toml`: each component's `source` exists once built, its `environment` keys are
//!   variables the edge reads (none a secret), and its `allowed_outbound_hosts` let it
//!   reach every region URL the edge is configured with.
//!
//! "Variables the edge reads" is [`telemed_shared::config::VARIABLES`], the list the core's
//! configuration reads through.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use telemed_shared::config::VARIABLES;

use crate::{tools, workspace_root};

/// The largest gzip upload of the worker we accept: a cold start fetches and compiles all
/// of it, so it is held well below what the platform allows.
pub const MAX_WORKER_GZIP_BYTES: u64 = 1024 * 1024;

/// What `wrangler deploy --dry-run` said of the bundle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bundle {
    pub upload_bytes: u64,
    pub gzip_bytes: u64,
}

/// Runs `wrangler deploy --dry-run --outdir target/wrangler-dry` on `wrangler.toml` (the
/// worker must be built) and checks its output and its `[vars]`.
pub fn check_wrangler() -> Result<Bundle> {
    let root = workspace_root();
    check_wrangler_vars(&std::fs::read_to_string(root.join("wrangler.toml"))?)?;
    let outdir = root.join("target/wrangler-dry");
    let out = Command::new(tools::node_modules().join(".bin/wrangler"))
        .current_dir(&root)
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&outdir)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .output()
        .context("running wrangler deploy --dry-run")?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("wrangler deploy --dry-run failed ({}):\n{text}", out.status);
    }
    let bundle = parse_upload_size(&text)
        .with_context(|| format!("wrangler deploy --dry-run printed no upload size:\n{text}"))?;
    if bundle.gzip_bytes > MAX_WORKER_GZIP_BYTES {
        bail!(
            "the worker bundle is {} bytes gzip, over the {MAX_WORKER_GZIP_BYTES}-byte budget",
            bundle.gzip_bytes
        );
    }
    Ok(bundle)
}

/// `Total Upload: 1234.56 KiB / gzip: 345.67 KiB` (wrangler's summary line).
fn parse_upload_size(text: &str) -> Option<Bundle> {
    let line = text.lines().find(|l| l.contains("Total Upload:"))?;
    let (upload, gzip) = line.split_once("Total Upload:")?.1.split_once("/ gzip:")?;
    Some(Bundle {
        upload_bytes: parse_size(upload)?,
        gzip_bytes: parse_size(gzip)?,
    })
}

/// `345.67 KiB` → bytes.
fn parse_size(text: &str) -> Option<u64> {
    let mut parts = text.split_whitespace();
    let number: f64 = parts.next()?.parse().ok()?;
    let unit = match parts.next()? {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * unit).round() as u64)
}

fn check_wrangler_vars(manifest: &str) -> Result<()> {
    let doc: toml::Table = toml::from_str(manifest).context("parsing wrangler.toml")?;
    let mut problems = Vec::new();
    let sections = std::iter::once(("[vars]".to_owned(), doc.get("vars"))).chain(
        doc.get("env")
            .and_then(toml::Value::as_table)
            .into_iter()
            .flatten()
            .map(|(env, t)| (format!("[env.{env}.vars]"), t.get("vars"))),
    );
    for (section, vars) in sections {
        let keys = vars.and_then(toml::Value::as_table).into_iter().flatten();
        for (key, _) in keys {
            problems.extend(variable_problem(&format!("wrangler.toml {section}"), key));
        }
    }
    report(problems)
}

/// Why `key`, set by `place`, should not be there (`None` when it is a plain variable).
fn variable_problem(place: &str, key: &str) -> Option<String> {
    match VARIABLES.iter().find(|v| v.name == key) {
        None => Some(format!("{place} sets {key}, which the edge never reads")),
        Some(v) if v.secret => Some(format!(
            "{place} sets the secret {key}: secrets go to the platform's secret store, never a manifest"
        )),
        Some(_) => None,
    }
}

fn report(problems: Vec<String>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

/// What the check of `spin.toml` found, for the summary line.
#[derive(Debug, Clone, PartialEq)]
pub struct SpinManifest {
    pub sources: Vec<PathBuf>,
    pub environment_keys: usize,
    pub region_urls: usize,
}

/// Checks the Spin manifest at `path` (sources relative to its folder) against the
/// comma-separated `region=url|url…` list the edge is configured with (`REGION_URLS`).
pub fn check_spin_manifest(path: &Path, region_urls: &str) -> Result<SpinManifest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let urls: Vec<&str> = region_urls
        .split(',')
        .filter_map(|pair| pair.split_once('=').map(|(_, urls)| urls))
        .flat_map(|urls| urls.split('|'))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    check_spin_text(&text, dir, &urls)
}

fn check_spin_text(text: &str, dir: &Path, region_urls: &[&str]) -> Result<SpinManifest> {
    let doc: toml::Table = toml::from_str(text).context("parsing spin.toml")?;
    let defaults = doc.get("variables").and_then(toml::Value::as_table);
    let components = doc
        .get("component")
        .and_then(toml::Value::as_table)
        .context("spin.toml declares no [component.*]")?;
    let mut problems = Vec::new();
    let mut found = SpinManifest {
        sources: Vec::new(),
        environment_keys: 0,
        region_urls: region_urls.len(),
    };
    for (id, component) in components {
        match component.get("source").and_then(toml::Value::as_str) {
            Some(source) if dir.join(source).is_file() => found.sources.push(dir.join(source)),
            Some(source) => problems.push(format!(
                "component {id}: source {source} does not exist (build it first: cargo xtask build)"
            )),
            None => problems.push(format!("component {id}: no source file")),
        }
        let environment = component.get("environment").and_then(toml::Value::as_table);
        for (key, _) in environment.into_iter().flatten() {
            found.environment_keys += 1;
            problems.extend(variable_problem(
                &format!("component {id} environment"),
                key,
            ));
        }
        let mut allowed = Vec::new();
        for entry in component
            .get("allowed_outbound_hosts")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            match entry.as_str().map(|e| resolve_template(e, defaults)) {
                // Whether Spin's `a..b` includes `b` is not something to guess at.
                Some(Ok(pattern)) if pattern.contains("..") => problems.push(format!(
                    "component {id}: {pattern}: port ranges are not checked here; list the ports or `*`"
                )),
                Some(Ok(pattern)) => allowed.push(pattern),
                Some(Err(e)) => problems.push(format!("component {id}: {e}")),
                None => problems.push(format!("component {id}: allowed_outbound_hosts holds a non-string")),
            }
        }
        for url in region_urls {
            if !allowed.iter().any(|pattern| host_allowed(pattern, url)) {
                problems.push(format!(
                    "component {id}: allowed_outbound_hosts {allowed:?} does not let it reach the region URL {url}"
                ));
            }
        }
    }
    report(problems)?;
    Ok(found)
}

/// Replaces `{{ name }}` with the `[variables]` default of `name` (what Spin does when the
/// deployment sets no value).
fn resolve_template(entry: &str, defaults: Option<&toml::Table>) -> Result<String> {
    let mut out = String::new();
    let mut rest = entry;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .with_context(|| format!("unclosed template in {entry:?}"))?;
        let name = rest[start + 2..start + end].trim();
        let default = defaults
            .and_then(|d| d.get(name))
            .and_then(|v| v.get("default"))
            .and_then(toml::Value::as_str)
            .with_context(|| format!("the variable {name} in {entry:?} has no default to check"))?;
        out.push_str(&rest[..start]);
        out.push_str(default);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether Spin's `allowed_outbound_hosts` entry `pattern` (`scheme://host:port`, each part
/// `*`-able, `*.domain` hosts, the scheme's port when none is given) lets the component
/// call `url`.
fn host_allowed(pattern: &str, url: &str) -> bool {
    let (Some(p), Some(u)) = (split_origin(pattern), split_origin(url)) else {
        return false;
    };
    let scheme_ok = p.scheme == "*" || p.scheme.eq_ignore_ascii_case(u.scheme);
    let host_ok = p.host == "*"
        || p.host.eq_ignore_ascii_case(u.host)
        || p.host.strip_prefix("*.").is_some_and(|domain| {
            u.host
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", domain.to_ascii_lowercase()))
        });
    let Some(port) = u
        .port
        .parse::<u16>()
        .ok()
        .or_else(|| default_port(u.scheme))
    else {
        return false;
    };
    let port_ok = match p.port {
        "*" => true,
        "" => default_port(p.scheme) == Some(port),
        exact => exact.parse() == Ok(port),
    };
    scheme_ok && host_ok && port_ok
}

struct Origin<'a> {
    scheme: &'a str,
    host: &'a str,
    port: &'a str,
}

/// `scheme://host[:port][/…]`.
fn split_origin(s: &str) -> Option<Origin<'_>> {
    let (scheme, rest) = s.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, ""));
    Some(Origin { scheme, host, port })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrangler_upload_sizes_are_read() {
        let text = "Your Worker has access to the following bindings:\n\
                    Total Upload: 1113.05 KiB / gzip: 381.64 KiB\n--dry-run: exiting now.";
        assert_eq!(
            parse_upload_size(text),
            Some(Bundle {
                upload_bytes: 1_139_763,
                gzip_bytes: 390_799
            })
        );
        assert_eq!(
            parse_upload_size("Total Upload: 2.50 MiB / gzip: 1.10 MiB").map(|b| b.gzip_bytes),
            Some(1_153_434)
        );
        assert_eq!(parse_upload_size("Total Upload: lots"), None);
        assert_eq!(parse_upload_size("nothing"), None);
    }

    #[test]
    fn wrangler_vars_must_be_read_and_not_secret() {
        assert!(
            check_wrangler_vars("[vars]\nAPEX_DOMAIN = \"x\"\nASSET_VERSION = \"1\"\n").is_ok()
        );
        let err = check_wrangler_vars(
            "[vars]\nAPEX_DOMAN = \"x\"\n[env.production.vars]\nEDGE_TOKEN_KEY = \"k\"\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "wrangler.toml [vars] sets APEX_DOMAN, which the edge never reads\n\
             wrangler.toml [env.production.vars] sets the secret EDGE_TOKEN_KEY: secrets go to \
             the platform's secret store, never a manifest"
        );
    }

    /// The repository's own manifests pass the checks that need no build.
    #[test]
    fn the_committed_manifests_hold_only_variables_the_edge_reads() {
        let root = workspace_root();
        check_wrangler_vars(&std::fs::read_to_string(root.join("wrangler.toml")).unwrap()).unwrap();
        let text = std::fs::read_to_string(root.join("spin.toml")).unwrap();
        // The source is checked against a folder that holds it, whatever is built.
        let dir =
            std::env::temp_dir().join(format!("telemed-spin-manifest-{}", std::process::id()));
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let source = doc["component"]["edge"]["source"].as_str().unwrap();
        std::fs::create_dir_all(dir.join(source).parent().unwrap()).unwrap();
        std::fs::write(dir.join(source), b"\0asm").unwrap();
        let found = check_spin_text(&text, &dir, &["http://127.0.0.1:17100"]).unwrap();
        assert_eq!(found.sources, [dir.join(source)]);
        assert_eq!(found.environment_keys, 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn spin_manifest_faults_are_each_named() {
        let manifest = r#"
[variables]
region_hosts = { default = "https://*.regions.example:443" }

[component.edge]
source = "missing.wasm"
allowed_outbound_hosts = ["{{ region_hosts }}", "http://127.0.0.1:7150", "http://127.0.0.1:7100..7200"]
[component.edge.environment]
APEX_DOMAIN = "example"
DEV_GEO_HEADER = "1"
API_TOKEN_PUBLIC_KEYS = "k"
EDGE_TOKEN_KEY = "k"
"#;
        let err = check_spin_text(
            manifest,
            Path::new("/nonexistent"),
            &[
                "https://eu.regions.example",
                "http://127.0.0.1:7150",
                "http://127.0.0.1:17100",
                "https://regions.example.evil",
            ],
        )
        .unwrap_err()
        .to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines,
            [
                "component edge: source missing.wasm does not exist (build it first: cargo xtask build)",
                "component edge environment sets DEV_GEO_HEADER, which the edge never reads",
                "component edge environment sets the secret EDGE_TOKEN_KEY: secrets go to the platform's secret store, never a manifest",
                "component edge: http://127.0.0.1:7100..7200: port ranges are not checked here; list the ports or `*`",
                "component edge: allowed_outbound_hosts [\"https://*.regions.example:443\", \"http://127.0.0.1:7150\"] does not let it reach the region URL http://127.0.0.1:17100",
                "component edge: allowed_outbound_hosts [\"https://*.regions.example:443\", \"http://127.0.0.1:7150\"] does not let it reach the region URL https://regions.example.evil",
            ]
        );
    }

    #[test]
    fn outbound_host_patterns() {
        for (pattern, url, ok) in [
            ("http://127.0.0.1:*", "http://127.0.0.1:7100", true),
            ("http://127.0.0.1:*", "https://127.0.0.1:7100", false),
            ("*://127.0.0.1:*", "https://127.0.0.1:7100", true),
            ("https://eu.example", "https://eu.example", true),
            ("https://eu.example", "https://eu.example:8443", false),
            ("https://*.example", "https://a.b.example", true),
            ("https://*.example", "https://example", false),
            ("http://h:7101", "http://h:7101", true),
            ("http://h:7101", "http://h:7102", false),
            ("http://*:80", "http://anything", true),
        ] {
            assert_eq!(host_allowed(pattern, url), ok, "{pattern} {url}");
        }
        let defaults: toml::Table =
            toml::from_str("h = { default = \"http://127.0.0.1:*\" }").unwrap();
        assert_eq!(
            resolve_template("{{ h }}", Some(&defaults)).unwrap(),
            "http://127.0.0.1:*"
        );
        assert!(resolve_template("{{ nope }}", Some(&defaults)).is_err());
        assert!(resolve_template("{{ h", Some(&defaults)).is_err());
    }
}
