//! Prometheus metrics of one instance (its own registry, so several instances can share a
//! process in tests).
//!
//! `regional_batch_requests_total{origin="edge"|"forwarded"}` and
//! `regional_directory_requests_total` count requests as received: the end-to-end tests read
//! them to prove that a page costs one edge→region call. Keep their names and labels.
//! Timing beacons of the edges (`POST /v1/edge-timings`) are counted in neither: they have
//! their own series, `edge_request_duration_seconds` and `edge_responses_total`.
//!
//! What the dashboards and alerts of `infra/` query (a test checks each name is here):
//! - `regional_request_duration_seconds{route,outcome}`, `regional_statement_duration_seconds{statement,outcome}`
//! - `regional_errors_total{code}` (wire error codes)
//! - `regional_pool_{size,in_use,idle,waiting,max_size}{pool}`, read at scrape time
//! - `regional_tenants{country}`: active clinics homed here, refreshed periodically
//! - `regional_replica_lag_seconds`: sampled from the replica (0 when there is none)
//! - `regional_reads_total{target}`: read-only batches by the server that ran them
//!   (`primary`|`replica`), and `regional_replica_fallbacks_total{reason}`: reads meant for
//!   the replica that the primary served (`lagging`: the caller's write not replayed yet;
//!   `missed`: a look-up by id the replica did not have, maybe not replayed yet;
//!   `unhealthy`: the replica is marked down; `error`: the replica failed this read)
//! - `regional_jobs_total{job,outcome}`: jobs the edge asked of this instance (`rates`, its
//!   cron trigger), `ok` or `failed`
//! - `regional_webhook_deliveries_total{outcome}`: webhook delivery attempts this instance
//!   made (`delivered`, `retried`, `failed`: the last attempt failed, `disabled`: the
//!   receiver answered 410 Gone)
//! - `regional_sign_ins_total{outcome}`: people's sign-ins (`POST /v1/sign-in`) this
//!   instance decided, `ok`, `refused` (wrong password, unknown email, disabled account)
//!   or `locked` (throttled); a rise of `refused` and `locked` is password guessing
//! - `regional_oauth_requests_total{endpoint,outcome}`: apps' token, introspection and
//!   revocation requests answered here, `ok` or the RFC 6749 error code (`invalid_client`
//!   rising: a client misconfigured, or someone guessing)
//! - `regional_audit_spooled_events`: audit events of replica reads waiting in the local
//!   spool for the primary to come back, and `regional_directory_fallbacks_total{source}`:
//!   directory look-ups the primary could not answer (`cache`: a stale entry served;
//!   `replica`: read from the replica)
//! - `edge_request_duration_seconds{region,colo,route,cache}`, `edge_responses_total{region,route,status_class}`

use std::{collections::BTreeMap, sync::Mutex};

use deadpool_postgres::Pool;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use telemed_shared::dataplane::wire::{EdgeTiming, ErrorCode};

pub struct Metrics {
    registry: Registry,
    pub batches: IntCounterVec,
    pub directory: IntCounter,
    pub request_duration: HistogramVec,
    pub statement_duration: HistogramVec,
    pub errors: IntCounterVec,
    pool_size: IntGaugeVec,
    pool_max_size: IntGaugeVec,
    pool_in_use: IntGaugeVec,
    pool_idle: IntGaugeVec,
    pool_waiting: IntGaugeVec,
    tenants: IntGaugeVec,
    /// Countries ever exported, so that one whose last clinic left drops to 0.
    tenant_countries: Mutex<BTreeMap<String, ()>>,
    pub replica_lag: Gauge,
    pub reads: IntCounterVec,
    pub replica_fallbacks: IntCounterVec,
    pub audit_spooled: IntGauge,
    pub directory_fallbacks: IntCounterVec,
    pub jobs: IntCounterVec,
    pub webhook_deliveries: IntCounterVec,
    pub sign_ins: IntCounterVec,
    pub oauth_requests: IntCounterVec,
    edge_duration: HistogramVec,
    edge_responses: IntCounterVec,
}

/// Latency buckets from 1 ms to 5 s: a batch on a warm connection is a few milliseconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Edge latency buckets around the 100 ms budget (DESIGN.md: one round trip at most).
const EDGE_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0,
];

impl Metrics {
    /// `replica`: whether a replica is configured (the lag's help says so when not).
    pub fn new(replica: bool) -> Self {
        let registry = Registry::new();
        let batches = IntCounterVec::new(
            Opts::new(
                "regional_batch_requests_total",
                "Batch requests received, by origin (edge or a forwarding region).",
            ),
            &["origin"],
        )
        .expect("valid metric");
        let directory = IntCounter::new(
            "regional_directory_requests_total",
            "Directory requests received.",
        )
        .expect("valid metric");
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "regional_request_duration_seconds",
                "Request duration, by route and outcome.",
            )
            .buckets(BUCKETS.to_vec()),
            &["route", "outcome"],
        )
        .expect("valid metric");
        let statement_duration = HistogramVec::new(
            HistogramOpts::new(
                "regional_statement_duration_seconds",
                "Statement duration, by catalog name and outcome.",
            )
            .buckets(BUCKETS.to_vec()),
            &["statement", "outcome"],
        )
        .expect("valid metric");
        let errors = IntCounterVec::new(
            Opts::new("regional_errors_total", "Error responses, by error code."),
            &["code"],
        )
        .expect("valid metric");
        let gauge = |name: &str, help: &str| {
            IntGaugeVec::new(Opts::new(name, help), &["pool"]).expect("valid metric")
        };
        let pool_size = gauge("regional_pool_size", "Open connections of a pool.");
        let pool_in_use = gauge("regional_pool_in_use", "Connections checked out of a pool.");
        let pool_waiting = gauge(
            "regional_pool_waiting",
            "Requests waiting for a connection.",
        );
        let pool_idle = gauge(
            "regional_pool_idle",
            "Open connections of a pool not checked out.",
        );
        let pool_max_size = gauge(
            "regional_pool_max_size",
            "The most connections a pool opens (in_use / max_size is its saturation).",
        );
        let tenants = IntGaugeVec::new(
            Opts::new(
                "regional_tenants",
                "Active clinics homed in this region, by country (refreshed every 30 s).",
            ),
            &["country"],
        )
        .expect("valid metric");
        let replica_lag = Gauge::new(
            "regional_replica_lag_seconds",
            if replica {
                "Replay lag of this region's replica (0 when fully replayed; +Inf when it cannot be queried)."
            } else {
                "Replay lag of this region's replica. No replica is configured (REPLICA_DATABASE_URL): always 0."
            },
        )
        .expect("valid metric");
        let edge_duration = HistogramVec::new(
            HistogramOpts::new(
                "edge_request_duration_seconds",
                "Edge response time as the edges report it to their nearest region (this one), by colo, route and edge cache outcome.",
            )
            .buckets(EDGE_BUCKETS.to_vec()),
            &["region", "colo", "route", "cache"],
        )
        .expect("valid metric");
        let edge_responses = IntCounterVec::new(
            Opts::new(
                "edge_responses_total",
                "Edge responses reported to this region, by route and status class (2xx…5xx).",
            ),
            &["region", "route", "status_class"],
        )
        .expect("valid metric");
        let reads = IntCounterVec::new(
            Opts::new(
                "regional_reads_total",
                "Read-only batches run here, by the server that ran them (primary or replica).",
            ),
            &["target"],
        )
        .expect("valid metric");
        let replica_fallbacks = IntCounterVec::new(
            Opts::new(
                "regional_replica_fallbacks_total",
                "Reads meant for the replica that the primary served, by reason (lagging, missed, unhealthy, error).",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let audit_spooled = IntGauge::new(
            "regional_audit_spooled_events",
            "Audit events of reads served while the primary was down, waiting in this instance's spool.",
        )
        .expect("valid metric");
        let directory_fallbacks = IntCounterVec::new(
            Opts::new(
                "regional_directory_fallbacks_total",
                "Directory look-ups the primary could not answer, by what answered (cache, replica).",
            ),
            &["source"],
        )
        .expect("valid metric");
        let jobs = IntCounterVec::new(
            Opts::new(
                "regional_jobs_total",
                "Jobs asked of this instance (rates: the edge's cron trigger), by job and outcome (ok, failed).",
            ),
            &["job", "outcome"],
        )
        .expect("valid metric");
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "regional_webhook_deliveries_total",
                "Webhook delivery attempts made here, by outcome (delivered, retried, failed, disabled).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let sign_ins = IntCounterVec::new(
            Opts::new(
                "regional_sign_ins_total",
                "People's sign-ins decided here, by outcome (ok, refused, locked).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let oauth_requests = IntCounterVec::new(
            Opts::new(
                "regional_oauth_requests_total",
                "Apps' OAuth requests answered here, by endpoint and outcome (ok or the RFC 6749 error code).",
            ),
            &["endpoint", "outcome"],
        )
        .expect("valid metric");
        for c in [
            Box::new(batches.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(oauth_requests.clone()),
            Box::new(directory.clone()),
            Box::new(request_duration.clone()),
            Box::new(statement_duration.clone()),
            Box::new(errors.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_in_use.clone()),
            Box::new(pool_waiting.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max_size.clone()),
            Box::new(tenants.clone()),
            Box::new(replica_lag.clone()),
            Box::new(reads.clone()),
            Box::new(replica_fallbacks.clone()),
            Box::new(audit_spooled.clone()),
            Box::new(directory_fallbacks.clone()),
            Box::new(jobs.clone()),
            Box::new(webhook_deliveries.clone()),
            Box::new(sign_ins.clone()),
            Box::new(edge_duration.clone()),
            Box::new(edge_responses.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        // Both origins are exported from the start, so readers see 0 rather than nothing.
        for origin in ["edge", "forwarded"] {
            batches.with_label_values(&[origin]);
        }
        for target in ["primary", "replica"] {
            reads.with_label_values(&[target]);
        }
        for source in ["cache", "replica"] {
            directory_fallbacks.with_label_values(&[source]);
        }
        for outcome in ["ok", "refused", "locked"] {
            sign_ins.with_label_values(&[outcome]);
        }
        Self {
            registry,
            batches,
            directory,
            request_duration,
            statement_duration,
            errors,
            pool_size,
            pool_max_size,
            pool_in_use,
            pool_idle,
            pool_waiting,
            tenants,
            tenant_countries: Mutex::new(BTreeMap::new()),
            replica_lag,
            reads,
            replica_fallbacks,
            audit_spooled,
            directory_fallbacks,
            jobs,
            webhook_deliveries,
            sign_ins,
            oauth_requests,
            edge_duration,
            edge_responses,
        }
    }

    /// Replaces the clinics-by-country gauge with a fresh count.
    pub fn set_tenants(&self, counts: &BTreeMap<String, i64>) {
        let mut known = self.tenant_countries.lock().expect("tenant countries");
        for country in counts.keys() {
            known.insert(country.clone(), ());
        }
        for country in known.keys() {
            self.tenants
                .with_label_values(&[country])
                .set(counts.get(country).copied().unwrap_or(0));
        }
    }

    /// Counts one edge timing beacon received by `region`.
    pub fn observe_edge(&self, region: &str, timing: &EdgeTiming) {
        let colo = sanitize_colo(&timing.colo);
        let route = timing.route.as_str();
        self.edge_duration
            .with_label_values(&[region, &colo, route, timing.cache.as_str()])
            .observe(timing.duration_ms as f64 / 1000.0);
        let class = format!("{}xx", timing.status / 100);
        self.edge_responses
            .with_label_values(&[region, route, &class])
            .inc();
    }

    /// The text exposition, with pool gauges read at scrape time.
    pub fn render(&self, pools: &[(&str, &Pool)]) -> String {
        for (name, pool) in pools {
            let s = pool.status();
            self.pool_size.with_label_values(&[name]).set(s.size as i64);
            self.pool_max_size
                .with_label_values(&[name])
                .set(s.max_size as i64);
            self.pool_in_use
                .with_label_values(&[name])
                .set(s.size.saturating_sub(s.available) as i64);
            self.pool_idle
                .with_label_values(&[name])
                .set(s.available as i64);
            self.pool_waiting
                .with_label_values(&[name])
                .set(s.waiting as i64);
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(false)
    }
}

/// A colo label as the edge sent it, bounded: at most 8 of `[A-Z0-9]` (Cloudflare colos
/// are IATA codes), else `UNKNOWN`.
pub fn sanitize_colo(colo: &str) -> String {
    let c: String = colo
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect();
    if c.is_empty() { "UNKNOWN".into() } else { c }
}

/// The wire name of a code (`unknown_tenant`), as a metric label.
pub fn code_label(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_wire_names() {
        assert_eq!(code_label(ErrorCode::UnknownTenant), "unknown_tenant");
        assert_eq!(code_label(ErrorCode::CatalogMismatch), "catalog_mismatch");
    }

    #[test]
    fn colos_are_bounded() {
        assert_eq!(sanitize_colo("cdg"), "CDG");
        assert_eq!(sanitize_colo("unknown"), "UNKNOWN");
        assert_eq!(sanitize_colo("a\"}b{c-1234567890"), "ABC12345");
        assert_eq!(sanitize_colo("--"), "UNKNOWN");
    }

    #[test]
    fn a_country_without_clinics_drops_to_zero() {
        let m = Metrics::new(false);
        m.set_tenants(&BTreeMap::from([("FR".into(), 2), ("MA".into(), 1)]));
        m.set_tenants(&BTreeMap::from([("FR".into(), 3)]));
        let text = m.render(&[]);
        assert!(
            text.contains("regional_tenants{country=\"FR\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("regional_tenants{country=\"MA\"} 0"),
            "{text}"
        );
        assert!(text.contains("always 0"), "{text}");
    }
}
