//! The wire format of the edge→region call, shared by both ends.
//!
//! ```text
//! POST /v1/batch                     Authorization: Bearer <edge token: tenant, actor>
//! Telemed-Catalog: <catalog::version()>
//! { "statements": [{"name": "patient.create", "params": [...]}], "want_directory": true,
//!   "idempotency": {"key": "…", "fingerprint": "<sha-256 hex>"}?, "min_lsn": "0/16B3740"? }
//!
//! 200 { "region": "eu-west", "results": [{"rows": [{...}]}], "directory": {...}?, "replayed": true?,
//!       "lsn": "0/16B3740"? (writes), "served_by": "primary"|"replica"? }
//!     telemed-idempotent-replay: true (when `replayed`)
//! 4xx/5xx { "code": "unknown_statement", "message": "...", "statement": 0 }
//!
//! GET /v1/directory?slug=…|domain=…   Authorization: Bearer <edge token without tenant>
//! 200 TenantEntry | 404 { "code": "unknown_tenant", … }
//!
//! POST /v1/sign-in                   Authorization: Bearer <edge token: tenant>
//! { "email": "…", "password": "…", "client": "203.0.113.7"? }
//! 200 {"signed_in": {"id": "…", "role": "patient", "display_name": "…", "patient_id": "…"?}}
//!   | {"refused": {"retry_after_secs": 900?}}
//! ```
//!
//! A region that is not the clinic's home forwards the same batch (same edge token) to the
//! home region with `Telemed-Forwarded-By: <region>`; a forwarded batch is never forwarded
//! again.
//!
//! Idempotency: every write batch the edge sends carries an [`Idempotency`] key (the API
//! client's, namespaced by its principal, or one the edge draws), so the edge can retry a
//! write whose answer it did not get. The home region records the key in the same
//! transaction as the write; the same key again with the same fingerprint gets the stored
//! results back (`replayed`), nothing runs twice; with another fingerprint it is refused
//! ([`ErrorCode::IdempotencyMismatch`]). A batch that failed left no key behind.

use serde::{Deserialize, Serialize};

use crate::{geo::RegionId, tenant::TenantEntry};

pub const BATCH_PATH: &str = "/v1/batch";
pub const DIRECTORY_PATH: &str = "/v1/directory";
pub const CATALOG_HEADER: &str = "telemed-catalog";
pub const FORWARDED_HEADER: &str = "telemed-forwarded-by";
/// Larger batches are refused (413): the edge never needs more.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
pub const MAX_STATEMENTS: usize = 32;
/// Response header of a batch whose results are the stored ones of an earlier attempt.
pub const REPLAY_HEADER: &str = "telemed-idempotent-replay";
/// Longest idempotency key a region accepts (the edge's are at most 64 + 1 + 255 bytes).
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 512;
/// Longest fingerprint a region accepts (the edge's are 64 hex digits).
pub const MAX_FINGERPRINT_BYTES: usize = 128;
/// The edge's timing beacon (see [`EdgeTiming`]).
pub const EDGE_TIMINGS_PATH: &str = "/v1/edge-timings";
/// The daily refresh of the exchange rates, which the edge's cron trigger asks of the
/// control plane's region (an empty `POST`; the answer is a [`RatesRefreshed`]).
pub const RATES_JOB_PATH: &str = "/v1/jobs/rates";
/// A person's sign-in to a clinic's pages: the edge sends the email and password a form
/// was given ([`SignInRequest`]); the clinic's home region checks the password (argon2id)
/// and answers a [`SignInOutcome`]. Forwarded to the home region like a batch.
pub const SIGN_IN_PATH: &str = "/v1/sign-in";
/// An app's token, introspection or revocation request, answered by the clinic's home
/// region ([`crate::oauth::OAuthRequest`]).
pub const OAUTH_PATH: &str = "/v1/oauth";
/// A sign-in body is an email, a password and an address: anything over this is refused
/// (413) before it is parsed.
pub const MAX_SIGN_IN_BYTES: usize = 4096;
/// A beacon is a few dozen bytes; anything over this is refused (413).
pub const MAX_EDGE_TIMING_BYTES: usize = 1024;
/// The region's answer to a batch says how long Postgres took: `db;dur=<ms>`.
pub const SERVER_TIMING_HEADER: &str = "server-timing";

/// One statement call: a catalog name and its parameters, positionally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub name: String,
    #[serde(default)]
    pub params: Vec<serde_json::Value>,
}

/// A batch: run in one transaction if any statement writes, else as reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub statements: Vec<Call>,
    /// Ask the region to return the clinic's directory entry with the results (a cold edge).
    #[serde(default)]
    pub want_directory: bool,
    /// Makes a write batch safe to retry; refused on a batch that only reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<Idempotency>,
    /// Read-your-writes: the commit LSN (`X/Y`, see [`parse_lsn`]) of the caller's last
    /// write, as a [`BatchResponse::lsn`] gave it. A read-only batch is then served by the
    /// region's replica only once the replica has replayed it, else by the primary. A
    /// malformed value is refused (400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lsn: Option<String>,
}

/// The identity of a write: retries of one write share the key, and the fingerprint (a
/// hash of who asked what) tells a retry from another write that reuses the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Idempotency {
    /// Unique per clinic for as long as keys are kept (at least 24 hours).
    pub key: String,
    pub fingerprint: String,
}

/// The rows one statement returned, each a JSON object of its columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementResult {
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A successful batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// The region that ran the statements (the clinic's home).
    pub region: RegionId,
    pub results: Vec<StatementResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<TenantEntry>,
    /// The results are those stored by an earlier batch with the same idempotency key:
    /// nothing ran this time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// For a batch that writes: the primary's WAL position right after the commit (`X/Y`),
    /// to pass back as [`BatchRequest::min_lsn`] so the caller's next reads see its write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsn: Option<String>,
    /// Which server ran the statements: [`SERVED_BY_PRIMARY`] or [`SERVED_BY_REPLICA`]
    /// (observability; absent from older regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
}

/// [`BatchResponse::served_by`] of a batch run on the region's primary.
pub const SERVED_BY_PRIMARY: &str = "primary";
/// [`BatchResponse::served_by`] of a read-only batch run on the region's streaming replica.
pub const SERVED_BY_REPLICA: &str = "replica";

/// A Postgres LSN as Postgres prints it (`16/B374D848`: two hex numbers of 1 to 8 digits),
/// as a 64-bit position; `None` when malformed.
pub fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.split_once('/')?;
    let part = |p: &str| {
        (!p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(p, 16).ok())
            .flatten()
    };
    Some((u64::from(part(hi)?) << 32) | u64::from(part(lo)?))
}

/// An LSN in Postgres' text form (`X/Y`, upper-case hex), the inverse of [`parse_lsn`].
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

/// What went wrong in a region, typed so each side maps it to one status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// Missing, forged or expired edge token.
    Unauthorized,
    /// The app's access token the call was made with was revoked, or its app uninstalled.
    TokenRevoked,
    /// Edge and region were built from different catalogs.
    CatalogMismatch,
    /// A statement name the catalog does not have, or a control statement in a batch.
    UnknownStatement,
    /// Wrong number or type of parameters, or a malformed body: the caller (an edge)
    /// built the batch wrong.
    BadRequest,
    /// The database refused a value as data (Postgres class 22: out of range, bad text
    /// representation, a character it cannot store): what a client sent does not fit.
    InvalidValue,
    /// Body over [`MAX_BATCH_BYTES`] or more than [`MAX_STATEMENTS`] statements.
    TooLarge,
    /// No such clinic in the directory.
    UnknownTenant,
    /// The clinic exists but is suspended.
    TenantSuspended,
    /// A uniqueness constraint refused the write.
    Conflict,
    /// A check, foreign-key or not-null constraint refused the write.
    ConstraintViolation,
    /// The pool is saturated; retry after a short wait.
    Overloaded,
    /// The database or the home region cannot be reached now; retry later.
    Unavailable,
    /// The idempotency key was already used for a different request (another body,
    /// caller or path); retrying cannot help, a new key can.
    IdempotencyMismatch,
    /// A fault of the region itself.
    Internal,
}

impl ErrorCode {
    /// Every code, for the tests that check each one is mapped on purpose.
    pub const ALL: [ErrorCode; 15] = [
        Self::Unauthorized,
        Self::TokenRevoked,
        Self::CatalogMismatch,
        Self::UnknownStatement,
        Self::BadRequest,
        Self::InvalidValue,
        Self::TooLarge,
        Self::UnknownTenant,
        Self::TenantSuspended,
        Self::Conflict,
        Self::ConstraintViolation,
        Self::Overloaded,
        Self::Unavailable,
        Self::IdempotencyMismatch,
        Self::Internal,
    ];

    /// The HTTP status a region answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthorized | Self::TokenRevoked => 401,
            Self::CatalogMismatch | Self::Conflict => 409,
            Self::UnknownStatement | Self::BadRequest => 400,
            Self::TooLarge => 413,
            Self::UnknownTenant => 404,
            Self::TenantSuspended => 403,
            Self::ConstraintViolation | Self::InvalidValue | Self::IdempotencyMismatch => 422,
            Self::Overloaded | Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// Whether the same request may succeed if retried later.
    pub fn retryable(self) -> bool {
        matches!(self, Self::Overloaded | Self::Unavailable)
    }
}

/// The body of every non-2xx region response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct RegionError {
    pub code: ErrorCode,
    pub message: String,
    /// Index of the statement at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<usize>,
}

impl RegionError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            statement: None,
        }
    }

    pub fn at(mut self, statement: usize) -> Self {
        self.statement = Some(statement);
        self
    }
}

/// A sign-in attempt ([`SIGN_IN_PATH`]). The clinic comes from the edge token, never from
/// the body. `Debug` never shows the password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub email: String,
    pub password: crate::accounts::Password,
    /// The client's IP address as the edge saw it (`CF-Connecting-IP`, the socket): failed
    /// attempts are throttled per address as well as per email. A malformed one is
    /// refused (400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// The answer to a [`SignInRequest`]. A refusal never says why (unknown email, wrong
/// password, disabled account or a lock look alike), so it cannot tell anyone whether an
/// account exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInOutcome {
    /// The password is right: who signed in.
    SignedIn(crate::accounts::Account),
    /// Not signed in. `retry_after_secs` is set while the email (or the client's address)
    /// is locked after too many failures: even the right password is refused until then.
    Refused {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
}

/// What an edge reports to its nearest region after each response, in the background:
///
/// ```text
/// POST /v1/edge-timings              Authorization: Bearer <edge token without tenant>
/// {"colo": "CDG", "route": "page", "cache": "hit", "status": 200, "duration_ms": 12}
/// 204 | 400 (unknown route or cache, bad field) | 401 | 413
/// ```
///
/// The labels are closed sets computed in the core (never a raw path), so the region's
/// histogram keeps a bounded number of series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeTiming {
    /// The point of presence (`CDG`), or `unknown`; the region keeps ≤ 8 `[A-Z0-9]`.
    pub colo: String,
    pub route: TimedRoute,
    pub cache: CacheOutcome,
    /// The HTTP status the edge answered.
    pub status: u16,
    /// Time from the request's arrival to the response, as the edge measured it.
    pub duration_ms: u64,
}

/// The kind of request a timing is for: a small closed set, to bound label cardinality.
/// API routes derive from the resource registry (both URL spaces give the same label):
/// `api_<plural>` for a collection, `api_<type>` for one resource (`api_patients`,
/// `api_patient`); a label no registered resource has is refused when a region reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimedRoute {
    /// A public page (`/`).
    Page,
    /// A resource collection (search, create): the index of its type in the registry.
    ApiCollection(usize),
    /// One resource (read, update): the index of its type in the registry.
    ApiInstance(usize),
    /// Any other API path.
    ApiOther,
    /// Anything else (unknown pages, bad hosts).
    Other,
}

/// The labels of every registered resource: (collection, instance), by registry index.
fn api_labels() -> &'static [(&'static str, &'static str)] {
    static LABELS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    LABELS.get_or_init(|| {
        crate::api::resources::REGISTRY
            .iter()
            .map(|r| {
                let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
                (
                    leak(format!("api_{}", r.plural())),
                    leak(format!("api_{}", r.name().to_ascii_lowercase())),
                )
            })
            .collect()
    })
}

impl TimedRoute {
    /// The route of a request path.
    pub fn of_path(path: &str) -> Self {
        use crate::api::Space;
        let Some((space, segments)) = Space::of(path) else {
            return if path == "/" { Self::Page } else { Self::Other };
        };
        let index = |collection: &str| {
            crate::api::resources::REGISTRY.iter().position(|r| {
                let named = match space {
                    Space::V1 => r.plural(),
                    Space::FhirR4 => r.name(),
                };
                named == collection
            })
        };
        match segments.as_slice() {
            [collection] => index(collection).map_or(Self::ApiOther, Self::ApiCollection),
            [collection, id] if !id.is_empty() => {
                index(collection).map_or(Self::ApiOther, Self::ApiInstance)
            }
            _ => Self::ApiOther,
        }
    }

    /// The label value (the wire name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::ApiCollection(i) => api_labels().get(i).map_or("api_other", |l| l.0),
            Self::ApiInstance(i) => api_labels().get(i).map_or("api_other", |l| l.1),
            Self::ApiOther => "api_other",
            Self::Other => "other",
        }
    }

    /// The route a label names, if any.
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "page" => Some(Self::Page),
            "api_other" => Some(Self::ApiOther),
            "other" => Some(Self::Other),
            _ => api_labels().iter().enumerate().find_map(|(i, (c, one))| {
                if *c == label {
                    Some(Self::ApiCollection(i))
                } else if *one == label {
                    Some(Self::ApiInstance(i))
                } else {
                    None
                }
            }),
        }
    }
}

impl Serialize for TimedRoute {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TimedRoute {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let label = String::deserialize(d)?;
        Self::from_label(&label)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown route `{label}`")))
    }
}

/// Whether the edge cache answered: `none` when the cache was not consulted (the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    Hit,
    Miss,
    /// A stale copy served because the page could not be rendered (`stale-if-error`).
    Stale,
    None,
}

impl CacheOutcome {
    /// The label value (the wire name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Stale => "stale",
            Self::None => "none",
        }
    }
}

/// The `dur` of the `db` entry of a `Server-Timing` value, in milliseconds.
pub fn server_timing_db_millis(value: &str) -> Option<f64> {
    value.split(',').find_map(|entry| {
        let mut parts = entry.split(';').map(str::trim);
        if parts.next()? != "db" {
            return None;
        }
        parts
            .find_map(|p| p.strip_prefix("dur="))
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d >= 0.0)
    })
}

/// What a refresh of the exchange rates stored ([`RATES_JOB_PATH`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatesRefreshed {
    /// The publication date of the feed's newest rates (`YYYY-MM-DD`).
    pub as_of: String,
    /// Market rates written, new or corrected.
    pub market: usize,
    /// Market rates already stored as they are.
    pub unchanged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<BatchRequest, _> = serde_json::from_str(r#"{"statements":[],"tenant":"x"}"#);
        assert!(
            r.is_err(),
            "a tenant in the body must be refused, never trusted"
        );
        let r: BatchRequest =
            serde_json::from_str(r#"{"statements":[{"name":"a","params":[1,"x",null]}]}"#).unwrap();
        assert!(!r.want_directory);
        assert_eq!(r.statements[0].params.len(), 3);
        assert_eq!(r.idempotency, None);
        assert!(
            !serde_json::to_string(&r).unwrap().contains("idempotency"),
            "absent, not null"
        );
        let r: BatchRequest = serde_json::from_str(
            r#"{"statements":[],"idempotency":{"key":"k","fingerprint":"f"}}"#,
        )
        .unwrap();
        assert_eq!(r.idempotency.unwrap().key, "k");
        let r: Result<BatchRequest, _> = serde_json::from_str(
            r#"{"statements":[],"idempotency":{"key":"k","fingerprint":"f","x":1}}"#,
        );
        assert!(r.is_err());
        let ok: BatchResponse =
            serde_json::from_str(r#"{"region":"eu-west","results":[]}"#).unwrap();
        assert!(!ok.replayed);
        assert!(!serde_json::to_string(&ok).unwrap().contains("replayed"));
    }

    #[test]
    fn timed_routes_are_a_closed_set() {
        for (path, route) in [
            ("/", TimedRoute::Page),
            ("/v1/patients", TimedRoute::ApiCollection(0)),
            ("/v1/patients/", TimedRoute::ApiCollection(0)),
            ("/fhir/R4/Patient", TimedRoute::ApiCollection(0)),
            ("/v1/patients/0000-1", TimedRoute::ApiInstance(0)),
            ("/fhir/R4/Patient/0000-1", TimedRoute::ApiInstance(0)),
            ("/v1/patients/a/b", TimedRoute::ApiOther),
            ("/v1", TimedRoute::ApiOther),
            ("/fhir/R4/metadata", TimedRoute::ApiOther),
            ("/v1/nothings", TimedRoute::ApiOther),
            ("/v10", TimedRoute::Other),
            ("/about", TimedRoute::Other),
        ] {
            assert_eq!(TimedRoute::of_path(path), route, "{path}");
        }
        // Every registered resource has its two labels, and they read back.
        for (i, r) in crate::api::resources::REGISTRY.iter().enumerate() {
            let plural = format!("api_{}", r.plural());
            let one = format!("api_{}", r.name().to_ascii_lowercase());
            assert_eq!(TimedRoute::ApiCollection(i).as_str(), plural);
            assert_eq!(TimedRoute::ApiInstance(i).as_str(), one);
            for route in [TimedRoute::ApiCollection(i), TimedRoute::ApiInstance(i)] {
                assert_eq!(TimedRoute::from_label(route.as_str()), Some(route));
            }
        }
        assert_eq!(TimedRoute::from_label("api_nothing"), None);
        let t: EdgeTiming = serde_json::from_str(
            r#"{"colo":"CDG","route":"api_patient","cache":"none","status":200,"duration_ms":7}"#,
        )
        .unwrap();
        assert_eq!(
            (t.route.as_str(), t.cache.as_str()),
            ("api_patient", "none")
        );
        assert!(
            serde_json::from_str::<EdgeTiming>(
                r#"{"colo":"CDG","route":"/v1/x","cache":"none","status":200,"duration_ms":7}"#
            )
            .is_err()
        );
    }

    #[test]
    fn server_timing_db_entry() {
        assert_eq!(server_timing_db_millis("db;dur=3.25"), Some(3.25));
        assert_eq!(
            server_timing_db_millis(r#"edge;dur=1, db;desc="pg";dur=2"#),
            Some(2.0)
        );
        assert_eq!(server_timing_db_millis("dbx;dur=3"), None);
        assert_eq!(server_timing_db_millis("db;dur=NaN"), None);
        assert_eq!(server_timing_db_millis("db"), None);
    }

    #[test]
    fn lsns() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(parse_lsn("ffffffff/ffffffff"), Some(u64::MAX));
        for bad in [
            "",
            "/",
            "1/",
            "/1",
            "1/2/3",
            "G/1",
            "+1/1",
            "123456789/0",
            "1 /2",
            "12",
        ] {
            assert_eq!(parse_lsn(bad), None, "{bad:?}");
        }
        assert_eq!(format_lsn(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn(&format_lsn(42)), Some(42));
        let r: BatchRequest =
            serde_json::from_str(r#"{"statements":[],"min_lsn":"0/16B3740"}"#).unwrap();
        assert_eq!(r.min_lsn.as_deref(), Some("0/16B3740"));
        let ok: BatchResponse = serde_json::from_str(
            r#"{"region":"eu-west","results":[],"lsn":"0/1","served_by":"primary"}"#,
        )
        .unwrap();
        assert_eq!(ok.lsn.as_deref(), Some("0/1"));
        assert_eq!(ok.served_by.as_deref(), Some(SERVED_BY_PRIMARY));
    }

    #[test]
    fn sign_in_wire_shapes() {
        let req: SignInRequest = serde_json::from_str(
            r#"{"email":"a@b.fr","password":"correct horse battery","client":"203.0.113.7"}"#,
        )
        .unwrap();
        assert_eq!(req.password.expose(), "correct horse battery");
        assert!(!format!("{req:?}").contains("correct horse"), "{req:?}");
        assert!(
            serde_json::from_str::<SignInRequest>(
                r#"{"email":"a@b.fr","password":"x","tenant":"t"}"#
            )
            .is_err()
        );
        let ok = SignInOutcome::SignedIn(crate::accounts::Account {
            id: "1".into(),
            role: crate::accounts::Role::Patient,
            display_name: "Alice".into(),
            patient_id: Some("p".into()),
            practitioner_id: None,
        });
        let json = serde_json::to_string(&ok).unwrap();
        assert_eq!(
            json,
            r#"{"signed_in":{"id":"1","role":"patient","display_name":"Alice","patient_id":"p"}}"#
        );
        assert_eq!(serde_json::from_str::<SignInOutcome>(&json).unwrap(), ok);
        let refused = SignInOutcome::Refused {
            retry_after_secs: None,
        };
        assert_eq!(
            serde_json::to_string(&refused).unwrap(),
            r#"{"refused":{}}"#
        );
        let locked: SignInOutcome =
            serde_json::from_str(r#"{"refused":{"retry_after_secs":900}}"#).unwrap();
        assert_eq!(
            locked,
            SignInOutcome::Refused {
                retry_after_secs: Some(900)
            }
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorCode::Overloaded.status(), 503);
        assert!(ErrorCode::Overloaded.retryable());
        assert!(!ErrorCode::Conflict.retryable());
        assert_eq!(ErrorCode::IdempotencyMismatch.status(), 422);
        assert!(!ErrorCode::IdempotencyMismatch.retryable());
        let e: RegionError =
            serde_json::from_str(r#"{"code":"idempotency_mismatch","message":"m"}"#).unwrap();
        assert_eq!(e.code, ErrorCode::IdempotencyMismatch);
        let e: RegionError =
            serde_json::from_str(r#"{"code":"unknown_tenant","message":"m"}"#).unwrap();
        assert_eq!(e.code.status(), 404);
    }
}
