//! The edge's core (the code both adapters run), natively, against a real `regional-db`:
//! API calls and pages end to end without workerd or wasmtime, on ephemeral ports.

use chrono::Utc;
use serde_json::Value;
use telemed_shared::{auth::SigningKey, host::Handled};

/// The edge's ports over plain HTTP: no cache, the wall clock, the OS's randomness.
pub struct NativeHost {
    pub http: reqwest::Client,
    /// Calls to a region so far.
    pub calls: std::cell::Cell<usize>,
}

impl telemed_shared::host::Host for NativeHost {
    async fn fetch(
        &self,
        request: axum::http::Request<Vec<u8>>,
    ) -> Result<axum::http::Response<Vec<u8>>, telemed_shared::host::FetchError> {
        let fail = |e: reqwest::Error| telemed_shared::host::FetchError(e.to_string());
        self.calls.set(self.calls.get() + 1);
        let (parts, body) = request.into_parts();
        let resp = self
            .http
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(fail)?;
        let mut out = axum::http::Response::builder().status(resp.status());
        for (k, v) in resp.headers() {
            out = out.header(k, v);
        }
        let body = resp.bytes().await.map_err(fail)?;
        Ok(out.body(body.to_vec()).expect("a response"))
    }
    async fn cache_get(&self, _: &str) -> Option<axum::http::Response<Vec<u8>>> {
        None
    }
    async fn cache_put(&self, _: &str, _: axum::http::Response<Vec<u8>>) {}
    fn now_millis(&self) -> u64 {
        u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0)
    }
    fn fill_random(&self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("the OS random source");
    }
    fn log(&self, level: telemed_shared::host::LogLevel, message: &str) {
        eprintln!("edge {level:?}: {message}");
    }
}

/// The session key of native edges (any 32 bytes: tests sign no cookie themselves).
pub const SESSION_KEYS: &str = "dGhlLW5hdGl2ZS1lZGdlLXNlc3Npb24ta2V5LTMyYnl0ZQ==";

pub struct NativeEdge {
    pub host: NativeHost,
    pub config: telemed_shared::config::EdgeConfig,
}

impl NativeEdge {
    /// An edge whose three regions all are `region_base`, signing edge tokens with `edge_key`
    /// and accepting API tokens of `api_issuer`.
    pub fn new(region_base: &str, edge_key: &SigningKey, api_issuer: &SigningKey) -> Self {
        Self::with_regions(
            &format!("eu-west={region_base},us-east={region_base},af-south={region_base}"),
            edge_key,
            api_issuer,
        )
    }

    /// An edge calling the regions of `region_urls` (`eu-west=http://…,us-east=…`).
    pub fn with_regions(region_urls: &str, edge_key: &SigningKey, api_issuer: &SigningKey) -> Self {
        let vars = std::collections::HashMap::from([
            ("APEX_DOMAIN", "localhost".to_owned()),
            ("REGION_URLS", region_urls.to_owned()),
            ("EDGE_TOKEN_KEY", edge_key.to_base64()),
            ("SESSION_KEYS", SESSION_KEYS.to_owned()),
            ("API_TOKEN_PUBLIC_KEYS", api_issuer.public_base64()),
        ]);
        NativeEdge {
            host: NativeHost {
                http: reqwest::Client::new(),
                calls: std::cell::Cell::new(0),
            },
            config: telemed_shared::config::EdgeConfig::from_lookup(|k| vars.get(k).cloned())
                .unwrap(),
        }
    }

    /// Any request through the edge's core; background work (cache fills, timing beacons)
    /// is not run. The region calls it made are `self.host.calls` after minus before.
    pub async fn request(&self, request: axum::http::Request<Vec<u8>>) -> Handled {
        telemed_shared::edge::handle(
            &self.host,
            &self.config,
            telemed_shared::geo::GeoHint::default(),
            request,
        )
        .await
    }

    /// `POST <path>` to clinic `slug` with `token`: (status, body, content-language).
    pub async fn post(
        &self,
        slug: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> (u16, Value, String) {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(format!("http://{slug}.localhost{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/fhir+json")
            .header("accept-language", "fr")
            .body(body.as_bytes().to_vec())
            .unwrap();
        let before = self.host.calls.get();
        let handled = self.request(req).await;
        // The timing beacon is background work, not run here: these are data calls.
        assert!(
            self.host.calls.get() - before <= 1,
            "{path}: one region call at most"
        );
        let r = handled.response;
        let language = r
            .headers()
            .get("content-language")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (
            r.status().as_u16(),
            serde_json::from_slice(r.body()).unwrap_or(Value::Null),
            language,
        )
    }
}
