//! The HTTP service: `POST /v1/batch`, `POST /v1/sign-in`, `GET /v1/directory`,
//! `POST /v1/edge-timings`, `/healthz`, `/metrics`.
//!
//! A batch goes: edge token → catalog version → body size → parse → every statement known,
//! tenant-scoped and well typed → the clinic's directory entry → run here if this is its
//! home region, else forward the identical request once to its home region. Its answer
//! carries `Server-Timing: db;dur=<ms>`, the time spent in Postgres (relayed from the home
//! region when forwarded). A write batch with an idempotency key runs at most once: a
//! repeat gets the stored results with `telemed-idempotent-replay: true` ([`db::run_batch`]).
//!
//! Read/write split (DESIGN.md, "regional service"): a batch that writes runs on the
//! primary and its answer carries the commit's WAL position (`lsn`). A batch that only
//! reads runs on the replica (`REPLICA_DATABASE_URL`) when the replica is healthy and, if
//! the request carries `min_lsn` (the caller's last write), has replayed it: checked on
//! the replica connection before the batch runs, polled for up to [`REPLAY_WAIT`], and
//! otherwise the primary serves the read — a caller never reads older than its own write.
//! A replica that cannot be reached or fails a read is marked down for [`REPLICA_DOWN_FOR`]
//! and the read is retried on the primary: no error reaches the caller. `served_by` says
//! which server answered; `regional_reads_total{target}` counts them.
//!
//! Audit of replica reads: a replica is read-only, so the audit events of a read it served
//! are appended on the primary right after, in one short transaction, before the answer is
//! sent. The trade-off: trail and read no longer commit atomically (a read whose trail
//! cannot be written is answered with an error, so no data leaves without its trail, but a
//! crash between the two could leave a trail for a read never delivered), and a replica
//! read still costs one short primary statement when it touches health data.
//!
//! Primary down: writes are refused with `unavailable` (503 + `Retry-After`, nothing half
//! done); reads keep being served by the replica, their audit events spooled on this
//! instance's disk until the primary is back ([`crate::audit_spool`]); the directory falls
//! back to the replica, then to its stale cache ([`Directory`]). With `DATABASE_URL` listing
//! every server of the region and `target_session_attrs=read-write`, new connections find
//! the promoted replica by themselves after a failover.

use std::{
    collections::HashMap,
    future::Future,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use deadpool_postgres::Pool;
use serde::Deserialize;
use telemed_shared::{
    auth::{self, EdgeClaims, MAX_EDGE_LOCATION_CHARS, VerifyingKeys},
    dataplane::{
        catalog::{self, Access, SchemaScope},
        wire::{
            BATCH_PATH, BatchRequest, BatchResponse, CATALOG_HEADER, DIRECTORY_PATH,
            EDGE_TIMINGS_PATH, EdgeTiming, ErrorCode, FORWARDED_HEADER, Idempotency,
            MAX_BATCH_BYTES, MAX_EDGE_TIMING_BYTES, MAX_FINGERPRINT_BYTES,
            MAX_IDEMPOTENCY_KEY_BYTES, MAX_SIGN_IN_BYTES, MAX_STATEMENTS, OAUTH_PATH,
            RATES_JOB_PATH, REPLAY_HEADER, RatesRefreshed, RegionError, SERVED_BY_PRIMARY,
            SERVED_BY_REPLICA, SERVER_TIMING_HEADER, SIGN_IN_PATH, SignInRequest, StatementResult,
            format_lsn, parse_lsn,
        },
    },
    geo::{RegionId, RegionMap},
    ops::wire::{MAX_OPS_BYTES, OPS_PATH, OPS_SIGN_IN_PATH, OpsRequest},
    tenant::{HostName, TenantEntry, TenantSlug, TenantStatus},
};

use crate::{
    audit_spool::{self, AuditSpool},
    db::{self, Call},
    directory::Directory,
    error::{self, Error},
    metrics::{Metrics, code_label},
    params, sampling, vault,
};

/// Everything `serve` needs; built by the binary from flags and environment.
pub struct Config {
    /// This instance's region; must be in the region map.
    pub region: RegionId,
    /// This region's primary.
    pub database_url: String,
    /// The database holding the `control` schema; `None` when it is `database_url`.
    pub control_database_url: Option<String>,
    /// This region's streaming replica: read-only batches run there (see the module
    /// documentation), and it is sampled for `regional_replica_lag_seconds`. `None` when
    /// the region has none (every batch runs on the primary; the lag is exported as 0).
    pub replica_database_url: Option<String>,
    /// Public keys that edge tokens may be signed with (rotation: several).
    pub edge_keys: VerifyingKeys,
    /// Base URLs of the other regions' `regional-db`, for forwarding.
    pub peers: HashMap<RegionId, String>,
    /// Connections per pool.
    pub pool_size: usize,
    /// How long a request waits for a connection before answering `overloaded`.
    pub pool_wait: Duration,
    /// How long directory entries are cached.
    pub directory_ttl: Duration,
    /// Where the audit events of replica reads wait while the primary is down (see
    /// [`crate::audit_spool`]). Without it, such reads are refused.
    pub audit_spool_dir: Option<std::path::PathBuf>,
    /// The region's master keys (`MASTER_KEYS`), which wrap each clinic's data key (see
    /// [`crate::vault`]). Without them nothing can be sealed: creating a patient with a
    /// national identifier is refused (503).
    pub master_keys: Option<vault::MasterKeys>,
    /// The exchange-rates feed (the ECB's format) that `POST /v1/jobs/rates` fetches.
    pub rates_feed_url: String,
    /// Deliver the clinics' webhooks every so often ([`crate::jobs::webhooks::every`]),
    /// counted in `regional_webhook_deliveries_total`. `None`: by hand only (`regional-db
    /// jobs run webhooks`). Needs `master_keys` (the secrets are sealed).
    pub webhooks_every: Option<Duration>,
    /// The authorisation server's signing keys (`API_SIGNING_KEYS`: the first signs apps'
    /// access tokens, all verify them for introspection and revocation). Empty: this
    /// region issues no tokens (`/v1/oauth` answers 503).
    pub api_signing_keys: Vec<telemed_shared::auth::SigningKey>,
    /// Which URLs of apps (their key sets) and clinics (webhook endpoints) this region may
    /// call ([`crate::outbound`]).
    pub outbound: crate::outbound::OutboundPolicy,
    /// The operator connection (`OPERATOR_DATABASE_URL`): this region's primary as the
    /// schemas' owner, for operators' requests alone (`POST /v1/ops`, [`crate::ops`]):
    /// creating and dropping a clinic's schema and writing the directory are beyond the
    /// service's role. `None`: this instance refuses operators' requests (503).
    pub operator_database_url: Option<String>,
    /// The control plane's primary as its owner (`OPERATOR_CONTROL_DATABASE_URL`); `None`
    /// when it is `operator_database_url` (the control plane's own region).
    pub operator_control_database_url: Option<String>,
    /// Where a deleted clinic's export is written (`OPERATOR_EXPORT_DIR`).
    pub operator_export_dir: Option<std::path::PathBuf>,
    /// A stand-in for the system's DNS resolver in domain verification (tests).
    pub txt_lookup: Option<crate::ops::TxtLookup>,
}

impl Config {
    /// A configuration with the production defaults for the tunables.
    pub fn new(region: RegionId, database_url: String, edge_keys: VerifyingKeys) -> Self {
        Self {
            region,
            database_url,
            control_database_url: None,
            replica_database_url: None,
            edge_keys,
            peers: HashMap::new(),
            pool_size: 16,
            pool_wait: Duration::from_millis(250),
            directory_ttl: Duration::from_secs(5),
            audit_spool_dir: None,
            master_keys: None,
            rates_feed_url: crate::jobs::rates::ECB_DAILY.to_owned(),
            webhooks_every: None,
            api_signing_keys: Vec::new(),
            outbound: Default::default(),
            operator_database_url: None,
            operator_control_database_url: None,
            operator_export_dir: None,
            txt_lookup: None,
        }
    }
}

/// Parses `us-east=http://127.0.0.1:7102,af-south=http://…`.
pub fn parse_peers(list: &str) -> Result<HashMap<RegionId, String>, Error> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (region, url) = pair.split_once('=').ok_or_else(|| {
                Error::Config(format!("PEER_URLS entry {pair:?} is not region=url"))
            })?;
            let region: RegionId = region
                .trim()
                .parse()
                .map_err(|e| Error::Config(format!("PEER_URLS: {e}")))?;
            let url = url.trim().trim_end_matches('/');
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Config(format!(
                    "PEER_URLS: {url:?} is not an http(s) URL"
                )));
            }
            Ok((region, url.to_owned()))
        })
        .collect()
}

struct AppState {
    region: RegionId,
    pool: Pool,
    control: Pool,
    /// The control schema is in this region's database (one pool serves both).
    control_is_local: bool,
    directory: Directory,
    keys: VerifyingKeys,
    peers: HashMap<RegionId, String>,
    http: reqwest::Client,
    metrics: Metrics,
    /// A one-connection pool to the replica, for the lag sampler.
    replica: Option<Pool>,
    /// The replica's pool for reads (`pool_size` connections), and its health.
    reads: Option<ReplicaReads>,
    /// The audit trail of replica reads while the primary is down.
    spool: Option<AuditSpool>,
    /// Master keys and unwrapped data keys; `None` when none are configured (then a batch
    /// that would seal anything is refused).
    vault: Option<vault::Vault>,
    /// Where `POST /v1/jobs/rates` fetches the rates.
    rates_feed_url: String,
    /// The authorisation server, when this region has its keys.
    issuer: Option<crate::oauth::Issuer>,
    /// Operators' requests (`None` without an operator connection).
    ops: Option<crate::ops::OpsState>,
}

/// How long a read whose `min_lsn` the replica has not replayed waits for it before the
/// primary serves it.
pub const REPLAY_WAIT: Duration = Duration::from_millis(50);
const REPLAY_POLL: Duration = Duration::from_millis(10);
/// How long a replica that failed is left alone (reads go to the primary meanwhile).
pub const REPLICA_DOWN_FOR: Duration = Duration::from_secs(5);
/// The longest a read waits for a replica connection (busy pool or slow connect) before
/// the primary serves it.
const REPLICA_CHECKOUT: Duration = Duration::from_millis(500);

struct ReplicaReads {
    pool: Pool,
    /// Set when the replica failed (a checkout, a read, a lag sample): reads skip it until then.
    down_until: std::sync::Mutex<Option<Instant>>,
}

impl ReplicaReads {
    fn healthy(&self) -> bool {
        let down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        down.is_none_or(|until| Instant::now() >= until)
    }

    fn mark_down(&self) {
        *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + REPLICA_DOWN_FOR);
    }

    fn mark_up(&self) {
        *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Serves on `listener` until `shutdown` completes, then drains in-flight requests. The
/// background samplers (clinics by country, replica lag) run meanwhile.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let webhooks_every = config.webhooks_every;
    let webhooks = crate::jobs::webhooks::Settings::new(config.outbound);
    let state = app_state(config)?;
    // Sign-in's dummy hash is made before the first attempt needs it: otherwise that
    // attempt, for an unknown email, would cost two hashes and stand out by its timing.
    crate::passwords::dummy_hash().await;
    let mut samplers = tokio::task::JoinSet::new();
    {
        let state = state.clone();
        samplers.spawn(async move {
            sampling::tenants_loop(state.control.clone(), state.region.clone(), &state.metrics)
                .await;
        });
    }
    if let Some(replica) = state.replica.clone() {
        let state = state.clone();
        samplers.spawn(async move {
            sampling::replica_lag_loop(replica, &state.metrics, |ok| {
                if let Some(reads) = &state.reads {
                    if ok {
                        reads.mark_up()
                    } else {
                        reads.mark_down()
                    }
                }
            })
            .await;
        });
    }
    if state.spool.is_some() {
        let state = state.clone();
        samplers.spawn(async move {
            if let Some(spool) = &state.spool {
                audit_spool::drain_loop(spool, state.pool.clone(), |n| {
                    state.metrics.audit_spooled.set(n as i64)
                })
                .await;
            }
        });
    }
    if let Some(period) = webhooks_every {
        let state = state.clone();
        samplers.spawn(async move {
            let Some(vault) = &state.vault else {
                tracing::error!("webhook deliveries off: no MASTER_KEYS to open the secrets");
                return;
            };
            crate::jobs::webhooks::every(
                period,
                webhooks,
                state.region.clone(),
                state.pool.clone(),
                state.control.clone(),
                vault,
                |o| {
                    state
                        .metrics
                        .webhook_deliveries
                        .with_label_values(&[o.label()])
                        .inc()
                },
            )
            .await;
        });
    }
    let served = axum::serve(listener, routes(state))
        .with_graceful_shutdown(shutdown)
        .await;
    samplers.shutdown().await;
    served?;
    Ok(())
}

/// The service's routes over a fresh state (pools connect lazily: start-up does not need
/// the database). Without [`run`]'s background samplers: `regional_tenants` stays empty.
pub fn router(config: Config) -> Result<Router, Error> {
    Ok(routes(app_state(config)?))
}

fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route(BATCH_PATH, post(batch))
        .route(DIRECTORY_PATH, get(directory))
        .route(EDGE_TIMINGS_PATH, post(edge_timings))
        .route(RATES_JOB_PATH, post(refresh_rates))
        .route(SIGN_IN_PATH, post(sign_in))
        .route(OAUTH_PATH, post(oauth))
        .route(OPS_SIGN_IN_PATH, post(ops_sign_in))
        .route(OPS_PATH, post(ops))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

fn app_state(config: Config) -> Result<Arc<AppState>, Error> {
    if RegionMap::embedded().get(config.region.as_str()).is_none() {
        return Err(Error::Config(format!(
            "region {} is not in the region map",
            config.region
        )));
    }
    let pool = db::pool(&config.database_url, config.pool_size, config.pool_wait)?;
    let control_is_local = config
        .control_database_url
        .as_ref()
        .is_none_or(|url| url == &config.database_url);
    let control = match &config.control_database_url {
        Some(url) if !control_is_local => db::pool(url, config.pool_size, config.pool_wait)?,
        _ => pool.clone(),
    };
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(15))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
    let replica = config
        .replica_database_url
        .as_deref()
        .map(|url| db::pool(url, 1, Duration::from_secs(1)))
        .transpose()?;
    let reads = config
        .replica_database_url
        .as_deref()
        .map(|url| {
            Ok::<_, Error>(ReplicaReads {
                pool: db::pool(url, config.pool_size, REPLICA_CHECKOUT)?,
                down_until: std::sync::Mutex::new(None),
            })
        })
        .transpose()?;
    let spool = config
        .audit_spool_dir
        .map(AuditSpool::open)
        .transpose()
        .map_err(|e| Error::Config(e.to_string()))?;
    let ops = match &config.operator_database_url {
        None => None,
        Some(url) => {
            let pool = db::pool(url, 4, Duration::from_secs(5))?;
            let local = config
                .operator_control_database_url
                .as_ref()
                .is_none_or(|c| c == url);
            let control = match &config.operator_control_database_url {
                Some(c) if !local => db::pool(c, 4, Duration::from_secs(5))?,
                _ => pool.clone(),
            };
            Some(crate::ops::OpsState {
                pool,
                control,
                control_is_local: local,
                export_dir: config.operator_export_dir.clone(),
                txt: config.txt_lookup.clone(),
            })
        }
    };
    let metrics = Metrics::new(replica.is_some());
    // The local replica holds the control schema only when it is the local database's.
    let directory = Directory::new(control.clone(), config.directory_ttl).with_fallback(
        reads
            .as_ref()
            .filter(|_| control_is_local)
            .map(|r| r.pool.clone()),
        metrics.directory_fallbacks.clone(),
    );
    // Apps' key sets are fetched by a client of their own that connects to public
    // addresses only (crate::outbound: DNS rebinding), not by the peers' client.
    let jwks_http = config
        .outbound
        .client_builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
    let issuer = crate::oauth::Issuer::new(config.api_signing_keys, jwks_http, config.outbound);
    Ok(Arc::new(AppState {
        region: config.region,
        directory,
        pool,
        control,
        control_is_local,
        keys: config.edge_keys,
        peers: config.peers,
        http,
        metrics,
        replica,
        reads,
        spool,
        vault: config.master_keys.map(vault::Vault::new),
        rates_feed_url: config.rates_feed_url,
        issuer,
        ops,
    }))
}

/// A refusal as the wire says: JSON `RegionError`, its code's status, `Retry-After` when a
/// retry can help.
fn refuse(state: &AppState, err: RegionError) -> Response {
    state
        .metrics
        .errors
        .with_label_values(&[&code_label(err.code)])
        .inc();
    let status =
        StatusCode::from_u16(err.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, axum::Json(&err)).into_response();
    if err.code.retryable() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// `ok`, or the status code: relayed answers of a home region have no local error code.
fn outcome(resp: &Response) -> String {
    if resp.status().is_success() {
        "ok".to_owned()
    } else {
        resp.status().as_str().to_owned()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn verify(state: &AppState, headers: &HeaderMap) -> Result<EdgeClaims, RegionError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    auth::bearer(value)
        .and_then(|token| state.keys.verify_edge(token, now_secs()))
        .map_err(|e| RegionError::new(ErrorCode::Unauthorized, e.to_string()))
}

async fn batch(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let forwarded_by = forwarded_by(&headers);
    state
        .metrics
        .batches
        .with_label_values(&[if forwarded_by.is_some() {
            "forwarded"
        } else {
            "edge"
        }])
        .inc();
    let result = batch_inner(&state, &headers, body, forwarded_by.as_deref()).await;
    finish(&state, "batch", started, result)
}

/// The region that forwarded this request (`FORWARDED_HEADER`), if one did.
fn forwarded_by(headers: &HeaderMap) -> Option<String> {
    headers
        .get(FORWARDED_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A handler's answer: its response, or its refusal in the protocol's error shape; timed
/// under `route` in `regional_request_duration_seconds`.
fn finish(
    state: &AppState,
    route: &'static str,
    started: Instant,
    result: Result<Response, RegionError>,
) -> Response {
    let resp = result.unwrap_or_else(|err| refuse(state, err));
    state
        .metrics
        .request_duration
        .with_label_values(&[route, &outcome(&resp)])
        .observe(started.elapsed().as_secs_f64());
    resp
}

async fn batch_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    forwarded_by: Option<&str>,
) -> Result<Response, RegionError> {
    let claims = verify(state, headers)?;
    let catalog_version = headers.get(CATALOG_HEADER).and_then(|v| v.to_str().ok());
    if catalog_version != Some(catalog::version()) {
        return Err(RegionError::new(
            ErrorCode::CatalogMismatch,
            format!(
                "this region runs catalog {}, the request was built for {}",
                catalog::version(),
                catalog_version.unwrap_or("none")
            ),
        ));
    }
    let slug = claims.tenant.clone().ok_or_else(|| {
        RegionError::new(ErrorCode::Unauthorized, "the edge token names no clinic")
    })?;

    let bytes = bounded_body(headers, body, MAX_BATCH_BYTES, "a batch body").await?;
    let request: BatchRequest = serde_json::from_slice(&bytes)
        .map_err(|e| RegionError::new(ErrorCode::BadRequest, format!("malformed batch: {e}")))?;
    if request.statements.len() > MAX_STATEMENTS {
        return Err(RegionError::new(
            ErrorCode::TooLarge,
            format!(
                "a batch has at most {MAX_STATEMENTS} statements, this one has {}",
                request.statements.len()
            ),
        ));
    }
    // Names first, before any round trip; parameters once the data key is known (after
    // forwarding: only the clinic's home region holds it).
    let statements = request
        .statements
        .iter()
        .enumerate()
        .map(|(i, call)| {
            catalog::lookup(&call.name)
                .filter(|s| s.scope == SchemaScope::Tenant)
                .ok_or_else(|| {
                    RegionError::new(
                        ErrorCode::UnknownStatement,
                        format!("no tenant statement named {:?}", call.name),
                    )
                    .at(i)
                })
        })
        .collect::<Result<Vec<&'static catalog::Statement>, RegionError>>()?;
    if let Some(idem) = &request.idempotency {
        check_idempotency(idem, &statements)?;
    }
    let min_lsn = request
        .min_lsn
        .as_deref()
        .map(|s| {
            parse_lsn(s).map(format_lsn).ok_or_else(|| {
                RegionError::new(
                    ErrorCode::BadRequest,
                    format!("min_lsn {s:?} is not an LSN (X/Y, hexadecimal)"),
                )
            })
        })
        .transpose()?;

    let entry = tenant_entry(state, &slug).await?;
    if entry.home_region != state.region {
        if let Some(from) = forwarded_by {
            // Directories disagree (a move in progress, a stale cache): never bounce twice.
            tracing::warn!(tenant = %slug, home = %entry.home_region, from, "forwarded batch for a clinic not homed here");
            return Err(RegionError::new(
                ErrorCode::Unavailable,
                format!(
                    "clinic {slug} is not homed in {} (forwarded by {from}); not forwarding again",
                    state.region
                ),
            ));
        }
        return forward(state, headers, bytes, &entry.home_region, BATCH_PATH).await;
    }

    let edge = claims.edge.as_deref().map(|e| {
        // Signed by our own edge, but bounded all the same: it is stored with every record.
        e.char_indices()
            .nth(MAX_EDGE_LOCATION_CHARS)
            .map_or(e, |(cut, _)| &e[..cut])
    });
    let who = db::Requester {
        actor: claims.actor.as_deref().unwrap_or("edge"),
        edge,
        app: claims.app.as_ref(),
    };
    let metrics = &state.metrics;
    let read_only = statements.iter().all(|s| s.access == Access::Read);
    let needs_key = statements
        .iter()
        .any(|s| s.params.iter().any(|p| p.ty.needs_data_key()));
    let data_key = if needs_key {
        data_key(state, &slug, read_only).await?
    } else {
        None
    };
    // Passwords become their hashes here, in the home region, before anything is bound.
    let mut sent = request.statements;
    for (i, (statement, call)) in statements.iter().zip(sent.iter_mut()).enumerate() {
        for (param, value) in statement.params.iter().zip(call.params.iter_mut()) {
            if param.ty == catalog::ParamType::Password {
                crate::passwords::protect(value, i, param.name).await?;
            }
            // An app's webhook key: read here and sealed with the clinic's key, never sent.
            if param.ty == catalog::ParamType::AppWebhookSecret {
                crate::apps::seal_webhook_secret(&state.pool, data_key.as_deref(), value)
                    .await
                    .map_err(|e| e.at(i))?;
            }
        }
    }
    let calls = statements
        .iter()
        .zip(sent)
        .enumerate()
        .map(|(i, (statement, call))| {
            let mut values = call.params;
            for (param, value) in statement.params.iter().zip(values.iter_mut()) {
                vault::protect(param.ty, value, data_key.as_deref()).map_err(|e| {
                    vault_error(&slug, &e);
                    RegionError::new(
                        ErrorCode::Unavailable,
                        "this region cannot seal the clinic's data now",
                    )
                    .at(i)
                })?;
            }
            Ok(Call {
                statement,
                subject: named_id(statement, &values),
                params: params::convert(statement, i, &values)?,
            })
        })
        .collect::<Result<Vec<_>, RegionError>>()?;
    // Postgres time: the transaction from BEGIN to COMMIT (not the wait for a connection).
    let mut db_started = Instant::now();
    // An app's call is served by the primary: an uninstall or a revocation takes effect on
    // its very next call, not once the replica has replayed it.
    let on_replica = match &state.reads {
        Some(reads) if read_only && who.app.is_none() => {
            read_on_replica(state, reads, &slug, &who, &calls, min_lsn.as_deref()).await?
        }
        _ => None,
    };
    let (mut ran, served_by) = match on_replica {
        Some(ran) => (ran, SERVED_BY_REPLICA),
        None => {
            let mut client = state.pool.get().await.map_err(|e| error::from_pool(&e))?;
            if state.reads.is_some() && read_only {
                // The replica's attempt is not Postgres time of this answer.
                db_started = Instant::now();
            }
            let ran = db::run_batch(
                &mut client,
                &slug,
                &who,
                &calls,
                request.idempotency.as_ref(),
                |stmt, took, outcome| observe_statement(metrics, stmt, took, outcome),
            )
            .await?;
            (ran, SERVED_BY_PRIMARY)
        }
    };
    if read_only {
        metrics.reads.with_label_values(&[served_by]).inc();
    }
    let db_millis = db_started.elapsed().as_secs_f64() * 1000.0;
    open_sealed(state, &slug, read_only, data_key, &mut ran.results).await?;
    let response = BatchResponse {
        region: state.region.clone(),
        results: ran.results,
        directory: request.want_directory.then_some(entry),
        replayed: ran.replayed,
        lsn: ran.lsn,
        served_by: Some(served_by.to_owned()),
    };
    let mut resp = axum::Json(response).into_response();
    if ran.replayed {
        resp.headers_mut()
            .insert(REPLAY_HEADER, HeaderValue::from_static("true"));
    }
    if let Ok(v) = HeaderValue::from_str(&format!("db;dur={db_millis:.1}")) {
        resp.headers_mut().insert(SERVER_TIMING_HEADER, v);
    }
    Ok(resp)
}

fn observe_statement(
    metrics: &Metrics,
    stmt: &catalog::Statement,
    took: Duration,
    outcome: Result<(), &RegionError>,
) {
    let outcome = match outcome {
        Ok(()) => "ok".to_owned(),
        Err(e) => code_label(e.code),
    };
    metrics
        .statement_duration
        .with_label_values(&[stmt.name, &outcome])
        .observe(took.as_secs_f64());
}

/// Runs a read-only batch on the replica, if it is healthy and has replayed `min_lsn`
/// (waiting up to [`REPLAY_WAIT`] for it), then appends its audit events on the primary.
/// `None`: the primary must serve it (counted in `regional_replica_fallbacks_total`); a
/// replica that failed is marked down. An error only when the audit trail cannot be
/// written: the rows are then not returned.
async fn read_on_replica(
    state: &AppState,
    reads: &ReplicaReads,
    slug: &TenantSlug,
    who: &db::Requester<'_>,
    calls: &[Call],
    min_lsn: Option<&str>,
) -> Result<Option<db::Ran>, RegionError> {
    let fallback = |reason: &str| {
        state
            .metrics
            .replica_fallbacks
            .with_label_values(&[reason])
            .inc()
    };
    if !reads.healthy() {
        fallback("unhealthy");
        return Ok(None);
    }
    let mut client = match reads.pool.get().await {
        Ok(client) => client,
        Err(deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait)) => {
            // Busy, not broken: the primary takes this one.
            fallback("error");
            return Ok(None);
        }
        Err(e) => {
            tracing::warn!(error = %e, "replica unreachable; reads go to the primary");
            reads.mark_down();
            fallback("error");
            return Ok(None);
        }
    };
    if let Some(lsn) = min_lsn {
        let deadline = Instant::now() + REPLAY_WAIT;
        loop {
            match db::replayed(&client, lsn).await {
                Ok(true) => break,
                Ok(false) if Instant::now() < deadline => tokio::time::sleep(REPLAY_POLL).await,
                Ok(false) => {
                    fallback("lagging");
                    return Ok(None);
                }
                Err(e) => {
                    tracing::warn!(error = %error::describe(&e), "replica replay check failed; reads go to the primary");
                    reads.mark_down();
                    fallback("error");
                    return Ok(None);
                }
            }
        }
    }
    let metrics = &state.metrics;
    let ran = db::run_batch_with(
        &mut client,
        slug,
        who,
        calls,
        None,
        db::AuditMode::Deferred,
        |stmt, took, outcome| observe_statement(metrics, stmt, took, outcome),
    )
    .await;
    drop(client);
    let ran = match ran {
        Ok(ran) => ran,
        Err(e) => {
            // A bad parameter would fail on the primary too, and say so; anything else
            // (connection lost, recovery conflict) is the replica's fault.
            if !matches!(
                e.code,
                ErrorCode::BadRequest
                    | ErrorCode::InvalidValue
                    | ErrorCode::Conflict
                    | ErrorCode::ConstraintViolation
            ) {
                tracing::warn!(error = %e, "replica read failed; reads go to the primary");
                reads.mark_down();
            }
            fallback("error");
            return Ok(None);
        }
    };
    // A look-up by a required id that the replica does not have may be a write it has not
    // replayed yet (synchronous replication waits for the standby's flush, not its replay),
    // asked for by a client that sent no `min_lsn` (a generic FHIR client reading back what
    // it just created). The primary answers it, when it can be reached; otherwise the
    // replica's answer stands.
    if missed_by_id(calls, &ran.results) && state.pool.get().await.is_ok() {
        fallback("missed");
        return Ok(None);
    }
    if !ran.deferred_audit.is_empty() {
        audit_replica_read(state, slug, who.actor, &ran.deferred_audit).await?;
    }
    Ok(Some(ran))
}

/// Whether a look-up of one resource by its `id` (a read) found nothing. Only such a
/// statement says "this does not exist"; an empty search, or a patient without readings,
/// is an ordinary answer the replica gives as well as the primary.
fn missed_by_id(calls: &[Call], results: &[StatementResult]) -> bool {
    calls.iter().zip(results).any(|(call, result)| {
        result.rows.is_empty()
            && call
                .statement
                .params
                .iter()
                .any(|p| p.name == "id" && p.ty == catalog::ParamType::Uuid && !p.nullable)
    })
}

/// Appends the audit events of a replica read on the primary, or — the primary being down
/// or saturated — to this instance's spool (durably, before the answer). An error, and no
/// answer, only when neither can take them.
async fn audit_replica_read(
    state: &AppState,
    slug: &TenantSlug,
    actor: &str,
    entries: &[db::AuditEntry],
) -> Result<(), RegionError> {
    let on_primary = async {
        let mut primary = state.pool.get().await.map_err(|e| error::from_pool(&e))?;
        db::append_deferred_audit(&mut primary, slug, actor, entries).await
    }
    .await;
    match (on_primary, &state.spool) {
        (Err(e), Some(spool)) if e.code.retryable() => {
            match spool.append(slug, actor, entries).await {
                Ok(_) => {
                    // The gauge is the spool's own count, as the drain loop sets it: adding
                    // to it here raced the loop's count of the same files (counted twice).
                    if let Ok(n) = spool.pending() {
                        state.metrics.audit_spooled.set(n as i64);
                    }
                    Ok(())
                }
                Err(spool_error) => {
                    tracing::error!(error = %spool_error, "the audit trail can be written nowhere; refusing the read");
                    Err(e)
                }
            }
        }
        (outcome, _) => outcome,
    }
}

/// The clinic's data key ([`vault::Vault::data_key`]): from memory, else from the primary
/// (made there on first use), else — for a read while the primary is unreachable — from
/// the replica. `None` when this region has no master keys, or no key exists yet.
async fn data_key(
    state: &AppState,
    slug: &TenantSlug,
    read_only: bool,
) -> Result<Option<Arc<vault::DataKey>>, RegionError> {
    let Some(vault) = &state.vault else {
        return Ok(None);
    };
    let unavailable = |e: &vault::VaultError| {
        vault_error(slug, e);
        RegionError::new(
            ErrorCode::Unavailable,
            "this region cannot reach the clinic's data key now",
        )
    };
    let primary = match state.pool.get().await {
        Ok(client) => vault.data_key(&client, slug, true).await,
        Err(e) => match &state.reads {
            Some(reads) if read_only => {
                let client = reads.pool.get().await.map_err(|_| error::from_pool(&e))?;
                vault.data_key(&client, slug, false).await
            }
            _ => return Err(error::from_pool(&e)),
        },
    };
    primary.map_err(|e| unavailable(&e))
}

/// Logs why the vault failed, once, where operators look (never a key).
fn vault_error(slug: &TenantSlug, e: &vault::VaultError) {
    tracing::error!(tenant = %slug, error = %e, "encryption at rest");
}

/// Opens the sealed values of the results, just before they are answered (the idempotency
/// store keeps them sealed).
async fn open_sealed(
    state: &AppState,
    slug: &TenantSlug,
    read_only: bool,
    key: Option<Arc<vault::DataKey>>,
    results: &mut [StatementResult],
) -> Result<(), RegionError> {
    if !vault::any_sealed(results.iter().flat_map(|r| r.rows.iter())) {
        return Ok(());
    }
    let key = match key {
        Some(key) => Some(key),
        None => data_key(state, slug, read_only).await?,
    };
    vault::open_rows(
        results.iter_mut().flat_map(|r| r.rows.iter_mut()),
        key.as_deref(),
    )
    .map_err(|e| {
        vault_error(slug, &e);
        error::internal()
    })
}

/// The `id` a call names (its parameter of that name, as sent): what its audit record
/// names when it found nothing, or when its batch was refused.
fn named_id(statement: &catalog::Statement, params: &[serde_json::Value]) -> Option<String> {
    let at = statement.params.iter().position(|p| p.name == "id")?;
    params.get(at)?.as_str().map(str::to_owned)
}

/// An idempotency key belongs on a batch that writes, and is bounded.
fn check_idempotency(
    idem: &Idempotency,
    statements: &[&catalog::Statement],
) -> Result<(), RegionError> {
    let bad = |m: String| Err(RegionError::new(ErrorCode::BadRequest, m));
    if !statements.iter().any(|s| s.access == Access::Write) {
        return bad("an idempotency key is only accepted on a batch that writes".into());
    }
    if idem.key.is_empty() || idem.key.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        return bad(format!(
            "an idempotency key has 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes"
        ));
    }
    if idem.fingerprint.is_empty() || idem.fingerprint.len() > MAX_FINGERPRINT_BYTES {
        return bad(format!(
            "an idempotency fingerprint has 1 to {MAX_FINGERPRINT_BYTES} bytes"
        ));
    }
    Ok(())
}

/// The clinic's entry, refusing unknown and suspended clinics.
async fn tenant_entry(state: &AppState, slug: &TenantSlug) -> Result<TenantEntry, RegionError> {
    let entry =
        state.directory.by_slug(slug).await?.ok_or_else(|| {
            RegionError::new(ErrorCode::UnknownTenant, format!("no clinic {slug}"))
        })?;
    if entry.status == TenantStatus::Suspended {
        return Err(RegionError::new(
            ErrorCode::TenantSuspended,
            format!("clinic {slug} is suspended"),
        ));
    }
    Ok(entry)
}

/// Sends the identical request (token, catalog version, body) to `path` of the home region
/// and relays its answer, status and body unchanged (with its `Retry-After` and
/// `Server-Timing`).
async fn forward(
    state: &AppState,
    headers: &HeaderMap,
    body: Bytes,
    home: &RegionId,
    path: &str,
) -> Result<Response, RegionError> {
    let unavailable =
        |why: &str| RegionError::new(ErrorCode::Unavailable, format!("home region {home} {why}"));
    let base = state.peers.get(home).ok_or_else(|| {
        tracing::error!(%home, "no PEER_URLS entry for a home region");
        unavailable("is not reachable from this region")
    })?;
    let mut req = state
        .http
        .post(format!("{base}{path}"))
        .header(FORWARDED_HEADER, state.region.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .body(body);
    for name in [
        header::AUTHORIZATION,
        CATALOG_HEADER.parse().expect("a valid header name"),
    ] {
        if let Some(v) = headers.get(&name) {
            req = req.header(name, v);
        }
    }
    let resp = req.send().await.map_err(|e| {
        tracing::warn!(%home, error = %e, "forwarding failed");
        unavailable("cannot be reached now")
    })?;
    let status = resp.status();
    let mut out = Response::builder().status(status.as_u16());
    for name in [
        header::CONTENT_TYPE,
        header::RETRY_AFTER,
        HeaderName::from_static(REPLAY_HEADER),
    ] {
        if let Some(v) = resp.headers().get(name.as_str()) {
            out = out.header(name, v.as_bytes());
        }
    }
    if let Some(v) = resp.headers().get(SERVER_TIMING_HEADER) {
        out = out.header(SERVER_TIMING_HEADER, v.as_bytes());
    }
    let body = resp
        .bytes()
        .await
        .map_err(|_| unavailable("dropped the answer"))?;
    out.body(Body::from(body)).map_err(|_| error::internal())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryQuery {
    slug: Option<String>,
    domain: Option<String>,
}

async fn directory(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<DirectoryQuery>, QueryRejection>,
) -> Response {
    let started = Instant::now();
    state.metrics.directory.inc();
    let result = async {
        verify(&state, &headers)?;
        let bad = |m: &str| RegionError::new(ErrorCode::BadRequest, m);
        let Query(q) = query.map_err(|_| bad("expected ?slug=… or ?domain=…"))?;
        let entry = match (q.slug, q.domain) {
            (Some(slug), None) => {
                let slug: TenantSlug = slug
                    .parse()
                    .map_err(|e: telemed_shared::tenant::SlugError| bad(&e.to_string()))?;
                state.directory.by_slug(&slug).await?
            }
            (None, Some(domain)) => {
                let host = HostName::parse(&domain).ok_or_else(|| bad("not a domain name"))?;
                state.directory.by_domain(host.as_str()).await?
            }
            _ => return Err(bad("expected exactly one of ?slug=… or ?domain=…")),
        };
        entry.ok_or_else(|| RegionError::new(ErrorCode::UnknownTenant, "no such clinic"))
    }
    .await;
    let result = result.map(|entry| {
        let mut resp = axum::Json(entry).into_response();
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=30"),
        );
        resp
    });
    finish(&state, "directory", started, result)
}

/// `POST /v1/sign-in`: a person's password checked for the token's clinic
/// ([`crate::sign_in`]). Like a batch, it runs only in the clinic's home region: elsewhere
/// it is forwarded there once, identical.
async fn sign_in(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let forwarded_by = forwarded_by(&headers);
    let result = sign_in_inner(&state, &headers, body, forwarded_by.as_deref()).await;
    finish(&state, "sign_in", started, result)
}

/// A request for one clinic ([`SIGN_IN_PATH`], [`OAUTH_PATH`]) once its edge token and
/// body are checked: to answer here, or already answered by the clinic's home region.
enum Homed<T> {
    Here {
        slug: TenantSlug,
        request: T,
        /// Where the asking edge runs, bounded (for the trail).
        edge: Option<String>,
    },
    Forwarded(Response),
}

/// Checks a clinic request (edge token naming the clinic, body within `max_bytes`, JSON
/// of `T`) and forwards it, identical, to the clinic's home region when that is not this
/// one (once: a forwarded request is never forwarded again).
async fn homed<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    forwarded_by: Option<&str>,
    path: &'static str,
    max_bytes: usize,
) -> Result<Homed<T>, RegionError> {
    let claims = verify(state, headers)?;
    let slug = claims.tenant.clone().ok_or_else(|| {
        RegionError::new(ErrorCode::Unauthorized, "the edge token names no clinic")
    })?;
    let bytes = bounded_body(headers, body, max_bytes, &format!("a {path} body")).await?;
    // Serde's message names a field or a JSON type, never a string's value: passwords and
    // secrets are declared strings, so any string is accepted and none is quoted.
    let request: T = serde_json::from_slice(&bytes).map_err(|e| {
        RegionError::new(ErrorCode::BadRequest, format!("malformed {path} body: {e}"))
    })?;
    let entry = tenant_entry(state, &slug).await?;
    if entry.home_region != state.region {
        if let Some(from) = forwarded_by {
            tracing::warn!(tenant = %slug, home = %entry.home_region, from, path, "forwarded request for a clinic not homed here");
            return Err(RegionError::new(
                ErrorCode::Unavailable,
                format!(
                    "clinic {slug} is not homed in {} (forwarded by {from}); not forwarding again",
                    state.region
                ),
            ));
        }
        return Ok(Homed::Forwarded(
            forward(state, headers, bytes, &entry.home_region, path).await?,
        ));
    }
    let edge = claims.edge.as_deref().map(|e| {
        e.char_indices()
            .nth(MAX_EDGE_LOCATION_CHARS)
            .map_or(e, |(cut, _)| &e[..cut])
            .to_owned()
    });
    Ok(Homed::Here {
        slug,
        request,
        edge,
    })
}

async fn sign_in_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    forwarded_by: Option<&str>,
) -> Result<Response, RegionError> {
    let (slug, request, edge) = match homed::<SignInRequest>(
        state,
        headers,
        body,
        forwarded_by,
        SIGN_IN_PATH,
        MAX_SIGN_IN_BYTES,
    )
    .await?
    {
        Homed::Here {
            slug,
            request,
            edge,
        } => (slug, request, edge),
        Homed::Forwarded(r) => return Ok(r),
    };
    let (outcome, verdict) =
        crate::sign_in::attempt(&state.pool, &slug, &request, edge.as_deref()).await?;
    state
        .metrics
        .sign_ins
        .with_label_values(&[verdict.label()])
        .inc();
    Ok(axum::Json(outcome).into_response())
}

/// `POST /v1/oauth`: an app's token, introspection or revocation request for the token's
/// clinic ([`crate::oauth`]), answered in its home region (forwarded there once).
async fn oauth(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let forwarded_by = forwarded_by(&headers);
    let result = oauth_inner(&state, &headers, body, forwarded_by.as_deref()).await;
    finish(&state, "oauth", started, result)
}

async fn oauth_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    forwarded_by: Option<&str>,
) -> Result<Response, RegionError> {
    let (slug, request) = match homed::<telemed_shared::oauth::OAuthRequest>(
        state,
        headers,
        body,
        forwarded_by,
        OAUTH_PATH,
        telemed_shared::oauth::MAX_FORM_BYTES * 2,
    )
    .await?
    {
        Homed::Here { slug, request, .. } => (slug, request),
        Homed::Forwarded(r) => return Ok(r),
    };
    let issuer = state.issuer.as_ref().ok_or_else(|| {
        RegionError::new(
            ErrorCode::Unavailable,
            "this region has no API signing key: it issues no tokens",
        )
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (reply, outcome) = crate::oauth::answer(&state.pool, issuer, &slug, &request, now).await?;
    state
        .metrics
        .oauth_requests
        .with_label_values(&[request.endpoint.label(), outcome])
        .inc();
    Ok(axum::Json(reply).into_response())
}

/// An operator request's body, bounded.
async fn ops_body(headers: &HeaderMap, body: Body) -> Result<Bytes, RegionError> {
    bounded_body(headers, body, MAX_OPS_BYTES, "an operator request").await
}

/// A request's body, refused (`too_large`) past `max` bytes — by its declared length
/// before reading anything, else once reading passes it. `what` names it in the refusal.
async fn bounded_body(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
) -> Result<Bytes, RegionError> {
    let too_large = || {
        RegionError::new(
            ErrorCode::TooLarge,
            format!("{what} is at most {max} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())
}

/// The operator connection, or why this instance cannot serve operators.
fn ops_state(state: &AppState) -> Result<&crate::ops::OpsState, RegionError> {
    state.ops.as_ref().ok_or_else(|| {
        RegionError::new(
            ErrorCode::Unavailable,
            format!(
                "{} serves no operator requests: no OPERATOR_DATABASE_URL",
                state.region
            ),
        )
    })
}

/// Refuses a request meant for the control plane's region elsewhere.
fn on_control_plane(state: &AppState) -> Result<(), RegionError> {
    let control = &RegionMap::embedded().control_plane().id;
    if &state.region != control {
        return Err(RegionError::new(
            ErrorCode::BadRequest,
            format!(
                "operators' requests go to the control plane's region {control}, not {}",
                state.region
            ),
        ));
    }
    Ok(())
}

/// `POST /v1/ops/sign-in`: an operator's password, checked on the control plane
/// ([`crate::operators::attempt`]). The edge token names no clinic and no operator.
async fn ops_sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = async {
        let claims = verify(&state, &headers)?;
        if claims.tenant.is_some() || claims.operator.is_some() {
            return Err(RegionError::new(
                ErrorCode::Unauthorized,
                "an operator sign-in's edge token names no clinic and no operator",
            ));
        }
        let bytes = ops_body(&headers, body).await?;
        let request: SignInRequest = serde_json::from_slice(&bytes).map_err(|e| {
            RegionError::new(ErrorCode::BadRequest, format!("malformed sign-in: {e}"))
        })?;
        on_control_plane(&state)?;
        let ops = ops_state(&state)?;
        let (outcome, verdict) = crate::operators::attempt(
            &ops.control,
            state.region.as_str(),
            &request,
            claims.edge.as_deref(),
        )
        .await?;
        state
            .metrics
            .sign_ins
            .with_label_values(&[verdict.label()])
            .inc();
        Ok(axum::Json(outcome).into_response())
    }
    .await;
    finish(&state, "ops_sign_in", started, result)
}

/// `POST /v1/ops`: an operator's request ([`crate::ops`]), on the control plane's region,
/// which forwards `create` and `delete` once to the clinic's home region.
async fn ops(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let forwarded_by = forwarded_by(&headers);
    let result = async {
        let claims = verify(&state, &headers)?;
        let operator = match (&claims.tenant, &claims.operator) {
            (None, Some(o)) if !o.trim().is_empty() => o.clone(),
            _ => {
                return Err(RegionError::new(
                    ErrorCode::Unauthorized,
                    "an operator request's edge token names its operator and no clinic",
                ));
            }
        };
        let bytes = ops_body(&headers, body).await?;
        let request: OpsRequest = serde_json::from_slice(&bytes).map_err(|e| {
            RegionError::new(ErrorCode::BadRequest, format!("malformed operator request: {e}"))
        })?;
        if forwarded_by.is_none() {
            on_control_plane(&state)?;
        }
        let ops = ops_state(&state)?;
        let edge = claims.edge.as_deref().map(|e| {
            e.char_indices()
                .nth(MAX_EDGE_LOCATION_CHARS)
                .map_or(e, |(cut, _)| &e[..cut])
        });
        match crate::ops::run(ops, &state.region, &operator, edge, &request).await? {
            crate::ops::Step::Answer(answer) => Ok(axum::Json(answer).into_response()),
            crate::ops::Step::Forward(home) => {
                if let Some(from) = forwarded_by.as_deref() {
                    tracing::warn!(%home, from, "forwarded operator request for a clinic not homed here");
                    return Err(RegionError::new(
                        ErrorCode::Unavailable,
                        format!(
                            "the clinic is not homed in {} (forwarded by {from}); not forwarding again",
                            state.region
                        ),
                    ));
                }
                forward(&state, &headers, bytes, &home, OPS_PATH).await
            }
        }
    }
    .await;
    finish(&state, "ops", started, result)
}

/// `POST /v1/edge-timings`: an edge's timing of one response (see [`EdgeTiming`]), counted
/// in `edge_request_duration_seconds` — and in neither `regional_batch_requests_total` nor
/// `regional_directory_requests_total`, which count data calls. Any edge token will do (it
/// names no clinic); the labels are closed sets, so a junk one is refused, not exported.
/// `POST /v1/jobs/rates`: the edge's cron trigger asks the control plane's region to fetch
/// the rates feed and store it ([`crate::jobs::rates::refresh`]). Refused by a region whose
/// database does not hold the control schema's primary.
async fn refresh_rates(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let result = async {
        verify(&state, &headers)?;
        if !state.control_is_local {
            return Err(RegionError::new(
                ErrorCode::BadRequest,
                format!(
                    "{} does not hold the control plane: ask its region",
                    state.region
                ),
            ));
        }
        let today = chrono::Utc::now().date_naive();
        crate::jobs::rates::refresh(&state.control, &state.rates_feed_url, today)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "rates refresh");
                match e {
                    crate::jobs::JobError::Feed(m) => RegionError::new(
                        ErrorCode::Unavailable,
                        format!("the rates feed failed: {m}"),
                    ),
                    _ => error::internal(),
                }
            })
    }
    .await;
    let outcome = if result.is_ok() { "ok" } else { "failed" };
    state
        .metrics
        .jobs
        .with_label_values(&["rates", outcome])
        .inc();
    match result {
        Ok(done) => {
            tracing::info!(as_of = %done.as_of, written = done.market, "rates refreshed");
            axum::Json(RatesRefreshed {
                as_of: done.as_of.to_string(),
                market: done.market,
                unchanged: done.unchanged,
            })
            .into_response()
        }
        Err(e) => refuse(&state, e),
    }
}

async fn edge_timings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        verify(&state, &headers)?;
        let bytes = bounded_body(&headers, body, MAX_EDGE_TIMING_BYTES, "a timing report").await?;
        let timing: EdgeTiming = serde_json::from_slice(&bytes).map_err(|e| {
            RegionError::new(ErrorCode::BadRequest, format!("malformed timing: {e}"))
        })?;
        if !(100..=599).contains(&timing.status) {
            return Err(RegionError::new(
                ErrorCode::BadRequest,
                format!("{} is not an HTTP status", timing.status),
            ));
        }
        state.metrics.observe_edge(state.region.as_str(), &timing);
        Ok(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refuse(&state, e),
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let probe = async {
        let client = state.pool.get().await.ok()?;
        client.simple_query("SELECT 1").await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(1), probe).await {
        Ok(Some(_)) => (StatusCode::OK, "ok\n").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response(),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut pools = vec![("primary", &state.pool)];
    if let Some(reads) = &state.reads {
        pools.push(("replica", &reads.pool));
    }
    if !state.control_is_local {
        pools.push(("control", &state.control));
    }
    let text = state.metrics.render(&pools);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_read_by_id_that_found_nothing_is_a_miss_to_confirm() {
        let call = |name: &str| Call {
            statement: catalog::lookup(name).unwrap(),
            params: Vec::new(),
            subject: None,
        };
        let none = || StatementResult { rows: Vec::new() };
        let one = || StatementResult {
            rows: vec![serde_json::Map::new()],
        };
        assert!(missed_by_id(&[call("patient.read")], &[none()]));
        assert!(!missed_by_id(&[call("patient.read")], &[one()]));
        // An empty search, or a patient with no readings: ordinary answers.
        assert!(!missed_by_id(&[call("patient.search")], &[none()]));
        assert!(!missed_by_id(&[call("observation.everything")], &[none()]));
        assert!(missed_by_id(
            &[call("observation.search"), call("observation.read")],
            &[one(), none()]
        ));
    }

    #[test]
    fn peers_parse() {
        let p =
            parse_peers(" us-east=http://127.0.0.1:7102/ ,af-south=https://af.example").unwrap();
        assert_eq!(
            p[&"us-east".parse::<RegionId>().unwrap()],
            "http://127.0.0.1:7102"
        );
        assert_eq!(p.len(), 2);
        assert!(parse_peers("").unwrap().is_empty());
        assert!(parse_peers("us-east").is_err());
        assert!(parse_peers("US=http://x").is_err());
        assert!(parse_peers("us-east=ftp://x").is_err());
    }
}
