//! Telemed Edge on Spin and any wasi:http host: a thin adapter around
//! [`telemed_shared::edge::serve`].
//!
//! # Layout
//! - [`handle`] (the `#[http_component]` entry point, `wasi:http/incoming-handler@0.2.0`):
//!   the request is read whole into an `http::Request` with its full URI
//!   (`http://host:port/path`, the authority from the client's Host); configuration comes
//!   from the component's environment (`spin.toml` `[component.*.environment]`,
//!   `wasmtime serve --env`). The response is sent through the `ResponseOutparam` and its
//!   body finished *before* the core's background work (timing beacons) runs, so that
//!   work never delays the client.
//! - [`Wasi`]: the core's ports over plain WASI — outbound `wasi:http` (`spin_sdk::http::send`),
//!   `wasi:clocks`, `wasi:random` (through getrandom), and no edge cache (an instance lives
//!   for one request; the core then lets the nearest region answer the directory lookup,
//!   see DESIGN.md "Data plane").
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
use spin_sdk::http::{
    Fields, IncomingRequest, OutgoingResponse, ResponseOutparam,
    conversions::TryFromIncomingRequest,
};
use telemed_shared::{
    edge,
    geo::GeoHint,
    host::{FetchError, Handled, Host},
};

/// The `wasi:http/incoming-handler` export, and the only place `unsafe` is allowed (in the
/// code the macro generates; there is none of ours).
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{IncomingRequest, ResponseOutparam};

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        super::handle(request, response_out).await;
    }
}

/// Serves one request through the core: answers the client first, then runs the core's
/// background work (timing beacons; cache fills are no-ops here) in the same invocation.
async fn handle(incoming: IncomingRequest, response_out: ResponseOutparam) {
    // The same conversion the request/response form of `#[http_component]` makes.
    let request = match <http::Request<Vec<u8>>>::try_from_incoming_request(incoming).await {
        Ok(request) => request,
        Err(e) => {
            eprintln!("unreadable request: {e}");
            send(
                response_out,
                edge::plain(StatusCode::BAD_REQUEST, "bad request"),
            )
            .await;
            return;
        }
    };
    let geo = if std::env::var("DEV_GEO_HEADERS").is_ok_and(|v| v == "1") {
        dev_geo_hint(request.headers())
    } else {
        GeoHint::default()
    };
    let Handled {
        response,
        background,
    } = edge::serve(&Wasi, |name| std::env::var(name).ok(), geo, request).await;
    send(response_out, response).await;
    for task in background {
        task.run(&Wasi).await;
    }
}

/// Sets the response and writes its body whole; the body is finished (the client sees the
/// end of the response) when this returns.
async fn send(response_out: ResponseOutparam, response: http::Response<Vec<u8>>) {
    let (parts, body) = response.into_parts();
    let headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let outgoing = match Fields::from_list(&headers) {
        Ok(fields) => {
            let outgoing = OutgoingResponse::new(fields);
            match outgoing.set_status_code(parts.status.as_u16()) {
                Ok(()) => Some((outgoing, body)),
                Err(()) => None,
            }
        }
        Err(e) => {
            eprintln!("response headers refused by the host: {e:?}");
            None
        }
    };
    let (outgoing, body) = outgoing.unwrap_or_else(|| {
        let fields = Fields::new();
        let _ = fields.set("content-type", &[b"text/plain; charset=utf-8".to_vec()]);
        let fallback = OutgoingResponse::new(fields);
        let _ = fallback.set_status_code(500);
        (fallback, b"internal error".to_vec())
    });
    // `set_with_body` drops the body sink when it returns, which finishes the body.
    if let Err(e) = response_out.set_with_body(outgoing, body).await {
        eprintln!("sending the response: {e}");
    }
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

    fn fill_random(&self, buf: &mut [u8]) {
        // `wasi:random`, which every wasi:http host provides.
        getrandom_04::fill(buf).expect("wasi:random is available");
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
