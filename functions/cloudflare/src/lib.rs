//! Telemed Edge on Cloudflare Workers: a thin adapter around [`telemed_shared::edge::serve`].
//!
//! # Layout
//! - [`fetch`] (the `#[event(fetch)]` entry point): `worker::Request` → `http::Request` (full
//!   URL, headers, body) plus a [`GeoHint`] from `request.cf`; configuration from `env`;
//!   the core's answer back to a JS `Response`; background work (cache fills, timing
//!   beacons) handed to `ctx.wait_until`, so it runs after the response.
//! - [`scheduled`] (the `#[event(scheduled)]` entry point): the cron trigger, handed to
//!   [`edge::scheduled`].
//! - [`Workers`]: the core's ports on workerd — `fetch()`, the default edge cache, `Date.now()`,
//!   and randomness from `crypto.getRandomValues` (the getrandom features in Cargo.toml).
//!
//! Conversions go through `web_sys` directly where `worker`'s wrappers are lossy (its
//! `Method` turns unknown verbs into GET) or panic on bad input (its `Cf` getters unwrap).
//! A request that cannot become an `http::Request` is answered 400 by the core
//! ([`edge::Unreadable`]); any other failure here surfaces as an `Err`, which the
//! `event` macro logs and answers with a generic 500: the adapter never panics on a request.
#![forbid(unsafe_code)]

use futures::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use telemed_shared::{
    edge,
    geo::GeoHint,
    host::{FetchError, Handled, Host, LogLevel},
};
use worker::{
    Cache, Context, Date, Env, Fetch, Headers, Request, ScheduleContext, ScheduledEvent,
    console_error, console_warn, event, js_sys, wasm_bindgen::JsValue, web_sys,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let geo = geo_hint(req.inner());
    let request = match to_core_request(req).await {
        Ok(request) => request,
        Err(unreadable) => return to_js_response(unreadable.respond(&Workers)),
    };
    let Handled {
        response,
        background,
    } = edge::serve(&Workers, vars(&env), geo, request).await;
    if !background.is_empty() {
        ctx.wait_until(async move {
            for task in background {
                task.run(&Workers).await;
            }
        });
    }
    to_js_response(response)
}

/// The cron trigger (`[triggers] crons` in wrangler.toml): the core refreshes the exchange
/// rates ([`edge::scheduled`]).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    edge::scheduled(&Workers, vars(&env), &event.cron()).await;
}

/// The configuration lookup: `[vars]`, `.dev.vars` and `wrangler secret` all arrive as
/// string bindings today; the secret lookup keeps working should workers-rs ever tell the
/// two apart.
fn vars(env: &Env) -> impl Fn(&str) -> Option<String> + '_ {
    |name: &str| {
        env.var(name)
            .or_else(|_| env.secret(name))
            .ok()
            .map(|v| v.to_string())
    }
}

/// The core's ports on workerd. Stateless: every call reaches the platform's globals.
struct Workers;

impl Host for Workers {
    async fn fetch(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let send = async {
            let (parts, body) = request.into_parts();
            let init = web_sys::RequestInit::new();
            init.set_method(parts.method.as_str());
            init.set_headers(&to_js_headers(&parts.headers)?.0);
            if !body.is_empty() {
                init.set_body(&js_sys::Uint8Array::from(body.as_slice()));
            }
            let js_request =
                web_sys::Request::new_with_str_and_init(&parts.uri.to_string(), &init)?;
            to_core_response(Fetch::Request(js_request.into()).send().await?).await
        };
        send.await
            .map_err(|e: worker::Error| FetchError(e.to_string()))
    }

    async fn cache_get(&self, key: &str) -> Option<http::Response<Vec<u8>>> {
        let cached = Cache::default().get(key, false).await.ok()??;
        to_core_response(cached).await.ok()
    }

    async fn cache_put(&self, key: &str, response: http::Response<Vec<u8>>) {
        let put = async {
            Cache::default()
                .put(key, to_js_response(response)?.into())
                .await
        };
        if let Err(e) = put.await {
            console_warn!("edge cache put {key}: {e}");
        }
    }

    fn now_millis(&self) -> u64 {
        Date::now().as_millis()
    }

    fn fill_random(&self, buf: &mut [u8]) {
        // `crypto.getRandomValues`, present in every Workers isolate; without it the core
        // could not sign either.
        getrandom_04::fill(buf).expect("crypto.getRandomValues is available on Workers");
    }

    fn log(&self, level: LogLevel, message: &str) {
        // `console.*` is what Workers Logs and `wrangler tail` collect.
        match level {
            LogLevel::Warn => console_warn!("{message}"),
            LogLevel::Error => console_error!("{message}"),
        }
    }
}

/// `request.cf`, read field by field: absent, mistyped or unparseable values are dropped
/// (geo is a routing hint, never a reason to fail). Coordinates are strings on Cloudflare
/// and may be numbers when a test hands Miniflare its own `cf`.
fn geo_hint(raw: &web_sys::Request) -> GeoHint {
    let cf = js_sys::Reflect::get(raw, &JsValue::from_str("cf")).unwrap_or(JsValue::UNDEFINED);
    let field = |name: &str| {
        Some(cf.clone())
            .filter(JsValue::is_object)
            .and_then(|cf| js_sys::Reflect::get(&cf, &JsValue::from_str(name)).ok())
    };
    let text = |name: &str| field(name).and_then(|v| v.as_string());
    let number = |name: &str| {
        field(name).and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_string().and_then(|s| s.trim().parse().ok()))
        })
    };
    GeoHint::from_parts(
        text("country").as_deref(),
        text("continent").as_deref(),
        number("latitude"),
        number("longitude"),
        text("colo").as_deref(),
    )
}

/// The incoming request as the core sees it: method verbatim, the full URL (both workerd
/// and Miniflare fill its authority from the client's Host; Miniflare rewrites the header
/// itself), every header, and the body up to [`edge::BODY_READ_LIMIT`] bytes (so a huge
/// body is refused as too long, not held whole in the isolate's memory). Nothing is
/// dropped: a part `http` refuses makes the whole request unreadable (400), since a
/// silently missing header (an `Idempotency-Key`) would change what the request means.
async fn to_core_request(mut req: Request) -> Result<http::Request<Vec<u8>>, edge::Unreadable> {
    let raw = req.inner();
    let url = raw.url();
    let uri = url.parse::<http::Uri>();
    let target = match &uri {
        Ok(u) => u.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
        // What follows `scheme://authority`: enough to pick the answer's form.
        Err(_) => url
            .splitn(4, '/')
            .nth(3)
            .map_or_else(|| "/".to_owned(), |p| format!("/{p}")),
    };
    let accept_language = raw.headers().get("accept-language").ok().flatten();
    let unreadable = |fault| edge::Unreadable {
        target: target.clone(),
        accept_language: accept_language.clone(),
        fault,
    };
    let method =
        http::Method::from_bytes(raw.method().as_bytes()).map_err(|_| unreadable("the method"))?;
    let uri = uri.map_err(|_| unreadable("the request target"))?;
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers().entries() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            return Err(unreadable("a header"));
        };
        headers.append(name, value);
    }
    let body = read_body(&mut req)
        .await
        .ok_or_else(|| unreadable("the body, which broke off"))?;
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// The body, up to [`edge::BODY_READ_LIMIT`] bytes; `None` when it breaks off.
async fn read_body(req: &mut Request) -> Option<Vec<u8>> {
    if req.inner().body().is_none() {
        return Some(Vec::new());
    }
    let mut chunks = req.stream().ok()?;
    edge::read_body(async || chunks.next().await).await
}

/// A region's or the cache's `Response`, read whole into the core's type.
async fn to_core_response(mut res: worker::Response) -> worker::Result<http::Response<Vec<u8>>> {
    let status = StatusCode::from_u16(res.status_code())
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let headers = to_header_map(res.headers());
    let mut response = http::Response::new(res.bytes().await?);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The core's response as a JS `Response`. Built with the fallible constructor (workers-rs'
/// own conversion unwraps); a null-body status (204, 304…) is sent without a body as
/// the Fetch standard demands.
fn to_js_response(response: http::Response<Vec<u8>>) -> worker::Result<web_sys::Response> {
    let (parts, mut body) = response.into_parts();
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&to_js_headers(&parts.headers)?.0);
    let null_body = matches!(parts.status.as_u16(), 101 | 103 | 204 | 205 | 304);
    let body = (!body.is_empty() && !null_body).then_some(body.as_mut_slice());
    Ok(web_sys::Response::new_with_opt_u8_array_and_init(
        body, &init,
    )?)
}

/// JS headers are ByteStrings and always valid; a name or value `http` rejects is dropped.
fn to_header_map(headers: &Headers) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers.entries() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.append(n, v);
        }
    }
    map
}

fn to_js_headers(map: &HeaderMap) -> worker::Result<Headers> {
    let headers = Headers::new();
    for (name, value) in map {
        let value = value
            .to_str()
            .map_err(|e| worker::Error::RustError(format!("header {name}: {e}")))?;
        headers.append(name.as_str(), value)?;
    }
    Ok(headers)
}
