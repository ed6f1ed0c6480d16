//! `telemed-shared`: the platform-neutral core of Telemed Edge.
//!
//! Sans-IO: pure logic plus the small async ports of [`host::Host`] that each edge adapter
//! implements. Compiles for native, `wasm32-unknown-unknown` (Workers) and `wasm32-wasip2`
//! (Spin / wasi:http). No sockets, runtime, clock or randomness of its own.
//!
//! # Layout
//! - [`edge`]: the entry point ([`edge::serve`]) and the page flow; where a request starts.
//! - [`tenant`]: slugs, host parsing, resolution of a request to a clinic, directory entries;
//!   [`directory`]: the directory as cached at the edge.
//! - [`i18n`]: locale negotiation and Fluent messages (`locales/`, embedded).
//! - [`geo`]: the region map (`infra/regions.toml`, embedded), `GeoHint`, nearest region.
//! - [`cache`]: edge cache keys and `Cache-Control` policies.
//! - [`ctx`]: the per-request context both flows take.
//! - [`web`]: server-rendered pages, sessions and forms; [`api`]: the FHIR REST API (`/v1`, `/fhir/R4`), generic over the
//!   resource types of [`api::resources`]; [`fhir`]: the R4 datatypes they share.
//! - [`dataplane`]: the catalog of named statements, the edge→region wire format and client.
//! - [`auth`]: JWTs (API and edge tokens) and SMART scopes; [`oauth`]: the authorisation
//!   server apps get their tokens from (`/oauth/token`, SMART Backend Services); [`compliance`]: per-country
//!   policy; [`country`]: country codes and defaults.
//! - [`accounts`]: people's accounts of a clinic (roles, the password rule, their
//!   statements); the region hashes and checks passwords (`POST /v1/sign-in`).
//! - [`host`]: the ports; [`config`]: the deployment's configuration.
//! - [`money`]: currencies, amounts, rounding, CLDR formatting, exchange rates; [`billing`]:
//!   the statements pages run for prices, invoices and estimates in another currency.
//! - [`apps`]: the marketplace — app specs, grants, the scopes-to-events rule, its statements.
//! - [`accounts`]: the people who sign in to a clinic (patients, practitioners, admins).
//! - [`webhooks`]: the statements of the admin's webhooks page (endpoints, deliveries,
//!   replay); the outbox and the delivery job are the region's.
//! - [`ops`]: operators (the platform's super-admins) on the apex host: their sign-in,
//!   credentials, JSON API (`/ops/v1/…`) and console (`/ops/tenants`).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod apps;
pub mod auth;
pub mod billing;
pub mod cache;
pub mod compliance;
pub mod config;
pub mod country;
pub mod ctx;
pub mod dataplane;
pub mod directory;
pub mod edge;
pub mod fhir;
pub mod geo;
pub mod host;
pub mod i18n;
pub mod money;
pub mod oauth;
pub mod ops;
pub mod tenant;
pub mod web;
pub mod webhooks;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
