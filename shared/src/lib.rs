//! `telemed-shared`: the platform-neutral core of Telemed Edge.
//!
//! Sans-IO: pure logic plus the small async ports of [`host::Host`] that each edge adapter
//! implements. Compiles for native, `wasm32-unknown-unknown` (Workers) and `wasm32-wasip2`
//! (Spin / wasi:http).
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod country;
pub mod dataplane;
pub mod edge;
pub mod geo;
pub mod host;
pub mod tenant;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
