//! The wire format of the edge→region call, shared by both ends.
//!
//! ```text
//! POST /v1/batch                     Authorization: Bearer <edge token: tenant, actor>
//! Telemed-Catalog: <catalog::version()>
//! { "statements": [{"name": "patient.create", "params": [...]}], "want_directory": true }
//!
//! 200 { "region": "eu-west", "results": [{"rows": [{...}]}], "directory": {...}? }
//! 4xx/5xx { "code": "unknown_statement", "message": "...", "statement": 0 }
//!
//! GET /v1/directory?slug=…|domain=…   Authorization: Bearer <edge token without tenant>
//! 200 TenantEntry | 404 { "code": "unknown_tenant", … }
//! ```
//!
//! A region that is not the clinic's home forwards the same batch (same edge token) to the
//! home region with `Telemed-Forwarded-By: <region>`; a forwarded batch is never forwarded
//! again.

use serde::{Deserialize, Serialize};

use crate::{geo::RegionId, tenant::TenantEntry};

pub const BATCH_PATH: &str = "/v1/batch";
pub const DIRECTORY_PATH: &str = "/v1/directory";
pub const CATALOG_HEADER: &str = "telemed-catalog";
pub const FORWARDED_HEADER: &str = "telemed-forwarded-by";
/// Larger batches are refused (413): the edge never needs more.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
pub const MAX_STATEMENTS: usize = 16;

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
}

/// What went wrong in a region, typed so each side maps it to one status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// Missing, forged or expired edge token.
    Unauthorized,
    /// Edge and region were built from different catalogs.
    CatalogMismatch,
    /// A statement name the catalog does not have, or a control statement in a batch.
    UnknownStatement,
    /// Wrong number or type of parameters, or a malformed body.
    BadRequest,
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
    /// A fault of the region itself.
    Internal,
}

impl ErrorCode {
    /// The HTTP status a region answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::CatalogMismatch | Self::Conflict => 409,
            Self::UnknownStatement | Self::BadRequest => 400,
            Self::TooLarge => 413,
            Self::UnknownTenant => 404,
            Self::TenantSuspended => 403,
            Self::ConstraintViolation => 422,
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
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorCode::Overloaded.status(), 503);
        assert!(ErrorCode::Overloaded.retryable());
        assert!(!ErrorCode::Conflict.retryable());
        let e: RegionError =
            serde_json::from_str(r#"{"code":"unknown_tenant","message":"m"}"#).unwrap();
        assert_eq!(e.code.status(), 404);
    }
}
