//! Errors, and the one place where a failure becomes what the edge is told.
//!
//! Requests fail with a [`RegionError`] (the wire's typed error: code, message, statement
//! index); [`from_postgres`] and [`from_pool`] decide, for every database failure, whether
//! the client caused it (4xx, its own message) or the region did (5xx, a generic message,
//! details logged without parameters, which hold health data). Operator commands
//! (`migrate`, `tenant create`, start-up) fail with [`Error`].

use deadpool_postgres::{PoolError, TimeoutType};
use telemed_shared::{
    country::{BadCountryCode, CountryCode},
    dataplane::wire::{ErrorCode, RegionError},
    geo::RegionId,
    tenant::SlugError,
};
use tokio_postgres::error::SqlState;

/// Why an operator command or the service's start-up failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed (flags or environment).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The database refused or failed a statement, or the connection failed.
    #[error("database: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// A migration failed; its transaction was rolled back.
    #[error("migration {name} in {schema}: {}", describe(.source))]
    Migration {
        schema: String,
        name: &'static str,
        source: tokio_postgres::Error,
    },
    /// The slug is not a valid or allowed clinic slug.
    #[error("invalid clinic slug: {0}")]
    Slug(#[from] SlugError),
    /// The country is not an ISO 3166-1 alpha-2 code.
    #[error(transparent)]
    Country(#[from] BadCountryCode),
    /// Encryption at rest: master keys, a data key, a sealed value.
    #[error("encryption at rest: {0}")]
    Vault(#[from] crate::vault::VaultError),
    /// A clinic or one of its domains is already registered.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The requested home region is not a region of the map (`infra/regions.toml`).
    #[error(
        "region {requested} is not in the region map (infra/regions.toml has {})",
        list(.known, "and")
    )]
    UnknownRegion {
        requested: RegionId,
        known: Vec<RegionId>,
    },
    /// Data residency: the country's policy does not allow homing the clinic in the
    /// requested region.
    #[error(
        "data residency: under {regulation}, clinics in {country} may be homed only in {}, not in {requested}",
        list(.allowed, "or")
    )]
    Residency {
        country: CountryCode,
        regulation: &'static str,
        requested: RegionId,
        /// The country's home region first, then the others its policy allows.
        allowed: Vec<RegionId>,
    },
    /// The clinic's home is another region: only that region's instance may create it.
    #[error(
        "clinic {slug} is homed in {home}: run this on the {home} instance (regional-db --region {home}), not on {this}"
    )]
    WrongRegion {
        slug: String,
        home: RegionId,
        this: RegionId,
    },
    /// The listener or another local resource failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// `a`, `a or b`, `a, b or c` (with `conjunction` = `or`).
fn list(regions: &[RegionId], conjunction: &str) -> String {
    match regions {
        [] => "no region".to_owned(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(RegionId::as_str).collect();
            format!("{} {conjunction} {last}", init.join(", "))
        }
    }
}

/// A database error as it may be logged: code and message, never the `DETAIL` line, which
/// can quote the values of a row.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Maps a database error of a statement to what the edge is told.
pub fn from_postgres(e: &tokio_postgres::Error) -> RegionError {
    let Some(db) = e.as_db_error() else {
        if e.is_closed() || source_is_io(e) {
            tracing::warn!(error = %e, "database connection failed");
            return RegionError::new(ErrorCode::Unavailable, "the database cannot be reached now");
        }
        tracing::error!(error = %e, "database client error");
        return internal();
    };
    match classify(db.code()) {
        code @ (ErrorCode::Conflict | ErrorCode::ConstraintViolation | ErrorCode::InvalidValue) => {
            // The client's own data was refused: its message names the constraint or type.
            RegionError::new(code, db.message())
        }
        ErrorCode::Unavailable => {
            tracing::warn!(error = %describe(e), "database unavailable or transaction aborted");
            RegionError::new(
                ErrorCode::Unavailable,
                "the database cannot serve this now; retry",
            )
        }
        _ => {
            tracing::error!(error = %describe(e), "database error");
            internal()
        }
    }
}

/// The wire code for a Postgres SQLSTATE.
fn classify(code: &SqlState) -> ErrorCode {
    let class = &code.code()[..2];
    if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::EXCLUSION_VIOLATION {
        // The row clashes with one already there (a booked slot, an overlapping booking).
        ErrorCode::Conflict
    } else if [
        SqlState::CHECK_VIOLATION,
        SqlState::NOT_NULL_VIOLATION,
        SqlState::FOREIGN_KEY_VIOLATION,
    ]
    .contains(code)
    {
        ErrorCode::ConstraintViolation
    } else if class == "22" || *code == SqlState::DATATYPE_MISMATCH {
        // Class 22, data exceptions: the value sent does not fit (bad text representation,
        // out of range, bad date…).
        ErrorCode::InvalidValue
    } else if class == "08"
        || code.code().starts_with("57P")
        || [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::TOO_MANY_CONNECTIONS,
        ]
        .contains(code)
    {
        // Connection trouble, shutdown, or a transaction Postgres aborted: a retry can help.
        ErrorCode::Unavailable
    } else {
        ErrorCode::Internal
    }
}

/// Maps a failure to get a connection: a saturated pool answers `overloaded` (retry after
/// a second) instead of queueing without bound; a database that cannot be reached is
/// `unavailable`.
pub fn from_pool(e: &PoolError) -> RegionError {
    match e {
        PoolError::Timeout(TimeoutType::Wait) => RegionError::new(
            ErrorCode::Overloaded,
            "all database connections are busy; retry shortly",
        ),
        PoolError::Backend(pg) => from_postgres(pg),
        other => {
            tracing::warn!(error = %other, "no database connection");
            RegionError::new(ErrorCode::Unavailable, "the database cannot be reached now")
        }
    }
}

/// The answer to a fault of the region itself: details are in the log, not in the response.
pub fn internal() -> RegionError {
    RegionError::new(ErrorCode::Internal, "internal error in the region")
}

fn source_is_io(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_saturation_is_overloaded_and_retryable() {
        let e = from_pool(&PoolError::Timeout(TimeoutType::Wait));
        assert_eq!(e.code, ErrorCode::Overloaded);
        assert!(e.code.retryable());
        assert_eq!(
            from_pool(&PoolError::Timeout(TimeoutType::Create)).code,
            ErrorCode::Unavailable
        );
        assert_eq!(from_pool(&PoolError::Closed).code, ErrorCode::Unavailable);
    }

    #[test]
    fn sqlstates_map_to_client_or_region_faults() {
        let cases = [
            (SqlState::UNIQUE_VIOLATION, ErrorCode::Conflict),
            (SqlState::EXCLUSION_VIOLATION, ErrorCode::Conflict),
            (SqlState::CHECK_VIOLATION, ErrorCode::ConstraintViolation),
            (SqlState::NOT_NULL_VIOLATION, ErrorCode::ConstraintViolation),
            (
                SqlState::FOREIGN_KEY_VIOLATION,
                ErrorCode::ConstraintViolation,
            ),
            (
                SqlState::INVALID_TEXT_REPRESENTATION,
                ErrorCode::InvalidValue,
            ),
            (
                SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
                ErrorCode::InvalidValue,
            ),
            (SqlState::DATATYPE_MISMATCH, ErrorCode::InvalidValue),
            (SqlState::UNTRANSLATABLE_CHARACTER, ErrorCode::InvalidValue),
            (SqlState::CONNECTION_FAILURE, ErrorCode::Unavailable),
            (SqlState::ADMIN_SHUTDOWN, ErrorCode::Unavailable),
            (SqlState::T_R_SERIALIZATION_FAILURE, ErrorCode::Unavailable),
            (SqlState::UNDEFINED_TABLE, ErrorCode::Internal),
            (SqlState::SYNTAX_ERROR, ErrorCode::Internal),
            (SqlState::INSUFFICIENT_PRIVILEGE, ErrorCode::Internal),
        ];
        for (state, code) in cases {
            assert_eq!(classify(&state), code, "{}", state.code());
        }
    }

    #[test]
    fn internal_errors_say_nothing_specific() {
        let e = internal();
        assert_eq!(e.code.status(), 500);
        assert!(!e.message.contains("patients"));
    }
}
