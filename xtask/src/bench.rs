//! `cargo xtask bench`: what a request costs, measured through the real local stack.
//!
//! Three measurements, printed as one Markdown report (and written to a file):
//!
//! - **Through the Workers edge** (workerd, `wrangler dev`), with `oha` (crates.io) as the
//!   load generator and its JSON output parsed here: a cached page (the cache is
//!   warmed first and the hit ratio is read back from the edges' timing beacons), an API
//!   read (`GET /v1/patients?_count=10`) and an API write (`POST /v1/patients`). Then,
//!   with a Rust client (each request has its own body, which oha cannot send): booking
//!   (`POST /v1/appointments`, each for another free slot made first by `$generate-slots`),
//!   a booking race (50 clients at once for 10 free slots: exactly one 201 per slot, a 409
//!   for the others — a correctness figure, and the latency under contention) and
//!   Observation ingestion (`batch` Bundles of 100 readings posted to `POST /v1`: Bundles/s,
//!   readings/s, latency per Bundle).
//! - **`regional-db` against PgBouncer**: the same statements — the batch `regional-db` runs
//!   for one `patient.read` — through `POST /v1/batch`, and through PgBouncer in transaction
//!   mode from a native tokio-postgres client, against the same Postgres primary, at the same
//!   concurrency, interleaved in rounds in one run. The ratio of their latencies and the
//!   difference of their medians ("added latency per batch") are what `regional-db` costs
//!   over the reference pooler.
//! - **10,000 concurrent connections** against the Workers edge (cached page), served by
//!   workerd from its own socket (`wrangler dev`'s proxy doubles the connections): error
//!   rate and p95. Errors there are data, not a failure of the bench.
//!
//! # Layout
//! - [`Counts`]: requests and concurrency per scenario (full, `--quick`, the e2e smoke test).
//! - [`Fixture`]: a clinic homed in a region without a replica, its API token, a patient;
//!   free slots on demand ([`Fixture::free_slots`]).
//! - [`edge_page`], [`edge_api_read`], [`edge_api_write`], [`edge_connections`]: oha runs.
//! - [`edge_booking`], [`edge_booking_race`] ([`RaceOutcome`]), [`edge_ingestion`]: driven
//!   by `measure` through `EdgeApi`.
//! - [`pgbouncer_comparison`] and [`PgBouncer`]: the side-by-side batch measurement.
//! - [`Report`]: the table; [`run`] measures everything against any running stack
//!   ([`StackInfo`]); [`run_own_stack`] starts the `bench` stack ([`stack::BENCH`]) first.
//!
//! Everything the bench starts (its stack, PgBouncer) stops when the bench ends or fails.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    fs,
    net::{TcpListener, TcpStream},
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use telemed_shared::{
    auth::{EdgeClaims, SigningKey},
    dataplane::{
        catalog::{self, envelope, names},
        wire::{BATCH_PATH, BatchResponse, CATALOG_HEADER},
    },
    geo::RegionMap,
    tenant::TenantSlug,
};

use crate::{
    miniflare,
    stack::{self, StackInfo},
    tools,
};

/// Set by `cargo xtask bench`'s Ctrl-C handler: the bench stops at its next checkpoint and
/// everything it started is stopped on the way out.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

/// How many requests one scenario sends, and how many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub requests: u64,
    pub concurrency: u64,
}

const fn load(requests: u64, concurrency: u64) -> Load {
    Load {
        requests,
        concurrency,
    }
}

/// A booking race: `clients` clients at once for `slots` free slots, the same number of
/// clients on each slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Race {
    pub slots: u64,
    pub clients: u64,
}

/// The size of every scenario of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub page: Load,
    pub api_read: Load,
    pub api_write: Load,
    /// An app's token requests (`client_secret_basic`).
    pub app_token: Load,
    /// Bookings, each of another free slot.
    pub booking: Load,
    /// The same in every run: it is a correctness figure (one 201 per slot).
    pub race: Race,
    /// Observation `batch` Bundles of [`READINGS_PER_BUNDLE`] readings.
    pub ingestion: Load,
    /// Per side of the `regional-db` / PgBouncer comparison.
    pub batch: Load,
    pub connections: Load,
}

/// 50 clients for 10 free slots, 5 on each, all at once.
pub const RACE: Race = Race {
    slots: 10,
    clients: 50,
};
const _: () = assert!(RACE.clients > RACE.slots && RACE.clients.is_multiple_of(RACE.slots));

impl Counts {
    /// `cargo xtask bench`.
    pub const FULL: Counts = Counts {
        page: load(20_000, 64),
        api_read: load(5_000, 32),
        api_write: load(2_000, 16),
        app_token: load(2_000, 16),
        booking: load(500, 10),
        race: RACE,
        ingestion: load(100, 4),
        batch: load(4_000, 16),
        connections: load(20_000, 10_000),
    };
    /// `cargo xtask bench --quick`: the same scenarios, small (1,000 connections).
    pub const QUICK: Counts = Counts {
        page: load(2_000, 32),
        api_read: load(500, 16),
        api_write: load(200, 8),
        app_token: load(200, 8),
        booking: load(100, 8),
        race: RACE,
        ingestion: load(20, 4),
        batch: load(500, 16),
        connections: load(2_000, 1_000),
    };
    /// The end-to-end smoke test: every code path, tiny counts.
    pub const SMOKE: Counts = Counts {
        page: load(100, 4),
        api_read: load(40, 4),
        api_write: load(20, 2),
        app_token: load(20, 2),
        booking: load(5, 2),
        race: RACE,
        ingestion: load(2, 2),
        batch: load(40, 4),
        connections: load(100, 50),
    };
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// The nearest-rank percentile `p` (0–100] of `sorted` (ascending); `None` when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50, p95 and p99 of `samples` (sorted in place); `None` when there are none.
pub fn percentiles(samples: &mut [Duration]) -> Option<Percentiles> {
    samples.sort_unstable();
    let ms = |p| percentile(samples, p).map(|d| d.as_secs_f64() * 1000.0);
    Some(Percentiles {
        p50: ms(50.0)?,
        p95: ms(95.0)?,
        p99: ms(99.0)?,
    })
}

/// One measured scenario: a row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// Requests sent: answered plus failed.
    pub requests: u64,
    pub concurrency: u64,
    /// Requests that got an answer (of any status): the latency samples.
    pub answered: u64,
    /// Over the requests that got an answer; `None` when none did.
    pub latency: Option<Percentiles>,
    /// Requests (of any outcome) per second of the run's wall time.
    pub requests_per_sec: f64,
    /// Transport failures plus answers with another status than the expected one.
    pub errors: u64,
    /// What the errors were: `HTTP 503`, an error message, … → how many.
    pub error_kinds: BTreeMap<String, u64>,
    /// Facts about the run worth a line under the table (cache hit ratio, limits).
    pub notes: Vec<String>,
    /// A stress scenario: its errors are its result, not a failure of the bench.
    pub stress: bool,
}

impl Scenario {
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    /// Nothing succeeded: a run that must say so loudly.
    pub fn all_failed(&self) -> bool {
        self.requests > 0 && self.errors >= self.requests
    }
}

/// oha's `--output-format json` (1.16): the fields the report uses.
#[derive(Debug, Deserialize)]
struct OhaJson {
    summary: OhaSummary,
    #[serde(rename = "latencyPercentiles")]
    latency_percentiles: BTreeMap<String, Option<f64>>,
    #[serde(rename = "statusCodeDistribution", default)]
    status_codes: BTreeMap<String, u64>,
    #[serde(rename = "errorDistribution", default)]
    errors: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct OhaSummary {
    #[serde(rename = "requestsPerSec")]
    requests_per_sec: Option<f64>,
}

/// A [`Scenario`] from oha's JSON: answers with status `ok_status` succeeded, any other
/// status or transport error counts as an error.
pub fn scenario_from_oha(name: &str, load: Load, json: &str, ok_status: u16) -> Result<Scenario> {
    let oha: OhaJson = serde_json::from_str(json).context("parsing oha's JSON output")?;
    let mut error_kinds = BTreeMap::new();
    let mut answered = 0;
    let mut errors = 0;
    for (status, n) in &oha.status_codes {
        answered += n;
        if status.parse::<u16>().ok() != Some(ok_status) {
            errors += n;
            *error_kinds.entry(format!("HTTP {status}")).or_default() += n;
        }
    }
    for (kind, n) in &oha.errors {
        errors += n;
        *error_kinds.entry(kind.clone()).or_default() += n;
    }
    let secs = |key: &str| -> Option<f64> {
        oha.latency_percentiles
            .get(key)
            .copied()
            .flatten()
            .map(|s| s * 1000.0)
    };
    let latency = match (secs("p50"), secs("p95"), secs("p99")) {
        (Some(p50), Some(p95), Some(p99)) if answered > 0 => Some(Percentiles { p50, p95, p99 }),
        _ => None,
    };
    Ok(Scenario {
        name: name.to_owned(),
        requests: answered + oha.errors.values().sum::<u64>(),
        answered,
        concurrency: load.concurrency,
        latency,
        requests_per_sec: oha.summary.requests_per_sec.unwrap_or(0.0),
        errors,
        error_kinds,
        notes: Vec::new(),
        stress: false,
    })
}

/// One HTTP load for oha against an edge: 127.0.0.1 in the URL, the clinic in `Host`.
struct HttpLoad<'a> {
    name: &'a str,
    method: &'a str,
    url: String,
    host: String,
    headers: Vec<String>,
    body: Option<String>,
    load: Load,
    ok_status: u16,
}

fn run_oha(job: &HttpLoad<'_>) -> Result<Scenario> {
    check_interrupted()?;
    let bin = tools::oha_bin();
    eprintln!(
        "bench: {} — {} requests, {} at once",
        job.name, job.load.requests, job.load.concurrency
    );
    let mut cmd = Command::new(&bin);
    cmd.args(["--no-tui", "--output-format", "json"])
        .args(["-n", &job.load.requests.to_string()])
        .args(["-c", &job.load.concurrency.to_string()])
        .args(["-m", job.method])
        .args(["--host", &job.host])
        // Bounded: a request that hangs is an error, not a bench that never ends.
        .args(["-t", "30s", "--connect-timeout", "10s"]);
    for h in &job.headers {
        cmd.args(["-H", h]);
    }
    if let Some(body) = &job.body {
        cmd.args(["-d", body, "-T", "application/fhir+json"]);
    }
    cmd.arg(&job.url).stdin(Stdio::null());
    let out = cmd.output().with_context(|| {
        format!(
            "running {} (install it with tools::ensure_oha)",
            bin.display()
        )
    })?;
    if !out.status.success() {
        bail!(
            "oha failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    scenario_from_oha(
        job.name,
        job.load,
        &String::from_utf8_lossy(&out.stdout),
        job.ok_status,
    )
}

/// What the bench needs from a clinic: its slug, home region, an API token, one patient.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub slug: String,
    /// The clinic's home region: its batches run there.
    pub region: String,
    pub api_token: String,
    /// A patient of the clinic, read by the batch comparison.
    pub patient_id: String,
    /// `Authorization: Basic …` of the bench's app, installed in the clinic.
    pub app_basic: String,
}

/// The country of the bench's clinics: homed in us-east, a region without a replica, so
/// `regional-db` and PgBouncer reach the same Postgres server.
pub const BENCH_COUNTRY: &str = "US";

/// A patient body every country accepts (family, given, birth date, gender).
pub const PATIENT_BODY: &str = r#"{"resourceType":"Patient","name":[{"family":"Bench","given":["Ada"]}],"gender":"female","birthDate":"1990-05-17"}"#;

/// Creates clinic `slug` in [`BENCH_COUNTRY`] unless it exists, and waits until every
/// region's directory has it.
pub fn ensure_clinic(info: &StackInfo, slug: &str) -> Result<()> {
    let out = info.create_tenant(slug, "Bench Clinic", BENCH_COUNTRY)?;
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Ok(());
    }
    if text.contains("already exists") {
        return info.wait_replicated(slug);
    }
    bail!("creating clinic {slug}: {text}")
}

fn now_secs() -> Result<u64> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
}

fn http() -> Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The Host a browser would send for the clinic on the Workers edge.
fn workers_host(info: &StackInfo, slug: &str) -> Result<String> {
    let port = info
        .workers_url
        .rsplit(':')
        .next()
        .context("workers_url has no port")?;
    Ok(format!("{slug}.localhost:{port}"))
}

impl Fixture {
    /// Signs an API token for clinic `slug` (which must exist, see [`ensure_clinic`]) and
    /// creates a few patients through the Workers edge, checking the write path once.
    pub fn prepare(info: &StackInfo, slug: &str) -> Result<Fixture> {
        let tenant: TenantSlug = slug.parse().map_err(|e| anyhow::anyhow!("{slug}: {e}"))?;
        let region = RegionMap::embedded()
            .home_for_country(&BENCH_COUNTRY.parse().map_err(|e| anyhow::anyhow!("{e}"))?)
            .id
            .to_string();
        let api_token = info
            .keys()?
            .api_signing_key()?
            .sign_api(tenant, "xtask-bench", API_SCOPES, now_secs()?, 4 * 3600)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut fixture = Fixture {
            slug: slug.to_owned(),
            region,
            api_token,
            patient_id: String::new(),
            app_basic: ensure_app(info, slug)?,
        };
        let patient: Value = serde_json::from_str(PATIENT_BODY)?;
        for _ in 0..10 {
            let id = fixture
                .create(info, "/v1/patients", &patient)
                .context("creating a patient through the Workers edge")?;
            // Booking a teleconsultation needs the patient's consent in most countries.
            fixture
                .create(
                    info,
                    "/v1/consents",
                    &crate::demo::consent_body(&id, "telemedicine", "2026-01-01"),
                )
                .context("recording the patient's consent through the Workers edge")?;
            if fixture.patient_id.is_empty() {
                fixture.patient_id = id;
            }
        }
        Ok(fixture)
    }

    /// One API call through the Workers edge with the fixture's token (set-up, not
    /// measured): the status and the JSON answer (its text as a string when not JSON).
    pub fn call(
        &self,
        info: &StackInfo,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let mut req = http()?
            .request(method.clone(), format!("{}{path}", info.workers_url))
            .header("host", workers_host(info, &self.slug)?)
            .bearer_auth(&self.api_token);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/fhir+json")
                .body(body.to_string());
        }
        let r = req.send().with_context(|| format!("{method} {path}"))?;
        let status = r.status().as_u16();
        let text = r.text()?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// `POST`s `body` to `path` and returns the id of what it created (201 expected).
    pub fn create(&self, info: &StackInfo, path: &str, body: &Value) -> Result<String> {
        let (status, answer) = self.call(info, reqwest::Method::POST, path, Some(body))?;
        if status != 201 {
            bail!("POST {path} answered {status}: {answer}");
        }
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("POST {path}: what it created has no id: {answer}"))
    }

    /// `n` free slots, each bookable once: a new Practitioner (so no earlier run's
    /// appointments overlap them) with a new Schedule, filled by `$generate-slots` —
    /// [`SLOTS_PER_DAY`] 5-minute slots a day from [`FIRST_SLOT_DAY`] on, as many days as
    /// `n` needs; past [`DAYS_PER_SCHEDULE`] days, another practitioner and schedule.
    pub fn free_slots(&self, info: &StackInfo, n: u64) -> Result<Vec<String>> {
        let mut slots = Vec::new();
        while (slots.len() as u64) < n {
            check_interrupted()?;
            let practitioner = self.create(
                info,
                "/v1/practitioners",
                &serde_json::json!({"resourceType": "Practitioner", "name": [{"family": "Bench"}]}),
            )?;
            let schedule = self.create(
                info,
                "/v1/schedules",
                &serde_json::json!({"resourceType": "Schedule",
                    "actor": [{"reference": format!("Practitioner/{practitioner}")}]}),
            )?;
            let days = (n - slots.len() as u64)
                .div_ceil(SLOTS_PER_DAY)
                .min(DAYS_PER_SCHEDULE);
            let path = format!("/v1/schedules/{schedule}/$generate-slots");
            let (status, made) = self.call(
                info,
                reqwest::Method::POST,
                &path,
                Some(&slot_availability(days)),
            )?;
            if status != 200 || made["type"] != "collection" {
                bail!("POST {path} answered {status}: {made}");
            }
            let ids: Vec<String> = made["entry"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
                .collect();
            if ids.len() as u64 != days * SLOTS_PER_DAY {
                bail!(
                    "POST {path} made {} slots, not the {} of {days} days",
                    ids.len(),
                    days * SLOTS_PER_DAY
                );
            }
            slots.extend(ids);
        }
        slots.truncate(n as usize);
        Ok(slots)
    }
}

/// What the bench's API token may do: everything its scenarios touch.
pub const API_SCOPES: &str = "system/Patient.cruds system/Practitioner.cruds \
                              system/Schedule.cruds system/Slot.cruds \
                              system/Appointment.cruds system/Observation.cruds \
                              system/Consent.cruds";

/// The first day of the bench's slots (a Monday, in the future).
pub const FIRST_SLOT_DAY: &str = "2027-01-04";
/// Slots a day: 08:00 to 20:00 UTC, 5 minutes each.
pub const SLOTS_PER_DAY: u64 = 12 * 60 / 5;
/// Days of slots per schedule: from [`FIRST_SLOT_DAY`] to the end of January, under
/// `$generate-slots`'s 5,000 slots per call.
pub const DAYS_PER_SCHEDULE: u64 = 28;
const _: () = assert!(DAYS_PER_SCHEDULE * SLOTS_PER_DAY <= 5_000 && DAYS_PER_SCHEDULE <= 28);

/// `$generate-slots` Parameters for `days` (1..=[`DAYS_PER_SCHEDULE`]) consecutive days
/// from [`FIRST_SLOT_DAY`], every day of the week, [`SLOTS_PER_DAY`] slots each.
pub fn slot_availability(days: u64) -> Value {
    let days = days.clamp(1, DAYS_PER_SCHEDULE);
    let mut parameter = vec![
        serde_json::json!({"name": "start", "valueDate": FIRST_SLOT_DAY}),
        serde_json::json!({"name": "end", "valueDate": format!("2027-01-{:02}", 3 + days)}),
    ];
    parameter.extend(
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .map(|d| serde_json::json!({"name": "day", "valueCode": d})),
    );
    parameter.extend([
        serde_json::json!({"name": "from", "valueTime": "08:00:00"}),
        serde_json::json!({"name": "to", "valueTime": "20:00:00"}),
        serde_json::json!({"name": "slotMinutes", "valuePositiveInt": 5}),
        serde_json::json!({"name": "timeZone", "valueCode": "UTC"}),
    ]);
    serde_json::json!({"resourceType": "Parameters", "parameter": parameter})
}

/// Page views per cache outcome, as the edges reported them to the regions (their timing
/// beacons, `edge_request_duration_seconds_count{route="page"}`), summed over every instance.
fn page_beacons(info: &StackInfo) -> Result<(u64, u64)> {
    let client = http()?;
    let (mut hits, mut misses) = (0, 0);
    for url in info.regions.iter().flat_map(|r| &r.urls) {
        let text = client.get(format!("{url}/metrics")).send()?.text()?;
        hits += metric_sum(
            &text,
            "edge_request_duration_seconds_count",
            &[("route", "page"), ("cache", "hit")],
        );
        misses += metric_sum(
            &text,
            "edge_request_duration_seconds_count",
            &[("route", "page"), ("cache", "miss")],
        );
    }
    Ok((hits, misses))
}

/// Sums the samples of a Prometheus series `name` that carry every label of `labels`.
pub fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// The beacons arrive after the responses (in the background): waits until the count of
/// page beacons stops growing, for up to `max`.
fn settled_page_beacons(info: &StackInfo, max: Duration) -> Result<(u64, u64)> {
    let deadline = Instant::now() + max;
    let mut last = page_beacons(info)?;
    loop {
        thread::sleep(Duration::from_millis(500));
        let now = page_beacons(info)?;
        if now == last || Instant::now() > deadline {
            return Ok(now);
        }
        last = now;
    }
}

/// A note on the cache hit ratio of a page run, from the beacons' counts before and after.
fn hit_ratio_note(before: (u64, u64), after: (u64, u64), requests: u64) -> String {
    let hits = after.0.saturating_sub(before.0);
    let misses = after.1.saturating_sub(before.1);
    if hits + misses == 0 {
        return "cache hit ratio unknown: no timing beacon reached a region".to_owned();
    }
    format!(
        "edge cache hit ratio {:.1}% ({hits} hits, {misses} misses, from the edge's timing \
         beacons: {} of {requests} requests reported)",
        100.0 * hits as f64 / (hits + misses) as f64,
        hits + misses
    )
}

/// Requests the clinic's home page until the Workers edge serves it from its cache.
pub fn warm_page(info: &StackInfo, fixture: &Fixture) -> Result<()> {
    let client = http()?;
    let host = workers_host(info, &fixture.slug)?;
    for _ in 0..100 {
        let r = client
            .get(format!("{}/", info.workers_url))
            .header("host", &host)
            .header("accept-language", PAGE_LANGUAGE)
            .send()?;
        let status = r.status().as_u16();
        let cache = r
            .headers()
            .get("x-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if status != 200 {
            bail!("the page of {} answered {status}", fixture.slug);
        }
        if cache == "HIT" {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(100));
    }
    bail!(
        "the Workers edge never served {}'s page from its cache (X-Cache never HIT)",
        fixture.slug
    )
}

/// The visitor's language: decided by the request alone, so a hit needs no directory read.
const PAGE_LANGUAGE: &str = "en";

fn page_job<'a>(
    info: &StackInfo,
    fixture: &Fixture,
    name: &'a str,
    load: Load,
) -> Result<HttpLoad<'a>> {
    Ok(HttpLoad {
        name,
        method: "GET",
        url: format!("{}/", info.workers_url),
        host: workers_host(info, &fixture.slug)?,
        headers: vec![format!("accept-language: {PAGE_LANGUAGE}")],
        body: None,
        load,
        ok_status: 200,
    })
}

/// A page run, with its cache hit ratio as a note.
fn page_run(info: &StackInfo, fixture: &Fixture, name: &str, load: Load) -> Result<Scenario> {
    warm_page(info, fixture)?;
    // The warm-up's own beacons (its miss) are counted before, not during, the run.
    let before = settled_page_beacons(info, Duration::from_secs(5))?;
    let mut s = run_oha(&page_job(info, fixture, name, load)?)?;
    let after = settled_page_beacons(info, Duration::from_secs(10))?;
    s.notes.push(hit_ratio_note(before, after, s.requests));
    Ok(s)
}

/// A cached page through the Workers edge (warmed first: every request should be a HIT).
pub fn edge_page(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    page_run(info, fixture, "cached page `GET /`", load)
}

/// `GET /v1/patients?_count=10` through the Workers edge: one batch to the home region.
pub fn edge_api_read(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    run_oha(&HttpLoad {
        name: "API read `GET /v1/patients?_count=10`",
        method: "GET",
        url: format!("{}/v1/patients?_count=10", info.workers_url),
        host: workers_host(info, &fixture.slug)?,
        headers: vec![format!("authorization: Bearer {}", fixture.api_token)],
        body: None,
        load,
        ok_status: 200,
    })
}

/// The bench's app, approved, with a client secret drawn anew each run, installed in
/// clinic `slug` with `system/Patient.rs`: rows as `regional-db apps add|approve` and the
/// admin's install leave them. Waits until the clinic's home region has the new secret
/// (replicated from the control plane). Returns the `Authorization: Basic` value.
fn ensure_app(info: &StackInfo, slug: &str) -> Result<String> {
    use base64::Engine as _;
    const CLIENT: &str = "bench_app_client";
    let psql = |url: &str, sql: &str| -> Result<String> {
        let out = Command::new(Path::new(tools::POSTGRES_BIN_DIR).join("psql"))
            .args([
                url,
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!("{sql}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    let secret: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let digest: String = hmac_sha256::Hash::hash(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let region = |id: &str| {
        info.region(id)
            .with_context(|| format!("the stack has no region {id}"))
    };
    let control = region(RegionMap::embedded().control_plane().id.as_str())?;
    let home = RegionMap::embedded()
        .home_for_country(&BENCH_COUNTRY.parse().map_err(|e| anyhow::anyhow!("{e}"))?)
        .id
        .to_string();
    let app = psql(
        &control.database_url,
        &format!(
            "WITH a AS (INSERT INTO control.apps (slug, names, descriptions, developer, category, \
               requested_scopes, status, reviewed_by, reviewed_at) \
             VALUES ('bench-app', '{{\"en\": \"Bench app\"}}', '{{\"en\": \"Asks for tokens\"}}', \
               'xtask bench', 'analytics', 'system/Patient.rs', 'approved', 'xtask-bench', now()) \
             ON CONFLICT (slug) DO UPDATE SET status = 'approved' RETURNING id) \
             INSERT INTO control.oauth_clients (client_id, app, secret_sha256) \
             SELECT '{CLIENT}', a.id, decode('{digest}', 'hex') FROM a \
             ON CONFLICT (client_id) DO UPDATE SET secret_sha256 = EXCLUDED.secret_sha256 \
             RETURNING app"
        ),
    )?;
    let home_db = &region(&home)?.database_url;
    for _ in 0..100 {
        let copied = psql(
            home_db,
            &format!(
                "SELECT count(*) FROM control.oauth_clients WHERE client_id = '{CLIENT}' \
                 AND secret_sha256 = decode('{digest}', 'hex')"
            ),
        )?;
        if copied == "1" {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    psql(
        home_db,
        &format!(
            "INSERT INTO tenant_{schema}.app_installations (app, client_id, granted_scopes, installed_by) \
             VALUES ('{app}', '{CLIENT}', 'system/Patient.rs', 'xtask-bench') \
             ON CONFLICT (app) DO UPDATE SET status = 'installed', uninstalled_at = NULL, \
               uninstalled_by = NULL",
            schema = slug.replace('-', "_"),
            app = app.lines().next().unwrap_or_default(),
        ),
    )?;
    Ok(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{secret}"))
    ))
}

/// `POST /oauth/token` through the Workers edge: an app's token for `system/Patient.rs`,
/// one call to the home region (client look-up, SHA-256 of the secret, an EdDSA
/// signature, an audit record).
pub fn edge_app_token(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    run_oha(&HttpLoad {
        name: "app token `POST /oauth/token`",
        method: "POST",
        url: format!("{}/oauth/token", info.workers_url),
        host: workers_host(info, &fixture.slug)?,
        headers: vec![
            format!("authorization: {}", fixture.app_basic),
            "content-type: application/x-www-form-urlencoded".to_owned(),
        ],
        body: Some("grant_type=client_credentials&scope=system%2FPatient.rs".to_owned()),
        load,
        ok_status: 200,
    })
}

/// `POST /v1/patients` through the Workers edge: one write batch (with an idempotency key).
pub fn edge_api_write(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    run_oha(&HttpLoad {
        name: "API write `POST /v1/patients`",
        method: "POST",
        url: format!("{}/v1/patients", info.workers_url),
        host: workers_host(info, &fixture.slug)?,
        headers: vec![format!("authorization: Bearer {}", fixture.api_token)],
        body: Some(PATIENT_BODY.to_owned()),
        load,
        ok_status: 201,
    })
}

/// How often the bench's own client retries a 503 ([`EdgeApi::send`]).
const RETRIES_ON_503: u32 = 5;

/// The fixture's clinic on the Workers edge for the async scenarios (booking, the race,
/// ingestion): requests timed from sending to the whole answer read.
#[derive(Clone)]
struct EdgeApi {
    client: reqwest::Client,
    base: String,
    host: String,
    token: String,
}

impl EdgeApi {
    /// Call inside a Tokio runtime; keeps up to `connections` idle connections.
    fn new(info: &StackInfo, fixture: &Fixture, connections: u64) -> Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(connections as usize)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: info.workers_url.clone(),
            host: workers_host(info, &fixture.slug)?,
            token: fixture.api_token.clone(),
        })
    }

    /// `method path` with a FHIR JSON `body`: how long it took, the status, the answer.
    ///
    /// A 503 (the region's pool is full: it answers so rather than queue without bound)
    /// is retried after its `Retry-After`, as the API asks clients to, up to
    /// [`RETRIES_ON_503`] times; the time taken counts the waits, so the latency is what a
    /// well-behaved client sees.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(Duration, u16, Vec<u8>)> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .header("host", &self.host)
                .bearer_auth(&self.token);
            if let Some(body) = &body {
                req = req
                    .header("content-type", "application/fhir+json")
                    .body(body.clone());
            }
            let r = req.send().await?;
            let status = r.status().as_u16();
            if status == 503 && attempt < RETRIES_ON_503 {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(5);
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            let bytes = r.bytes().await?;
            return Ok((started.elapsed(), status, bytes.to_vec()));
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The Appointment that books `slot` for `patient`.
pub fn appointment_body(slot: &str, patient: &str) -> String {
    serde_json::json!({
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": format!("Slot/{slot}")}],
        "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}]
    })
    .to_string()
}

/// Booking through the Workers edge: `POST /v1/appointments`, each request for another
/// free slot (made first, see [`Fixture::free_slots`]; not timed): 201 expected.
pub fn edge_booking(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    check_interrupted()?;
    let prepared = Instant::now();
    let slots = fixture.free_slots(info, load.requests)?;
    let prepared = prepared.elapsed();
    eprintln!(
        "bench: booking — {} requests, {} at once ({} free slots made in {:.1} s)",
        load.requests,
        load.concurrency,
        slots.len(),
        prepared.as_secs_f64()
    );
    let (slots, patient) = (Arc::new(slots), Arc::new(fixture.patient_id.clone()));
    let next = Arc::new(AtomicU64::new(0));
    let samples = runtime()?.block_on(async {
        let api = EdgeApi::new(info, fixture, load.concurrency)?;
        Ok::<_, anyhow::Error>(
            measure(load.requests, load.concurrency, move |_| {
                let (api, slots, patient, next) =
                    (api.clone(), slots.clone(), patient.clone(), next.clone());
                async move {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let slot = slots.get(i).context("no free slot left")?;
                    let (took, status, _) = api
                        .send(
                            reqwest::Method::POST,
                            "/v1/appointments",
                            Some(appointment_body(slot, &patient)),
                        )
                        .await?;
                    if status != 201 {
                        bail!("HTTP {status}");
                    }
                    Ok(took)
                }
            })
            .await,
        )
    })?;
    let mut s = samples.into_scenario(
        "booking `POST /v1/appointments`, a free slot each",
        load.concurrency,
    );
    s.notes.push(format!(
        "every request books another free slot (201); the {} slots were made first by \
         `$generate-slots` (not timed: {:.1} s)",
        thousands(load.requests),
        prepared.as_secs_f64()
    ));
    Ok(s)
}

/// What a booking race ended with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaceOutcome {
    pub slots: u64,
    pub clients: u64,
    /// 201 answers: bookings made.
    pub won: u64,
    /// 409 answers: bookings refused, the slot being taken.
    pub refused: u64,
    /// Per slot, the 201s its clients got: exactly one each when booking is right.
    pub winners_per_slot: Vec<u64>,
}

impl RaceOutcome {
    /// Exactly one 201 per slot, and a 409 for every other client.
    pub fn one_winner_per_slot(&self) -> bool {
        self.winners_per_slot.len() as u64 == self.slots
            && self.winners_per_slot.iter().all(|&w| w == 1)
            && self.refused == self.clients - self.slots
    }

    /// `10 winners, 40 refused (409)`.
    pub fn summary(&self) -> String {
        format!(
            "{} winner{}, {} refused (409)",
            self.won,
            if self.won == 1 { "" } else { "s" },
            self.refused
        )
    }

    /// What is wrong, unless there was exactly one winner per slot: the slots without
    /// exactly one (`slot 3: 2 winners`), the answers that were neither 201 nor 409.
    pub fn problem(&self) -> Option<String> {
        if self.one_winner_per_slot() {
            return None;
        }
        let mut wrong: Vec<String> = self
            .winners_per_slot
            .iter()
            .enumerate()
            .filter(|(_, w)| **w != 1)
            .map(|(i, w)| format!("slot {}: {w} winners", i + 1))
            .collect();
        let other = self.clients.saturating_sub(self.won + self.refused);
        if other > 0 {
            wrong.push(format!("{other} answers neither 201 nor 409"));
        }
        Some(format!(
            "{}, not one 201 per slot ({})",
            self.summary(),
            wrong.join(", ")
        ))
    }

    /// The line of the report.
    pub fn note(&self) -> String {
        let on_each = format!(
            "{} clients on each of {} slots",
            self.clients / self.slots.max(1),
            self.slots
        );
        match self.problem() {
            None => format!("{}: exactly one 201 per slot, {on_each}", self.summary()),
            Some(problem) => format!("**{problem}**; {on_each}"),
        }
    }
}

/// `race.clients` clients at once (behind a barrier, on connections opened before) for
/// `race.slots` free slots of a new schedule, the same number on each: the booking
/// latency under contention, and how many 201 and 409 came back (one 201 per slot is
/// right). Answers other than 201 and 409 are errors.
pub fn edge_booking_race(
    info: &StackInfo,
    fixture: &Fixture,
    race: Race,
) -> Result<(Scenario, RaceOutcome)> {
    check_interrupted()?;
    if race.slots == 0 || race.clients < race.slots || !race.clients.is_multiple_of(race.slots) {
        bail!("a race needs the same number (≥ 1) of clients on each slot: {race:?}");
    }
    let slots = Arc::new(fixture.free_slots(info, race.slots)?);
    eprintln!(
        "bench: booking race — {} clients at once for {} free slots",
        race.clients, race.slots
    );
    let clients = race.clients;
    let winners: Arc<Vec<AtomicU64>> = Arc::new(slots.iter().map(|_| AtomicU64::new(0)).collect());
    let refused = Arc::new(AtomicU64::new(0));
    let patient = Arc::new(fixture.patient_id.clone());
    let samples = runtime()?.block_on(async {
        let api = EdgeApi::new(info, fixture, clients)?;
        // With as many workers as requests, each worker sends exactly one: none can come
        // back for a second before all have reached the barrier.
        let at_once = |what: &'static str| {
            let barrier = Arc::new(tokio::sync::Barrier::new(clients as usize));
            move || {
                let barrier = barrier.clone();
                async move {
                    tokio::time::timeout(Duration::from_secs(30), barrier.wait())
                        .await
                        .with_context(|| format!("not every client of the {what} started"))?;
                    Ok::<_, anyhow::Error>(())
                }
            }
        };
        // One connection per client first (reads of the slots, which must be free), so
        // that the race measures booking, not connection set-up.
        let start = at_once("warm-up");
        let (warm_api, warm_slots) = (api.clone(), slots.clone());
        let warm = measure(clients, clients, move |worker| {
            let (api, slots, start) = (warm_api.clone(), warm_slots.clone(), start.clone());
            async move {
                start().await?;
                let slot = &slots[worker % slots.len()];
                let (took, status, body) = api
                    .send(reqwest::Method::GET, &format!("/v1/slots/{slot}"), None)
                    .await?;
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if status != 200 || body["status"] != "free" {
                    bail!("GET Slot/{slot}: HTTP {status}, status {}", body["status"]);
                }
                Ok(took)
            }
        })
        .await;
        if !warm.errors.is_empty() {
            bail!("the race's warm-up failed: {:?}", warm.errors);
        }
        let start = at_once("race");
        let (winners, refused) = (winners.clone(), refused.clone());
        Ok(measure(clients, clients, move |worker| {
            let (api, slots, patient, start) =
                (api.clone(), slots.clone(), patient.clone(), start.clone());
            let (winners, refused) = (winners.clone(), refused.clone());
            async move {
                start().await?;
                let slot = worker % slots.len();
                let (took, status, _) = api
                    .send(
                        reqwest::Method::POST,
                        "/v1/appointments",
                        Some(appointment_body(&slots[slot], &patient)),
                    )
                    .await?;
                match status {
                    201 => winners[slot].fetch_add(1, Ordering::Relaxed),
                    409 => refused.fetch_add(1, Ordering::Relaxed),
                    _ => bail!("HTTP {status}"),
                };
                Ok(took)
            }
        })
        .await)
    })?;
    let winners_per_slot: Vec<u64> = winners.iter().map(|w| w.load(Ordering::Relaxed)).collect();
    let outcome = RaceOutcome {
        slots: race.slots,
        clients,
        won: winners_per_slot.iter().sum(),
        refused: refused.load(Ordering::Relaxed),
        winners_per_slot,
    };
    let mut s = samples.into_scenario(
        &format!(
            "booking race: {clients} clients, {} free slots, all at once",
            race.slots
        ),
        clients,
    );
    s.notes.push(outcome.note());
    Ok((s, outcome))
}

/// Observations per ingestion Bundle.
pub const READINGS_PER_BUNDLE: usize = 100;

/// A `batch` Bundle of `n` heart-rate Observations of `patient`, identified
/// `urn:dev:bench|<prefix>-<i>`: `prefix` must make them unique in the clinic.
pub fn observation_bundle(patient: &str, prefix: &str, n: usize) -> String {
    let entry: Vec<Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "identifier": [{"system": "urn:dev:bench", "value": format!("{prefix}-{i}")}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": format!("Patient/{patient}")},
                    "effectiveDateTime": "2026-11-30T08:00:00Z",
                    "valueQuantity": {"value": 70, "unit": "/min",
                        "system": "http://unitsofmeasure.org", "code": "/min"}
                },
                "request": {"method": "POST", "url": "Observation"}
            })
        })
        .collect();
    serde_json::json!({"resourceType": "Bundle", "type": "batch", "entry": entry}).to_string()
}

/// The `response.status` of each entry of a `batch-response` Bundle → how many.
pub fn entry_statuses(answer: &[u8]) -> Result<BTreeMap<String, u64>> {
    let v: Value = serde_json::from_slice(answer).context("the answer is not JSON")?;
    if v["resourceType"] != "Bundle" || v["type"] != "batch-response" {
        bail!("the answer is not a batch-response Bundle");
    }
    let mut statuses = BTreeMap::new();
    for e in v["entry"].as_array().map_or(&[][..], Vec::as_slice) {
        let status = e["response"]["status"].as_str().unwrap_or("no status");
        *statuses.entry(status.to_owned()).or_default() += 1;
    }
    Ok(statuses)
}

/// Observation ingestion through the Workers edge: `POST /v1` of `batch` Bundles of
/// [`READINGS_PER_BUNDLE`] readings, identifiers unique to this run; 200 with every entry
/// `201 Created` expected, any other entry status makes the Bundle an error. The rate of
/// readings is a note.
pub fn edge_ingestion(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    check_interrupted()?;
    eprintln!(
        "bench: ingestion — {} Bundles of {READINGS_PER_BUNDLE} Observations, {} at once",
        load.requests, load.concurrency
    );
    // Unique across runs too: the bench clinic keeps its readings.
    let run = format!(
        "{:x}-{}",
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos(),
        std::process::id()
    );
    let (run, patient) = (Arc::new(run), Arc::new(fixture.patient_id.clone()));
    let next = Arc::new(AtomicU64::new(0));
    let created = Arc::new(AtomicU64::new(0));
    let counted = created.clone();
    let samples = runtime()?.block_on(async {
        let api = EdgeApi::new(info, fixture, load.concurrency)?;
        Ok::<_, anyhow::Error>(
            measure(load.requests, load.concurrency, move |_| {
                let (api, run, patient, next, created) = (
                    api.clone(),
                    run.clone(),
                    patient.clone(),
                    next.clone(),
                    counted.clone(),
                );
                async move {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let body =
                        observation_bundle(&patient, &format!("{run}-{n}"), READINGS_PER_BUNDLE);
                    let (took, status, answer) =
                        api.send(reqwest::Method::POST, "/v1", Some(body)).await?;
                    if status != 200 {
                        bail!("HTTP {status}");
                    }
                    let statuses = entry_statuses(&answer)?;
                    let ok = statuses.get("201 Created").copied().unwrap_or(0);
                    created.fetch_add(ok, Ordering::Relaxed);
                    let others: Vec<&str> = statuses
                        .keys()
                        .filter(|k| *k != "201 Created")
                        .map(String::as_str)
                        .collect();
                    if !others.is_empty() {
                        bail!("entries answered {}", others.join(", "));
                    }
                    if ok != READINGS_PER_BUNDLE as u64 {
                        bail!("{ok} entries answered, not {READINGS_PER_BUNDLE}");
                    }
                    Ok(took)
                }
            })
            .await,
        )
    })?;
    let mut s = samples.into_scenario(
        &format!(
            "Observation ingestion `POST /v1`, batch Bundles of {READINGS_PER_BUNDLE} \
             (requests = Bundles)"
        ),
        load.concurrency,
    );
    let created = created.load(Ordering::Relaxed);
    let readings_per_sec = if s.requests == 0 {
        0.0
    } else {
        created as f64 * s.requests_per_sec / s.requests as f64
    };
    s.notes.push(format!(
        "**{readings_per_sec:.0} readings/s** ({:.1} Bundles/s × {READINGS_PER_BUNDLE}; {} \
         readings created of {} sent, latency per Bundle)",
        s.requests_per_sec,
        thousands(created),
        thousands(s.requests * READINGS_PER_BUNDLE as u64)
    ));
    Ok(s)
}

/// Many concurrent client connections against the Workers edge (cached page), in a closed
/// loop: every connection always has a request in flight, so the edge holds
/// `load.concurrency` requests at once. Served by workerd from its own socket
/// ([`WorkerdEdge`]): `wrangler dev` puts a proxy in front of workerd that opens a second
/// connection per client, which is not what production runs and not what is measured here.
/// Errors are data (they are the point of the scenario), explained in its notes: the
/// open-files limit, workerd refusing sockets, an edge that stopped answering. The
/// open-files limit is raised first ([`raise_open_files_limit`]).
pub fn edge_connections(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Scenario> {
    let name = format!(
        "{} concurrent connections, cached page (workerd, no proxy)",
        thousands(load.concurrency)
    );
    let limit = raise_open_files_limit(load.concurrency + 1024)?;
    let log = info.logs_dir.join("workerd-direct.log");
    let edge = WorkerdEdge::start(info, &log)?;
    let direct = StackInfo {
        workers_url: edge.url.clone(),
        ..info.clone()
    };
    let mut s = page_run(&direct, fixture, &name, load)?;
    s.stress = true;
    if limit < load.concurrency + 64 {
        s.notes.push(format!(
            "the open-files limit is {limit}, too low for {} connections: failures expected",
            load.concurrency
        ));
    }
    let refused = count_in_log(&log, 0, "Too many open files");
    if refused > 0 {
        s.notes.push(format!(
            "workerd ran out of file descriptors {} times (\"Too many open files\" in {}; \
             open-files limit here: {limit})",
            thousands(refused),
            log.display(),
        ));
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    let answered = loop {
        if edge_answers(&direct, fixture) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        thread::sleep(Duration::from_secs(1));
    };
    if !answered {
        s.notes.push(format!(
            "the edge did not answer again within 30 s of this run's end (see {})",
            log.display()
        ));
    } else if started.elapsed() > Duration::from_secs(5) {
        s.notes.push(format!(
            "the edge answered again {:.0} s after this run's end",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(s)
}

/// The built Workers edge served by workerd from its own socket, through Miniflare
/// (`tests/miniflare/serve.mjs`), configured like the stack's: the bench's many-connections
/// target. Stopped when dropped (closing its input lets Miniflare stop workerd).
pub struct WorkerdEdge {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl WorkerdEdge {
    pub fn start(info: &StackInfo, log: &Path) -> Result<Self> {
        use std::io::{BufRead, BufReader};
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut child = miniflare::spawn(
            info,
            "serve.mjs",
            &[("PORT", &port.to_string())],
            fs::File::create(log)?.into(),
        )?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("serve.mjs stdout")?)
            .read_line(&mut line)
            .context("reading serve.mjs")?;
        let edge = Self {
            child,
            stdin,
            url: format!("http://127.0.0.1:{port}"),
        };
        if !line.starts_with("ready") {
            bail!(
                "workerd (Miniflare) did not start: {}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        Ok(edge)
    }
}

impl Drop for WorkerdEdge {
    fn drop(&mut self) {
        miniflare::stop(&mut self.child, self.stdin.take());
    }
}

/// Lines containing `needle` in `path` past byte `from` (what a run appended to a log).
fn count_in_log(path: &Path, from: u64, needle: &str) -> u64 {
    use std::io::{BufRead, BufReader, Seek, SeekFrom};
    let Ok(mut f) = fs::File::open(path) else {
        return 0;
    };
    if f.seek(SeekFrom::Start(from)).is_err() {
        return 0;
    }
    BufReader::new(f)
        .split(b'\n')
        .map_while(Result::ok)
        .filter(|line| line.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .count() as u64
}

/// Whether the clinic's page still answers on the Workers edge (within 10 s).
fn edge_answers(info: &StackInfo, fixture: &Fixture) -> bool {
    let Ok(host) = workers_host(info, &fixture.slug) else {
        return false;
    };
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .and_then(|c| {
            c.get(format!("{}/", info.workers_url))
                .header("host", host)
                .header("accept-language", PAGE_LANGUAGE)
                .send()
        })
        .is_ok_and(|r| r.status().as_u16() == 200)
}

/// Raises this process's soft open-files limit towards `wanted` (within the hard limit);
/// children started afterwards (oha, the stack's servers) inherit it. Returns the limit.
pub fn raise_open_files_limit(wanted: u64) -> Result<u64> {
    rlimit::increase_nofile_limit(wanted).context("raising the open-files limit")
}

/// The two sides of the batch comparison, measured in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub region: String,
    pub rounds: u32,
    /// PgBouncer's `default_pool_size`, the same as `regional-db`'s pool.
    pub pool_size: u64,
    pub regional_db: Scenario,
    pub pgbouncer: Scenario,
}

impl Comparison {
    fn ratio(&self, pick: fn(&Percentiles) -> f64) -> Option<f64> {
        let r = pick(self.regional_db.latency.as_ref()?);
        let b = pick(self.pgbouncer.latency.as_ref()?);
        (b > 0.0).then(|| r / b)
    }

    /// `regional-db` p50 / PgBouncer p50.
    pub fn ratio_p50(&self) -> Option<f64> {
        self.ratio(|p| p.p50)
    }

    /// `regional-db` p95 / PgBouncer p95.
    pub fn ratio_p95(&self) -> Option<f64> {
        self.ratio(|p| p.p95)
    }

    /// What `regional-db` adds per batch: the difference of the medians, in ms.
    pub fn added_ms_p50(&self) -> Option<f64> {
        Some(self.regional_db.latency?.p50 - self.pgbouncer.latency?.p50)
    }
}

/// `regional-db`'s pool size (`POOL_SIZE`, default 16): PgBouncer gets as many server
/// connections, so neither side queues where the other does not.
pub const POOL_SIZE: u64 = 16;

/// A PgBouncer (Debian's, [`tools::PGBOUNCER_BIN`]) in transaction mode in front of one
/// Postgres server, on a free port of 127.0.0.1. Stopped (and its files removed) on drop.
pub struct PgBouncer {
    child: Child,
    port: u16,
    dir: PathBuf,
    user: String,
    password: String,
    dbname: String,
    log: PathBuf,
}

impl PgBouncer {
    /// Starts PgBouncer for `database_url` (`postgres://user:password@host:port/db`) with
    /// `pool_size` server connections, logging to `log`. Clients log in with the same user
    /// and password (SCRAM), kept in a private `userlist.txt`.
    pub fn start(database_url: &str, pool_size: u64, log: &Path) -> Result<PgBouncer> {
        let target: tokio_postgres::Config = database_url
            .parse()
            .context("parsing the region's DATABASE_URL")?;
        let user = target
            .get_user()
            .context("DATABASE_URL has no user")?
            .to_owned();
        let password = String::from_utf8(
            target
                .get_password()
                .context("DATABASE_URL has no password")?
                .to_vec(),
        )?;
        let dbname = target
            .get_dbname()
            .context("DATABASE_URL has no database")?
            .to_owned();
        let pg_port = *target.get_ports().first().unwrap_or(&5432);
        let port = free_port()?;
        // PgBouncer refuses to run as root: then it runs as the Postgres server's user, from
        // a directory that user can read wherever the repository is.
        let run_as = is_root().then_some(crate::pg::SUPERUSER);
        let dir = std::env::temp_dir().join(format!(
            "telemed-bench-pgbouncer-{}-{port}",
            std::process::id()
        ));
        fs::create_dir_all(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        let userlist = dir.join("userlist.txt");
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        fs::write(
            &userlist,
            format!("{} {}\n", quote(&user), quote(&password)),
        )?;
        crate::keys::set_private(&userlist)?;
        let ini = dir.join("pgbouncer.ini");
        fs::write(
            &ini,
            format!(
                "; Written by xtask::bench for one run; removed when it ends.\n\
                 [databases]\n\
                 {dbname} = host=127.0.0.1 port={pg_port} dbname={dbname}\n\
                 \n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {}\n\
                 pool_mode = transaction\n\
                 default_pool_size = {pool_size}\n\
                 min_pool_size = 0\n\
                 reserve_pool_size = 0\n\
                 max_client_conn = 2000\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 log_connections = 0\n\
                 log_disconnections = 0\n",
                userlist.display()
            ),
        )?;
        if let Some(user) = run_as {
            let uid = user_id(user)?;
            for p in [&dir, &userlist, &ini] {
                std::os::unix::fs::chown(p, Some(uid), None)
                    .with_context(|| format!("chown {}", p.display()))?;
            }
        }
        let mut cmd = match run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", tools::PGBOUNCER_BIN]);
                c
            }
            None => Command::new(tools::PGBOUNCER_BIN),
        };
        cmd.arg(&ini);
        if let Some(parent) = log.parent() {
            fs::create_dir_all(parent)?;
        }
        let log_file = fs::File::create(log)?;
        let child = {
            use std::os::unix::process::CommandExt;
            cmd.stdin(Stdio::null())
                .stdout(log_file.try_clone()?)
                .stderr(log_file)
                .current_dir("/")
                .process_group(0)
                .spawn()
                .with_context(|| format!("starting {}", tools::PGBOUNCER_BIN))?
        };
        let mut bouncer = PgBouncer {
            child,
            port,
            dir,
            user,
            password,
            dbname,
            log: log.to_owned(),
        };
        bouncer.wait_listening(Duration::from_secs(15))?;
        Ok(bouncer)
    }

    fn wait_listening(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!(
                    "PgBouncer exited ({status}); log:\n{}",
                    fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "PgBouncer did not listen on 127.0.0.1:{} within {timeout:?}; log:\n{}",
            self.port,
            fs::read_to_string(&self.log).unwrap_or_default()
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A client configuration for this PgBouncer (holds the password: never print it).
    pub fn client_config(&self) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host("127.0.0.1")
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.dbname)
            .application_name("xtask-bench")
            .connect_timeout(Duration::from_secs(10));
        c
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        stack::stop_process_group(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    command_line("id", &["-u"]).as_deref() == Some("0")
}

fn user_id(user: &str) -> Result<u32> {
    command_line("id", &["-u", user])
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("no {user} user"))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

const BENCH_ACTOR: &str = "xtask-bench";

/// A batch of one `patient.read` as `regional-db` runs it (`regional_db::db::run_batch`):
/// `BEGIN`, the clinic's schema pinned, the statement, its audit events, `COMMIT` — the SQL
/// of [`catalog::envelope`] and of the catalog, which `regional-db` runs too. Sent as
/// unnamed statements (PgBouncer 1.18 in transaction mode cannot keep named ones); `BEGIN`
/// and `COMMIT` go as simple queries, as tokio-postgres sends them for `regional-db` too.
/// Public for `regional-db`'s tests, which check it against `POST /v1/batch`.
pub struct ReadBatch {
    search_path: String,
    read: &'static catalog::Statement,
    read_sql: String,
    audit: catalog::Audit,
    actor: String,
}

impl ReadBatch {
    /// The batch for `slug`'s clinic, audited as done by `actor`.
    pub fn new(slug: &TenantSlug, actor: &str) -> Self {
        let read = catalog::lookup(names::PATIENT_READ).expect("patient.read is in the catalog");
        Self {
            search_path: envelope::search_path_for(slug),
            read,
            read_sql: envelope::json_rows(read.sql),
            audit: read.audit.expect("patient.read is audited"),
            actor: actor.to_owned(),
        }
    }

    /// Runs it on `client` for the patient `id`: the rows, as JSON objects.
    pub async fn run(&self, client: &tokio_postgres::Client, id: uuid::Uuid) -> Result<Vec<Value>> {
        use tokio_postgres::types::Type;
        client.batch_execute("BEGIN").await?;
        let ran = async {
            client
                .query_typed(envelope::PIN_SCHEMA_SQL, &[(&self.search_path, Type::TEXT)])
                .await?;
            let rows: Vec<Value> = client
                .query_typed(&self.read_sql, &[(&id, Type::UUID)])
                .await?
                .iter()
                .map(|r| r.try_get::<_, Value>(0))
                .collect::<Result<_, _>>()?;
            let mut ids: Vec<Option<String>> = rows
                .iter()
                .map(|r| r["id"].as_str().map(str::to_owned))
                .collect();
            // As `regional-db`: a read that found nothing is audited all the same.
            if ids.is_empty() {
                ids.push(None);
            }
            client
                .query_typed(
                    envelope::AUDIT_SQL,
                    &[
                        (&self.actor, Type::TEXT),
                        (&self.audit.action, Type::TEXT),
                        (&self.read.name, Type::TEXT),
                        (&self.audit.resource_type, Type::TEXT),
                        (&ids, Type::TEXT_ARRAY),
                        // As regional-db: the edge the token names (none here), and the
                        // outcome of a batch that commits.
                        (&None::<String>, Type::TEXT),
                        (&"ok", Type::TEXT),
                    ],
                )
                .await?;
            Ok::<_, anyhow::Error>(rows)
        }
        .await;
        match ran {
            Ok(rows) => {
                client.batch_execute("COMMIT").await?;
                Ok(rows)
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Err(e)
            }
        }
    }
}

/// What one round of one side measured.
#[derive(Default)]
struct Samples {
    durations: Vec<Duration>,
    errors: BTreeMap<String, u64>,
    wall: Duration,
}

impl Samples {
    fn absorb(&mut self, other: Samples) {
        self.durations.extend(other.durations);
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        self.wall += other.wall;
    }

    fn into_scenario(mut self, name: &str, concurrency: u64) -> Scenario {
        let errors: u64 = self.errors.values().sum();
        let requests = self.durations.len() as u64 + errors;
        Scenario {
            name: name.to_owned(),
            requests,
            answered: self.durations.len() as u64,
            concurrency,
            latency: percentiles(&mut self.durations),
            requests_per_sec: if self.wall.is_zero() {
                0.0
            } else {
                requests as f64 / self.wall.as_secs_f64()
            },
            errors,
            error_kinds: self.errors,
            notes: Vec::new(),
            stress: false,
        }
    }
}

/// An error message, shortened to a stable kind for counting.
fn error_kind(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    s.chars().take(120).collect()
}

/// `count` requests of `one` by `concurrency` workers; `one(worker)` returns the request's
/// duration (timed by itself, so set-up such as token signing stays out) or an error.
async fn measure<F, Fut>(count: u64, concurrency: u64, one: F) -> Samples
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Duration>> + Send + 'static,
{
    let one = Arc::new(one);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency as usize {
        let one = one.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            while next.fetch_add(1, Ordering::Relaxed) < count
                && !INTERRUPTED.load(Ordering::Relaxed)
            {
                match one(worker).await {
                    Ok(d) => s.durations.push(d),
                    Err(e) => *s.errors.entry(error_kind(&format!("{e:#}"))).or_default() += 1,
                }
            }
            s
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        match t.await {
            Ok(s) => all.absorb(s),
            Err(e) => *all.errors.entry(error_kind(&e)).or_default() += 1,
        }
    }
    all.wall = started.elapsed();
    all
}

/// The `regional-db` side: `POST /v1/batch` with `patient.read`, a fresh edge token each.
struct RegionSide {
    client: reqwest::Client,
    url: String,
    edge_key: SigningKey,
    slug: TenantSlug,
    body: Vec<u8>,
}

impl RegionSide {
    async fn one(&self) -> Result<Duration> {
        let token = self
            .edge_key
            .sign_edge(
                EdgeClaims {
                    tenant: Some(self.slug.clone()),
                    actor: Some(BENCH_ACTOR.to_owned()),
                    ..Default::default()
                },
                now_secs()?,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        let r = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .header(CATALOG_HEADER, catalog::version())
            .header("content-type", "application/json")
            .body(self.body.clone())
            .send()
            .await?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await?;
        if status != 200 {
            bail!("HTTP {status}");
        }
        let answer: BatchResponse = serde_json::from_slice(&bytes)?;
        let took = started.elapsed();
        match answer.results.first().map(|r| r.rows.len()) {
            Some(1) => Ok(took),
            other => bail!("patient.read returned {other:?} rows"),
        }
    }
}

/// The PgBouncer side: one tokio-postgres connection per worker, made before timing (as
/// `regional-db`'s keep-alive connections are).
struct BouncerSide {
    clients: Vec<tokio_postgres::Client>,
    batch: ReadBatch,
    patient_id: uuid::Uuid,
}

impl BouncerSide {
    async fn one(&self, worker: usize) -> Result<Duration> {
        let started = Instant::now();
        let rows = self
            .batch
            .run(&self.clients[worker], self.patient_id)
            .await?;
        let took = started.elapsed();
        if rows.len() != 1 {
            bail!("patient.read returned {} rows", rows.len());
        }
        Ok(took)
    }
}

/// `regional-db` against PgBouncer (transaction mode) on the fixture's home region, which
/// must have no replica (both sides then reach the same server): `load.requests` batches
/// each, `load.concurrency` at once, interleaved in rounds (A B B A …) after a warm-up that
/// is not counted. PgBouncer is started here and stopped before this returns.
pub fn pgbouncer_comparison(info: &StackInfo, fixture: &Fixture, load: Load) -> Result<Comparison> {
    check_interrupted()?;
    let region = info
        .region(&fixture.region)
        .with_context(|| format!("no region {} in the stack", fixture.region))?;
    if region.replica_database_url.is_some() {
        bail!(
            "region {} has a replica: regional-db would read there and PgBouncer from the \
             primary; compare in a region without one",
            region.id
        );
    }
    let log = info.logs_dir.join("bench-pgbouncer.log");
    let bouncer = PgBouncer::start(&region.database_url, POOL_SIZE, &log)?;
    eprintln!(
        "bench: regional-db vs PgBouncer (127.0.0.1:{}, transaction mode) in {} — {} batches \
         each, {} at once",
        bouncer.port(),
        region.id,
        load.requests,
        load.concurrency
    );
    let slug: TenantSlug = fixture.slug.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let body = serde_json::to_vec(&serde_json::json!({
        "statements": [{"name": names::PATIENT_READ, "params": [&fixture.patient_id]}]
    }))?;
    let concurrency = load.concurrency.max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (region_samples, bouncer_samples, rounds) = rt.block_on(async {
        let region_side = Arc::new(RegionSide {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(concurrency as usize)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(30))
                .build()?,
            url: format!("{}{BATCH_PATH}", region.url),
            edge_key: SigningKey::from_base64(&info.keys()?.edge)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            slug: slug.clone(),
            body,
        });
        let mut clients = Vec::new();
        for _ in 0..concurrency {
            let (client, conn) = bouncer
                .client_config()
                .connect(tokio_postgres::NoTls)
                .await
                .with_context(|| format!("connecting to PgBouncer (log: {})", log.display()))?;
            tokio::spawn(conn);
            clients.push(client);
        }
        let bouncer_side = Arc::new(BouncerSide {
            clients,
            batch: ReadBatch::new(&slug, BENCH_ACTOR),
            patient_id: fixture.patient_id.parse()?,
        });
        let region_run = |n: u64| {
            let side = region_side.clone();
            measure(n, concurrency, move |_| {
                let side = side.clone();
                async move { side.one().await }
            })
        };
        let bouncer_run = |n: u64| {
            let side = bouncer_side.clone();
            measure(n, concurrency, move |w| {
                let side = side.clone();
                async move { side.one(w).await }
            })
        };
        // Warm-up: connections, regional-db's statement cache and directory entry.
        let warm = (load.requests / 10).clamp(concurrency, 200);
        for (what, s) in [
            ("regional-db", region_run(warm).await),
            ("PgBouncer", bouncer_run(warm).await),
        ] {
            if !s.errors.is_empty() {
                bail!("the {what} warm-up failed: {:?}", s.errors);
            }
        }
        // Rounds of at least `concurrency` requests, alternating which side goes first.
        let rounds = (load.requests / concurrency).clamp(1, 4) as u32;
        let mut regional = Samples::default();
        let mut bounced = Samples::default();
        for round in 0..rounds {
            let n = load.requests / u64::from(rounds)
                + u64::from(u64::from(round) < load.requests % u64::from(rounds));
            if round % 2 == 0 {
                regional.absorb(region_run(n).await);
                bounced.absorb(bouncer_run(n).await);
            } else {
                bounced.absorb(bouncer_run(n).await);
                regional.absorb(region_run(n).await);
            }
            check_interrupted()?;
        }
        Ok::<_, anyhow::Error>((regional, bounced, rounds))
    })?;
    drop(rt);
    drop(bouncer);
    Ok(Comparison {
        region: region.id.clone(),
        rounds,
        pool_size: POOL_SIZE,
        regional_db: region_samples.into_scenario(
            "regional-db `POST /v1/batch` (HTTP/1.1 keep-alive)",
            concurrency,
        ),
        pgbouncer: bouncer_samples.into_scenario(
            "PgBouncer, transaction mode (tokio-postgres, unnamed statements)",
            concurrency,
        ),
    })
}

/// Where and how a run happened.
#[derive(Debug, Clone)]
pub struct Machine {
    pub date: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub load_average: String,
    /// Which build of `regional-db` and the edges ran.
    pub build: String,
    pub stack: String,
    pub tools: String,
    pub commit: String,
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(crate::workspace_root())
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    out.status
        .success()
        .then(|| text.lines().next().unwrap_or("").trim().to_owned())
}

impl Machine {
    /// This machine now, running `info`.
    pub fn describe(info: &StackInfo) -> Machine {
        let cpu_model = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let load_average = fs::read_to_string("/proc/loadavg")
            .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".to_owned());
        let profile = info
            .regional_db_bin
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let dirty = command_line("git", &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|first| !first.is_empty());
        let commit = command_line("git", &["rev-parse", "--short", "HEAD"])
            .map(|c| {
                if dirty {
                    format!("{c} + uncommitted changes")
                } else {
                    c
                }
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let oha = command_line(&tools::oha_bin().to_string_lossy(), &["--version"])
            .unwrap_or_else(|| "oha ?".to_owned());
        let pgbouncer = command_line(tools::PGBOUNCER_BIN, &["--version"])
            .unwrap_or_else(|| "PgBouncer ?".to_owned());
        Machine {
            date: command_line("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"])
                .unwrap_or_else(|| format!("{} s since the epoch", now_secs().unwrap_or(0))),
            cpus: thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            load_average,
            build: format!(
                "regional-db: {profile} profile ({}); edges: release builds (worker-build \
                 --release, wasm32-wasip2 release)",
                info.regional_db_bin.display()
            ),
            stack: format!(
                "Workers edge (workerd via `wrangler dev`) at {}, and from workerd's own socket \
                 (Miniflare) for the many-connections run; one `regional-db` and one \
                 Postgres per region, all on this machine over loopback",
                info.workers_url
            ),
            tools: format!("{oha}, {pgbouncer}"),
            commit,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Report {
    pub machine: Machine,
    pub fixture_slug: String,
    /// Through the Workers edge, in order: page, API read, API write, booking, booking race,
    /// Observation ingestion, concurrent connections.
    pub edge: Vec<Scenario>,
    /// The booking race's 201s and 409s (its latency is a row of `edge`).
    pub race: RaceOutcome,
    pub comparison: Comparison,
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

fn errors_cell(s: &Scenario) -> String {
    if s.errors == 0 {
        "0".to_owned()
    } else {
        format!("{} ({:.2}%)", thousands(s.errors), 100.0 * s.error_rate())
    }
}

fn row(s: &Scenario) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {:.0} | {} |\n",
        s.name,
        thousands(s.requests),
        thousands(s.concurrency),
        ms(s.latency.map(|l| l.p50)),
        ms(s.latency.map(|l| l.p95)),
        ms(s.latency.map(|l| l.p99)),
        s.requests_per_sec,
        errors_cell(s)
    )
}

const TABLE_HEAD: &str = "| scenario | requests | concurrency | p50 ms | p95 ms | p99 ms | req/s | errors |\n\
                          |---|---:|---:|---:|---:|---:|---:|---:|\n";

fn notes(out: &mut String, scenarios: &[&Scenario]) {
    for s in scenarios {
        if s.answered < s.requests && s.latency.is_some() {
            let _ = writeln!(
                out,
                "- {}: latencies are over the {} requests that got an answer, of {}.",
                s.name,
                thousands(s.answered),
                thousands(s.requests)
            );
        }
        for n in &s.notes {
            let _ = writeln!(out, "- {}: {n}.", s.name);
        }
        if !s.error_kinds.is_empty() {
            let kinds: Vec<String> = s
                .error_kinds
                .iter()
                .map(|(k, n)| format!("{} × {k}", thousands(*n)))
                .collect();
            let _ = writeln!(out, "- {} errors: {}.", s.name, kinds.join("; "));
        }
    }
}

impl Report {
    pub fn scenarios(&self) -> Vec<&Scenario> {
        self.edge
            .iter()
            .chain([&self.comparison.regional_db, &self.comparison.pgbouncer])
            .collect()
    }

    /// The booking race, unless it gave exactly one 201 per slot.
    fn race_failure(&self) -> Option<String> {
        self.race
            .problem()
            .map(|p| format!("BOOKING RACE WRONG: {p}"))
    }

    /// Loud lines for the scenarios that are not stress scenarios and where every request
    /// failed (the bench measured nothing of the platform there), and for a booking race
    /// without exactly one winner per slot: the bench fails.
    pub fn fatal_failures(&self) -> Vec<String> {
        self.scenarios()
            .into_iter()
            .filter(|s| s.all_failed() && !s.stress)
            .map(|s| format!("every request failed in \"{}\"", s.name))
            .chain(self.race_failure())
            .collect()
    }

    /// Loud lines for scenarios where every request failed.
    pub fn failures(&self) -> Vec<String> {
        self.scenarios()
            .into_iter()
            .filter(|s| s.all_failed())
            .map(|s| {
                format!(
                    "EVERY REQUEST FAILED in \"{}\" ({} of {}): its numbers measure failures, \
                     not the platform",
                    s.name,
                    thousands(s.errors),
                    thousands(s.requests)
                )
            })
            .chain(self.race_failure())
            .collect()
    }

    pub fn to_markdown(&self) -> String {
        let m = &self.machine;
        let c = &self.comparison;
        let mut out = String::from("# Telemed Edge benchmark (`cargo xtask bench`)\n\n");
        for f in self.failures() {
            let _ = writeln!(out, "**{f}.**\n");
        }
        let _ = writeln!(out, "- date: {}", m.date);
        let _ = writeln!(
            out,
            "- machine: {} CPUs ({}), load average at start {}",
            m.cpus, m.cpu_model, m.load_average
        );
        let _ = writeln!(out, "- build: {}", m.build);
        let _ = writeln!(out, "- stack: {}", m.stack);
        let _ = writeln!(out, "- tools: {}", m.tools);
        let _ = writeln!(out, "- commit: {}", m.commit);
        let _ = writeln!(
            out,
            "- clinic: `{}` (homed in {}, a region without a replica)",
            self.fixture_slug, c.region
        );
        let _ = writeln!(
            out,
            "\nThe load generators share the machine with everything they measure: numbers \
             are comparable between runs on one machine, not a capacity plan.\n"
        );
        out.push_str("## Through the Workers edge\n\n");
        out.push_str(TABLE_HEAD);
        for s in &self.edge {
            out.push_str(&row(s));
        }
        out.push('\n');
        notes(&mut out, &self.edge.iter().collect::<Vec<_>>());
        // The batch as both sides run it (the SQL of `catalog::envelope`).
        let pin = envelope::PIN_SCHEMA_SQL.replace("$1", "<clinic schema>");
        let read = envelope::json_rows("<catalog patient.read>");
        let audit = envelope::AUDIT_SQL.split(" (").next().unwrap_or_default();
        let _ = write!(
            out,
            "\n## regional-db against PgBouncer, same statements\n\n\
             One batch = `BEGIN; {pin}; {read}; {audit} …; COMMIT` on {}'s primary: through \
             `regional-db` (edge token, catalog version, JSON) and through PgBouncer in \
             transaction mode ({} server connections, as `regional-db`'s pool) from a native \
             tokio-postgres client. Same concurrency and count, interleaved in {} rounds after \
             an uncounted warm-up; latency as the client sees it.\n\n",
            c.region, c.pool_size, c.rounds
        );
        out.push_str(
            &TABLE_HEAD
                .replacen("scenario", "path", 1)
                .replacen("requests", "batches", 1)
                .replacen("req/s", "batches/s", 1),
        );
        out.push_str(&row(&c.regional_db));
        out.push_str(&row(&c.pgbouncer));
        let ratio = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"));
        let _ = write!(
            out,
            "\n| regional-db / PgBouncer | p50 | p95 |\n|---|---:|---:|\n| latency ratio | {} | {} |\n\n\
             Added latency per batch (p50 difference): **{} ms**.\n",
            ratio(c.ratio_p50()),
            ratio(c.ratio_p95()),
            ms(c.added_ms_p50())
        );
        let mut comparison_notes = String::new();
        notes(&mut comparison_notes, &[&c.regional_db, &c.pgbouncer]);
        if !comparison_notes.is_empty() {
            out.push('\n');
            out.push_str(&comparison_notes);
        }
        out
    }

    /// Writes the Markdown to `path` (creating its folder).
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, self.to_markdown()).with_context(|| format!("writing {}", path.display()))
    }
}

/// Every measurement against a running stack, for clinic `fixture` (see [`Fixture::prepare`]).
/// The closed-loop connections scenario runs last: it is the one most likely to disturb
/// (or stop) the edge.
pub fn run(info: &StackInfo, fixture: &Fixture, counts: &Counts) -> Result<Report> {
    let machine = Machine::describe(info);
    let page = edge_page(info, fixture, counts.page)?;
    let read = edge_api_read(info, fixture, counts.api_read)?;
    let write = edge_api_write(info, fixture, counts.api_write)?;
    let app_token = edge_app_token(info, fixture, counts.app_token)?;
    let booking = edge_booking(info, fixture, counts.booking)?;
    let (race_row, race) = edge_booking_race(info, fixture, counts.race)?;
    let ingestion = edge_ingestion(info, fixture, counts.ingestion)?;
    let comparison = pgbouncer_comparison(info, fixture, counts.batch)?;
    let connections = edge_connections(info, fixture, counts.connections)?;
    Ok(Report {
        machine,
        fixture_slug: fixture.slug.clone(),
        edge: vec![
            page,
            read,
            write,
            app_token,
            booking,
            race_row,
            ingestion,
            connections,
        ],
        race,
        comparison,
    })
}

/// The clinic of the `bench` stack (kept between runs, like the stack's databases).
pub const BENCH_CLINIC: &str = "bench-us";

/// Starts the `bench` stack ([`stack::BENCH`]: its own ports, `regional-db` from
/// `target/release`) with `spin_wasm` as the Spin edge, runs [`run`], and stops the stack.
/// The caller builds everything first.
pub fn run_own_stack(spin_wasm: &Path, counts: &Counts) -> Result<Report> {
    // Before the stack starts: workerd inherits the limit, and must hold every connection.
    let limit = raise_open_files_limit(counts.connections.concurrency + 4096)?;
    eprintln!("bench: open-files limit {limit}");
    let running = stack::Stack::start(stack::BENCH, spin_wasm, false)?;
    check_interrupted()?;
    ensure_clinic(&running.info, BENCH_CLINIC)?;
    let fixture = Fixture::prepare(&running.info, BENCH_CLINIC)?;
    let report = run(&running.info, &fixture, counts);
    drop(running);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[d(7)], 50.0), Some(d(7)));
        assert_eq!(percentile(&[d(7)], 99.0), Some(d(7)));
        let sorted: Vec<Duration> = (1..=100).map(d).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(d(50)));
        assert_eq!(percentile(&sorted, 95.0), Some(d(95)));
        assert_eq!(percentile(&sorted, 99.0), Some(d(99)));
        assert_eq!(percentile(&sorted, 100.0), Some(d(100)));
        assert_eq!(percentile(&sorted, 0.0), Some(d(1)), "clamped to the first");
        let ten: Vec<Duration> = (1..=10).map(d).collect();
        assert_eq!(percentile(&ten, 95.0), Some(d(10)));
        assert_eq!(percentile(&ten, 50.0), Some(d(5)));
    }

    #[test]
    fn percentiles_sort_and_are_ordered() {
        let mut samples = vec![d(30), d(10), d(20), d(50), d(40)];
        let p = percentiles(&mut samples).unwrap();
        assert_eq!(samples[0], d(10), "sorted in place");
        assert_eq!((p.p50, p.p95, p.p99), (30.0, 50.0, 50.0));
        assert!(percentiles(&mut []).is_none());
    }

    const OHA_OK: &str = r#"{
      "summary": {"successRate": 1.0, "total": 0.02, "requestsPerSec": 878.9},
      "latencyPercentiles": {"p10": 0.0012, "p50": 0.0022, "p95": 0.0044, "p99": 0.0046},
      "statusCodeDistribution": {"200": 18, "503": 2},
      "errorDistribution": {"connection timed out": 5}
    }"#;

    const OHA_NOTHING: &str = r#"{
      "summary": {"successRate": 0.0, "total": 0.0006, "requestsPerSec": 7953.4},
      "latencyPercentiles": {"p50": null, "p95": null, "p99": null},
      "statusCodeDistribution": {},
      "errorDistribution": {"Connection refused (os error 111)": 5}
    }"#;

    #[test]
    fn oha_json_becomes_a_scenario() {
        let s = scenario_from_oha("page", load(25, 4), OHA_OK, 200).unwrap();
        assert_eq!(s.requests, 25);
        assert_eq!(s.concurrency, 4);
        assert_eq!(s.errors, 7, "two 503s and five timeouts");
        assert_eq!(s.error_kinds["HTTP 503"], 2);
        assert_eq!(s.error_kinds["connection timed out"], 5);
        let l = s.latency.unwrap();
        assert!((l.p50 - 2.2).abs() < 1e-9 && (l.p95 - 4.4).abs() < 1e-9);
        assert!((l.p99 - 4.6).abs() < 1e-9);
        assert!((s.requests_per_sec - 878.9).abs() < 1e-9);
        assert!(!s.all_failed());
        assert!((s.error_rate() - 7.0 / 25.0).abs() < 1e-12);

        let created = scenario_from_oha("write", load(20, 2), OHA_OK, 201).unwrap();
        assert_eq!(created.errors, 25, "a 200 is not the 201 a create answers");

        let none = scenario_from_oha("down", load(5, 1), OHA_NOTHING, 200).unwrap();
        assert_eq!((none.requests, none.errors), (5, 5));
        assert!(none.latency.is_none());
        assert!(none.all_failed());
        assert!(scenario_from_oha("x", load(1, 1), "not json", 200).is_err());
    }

    #[test]
    fn prometheus_series_are_summed_by_labels() {
        let text = "# HELP edge_request_duration_seconds x\n\
            edge_request_duration_seconds_count{cache=\"hit\",colo=\"DFW\",region=\"us-east\",route=\"page\"} 10\n\
            edge_request_duration_seconds_count{cache=\"hit\",colo=\"CDG\",region=\"us-east\",route=\"page\"} 5\n\
            edge_request_duration_seconds_count{cache=\"miss\",colo=\"DFW\",region=\"us-east\",route=\"page\"} 1\n\
            edge_request_duration_seconds_count{cache=\"none\",colo=\"DFW\",region=\"us-east\",route=\"api_patients\"} 7\n\
            edge_request_duration_seconds_count_extra{cache=\"hit\",route=\"page\"} 99\n";
        let hit = [("route", "page"), ("cache", "hit")];
        assert_eq!(
            metric_sum(text, "edge_request_duration_seconds_count", &hit),
            15
        );
        assert_eq!(
            metric_sum(
                text,
                "edge_request_duration_seconds_count",
                &[("route", "page"), ("cache", "miss")]
            ),
            1
        );
        assert_eq!(
            metric_sum(text, "edge_request_duration_seconds_count", &[]),
            23
        );
        assert!(hit_ratio_note((10, 1), (25, 1), 15).starts_with("edge cache hit ratio 100.0%"));
        assert!(hit_ratio_note((0, 0), (0, 0), 15).contains("unknown"));
    }

    fn scenario(name: &str, requests: u64, errors: u64, p: Option<(f64, f64, f64)>) -> Scenario {
        Scenario {
            name: name.to_owned(),
            requests,
            answered: requests - errors,
            concurrency: 16,
            latency: p.map(|(p50, p95, p99)| Percentiles { p50, p95, p99 }),
            requests_per_sec: 1234.4,
            errors,
            error_kinds: if errors > 0 {
                BTreeMap::from([("HTTP 503".to_owned(), errors)])
            } else {
                BTreeMap::new()
            },
            notes: Vec::new(),
            stress: false,
        }
    }

    fn report(edge: Vec<Scenario>) -> Report {
        Report {
            machine: Machine {
                date: "2025-01-01 00:00:00 UTC".into(),
                cpus: 2,
                cpu_model: "Test CPU".into(),
                load_average: "0.10 0.20 0.30".into(),
                build: "regional-db: release profile".into(),
                stack: "bench".into(),
                tools: "oha 1.16.0, PgBouncer 1.18.0".into(),
                commit: "abc1234".into(),
            },
            fixture_slug: "bench-us".into(),
            edge,
            race: won_race(),
            comparison: Comparison {
                region: "us-east".into(),
                rounds: 4,
                pool_size: 16,
                regional_db: scenario("regional-db", 4000, 0, Some((1.5, 3.0, 4.0))),
                pgbouncer: scenario("PgBouncer", 4000, 0, Some((1.0, 2.0, 3.0))),
            },
        }
    }

    fn won_race() -> RaceOutcome {
        RaceOutcome {
            slots: 10,
            clients: 50,
            won: 10,
            refused: 40,
            winners_per_slot: vec![1; 10],
        }
    }

    #[test]
    fn a_race_is_right_with_one_winner_per_slot_only() {
        let right = won_race();
        assert!(right.one_winner_per_slot());
        assert_eq!(right.problem(), None);
        assert_eq!(
            right.note(),
            "10 winners, 40 refused (409): exactly one 201 per slot, 5 clients on each of 10 slots"
        );

        let mut doubled = won_race();
        doubled.winners_per_slot[2] = 2;
        doubled.won = 11;
        doubled.refused = 39;
        assert!(!doubled.one_winner_per_slot());
        assert_eq!(
            doubled.problem().unwrap(),
            "11 winners, 39 refused (409), not one 201 per slot (slot 3: 2 winners)"
        );
        assert!(
            doubled
                .note()
                .starts_with("**11 winners, 39 refused (409), not one")
        );

        let mut lost = won_race();
        lost.winners_per_slot[0] = 0;
        lost.won = 9;
        lost.refused = 38;
        assert_eq!(
            lost.problem().unwrap(),
            "9 winners, 38 refused (409), not one 201 per slot (slot 1: 0 winners, 3 answers \
             neither 201 nor 409)"
        );

        let mut r = report(Vec::new());
        assert!(r.failures().is_empty() && r.fatal_failures().is_empty());
        r.race = doubled;
        assert_eq!(r.fatal_failures().len(), 1);
        let md = r.to_markdown();
        assert!(md.contains("**BOOKING RACE WRONG: 11 winners"), "{md}");
    }

    #[test]
    fn slots_fill_whole_days_from_the_first() {
        let p = slot_availability(4);
        let params = p["parameter"].as_array().unwrap();
        let value = |name: &str| {
            params
                .iter()
                .find(|x| x["name"] == name)
                .map(|x| {
                    x.as_object()
                        .unwrap()
                        .iter()
                        .find(|(k, _)| *k != "name")
                        .unwrap()
                        .1
                        .clone()
                })
                .unwrap()
        };
        assert_eq!(value("start"), "2027-01-04");
        assert_eq!(value("end"), "2027-01-07");
        assert_eq!(value("slotMinutes"), 5);
        assert_eq!(params.iter().filter(|x| x["name"] == "day").count(), 7);
        let last = slot_availability(DAYS_PER_SCHEDULE);
        assert!(last.to_string().contains("\"2027-01-31\""));
        assert_eq!(slot_availability(99), last, "at most DAYS_PER_SCHEDULE");
        assert_eq!(SLOTS_PER_DAY, 144);
    }

    #[test]
    fn ingestion_bundles_and_their_answers() {
        let body: Value = serde_json::from_str(&observation_bundle("p-1", "run-7", 3)).unwrap();
        assert_eq!(body["type"], "batch");
        let entries = body["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2]["resource"]["identifier"][0]["value"], "run-7-2");
        assert_eq!(
            entries[0]["resource"]["subject"]["reference"],
            "Patient/p-1"
        );
        assert_eq!(entries[0]["request"]["url"], "Observation");

        let answer = br#"{"resourceType":"Bundle","type":"batch-response","entry":[
            {"response":{"status":"201 Created"}},{"response":{"status":"201 Created"}},
            {"response":{"status":"409 Conflict"}},{"resource":{}}]}"#;
        let statuses = entry_statuses(answer).unwrap();
        assert_eq!(statuses["201 Created"], 2);
        assert_eq!(statuses["409 Conflict"], 1);
        assert_eq!(statuses["no status"], 1);
        assert!(entry_statuses(br#"{"resourceType":"OperationOutcome"}"#).is_err());
        assert!(entry_statuses(b"<html>").is_err());
    }

    #[test]
    fn comparison_ratios_and_added_latency() {
        let r = report(Vec::new());
        let c = &r.comparison;
        assert!((c.ratio_p50().unwrap() - 1.5).abs() < 1e-12);
        assert!((c.ratio_p95().unwrap() - 1.5).abs() < 1e-12);
        assert!((c.added_ms_p50().unwrap() - 0.5).abs() < 1e-12);
        let mut down = c.clone();
        down.pgbouncer.latency = None;
        assert_eq!(down.ratio_p50(), None);
        assert_eq!(down.added_ms_p50(), None);
    }

    #[test]
    fn the_markdown_report_has_every_row_and_says_when_all_failed() {
        let r = report(vec![
            scenario("cached page", 20_000, 0, Some((1.0, 2.0, 3.0))),
            scenario(
                "10,000 concurrent connections",
                20_000,
                150,
                Some((10.0, 200.0, 900.0)),
            ),
        ]);
        let md = r.to_markdown();
        assert!(md.contains(
            "| scenario | requests | concurrency | p50 ms | p95 ms | p99 ms | req/s | errors |"
        ));
        assert!(
            md.contains("| cached page | 20,000 | 16 | 1.00 | 2.00 | 3.00 | 1234 | 0 |"),
            "{md}"
        );
        assert!(md.contains("| 150 (0.75%) |"), "{md}");
        assert!(md.contains("| latency ratio | 1.50× | 1.50× |"), "{md}");
        assert!(md.contains("**0.50 ms**"), "{md}");
        assert!(md.contains("2 CPUs (Test CPU)"));
        assert!(md.contains("150 × HTTP 503"));
        assert!(r.failures().is_empty());
        assert!(!md.contains("EVERY REQUEST FAILED"));

        assert!(
            md.contains("latencies are over the 19,850 requests that got an answer, of 20,000")
        );

        let r = report(vec![scenario("cached page", 100, 100, None)]);
        let md = r.to_markdown();
        assert_eq!(r.failures().len(), 1);
        assert_eq!(
            r.fatal_failures().len(),
            1,
            "a baseline scenario measured nothing"
        );
        assert!(
            md.contains("**EVERY REQUEST FAILED in \"cached page\""),
            "{md}"
        );
        assert!(
            md.contains("| cached page | 100 | 16 | – | – | – |"),
            "{md}"
        );
    }

    #[test]
    fn a_stress_scenario_that_fails_entirely_is_loud_but_not_fatal() {
        let mut stress = scenario("10,000 concurrent connections", 20_000, 20_000, None);
        stress.stress = true;
        let r = report(vec![
            scenario("cached page", 100, 0, Some((1.0, 1.0, 1.0))),
            stress,
        ]);
        assert_eq!(r.failures().len(), 1);
        assert!(r.fatal_failures().is_empty());
        assert!(
            r.to_markdown()
                .contains("**EVERY REQUEST FAILED in \"10,000 concurrent")
        );
    }

    #[test]
    fn log_lines_are_counted_from_an_offset() {
        let path = std::env::temp_dir().join(format!("xtask-bench-log-{}", std::process::id()));
        fs::write(&path, "old: Too many open files\nfine\n").unwrap();
        let from = fs::metadata(&path).unwrap().len();
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(
            &mut f,
            b"e = overloaded: Too many open files\nok\nagain Too many open files\n",
        )
        .unwrap();
        assert_eq!(count_in_log(&path, from, "Too many open files"), 2);
        assert_eq!(count_in_log(&path, 0, "Too many open files"), 3);
        assert_eq!(count_in_log(&path.with_extension("missing"), 0, "x"), 0);
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn counts_grow_from_smoke_to_full() {
        assert_eq!(Counts::FULL.connections.concurrency, 10_000);
        let loads = |c: Counts| {
            [
                c.page,
                c.api_read,
                c.api_write,
                c.booking,
                c.ingestion,
                c.batch,
                c.connections,
            ]
        };
        for c in [Counts::FULL, Counts::QUICK, Counts::SMOKE] {
            for l in loads(c) {
                assert!(l.requests >= l.concurrency, "{l:?}");
                assert!(l.concurrency > 0);
            }
            // A correctness figure: the same race everywhere, the same clients per slot.
            assert_eq!(c.race, RACE);
        }
        // What the name says: no scenario shrinks from SMOKE to QUICK to FULL.
        for (smaller, larger) in [
            (Counts::SMOKE, Counts::QUICK),
            (Counts::QUICK, Counts::FULL),
        ] {
            for (s, l) in loads(smaller).into_iter().zip(loads(larger)) {
                assert!(
                    s.requests <= l.requests && s.concurrency <= l.concurrency,
                    "{s:?} then {l:?}"
                );
            }
        }
    }
}
