//! Telemed Edge on Spin and any wasi:http host: a thin adapter around
//! [`telemed_shared::edge::serve`].
//!
//! # Layout
//! - [`handle`] (the `#[http_component]` entry point, `wasi:http/incoming-handler@0.2.0`):
//!   the request arrives as `http::Request` with its full URI (`http://host:port/path`, the
//!   authority from the client's Host); configuration comes from the component's
//!   environment (`spin.toml` `[component.*.environment]`, `wasmtime serve --env`).
//! - [`Wasi`]: the core's ports over plain WASI — outbound `wasi:http` (`spin_sdk::http::send`),
//!   `wasi:clocks`, and no edge cache (an instance lives for one request; the core then
//!   lets the nearest region answer the directory lookup, see DESIGN.md "Data plane").
//!
//! Only `wasi:*` interfaces are imported: no Spin key-value, variables or databases.
//!
//! Geo: a generic wasi:http host says nothing about where a client is, so the [`GeoHint`]
//! is empty unless `DEV_GEO_HEADERS=1`, which trusts the `x-dev-geo-*` request headers
//! (for local tests only: any client can set them).
//!
//! `deny(unsafe_code)` rather than `forbid`: the export glue `#[http_component]` generates
//! (wit-bindgen handles) is `unsafe`, so [`export`] alone allows it; nothing else may.
#![deny(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use telemed_shared::{
    edge,
    geo::GeoHint,
    host::{FetchError, Handled, Host},
};

/// The `wasi:http/incoming-handler` export, and the only place `unsafe` is allowed (in the
/// code the macro generates; there is none of ours).
#[allow(unsafe_code)]
mod export {
    #[spin_sdk::http_component]
    async fn handle(request: http::Request<Vec<u8>>) -> anyhow::Result<http::Response<Vec<u8>>> {
        Ok(super::handle(request).await)
    }
}

/// Serves one request through the core.
async fn handle(request: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
    let geo = if std::env::var("DEV_GEO_HEADERS").is_ok_and(|v| v == "1") {
        dev_geo_hint(request.headers())
    } else {
        GeoHint::default()
    };
    let Handled {
        response,
        background,
    } = edge::serve(&Wasi, |name| std::env::var(name).ok(), geo, request).await;
    // Nothing to run after the response on this host: its only background work is cache
    // fills, and it has no cache. Run them anyway so a future port is not silently skipped.
    for task in background {
        task.run(&Wasi).await;
    }
    response
}

/// The core's ports over plain WASI.
struct Wasi;

impl Host for Wasi {
    async fn fetch(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        // Received as spin-sdk's own `Response`: its `http::Response` conversion panics when
        // the body stream fails mid-way; this one returns the error.
        let received: spin_sdk::http::Response = spin_sdk::http::send(request)
            .await
            .map_err(|e| FetchError(e.to_string()))?;
        let status =
            StatusCode::from_u16(*received.status()).map_err(|e| FetchError(e.to_string()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in received.headers() {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                headers.append(n, v);
            }
        }
        let mut response = http::Response::new(received.into_body());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    async fn cache_get(&self, _key: &str) -> Option<http::Response<Vec<u8>>> {
        None
    }

    async fn cache_put(&self, _key: &str, _response: http::Response<Vec<u8>>) {}

    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// `x-dev-geo-{country,continent,lat,lon,colo}`; invalid values are dropped by the core.
fn dev_geo_hint(headers: &HeaderMap) -> GeoHint {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| text(name).and_then(|v| v.parse::<f64>().ok());
    GeoHint::from_parts(
        text("x-dev-geo-country"),
        text("x-dev-geo-continent"),
        number("x-dev-geo-lat"),
        number("x-dev-geo-lon"),
        text("x-dev-geo-colo"),
    )
}
