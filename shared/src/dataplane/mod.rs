//! The data plane: the catalog of named statements, the wire format of the edge→region
//! call, and the edge's client for it (one call per request).

pub mod catalog;
pub mod client;
pub mod statement;
pub mod wire;
