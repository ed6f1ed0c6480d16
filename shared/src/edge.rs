//! The request entry point every adapter calls: configuration, timing, then the API or the
//! pages ([`crate::web`]).
//!
//! ```text
//! request ─ authority ─► tenant selector (no I/O) ─┬─ /v1/… ─► api (token → one batch)
//!                                                   └─ pages ─► locale → edge cache ─► HIT
//!                                                                 └─ MISS: directory (cache or
//!                                                                    nearest region) → render
//! ```

use http::{Method, Request, Response, header::HeaderValue};

use crate::{
    api,
    config::EdgeConfig,
    ctx::Ctx,
    dataplane::{
        client::CallTiming,
        wire::{CacheOutcome, EdgeTiming, TimedRoute},
    },
    geo::GeoHint,
    host::{Background, Handled, Host, LogLevel},
    i18n::locale::{Locale, negotiate},
    tenant::{HostName, ResolveError, resolve},
    web::{self, ErrorPage},
};

/// Serves one request: reads the configuration through `vars`, then resolves the clinic,
/// negotiates the locale and routes to a page or the API. Always answers; never panics
/// on client input.
pub async fn serve<H: Host>(
    host: &H,
    vars: impl Fn(&str) -> Option<String>,
    geo: GeoHint,
    request: Request<Vec<u8>>,
) -> Handled {
    match EdgeConfig::from_lookup(vars) {
        Ok(config) => handle(host, &config, geo, request).await,
        Err(e) => {
            // The detail names variables, never secret values, and goes to the log only:
            // a visitor learns only that the service is down.
            host.log(LogLevel::Error, &format!("edge configuration: {e}"));
            Handled {
                response: web::error_response(ErrorPage::Internal, Locale::fallback()),
                background: Vec::new(),
            }
        }
    }
}

/// The platform's cron trigger (Workers `scheduled`, `[triggers] crons` in wrangler.toml):
/// asks the control plane's region to refresh the exchange rates from its feed. One call;
/// a failure is logged and changes nothing (the stored rates stay, and show their date).
pub async fn scheduled<H: Host>(host: &H, vars: impl Fn(&str) -> Option<String>, cron: &str) {
    let config = match EdgeConfig::from_lookup(vars) {
        Ok(config) => config,
        Err(e) => {
            host.log(LogLevel::Error, &format!("edge configuration: {e}"));
            return;
        }
    };
    let client =
        crate::dataplane::client::RegionClient::new(host, &config).at(format!("cron {cron}"));
    if let Err(e) = client.refresh_rates().await {
        host.log(
            LogLevel::Error,
            &format!("cron {cron}: refreshing the exchange rates: {e}"),
        );
    }
}

/// How much of a request body an adapter reads: the most any route accepts, plus one byte,
/// so that a longer body reaches the core as too long (413) without being held whole.
pub const BODY_READ_LIMIT: usize = api::MAX_BUNDLE_BYTES + 1;

/// Reads a body from a platform's chunk stream (`next` yields the next chunk, `None` at
/// the end) up to [`BODY_READ_LIMIT`] bytes, leaving the rest unread; `None` when the
/// stream breaks off.
pub async fn read_body<E>(
    mut next: impl AsyncFnMut() -> Option<Result<Vec<u8>, E>>,
) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while body.len() < BODY_READ_LIMIT
        && let Some(chunk) = next().await
    {
        body.extend(chunk.ok()?);
    }
    body.truncate(BODY_READ_LIMIT);
    Some(body)
}

/// A request the platform handed over but that cannot become an `http::Request` (a
/// target, method or header the `http` crate refuses, a body that breaks off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The request target as received (`/v1/patients?x`): it picks the answer's form.
    pub target: String,
    /// For the page's language.
    pub accept_language: Option<String>,
    /// What could not be read; it reaches the client and the log: name the part, never
    /// echo it.
    pub fault: &'static str,
}

impl Unreadable {
    /// [`Unreadable::response`], the fault logged (a warning: the client's doing).
    pub fn respond(&self, host: &impl Host) -> Response<Vec<u8>> {
        host.log(
            LogLevel::Warn,
            &format!("unreadable request: {}", self.fault),
        );
        self.response()
    }

    /// 400, as an `OperationOutcome` under `/v1`, else as a page in the visitor's language.
    pub fn response(&self) -> Response<Vec<u8>> {
        if api::is_api_path(self.target.split('?').next().unwrap_or_default()) {
            return api::bad_request(vec![crate::fhir::Issue::new(
                crate::fhir::IssueCode::Structure,
                format!("the request cannot be read: {}", self.fault),
            )]);
        }
        let (locale, _) = negotiate(None, None, self.accept_language.as_deref(), None);
        web::error_response(ErrorPage::BadRequest, locale)
    }
}

/// Serves one request with a loaded configuration.
pub async fn handle<H: Host>(
    host: &H,
    config: &EdgeConfig,
    geo: GeoHint,
    request: Request<Vec<u8>>,
) -> Handled {
    let started = host.now_millis();
    // A local stack places requests with headers; a deployment trusts only its platform.
    let geo = config
        .dev_geo_headers
        .then(|| GeoHint::from_dev_headers(request.headers()))
        .flatten()
        .unwrap_or(geo);
    let mut ctx = Ctx::new(host, config, geo);
    let mut response = route(&mut ctx, &request).await;
    if request.method() == Method::HEAD {
        response.body_mut().clear();
    }
    let edge_millis = host.now_millis().saturating_sub(started);
    let timing = server_timing(edge_millis, &ctx.region.timings());
    if let Ok(v) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", v);
    }
    // The beacon goes to the nearest region after the response, whatever the outcome.
    let cache = match response.headers().get("x-cache").map(HeaderValue::as_bytes) {
        Some(b"HIT") => CacheOutcome::Hit,
        Some(b"MISS") => CacheOutcome::Miss,
        Some(b"STALE") => CacheOutcome::Stale,
        _ => CacheOutcome::None,
    };
    let report = EdgeTiming {
        colo: ctx.geo.colo.clone().unwrap_or_else(|| "unknown".into()),
        route: TimedRoute::of_path(request.uri().path()),
        cache,
        status: response.status().as_u16(),
        duration_ms: edge_millis,
    };
    if let Some(request) = ctx.region.timing_report(&ctx.nearest_region(), &report) {
        ctx.defer(Background::ReportTiming { request });
    }
    Handled {
        response,
        background: ctx.into_background(),
    }
}

/// `Server-Timing`: the edge's total, then each region call (at most one by design) with
/// the region's own Postgres time when it reported one:
/// `edge;dur=41, region;desc="eu-west";dur=38, db;dur=2.4`.
fn server_timing(edge_millis: u64, calls: &[CallTiming]) -> String {
    let mut timing = format!("edge;dur={edge_millis}");
    for (i, call) in calls.iter().enumerate() {
        // Metric names must be unique within the header: the rare second call gets a suffix.
        let n = if i == 0 { String::new() } else { i.to_string() };
        timing.push_str(&format!(
            ", region{n};desc=\"{}\";dur={}",
            call.region, call.millis
        ));
        if let Some(db) = call.db_millis {
            timing.push_str(&format!(", db{n};dur={db:.1}"));
        }
    }
    timing
}

fn header<'r>(req: &'r Request<Vec<u8>>, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The host a request is for, or `None` when the request must be refused (400).
///
/// The URL's authority decides, not the `Host` header: both runtimes fill the URL from
/// `Host` (or from an absolute-form target, which RFC 9112 §3.2.2 says wins), and Miniflare
/// rewrites `Host` but keeps the URL. Yet `Host` itself must be sound: RFC 9112 §3.2 has a
/// server answer 400 to more than one `Host` line or to an invalid one, whatever the URL.
fn request_host(req: &Request<Vec<u8>>) -> Option<HostName> {
    let mut lines = req.headers().get_all(http::header::HOST).iter();
    let from_header = match (lines.next(), lines.next()) {
        (Some(_), Some(_)) => return None,
        (Some(line), None) => Some(HostName::parse(line.to_str().ok()?)?),
        (None, _) => None,
    };
    match req.uri().authority() {
        Some(authority) => HostName::parse(authority.as_str()),
        None => from_header,
    }
}

async fn route<H: Host>(ctx: &mut Ctx<'_, H>, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let host = request_host(req);
    // The operators' space lives on the apex host alone (no clinic is ever there).
    if let Some(h) = &host
        && crate::ops::on_apex(h, &ctx.config.apex)
        && crate::ops::is_ops_path(req.uri().path())
    {
        return crate::ops::handle(ctx, req).await;
    }
    let selector = match host {
        Some(h) => resolve(&h, &ctx.config.apex, header(req, "x-tenant-slug")),
        None => Err(ResolveError::BadHost),
    };
    if api::is_api_path(req.uri().path()) {
        return api::handle(ctx, req, selector).await;
    }
    if crate::oauth::is_oauth_path(req.uri().path()) {
        return crate::oauth::handle(ctx, req, selector).await;
    }
    web::handle(ctx, req, selector).await
}

#[cfg(test)]
mod tests {
    //! The whole flow against an in-memory host whose "regions" answer from a table of
    //! clinics; the real regions are exercised by `tests/` end to end.
    use crate::{cache, tenant::TenantEntry};
    use std::{
        cell::RefCell,
        collections::HashMap,
        future::Future,
        pin::pin,
        task::{Context, Poll, Waker},
    };

    use serde_json::{Value, json};

    use super::*;
    use crate::{
        auth::SigningKey,
        dataplane::wire::{BatchRequest, BatchResponse, EDGE_TIMINGS_PATH, StatementResult},
        host::FetchError,
    };

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the test host never pends"),
        }
    }

    struct TestHost {
        cache: RefCell<HashMap<String, Response<Vec<u8>>>>,
        calls: RefCell<Vec<(String, Option<BatchRequest>)>>,
        /// Timing beacons, apart from `calls`: they are not data calls.
        beacons: RefCell<Vec<(String, EdgeTiming)>>,
        clinics: Vec<TenantEntry>,
        /// How many of the next batches get no answer (a transport failure).
        lost_batches: std::cell::Cell<u32>,
        /// Batches are answered as replays of a stored result.
        replay: std::cell::Cell<bool>,
        clock_ms: std::cell::Cell<u64>,
        logs: RefCell<Vec<(LogLevel, String)>>,
    }

    impl Host for TestHost {
        async fn fetch(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, FetchError> {
            let uri = request.uri().to_string();
            if uri.starts_with("http://down.test") {
                self.calls.borrow_mut().push((uri, None));
                return Err(FetchError("connection refused".into()));
            }
            if uri.starts_with("http://garbage.test") {
                // A proxy's error page where a region should answer.
                self.calls.borrow_mut().push((uri, None));
                return Ok(Response::builder()
                    .status(200)
                    .body(b"<html>gateway</html>".to_vec())
                    .unwrap());
            }
            if request.uri().path() == EDGE_TIMINGS_PATH {
                let report = serde_json::from_slice(request.body()).expect("an EdgeTiming");
                self.beacons.borrow_mut().push((uri, report));
                return Ok(Response::builder().status(204).body(Vec::new()).unwrap());
            }
            let batch: Option<BatchRequest> = serde_json::from_slice(request.body()).ok();
            self.calls.borrow_mut().push((uri.clone(), batch.clone()));
            let respond = |status: u16, body: Value| {
                Ok(Response::builder()
                    .status(status)
                    .body(body.to_string().into_bytes())
                    .unwrap())
            };
            if let Some(slug) = uri.split("slug=").nth(1) {
                return match self.clinics.iter().find(|c| c.slug.as_str() == slug) {
                    Some(c) => respond(200, serde_json::to_value(c).unwrap()),
                    None => respond(404, json!({"code": "unknown_tenant", "message": "no"})),
                };
            }
            let batch = batch.expect("a batch");
            // The clinic a batch is for, from its edge token (as a region reads it; the
            // signature is the real regions' business, tested there).
            let tenant = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split('.').nth(1))
                .and_then(|b| {
                    use base64::Engine as _;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(b)
                        .ok()
                })
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|claims| claims["tenant"].as_str().map(str::to_owned));
            let clinic = self
                .clinics
                .iter()
                .find(|c| Some(c.slug.as_str()) == tenant.as_deref());
            if batch.want_directory && clinic.is_none() {
                return respond(404, json!({"code": "unknown_tenant", "message": "no"}));
            }
            if self.lost_batches.get() > 0 {
                self.lost_batches.set(self.lost_batches.get() - 1);
                return Err(FetchError("connection reset".into()));
            }
            let row = json!({"id": "00000000-0000-4000-8000-000000000001", "seq": 1, "version_id": 1,
                             "last_updated": "2026-11-24T00:00:00+00:00", "resource": {"resourceType": "Patient"}});
            let results = batch.statements.iter().map(|s| StatementResult {
                rows: vec![
                    if s.name == "patient.count" {
                        json!({"total": 1})
                    } else {
                        row.clone()
                    }
                    .as_object()
                    .unwrap()
                    .clone(),
                ],
            });
            let response = BatchResponse {
                region: "eu-west".parse().unwrap(),
                results: results.collect(),
                directory: batch.want_directory.then(|| clinic.cloned()).flatten(),
                replayed: self.replay.get(),
                // As regional-db does: a write answers its commit's WAL position.
                lsn: batch.idempotency.is_some().then(|| "0/16B3740".to_owned()),
                served_by: Some("primary".to_owned()),
            };
            let mut ok = respond(200, serde_json::to_value(response).unwrap())?;
            // As regional-db does: how long Postgres took for the batch.
            ok.headers_mut()
                .insert("server-timing", HeaderValue::from_static("db;dur=2.25"));
            Ok(ok)
        }
        async fn cache_get(&self, key: &str) -> Option<Response<Vec<u8>>> {
            self.cache.borrow().get(key).cloned()
        }
        async fn cache_put(&self, key: &str, response: Response<Vec<u8>>) {
            self.cache.borrow_mut().insert(key.to_owned(), response);
        }
        fn now_millis(&self) -> u64 {
            self.clock_ms.get()
        }
        fn log(&self, level: LogLevel, message: &str) {
            self.logs.borrow_mut().push((level, message.to_owned()));
        }
        fn fill_random(&self, buf: &mut [u8]) {
            // Deterministic, and different for each call made so far.
            let seed = self.calls.borrow().len() as u8;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = seed.wrapping_mul(31).wrapping_add(i as u8);
            }
        }
    }

    /// The directory look-ups made so far (the rest are batches).
    fn directory_calls(host: &TestHost) -> usize {
        host.calls
            .borrow()
            .iter()
            .filter(|(uri, _)| uri.contains("/v1/directory"))
            .count()
    }

    fn clinic(slug: &str, country: &str, locale: &str, home: &str) -> TenantEntry {
        serde_json::from_value(
            json!({"slug": slug, "name": "Clinique", "country": country, "home_region": home,
            "default_locale": locale, "currency": "EUR", "plan": "standard", "status": "active"}),
        )
        .unwrap()
    }

    #[test]
    fn an_instance_that_is_down_costs_one_more_call_not_an_error() {
        let (host, _, _) = setup();
        let config = deployment("eu-west=http://down.test|http://eu.test");
        // The test clock starts the rotation at the first instance, the one that is down.
        let r = get(&host, &config, "http://casablanca-sante.localhost/", &[]).response;
        assert_eq!(r.status(), 200);
        let calls: Vec<String> = host.calls.borrow().iter().map(|c| c.0.clone()).collect();
        // A cold edge's one batch (the nearest region answers the clinic's entry with the
        // page's data): tried on the instance that is down, then on the next.
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(
            calls[0].starts_with("http://down.test/") && calls[1].starts_with("http://eu.test/"),
            "{calls:?}"
        );
        // With every instance down, the visitor gets the localized 503, not a 500.
        let config = deployment("eu-west=http://down.test|http://down.test.b");
        let r = get(&host, &config, "http://ghost-two.localhost/", &[]).response;
        assert_eq!(r.status(), 503);
    }

    /// The API issuer's key (the edge's is seed 2).
    fn api_key() -> SigningKey {
        SigningKey::from_seed([1; 32])
    }

    /// A deployment with the given `REGION_URLS`.
    fn deployment(region_urls: &str) -> EdgeConfig {
        let vars: HashMap<&str, String> = HashMap::from([
            ("APEX_DOMAIN", "localhost".into()),
            ("REGION_URLS", region_urls.into()),
            ("EDGE_TOKEN_KEY", SigningKey::from_seed([2; 32]).to_base64()),
            ("SESSION_KEYS", crate::config::TEST_SESSION_KEYS.into()),
            ("API_TOKEN_PUBLIC_KEYS", api_key().public_base64()),
        ]);
        EdgeConfig::from_lookup(|k| vars.get(k).cloned()).unwrap()
    }

    fn setup() -> (TestHost, EdgeConfig, SigningKey) {
        let api = api_key();
        let config =
            deployment("eu-west=http://eu.test,us-east=http://us.test,af-south=http://af.test");
        let host = TestHost {
            cache: RefCell::default(),
            calls: RefCell::default(),
            beacons: RefCell::default(),
            lost_batches: Default::default(),
            replay: Default::default(),
            clock_ms: std::cell::Cell::new(1_795_478_400_000),
            logs: RefCell::default(),
            clinics: vec![
                clinic("sandton-care", "ZA", "en", "af-south"),
                clinic("casablanca-sante", "MA", "ar", "eu-west"),
            ],
        };
        (host, config, api)
    }

    fn get(host: &TestHost, config: &EdgeConfig, url: &str, headers: &[(&str, &str)]) -> Handled {
        let mut b = Request::builder().uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        block_on(handle(
            host,
            config,
            GeoHint::default(),
            b.body(Vec::new()).unwrap(),
        ))
    }

    fn run_background(host: &TestHost, h: Handled) -> Response<Vec<u8>> {
        for task in h.background {
            block_on(task.run(host));
        }
        h.response
    }

    #[test]
    fn a_stale_page_is_rendered_anew_or_served_stale_if_the_region_fails() {
        let (host, config, _) = setup();
        let url = "http://sandton-care.localhost/";
        let lang = [("accept-language", "en")];
        let first = run_background(&host, get(&host, &config, url, &lang));
        assert_eq!(first.headers()["x-cache"], "MISS");
        assert_eq!(first.headers()["cache-control"], cache::public_page(60));
        let clock = &host.clock_ms;
        clock.set(clock.get() + 59_000);
        let hit = get(&host, &config, url, &lang).response;
        assert_eq!(hit.headers()["x-cache"], "HIT");
        assert_eq!(hit.headers()["age"], "59");
        assert_eq!(hit.headers()["cache-control"], cache::public_page(60));

        // A minute later, with the directory entry expired and every region down.
        clock.set(clock.get() + 2_000);
        host.cache
            .borrow_mut()
            .retain(|k, _| !k.contains("/directory/"));
        let down = deployment("eu-west=http://down.test,af-south=http://down.test.b");
        let stale = get(&host, &down, url, &lang).response;
        assert_eq!(stale.status(), 200);
        assert_eq!(stale.headers()["x-cache"], "STALE");
        assert_eq!(stale.headers()["age"], "61");
        assert_eq!(stale.body(), first.body());
        // A clinic never cached still gets the localized 503.
        let none = get(&host, &down, "http://casablanca-sante.localhost/", &lang).response;
        assert_eq!(none.status(), 503);

        // Regions back: the stale copy is replaced by a fresh rendering.
        let fresh = run_background(&host, get(&host, &config, url, &lang));
        assert_eq!(fresh.headers()["x-cache"], "MISS");
        let hit = get(&host, &config, url, &lang).response;
        assert_eq!(hit.headers()["x-cache"], "HIT");
        assert_eq!(hit.headers()["age"], "0");
    }

    #[test]
    fn a_page_is_cached_per_locale_not_per_header_spelling() {
        let (host, config, _) = setup();
        let first = run_background(
            &host,
            get(
                &host,
                &config,
                "http://sandton-care.localhost/",
                &[("accept-language", "ar-MA,ar;q=0.9")],
            ),
        );
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["x-cache"], "MISS");
        assert_eq!(
            host.calls.borrow().len(),
            1,
            "a cold miss: one batch, which brings the clinic's entry"
        );
        let second = get(
            &host,
            &config,
            "http://sandton-care.localhost/",
            &[("accept-language", "ar")],
        )
        .response;
        assert_eq!(second.headers()["x-cache"], "HIT");
        assert_eq!(second.headers()["content-language"], "ar");
        assert_eq!(host.calls.borrow().len(), 1, "a hit costs no region call");
        // No preference at all: the clinic's default (en, South Africa) from the cached
        // directory; its page is not cached yet: one batch, no directory call.
        let third = get(&host, &config, "http://sandton-care.localhost/", &[]).response;
        assert_eq!(third.headers()["content-language"], "en");
        assert_eq!(
            directory_calls(&host),
            0,
            "the entry came with the first batch, and was cached"
        );
        assert_eq!(host.calls.borrow().len(), 2, "{:?}", host.calls.borrow());
    }

    /// `*` stands for the clinic's default: never for the platform fallback's cached page.
    #[test]
    fn a_wildcard_gets_the_clinics_default_cached_or_not() {
        let (host, config, _) = setup();
        let url = "http://casablanca-sante.localhost/";
        // The platform fallback's page is in the cache first.
        let fr = run_background(
            &host,
            get(&host, &config, url, &[("accept-language", "fr")]),
        );
        assert_eq!(fr.headers()["content-language"], "fr");
        for header in ["*", "*;q=0.5", "de, *;q=0.1"] {
            for round in ["first", "second"] {
                let r = run_background(
                    &host,
                    get(&host, &config, url, &[("accept-language", header)]),
                );
                assert_eq!(r.status(), 200, "{header:?} {round}");
                assert_eq!(r.headers()["content-language"], "ar", "{header:?} {round}");
            }
        }
        // The three spellings share one entry: after the first rendering, all are hits.
        let hit = get(&host, &config, url, &[("accept-language", "de, *;q=0.1")]).response;
        assert_eq!(hit.headers()["x-cache"], "HIT");
        assert_eq!(
            directory_calls(&host),
            0,
            "the first batch brought the entry, which then decides the key"
        );
        // Two renderings (fr, then ar for every spelling of `*`): one batch each.
        assert_eq!(host.calls.borrow().len(), 2, "{:?}", host.calls.borrow());
    }

    #[test]
    fn a_cold_api_call_goes_to_the_nearest_region_once_then_to_the_home_region() {
        let (host, config, api) = setup();
        let token = api
            .sign_api(
                "sandton-care".parse().unwrap(),
                "t",
                "system/Patient.rs",
                host.now_millis() / 1000,
                60,
            )
            .unwrap();
        let auth = format!("Bearer {token}");
        let r = run_background(
            &host,
            get(
                &host,
                &config,
                "http://sandton-care.localhost/v1/patients",
                &[("authorization", &auth)],
            ),
        );
        assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
        {
            let calls = host.calls.borrow();
            assert_eq!(calls.len(), 1);
            assert!(
                calls[0].0.starts_with("http://eu.test/v1/batch"),
                "no geo: the default region, {}",
                calls[0].0
            );
            assert!(calls[0].1.as_ref().unwrap().want_directory);
            assert_eq!(
                calls[0].1.as_ref().unwrap().statements.len(),
                2,
                "page and total in one batch"
            );
        }
        let r = get(
            &host,
            &config,
            "http://sandton-care.localhost/v1/patients/00000000-0000-4000-8000-000000000001",
            &[("authorization", &auth)],
        )
        .response;
        assert_eq!(r.status(), 200);
        let calls = host.calls.borrow();
        assert_eq!(calls.len(), 2);
        assert!(
            calls[1].0.starts_with("http://af.test/v1/batch"),
            "warm: straight to the home region"
        );
        assert!(!calls[1].1.as_ref().unwrap().want_directory);
        let timing = r.headers()["server-timing"].to_str().unwrap();
        assert!(
            timing.contains("edge;dur=") && timing.contains(r#"region;desc="af-south";dur="#),
            "{timing}"
        );
        assert!(
            timing.ends_with(", db;dur=2.2") || timing.ends_with(", db;dur=2.3"),
            "the region's Postgres time is relayed: {timing}"
        );
    }

    #[test]
    fn every_response_reports_its_timing_to_the_nearest_region_afterwards() {
        let (host, config, _) = setup();
        let geo = GeoHint::from_parts(Some("ZA"), Some("AF"), None, None, Some("JNB"));
        let page = |geo: GeoHint| {
            let request = Request::builder()
                .uri("http://sandton-care.localhost/")
                .header("accept-language", "en")
                .body(Vec::new())
                .unwrap();
            block_on(handle(&host, &config, geo, request))
        };
        let h = page(geo.clone());
        assert!(
            host.beacons.borrow().is_empty(),
            "nothing is sent before the response"
        );
        assert!(
            matches!(h.background.last(), Some(Background::ReportTiming { .. })),
            "{:?}",
            h.background
        );
        let timing = h.response.headers()["server-timing"].to_str().unwrap();
        assert!(
            timing.contains(r#"region;desc="af-south";dur="#),
            "the nearest region's call: {timing}"
        );
        run_background(&host, h);
        run_background(&host, page(geo));
        run_background(
            &host,
            get(
                &host,
                &config,
                "http://sandton-care.localhost/v1/patients/x",
                &[],
            ),
        );
        let beacons = host.beacons.borrow();
        let summary: Vec<(&str, &str, &str, &str, u16)> = beacons
            .iter()
            .map(|(uri, t)| {
                (
                    uri.as_str(),
                    t.colo.as_str(),
                    t.route.as_str(),
                    t.cache.as_str(),
                    t.status,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("http://af.test/v1/edge-timings", "JNB", "page", "miss", 200),
                ("http://af.test/v1/edge-timings", "JNB", "page", "hit", 200),
                // No geo: the default region, no colo; the API consults no cache.
                (
                    "http://eu.test/v1/edge-timings",
                    "unknown",
                    "api_patient",
                    "none",
                    401
                ),
            ]
        );
        assert_eq!(
            host.calls.borrow().len(),
            1,
            "beacons are not data calls: the cold page's one batch"
        );
    }

    #[test]
    fn refusals_cost_no_region_call() {
        let (host, config, api) = setup();
        let now = host.now_millis() / 1000;
        let other = api
            .sign_api(
                "casablanca-sante".parse().unwrap(),
                "t",
                "system/Patient.cruds",
                now,
                60,
            )
            .unwrap();
        let weak = api
            .sign_api(
                "sandton-care".parse().unwrap(),
                "t",
                "system/Observation.rs",
                now,
                60,
            )
            .unwrap();
        for (auth, status) in [(None, 401), (Some(other), 403), (Some(weak), 403)] {
            let auth = auth.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("authorization", a.as_str())).collect();
            let r = get(
                &host,
                &config,
                "http://sandton-care.localhost/v1/patients",
                &headers,
            )
            .response;
            assert_eq!(r.status(), status);
            let body: Value = serde_json::from_slice(r.body()).unwrap();
            assert_eq!(body["resourceType"], "OperationOutcome");
        }
        let token = api
            .sign_api(
                "sandton-care".parse().unwrap(),
                "t",
                "system/Patient.cruds",
                now,
                60,
            )
            .unwrap();
        let r = get(
            &host,
            &config,
            "http://sandton-care.localhost/v1/patients/nope",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .response;
        assert_eq!(r.status(), 404);
        assert!(host.calls.borrow().is_empty());
    }

    #[test]
    fn the_token_endpoint_refuses_what_it_can_without_a_call() {
        let (host, config, _) = setup();
        let send = |method: &str, path: &str, content_type: Option<&str>, body: &str| {
            let mut b = Request::builder()
                .method(method)
                .uri(format!("http://sandton-care.localhost{path}"));
            if let Some(t) = content_type {
                b = b.header("content-type", t);
            }
            block_on(handle(
                &host,
                &config,
                GeoHint::default(),
                b.body(body.as_bytes().to_vec()).unwrap(),
            ))
            .response
        };
        let error = |r: &Response<Vec<u8>>| -> String {
            let v: Value = serde_json::from_slice(r.body()).unwrap();
            v["error"].as_str().unwrap_or_default().to_owned()
        };
        let json = send("POST", "/oauth/token", Some("application/json"), "{}");
        assert_eq!(
            (json.status().as_u16(), error(&json)),
            (400, "invalid_request".into())
        );
        assert_eq!(json.headers()["cache-control"], "no-store");
        assert_eq!(json.headers()["pragma"], "no-cache");
        let twice = send(
            "POST",
            "/oauth/token",
            Some("application/x-www-form-urlencoded"),
            "grant_type=client_credentials&grant_type=client_credentials",
        );
        assert_eq!(
            (twice.status().as_u16(), error(&twice)),
            (400, "invalid_request".into())
        );
        let huge = send(
            "POST",
            "/oauth/revoke",
            Some("application/x-www-form-urlencoded"),
            &format!("token={}", "a".repeat(crate::oauth::MAX_FORM_BYTES)),
        );
        assert_eq!(huge.status(), 400);
        let get = send("GET", "/oauth/introspect", None, "");
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
        // Discovery: answered from the configuration alone.
        let jwks = send("GET", "/.well-known/jwks.json", None, "");
        assert_eq!(jwks.status(), 200);
        let keys: Value = serde_json::from_slice(jwks.body()).unwrap();
        assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
        let smart = send("GET", "/.well-known/smart-configuration", None, "");
        let c: Value = serde_json::from_slice(smart.body()).unwrap();
        assert_eq!(
            c["token_endpoint"],
            "http://sandton-care.localhost/oauth/token"
        );
        assert!(host.calls.borrow().is_empty(), "{:?}", host.calls.borrow());
    }

    /// `Patient/{id}/$access-log` is one search of the clinic's AuditEvents about that
    /// patient, newest first, its links at the operation's URL; it needs AuditEvent's scope
    /// by name (a wildcard or Patient's scope is refused at the edge, with no call).
    #[test]
    fn the_access_log_is_one_search_of_the_trail_and_needs_its_scope() {
        let (host, config, api) = setup();
        let now = host.now_millis() / 1000;
        let id = "5b0c1a2e-1111-4222-8333-444455556666";
        let url = format!("http://sandton-care.localhost/v1/patients/{id}/$access-log?_count=5");
        let with = |scope: &str| {
            let token = api
                .sign_api("sandton-care".parse().unwrap(), "admin-1", scope, now, 60)
                .unwrap();
            get(
                &host,
                &config,
                &url,
                &[("authorization", &format!("Bearer {token}"))],
            )
            .response
        };
        for scope in [
            "system/*.cruds",
            "system/Patient.cruds",
            "system/AuditEvent.r",
        ] {
            assert_eq!(with(scope).status(), 403, "{scope}");
        }
        assert!(host.calls.borrow().is_empty());

        let r = with("system/AuditEvent.rs");
        assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["type"], "searchset");
        let self_link = body["link"][0]["url"].as_str().unwrap();
        assert!(
            self_link.starts_with(&format!(
                "http://sandton-care.localhost/v1/patients/{id}/$access-log?_count=5&_sort=-date&patient="
            )),
            "{self_link}"
        );
        let calls = host.calls.borrow();
        let batches: Vec<&BatchRequest> = calls.iter().filter_map(|(_, b)| b.as_ref()).collect();
        assert_eq!(batches.len(), 1, "one region call");
        let search = &batches[0].statements[0];
        assert_eq!(search.name, "auditevent.search-by-date-desc");
        assert_eq!(search.params[2], json!(id), "the patient filter");
        assert_eq!(search.params.last(), Some(&json!(6)), "_count + 1");
    }

    #[test]
    fn unknown_clinics_and_bad_hosts_get_localized_pages() {
        let (host, config, _) = setup();
        let r = run_background(
            &host,
            get(
                &host,
                &config,
                "http://ghost.localhost/",
                &[("accept-language", "es")],
            ),
        );
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["content-language"], "es");
        // The miss is remembered: no second call.
        let r = get(
            &host,
            &config,
            "http://ghost.localhost/",
            &[("accept-language", "ar")],
        )
        .response;
        assert_eq!(r.status(), 404);
        assert_eq!(host.calls.borrow().len(), 1);
        let r = get(&host, &config, "http://localhost/", &[]).response;
        assert_eq!(r.status(), 404, "the apex alone names no clinic");
        let r = block_on(handle(
            &host,
            &config,
            GeoHint::default(),
            Request::builder()
                .uri("/")
                .header("host", "bad host!")
                .body(Vec::new())
                .unwrap(),
        ))
        .response;
        assert_eq!(r.status(), 400);
    }

    #[test]
    fn what_an_adapter_cannot_read_is_a_400_in_the_form_the_path_asks_for() {
        let unreadable = |target: &str| Unreadable {
            target: target.into(),
            accept_language: Some("ar, en;q=0.5".into()),
            fault: "a header",
        };
        let page = unreadable("/anything?x=1").response();
        assert_eq!(page.status(), 400);
        assert_eq!(page.headers()["content-language"], "ar");
        let api = unreadable("/v1/patients?name=x").response();
        assert_eq!(api.status(), 400);
        let body: Value = serde_json::from_slice(api.body()).unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome");
        assert_eq!(
            body["issue"][0]["diagnostics"],
            "the request cannot be read: a header"
        );
    }

    #[test]
    fn bodies_are_read_up_to_the_limit_and_a_broken_stream_is_none() {
        let chunks = |sizes: Vec<usize>, fail_at: Option<usize>| {
            let mut i = 0;
            block_on(read_body(async || {
                let n = *sizes.get(i)?;
                i += 1;
                Some(if Some(i) == fail_at {
                    Err(())
                } else {
                    Ok(vec![7u8; n])
                })
            }))
        };
        assert_eq!(chunks(vec![3, 4], None).map(|b| b.len()), Some(7));
        assert_eq!(chunks(vec![], None), Some(Vec::new()));
        let huge = vec![
            BODY_READ_LIMIT / 2,
            BODY_READ_LIMIT,
            BODY_READ_LIMIT,
            BODY_READ_LIMIT,
        ];
        assert_eq!(
            chunks(huge, Some(3)).map(|b| b.len()),
            Some(BODY_READ_LIMIT),
            "stops reading at the limit"
        );
        assert_eq!(chunks(vec![3, 4, 5], Some(2)), None);
    }

    /// A region that is down is a 503 the regions count; one that answers garbage is a
    /// 503 too for the visitor, and an error in our log.
    #[test]
    fn a_region_answering_outside_the_protocol_is_logged() {
        let (host, _, _) = setup();
        let down = deployment("eu-west=http://down.test");
        let r = get(&host, &down, "http://casablanca-sante.localhost/", &[]).response;
        assert_eq!(r.status(), 503);
        assert!(host.logs.borrow().is_empty(), "{:?}", host.logs.borrow());
        let garbage = deployment("eu-west=http://garbage.test");
        let r = get(&host, &garbage, "http://casablanca-sante.localhost/", &[]).response;
        assert_eq!(r.status(), 503);
        let logs = host.logs.borrow();
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert_eq!(logs[0].0, LogLevel::Error);
        assert!(
            logs[0]
                .1
                .starts_with("home page: region eu-west answered outside the protocol"),
            "{logs:?}"
        );
    }

    #[test]
    fn a_broken_configuration_is_a_generic_500() {
        let (host, _, _) = setup();
        let h = block_on(serve(
            &host,
            |_| None,
            GeoHint::default(),
            Request::builder()
                .uri("http://a.localhost/")
                .body(Vec::new())
                .unwrap(),
        ));
        assert_eq!(h.response.status(), 500);
        assert!(!String::from_utf8_lossy(h.response.body()).contains("APEX_DOMAIN"));
        assert_eq!(
            *host.logs.borrow(),
            [(
                LogLevel::Error,
                "edge configuration: missing configuration variable APEX_DOMAIN".to_owned()
            )],
            "the operator learns what the visitor does not"
        );
    }

    /// `POST /v1/patients` on sandton-care as `subject`, with extra headers.
    fn post_patient(
        host: &TestHost,
        config: &EdgeConfig,
        api: &SigningKey,
        subject: &str,
        headers: &[(&str, HeaderValue)],
    ) -> Response<Vec<u8>> {
        let token = api
            .sign_api(
                "sandton-care".parse().unwrap(),
                subject,
                "system/Patient.cruds",
                host.now_millis() / 1000,
                60,
            )
            .unwrap();
        let mut b = Request::builder()
            .method("POST")
            .uri("http://sandton-care.localhost/v1/patients")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/fhir+json");
        for (k, v) in headers {
            b = b.header(*k, v.clone());
        }
        let body = json!({"resourceType": "Patient", "name": [{"family": "Idem", "given": ["Po"]}],
                          "gender": "female", "birthDate": "1990-01-01"});
        run_background(
            host,
            block_on(handle(
                host,
                config,
                GeoHint::default(),
                b.body(body.to_string().into_bytes()).unwrap(),
            )),
        )
    }

    fn sent_idempotency(host: &TestHost, call: usize) -> crate::dataplane::wire::Idempotency {
        host.calls.borrow()[call]
            .1
            .as_ref()
            .unwrap()
            .idempotency
            .clone()
            .expect("a write carries an idempotency key")
    }

    #[test]
    fn writes_carry_a_namespaced_key_and_replays_are_flagged() {
        let (host, config, api) = setup();
        let key = |k: &'static str| [("idempotency-key", HeaderValue::from_static(k))];

        // No key from the client: the edge draws one of its own.
        let r = post_patient(&host, &config, &api, "app-1", &[]);
        assert_eq!(r.status(), 201, "{}", String::from_utf8_lossy(r.body()));
        assert!(r.headers().get("idempotent-replayed").is_none());
        let drawn = sent_idempotency(&host, 0);
        assert!(drawn.key.starts_with("edge:"), "{}", drawn.key);
        assert_eq!(drawn.fingerprint.len(), 64);

        // The client's key, namespaced by its subject; the fingerprint does not depend on
        // the key but on who sent what.
        let r = post_patient(&host, &config, &api, "app-1", &key("order-42"));
        assert_eq!(r.status(), 201);
        let first = sent_idempotency(&host, 1);
        assert_eq!(
            first.key,
            format!(
                "{}:order-42",
                api::idempotency::hex(&hmac_sha256::Hash::hash(b"app-1"))
            )
        );
        assert_eq!(first.fingerprint, drawn.fingerprint);
        let r = post_patient(&host, &config, &api, "app-2", &key("order-42"));
        assert_eq!(r.status(), 201);
        let other = sent_idempotency(&host, 2);
        assert_ne!(other.key, first.key, "two apps never share a key");
        assert_ne!(other.fingerprint, first.fingerprint);
        assert_eq!(host.calls.borrow().len(), 3, "one call per write");

        // The region replays: the client that sent the key is told so.
        host.replay.set(true);
        let r = post_patient(&host, &config, &api, "app-1", &key("order-42"));
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["idempotent-replayed"], "true");
        assert_eq!(sent_idempotency(&host, 3), first);
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["id"], "00000000-0000-4000-8000-000000000001");
        let r = post_patient(&host, &config, &api, "app-1", &[]);
        assert!(
            r.headers().get("idempotent-replayed").is_none(),
            "a replay of the edge's own retry is this request's answer"
        );
    }

    #[test]
    fn a_lost_write_is_retried_once_with_the_same_key() {
        let (host, config, api) = setup();
        host.lost_batches.set(1);
        let r = post_patient(&host, &config, &api, "app-1", &[]);
        assert_eq!(r.status(), 201, "{}", String::from_utf8_lossy(r.body()));
        assert_eq!(host.calls.borrow().len(), 2);
        assert_eq!(sent_idempotency(&host, 0), sent_idempotency(&host, 1));

        host.lost_batches.set(2);
        let r = post_patient(&host, &config, &api, "app-1", &[]);
        assert_eq!(r.status(), 503, "one retry only");
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(host.calls.borrow().len(), 4);
        assert_ne!(
            sent_idempotency(&host, 2),
            sent_idempotency(&host, 0),
            "a new request, a new key"
        );
        assert_eq!(sent_idempotency(&host, 2), sent_idempotency(&host, 3));

        // Reads carry no key and are not retried.
        host.lost_batches.set(1);
        let token = api
            .sign_api(
                "sandton-care".parse().unwrap(),
                "app-1",
                "system/Patient.rs",
                host.now_millis() / 1000,
                60,
            )
            .unwrap();
        let r = get(
            &host,
            &config,
            "http://sandton-care.localhost/v1/patients",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .response;
        assert_eq!(r.status(), 503);
        let calls = host.calls.borrow();
        assert_eq!(calls.len(), 5);
        assert_eq!(calls[4].1.as_ref().unwrap().idempotency, None);
    }

    #[test]
    fn a_bad_idempotency_key_is_refused_without_a_region_call() {
        let (host, config, api) = setup();
        let long = HeaderValue::from_str(&"k".repeat(256)).unwrap();
        let cases: Vec<Vec<(&str, HeaderValue)>> = vec![
            vec![("idempotency-key", HeaderValue::from_static(""))],
            vec![("idempotency-key", long)],
            vec![("idempotency-key", HeaderValue::from_static("two words"))],
            vec![(
                "idempotency-key",
                HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
            )],
            vec![
                ("idempotency-key", HeaderValue::from_static("a")),
                ("idempotency-key", HeaderValue::from_static("b")),
            ],
        ];
        for headers in cases {
            let r = post_patient(&host, &config, &api, "app-1", &headers);
            assert_eq!(r.status(), 400, "{headers:?}");
            let body: Value = serde_json::from_slice(r.body()).unwrap();
            assert_eq!(body["resourceType"], "OperationOutcome");
            assert_eq!(body["issue"][0]["expression"][0], "Idempotency-Key");
        }
        assert!(host.calls.borrow().is_empty());
        let longest = HeaderValue::from_str(&"~".repeat(255)).unwrap();
        let r = post_patient(
            &host,
            &config,
            &api,
            "app-1",
            &[("idempotency-key", longest)],
        );
        assert_eq!(r.status(), 201);
    }
    #[test]
    fn writes_answer_their_lsn_and_reads_pass_the_clients_back_to_the_home_region() {
        let (host, config, api) = setup();
        let r = post_patient(&host, &config, &api, "app-1", &[]);
        assert_eq!(r.status(), 201);
        // The test region answers as eu-west.
        assert_eq!(r.headers()[api::lsn::LSN_HEADER], "eu-west:0/16B3740");
        host.calls.borrow_mut().clear();

        let token = api
            .sign_api(
                "sandton-care".parse().unwrap(),
                "t",
                "system/Patient.rs",
                host.now_millis() / 1000,
                60,
            )
            .unwrap();
        let auth = format!("Bearer {token}");
        let read = |min_lsn: &str| {
            get(
                &host,
                &config,
                "http://sandton-care.localhost/v1/patients/00000000-0000-4000-8000-000000000001",
                &[("authorization", &auth), ("x-telemed-min-lsn", min_lsn)],
            )
            .response
        };
        let sent_min_lsn = |call: usize| {
            host.calls.borrow()[call]
                .1
                .as_ref()
                .unwrap()
                .min_lsn
                .clone()
        };
        // The clinic (home af-south) is known from the write's directory entry.
        assert_eq!(read("af-south:0/1a").status(), 200);
        assert_eq!(sent_min_lsn(0).as_deref(), Some("0/1A"));
        // A position of another region means nothing to the home region's replica.
        assert_eq!(read("eu-west:0/16B3740").status(), 200);
        assert_eq!(sent_min_lsn(1), None);
        // Malformed: 400 with an OperationOutcome, and no call.
        let r = read("af-south:16B3740");
        assert_eq!(r.status(), 400);
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["resourceType"], "OperationOutcome");
        assert_eq!(body["issue"][0]["expression"][0], "X-Telemed-Min-Lsn");
        assert_eq!(host.calls.borrow().len(), 2);
    }
}
