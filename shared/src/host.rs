//! The ports: what the core needs from the platform it runs on. Each adapter implements
//! [`Host`] with its platform's primitives (workers-rs `Fetch`/`Cache`, spin-sdk `send`);
//! tests implement it natively. Nothing else in the core touches I/O, time or randomness.

use http::{Request, Response};

/// An outbound call that did not produce an HTTP response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("outbound request failed: {0}")]
pub struct FetchError(pub String);

/// How much a line of the log matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Degraded but served (a fallback was used).
    Warn,
    /// A request failed through a fault of ours: the deployment, this edge or a region.
    Error,
}

/// The platform under the core.
///
/// Both hosts run a request on one thread, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Sends a request to a region (absolute URI) over the platform's HTTP client, which
    /// keeps connections warm between requests where the platform allows.
    async fn fetch(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, FetchError>;

    /// Looks up the edge cache. `key` is an absolute `https://` URL built by
    /// [`crate::cache`]; a host without a cache returns `None`.
    async fn cache_get(&self, key: &str) -> Option<Response<Vec<u8>>>;

    /// Stores a response in the edge cache under `key`, honouring its `Cache-Control`.
    /// Failures are not the caller's concern: a cache is allowed to forget.
    async fn cache_put(&self, key: &str, response: Response<Vec<u8>>);

    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;

    /// Fills `buf` from the platform's cryptographically secure generator (idempotency
    /// keys the edge draws for its own writes). A platform without one cannot run the core.
    fn fill_random(&self, buf: &mut [u8]);

    /// Writes a line to the platform's log (Workers Logs, the host's stderr): what an
    /// operator needs to mend a failure that clients only see as a generic 5xx. Callers
    /// never pass secrets, tokens or health data.
    fn log(&self, level: LogLevel, message: &str);
}

/// Work that must not delay the response. The adapters run it after the response is sent
/// (`ctx.wait_until` on Workers; after the body is finished under wasi:http).
#[derive(Debug)]
pub enum Background {
    /// Fill the edge cache.
    CachePut {
        key: String,
        response: Response<Vec<u8>>,
    },
    /// Report this request's timing to the nearest region: a signed
    /// `POST /v1/edge-timings` (see [`crate::dataplane::wire::EdgeTiming`]), built by the
    /// core. Best effort: a lost beacon is a missing sample, never an error.
    ReportTiming { request: Request<Vec<u8>> },
}

impl Background {
    pub async fn run<H: Host>(self, host: &H) {
        match self {
            Background::CachePut { key, response } => host.cache_put(&key, response).await,
            Background::ReportTiming { request } => {
                let _ = host.fetch(request).await;
            }
        }
    }
}

/// What the core hands back to the adapter: the response, and work to finish afterwards.
#[derive(Debug)]
pub struct Handled {
    pub response: Response<Vec<u8>>,
    pub background: Vec<Background>,
}
