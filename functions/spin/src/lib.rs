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
//! is empty (a local stack places requests with the core's `DEV_GEO_HEADERS` switch).
//!
//! `deny(unsafe_code)` rather than `forbid`: the export glue `#[http_component]` generates
//! (wit-bindgen handles) is `unsafe`, so [`export`] alone allows it; nothing else may.
#![deny(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt as _;
use http::{
    HeaderMap, HeaderName, HeaderValue, StatusCode, Uri,
    uri::{Authority, PathAndQuery},
};
use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam, Scheme};
use telemed_shared::{
    edge,
    geo::GeoHint,
    host::{FetchError, Handled, Host, LogLevel},
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
    let request = match to_core_request(incoming).await {
        Ok(request) => request,
        Err(unreadable) => {
            send(response_out, unreadable.respond(&Wasi)).await;
            return;
        }
    };
    // A generic wasi:http host says nothing about where a client is.
    let geo = GeoHint::default();
    let Handled {
        response,
        background,
    } = edge::serve(&Wasi, |name| std::env::var(name).ok(), geo, request).await;
    send(response_out, response).await;
    for task in background {
        task.run(&Wasi).await;
    }
}

/// The wasi:http request as the core sees it, built part by part and never by a path that
/// panics: spin-sdk's own conversion (`TryFromIncomingRequest for http::Request`) unwraps
/// the `http::Request` builder, so an authority the `http` crate refuses — derived by the
/// host from a client's `Host` (`hôpital-paris.localhost`, `host:abc`) — trapped the
/// component into a bare 500 before our code ran.
///
/// An authority `http` refuses is left out of the URI together with every `Host` line:
/// the request then names no host, and the core refuses it (400) — it never falls back to
/// some other host. The body is read up to [`edge::BODY_READ_LIMIT`], so that a huge body
/// is refused as too long instead of being held in memory whole.
async fn to_core_request(
    incoming: IncomingRequest,
) -> Result<http::Request<Vec<u8>>, edge::Unreadable> {
    let target = incoming.path_with_query().unwrap_or_else(|| "/".to_owned());
    let entries = incoming.headers().entries();
    let accept_language = entries
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("accept-language"))
        .and_then(|(_, value)| String::from_utf8(value.clone()).ok());
    let unreadable = |fault| edge::Unreadable {
        target: target.clone(),
        accept_language: accept_language.clone(),
        fault,
    };
    let method = match incoming.method() {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Connect => http::Method::CONNECT,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
        Method::Patch => http::Method::PATCH,
        Method::Other(other) => {
            http::Method::from_bytes(other.as_bytes()).map_err(|_| unreadable("the method"))?
        }
    };
    let path = target
        .parse::<PathAndQuery>()
        .map_err(|_| unreadable("the request target"))?;
    let scheme = match incoming.scheme() {
        None | Some(Scheme::Http) => http::uri::Scheme::HTTP,
        Some(Scheme::Https) => http::uri::Scheme::HTTPS,
        Some(Scheme::Other(other)) => other
            .parse()
            .map_err(|_| unreadable("the request scheme"))?,
    };
    let authority = incoming
        .authority()
        .and_then(|a| a.parse::<Authority>().ok());
    let mut headers = HeaderMap::with_capacity(entries.len());
    for (name, value) in entries {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| unreadable("a header name"))?;
        if authority.is_none() && name == http::header::HOST {
            continue;
        }
        let value = HeaderValue::from_bytes(&value).map_err(|_| unreadable("a header value"))?;
        headers.append(name, value);
    }
    let mut uri = Uri::builder().path_and_query(path);
    if let Some(authority) = authority {
        uri = uri.scheme(scheme).authority(authority);
    }
    let uri = uri.build().map_err(|_| unreadable("the request target"))?;
    let mut chunks = std::pin::pin!(incoming.into_body_stream());
    let body = edge::read_body(async || chunks.next().await)
        .await
        .ok_or_else(|| unreadable("the body, which broke off"))?;
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
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

    fn log(&self, level: LogLevel, message: &str) {
        // The host's stderr: Spin and `wasmtime serve` put it in the component's log.
        let level = match level {
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        eprintln!("{level}: {message}");
    }
}
