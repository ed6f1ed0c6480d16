//! `regional-db`: the regional service of Telemed Edge, next to one region's Postgres.
//!
//! The edge never holds database credentials and never sends SQL: it sends a signed batch
//! of named statements from the shared catalog. This crate verifies it, pins the clinic's
//! schema, runs the batch in one transaction (or forwards it, once, to the clinic's home
//! region), and provisions and migrates the schemas it serves.
//!
//! # Layout
//! - [`server`]: the HTTP routes (`/v1/batch`, `/v1/sign-in`, `/v1/directory`, `/v1/edge-timings`,
//!   `/healthz`, `/metrics`) and [`run`]; where a request starts.
//! - [`params`]: JSON parameters → typed bind values, per the catalog.
//! - [`passwords`]: argon2id hashing and verification (on the blocking pool);
//!   [`sign_in`]: `POST /v1/sign-in` — password check, throttling, audit;
//!   [`accounts`]: `regional-db accounts create` (an operator's account, e.g. a clinic's
//!   first admin).
//! - [`db`]: pools, schema pinning, the batch transaction, its audit trail and its
//!   idempotency key.
//! - [`directory`]: the tenant directory over the control database, cached briefly.
//! - [`audit_spool`]: the audit trail of replica reads while the primary is down.
//! - [`audit`]: the trail's hash chain and its verification (`audit verify`).
//! - [`grants`]: the service's database role and what it may do (the trail: append only).
//! - [`migrate`]: embedded migrations of the control schema and of every clinic schema.
//! - [`provision`]: creating a clinic (schema, migrations, directory entry), all or nothing;
//!   [`tenants`]: operators' management of clinics (list, show, update, suspend, resume,
//!   custom domains and their DNS verification, export-then-delete in the home region).
//! - [`apps`]: the marketplace's operator commands (`regional-db apps …`) and the sealing of
//!   an app's webhook key into a clinic that installs it.
//! - [`operators`]: the platform's operators (`regional-db operators create|disable`, their
//!   sign-in `POST /v1/ops/sign-in`); [`ops`]: their requests (`POST /v1/ops`), run with
//!   the CLI's code on the operator connection.
//! - [`vault`]: encryption at rest — master keys, each clinic's data key, sealed values and
//!   blind indexes.
//! - [`jobs`]: the region's jobs (`regional-db jobs run retention|rates`) and legal holds.
//! - [`outbound`]: which URLs of apps and clinics the region may call (https, public
//!   addresses only; SSRF and DNS rebinding).
//! - [`error`]: operator-command errors, and the one mapping of failures to wire errors.
//! - `metrics`: the Prometheus registry of an instance (its series are listed there);
//!   [`sampling`]: the gauges sampled in the background (clinics by country, replica lag).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod apps;
pub mod audit;
pub mod audit_spool;
pub mod db;
pub mod directory;
pub mod error;
pub mod grants;
pub mod jobs;
mod metrics;
pub mod migrate;
pub mod oauth;
pub mod operators;
pub mod ops;
pub mod outbound;
pub mod params;
pub mod passwords;
pub mod provision;
pub mod sampling;
pub mod server;
pub mod sign_in;
pub mod tenants;
pub mod vault;

pub use error::Error;
pub use server::{Config, run};
