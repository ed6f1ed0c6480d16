//! The edge's side of the edge→region call: mints the edge token, sends one HTTP request,
//! decodes the answer, and records its duration for `Server-Timing`.

use std::cell::RefCell;

use http::{Method, Request};

use super::{
    catalog,
    wire::{
        BATCH_PATH, BatchRequest, BatchResponse, CATALOG_HEADER, DIRECTORY_PATH, EDGE_TIMINGS_PATH,
        EdgeTiming, ErrorCode, OAUTH_PATH, RATES_JOB_PATH, RatesRefreshed, RegionError,
        SERVER_TIMING_HEADER, SIGN_IN_PATH, SignInOutcome, SignInRequest, server_timing_db_millis,
    },
};
use crate::{
    auth::{AppToken, EdgeClaims},
    config::EdgeConfig,
    geo::RegionId,
    host::Host,
    tenant::{TenantEntry, TenantSelector, TenantSlug},
};

/// Why a region call did not give a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// No HTTP response (connection refused, DNS, reset): the region is unreachable.
    #[error("region {region} unreachable: {message}")]
    Unreachable { region: RegionId, message: String },
    /// The region answered with a typed error.
    #[error("region {region} refused: {error}")]
    Region {
        region: RegionId,
        error: RegionError,
    },
    /// The region answered something that is not the protocol (a version or proxy fault).
    #[error("region {region} answered outside the protocol: {message}")]
    Protocol { region: RegionId, message: String },
}

impl DataError {
    /// The region's error code, or `Unavailable` for transport faults.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Region { error, .. } => error.code,
            Self::Unreachable { .. } => ErrorCode::Unavailable,
            Self::Protocol { .. } => ErrorCode::Internal,
        }
    }
}

/// One completed region call, for `Server-Timing`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallTiming {
    /// The region called (which, for a forwarded batch, is not the one that ran it).
    pub region: RegionId,
    /// The whole call as the edge saw it: network, region and database.
    pub millis: u64,
    /// Time spent in Postgres, as the region reported it (`Server-Timing: db;dur=…`);
    /// `None` when it did not (directory look-ups, errors, transport faults).
    pub db_millis: Option<f64>,
}

/// Calls regions on behalf of one request and remembers each call's timing.
pub struct RegionClient<'a, H: Host> {
    host: &'a H,
    config: &'a EdgeConfig,
    timings: RefCell<Vec<CallTiming>>,
    /// Where this edge runs, for the audit trail of the batches it sends
    /// ([`EdgeClaims::edge`]).
    edge: Option<String>,
}

impl<'a, H: Host> RegionClient<'a, H> {
    pub fn new(host: &'a H, config: &'a EdgeConfig) -> Self {
        Self {
            host,
            config,
            timings: RefCell::new(Vec::new()),
            edge: None,
        }
    }

    /// The same client, naming `edge` as where it runs in the batches it sends.
    pub fn at(mut self, edge: String) -> Self {
        self.edge = Some(edge);
        self
    }

    /// The calls made so far (one per request is the budget).
    pub fn timings(&self) -> Vec<CallTiming> {
        self.timings.borrow().clone()
    }

    /// Sends a batch for `tenant` to `region` (its home, or the nearest when the home is
    /// unknown: that region forwards it and, with `want_directory`, returns the entry).
    pub async fn batch(
        &self,
        region: &RegionId,
        tenant: &TenantSlug,
        actor: Option<&str>,
        batch: &BatchRequest,
    ) -> Result<BatchResponse, DataError> {
        self.batch_by(region, tenant, actor, None, batch).await
    }

    /// [`RegionClient::batch`] for a call made with an app's access token: the region checks,
    /// in the batch's own transaction, that the app is still installed and the token not
    /// revoked.
    pub async fn batch_by(
        &self,
        region: &RegionId,
        tenant: &TenantSlug,
        actor: Option<&str>,
        app: Option<&AppToken>,
        batch: &BatchRequest,
    ) -> Result<BatchResponse, DataError> {
        let claims = EdgeClaims {
            tenant: Some(tenant.clone()),
            actor: actor.map(str::to_owned),
            edge: self.edge.clone(),
            app: app.cloned(),
            ..Default::default()
        };
        let body = serde_json::to_vec(batch).expect("wire types serialise");
        self.call(region, Method::POST, BATCH_PATH.to_owned(), claims, body)
            .await
    }

    /// Asks `region` for a clinic's directory entry; `Ok(None)` if it has no such clinic.
    pub async fn directory(
        &self,
        region: &RegionId,
        selector: &TenantSelector,
    ) -> Result<Option<TenantEntry>, DataError> {
        let query = match selector {
            TenantSelector::Slug(s) => format!("slug={s}"),
            TenantSelector::Domain(d) => format!("domain={d}"),
        };
        let claims = EdgeClaims {
            tenant: None,
            actor: None,
            ..Default::default()
        };
        match self
            .call(
                region,
                Method::GET,
                format!("{DIRECTORY_PATH}?{query}"),
                claims,
                Vec::new(),
            )
            .await
        {
            Ok(entry) => Ok(Some(entry)),
            Err(DataError::Region { error, .. }) if error.code == ErrorCode::UnknownTenant => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Asks the control plane's region to refresh the exchange rates (the edge's daily cron
    /// trigger): it fetches its configured feed and stores the rates there.
    pub async fn refresh_rates(&self) -> Result<RatesRefreshed, DataError> {
        let region = crate::geo::RegionMap::embedded().control_plane().id.clone();
        let claims = EdgeClaims {
            tenant: None,
            actor: Some("edge-cron".to_owned()),
            edge: self.edge.clone(),
            ..Default::default()
        };
        self.call(
            &region,
            Method::POST,
            RATES_JOB_PATH.to_owned(),
            claims,
            Vec::new(),
        )
        .await
    }

    /// Asks `region` (the clinic's home, or the nearest, which forwards it there) to check a
    /// person's password for `tenant`: one call. The region hashes and compares, throttles
    /// failures, and audits the attempt; the edge only learns the outcome. A refusal is an
    /// `Ok(SignInOutcome::Refused { .. })`; an `Err` is a fault (unknown or suspended
    /// clinic, unreachable region…), not a wrong password.
    pub async fn sign_in(
        &self,
        region: &RegionId,
        tenant: &TenantSlug,
        request: &SignInRequest,
    ) -> Result<SignInOutcome, DataError> {
        let claims = EdgeClaims {
            tenant: Some(tenant.clone()),
            actor: None,
            edge: self.edge.clone(),
            ..Default::default()
        };
        let body = serde_json::to_vec(request).expect("wire types serialise");
        self.call(region, Method::POST, SIGN_IN_PATH.to_owned(), claims, body)
            .await
    }

    /// Sends an app's OAuth request to `region` (the clinic's home, or the nearest, which
    /// forwards it there): one call. A refusal is an `Ok` reply with its RFC 6749 error;
    /// an `Err` is a fault (unknown or suspended clinic, unreachable region…).
    pub async fn oauth(
        &self,
        region: &RegionId,
        tenant: &TenantSlug,
        request: &crate::oauth::OAuthRequest,
    ) -> Result<crate::oauth::OAuthReply, DataError> {
        let claims = EdgeClaims {
            tenant: Some(tenant.clone()),
            edge: self.edge.clone(),
            ..Default::default()
        };
        let body = serde_json::to_vec(request).expect("wire types serialise");
        self.call(region, Method::POST, OAUTH_PATH.to_owned(), claims, body)
            .await
    }

    /// An operator's sign-in, checked by the control plane's region (operators live there
    /// alone): one call. As for clinics, a refusal is an `Ok`, never an `Err`.
    pub async fn ops_sign_in(
        &self,
        request: &SignInRequest,
    ) -> Result<crate::ops::wire::OperatorSignIn, DataError> {
        let region = crate::geo::RegionMap::embedded().control_plane().id.clone();
        let claims = EdgeClaims {
            edge: self.edge.clone(),
            ..Default::default()
        };
        let body = serde_json::to_vec(request).expect("wire types serialise");
        self.call(
            &region,
            Method::POST,
            crate::ops::wire::OPS_SIGN_IN_PATH.to_owned(),
            claims,
            body,
        )
        .await
    }

    /// One operation of `operator` (an email the edge verified a credential of), sent to
    /// the control plane's region, which runs it or forwards it once to the clinic's home
    /// region (`create`, `delete`): one call.
    pub async fn ops(
        &self,
        operator: &str,
        request: &crate::ops::wire::OpsRequest,
    ) -> Result<crate::ops::wire::OpsAnswer, DataError> {
        let region = crate::geo::RegionMap::embedded().control_plane().id.clone();
        let claims = EdgeClaims {
            actor: Some(format!("operator:{operator}")),
            edge: self.edge.clone(),
            operator: Some(operator.to_owned()),
            ..Default::default()
        };
        let body = serde_json::to_vec(request).expect("wire types serialise");
        self.call(
            &region,
            Method::POST,
            crate::ops::wire::OPS_PATH.to_owned(),
            claims,
            body,
        )
        .await
    }

    /// The timing beacon for `region` (the nearest): a signed `POST /v1/edge-timings`,
    /// for the adapter to send after the response. `None` if it cannot be signed.
    pub fn timing_report(
        &self,
        region: &RegionId,
        timing: &EdgeTiming,
    ) -> Option<Request<Vec<u8>>> {
        let claims = EdgeClaims {
            tenant: None,
            actor: None,
            ..Default::default()
        };
        let body = serde_json::to_vec(timing).expect("wire types serialise");
        let (region, instances) = self.config.region_instances(region);
        let base = &instances[self.first_instance(instances.len())];
        self.signed_request(region, base, Method::POST, EDGE_TIMINGS_PATH, claims, body)
            .ok()
    }

    /// A request to one instance (`base`) of `region`, carrying a fresh edge token and the
    /// catalog version.
    fn signed_request(
        &self,
        region: &RegionId,
        base: &str,
        method: Method,
        path_and_query: &str,
        claims: EdgeClaims,
        body: Vec<u8>,
    ) -> Result<Request<Vec<u8>>, DataError> {
        let region = region.clone();
        let token = self
            .config
            .edge_key
            .sign_edge(claims, self.host.now_millis() / 1000)
            .map_err(|e| DataError::Protocol {
                region: region.clone(),
                message: e.to_string(),
            })?;
        let request = Request::builder()
            .method(method)
            .uri(format!("{base}{path_and_query}"))
            .header("authorization", format!("Bearer {token}"))
            .header(CATALOG_HEADER, catalog::version())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .map_err(|e| DataError::Protocol {
                region: region.clone(),
                message: e.to_string(),
            })?;
        Ok(request)
    }

    /// Which instance of `n` to try first: rotating with the clock, so the instances of a
    /// region share the load without the edge keeping any state.
    fn first_instance(&self, n: usize) -> usize {
        (self.host.now_millis() % n.max(1) as u64) as usize
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        region: &RegionId,
        method: Method,
        path_and_query: String,
        claims: EdgeClaims,
        body: Vec<u8>,
    ) -> Result<T, DataError> {
        // Instances of a region are tried in turn, from a rotating start (spreading the
        // load), and only when one gives no HTTP answer at all: an instance that is down
        // costs one more call, never an error. Resending is safe: reads are reads, and every
        // write carries an idempotency key.
        let (region, instances) = self.config.region_instances(region);
        let region = region.clone();
        let first = self.first_instance(instances.len());
        let mut last_error = None;
        let mut answered = None;
        for i in 0..instances.len() {
            let base = &instances[(first + i) % instances.len()];
            let now = self.host.now_millis();
            let request = self.signed_request(
                &region,
                base,
                method.clone(),
                &path_and_query,
                claims.clone(),
                body.clone(),
            )?;
            let result = self.host.fetch(request).await;
            let db_millis = result.as_ref().ok().and_then(|r| {
                r.headers()
                    .get(SERVER_TIMING_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(server_timing_db_millis)
            });
            self.timings.borrow_mut().push(CallTiming {
                region: region.clone(),
                millis: self.host.now_millis().saturating_sub(now),
                db_millis,
            });
            match result {
                Ok(response) => {
                    answered = Some(response);
                    break;
                }
                Err(e) => last_error = Some(e.0),
            }
        }
        let response = answered.ok_or_else(|| DataError::Unreachable {
            region: region.clone(),
            message: last_error.unwrap_or_default(),
        })?;
        let status = response.status();
        let body = response.into_body();
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| DataError::Protocol {
                region: region.clone(),
                message: format!("undecodable {status} body: {e}"),
            });
        }
        match serde_json::from_slice::<RegionError>(&body) {
            Ok(error) => Err(DataError::Region { region, error }),
            // A proxy or load balancer error page: treat 5xx as unreachable, others as faults.
            Err(_) if status.is_server_error() => Err(DataError::Unreachable {
                region,
                message: format!("HTTP {status} without a protocol body"),
            }),
            Err(_) => Err(DataError::Protocol {
                region,
                message: format!("HTTP {status} without a protocol body"),
            }),
        }
    }
}
