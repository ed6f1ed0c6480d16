//! Prometheus metrics of one instance (its own registry, so several instances can share a
//! process in tests).
//!
//! `regional_batch_requests_total{origin="edge"|"forwarded"}` and
//! `regional_directory_requests_total` count requests as received: the end-to-end tests read
//! them to prove that a page costs one edge→region call. Keep their names and labels.

use deadpool_postgres::Pool;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use telemed_shared::dataplane::wire::ErrorCode;

pub struct Metrics {
    registry: Registry,
    pub batches: IntCounterVec,
    pub directory: IntCounter,
    pub request_duration: HistogramVec,
    pub statement_duration: HistogramVec,
    pub errors: IntCounterVec,
    pool_size: IntGaugeVec,
    pool_in_use: IntGaugeVec,
    pool_waiting: IntGaugeVec,
}

/// Latency buckets from 1 ms to 5 s: a batch on a warm connection is a few milliseconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

impl Metrics {
    pub fn new() -> Self {
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
        for c in [
            Box::new(batches.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(directory.clone()),
            Box::new(request_duration.clone()),
            Box::new(statement_duration.clone()),
            Box::new(errors.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_in_use.clone()),
            Box::new(pool_waiting.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        // Both origins are exported from the start, so readers see 0 rather than nothing.
        for origin in ["edge", "forwarded"] {
            batches.with_label_values(&[origin]);
        }
        Self {
            registry,
            batches,
            directory,
            request_duration,
            statement_duration,
            errors,
            pool_size,
            pool_in_use,
            pool_waiting,
        }
    }

    /// The text exposition, with pool gauges read at scrape time.
    pub fn render(&self, pools: &[(&str, &Pool)]) -> String {
        for (name, pool) in pools {
            let s = pool.status();
            self.pool_size.with_label_values(&[name]).set(s.size as i64);
            self.pool_in_use
                .with_label_values(&[name])
                .set(s.size.saturating_sub(s.available) as i64);
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
        Self::new()
    }
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
}
